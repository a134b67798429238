"""node_routes_info in offline mode, run through the module's main() as Ansible would."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from ansible_collections.k8snet.calico.tests.unit.module_args import patch_module_args

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from iproute_fixtures import capture  # noqa: E402

from ansible_collections.k8snet.calico.plugins.modules import node_routes_info  # noqa: E402


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            node_routes_info.main()
    return json.loads(capsys.readouterr().out)


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
    (dict(routes='[{"dst": "pod-net", "gateway": "10.39.0.1"}]'), "destination 'pod-net/32' is not"),
    (dict(routes="10.0.0.0/8 via 10.0.0.300 dev eth0\n"), "gateway '10.0.0.300' of route 10.0.0.0/8"),
])
def test_bad_input_fails_with_a_named_message(capsys, args, message):
    result = run(capsys, **args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert "Traceback" not in result["msg"]


def test_links_need_routes(capsys):
    result = run(capsys, links=capture("seed-after.addr.txt"))
    assert result["failed"] is True and "routes" in result["msg"]
