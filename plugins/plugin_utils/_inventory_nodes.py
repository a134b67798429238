# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""The calico_nodes inventory plugin's decisions: which options are wrong, and which hosts, groups and host variables
the datastore's nodes and block affinities make. Pure functions, apart from `read_layout`, which reads the datastore
through the pool modules' own backends (module_utils/_datastore_args.py `open_datastore`).

Node addresses and tunnel addresses: https://docs.tigera.io/calico/latest/reference/resources/node; block affinities:
projectcalico/calico libcalico-go/lib/backend/model/block_affinity.go.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - the plugin reports it
    HAS_NETADDR = False

from ansible.module_utils.common.validation import check_type_bool, check_type_list
from ansible.utils.display import Display

from ansible_collections.k8snet.calico.plugins.module_utils._datastore_args import (
    DATASTORE_ARG_SPEC,
    DATASTORE_REQUIRED_IF,
    DATASTORE_REQUIRED_TOGETHER,
    ENV_SOURCES,
    env_note,
    env_value,
    scope_env,
)

# What the plugin reads directly; calicoctl would need a binary run per inventory parse, and its v1 form has no
# block affinities.
INVENTORY_DATASTORES = ("etcdv3", "etcdv2", "kubernetes")
UNUSED_OPTIONS = ("calicoctl_path", "calicoctl_config")
# Options of the inventory file that are not connection options (the plugin's own, Constructable's, the cache's).
PLUGIN_OPTIONS = ("plugin", "nodes_group", "subnet_group_prefix", "strict", "compose", "groups", "keyed_groups",
                  "leading_separator", "use_extra_vars", "cache", "cache_plugin", "cache_timeout",
                  "cache_connection", "cache_prefix")

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class InventoryOptionError(ValueError):
    """An option of the inventory file is wrong; the message names it, its value (never a secret's) and what is
    allowed."""


def check_unknown(config: Dict[str, Any]) -> None:
    """`config` is the inventory file as written: every key must be an option (a typo is not silently ignored)."""
    known = set(DATASTORE_ARG_SPEC) | set(PLUGIN_OPTIONS)
    unknown = sorted(str(k) for k in config if k not in known)
    if unknown:
        raise InventoryOptionError("%s: unknown option%s; the options are %s" % (
            ", ".join(unknown), "s" if len(unknown) > 1 else "", ", ".join(sorted(known - set(UNUSED_OPTIONS)))))


def with_environment(options: Dict[str, Any], given, environ) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """The pool modules' environment fallbacks (module_utils/_datastore_args.py: ETCDCTL_* for etcd, K8S_AUTH_* for
    Kubernetes) for the options the file does not set (`given`: the keys it sets), read from the controller's
    environment. -> (options, {option: variable it came from})."""
    options = dict(options)
    from_env = {}
    for option in ENV_SOURCES:
        if option in given:
            continue
        value, name = env_value(option, environ)
        if name is not None:
            options[option] = value
            from_env[option] = name
    kept = scope_env(options, from_env, options.get("datastore"), environ)
    try:
        if "etcd_endpoints" in kept:
            options["etcd_endpoints"] = check_type_list(options["etcd_endpoints"])
        if "validate_certs" in kept:
            options["validate_certs"] = check_type_bool(options["validate_certs"])
    except TypeError:
        raise InventoryOptionError("validate_certs: %s is not a boolean" % options["validate_certs"])
    for option in kept:
        if DATASTORE_ARG_SPEC[option]["type"] == "path" and isinstance(options[option], str):
            options[option] = os.path.expanduser(os.path.expandvars(options[option]))
    return options, kept


def check_options(options: Dict[str, Any], from_env: Optional[Dict[str, str]] = None) -> None:
    """The resolved option values (file, defaults, environment) -> InventoryOptionError for the first wrong one."""
    note = env_note(from_env or {})
    kind = options.get("datastore")
    if kind not in INVENTORY_DATASTORES:
        raise InventoryOptionError("datastore: %r is not one of %s (calicoctl is not read by the inventory plugin)"
                                   % (kind, ", ".join(INVENTORY_DATASTORES)))
    for name in UNUSED_OPTIONS:
        if options.get(name):
            raise InventoryOptionError("%s: not used by the inventory plugin, which reads etcd or the Kubernetes API "
                                       "itself; remove it" % name)
    for _option, value, needed in DATASTORE_REQUIRED_IF:
        if kind == value:
            for name in needed:
                if not options.get(name):
                    raise InventoryOptionError("%s: required with datastore: %s%s" % (name, kind, note))
    for together in DATASTORE_REQUIRED_TOGETHER:
        given = [name for name in together if options.get(name)]
        if given and len(given) != len(together):
            raise InventoryOptionError("%s: must be given together (only %s is set)%s" % (
                " and ".join(together), ", ".join(given), note))
    for name in ("nodes_group", "subnet_group_prefix"):
        value = options.get(name)
        if not isinstance(value, str) or not value or _UNSAFE.search(value) or value[0].isdigit():
            raise InventoryOptionError("%s: %r is not a valid group name (letters, digits and _, not starting with a "
                                       "digit)" % (name, value))


def safe_group_name(text: str) -> str:
    """Every character Ansible does not accept in a group name becomes `_`."""
    name = _UNSAFE.sub("_", text)
    return "_" + name if name[:1].isdigit() else name


def subnet_group_name(subnet: str, prefix: str = "subnet_") -> str:
    """`10.39.0.0/24` -> `subnet_10_39_0_0_24`."""
    return safe_group_name(prefix + subnet)


def _subnet(address: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """-> (bare IP, subnet CIDR), or (None, None) when the address is absent or not an IPv4 interface address.
    A bare address (no prefix) is its own /32, as Calico v2 records it without network_v4."""
    if not address:
        return None, None
    try:
        network = netaddr.IPNetwork(address)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None, None
    if network.version != 4:
        return None, None
    return str(network.ip), str(network.cidr)


# A host name Ansible can take as it is and that cannot hold a template: a DNS name (RFC 1123), which Kubernetes and
# Calico node names are (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names).
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?\Z")
# Traps about a node's address that the plugin's own warning (which also says what the host then lacks) replaces.
_ADDRESS_TRAPS = ("node_without_address", "node_address_invalid")


def node_hosts(nodes: List[Dict[str, Any]], affinities: List[Dict[str, Any]], nodes_group: str = "calico_nodes",
               subnet_prefix: str = "subnet_", traps: Optional[List[Dict[str, Any]]] = None,
               ) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Normalised nodes, affinities and traps (as ippool_info returns them) -> ([{name, vars, groups}], warnings).

    Every node is a host in `nodes_group`; a node with an IPv4 BGP address also gets `ansible_host` and the group
    of its subnet. Blocks in `pendingDeletion` are not counted as owned. A node that cannot be a host (a name that
    is not a DNS name, a name another node already has) is left out with one warning naming it and the field; the
    other nodes are kept."""
    blocks: Dict[str, List[str]] = {}
    for affinity in affinities:
        if affinity.get("node") and affinity.get("cidr") and affinity.get("state") != "pendingDeletion":
            blocks.setdefault(affinity["node"], []).append(affinity["cidr"])
    hosts = []
    warnings = []
    replaced = set()
    seen = set()
    for node in sorted(nodes, key=lambda n: str(n.get("name"))):
        name = node.get("name")
        if not isinstance(name, str) or not _HOST_NAME.match(name):
            warnings.append("Calico node %r: metadata.name %r is not a valid host name (a DNS name: letters, digits, "
                            "'.', '-' and '_', at most 253 characters); the node was skipped" % (name, name))
            continue
        if name in seen:
            warnings.append("Calico node %s: metadata.name is also the name of another node; only the first one read "
                            "is a host (key order), this one was skipped" % name)
            continue
        seen.add(name)
        address = node.get("ipv4_address")
        ip, subnet = _subnet(address)
        host_vars = {
            "calico_node_name": name,
            "calico_ipv4_address": address,
            "calico_ipv4_subnet": subnet,
            "calico_ipip_tunnel_address": node.get("ipip_tunnel_address"),
            "calico_blocks": sorted(set(blocks.get(name, [])), key=_cidr_key),
            "calico_datastore": node.get("datastore"),
        }
        groups = [nodes_group]
        if ip:
            host_vars["ansible_host"] = ip
            groups.append(subnet_group_name(subnet, subnet_prefix))
        else:
            replaced.add(name)
            if address:
                warnings.append("Calico node %s: ipv4Address %r is not an IPv4 address; no ansible_host and no subnet "
                                "group" % (name, address))
            else:
                warnings.append("Calico node %s has no IPv4 BGP address; no ansible_host and no subnet group" % name)
        hosts.append({"name": name, "vars": host_vars, "groups": groups})
    for trap in traps or []:
        if not (trap.get("name") in _ADDRESS_TRAPS and trap.get("subject") in replaced):
            warnings.append("%s: %s" % (trap.get("name"), trap.get("message")))
    return hosts, warnings


def _cidr_key(cidr: str):
    try:
        return (0, netaddr.IPNetwork(cidr))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return (1, cidr)


class _OptionsAsModule:
    """`open_datastore` takes an AnsibleModule; on the controller the plugin's options play that part, and a
    failure becomes an exception instead of a module exit."""

    def __init__(self, params: Dict[str, Any]):
        self.params = params

    def fail_json(self, msg: str, **_kwargs: Any) -> None:
        raise InventoryOptionError(msg)

    @staticmethod
    def warn(msg: str) -> None:
        Display().warning(msg)


def read_layout(options: Dict[str, Any]) -> Dict[str, Any]:
    """Read the nodes and block affinities -> {datastore, nodes, block_affinities, traps} (JSON, cacheable).
    Raises DatastoreError (unreachable, refused) or InventoryOptionError."""
    from ansible_collections.k8snet.calico.plugins.module_utils._datastore_args import open_datastore
    from ansible_collections.k8snet.calico.plugins.module_utils._ippool_plan import snapshot_from_records

    params = {name: options.get(name, spec.get("default")) for name, spec in DATASTORE_ARG_SPEC.items()}
    datastore = open_datastore(_OptionsAsModule(params))  # type: ignore[arg-type]
    snapshot = snapshot_from_records(datastore.name, [], None, None, datastore.read_nodes(),
                                     datastore.read_block_affinities())
    return {"datastore": datastore.name, "nodes": snapshot["nodes"],
            "block_affinities": snapshot["block_affinities"], "traps": snapshot["traps"]}
