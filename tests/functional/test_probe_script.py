"""The role's data-plane probe (roles/ipip/files/probe.sh) on real paths: three network namespaces this test makes
(a node, a router between two subnets, a far node behind a link of MTU 1400), real pings, real ICMP. Its lines are
then judged by the probe's verdict (plugin_utils/_probe.py), as the role does.

The probe does not need a tunnel to be tested: it sizes its DF-set pings to the MTU of the device it is given (the
role gives tunl0), and what it must tell apart - full-size packets crossing, refused with "fragmentation needed",
or silently lost (an MTU black hole) - happens on any routed path."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from ansible_collections.k8snet.calico.plugins.plugin_utils._probe import probe_verdict

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("ping"),
                                reason="needs root, iproute2 and iputils ping")

PROBE = Path(__file__).resolve().parents[2] / "roles" / "ipip" / "files" / "probe.sh"
FAR = "10.39.3.75"


@pytest.fixture
def path():
    """node (uplink 'up0', MTU 1500) -- router -- far node (link MTU 1400); returns run(ns, *argv)."""
    tag = uuid.uuid4().hex[:6]
    node, router, far = ("k8snet-pr%s-%s" % (role, tag) for role in ("n", "r", "f"))
    steps = [
        ["netns", "add", node], ["netns", "add", router], ["netns", "add", far],
        ["link", "add", "up0", "netns", node, "type", "veth", "peer", "name", "ra", "netns", router],
        ["link", "add", "rb", "netns", router, "type", "veth", "peer", "name", "eth0", "netns", far],
        ["-n", node, "addr", "add", "10.39.0.110/24", "dev", "up0"], ["-n", node, "link", "set", "up0", "up"],
        ["-n", router, "addr", "add", "10.39.0.1/24", "dev", "ra"], ["-n", router, "link", "set", "ra", "up"],
        ["-n", router, "link", "set", "rb", "mtu", "1400"],
        ["-n", router, "addr", "add", "10.39.3.1/24", "dev", "rb"], ["-n", router, "link", "set", "rb", "up"],
        ["-n", far, "link", "set", "eth0", "mtu", "1400"],
        ["-n", far, "addr", "add", FAR + "/24", "dev", "eth0"], ["-n", far, "link", "set", "eth0", "up"],
        ["-n", node, "route", "add", "default", "via", "10.39.0.1"],
        ["-n", far, "route", "add", "default", "via", "10.39.3.1"],
    ]

    def run(ns, *argv, check=True):
        return subprocess.run(["ip", "netns", "exec", ns, *argv], check=check, capture_output=True, text=True,
                              timeout=120)

    try:
        for step in steps:
            subprocess.run(["ip", *step], check=True, capture_output=True)
        run(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        yield {"node": node, "router": router, "far": far, "run": run}
    finally:
        for ns in (node, router, far):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def probe(path, device, *addresses):
    out = path["run"](path["node"], "sh", "-c", PROBE.read_text(), "probe", device, *addresses)
    return out.stdout.splitlines()


def judged(lines, addresses):
    return probe_verdict({"host": "node1", "ok": True, "problems": [], "warnings": []}, list(addresses), lines)


def test_full_size_refused_by_the_path_with_frag_needed(path):
    # up0 says 1500, the path carries 1400 and says so: TCP adapts, a warning, not a black hole
    lines = probe(path, "up0", FAR)
    assert lines == ["mtu 1500", "ok too-big:1400 refused:1400"]
    verdict = judged(lines, [FAR])
    assert verdict["ok"] is True and [w["name"] for w in verdict["warnings"]] == ["path_mtu_below_tunnel"]


def test_an_mtu_black_hole_is_a_problem(path):
    # the router drops its own "fragmentation needed": full-size packets vanish, small ones pass (one more than
    # up0's MTU is still refused here, by this node's own kernel)
    path["run"](path["router"], "iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type", "fragmentation-needed",
                "-j", "DROP")
    lines = probe(path, "up0", FAR)
    assert lines == ["mtu 1500", "ok silent refused:1500"]
    verdict = judged(lines, [FAR])
    assert verdict["ok"] is False and "an MTU black hole" in verdict["problems"][0]


def test_a_device_sized_to_the_path_carries_full_size_and_refuses_one_more(path):
    path["run"](path["node"], "ip", "link", "set", "up0", "mtu", "1400")
    lines = probe(path, "up0", FAR, "10.39.0.1")
    assert lines == ["mtu 1400", "ok ok refused:1400", "ok ok refused:1400"]
    verdict = judged(lines, [FAR, "10.39.0.1"])
    assert verdict["ok"] is True and verdict["warnings"] == [] and verdict["problems"] == []


def test_nothing_passes(path):
    # the router forwards nothing to the far subnet (as when IP protocol 4 is dropped for tunnel traffic)
    path["run"](path["router"], "iptables", "-A", "FORWARD", "-d", FAR, "-j", "DROP")
    lines = probe(path, "up0", FAR, "10.39.0.1")
    assert lines[0] == "mtu 1500" and lines[1].startswith("silent ") and lines[2] == "ok ok refused:1500"
    verdict = judged(lines, [FAR, "10.39.0.1"])
    assert verdict["ok"] is False and verdict["probe"] == {FAR: "no reply", "10.39.0.1": "ok"}


def test_without_the_device_only_small_pings(path):
    lines = probe(path, "tunl0", FAR)   # no tunl0 in this namespace
    assert lines == ["mtu -", "ok - -"]
    verdict = judged(lines, [FAR])
    assert verdict["ok"] is True and "probe_mtu" not in verdict


def test_an_address_not_reached_through_the_device_is_not_sized_to_it(path):
    # as a CrossSubnet peer in this node's subnet: reached on the uplink, not through the tunnel device (here lo)
    lines = probe(path, "lo", FAR)
    assert lines == ["mtu 65536", "ok direct direct"]
    verdict = judged(lines, [FAR])
    assert verdict["ok"] is True and verdict["warnings"] == []
    assert verdict["probe_mtu"]["full_size"] == {FAR: "direct"}
