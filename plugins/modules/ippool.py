#!/usr/bin/python
# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ippool
short_description: Set IP-in-IP, VXLAN and NAT on one Calico IP pool, safely, on any Calico datastore
version_added: 0.1.0
description:
  - Sets O(ipip_mode), O(vxlan_mode) and O(nat_outgoing) on one existing Calico IP pool selected by O(name) or
    O(cidr), writing the datastore's exact canonical form (v3 modes are case-sensitive; lowercase C(always) in a
    CRD silently means no IPIP).
  - Checks Calico's own validation rules first (no IPIP together with VXLAN, no IPIP on IPv6, masked CIDR, no
    link-local overlap, block size, LoadBalancer pools); a request that breaks one writes nothing.
  - Writes are compare-and-swap. When another writer got in between, everything is read and decided again, up to
    O(retries) times; a concurrent change is never overwritten. When the retries run out the module fails, naming
    the object that kept changing; if it had already written something (the pool, before its Felix write lost), the
    failed result still has C(changed=true), RV(writes) and RV(previous).
  - With O(datastore=calicoctl) and calicoctl v1 (Calico v2), which has no resource versions, the module re-reads
    the pool just before C(calicoctl replace) and skips the write as a conflict if it changed, which narrows the race
    with another writer but cannot close it (O(datastore=etcdv2) on the same cluster can).
  - Returns RV(previous), the exact stored object before the change. Give it back as O(restore) to roll back, byte
    for byte on etcd.
  - With O(datastore=etcdv2) it also sets the global Felix key C(/calico/v1/config/IpInIpEnabled=true) when the
    result has an IPIP pool, as Calico v2's own client (and calicoctl v1) does; without it Felix never creates C(tunl0).
author:
  - k8snet.calico maintainers (@k8snet)
extends_documentation_fragment:
  - k8snet.calico.datastore
attributes:
  check_mode:
    description: Reads, validates and reports the change; writes nothing.
    support: full
  diff_mode:
    description: Shows the stored object before and after.
    support: full
options:
  name:
    description:
      - Name of the pool. Calico v2 pools have no name; use O(cidr), or their CIDR as the name.
      - Exactly one of O(name), O(cidr) and O(restore) is required.
    type: str
  cidr:
    description: CIDR of the pool, for example V(192.168.0.0/16).
    type: str
  ipip_mode:
    description:
      - IP-in-IP mode. V(Always) encapsulates all traffic between nodes, V(CrossSubnet) only traffic to nodes in
        another subnet, V(Never) none.
      - The Calico v1 spellings V(always), V(cross-subnet) and V(off) are accepted and written in the datastore's
        own form.
      - Unset leaves the mode as it is.
    type: str
    choices: [Always, CrossSubnet, Never, always, cross-subnet, 'off']
  vxlan_mode:
    description:
      - VXLAN mode (Calico v3 only). IPIP and VXLAN cannot both be on; set V(Never) when turning IPIP on in a VXLAN pool.
      - Unset leaves the mode as it is.
    type: str
    choices: [Always, CrossSubnet, Never]
  nat_outgoing:
    description: Masquerade traffic from the pool to destinations outside the Calico pools. Unset leaves it as it is.
    type: bool
  strip_legacy_ipip:
    description:
      - Remove the deprecated C(spec.ipip) and C(spec.nat-outgoing) fields left in a C(crd.projectcalico.org) pool by
        Calico v2. While C(spec.ipip) is there it overrides C(spec.ipipMode), so without this option a change of
        O(ipip_mode) on such a pool fails. What Calico did is kept unless O(ipip_mode) or O(nat_outgoing) say otherwise.
    type: bool
    default: false
  fix_felix_ipip:
    description:
      - When the result has an IPIP pool, also set C(ipipEnabled=true) in FelixConfiguration C(default) if it is
        V(false) (kubespray writes that) or unset (Calico up to v3.22 needs it; its own client sets it the same way).
      - Without this, an explicit V(false) is reported in RV(traps) and IPIP will not work.
      - Not needed with O(datastore=etcdv2), where the global key is always set.
    type: bool
    default: false
  fix_felix_vxlan:
    description:
      - When the result has a VXLAN pool, also set C(vxlanEnabled=true) in FelixConfiguration C(default) if it is
        V(false) (kubespray writes that when C(calico_vxlan_mode) is V(Never)) or unset (Calico up to v3.22 needs it).
      - Without this, an explicit V(false) is reported in RV(traps) and Felix creates no C(vxlan.calico).
    type: bool
    default: false
  operator_managed:
    description:
      - What to do when the pool is managed by tigera-operator (label C(app.kubernetes.io/managed-by=tigera-operator)),
        which reverts direct edits to match its Installation.
      - V(fail) refuses and explains. V(edit_installation) changes the matching
        C(spec.calicoNetwork.ipPools[].encapsulation) (and C(natOutgoing)) of Installation C(default) instead, and
        the operator updates the pool.
    type: str
    choices: [fail, edit_installation]
    default: fail
  retries:
    description: How many times to re-read and retry after losing a compare-and-swap to another writer.
    type: int
    default: 5
  restore:
    description:
      - Write back a RV(previous) (or RV(previous_felix)) value that an earlier run returned, instead of changing
        a pool. On etcd the exact stored bytes are written back; on Kubernetes and calicoctl the object is.
      - The write is compare-and-swap against the current object. Reports no change when it already matches.
    type: dict
  expected_revision:
    description:
      - With O(restore), only restore if the object is still at this revision, that is nobody changed it after the
        run that returned RV(previous). Use the C(revision) in that run's RV(writes).
    type: str
"""

EXAMPLES = r"""
- name: Enable IPIP (cross-subnet) on the default pool of a Calico v3 etcd datastore
  k8snet.calico.ippool:
    datastore: etcdv3
    etcd_endpoints: ["https://10.0.0.10:2379"]
    etcd_ca: /etc/calico/certs/ca.pem
    etcd_cert: /etc/calico/certs/cert.pem
    etcd_key: /etc/calico/certs/key.pem
    name: default-ipv4-ippool
    ipip_mode: CrossSubnet
    vxlan_mode: Never
    fix_felix_ipip: true
  register: pool_change

- name: Roll the pool back if a later check failed
  k8snet.calico.ippool:
    datastore: etcdv3
    etcd_endpoints: ["https://10.0.0.10:2379"]
    etcd_ca: /etc/calico/certs/ca.pem
    etcd_cert: /etc/calico/certs/cert.pem
    etcd_key: /etc/calico/certs/key.pem
    restore: "{{ pool_change.previous }}"
    expected_revision: "{{ (pool_change.writes | selectattr('what', 'eq', 'pool') | first).revision }}"
  when: pool_change is changed

- name: Calico v2 (the v1 spelling is accepted)
  k8snet.calico.ippool:
    datastore: etcdv2
    etcd_endpoints: ["http://127.0.0.1:2379"]
    cidr: 192.168.0.0/16
    ipip_mode: always

- name: Operator-managed cluster - change the Installation and let the operator update the pool
  k8snet.calico.ippool:
    datastore: kubernetes
    kubeconfig: /etc/kubernetes/admin.conf
    name: default-ipv4-ippool
    ipip_mode: Always
    vxlan_mode: Never
    operator_managed: edit_installation
"""

RETURN = r"""
pool:
  description: The pool after the change (as it will be in check mode), normalised as in M(k8snet.calico.ippool_info).
    With O(operator_managed=edit_installation), the pool as the operator will make it.
  returned: unless O(restore) is used
  type: dict
  sample: {name: default-ipv4-ippool, cidr: 192.168.0.0/16, ipip_mode: Always, vxlan_mode: Never, nat_outgoing: true}
previous:
  description:
    - The stored object before the change (the Installation when that was edited instead). Pass it as O(restore)
      to put it back.
    - C(text) holds the exact stored bytes on etcd, C(object) the decoded object, C(revision) the compare-and-swap
      token it had, C(exists) whether it existed.
  returned: unless O(restore) is used
  type: dict
  sample: {datastore: etcdv3, key: /calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool, kind: ippool,
           exists: true, revision: "5", text: '{"kind":"IPPool",...}', object: {kind: IPPool}}
previous_felix:
  description: The Felix setting before it was changed (same form as RV(previous)), or null when it was not changed.
  returned: unless O(restore) is used
  type: dict
writes:
  description:
    - What was written, in order, with the revision each write produced (use it as O(expected_revision)).
    - Also in a failed result when the module gave up on compare-and-swap conflicts after some writes went through.
    - With O(datastore=calicoctl) (v3), which does not print what it wrote, the revision is C(superseded) when another
      writer had already replaced the object when it was read back; a restore with it as O(expected_revision) refuses.
  returned: always
  type: list
  elements: dict
  sample: [{key: /calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool, kind: ippool, revision: "7", what: pool}]
conflicts:
  description: How many compare-and-swap conflicts with other writers were retried.
  returned: always
  type: int
  sample: 0
via:
  description: V(pool) when the pool itself was written, V(installation) when the operator's Installation was.
  returned: unless O(restore) is used
  type: str
traps:
  description: Named problems found while reading (see M(k8snet.calico.ippool_info)); also emitted as warnings.
  returned: unless O(restore) is used
  type: list
  elements: dict
restored:
  description: The record written back by O(restore).
  returned: when O(restore) is used
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import DatastoreError
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_args import (
    DATASTORE_REQUIRED_IF,
    DATASTORE_REQUIRED_TOGETHER,
    datastore_arg_spec,
    open_datastore,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import ensure, restore
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_plan import PlanError


def main() -> None:
    argument_spec = datastore_arg_spec()
    argument_spec.update(
        name={"type": "str"},
        cidr={"type": "str"},
        ipip_mode={"type": "str", "choices": ["Always", "CrossSubnet", "Never", "always", "cross-subnet", "off"]},
        vxlan_mode={"type": "str", "choices": ["Always", "CrossSubnet", "Never"]},
        nat_outgoing={"type": "bool"},
        strip_legacy_ipip={"type": "bool", "default": False},
        fix_felix_ipip={"type": "bool", "default": False},
        fix_felix_vxlan={"type": "bool", "default": False},
        operator_managed={"type": "str", "choices": ["fail", "edit_installation"], "default": "fail"},
        retries={"type": "int", "default": 5},
        restore={"type": "dict"},
        expected_revision={"type": "str"},
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=DATASTORE_REQUIRED_IF,
        required_together=DATASTORE_REQUIRED_TOGETHER,
        required_one_of=[["name", "cidr", "restore"]],
        mutually_exclusive=[["name", "cidr", "restore"], ["restore", "ipip_mode"], ["restore", "vxlan_mode"],
                            ["restore", "nat_outgoing"]],
        required_by={"expected_revision": "restore"},
        supports_check_mode=True,
    )
    params = module.params
    if not 0 <= params["retries"] <= 100:
        module.fail_json(msg="retries: %r is out of range; use 0 to 100" % params["retries"])
    datastore = open_datastore(module)
    try:
        if params["restore"] is not None:
            result = restore(datastore, params["restore"], params["expected_revision"], module.check_mode, params["retries"])
        else:
            request = {k: params[k] for k in ("name", "cidr", "ipip_mode", "vxlan_mode", "nat_outgoing",
                                              "strip_legacy_ipip", "fix_felix_ipip", "fix_felix_vxlan",
                                              "operator_managed")}
            result = ensure(datastore, request, module.check_mode, params["retries"])
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    except DatastoreError as exc:
        # A change that gave up after some writes went through says so: changed, writes, previous.
        module.fail_json(msg=str(exc), endpoint=exc.endpoint, **getattr(exc, "partial", {}))
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    for trap in result.get("traps") or []:
        module.warn("%s: %s" % (trap["name"], trap["message"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
