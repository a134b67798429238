"""The vxlan_pool trap (issue 12): every pool that uses VXLAN is named, with what enabling IPIP on it would do."""

from __future__ import annotations

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import normalise_pool
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_traps import find_traps
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import load


def v3_pool(name, **spec):
    obj = load("etcdv3-ippool.json")
    obj["metadata"]["name"] = name
    obj["spec"].update(spec)
    return normalise_pool(obj, "etcdv3")


def vxlan_traps(pools):
    return [t for t in find_traps(pools, None, [], None, "etcdv3") if t["name"] == "vxlan_pool"]


@pytest.mark.parametrize("mode", ["Always", "CrossSubnet"])
def test_a_vxlan_pool_is_a_trap_naming_the_pool_its_mode_and_the_ways_out(mode):
    # kubespray's default pool: calico_network_backend vxlan, vxlanMode Always (docs/kubespray.md)
    pool = v3_pool("default-pool", cidr="10.233.64.0/18", ipipMode="Never", vxlanMode=mode)
    (trap,) = vxlan_traps([pool])
    assert trap["subject"] == "default-pool"
    message = trap["message"]
    for fragment in ("default-pool (10.233.64.0/18)", "vxlanMode %s" % mode, "sets vxlanMode to Never",
                     "ipip_replace_vxlan: true", "ipip_pools", "vxlan.calico"):
        assert fragment in message, message


def test_only_pools_using_vxlan_are_named():
    pools = [v3_pool("ipip", cidr="192.168.0.0/16", ipipMode="Always", vxlanMode="Never"),
             v3_pool("flat", cidr="10.244.0.0/16", ipipMode="Never", vxlanMode="Never"),
             v3_pool("vx", cidr="172.16.0.0/16", ipipMode="Never", vxlanMode="Always"),
             # lowercase is not a VXLAN mode Calico knows: it acts as Never (mode_not_canonical says so)
             v3_pool("lower", cidr="172.17.0.0/16", ipipMode="Never", vxlanMode="always")]
    assert [t["subject"] for t in vxlan_traps(pools)] == ["vx"]
