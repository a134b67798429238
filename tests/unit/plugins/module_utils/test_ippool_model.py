"""Pure pool model: mode spellings, normalisation of every stored format, canonical objects to store.

Fed the Calico samples copied from the project's shared samples (tests/unit/fixtures/calico/).
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils import _ippool_model as model
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import FIXTURES, load


def text(name):
    return (FIXTURES / name).read_text().strip()


@pytest.mark.parametrize("value, expected", [
    ("Always", "Always"), ("CrossSubnet", "CrossSubnet"), ("Never", "Never"),
    ("always", "Always"), ("cross-subnet", "CrossSubnet"), ("off", "Never"),
])
def test_parse_ipip_mode_accepts_v3_and_v1_spellings(value, expected):
    assert model.parse_ipip_mode(value) == expected


@pytest.mark.parametrize("value", ["ALWAYS", "crosssubnet", "Cross-Subnet", "never", "on", "", None, True, 1, "Always "])
def test_parse_ipip_mode_rejects_others_naming_field_value_and_allowed(value):
    with pytest.raises(model.ModeError) as err:
        model.parse_ipip_mode(value)
    message = str(err.value)
    assert message.startswith("ipip_mode: %r" % (value,))
    assert "Always, CrossSubnet, Never" in message


@pytest.mark.parametrize("value", ["always", "cross-subnet", "off", "VXLAN"])
def test_parse_vxlan_mode_has_no_v1_spellings(value):
    with pytest.raises(model.ModeError, match="vxlan_mode"):
        model.parse_vxlan_mode(value)


@pytest.mark.parametrize("enc, modes", [
    ("IPIP", ("Always", "Never")), ("IPIPCrossSubnet", ("CrossSubnet", "Never")), ("VXLAN", ("Never", "Always")),
    ("VXLANCrossSubnet", ("Never", "CrossSubnet")), ("None", ("Never", "Never")),
])
def test_operator_encapsulation_round_trip(enc, modes):
    assert model.parse_encapsulation(enc) == modes
    assert model.encapsulation_for(*modes) == enc


def test_parse_encapsulation_rejects_lowercase():
    with pytest.raises(model.ModeError, match="IPIPCrossSubnet"):
        model.parse_encapsulation("ipip")


@pytest.mark.parametrize("sample, fmt, name", [
    ("etcdv3-ippool.json", model.FMT_V3, "default-ipv4-ippool"),
    ("kdd-ippool-crd.json", model.FMT_CRD, "default-ipv4-ippool"),
    ("etcdv2-pool-value.json", model.FMT_V1_KV, "192.168.0.0/16"),
])
def test_normalise_each_format(sample, fmt, name):
    pool = model.normalise_pool(load(sample), "x")
    assert pool["format"] == fmt
    assert pool["name"] == name
    assert pool["cidr"] == "192.168.0.0/16"
    assert pool["nat_outgoing"] is True
    assert pool["block_size"] == 26
    assert pool["raw"] == load(sample)


def test_normalise_etcdv2_sample_is_ipip_always():
    pool = model.normalise_pool(load("etcdv2-pool-value.json"), "etcdv2")
    assert (pool["ipip_mode"], pool["vxlan_mode"], pool["disabled"]) == ("Always", "Never", False)


def test_normalise_seed_calicoctl_v1_list_has_ipip_off():
    (obj,) = load("calicoctl-v1-ippool-list.json")
    pool = model.normalise_pool(obj, "calicoctl")
    assert pool["format"] == model.FMT_V1_API
    assert (pool["name"], pool["ipip_mode"], pool["nat_outgoing"]) == ("192.168.0.0/16", "Never", True)


def test_normalise_v3_list_item():
    (obj,) = load("calicoctl-v3-ippool-list.json")["items"]
    pool = model.normalise_pool(obj, "calicoctl")
    assert pool["ipip_mode"] == "Never"
    assert pool["node_selector"] == "all()"


@pytest.mark.parametrize("stored, effective", [("Always", "Always"), ("CrossSubnet", "CrossSubnet"), ("always", "Never"),
                                               ("crossSubnet", "Never"), (None, "Never"), ("", "Never")])
def test_v3_mode_values_other_than_exact_case_mean_never(stored, effective):
    obj = load("kdd-ippool-crd.json")
    if stored is None:
        del obj["spec"]["ipipMode"]
    else:
        obj["spec"]["ipipMode"] = stored
    assert model.normalise_pool(obj, "kubernetes")["ipip_mode"] == effective


@pytest.mark.parametrize("legacy, effective", [
    ({"enabled": True, "mode": "cross-subnet"}, "CrossSubnet"), ({"enabled": True}, "Always"),
    ({"enabled": True, "mode": "always"}, "Always"), ({"enabled": False, "mode": "always"}, "Never"),
])
def test_legacy_crd_ipip_overrides_ipipmode(legacy, effective):
    obj = load("kdd-ippool-crd.json")
    obj["spec"]["ipipMode"] = "Always" if effective == "Never" else "Never"
    obj["spec"]["ipip"] = legacy
    pool = model.normalise_pool(obj, "kubernetes")
    assert pool["ipip_mode"] == effective
    assert pool["legacy_ipip"] == legacy


def test_legacy_nat_outgoing_is_ored_in():
    obj = load("kdd-ippool-crd.json")
    del obj["spec"]["natOutgoing"]
    obj["spec"]["nat-outgoing"] = True
    assert model.normalise_pool(obj, "kubernetes")["nat_outgoing"] is True


@pytest.mark.parametrize("obj", [None, [], "text", {"kind": "Node"}, {"kind": "IPPool", "apiVersion": "v9"},
                                 {"kind": "IPPool", "apiVersion": "projectcalico.org/v3", "spec": "x"},
                                 {"kind": "IPPool", "apiVersion": "projectcalico.org/v3", "spec": {}}])
def test_not_a_pool_raises_pool_format_error(obj):
    with pytest.raises(model.PoolFormatError):
        model.normalise_pool(obj, "etcdv3")


def test_etcdv3_change_touches_exactly_ipipmode_bytes():
    """The issue's acceptance: only spec.ipipMode differs, every other byte as Calico stored it."""
    stored = text("etcdv3-ippool.json")
    new = model.desired_pool_object(json.loads(stored), ipip_mode="Always")
    assert model.go_json(new) == stored.replace('"ipipMode":"Never"', '"ipipMode":"Always"')


def test_go_json_round_trips_the_sample_and_escapes_like_go():
    stored = text("etcdv3-ippool.json")
    assert model.go_json(json.loads(stored)) == stored
    assert model.go_json({"s": "a && b <c>"}) == '{"s":"a \\u0026\\u0026 b \\u003cc\\u003e"}'


def test_v3_nat_outgoing_false_is_omitted_like_go_omitempty():
    new = model.desired_pool_object(load("etcdv3-ippool.json"), nat_outgoing=False)
    assert "natOutgoing" not in new["spec"]
    assert model.desired_pool_object(new, nat_outgoing=True)["spec"]["natOutgoing"] is True


def test_v3_resource_version_never_stored():
    obj = load("calicoctl-v3-ippool-list.json")["items"][0]
    assert "resourceVersion" not in model.desired_pool_object(obj, ipip_mode="Always")["metadata"]


def test_crd_keeps_resource_version_for_cas():
    new = model.desired_pool_object(load("kdd-ippool-crd.json"), ipip_mode="CrossSubnet", vxlan_mode="Never")
    assert new["metadata"]["resourceVersion"] == "58213"
    assert new["spec"]["ipipMode"] == "CrossSubnet"


def test_unchanged_request_gives_equal_object():
    obj = load("kdd-ippool-crd.json")
    assert model.desired_pool_object(obj, ipip_mode="Never", vxlan_mode="Never", nat_outgoing=True) == obj


@pytest.mark.parametrize("mode, expected", [("Always", {"enabled": True, "mode": "always"}),
                                            ("CrossSubnet", {"enabled": True, "mode": "cross-subnet"})])
def test_calicoctl_v1_writes_enabled_explicitly(mode, expected):
    (obj,) = load("calicoctl-v1-ippool-list.json")
    new = model.desired_pool_object(obj, ipip_mode=mode)
    assert new["spec"]["ipip"] == expected
    assert model.normalise_pool(new, "calicoctl")["ipip_mode"] == mode


def test_calicoctl_v1_never_removes_ipip_object():
    (obj,) = load("calicoctl-v1-ippool-list.json")
    on = model.desired_pool_object(obj, ipip_mode="Always")
    assert model.desired_pool_object(on, ipip_mode="Never") == obj


@pytest.mark.parametrize("mode, ipip, ipip_mode", [("Always", "tunl0", "always"), ("CrossSubnet", "tunl0", "cross-subnet"),
                                                   ("Never", "", "")])
def test_etcdv2_value_fields(mode, ipip, ipip_mode):
    new = model.desired_pool_object(load("etcdv2-pool-value.json"), ipip_mode=mode)
    assert (new["ipip"], new["ipip_mode"]) == (ipip, ipip_mode)
    assert list(new) == ["cidr", "ipip", "ipip_mode", "masquerade", "ipam", "disabled"]


def test_etcdv2_sample_bytes_survive_a_no_op():
    stored = text("etcdv2-pool-value.json")
    assert model.go_json(model.desired_pool_object(json.loads(stored), ipip_mode="Always")) == stored


@pytest.mark.parametrize("sample", ["etcdv2-pool-value.json"])
def test_vxlan_refused_on_v2_formats(sample):
    with pytest.raises(model.ModeError, match="vxlan_mode"):
        model.desired_pool_object(load(sample), vxlan_mode="Always")


def test_strip_legacy_keeps_effective_behaviour():
    obj = load("kdd-ippool-crd.json")
    obj["spec"]["ipip"] = {"enabled": True, "mode": "cross-subnet"}
    obj["spec"]["nat-outgoing"] = True
    del obj["spec"]["natOutgoing"]
    new = model.desired_pool_object(obj, strip_legacy=True)
    assert "ipip" not in new["spec"] and "nat-outgoing" not in new["spec"]
    assert (new["spec"]["ipipMode"], new["spec"]["natOutgoing"]) == ("CrossSubnet", True)


def test_installation_entry_change():
    inst = load("operator-installation.json")
    new = model.desired_installation(inst, "192.168.0.0/16", "CrossSubnet", "Never", None)
    assert new["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "IPIPCrossSubnet"
    assert inst["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "None"
    with pytest.raises(model.PoolFormatError):
        model.desired_installation(inst, "10.0.0.0/8", "Always", "Never", None)


@pytest.mark.parametrize("cidr, ok", [("192.168.0.0/16", True), ("fd00::/64", True), ("192.168.1.0/16", False),
                                      ("192.168.0.0", False), ("banana", False), ("10.0.0.0/33", False), (None, False)])
def test_canonical_cidr(cidr, ok):
    if ok:
        assert model.canonical_cidr(cidr) == cidr
    else:
        with pytest.raises(ValueError):
            model.canonical_cidr(cidr)


def test_select_pool_by_name_or_cidr_and_lists_what_exists():
    pools = [model.normalise_pool(load("etcdv3-ippool.json"), "etcdv3")]
    assert model.select_pool(pools, name="default-ipv4-ippool")["cidr"] == "192.168.0.0/16"
    assert model.select_pool(pools, cidr="192.168.0.0/16")["name"] == "default-ipv4-ippool"
    with pytest.raises(LookupError, match="default-ipv4-ippool \\(192.168.0.0/16\\)"):
        model.select_pool(pools, name="nope; rm -rf /")
