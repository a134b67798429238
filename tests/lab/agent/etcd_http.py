"""Minimal etcd client over etcd's HTTP APIs (Python 3 stdlib only), for the lab's loader and node agent.

Two flavours, matching the two Calico datastore generations the lab holds (docs/calico-traps.md "Sources"):
  EtcdV3 - the v3 API through etcd's JSON gateway (/v3/kv/...), keys and values base64-encoded;
  EtcdV2 - the v2 keys API (/v2/keys/...), which etcd 3.4 serves with --enable-v2.
Both expose the same small interface. A "version" is what a compare-and-swap write checks: the key's
mod_revision (v3) or modifiedIndex (v2); 0 means "the key must not exist".
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request


class Conflict(Exception):
    """A compare-and-swap write lost against a concurrent writer."""


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _unb64(text):
    return base64.b64decode(text).decode()


def _prefix_end(prefix):
    # etcd's range_end for "every key starting with prefix": prefix with its last byte incremented.
    raw = prefix.encode()
    return (raw[:-1] + bytes([raw[-1] + 1])).decode()


class EtcdV3:
    def __init__(self, endpoint, timeout=5):
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _post(self, path, body):
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read() or b"{}")

    def revision(self):
        """The store's revision: it changes on every write anywhere (cheap change detection)."""
        return int(self._post("/v3/kv/range", {"key": _b64("/"), "count_only": True})["header"]["revision"])

    def get(self, key):
        """(value, version), or (None, 0) if the key does not exist."""
        kvs = self._post("/v3/kv/range", {"key": _b64(key)}).get("kvs", [])
        if not kvs:
            return None, 0
        return _unb64(kvs[0].get("value", "")), int(kvs[0]["mod_revision"])

    def get_prefix(self, prefix):
        """{key: value} for every key under prefix."""
        kvs = self._post("/v3/kv/range", {"key": _b64(prefix), "range_end": _b64(_prefix_end(prefix))})
        return {_unb64(kv["key"]): _unb64(kv.get("value", "")) for kv in kvs.get("kvs", [])}

    def put(self, key, value, version=None):
        """Write; with version (see module doc) only if the key is still at that version, else Conflict."""
        if version is None:
            self._post("/v3/kv/put", {"key": _b64(key), "value": _b64(value)})
            return
        compare = {"key": _b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": str(version)}
        resp = self._post("/v3/kv/txn", {"compare": [compare],
                                         "success": [{"request_put": {"key": _b64(key), "value": _b64(value)}}]})
        if not resp.get("succeeded"):
            raise Conflict(key)

    def delete(self, key):
        self._post("/v3/kv/deleterange", {"key": _b64(key)})


class EtcdV2:
    def __init__(self, endpoint, timeout=5):
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _call(self, method, key, params=None, form=None):
        url = self.endpoint + "/v2/keys" + urllib.parse.quote(key)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read()), int(resp.headers.get("X-Etcd-Index", 0))
        except urllib.error.HTTPError as err:
            body = json.loads(err.read() or b"{}")
            if body.get("errorCode") == 100:      # key not found
                return None, int(err.headers.get("X-Etcd-Index", 0))
            if body.get("errorCode") in (101, 105):  # compare failed / node exists
                raise Conflict(key) from None
            raise

    def revision(self):
        return self._call("GET", "/")[1]

    def get(self, key):
        body = self._call("GET", key)[0]
        if body is None or body["node"].get("dir"):
            return None, 0
        return body["node"].get("value", ""), int(body["node"]["modifiedIndex"])

    def get_prefix(self, prefix):
        body = self._call("GET", prefix.rstrip("/"), {"recursive": "true"})[0]
        out = {}

        def walk(node):
            for child in node.get("nodes", []):
                walk(child)
            if not node.get("dir") and node["key"].startswith(prefix):
                out[node["key"]] = node.get("value", "")
        if body is not None:
            walk(body["node"])
        return out

    def put(self, key, value, version=None):
        params = None
        if version == 0:
            params = {"prevExist": "false"}
        elif version is not None:
            params = {"prevIndex": str(version)}
        self._call("PUT", key, params, {"value": value})

    def delete(self, key):
        self._call("DELETE", key)


def connect(flavour, endpoint):
    return {"v3": EtcdV3, "v2": EtcdV2}[flavour](endpoint)
