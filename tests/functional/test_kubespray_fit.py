"""kubespray fit (issue 12 item 5, docs/kubespray.md): a real `ansible-playbook k8snet.calico.enable_ipip` run on a
kubespray-shaped inventory directory (hosts.yaml with kubespray's groups, group_vars/k8s_cluster/k8s-net-calico.yml,
the control plane's kubeconfig copied to artifacts/admin.conf as kubespray's kubeconfig_localhost does), datastore
`kubernetes` against the Kubernetes API STAND-IN (tests/functional/k8s_standin.py, used as it is) holding kubespray's
pool `default-pool` and its FelixConfiguration (ipipEnabled: false). Nodes are the namespace nodes of
_reliability_env.py with the incident's routes (nothing creates tunl0 there, so verification stays unresolved and
ipip_fail_on_unresolved=false lets the run end with 0)."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from _reliability_env import NODES, Cluster, can_make_namespaces, run_playbook
from conftest import FIXTURES
from k8s_standin import KubeAPIStandIn

pytestmark = pytest.mark.skipif(not can_make_namespaces(), reason="needs root, iproute2 and /usr/bin/python3")

TOKEN = "standin-token-kubespray-7c1d"
CRD = ("crd.projectcalico.org", "v1")
POOL_PATH = "/apis/crd.projectcalico.org/v1/ippools/default-pool"
FELIX_PATH = "/apis/crd.projectcalico.org/v1/felixconfigurations/default"
# the incident on a kubespray cluster: BGP (bird) without encapsulation
INCIDENT_GROUP_VARS = {"kube_network_plugin": "calico", "calico_network_backend": "bird", "calico_ipip_mode": "Never",
                       "calico_vxlan_mode": "Never", "calico_pool_name": "default-pool"}


def sample(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    with Cluster.made(tmp_path_factory.mktemp("kubespray")) as cluster:
        yield cluster


@pytest.fixture
def api():
    server = KubeAPIStandIn(TOKEN, [CRD])
    pool = sample("kdd-ippool-crd.json")
    pool["metadata"]["name"] = "default-pool"  # kubespray's calico_pool_name
    server.put_object(*CRD, "ippools", pool)
    # exactly the shared sample: kubespray's FelixConfiguration, ipipEnabled: false
    server.put_object(*CRD, "felixconfigurations", sample("kdd-felixconfiguration-kubespray.json"))
    server.nodes = []
    for name, (address, _gateway, block) in NODES.items():
        server.nodes.append({"kind": "Node", "apiVersion": "v1", "metadata": {
            "name": name, "annotations": {"projectcalico.org/IPv4Address": address}}})
        server.put_object(*CRD, "blockaffinities", {
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BlockAffinity",
            "metadata": {"name": "%s-%s" % (name, block.replace(".", "-").replace("/", "-"))},
            "spec": {"cidr": block, "deleted": "false", "node": name, "state": "confirmed"}})
    yield server
    server.stop()


def kubespray_inventory(nodes, api, directory, group_vars):
    """inventory/mycluster as kubespray lays it out; the collection's own variables in group_vars/all."""
    directory.mkdir(parents=True)
    hosts = {node.name: {"ansible_host": node.ip, "ip": node.ip, "access_ip": node.ip,
                         "ansible_connection": "local", "ansible_python_interpreter": node.python}
             for node in nodes.nodes}
    hosts["localhost"] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (directory / "hosts.yaml").write_text(yaml.safe_dump({"all": {"hosts": hosts, "children": {
        "kube_control_plane": {"hosts": {"node1": None}},
        "kube_node": {"hosts": {"node1": None, "node2": None}},
        "etcd": {"hosts": {"node1": None}},
        "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
        "calico_rr": {"hosts": {}}}}}))
    (directory / "group_vars" / "k8s_cluster").mkdir(parents=True)
    (directory / "group_vars" / "all").mkdir(parents=True)
    write_group_vars(directory, group_vars)
    # what kubespray's kubeconfig_localhost: true leaves on the controller: the control plane's admin.conf
    (directory / "artifacts").mkdir()
    (directory / "artifacts" / "admin.conf").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kubernetes-admin@cluster.local",
        "clusters": [{"name": "cluster.local", "cluster": {"server": api.url}}],
        "users": [{"name": "kubernetes-admin", "user": {"token": TOKEN}}],
        "contexts": [{"name": "kubernetes-admin@cluster.local",
                      "context": {"cluster": "cluster.local", "user": "kubernetes-admin"}}]}))
    (directory / "group_vars" / "all" / "ipip.yml").write_text(yaml.safe_dump({
        "ipip_datastore": {"datastore": "kubernetes", "kubeconfig": "{{ inventory_dir }}/artifacts/admin.conf"},
        "ipip_datastore_host": "localhost",
        "ipip_mode": "CrossSubnet",
        "ipip_fix_felix_ipip": True,
        "ipip_report_dir": str(directory / "report"),
        "ipip_verify_timeout": 2,
        "ipip_verify_interval": 1,
        "ipip_fail_on_unresolved": False}))
    return directory / "hosts.yaml"


def write_group_vars(directory, group_vars):
    (directory / "group_vars" / "k8s_cluster" / "k8s-net-calico.yml").write_text(yaml.safe_dump(group_vars))


def kubespray_traps(report_dir):
    data = json.loads((report_dir / "report.json").read_text())
    return data, [t for t in data["traps"] if t["name"] == "kubespray_inventory_mismatch"]


def test_enable_ipip_on_a_kubespray_inventory_prints_the_group_vars_and_records_the_trap(nodes, api, tmp_path):
    inventory_dir = tmp_path / "inventory" / "mycluster"
    inventory = kubespray_inventory(nodes, api, inventory_dir, INCIDENT_GROUP_VARS)
    rc, output, _log = run_playbook("enable_ipip.yml", inventory, tmp_path, extra_vars={"ipip_hosts": "k8s_cluster"})
    assert rc == 0, output[-4000:]
    assert "Traceback" not in output

    # the change went to kubespray's pool and its FelixConfiguration, through the kubeconfig's token
    assert ("PUT", POOL_PATH) in api.writes() and ("PUT", FELIX_PATH) in api.writes()
    assert api.get_object(*CRD, "ippools", "default-pool")["spec"]["ipipMode"] == "CrossSubnet"
    assert api.get_object(*CRD, "felixconfigurations", "default")["spec"]["ipipEnabled"] is True

    # the group_vars to set, on the console
    printed = output[output.index("kubespray: set these"):]
    assert "group_vars/k8s_cluster/k8s-net-calico.yml" in printed.splitlines()[0]
    for line in ("calico_ipip_mode: CrossSubnet", "calico_vxlan_mode: Never", "calico_network_backend: bird"):
        assert line in printed, line

    # and the trap in report.json
    report_dir = inventory_dir / "report"
    data, (trap,) = kubespray_traps(report_dir)
    assert trap["subject"] == "default-pool"
    assert trap["group_vars"] == {"calico_ipip_mode": "CrossSubnet", "calico_vxlan_mode": "Never",
                                  "calico_network_backend": "bird"}
    assert "Your inventory doesn't match the current cluster configuration" in trap["message"]
    assert "its inventory says calico_ipip_mode: Never" in trap["message"]
    assert "ipipEnabled" in trap["message"]
    assert data["datastore"] == "kubernetes" and data["pools_changed"] == {"default-pool": True}
    assert [n["host"] for n in data["diagnosis"]["nodes"]] == ["node1", "node2"]
    assert {b["cause"] for n in data["diagnosis"]["nodes"] for b in n["blocks"]} == {"via_gateway"}

    # the operator follows the advice: the inventory now matches, the second run changes nothing and warns nothing
    write_group_vars(inventory_dir, dict(INCIDENT_GROUP_VARS, **trap["group_vars"]))
    writes = len(api.writes())
    rc, output, _log = run_playbook("enable_ipip.yml", inventory, tmp_path, extra_vars={"ipip_hosts": "k8s_cluster"})
    assert rc == 0, output[-4000:]
    assert len(api.writes()) == writes
    assert "kubespray: its inventory already matches pool default-pool:" in output
    data, traps = kubespray_traps(report_dir)
    assert traps == [] and data["pools_changed"] == {"default-pool": False}


def test_check_mode_says_what_would_be_needed_and_writes_nothing(nodes, api, tmp_path):
    inventory_dir = tmp_path / "inventory" / "mycluster"
    inventory = kubespray_inventory(nodes, api, inventory_dir, {"kube_network_plugin": "calico"})  # kubespray defaults
    rc, output, _log = run_playbook("enable_ipip.yml", inventory, tmp_path, check=True,
                                    extra_vars={"ipip_hosts": "k8s_cluster"})
    assert "Traceback" not in output
    assert api.writes() == []
    assert rc == 0, output[-4000:]
    data, (trap,) = kubespray_traps(inventory_dir / "report")
    assert data["check_mode"] is True
    assert "would be ipipMode CrossSubnet" in trap["message"]
    # unset variables are kubespray's defaults: vxlan backend and vxlanMode Always must change too
    assert ("calico_ipip_mode: Never, calico_vxlan_mode: Always, calico_network_backend: vxlan"
            in trap["message"])


def test_without_the_k8s_cluster_group_nothing_is_said_about_kubespray(nodes, api, tmp_path):
    inventory = nodes.inventory({"datastore": "kubernetes", "host": api.url, "api_key": TOKEN},
                                {"ipip_report_dir": str(tmp_path / "report"), "ipip_verify_timeout": 2,
                                 "ipip_verify_interval": 1, "ipip_fail_on_unresolved": False,
                                 "ipip_pools": ["default-pool"]})
    rc, output, _log = run_playbook("enable_ipip.yml", inventory, tmp_path, check=True)
    assert "Traceback" not in output and rc == 0, output[-4000:]
    assert "Compare the kubespray inventory" in output  # the task is there ...
    assert "kubespray:" not in output  # ... and skipped: ipip_kubespray defaults to false
    _data, traps = kubespray_traps(tmp_path / "report")
    assert traps == []
