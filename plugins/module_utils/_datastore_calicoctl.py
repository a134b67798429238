# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Calico through the calicoctl binary: v1 calicoctl (Calico v2, `kind: ipPool` lists) and
v3 calicoctl (`IPPoolList`). The API version is told from the JSON calicoctl prints.

Command lines are argv lists run by a `run(argv, data)` callable (AnsibleModule.run_command in the modules), never
a shell; parsing is pure so it is testable without the binary. calicoctl v3 `replace` sends metadata.resourceVersion,
so the Calico API refuses a stale write ("update conflict"); it prints nothing about what it wrote, so the object
is read back for its new resourceVersion (written_record). calicoctl v1 has no resource versions: the pool is
re-read just before `replace` and the write is skipped as a conflict if it changed; that narrows, but cannot close,
the race window (documented in the module).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, List, Optional, Tuple

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import (
    FELIX,
    NODE,
    POOL,
    ConflictError,
    Datastore,
    DatastoreError,
    NewValue,
    Record,
)

Runner = Callable[[List[str], Optional[str]], Tuple[int, str, str]]

API_V1 = "v1"
API_V3 = "v3"

# The revision reported for a v3 write that another writer had already replaced when it was read back (see
# written_record). No object ever has it, so a restore with it as expected_revision refuses.
SUPERSEDED = "superseded"
SERVER_OWNED_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


def base_argv(binary: str, config: Optional[str] = None) -> List[str]:
    argv = [binary]
    if config:
        argv += ["--config", config]
    return argv


def get_argv(binary: str, resource: str, name: Optional[str] = None, config: Optional[str] = None) -> List[str]:
    argv = base_argv(binary, config) + ["get", resource]
    if name:
        argv.append(name)
    return argv + ["-o", "json"]


def replace_argv(binary: str, config: Optional[str] = None) -> List[str]:
    return base_argv(binary, config) + ["replace", "-f", "-"]


def parse_json_output(text: str, argv: List[str]) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise DatastoreError("`%s` printed something that is not JSON: %r" % (" ".join(argv), text.strip()[:200]),
                             argv[0], "Check that this calicoctl can reach its datastore (run it by hand)")


def parse_list(data: Any, argv: List[str]) -> Tuple[str, List[Any]]:
    """calicoctl `get <kind> -o json` output -> (api version, objects).

    v1 prints a JSON list of `{kind, apiVersion: v1, ...}` (the seed's output); v3 prints a `<Kind>List` object.
    A single object (v1 or v3) is accepted too.
    """
    if isinstance(data, list):
        return API_V1, data
    if isinstance(data, dict):
        if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items", []), list):
            return API_V3, data.get("items") or []
        api = API_V1 if data.get("apiVersion") == "v1" else API_V3
        return api, [data]
    raise DatastoreError("`%s` printed JSON that is neither a list nor an object" % " ".join(argv), argv[0],
                         "Check the calicoctl version")


def content_token(obj: Any) -> str:
    """A revision stand-in for v1 objects, which carry none: a hash of the content."""
    return "sha256:" + hashlib.sha256(json.dumps(obj, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def record_for(obj: Any, kind: str) -> Record:
    metadata = (obj.get("metadata") or {}) if isinstance(obj, dict) else {}
    if isinstance(obj, dict) and obj.get("apiVersion") == "v1":
        name = metadata.get("cidr") or metadata.get("name")
        revision = content_token(obj)
    else:
        name = metadata.get("name")
        revision = metadata.get("resourceVersion")
    resource = obj.get("kind") if isinstance(obj, dict) and obj.get("kind") else kind
    return Record("calicoctl:%s/%s" % (resource, name), kind, True, revision, json.dumps(obj, sort_keys=True), obj, "calicoctl")


def _content(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    content = dict(obj)
    content["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_OWNED_METADATA}
    return content


def written_record(sent: Any, read_back: Record) -> Record:
    """The record a v3 `replace` / `create` produced, from the object sent and the object read back after it.

    calicoctl does not print what it wrote, so the object is read again. If another writer replaced it in between,
    the read-back version (and its resourceVersion) is theirs; reporting it as ours would let a restore with
    expected_revision overwrite their change. Then the revision is SUPERSEDED and the record holds what was sent.
    """
    if read_back.exists and _content(read_back.obj) == _content(sent):
        return read_back
    return Record(read_back.key, read_back.kind, True, SUPERSEDED, json.dumps(sent, sort_keys=True), sent,
                  read_back.datastore)


def is_conflict(stderr: str) -> bool:
    lowered = stderr.lower()
    return "update conflict" in lowered or ("resource version" in lowered and "mismatch" in lowered)


class CalicoctlDatastore(Datastore):
    name = "calicoctl"

    def __init__(self, run: Runner, binary: str, config: Optional[str] = None):
        self.run = run
        self.binary = binary
        self.config = config
        self.api: Optional[str] = None

    @property
    def endpoint(self) -> str:  # type: ignore[override]
        return "calicoctl (%s%s)" % (self.binary, ", --config %s" % self.config if self.config else "")

    def _run(self, argv: List[str], data: Optional[str] = None) -> str:
        rc, out, err = self.run(argv, data)
        if rc != 0:
            message = (err or out or "").strip()
            if is_conflict(message):
                raise ConflictError("`%s` lost a race: %s" % (" ".join(argv), message), self.endpoint, "Re-read and decide again")
            raise DatastoreError("`%s` failed (rc=%s): %s" % (" ".join(argv), rc, message[:400] or "(no output)"), self.endpoint,
                                 "Check calicoctl's datastore settings (calicoctl_config or DATASTORE_TYPE/ETCD_ENDPOINTS/"
                                 "KUBECONFIG in the task environment) and run the command by hand")
        return out

    def _get(self, resource: str, name: Optional[str] = None) -> Tuple[str, List[Any]]:
        argv = get_argv(self.binary, resource, name, self.config)
        return parse_list(parse_json_output(self._run(argv), argv), argv)

    def read_pools(self) -> List[Record]:
        self.api, objects = self._get("ippool")
        return [record_for(obj, POOL) for obj in objects]

    def read_felix(self) -> Optional[Record]:
        # calicoctl v1 sets the global IpInIpEnabled itself whenever it applies an IPIP pool (maybeEnableIPIP), so
        # only v3 has a FelixConfiguration to look at.
        if self.api is None:
            self.read_pools()
        if self.api != API_V3:
            return None
        argv = get_argv(self.binary, "felixconfiguration", "default", self.config)
        rc, out, err = self.run(argv, None)
        if rc != 0:
            if "not exist" in (err + out).lower() or "not found" in (err + out).lower():
                return Record("calicoctl:FelixConfiguration/default", FELIX, exists=False, datastore=self.name)
            self._run(argv)  # raises with the message
        _api, objects = parse_list(parse_json_output(out, argv), argv)
        return record_for(objects[0], FELIX) if objects else None

    def read_nodes(self) -> List[Record]:
        _api, objects = self._get("nodes")
        return [record_for(obj, NODE) for obj in objects]

    def read(self, key: str, kind: str) -> Record:
        if kind == POOL:
            for record in self.read_pools():
                if record.key == key:
                    return record
            return Record(key, kind, exists=False, datastore=self.name)
        if kind == FELIX:
            return self.read_felix() or Record(key, kind, exists=False, datastore=self.name)
        raise DatastoreError("cannot re-read %s through calicoctl" % key, self.endpoint)

    def serialise(self, record: Record, obj: Any) -> str:
        return obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True)

    def compare_and_swap(self, record: Record, new: NewValue) -> Record:
        if new is None:
            raise DatastoreError("deleting %s is not supported" % record.key, self.endpoint)
        body = json.loads(new) if isinstance(new, str) else json.loads(json.dumps(new))
        if body.get("apiVersion") == "v1":
            # v1 objects have no resourceVersion: compare the content just before writing (see the module doc).
            current = self.read(record.key, record.kind)
            if current.revision != record.revision:
                raise ConflictError("%s changed since it was read" % record.key, self.endpoint, "Re-read and decide again")
        elif record.exists:
            body.setdefault("metadata", {})["resourceVersion"] = record.revision
        argv = replace_argv(self.binary, self.config) if record.exists else base_argv(self.binary, self.config) + ["create", "-f", "-"]
        self._run(argv, json.dumps(body))
        read_back = self.read(record.key, record.kind)
        if body.get("apiVersion") == "v1":
            return read_back  # v1 has no resource versions; its race window is documented above
        return written_record(body, read_back)
