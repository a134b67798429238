"""The `calicoctl` datastore backend, run by the modules through module.run_command against a calicoctl STAND-IN
(tests/functional/calicoctl_standin.py; no calicoctl binary can be installed here) that prints real output shapes
(the seed's v1 `ipPool` list, a v3 `IPPoolList`) and records every argv and stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, run_ansible, run_module

STANDIN = Path(__file__).resolve().parent / "calicoctl_standin.py"


def sample(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def calicoctl(tmp_path, monkeypatch):
    """An executable `calicoctl` on PATH (a two-line launcher of the stand-in) and its state file."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    launcher = bindir / "calicoctl"
    launcher.write_text("#!%s\nimport runpy\nrunpy.run_path(%r, run_name='__main__')\n" % (sys.executable, str(STANDIN)))
    launcher.chmod(0o755)
    state = tmp_path / "state.json"
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, __import__("os").environ["PATH"]))
    monkeypatch.setenv("CALICOCTL_STANDIN_STATE", str(state))

    class Ctl:
        path = str(launcher)

        def seed(self, api, pools, felix=None, **flags):
            state.write_text(json.dumps(dict({"api": api, "pools": pools, "felix": felix, "nodes": []}, **flags)))

        def state(self):
            return json.loads(state.read_text())

        def calls(self):
            log = Path(str(state) + ".log")
            return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return Ctl()


def test_seed_v1_pool_gets_ipip_always(calicoctl, capsys):
    """Issue 3 'Done when': the seed's own calicoctl v1 pool JSON is read and reads back as Always after the change."""
    calicoctl.seed("v1", sample("calicoctl-v1-ippool-list.json"))
    info = run_module("ippool_info", {"datastore": "calicoctl"}, capsys=capsys)
    assert [(p["name"], p["ipip_mode"], p["format"]) for p in info["pools"]] == [("192.168.0.0/16", "Never", "v1-api")]
    assert info["felix"] is None  # calicoctl v1 sets IpInIpEnabled itself when it applies an IPIP pool

    result = run_module("ippool", {"datastore": "calicoctl", "cidr": "192.168.0.0/16", "ipip_mode": "Always"}, capsys=capsys)
    assert result["changed"] is True
    replace = [c for c in calicoctl.calls() if "replace" in c["argv"]]
    assert [c["argv"][1:] for c in replace] == [["replace", "-f", "-"]]
    assert json.loads(replace[0]["stdin"]) == {"kind": "ipPool", "apiVersion": "v1", "metadata": {"cidr": "192.168.0.0/16"},
                                               "spec": {"nat-outgoing": True, "ipip": {"enabled": True, "mode": "always"}}}
    after = run_module("ippool_info", {"datastore": "calicoctl"}, capsys=capsys)
    assert after["pools"][0]["ipip_mode"] == "Always"
    again = run_module("ippool", {"datastore": "calicoctl", "cidr": "192.168.0.0/16", "ipip_mode": "always"}, capsys=capsys)
    assert again["changed"] is False


def test_argv_is_a_list_with_config_and_names_never_reach_it(calicoctl, tmp_path, capsys):
    calicoctl.seed("v1", sample("calicoctl-v1-ippool-list.json"))
    config = str(tmp_path / "calicoctl.cfg")
    result = run_module("ippool", {"datastore": "calicoctl", "calicoctl_path": calicoctl.path, "calicoctl_config": config,
                                   "name": "$(touch /tmp/pwned); `id`", "ipip_mode": "Always"}, capsys=capsys)
    assert result["failed"] is True and "$(touch /tmp/pwned)" in result["msg"] and "192.168.0.0/16" in result["msg"]
    assert [c["argv"][1:] for c in calicoctl.calls()] == [["--config", config, "get", "ippool", "-o", "json"]]


def test_v3_replace_carries_resource_version_and_retries_update_conflict(calicoctl, capsys):
    pools = sample("calicoctl-v3-ippool-list.json")["items"]
    calicoctl.seed("v3", pools, conflict_once=True)
    result = run_module("ippool", {"datastore": "calicoctl", "name": "default-ipv4-ippool", "ipip_mode": "CrossSubnet"},
                        capsys=capsys)
    assert result["changed"] is True and result["conflicts"] == 1
    sent = [json.loads(c["stdin"]) for c in calicoctl.calls() if "replace" in c["argv"]]
    assert [s["metadata"]["resourceVersion"] for s in sent] == ["1201", "1202"]
    (pool,) = calicoctl.state()["pools"]
    assert pool["spec"]["ipipMode"] == "CrossSubnet" and pool["spec"]["disabled"] is True  # the other change survived


def test_v3_fix_felix(calicoctl, capsys):
    felix = sample("kdd-felixconfiguration-kubespray.json")
    felix["apiVersion"] = "projectcalico.org/v3"
    calicoctl.seed("v3", sample("calicoctl-v3-ippool-list.json")["items"], felix=felix)
    info = run_module("ippool_info", {"datastore": "calicoctl"}, capsys=capsys)
    assert [t["name"] for t in info["traps"]] == ["felix_ipip_disabled"]
    run_module("ippool", {"datastore": "calicoctl", "name": "default-ipv4-ippool", "ipip_mode": "Always",
                          "fix_felix_ipip": True}, capsys=capsys)
    assert calicoctl.state()["felix"]["spec"]["ipipEnabled"] is True


def test_non_json_output_is_reported_with_the_command(calicoctl, capsys):
    calicoctl.seed("v3", [], garbage=True)
    result = run_module("ippool_info", {"datastore": "calicoctl"}, capsys=capsys)
    assert result["failed"] is True
    assert "get ippool -o json" in result["msg"] and "not JSON" in result["msg"] and "Traceback" not in result["msg"]


def test_missing_binary(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_module("ippool_info", {"datastore": "calicoctl"}, capsys=capsys)
    assert result["failed"] is True and "calicoctl was not found" in result["msg"]


def test_through_real_ansible(calicoctl):
    calicoctl.seed("v1", sample("calicoctl-v1-ippool-list.json"))
    result, _out = run_ansible("ippool", {"datastore": "calicoctl", "calicoctl_path": calicoctl.path,
                                          "cidr": "192.168.0.0/16", "ipip_mode": "cross-subnet"})
    assert result["changed"] is True
    assert calicoctl.state()["pools"][0]["spec"]["ipip"] == {"enabled": True, "mode": "cross-subnet"}
