"""The probe's verdict (plugin_utils/_probe.py) on the lines roles/ipip/files/probe.sh prints: small pings, full-size
pings with DF set and one byte more. What the script prints on a real path (black hole, PMTU signalled, protocol 4
dropped) is tests/functional/test_probe_script.py."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_probe_verdict import ipip_probe_verdict
from ansible_collections.k8snet.calico.plugins.plugin_utils._probe import probe_verdict

BASE = {"host": "node1", "ok": True, "converged": True, "problems": [], "warnings": []}
ADDRESSES = ["192.168.169.192", "192.168.80.0"]


def test_small_pings_only_without_a_tunnel_mtu():
    out = ipip_probe_verdict(BASE, ADDRESSES, ["mtu -", "ok - -", "silent - -"])
    assert out["probe"] == {"192.168.169.192": "ok", "192.168.80.0": "no reply"}
    assert out["ok"] is False and out["problems"] == [
        "no reply through the tunnel from 192.168.80.0 (IP protocol 4 blocked? allow it between the nodes, or use "
        "VXLAN where it cannot pass)"]
    assert "probe_mtu" not in out
    assert BASE["ok"] is True  # the input is not changed
    assert ipip_probe_verdict(BASE, ADDRESSES[:1], ["mtu -", "ok - -"])["ok"] is True


def test_full_size_crossing_and_one_more_refused_is_ok():
    out = probe_verdict(BASE, ADDRESSES, ["mtu 1480", "ok ok refused:1480", "ok ok refused:1480"])
    assert out["ok"] is True and out["problems"] == [] and out["warnings"] == []
    assert out["probe_mtu"] == {"tunnel_mtu": 1480,
                                "full_size": {a: "ok" for a in ADDRESSES},
                                "over_size": {a: "refused:1480" for a in ADDRESSES}}


def test_a_silent_full_size_ping_is_an_mtu_black_hole():
    out = probe_verdict(BASE, ADDRESSES, ["mtu 1480", "ok silent refused:1480", "ok ok refused:1480"])
    assert out["ok"] is False and out["probe"]["192.168.169.192"] == "ok"
    assert out["problems"][0].startswith("full-size packets (1480 bytes, DF set) get no reply from 192.168.169.192 "
                                         "while small ones do: an MTU black hole")
    assert "FelixConfiguration ipipMTU" in out["problems"][0]


def test_a_path_that_refuses_full_size_loudly_is_a_warning():
    out = probe_verdict(BASE, ADDRESSES[:1], ["mtu 1480", "ok too-big:1380 refused:1380"])
    assert out["ok"] is True
    assert [(w["name"], w["path_mtu"]) for w in out["warnings"]] == [("path_mtu_below_tunnel", 1380)]


@pytest.mark.parametrize("over, name", [("ok", "tunnel_mtu_not_enforced"), ("silent", "oversize_dropped_silently")])
def test_an_over_size_packet_not_refused_is_a_warning(over, name):
    out = probe_verdict(BASE, ADDRESSES[:1], ["mtu 1480", "ok ok %s" % over])
    assert out["ok"] is True and [w["name"] for w in out["warnings"]] == [name]
    assert "1481 bytes" in out["warnings"][0]["message"]


@pytest.mark.parametrize("lines, problem", [
    (["ok"], "no full-size outcome for 192.168.169.192"),                 # cut after the first word
    (["ok - -"], "no full-size outcome for 192.168.169.192"),             # an MTU, but no full-size ping
    (["ok weird refused:1480"], "unexpected full-size probe output 'weird'"),
    ([], "no reply through the tunnel from 192.168.169.192"),             # no line at all
    (["PING garbage"], "no reply through the tunnel from 192.168.169.192"),
])
def test_output_cut_short_or_garbled_is_never_ok(lines, problem):
    # the old Jinja zip()ped addresses with the output lines: a missing line vanished and the node stayed ok
    out = probe_verdict(BASE, ADDRESSES[:1], ["mtu 1480"] + lines)
    assert out["ok"] is False and out["problems"][0].startswith(problem)


def test_garbled_reach_is_named():
    out = probe_verdict(BASE, ADDRESSES[:1], ["PING garbage"])
    assert out["probe"]["192.168.169.192"] == "unexpected probe output 'PING garbage'"


@pytest.mark.parametrize("args, field", [
    (({"ok": True}, [], []), "verdict"),
    (({"host": "n"}, "1.2.3.4", []), "addresses"),
    (({"host": "n"}, ["1.2.3.4"], [5]), "outcomes"),
    (({"host": "n"}, ["1.2.3.4"], ["mtu 67", "ok ok refused:9"]), "outcomes"),
    (({"host": "n"}, ["1.2.3.4"], ["mtu ١٤٨٠", "ok ok refused:9"]), "outcomes"),
    (({"host": "n"}, ["1.2.3.4"], ["mtu 99999999999999999999", "ok ok refused:9"]), "outcomes"),
])
def test_bad_input_names_the_field(args, field):
    with pytest.raises(AnsibleFilterError, match="ipip_probe_verdict: %s: " % field):
        ipip_probe_verdict(*args)


def test_a_peer_reached_directly_is_not_judged_by_the_tunnel_mtu():
    """CrossSubnet: a same-subnet peer's address is reached on the uplink, where one byte over the tunnel's MTU
    passes; that is not the tunnel failing to enforce its MTU."""
    out = probe_verdict(BASE, ADDRESSES, ["mtu 1450", "ok direct direct", "ok ok refused:1450"])
    assert out["ok"] is True and out["warnings"] == []
    assert out["probe_mtu"]["full_size"] == {"192.168.169.192": "direct", "192.168.80.0": "ok"}
