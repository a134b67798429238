"""node_routes_info in offline mode, run through the module's main() as Ansible would."""

from __future__ import annotations

import pytest

from ansible_collections.k8snet.calico.plugins.modules import node_routes_info
from ansible_collections.k8snet.calico.tests.unit.iproute_fixtures import capture
from ansible_collections.k8snet.calico.tests.unit.module_args import run_main


def run(capsys, **args):
    return run_main("node_routes_info", args, capsys)[0]


def test_offline_seed_before(capsys):
    result = run(capsys, pools=["192.168.0.0/16"], routes=capture("seed-report-before.routes.txt"))
    assert result["changed"] is False and "failed" not in result
    broken = [r for r in result["routes"] if r["kind"] == "via_gateway"]
    assert [r["dst"] for r in broken] == ["192.168.169.192/26"]
    assert result["default_gateway"] == "10.39.0.1"
    assert result["tunnel"]["exists"] is None
    assert result["source"] == {"mode": "offline", "routes": "text", "links": "none", "read_at": None}


def test_offline_with_addresses(capsys):
    result = run(capsys, pools=["192.168.0.0/16"], routes=capture("seed-after.routes.json"),
                 addresses=capture("seed-after.addr.json"))
    assert result["summary"]["tunnel"] == 1 and result["summary"]["via_gateway"] == 0
    assert result["tunnel"]["exists"] is True and result["tunnel"]["addresses"] == ["192.168.70.57/32"]
    assert result["uplink_mtu"] == 1500
    assert result["source"] == {"mode": "offline", "routes": "json", "links": "json", "read_at": None}


@pytest.mark.parametrize("args, message", [
    (dict(routes="garbage here\n"), "routes: line 1: 'garbage' is not a route destination"),
    (dict(routes="", pools=["10.0.0.1/8"]), "pools: '10.0.0.1/8' is not a pool CIDR"),
    (dict(routes="default via 10.0.0.1 dev eth0\n", addresses="nonsense\n"),
     "addresses: line 1 is not part of an interface block"),
    (dict(routes=" \n"), "routes: the capture is empty"),
    (dict(routes="192.168.1.0/33 via 10.39.0.1 dev eth0\n"), "destination '192.168.1.0/33' is not"),
    (dict(routes='[{"dst": "pod-net", "gateway": "10.39.0.1"}]'),
     "routes: JSON route 0 (pod-net): 'dst' is 'pod-net', not an IPv4 or IPv6 prefix"),
    (dict(routes="10.0.0.0/8 via 10.0.0.300 dev eth0\n"), "routes: line 1: 'via' is '10.0.0.300', not an IPv4"),
    (dict(routes="10.0.0.0/8 dev eth0 src 10.0.0.256\n"), "routes: line 1: 'src' is '10.0.0.256', not an IPv4"),
    (dict(routes='[{"dst": "10.0.0.0/8", "dev": 5}]'), "routes: JSON route 0 (10.0.0.0/8): 'dev' is 5, not a string"),
    (dict(routes="default via 10.0.0.1 dev eth0\n", addresses="1: eth0: <UP> mtu 15x00 state UP\n"),
     "addresses: line 1: 'mtu' is '15x00', not a whole number"),
    (dict(routes="[" * 100000 + "]" * 100000), "routes: output looks like JSON but is nested too deeply"),
])
def test_bad_input_fails_with_a_named_message(capsys, args, message):
    result = run(capsys, **args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert "Traceback" not in result["msg"]


def test_a_failure_judging_the_tables_is_a_message_not_a_traceback(capsys, monkeypatch):
    def broken(*_args):
        raise KeyError("gateway")
    monkeypatch.setattr(node_routes_info, "describe_node", broken)
    result = run(capsys, routes="default via 10.0.0.1 dev eth0\n")
    assert result["failed"] is True
    assert result["msg"].startswith("node_routes_info could not judge the parsed tables (KeyError: 'gateway')")
    assert "Traceback" not in result["msg"]  # (the traceback goes where Ansible shows it with -vvv)


def test_links_need_routes(capsys):
    result = run(capsys, links=capture("seed-after.addr.txt"))
    assert result["failed"] is True and "routes" in result["msg"]


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_offline_vxlan_tables(capsys, fmt):
    result = run(capsys, pools=["192.168.0.0/16"], routes=capture("vxlan-always.routes.%s" % fmt),
                 addresses=capture("vxlan-always.addr.%s" % fmt), neighbours=capture("vxlan-always.neigh.%s" % fmt),
                 fdb=capture("vxlan-always.fdb.%s" % fmt))
    vxlan = result["vxlan"]
    assert (vxlan["vni"], vxlan["port"], vxlan["mtu"]) == (4096, 4789, 1450)
    assert vxlan["neighbours"] == {"192.168.80.0": "66:c5:8e:27:41:03", "192.168.169.192": "66:c5:8e:27:41:02"}
    assert vxlan["fdb"] == {"66:c5:8e:27:41:03": ["10.39.0.111"], "66:c5:8e:27:41:02": ["10.39.3.75"]}


def test_offline_without_vxlan_tables_says_they_were_not_read(capsys):
    result = run(capsys, routes=capture("vxlan-always.routes.txt"), addresses=capture("vxlan-always.addr.txt"))
    assert (result["vxlan"]["neighbours"], result["vxlan"]["fdb"]) == (None, None)
