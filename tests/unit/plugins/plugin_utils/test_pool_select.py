"""Which pools a list of names or CIDRs means (plugin_utils/_pool_select.py): the role's ipip_pools (filter
ipip_target_pools) and the verdict's scope match them the same way."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_target_pools import ipip_target_pools
from ansible_collections.k8snet.calico.plugins.plugin_utils._verdict import pool_table

POOLS = [{"name": "default-ipv4-ippool", "cidr": "192.168.0.0/16", "ipip_mode": "Never", "vxlan_mode": "Never"},
         {"name": None, "cidr": "10.244.0.0/16", "ipip_mode": "Never", "vxlan_mode": "Never"},   # Calico v2
         {"name": "default-ipv6-ippool", "cidr": "fd00:10:244::/64", "ipip_mode": "Never", "vxlan_mode": "Never"}]


@pytest.mark.parametrize("wanted, chosen", [
    ([], ["192.168.0.0/16", "10.244.0.0/16"]),                      # every IPv4 pool
    (["default-ipv4-ippool"], ["192.168.0.0/16"]),
    (["10.244.0.0/16"], ["10.244.0.0/16"]),
    (["10.244.1.0/16"], ["10.244.0.0/16"]),                         # the same network written another way
    (["10.244.0.0/16", "default-ipv4-ippool"], ["192.168.0.0/16", "10.244.0.0/16"]),  # the datastore's order
])
def test_pools_are_chosen_by_name_or_cidr(wanted, chosen):
    out = ipip_target_pools(POOLS, wanted)
    assert [p["cidr"] for p in out["pools"]] == chosen and out["message"] is None


def test_a_missing_pool_is_named_with_the_pools_there_are():
    out = ipip_target_pools(POOLS, ["default-ipv4-ippool", "nope"])
    assert out["missing"] == ["nope"]
    assert out["message"] == ("ipip_pools: nope not found; the datastore has default-ipv4-ippool 192.168.0.0/16, "
                              "None 10.244.0.0/16, default-ipv6-ippool fd00:10:244::/64.")


def test_an_ipv6_pool_is_never_chosen_and_said_so():
    out = ipip_target_pools(POOLS, ["default-ipv6-ippool"])
    assert out["pools"] == [] and out["missing"] == []
    assert out["message"].startswith("ipip_pools: no IPv4 pool found (default-ipv6-ippool: IPv6, and IPIP carries "
                                     "IPv4 only)")
    assert ipip_target_pools([], [])["message"] == "ipip_pools: no IPv4 pool found; the datastore has no pools."


def test_the_verdicts_scope_matches_the_same_way():
    scoped = [entry[-1] for entry in pool_table(POOLS, scope=["10.244.1.0/16"])]
    assert scoped == [False, True, False]
    assert [e[-1] for e in pool_table(POOLS, scope=["default-ipv4-ippool"])] == [True, False, False]


@pytest.mark.parametrize("pools, wanted", [("x", []), ([5], []), (POOLS, "default-ipv4-ippool")])
def test_bad_input_is_named(pools, wanted):
    with pytest.raises(AnsibleFilterError, match="^ipip_target_pools: "):
        ipip_target_pools(pools, wanted)
