"""Report rendering: the table people read and the JUnit XML CI reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_report_junit import ipip_report_junit
from ansible_collections.k8snet.calico.plugins.filter.ipip_report_table import ipip_report_table
from ansible_collections.k8snet.calico.plugins.plugin_utils._verdict import workload_mtu_warnings

VERDICT = {
    "ok": False,
    "nodes": [
        {"host": "node1", "node": "node1", "subnet": "10.39.0.0/24", "ok": False, "problems": [],
         "tunnel": {"exists": False}, "blocks_ok": 0, "blocks_bad": 1,
         "blocks": [{"block": "192.168.169.192/26", "cause": "via_gateway",
                     "detail": "next hop 10.39.0.1 is the default gateway, not node node2 (10.39.3.75)"}],
         "first_bad": {"block": "192.168.169.192/26", "cause": "via_gateway",
                       "detail": "next hop 10.39.0.1 is the default gateway, not node node2 (10.39.3.75)"}},
        {"host": "node2", "node": "node2", "subnet": "10.39.3.0/24", "ok": True, "problems": [],
         "tunnel": {"exists": True, "kind": "ipip", "up": True, "mtu": 1480, "addresses": ["192.168.169.193/32"]},
         "blocks_ok": 1, "blocks_bad": 0, "blocks": [], "first_bad": None},
    ],
}


def test_table():
    lines = ipip_report_table(VERDICT, title="before", unreachable=["node3"]).splitlines()
    assert lines[0] == "before"
    assert lines[1].split() == ["node", "subnet", "tunnel", "blocks", "ok", "blocks", "bad", "first", "bad", "route",
                                "cause"]
    assert lines[3].startswith("node1") and "192.168.169.192/26 (next hop 10.39.0.1" in lines[3]
    assert lines[3].endswith("via_gateway") and "absent" in lines[3]
    assert "ipip UP mtu 1480 192.168.169.193/32" in lines[4] and lines[4].endswith("ok")
    assert lines[5].split()[0] == "node3" and lines[5].endswith("unreachable")


def test_junit():
    root = ET.fromstring(ipip_report_junit(VERDICT, unreachable=["node3"]))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = dict((c.get("name"), c) for c in suite.findall("testcase"))
    failure = cases["node1 (node1)"].find("failure")
    assert failure.get("type") == "via_gateway"
    assert "192.168.169.192/26: via_gateway" in failure.text
    assert cases["node2 (node2)"].find("failure") is None
    assert cases["node3 (node3)"].find("failure").get("type") == "unreachable"


@pytest.mark.parametrize("render", [ipip_report_table, ipip_report_junit])
def test_input_must_be_a_verdict(render):
    with pytest.raises(AnsibleFilterError, match="must be a verdict dict"):
        render("nope")


def test_junit_out_of_scope_blocks_are_warnings_not_failures():
    """Blocks of pools the run did not change (in_scope false) never fail a node's test case; they are listed in
    its system-out, and a failing node's failure lists only its in-scope routes."""
    outside = {"block": "172.20.80.0/26", "pool": "extra-pool", "in_scope": False, "cause": "via_gateway",
               "detail": "next hop 10.39.0.1 is the default gateway, not node node3 (10.39.0.111)"}
    verdict = {"ok": False, "nodes": [
        dict(VERDICT["nodes"][0], blocks=VERDICT["nodes"][0]["blocks"] + [outside]),
        dict(VERDICT["nodes"][1], blocks=[outside], blocks_bad_out_of_scope=1,
             problems_out_of_scope=["tunl0 is down"]),
    ]}
    cases = dict((c.get("name"), c) for c in ET.fromstring(ipip_report_junit(verdict)).iter("testcase"))
    failing, passing = cases["node1 (node1)"], cases["node2 (node2)"]
    assert failing.find("failure").get("message") == "1 bad route(s), 0 tunnel problem(s)"
    assert "172.20.80.0/26" not in failing.find("failure").text
    assert "172.20.80.0/26 (pool extra-pool): via_gateway" in failing.find("system-out").text
    assert passing.find("failure") is None
    assert passing.find("system-out").text.splitlines() == [
        "outside the run's pools: 172.20.80.0/26 (pool extra-pool): via_gateway (next hop 10.39.0.1 is the default "
        "gateway, not node node3 (10.39.0.111))",
        "outside the run's pools: tunnel: tunl0 is down"]


# As ipip_verdict makes it: 7 pods made at 1500 before the tunnel (1480) was up.
MTU_WARNING = workload_mtu_warnings({"tunnel": {"exists": True, "mtu": 1480},
                                     "workloads": [{"name": "cali%d" % i, "mtu": 1500} for i in range(7)]}, True)[0]


def test_workload_mtu_warning_in_the_table_and_the_junit():
    verdict = {"nodes": [{"host": "node1", "node": "node1", "subnet": "10.39.0.0/24", "ok": True, "blocks_ok": 1,
                          "blocks_bad": 0, "blocks": [], "warnings": [MTU_WARNING]}]}
    table = ipip_report_table(verdict)
    assert ("node1: workload_mtu_above_tunnel: 7 pod interface(s) with MTU up to 1500 above the tunnel's 1480 "
            "(cali0, cali1, cali2, cali3, cali4 and 2 more); restart those pods") in table
    out = ET.fromstring(ipip_report_junit(verdict)).find("testsuite/testcase/system-out").text
    assert "workload_mtu_above_tunnel: 7 pod interface(s)" in out
    assert ET.fromstring(ipip_report_junit(verdict)).find("testsuite/testcase/failure") is None
