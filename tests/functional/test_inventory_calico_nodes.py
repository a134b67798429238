"""The k8snet.calico.calico_nodes inventory plugin through a real `ansible-inventory -i x.calico_nodes.yml --list`
process: against the suite's real etcd (Calico v3 and v2 layouts, seeded by conftest.seed) and against the Kubernetes
API STAND-IN (tests/functional/k8s_standin.py, used as it is) through a kubeconfig file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import AUTH_PASSWORD, COLLECTIONS, FIXTURES, REPO, seed
from k8s_standin import KubeAPIStandIn

ANSIBLE_BIN = Path(sys.executable).parent
TOKEN = "standin-token-inventory-5f0e1d2c"
CRD = ("crd.projectcalico.org", "v1")


def run_inventory(config, workdir: Path, *args, name="cluster.calico_nodes.yml", env=None, command="ansible-inventory"):
    """Write the inventory file, run the real CLI; -> (returncode, parsed --list output or None, stdout+stderr)."""
    path = workdir / name
    path.write_text(yaml.safe_dump(config) if isinstance(config, dict) else config)
    argv = [str(ANSIBLE_BIN / command), "-i", str(path)]
    argv += list(args) if args else ["--list"]
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_FORCE_COLOR="0", ANSIBLE_HOME=str(workdir / "ansible-home"),
                    ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-tmp"),
                    # a source that fails to parse fails the command (by default it is only a warning)
                    ANSIBLE_INVENTORY_UNPARSED_FAILED="1", ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1")
    for variable in list(full_env):
        if variable.startswith(("ETCDCTL_", "K8S_AUTH_")) or variable == "ANSIBLE_CONFIG":
            del full_env[variable]
    full_env.update(env or {})
    proc = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=120, check=False,
                          cwd=str(workdir))
    data = None
    if proc.returncode == 0 and "--list" in argv:
        # with -v..., Ansible's own lines come first: the JSON starts at the first line that is "{"
        start = 0 if proc.stdout.startswith("{") else proc.stdout.index("\n{\n") + 1
        data = plain(json.loads(proc.stdout[start:]))
    # ansible-core < 2.19 wraps warnings at the terminal width (80 columns without one): one space for every run of
    # white space, so that a message reads the same on every ansible-core
    # (textwrap breaks after a hyphen: "node-\nname" is "node-name")
    return proc.returncode, data, re.sub(r"\s+", " ", re.sub(r"(?<=-)\n *", "", proc.stdout + proc.stderr))


def plain(data):
    """--list marks values from the datastore as unsafe ({"__ansible_unsafe": value}: never templated); unwrap."""
    if isinstance(data, dict):
        if list(data) == ["__ansible_unsafe"]:
            return data["__ansible_unsafe"]
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data


def hosts_of(data, group):
    return sorted(data.get(group, {}).get("hosts", []))


def hostvars(data, host):
    return data["_meta"]["hostvars"][host]


def etcd_config(etcd, datastore="etcdv3", **extra):
    config = {"plugin": "k8snet.calico.calico_nodes", "datastore": datastore, "etcd_endpoints": [etcd.url]}
    config.update(extra)
    return config


CALICO_VARS = ("calico_node_name", "calico_ipv4_address", "calico_ipv4_subnet", "calico_ipip_tunnel_address",
               "calico_blocks", "calico_datastore", "ansible_host")


def calico_vars(data, host):
    return {k: v for k, v in hostvars(data, host).items() if k in CALICO_VARS}


def test_etcdv3_hosts_addresses_subnet_groups_and_block_owners(seeded, tmp_path):
    rc, data, output = run_inventory(etcd_config(seeded), tmp_path)
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == ["node1", "node2"]
    assert hosts_of(data, "subnet_10_0_1_0_24") == ["node1"]
    # node2 is recorded as 10.0.2.7/32 (the seed's CrossSubnet trap): a subnet of its own, and a warning about it
    assert hosts_of(data, "subnet_10_0_2_7_32") == ["node2"]
    assert "node_address_slash32" in output
    assert calico_vars(data, "node1") == {
        "ansible_host": "10.0.1.5", "calico_node_name": "node1", "calico_ipv4_address": "10.0.1.5/24",
        "calico_ipv4_subnet": "10.0.1.0/24", "calico_ipip_tunnel_address": "192.168.70.0",
        "calico_blocks": ["192.168.70.0/26"], "calico_datastore": "etcdv3"}
    assert calico_vars(data, "node2") == {
        "ansible_host": "10.0.2.7", "calico_node_name": "node2", "calico_ipv4_address": "10.0.2.7/32",
        "calico_ipv4_subnet": "10.0.2.7/32", "calico_ipip_tunnel_address": None,
        "calico_blocks": ["192.168.80.0/26"], "calico_datastore": "etcdv3"}


def test_etcdv2_layout(seeded, tmp_path):
    rc, data, output = run_inventory(etcd_config(seeded, "etcdv2"), tmp_path)
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == ["node1", "node2"]
    # v2 keeps the address and the network apart (ip_addr_v4 + network_v4): the prefix comes from network_v4
    assert hosts_of(data, "subnet_10_0_1_0_24") == ["node1"]
    assert hosts_of(data, "subnet_10_0_2_0_24") == ["node2"]
    assert calico_vars(data, "node1") == {
        "ansible_host": "10.0.1.5", "calico_node_name": "node1", "calico_ipv4_address": "10.0.1.5/24",
        "calico_ipv4_subnet": "10.0.1.0/24", "calico_ipip_tunnel_address": "192.168.70.0",
        "calico_blocks": ["192.168.70.0/26"], "calico_datastore": "etcdv2"}
    assert calico_vars(data, "node2")["calico_blocks"] == []


def test_nodes_added_to_the_datastore_appear_and_pending_deletion_blocks_do_not(seeded, tmp_path):
    seeded.raw.put("/calico/resources/v3/projectcalico.org/nodes/node-c.example", json.dumps({
        "kind": "Node", "apiVersion": "projectcalico.org/v3", "metadata": {"name": "node-c.example"},
        "spec": {"bgp": {"ipv4Address": "10.39.3.75/24", "ipv4IPIPTunnelAddr": "192.168.169.193"}}}))
    seeded.raw.put("/calico/resources/v3/projectcalico.org/nodes/node-v6only", json.dumps({
        "kind": "Node", "apiVersion": "projectcalico.org/v3", "metadata": {"name": "node-v6only"},
        "spec": {"bgp": {"ipv6Address": "fd00::5/64"}}}))
    seeded.raw.put("/calico/ipam/v2/host/node-c.example/ipv4/block/192.168.169.192-26",
                   '{"state":"confirmed","deleted":false}')
    seeded.raw.put("/calico/ipam/v2/host/node-c.example/ipv4/block/192.168.169.128-26",
                   '{"state":"pendingDeletion","deleted":false}')
    rc, data, output = run_inventory(etcd_config(seeded, nodes_group="calico_all", subnet_group_prefix="net_"),
                                     tmp_path)
    assert rc == 0, output
    assert hosts_of(data, "calico_all") == ["node-c.example", "node-v6only", "node1", "node2"]
    assert "calico_nodes" not in data
    assert hosts_of(data, "net_10_39_3_0_24") == ["node-c.example"]
    assert hostvars(data, "node-c.example")["calico_blocks"] == ["192.168.169.192/26"]
    assert "ansible_host" not in hostvars(data, "node-v6only")
    assert "node-v6only has no IPv4 BGP address" in output


def test_kubernetes_datastore_through_a_kubeconfig(tmp_path):
    api = KubeAPIStandIn(TOKEN, [CRD])
    try:
        api.put_object(*CRD, "blockaffinities", json.loads((FIXTURES / "kdd-blockaffinity.json").read_text()))
        api.nodes = [
            {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node1", "annotations": {
                "projectcalico.org/IPv4Address": "10.39.0.110/24",
                "projectcalico.org/IPv4IPIPTunnelAddr": "192.168.70.1"}}},
            {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node2", "annotations": {
                "projectcalico.org/IPv4Address": "10.39.3.75/24"}}},
            {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node3", "annotations": {}}},
        ]
        kubeconfig = write_kubeconfig(tmp_path, api.url, TOKEN)
        rc, data, output = run_inventory({"plugin": "k8snet.calico.calico_nodes", "datastore": "kubernetes",
                                          "kubeconfig": str(kubeconfig)}, tmp_path)
        assert rc == 0, output
        assert ("GET", "/api/v1/nodes") in api.requests
        assert ("GET", "/apis/crd.projectcalico.org/v1/blockaffinities") in api.requests
        assert hosts_of(data, "calico_nodes") == ["node1", "node2", "node3"]
        assert hosts_of(data, "subnet_10_39_0_0_24") == ["node1"]
        assert hosts_of(data, "subnet_10_39_3_0_24") == ["node2"]
        assert calico_vars(data, "node1") == {
            "ansible_host": "10.39.0.110", "calico_node_name": "node1", "calico_ipv4_address": "10.39.0.110/24",
            "calico_ipv4_subnet": "10.39.0.0/24", "calico_ipip_tunnel_address": "192.168.70.1",
            "calico_blocks": ["192.168.70.0/26"], "calico_datastore": "kubernetes"}
        assert "ansible_host" not in hostvars(data, "node3")
        assert TOKEN not in output  # the token is read from the kubeconfig, never shown
        # the same through kubernetes.core's variable, as an AWX credential injects it
        rc, from_env, output = run_inventory({"plugin": "k8snet.calico.calico_nodes", "datastore": "kubernetes"},
                                             tmp_path, env={"K8S_AUTH_KUBECONFIG": str(kubeconfig)})
        assert rc == 0, output
        assert from_env == data
    finally:
        api.stop()


def write_kubeconfig(directory: Path, url: str, token: str) -> Path:
    path = directory / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "standin",
        "clusters": [{"name": "standin", "cluster": {"server": url}}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "admin"}}]}))
    return path


def test_compose_groups_and_keyed_groups(seeded, tmp_path):
    config = etcd_config(seeded, compose={"ansible_host": "calico_node_name ~ '.nodes.example'"},
                         groups={"with_tunnel": "calico_ipip_tunnel_address is not none"},
                         keyed_groups=[{"key": "calico_ipv4_subnet", "prefix": "net"}])
    rc, data, output = run_inventory(config, tmp_path)
    assert rc == 0, output
    assert hostvars(data, "node1")["ansible_host"] == "node1.nodes.example"
    assert hosts_of(data, "with_tunnel") == ["node1"]
    assert hosts_of(data, "net_10_0_1_0_24") == ["node1"]
    assert hosts_of(data, "net_10_0_2_7_32") == ["node2"]


def test_the_rollout_takes_one_subnet_by_its_group(seeded, tmp_path):
    """What the inventory-driven rollout does with it: ipip_hosts=<subnet group> picks that subnet's nodes."""
    config = etcd_config(seeded)
    rc, _data, output = run_inventory(config, tmp_path, str(REPO / "playbooks" / "enable_ipip.yml"), "--list-hosts",
                                      "-e", "ipip_hosts=subnet_10_0_1_0_24", command="ansible-playbook")
    assert rc == 0, output
    plays = output.split("play #")[1:]
    # diagnose and enable, verify, roll back (localhost), verify the restored pools, report (localhost)
    assert len(plays) == 5
    for node_play in (plays[0], plays[1], plays[3]):
        assert "hosts (1):" in node_play and "node1" in node_play and "node2" not in node_play, node_play
    rc, _data, output = run_inventory(config, tmp_path, str(REPO / "playbooks" / "enable_ipip.yml"), "--list-hosts",
                                      command="ansible-playbook")
    assert rc == 0, output
    assert "hosts (2):" in output.split("play #")[1]  # default ipip_hosts: calico_nodes, every node


def test_cache_serves_the_last_read_until_flushed(seeded, tmp_path):
    config = etcd_config(seeded, cache=True, cache_plugin="ansible.builtin.jsonfile",
                         cache_connection=str(tmp_path / "cache"))
    rc, data, output = run_inventory(config, tmp_path)
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == ["node1", "node2"]
    assert list((tmp_path / "cache").iterdir())
    seeded.raw.wipe()  # the datastore now has no node at all
    rc, data, output = run_inventory(config, tmp_path)
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == ["node1", "node2"]  # from the cache
    # (ansible-inventory has --flush-cache only from ansible-core 2.17; ansible-playbook has it on every release)
    playbook = tmp_path / "noop.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    rc, _data, output = run_inventory(config, tmp_path, str(playbook), "--flush-cache", "--list-hosts",
                                      command="ansible-playbook")
    assert rc == 0, output
    rc, data, output = run_inventory(config, tmp_path)
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == []  # read again, and the cache refreshed
    seed(seeded.raw)


BAD_OPTIONS = [
    ({"datastore": "etcd"}, ["datastore", "etcd", "etcdv3, etcdv2, kubernetes"]),
    ({"datastore": "calicoctl"}, ["datastore", "calicoctl"]),
    ({"etcd_endpoint": ["http://127.0.0.1:1"]}, ["etcd_endpoint", "unknown option"]),
    ({"etcd_endpoints": None}, ["etcd_endpoints", "required with datastore: etcdv3"]),
    ({"etcd_endpoints": ["127.0.0.1:2379"]}, ["etcd_endpoints", "127.0.0.1:2379", "http://"]),
    ({"etcd_username": "calico"}, ["etcd_username and etcd_password", "given together"]),
    ({"nodes_group": "calico-nodes"}, ["nodes_group", "calico-nodes", "not a valid group name"]),
    ({"timeout": "soon"}, ["timeout", "soon"]),
    ({"etcd_ca": "/nonexistent/ca.pem"}, ["etcd_ca", "/nonexistent/ca.pem", "cannot be read"]),
    ({"calicoctl_path": "/usr/bin/calicoctl"}, ["calicoctl_path", "not used"]),
]


BAD_IDS = ["%s-%d" % (next(iter(change)), i) for i, (change, _expected) in enumerate(BAD_OPTIONS)]


@pytest.mark.parametrize("change,expected", BAD_OPTIONS, ids=BAD_IDS)
def test_bad_options_fail_naming_the_option(seeded, tmp_path, change, expected):
    config = etcd_config(seeded)
    config.update(change)
    config = {k: v for k, v in config.items() if v is not None}
    rc, _data, output = run_inventory(config, tmp_path)
    assert rc != 0, output
    for text in expected:
        assert text in output, (text, output)
    assert "Traceback" not in output


def test_unreachable_etcd_names_the_endpoint(tmp_path):
    from conftest import free_port

    url = "http://127.0.0.1:%d" % free_port()
    rc, _data, output = run_inventory({"plugin": "k8snet.calico.calico_nodes", "datastore": "etcdv3",
                                       "etcd_endpoints": [url], "timeout": 2}, tmp_path)
    assert rc != 0
    assert "cannot read the Calico nodes" in output and url in output and "Traceback" not in output


def test_credentials_never_appear_in_the_output(etcd_auth, tmp_path):
    config = etcd_config(etcd_auth, etcd_username="calico", etcd_password=AUTH_PASSWORD)
    rc, data, output = run_inventory(config, tmp_path, "--list", "-vvvv")
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == ["node1", "node2"]
    assert AUTH_PASSWORD not in output
    config["etcd_password"] = "wrong-" + AUTH_PASSWORD
    rc, _data, output = run_inventory(config, tmp_path, "--list", "-vvvv")
    assert rc != 0
    assert "etcd_username and etcd_password" in output  # the advice names the options ...
    assert AUTH_PASSWORD not in output  # ... never the value


def test_a_vaulted_password_in_the_inventory_file(etcd_auth, tmp_path):
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("inventory-vault-pw\n")
    encrypted = subprocess.run([str(ANSIBLE_BIN / "ansible-vault"), "encrypt_string", "--vault-password-file",
                                str(vault_pass), "--name", "etcd_password", AUTH_PASSWORD], capture_output=True,
                               text=True, check=True, env=dict(os.environ, ANSIBLE_HOME=str(tmp_path / "home"))).stdout
    config = ("plugin: k8snet.calico.calico_nodes\ndatastore: etcdv3\netcd_endpoints: [%s]\netcd_username: calico\n%s"
              % (etcd_auth.url, encrypted))
    assert AUTH_PASSWORD not in config
    rc, data, output = run_inventory(config, tmp_path, "--list", "--vault-password-file", str(vault_pass))
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == ["node1", "node2"]
    assert AUTH_PASSWORD not in output


def test_connection_from_etcdctl_variables(etcd_auth, tmp_path):
    env = {"ETCDCTL_ENDPOINTS": etcd_auth.url, "ETCDCTL_USER": "calico:" + AUTH_PASSWORD}
    rc, data, output = run_inventory({"plugin": "k8snet.calico.calico_nodes", "datastore": "etcdv3"}, tmp_path,
                                     "--list", "-vvv", env=env)
    assert rc == 0, output
    assert hosts_of(data, "calico_nodes") == ["node1", "node2"]
    assert AUTH_PASSWORD not in output
    env["ETCDCTL_USER"] = "calico:wrong-" + AUTH_PASSWORD
    rc, _data, output = run_inventory({"plugin": "k8snet.calico.calico_nodes", "datastore": "etcdv3"}, tmp_path,
                                      env=env)
    assert rc != 0
    assert "from the environment: etcd_endpoints=ETCDCTL_ENDPOINTS" in output
    assert AUTH_PASSWORD not in output


NODES_V3 = "/calico/resources/v3/projectcalico.org/nodes/"


def put_node(etcd, key_name, node):
    etcd.raw.put(NODES_V3 + key_name, json.dumps(dict({"kind": "Node", "apiVersion": "projectcalico.org/v3"}, **node)))


def test_datastore_values_are_never_templated(seeded, tmp_path):
    """Anyone who can write a Calico Node (any calico-node, a KDD annotation) must not run code on the controller:
    every value from the datastore is unsafe, host names included. ansible-core >= 2.19 marks inventory values
    itself, 2.16-2.18 do not: this test runs on both (`make oldest-core` runs it with ansible-core 2.16)."""
    markers = {field: tmp_path / ("ran-" + field) for field in ("name", "address", "tunnel")}

    def payload(field):
        return "{{ lookup('pipe', 'touch %s') }}" % markers[field]

    put_node(seeded, "evil-name", {"metadata": {"name": payload("name")},
                                   "spec": {"bgp": {"ipv4Address": "10.39.3.9/24"}}})
    put_node(seeded, "node-evil", {"metadata": {"name": "node-evil"},
                                   "spec": {"bgp": {"ipv4Address": payload("address"),
                                                    "ipv4IPIPTunnelAddr": payload("tunnel")}}})
    config = etcd_config(seeded, compose={"calico_label": "'x' ~ calico_ipip_tunnel_address"})
    rc, _data, output = run_inventory(
        config, tmp_path, "all", "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
        "-m", "ansible.builtin.debug",
        "-a", json.dumps({"msg": "{{ calico_node_name }} {{ calico_ipv4_address }} {{ calico_ipip_tunnel_address }} "
                                 "{{ calico_label | default('') }}"}), command="ansible")
    ran = sorted(field for field, marker in markers.items() if marker.exists())
    assert ran == [], "datastore values were templated (%s):\n%s" % (ran, output)
    assert rc == 0, output
    # the host whose name is a template is not made a host at all; the warning names it
    assert "lookup('pipe'" in output and "node-evil" in output
    assert re.search(r"Calico node .*: metadata\.name .* is not a valid host name", output), output


@pytest.mark.parametrize("name, node, field", [
    ("bgp-string", {"spec": {"bgp": "a string"}}, "spec.bgp"),
    ("address-int", {"spec": {"bgp": {"ipv4Address": 1234}}}, "spec.bgp.ipv4Address"),
    ("tunnel-list", {"spec": {"bgp": {"ipv4Address": "10.39.3.8/24", "ipv4IPIPTunnelAddr": ["x"]}}},
     "spec.bgp.ipv4IPIPTunnelAddr"),
    ("spec-list", {"spec": ["x"]}, "spec"),
])
def test_one_malformed_node_is_named_and_the_rest_kept(seeded, tmp_path, name, node, field):
    put_node(seeded, name, dict({"metadata": {"name": name}}, **node))
    rc, data, output = run_inventory(etcd_config(seeded), tmp_path)
    assert rc == 0, output
    assert {"node1", "node2"} <= set(hosts_of(data, "calico_nodes")), output
    assert re.search(r"Calico node %s: %s: " % (re.escape(name), re.escape(field)), output), output


def test_duplicate_names_bad_blocks_and_bad_addresses_get_one_warning_each(seeded, tmp_path):
    # the same metadata.name under a second key: the first (by key) is kept, the other named, never merged
    put_node(seeded, "node1-again", {"metadata": {"name": "node1"},
                                     "spec": {"bgp": {"ipv4Address": "10.99.0.1/24"}}})
    put_node(seeded, "node-badaddr", {"metadata": {"name": "node-badaddr"},
                                      "spec": {"bgp": {"ipv4Address": "999.1.1.1/24"}}})
    seeded.raw.put("/calico/ipam/v2/host/node2/ipv4/block/not-a-block", '{"state":"confirmed","deleted":false}')
    rc, data, output = run_inventory(etcd_config(seeded), tmp_path)
    assert rc == 0, output
    assert calico_vars(data, "node1")["ansible_host"] == "10.0.1.5", "duplicate name merged: %s" % output
    assert re.search(r"Calico node node1: metadata\.name is also the name of another node", output), output
    assert "not-a" not in json.dumps(calico_vars(data, "node2")["calico_blocks"]), output
    assert re.search(r"block affinity .*node2.*not-a-block", output), output
    assert len([w for w in re.findall(r"\[WARNING\][^\[]*", output) if "999.1.1.1" in w]) == 1, output
    assert "ansible_host" not in hostvars(data, "node-badaddr")
