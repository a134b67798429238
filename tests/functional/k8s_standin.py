"""A STAND-IN for the Kubernetes API server, for tests only.

No Kubernetes API server can be installed on the test machines, so this small HTTP server on 127.0.0.1 implements
just the endpoints the `kubernetes` datastore backend uses, with the API server's optimistic concurrency:

- GET  /apis                                       API group discovery
- GET  /apis/<group>/<version>/<plural>            list (cluster-scoped custom objects)
- GET  /apis/<group>/<version>/<plural>/<name>     get (404 Status when absent)
- PUT  /apis/<group>/<version>/<plural>/<name>     replace; 409 Conflict unless metadata.resourceVersion matches
- POST /apis/<group>/<version>/<plural>            create; 409 AlreadyExists
- GET  /api/v1/nodes                               node list

Requests need `Authorization: Bearer <token>` (401 otherwise). It does no validation, defaulting or conversion:
exactly like writing CRDs directly, which is the point of the module's own checks.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Dict, List, Optional, Tuple

from _loopback_http import LoopbackHTTPServer

KINDS = {"ippools": "IPPool", "felixconfigurations": "FelixConfiguration", "blockaffinities": "BlockAffinity",
         "installations": "Installation"}


def status(code: int, reason: str, message: str) -> Dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class KubeAPIStandIn(LoopbackHTTPServer):
    def __init__(self, token: str, groups: List[Tuple[str, str]]):
        self.token = token
        self.groups = groups
        self.objects: Dict[Tuple[str, str, str, str], Dict[str, Any]] = {}
        self.nodes: List[Dict[str, Any]] = []
        self.version = 1000
        self.lock = threading.Lock()
        self.requests: List[Tuple[str, str]] = []
        # Called with (method, path) before a write is processed; tests use it to simulate a concurrent writer.
        self.before_write: Optional[Callable[[str, str], None]] = None
        # Every accepted write in order, as etcd keeps its history: {"key", "from", "to", "object"} with the
        # resourceVersion replaced ("from", None for a create) and the one written ("to").
        self.history: List[Dict[str, Any]] = []
        handler = self._handler()
        self.serve(handler)

    def next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def put_object(self, group: str, version: str, plural: str, obj: Dict[str, Any]) -> Dict[str, Any]:
        """Store an object as an outside writer would (new resourceVersion)."""
        with self.lock:
            obj = copy.deepcopy(obj)
            obj.setdefault("metadata", {})["resourceVersion"] = self.next_version()
            self._store((group, version, plural, obj["metadata"]["name"]), obj)
            return obj

    def _store(self, key: Tuple[str, str, str, str], obj: Dict[str, Any]) -> None:
        """Store under the lock, recording the write in `history`."""
        before = self.objects.get(key)
        self.history.append({"key": key, "from": before["metadata"]["resourceVersion"] if before else None,
                             "to": obj["metadata"]["resourceVersion"], "object": copy.deepcopy(obj)})
        self.objects[key] = obj

    def get_object(self, group: str, version: str, plural: str, name: str) -> Optional[Dict[str, Any]]:
        obj = self.objects.get((group, version, plural, name))
        return copy.deepcopy(obj) if obj else None

    def writes(self) -> List[Tuple[str, str]]:
        return [r for r in self.requests if r[0] in ("PUT", "POST")]

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _send(self, code: int, body: Dict[str, Any]):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != "Bearer %s" % api.token:
                    self._send(401, status(401, "Unauthorized", "Unauthorized"))
                    return False
                return True

            def _body(self) -> Dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _route(self, method: str):
                path = self.path.split("?")[0]
                api.requests.append((method, path))
                if not self._authorised():
                    return
                parts = path.strip("/").split("/")
                if method == "GET" and parts == ["apis"]:
                    return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                        {"name": g, "versions": [{"groupVersion": "%s/%s" % (g, v), "version": v}],
                         "preferredVersion": {"groupVersion": "%s/%s" % (g, v), "version": v}} for g, v in api.groups]})
                if method == "GET" and parts == ["api", "v1", "nodes"]:
                    return self._send(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": str(api.version)},
                                            "items": api.nodes})
                if parts[0] != "apis" or len(parts) not in (4, 5) or (parts[1], parts[2]) not in api.groups:
                    return self._send(404, status(404, "NotFound", "the server could not find the requested resource"))
                group, version, plural = parts[1], parts[2], parts[3]
                name = parts[4] if len(parts) == 5 else None
                with api.lock:
                    if method == "GET" and name is None:
                        items = [copy.deepcopy(o) for k, o in sorted(api.objects.items()) if k[:3] == (group, version, plural)]
                        return self._send(200, {"kind": KINDS.get(plural, "Object") + "List", "apiVersion": "%s/%s" % (group, version),
                                                "metadata": {"resourceVersion": str(api.version)}, "items": items})
                    key = (group, version, plural, name)
                    if method == "GET":
                        if key not in api.objects:
                            return self._send(404, status(404, "NotFound", '%s.%s "%s" not found' % (plural, group, name)))
                        return self._send(200, api.objects[key])
                body = self._body()
                if api.before_write is not None:
                    api.before_write(method, path)
                with api.lock:
                    if method == "PUT" and name:
                        current = api.objects.get(key)
                        if current is None:
                            return self._send(404, status(404, "NotFound", '%s.%s "%s" not found' % (plural, group, name)))
                        sent = (body.get("metadata") or {}).get("resourceVersion")
                        if sent != current["metadata"]["resourceVersion"]:
                            return self._send(409, status(409, "Conflict", (
                                'Operation cannot be fulfilled on %s.%s "%s": the object has been modified; please apply '
                                "your changes to the latest version and try again") % (plural, group, name)))
                        body["metadata"]["resourceVersion"] = api.next_version()
                        api._store(key, body)
                        return self._send(200, body)
                    if method == "POST" and name is None:
                        name = (body.get("metadata") or {}).get("name")
                        key = (group, version, plural, name)
                        if key in api.objects:
                            return self._send(409, status(409, "AlreadyExists", '%s.%s "%s" already exists' % (plural, group, name)))
                        body["metadata"]["resourceVersion"] = api.next_version()
                        api._store(key, body)
                        return self._send(201, body)
                return self._send(405, status(405, "MethodNotAllowed", "method not allowed"))

            def do_GET(self):
                self._route("GET")

            def do_PUT(self):
                self._route("PUT")

            def do_POST(self):
                self._route("POST")

        return Handler
