"""The `kubernetes` datastore backend through the official `kubernetes` client, against the Kubernetes API STAND-IN
(tests/functional/k8s_standin.py: no API server can be installed here). Objects are the shared samples."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from conftest import FIXTURES, run_ansible, run_module
from k8s_standin import KubeAPIStandIn

TOKEN = "standin-token-0123456789abcdef"
CRD = ("crd.projectcalico.org", "v1")
V3 = ("projectcalico.org", "v3")
OPERATOR = ("operator.tigera.io", "v1")


def sample(name):
    return json.loads((FIXTURES / name).read_text())


def make_api(groups):
    api = KubeAPIStandIn(TOKEN, groups)
    api.put_object(*CRD, "ippools", sample("kdd-ippool-crd.json"))
    api.put_object(*CRD, "felixconfigurations", sample("kdd-felixconfiguration-kubespray.json"))
    api.put_object(*CRD, "blockaffinities", sample("kdd-blockaffinity.json"))
    if OPERATOR in groups:
        api.put_object(*OPERATOR, "installations", sample("operator-installation.json"))
    api.nodes = [
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node1", "annotations": {
            "projectcalico.org/IPv4Address": "10.0.1.5/24", "projectcalico.org/IPv4IPIPTunnelAddr": "192.168.70.1"}}},
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node2", "annotations": {
            "projectcalico.org/IPv4Address": "10.0.2.7/32"}}},
    ]
    return api


@pytest.fixture
def api():
    server = make_api([CRD, OPERATOR])
    yield server
    server.stop()


def k8s_args(api, **extra):
    args = {"datastore": "kubernetes", "host": api.url, "api_key": TOKEN}
    args.update(extra)
    return args


def crd_pool(api):
    return api.get_object(*CRD, "ippools", "default-ipv4-ippool")


def test_info_reads_everything_and_names_traps(api, capsys):
    info = run_module("ippool_info", k8s_args(api), capsys=capsys)
    (pool,) = info["pools"]
    assert (pool["name"], pool["ipip_mode"], pool["format"], pool["key"]) == (
        "default-ipv4-ippool", "Never", "crd", "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool")
    assert info["felix"]["ipip_enabled"] is False
    assert info["operator"]["installation"] == "/apis/operator.tigera.io/v1/installations/default"
    assert info["operator"]["pools"][0]["encapsulation"] == "None"
    assert info["block_affinities"] == [{"node": "node1", "cidr": "192.168.70.0/26", "state": "confirmed"}]
    assert {n["name"]: n["ipv4_prefix_length"] for n in info["nodes"]} == {"node1": 24, "node2": 32}
    assert {t["name"] for t in info["traps"]} == {"felix_ipip_disabled", "node_address_slash32"}


def test_change_is_a_resource_version_update_then_idempotent(api, capsys):
    first = crd_pool(api)
    result = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="CrossSubnet", vxlan_mode="Never",
                                           fix_felix_ipip=True), capsys=capsys)
    assert result["changed"] is True
    # The API server's own fields: same uid and creationTimestamp, generation up by one for the spec change.
    meta = crd_pool(api)["metadata"]
    assert (meta["uid"], meta["creationTimestamp"], meta["generation"]) == (
        first["metadata"]["uid"], first["metadata"]["creationTimestamp"], first["metadata"]["generation"] + 1)
    assert api.writes() == [("PUT", "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool"),
                            ("PUT", "/apis/crd.projectcalico.org/v1/felixconfigurations/default")]
    stored = crd_pool(api)
    assert stored["spec"]["ipipMode"] == "CrossSubnet"
    before = sample("kdd-ippool-crd.json")
    assert {k: v for k, v in stored["spec"].items() if k != "ipipMode"} == {
        k: v for k, v in before["spec"].items() if k != "ipipMode"}
    assert api.get_object(*CRD, "felixconfigurations", "default")["spec"]["ipipEnabled"] is True
    again = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="CrossSubnet", fix_felix_ipip=True),
                       capsys=capsys)
    assert again["changed"] is False and len(api.writes()) == 2
    back = run_module("ippool", k8s_args(api, restore=result["previous"]), capsys=capsys)
    assert back["changed"] is True and crd_pool(api)["spec"] == before["spec"]


def test_check_mode_sends_no_write(api, capsys):
    result = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), check=True, capsys=capsys)
    assert result["changed"] is True and api.writes() == []


def test_409_conflict_is_retried_from_a_fresh_read(api, capsys):
    """Another writer changes the pool between our read and our PUT: the stand-in answers 409, we re-read, and
    the other writer's change survives."""
    hit = []

    def concurrent_writer(method, path):
        if method == "PUT" and not hit:
            hit.append(path)
            other = crd_pool(api)
            other["spec"]["disabled"] = True
            api.put_object(*CRD, "ippools", other)

    api.before_write = concurrent_writer
    result = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert result["conflicts"] == 1
    stored = crd_pool(api)
    assert stored["spec"]["ipipMode"] == "Always" and stored["spec"]["disabled"] is True


def test_legacy_spec_ipip_needs_strip(api, capsys):
    legacy = crd_pool(api)
    legacy["spec"]["ipip"] = {"enabled": False}
    legacy["spec"]["nat-outgoing"] = True
    api.put_object(*CRD, "ippools", legacy)
    refused = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert refused["failed"] is True and "strip_legacy_ipip" in refused["msg"] and api.writes() == []
    done = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always", strip_legacy_ipip=True),
                      capsys=capsys)
    spec = crd_pool(api)["spec"]
    assert done["changed"] is True
    assert "ipip" not in spec and "nat-outgoing" not in spec and spec["ipipMode"] == "Always" and spec["natOutgoing"] is True


def test_operator_managed_pool_fails_by_default_or_edits_the_installation(api, capsys):
    managed = crd_pool(api)
    managed["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "tigera-operator"}
    api.put_object(*CRD, "ippools", managed)
    refused = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert refused["failed"] is True
    assert "tigera-operator" in refused["msg"] and "edit_installation" in refused["msg"] and api.writes() == []
    done = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="CrossSubnet",
                                         operator_managed="edit_installation"), capsys=capsys)
    assert done["changed"] is True and done["via"] == "installation"
    assert api.writes() == [("PUT", "/apis/operator.tigera.io/v1/installations/default")]
    inst = api.get_object(*OPERATOR, "installations", "default")
    assert inst["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "IPIPCrossSubnet"
    assert done["previous"]["object"]["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "None"


def test_v3_api_server_is_used_when_served(capsys):
    server = make_api([CRD, V3])
    try:
        v3 = sample("calicoctl-v3-ippool-list.json")["items"][0]
        server.put_object(*V3, "ippools", v3)
        result = run_module("ippool", k8s_args(server, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
        assert result["changed"] is True
        assert server.writes() == [("PUT", "/apis/projectcalico.org/v3/ippools/default-ipv4-ippool")]
    finally:
        server.stop()


def test_wrong_token_is_refused_and_never_printed(api):
    wrong = "wrong-token-must-not-leak-42"
    result, output = run_ansible("ippool_info", k8s_args(api, api_key=wrong), verbosity=3)
    assert result["failed"] is True
    assert "401" in result["msg"] and "api_key" in result["msg"] and api.url in result["msg"]
    assert wrong not in output
    ok, output = run_ansible("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), verbosity=3)
    assert ok["changed"] is True and TOKEN not in output


def test_unreachable_api_server_is_named(capsys):
    result = run_module("ippool_info", {"datastore": "kubernetes", "host": "http://127.0.0.1:9", "api_key": "x"},
                        capsys=capsys)
    assert result["failed"] is True and "http://127.0.0.1:9" in result["msg"] and "Traceback" not in result["msg"]


# -- the stand-in refuses what a real API server refuses (k8s_standin.py cites the API server's code) -------------

POOL_PATH = "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool"


def raw(api, method, path, body=None):
    """One request with urllib (not the client under test): (HTTP status, decoded body)."""
    req = urllib.request.Request(api.url + path, json.dumps(body).encode() if body is not None else None, method=method,
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def edited(api, **spec):
    obj = crd_pool(api)
    obj["spec"].update(spec)
    return obj


def refused(api, method, path, body, code, reason, message, details=None):
    """The request is answered with exactly this Status and nothing is stored."""
    before = (len(api.history), crd_pool(api))
    got_code, got = raw(api, method, path, body)
    expected = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                "reason": reason, "code": code}
    if details is not None:
        expected["details"] = details
    assert (got_code, got) == (code, expected)
    assert (len(api.history), crd_pool(api)) == before


DETAILS = {"name": "default-ipv4-ippool", "group": "crd.projectcalico.org", "kind": "ippools"}


def test_standin_put_must_match_the_url(api):
    body = edited(api, ipipMode="Always")
    body["metadata"]["name"] = "other-pool"
    refused(api, "PUT", POOL_PATH, body, 400, "BadRequest",
            "the name of the object (other-pool) does not match the name on the URL (default-ipv4-ippool)")
    body = edited(api, ipipMode="Always")
    body["apiVersion"] = "projectcalico.org/v3"
    refused(api, "PUT", POOL_PATH, body, 400, "BadRequest", "the API version in the data (projectcalico.org/v3) does "
            "not match the expected API version (crd.projectcalico.org/v1)")
    body = edited(api, ipipMode="Always")
    body["kind"] = "FelixConfiguration"
    refused(api, "PUT", POOL_PATH, body, 422, "Invalid", 'FelixConfiguration.crd.projectcalico.org "default-ipv4-ippool" '
            'is invalid: kind: Invalid value: "FelixConfiguration": must be IPPool',
            {"name": "default-ipv4-ippool", "group": "crd.projectcalico.org", "kind": "FelixConfiguration", "causes": [
                {"reason": "FieldValueInvalid", "message": 'Invalid value: "FelixConfiguration": must be IPPool',
                 "field": "kind"}]})


def test_standin_put_needs_the_current_resource_version_and_uid(api):
    body = edited(api, ipipMode="Always")
    del body["metadata"]["resourceVersion"]
    refused(api, "PUT", POOL_PATH, body, 422, "Invalid", 'ippools.crd.projectcalico.org "default-ipv4-ippool" is '
            "invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
            dict(DETAILS, causes=[{"reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                                   "message": "Invalid value: 0x0: must be specified for an update"}]))
    stale = edited(api, ipipMode="Always")
    api.put_object(*CRD, "ippools", edited(api, disabled=True))
    refused(api, "PUT", POOL_PATH, stale, 409, "Conflict", 'Operation cannot be fulfilled on ippools.crd.projectcalico.org '
            '"default-ipv4-ippool": the object has been modified; please apply your changes to the latest version and '
            "try again", DETAILS)
    other = edited(api, ipipMode="Always")
    uid = other["metadata"]["uid"]
    other["metadata"]["uid"] = "00000000-0000-4000-8000-00000000dead"
    refused(api, "PUT", POOL_PATH, other, 409, "Conflict", 'Operation cannot be fulfilled on ippools.crd.projectcalico.org '
            '"default-ipv4-ippool": StorageError: invalid object, Code: 4, Key: /registry/crd.projectcalico.org/ippools/'
            "default-ipv4-ippool, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: "
            "00000000-0000-4000-8000-00000000dead, UID in object meta: %s" % uid, DETAILS)


def test_standin_keeps_its_own_metadata(api):
    first = crd_pool(api)
    body = edited(api, ipipMode="Always")
    del body["metadata"]["uid"]
    body["metadata"].update(creationTimestamp="2001-01-01T00:00:00Z", generation=99)
    code, stored = raw(api, "PUT", POOL_PATH, body)
    meta, old = stored["metadata"], first["metadata"]
    assert code == 200 and stored == crd_pool(api)
    assert (meta["uid"], meta["creationTimestamp"], meta["generation"]) == (
        old["uid"], old["creationTimestamp"], old["generation"] + 1)
    assert int(meta["resourceVersion"]) > int(old["resourceVersion"])
    # A metadata-only change is written (new resourceVersion) but keeps the generation.
    labelled = crd_pool(api)
    labelled["metadata"]["labels"] = {"team": "net"}
    code, again = raw(api, "PUT", POOL_PATH, labelled)
    assert code == 200 and again["metadata"]["generation"] == meta["generation"]
    assert again["metadata"]["resourceVersion"] != meta["resourceVersion"]
    # An update that changes nothing is not written: same resourceVersion, no history entry.
    writes = len(api.history)
    code, same = raw(api, "PUT", POOL_PATH, crd_pool(api))
    assert code == 200 and same == again and len(api.history) == writes


def test_standin_post_creates_with_server_fields_or_refuses(api):
    existing = crd_pool(api)
    del existing["metadata"]["resourceVersion"]
    refused(api, "POST", "/apis/crd.projectcalico.org/v1/ippools", existing, 409, "AlreadyExists",
            'ippools.crd.projectcalico.org "default-ipv4-ippool" already exists', DETAILS)
    new = crd_pool(api)
    new["metadata"]["name"] = "second-pool"
    refused(api, "POST", "/apis/crd.projectcalico.org/v1/ippools", new, 400, "BadRequest",
            "resourceVersion should not be set on objects to be created")
    del new["metadata"]["resourceVersion"]
    code, created = raw(api, "POST", "/apis/crd.projectcalico.org/v1/ippools", new)
    assert code == 201 and created == api.get_object(*CRD, "ippools", "second-pool")
    meta = created["metadata"]
    assert meta["uid"] != new["metadata"]["uid"] and meta["creationTimestamp"] != new["metadata"]["creationTimestamp"]
    assert meta["generation"] == 1 and meta["resourceVersion"]


def test_restore_of_an_old_object_is_accepted_by_the_strict_server(api, capsys):
    """`restore` writes back an object read earlier: its resourceVersion is stale and its generation old, so the
    backend must send the current resourceVersion; the server keeps uid/creationTimestamp/generation its own."""
    first = run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    run_module("ippool", k8s_args(api, name="default-ipv4-ippool", ipip_mode="CrossSubnet"), capsys=capsys)
    before = crd_pool(api)["metadata"]
    back = run_module("ippool", k8s_args(api, restore=first["previous"]), capsys=capsys)
    assert back["changed"] is True, back
    stored = crd_pool(api)
    assert stored["spec"] == sample("kdd-ippool-crd.json")["spec"]
    assert (stored["metadata"]["uid"], stored["metadata"]["generation"]) == (before["uid"], before["generation"] + 1)
