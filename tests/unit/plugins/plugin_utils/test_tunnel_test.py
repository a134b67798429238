"""The pre-change tunnel test's pure parts: which pairs test protocol 4 (tunnel_test_plan), how their outputs are
judged (tunnel_test_verdict), and which firewall rules drop protocol 4 (protocol4_drop_rules, on real captures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_tunnel_test_plan import ipip_tunnel_test_plan
from ansible_collections.k8snet.calico.plugins.filter.ipip_tunnel_test_verdict import ipip_tunnel_test_verdict
from ansible_collections.k8snet.calico.plugins.plugin_utils._tunnel_test import (
    TunnelTestInputError,
    protocol4_drop_rules,
    tunnel_test_plan,
    tunnel_test_verdict,
)

FIREWALL = Path(__file__).resolve().parents[2] / "fixtures" / "firewall"
POOLS = ["192.168.0.0/16"]
# The lab's layout, as the diagnosis gives it: node1 and node3 share 10.39.1.0/24, node2 is behind the router.
LAB = [
    {"host": "node1", "node": "node1", "address": "10.39.1.10", "subnet": "10.39.1.0/24"},
    {"host": "node2", "node": "node2", "address": "10.39.3.75", "subnet": "10.39.3.0/24"},
    {"host": "node3", "node": "node3", "address": "10.39.1.11", "subnet": "10.39.1.0/24"},
    {"host": "stray", "node": None, "ok": False},  # not matched to a Calico node: nothing to test it with
]


def test_crosssubnet_tests_one_pair_per_pair_of_subnets():
    plan = tunnel_test_plan(LAB, "198.18.0.0/24", POOLS, "CrossSubnet")
    assert plan["pairs"] == [{"index": 0, "name": "k8snet-t0", "hosts": ["node1", "node2"],
                              "subnets": ["10.39.1.0/24", "10.39.3.0/24"]}]
    assert plan["tunnels"] == {
        "node1": [{"name": "k8snet-t0", "local": "10.39.1.10", "remote": "10.39.3.75", "address": "198.18.0.0",
                   "peer": "198.18.0.1"}],
        "node2": [{"name": "k8snet-t0", "local": "10.39.3.75", "remote": "10.39.1.10", "address": "198.18.0.1",
                   "peer": "198.18.0.0"}]}


def test_always_also_tests_inside_each_subnet():
    plan = tunnel_test_plan(LAB, "198.18.0.0/24", POOLS, "Always")
    assert [p["hosts"] for p in plan["pairs"]] == [["node1", "node2"], ["node1", "node3"]]
    assert [t["name"] for t in plan["tunnels"]["node1"]] == ["k8snet-t0", "k8snet-t1"]
    assert plan["tunnels"]["node3"] == [{"name": "k8snet-t1", "local": "10.39.1.11", "remote": "10.39.1.10",
                                         "address": "198.18.0.3", "peer": "198.18.0.2"}]


def test_one_subnet_in_crosssubnet_has_nothing_to_test():
    plan = tunnel_test_plan([LAB[0], LAB[2]], "198.18.0.0/24", POOLS, "CrossSubnet")
    assert plan == {"pairs": [], "tunnels": {}}
    verdict = tunnel_test_verdict(plan, {}, {}, {})
    assert verdict["ok"] and verdict["summary"].startswith("No node pair to test")


@pytest.mark.parametrize("address_range, message", [
    ("", "ipip_preflight_tunnel_range: '' is not set"),
    (None, "ipip_preflight_tunnel_range: None is not set"),
    ("198.18.0.1/24", "'198.18.0.1/24' is not an IPv4 network in CIDR form"),
    ("fd00::/64", "'fd00::/64' is not IPv4"),
    ("192.168.128.0/24", "192.168.128.0/24 overlaps the pool 192.168.0.0/16"),
    ("10.39.0.0/16", "10.39.0.0/16 overlaps the node subnet 10.39.1.0/24"),
    ("198.18.0.0/32", "198.18.0.0/32 has 1 addresses; the test needs 4 (two per node pair, 2 pairs)"),
])
def test_a_bad_range_is_named(address_range, message):
    with pytest.raises(TunnelTestInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tunnel_test_plan(LAB, address_range, POOLS, "Always")
    with pytest.raises(AnsibleFilterError, match="^ipip_tunnel_test_plan: "):
        ipip_tunnel_test_plan(LAB, address_range, POOLS, "Always")


def test_bad_mode_and_nodes_are_named():
    with pytest.raises(TunnelTestInputError, match="ipip_mode: 'Never' is not one of Always, CrossSubnet"):
        tunnel_test_plan(LAB, "198.18.0.0/24", POOLS, "Never")
    with pytest.raises(TunnelTestInputError, match="nodes: .* is not a list of node verdicts"):
        tunnel_test_plan([LAB[0], "node2"], "198.18.0.0/24", POOLS, "Always")


PLAN = tunnel_test_plan(LAB, "198.18.0.0/24", POOLS, "Always")


def test_every_pair_answered_is_ok():
    verdict = tunnel_test_verdict(PLAN, {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]},
                                  {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]}, {})
    assert verdict["ok"] and verdict["pairs_failed"] == 0 and verdict["message"] == ""
    assert verdict["summary"] == ("IP protocol 4 passes between all 2 node pairs: node1 (10.39.1.0/24) <-> "
                                  "node2 (10.39.3.0/24); node1 (10.39.1.0/24) <-> node3 (10.39.1.0/24)")


def test_protocol_4_dropped_between_the_subnets_names_the_pair_and_what_to_open():
    verdict = tunnel_test_verdict(PLAN, {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]},
                                  {"node1": ["no reply", "ok"], "node2": ["no reply"], "node3": ["ok"]}, {})
    assert not verdict["ok"] and verdict["pairs_failed"] == 1
    assert [p["ok"] for p in verdict["pairs"]] == [False, True]
    assert verdict["pairs"][0]["outcomes"] == {"node1": "no reply", "node2": "no reply"}
    assert "node1 (10.39.1.0/24) <-> node2 (10.39.3.0/24): node1 no reply, node2 no reply" in verdict["message"]
    assert "protocol 94" in verdict["message"] and "security groups" in verdict["message"]
    assert "VXLAN" in verdict["message"] and verdict["message"].endswith("Nothing was written.")


def test_one_direction_silent_is_not_ok():
    verdict = tunnel_test_verdict(PLAN, {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]},
                                  {"node1": ["ok", "ok"], "node2": ["no reply"], "node3": ["ok"]}, {})
    assert not verdict["ok"] and verdict["pairs"][0]["outcomes"]["node2"] == "no reply"


@pytest.mark.parametrize("setups, pings, outcome", [
    ({"node1": ["ok", "ok"], "node3": ["ok"]}, {"node1": ["ok", "ok"], "node3": ["ok"]},
     "no outcome (the host did not answer or its output was cut short)"),        # node2 unreachable
    ({"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]}, {"node1": ["ok", "ok"], "node2": [], "node3": ["ok"]},
     "no outcome (the host did not answer or its output was cut short)"),        # ping output cut short
    ({"node1": ["ok", "ok"], "node2": ["setup failed: RTNETLINK answers: Operation not permitted "], "node3": ["ok"]},
     {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]},
     "setup failed: RTNETLINK answers: Operation not permitted"),
    ({"node1": ["ok", "ok"], "node2": None, "node3": ["ok"]}, {"node1": ["ok", "ok"], "node2": None, "node3": ["ok"]},
     "no outcome (the host did not answer or its output was cut short)"),
])
def test_a_missing_or_failed_end_is_never_ok(setups, pings, outcome):
    verdict = tunnel_test_verdict(PLAN, setups, pings, {})
    assert not verdict["ok"] and verdict["pairs"][0]["outcomes"]["node2"] == outcome


def test_bad_outputs_are_named():
    with pytest.raises(TunnelTestInputError, match="plan: .* is not a tunnel test plan"):
        tunnel_test_verdict({"pairs": "x"}, {}, {}, {})
    with pytest.raises(TunnelTestInputError, match="pings: 'x' is not a mapping"):
        tunnel_test_verdict(PLAN, {}, "x", {})
    broken = {"pairs": PLAN["pairs"], "tunnels": {"node1": PLAN["tunnels"]["node1"]}}
    with pytest.raises(TunnelTestInputError, match="plan: pair 'k8snet-t0' has no tunnel on host 'node2'"):
        tunnel_test_verdict(broken, {}, {}, {})
    with pytest.raises(AnsibleFilterError, match="^ipip_tunnel_test_verdict: "):
        ipip_tunnel_test_verdict(PLAN, [], {}, {})


def test_iptables_save_rules_that_drop_protocol_4():
    rules = protocol4_drop_rules((FIREWALL / "iptables-save-protocol4.txt").read_text())
    # not `-p ipip` (94), not `! -p ipencap` (everything else), not the ACCEPT
    assert rules == ["-A INPUT -p ipencap -j DROP",
                     "-A FORWARD -s 10.39.3.0/24 -p ipencap -j REJECT --reject-with icmp-host-prohibited",
                     '-A KUBE-FIREWALL -p ipencap -m comment --comment "no ipip" -j DROP']


def test_nft_rules_that_drop_protocol_4():
    rules = protocol4_drop_rules((FIREWALL / "nft-list-ruleset-protocol4.txt").read_text())
    assert rules == ["ip protocol ipencap drop", "meta l4proto ipencap counter packets 0 bytes 0 reject",
                     "ip saddr 10.39.3.0/24 ip protocol { ipencap, tcp } drop"]


def test_firewall_rules_are_named_in_the_refusal_and_as_warnings_when_the_pings_passed():
    firewall = {"node2": (FIREWALL / "iptables-save-protocol4.txt").read_text(), "node1": ""}
    failed = tunnel_test_verdict(PLAN, {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]},
                                 {"node1": ["no reply", "ok"], "node2": ["no reply"], "node3": ["ok"]}, firewall)
    assert list(failed["firewall_rules"]) == ["node2"]
    assert "node2's firewall drops IP protocol 4: -A INPUT -p ipencap -j DROP | " in failed["message"]
    passed = tunnel_test_verdict(PLAN, {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]},
                                 {"node1": ["ok", "ok"], "node2": ["ok"], "node3": ["ok"]}, firewall)
    assert passed["ok"] and passed["warnings"][0].startswith("node2's firewall drops IP protocol 4: ")
    with pytest.raises(TunnelTestInputError, match="firewall: 5 is not the text"):
        protocol4_drop_rules(5)
