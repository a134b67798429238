# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""HTTP to etcd (v3 JSON gateway and v2 keys API) with Ansible's open_url: TLS, endpoint failover, and errors
that name the endpoint and say what to do. Shared by _datastore_etcdv3.py and _datastore_etcdv2.py."""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import Datastore, DatastoreError


class EtcdHTTPError(Exception):
    """etcd answered with an HTTP error status; `body` is its decoded JSON (or {})."""

    def __init__(self, status: int, body: Dict[str, Any], endpoint: str):
        super().__init__("HTTP %s" % status)
        self.status = status
        self.body = body
        self.endpoint = endpoint


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(exc).__name__


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
        self.timeout = timeout
        self.current = self.endpoints[0]

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
                url_username: Optional[str] = None, url_password: Optional[str] = None) -> Tuple[Any, Dict[str, str], str]:
        """-> (decoded JSON body, response headers, endpoint used). Raises EtcdHTTPError for an HTTP error status
        and DatastoreError when no endpoint can be reached."""
        failures = []
        ordered = [self.current] + [e for e in self.endpoints if e != self.current]
        for endpoint in ordered:
            try:
                response = open_url(
                    endpoint + path, data=body, headers=headers or {}, method=method, timeout=self.timeout,
                    validate_certs=self.validate_certs, ca_path=self.ca, client_cert=self.cert, client_key=self.key,
                    url_username=url_username, url_password=url_password, force_basic_auth=bool(url_username),
                    # etcd lives on the cluster network; an HTTP(S)_PROXY from the environment would only get in the way.
                    use_proxy=False, follow_redirects="none", use_netrc=False,
                )
                raw = response.read()
                self.current = endpoint
                return _decode(raw, endpoint), dict(response.headers), endpoint
            except HTTPError as exc:
                try:
                    raw = exc.read()
                except Exception:  # pylint: disable=broad-except
                    raw = b""
                self.current = endpoint
                decoded = _decode(raw, endpoint, strict=False)
                raise EtcdHTTPError(exc.code, decoded if isinstance(decoded, dict) else {}, endpoint)
            except (URLError, ssl.SSLError, socket.timeout, ConnectionError, OSError) as exc:
                failures.append((endpoint, _reason(exc)))
            except ValueError as exc:  # e.g. unreadable certificate files
                failures.append((endpoint, str(exc)))
        raise _unreachable(failures)


def _decode(raw: bytes, endpoint: str, strict: bool = True) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        if not strict:
            return {"message": raw[:200].decode("utf-8", "replace")}
        raise DatastoreError("answered with something that is not JSON: %r" % raw[:120], endpoint,
                             "Check that etcd_endpoints points at etcd's client port (usually 2379)")


def _unreachable(failures: List[Tuple[str, str]]) -> DatastoreError:
    text = "; ".join("%s: %s" % f for f in failures)
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        advice = ("TLS failed: check etcd_ca (the CA that signed etcd's server certificate), etcd_cert/etcd_key "
                  "(a client certificate etcd trusts) and that the URL uses https://")
    elif "refused" in lowered or "timed out" in lowered or "unreachable" in lowered or "no route" in lowered:
        advice = "Check that etcd runs and listens there, and that the endpoint URL and port are right"
    else:
        advice = "Check etcd_endpoints and the network path to etcd"
    endpoints = ", ".join(f[0] for f in failures)
    return DatastoreError("cannot reach etcd (%s)" % text, endpoints, advice)


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
