# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pre-change tunnel test (ipip_preflight_tunnel_test): does IP protocol 4 pass between the nodes before any pool
is switched to IPIP? Pure functions: which node pairs test it and with which throwaway tunnels (tunnel_test_plan),
what their pings and the nodes' firewalls say (tunnel_test_verdict, protocol4_drop_rules). The role runs the
commands (roles/ipip/tasks/tunnel_test.yml).

Calico's IPIP needs IP protocol 4 allowed between the hosts (Calico's docs, networking/configuring/vxlan-ipip); in
CrossSubnet mode only traffic between subnets is encapsulated, in Always mode all of it."""

from __future__ import annotations

import ipaddress
import re
from itertools import combinations

# Test tunnels are named TUNNEL_PREFIX + the pair's index (an interface name has at most 15 characters): one name
# per pair on both of its hosts, never a name Calico uses (tunl0, vxlan.calico).
TUNNEL_PREFIX = "k8snet-t"
TUNNEL_NAME = re.compile(r"^k8snet-t[0-9]{1,7}$")
PING_OK = "ok"
PING_SILENT = "no reply"
OPEN_PROTOCOL_4 = (
    "Allow IP protocol 4 (IP-in-IP) between the nodes' addresses: on AWS in the nodes' security groups (protocol 4, "
    "or 'All traffic'); on OpenStack by number (--protocol 4: the name 'ipip' there means protocol 94, which is not "
    "IP-in-IP); in the node's own firewall (iptables/nftables) and "
    "in any router between the subnets. Where protocol 4 cannot be allowed (Azure does not carry it at all), use "
    "VXLAN (vxlanMode) instead of IPIP.")


class TunnelTestInputError(ValueError):
    """Input that is not what the role passes (a bad range, a verdict without addresses): the message names it."""


def _network(text, field):
    try:
        network = ipaddress.ip_network(text, strict=True)
    except (TypeError, ValueError) as e:
        raise TunnelTestInputError("%s: %r is not an IPv4 network in CIDR form (%s)" % (field, text, e)) from None
    if network.version != 4:
        raise TunnelTestInputError("%s: %r is not IPv4 (IPIP carries IPv4 only)" % (field, text))
    return network


def _hosts_by_subnet(node_verdicts):
    """{subnet: [host, ...]} (hosts sorted) of the judged hosts that have an address and a subnet."""
    if not isinstance(node_verdicts, list) or not all(isinstance(v, dict) for v in node_verdicts):
        raise TunnelTestInputError("nodes: %r is not a list of node verdicts (mappings)" % (node_verdicts,))
    groups, addresses = {}, {}
    for verdict in node_verdicts:
        host, address, subnet = verdict.get("host"), verdict.get("address"), verdict.get("subnet")
        if not (isinstance(host, str) and isinstance(address, str) and isinstance(subnet, str)):
            continue  # not matched to a Calico node: it has no address to test from (the diagnosis names it)
        groups.setdefault(subnet, []).append(host)
        addresses[host] = address
    return {subnet: sorted(hosts) for subnet, hosts in groups.items()}, addresses


def tunnel_test_plan(node_verdicts, address_range, pool_cidrs, ipip_mode):
    """The pairs that test protocol 4 and each host's throwaway tunnels.

    One pair per pair of subnets (the first host of each, by name); with ``ipip_mode`` Always also one pair inside
    each subnet of two or more hosts, since then same-subnet traffic is encapsulated too (security groups filter it
    inside a subnet as well). Each pair gets two /32 addresses from ``address_range``, which must not overlap a pool
    or a node subnet. Returns {"pairs": [{"index", "hosts", "subnets"}], "tunnels": {host: [{"name", "local",
    "remote", "address", "peer"}]}}."""
    if ipip_mode not in ("Always", "CrossSubnet"):
        raise TunnelTestInputError("ipip_mode: %r is not one of Always, CrossSubnet" % (ipip_mode,))
    if not isinstance(address_range, str) or not address_range:
        raise TunnelTestInputError(
            "ipip_preflight_tunnel_range: %r is not set. The test tunnels need throwaway /32 addresses from a range "
            "no pool, node or service uses, for example 198.18.0.0/24 (RFC 2544's benchmarking range)"
            % (address_range,))
    test_range = _network(address_range, "ipip_preflight_tunnel_range")
    if not isinstance(pool_cidrs, list):
        raise TunnelTestInputError("pools: %r is not a list of pool CIDRs" % (pool_cidrs,))
    groups, addresses = _hosts_by_subnet(node_verdicts)
    taken = [("pool", cidr) for cidr in pool_cidrs] + [("node subnet", subnet) for subnet in sorted(groups)]
    for kind, cidr in taken:
        network = ipaddress.ip_network(cidr, strict=False)
        if network.version == 4 and network.overlaps(test_range):
            raise TunnelTestInputError(
                "ipip_preflight_tunnel_range: %s overlaps the %s %s; give a range the cluster does not use"
                % (address_range, kind, cidr))
    pairs = list(combinations(sorted(groups), 2))
    subnet_pairs = [([groups[a][0], groups[b][0]], [a, b]) for a, b in pairs]
    if ipip_mode == "Always":
        subnet_pairs += [(groups[s][:2], [s, s]) for s in sorted(groups) if len(groups[s]) > 1]
    free = test_range.num_addresses
    if 2 * len(subnet_pairs) > free:
        raise TunnelTestInputError(
            "ipip_preflight_tunnel_range: %s has %d addresses; the test needs %d (two per node pair, %d pairs)"
            % (address_range, free, 2 * len(subnet_pairs), len(subnet_pairs)))
    plan = {"pairs": [], "tunnels": {}}
    for index, (hosts, subnets) in enumerate(subnet_pairs):
        name = "%s%d" % (TUNNEL_PREFIX, index)
        ends = [str(test_range.network_address + 2 * index + k) for k in (0, 1)]
        plan["pairs"].append({"index": index, "name": name, "hosts": hosts, "subnets": subnets})
        for me, other in ((0, 1), (1, 0)):
            plan["tunnels"].setdefault(hosts[me], []).append({
                "name": name, "local": addresses[hosts[me]], "remote": addresses[hosts[other]],
                "address": ends[me], "peer": ends[other]})
    return plan


# A rule that drops or rejects IP protocol 4 (/etc/protocols: ipencap 4; 'ipip' there is 94, another protocol):
# iptables-save `-p 4|ipencap ... -j DROP|REJECT`, nft `ip protocol 4|ipencap ... drop|reject` (also in a set,
# and `meta l4proto`). A negated match (`! -p 4`, `!= 4`) drops everything but protocol 4.
_IPTABLES_P4 = re.compile(r"(?:^|\s)(?:-p|--protocol)\s+(?:4|ipencap)(?=\s|$)")
_IPTABLES_DROP = re.compile(r"(?:^|\s)(?:-j|--jump)\s+(?:DROP|REJECT)(?=\s|$)")
_NFT_P4 = re.compile(r"\b(?:ip\s+protocol|l4proto)\s+"                    # `meta l4proto` included
                     r"(?:\{[^}]*\b(?:4|ipencap)\b[^}]*\}|(?:4|ipencap)\b)")   # a set holding 4, or 4 itself
_NFT_DROP = re.compile(r"\b(?:drop|reject)\b")


def protocol4_drop_rules(text):
    """The lines of an ``iptables-save`` or ``nft list ruleset`` output that drop or reject IP protocol 4."""
    if not isinstance(text, str):
        raise TunnelTestInputError("firewall: %r is not the text of iptables-save or nft list ruleset" % (text,))
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-A ") or line.startswith("-I "):
            negated = re.search(r"!\s+(?:-p|--protocol)\b", line)
            if _IPTABLES_P4.search(line) and _IPTABLES_DROP.search(line) and not negated:
                rules.append(line)
        elif _NFT_P4.search(line) and _NFT_DROP.search(line) and not re.search(r"(?:protocol|l4proto)\s+!=", line):
            rules.append(line)
    return rules


def _outcome(lines, index):
    if not isinstance(lines, list) or index >= len(lines) or not isinstance(lines[index], str):
        return "no outcome (the host did not answer or its output was cut short)"
    return lines[index].strip() or "no outcome (an empty line)"


def _pair_text(entry):
    (a, b), (subnet_a, subnet_b) = entry["hosts"], entry["subnets"]
    return "%s (%s) <-> %s (%s)" % (a, subnet_a, b, subnet_b)


def _summary(pairs, failed):
    if not pairs:
        return "No node pair to test: IPIP in this mode encapsulates nothing between these nodes"
    if failed:
        return "IP protocol 4 does not pass between %d of %d node pairs: %s" % (
            len(failed), len(pairs), "; ".join(_pair_text(e) for e in failed))
    return "IP protocol 4 passes between all %d node pairs: %s" % (len(pairs), "; ".join(_pair_text(e) for e in pairs))


def tunnel_test_verdict(plan, setups, pings, firewalls):
    """The test's verdict: each pair's outcome on both of its hosts, the firewall rules found, and ``message`` (what
    failed and what to open). ``setups``/``pings``: {host: [one line per tunnel of the host, in the plan's order]}
    (``ok``, ``no reply`` or ``setup failed: ...``); ``firewalls``: {host: iptables-save/nft text}. A pair is ok only
    when both ends set up and both pings answered; a missing line is never ok."""
    if not (isinstance(plan, dict) and isinstance(plan.get("pairs"), list) and isinstance(plan.get("tunnels"), dict)):
        raise TunnelTestInputError("plan: %r is not a tunnel test plan (from ipip_tunnel_test_plan)" % (plan,))
    for field, value in (("setups", setups), ("pings", pings), ("firewalls", firewalls)):
        if not isinstance(value, dict):
            raise TunnelTestInputError("%s: %r is not a mapping of host to output" % (field, value))
    pairs, failed = [], []
    for pair in plan["pairs"]:
        outcomes = {}
        for host in pair.get("hosts") or []:
            names = [t.get("name") for t in plan["tunnels"].get(host) or [] if isinstance(t, dict)]
            if pair.get("name") not in names:
                raise TunnelTestInputError("plan: pair %r has no tunnel on host %r" % (pair.get("name"), host))
            position = names.index(pair["name"])
            setup = _outcome(setups.get(host), position)
            outcomes[host] = _outcome(pings.get(host), position) if setup == PING_OK else setup
        entry = dict(pair, outcomes=outcomes, ok=all(o == PING_OK for o in outcomes.values()))
        pairs.append(entry)
        if not entry["ok"]:
            failed.append(entry)
    rules = {host: protocol4_drop_rules(text) for host, text in sorted(firewalls.items()) if isinstance(text, str)}
    rules = {host: found for host, found in rules.items() if found}
    lines = []
    for entry in failed:
        lines.append("%s: %s" % (_pair_text(entry), ", ".join(
            "%s %s" % (host, outcome) for host, outcome in sorted(entry["outcomes"].items()))))
    for host, found in rules.items():
        lines.append("%s's firewall drops IP protocol 4: %s" % (host, " | ".join(found)))
    message = ""
    if failed:
        message = ("IP protocol 4 does not pass between these nodes, so IPIP would not carry their pods' traffic: %s. "
                   "%s Nothing was written." % ("; ".join(lines), OPEN_PROTOCOL_4))
    summary = _summary(pairs, failed)
    return {"ok": not failed, "pairs": pairs, "pairs_failed": len(failed), "firewall_rules": rules,
            "summary": summary, "message": message, "warnings": [] if failed else lines}
