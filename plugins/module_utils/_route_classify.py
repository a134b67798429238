# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Tell, from a node's own routes, links and addresses, what each Calico route is.

Pure functions over the dicts of ``_iproute_parse``; no I/O. The kinds follow the route shapes Calico produces in
each mode (confd's bird_ipam.cfg.template and Felix's route_mgr.go in projectcalico/calico; docs/calico-traps.md, "Sources"):

- ``own_block``: ``blackhole <block>``, the node's own affine block (BIRD static, or Felix ``proto 80``);
- ``workload``: ``<pod>/32 dev cali*``, a local pod;
- ``tunnel``: ``<block> via <node> dev tunl0 onlink``, IPIP;
- ``vxlan``: ``<block> ... dev vxlan.calico``, VXLAN (Felix-owned);
- ``direct``: ``<block> via <node>`` where the node is a neighbour on a connected subnet (same-subnet peers,
  no encapsulation or CrossSubnet);
- ``via_gateway``: ``<block> via <default gateway>``: the next hop was resolved recursively through the default
  route, the incident's broken route;
- ``unreachable``: unreachable/prohibit/throw routes;
- ``other``: anything else inside a pool; ``mixed``: a multipath route whose next hops are of different kinds.

Routes are never required to be ``proto bird``: Felix programs IPIP routes with protocol 80 from Calico v3.33 on.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.k8snet.calico.plugins.module_utils._ipv4 import ipv4_int, ipv4_range

KINDS = ("own_block", "workload", "tunnel", "vxlan", "direct", "via_gateway", "unreachable", "other", "mixed")
CALICO_PROTOCOLS = frozenset(("bird", "80"))
VXLAN_DEVICE = "vxlan.calico"
WORKLOAD_PREFIX = "cali"
_UNREACHABLE_TYPES = frozenset(("unreachable", "prohibit", "throw"))


class PoolError(ValueError):
    """A pool that is not an IPv4 CIDR."""


def parse_pools(pools):
    """Validate pool CIDRs (strictly masked IPv4); returns ``ipaddress.IPv4Network`` objects."""
    networks = []
    for pool in pools or []:
        try:
            network = ipaddress.ip_network(str(pool), strict=True)
        except ValueError as exc:
            raise PoolError("pools: %r is not a pool CIDR (%s); expected a masked IPv4 network such as "
                            "192.168.0.0/16" % (pool, exc))
        if network.version != 4:
            raise PoolError("pools: %r is IPv6; this module reads the IPv4 routing table" % (pool,))
        networks.append(network)
    return networks


def _network(cidr):
    return ipaddress.ip_network(cidr, strict=False)


def node_view(routes, links, tunnel_device, neighbours=None, fdb=None):
    """What the node looks like from its tables: addresses, connected networks, default gateway, tunnel.

    *links* may be ``None`` (only a route capture was given): addresses are then taken from the connected
    routes' ``src`` and the tunnel's state is unknown. *neighbours* and *fdb*: vxlan.calico's tables (see
    :func:`vxlan_state`), None when not read.
    """
    skip_devices = {tunnel_device, VXLAN_DEVICE, "lo"}
    addresses = []
    if links is not None:
        for link in links:
            if link["name"] in skip_devices or link["name"].startswith(WORKLOAD_PREFIX):
                continue
            for cidr in link["addresses"]:
                addresses.append(_address(link["name"], cidr))
    connected = []
    for route in routes:
        if (route["type"] == "unicast" and route["gateway"] is None and not route["nexthops"]
                and route["scope"] == "link" and route["dev"] not in skip_devices
                and not (route["dev"] or "").startswith(WORKLOAD_PREFIX)):
            connected.append(route["dst"])
            if links is None and route["prefsrc"]:
                prefix = route["dst"].split("/")[1]
                addresses.append(_address(route["dev"], "%s/%s" % (route["prefsrc"], prefix)))
    connected.extend(a["network"] for a in addresses if a["network"] not in connected and a["prefixlen"] < 32)

    defaults = [r for r in routes if r["dst"] == "0.0.0.0/0" and r["type"] == "unicast"]
    defaults.sort(key=lambda r: r["metric"] or 0)
    gateways = []
    for route in defaults:
        for hop in _hops(route):
            if hop["gateway"] and hop["gateway"] not in gateways:
                gateways.append(hop["gateway"])
    uplink = None
    if defaults:
        uplink = next((hop["dev"] for hop in _hops(defaults[0]) if hop["dev"]), None)
    by_name = dict((link["name"], link) for link in links or [])
    uplink_mtu = by_name[uplink]["mtu"] if uplink in by_name else None
    return {
        "addresses": addresses,
        "connected_networks": connected,
        "default_gateway": gateways[0] if gateways else None,
        "default_gateways": gateways,
        "uplink": uplink,
        "uplink_mtu": uplink_mtu,
        "tunnel": tunnel_state(links, tunnel_device),
        "vxlan": vxlan_state(links, neighbours, fdb),
        "workloads": workload_interfaces(links),
    }


# The host side of every pod's veth: Felix's interfacePrefix, "cali" by default (FelixConfiguration, see
# https://docs.tigera.io/calico/latest/reference/resources/felixconfig).
WORKLOAD_PREFIX = "cali"


def workload_interfaces(links):
    """``[{name, mtu}]`` of the pods' host-side interfaces, in the order the node lists them; None without link data.
    A pod keeps the MTU its veth was made with: one made before IPIP was on can be above the tunnel's."""
    if links is None:
        return None
    return [{"name": link["name"], "mtu": link["mtu"]} for link in links if link["name"].startswith(WORKLOAD_PREFIX)]


def _address(dev, cidr):
    interface = ipaddress.ip_interface(cidr)
    return {"dev": dev, "address": str(interface.ip), "prefixlen": interface.network.prefixlen,
            "cidr": str(interface), "network": str(interface.network)}


def tunnel_state(links, tunnel_device):
    """The tunnel device as the node has it; ``exists`` is ``None`` when no link data was given."""
    state = {"name": tunnel_device, "exists": None, "kind": None, "up": None, "operstate": None, "mtu": None,
             "flags": [], "addresses": []}
    if links is None:
        return state
    link = next((item for item in links if item["name"] == tunnel_device), None)
    state["exists"] = link is not None
    if link is not None:
        state.update(kind=link["kind"] or link["link_type"], up="UP" in link["flags"], operstate=link["operstate"],
                     mtu=link["mtu"], flags=list(link["flags"]), addresses=list(link["addresses"]))
    return state


def vxlan_state(links, neighbours, fdb):
    """vxlan.calico as :func:`tunnel_state` describes a device, with its VNI and UDP port (None without ``ip -d``),
    ``neighbours`` ``{VTEP address: MAC}`` and ``fdb`` ``{MAC: [remote node addresses]}``: where the kernel sends
    what is routed via each VTEP (None when these tables were not read)."""
    state = tunnel_state(links, VXLAN_DEVICE)
    link = next((item for item in links or [] if item["name"] == VXLAN_DEVICE), None)
    vxlan = (link or {}).get("vxlan") or {}
    state.update(vni=vxlan.get("vni"), port=vxlan.get("port"), neighbours=neighbours, fdb=fdb)
    return state


def _hops(route):
    return route["nexthops"] or [route]


def _is_calico_looking(route, tunnel_device):
    dev_names = [hop["dev"] or "" for hop in _hops(route)]
    return (route["protocol"] in CALICO_PROTOCOLS or route["type"] == "blackhole"
            or any(d == tunnel_device or d == VXLAN_DEVICE or d.startswith(WORKLOAD_PREFIX) for d in dev_names))


def _range(cidr):
    """``(first, last)`` address integers of an IPv4 CIDR, host bits ignored (as ``ip_network(strict=False)``)."""
    span = ipv4_range(cidr)  # (the IPv4 check runs for every route of the table: a regex, not ipaddress)
    if span is not None:
        return span
    network = _network(cidr)  # anything unusual: ipaddress decides (and raises on what is not a CIDR)
    return int(network.network_address), int(network.broadcast_address)


def _hop_kind(route, hop, view, connected, tunnel_device):
    dev = hop["dev"] or ""
    if dev == tunnel_device:
        return "tunnel"
    if dev == VXLAN_DEVICE:
        return "vxlan"
    gateway = hop["gateway"]
    if gateway is None:
        if dev.startswith(WORKLOAD_PREFIX) and route["dst"].endswith("/32"):
            return "workload"
        return "other"
    if gateway in view["default_gateways"]:
        return "via_gateway"
    address = ipv4_int(gateway) if isinstance(gateway, str) else None
    if address is None:
        try:
            parsed = ipaddress.ip_address(gateway)
        except ValueError:
            return "other"
        if parsed.version != 4:
            return "direct" if any(parsed in network for network in view["_connected6"]) else "other"
        address = int(parsed)
    for first, last in connected:
        if first <= address <= last:
            return "direct"
    # A capture with no connected network at all was filtered (`ip route | grep <pool>`): the kernel only takes a
    # next hop it reaches on the device, so one that is no known default gateway is a direct hop on the NIC.
    return "other" if connected or view["_connected6"] else "direct"


def classify_routes(routes, view, pools, tunnel_device):
    """Return copies of *routes* with ``pool`` and ``kind`` (``None`` for routes that are not judged).

    With *pools*, every non-default route inside a pool is judged; without, routes that look Calico's own
    (protocol bird or 80, a blackhole, or a route on a cali*/tunnel/VXLAN device).
    """
    connected = []  # IPv4 address ranges as integers: the test runs for every next hop
    connected6 = []
    for cidr in view["connected_networks"]:
        network = _network(cidr)
        if network.version == 4:
            connected.append((int(network.network_address), int(network.broadcast_address)))
        else:
            connected6.append(network)
    view = dict(view, _connected6=connected6)
    pool_ranges = [(int(p.network_address), int(p.broadcast_address), str(p)) for p in pools or []]
    result = []
    for route in routes:
        item = dict(route, nexthops=[dict(hop) for hop in route["nexthops"]], pool=None, kind=None)
        result.append(item)
        dst = route["dst"]
        if dst == "0.0.0.0/0" or ":" in dst:
            continue
        first, last = _range(dst)
        if pools:
            pool = next((name for low, high, name in pool_ranges if low <= first and last <= high), None)
            if pool is None:
                continue
            item["pool"] = pool
        elif not _is_calico_looking(route, tunnel_device):
            continue
        if route["type"] == "blackhole":
            item["kind"] = "own_block"
        elif route["type"] in _UNREACHABLE_TYPES:
            item["kind"] = "unreachable"
        elif route["type"] != "unicast":
            item["kind"] = "other"
        elif not route["nexthops"]:
            item["kind"] = _hop_kind(route, route, view, connected, tunnel_device)
        else:
            kinds = [_hop_kind(route, hop, view, connected, tunnel_device) for hop in route["nexthops"]]
            for hop, kind in zip(item["nexthops"], kinds):
                hop["kind"] = kind
            item["kind"] = kinds[0] if len(set(kinds)) == 1 else "mixed"
    return result


def summarise(classified):
    """Count judged routes per kind (every kind present, zero included)."""
    counts = dict((kind, 0) for kind in KINDS)
    for route in classified:
        if route["kind"] is not None:
            counts[route["kind"]] += 1
    return counts


def describe_node(routes, links, pools, tunnel_device, neighbours=None, fdb=None):
    """Everything node_routes_info returns about a node, from its parsed tables (see that module's RETURN)."""
    view = node_view(routes, links, tunnel_device, neighbours, fdb)
    classified = classify_routes(routes, view, pools, tunnel_device)
    return dict(view, routes=classified, summary=summarise(classified))
