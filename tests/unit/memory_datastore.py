"""An in-memory Datastore for the unit tests of the read -> decide -> write loop: a revision per object, and a hook
to let another writer in just before a compare-and-swap, which no real datastore can be made to do on demand."""

from __future__ import annotations

import copy
import json

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import (
    FELIX,
    POOL,
    ConflictError,
    Datastore,
    Record,
)


class MemoryDatastore(Datastore):
    """`pools` ({key: object}) and one Felix configuration, revision 1 each; compare_and_swap refuses a stale
    revision. `before_write[key](ds)` runs before a write of that key is compared: another writer getting in between."""

    name = "kubernetes"
    endpoint = "memory"

    def __init__(self, pools, felix_key, felix):
        self.pool_keys = list(pools)
        self.felix_key = felix_key
        self.objects = {key: (1, obj) for key, obj in pools.items()}
        self.objects[felix_key] = (1, felix)
        self.before_write = {}

    def _record(self, key, kind):
        revision, obj = self.objects[key]
        return Record(key, kind, True, str(revision), json.dumps(obj), copy.deepcopy(obj), self.name)

    def read_pools(self):
        return [self._record(key, POOL) for key in self.pool_keys]

    def read_felix(self):
        return self._record(self.felix_key, FELIX)

    def read(self, key, kind):
        return self._record(key, kind)

    def put(self, key, obj):
        revision = self.objects[key][0] + 1
        self.objects[key] = (revision, obj)
        return revision

    def compare_and_swap(self, record, new):
        if record.key in self.before_write:
            self.before_write[record.key](self)
        if str(self.objects[record.key][0]) != record.revision:
            raise ConflictError("%s changed since it was read" % record.key, self.endpoint)
        self.put(record.key, copy.deepcopy(new))
        return self._record(record.key, record.kind)

    def state(self):
        return copy.deepcopy(self.objects)
