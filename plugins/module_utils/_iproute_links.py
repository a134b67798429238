# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Parse ``ip [-d] [-j] link show`` and ``ip [-d] [-j] addr show``, JSON or text, into the same list of links.

Each link: name, index, link (peer after ``@``), flags (in order, without duplicates), mtu, operstate, link_type,
kind, vxlan (a VXLAN device's ``{vni, port}`` with ``-d``, else None) and its IPv4 addresses as CIDRs (only from
``ip addr`` output). The JSON fields are typed and checked in one
table, LINK_FIELDS (ADDRESS_FIELDS for an ``addr_info`` entry); the text values are checked as they are read. What
is not so is an IprouteParseError naming the capture (links or addresses), the line or JSON item and the field.
"""

from __future__ import annotations

import re

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_common import (
    IprouteParseError,
    Refused,
    check_lines,
    checked_fields,
    error,
    number_text,
    refuse,
    u32,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ipv4 import is_ipv4, prefix_length

_IFACE_HEADER = re.compile(
    r"(?P<index>[0-9]+):\s+(?P<name>[^:@\s]+)(?:@(?P<link>[^:\s]+))?:\s+<(?P<flags>[^>]*)>(?P<rest>.*)").fullmatch
_TUNNEL_TYPES = ("ipip", "gre", "sit", "vxlan")


def _empty_link(name):
    return {"name": name, "index": None, "link": None, "flags": [], "mtu": None, "operstate": None,
            "link_type": None, "kind": None, "vxlan": None, "addresses": []}


def _ipv4_cidr(field, value):
    """An IPv4 address with its prefix length (``/32`` added when there is none), as ``ip addr`` prints it."""
    address, slash, length = value.partition("/")
    if is_ipv4(address) is None or (slash and prefix_length(length, 32) is None):
        raise refuse(field, value, "an IPv4 address with a prefix length from /0 to /32")
    return value if slash else value + "/32"


# ------------------------------------------------------------------------------------------------------ JSON
def _flags(field, value):
    for n, item in enumerate(value):
        if not isinstance(item, str):
            raise refuse("%s[%d]" % (field, n), item, "a string")
    return list(dict.fromkeys(value))


def _linkinfo(field, value):
    """``(kind, vxlan)`` of a ``linkinfo`` object: its ``info_kind``, and a VXLAN device's VNI and UDP port."""
    kind = value.get("info_kind")
    if kind is not None and not isinstance(kind, str):
        raise refuse(field + ".info_kind", kind, "a string")
    vxlan = None
    if kind == "vxlan":
        data = value.get("info_data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise refuse(field + ".info_data", data, "an object")
        values = checked_fields(data, VXLAN_FIELDS, field + ".info_data.")
        vxlan = {"vni": values.get("id"), "port": values.get("port")}
    return kind, vxlan


def _addresses(field, value):
    """The IPv4 CIDRs of an ``addr_info`` list (other families are checked for their types, then left out)."""
    cidrs = []
    for n, entry in enumerate(value):
        name = "%s[%d]" % (field, n)
        if not isinstance(entry, dict):
            raise refuse(name, entry, "an object")
        values = checked_fields(entry, ADDRESS_FIELDS, name + ".")
        if values.get("family") == "inet" and "local" in values:
            length = values.get("prefixlen", 32)
            if length > 32:
                raise refuse(name + ".prefixlen", length, "a prefix length from 0 to 32")
            cidrs.append(_ipv4_cidr(name + ".local", "%s/%d" % (values["local"], length)))
    return cidrs


# What each field of a link object may be: the JSON types of its value, then the check that returns the value kept
# (no check: kept as it is). Any other field (qdisc, group, txqlen, address, ...) is not looked at; null is absent.
LINK_FIELDS = {
    "ifname": ((str,), None),
    "ifindex": ((int,), u32),
    "link": ((str,), None),
    "flags": ((list,), _flags),
    "mtu": ((int,), u32),
    "operstate": ((str,), None),
    "link_type": ((str,), None),
    "linkinfo": ((dict,), _linkinfo),
    "addr_info": ((list,), _addresses),
}
VXLAN_FIELDS = {
    "id": ((int,), u32),
    "port": ((int,), u32),
}
ADDRESS_FIELDS = {
    "family": ((str,), None),
    "local": ((str,), None),
    "prefixlen": ((int,), u32),
}


def _links_from_json(data, what):
    links = []
    for i, obj in enumerate(data):
        if obj.get("ifname") is None:
            raise IprouteParseError("%s: JSON item %d has no 'ifname'" % (what, i))
        try:
            values = checked_fields(obj, LINK_FIELDS, "")
        except Refused as refused:
            raise error(what, "JSON item %d" % i, refused)
        link = _empty_link(values["ifname"])
        kind, vxlan = values.get("linkinfo", (None, None))
        link.update(index=values.get("ifindex"), link=values.get("link"), flags=values.get("flags", []),
                    mtu=values.get("mtu"), operstate=values.get("operstate"), link_type=values.get("link_type"),
                    kind=kind, vxlan=vxlan, addresses=values.get("addr_info", []))
        links.append(link)
    return links


# ------------------------------------------------------------------------------------------------------ text
def _links_from_text(text, what):
    lines = text.splitlines()
    check_lines(lines, what)
    links = []
    link = None
    detail_line = 0  # lines seen since the link/... line: with `ip -d`, the next one starts with the kind
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line in ("...", "\u2026"):
            continue
        try:
            # Indentation is not needed to tell a header from a detail line (pastes in forums and issues often
            # lose it): only a header has the form `N: name: <FLAGS>`.
            header = _IFACE_HEADER(line)
            if header:
                link = _link_from_header(header)
                links.append(link)
                detail_line = 0
                continue
            if link is None:
                raise IprouteParseError("%s: line %d is not part of an interface block: %r" % (what, number, line))
            detail_line = _detail(link, line.split(), detail_line)
        except Refused as refused:
            raise error(what, "line %d" % number, refused)
    if not links and text.strip():
        raise IprouteParseError("%s: no interface found (expected `ip link` or `ip addr` output)" % what)
    return links


def _link_from_header(header):
    """The link of a ``3: eth0@if4: <BROADCAST,UP> mtu 1500 qdisc ... state UP ...`` line."""
    link = _empty_link(header.group("name"))
    link["index"] = number_text("index", header.group("index"))
    link["link"] = header.group("link")
    link["flags"] = list(dict.fromkeys(flag for flag in header.group("flags").split(",") if flag))
    rest = header.group("rest").split()
    for i, word in enumerate(rest):
        if word in ("mtu", "state"):
            if i + 1 == len(rest):
                raise Refused("'%s' is missing its value" % word)
            if word == "mtu":
                link["mtu"] = number_text("mtu", rest[i + 1])
            else:
                link["operstate"] = rest[i + 1]
    return link


def _detail(link, words, detail_line):
    """Take the indented line of *words* into *link*; returns the new *detail_line*."""
    if words[0].startswith("link/"):
        link["link_type"] = words[0][len("link/"):]
        return 1
    if words[0] == "inet":
        if len(words) < 2:
            raise Refused("'inet' is missing its value")
        link["addresses"].append(_ipv4_cidr("inet", words[1]))
    elif detail_line == 1 and words[0] not in ("inet6", "valid_lft", "altname", "alias", "vf"):
        # `ip -d`: the line after link/... starts with the device kind ("ipip any remote any ...",
        # "veth ...") unless the device has none (plain NICs go straight to "addrgenmode ...").
        if words[0] not in ("promiscuity", "addrgenmode", "numtxqueues"):
            link["kind"] = words[0]
        if words[0] == "vxlan":  # "vxlan id 4096 local 10.39.0.110 dev eth0 srcport 0 0 dstport 4789 ..."
            link["vxlan"] = _vxlan_text(words)
        return 2
    return detail_line


def _vxlan_text(words):
    vxlan = {"vni": None, "port": None}
    for key, word in (("vni", "id"), ("port", "dstport")):
        if word in words:
            i = words.index(word)
            if i + 1 == len(words):
                raise Refused("'%s' is missing its value" % word)
            vxlan[key] = number_text(word, words[i + 1])
    return vxlan


def _promote_kind(links):
    # Without -d there is no kind at all; the link type (link/ipip) still identifies tunnel devices.
    for link in links:
        if link["kind"] is None and link["link_type"] in _TUNNEL_TYPES:
            link["kind"] = link["link_type"]
    return links


def links_from_json(data, what):
    """The links of the JSON link objects *data* (a list of dicts) of the *what* capture."""
    return _promote_kind(_links_from_json(data, what))


def links_from_text(text, what):
    """The links of an ``ip link``/``ip addr`` text capture (*what*: its name in messages)."""
    return _promote_kind(_links_from_text(text, what))
