"""Real captures as people paste them (tests/unit/fixtures/iproute/README.md, section pasted/): a command line pasted
above the output, indentation lost, iproute2 3.x double spaces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import (
    IprouteParseError,
    parse_links,
    parse_routes,
)
from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import describe_node, parse_pools

PASTED = Path(__file__).resolve().parents[2] / "fixtures" / "iproute" / "pasted"


def read(name):
    return (PASTED / name).read_text()


def test_kops_crosssubnet_routes_same_subnet_peers_direct_on_the_nic():
    routes, fmt = parse_routes(read("kops-2640-crosssubnet.routes.txt"))
    assert fmt == "text" and len(routes) == 11
    bird = [r for r in routes if r["protocol"] == "bird" and r["type"] == "unicast"]
    assert {(r["dst"], r["gateway"], r["dev"]) for r in bird} >= {("100.69.162.128/26", "10.63.160.144", "eth0")}
    assert [r["dst"] for r in routes if r["type"] == "blackhole"] == ["100.121.49.192/26"]


def test_command_line_pasted_above_the_routes_is_skipped():
    routes, _fmt = parse_routes(read("calico-8953-mtu.routes.txt"))
    assert routes[0]["dst"] == "0.0.0.0/0" and routes[0]["dev"] == "ifcfg-team0"
    tunnel = [r for r in routes if r["dev"] == "tunl0"]
    assert len(tunnel) == 4 and all(r["flags"] == ["onlink"] for r in tunnel)


def test_command_echo_with_a_prompt_is_skipped_too():
    text = "root@lasdgx10:~# ip r\n" + read("kops-2640-crosssubnet.routes.txt")
    assert len(parse_routes(text)[0]) == 11


def test_ip_addr_without_indentation_is_read():
    links, _fmt = parse_links(read("calico-3003-flattened.addr.txt"), what="addresses")
    assert [(link["name"], link["mtu"], link["link_type"]) for link in links] == [
        ("cali137a5e2a91f", 1430, "ether"), ("calib1525d20b47", 1430, "ether")]


def test_felix_vxlan_crosssubnet_routes_as_pasted_with_an_annotation():
    """A Felix-programmed VXLAN CrossSubnet table (projectcalico/felix#2953): same-subnet peers direct on the NIC
    (``proto 80 onlink``), the others via their VTEP on vxlan.calico. The reporter's arrow annotation on one line is
    no iproute2 output: refused, naming the line and the word; with it removed, every route is read as Felix made it."""
    text = read("felix-2953-vxlan-crosssubnet.routes.txt")
    with pytest.raises(IprouteParseError, match=re.escape("routes: line 11: unknown word '<--------' in route "
                                                          "192.168.141.0/26")):
        parse_routes(text)
    routes, _fmt = parse_routes(text.replace("   <-------- coredns pods are in this space atm", ""))
    node = describe_node(routes, None, parse_pools(["192.168.0.0/16"]), "tunl0")
    kinds = dict((r["dst"], (r["kind"], r["gateway"], r["dev"])) for r in node["routes"] if r["kind"])
    assert kinds == {
        "192.168.82.193/32": ("workload", None, "cali29cf4181874"),
        "192.168.82.194/32": ("workload", None, "cali18cf7b78dac"),
        "192.168.82.195/32": ("workload", None, "cali496c2ad8d21"),
        "192.168.141.0/26": ("direct", "10.37.3.250", "ens5"),
        "192.168.142.128/26": ("vxlan", "192.168.142.128", "vxlan.calico"),
        "192.168.161.64/26": ("vxlan", "192.168.161.64", "vxlan.calico"),
        "192.168.215.64/26": ("direct", "10.37.7.207", "ens5")}
    assert node["uplink"] == "ens5" and "10.37.0.0/20" in node["connected_networks"]


def test_the_same_table_shown_with_grep_keeps_same_subnet_peers_direct():
    """`ip route | grep 192.168` drops the default and connected routes: a next hop on the NIC is still direct
    (the kernel only takes one it reaches there), not an unknown kind."""
    text = read("felix-2953-vxlan-crosssubnet.routes.txt").replace("   <-------- coredns pods are in this space atm", "")
    grepped = "\n".join(line for line in text.splitlines() if "192.168" in line)
    node = describe_node(parse_routes(grepped)[0], None, parse_pools(["192.168.0.0/16"]), "tunl0")
    kinds = dict((r["dst"], r["kind"]) for r in node["routes"] if r["kind"])
    assert (kinds["192.168.141.0/26"], kinds["192.168.215.64/26"], kinds["192.168.142.128/26"]) == (
        "direct", "direct", "vxlan")
    assert node["connected_networks"] == [] and node["default_gateway"] is None
