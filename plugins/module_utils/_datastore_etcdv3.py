# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Calico v3 on etcd v3, through etcd's JSON gateway (/v3/kv/range, /v3/kv/txn, /v3/auth/authenticate).

Layout: projectcalico/calico libcalico-go/lib/backend/model/resource.go (resources under
/calico/resources/v3/projectcalico.org/<plural>/<name>, value = the whole v3 object as Go JSON without
resourceVersion) and block_affinity.go (IPAM affinities). Writes are transactions that compare the key's
mod_revision, so a concurrent change is never overwritten.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Dict, List, Optional

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import (
    AFFINITY,
    FELIX,
    NODE,
    POOL,
    ConflictError,
    DatastoreError,
    NewValue,
    Record,
    decode_or_none,
)
from ansible_collections.k8snet.calico.plugins.module_utils._etcd_http import EtcdDatastore, EtcdHTTP, EtcdHTTPError, not_etcd
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import go_json

RESOURCES = "/calico/resources/v3/projectcalico.org/"
POOLS_PREFIX = RESOURCES + "ippools/"
NODES_PREFIX = RESOURCES + "nodes/"
FELIX_DEFAULT = RESOURCES + "felixconfigurations/default"
AFFINITIES_PREFIX = "/calico/ipam/v2/host/"

# gRPC codes etcd's gateway returns in {"code": N}
_UNAUTHENTICATED = 16
_PERMISSION_DENIED = 7
_INVALID_ARGUMENT = 3
_FAILED_PRECONDITION = 9


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _unb64(text: Any, field: str, endpoint: str) -> str:
    """A key or value of a range reply: base64 of UTF-8 text, as etcd's gateway sends them."""
    if text is None:
        return ""
    try:
        if not isinstance(text, str):
            raise TypeError(type(text).__name__)
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (TypeError, ValueError, binascii.Error) as exc:
        raise not_etcd(endpoint, "a range request", "kvs %s %r is not base64 of UTF-8 text (%s)" % (field, text, exc))


def prefix_end(prefix: str) -> str:
    """etcd's range_end for "every key starting with prefix": the prefix with its last byte incremented."""
    data = bytearray(prefix.encode("utf-8"))
    data[-1] += 1
    return bytes(data).decode("utf-8")


class EtcdV3Datastore(EtcdDatastore):
    name = "etcdv3"

    def __init__(self, http: EtcdHTTP, username: Optional[str] = None, password: Optional[str] = None):
        super().__init__(http, username, password)
        self._token: Optional[str] = None

    # -- transport -------------------------------------------------------------------------------------------
    def _authenticate(self) -> str:
        body = json.dumps({"name": self.username, "password": self.password}).encode("utf-8")
        try:
            data, _headers, _ep = self.http.request("POST", "/v3/auth/authenticate", body)
        except EtcdHTTPError as exc:
            raise self._error(exc, "authenticating as %r" % self.username)
        token = data.get("token") if isinstance(data, dict) else None
        if not token:
            raise DatastoreError("etcd returned no auth token for user %r" % self.username, self.http.current,
                                 "Check that etcd authentication is enabled and the user exists")
        return token

    def _call(self, path: str, payload: Dict[str, Any], what: str, write: bool = False) -> Dict[str, Any]:
        for attempt in (1, 2):
            headers = {"Content-Type": "application/json"}
            if self.username:
                if self._token is None:
                    self._token = self._authenticate()
                headers["Authorization"] = self._token
            try:
                data, _headers, endpoint = self.http.request("POST", path, json.dumps(payload).encode("utf-8"), headers,
                                                             write=write)
                if not isinstance(data, dict):
                    raise not_etcd(endpoint, what, "expected a JSON object, got %s" % type(data).__name__)
                return data
            except EtcdHTTPError as exc:
                expired = exc.body.get("code") == _UNAUTHENTICATED and "token" in str(exc.body.get("error", ""))
                if self.username and expired and attempt == 1:
                    self._token = None  # tokens expire (etcd --auth-token simple: 5 min idle); get a new one once
                    continue
                raise self._error(exc, what)
        raise DatastoreError("unreachable", self.http.current)  # pragma: no cover

    def _error(self, exc: EtcdHTTPError, what: str) -> DatastoreError:
        message = str(exc.body.get("error") or exc.body.get("message") or "HTTP %s" % exc.status)
        code = exc.body.get("code")
        lowered = message.lower()
        if "authentication failed" in lowered or "invalid user" in lowered or "password" in lowered:
            advice = "Check etcd_username and etcd_password"
        elif code == _UNAUTHENTICATED or "user name is empty" in lowered:
            advice = "etcd requires authentication: set etcd_username and etcd_password, or a client certificate (etcd_cert/etcd_key) etcd maps to a user"
        elif code == _PERMISSION_DENIED:
            advice = "The etcd user lacks a role with read/write access to /calico/: grant one (etcdctl role grant-permission --prefix)"
        elif code == _FAILED_PRECONDITION and "auth" in lowered:
            advice = "etcd authentication is not enabled there: leave etcd_username and etcd_password unset"
        elif exc.status == 404:
            advice = "This does not look like the JSON gateway of etcd >= 3.4 (path /v3/); check the endpoint URL and port"
        else:
            advice = "Check the etcd logs on that endpoint"
        return DatastoreError("etcd refused %s: %s" % (what, message), exc.endpoint, advice)

    def _range(self, key: str, prefix: bool = False) -> List[Dict[str, Any]]:
        payload = {"key": _b64(key)}
        if prefix:
            payload["range_end"] = _b64(prefix_end(key))
        data = self._call("/v3/kv/range", payload, "reading %s" % key)
        kvs = data.get("kvs") or []
        if not isinstance(kvs, list) or not all(isinstance(kv, dict) for kv in kvs):
            raise not_etcd(self.http.current, "reading %s" % key, "kvs is %r, not a list of key-values" % (kvs,))
        return kvs

    def _record(self, kv: Dict[str, Any], kind: str) -> Record:
        key = _unb64(kv.get("key"), "key", self.http.current)
        text = _unb64(kv.get("value"), "value", self.http.current)
        # An undecodable value becomes obj None; the caller reports it, naming the key.
        return Record(key, kind, True, str(kv.get("mod_revision")), text, decode_or_none(text), self.name)

    def revision(self) -> int:
        """The store-wide revision (tests use it to prove nothing was written)."""
        data = self._call("/v3/kv/range", {"key": _b64("/calico/"), "range_end": _b64(prefix_end("/calico/")),
                                           "count_only": True}, "reading the revision")
        try:
            return int((data.get("header") or {}).get("revision", 0))
        except (AttributeError, TypeError, ValueError):
            raise not_etcd(self.http.current, "reading the revision", "header is %r" % (data.get("header"),))

    # -- Datastore interface ---------------------------------------------------------------------------------
    def read_pools(self) -> List[Record]:
        return [self._record(kv, POOL) for kv in self._range(POOLS_PREFIX, prefix=True)]

    def read_felix(self) -> Optional[Record]:
        return self.read(FELIX_DEFAULT, FELIX)

    def read_nodes(self) -> List[Record]:
        return [self._record(kv, NODE) for kv in self._range(NODES_PREFIX, prefix=True)]

    def read_block_affinities(self) -> List[Record]:
        return [self._record(kv, AFFINITY) for kv in self._range(AFFINITIES_PREFIX, prefix=True)]

    def read(self, key: str, kind: str) -> Record:
        kvs = self._range(key)
        if not kvs:
            return Record(key, kind, exists=False, revision="0", datastore=self.name)
        return self._record(kvs[0], kind)

    def serialise(self, record: Record, obj: Any) -> str:
        return obj if isinstance(obj, str) else go_json(obj)

    def compare_and_swap(self, record: Record, new: NewValue) -> Record:
        expected = record.revision if record.exists else "0"  # a missing key has mod_revision 0
        if expected is None:
            raise ValueError("compare_and_swap needs a record read from the datastore (no revision)")
        compare = [{"key": _b64(record.key), "target": "MOD", "result": "EQUAL", "mod_revision": str(expected)}]
        if new is None:
            success = [{"request_delete_range": {"key": _b64(record.key)}}]
            text = None
        else:
            text = self.serialise(record, new)
            success = [{"request_put": {"key": _b64(record.key), "value": _b64(text)}}]
        data = self._call("/v3/kv/txn", {"compare": compare, "success": success}, "writing %s" % record.key, write=True)
        if not data.get("succeeded"):  # the gateway leaves out false fields
            raise ConflictError("%s changed since it was read (expected mod_revision %s)" % (record.key, expected),
                                self.http.current, "Re-read and decide again")
        revision = str((data.get("header") or {}).get("revision"))
        obj = new if isinstance(new, dict) else decode_or_none(text)
        return Record(record.key, record.kind, new is not None, revision, text, obj, self.name)
