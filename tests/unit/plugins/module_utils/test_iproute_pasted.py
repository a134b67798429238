"""Real captures as people paste them (tests/unit/fixtures/iproute/README.md, section pasted/): a command line pasted
above the output, indentation lost, iproute2 3.x double spaces."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import parse_links, parse_routes

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
