"""Issue 7, item 1: the bad-input matrix, one table across the modules and the role's variables.

Every case runs the real code against a real datastore (the suite's etcd on loopback, the Kubernetes API stand-in,
calicoctl stand-ins) and checks three things:

- the run fails with a message naming the field, the value and what is allowed (``fragments``: every one must
  appear in the failure message itself, not merely somewhere in the output);
- the datastore is unchanged: every key under /calico/ with its mod_revision, etcd's revision and the v2 index, or
  the stand-in's objects, resourceVersion counter and write requests, or the calicoctl stand-in's write calls;
  role cases also compare the nodes' (network namespaces') routes, links and addresses;
- no traceback (an exception escaping a module, or ``Traceback`` anywhere in what the user sees).

Module cases run the module's main() in-process (as the other functional suites do) unless ``via="ansible"``
(the real ``ansible`` CLI). Role cases run ``ansible-playbook playbooks/enable_ipip.yml`` (or diagnose.yml) against
Calico-like nodes made of network namespaces (_reliability_env.py); they need root.

Cases that already have a test elsewhere (tests/functional/test_ippool_*.py) are not repeated here with the same
value; where the issue's list names a category they cover, this table uses other values or another backend.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from _reliability_env import Cluster, can_make_namespaces, etcd_dump, run_playbook, seed_cluster
from conftest import FIXTURES, POOLS, free_port, run_ansible, seed
from k8s_standin import KubeAPIStandIn

from ansible_collections.k8snet.calico.tests.unit.module_args import run_main

TOKEN = "reliability-standin-token-5f1e"
CRD = ("crd.projectcalico.org", "v1")
CALICOCTL_STANDIN = Path(__file__).resolve().parent / "calicoctl_standin.py"
PWNED = "/tmp/k8snet-rel-pwned"  # a shell-injection case would create it

# What a calicoctl may print instead of JSON (each a calicoctl stand-in of its own, see the `calicoctl` fixture).
CALICOCTL_OUTPUTS = {
    "empty": "",
    "html": "<html><body>502 Bad Gateway</body></html>",
    "truncated": '{"kind":"IPPoolList","apiVersion":"projectcalico.org/v3","items":[',
    "scalar": '"ok"',
}


@dataclass
class Case:
    id: str
    target: str                       # ippool, ippool_info, node_routes_info, or a playbook file name
    args: Dict[str, Any]              # module arguments, or the playbook's extra vars
    fragments: List[str]              # each must appear in the failure message
    backend: str = "etcdv3"           # etcdv3, etcdv2, kubernetes, calicoctl:<output>, calicoctl-v1, raw, none
    setup: Optional[str] = None       # a named change to the datastore before the run (SETUPS)
    via: str = "inprocess"            # inprocess or ansible (module cases)
    xfail: Optional[str] = None       # a known bug: the case must fail until it is fixed
    marks: list = field(default_factory=list)


C = Case
ETCD = "<etcd>"          # replaced by the suite etcd's URL
CLOSED = "<closed>"      # a 127.0.0.1 URL where nothing listens
HTTPS_ETCD = "<https>"   # the plain-HTTP etcd addressed with https://
# HTTPS_TO_PLAIN: etcd answers a TLS ClientHello on its plain port either by closing (the module then says "TLS
# failed: check etcd_ca ...") or by a reset ("[Errno 104] Connection reset by peer ... Check etcd_endpoints and the
# network path"), at random; only the endpoint and "cannot reach etcd" are stable, so only they are asserted.

CASES = [
    # -- unknown or wrongly cased modes, v1 spellings ------------------------------------------------------------
    C("ippool-mode-unknown", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "Sometimes"},
      ["ipip_mode", "Sometimes", "Always, CrossSubnet, Never"]),
    C("ippool-mode-empty", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": ""},
      ["ipip_mode", "got: ", "Always, CrossSubnet, Never"]),
    C("ippool-mode-boolean", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": True},
      ["ipip_mode", "True", "Always, CrossSubnet, Never"]),
    C("ippool-vxlan-lowercase", "ippool", {"name": "default-ipv4-ippool", "vxlan_mode": "always"},
      ["vxlan_mode", "always", "Always, CrossSubnet, Never"]),
    C("ippool-v1-spelling-underscore", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "cross_subnet"},
      ["ipip_mode", "cross_subnet", "cross-subnet"]),
    C("ippool-v2-mode-on", "ippool", {"cidr": "192.168.0.0/16", "ipip_mode": "on"},
      ["ipip_mode", "on", "always, cross-subnet, off"], backend="etcdv2"),
    C("ippool-v1-spelling-kubernetes", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "Cross-Subnet"},
      ["ipip_mode", "Cross-Subnet", "CrossSubnet"], backend="kubernetes", via="ansible"),
    # -- IPIP together with VXLAN, IPIP on IPv6 -------------------------------------------------------------------
    C("ippool-ipip-and-vxlan-crosssubnet", "ippool",
      {"name": "default-ipv4-ippool", "ipip_mode": "CrossSubnet", "vxlan_mode": "CrossSubnet"},
      ["ipip_mode CrossSubnet", "vxlan_mode CrossSubnet", "Never"]),
    C("ippool-ipip-on-stored-vxlan-kubernetes", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "CrossSubnet"},
      ["vxlan_mode", "CrossSubnet", "Never"], backend="kubernetes", setup="k8s-vxlan"),
    C("ippool-ipip-on-ipv6-by-cidr", "ippool", {"cidr": "fd00:10:244::/48", "ipip_mode": "CrossSubnet"},
      ["ipip_mode", "CrossSubnet", "fd00:10:244::/48", "IPv4 only", "Never"]),
    C("node-routes-ipv6-pool", "node_routes_info", {"pools": ["fd00:10:244::/48"], "routes": "default via 10.39.0.1 dev eth0"},
      ["pools", "fd00:10:244::/48", "IPv6", "IPv4"], backend="none"),
    # -- a CIDR that is not one or not masked, a pool that does not exist -----------------------------------------
    C("ippool-cidr-not-masked", "ippool", {"cidr": "192.168.0.1/16", "ipip_mode": "Always"},
      ["cidr", "192.168.0.1/16", "192.168.0.0/16"]),
    C("ippool-cidr-prefix-33", "ippool", {"cidr": "192.168.0.0/33", "ipip_mode": "Always"},
      ["cidr", "192.168.0.0/33", "192.168.0.0/16"]),
    C("ippool-cidr-v2-missing", "ippool", {"cidr": "10.96.0.0/12", "ipip_mode": "Always"},
      ["cidr", "10.96.0.0/12", "192.168.0.0/16"], backend="etcdv2"),
    C("ippool-v3-name-on-v2-store", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "Always"},
      ["name", "default-ipv4-ippool", "192.168.0.0/16"], backend="etcdv2"),
    C("ippool-name-missing-kubernetes", "ippool", {"name": "default-ipv4-pool", "ipip_mode": "Always"},
      ["name", "default-ipv4-pool", "default-ipv4-ippool"], backend="kubernetes"),
    C("ippool-cidr-missing-calicoctl-v1", "ippool", {"cidr": "10.244.0.0/16", "ipip_mode": "always"},
      ["cidr", "10.244.0.0/16", "192.168.0.0/16"], backend="calicoctl-v1"),
    C("node-routes-pool-not-masked", "node_routes_info", {"pools": ["192.168.0.1/16"], "routes": ""},
      ["pools", "192.168.0.1/16", "host bits", "192.168.0.0/16"], backend="none"),
    C("node-routes-pool-not-a-cidr", "node_routes_info", {"pools": ["pod-network"], "routes": ""},
      ["pools", "pod-network", "masked IPv4 network"], backend="none"),
    # -- empty or garbled `ip route` captures -----------------------------------------------------------------------
    C("node-routes-capture-text-garbled", "node_routes_info",
      {"pools": ["192.168.0.0/16"], "routes": "Error: ip: cannot open netlink socket"},
      ["routes", "line 1", "'Error:'", "expected a prefix or 'default'"], backend="none"),
    C("node-routes-capture-json-truncated", "node_routes_info",
      {"pools": ["192.168.0.0/16"], "routes": '[{"dst":"192.168.169.192/26","gateway":"10.39.0.1",'},
      ["routes", "looks like JSON but does not parse"], backend="none"),
    C("node-routes-capture-json-object", "node_routes_info",
      {"pools": ["192.168.0.0/16"], "routes": '{"dst":"192.168.169.192/26"}'},
      ["routes", "must be a list of objects", "got dict"], backend="none"),
    C("node-routes-capture-links-garbled", "node_routes_info",
      {"pools": ["192.168.0.0/16"], "routes": "default via 10.39.0.1 dev eth0", "links": "<html>"},
      ["links", "<html>", "interface block"], backend="none"),
    C("node-routes-capture-addresses-truncated", "node_routes_info",
      {"pools": ["192.168.0.0/16"], "routes": "default via 10.39.0.1 dev eth0", "addresses": '[{"ifindex": 1,'},
      ["addresses", "looks like JSON but does not parse"], backend="none"),
    C("node-routes-links-without-routes", "node_routes_info", {"pools": ["192.168.0.0/16"], "links": "1: lo: <UP>"},
      ["links", "routes"], backend="none"),
    C("node-routes-capture-empty", "node_routes_info", {"pools": ["192.168.0.0/16"], "routes": ""},
      ["routes", "empty"], backend="none"),
    C("node-routes-capture-text-bad-prefix", "node_routes_info",
      {"pools": ["192.168.0.0/16"], "routes": "192.168.169.192/26 via 10.39.0.1 dev eth0 proto bird\n192.168.1.0/33 via 10.39.0.1 dev eth0"},
      ["routes", "192.168.1.0/33"], backend="none"),
    C("node-routes-capture-json-bad-dst", "node_routes_info",
      {"pools": ["192.168.0.0/16"], "routes": '[{"dst":"pod-net","gateway":"10.39.0.1","dev":"eth0","flags":[]}]'},
      ["routes", "pod-net"], backend="none", via="ansible"),
    # -- calicoctl printing something else than JSON -----------------------------------------------------------------
    C("calicoctl-prints-nothing", "ippool", {"cidr": "192.168.0.0/16", "ipip_mode": "Always"},
      ["get ippool -o json", "not JSON", "''"], backend="calicoctl:empty"),
    C("calicoctl-prints-html", "ippool", {"cidr": "192.168.0.0/16", "ipip_mode": "Always"},
      ["get ippool -o json", "not JSON", "502 Bad Gateway"], backend="calicoctl:html"),
    C("calicoctl-prints-truncated-json", "ippool_info", {},
      ["get ippool -o json", "not JSON", '"items":['], backend="calicoctl:truncated"),
    C("calicoctl-prints-json-scalar", "ippool", {"cidr": "192.168.0.0/16", "ipip_mode": "Always"},
      ["get ippool -o json", "neither a list nor an object"], backend="calicoctl:scalar"),
    C("calicoctl-path-not-executable", "ippool_info", {"calicoctl_path": "<not-executable>"},
      ["calicoctl_path", "<not-executable>"], backend="calicoctl:empty"),
    # -- datastore values that are not JSON or not a pool, a CRD with a legacy spec.ipip ------------------------------
    C("etcd-value-json-array", "ippool", {"name": "listed", "ipip_mode": "Always"},
      ["name", "listed", "ippools/listed", "default-ipv4-ippool"], setup="etcd-array-pool"),
    C("etcd-value-pool-without-cidr", "ippool", {"name": "nocidr", "ipip_mode": "Always"},
      ["name", "nocidr", "ippools/nocidr"], setup="etcd-pool-without-cidr"),
    C("etcd-v2-value-not-a-pool", "ippool", {"cidr": "10.5.0.0/16", "ipip_mode": "Always"},
      ["cidr", "10.5.0.0/16", "/calico/v1/ipam/v4/pool/10.5.0.0-16"], backend="etcdv2", setup="etcd-v2-not-a-pool"),
    C("crd-legacy-ipip-enabled", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "CrossSubnet"},
      ["spec.ipip", "'mode': 'always'", "strip_legacy_ipip"], backend="kubernetes", setup="k8s-legacy-ipip"),
    # -- names carrying shell metacharacters -------------------------------------------------------------------------
    C("ippool-name-command-substitution", "ippool", {"name": "$(touch %s)" % PWNED, "ipip_mode": "Always"},
      ["name", "$(touch %s)" % PWNED, "default-ipv4-ippool"], via="ansible"),
    C("ippool-cidr-backticks-calicoctl", "ippool", {"cidr": "`touch %s`" % PWNED, "ipip_mode": "Always"},
      ["cidr", "`touch %s`" % PWNED, "192.168.0.0/16"], backend="calicoctl-v1"),
    # -- missing or wrong datastore options ---------------------------------------------------------------------------
    C("info-no-datastore", "ippool_info", {"etcd_endpoints": [ETCD]}, ["datastore"], backend="raw"),
    C("ippool-datastore-unknown", "ippool", {"datastore": "etcd3", "etcd_endpoints": [ETCD], "name": "x"},
      ["datastore", "etcd3", "etcdv3, etcdv2, kubernetes, calicoctl"], backend="raw"),
    C("ippool-v2-no-endpoints", "ippool", {"datastore": "etcdv2", "cidr": "192.168.0.0/16", "ipip_mode": "Always"},
      ["etcdv2", "etcd_endpoints"], backend="raw"),
    C("ippool-username-without-password", "ippool",
      {"name": "default-ipv4-ippool", "ipip_mode": "Always", "etcd_username": "calico"},
      ["etcd_username", "etcd_password"]),
    C("ippool-option-typo", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "Always", "etcd_endpoint": ETCD},
      ["etcd_endpoint", "k8snet.calico.ippool", "etcd_endpoints"], via="ansible"),
    C("ippool-bool-option-garbled", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "Always",
                                               "fix_felix_ipip": "perhaps"},
      ["fix_felix_ipip", "perhaps", "Valid booleans"]),
    C("ippool-endpoint-not-a-url", "ippool", {"etcd_endpoints": ["127.0.0.1:2379"], "name": "default-ipv4-ippool",
                                              "ipip_mode": "Always"},
      ["etcd_endpoints", "127.0.0.1:2379", "http:// or https://"]),
    # -- unreachable endpoints, TLS mismatch, wrong credentials ------------------------------------------------------
    C("ippool-etcd-unreachable", "ippool", {"etcd_endpoints": [CLOSED], "name": "default-ipv4-ippool",
                                            "ipip_mode": "Always"},
      [CLOSED, "Connection refused", "Check that etcd runs"]),
    C("ippool-kubernetes-unreachable", "ippool", {"host": CLOSED, "name": "default-ipv4-ippool", "ipip_mode": "Always"},
      [CLOSED, "cannot reach the Kubernetes API", "host/kubeconfig"], backend="kubernetes"),
    C("ippool-https-to-plain-etcd", "ippool", {"etcd_endpoints": [HTTPS_ETCD], "name": "default-ipv4-ippool",
                                               "ipip_mode": "Always"},
      [HTTPS_ETCD, "cannot reach etcd"]),  # see HTTPS_TO_PLAIN
    C("ippool-etcd-ca-missing-file", "ippool", {"etcd_ca": "/nonexistent/k8snet-rel-ca.pem",
                                                "name": "default-ipv4-ippool", "ipip_mode": "Always"},
      ["etcd_ca", "/nonexistent/k8snet-rel-ca.pem"]),
    C("ippool-etcd-ca-not-pem", "ippool", {"etcd_ca": "/etc/hostname", "name": "default-ipv4-ippool",
                                           "ipip_mode": "Always"},
      ["etcd_ca", "/etc/hostname"]),
    C("ippool-etcd-auth-not-enabled", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "Always",
                                                 "etcd_username": "mallory", "etcd_password": "guess"},
      [ETCD, "mallory", "authentication is not enabled", "leave etcd_username and etcd_password unset"]),
    C("ippool-kubernetes-wrong-token", "ippool", {"name": "default-ipv4-ippool", "ipip_mode": "Always",
                                                  "api_key": "not-the-token"},
      ["401", "api_key"], backend="kubernetes"),

    # -- the role's variables, through ansible-playbook (nodes are network namespaces) --------------------------------
    C("role-mode-lowercase", "enable_ipip.yml", {"ipip_mode": "always"},
      ["ipip_mode", "always", "Always, CrossSubnet"]),
    C("role-mode-unknown", "enable_ipip.yml", {"ipip_mode": "Sometimes"},
      ["ipip_mode", "Sometimes", "Always, CrossSubnet"]),
    C("role-mode-never", "enable_ipip.yml", {"ipip_mode": "Never"}, ["ipip_mode", "Never", "Always, CrossSubnet"]),
    C("role-mode-v1-spelling", "diagnose.yml", {"ipip_mode": "cross-subnet"},
      ["ipip_mode", "cross-subnet", "Always, CrossSubnet"]),
    C("role-pools-unknown-name", "enable_ipip.yml", {"ipip_pools": ["default-ipv4-pool"]},
      ["ipip_pools", "default-ipv4-pool", "not found", "default-ipv4-ippool 192.168.0.0/16"]),
    C("role-pools-unknown-cidr", "enable_ipip.yml", {"ipip_pools": ["10.96.0.0/12"]},
      ["ipip_pools", "10.96.0.0/12", "not found", "default-ipv4-ippool 192.168.0.0/16"]),
    C("role-pools-not-a-cidr", "enable_ipip.yml", {"ipip_pools": ["192.168.0.0/33"]},
      ["ipip_pools", "192.168.0.0/33", "not found", "default-ipv4-ippool 192.168.0.0/16"]),
    C("role-pools-ipv6", "enable_ipip.yml", {"ipip_pools": ["default-ipv6-ippool"]},
      ["ipip_pools", "no IPv4 pool", "default-ipv6-ippool fd00:10:244::/48"]),
    C("role-pools-shell-metacharacters", "enable_ipip.yml", {"ipip_pools": ["x; touch %s" % PWNED]},
      ["ipip_pools", "x; touch %s" % PWNED, "not found"]),
    C("role-pools-wrong-type", "enable_ipip.yml", {"ipip_pools": {"default-ipv4-ippool": True}},
      ["ipip_pools", "dict", "list"]),
    C("role-datastore-empty", "enable_ipip.yml", {"ipip_datastore": {}},
      ["ipip_datastore.datastore", "(missing)", "etcdv3, etcdv2, kubernetes, calicoctl"]),
    C("role-datastore-string", "enable_ipip.yml", {"ipip_datastore": "etcdv3"}, ["ipip_datastore", "dict"]),
    C("role-datastore-unknown", "enable_ipip.yml", {"ipip_datastore": {"datastore": "etcd", "etcd_endpoints": [ETCD]}},
      ["datastore", "etcd", "etcdv3, etcdv2, kubernetes, calicoctl"]),
    C("role-datastore-no-endpoints", "enable_ipip.yml", {"ipip_datastore": {"datastore": "etcdv3"}},
      ["etcdv3", "etcd_endpoints"]),
    C("role-datastore-option-typo", "enable_ipip.yml",
      {"ipip_datastore": {"datastore": "etcdv3", "etcd_endpoints": [ETCD], "etcd_endpiont": ETCD}},
      ["etcd_endpiont", "etcd_endpoints"]),
    C("role-datastore-unreachable", "diagnose.yml",
      {"ipip_datastore": {"datastore": "etcdv3", "etcd_endpoints": [CLOSED]}}, [CLOSED, "Check that etcd runs"]),
    C("role-datastore-tls-mismatch", "enable_ipip.yml",
      {"ipip_datastore": {"datastore": "etcdv3", "etcd_endpoints": [HTTPS_ETCD]}}, [HTTPS_ETCD, "cannot reach etcd"]),
    C("role-verify-timeout-wrong-type", "enable_ipip.yml", {"ipip_verify_timeout": "two minutes"},
      ["ipip_verify_timeout", "int"]),
    C("role-probe-not-bool", "enable_ipip.yml", {"ipip_probe": "maybe"}, ["ipip_probe", "maybe", "bool"]),
]

PLAYBOOK_CASES = [c for c in CASES if c.target.endswith(".yml")]


def test_the_matrix_covers_the_issue():
    """At least 40 cases, across the three modules and the role's variables, every category of the issue."""
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    targets = {c.target for c in CASES}
    assert {"ippool", "ippool_info", "node_routes_info", "enable_ipip.yml", "diagnose.yml"} <= targets
    assert len(PLAYBOOK_CASES) >= 15
    backends = {c.backend.split(":", maxsplit=1)[0] for c in CASES}
    assert {"etcdv3", "etcdv2", "kubernetes", "calicoctl", "calicoctl-v1", "none"} <= backends


# -- environment ---------------------------------------------------------------------------------------------------

def sample(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
def kube():
    api = KubeAPIStandIn(TOKEN, [CRD])
    yield api
    api.stop()


def reset_kube(api):
    with api.lock:
        api.objects.clear()
        api.requests.clear()
    api.put_object(*CRD, "ippools", sample("kdd-ippool-crd.json"))
    api.put_object(*CRD, "felixconfigurations", sample("kdd-felixconfiguration-kubespray.json"))
    api.put_object(*CRD, "blockaffinities", sample("kdd-blockaffinity.json"))


def kube_state(api):
    return api.version, json.dumps(sorted(api.objects.items(), key=lambda kv: kv[0]), sort_keys=True), api.writes()


def calicoctl_for(case, tmp_path):
    """A calicoctl stand-in: either the suite's (v1 pools) or one that prints a fixed text. Returns (path, calls)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    launcher = bindir / "calicoctl"
    log = tmp_path / "calicoctl-calls.log"
    if case.backend == "calicoctl-v1":
        state = tmp_path / "calicoctl-state.json"
        state.write_text(json.dumps({"api": "v1", "pools": sample("calicoctl-v1-ippool-list.json"), "nodes": [],
                                     "felix": None}))
        launcher.write_text("#!%s\nimport os, runpy\nos.environ['CALICOCTL_STANDIN_STATE'] = %r\n"
                            "runpy.run_path(%r, run_name='__main__')\n"
                            % (sys.executable, str(state), str(CALICOCTL_STANDIN)))
        log = Path(str(state) + ".log")
    else:
        text = CALICOCTL_OUTPUTS[case.backend.split(":", 1)[1]]
        launcher.write_text("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\ncat <<'EOF'\n%s\nEOF\n" % (log, text))
    launcher.chmod(0o755)

    def calls():
        """Every call's arguments, one string each (the suite's stand-in logs JSON lines with the argv)."""
        lines = log.read_text().splitlines() if log.exists() else []
        return [" ".join(json.loads(line)["argv"][1:]) if line.startswith("{") else line for line in lines]
    return str(launcher), calls


def substitute(value, env):
    if isinstance(value, str):
        for token, real in env["tokens"].items():
            value = value.replace(token, real)
        return value
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, env) for k, v in value.items()}
    return value


SETUPS = {
    "etcd-array-pool": lambda env: env["etcd"].raw.put(POOLS + "listed", '[{"cidr":"10.7.0.0/16"}]'),
    "etcd-pool-without-cidr": lambda env: env["etcd"].raw.put(POOLS + "nocidr", json.dumps(
        {"kind": "IPPool", "apiVersion": "projectcalico.org/v3", "metadata": {"name": "nocidr"},
         "spec": {"ipipMode": "Never", "vxlanMode": "Never"}})),
    "etcd-v2-not-a-pool": lambda env: env["etcd"].raw.v2(
        "PUT", "/calico/v1/ipam/v4/pool/10.5.0.0-16", value='{"masquerade":true}'),
    "k8s-legacy-ipip": lambda env: _k8s_pool(env["kube"], ipip={"enabled": True, "mode": "always"}),
    "k8s-vxlan": lambda env: _k8s_pool(env["kube"], vxlanMode="CrossSubnet"),
}


def _k8s_pool(api, **spec):
    pool = api.get_object(*CRD, "ippools", "default-ipv4-ippool")
    pool["spec"].update(spec)
    api.put_object(*CRD, "ippools", pool)


def datastore_state(env, case):
    raw = env["etcd"].raw
    state = {"etcd": etcd_dump(raw), "revision": raw.revision(), "v2": raw.v2_index()}
    if case.backend == "kubernetes":
        state["kube"] = kube_state(env["kube"])
    if case.backend.startswith("calicoctl"):
        state["calicoctl_writes"] = [c for c in env["calicoctl_calls"]() if not c.startswith("get ")]
    return state


# -- running a module ------------------------------------------------------------------------------------------------

def module_args(case, env):
    args = substitute(dict(case.args), env)
    if case.backend in ("etcdv3", "etcdv2"):
        base = {"datastore": case.backend, "etcd_endpoints": [env["etcd"].url]}
    elif case.backend == "kubernetes":
        base = {"datastore": "kubernetes", "host": env["kube"].url, "api_key": TOKEN}
    elif case.backend.startswith("calicoctl"):
        base = {"datastore": "calicoctl", "calicoctl_path": env["calicoctl"]}
    else:
        base = {}
    base.update(args)
    return base


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=(
    [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [])) for c in CASES
    if not c.target.endswith(".yml")])
def test_module_bad_input(case, etcd, kube, tmp_path, capsys):
    seed(etcd.raw)
    reset_kube(kube)
    env = {"etcd": etcd, "kube": kube, "calicoctl_calls": lambda: []}
    if case.backend.startswith("calicoctl"):
        env["calicoctl"], env["calicoctl_calls"] = calicoctl_for(case, tmp_path)
    not_executable = tmp_path / "calicoctl-not-executable"
    not_executable.write_text("#!/bin/sh\necho '[]'\n")
    not_executable.chmod(0o644)
    env["tokens"] = {ETCD: etcd.url, CLOSED: "http://127.0.0.1:%d" % free_port(),
                     HTTPS_ETCD: etcd.url.replace("http://", "https://"), "<not-executable>": str(not_executable)}
    if case.setup:
        SETUPS[case.setup](env)
    if os.path.exists(PWNED):
        os.unlink(PWNED)
    before = datastore_state(env, case)

    args = module_args(case, env)
    if case.via == "ansible":
        result, output = run_ansible(case.target, args)
    else:
        result, output = run_main(case.target, args, capsys)

    assert "escaped" not in result, "an exception escaped the module:\n%s" % result.get("escaped")
    assert result.get("failed") is True, result
    message = result.get("msg") or ""
    for fragment in substitute(case.fragments, env):
        assert fragment in message, "%r not in the message: %s" % (fragment, message)
    # A real Ansible run marks every failure "(traceback unavailable)" unless the module attached an exception.
    assert "Traceback" not in output and result.get("exception") in (None, "(traceback unavailable)"), output[-3000:]
    assert datastore_state(env, case) == before
    assert not os.path.exists(PWNED), "a value reached a shell"
    if case.backend.startswith("calicoctl") and "calicoctl_path" not in case.args:
        assert env["calicoctl_calls"](), "the calicoctl stand-in was never run"


# -- the role's variables ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    if not can_make_namespaces():
        pytest.skip("needs root, iproute2 and /usr/bin/python3 (network namespaces)")
    cluster = Cluster(tmp_path_factory.mktemp("reliability-nodes"))
    try:
        cluster.create()
        (cluster.workdir / "report").mkdir()
        yield cluster
    finally:
        cluster.destroy()


FATAL = re.compile(r"^(?:fatal|failed): \[[^\]]+\]: FAILED! => (\{.*\})\s*$", re.M)


def failure_messages(output):
    """The msg of every failed task in ansible-playbook's default output (one JSON object per line without -v)."""
    messages = []
    for match in FATAL.finditer(output):
        try:
            messages.append(json.loads(match.group(1)).get("msg") or "")
        except ValueError:
            messages.append(match.group(1))
    return messages


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=(
    [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [])) for c in PLAYBOOK_CASES])
def test_role_variable_bad_input(case, etcd, nodes, tmp_path):
    seed_cluster(etcd.raw)
    env = {"etcd": etcd, "tokens": {ETCD: etcd.url, CLOSED: "http://127.0.0.1:%d" % free_port(),
                                    HTTPS_ETCD: etcd.url.replace("http://", "https://")}}
    inventory = nodes.inventory({"datastore": "etcdv3", "etcd_endpoints": [etcd.url]},
                                {"ipip_verify_timeout": 2, "ipip_verify_interval": 1},
                                name="inventory-%s.json" % case.id)
    if os.path.exists(PWNED):
        os.unlink(PWNED)
    before = (etcd_dump(etcd.raw), etcd.raw.revision(), etcd.raw.v2_index(), nodes.state())
    rc, output, _log = run_playbook(case.target, inventory, tmp_path, extra_vars=substitute(case.args, env))

    assert rc != 0, output[-3000:]
    messages = failure_messages(output)
    assert messages, "no failed task in the output:\n" + output[-3000:]
    for fragment in substitute(case.fragments, env):
        assert any(fragment in m for m in messages), "%r not in the failure messages: %s" % (fragment, messages)
    assert "Traceback" not in output, output[-3000:]
    assert "Set the IPIP mode on each chosen pool" not in output, "the run got as far as the pool change"
    assert (etcd_dump(etcd.raw), etcd.raw.revision(), etcd.raw.v2_index(), nodes.state()) == before
    assert not os.path.exists(PWNED), "a value reached a shell"
