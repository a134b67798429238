"""A STAND-IN for the Kubernetes API server, for tests only.

No Kubernetes API server can be installed on the test machines, so this small HTTP(S) server on 127.0.0.1 implements
just the endpoints the `kubernetes` datastore backend uses:

- GET  /apis                                       API group discovery
- GET  /apis/<group>/<version>/<plural>            list (cluster-scoped custom objects)
- GET  /apis/<group>/<version>/<plural>/<name>     get (404 Status when absent)
- PUT  /apis/<group>/<version>/<plural>/<name>     replace
- POST /apis/<group>/<version>/<plural>            create
- GET  /api/v1/nodes                               node list

It is as strict as a real API server where a client can get a write wrong, answering with the same Status objects
(code, reason, message, details) so that a test fails where a real cluster would refuse the request. The sources, in
kubernetes/kubernetes (staging/src/k8s.io/...):

- apimachinery/pkg/api/errors/errors.go: NewNotFound, NewAlreadyExists, NewConflict, NewInvalid, NewBadRequest build
  the Status bodies: details carry {name, group, kind: <the resource plural>}; NewInvalid's message is
  `<plural>.<group> "<name>" is invalid: <field errors>` with one cause per field error.
- apiserver/pkg/endpoints/handlers/update.go and create.go: a body whose apiVersion is not the URL's group/version is
  400 BadRequest "the API version in the data (X) does not match the expected API version (Y)"; handlers/rest.go
  checkName: a body whose metadata.name is not the URL's is 400 BadRequest "the name of the object (X) does not
  match the name on the URL (Y)".
- apiserver/pkg/registry/generic/registry/store.go Update: custom resources do not allow unconditional updates, so
  an update without metadata.resourceVersion is 422 Invalid `metadata.resourceVersion: Invalid value: 0x0: must be
  specified for an update` (as reported from real clusters on custom resources, e.g. ManageIQ/kubeclient#403; the
  full Status body with its cause as in openstack/kuryr-kubernetes#2), a stale one 409 Conflict "Operation cannot be
  fulfilled on <plural>.<group> "<name>": the object has been modified; please apply your changes to the latest
  version and try again" (OptimisticLockErrorMsg); a POST of an existing name 409 AlreadyExists.
- apiserver/pkg/registry/rest/update.go (DefaultUpdatedObjectInfo.Preconditions, BeforeUpdate) and
  apiserver/pkg/storage/etcd3/store.go: a uid in the body is a precondition (a different one: 409 Conflict
  "... StorageError: invalid object, Code: 4, Key: ..., AdditionalErrorMsg: Precondition failed: UID in precondition:
  A, UID in object meta: B"); a missing uid is taken from the stored object; creationTimestamp changes are ignored;
  generation is the server's.
- apiextensions-apiserver/pkg/registry/customresource/strategy.go PrepareForUpdate: a custom resource's generation
  goes up by one when anything outside metadata changes; validator.go ValidateTypeMeta: a body of another kind is
  422 Invalid `kind: Invalid value: "X": must be <Kind>` (the kind is checked there, not in the handler, hence 422
  and not 400 as for the apiVersion).
- apiserver/pkg/storage/etcd3/store.go GuaranteedUpdate: an update that changes nothing is not written (the
  resourceVersion stays); Create refuses a body that carries a resourceVersion ("resourceVersion should not be set on
  objects to be created", 400 BadRequest on current API servers); FillObjectMetaSystemFields gives a created object
  a new uid and creationTimestamp, and a custom resource starts at generation 1.

Authentication as the API server does it: `Authorization: Bearer <token>`, or, when served over TLS with a client CA,
a client certificate that CA signed (the x509 authenticator; a certificate it did not sign fails the TLS handshake);
401 otherwise. What it does not do: schema validation, defaulting, conversion, managedFields, watches, namespaces.
"""

from __future__ import annotations

import copy
import datetime
import json
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any, Dict, List, Optional, Tuple

from _loopback_http import LoopbackHTTPServer

KINDS = {"ippools": "IPPool", "felixconfigurations": "FelixConfiguration", "blockaffinities": "BlockAffinity",
         "installations": "Installation"}
SERVER_OWNED = ("uid", "creationTimestamp", "generation", "resourceVersion")
# store.go: OptimisticLockErrorMsg
OPTIMISTIC_LOCK = "the object has been modified; please apply your changes to the latest version and try again"


def status(code: int, reason: str, message: str, details: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A metav1.Status as the API server serialises it (errors.go)."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason}
    if details:
        body["details"] = details
    body["code"] = code
    return body


class APIError(Exception):
    def __init__(self, body: Dict[str, Any]):
        super().__init__(body["message"])
        self.body = body


def not_found(group: str, plural: str, name: str) -> APIError:
    return APIError(status(404, "NotFound", '%s.%s "%s" not found' % (plural, group, name),
                           {"name": name, "group": group, "kind": plural}))


def already_exists(group: str, plural: str, name: str) -> APIError:
    return APIError(status(409, "AlreadyExists", '%s.%s "%s" already exists' % (plural, group, name),
                           {"name": name, "group": group, "kind": plural}))


def conflict(group: str, plural: str, name: str, why: str = OPTIMISTIC_LOCK) -> APIError:
    return APIError(status(409, "Conflict", 'Operation cannot be fulfilled on %s.%s "%s": %s' % (plural, group, name, why),
                           {"name": name, "group": group, "kind": plural}))


def bad_request(message: str) -> APIError:
    return APIError(status(400, "BadRequest", message))


def invalid(group: str, kind: str, name: str, field: str, value: str, detail: str) -> APIError:
    """NewInvalid with one field.Invalid error; `value` already formatted as Go prints it (%q, or %#v: 0x0)."""
    body = "Invalid value: %s: %s" % (value, detail)
    return APIError(status(422, "Invalid", '%s.%s "%s" is invalid: %s: %s' % (kind, group, name, field, body),
                           {"name": name, "group": group, "kind": kind,
                            "causes": [{"reason": "FieldValueInvalid", "message": body, "field": field}]}))


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_metadata(obj: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "metadata"}


class KubeAPIStandIn(LoopbackHTTPServer):
    """token: the bearer token accepted. groups: [(group, version)] served. tls: None for plain HTTP, or
    {"server_cert", "server_key"} (a certificate for IP 127.0.0.1) and optionally "ca", the CA whose client
    certificates authenticate (conftest's tls_material has all three)."""

    def __init__(self, token: str, groups: List[Tuple[str, str]], tls: Optional[Dict[str, str]] = None):
        self.token = token
        self.groups = groups
        self.objects: Dict[Tuple[str, str, str, str], Dict[str, Any]] = {}
        self.nodes: List[Dict[str, Any]] = []
        self.version = 1000
        self.lock = threading.Lock()
        self.requests: List[Tuple[str, str]] = []
        # Who each authenticated request was: ("token", None) or ("certificate", <client certificate CN>).
        self.identities: List[Tuple[str, Optional[str]]] = []
        # TLS handshakes that failed (the error text): a client that did not trust the server, or a client
        # certificate the client CA did not sign.
        self.tls_failures: List[str] = []
        # Called with (method, path) before a write is processed; tests use it to simulate a concurrent writer.
        self.before_write = None
        # Every accepted write in order, as etcd keeps its history: {"key", "from", "to", "object"} with the
        # resourceVersion replaced ("from", None for a create) and the one written ("to").
        self.history: List[Dict[str, Any]] = []
        self.context = self._tls_context(tls) if tls else None
        self.serve(self._handler())
        if self.context is not None:
            self.url = self.url.replace("http://", "https://", 1)

    @staticmethod
    def _tls_context(tls: Dict[str, str]) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(tls["server_cert"], tls["server_key"])
        if tls.get("ca"):
            # The API server's --client-ca-file: a client certificate is optional, but one that is sent must verify.
            context.load_verify_locations(tls["ca"])
            context.verify_mode = ssl.CERT_OPTIONAL
        return context

    def next_version(self) -> str:
        self.version += 1
        return str(self.version)

    # -- the test's own access (no HTTP, no authentication) -------------------------------------------------------
    def put_object(self, group: str, version: str, plural: str, obj: Dict[str, Any]) -> Dict[str, Any]:
        """Store an object as another client's accepted write would be stored, without its preconditions: an
        existing object keeps its uid and creationTimestamp and its generation goes up when anything outside
        metadata changes; a new one keeps the uid/creationTimestamp/generation it brings (seeded state, as the
        samples of a real cluster have them) and gets what it lacks. Always a new resourceVersion."""
        with self.lock:
            obj = copy.deepcopy(obj)
            metadata = obj.setdefault("metadata", {})
            key = (group, version, plural, metadata["name"])
            current = self.objects.get(key)
            if current is not None:
                self._keep_server_fields(obj, current)
            else:
                metadata.setdefault("uid", str(uuid.uuid4()))
                metadata.setdefault("creationTimestamp", _now())
                metadata.setdefault("generation", 1)
            metadata["resourceVersion"] = self.next_version()
            self._store(key, obj)
            return copy.deepcopy(obj)

    def get_object(self, group: str, version: str, plural: str, name: str) -> Optional[Dict[str, Any]]:
        obj = self.objects.get((group, version, plural, name))
        return copy.deepcopy(obj) if obj else None

    def writes(self) -> List[Tuple[str, str]]:
        return [r for r in self.requests if r[0] in ("PUT", "POST")]

    # -- the API server's rules -------------------------------------------------------------------------------
    def _store(self, key: Tuple[str, str, str, str], obj: Dict[str, Any]) -> None:
        """Store under the lock, recording the write in `history`."""
        before = self.objects.get(key)
        self.history.append({"key": key, "from": before["metadata"]["resourceVersion"] if before else None,
                             "to": obj["metadata"]["resourceVersion"], "object": copy.deepcopy(obj)})
        self.objects[key] = obj

    @staticmethod
    def _keep_server_fields(obj: Dict[str, Any], current: Dict[str, Any]) -> None:
        """rest.BeforeUpdate and the custom resource strategy's PrepareForUpdate."""
        metadata, old = obj["metadata"], current["metadata"]
        metadata.pop("namespace", None)  # cluster-scoped: cleared
        metadata["uid"] = old["uid"]
        metadata["creationTimestamp"] = old["creationTimestamp"]
        changed = _without_metadata(obj) != _without_metadata(current)
        metadata["generation"] = old.get("generation", 1) + (1 if changed else 0)

    @staticmethod
    def _check_api_version(body: Dict[str, Any], group: str, version: str) -> None:
        """The handler's decode step (update.go / create.go): 400."""
        expected = "%s/%s" % (group, version)
        if body.get("apiVersion") != expected:
            raise bad_request("the API version in the data (%s) does not match the expected API version (%s)"
                              % (body.get("apiVersion") or "", expected))

    @staticmethod
    def _check_kind(body: Dict[str, Any], group: str, plural: str, name: str) -> None:
        """The custom resource validator (validator.go ValidateTypeMeta): 422."""
        kind = KINDS.get(plural)
        if kind and body.get("kind") != kind:
            raise invalid(group, body.get("kind") or "", name, "kind", json.dumps(body.get("kind") or ""),
                          "must be %s" % kind)

    def replace(self, group: str, version: str, plural: str, name: str, body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        """PUT, in the API server's order: decode (apiVersion), checkName, the storage preconditions (exists, uid),
        the resourceVersion check, BeforeUpdate (kind validation, server-owned fields), the write."""
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        self._check_api_version(body, group, version)
        if metadata.get("name") != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                              % (metadata.get("name") or "", name))
        key = (group, version, plural, name)
        current = self.objects.get(key)
        if current is None:
            raise not_found(group, plural, name)
        if metadata.get("uid") and metadata["uid"] != current["metadata"]["uid"]:
            raise conflict(group, plural, name, (
                "StorageError: invalid object, Code: 4, Key: /registry/%s/%s/%s, ResourceVersion: 0, "
                "AdditionalErrorMsg: Precondition failed: UID in precondition: %s, UID in object meta: %s")
                % (group, plural, name, metadata["uid"], current["metadata"]["uid"]))
        sent = metadata.get("resourceVersion")
        if not sent:
            raise invalid(group, plural, name, "metadata.resourceVersion", "0x0", "must be specified for an update")
        if sent != current["metadata"]["resourceVersion"]:
            raise conflict(group, plural, name)
        self._check_kind(body, group, plural, name)
        obj = copy.deepcopy(body)
        self._keep_server_fields(obj, current)
        obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if obj == current:  # GuaranteedUpdate: nothing changed, nothing written
            return 200, copy.deepcopy(current)
        obj["metadata"]["resourceVersion"] = self.next_version()
        self._store(key, obj)
        return 200, copy.deepcopy(obj)

    def create(self, group: str, version: str, plural: str, body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        name = metadata.get("name")
        self._check_api_version(body, group, version)
        if not name:
            raise invalid(group, plural, "", "metadata.name", '""', "name or generateName is required")
        self._check_kind(body, group, plural, name)
        if metadata.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        key = (group, version, plural, name)
        if key in self.objects:
            raise already_exists(group, plural, name)
        obj = copy.deepcopy(body)
        obj["metadata"].pop("namespace", None)
        obj["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1,
                               resourceVersion=self.next_version())
        self._store(key, obj)
        return 201, copy.deepcopy(obj)

    # -- HTTP ------------------------------------------------------------------------------------------------------
    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            tls_failed = False

            def log_message(self, *args):  # keep pytest output clean
                pass

            def setup(self):
                if api.context is not None:
                    self.request.settimeout(30)
                    tls = api.context.wrap_socket(self.request, server_side=True, do_handshake_on_connect=False)
                    self.request = tls
                    try:
                        tls.do_handshake()
                    except (ssl.SSLError, OSError) as exc:
                        api.tls_failures.append(str(exc))
                        self.tls_failed = True
                super().setup()

            def handle(self):
                if not self.tls_failed:
                    super().handle()

            def _send(self, code: int, body: Dict[str, Any]):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _identity(self) -> Optional[Tuple[str, Optional[str]]]:
                if self.headers.get("Authorization") == "Bearer %s" % api.token:
                    return ("token", None)
                peer = self.request.getpeercert() if api.context is not None else None
                if peer:  # only a certificate the client CA verified gets here
                    subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
                    return ("certificate", subject.get("commonName"))
                return None

            def _authorised(self) -> bool:
                identity = self._identity()
                if identity is None:
                    self._send(401, status(401, "Unauthorized", "Unauthorized"))
                    return False
                api.identities.append(identity)
                return True

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _route(self, method: str):
                path = self.path.split("?")[0]
                api.requests.append((method, path))
                if not self._authorised():
                    return None
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
                if method == "GET":
                    with api.lock:
                        if name is None:
                            items = [copy.deepcopy(o) for k, o in sorted(api.objects.items()) if k[:3] == (group, version, plural)]
                            return self._send(200, {"kind": KINDS.get(plural, "Object") + "List",
                                                    "apiVersion": "%s/%s" % (group, version),
                                                    "metadata": {"resourceVersion": str(api.version)}, "items": items})
                        current = api.objects.get((group, version, plural, name))
                        if current is None:
                            return self._send(404, not_found(group, plural, name).body)
                        return self._send(200, current)
                try:
                    body = self._body()
                except ValueError as exc:
                    return self._send(400, bad_request("the object provided is unrecognized: %s" % exc).body)
                if not isinstance(body, dict):
                    return self._send(400, bad_request("the object provided is unrecognized").body)
                if api.before_write is not None:
                    api.before_write(method, path)
                with api.lock:
                    try:
                        if method == "PUT" and name:
                            return self._send(*api.replace(group, version, plural, name, body))
                        if method == "POST" and name is None:
                            return self._send(*api.create(group, version, plural, body))
                    except APIError as exc:
                        return self._send(exc.body["code"], exc.body)
                return self._send(405, status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))

            def do_GET(self):
                self._route("GET")

            def do_PUT(self):
                self._route("PUT")

            def do_POST(self):
                self._route("POST")

        return Handler
