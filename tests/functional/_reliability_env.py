"""Helpers for the reliability tests (issue 7): Calico-like nodes WITHOUT the lab, and running the playbooks.

Nodes are network namespaces created here (prefix ``k8snet-rel-``, removed in teardown) holding the incident's
route table: each node's own block as a ``proto bird`` blackhole and every other node's block ``via`` the node's
default gateway, because every node sits in its own subnet. The veth pairs live entirely inside their namespace
(both ends), so nothing reaches the root namespace and no lab address exists outside the namespaces.

Ansible reaches a node with ``ansible_connection: local`` and an ``ansible_python_interpreter`` that is a small
wrapper script running ``ip netns exec <namespace> /usr/bin/python3 "$@"``: the real ``node_routes_info`` module
then reads real kernel tables. The datastore is the functional suite's real etcd (conftest.py), read and written
through ``ipip_datastore_host: localhost``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from _loopback_http import LoopbackHTTPServer, forward, reply
from conftest import COLLECTIONS, FELIX_TEXT, IPV6_POOL_TEXT, POOL_KEY, POOL_TEXT, POOLS, REPO

NS_PREFIX = "k8snet-rel-"
PLAYBOOKS = REPO / "playbooks"
ANSIBLE_BIN = Path(sys.executable).parent
NODE_PYTHON = "/usr/bin/python3"

# node -> (address/prefix on eth0, default gateway, own pod block). Every node in its own /24: the incident.
NODES = {
    "node1": ("10.39.0.110/24", "10.39.0.1", "192.168.70.0/26"),
    "node2": ("10.39.3.75/24", "10.39.3.1", "192.168.169.192/26"),
}
NODE_PREFIX = "/calico/resources/v3/projectcalico.org/nodes/"
AFFINITY = "/calico/ipam/v2/host/%s/ipv4/block/%s"


def can_make_namespaces():
    return os.geteuid() == 0 and shutil.which("ip") is not None and os.path.exists(NODE_PYTHON)


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


class EtcdTxnProxy(LoopbackHTTPServer):
    """An HTTP proxy in front of etcd's JSON gateway, so that a real Ansible process can be made to lose a race:
    `on_txn(body)` runs before each POST /v3/kv/txn is forwarded (a third party writing in between). Everything
    else passes through unchanged."""

    def __init__(self, target, on_txn):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/v3/kv/txn":
                    on_txn(body)
                status, data, _index = forward(self, target, body)
                reply(self, status, data)

        self.serve(Handler)


class Node:
    def __init__(self, name, namespace, address, gateway, block):
        self.name, self.namespace, self.address, self.gateway, self.block = name, namespace, address, gateway, block
        self.ip = address.split("/")[0]

    def ip_cmd(self, *args):
        """Run ``ip`` inside the node's namespace (a test shaping a node beyond the incident's table)."""
        return _ip("-n", self.namespace, *args)

    def state(self):
        """Everything the run could change on the node: every routing table, every link, every address."""
        return {what: _ip("-n", self.namespace, *argv).stdout for what, argv in (
            ("routes", ("-d", "route", "show", "table", "all")),
            ("routes6", ("-6", "route", "show", "table", "all")),
            ("rules", ("rule", "show")),
            ("links", ("-d", "link", "show")),
            ("addresses", ("-d", "addr", "show")),
        )}


class Cluster:
    """The namespaces, their interpreter wrappers and an inventory naming them ``calico_nodes``."""

    @classmethod
    @contextmanager
    def made(cls, workdir: Path):
        """A created cluster, destroyed on the way out (what each test module's ``nodes`` fixture yields)."""
        cluster = cls(workdir)
        try:
            cluster.create()
            yield cluster
        finally:
            cluster.destroy()

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.tag = uuid.uuid4().hex[:6]
        self.nodes = []
        self.created = []
        for name, (address, gateway, block) in NODES.items():
            self.nodes.append(Node(name, "%s%s-%s" % (NS_PREFIX, self.tag, name), address, gateway, block))

    def create(self):
        for node in self.nodes:
            ns = node.namespace
            self.created.append(ns)
            steps = [
                ["netns", "add", ns],
                # No IPv6: its link-local addresses and routes appear asynchronously and would make the
                # before/after comparison of the node's state racy.
                ["netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                 "net.ipv6.conf.default.disable_ipv6=1"],
                ["-n", ns, "link", "set", "lo", "up"],
                ["-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"],
                ["-n", ns, "link", "set", "eth0", "up"],
                ["-n", ns, "link", "set", "eth0-peer", "up"],
                ["-n", ns, "addr", "add", node.address, "dev", "eth0"],
                ["-n", ns, "route", "add", "default", "via", node.gateway, "dev", "eth0", "proto", "static"],
                ["-n", ns, "route", "add", "blackhole", node.block, "proto", "bird"],
            ]
            for other in self.nodes:
                if other is not node:  # the incident: the remote block via the default gateway
                    steps.append(["-n", ns, "route", "add", other.block, "via", node.gateway, "dev", "eth0",
                                  "proto", "bird"])
            for step in steps:
                _ip(*step)
            wrapper = self.workdir / ("python-%s" % node.name)
            wrapper.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (ns, NODE_PYTHON))
            wrapper.chmod(0o755)
            node.python = str(wrapper)
        self.settle()
        return self

    def settle(self, attempts=50):
        """Wait until the kernel has finished bringing the links up (two equal readings in a row), so that any
        later difference is the run's doing."""
        import time

        previous = self.state()
        for _attempt in range(attempts):
            time.sleep(0.1)
            current = self.state()
            if current == previous:
                return
            previous = current
        raise RuntimeError("the namespaces' state does not settle: %r" % (previous,))

    def destroy(self):
        for ns in self.created:
            _ip("netns", "del", ns, check=False)

    def state(self):
        return {node.name: node.state() for node in self.nodes}

    def inventory(self, datastore, extra_vars=None, name="inventory.json"):
        """An inventory with the nodes in calico_nodes and the role's datastore variables."""
        hosts = {node.name: {"ansible_connection": "local", "ansible_python_interpreter": node.python}
                 for node in self.nodes}
        # The role's variables for every host, the controller's plays (localhost: report, rollback) included;
        # localhost is explicit so that it is in `all` and runs this venv's Python.
        all_vars = {"ipip_datastore_host": "localhost", "ipip_datastore": datastore,
                    "ipip_report_dir": str(self.workdir / "report")}
        all_vars.update(extra_vars or {})
        data = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                "ansible_python_interpreter": sys.executable}},
                        "vars": all_vars,
                        "children": {"calico_nodes": {"hosts": hosts}}}}
        path = self.workdir / name
        path.write_text(json.dumps(data, indent=1))
        return path


def seed_cluster(raw):
    """Calico v3 on etcd for the namespaces: the default pools (IPIP off), kubespray's Felix config, the two nodes
    with their addresses and block affinities."""
    raw.wipe()
    raw.put(POOL_KEY, POOL_TEXT)
    raw.put(POOLS + "default-ipv6-ippool", IPV6_POOL_TEXT)
    raw.put("/calico/resources/v3/projectcalico.org/felixconfigurations/default", FELIX_TEXT)
    for name, (address, _gateway, block) in NODES.items():
        raw.put(NODE_PREFIX + name, json.dumps({
            "kind": "Node", "apiVersion": "projectcalico.org/v3",
            "metadata": {"name": name, "creationTimestamp": "2026-10-01T08:00:00Z"},
            "spec": {"bgp": {"ipv4Address": address}}}, separators=(",", ":")))
        raw.put(AFFINITY % (name, block.replace("/", "-")), '{"state":"confirmed","deleted":false}')


def etcd_dump(raw):
    """Every key under /calico/ with its mod_revision, and the store's revision: the datastore's whole state."""
    import base64

    from conftest import b64
    kvs = raw.post("/v3/kv/range", {"key": b64("/calico/"), "range_end": b64("/calico0")}).get("kvs") or []
    return {base64.b64decode(kv["key"]).decode(): (base64.b64decode(kv.get("value", "")).decode(), kv["mod_revision"])
            for kv in kvs}


def run_playbook(playbook, inventory, workdir: Path, extra_vars=None, check=False, verbosity=0, env=None,
                 timeout=300):
    """ansible-playbook with the repository's collection, the default (human) output, a log file; returns
    (returncode, stdout+stderr, log text)."""
    cmd = [str(ANSIBLE_BIN / "ansible-playbook"), str(PLAYBOOKS / playbook), "-i", str(inventory)]
    if extra_vars is not None:
        vars_file = workdir / ("extra-vars-%s.json" % uuid.uuid4().hex[:6])
        vars_file.write_text(json.dumps(extra_vars))
        cmd += ["-e", "@%s" % vars_file]
    if check:
        cmd.append("--check")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    log = workdir / ("ansible-%s.log" % uuid.uuid4().hex[:6])
    tmp = workdir / "ansible-tmp"
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOG_PATH=str(log), ANSIBLE_LOCAL_TEMP=str(tmp / "local"),
                    ANSIBLE_REMOTE_TEMP=str(tmp / "remote"), ANSIBLE_HOME=str(tmp / "home"),
                    ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                    PATH="%s:%s" % (ANSIBLE_BIN, os.environ.get("PATH", "")))
    full_env.pop("ANSIBLE_CONFIG", None)
    full_env.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout, check=False,
                          cwd=str(workdir))
    return proc.returncode, proc.stdout + proc.stderr, log.read_text() if log.exists() else ""


def cluster_fixtures(name):
    """A test module's two fixtures, ``nodes, seeded_cluster = cluster_fixtures("my-tests")``: ``nodes``, one
    namespace cluster for the whole module (made under a temporary directory called *name*), and ``seeded_cluster``,
    the suite's etcd seeded anew with the incident's Calico objects for each test."""

    @pytest.fixture(scope="module")
    def nodes(tmp_path_factory):
        with Cluster.made(tmp_path_factory.mktemp(name)) as cluster:
            yield cluster

    @pytest.fixture
    def seeded_cluster(etcd, nodes):  # pylint: disable=redefined-outer-name  # pytest injects the fixture
        seed_cluster(etcd.raw)
        return etcd

    return nodes, seeded_cluster
