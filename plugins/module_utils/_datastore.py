# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""The small interface every Calico datastore backend implements, and its errors.

A backend reads `Record`s (one stored object each, with the token that makes a compare-and-swap possible) and
writes one record at a time with `compare_and_swap`, which fails with ConflictError when someone else changed the
object since it was read. Deciding what to write is left to pure functions elsewhere.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Union

# Record kinds
POOL = "ippool"
FELIX = "felixconfiguration"
NODE = "node"
AFFINITY = "blockaffinity"
INSTALLATION = "installation"
VALUE = "value"  # a plain etcd value (Calico v2 keys)


class DatastoreError(Exception):
    """A datastore could not be used. `endpoint` says where, `advice` what a person can do about it.

    `partial` is empty, or, when a change stopped after some of its writes had (or may have) gone through, what the
    module returns about them: changed, writes, previous, previous_felix.
    """

    def __init__(self, message: str, endpoint: Optional[str] = None, advice: Optional[str] = None,
                 partial: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.advice = advice
        self.partial = dict(partial or {})

    def __str__(self) -> str:
        text = self.message
        if self.endpoint and self.endpoint not in text:
            text = "%s: %s" % (self.endpoint, text)
        if self.advice:
            text = "%s. %s" % (text.rstrip("."), self.advice)
        return text


class ConflictError(DatastoreError):
    """A compare-and-swap lost: the object changed (or appeared / disappeared) since it was read."""


class WriteNotAppliedError(ConflictError):
    """A write whose reply was lost, and the key read back untouched: it was not applied, trying again is safe."""


class OutcomeUnknownError(DatastoreError):
    """A write was sent but no complete reply came back: the datastore may or may not have applied it."""


# The `timeout` option's upper bound: an hour per request is already far beyond any sane etcd or API server.
MAX_TIMEOUT = 3600


def check_timeout(value: Any) -> float:
    """The `timeout` option as seconds: a finite number above 0 and at most MAX_TIMEOUT. Raises DatastoreError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value <= MAX_TIMEOUT:
        raise DatastoreError("timeout: %r is not allowed" % (value,), None,
                             "Give the seconds one request may take, a number above 0 and at most %d" % MAX_TIMEOUT)
    return float(value)


class Record:
    """One stored object.

    key       where it lives: an etcd key, a Kubernetes API path, or `calicoctl:<kind>/<name>`
    kind      one of the kinds above
    exists    False for a key that was looked up and is absent (it can still be created with CAS)
    revision  the CAS token: etcd v3 mod_revision, etcd v2 modifiedIndex, Kubernetes resourceVersion
    text      the exact stored bytes as text (etcd); JSON of the object elsewhere
    obj       the decoded object (a dict; a plain string for plain etcd values)
    """

    def __init__(self, key: str, kind: str, exists: bool = True, revision: Optional[str] = None,
                 text: Optional[str] = None, obj: Any = None, datastore: Optional[str] = None):
        self.key = key
        self.kind = kind
        self.exists = exists
        self.revision = revision
        self.text = text
        self.obj = obj
        self.datastore = datastore

    def to_dict(self) -> Dict[str, Any]:
        """The form returned to playbooks as `previous`; `Record.from_dict` reads it back for a restore."""
        return {
            "datastore": self.datastore,
            "key": self.key,
            "kind": self.kind,
            "exists": self.exists,
            "revision": self.revision,
            "text": self.text,
            "object": self.obj,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Record":
        if not isinstance(data, dict) or not isinstance(data.get("key"), str) or not data.get("key"):
            raise ValueError("restore: expected the `previous` value a k8snet.calico.ippool run returned "
                             "(a dict with datastore, key, kind, exists, text, object)")
        text = data.get("text")
        obj = data.get("object")
        if data.get("exists", True) and text is None and obj is None:
            raise ValueError("restore: %s has neither text nor object to write back" % data["key"])
        if text is not None and not isinstance(text, str):
            raise ValueError("restore: text must be a string, got %s" % type(text).__name__)
        return cls(key=data["key"], kind=data.get("kind") or VALUE, exists=bool(data.get("exists", True)),
                   revision=None if data.get("revision") is None else str(data["revision"]),
                   text=text, obj=obj, datastore=data.get("datastore"))

    def __repr__(self) -> str:
        return "Record(%r, %r, exists=%r, revision=%r)" % (self.key, self.kind, self.exists, self.revision)


def decode_or_none(text: Optional[str]) -> Any:
    """JSON text -> object; None when it is not JSON (callers report that, naming the key)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


# A new value for compare_and_swap: a str is written byte for byte, a dict is serialised the backend's way
# (Go-style JSON for etcd), None deletes.
NewValue = Union[str, Dict[str, Any], None]


class Datastore:
    """Interface; see the backends _datastore_<name>.py. Readers return [] for what a datastore does not hold."""

    name = "abstract"
    endpoint = ""

    def read_pools(self) -> List[Record]:
        raise NotImplementedError

    def read_felix(self) -> Optional[Record]:
        """The global Felix configuration that decides IPIP: FelixConfiguration `default`, or the v2 key."""
        raise NotImplementedError

    def read_nodes(self) -> List[Record]:
        return []

    def read_block_affinities(self) -> List[Record]:
        return []

    def read_installation(self) -> Optional[Record]:
        """The operator's Installation `default` (Kubernetes only)."""
        return None

    def read(self, key: str, kind: str) -> Record:
        """Re-read one record by key (exists=False when absent)."""
        raise NotImplementedError

    def compare_and_swap(self, record: Record, new: NewValue) -> Record:
        """Write `new` only if the stored object still has `record.revision` (or is still absent when
        `record.exists` is False). Returns the record as written. Raises ConflictError otherwise."""
        raise NotImplementedError

    def serialise(self, record: Record, obj: Any) -> str:
        """The text that writing `obj` for `record` would store (for diff and restore)."""
        return json.dumps(obj, sort_keys=True)
