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

What is expected of a route to a remote block owned by node O (address ip_O) on node N (calico-facts.md §3):

- the block's pool has IPIP ``Always``: ``via ip_O dev tunl0 onlink``;
- ``CrossSubnet``: ``via ip_O`` on N's uplink when ip_O is inside N's own subnet (the prefix recorded for N in the
  datastore decides, exactly as Calico does), else the tunnel route;
- no IPIP: ``via ip_O`` directly when same-subnet; a remote subnet has no correct unencapsulated route (the route
  via the default gateway is the incident), so such blocks are reported as ``via_gateway`` or ``missing``.

Each block also says whether it is ``converged``: whether the node shows what Calico programs in that mode, healthy
or not. Verifying IPIP waits for every block to be ``ok``; verifying a rollback to no IPIP waits for convergence (the
tunnel routes gone, the incident's routes back).
"""

from __future__ import annotations

import gc

try:
    import netaddr
except ImportError:  # reported by the filter as a missing requirement
    netaddr = None

CAUSES = ("ok", "via_gateway", "missing", "wrong_next_hop", "wrong_device", "not_onlink", "linkdown", "stale")
IPIP_MODES = ("Always", "CrossSubnet", "Never")
# The smallest MTU a tunnel may sanely have (IPv4 minimum reassembly size) and IPIP's header overhead.
MIN_TUNNEL_MTU = 576
IPIP_OVERHEAD = 20


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


def cluster_layout(calico_nodes, affinities, pools, hosts):
    """Who owns which block and at which address, merged from the datastore and from the nodes themselves.

    ``calico_nodes``: ``[{name, ipv4_address: "10.39.0.110/24", ...}]`` from the datastore (may be empty).
    ``affinities``: ``[{node, cidr}]`` (may be empty). ``pools``: ``[{cidr, ipip_mode}]``.
    ``hosts``: ``{inventory_host: node_routes_info result}``. A host is matched to its Calico node by address;
    blocks not in the affinities are taken from each host's own blackhole routes.
    """
    nodes = {}
    for node in calico_nodes or []:
        if not node.get("ipv4_address"):
            continue
        address = _net(node["ipv4_address"], "nodes[%s].ipv4_address" % node.get("name"))
        nodes[node["name"]] = _node_record(node["name"], address)
    by_ip = dict((n["ip"], n) for n in nodes.values())
    for host, facts in sorted(hosts.items()):
        addresses = facts.get("addresses") or []
        node = next((by_ip[a["address"]] for a in addresses if a["address"] in by_ip), None)
        if node is None:
            # Not in the datastore (or no node data): describe it from its own uplink address.
            uplink = next((a for a in addresses if a["dev"] == facts.get("uplink")), addresses[0] if addresses else None)
            if uplink is None:
                continue
            node = _node_record(host, _net(uplink["cidr"], "%s uplink address" % host))
            nodes[host] = node
            by_ip[node["ip"]] = node
        node["host"] = host
    owners = {}  # block CIDR string -> owner node name
    networks = {}  # block CIDR string -> netaddr network: each block parsed once (the verdict sorts by it)
    for affinity in affinities or []:
        block = _net(affinity["cidr"], "affinities[%s].cidr" % affinity.get("node")).cidr
        cidr = str(block)
        networks[cidr] = block
        owners[cidr] = affinity["node"]
    for node in nodes.values():
        facts = hosts.get(node["host"]) if node["host"] else None
        for route in (facts or {}).get("routes") or []:
            if route.get("kind") == "own_block":
                owners.setdefault(route["dst"], node["name"])
    pool_list = []
    for pool in pools or []:
        mode = pool.get("ipip_mode") or "Never"
        if mode not in IPIP_MODES:
            raise VerdictInputError("pools[%s].ipip_mode: %r is not one of %s" % (
                pool.get("cidr"), mode, ", ".join(IPIP_MODES)))
        pool_list.append((_net(pool["cidr"], "pools[].cidr"), mode))
    block_modes = {}
    for block in owners:
        network = networks.get(block)
        if network is None:
            network = networks[block] = _net(block, "block")
        block_modes[block] = next((mode for pool, mode in pool_list if network in pool), "Never")
        owner = nodes.get(owners[block])
        if owner is not None:
            owner["blocks"].append(network)
    return {"nodes": nodes, "owners": owners, "block_modes": block_modes, "networks": networks}


def _node_record(name, address):
    # Integers for the subnet test: it runs once per (node, remote block), i.e. for every route judged.
    ip = address.ip
    return {"name": name, "ip": str(ip), "ip_int": int(ip), "network": str(address.cidr),
            "net_first": address.first, "net_last": address.last, "prefixlen": address.prefixlen,
            "host": None, "blocks": []}


def expected_route(local, owner, mode, uplink):
    """What a correct route from *local* to a block of *owner* looks like: ``(device, gateway, onlink)``."""
    same_subnet = local["net_first"] <= owner["ip_int"] <= local["net_last"]
    if mode == "Always" or (mode == "CrossSubnet" and not same_subnet):
        return "tunnel", str(owner["ip"]), True
    if same_subnet:
        return uplink or "uplink", str(owner["ip"]), False
    return None, None, False  # no IPIP across subnets: nothing unencapsulated can work


def judge_route(route, local, owner, mode, facts, tunnel_device):
    """``(cause, detail, converged)`` for one remote block's route: ``ok`` or what is wrong, a short explanation,
    and whether it is what Calico programs in *mode* (see the module docstring)."""
    expected = expected_route(local, owner, mode, facts.get("uplink"))
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
        return "wrong_device", "no IPIP on this pool and %s is in another subnet: no direct route can work" % (
            owner["name"])
    if want_dev == "tunnel" and kind != "tunnel":
        return "wrong_device", "expected dev %s, found %s (%s)" % (tunnel_device, route.get("dev"), kind)
    if want_dev != "tunnel" and kind != "direct":
        return "wrong_device", "expected a direct route on %s, found %s (%s)" % (want_dev, route.get("dev"), kind)
    if gateway != want_gateway:
        return "wrong_next_hop", "next hop %s, expected %s (%s)" % (gateway, want_gateway, owner["name"])
    if want_onlink and "onlink" not in (route.get("flags") or []):
        return "not_onlink", "tunnel route without onlink"
    return "ok", "via %s dev %s" % (gateway, route.get("dev"))


def judge_tunnel(facts, local, ipip_expected, tunnel_device, datastore_tunnel_address=None):
    """Problems with the node's tunnel device (empty list when fine or when no IPIP is expected)."""
    tunnel = facts.get("tunnel") or {}
    if not ipip_expected:
        return []
    if tunnel.get("exists") is None:
        return []  # no link data: nothing to say
    if not tunnel.get("exists"):
        return ["%s does not exist" % tunnel_device]
    problems = []
    if tunnel.get("kind") != "ipip":
        problems.append("%s is of kind %s, not ipip" % (tunnel_device, tunnel.get("kind")))
    if not tunnel.get("up"):
        problems.append("%s is down" % tunnel_device)
    addresses = [a for a in tunnel.get("addresses") or [] if a.endswith("/32")]
    own = [a for a in addresses if any(_ip(a, "tunnel address") in block for block in local["blocks"])]
    if not addresses:
        problems.append("%s has no /32 address" % tunnel_device)
    elif local["blocks"] and not own:
        problems.append("%s address %s is not from the node's own block(s) %s" % (
            tunnel_device, ", ".join(addresses), ", ".join(str(b) for b in local["blocks"])))
    if datastore_tunnel_address and not any(a.split("/")[0] == datastore_tunnel_address for a in addresses):
        problems.append("%s lacks the datastore's tunnel address %s" % (tunnel_device, datastore_tunnel_address))
    mtu, uplink_mtu = tunnel.get("mtu"), facts.get("uplink_mtu")
    if mtu is not None and (mtu < MIN_TUNNEL_MTU or (uplink_mtu and mtu > uplink_mtu - IPIP_OVERHEAD)):
        problems.append("%s MTU %s is not within %d..%s (uplink MTU %s - %d)" % (
            tunnel_device, mtu, MIN_TUNNEL_MTU, (uplink_mtu - IPIP_OVERHEAD) if uplink_mtu else "?", uplink_mtu,
            IPIP_OVERHEAD))
    return problems


def verdict(hosts, calico_nodes=None, affinities=None, pools=None, tunnel_device="tunl0", mode=None,
            tunnel_addresses=None):
    """Judge every host. ``mode`` overrides the pools' ``ipip_mode`` (e.g. the mode being verified).

    Equal block entries are one object shared by the hosts' ``blocks`` lists: treat the result as read-only.
    """
    if netaddr is None:
        raise VerdictInputError("the Python library netaddr is required on the controller (pip install netaddr)")
    if mode is not None and mode not in IPIP_MODES:
        raise VerdictInputError("mode: %r is not one of %s" % (mode, ", ".join(IPIP_MODES)))
    # Nothing made here refers back to itself: pause the cyclic garbage collector, which would otherwise walk the
    # millions of route and block objects again and again while the result grows (most of the time at 1,000 nodes).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verdict(hosts, calico_nodes, affinities, pools, tunnel_device, mode, tunnel_addresses)
    finally:
        if collecting:
            gc.enable()


def _verdict(hosts, calico_nodes, affinities, pools, tunnel_device, mode, tunnel_addresses):
    layout = cluster_layout(calico_nodes, affinities, pools, hosts)
    nodes, owners, networks = layout["nodes"], layout["owners"], layout["networks"]
    remote_blocks = sorted(owners.items(), key=lambda item: networks[item[0]].sort_key())
    # Per block, once for all hosts (the loop below runs N x N times): owner, mode, and the result entries made so
    # far. A block's entry is the same on every host whose route to it has the same shape (right, via the gateway,
    # ...): it is made once and shared, not copied; at 1,000 nodes that is a million dicts not made, most of the
    # time and memory. The verdict is read-only data: nothing changes an entry once made.
    remote = []
    for block, owner_name in remote_blocks:
        owner = nodes.get(owner_name)
        remote.append((block, owner_name, owner, owner and owner["ip"], owner and owner["ip_int"],
                       mode or layout["block_modes"][block], {}))
    by_host = {}
    for node in nodes.values():
        by_host.setdefault(node["host"], node)  # the first node matched to a host, as a linear search finds it
    tunnel_addresses = tunnel_addresses or {}
    causes = dict((cause, 0) for cause in CAUSES)
    results = []
    for host in sorted(hosts):
        facts = hosts[host]
        local = by_host.get(host)
        if local is None:
            results.append({"host": host, "node": None, "ok": False, "converged": False,
                            "problems": ["no address to identify the node"],
                            "blocks": [], "blocks_ok": 0, "blocks_bad": 0, "first_bad": None})
            continue
        judged = {route["dst"]: route for route in facts.get("routes") or [] if route.get("kind")}
        pop = judged.pop
        blocks, bad = [], []
        add = blocks.append
        converged_all = True
        ipip_expected = False
        local_name, local_first, local_last = local["name"], local["net_first"], local["net_last"]
        uplink = facts.get("uplink")
        for block, owner_name, owner, owner_ip, owner_int, block_mode, entries in remote:
            route = pop(block, None)
            if owner_name == local_name or owner is None:
                continue  # our own block, or an owner whose address nobody knows: nothing to compare with
            if block_mode != "Never":
                ipip_expected = True
            # expected_route(), inlined
            same_subnet = local_first <= owner_int <= local_last
            tunnel = block_mode == "Always" or (block_mode == "CrossSubnet" and not same_subnet)
            kind = route.get("kind") if route is not None else None
            # The two shapes nearly every route has, decided here as _route_cause() decides them; the rest there.
            # Entries are looked up by what their text depends on: the device, the gateway, or cause and detail.
            if kind == "tunnel" and tunnel and route.get("gateway") == owner_ip \
                    and "onlink" in (route.get("flags") or ()) and "linkdown" not in route.get("flags"):
                dev = route.get("dev")
                entry = entries.get(dev)
                if entry is None:
                    entry = entries[dev] = {"block": block, "owner": owner_name, "owner_ip": owner_ip,
                                            "mode": block_mode, "cause": "ok",
                                            "detail": "via %s dev %s" % (owner_ip, dev), "converged": True}
                add(entry)
                continue
            if kind == "via_gateway":
                gateway = route.get("gateway") or next((h.get("gateway") for h in route.get("nexthops") or []), None)
                converged = not tunnel and not same_subnet  # no IPIP across subnets: what Calico programs
                key = (gateway, converged)
                entry = entries.get(key)
                if entry is None:
                    entry = entries[key] = {
                        "block": block, "owner": owner_name, "owner_ip": owner_ip, "mode": block_mode,
                        "cause": "via_gateway", "detail": "next hop %s is the default gateway, not node %s (%s)" % (
                            gateway, owner["name"], owner_ip), "converged": converged}
            else:
                if tunnel:
                    expected = ("tunnel", owner_ip, True)
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
                                            "mode": block_mode, "cause": cause, "detail": detail,
                                            "converged": converged}
            add(entry)
            if entry["cause"] != "ok":
                bad.append(entry)
            if not converged:
                converged_all = False
        causes["ok"] += len(blocks) - len(bad)
        for entry in bad:
            causes[entry["cause"]] += 1
        for dst, route in sorted(judged.items()):
            if route["kind"] in ("own_block", "workload", "unreachable"):
                continue
            entry = {"block": str(dst), "owner": None, "owner_ip": None, "mode": None, "cause": "stale",
                     "detail": "route %s via %s dev %s: no node owns this block" % (
                         dst, route.get("gateway"), route.get("dev")), "converged": False}
            blocks.append(entry)
            causes["stale"] += 1
            bad.append(entry)
            converged_all = False
        problems = judge_tunnel(facts, local, ipip_expected, tunnel_device, tunnel_addresses.get(local["name"]))
        results.append({
            "host": host, "node": local["name"], "address": local["ip"], "subnet": local["network"],
            "ok": not bad and not problems, "problems": problems,
            "converged": converged_all and not (ipip_expected and problems),
            "tunnel": facts.get("tunnel"), "blocks": blocks, "blocks_ok": len(blocks) - len(bad),
            "blocks_bad": len(bad), "first_bad": bad[0] if bad else None,
        })
    return {"ok": all(r["ok"] for r in results) and bool(results),
            "converged": all(r["converged"] for r in results) and bool(results), "nodes": results,
            "causes": causes, "hosts_ok": sum(1 for r in results if r["ok"]),
            "hosts_bad": sum(1 for r in results if not r["ok"]),
            # the cluster as judged (datastore data completed from the hosts' own tables), so a later per-host
            # check can be judged against the same owners and addresses
            "layout": {"nodes": [{"name": n["name"], "ipv4_address": "%s/%d" % (n["ip"], n["prefixlen"])}
                                 for n in sorted(nodes.values(), key=lambda n: n["name"])],
                       "affinities": [{"node": owner, "cidr": block} for block, owner in remote_blocks]}}
