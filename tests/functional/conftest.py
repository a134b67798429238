"""Fixtures for the functional tests: a REAL etcd (Debian etcd-server, /usr/bin/etcd) started on free 127.0.0.1
ports with a temporary data dir and the v2 API enabled, plain, with TLS (throwaway openssl CA) and with etcd
authentication; seeded with Calico objects in the exact layouts of Calico's datastores (docs/calico-traps.md
"Sources"); and helpers that run the modules in-process (main() with patch_module_args) or through real Ansible.

Every process started here is ended by its own PID; nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ansible_collections.k8snet.calico.tests.unit.module_args import run_main

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "calico"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
COLLECTIONS = REPO / ".ansible" / "collections"
# The tests' own JSON stdout callback (callback_plugins/functional_json.py): the same output on every ansible-core the
# collection supports (`json` is ansible.posix.json, absent where only ansible-core is installed, as on 2.16 here).
CALLBACK_PLUGINS = Path(__file__).resolve().parent / "callback_plugins"


def json_callback_env():
    """Environment for `ansible` / `ansible-playbook` to print the run as one JSON document (ad-hoc `ansible` takes a
    stdout callback only with ANSIBLE_LOAD_CALLBACK_PLUGINS, i.e. bin_ansible_callbacks)."""
    return {"ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_PLUGINS), "ANSIBLE_STDOUT_CALLBACK": "functional_json",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"}


POOLS = "/calico/resources/v3/projectcalico.org/ippools/"
POOL_KEY = POOLS + "default-ipv4-ippool"
FELIX_KEY = "/calico/resources/v3/projectcalico.org/felixconfigurations/default"
V2_POOL_KEY = "/calico/v1/ipam/v4/pool/192.168.0.0-16"
V2_FELIX_KEY = "/calico/v1/config/IpInIpEnabled"

# The value at /calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool, byte for byte (layout:
# libcalico-go/lib/backend/model/resource.go).
POOL_TEXT = (FIXTURES / "etcdv3-ippool.json").read_text().strip()
IPV6_POOL_TEXT = json.dumps({
    "kind": "IPPool", "apiVersion": "projectcalico.org/v3",
    "metadata": {"name": "default-ipv6-ippool", "uid": "7a1c0000-0000-4000-8000-000000000006",
                 "creationTimestamp": "2026-10-01T08:00:00Z"},
    "spec": {"cidr": "fd00:10:244::/48", "vxlanMode": "Never", "ipipMode": "Never", "blockSize": 122,
             "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"]}}, separators=(",", ":"))
# kubespray's FelixConfiguration (IPIP explicitly off) in the v3 etcd layout.
FELIX_TEXT = json.dumps({
    "kind": "FelixConfiguration", "apiVersion": "projectcalico.org/v3",
    "metadata": {"name": "default", "uid": "f0000000-0000-4000-8000-000000000001", "creationTimestamp": "2026-10-01T08:00:00Z"},
    "spec": {"bpfEnabled": False, "ipipEnabled": False, "vxlanEnabled": True, "logSeverityScreen": "Info",
             "reportingInterval": "0s", "healthPort": 9099}}, separators=(",", ":"))


def node_text(name, address, tunnel=None):
    bgp = {"ipv4Address": address}
    if tunnel:
        bgp["ipv4IPIPTunnelAddr"] = tunnel
    return json.dumps({"kind": "Node", "apiVersion": "projectcalico.org/v3",
                       "metadata": {"name": name, "creationTimestamp": "2026-10-01T08:00:00Z"},
                       "spec": {"bgp": bgp}}, separators=(",", ":"))


V3_SEED = {
    POOL_KEY: POOL_TEXT,
    POOLS + "default-ipv6-ippool": IPV6_POOL_TEXT,
    FELIX_KEY: FELIX_TEXT,
    "/calico/resources/v3/projectcalico.org/nodes/node1": node_text("node1", "10.0.1.5/24", "192.168.70.0"),
    "/calico/resources/v3/projectcalico.org/nodes/node2": node_text("node2", "10.0.2.7/32"),
    "/calico/ipam/v2/host/node1/ipv4/block/192.168.70.0-26": '{"state":"confirmed","deleted":false}',
    "/calico/ipam/v2/host/node2/ipv4/block/192.168.80.0-26": '{"state":"confirmed","deleted":false}',
}

# the seed's Calico v2 pool with IPIP off (its calicoctl v1 output is the ipPool list sample), and node data.
V2_POOL_TEXT = '{"cidr":"192.168.0.0/16","ipip":"","ipip_mode":"","masquerade":true,"ipam":true,"disabled":false}'
V2_SEED = {
    V2_POOL_KEY: V2_POOL_TEXT,
    "/calico/bgp/v1/host/node1/ip_addr_v4": "10.0.1.5",
    "/calico/bgp/v1/host/node1/network_v4": "10.0.1.0/24",
    "/calico/bgp/v1/host/node2/ip_addr_v4": "10.0.2.7",
    "/calico/bgp/v1/host/node2/network_v4": "10.0.2.0/24",
    "/calico/v1/host/node1/config/IpInIpTunnelAddr": "192.168.70.0",
    "/calico/ipam/v2/host/node1/ipv4/block/192.168.70.0-26": "{}",
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def b64(text):
    return base64.b64encode(text.encode()).decode()


class RawEtcd:
    """A tiny independent etcd client (urllib) for seeding and inspecting; the code under test is not used."""

    def __init__(self, url, context=None):
        self.url = url
        self.context = context
        self.token = None
        self.credentials = None

    def post(self, path, payload, _retry=True):
        req = urllib.request.Request(self.url + path, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        if self.token:
            req.add_header("Authorization", self.token)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=10) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            # etcd's simple tokens expire after 5 minutes (--auth-token-ttl): a session-scoped fixture outlives them
            if exc.code == 401 and _retry and self.credentials:
                self.login(*self.credentials)
                return self.post(path, payload, _retry=False)
            raise

    def login(self, name, password):
        self.token = None
        self.token = self.post("/v3/auth/authenticate", {"name": name, "password": password}, _retry=False)["token"]
        self.credentials = (name, password)

    def put(self, key, value):
        return self.post("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def get(self, key):
        kvs = self.post("/v3/kv/range", {"key": b64(key)}).get("kvs") or []
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

    def get_at(self, key, revision):
        kvs = self.post("/v3/kv/range", {"key": b64(key), "revision": str(revision)}).get("kvs") or []
        return (base64.b64decode(kvs[0]["value"]).decode(), int(kvs[0]["mod_revision"])) if kvs else (None, 0)

    def mod_revision(self, key):
        kvs = self.post("/v3/kv/range", {"key": b64(key)}).get("kvs") or []
        return int(kvs[0]["mod_revision"]) if kvs else 0

    def revision(self):
        return int(self.post("/v3/kv/range", {"key": b64("/"), "count_only": True})["header"]["revision"])

    def wipe(self):
        self.post("/v3/kv/deleterange", {"key": b64("/calico/"), "range_end": b64("/calico0")})

    # v2 keys API
    def v2(self, method, key, **form):
        data = urllib.parse.urlencode(form).encode() if form else None
        req = urllib.request.Request(self.url + "/v2/keys" + key, data=data, method=method)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=10) as resp:
                return json.loads(resp.read()), int(resp.headers.get("X-Etcd-Index", 0))
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read() or b"{}"), int(exc.headers.get("X-Etcd-Index", 0))

    def v2_get(self, key):
        body, _index = self.v2("GET", key)
        return (body.get("node") or {}).get("value")

    def v2_index(self):
        return self.v2("GET", "/")[1]


class EtcdProcess:
    def __init__(self, workdir: Path, tls=None, extra=()):
        self.workdir = workdir
        self.client_port = free_port()
        self.peer_port = free_port()
        scheme = "https" if tls else "http"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.client_port)
        peer = "http://127.0.0.1:%d" % self.peer_port
        argv = [ETCD, "--name", "t", "--data-dir", str(workdir / "data"), "--enable-v2",
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "t=" + peer, "--log-outputs", "stderr", "--logger", "zap"]
        self.context = None
        if tls:
            argv += ["--cert-file", tls["server_cert"], "--key-file", tls["server_key"],
                     "--trusted-ca-file", tls["ca"], "--client-cert-auth"]
            self.context = ssl.create_default_context(cafile=tls["ca"])
            self.context.load_cert_chain(tls["client_cert"], tls["client_key"])
        argv += list(extra)
        self.log = open(workdir / "etcd.log", "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(workdir))
        self.raw = RawEtcd(self.url, self.context)
        deadline = time.time() + 30
        while True:
            try:
                self.raw.post("/v3/kv/range", {"key": b64("/")})
                break
            except Exception:  # noqa: BLE001 - still starting
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("etcd did not start: %s" % (workdir / "etcd.log").read_text()[-2000:])
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, 15)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, 9)
                self.proc.wait(10)
        self.log.close()


def seed(raw: RawEtcd):
    raw.wipe()
    for key, value in V3_SEED.items():
        raw.put(key, value)
    # In the query string: etcd reads a DELETE's options from the URL only (a form body is ignored and the
    # delete fails with "Not a file"), so keys a test added would survive into the next test.
    raw.v2("DELETE", "/calico?recursive=true")
    for key, value in V2_SEED.items():
        raw.v2("PUT", key, value=value)


@pytest.fixture(scope="session")
def etcd(tmp_path_factory):
    if not os.path.exists(ETCD):
        pytest.fail("etcd is not installed: run tests/tools/system-deps.sh datastore (make functional does)")
    proc = EtcdProcess(tmp_path_factory.mktemp("etcd"))
    yield proc
    proc.stop()


@pytest.fixture
def seeded(etcd):
    seed(etcd.raw)
    return etcd


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory: Path, name: str):
    # Python >= 3.13 verifies strictly (VERIFY_X509_STRICT): the CA needs keyUsage, leaves need key identifiers.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=%s" % name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash",
            "-keyout", "%s.key" % name, "-out", "%s.pem" % name, cwd=directory)
    return str(directory / ("%s.pem" % name)), str(directory / ("%s.key" % name))


def make_cert(directory: Path, ca: str, name: str, cn: str, san=None):
    ext = directory / ("%s.ext" % name)
    ext.write_text(("subjectAltName=%s\n" % san if san else "") + "extendedKeyUsage=serverAuth,clientAuth\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n"
                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % cn, "-keyout", "%s.key" % name,
            "-out", "%s.csr" % name, cwd=directory)
    openssl("x509", "-req", "-in", "%s.csr" % name, "-CA", "%s.pem" % ca, "-CAkey", "%s.key" % ca, "-CAcreateserial",
            "-days", "2", "-extfile", str(ext), "-out", "%s.pem" % name, cwd=directory)
    return str(directory / ("%s.pem" % name)), str(directory / ("%s.key" % name))


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory):
    """A throwaway CA, etcd's server cert for 127.0.0.1, a client cert, and an unrelated CA (for mismatch tests)."""
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d, "ca")[0]
    rogue_ca = make_ca(d, "rogue")[0]
    server_cert, server_key = make_cert(d, "ca", "server", "etcd", "IP:127.0.0.1")
    client_cert, client_key = make_cert(d, "ca", "client", "calico")
    rogue_cert, rogue_key = make_cert(d, "rogue", "rogueclient", "calico")
    return {"ca": ca, "rogue_ca": rogue_ca, "server_cert": server_cert, "server_key": server_key,
            "client_cert": client_cert, "client_key": client_key, "rogue_cert": rogue_cert, "rogue_key": rogue_key}


@pytest.fixture(scope="session")
def etcd_tls(tmp_path_factory, tls_material):
    proc = EtcdProcess(tmp_path_factory.mktemp("etcd-tls"), tls=tls_material)
    seed(proc.raw)
    yield proc
    proc.stop()


AUTH_PASSWORD = "calico-S3cret-pw"


@pytest.fixture(scope="session")
def etcd_auth(tmp_path_factory):
    """etcd with authentication on: user `calico` may read and write /calico/ only."""
    proc = EtcdProcess(tmp_path_factory.mktemp("etcd-auth"))
    raw = proc.raw
    seed(raw)
    raw.post("/v3/auth/role/add", {"name": "root"})
    raw.post("/v3/auth/user/add", {"name": "root", "password": "root-pw"})
    raw.post("/v3/auth/user/grant", {"user": "root", "role": "root"})
    raw.post("/v3/auth/role/add", {"name": "calico"})
    raw.post("/v3/auth/role/grant", {"name": "calico", "perm": {"permType": "READWRITE", "key": b64("/calico/"),
                                                                "range_end": b64("/calico0")}})
    raw.post("/v3/auth/user/add", {"name": "calico", "password": AUTH_PASSWORD})
    raw.post("/v3/auth/user/grant", {"user": "calico", "role": "calico"})
    raw.post("/v3/auth/enable", {})
    raw.login("root", "root-pw")
    yield proc
    proc.stop()


# -- running the modules ---------------------------------------------------------------------------------------

def run_module(module, args, check=False, diff=False, capsys=None):
    """Run a module's main() in this process, as Ansible would hand it its arguments. Returns the result dict."""
    return run_main(module, args, capsys, check=check, diff=diff)[0]


def run_ansible(module, args, check=False, diff=False, env=None, verbosity=0):
    """Run a module through the real `ansible` CLI (ad-hoc, local connection); returns (result, stdout+stderr)."""
    cmd = [str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-m", "k8snet.calico.%s" % module,
           "-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_LOCAL_TEMP=str(Path(os.environ.get("TMPDIR", "/tmp")) / "k8snet-calico-ansible-tmp"),
                    **json_callback_env())
    full_env.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    start = proc.stdout.find("{")
    data = json.loads(proc.stdout[start:])
    result = data["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return result, output


def warnings_of(result):
    """Warning texts of a result, whether plain strings or ansible-core 2.19+ WarningSummary objects."""
    texts = []
    for item in result.get("warnings") or []:
        texts.append(item if isinstance(item, str) else json.dumps(item))
    return texts


def etcd_args(proc, datastore="etcdv3", **extra):
    args = {"datastore": datastore, "etcd_endpoints": [proc.url]}
    args.update(extra)
    return args
