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


NO_BACKUP = (
    "No backup to restore: the backup file %s (ipip_backup_file) does not exist on the controller, and no backup was "
    "given as the variable ipip_backup. Nothing was restored. Give the file that enable_ipip wrote with "
    "-e ipip_backup_file=PATH (by default ipip-report/pool-backup.json under the directory enable_ipip was started "
    "in), or the backup object itself as ipip_backup, as enable_ipip published it with set_stats (in AWX: the job's "
    "artifacts; a workflow passes it on to the next job template).")
UNUSABLE = (
    "The backup in %s cannot be used: %s. A backup is the JSON object enable_ipip writes (%s); give that file with "
    "-e ipip_backup_file=PATH or the object as the variable ipip_backup. Nothing was restored.")
WRONG_DATASTORE = "%s holds objects of datastore %s, but ipip_datastore.datastore is %s; nothing was restored."
SAVED_SOURCE, GIVEN_SOURCE = "the backup this run saved", "the variable ipip_backup"


def choose_backup(saved, given, backup_file, file_text, datastore):
    """The backup a rollback restores, in this order: the one this run saved (``saved``), the variable ipip_backup
    (``given``), the file ``backup_file`` (its text, None when it does not exist). -> ``{"backup", "source",
    "message"}``: ``message`` says why nothing can be restored and what to give instead (None when the backup is
    usable); ``source`` names where it came from, as the report's ``rollback.backup_from``."""
    if saved is not None:
        source, value = SAVED_SOURCE, saved
    elif given is not None:
        source, value = GIVEN_SOURCE, given
    elif file_text is None:
        return {"backup": None, "source": backup_file, "message": NO_BACKUP % backup_file}
    else:
        source, value = backup_file, file_text
    checked = check_backup(value)
    if checked["problem"] is not None:
        return {"backup": None, "source": source, "message": UNUSABLE % (source, checked["problem"], BACKUP_SHAPE)}
    if checked["backup"]["datastore"] != datastore:
        return {"backup": None, "source": source,
                "message": WRONG_DATASTORE % (source, checked["backup"]["datastore"], datastore)}
    return {"backup": checked["backup"], "source": source, "message": None}


def rollback_outcome(results, reason, source, backup_file):
    """The report's ``rollback`` after the restore loop: what was restored ({key: changed}), why, and from where
    (``backup_file`` only when the backup came from that file)."""
    restored = {}
    for result in results or []:
        if isinstance(result, dict) and isinstance(result.get("item"), dict):
            restored[result["item"]["restore"]["key"]] = result.get("changed") is True
    return {"performed": True, "reason": reason, "backup_from": source,
            "backup_file": backup_file if source == backup_file else None, "restored": restored}
