"""TLS verification and etcd credentials against real etcd: what works works, what must fail fails, with a message
naming the endpoint and what to do, and secrets never show up in the output."""

from __future__ import annotations

import json

from conftest import AUTH_PASSWORD, POOL_KEY, POOL_TEXT, etcd_args, run_ansible, run_module


def tls_args(proc, tls, **extra):
    args = etcd_args(proc, etcd_ca=tls["ca"], etcd_cert=tls["client_cert"], etcd_key=tls["client_key"])
    args.update(extra)
    return args


def test_tls_with_right_ca_and_client_cert_reads_and_writes(etcd_tls, tls_material, capsys):
    info = run_module("ippool_info", tls_args(etcd_tls, tls_material), capsys=capsys)
    assert {p["name"] for p in info["pools"]} == {"default-ipv4-ippool", "default-ipv6-ippool"}
    change = run_module("ippool", tls_args(etcd_tls, tls_material, name="default-ipv4-ippool", ipip_mode="Always"),
                        capsys=capsys)
    assert change["changed"] is True
    assert json.loads(etcd_tls.raw.get(POOL_KEY))["spec"]["ipipMode"] == "Always"
    back = run_module("ippool", tls_args(etcd_tls, tls_material, restore=change["previous"]), capsys=capsys)
    assert back["changed"] is True and etcd_tls.raw.get(POOL_KEY) == POOL_TEXT


def test_tls_wrong_ca_is_refused_with_advice(etcd_tls, tls_material, capsys):
    rev = etcd_tls.raw.revision()
    result = run_module("ippool", tls_args(etcd_tls, tls_material, etcd_ca=tls_material["rogue_ca"],
                                           name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert result["failed"] is True
    assert etcd_tls.url in result["msg"] and "certificate" in result["msg"].lower() and "etcd_ca" in result["msg"]
    assert etcd_tls.raw.revision() == rev


def test_tls_without_verification_still_needs_a_trusted_client_cert(etcd_tls, tls_material, capsys):
    ok = run_module("ippool_info", etcd_args(etcd_tls, validate_certs=False, etcd_cert=tls_material["client_cert"],
                                             etcd_key=tls_material["client_key"]), capsys=capsys)
    assert len(ok["pools"]) == 2
    rogue = run_module("ippool_info", tls_args(etcd_tls, tls_material, etcd_cert=tls_material["rogue_cert"],
                                               etcd_key=tls_material["rogue_key"]), capsys=capsys)
    assert rogue["failed"] is True and etcd_tls.url in rogue["msg"]


def test_plain_http_to_a_tls_endpoint_fails_clearly(etcd_tls, capsys):
    url = etcd_tls.url.replace("https://", "http://")
    result = run_module("ippool_info", {"datastore": "etcdv3", "etcd_endpoints": [url]}, capsys=capsys)
    assert result["failed"] is True and url in result["msg"]


def test_auth_right_password_works(etcd_auth, capsys):
    args = etcd_args(etcd_auth, etcd_username="calico", etcd_password=AUTH_PASSWORD)
    info = run_module("ippool_info", args, capsys=capsys)
    assert len(info["pools"]) == 2
    change = run_module("ippool", dict(args, name="default-ipv4-ippool", ipip_mode="CrossSubnet"), capsys=capsys)
    assert change["changed"] is True
    assert json.loads(etcd_auth.raw.get(POOL_KEY))["spec"]["ipipMode"] == "CrossSubnet"
    back = run_module("ippool", dict(args, restore=change["previous"]), capsys=capsys)
    assert back["changed"] is True and etcd_auth.raw.get(POOL_KEY) == POOL_TEXT


def test_auth_wrong_password_and_no_credentials_are_refused(etcd_auth, capsys):
    rev = etcd_auth.raw.revision()
    wrong = run_module("ippool", etcd_args(etcd_auth, etcd_username="calico", etcd_password="not-the-password",
                                           name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert wrong["failed"] is True
    assert etcd_auth.url in wrong["msg"] and "etcd_username and etcd_password" in wrong["msg"]
    anonymous = run_module("ippool", etcd_args(etcd_auth, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert anonymous["failed"] is True and "requires authentication" in anonymous["msg"]
    assert etcd_auth.raw.revision() == rev


def test_password_never_appears_in_ansible_output_even_with_vvv(etcd_auth):
    args = etcd_args(etcd_auth, etcd_username="calico", etcd_password=AUTH_PASSWORD, name="default-ipv4-ippool",
                     ipip_mode="Always")
    result, output = run_ansible("ippool", args, verbosity=3)
    assert result["changed"] is True
    assert AUTH_PASSWORD not in output
    failed, output = run_ansible("ippool", dict(args, etcd_password=AUTH_PASSWORD + "x"), verbosity=3)
    assert failed["failed"] is True
    assert AUTH_PASSWORD not in output
