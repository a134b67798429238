# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Judge, on the controller, every node's routes to every remote pod block.

Pure functions: inputs are what ``node_routes_info`` returned per host plus the cluster's Calico data (nodes with
their BGP address and prefix, block owners, pools); the output is a verdict per node and per block. Work is linear in
the number of routes: each node's judged routes are indexed by destination once, then every remote block is one
dictionary lookup.

What is expected of a route to a remote block owned by node O (address ip_O) on node N (confd's
bird_ipam.cfg.template, felix/calc/l3_route_resolver.go; docs/calico-traps.md "Sources"):

- the block's pool has IPIP ``Always``: ``via ip_O dev tunl0 onlink``;
- ``CrossSubnet``: ``via ip_O`` on N's uplink when ip_O is inside N's own subnet (the prefix recorded for N in the
  datastore decides, exactly as Calico does), else the tunnel route;
- VXLAN (the pool's ``vxlan_mode``, IPIP ``Never``; Felix owns these routes): ``via <O's VXLAN
  tunnel address> dev vxlan.calico onlink`` with ``Always``, and with ``CrossSubnet`` when O is in another subnet
  (same subnet: ``via ip_O`` on the uplink). The gateway is checked only when the datastore gives O's VXLAN tunnel
  address (``vxlan_tunnel_address`` of the node);
- no encapsulation: ``via ip_O`` directly when same-subnet; a remote subnet has no correct unencapsulated route (the
  route via the default gateway is the incident), so such blocks are reported as ``via_gateway`` or ``missing``.

Each block is judged by the mode of ITS OWN pool (the pools as they are after the change being verified), and says
which pool that is (``pool``: its name, or its CIDR). A *scope* (pool names or CIDRs; default: every pool) says which
pools' blocks decide a node's ``ok``, ``converged`` and ``blocks_bad``: blocks of other pools are still judged and
listed (``in_scope: false``), their bad ones counted apart (``blocks_bad_out_of_scope``), a warning and not a
failure. A run that changed some pools verifies those; what is wrong on a pool it did not touch is not its doing.

Each block also says whether it is ``converged``: whether the node shows what Calico programs in that mode, healthy
or not. Verifying IPIP waits for every block to be ``ok``; verifying a rollback to no IPIP waits for convergence (the
tunnel routes gone, the incident's routes back).
"""

from __future__ import annotations

import gc

from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import VXLAN_DEVICE
from ansible_collections.k8snet.calico.plugins.plugin_utils._pool_select import select_indexes

try:
    import netaddr
except ImportError:  # reported by the filter as a missing requirement
    netaddr = None

CAUSES = ("ok", "via_gateway", "missing", "wrong_next_hop", "wrong_device", "not_onlink", "linkdown", "stale",
          "vtep_unresolved")
IPIP_MODES = ("Always", "CrossSubnet", "Never")
# The smallest MTU a tunnel may sanely have (IPv4 minimum reassembly size) and each encapsulation's overhead over
# IPv4 (Calico's docs, networking/configuring/mtu: IPIP 20, VXLAN 50).
MIN_TUNNEL_MTU = 576
IPIP_OVERHEAD = 20
VXLAN_OVERHEAD = 50
# A fast_kind no route has: the block's routes are judged by _route_cause (see _verdict).
SLOW = "(judged in full)"
# Felix's VXLAN device defaults, FelixConfiguration vxlanVNI and vxlanPort (felix/config/config_params.go).
FELIX_VXLAN_VNI, FELIX_VXLAN_PORT = 4096, 4789


class VerdictInputError(ValueError):
    """Inputs the verdict cannot use; the message names the field and the value."""


def _ip(value, field):
    try:
        return netaddr.IPAddress(str(value).split("/", maxsplit=1)[0])
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise VerdictInputError("%s: %r is not an IPv4 address" % (field, value))


def _net(value, field):
    try:
        return netaddr.IPNetwork(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise VerdictInputError("%s: %r is not a CIDR" % (field, value))


def _items(value, field, required=()):
    """*value* as a list of mappings, each with the keys in *required*; None is an empty list."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise VerdictInputError("%s: %r is not a list" % (field, value))
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise VerdictInputError("%s[%d]: %r is not a mapping" % (field, index, item))
        for key in required:
            if key not in item:
                raise VerdictInputError("%s[%d].%s: missing" % (field, index, key))
    return value


def check_inputs(hosts, calico_nodes, affinities, pools):
    """Refuse, once at the entry, the shapes the verdict cannot read: a clear error naming the field instead of a
    KeyError or TypeError from deep inside (the loops that follow trust these shapes and stay fast).

    The routes' items (N x N of them at N nodes) are checked by :func:`check_routes` only when the verdict's own
    pass over them fails: checking a million routes up front costs more than a tenth of the verdict."""
    if not isinstance(hosts, dict):
        raise VerdictInputError("hosts: %r is not a mapping of host -> node_routes_info result" % (type(hosts),))
    for host, facts in hosts.items():
        field = "hosts[%s]" % host
        if not isinstance(facts, dict):
            raise VerdictInputError("%s: %r is not a mapping" % (field, facts))
        routes = facts.get("routes")
        if routes is not None and not isinstance(routes, (list, tuple)):
            raise VerdictInputError("%s.routes: %r is not a list" % (field, routes))
        _items(facts.get("addresses"), field + ".addresses", ("address",))
        if facts.get("tunnel") is not None and not isinstance(facts["tunnel"], dict):
            raise VerdictInputError("%s.tunnel: %r is not a mapping" % (field, facts["tunnel"]))
    _items(calico_nodes, "nodes", ("name",))
    _items(affinities, "affinities", ("node", "cidr"))
    _items(pools, "pools")


def check_routes(hosts):
    """Name the first route that is not a mapping with a ``dst`` (after :func:`check_inputs`)."""
    for host, facts in hosts.items():
        _items(facts.get("routes"), "hosts[%s].routes" % host, ("dst",))


def cluster_layout(calico_nodes, affinities, pools, hosts, scope=None):
    """Who owns which block and at which address, merged from the datastore and from the nodes themselves.

    ``calico_nodes``: ``[{name, ipv4_address: "10.39.0.110/24", vxlan_tunnel_address, ...}]`` from the datastore
    (may be empty). ``affinities``: ``[{node, cidr}]`` (may be empty). ``pools``: ``[{name, cidr, ipip_mode,
    vxlan_mode}]``. ``hosts``: ``{inventory_host: node_routes_info result}``. A host is matched to its Calico node by
    address; blocks not in the affinities are taken from each host's own blackhole routes. ``scope``: pool names or
    CIDRs whose blocks decide (None: every pool).
    """
    nodes = {}
    problems = {}  # node name -> conflicts in the datastore's data that make its verdict untrustworthy

    def conflict(what, *names):  # names sorted: the same text whatever the order of the datastore's lists
        names = sorted(names)
        text = what % tuple(names)
        for name in names:
            problems.setdefault(name, []).append(text)

    for node in calico_nodes or []:
        if not node.get("ipv4_address"):
            continue
        address = _net(node["ipv4_address"], "nodes[%s].ipv4_address" % node.get("name"))
        nodes[node["name"]] = _node_record(node["name"], address)
        if node.get("vxlan_tunnel_address"):
            nodes[node["name"]]["vtep"] = str(_ip(node["vxlan_tunnel_address"],
                                                  "nodes[%s].vxlan_tunnel_address" % node["name"]))
    by_ip = {}
    for node in nodes.values():
        other = by_ip.setdefault(node["ip"], node)
        if other is not node:  # a host with this address would be matched to one of them at random
            conflict("nodes %%s and %%s have the same address %s" % node["ip"], other["name"], node["name"])
    for host, facts in sorted(hosts.items()):
        addresses = facts.get("addresses") or []
        node = next((by_ip[a["address"]] for a in addresses if a["address"] in by_ip), None)
        if node is None:
            # Not in the datastore (or no node data): describe it from its own uplink address.
            uplink = next((a for a in addresses if a.get("dev") == facts.get("uplink")),
                          addresses[0] if addresses else None)
            if uplink is None:
                continue
            node = _node_record(host, _net(uplink.get("cidr"), "%s uplink address" % host))
            nodes[host] = node
            by_ip[node["ip"]] = node
        node["host"] = host
    owners = {}  # block CIDR string -> owner node name
    networks = {}  # block CIDR string -> netaddr network: each block parsed once (the verdict sorts by it)
    for affinity in affinities or []:
        block = _net(affinity["cidr"], "affinities[%s].cidr" % affinity.get("node")).cidr
        cidr = str(block)
        networks[cidr] = block
        other = owners.setdefault(cidr, affinity["node"])
        if other != affinity["node"]:  # which of them routes it is anyone's guess: no verdict on it is ok
            conflict("block %s is claimed by nodes %%s and %%s" % cidr, other, affinity["node"])
    for node in nodes.values():
        facts = hosts.get(node["host"]) if node["host"] else None
        for route in (facts or {}).get("routes") or []:
            if route.get("kind") == "own_block":
                owners.setdefault(route["dst"], node["name"])
    pool_list = pool_table(pools, scope)
    block_pools = {}  # block CIDR string -> (pool, ipip_mode, vxlan_mode, in_scope)
    outside = (None, "Never", "Never", scope is None)  # a block in no pool: no encapsulation
    for block in owners:
        network = networks.get(block)
        if network is None:
            network = networks[block] = _net(block, "block")
        block_pools[block] = next((entry[1:] for entry in pool_list if network in entry[0]), outside)
        owner = nodes.get(owners[block])
        if owner is not None:
            owner["blocks"].append(network)
    return {"nodes": nodes, "owners": owners, "block_pools": block_pools, "networks": networks,
            "pool_list": pool_list, "outside": outside, "problems": problems}


def pool_table(pools, scope=None):
    """``[(network, pool, ipip_mode, vxlan_mode, in_scope)]``, one per pool.

    ``pool`` is the pool's name, or its CIDR when it has none (Calico v2). A pool with both IPIP and VXLAN (Calico
    refuses it; ippool_info names the trap ``ipip_and_vxlan``) is judged as IPIP. Every *scope* entry must name a
    pool (by name or CIDR).
    """
    pool_list = []
    for pool in pools or []:
        network = _net(pool.get("cidr"), "pools[].cidr")
        modes = []
        for field in ("ipip_mode", "vxlan_mode"):
            mode = pool.get(field) or "Never"
            if mode not in IPIP_MODES:
                raise VerdictInputError("pools[%s].%s: %r is not one of %s" % (
                    pool.get("cidr"), field, mode, ", ".join(IPIP_MODES)))
            modes.append(mode)
        name = pool.get("name") or str(network.cidr)
        pool_list.append([network, name, modes[0], modes[1] if modes[0] == "Never" else "Never"])
    if scope is None:
        chosen = None
    else:
        if isinstance(scope, str) or not isinstance(scope, (list, tuple, set, frozenset)):
            raise VerdictInputError("scope: %r is not a list of pool names or CIDRs" % (scope,))
        if not scope:  # judging no pool would pass every node: refuse rather than say ok
            raise VerdictInputError("scope: [] names no pool; give pool names or CIDRs, or leave scope out to "
                                    "judge every pool")
        chosen, missing = select_indexes(pools, scope)
        if missing:
            raise VerdictInputError("scope: %r is neither the name nor the CIDR of a pool; the pools are %s" % (
                missing[0], ", ".join("%s (%s)" % (e[1], e[0].cidr) for e in pool_list) or "none"))
    return [tuple(entry + [chosen is None or index in chosen]) for index, entry in enumerate(pool_list)]


def _node_record(name, address):
    # Integers for the subnet test: it runs once per (node, remote block), i.e. for every route judged.
    ip = address.ip
    return {"name": name, "ip": str(ip), "ip_int": int(ip), "network": str(address.cidr),
            "net_first": address.first, "net_last": address.last, "prefixlen": address.prefixlen,
            "host": None, "blocks": [], "vtep": None}


def expected_route(local, owner, mode, uplink, vxlan_mode="Never"):
    """What a correct route from *local* to a block of *owner* looks like: ``(device, gateway, onlink)``.

    *device* is ``"tunnel"`` (IPIP), ``"vxlan"`` (gateway: the owner's VXLAN tunnel address, None when unknown), the
    uplink, or None when nothing can work (no encapsulation across subnets).
    """
    same_subnet = local["net_first"] <= owner["ip_int"] <= local["net_last"]
    if mode == "Always" or (mode == "CrossSubnet" and not same_subnet):
        return "tunnel", str(owner["ip"]), True
    if mode == "Never" and (vxlan_mode == "Always" or (vxlan_mode == "CrossSubnet" and not same_subnet)):
        return "vxlan", owner.get("vtep"), True
    if same_subnet:
        return uplink or "uplink", str(owner["ip"]), False
    return None, None, False  # no encapsulation across subnets: nothing unencapsulated can work


def judge_route(route, local, owner, mode, facts, tunnel_device, vxlan_mode="Never"):
    """``(cause, detail, converged)`` for one remote block's route: ``ok`` or what is wrong, a short explanation,
    and whether it is what Calico programs in *mode* / *vxlan_mode* (see the module docstring)."""
    expected = expected_route(local, owner, mode, facts.get("uplink"), vxlan_mode)
    cause, detail = _route_cause(route, local, owner, mode, facts, tunnel_device, expected)
    if expected[0] is None:  # no IPIP across subnets: BIRD installs the recursive route via the gateway, or nothing
        return cause, detail, cause in ("via_gateway", "missing")
    return cause, detail, cause == "ok"


def _route_cause(route, local, owner, mode, facts, tunnel_device, expected=None):
    if route is None:
        return "missing", "no route to the block"
    kind = route.get("kind")
    want_dev, want_gateway, want_onlink = expected or expected_route(local, owner, mode, facts.get("uplink"))
    gateway = route.get("gateway") or next((h.get("gateway") for h in route.get("nexthops") or []), None)
    hop_kinds = [h.get("kind") for h in route.get("nexthops") or []]
    if kind == "via_gateway" or (kind == "mixed" and "via_gateway" in hop_kinds):
        return "via_gateway", "next hop %s is the default gateway, not node %s (%s)" % (
            gateway, owner["name"], owner["ip"])
    if "linkdown" in (route.get("flags") or []):
        return "linkdown", "route is on %s whose link is down" % route.get("dev")
    if want_dev is None:
        return "wrong_device", "no encapsulation on this pool and %s is in another subnet: no direct route can " \
            "work" % owner["name"]
    if want_dev == "tunnel" and kind != "tunnel":
        return "wrong_device", "expected dev %s, found %s (%s)" % (tunnel_device, route.get("dev"), kind)
    if want_dev == "vxlan" and kind != "vxlan":
        return "wrong_device", "expected dev %s (VXLAN pool), found %s (%s)" % (VXLAN_DEVICE, route.get("dev"), kind)
    if want_dev not in ("tunnel", "vxlan") and kind != "direct":
        return "wrong_device", "expected a direct route on %s, found %s (%s)" % (want_dev, route.get("dev"), kind)
    if want_dev == "vxlan" and want_gateway is None:
        if not gateway:
            return "wrong_next_hop", "VXLAN route without a next hop (expected %s's VXLAN tunnel address)" % (
                owner["name"])
    elif gateway != want_gateway:
        return "wrong_next_hop", "next hop %s, expected %s (%s%s)" % (
            gateway, want_gateway, owner["name"], "'s VXLAN tunnel address" if want_dev == "vxlan" else "")
    if want_onlink and "onlink" not in (route.get("flags") or []):
        return "not_onlink", "tunnel route without onlink"
    if want_dev == "vxlan":
        wrong = _vtep_cause(gateway, owner, want_gateway is None, facts.get("vxlan") or {})
        if wrong is not None:
            return wrong
    return "ok", "via %s dev %s" % (gateway, route.get("dev"))


def _vtep_cause(vtep, owner, vtep_unknown, vxlan):
    """``(cause, detail)`` when a VXLAN route's next hop *vtep* does not lead to the block's *owner*, else None.

    The node's own tables decide where they were read: the kernel sends what is routed via *vtep* to the address
    the FDB holds for the MAC the ARP table holds for *vtep*, and nowhere without both (Felix programs one of each
    per remote VTEP, learning off: felix/dataplane/linux/vxlan_mgr.go). Without an FDB, a VTEP the datastore does
    not name (*vtep_unknown*) must be from one of the owner's blocks, where Calico takes it from
    (node/pkg/allocateip/allocateip.go), as the node's own VTEP is judged.
    """
    neighbours, fdb = vxlan.get("neighbours"), vxlan.get("fdb")
    if neighbours is not None:
        mac = neighbours.get(vtep)
        if mac is None:
            return "vtep_unresolved", ("no ARP entry for VTEP %s on %s: the kernel cannot address it (Felix programs "
                                       "one per remote VTEP)" % (vtep, VXLAN_DEVICE))
        if fdb is not None:
            remotes = fdb.get(mac)
            if not remotes:
                return "vtep_unresolved", ("no FDB entry for VTEP %s (MAC %s) on %s: its packets go to no node "
                                           "(Felix programs one per remote VTEP)" % (vtep, mac, VXLAN_DEVICE))
            if owner["ip"] not in remotes:
                return "wrong_next_hop", "VTEP %s (MAC %s) is sent to %s, not to %s (%s)" % (
                    vtep, mac, ", ".join(remotes), owner["name"], owner["ip"])
            return None
    if vtep_unknown and owner["blocks"] and not any(_ip(vtep, "route gateway") in block for block in owner["blocks"]):
        return "wrong_next_hop", ("next hop %s is not in a block of %s (%s): Calico takes a node's VXLAN tunnel "
                                  "address from its own block" % (vtep, owner["name"],
                                                                  ", ".join(str(b) for b in owner["blocks"])))
    return None


def _judge_device(device, name, kind, overhead, local, uplink_mtu, what, datastore_address=None):
    """Problems with an encapsulation device as the node has it: missing, of another kind, down, without a /32
    (``what``: what that address is) from the node's own blocks, without the datastore's address, or an MTU that
    leaves no room for the encapsulation's ``overhead`` on the uplink."""
    if device.get("exists") is None:
        return []  # no link data: nothing to say
    if not device.get("exists"):
        return ["%s does not exist" % name]
    problems = []
    if device.get("kind") != kind:
        problems.append("%s is of kind %s, not %s" % (name, device.get("kind"), kind))
    if not device.get("up"):
        problems.append("%s is down" % name)
    addresses = [a for a in device.get("addresses") or [] if a.endswith("/32")]
    if not addresses:
        problems.append("%s has no /32 %saddress" % (name, "" if what == "tunnel" else what + " "))
    elif local["blocks"] and not any(_ip(a, what + " address") in block for a in addresses
                                     for block in local["blocks"]):
        problems.append("%s address %s is not from the node's own block(s) %s" % (
            name, ", ".join(addresses), ", ".join(str(b) for b in local["blocks"])))
    if datastore_address and not any(a.split("/")[0] == datastore_address for a in addresses):
        problems.append("%s lacks the datastore's tunnel address %s" % (name, datastore_address))
    mtu = device.get("mtu")
    if mtu is not None and (mtu < MIN_TUNNEL_MTU or (uplink_mtu and mtu > uplink_mtu - overhead)):
        problems.append("%s MTU %s is not within %d..%s (uplink MTU %s - %d)" % (
            name, mtu, MIN_TUNNEL_MTU, (uplink_mtu - overhead) if uplink_mtu else "?", uplink_mtu, overhead))
    return problems


def judge_tunnel(facts, local, ipip_expected, tunnel_device, datastore_tunnel_address=None):
    """Problems with the node's IPIP tunnel device (empty list when fine or when no IPIP is expected)."""
    if not ipip_expected:
        return []
    return _judge_device(facts.get("tunnel") or {}, tunnel_device, "ipip", IPIP_OVERHEAD, local,
                         facts.get("uplink_mtu"), "tunnel", datastore_tunnel_address)


def judge_vxlan(facts, local, vxlan_expected, vni=FELIX_VXLAN_VNI, port=FELIX_VXLAN_PORT):
    """Problems with Felix's VXLAN device (empty when fine or when no VXLAN is expected): it exists, is of kind
    vxlan, is up, holds a /32 VTEP address from the node's own blocks, its MTU leaves room for VXLAN's 50 bytes,
    and it uses Felix's VNI and UDP port, *vni* and *port*, where ``ip -d`` showed them: a node on another VNI or
    port exchanges no packet with the rest (felix/dataplane/linux/vxlan_mgr.go, felix/config/config_params.go)."""
    if not vxlan_expected:
        return []
    device = facts.get("vxlan") or {}
    problems = _judge_device(device, VXLAN_DEVICE, "vxlan", VXLAN_OVERHEAD, local, facts.get("uplink_mtu"), "VTEP")
    if device.get("exists") and device.get("vni") is not None and device["vni"] != vni:
        problems.append("%s has VNI %s, not %d (Felix's vxlanVNI)" % (VXLAN_DEVICE, device["vni"], vni))
    if device.get("exists") and device.get("port") is not None and device["port"] != port:
        problems.append("%s uses UDP port %s, not %d (Felix's vxlanPort)" % (VXLAN_DEVICE, device["port"], port))
    return problems


def workload_mtu_warnings(facts, ipip_expected, vxlan_expected=False):
    """``workload_mtu_above_tunnel`` when pods' interfaces have an MTU above the tunnel's: small packets pass, full
    ones with DF set are dropped where PMTU discovery is filtered. The tunnel's MTU is the device's, or before the
    change (no tunl0 yet) the uplink's minus the IPIP header (Calico's default, see
    https://docs.tigera.io/calico/latest/networking/configuring/mtu). A warning: it does not change ok."""
    workloads = facts.get("workloads")
    if not (ipip_expected or vxlan_expected) or not isinstance(workloads, list):
        return []
    # VXLAN where it is the only encapsulation the node's blocks use, else IPIP
    tunnel = (facts.get("vxlan") if vxlan_expected and not ipip_expected else facts.get("tunnel")) or {}
    overhead = VXLAN_OVERHEAD if vxlan_expected and not ipip_expected else IPIP_OVERHEAD
    tunnel_mtu = tunnel.get("mtu") if tunnel.get("exists") else None
    if tunnel_mtu is None and isinstance(facts.get("uplink_mtu"), int):
        tunnel_mtu = facts["uplink_mtu"] - overhead
    if not isinstance(tunnel_mtu, int):
        return []
    above = [w for w in workloads if isinstance(w, dict) and isinstance(w.get("mtu"), int) and w["mtu"] > tunnel_mtu]
    if not above:
        return []
    names = [w.get("name") for w in above]
    largest = max(w["mtu"] for w in above)
    fix = ("restart those pods (a veth keeps the MTU it was made with), and have new ones made at %d or less: "
           "veth_mtu in the calico-config ConfigMap (manifest installs) or the Installation's spec.calicoNetwork.mtu "
           "(operator installs)" % tunnel_mtu)
    shown = ", ".join(str(n) for n in names[:5]) + (" and %d more" % (len(names) - 5) if len(names) > 5 else "")
    return [{"name": "workload_mtu_above_tunnel", "count": len(above), "largest_mtu": largest,
             "tunnel_mtu": tunnel_mtu, "interfaces": names, "fix": fix,
             "message": "%d pod interface(s) with MTU up to %d above the tunnel's %d (%s); %s" % (
                 len(above), largest, tunnel_mtu, shown, fix)}]


def _workload_warnings(facts, ipip_expected, vxlan_expected, planned, remote, local):
    """workload_mtu_warnings for the encapsulation the node's blocks use, or, in a diagnosis before a change
    (*planned*: ``(kind, mode)``) that will make the node tunnel, for the encapsulation to come."""
    if planned is not None and _tunnels_when_planned(planned[1], remote, local):
        return workload_mtu_warnings(facts, planned[0] == "ipip", planned[0] == "vxlan")
    return workload_mtu_warnings(facts, ipip_expected, vxlan_expected)


def verdict(hosts, calico_nodes=None, affinities=None, pools=None, tunnel_device="tunl0", mode=None,
            tunnel_addresses=None, scope=None, planned_ipip_mode=None, vxlan_vni=None, vxlan_port=None,
            planned_vxlan_mode=None):
    """Judge every host, each block by its own pool's modes.

    ``mode`` overrides every pool's modes (that IPIP mode, no VXLAN), e.g. to judge tables against one mode.
    ``planned_ipip_mode``: the IPIP mode about to be set on the pools in scope (a diagnosis before the change): a
    node that will then tunnel to a peer is warned of its pods above the tunnel to come (workload_mtu_above_tunnel);
    it changes no judgement; ``Never`` plans nothing. ``planned_vxlan_mode``: the same for a switch to VXLAN (its
    tunnel: uplink - 50).
    ``vxlan_vni`` and ``vxlan_port``: the VNI and UDP port Felix gives vxlan.calico (FelixConfiguration vxlanVNI,
    vxlanPort; None: Felix's defaults, 4096 and 4789).
    ``scope``: pool names or CIDRs whose blocks decide ``ok`` / ``converged`` (None: every pool; see the module
    docstring). Equal block entries are one object shared by the hosts' ``blocks`` lists: treat the result as
    read-only.
    """
    if netaddr is None:
        raise VerdictInputError("the Python library netaddr is required on the controller (pip install netaddr)")
    if mode is not None and mode not in IPIP_MODES:
        raise VerdictInputError("mode: %r is not one of %s" % (mode, ", ".join(IPIP_MODES)))
    planned = None
    for field, kind, value in (("planned_ipip_mode", "ipip", planned_ipip_mode),
                               ("planned_vxlan_mode", "vxlan", planned_vxlan_mode)):
        if value is not None and value not in IPIP_MODES:
            raise VerdictInputError("%s: %r is not one of %s" % (field, value, ", ".join(IPIP_MODES)))
        if value not in (None, "Never"):  # (Never: this encapsulation is not planned)
            if planned is not None:
                raise VerdictInputError("planned_ipip_mode and planned_vxlan_mode: give one, a change sets one "
                                        "encapsulation")
            planned = (kind, value)
    vxlan_vni = FELIX_VXLAN_VNI if vxlan_vni is None else vxlan_vni
    vxlan_port = FELIX_VXLAN_PORT if vxlan_port is None else vxlan_port
    for field, value, most in (("vxlan_vni", vxlan_vni, 2 ** 24 - 1), ("vxlan_port", vxlan_port, 65535)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise VerdictInputError("%s: %r is not a whole number from 1 to %d" % (field, value, most))
    check_inputs(hosts, calico_nodes, affinities, pools)
    # Nothing made here refers back to itself: pause the cyclic garbage collector, which would otherwise walk the
    # millions of route and block objects again and again while the result grows (most of the time at 1,000 nodes).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verdict(hosts, calico_nodes, affinities, pools, tunnel_device, mode, tunnel_addresses, scope,
                        planned, (vxlan_vni, vxlan_port))
    except (KeyError, TypeError, AttributeError):
        check_routes(hosts)  # a malformed route: say which (free when nothing fails)
        raise
    finally:
        if collecting:
            gc.enable()


def _tunnels_when_planned(planned_mode, remote, local):
    """Whether *local* will tunnel to a peer's in-scope block once ``planned_mode`` is set (Always: any peer;
    CrossSubnet: a peer in another subnet). Only asked in a diagnosis, outside the hot loop."""
    for _block, owner_name, owner, _ip, owner_int, *_modes, _pool, in_scope, _entries in remote:
        if in_scope and owner is not None and owner_name != local["name"] and (
                planned_mode == "Always" or not local["net_first"] <= owner_int <= local["net_last"]):
            return True
    return False


def _verdict(hosts, calico_nodes, affinities, pools, tunnel_device, mode, tunnel_addresses, scope,
             planned=None, vxlan_device=(FELIX_VXLAN_VNI, FELIX_VXLAN_PORT)):
    layout = cluster_layout(calico_nodes, affinities, pools, hosts, scope)
    nodes, owners, networks = layout["nodes"], layout["owners"], layout["networks"]
    remote_blocks = sorted(owners.items(), key=lambda item: networks[item[0]].sort_key())
    # Per block, once for all hosts (the loop below runs N x N times): owner, pool and modes, what encapsulates it,
    # and the result entries made so far. A block's entry is the same on every host whose route to it has the same
    # shape (right, via the gateway, ...): it is made once and shared, not copied; at 1,000 nodes that is a million
    # dicts not made, most of the time and memory. The verdict is read-only data: nothing changes an entry once made.
    # The pool and whether it is in scope belong to the block, so they are fields of its entries like its mode.
    # fast_kind: the route kind the fast path below takes as right (a tunnel route via want_gw, onlink); VXLAN
    # routes are judged there only with a known VTEP and no ARP/FDB tables to follow (_vtep_cause), else SLOW.
    remote = []
    remote_vxlan_slow = []  # the same rows for hosts whose vxlan.calico tables were read
    for block, owner_name in remote_blocks:
        owner = nodes.get(owner_name)
        pool, ipip_mode, vxlan_mode, in_scope = layout["block_pools"][block]
        if mode is not None:
            ipip_mode, vxlan_mode = mode, "Never"
        if ipip_mode != "Never":  # the device kind that encapsulates, and in which mode
            fast_kind, encap_mode, want_gw = "tunnel", ipip_mode, owner and owner["ip"]
        elif vxlan_mode != "Never":
            want_gw = owner and owner["vtep"]
            fast_kind, encap_mode = ("vxlan" if want_gw is not None else SLOW), vxlan_mode
        else:
            fast_kind, encap_mode, want_gw = None, "Never", None
        row = (block, owner_name, owner, owner and owner["ip"], owner and owner["ip_int"], ipip_mode, vxlan_mode,
               fast_kind, encap_mode, want_gw, pool, in_scope, {})
        remote.append(row)
        remote_vxlan_slow.append(row if fast_kind != "vxlan" else row[:7] + (SLOW,) + row[8:])
    by_host = {}
    for node in nodes.values():
        by_host.setdefault(node["host"], node)  # the first node matched to a host, as a linear search finds it
    pool_list, outside, layout_problems = layout["pool_list"], layout["outside"], layout["problems"]
    tunnel_addresses = tunnel_addresses or {}
    causes = dict((cause, 0) for cause in CAUSES)
    results = []
    for host in sorted(hosts):
        facts = hosts[host]
        local = by_host.get(host)
        if local is None:
            results.append({"host": host, "node": None, "ok": False, "converged": False,
                            "problems": ["no address to identify the node"],
                            "blocks": [], "blocks_ok": 0, "blocks_bad": 0, "first_bad": None,
                            "blocks_bad_out_of_scope": 0, "problems_out_of_scope": []})
            continue
        judged = {route["dst"]: route for route in facts.get("routes") or [] if route.get("kind")}
        pop = judged.pop
        blocks, bad, bad_out = [], [], []
        add = blocks.append
        converged_all = True
        ipip_expected = ipip_expected_out = vxlan_expected = vxlan_expected_out = False
        local_name, local_first, local_last = local["name"], local["net_first"], local["net_last"]
        uplink = facts.get("uplink")
        rows = remote if (facts.get("vxlan") or {}).get("neighbours") is None else remote_vxlan_slow
        for (block, owner_name, owner, owner_ip, owner_int, block_mode, block_vxlan, fast_kind, encap_mode, want_gw,
             pool, in_scope, entries) in rows:
            route = pop(block, None)
            if owner_name == local_name or owner is None:
                continue  # our own block, or an owner whose address nobody knows: nothing to compare with
            if block_mode != "Never":
                if in_scope:
                    ipip_expected = True
                else:
                    ipip_expected_out = True
            elif block_vxlan != "Never":
                if in_scope:
                    vxlan_expected = True
                else:
                    vxlan_expected_out = True
            # expected_route(), inlined
            same_subnet = local_first <= owner_int <= local_last
            tunnel = encap_mode == "Always" or (encap_mode == "CrossSubnet" and not same_subnet)
            kind = route.get("kind") if route is not None else None
            # The two shapes nearly every route has, decided here as _route_cause() decides them; the rest there.
            # Entries are looked up by what their text depends on: the device, the gateway, or cause and detail.
            if kind == fast_kind and tunnel and route.get("gateway") == want_gw \
                    and "onlink" in (route.get("flags") or ()) and "linkdown" not in route.get("flags"):
                dev = route.get("dev")
                entry = entries.get(dev)
                if entry is None:
                    entry = entries[dev] = {"block": block, "owner": owner_name, "owner_ip": owner_ip,
                                            "mode": block_mode, "vxlan_mode": block_vxlan, "pool": pool,
                                            "in_scope": in_scope, "cause": "ok",
                                            "detail": "via %s dev %s" % (route.get("gateway"), dev),
                                            "converged": True}
                add(entry)
                continue
            if kind == "via_gateway":
                gateway = route.get("gateway") or next((h.get("gateway") for h in route.get("nexthops") or []), None)
                converged = not tunnel and not same_subnet  # no encapsulation across subnets: what Calico programs
                key = (gateway, converged)
                entry = entries.get(key)
                if entry is None:
                    entry = entries[key] = {
                        "block": block, "owner": owner_name, "owner_ip": owner_ip, "mode": block_mode,
                        "vxlan_mode": block_vxlan, "pool": pool, "in_scope": in_scope,
                        "cause": "via_gateway", "detail": "next hop %s is the default gateway, not node %s (%s)" % (
                            gateway, owner["name"], owner_ip), "converged": converged}
            else:
                if tunnel:
                    expected = ("tunnel" if block_mode != "Never" else "vxlan", want_gw, True)
                elif same_subnet:
                    expected = (uplink or "uplink", owner_ip, False)
                else:
                    expected = (None, None, False)
                cause, detail = _route_cause(route, local, owner, block_mode, facts, tunnel_device, expected)
                converged = cause in ("via_gateway", "missing") if expected[0] is None else cause == "ok"
                key = (cause, detail, converged)
                entry = entries.get(key)
                if entry is None:
                    entry = entries[key] = {"block": block, "owner": owner_name, "owner_ip": owner_ip,
                                            "mode": block_mode, "vxlan_mode": block_vxlan, "pool": pool,
                                            "in_scope": in_scope, "cause": cause, "detail": detail,
                                            "converged": converged}
            add(entry)
            if not in_scope:
                if entry["cause"] != "ok":
                    bad_out.append(entry)
                continue
            if entry["cause"] != "ok":
                bad.append(entry)
            if not converged:
                converged_all = False
        for dst, route in sorted(judged.items()):
            if route["kind"] in ("own_block", "workload", "unreachable"):
                continue
            network = _net(dst, "route")  # rare: a pool's routes by containment, as the blocks
            pool, _ipip, _vxlan, in_scope = next((e[1:] for e in pool_list if network in e[0]), outside)
            entry = {"block": str(dst), "owner": None, "owner_ip": None, "mode": None, "vxlan_mode": None,
                     "pool": pool, "in_scope": in_scope, "cause": "stale",
                     "detail": "route %s via %s dev %s: no node owns this block" % (
                         dst, route.get("gateway"), route.get("dev")), "converged": False}
            blocks.append(entry)
            if in_scope:
                bad.append(entry)
                converged_all = False
            else:
                bad_out.append(entry)
        # blocks outside the scope are counted only when there is a scope (the diagnosis has none): no extra pass
        judged_in_scope = len(blocks) if scope is None else sum(1 for entry in blocks if entry["in_scope"])
        causes["ok"] += judged_in_scope - len(bad)
        for entry in bad:
            causes[entry["cause"]] += 1
        conflicts = layout_problems.get(local["name"], [])
        problems = conflicts + judge_tunnel(facts, local, ipip_expected, tunnel_device,
                                            tunnel_addresses.get(local["name"]))
        problems_out = ([] if ipip_expected else judge_tunnel(facts, local, ipip_expected_out, tunnel_device,
                                                              tunnel_addresses.get(local["name"])))
        if vxlan_expected:  # (only then: no call per node where no block uses VXLAN, the usual case)
            problems += judge_vxlan(facts, local, True, *vxlan_device)
        elif vxlan_expected_out:
            problems_out += judge_vxlan(facts, local, True, *vxlan_device)
        results.append({
            "host": host, "node": local["name"], "address": local["ip"], "subnet": local["network"],
            "ok": not bad and not problems, "problems": problems,
            "converged": converged_all and not conflicts and not (ipip_expected and problems),
            "tunnel": facts.get("tunnel"), "vxlan": facts.get("vxlan") if vxlan_expected else None,
            "blocks": blocks, "blocks_ok": judged_in_scope - len(bad),
            "blocks_bad": len(bad), "first_bad": bad[0] if bad else None,
            "blocks_bad_out_of_scope": len(bad_out), "problems_out_of_scope": problems_out,
            "warnings": _workload_warnings(facts, ipip_expected or ipip_expected_out,
                                           vxlan_expected or vxlan_expected_out, planned, remote, local),
        })
    layout_nodes = []
    for n in sorted(nodes.values(), key=lambda n: n["name"]):
        item = {"name": n["name"], "ipv4_address": "%s/%d" % (n["ip"], n["prefixlen"])}
        if n["vtep"]:
            item["vxlan_tunnel_address"] = n["vtep"]
        layout_nodes.append(item)
    # each conflict once, also when no host is matched to the nodes it names
    problems = sorted(set(text for texts in layout_problems.values() for text in texts))
    return {"ok": all(r["ok"] for r in results) and bool(results) and not problems,
            "converged": all(r["converged"] for r in results) and bool(results) and not problems,
            "problems": problems, "nodes": results,
            "causes": causes, "hosts_ok": sum(1 for r in results if r["ok"]),
            "hosts_bad": sum(1 for r in results if not r["ok"]),
            "blocks_bad_out_of_scope": sum(r["blocks_bad_out_of_scope"] for r in results),
            # the cluster as judged (datastore data completed from the hosts' own tables), so a later per-host
            # check can be judged against the same owners and addresses
            "layout": {"nodes": layout_nodes,
                       "affinities": [{"node": owner, "cidr": block} for block, owner in remote_blocks]}}
