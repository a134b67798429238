# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Parse the two tables that say where a VXLAN route's next hop is sent: ``ip -4 neigh show dev vxlan.calico``
(VTEP address -> VTEP MAC) and ``bridge fdb show dev vxlan.calico`` (VTEP MAC -> the remote node's address).

Felix programs one permanent entry of each per remote VTEP, with learning off on the device, so the kernel sends a
packet routed ``via <VTEP> dev vxlan.calico onlink`` to the node the FDB names, and nowhere without both entries
(projectcalico/calico felix/dataplane/linux/vxlan_mgr.go). Both forms are taken, text and JSON (``-j``), filtered to
the device when a line names one (a paste of the whole table). Pure functions, no I/O; anything not understood is
an IprouteParseError naming the capture, the line or JSON item and the field.
"""

from __future__ import annotations

import re

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_common import (
    IprouteParseError,
    Refused,
    check_lines,
    detect_format,
    error,
    load_json,
    refuse,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ipv4 import is_ipv4

_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}").fullmatch


def _mac(field, value):
    if not isinstance(value, str) or _MAC(value.lower()) is None:
        raise refuse(field, value, "a MAC address (six hex pairs separated by colons)")
    return value.lower()


def _ipv4(field, value):
    if not isinstance(value, str) or is_ipv4(value) is None:
        raise refuse(field, value, "an IPv4 address")
    return value


def _pairs(words, start):
    """``{keyword: value}`` of the ``keyword value`` pairs from *words[start:]* that this module reads."""
    values = {}
    i = start
    while i < len(words):
        if words[i] in ("dev", "lladdr", "dst") and i + 1 < len(words):
            values[words[i]] = words[i + 1]
            i += 2
        elif words[i] in ("dev", "lladdr", "dst"):
            raise Refused("'%s' is missing its value" % words[i])
        else:
            i += 1
    return values


def _entries(output, what, device, text_entry, json_entry):
    """Apply *text_entry* (words) or *json_entry* (object) to each line or item of *output*; each returns
    ``(dev or None, key, value)`` or None (an entry to leave out). Returns ``{key: [values]}`` for *device*."""
    table = {}
    if detect_format(output) == "json":
        items = [("JSON item %d" % i, item, json_entry) for i, item in enumerate(load_json(output, what))]
    else:
        lines = output.splitlines()
        check_lines(lines, what)
        items = [("line %d" % n, line.split(), text_entry) for n, line in enumerate(lines, 1) if line.strip()]
    for where, item, read in items:
        try:
            entry = read(item)
        except Refused as refused:
            raise error(what, where, refused)
        if entry is not None and entry[0] in (None, device):
            table.setdefault(entry[1], [])
            if entry[2] not in table[entry[1]]:
                table[entry[1]].append(entry[2])
    return table


def _text_reader(key_field, key_check, value_word, value_check):
    """A reader of one text line's words: ``(dev or None, key, value)``, the key its first word, the value the
    word after *value_word*; None for a line without it (a FAILED or INCOMPLETE neighbour, a local FDB entry)."""
    def read(words):
        values = _pairs(words, 1)
        if value_word not in values:
            return None
        return values.get("dev"), key_check(key_field, words[0]), value_check(value_word, values[value_word])
    return read


def _json_reader(dev_field, key, value):
    """A reader of one JSON object (load_json checked it is one): ``(dev or None, key, value)`` from the fields
    *key* and *value* (``(field, check)``); None for an object without the value field."""
    (key_field, key_check), (value_field, value_check) = key, value

    def read(obj):
        if obj.get(value_field) is None:
            return None
        dev = obj.get(dev_field)
        if dev is not None and not isinstance(dev, str):
            raise refuse(dev_field, dev, "a string")
        return dev, key_check(key_field, obj.get(key_field)), value_check(value_field, obj[value_field])
    return read


_neighbour_text = _text_reader("address", _ipv4, "lladdr", _mac)
_neighbour_json = _json_reader("dev", ("dst", _ipv4), ("lladdr", _mac))
_fdb_text = _text_reader("mac", _mac, "dst", _ipv4)
_fdb_json = _json_reader("ifname", ("mac", _mac), ("dst", _ipv4))


def parse_vxlan_neighbours(output, device):
    """``{VTEP address: MAC}`` of ``ip [-j] -4 neigh show [dev <device>]`` for *device* (entries without a MAC
    left out). An address with two MACs is refused: the kernel holds one per address and device."""
    table = _entries(output, "neighbours", device, _neighbour_text, _neighbour_json)
    for address, macs in table.items():
        if len(macs) > 1:
            raise IprouteParseError("neighbours: %s has more than one MAC (%s) on %s; one table of one node was "
                                    "expected" % (address, ", ".join(macs), device))
    return dict((address, macs[0]) for address, macs in table.items())


def parse_vxlan_fdb(output, device):
    """``{MAC: [remote addresses]}`` of ``bridge [-j] fdb show [dev <device>]`` for *device* (entries without a
    remote address left out)."""
    return _entries(output, "fdb", device, _fdb_text, _fdb_json)
