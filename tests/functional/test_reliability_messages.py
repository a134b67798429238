"""Messages that point the right way (issue 16 item 7), against the suite's real etcd (plain and TLS with client
certificates): each mistake gets a message that says what to fix, and nothing is written."""

from __future__ import annotations

import json

from conftest import FELIX_KEY, etcd_args, run_module, warnings_of


def tls_args(proc, tls, **extra):
    return etcd_args(proc, etcd_ca=tls["ca"], **extra)


def test_no_client_certificate_says_etcd_wants_one(etcd_tls, tls_material, capsys):
    rev = etcd_tls.raw.revision()
    result = run_module("ippool", tls_args(etcd_tls, tls_material, name="default-ipv4-ippool", ipip_mode="Always"),
                        capsys=capsys)
    assert result["failed"] is True
    assert "client certificate" in result["msg"] and "etcd_cert" in result["msg"], result["msg"]
    assert "network path" not in result["msg"]
    assert etcd_tls.raw.revision() == rev


def test_client_cert_and_key_that_do_not_match_are_named(etcd_tls, tls_material, capsys):
    result = run_module("ippool_info", tls_args(etcd_tls, tls_material, etcd_cert=tls_material["client_cert"],
                                                etcd_key=tls_material["rogue_key"]), capsys=capsys)
    assert result["failed"] is True
    assert "etcd_key" in result["msg"] and "does not match" in result["msg"], result["msg"]


def test_http_to_a_tls_endpoint_says_use_https(etcd_tls, capsys):
    url = etcd_tls.url.replace("https://", "http://")
    result = run_module("ippool_info", {"datastore": "etcdv3", "etcd_endpoints": [url]}, capsys=capsys)
    assert result["failed"] is True
    assert "https://" in result["msg"] and "TLS" in result["msg"], result["msg"]


def test_kubernetes_option_with_etcd_datastore_warns(seeded, capsys):
    result = run_module("ippool_info", etcd_args(seeded, api_key="not-for-etcd"), capsys=capsys)
    assert not result.get("failed"), result
    assert any("api_key" in w and "etcdv3" in w for w in warnings_of(result)), warnings_of(result)
    assert "not-for-etcd" not in json.dumps(result)


def test_invalid_cidr_is_invalid_not_no_pool(seeded, capsys):
    rev = seeded.raw.revision()
    result = run_module("ippool", etcd_args(seeded, cidr="192.168.0.0/33", ipip_mode="Always"), capsys=capsys)
    assert result["failed"] is True
    assert "cidr" in result["msg"] and "192.168.0.0/33" in result["msg"] and "not a valid" in result["msg"], result
    assert "no pool" not in result["msg"].lower()
    assert seeded.raw.revision() == rev


def test_no_felix_warning_after_fix_felix_ipip_fixed_it(seeded, capsys):
    result = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always",
                                            fix_felix_ipip=True), capsys=capsys)
    assert result["changed"] is True
    assert json.loads(seeded.raw.get(FELIX_KEY))["spec"]["ipipEnabled"] is True
    assert not [w for w in warnings_of(result) if "felix_ipip_disabled" in w], warnings_of(result)
    assert "felix_ipip_disabled" not in [t["name"] for t in result["traps"]]
