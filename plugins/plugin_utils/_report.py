# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Render a verdict (``_verdict.verdict``) for people (a table) and for CI (JUnit XML). Pure functions."""

from __future__ import annotations

import xml.etree.ElementTree as ET

TABLE_COLUMNS = ("node", "subnet", "tunnel", "blocks ok", "blocks bad", "first bad route", "cause")


def _tunnel_summary(node):
    # the VXLAN device where the node's blocks use VXLAN (the verdict keeps it then), else the IPIP tunnel
    tunnel = node.get("vxlan") or node.get("tunnel") or {}
    if tunnel.get("exists") is None:
        return "unknown"
    if not tunnel.get("exists"):
        return "absent"
    parts = [tunnel.get("kind") or "?", "UP" if tunnel.get("up") else "DOWN", "mtu %s" % tunnel.get("mtu")]
    parts.extend(tunnel.get("addresses") or [])
    return " ".join(parts)


def table_rows(verdict, unreachable=()):
    rows = []
    for node in verdict.get("nodes") or []:
        bad = node.get("first_bad") or {}
        first = bad.get("block", "")
        if bad:
            first = "%s (%s)" % (first, bad.get("detail"))
        cause = bad.get("cause", "") or ("; ".join(node.get("problems") or []) or "ok")
        if bad and node.get("problems"):
            cause = "%s; %s" % (cause, "; ".join(node["problems"]))
        rows.append((node.get("node") or node["host"], node.get("subnet") or "?", _tunnel_summary(node),
                     str(node.get("blocks_ok", 0)), str(node.get("blocks_bad", 0)), first or "-", cause))
    for host in unreachable:
        rows.append((host, "?", "?", "-", "-", "-", "unreachable"))
    return rows


def warning_lines(verdict):
    """One line per node warning (``workload_mtu_above_tunnel``, the probe's MTU warnings): the node, the warning's
    name and its message (what, how many, the fix)."""
    return ["%s: %s: %s" % (node.get("node") or node["host"], warning.get("name"), warning.get("message"))
            for node in verdict.get("nodes") or [] for warning in node.get("warnings") or []]


def render_table(verdict, title="", unreachable=()):
    """A fixed-width table a person reads at a glance, one line per node."""
    rows = [TABLE_COLUMNS] + table_rows(verdict, unreachable)
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    lines = [title] if title else []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    warnings = warning_lines(verdict)
    if warnings:
        lines.extend(["", "Warnings:"] + warnings)
    return "\n".join(lines) + "\n"


def out_of_scope_warnings(verdict):
    """One line per node with bad blocks (or tunnel problems) of pools outside the verdict's scope."""
    lines = []
    for node in verdict.get("nodes") or []:
        count = node.get("blocks_bad_out_of_scope") or 0
        problems = node.get("problems_out_of_scope") or []
        if not count and not problems:
            continue
        parts = []
        if count:
            first = next(b for b in node.get("blocks") or [] if b.get("in_scope") is False and b.get("cause") != "ok")
            parts.append("%d bad route(s) to blocks of pools this run did not change, first %s (pool %s): %s (%s)" % (
                count, first["block"], first.get("pool"), first["cause"], first["detail"]))
        parts.extend(problems)
        lines.append("warning: %s: %s" % (node.get("node") or node["host"], "; ".join(parts)))
    return lines


def render_table_with_warnings(verdict, title="", unreachable=()):
    """The table, then a ``warning:`` line per node with bad blocks of pools outside the verdict's scope."""
    return render_table(verdict, title=title, unreachable=unreachable) + "".join(
        line + "\n" for line in out_of_scope_warnings(verdict))


def render_junit(verdict, suite="k8snet.calico.ipip", unreachable=()):
    """JUnit XML: one test case per node; a failure lists the node's bad routes and tunnel problems."""
    nodes = verdict.get("nodes") or []
    failures = sum(1 for n in nodes if not n.get("ok")) + len(unreachable)
    root = ET.Element("testsuites", name=suite, tests=str(len(nodes) + len(unreachable)), failures=str(failures))
    tsuite = ET.SubElement(root, "testsuite", name=suite, tests=root.get("tests"), failures=str(failures),
                           errors="0", skipped="0")
    for node in nodes:
        case = ET.SubElement(tsuite, "testcase", classname=suite,
                             name="%s (%s)" % (node.get("node") or node["host"], node["host"]))
        # Blocks of pools outside the verdict's scope never fail a node: they are warnings (system-out).
        all_bad = [b for b in node.get("blocks") or [] if b.get("cause") != "ok"]
        bad = [b for b in all_bad if b.get("in_scope", True)]
        warnings = ["outside the run's pools: %s (pool %s): %s (%s)" % (
            b["block"], b.get("pool"), b["cause"], b["detail"]) for b in all_bad if not b.get("in_scope", True)]
        warnings.extend("outside the run's pools: tunnel: %s" % p for p in node.get("problems_out_of_scope") or [])
        warnings.extend(line for line in warning_lines({"nodes": [node]}))
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(warnings)
        if node.get("ok"):
            continue
        lines = ["%s: %s (%s)" % (b["block"], b["cause"], b["detail"]) for b in bad]
        lines.extend("tunnel: %s" % p for p in node.get("problems") or [])
        first = bad[0]["cause"] if bad else "tunnel"
        failure = ET.SubElement(case, "failure", type=first,
                                message="%d bad route(s), %d tunnel problem(s)" % (
                                    len(bad), len(node.get("problems") or [])))
        failure.text = "\n".join(lines)
    for host in unreachable:
        case = ET.SubElement(tsuite, "testcase", classname=suite, name="%s (%s)" % (host, host))
        ET.SubElement(case, "failure", type="unreachable", message="host was not reachable").text = (
            "the node could not be reached to verify its routes")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
