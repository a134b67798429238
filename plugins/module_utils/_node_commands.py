# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Run iproute2 and read the DMI strings on the node: the only I/O of node_routes_info, kept apart from parsing."""

from __future__ import annotations

import os

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import detect_format
from ansible_collections.k8snet.calico.plugins.module_utils._platform import DMI_FIELDS

# Each table is asked for as JSON first; iproute2 without JSON (CentOS 7's 3.10) rejects -j, and some 4.x versions
# accept -j but print text for routes: both fall back to (or are detected as) text.
ROUTES_ARGS = ["-4", "route", "show", "table", "main"]
# `ip -d addr` describes each link (kind, flags, MTU) and its addresses in one call.
ADDRESSES_ARGS = ["-d", "addr", "show"]


def _run_ip(module, ip, args):
    environ = dict(LANG="C", LC_ALL="C")
    rc, out, err = module.run_command([ip, "-j"] + args, environ_update=environ)
    if rc == 0 and (detect_format(out) == "json" or out.strip()):
        return out
    rc, out, err = module.run_command([ip] + args, environ_update=environ)
    if rc != 0:
        module.fail_json(msg="'%s %s' failed (rc=%d): %s" % (ip, " ".join(args), rc, err.strip()), rc=rc)
    return out


def read_node_tables(module):
    """Return the node's route table and link/address table as iproute2 printed them."""
    ip = module.get_bin_path("ip", required=True)
    return dict(mode="live", routes=_run_ip(module, ip, ROUTES_ARGS), links=_run_ip(module, ip, ADDRESSES_ARGS))


def read_vxlan_tables(module, device):
    """The ARP table and FDB of the VXLAN *device* as printed (``{neighbours, fdb}``); fdb is None where the node
    has no ``bridge`` command (iproute2 ships it, minimal images may not). Read only when the device exists."""
    environ = dict(LANG="C", LC_ALL="C")
    tables = {"neighbours": _run_ip(module, module.get_bin_path("ip", required=True),
                                    ["-4", "neigh", "show", "dev", device]), "fdb": None}
    bridge = module.get_bin_path("bridge")
    if bridge:
        rc, out, err = module.run_command([bridge, "fdb", "show", "dev", device], environ_update=environ)
        if rc != 0:
            module.fail_json(msg="'bridge fdb show dev %s' failed (rc=%d): %s" % (device, rc, err.strip()), rc=rc)
        tables["fdb"] = out
    return tables


def read_dmi(root="/sys/class/dmi/id"):
    """The node's DMI strings that tell its platform ({field: text or None}); None each where unreadable (no DMI in
    a container or on some ARM boards)."""
    values = {}
    for field in DMI_FIELDS:
        try:
            with open(os.path.join(root, field), "rb") as handle:
                values[field] = handle.read(256).decode("utf-8", "replace")
        except OSError:
            values[field] = None
    return values
