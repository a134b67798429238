"""The `kubernetes` datastore backend through the official `kubernetes` client, against the Kubernetes API STAND-IN
(tests/functional/k8s_standin.py: no API server can be installed here). Objects are the shared samples."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_ansible, run_module
from k8s_standin import KubeAPIStandIn

TOKEN = "standin-token-0123456789abcdef"
CRD = ("crd.projectcalico.org", "v1")
V3 = ("projectcalico.org", "v3")
OPERATOR = ("operator.tigera.io", "v1")


def sample(name):
    return json.loads((FIXTURES / name).read_text())


def make_api(groups):
    api = KubeAPIStandIn(TOKEN, groups)
    api.put_object(*CRD, "ippools", sample("kdd-ippool-crd.json"))
    api.put_object(*CRD, "felixconfigurations", sample("kdd-felixconfiguration-kubespray.json"))
    api.put_object(*CRD, "blockaffinities", sample("kdd-blockaffinity.json"))
    if OPERATOR in groups:
        api.put_object(*OPERATOR, "installations", sample("operator-installation.json"))
    api.nodes = [
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node1", "annotations": {
            "projectcalico.org/IPv4Address": "10.0.1.5/24", "projectcalico.org/IPv4IPIPTunnelAddr": "192.168.70.1"}}},
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node2", "annotations": {
            "projectcalico.org/IPv4Address": "10.0.2.7/32"}}},
    ]
    return api


@pytest.fixture
def api():
    server = make_api([CRD, OPERATOR])
    yield server
    server.stop()


def k8s_args(api, **extra):
    args = {"datastore": "kubernetes", "host": api.url, "api_key": TOKEN}
    args.update(extra)
    return args


def crd_pool(api):
    return api.get_object(*CRD, "ippools", "default-ipv4-ippool")


def test_info_reads_everything_and_names_traps(api, capsys):
    info = run_module("ippool_info", k8s_args(api), capsys=capsys)
    (pool,) = info["pools"]
    assert (pool["name"], pool["ipip_mode"], pool["format"], pool["key"]) == (
        "default-ipv4-ippool", "Never", "crd", "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool")
    assert info["felix"]["ipip_enabled"] is False
    assert info["operator"]["installation"] == "/apis/operator.tigera.io/v1/installations/default"
    assert info["operator"]["pools"][0]["encapsulation"] == "None"
    assert info["block_affinities"] == [{"node": "node1", "cidr": "192.168.70.0/26", "state": "confirmed"}]
    assert {n["name"]: n["ipv4_prefix_length"] for n in info["nodes"]} == {"node1": 24, "node2": 32}
    assert {t["name"] for t in info["traps"]} == {"felix_ipip_disabled", "node_address_slash32"}


def test_change_is_a_resource_version_update_then_idempotent(api, capsys):
    result = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="CrossSubnet", vxlan_mode="Never",
                                           fix_felix_ipip=True), capsys=capsys)
    assert result["changed"] is True
    assert api.writes() == [("PUT", "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool"),
                            ("PUT", "/apis/crd.projectcalico.org/v1/felixconfigurations/default")]
    stored = crd_pool(api)
    assert stored["spec"]["ipipMode"] == "CrossSubnet"
    before = sample("kdd-ippool-crd.json")
    assert {k: v for k, v in stored["spec"].items() if k != "ipipMode"} == {
        k: v for k, v in before["spec"].items() if k != "ipipMode"}
    assert api.get_object(*CRD, "felixconfigurations", "default")["spec"]["ipipEnabled"] is True
    again = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="CrossSubnet", fix_felix_ipip=True),
                       capsys=capsys)
    assert again["changed"] is False and len(api.writes()) == 2
    back = run_module("ippool", k8s_args(api, restore=result["previous"]), capsys=capsys)
    assert back["changed"] is True and crd_pool(api)["spec"] == before["spec"]


def test_check_mode_sends_no_write(api, capsys):
    result = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), check=True, capsys=capsys)
    assert result["changed"] is True and api.writes() == []


def test_409_conflict_is_retried_from_a_fresh_read(api, capsys):
    """Another writer changes the pool between our read and our PUT: the stand-in answers 409, we re-read, and
    the other writer's change survives."""
    hit = []

    def concurrent_writer(method, path):
        if method == "PUT" and not hit:
            hit.append(path)
            other = crd_pool(api)
            other["spec"]["disabled"] = True
            api.put_object(*CRD, "ippools", other)

    api.before_write = concurrent_writer
    result = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert result["conflicts"] == 1
    stored = crd_pool(api)
    assert stored["spec"]["ipipMode"] == "Always" and stored["spec"]["disabled"] is True


def test_legacy_spec_ipip_needs_strip(api, capsys):
    legacy = crd_pool(api)
    legacy["spec"]["ipip"] = {"enabled": False}
    legacy["spec"]["nat-outgoing"] = True
    api.put_object(*CRD, "ippools", legacy)
    refused = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert refused["failed"] is True and "strip_legacy_ipip" in refused["msg"] and api.writes() == []
    done = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always", strip_legacy_ipip=True),
                      capsys=capsys)
    spec = crd_pool(api)["spec"]
    assert done["changed"] is True
    assert "ipip" not in spec and "nat-outgoing" not in spec and spec["ipipMode"] == "Always" and spec["natOutgoing"] is True


def test_operator_managed_pool_fails_by_default_or_edits_the_installation(api, capsys):
    managed = crd_pool(api)
    managed["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "tigera-operator"}
    api.put_object(*CRD, "ippools", managed)
    refused = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert refused["failed"] is True
    assert "tigera-operator" in refused["msg"] and "edit_installation" in refused["msg"] and api.writes() == []
    done = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="CrossSubnet",
                                         operator_managed="edit_installation"), capsys=capsys)
    assert done["changed"] is True and done["via"] == "installation"
    assert api.writes() == [("PUT", "/apis/operator.tigera.io/v1/installations/default")]
    inst = api.get_object(*OPERATOR, "installations", "default")
    assert inst["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "IPIPCrossSubnet"
    assert done["previous"]["object"]["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "None"


def test_v3_api_server_is_used_when_served(capsys):
    server = make_api([CRD, V3])
    try:
        v3 = sample("calicoctl-v3-ippool-list.json")["items"][0]
        server.put_object(*V3, "ippools", v3)
        result = run_module("ippool", k8s_args(server, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
        assert result["changed"] is True
        assert server.writes() == [("PUT", "/apis/projectcalico.org/v3/ippools/default-ipv4-ippool")]
    finally:
        server.stop()


def test_wrong_token_is_refused_and_never_printed(api):
    wrong = "wrong-token-must-not-leak-42"
    result, output = run_ansible("ippool_info", k8s_args(api, api_key=wrong), verbosity=3)
    assert result["failed"] is True
    assert "401" in result["msg"] and "api_key" in result["msg"] and api.url in result["msg"]
    assert wrong not in output
    ok, output = run_ansible("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), verbosity=3)
    assert ok["changed"] is True and TOKEN not in output


def test_unreachable_api_server_is_named(capsys):
    result = run_module("ippool_info", {"datastore": "kubernetes", "host": "http://127.0.0.1:9", "api_key": "x"},
                        capsys=capsys)
    assert result["failed"] is True and "http://127.0.0.1:9" in result["msg"] and "Traceback" not in result["msg"]
