"""The pre-change tunnel test's node side (roles/ipip/files/tunnel_test.sh) in a network namespace this test makes,
judged by the tunnel test's verdict as the role does. This machine's kernel has no ipip driver, so here the setup
fails the way it fails on such a node ("Unknown device type"), which must never pass for a working tunnel; the
tunnels coming up and protocol 4 passing or not are proved in the lab (extensions/molecule/faults and crosssubnet),
whose kernel has the driver."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from ansible_collections.k8snet.calico.plugins.plugin_utils._tunnel_test import tunnel_test_plan, tunnel_test_verdict

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"), reason="needs root and iproute2")

SCRIPT = Path(__file__).resolve().parents[2] / "roles" / "ipip" / "files" / "tunnel_test.sh"
NODES = [{"host": "node1", "address": "10.39.0.110", "subnet": "10.39.0.0/24"},
         {"host": "node2", "address": "10.39.3.75", "subnet": "10.39.3.0/24"}]


@pytest.fixture
def node():
    name = "k8snet-tt-%s" % uuid.uuid4().hex[:6]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def step(ns, *args, check=True):
    return subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", SCRIPT.read_text(), "tunnel_test", *args],
                          check=check, capture_output=True, text=True, timeout=60)


def links(ns):
    return subprocess.run(["ip", "-n", ns, "-o", "link", "show"], check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(not shutil.which("iptables-save"), reason="needs iptables")
def test_the_firewall_read_names_a_rule_that_drops_protocol_4(node):
    subprocess.run(["ip", "netns", "exec", node, "iptables", "-A", "INPUT", "-p", "4", "-j", "DROP"], check=True)
    plan = tunnel_test_plan(NODES, "198.18.0.0/24", ["192.168.0.0/16"], "CrossSubnet")
    firewall = step(node, "firewall").stdout
    verdict = tunnel_test_verdict(plan, {"node1": ["ok"], "node2": ["ok"]}, {"node1": ["ok"], "node2": ["ok"]},
                                  {"node1": firewall})
    rules = verdict["firewall_rules"]["node1"]
    # where nft is installed too it shows the same rule as iptables-nft made it (meta l4proto ipencap ... drop)
    assert "-A INPUT -p ipencap -j DROP" in rules and all("ipencap" in rule for rule in rules)


def test_a_setup_that_fails_is_named_and_leaves_nothing(node):
    plan = tunnel_test_plan(NODES, "198.18.0.0/24", ["192.168.0.0/16"], "CrossSubnet")
    tunnel = plan["tunnels"]["node1"][0]
    # a tunnel an interrupted earlier run left behind (a veth of that name: what counts is the name)
    subprocess.run(["ip", "-n", node, "link", "add", "k8snet-t7", "type", "veth", "peer", "name", "left-peer"],
                   check=True)
    setup = step(node, "setup", tunnel["name"], tunnel["local"], tunnel["remote"], tunnel["address"], tunnel["peer"])
    assert "k8snet-t7" not in links(node)                      # removed before the setup
    lines = setup.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("setup failed: ")
    pings = step(node, "ping", tunnel["peer"]).stdout.splitlines()
    assert pings == ["no reply"]
    assert step(node, "cleanup").stdout == ""                  # nothing of the test left
    assert "k8snet-t" not in links(node)
    verdict = tunnel_test_verdict(plan, {"node1": lines, "node2": ["ok"]}, {"node1": pings, "node2": ["ok"]}, {})
    assert verdict["ok"] is False
    assert verdict["pairs"][0]["outcomes"]["node1"] == lines[0].strip()
    assert "Nothing was written" in verdict["message"]


def test_an_unknown_step_is_refused(node):
    out = step(node, "teardown", check=False)
    assert out.returncode == 2 and "unknown step 'teardown'" in out.stderr
