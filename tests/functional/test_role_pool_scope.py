"""Issue 12, items 1 and 2, through the real enable_ipip.yml: pools the run does not change are neither written nor
judged against the new mode, and VXLAN pools are not switched to IPIP unless asked.

Nodes are the network namespaces of _reliability_env.py (the incident's real kernel tables, read by the real
node_routes_info through Ansible), shaped further here: a third Calico node (node3, in node1's subnet, known only to
the datastore) whose block node1 reaches directly and node2 via its gateway, and a VXLAN pool whose routes go
through a real ``vxlan.calico`` device, onlink, as Felix programs them. The datastore is the suite's real etcd.

This kernel may have no ``ipip`` driver (then no real tunl0 can exist in a namespace): the pool this run changes
therefore holds no blocks, so verification needs no tunnel and judges only route tables, the untouched pools'.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from _reliability_env import AFFINITY, NODE_PREFIX, Cluster, can_make_namespaces, etcd_dump, run_playbook, seed_cluster
from conftest import POOL_KEY, POOL_TEXT, POOLS, node_text

pytestmark = pytest.mark.skipif(not can_make_namespaces(), reason="needs root, iproute2 and /usr/bin/python3")

TARGET_KEY = POOLS + "ipip-pool"
VXLAN_KEY = POOLS + "vxlan-pool"
ENABLE_TASK = "TASK [k8snet.calico.ipip : Set the IPIP mode on each chosen pool]"
REFUSAL_TASK = "TASK [k8snet.calico.ipip : Refuse to switch pools from VXLAN to IPIP unless ipip_replace_vxlan is true]"


def pool_text(name, cidr, vxlan_mode="Never"):
    return json.dumps({
        "kind": "IPPool", "apiVersion": "projectcalico.org/v3",
        "metadata": {"name": name, "uid": "7a1c0000-0000-4000-8000-0000000000%02d" % len(name),
                     "creationTimestamp": "2026-10-01T08:00:00Z"},
        "spec": {"cidr": cidr, "vxlanMode": vxlan_mode, "ipipMode": "Never", "natOutgoing": True, "blockSize": 26,
                 "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"]}}, separators=(",", ":"))


@pytest.fixture
def nodes(tmp_path):
    (tmp_path / "cluster").mkdir()
    with Cluster.made(tmp_path / "cluster") as cluster:
        yield cluster


def by_host(verdict):
    return {n["host"]: n for n in verdict["nodes"]}


def blocks(node):
    return {b["block"]: (b["pool"], b["in_scope"], b["mode"], b["vxlan_mode"], b["cause"]) for b in node["blocks"]}


def inventory(nodes, etcd, report, **extra):
    vars_ = {"ipip_report_dir": str(report), "ipip_verify_timeout": 4, "ipip_verify_interval": 1}
    vars_.update(extra)
    return nodes.inventory({"datastore": "etcdv3", "etcd_endpoints": [etcd.url]}, vars_,
                           name="inventory-%s.json" % report.name)


def test_untouched_pools_are_not_written_and_judged_by_their_own_mode(etcd, nodes, tmp_path):
    raw = etcd.raw
    seed_cluster(raw)  # default-ipv4-ippool 192.168.0.0/16, no IPIP: node1's and node2's blocks, the incident
    raw.put(TARGET_KEY, pool_text("ipip-pool", "10.250.0.0/16"))  # the pool this run changes (no blocks yet)
    raw.put(VXLAN_KEY, pool_text("vxlan-pool", "172.16.0.0/16", "CrossSubnet"))  # untouched, VXLAN
    raw.put(NODE_PREFIX + "node3", node_text("node3", "10.39.0.111/24"))
    raw.put(AFFINITY % ("node3", "192.168.80.0-26"), '{"state":"confirmed","deleted":false}')
    vxlan_blocks = {"node1": "172.16.70.0/26", "node2": "172.16.169.192/26", "node3": "172.16.80.0/26"}
    for name, block in vxlan_blocks.items():
        raw.put(AFFINITY % (name, block.replace("/", "-")), '{"state":"confirmed","deleted":false}')
    node1, node2 = nodes.nodes
    # node3's block of the untouched no-encapsulation pool: direct from node1 (same subnet), via node2's gateway
    node1.ip_cmd("route", "add", "192.168.80.0/26", "via", "10.39.0.111", "dev", "eth0", "proto", "bird")
    node2.ip_cmd("route", "add", "192.168.80.0/26", "via", node2.gateway, "dev", "eth0", "proto", "bird")
    # the VXLAN pool as Felix programs it (felix/calc/l3_route_resolver.go): via the owner's VXLAN tunnel address on
    # vxlan.calico, onlink; CrossSubnet, so node3 (node1's subnet) directly from node1
    for node, address in ((node1, "172.16.70.0/32"), (node2, "172.16.169.192/32")):
        node.ip_cmd("link", "add", "vxlan.calico", "type", "vxlan", "id", "4096", "dstport", "4789", "dev", "eth0")
        node.ip_cmd("link", "set", "vxlan.calico", "mtu", "1450", "up")
        node.ip_cmd("addr", "add", address, "dev", "vxlan.calico")
        node.ip_cmd("route", "add", "blackhole", vxlan_blocks[node.name], "proto", "80")
    node1.ip_cmd("route", "add", "172.16.169.192/26", "via", "172.16.169.192", "dev", "vxlan.calico", "proto", "80",
                 "onlink")
    node1.ip_cmd("route", "add", "172.16.80.0/26", "via", "10.39.0.111", "dev", "eth0", "proto", "80")
    node2.ip_cmd("route", "add", "172.16.70.0/26", "via", "172.16.70.0", "dev", "vxlan.calico", "proto", "80",
                 "onlink")
    node2.ip_cmd("route", "add", "172.16.80.0/26", "via", "172.16.80.0", "dev", "vxlan.calico", "proto", "80",
                 "onlink")
    # and, per remote VTEP, the permanent ARP and FDB entry that sends its packets to the owner's address
    # (felix/dataplane/linux/vxlan_mgr.go)
    for node, vtep, mac, owner_ip in ((node1, "172.16.169.192", "66:c5:8e:27:41:02", node2.ip),
                                      (node2, "172.16.70.0", "66:c5:8e:27:41:01", node1.ip),
                                      (node2, "172.16.80.0", "66:c5:8e:27:41:03", "10.39.0.111")):
        node.ip_cmd("neigh", "add", vtep, "lladdr", mac, "dev", "vxlan.calico", "nud", "permanent")
        subprocess.run(["bridge", "-n", node.namespace, "fdb", "add", mac, "dev", "vxlan.calico", "dst", owner_ip,
                        "self", "permanent"], check=True)
    nodes.settle()
    before = etcd_dump(raw)

    report = tmp_path / "report"
    report.mkdir()
    rc, output, _log = run_playbook("enable_ipip.yml", inventory(nodes, etcd, report, ipip_rollback_on_failure=True),
                                    tmp_path, extra_vars={"ipip_pools": ["ipip-pool"]})
    assert "Traceback" not in output
    assert rc == 0, output[-5000:]

    # Only the named pool was written; the untouched pools keep their bytes and revisions, nothing else changed.
    after = etcd_dump(raw)
    assert json.loads(after[TARGET_KEY][0])["spec"]["ipipMode"] == "Always"
    assert int(after[TARGET_KEY][1]) > int(before[TARGET_KEY][1])
    assert {k: v for k, v in after.items() if k != TARGET_KEY} == {k: v for k, v in before.items() if k != TARGET_KEY}
    assert after[POOL_KEY] == before[POOL_KEY] and raw.get(POOL_KEY) == POOL_TEXT
    assert after[VXLAN_KEY] == before[VXLAN_KEY]

    data = json.loads((report / "report.json").read_text())
    assert data["rollback"] == {"performed": False}, data["rollback"]  # verification passed: nothing rolled back
    assert data["result"] == "ok" and data["verification"]["ok"] is True
    assert data["pools_changed"] == {"ipip-pool": True}
    assert [(t["name"], t["subject"]) for t in data["traps"] if t["name"] == "vxlan_pool"] == [
        ("vxlan_pool", "vxlan-pool")]
    verified = by_host(data["verification"])
    # every block judged by its own pool's mode: what the old single-mode verdict (Always) called wrong_device
    assert blocks(verified["node1"]) == {
        "192.168.80.0/26": ("default-ipv4-ippool", False, "Never", "Never", "ok"),
        "192.168.169.192/26": ("default-ipv4-ippool", False, "Never", "Never", "via_gateway"),
        "172.16.80.0/26": ("vxlan-pool", False, "Never", "CrossSubnet", "ok"),
        "172.16.169.192/26": ("vxlan-pool", False, "Never", "CrossSubnet", "ok"),
    }
    assert blocks(verified["node2"]) == {
        "192.168.70.0/26": ("default-ipv4-ippool", False, "Never", "Never", "via_gateway"),
        "192.168.80.0/26": ("default-ipv4-ippool", False, "Never", "Never", "via_gateway"),
        "172.16.70.0/26": ("vxlan-pool", False, "Never", "CrossSubnet", "ok"),
        "172.16.80.0/26": ("vxlan-pool", False, "Never", "CrossSubnet", "ok"),
    }
    for host, bad_out in (("node1", 1), ("node2", 2)):
        node = verified[host]
        assert (node["ok"], node["blocks_bad"], node["blocks_bad_out_of_scope"], node["problems"]) == (
            True, 0, bad_out, []), node
    # The diagnosis judges every pool: the untouched pool's incident is a failure there.
    diagnosis = by_host(data["diagnosis"])
    assert diagnosis["node1"]["ok"] is False and diagnosis["node1"]["first_bad"]["block"] == "192.168.169.192/26"
    assert all(b["in_scope"] for n in data["diagnosis"]["nodes"] for b in n["blocks"])
    text = (report / "report.txt").read_text()
    assert "warning: node1: 1 bad route(s) to blocks of pools this run did not change, first 192.168.169.192/26 " \
           "(pool default-ipv4-ippool): via_gateway" in text, text


def test_vxlan_pools_are_refused_before_any_write_and_replaced_when_asked(etcd, nodes, tmp_path):
    raw = etcd.raw
    seed_cluster(raw)
    raw.put(VXLAN_KEY, pool_text("vxlan-pool", "172.16.0.0/16", "Always"))  # kubespray's default: VXLAN Always
    before, revision = etcd_dump(raw), raw.revision()

    # A diagnosis never writes, so it does not refuse: it says which pools use VXLAN and judges the nodes.
    report = tmp_path / "diagnosis"
    report.mkdir()
    rc, output, _log = run_playbook("diagnose.yml", inventory(nodes, etcd, report), tmp_path)
    assert rc == 2, output[-3000:]  # unresolved: the nodes show the incident
    assert "Refusing" not in output and "Pools to change that use VXLAN: vxlan-pool" in output
    data = json.loads((report / "report.json").read_text())
    assert [t["subject"] for t in data["traps"] if t["name"] == "vxlan_pool"] == ["vxlan-pool"]
    assert etcd_dump(raw) == before

    # Every pool chosen (ipip_pools empty), the VXLAN one among them: refused, nothing written, not even the other
    # pool (each pool's write depends on the whole list).
    report = tmp_path / "refused"
    report.mkdir()
    rc, output, _log = run_playbook("enable_ipip.yml", inventory(nodes, etcd, report), tmp_path)
    assert "Traceback" not in output
    assert rc != 0, output[-3000:]
    assert etcd_dump(raw) == before and raw.revision() == revision
    assert not (report / "pool-backup.json").exists()
    assert REFUSAL_TASK in output and ENABLE_TASK not in output, output[-3000:]  # stopped before the pool task
    refusal = output.split(REFUSAL_TASK, 1)[1].split("\nTASK [", 1)[0]  # the refusal's own lines
    for fragment in ("Refusing to switch pools from VXLAN to IPIP: vxlan-pool (172.16.0.0/16, vxlanMode Always)",
                     "leave these pools out with ipip_pools", "set ipip_replace_vxlan: true", "Nothing was written"):
        assert fragment in refusal, output[-4000:]
    assert "changed: [" not in refusal
    # said already in preflight (also what a diagnosis shows)
    assert "Pools to change that use VXLAN: vxlan-pool (172.16.0.0/16, vxlanMode Always)" in output

    # Asked for: the VXLAN pool becomes IPIP (vxlanMode Never, Calico refuses both), the other pool is untouched.
    report = tmp_path / "replaced"
    report.mkdir()
    rc, output, _log = run_playbook("enable_ipip.yml", inventory(nodes, etcd, report, ipip_replace_vxlan=True),
                                    tmp_path, extra_vars={"ipip_pools": ["vxlan-pool"]})
    assert "Traceback" not in output
    assert rc == 0, output[-4000:]
    spec = json.loads(raw.get(VXLAN_KEY))["spec"]
    assert (spec["ipipMode"], spec["vxlanMode"]) == ("Always", "Never")
    after = etcd_dump(raw)
    assert {k: v for k, v in after.items() if k != VXLAN_KEY} == {k: v for k, v in before.items() if k != VXLAN_KEY}
    data = json.loads((report / "report.json").read_text())
    assert data["pools_changed"] == {"vxlan-pool": True} and data["result"] == "ok"
    assert [(p["ipip_mode"], p["vxlan_mode"]) for p in data["pools_after"]] == [("Always", "Never")]
