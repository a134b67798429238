# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""HTTP to etcd (v3 JSON gateway and v2 keys API) with Ansible's open_url: TLS, endpoint failover, and errors
that name the endpoint and say what to do. Shared by _datastore_etcdv3.py and _datastore_etcdv2.py.

Every request is bounded: `timeout` seconds from connecting to the last byte of the reply (an endpoint that sends a
byte a second cannot hold a run), and at most MAX_REPLY_BYTES of reply. A read fails over to the next endpoint on any
transport error. A write is never sent to a second endpoint once it may have reached the first: without a reply its
outcome is unknown (OutcomeUnknownError), and only reading the key back can tell (_ippool_ops.py does).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import (
    Datastore,
    DatastoreError,
    OutcomeUnknownError,
    check_timeout,
)

# Far above any real Calico read (the nodes or block affinities of a 5,000-node cluster are a few MiB, base64
# included) and far below what would hurt the host running the module.
MAX_REPLY_BYTES = 64 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 64 * 1024
_CHUNK = 1024 * 1024


class EtcdHTTPError(Exception):
    """etcd answered with an HTTP error status; `body` is its decoded JSON (or {})."""

    def __init__(self, status: int, body: Dict[str, Any], endpoint: str):
        super().__init__("HTTP %s" % status)
        self.status = status
        self.body = body
        self.endpoint = endpoint


class _Transport(Exception):
    """A request that got no usable reply; `maybe_sent` is False only when it certainly never left this host."""

    def __init__(self, reason: str, maybe_sent: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.maybe_sent = maybe_sent


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(exc).__name__


def _never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached the server: no connection was made (refused, no such host) or the
    TLS handshake failed, so sending it elsewhere is safe even for a write."""
    cause = getattr(exc, "reason", exc) if isinstance(exc, URLError) else exc
    return isinstance(cause, (ConnectionRefusedError, socket.gaierror, ssl.SSLError, ssl.CertificateError, ValueError))


def _read_bounded(response: Any, limit: int) -> bytes:
    length = (response.headers.get("Content-Length") or "").strip()
    expected = int(length) if length.isdigit() and len(length) < 20 else None
    if expected is not None and expected > limit:
        raise _Transport("reply of %d bytes is larger than the %d MiB allowed" % (expected, limit // 1048576))
    parts: List[bytes] = []
    size = 0
    while True:
        chunk = response.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            if expected is not None and size < expected:  # read(amt) returns what came before the close
                raise _Transport("reply cut short: %d of %d bytes" % (size, expected))
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _Transport("reply larger than the %d MiB allowed" % (limit // 1048576))


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """call() with an overall deadline: the socket timeout only bounds each read, not a reply that trickles.

    The call runs in a daemon thread that is abandoned, not killed, at the deadline (Python cannot interrupt a
    blocking read); it ends with the socket's own timeout or when the module's process exits."""
    box: Dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # pylint: disable=broad-except  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="k8snet-calico-etcd-request", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _Transport("no complete reply within %g s (timeout)" % seconds)
    if "error" in box:
        raise box["error"]
    return box["value"]


class EtcdHTTP:
    """Sends requests to the first endpoint that answers. TLS options follow etcdctl's (--cacert/--cert/--key)."""

    def __init__(self, endpoints: List[str], ca: Optional[str] = None, cert: Optional[str] = None, key: Optional[str] = None,
                 validate_certs: bool = True, timeout: float = 10.0):
        if not endpoints:
            raise DatastoreError("no etcd endpoint given", None, "Set etcd_endpoints, e.g. [https://10.0.0.10:2379]")
        for url in endpoints:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise DatastoreError("etcd_endpoints: %r is not an http:// or https:// URL" % (url,), None,
                                     "Give each endpoint as a URL, e.g. https://10.0.0.10:2379")
        if bool(cert) != bool(key):
            raise DatastoreError("etcd_cert and etcd_key must be given together", None,
                                 "Set both for client-certificate authentication, or neither")
        self.endpoints = [url.rstrip("/") for url in endpoints]
        self.ca = ca
        self.cert = cert
        self.key = key
        self.validate_certs = validate_certs
        self.timeout = check_timeout(timeout)
        self.current = self.endpoints[0]

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
                url_username: Optional[str] = None, url_password: Optional[str] = None,
                write: bool = False) -> Tuple[Any, Dict[str, str], str]:
        """-> (decoded JSON body, response headers, endpoint used). Raises EtcdHTTPError for an HTTP error status,
        OutcomeUnknownError when a `write` may have reached an endpoint that gave no usable reply, and
        DatastoreError when no endpoint can be reached."""
        failures = []
        ordered = [self.current] + [e for e in self.endpoints if e != self.current]
        for endpoint in ordered:
            try:
                status, raw, reply_headers = _within(self.timeout, lambda target=endpoint: self._exchange(
                    target, method, path, body, headers, url_username, url_password))
            except _Transport as exc:
                if write and exc.maybe_sent:
                    raise OutcomeUnknownError(
                        "outcome unknown: %s %s was sent but no usable reply came back (%s)" % (method, path, exc.reason),
                        endpoint, "etcd may or may not have applied it; read the key back before deciding anything")
                failures.append((endpoint, exc.reason))
                continue
            self.current = endpoint
            if status == 400 and b"HTTP request to an HTTPS server" in raw:  # Go's TLS listener answering plain HTTP
                raise DatastoreError("answered: %s" % raw[:200].decode("utf-8", "replace").strip(), endpoint,
                                     "etcd serves TLS there: use https:// (and etcd_ca, etcd_cert, etcd_key as needed)")
            if status is not None:
                decoded = _decode(raw, endpoint, strict=False)
                raise EtcdHTTPError(status, decoded if isinstance(decoded, dict) else {}, endpoint)
            try:
                return _decode(raw, endpoint), reply_headers, endpoint
            except DatastoreError:
                if write:  # a garbled reply to a write says nothing about whether it was applied
                    raise OutcomeUnknownError(
                        "outcome unknown: %s %s got a reply that is not JSON: %r" % (method, path, raw[:120]),
                        endpoint, "etcd may or may not have applied it; read the key back before deciding anything")
                raise
        raise _unreachable(failures, bool(self.cert))

    def _exchange(self, endpoint, method, path, body, headers, url_username, url_password):
        """One HTTP exchange: (None, body, headers) for a success, (status, error body, headers) for an HTTP error
        status. Every transport failure becomes _Transport."""
        try:
            response = open_url(
                endpoint + path, data=body, headers=headers or {}, method=method, timeout=self.timeout,
                validate_certs=self.validate_certs, ca_path=self.ca, client_cert=self.cert, client_key=self.key,
                url_username=url_username, url_password=url_password, force_basic_auth=bool(url_username),
                # etcd lives on the cluster network; an HTTP(S)_PROXY from the environment would only get in the way.
                use_proxy=False, follow_redirects="none", use_netrc=False,
            )
            try:
                return None, _read_bounded(response, MAX_REPLY_BYTES), dict(response.headers)
            finally:
                response.close()
        except HTTPError as exc:
            try:
                raw = _read_bounded(exc, MAX_ERROR_BODY_BYTES)
            except Exception:  # pylint: disable=broad-except  # the status alone is the answer
                raw = b""
            return exc.code, raw, dict(exc.headers or {})
        except _Transport:
            raise
        except (URLError, ssl.SSLError, socket.timeout, ConnectionError, OSError, http.client.HTTPException) as exc:
            raise _Transport(_reason(exc), maybe_sent=not _never_sent(exc))
        except ValueError as exc:  # e.g. unreadable certificate files
            raise _Transport(str(exc), maybe_sent=False)


def _decode(raw: bytes, endpoint: str, strict: bool = True) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        if not strict:
            return {"message": raw[:200].decode("utf-8", "replace")}
        raise DatastoreError("answered with something that is not JSON: %r" % raw[:120], endpoint,
                             "Check that etcd_endpoints points at etcd's client port (usually 2379)")


def not_etcd(endpoint: str, what: str, detail: str) -> DatastoreError:
    """An endpoint that answers, but not as etcd does (a reply of the wrong shape)."""
    return DatastoreError("answered %s with a reply that is not etcd's: %s" % (what, detail), endpoint,
                          "Check that etcd_endpoints points at etcd's client port (usually 2379), not another service")


def _advice(endpoint: str, reason: str, client_cert: bool) -> str:
    """What to do about one endpoint's failure, from its URL scheme, the error and whether a client cert was given."""
    lowered = reason.lower()
    tls = endpoint.startswith("https://")
    closed = any(word in lowered for word in ("broken pipe", "reset by peer", "closed connection", "eof occurred"))
    if tls and not client_cert and (closed or "certificate required" in lowered):
        return ("etcd closed the TLS connection: it requires a client certificate (etcd --client-cert-auth); set "
                "etcd_cert and etcd_key to a certificate signed by a CA in etcd's --trusted-ca-file")
    if tls and client_cert and ("unknown ca" in lowered or "bad certificate" in lowered or closed):
        return ("etcd refused the client certificate: etcd_cert must be signed by a CA in etcd's --trusted-ca-file "
                "and carry extendedKeyUsage clientAuth")
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return ("TLS failed: check etcd_ca (the CA that signed etcd's server certificate), etcd_cert/etcd_key "
                "(a client certificate etcd trusts) and that the URL uses https://")
    if not tls and closed:
        return "the endpoint closed the connection without an HTTP reply: if etcd serves TLS there, use https://"
    if any(word in lowered for word in ("refused", "timed out", "timeout", "unreachable", "no route")):
        return "Check that etcd runs and listens there, and that the endpoint URL and port are right"
    return "Check etcd_endpoints and the network path to etcd"


def _unreachable(failures: List[Tuple[str, str]], client_cert: bool) -> DatastoreError:
    text = "; ".join("%s: %s" % f for f in failures)
    advice = []
    for endpoint, reason in failures:
        line = _advice(endpoint, reason, client_cert)
        if line not in advice:
            advice.append(line)
    endpoints = ", ".join(f[0] for f in failures)
    return DatastoreError("cannot reach etcd (%s)" % text, endpoints, ". ".join(a.rstrip(".") for a in advice))


class EtcdDatastore(Datastore):
    """What the etcd v2 and v3 backends share: the HTTP client, the credentials, the endpoint in use."""

    def __init__(self, http: EtcdHTTP, username: Optional[str] = None, password: Optional[str] = None):
        self.http = http
        self.username = username
        self.password = password
        if bool(username) != bool(password):
            raise DatastoreError("etcd_username and etcd_password must be given together", None,
                                 "Set both for etcd user authentication, or neither")

    @property
    def endpoint(self) -> str:  # type: ignore[override]
        return self.http.current
