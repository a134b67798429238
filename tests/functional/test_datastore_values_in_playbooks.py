"""Values read from the datastore by the modules are never templated on the controller, on every ansible-core the
collection claims (`make oldest-core` runs this with ansible-core 2.16, where only what is marked unsafe is safe).

A Calico Node is written by every calico-node (and, with the Kubernetes datastore, by whoever can annotate a Node):
its name and addresses must stay text through `register`, `set_fact`, filters and templates. The modules' results
are marked unsafe by ansible-core itself when they are registered; this test holds that for the values that end up in
the role's templates (node names and addresses, trap messages quoting them), through a real `ansible-playbook` run
against the suite's real etcd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import COLLECTIONS

ANSIBLE_BIN = Path(sys.executable).parent
NODES_V3 = "/calico/resources/v3/projectcalico.org/nodes/"


def test_node_values_from_ippool_info_are_not_templated(seeded, tmp_path):
    marker = {field: tmp_path / ("ran-" + field) for field in ("name", "address", "tunnel")}

    def payload(field):
        return "{{ lookup('pipe', 'touch %s') }}" % marker[field]

    seeded.raw.put(NODES_V3 + "evil", json.dumps({
        "kind": "Node", "apiVersion": "projectcalico.org/v3", "metadata": {"name": "evil" + payload("name")},
        "spec": {"bgp": {"ipv4Address": "10.0.1.9/24", "ipv4IPIPTunnelAddr": payload("tunnel")}}}))
    seeded.raw.put(NODES_V3 + "evil-address", json.dumps({
        "kind": "Node", "apiVersion": "projectcalico.org/v3", "metadata": {"name": "evil-address"},
        "spec": {"bgp": {"ipv4Address": payload("address")}}}))
    report = tmp_path / "report.txt"
    playbook = tmp_path / "play.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the pools and nodes
      k8snet.calico.ippool_info:
        datastore: etcdv3
        etcd_endpoints: ["%(url)s"]
      register: info
    - name: Keep what the report quotes
      ansible.builtin.set_fact:
        quoted: "{{ info.nodes | map(attribute='name') | list + info.nodes | map(attribute='ipv4_address') | list }}"
        names: "{{ info.nodes | map(attribute='name') | join(', ') }}"
        messages: "{{ info.traps | map(attribute='message') | list }}"
        # (ipip_verdict refuses a node whose address is not a CIDR: that one is left out here)
        verdicts: "{{ {} | k8snet.calico.ipip_verdict(nodes=info.nodes | rejectattr('name', 'eq', 'evil-address'),
                      affinities=info.block_affinities, pools=info.pools) }}"
    - name: Use them later, where ansible-core < 2.19 templates a plain string again
      ansible.builtin.debug:
        msg: "{{ names }} {{ quoted }} {{ messages }} {{ info.nodes | map(attribute='ipip_tunnel_address') }}"
    - name: Write them as the report does
      ansible.builtin.copy:
        content: "{{ names }}\\n{{ messages | to_nice_json }}\\n{{ verdicts | to_json }}\\n"
        dest: "%(report)s"
        mode: "0600"
""" % {"url": seeded.url, "report": report})
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    proc = subprocess.run([str(ANSIBLE_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)],
                          capture_output=True, text=True, env=env, timeout=180, check=False, cwd=str(tmp_path))
    output = proc.stdout + proc.stderr
    ran = sorted(field for field, path in marker.items() if path.exists())
    assert ran == [], "datastore values were templated (%s):\n%s" % (ran, output)
    assert proc.returncode == 0, output
    assert "lookup('pipe'" in report.read_text()  # the text itself, kept as text
