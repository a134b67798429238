"""calicoctl backend, pure parts: argv lists and parsing of real output shapes (no binary needed)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import DatastoreError, Record
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_calicoctl import (
    API_V1,
    API_V3,
    get_argv,
    is_conflict,
    parse_json_output,
    parse_list,
    record_for,
    replace_argv,
)
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import FIXTURES


def test_argv_lists():
    assert get_argv("/usr/bin/calicoctl", "ippool") == ["/usr/bin/calicoctl", "get", "ippool", "-o", "json"]
    assert get_argv("calicoctl", "felixconfiguration", "default", "/etc/calico/calicoctl.cfg") == [
        "calicoctl", "--config", "/etc/calico/calicoctl.cfg", "get", "felixconfiguration", "default", "-o", "json"]
    assert replace_argv("calicoctl") == ["calicoctl", "replace", "-f", "-"]


def test_parse_v1_list_and_v3_list():
    argv = ["calicoctl", "get", "ippool", "-o", "json"]
    api, items = parse_list(parse_json_output((FIXTURES / "calicoctl-v1-ippool-list.json").read_text(), argv), argv)
    assert api == API_V1 and items[0]["metadata"]["cidr"] == "192.168.0.0/16"
    api, items = parse_list(parse_json_output((FIXTURES / "calicoctl-v3-ippool-list.json").read_text(), argv), argv)
    assert api == API_V3 and items[0]["metadata"]["name"] == "default-ipv4-ippool"


@pytest.mark.parametrize("text", ["", "Error: connection refused", "<html>"])
def test_non_json_names_the_command(text):
    with pytest.raises(DatastoreError, match="calicoctl get ippool -o json"):
        parse_json_output(text, ["calicoctl", "get", "ippool", "-o", "json"])


def test_records_identify_v1_by_cidr_and_v3_by_name_and_version():
    (v1,) = json.loads((FIXTURES / "calicoctl-v1-ippool-list.json").read_text())
    r1 = record_for(v1, "ippool")
    assert r1.key == "calicoctl:ipPool/192.168.0.0/16" and r1.revision.startswith("sha256:")
    v3 = json.loads((FIXTURES / "calicoctl-v3-ippool-list.json").read_text())["items"][0]
    r3 = record_for(v3, "ippool")
    assert (r3.key, r3.revision) == ("calicoctl:IPPool/default-ipv4-ippool", "1201")


def test_conflict_detection():
    assert is_conflict("Failed to execute command: update conflict: IPPool(default-ipv4-ippool)")
    assert not is_conflict("connection refused")


def test_record_round_trip_and_restore_validation():
    record = Record("/calico/x", "ippool", True, "5", '{"a":1}', {"a": 1}, "etcdv3")
    assert Record.from_dict(record.to_dict()).to_dict() == record.to_dict()
    for bad in (None, {}, {"key": ""}, {"key": "/calico/x", "text": 5}, {"key": "/calico/x", "exists": True}):
        with pytest.raises(ValueError, match="restore"):
            Record.from_dict(bad)
