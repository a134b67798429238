# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data-plane probe's verdict (roles/ipip/tasks/probe.yml runs roles/ipip/files/probe.sh on each node): does
the tunnel carry small packets, full-size ones (DF set, exactly the tunnel's MTU), and is one byte more refused
rather than lost? Pure: the outcome lines in, the node's verdict out.

Routes via tunl0 can be right while the data plane is not: IP protocol 4 dropped between the hosts (nothing passes),
or an underlay that carries less than the tunnel's MTU and does not say so (an MTU black hole: small packets pass,
full ones vanish; TLS handshakes and image pulls hang). Calico's docs: networking/configuring/vxlan-ipip (protocol
4) and networking/configuring/mtu (the tunnel's MTU is the underlay's minus 20 for IPIP)."""

from __future__ import annotations

PROBE_OK = "ok"
PROBE_SILENT = "no reply"
MTU_FIX = ("set the tunnel's MTU at least 20 below what the underlay carries: FelixConfiguration ipipMTU (manifest "
           "installs: veth_mtu in the calico-config ConfigMap) or the Installation's spec.calicoNetwork.mtu (operator "
           "installs), then restart the pods")


class ProbeInputError(ValueError):
    """Input that is not what the role passes: the message names the field and the value."""


def _parse_line(line):
    """One probe.sh line -> (reach, full, over), each a word of the script's vocabulary or None when not there."""
    words = line.split() if isinstance(line, str) else []
    reach = {"ok": PROBE_OK, "silent": PROBE_SILENT}.get(words[0]) if words else PROBE_SILENT
    if reach is None:
        reach = "unexpected probe output %r" % line.strip()
    full = words[1] if len(words) > 1 and words[1] != "-" else None
    over = words[2] if len(words) > 2 and words[2] != "-" else None
    return reach, full, over


def _mtu_of(outcome):
    """The MTU in 'too-big:N' / 'refused:N', or None."""
    number = outcome.partition(":")[2]
    return int(number) if number.isdigit() else None


def _mtu_findings(address, full, over, tunnel_mtu):
    """(problems, warnings) about the full-size and over-size pings to one address that answered small pings."""
    problems, warnings = [], []
    size = tunnel_mtu
    if full == "silent":
        problems.append(
            "full-size packets (%d bytes, DF set) get no reply from %s while small ones do: an MTU black hole (the "
            "path carries less than the tunnel's MTU %d and does not say so; TLS handshakes and image pulls hang); "
            "%s" % (size, address, tunnel_mtu, MTU_FIX))
    elif full is not None and full.startswith("too-big:"):
        warnings.append({
            "name": "path_mtu_below_tunnel", "address": address, "tunnel_mtu": tunnel_mtu, "path_mtu": _mtu_of(full),
            "message": "full-size packets (%d bytes, DF set) to %s are refused: the path carries at most %s bytes "
                       "(\"fragmentation needed\" reached this node, so TCP adapts where ICMP passes); %s"
                       % (size, address, _mtu_of(full), MTU_FIX)})
    elif full is None:
        problems.append("no full-size outcome for %s (the probe's output was cut short): whether packets of the "
                        "tunnel's MTU %d cross is not known" % (address, tunnel_mtu))
    elif full != "ok":
        problems.append("unexpected full-size probe output %r for %s" % (full, address))
    if full == "ok" and over == "ok":
        warnings.append({
            "name": "tunnel_mtu_not_enforced", "address": address, "tunnel_mtu": tunnel_mtu,
            "message": "packets of %d bytes (DF set), one over the tunnel's MTU %d, reach %s: the tunnel's MTU is not "
                       "the one this node's route to it uses" % (size + 1, tunnel_mtu, address)})
    elif full == "ok" and over == "silent":
        warnings.append({
            "name": "oversize_dropped_silently", "address": address, "tunnel_mtu": tunnel_mtu,
            "message": "packets of %d bytes (DF set), one over the tunnel's MTU %d, to %s vanish instead of being "
                       "refused with \"fragmentation needed\": path MTU discovery cannot work on this path"
                       % (size + 1, tunnel_mtu, address)})
    return problems, warnings


def _tunnel_mtu(outcomes):
    """(the MTU on the script's first line "mtu N" or None for "mtu -", the address lines)."""
    if outcomes and outcomes[0].startswith("mtu "):
        value = outcomes[0][4:].strip()
        if value == "-":
            return None, outcomes[1:]
        if value.isdigit() and value.isascii() and 68 <= int(value) <= 65536:  # lo has 65536
            return int(value), outcomes[1:]
        raise ProbeInputError("outcomes: %r is not the probe's MTU line (mtu <68..65536> or mtu -)" % outcomes[0])
    return None, outcomes


def probe_verdict(verdict, addresses, outcomes):
    """*verdict* with the probe's outcomes (the lines of files/probe.sh: "mtu N", then one per address).

    ``probe``: {address: "ok" | "no reply"} (small pings); when the tunnel's MTU is known also ``probe_mtu``:
    {"tunnel_mtu", "full_size": {address: outcome}, "over_size": {address: outcome}}. Not ``ok`` unless every
    address answered and full-size packets crossed (a silent full-size ping is an MTU black hole); a path that
    refuses them loudly, and an over-size packet that is not refused, are warnings. An address without an outcome
    line (the output cut short) counts as silent, never as answered."""
    if not isinstance(verdict, dict) or "host" not in verdict:
        raise ProbeInputError("verdict: %r is not a host verdict (a mapping with a host)" % (verdict,))
    if not isinstance(addresses, (list, tuple)) or not all(isinstance(a, str) for a in addresses):
        raise ProbeInputError("addresses: %r is not a list of addresses" % (addresses,))
    if not isinstance(outcomes, (list, tuple)) or not all(isinstance(o, str) for o in outcomes):
        raise ProbeInputError("outcomes: %r is not a list of probe output lines" % (outcomes,))
    tunnel_mtu, outcomes = _tunnel_mtu([line.strip() for line in outcomes])
    probe, full_size, over_size = {}, {}, {}
    problems, warnings = [], []
    for index, address in enumerate(addresses):
        reach, full, over = _parse_line(outcomes[index] if index < len(outcomes) else "")
        probe[address] = reach
        if reach != PROBE_OK:
            problems.append("no reply through the tunnel from %s (IP protocol 4 blocked? allow it between the nodes, "
                            "or use VXLAN where it cannot pass)" % address)
            continue
        if tunnel_mtu is None:
            continue
        full_size[address], over_size[address] = full or "not run", over or "not run"
        if full == "direct":
            continue  # not reached through the tunnel (CrossSubnet, same subnet): its MTU does not apply
        found, cautions = _mtu_findings(address, full, over, tunnel_mtu)
        problems += found
        warnings += cautions
    result = dict(verdict)
    result["probe"] = probe
    if tunnel_mtu is not None:
        result["probe_mtu"] = {"tunnel_mtu": tunnel_mtu, "full_size": full_size, "over_size": over_size}
    result["ok"] = verdict.get("ok") is True and not problems
    result["problems"] = list(verdict.get("problems") or []) + problems
    result["warnings"] = list(verdict.get("warnings") or []) + warnings
    return result
