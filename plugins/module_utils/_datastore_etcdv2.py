# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Calico v2 on etcd's v2 keys API (/v2/keys/...).

Layout: projectcalico/libcalico-go v1.7.3 lib/backend/model/ (pools at /calico/v1/ipam/v4|v6/pool/<cidr with - for
/>, global Felix keys under /calico/v1/config/, BGP node data under /calico/bgp/v1/host/, affinities in block*.go).
Writes use prevIndex / prevExist so a concurrent change is never overwritten.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

from ansible_collections.k8snet.calico.plugins.module_utils._calico_cluster import V1_BGP_HOST_PREFIX, V1_GLOBAL_IPIP_KEY
from ansible_collections.k8snet.calico.plugins.module_utils._datastore import (
    FELIX,
    POOL,
    VALUE,
    ConflictError,
    DatastoreError,
    NewValue,
    Record,
    decode_or_none,
)
from ansible_collections.k8snet.calico.plugins.module_utils._etcd_http import EtcdDatastore, EtcdHTTPError, not_etcd
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import go_json

POOL_DIRS = ("/calico/v1/ipam/v4/pool", "/calico/v1/ipam/v6/pool")
AFFINITY_DIR = "/calico/ipam/v2/host"

# etcd v2 error codes (etcd/error/error.go)
_KEY_NOT_FOUND = 100
_COMPARE_FAILED = 101
_NODE_EXIST = 105


def _leaves(node: Any, endpoint: str, what: str) -> List[Dict[str, Any]]:
    """The value nodes under a v2 directory node, depth first in etcd's order; a reply of another shape is refused."""
    found, pending = [], [node]
    while pending:
        item = pending.pop()
        if not isinstance(item, dict):
            raise not_etcd(endpoint, what, "a node is %r, not an object" % (item,))
        if item.get("dir"):
            children = item.get("nodes") or []
            if not isinstance(children, list):
                raise not_etcd(endpoint, what, "nodes of %r is %r, not a list" % (item.get("key"), children))
            pending.extend(reversed(children))
            continue
        if not isinstance(item.get("key"), str) or not isinstance(item.get("value", ""), str):
            shape = (item.get("key"), item.get("value"))
            raise not_etcd(endpoint, what, "a node has key %r and value %r, not strings" % shape)
        found.append(item)
    return found


def _node_of(data: Any, endpoint: str, what: str) -> Dict[str, Any]:
    node = data.get("node") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(node or {}, dict):
        raise not_etcd(endpoint, what, "expected {\"node\": {...}}, got %.120r" % (data,))
    return node or {}


class EtcdV2Datastore(EtcdDatastore):
    name = "etcdv2"

    def _request(self, method: str, key: str, query: Optional[Dict[str, str]] = None, body: Optional[Dict[str, str]] = None):
        path = "/v2/keys" + quote(key)
        if query:
            path += "?" + urlencode(query)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        data = urlencode(body).encode("utf-8") if body is not None else None
        return self.http.request(method, path, data, headers, url_username=self.username, url_password=self.password,
                                 write=method in ("PUT", "DELETE"))

    def _error(self, exc: EtcdHTTPError, what: str) -> DatastoreError:
        message = str(exc.body.get("message") or "HTTP %s" % exc.status)
        if exc.status == 401:
            advice = "etcd v2 auth refused the credentials: check etcd_username and etcd_password"
        elif exc.status == 403:
            advice = "The etcd user lacks a role with access to /calico/"
        elif exc.status == 404 and exc.body.get("errorCode") is None:
            advice = "This endpoint does not serve etcd's v2 API: start etcd with --enable-v2 (Calico v2 needs it)"
        else:
            advice = "Check the etcd logs on that endpoint"
        return DatastoreError("etcd refused %s: %s" % (what, message), exc.endpoint, advice)

    def _get_tree(self, key: str) -> List[Dict[str, Any]]:
        try:
            data, _h, _e = self._request("GET", key, {"recursive": "true"})
        except EtcdHTTPError as exc:
            if exc.body.get("errorCode") == _KEY_NOT_FOUND:
                return []
            raise self._error(exc, "reading %s" % key)
        return _leaves(_node_of(data, self.http.current, "reading %s" % key), self.http.current, "reading %s" % key)

    def _record(self, node: Dict[str, Any], kind: str) -> Record:
        text = node.get("value")
        return Record(node.get("key"), kind, True, str(node.get("modifiedIndex")), text,
                      text if kind in (VALUE, FELIX) else decode_or_none(text), self.name)

    def revision(self) -> int:
        """etcd's v2 index (tests use it to prove nothing was written)."""
        try:
            _data, headers, _e = self._request("GET", "/calico")
        except EtcdHTTPError as exc:
            return int(exc.body.get("index", 0))
        return int({k.lower(): v for k, v in headers.items()}.get("x-etcd-index", 0))

    def read_pools(self) -> List[Record]:
        records = []
        for directory in POOL_DIRS:
            records.extend(self._record(n, POOL) for n in self._get_tree(directory))
        return records

    def read_felix(self) -> Optional[Record]:
        return self.read(V1_GLOBAL_IPIP_KEY, FELIX)

    def read_nodes(self) -> List[Record]:
        """BGP host keys plus each host's IpInIpTunnelAddr, as plain-value records (see nodes_from_v1_keys)."""
        records = [self._record(n, VALUE) for n in self._get_tree(V1_BGP_HOST_PREFIX.rstrip("/"))]
        hosts = sorted({r.key[len(V1_BGP_HOST_PREFIX):].split("/")[0] for r in records})
        for host in hosts:
            tunnel = self.read("/calico/v1/host/%s/config/IpInIpTunnelAddr" % host, VALUE)
            if tunnel.exists:
                records.append(tunnel)
        return records

    def read_block_affinities(self) -> List[Record]:
        return [self._record(n, VALUE) for n in self._get_tree(AFFINITY_DIR)]

    def read(self, key: str, kind: str) -> Record:
        try:
            data, _h, _e = self._request("GET", key)
        except EtcdHTTPError as exc:
            if exc.body.get("errorCode") == _KEY_NOT_FOUND:
                return Record(key, kind, exists=False, revision=None, datastore=self.name)
            raise self._error(exc, "reading %s" % key)
        node = _leaves(_node_of(data, self.http.current, "reading %s" % key), self.http.current, "reading %s" % key)
        if len(node) != 1:
            raise not_etcd(self.http.current, "reading %s" % key, "expected the value of that key, got %.120r" % (data,))
        return self._record(node[0], kind)

    def serialise(self, record: Record, obj: Any) -> str:
        return obj if isinstance(obj, str) else go_json(obj)

    def compare_and_swap(self, record: Record, new: NewValue) -> Record:
        if record.exists and not record.revision:
            raise ValueError("compare_and_swap needs a record read from the datastore (no revision)")
        query = {"prevIndex": record.revision} if record.exists else {"prevExist": "false"}
        try:
            if new is None:
                if not record.exists:
                    return record
                data, _h, _e = self._request("DELETE", record.key, query)
                text = None
            else:
                text = self.serialise(record, new)
                data, _h, _e = self._request("PUT", record.key, query, {"value": text})
        except EtcdHTTPError as exc:
            if exc.body.get("errorCode") in (_COMPARE_FAILED, _NODE_EXIST, _KEY_NOT_FOUND):
                raise ConflictError("%s changed since it was read (%s)" % (record.key, exc.body.get("message")),
                                    exc.endpoint, "Re-read and decide again")
            raise self._error(exc, "writing %s" % record.key)
        node = _node_of(data, self.http.current, "writing %s" % record.key)
        obj = new if isinstance(new, dict) else (text if record.kind in (VALUE, FELIX) else decode_or_none(text))
        return Record(record.key, record.kind, new is not None, str(node.get("modifiedIndex")), text, obj, self.name)
