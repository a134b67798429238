"""Issue 7, item 6: with -vvv, a known etcd password and a known Kubernetes token never appear in any output, in the
log (ANSIBLE_LOG_PATH), in the role's report and backup files, or in anything else the run leaves behind.

The playbooks run as users run them (diagnose, enable_ipip in check mode and for real, a bad-input run that fails
argument validation, wrong credentials) against the suite's etcd with authentication on (conftest.etcd_auth) and the
Kubernetes API stand-in with a bearer token; nodes are network namespaces (_reliability_env.py). The secrets are in
the inventory (ipip_datastore), as an operator with Ansible Vault would have them after decryption: the inventory
and extra-vars files written by the test are the only places they may be.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from _reliability_env import NODES, Cluster, can_make_namespaces, run_playbook, seed_cluster
from conftest import AUTH_PASSWORD, FIXTURES, POOL_KEY, seed
from k8s_standin import KubeAPIStandIn

pytestmark = pytest.mark.skipif(not can_make_namespaces(), reason="needs root, iproute2 and /usr/bin/python3")

K8S_TOKEN = "k8s-Bearer-T0ken-7d41c0ffee"
CRD = ("crd.projectcalico.org", "v1")
VERBOSE_MARK = "task path:"  # printed for every task only from -vv on


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    with Cluster.made(tmp_path_factory.mktemp("reliability-secrets")) as cluster:
        yield cluster


@pytest.fixture
def etcd_secured(etcd_auth):
    """etcd with authentication, seeded with the namespaces' cluster; put back as conftest seeds it afterwards
    (the fixture is shared with test_ippool_etcd_security.py)."""
    seed_cluster(etcd_auth.raw)
    yield etcd_auth
    seed(etcd_auth.raw)


@pytest.fixture
def kube():
    api = KubeAPIStandIn(K8S_TOKEN, [CRD])
    api.put_object(*CRD, "ippools", json.loads((FIXTURES / "kdd-ippool-crd.json").read_text()))
    api.put_object(*CRD, "felixconfigurations",
                   json.loads((FIXTURES / "kdd-felixconfiguration-kubespray.json").read_text()))
    for name, (_address, _gateway, block) in NODES.items():
        api.put_object(*CRD, "blockaffinities", {
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BlockAffinity",
            "metadata": {"name": "%s-%s" % (name, block.replace(".", "-").replace("/", "-"))},
            "spec": {"cidr": block, "deleted": "false", "node": name, "state": "confirmed"}})
    api.nodes = [{"kind": "Node", "apiVersion": "v1", "metadata": {
        "name": name, "annotations": {"projectcalico.org/IPv4Address": address}}}
        for name, (address, _gateway, _block) in NODES.items()]
    yield api
    api.stop()


def forms(secret):
    return {secret, base64.b64encode(secret.encode()).decode(), json.dumps(secret)[1:-1]}


def leaks(secret, texts):
    """Where any form of the secret shows up: [(place, form)]."""
    return [(place, form) for place, text in texts.items() for form in forms(secret) if form in text]


def left_behind(workdir: Path, run_output, log):
    """Everything the run printed or wrote: output, log, report and backup files, Ansible's temporary files.
    The inventory and extra-vars files hold the secret by design and are left out."""
    texts = {"output": run_output, "log": log}
    for path in workdir.rglob("*"):
        if path.is_file() and not path.name.startswith(("inventory", "extra-vars")):
            texts[str(path.relative_to(workdir))] = path.read_bytes().decode("utf-8", "replace")
    return texts


def play(nodes, tmp_path, datastore, playbook, check=False, extra_vars=None, **inventory_vars):
    report = tmp_path / "report"
    vars_ = {"ipip_report_dir": str(report), "ipip_verify_timeout": 2, "ipip_verify_interval": 1}
    vars_.update(inventory_vars)
    inventory = nodes.inventory(datastore, vars_, name="inventory-%s.json" % tmp_path.name)
    rc, output, log = run_playbook(playbook, inventory, tmp_path, extra_vars=extra_vars, check=check, verbosity=3)
    assert VERBOSE_MARK in output and "Traceback" not in output, output[-3000:]
    return rc, output, log, report


ETCD_RUNS = {
    "diagnose": ("diagnose.yml", False, None),
    "enable-check": ("enable_ipip.yml", True, None),
    "enable": ("enable_ipip.yml", False, None),
    "bad-mode": ("enable_ipip.yml", False, {"ipip_mode": "always"}),
}


@pytest.mark.parametrize("run", list(ETCD_RUNS))
def test_etcd_password_never_leaks(run, etcd_secured, nodes, tmp_path):
    playbook, check, extra = ETCD_RUNS[run]
    datastore = {"datastore": "etcdv3", "etcd_endpoints": [etcd_secured.url], "etcd_username": "calico",
                 "etcd_password": AUTH_PASSWORD}
    rev = etcd_secured.raw.revision()
    rc, output, log, report = play(nodes, tmp_path, datastore, playbook, check=check, extra_vars=extra)
    assert leaks(AUTH_PASSWORD, left_behind(tmp_path, output, log)) == []
    assert rc != 0  # the namespaces are the incident, or the input is bad: never a clean exit here
    if run != "bad-mode":
        assert "ESTABLISH LOCAL CONNECTION" in output  # -vvv: connection and module execution details
    if run == "bad-mode":
        assert "value of ipip_mode must be one of: Always, CrossSubnet, got: always" in output
        assert etcd_secured.raw.revision() == rev
    elif run == "enable":
        # It really authenticated and wrote: the pool changed and the backup exists (and was scanned above).
        assert json.loads(etcd_secured.raw.get(POOL_KEY))["spec"]["ipipMode"] == "Always"
        assert (report / "pool-backup.json").exists()
    else:
        data = json.loads((report / "report.json").read_text())
        assert data["datastore"] == "etcdv3" and data["check_mode"] is check
        assert {n["host"] for n in data["diagnosis"]["nodes"]} == {"node1", "node2"}
        assert etcd_secured.raw.revision() == rev


def test_wrong_etcd_password_is_refused_and_never_printed(etcd_secured, nodes, tmp_path):
    wrong = AUTH_PASSWORD + "-not"  # contains the real password: neither may appear
    datastore = {"datastore": "etcdv3", "etcd_endpoints": [etcd_secured.url], "etcd_username": "calico",
                 "etcd_password": wrong}
    rev = etcd_secured.raw.revision()
    rc, output, log, _report = play(nodes, tmp_path, datastore, "enable_ipip.yml")
    assert rc != 0
    assert etcd_secured.url in output and "etcd_username and etcd_password" in output
    assert leaks(AUTH_PASSWORD, left_behind(tmp_path, output, log)) == []
    assert etcd_secured.raw.revision() == rev


@pytest.mark.parametrize("playbook, check", [("enable_ipip.yml", True)])
def test_kubernetes_token_never_leaks(playbook, check, kube, nodes, tmp_path):
    datastore = {"datastore": "kubernetes", "host": kube.url, "api_key": K8S_TOKEN}
    rc, output, log, report = play(nodes, tmp_path, datastore, playbook, check=check)
    assert leaks(K8S_TOKEN, left_behind(tmp_path, output, log)) == []
    assert rc != 0
    data = json.loads((report / "report.json").read_text())
    assert data["datastore"] == "kubernetes"
    assert [p["name"] for p in data["pools_before"]] == ["default-ipv4-ippool"]
    assert kube.writes() == []  # check mode and diagnose write nothing


def test_the_scan_finds_a_secret_where_there_is_one(tmp_path):
    """Control: the scanner is not blind (plain, base64 and JSON-escaped forms, files included)."""
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.json").write_text(json.dumps({"x": base64.b64encode(b"pa\"ss").decode()}))
    (tmp_path / "inventory.json").write_text("pa\"ss")
    assert leaks('pa"ss', left_behind(tmp_path, "", "")) == [("report/report.json", "cGEic3M=")]
    assert ("output", 'pa\\"ss') in leaks('pa"ss', left_behind(tmp_path, 'msg: "pa\\"ss"', ""))
