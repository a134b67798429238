"""settled_swap and ensure when a write's reply is lost (OutcomeUnknownError): every way the read-back can come out.
The real-etcd side (a proxy that drops the reply) is tests/functional/test_reliability_lost_reply.py; the cases a
real etcd cannot be made to produce on demand (a third writer in the gap, a read-back that fails) are here."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import DatastoreError, OutcomeUnknownError
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import ensure, restore
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import FELIX_KEY, POOL_KEY, load
from ansible_collections.k8snet.calico.tests.unit.memory_datastore import MemoryDatastore

REQUEST = {"name": "default-ipv4-ippool", "ipip_mode": "Always"}


class LosingReplies(MemoryDatastore):
    """A write of POOL_KEY is `landed` (applied) or not, then its reply is lost; `after` may then change the key
    (another writer in the gap) and `read_fails` makes the read-back fail too."""

    def __init__(self, landed=True, after=None, read_fails=False, times=1):
        super().__init__({POOL_KEY: load("kdd-ippool-crd.json")}, FELIX_KEY, load("kdd-felixconfiguration-kubespray.json"))
        self.landed, self.after, self.read_fails, self.left = landed, after, read_fails, times
        self.lost = False

    def compare_and_swap(self, record, new):
        if record.key != POOL_KEY or not self.left:
            return super().compare_and_swap(record, new)
        self.left -= 1
        if self.landed:
            super().compare_and_swap(record, new)
        if self.after:
            self.after(self)
        self.lost = True
        raise OutcomeUnknownError("outcome unknown: reply lost", "memory")

    def read(self, key, kind):
        if self.lost and self.read_fails:
            raise DatastoreError("cannot reach etcd", "memory")
        return super().read(key, kind)


def original():
    return load("kdd-ippool-crd.json")


def test_landed_write_is_reported_with_the_original_previous():
    ds = LosingReplies(landed=True)
    result = ensure(ds, REQUEST)
    assert result["changed"] is True and [w["what"] for w in result["writes"]] == ["pool"]
    assert result["previous"]["object"] == original()
    assert ds.objects[POOL_KEY][1]["spec"]["ipipMode"] == "Always"


def test_write_that_did_not_land_is_tried_again():
    ds = LosingReplies(landed=False)
    result = ensure(ds, REQUEST)
    assert result["changed"] is True and result["conflicts"] == 1
    assert result["previous"]["object"] == original()
    assert ds.objects[POOL_KEY][0] == 2  # written once


def test_another_value_after_the_lost_reply_is_outcome_unknown_with_previous():
    def third_writer(ds):
        obj = copy.deepcopy(ds.objects[POOL_KEY][1])
        obj["spec"]["natOutgoing"] = not obj["spec"].get("natOutgoing")
        ds.put(POOL_KEY, obj)

    with pytest.raises(OutcomeUnknownError) as caught:
        ensure(LosingReplies(landed=True, after=third_writer), REQUEST)
    assert "it now holds another value" in str(caught.value)
    assert caught.value.partial["previous"]["object"] == original()
    assert caught.value.partial["writes"][0]["outcome"] == "unknown"


def test_read_back_that_fails_is_outcome_unknown_with_previous():
    with pytest.raises(OutcomeUnknownError) as caught:
        ensure(LosingReplies(landed=True, read_fails=True), REQUEST)
    assert "reading it back failed too" in str(caught.value)
    assert caught.value.partial["changed"] is True
    assert caught.value.partial["previous"]["object"] == original()


def test_restore_whose_write_did_not_land_is_tried_again_even_with_expected_revision():
    """A rollback always passes expected_revision; a lost reply of a write that did not land is no conflict."""
    ds = LosingReplies(landed=True, times=0)
    changed = ensure(ds, REQUEST)
    ds.left, ds.landed = 1, False
    result = restore(ds, changed["previous"], expected_revision=changed["writes"][0]["revision"])
    assert result["changed"] is True and result["conflicts"] == 1
    assert ds.objects[POOL_KEY][1] == original()
