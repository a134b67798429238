"""node_routes_info on a live node: real kernel tables in a scratch network namespace, read through Ansible.

Also proves the text fallback: a stand-in ``ip`` that rejects ``-j`` the way iproute2 3.10 (CentOS 7) does, in
front of the real one, must yield the same result as the JSON path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import COLLECTIONS, json_callback_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"), reason="needs root and iproute2")

NO_JSON_IP = """#!/bin/sh
# Stand-in for an iproute2 without JSON output (CentOS 7's 3.10): rejects -j, otherwise runs the real ip.
for a in "$@"; do
  if [ "$a" = "-j" ]; then echo 'Option "-j" is unknown, try "ip -help".' >&2; exit 255; fi
done
exec %s "$@"
"""


@pytest.fixture
def node_namespace():
    name = "k8snet-live-%s" % uuid.uuid4().hex[:8]
    steps = [
        "netns add {ns}", "-n {ns} link set lo up",
        "-n {ns} link add eth0 type veth peer name eth0-peer", "-n {ns} link set eth0 up",
        "-n {ns} link set eth0-peer up", "-n {ns} addr add 10.39.0.110/24 dev eth0",
        "-n {ns} route add default via 10.39.0.1 dev eth0 proto static metric 100",
        "-n {ns} route add blackhole 192.168.70.0/26 proto bird",
        "-n {ns} route add 192.168.169.192/26 via 10.39.0.1 dev eth0 proto bird",
        "-n {ns} route add 192.168.80.0/26 via 10.39.0.111 dev eth0 proto 80",
    ]
    try:
        for step in steps:
            subprocess.run(["ip"] + step.format(ns=name).split(), check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def run_module(namespace, tmp_path, path_prefix=None):
    """The module through the real `ansible` CLI of the ansible-core running these tests (the `ansible` next to
    sys.executable, not whichever one PATH finds first), inside the namespace."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOCAL_TEMP=str(tmp_path),
               ANSIBLE_HOME=str(tmp_path), **json_callback_env())
    env.pop("ANSIBLE_CONFIG", None)
    if path_prefix:
        env["PATH"] = path_prefix + os.pathsep + env["PATH"]
    ansible = str(Path(sys.executable).parent / "ansible")
    cmd = ["ip", "netns", "exec", namespace, ansible, "localhost", "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable,
           "-m", "k8snet.calico.node_routes_info", "-a", json.dumps({"pools": ["192.168.0.0/16"]})]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout[proc.stdout.find("{"):])["plays"][0]["tasks"][0]["hosts"]["localhost"]


def pop_read_at(result, before):
    """The read time (taken out of ``source`` for the comparisons): UTC, between the call's start and now."""
    stamp = datetime.fromisoformat(result["source"].pop("read_at"))
    assert stamp.utcoffset() == timedelta(0)
    # millisecond resolution: the start is truncated to compare like with like
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= stamp <= datetime.now(timezone.utc)


def test_live_json_and_text_paths_agree(node_namespace, tmp_path):
    before = datetime.now(timezone.utc)
    with_json = run_module(node_namespace, tmp_path)
    pop_read_at(with_json, before)
    assert with_json["source"] == {"mode": "live", "routes": "json", "links": "json"}
    kinds = dict((r["dst"], r["kind"]) for r in with_json["routes"])
    assert kinds["192.168.169.192/26"] == "via_gateway"
    assert kinds["192.168.80.0/26"] == "direct"
    assert kinds["192.168.70.0/26"] == "own_block"
    assert with_json["tunnel"]["exists"] is False
    assert with_json["default_gateway"] == "10.39.0.1"

    bindir = tmp_path / "old-iproute"
    bindir.mkdir()
    (bindir / "ip").write_text(NO_JSON_IP % shutil.which("ip"))
    (bindir / "ip").chmod(0o755)
    before = datetime.now(timezone.utc)
    with_text = run_module(node_namespace, tmp_path, path_prefix=str(bindir))
    pop_read_at(with_text, before)
    assert with_text["source"] == {"mode": "live", "routes": "text", "links": "text"}
    for key in ("routes", "summary", "tunnel", "addresses", "default_gateway", "uplink", "connected_networks"):
        assert with_text[key] == with_json[key], key


def test_live_vxlan_device_and_its_arp_and_fdb_are_read(node_namespace, tmp_path):
    """A real kernel vxlan.calico as Felix keeps it: VNI, port, and the ARP and FDB entry of a remote VTEP, read
    in the same module run, on the JSON and the text path alike."""
    for step in ("link add vxlan.calico type vxlan id 4096 local 10.39.0.110 dev eth0 dstport 4789 nolearning",
                 "link set vxlan.calico mtu 1450 up", "addr add 192.168.70.0/32 dev vxlan.calico",
                 "neigh add 192.168.169.192 lladdr 66:c5:8e:27:41:02 dev vxlan.calico nud permanent"):
        subprocess.run(["ip", "-n", node_namespace] + step.split(), check=True)
    subprocess.run(["bridge", "-n", node_namespace, "fdb", "add", "66:c5:8e:27:41:02", "dev", "vxlan.calico",
                    "dst", "10.39.3.75", "self", "permanent"], check=True)
    with_json = run_module(node_namespace, tmp_path)["vxlan"]
    assert (with_json["exists"], with_json["vni"], with_json["port"], with_json["mtu"]) == (True, 4096, 4789, 1450)
    assert with_json["neighbours"] == {"192.168.169.192": "66:c5:8e:27:41:02"}
    assert with_json["fdb"] == {"66:c5:8e:27:41:02": ["10.39.3.75"]}
    bindir = tmp_path / "old-iproute"
    bindir.mkdir()
    (bindir / "ip").write_text(NO_JSON_IP % shutil.which("ip"))
    (bindir / "ip").chmod(0o755)
    assert run_module(node_namespace, tmp_path, path_prefix=str(bindir))["vxlan"] == with_json
