#!/usr/bin/python
# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ippool_info
short_description: Gather Calico IP pools and what decides whether IP-in-IP actually happens
version_added: 0.1.0
description:
  - Reads every Calico IP pool from the datastore and returns it normalised to one shape, whatever the format
    (Calico v2 etcd values, calicoctl v1 C(ipPool), C(projectcalico.org/v3), C(crd.projectcalico.org/v1)).
  - Also returns what decides whether IPIP works once a pool has it, where the datastore holds it; the global
    Felix setting (C(ipipEnabled) or the v2 key C(IpInIpEnabled)), the tigera-operator Installation and which pools it
    manages, nodes with their BGP address (with prefix) and IPIP tunnel address, and block affinities.
  - Each trap found (for example kubespray's C(ipipEnabled=false), an operator-managed pool, a legacy C(spec.ipip)
    overriding C(ipipMode), a C(/32) node address) is returned in RV(traps) and shown as a warning.
author:
  - k8snet.calico maintainers (@k8snet)
extends_documentation_fragment:
  - k8snet.calico.datastore
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: N/A
options:
  gather_nodes:
    description:
      - Also read nodes and block affinities. Turn off on very large clusters when only pools are needed.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read the pools of a Calico v3 etcd datastore over TLS
  k8snet.calico.ippool_info:
    datastore: etcdv3
    etcd_endpoints: ["https://10.0.0.10:2379"]
    etcd_ca: /etc/calico/certs/ca.pem
    etcd_cert: /etc/calico/certs/cert.pem
    etcd_key: /etc/calico/certs/key.pem
  register: calico

- name: Show what would stop IPIP from working
  ansible.builtin.debug:
    msg: "{{ calico.traps | map(attribute='message') | list }}"

- name: Read a Kubernetes-datastore cluster
  k8snet.calico.ippool_info:
    datastore: kubernetes
    kubeconfig: /etc/kubernetes/admin.conf
  register: calico
"""

RETURN = r"""
pools:
  description: Every pool, normalised. Modes are what Calico does (a legacy C(spec.ipip) or a wrongly cased value is
    taken into account), the stored strings are in RV(pools[].ipip_mode_stored) and RV(pools[].raw).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: 'Pool name; Calico v2 pools have none, so their CIDR.'
      type: str
      sample: default-ipv4-ippool
    cidr:
      description: 'Pool CIDR.'
      type: str
      sample: 192.168.0.0/16
    ipip_mode:
      description: 'Effective IPIP mode: Always, CrossSubnet or Never.'
      type: str
      sample: Always
    vxlan_mode:
      description: 'Effective VXLAN mode: Always, CrossSubnet or Never.'
      type: str
      sample: Never
    nat_outgoing:
      description: 'Whether traffic leaving the pool is masqueraded.'
      type: bool
    disabled:
      description: 'Whether IPAM allocation from the pool is disabled.'
      type: bool
    block_size:
      description: 'IPAM block prefix length.'
      type: int
      sample: 26
    node_selector:
      description: 'Nodes that take addresses from the pool.'
      type: str
      sample: all()
    allowed_uses:
      description: "What the pool's addresses may be used for."
      type: list
      elements: str
    ipip_mode_stored:
      description: 'The IPIP mode string as stored (may be missing or wrongly cased).'
      type: str
    vxlan_mode_stored:
      description: 'The VXLAN mode string as stored.'
      type: str
    legacy_ipip:
      description: 'The deprecated C(spec.ipip) of a CRD pool, which overrides C(ipipMode).'
      type: dict
    operator_managed:
      description: 'Whether tigera-operator owns the pool (and reverts direct edits).'
      type: bool
    format:
      description: 'Stored format: v3, crd, v1-api (calicoctl v1) or v1-kv (Calico v2 etcd).'
      type: str
    datastore:
      description: 'The datastore it was read from.'
      type: str
      sample: etcdv3
    key:
      description: 'Where it is stored (etcd key, API path, or calicoctl resource).'
      type: str
    revision:
      description: 'Its compare-and-swap token (mod_revision, modifiedIndex, resourceVersion).'
      type: str
    raw:
      description: 'The object exactly as stored.'
      type: dict
felix:
  description:
    - The global Felix encapsulation settings. C(ipip_enabled) and C(vxlan_enabled) are null when unset (Calico v3.23+
      then derives them from the pools; Calico v2 treats an unset IPIP as off and has no VXLAN). C(vxlan_vni) and
      C(vxlan_port) are FelixConfiguration's C(vxlanVNI) and C(vxlanPort), null when unset (Felix then uses 4096 and
      4789).
    - Null when the datastore has no such object.
  returned: always
  type: dict
  sample: {name: default, ipip_enabled: false, vxlan_enabled: null, vxlan_vni: null, vxlan_port: null,
           key: /calico/resources/v3/projectcalico.org/felixconfigurations/default}
operator:
  description: The tigera-operator Installation C(default) (Kubernetes datastore only).
  returned: always
  type: dict
  contains:
    installation:
      description: 'API path of the Installation, or null without the operator.'
      type: str
    pools:
      description: 'Its C(spec.calicoNetwork.ipPools) entries.'
      type: list
      elements: dict
    managed_pools:
      description: 'Names of pools labelled C(app.kubernetes.io/managed-by=tigera-operator).'
      type: list
      elements: str
nodes:
  description:
    - Calico nodes (empty with O(gather_nodes=false)), with their BGP address and prefix, IPIP tunnel address and
      VXLAN tunnel address (the next hop of VXLAN routes to their blocks; v3 C(spec.ipv4VXLANTunnelAddr), Kubernetes
      annotation C(projectcalico.org/IPv4VXLANTunnelAddr); always null on Calico v2, which has no VXLAN).
  returned: always
  type: list
  elements: dict
  sample: [{name: node1, ipv4_address: 10.0.1.5/24, ipv4_prefix_length: 24, ipip_tunnel_address: 192.168.70.0,
            vxlan_tunnel_address: null, datastore: etcdv3}]
block_affinities:
  description: Which node owns which IPAM block (empty with O(gather_nodes=false) or through calicoctl).
  returned: always
  type: list
  elements: dict
  sample: [{node: node1, cidr: 192.168.70.0/26, state: confirmed}]
traps:
  description: Named problems that stop IPIP from working, each with the pool or node it concerns and what to do.
    (Named C(traps) because Ansible reserves C(warnings); each message is also emitted as a warning.)
  returned: always
  type: list
  elements: dict
  sample: [{name: felix_ipip_disabled, subject: felix, message: "FelixConfiguration default sets ipipEnabled: false ..."}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import DatastoreError
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_args import (
    DATASTORE_REQUIRED_IF,
    DATASTORE_REQUIRED_TOGETHER,
    datastore_arg_spec,
    open_datastore,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import gather


def info_result(snapshot: dict) -> dict:
    installation = snapshot["installation"]
    entries = ((installation.obj.get("spec") or {}).get("calicoNetwork") or {}).get("ipPools") if installation else None
    return {
        "pools": snapshot["pools"],
        "felix": snapshot["felix"],
        "operator": {
            "installation": installation.key if installation else None,
            "pools": entries or [],
            "managed_pools": [p["name"] for p in snapshot["pools"] if p.get("operator_managed")],
        },
        "nodes": snapshot["nodes"],
        "block_affinities": snapshot["block_affinities"],
        "traps": snapshot["traps"],
    }


def main() -> None:
    argument_spec = datastore_arg_spec()
    argument_spec.update(gather_nodes={"type": "bool", "default": True})
    module = AnsibleModule(argument_spec=argument_spec, required_if=DATASTORE_REQUIRED_IF,
                           required_together=DATASTORE_REQUIRED_TOGETHER, supports_check_mode=True)
    datastore = open_datastore(module)
    try:
        snapshot = gather(datastore, full=module.params["gather_nodes"])
    except DatastoreError as exc:
        module.fail_json(msg=str(exc), endpoint=exc.endpoint)
    result = info_result(snapshot)
    for trap in result["traps"]:
        module.warn("%s: %s" % (trap["name"], trap["message"]))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
