"""Endpoints that are not (well-behaved) etcd, on loopback (issue 16 item 3): every request bounded in time and size,
every transport error failed over to the next endpoint and named, a reply of the wrong shape a clear error (never
"no pools" or a traceback), and `timeout` a positive finite number. Nothing is written in any of these runs.

The servers below are started and stopped by the tests; they speak raw TCP so that they can misbehave below HTTP.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading

import pytest
from conftest import POOL_TEXT, run_module

pytestmark = pytest.mark.usefixtures("seeded")


class MisbehavingServer:
    """A TCP server on a free loopback port; `behave(sock, request_bytes, stopping)` answers each connection."""

    def __init__(self, behave):
        self.stopping = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = self.request.recv(65536)
                        if not chunk:
                            return
                        data += chunk
                    behave(self.request, data, outer.stopping)
                except OSError:
                    pass  # the client gave up: what these servers are for

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def drip(sock, _request, stopping):
    """A status line, then one header byte every 0.2 s, forever: each read returns before the socket timeout."""
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stopping.wait(0.2):
        sock.sendall(b"X")


def huge_length(sock, _request, stopping):
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n")
    zeros = b"0" * 65536
    while not stopping.is_set():
        sock.sendall(zeros)


def endless_chunks(sock, _request, stopping):
    """No Content-Length: a chunked body that never ends, so only the client's own cap stops it."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
    while not stopping.is_set():
        sock.sendall(chunk)


def ssh_banner(sock, _request, _stopping):
    sock.sendall(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")


def truncated(sock, _request, _stopping):
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"kvs\": [")


def json_reply(body):
    def answer(sock, _request, _stopping):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close"
                     b"\r\n\r\n%s" % (len(data), data))
    return answer


@pytest.fixture
def serve():
    servers = []

    def start(behave):
        server = MisbehavingServer(behave)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def info(endpoints, datastore="etcdv3", timeout=2):
    return {"datastore": datastore, "etcd_endpoints": endpoints, "timeout": timeout}


def assert_clean_failure(result, *words):
    assert result.get("failed") is True, result
    assert "exception" not in result and "Traceback" not in result["msg"], result
    for word in words:
        assert word in result["msg"], result["msg"]


@pytest.mark.parametrize("behave,words", [
    (drip, ["no complete reply within 2 s"]),
    (huge_length, ["larger than the 64 MiB allowed"]),
    (endless_chunks, ["larger than the 64 MiB allowed"]),
    (ssh_banner, ["cannot reach etcd"]),
    (truncated, ["cannot reach etcd"]),
], ids=["drip", "2GB-content-length", "endless-chunked", "ssh-banner", "truncated-body"])
@pytest.mark.parametrize("datastore", ["etcdv3", "etcdv2"])
def test_misbehaving_endpoint_alone_fails_bounded_and_named(serve, capsys, behave, words, datastore):
    bad = serve(behave)
    result = run_module("ippool_info", info([bad.url], datastore), capsys=capsys)
    assert_clean_failure(result, bad.url, *words)


@pytest.mark.parametrize("behave", [drip, huge_length, ssh_banner, truncated],
                         ids=["drip", "2GB-content-length", "ssh-banner", "truncated-body"])
def test_misbehaving_first_endpoint_fails_over_to_etcd(seeded, serve, capsys, behave):
    bad = serve(behave)
    result = run_module("ippool_info", info([bad.url, seeded.url]), capsys=capsys)
    assert not result.get("failed"), result
    assert [p["raw"] for p in result["pools"] if p["name"] == "default-ipv4-ippool"] == [json.loads(POOL_TEXT)]


def deep(depth):
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("body,words", [
    ([1, 2, 3], ["not etcd's", "expected a JSON object, got list"]),
    ({"kvs": "nope"}, ["not etcd's", "kvs is 'nope'"]),
    ({"kvs": [5]}, ["not etcd's", "kvs is [5]"]),
    ({"kvs": [{"key": "!!not base64!!", "value": "e30="}]}, ["not etcd's", "kvs key '!!not base64!!'"]),
    ({"kvs": [{"key": "L2NhbGljby9h", "value": 5}]}, ["not etcd's", "kvs value 5"]),
    ({"kvs": [{"key": "L2NhbGljby9h", "value": "//79"}]}, ["not etcd's", "not base64 of UTF-8"]),
    (deep(100000), ["not JSON"]),
    (b"\xff\xfe", ["not JSON"]),
], ids=["list", "kvs-string", "kvs-int-item", "bad-base64-key", "int-value", "non-utf8-value", "deep-json",
        "non-utf8-body"])
def test_v3_reply_of_wrong_shape_is_a_clear_error(serve, capsys, body, words):
    bad = serve(json_reply(body))
    result = run_module("ippool_info", info([bad.url]), capsys=capsys)
    assert_clean_failure(result, bad.url, *words)


@pytest.mark.parametrize("body,words", [
    ([1], ["not etcd's", 'expected {"node": {...}}']),
    ({"node": "x"}, ["not etcd's", 'expected {"node": {...}}']),
    ({"node": {"key": "/calico/v1/ipam/v4/pool", "dir": True, "nodes": "x"}}, ["not etcd's", "nodes of"]),
    ({"node": {"key": "/calico/v1/ipam/v4/pool", "dir": True, "nodes": [{"key": 5, "value": "{}"}]}},
     ["not etcd's", "key 5"]),
    (deep(100000), ["not JSON"]),
], ids=["list", "node-string", "nodes-string", "int-key", "deep-json"])
def test_v2_reply_of_wrong_shape_is_a_clear_error(serve, capsys, body, words):
    bad = serve(json_reply(body))
    result = run_module("ippool_info", info([bad.url], "etcdv2"), capsys=capsys)
    assert_clean_failure(result, bad.url, *words)


@pytest.mark.parametrize("timeout", [1e308, 0, -5, float("nan"), float("inf"), 3601], ids=str)
@pytest.mark.parametrize("module", ["ippool_info", "ippool"])
def test_timeout_must_be_positive_and_finite(seeded, capsys, timeout, module):
    before = seeded.raw.revision()
    args = info([seeded.url], timeout=timeout)
    if module == "ippool":
        args.update(name="default-ipv4-ippool", ipip_mode="Always")
    result = run_module(module, args, capsys=capsys)
    assert_clean_failure(result, "timeout: %r is not allowed" % float(timeout), "above 0 and at most 3600")
    assert seeded.raw.revision() == before


def test_timeout_is_checked_for_the_kubernetes_datastore_too(capsys):
    result = run_module("ippool_info", {"datastore": "kubernetes", "host": "https://127.0.0.1:1", "timeout": -1},
                        capsys=capsys)
    assert_clean_failure(result, "timeout: -1.0 is not allowed")


def test_refused_endpoint_then_etcd_still_writes_once(seeded, capsys):
    """A write fails over only when it certainly never left: a refused connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d" % sock.getsockname()[1]
    before = seeded.raw.revision()
    result = run_module("ippool", {"datastore": "etcdv3", "etcd_endpoints": [closed, seeded.url],
                                   "name": "default-ipv4-ippool", "ipip_mode": "Always"}, capsys=capsys)
    assert result["changed"] is True and not result.get("failed"), result
    assert seeded.raw.revision() == before + 1
