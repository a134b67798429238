"""The `kubernetes` datastore's connection paths over TLS, against the Kubernetes API STAND-IN served over HTTPS
(tests/functional/k8s_standin.py) with the suite's throwaway openssl CA (conftest.py `tls_material`: a CA, a server
certificate for 127.0.0.1, a client certificate CN=calico, and an unrelated "rogue" CA with its own client
certificate): a kubeconfig file (server, certificate-authority, client-certificate/key, token, context selection)
and the task options host + ca_cert + client_cert/client_key or api_key. Verification is on by default: a server
the given CA did not sign is refused with an error that says so, and nothing is written; `validate_certs: false`
turns it off."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, run_ansible, run_module
from k8s_standin import KubeAPIStandIn

TOKEN = "standin-tls-token-5b1e0c9d"
CRD = ("crd.projectcalico.org", "v1")
POOL = "default-ipv4-ippool"


@pytest.fixture
def api(tls_material):
    server = KubeAPIStandIn(TOKEN, [CRD], tls=tls_material)
    server.put_object(*CRD, "ippools", json.loads((FIXTURES / "kdd-ippool-crd.json").read_text()))
    yield server
    server.stop()


def kubeconfig(path: Path, api, tls) -> str:
    """Three contexts: `rogue` (current: a cluster entry that trusts the wrong CA), `standin-cert` (client
    certificate files) and `standin-token` (bearer token, the CA inline as certificate-authority-data)."""
    ca_data = base64.b64encode(Path(tls["ca"]).read_bytes()).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [
            {"name": "standin", "cluster": {"server": api.url, "certificate-authority": tls["ca"]}},
            {"name": "standin-inline", "cluster": {"server": api.url, "certificate-authority-data": ca_data}},
            {"name": "elsewhere", "cluster": {"server": api.url, "certificate-authority": tls["rogue_ca"]}},
        ],
        "users": [
            {"name": "calico-cert", "user": {"client-certificate": tls["client_cert"], "client-key": tls["client_key"]}},
            {"name": "calico-token", "user": {"token": TOKEN}},
        ],
        "contexts": [
            {"name": "rogue", "context": {"cluster": "elsewhere", "user": "calico-cert"}},
            {"name": "standin-cert", "context": {"cluster": "standin", "user": "calico-cert"}},
            {"name": "standin-token", "context": {"cluster": "standin-inline", "user": "calico-token"}},
        ],
        "current-context": "rogue",
    }
    path.write_text(yaml.safe_dump(config))
    return str(path)


def pool(api):
    return api.get_object(*CRD, "ippools", POOL)


def assert_tls_refused(result, api, option):
    """Failed before any request reached the stand-in's handler, naming the endpoint and what to check."""
    assert result["failed"] is True, result
    msg = result["msg"]
    assert api.url in msg and "Traceback" not in msg, msg
    assert "certificate" in msg.lower() and option in msg, msg
    assert api.writes() == [] and api.identities == []


# -- kubeconfig --------------------------------------------------------------------------------------------------

def test_kubeconfig_context_selects_cluster_user_and_client_certificate(api, tls_material, tmp_path, capsys):
    path = kubeconfig(tmp_path / "kubeconfig", api, tls_material)
    # The current context trusts the rogue CA: refused, nothing sent.
    refused = run_module("ippool_info", {"datastore": "kubernetes", "kubeconfig": path}, capsys=capsys)
    assert_tls_refused(refused, api, "ca_cert")
    assert api.tls_failures  # the client gave up in the handshake
    # Selecting the right context: the client certificate authenticates, the change is made.
    args = {"datastore": "kubernetes", "kubeconfig": path, "context": "standin-cert"}
    done = run_module("ippool", dict(args, name=POOL, ipip_mode="Always"), capsys=capsys)
    assert done["changed"] is True, done
    assert pool(api)["spec"]["ipipMode"] == "Always"
    assert set(api.identities) == {("certificate", "calico")}
    again = run_module("ippool", dict(args, name=POOL, ipip_mode="Always"), capsys=capsys)
    assert again["changed"] is False and len(api.writes()) == 1


def test_kubeconfig_token_user_with_inline_ca_through_ansible(api, tls_material, tmp_path):
    """Through the real `ansible` CLI: the kubeconfig path and context as task arguments; the token in the file
    authenticates and never appears in the output."""
    path = kubeconfig(tmp_path / "kubeconfig", api, tls_material)
    result, output = run_ansible("ippool_info", {"datastore": "kubernetes", "kubeconfig": path,
                                                 "context": "standin-token"}, verbosity=3)
    assert result.get("failed") is not True, result
    assert [p["name"] for p in result["pools"]] == [POOL]
    assert set(api.identities) == {("token", None)}
    assert TOKEN not in output


# -- host + ca_cert + client certificate or token -------------------------------------------------------------

def test_host_with_ca_cert_and_client_certificate(api, tls_material, capsys):
    args = {"datastore": "kubernetes", "host": api.url, "ca_cert": tls_material["ca"],
            "client_cert": tls_material["client_cert"], "client_key": tls_material["client_key"]}
    done = run_module("ippool", dict(args, name=POOL, ipip_mode="CrossSubnet"), capsys=capsys)
    assert done["changed"] is True, done
    assert pool(api)["spec"]["ipipMode"] == "CrossSubnet"
    assert set(api.identities) == {("certificate", "calico")}


def test_host_with_ca_cert_and_bearer_token(api, tls_material, capsys):
    args = {"datastore": "kubernetes", "host": api.url, "ca_cert": tls_material["ca"], "api_key": TOKEN}
    info = run_module("ippool_info", args, capsys=capsys)
    assert [p["ipip_mode"] for p in info["pools"]] == ["Never"], info
    assert set(api.identities) == {("token", None)}


def test_verification_is_on_by_default(api, capsys):
    """No ca_cert: the system trust store does not know the throwaway CA, so the server is refused."""
    result = run_module("ippool", {"datastore": "kubernetes", "host": api.url, "api_key": TOKEN, "name": POOL,
                                   "ipip_mode": "Always"}, capsys=capsys)
    assert_tls_refused(result, api, "ca_cert")
    assert pool(api)["spec"]["ipipMode"] == "Never"


def test_wrong_ca_is_refused_and_validate_certs_false_connects(api, tls_material, capsys):
    args = {"datastore": "kubernetes", "host": api.url, "api_key": TOKEN, "ca_cert": tls_material["rogue_ca"]}
    refused = run_module("ippool", dict(args, name=POOL, ipip_mode="Always"), capsys=capsys)
    assert_tls_refused(refused, api, "ca_cert")
    assert "validate_certs" in refused["msg"]
    done = run_module("ippool", dict(args, name=POOL, ipip_mode="Always", validate_certs=False), capsys=capsys)
    assert done["changed"] is True, done
    assert pool(api)["spec"]["ipipMode"] == "Always"


def test_client_certificate_from_another_ca_is_refused(api, tls_material, capsys):
    """The API server's x509 authenticator: a client certificate its client CA did not sign fails the handshake
    (the server's side), and the module says it could not connect, naming the client certificate options."""
    result = run_module("ippool", {"datastore": "kubernetes", "host": api.url, "ca_cert": tls_material["ca"],
                                   "client_cert": tls_material["rogue_cert"], "client_key": tls_material["rogue_key"],
                                   "name": POOL, "ipip_mode": "Always"}, capsys=capsys)
    assert result["failed"] is True, result
    assert api.url in result["msg"] and "client_cert" in result["msg"], result["msg"]
    assert any("certificate" in failure.lower() for failure in api.tls_failures), api.tls_failures
    assert api.writes() == [] and pool(api)["spec"]["ipipMode"] == "Never"
