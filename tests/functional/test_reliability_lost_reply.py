"""A write that etcd applied but whose reply was lost (issue 16 item 2): the undo (`previous`) must survive.

A proxy on loopback forwards every request to the suite's real etcd; the first write (v3 POST /v3/kv/txn, v2 PUT)
is forwarded and applied, then its connection is closed without a reply, as a dropped packet or a crashed load
balancer would. The module must report the change it made (changed, the write, `previous` = the object before it),
or, when it cannot tell, fail with "outcome unknown" and still return `previous`.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from _loopback_http import LoopbackHTTPServer, forward, reply
from conftest import POOL_KEY, POOL_TEXT, V2_POOL_KEY, V2_POOL_TEXT, run_module

pytestmark = pytest.mark.usefixtures("seeded")


class ReplyDroppingProxy(LoopbackHTTPServer):
    """Forwards to `target`; the first write is applied by etcd but answered with a closed connection. With
    `dead_after_write`, every later request is dropped too (the endpoint went away right after the write)."""

    def __init__(self, target, dead_after_write=False):
        self.dropped = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
                is_write = self.command in ("PUT", "DELETE") or self.path == "/v3/kv/txn"
                if proxy.dropped and dead_after_write:
                    self.close_connection = True
                    return
                status, data, index = forward(self, target, body)
                if is_write and not proxy.dropped:
                    proxy.dropped += 1
                    self.close_connection = True  # applied by etcd, reply never sent
                    return
                reply(self, status, data, index)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.serve(Handler)


@pytest.fixture
def proxy(seeded):
    server = ReplyDroppingProxy(seeded.url)
    yield server
    server.stop()


@pytest.fixture
def dead_proxy(seeded):
    server = ReplyDroppingProxy(seeded.url, dead_after_write=True)
    yield server
    server.stop()


def always(endpoints, datastore="etcdv3", **extra):
    return dict({"datastore": datastore, "etcd_endpoints": endpoints, "ipip_mode": "Always", "timeout": 5}, **extra)


def assert_restores(seeded, result, key, original, datastore, capsys, raw_get):
    """`previous` is the object before the run: restoring it through the module brings the original bytes back."""
    assert result["previous"]["text"] == original, result["previous"]
    undo = run_module("ippool", {"datastore": datastore, "etcd_endpoints": [seeded.url], "restore": result["previous"]}, capsys=capsys)
    assert undo["changed"] is True, undo
    assert raw_get(key) == original


@pytest.mark.parametrize("two_endpoints", [False, True], ids=["one-endpoint", "proxy-then-etcd"])
def test_v3_lost_txn_reply_keeps_previous(seeded, proxy, capsys, two_endpoints):
    endpoints = [proxy.url, seeded.url] if two_endpoints else [proxy.url]
    result = run_module("ippool", always(endpoints, name="default-ipv4-ippool"), capsys=capsys)
    assert proxy.dropped == 1
    assert json.loads(seeded.raw.get(POOL_KEY))["spec"]["ipipMode"] == "Always"  # etcd did apply it
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [w["what"] for w in result["writes"]] == ["pool"]
    assert result["writes"][0]["revision"] == str(seeded.raw.mod_revision(POOL_KEY))
    assert_restores(seeded, result, POOL_KEY, POOL_TEXT, "etcdv3", capsys, seeded.raw.get)


def test_v2_lost_put_reply_keeps_previous(seeded, proxy, capsys):
    result = run_module("ippool", always([proxy.url], "etcdv2", cidr="192.168.0.0/16"), capsys=capsys)
    assert proxy.dropped == 1
    assert json.loads(seeded.raw.v2_get(V2_POOL_KEY))["ipip_mode"] == "always"
    assert not result.get("failed"), result
    # Calico v2 also needs its global ipip key: the pool write lost its reply, the key's write that followed did not
    assert result["changed"] is True and [w["what"] for w in result["writes"]] == ["pool", "felix"]
    assert result["previous_felix"]["exists"] is False
    assert_restores(seeded, result, V2_POOL_KEY, V2_POOL_TEXT, "etcdv2", capsys, seeded.raw.v2_get)


def test_rerun_after_lost_reply_reports_nothing_to_do(seeded, proxy, capsys):
    """The change was made once; the second run sees it done (and only the first run's `previous` is the undo)."""
    first = run_module("ippool", always([proxy.url], name="default-ipv4-ippool"), capsys=capsys)
    again = run_module("ippool", always([proxy.url], name="default-ipv4-ippool"), capsys=capsys)
    assert first["changed"] is True and again["changed"] is False
    assert first["previous"]["text"] == POOL_TEXT


@pytest.mark.parametrize("datastore,args,key,original", [
    ("etcdv3", {"name": "default-ipv4-ippool"}, POOL_KEY, POOL_TEXT),
    ("etcdv2", {"cidr": "192.168.0.0/16"}, V2_POOL_KEY, V2_POOL_TEXT),
], ids=["v3", "v2"])
def test_unreachable_after_write_fails_outcome_unknown_with_previous(seeded, dead_proxy, capsys, datastore, args, key,
                                                                     original):
    result = run_module("ippool", always([dead_proxy.url], datastore, **args), capsys=capsys)
    assert result.get("failed") is True, result
    assert "outcome unknown" in result["msg"], result["msg"]
    assert key in result["msg"]
    assert result["previous"]["text"] == original
    # and that previous really undoes what landed
    undo = run_module("ippool", {"datastore": datastore, "etcd_endpoints": [seeded.url], "restore": result["previous"]}, capsys=capsys)
    assert undo["changed"] is True, undo
    assert (seeded.raw.get(key) if datastore == "etcdv3" else seeded.raw.v2_get(key)) == original


def test_restore_with_lost_reply_reports_restored(seeded, capsys):
    """The undo itself can lose its reply: the restore is then confirmed by reading it back."""
    changed = run_module("ippool", always([seeded.url], name="default-ipv4-ippool"), capsys=capsys)
    server = ReplyDroppingProxy(seeded.url)
    try:
        undo = run_module("ippool", {"datastore": "etcdv3", "etcd_endpoints": [server.url], "restore": changed["previous"],
                                     "timeout": 5}, capsys=capsys)
    finally:
        server.stop()
    assert server.dropped == 1
    assert not undo.get("failed"), undo
    assert undo["changed"] is True
    assert seeded.raw.get(POOL_KEY) == POOL_TEXT
