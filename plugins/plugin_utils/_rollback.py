# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""What a rollback must write back, from the results of ``k8snet.calico.ippool`` changes, and whether a saved
backup can be used. Pure functions."""

from __future__ import annotations

import json


def rollback_plan(results):
    """``[{restore, expected_revision}]``: every object the changes wrote, as it was before the first of them.

    Each entry restores one stored object (a pool, an Installation, a FelixConfiguration or Calico v2's global
    IpInIpEnabled key) with the revision the *last* change left it at, so the restore refuses to overwrite a change
    someone made since. An object written by several changes (the Felix key, for several pools) appears once, with
    its state before the first change.

    A failed result counts too when it lists writes: ippool fails after its retries run out on one object (the
    Felix configuration losing to another writer) even though an earlier write (the pool) went through, and says
    so with ``writes`` and ``previous``. Leaving it out would leave that pool changed with no way back. What
    decides is ``writes`` (what is in the datastore now), never ``changed`` or ``failed``.
    """
    plan = {}
    order = []
    for result in results or []:
        if not isinstance(result, dict):
            continue
        last_revision = {}
        for write in result.get("writes") or []:
            last_revision[write["key"]] = write["revision"]
        for previous in (result.get("previous"), result.get("previous_felix")):
            if not previous or previous["key"] not in last_revision:
                continue  # nothing was written to it (check mode, or an unchanged object)
            key = previous["key"]
            if key not in plan:
                plan[key] = {"restore": previous, "expected_revision": None}
                order.append(key)
            plan[key]["expected_revision"] = last_revision[key]
    return [plan[key] for key in order]


BACKUP_SHAPE = ('{"datastore": ..., "saved_at": ..., "restore": [{"restore": {...}, "expected_revision": ...}, ...]}')


def check_backup(value):
    """A rollback backup as given (the object, or its JSON text) -> ``{"backup": object or None, "problem": text or
    None}``: exactly one of them set. The problem names the field that is wrong, and never depends on the
    ansible-core version (its template error texts do)."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            return _problem("it is not valid JSON (%s)" % exc)
    if not isinstance(value, dict):
        return _problem("it is %s, not a JSON object" % type(value).__name__)
    if not isinstance(value.get("datastore"), str) or not value.get("datastore"):
        return _problem("datastore: %r is not a datastore name" % (value.get("datastore"),))
    entries = value.get("restore")
    if not isinstance(entries, list) or not entries:
        return _problem("restore: %r is not a non-empty list of objects to restore" % (entries,))
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("restore"), dict):
            return _problem("restore[%d]: %.200r has no restore object" % (index, entry))
        if not isinstance(entry["restore"].get("key"), str):
            return _problem("restore[%d].restore.key: %r is not a key" % (index, entry["restore"].get("key")))
        if "expected_revision" not in entry:
            return _problem("restore[%d]: no expected_revision" % index)
    return {"backup": value, "problem": None}


def _problem(text):
    return {"backup": None, "problem": "%s; not a backup written by enable_ipip" % text}
