# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""What besides the pool decides whether IPIP happens: Felix config, nodes, block affinities. Pure functions.

Layouts: projectcalico/calico libcalico-go/lib/backend/model/ (Calico v2 keys: projectcalico/libcalico-go v1.7.3),
node addresses https://docs.tigera.io/calico/latest/reference/resources/node, Felix ipipEnabled
felix/calc/encapsulation_resolver.go; docs/calico-traps.md "Sources" lists them.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any, Dict, Iterable, List, Optional, Tuple

V1_GLOBAL_IPIP_KEY = "/calico/v1/config/IpInIpEnabled"
V1_BGP_HOST_PREFIX = "/calico/bgp/v1/host/"
V1_HOST_CONFIG_PREFIX = "/calico/v1/host/"
AFFINITY_PREFIX = "/calico/ipam/v2/host/"

K8S_ADDRESS_ANNOTATION = "projectcalico.org/IPv4Address"
K8S_TUNNEL_ANNOTATION = "projectcalico.org/IPv4IPIPTunnelAddr"
K8S_VXLAN_TUNNEL_ANNOTATION = "projectcalico.org/IPv4VXLANTunnelAddr"


def felix_from_object(obj: Any, key: Optional[str] = None) -> Dict[str, Any]:
    """A v3 / CRD FelixConfiguration -> {name, ipip_enabled, vxlan_enabled: True|False|None (unset), vxlan_vni,
    vxlan_port: int|None (unset: Felix's 4096 and 4789), key} (felix/config/config_params.go)."""
    if not isinstance(obj, dict) or obj.get("kind") != "FelixConfiguration":
        raise ValueError("not a FelixConfiguration object")
    spec = obj.get("spec") or {}
    if not isinstance(spec, dict):
        raise ValueError("spec is not a mapping")

    def flag(field):
        return spec[field] if isinstance(spec.get(field), bool) else None

    def number(field, most):
        value = spec.get(field)
        return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= most else None

    return {"name": (obj.get("metadata") or {}).get("name"), "ipip_enabled": flag("ipipEnabled"),
            "vxlan_enabled": flag("vxlanEnabled"), "vxlan_vni": number("vxlanVNI", 2 ** 24 - 1),
            "vxlan_port": number("vxlanPort", 65535), "key": key}


def felix_from_v1_value(text: Optional[str], key: str = V1_GLOBAL_IPIP_KEY) -> Dict[str, Any]:
    """Calico v2 global key IpInIpEnabled: "true"/"false", or None when the key is absent (= off in v2)."""
    value = None if text is None else text.strip().lower() == "true"
    return {"name": "global", "ipip_enabled": value, "vxlan_enabled": None, "vxlan_vni": None, "vxlan_port": None,
            "key": key}  # (Calico v2 had no VXLAN)


def _prefix(address: Optional[str]) -> Optional[int]:
    if not address or "/" not in address:
        return None
    try:
        return ipaddress.ip_interface(address).network.prefixlen
    except ValueError:
        return None


def _node(name: Any, address: Optional[str], tunnel: Optional[str], datastore: str,
          vxlan_tunnel: Optional[str] = None) -> Dict[str, Any]:
    return {
        "name": name,
        "ipv4_address": address or None,
        "ipv4_prefix_length": _prefix(address),
        "ipip_tunnel_address": tunnel or None,
        # the next hop of VXLAN routes to this node's blocks (Calico v3.7+ only: Calico v2 has no VXLAN)
        "vxlan_tunnel_address": vxlan_tunnel or None,
        "datastore": datastore,
    }


class NodeFormatError(ValueError):
    """A node object whose field has the wrong type; the message names the field and its value."""


def _mapping(container: Dict[str, Any], key: str, path: str) -> Dict[str, Any]:
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NodeFormatError("%s: %s is not a mapping" % (path, _shown(value)))
    return value


def _text(container: Dict[str, Any], key: str, path: str) -> Optional[str]:
    value = container.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise NodeFormatError("%s: %s is not a string" % (path, _shown(value)))
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def node_from_object(obj: Any, datastore: str) -> Dict[str, Any]:
    """Calico v3 Node, calicoctl v1 `kind: node`, or a Kubernetes Node with Calico annotations.
    Raises NodeFormatError naming the field when one has the wrong type (the node is then unreadable, not guessed)."""
    if not isinstance(obj, dict):
        raise NodeFormatError("not a node object (%s)" % type(obj).__name__)
    metadata = _mapping(obj, "metadata", "metadata")
    name = _text(metadata, "name", "metadata.name")
    if name is None:
        raise NodeFormatError("metadata.name: missing")
    if obj.get("kind") == "Node" and obj.get("apiVersion") == "v1" and datastore == "kubernetes":
        notes = _mapping(metadata, "annotations", "metadata.annotations")
        return _node(name, *(_text(notes, key, "metadata.annotations.%s" % key) for key in (
            K8S_ADDRESS_ANNOTATION, K8S_TUNNEL_ANNOTATION)), datastore=datastore,
            vxlan_tunnel=_text(notes, K8S_VXLAN_TUNNEL_ANNOTATION, "metadata.annotations." + K8S_VXLAN_TUNNEL_ANNOTATION))
    spec = _mapping(obj, "spec", "spec")
    bgp = _mapping(spec, "bgp", "spec.bgp")
    return _node(name, _text(bgp, "ipv4Address", "spec.bgp.ipv4Address"),
                 _text(bgp, "ipv4IPIPTunnelAddr", "spec.bgp.ipv4IPIPTunnelAddr"), datastore,
                 _text(spec, "ipv4VXLANTunnelAddr", "spec.ipv4VXLANTunnelAddr"))


def node_name_of(obj: Any) -> Optional[str]:
    """The node's metadata.name when it is a string (to name an unreadable node by), else None."""
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else None


def nodes_from_v1_keys(kvs: Iterable[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """Calico v2 etcd keys -> nodes: ip_addr_v4 + network_v4 and host config IpInIpTunnelAddr."""
    hosts: Dict[str, Dict[str, str]] = {}
    for key, value in kvs:
        if key.startswith(V1_BGP_HOST_PREFIX):
            parts = key[len(V1_BGP_HOST_PREFIX):].split("/")
            if len(parts) == 2:
                hosts.setdefault(parts[0], {})[parts[1]] = value
        elif key.startswith(V1_HOST_CONFIG_PREFIX) and key.endswith("/config/IpInIpTunnelAddr"):
            host = key[len(V1_HOST_CONFIG_PREFIX):].split("/")[0]
            hosts.setdefault(host, {})["tunnel"] = value
    nodes = []
    for host in sorted(hosts):
        data = hosts[host]
        address = data.get("ip_addr_v4") or None
        network = data.get("network_v4")
        if address and network and "/" in network:
            address = "%s/%s" % (address, network.split("/", 1)[1])
        nodes.append(_node(host, address, data.get("tunnel"), "etcdv2"))
    return nodes


def affinity_from_key(key: str, value: Optional[str]) -> Optional[Dict[str, Any]]:
    """`/calico/ipam/v2/host/<node>/ipv4/block/<cidr->` -> {node, cidr, state}; None for other keys."""
    if not key.startswith(AFFINITY_PREFIX):
        return None
    parts = key[len(AFFINITY_PREFIX):].split("/")
    if len(parts) != 4 or parts[2] != "block":
        return None
    state = None
    try:
        decoded = json.loads(value) if value else {}
        if isinstance(decoded, dict):
            state = decoded.get("state")
    except ValueError:
        pass
    head, _sep, prefix = parts[3].rpartition("-")
    return {"node": parts[0], "cidr": _block_cidr("%s/%s" % (head, prefix) if head else parts[3], "key", parts[3]),
            "state": state or "confirmed"}


def affinity_from_object(obj: Any) -> Dict[str, Any]:
    """blockaffinities.crd.projectcalico.org. Raises NodeFormatError for a spec that is not readable."""
    spec = _mapping(obj if isinstance(obj, dict) else {"spec": obj}, "spec", "spec")
    node = _text(spec, "node", "spec.node")
    cidr = _text(spec, "cidr", "spec.cidr")
    state = _text(spec, "state", "spec.state")
    return {"node": node, "cidr": _block_cidr(cidr, "spec.cidr", cidr) if cidr else None,
            "state": state or "confirmed"}


def _block_cidr(cidr: str, field: str, shown: Any) -> str:
    """A block's CIDR in its canonical form; NodeFormatError naming `field` when it is not a network."""
    try:
        return str(ipaddress.ip_network(cidr, strict=True))
    except ValueError:
        raise NodeFormatError("%s: %s is not a block CIDR (a.b.c.d/prefix)" % (field, _shown(shown)))
