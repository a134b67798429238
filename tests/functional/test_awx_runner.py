"""The collection the way AWX / Automation Platform runs it: ansible-runner's Python API (the engine of AWX jobs) with
a fresh private data dir per job (project/, inventory/, env/envvars, env/extravars; nothing shared between jobs),
the connection injected into the environment as a credential type would (ETCDCTL_ENDPOINTS, not a variable), and the
job's artifacts read back: status and rc, the set_stats data in artifacts/<ident>/job_events (the summary and the
backup), the report files where the default puts them (the directory the job runs in, runner's project dir; not the
installed collection, not the $PWD of the process that started runner). Then, as an AWX workflow would, a rollback
job that gets the backup only from the first job's stats, as a variable, restores the pool byte for byte.

A real etcd (conftest.py) and Calico-like nodes in network namespaces (_reliability_env.py) with real
node_routes_info reads; nothing here is a stand-in. Also: the backup missing or not JSON is a clear error with
nothing written; `ansible-builder create` turns execution-environment.yml into a build context (building the image
needs a container build, which this machine cannot do) and ansible-builder's introspection of the installed
collection reads meta/execution-environment.yml.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import ansible_runner
import pytest
import yaml
from _reliability_env import ANSIBLE_BIN, can_make_namespaces, cluster_fixtures, etcd_dump, run_playbook
from conftest import AUTH_PASSWORD, COLLECTIONS, POOL_KEY, POOL_TEXT, REPO, run_ansible

namespaces = pytest.mark.skipif(not can_make_namespaces(), reason="needs root, iproute2 and /usr/bin/python3")
POOL = "default-ipv4-ippool"
# Where the report would land if the default followed the playbook (inside the collection, here the checkout) or
# the $PWD that ansible-runner passes on from the process that started it (pytest's, the checkout's root).
WRONG_PLACES = (REPO / "playbooks" / "ipip-report", REPO / "ipip-report")


nodes, seeded_cluster = cluster_fixtures("awx-runner")


def private_data_dir(root, nodes, etcd, playbook, extravars=None):
    """A fresh ansible-runner private data dir: a project whose playbook imports the collection's playbook by FQCN
    (an AWX job template runs a playbook of its project), the namespaces' inventory with only `datastore: etcdv3`
    (the endpoint comes from ETCDCTL_ENDPOINTS, as an AWX credential type injects it) and no ipip_report_dir."""
    pdd = root / ("job-%s-%s" % (playbook, uuid.uuid4().hex[:6]))
    for sub in ("project", "inventory", "env"):
        (pdd / sub).mkdir(parents=True)
    (pdd / "project" / ("%s.yml" % playbook)).write_text(
        "---\n- name: The collection's playbook\n  ansible.builtin.import_playbook: k8snet.calico.%s\n" % playbook)
    role_vars = {"ipip_verify_timeout": 2, "ipip_verify_interval": 1}
    inventory = json.loads(nodes.inventory({"datastore": "etcdv3"}, role_vars,
                                           name="inventory-%s.json" % uuid.uuid4().hex[:6]).read_text())
    inventory["all"]["vars"].pop("ipip_report_dir")
    (pdd / "inventory" / "hosts.json").write_text(json.dumps(inventory, indent=1))
    tmp = pdd / "tmp"
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ETCDCTL_ENDPOINTS": etcd.url,
        "ANSIBLE_LOCAL_TEMP": str(tmp / "local"), "ANSIBLE_REMOTE_TEMP": str(tmp / "remote"),
        "ANSIBLE_HOME": str(tmp / "home"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0"}))
    if extravars is not None:
        (pdd / "env" / "extravars").write_text(json.dumps(extravars))
    return pdd


def run_job(pdd, playbook):
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook="%s.yml" % playbook, quiet=True,
                                ident="job", timeout=300)
    stdout = (pdd / "artifacts" / "job" / "stdout").read_text()
    return runner, stdout


def job_stats(pdd):
    """The set_stats data of the job as AWX reads it: the playbook_on_stats event in artifacts/<ident>/job_events."""
    events = [json.loads(path.read_text()) for path in (pdd / "artifacts" / "job" / "job_events").glob("*.json")]
    (stats,) = [event for event in events if event.get("event") == "playbook_on_stats"]
    return stats["event_data"]["artifact_data"]


@namespaces
def test_diagnose_and_enable_under_ansible_runner_then_rollback_from_the_stats(seeded_cluster, nodes, tmp_path):
    etcd = seeded_cluster
    wrong_before = [place.exists() for place in WRONG_PLACES]

    # diagnose: the incident on both nodes -> the job fails (rc 2) and says why in its stats.
    pdd = private_data_dir(tmp_path, nodes, etcd, "diagnose")
    runner, stdout = run_job(pdd, "diagnose")
    assert "Traceback" not in stdout
    assert (runner.status, runner.rc) == ("failed", 2), stdout[-3000:]
    assert (pdd / "artifacts" / "job" / "rc").read_text().strip() == "2"
    report_dir = pdd / "project" / "ipip-report"
    summary = job_stats(pdd)["ipip_summary"]
    assert (summary["result"], summary["hosts_ok"], summary["hosts_bad"]) == ("unresolved", 0, 2)
    assert summary["pools_changed"] == {} and summary["check_mode"] is False and summary["datastore"] == "etcdv3"
    assert summary["reports"] == {kind: str(report_dir / ("report." + kind)) for kind in ("json", "xml", "txt")}
    assert summary["backup_file"] is None
    assert "ipip_backup" not in job_stats(pdd)  # nothing was written, nothing to restore
    assert json.loads((report_dir / "report.json").read_text())["result"] == "unresolved"
    assert (report_dir / "report.xml").exists() and (report_dir / "report.txt").exists()

    # enable_ipip: the pool is changed; verification cannot succeed (no Calico agent makes tunl0 here), so the job
    # fails, but the backup is saved and published.
    pdd = private_data_dir(tmp_path, nodes, etcd, "enable_ipip", {"ipip_pools": [POOL]})
    runner, stdout = run_job(pdd, "enable_ipip")
    assert "Traceback" not in stdout
    assert (runner.status, runner.rc) == ("failed", 2), stdout[-3000:]
    assert json.loads(etcd.raw.get(POOL_KEY))["spec"]["ipipMode"] == "Always"
    changed_revision = etcd.raw.mod_revision(POOL_KEY)
    report_dir = pdd / "project" / "ipip-report"
    stats = job_stats(pdd)
    summary, backup = stats["ipip_summary"], stats["ipip_backup"]
    assert summary["result"] == "unresolved" and summary["pools_changed"] == {POOL: True}
    assert summary["backup_file"] == str(report_dir / "pool-backup.json")
    assert summary["rollback"] == {"performed": False}
    # the published backup is the file's object, exactly
    assert backup == json.loads((report_dir / "pool-backup.json").read_text())
    assert backup["datastore"] == "etcdv3"
    (saved,) = [entry for entry in backup["restore"] if entry["restore"]["key"] == POOL_KEY]
    assert saved["restore"]["text"] == POOL_TEXT and saved["expected_revision"] == str(changed_revision)
    assert json.loads((report_dir / "report.json").read_text())["pools_changed"] == {POOL: True}

    # Neither job wrote into the collection nor into the starting process's $PWD.
    assert [place.exists() for place in WRONG_PLACES] == wrong_before

    # rollback: a new job, its own private data dir (no backup file there), the backup only as the variable the
    # workflow hands over from the enable job's stats.
    before = etcd_dump(etcd.raw)
    pdd = private_data_dir(tmp_path, nodes, etcd, "rollback", {"ipip_backup": backup})
    assert not (pdd / "project" / "ipip-report" / "pool-backup.json").exists()
    runner, stdout = run_job(pdd, "rollback")
    assert "Traceback" not in stdout
    assert (runner.status, runner.rc) == ("successful", 0), stdout[-3000:]
    assert etcd.raw.get(POOL_KEY) == POOL_TEXT  # byte for byte
    assert etcd.raw.mod_revision(POOL_KEY) > changed_revision
    after = etcd_dump(etcd.raw)
    assert {k: v for k, v in after.items() if k != POOL_KEY} == {k: v for k, v in before.items() if k != POOL_KEY}
    summary = job_stats(pdd)["ipip_summary"]
    assert summary["rollback"]["performed"] is True and summary["rollback"]["restored"][POOL_KEY] is True
    assert summary["rollback"]["backup_from"] == "the variable ipip_backup"
    assert summary["rollback"]["backup_file"] is None
    assert "ipip_backup" not in job_stats(pdd)  # a rollback writes no new backup


@namespaces
@pytest.mark.parametrize("content, says", [
    (None, "does not exist on the controller"),
    ("{not json", "cannot be used: it is not valid JSON (Expecting property name"),
    ('{"datastore": "etcdv3", "restore": "nope"}', "not a backup written by enable_ipip"),
])
def test_a_missing_or_broken_backup_is_a_clear_error_and_nothing_is_written(
        seeded_cluster, nodes, tmp_path, content, says):
    etcd = seeded_cluster
    before = etcd_dump(etcd.raw)
    backup_file = tmp_path / "pool-backup.json"
    if content is not None:
        backup_file.write_text(content)
    inventory = nodes.inventory({"datastore": "etcdv3", "etcd_endpoints": [etcd.url]},
                                {"ipip_backup_file": str(backup_file)}, name="inventory-%s.json" % uuid.uuid4().hex)
    rc, output, _log = run_playbook("rollback.yml", inventory, tmp_path)
    assert rc != 0
    assert "Traceback" not in output and "[ERROR]: Exception" not in output
    assert says in output, output[-3000:]
    assert str(backup_file) in output
    assert "ipip_backup_file=PATH" in output and "ipip_backup" in output  # how to pass a backup
    assert "Restore each saved object" not in output
    assert etcd_dump(etcd.raw) == before
    assert not (tmp_path / "report").exists()  # no report of a rollback that did not happen


@namespaces
def test_a_backup_variable_that_is_not_json_is_named(seeded_cluster, nodes, tmp_path):
    etcd = seeded_cluster
    before = etcd_dump(etcd.raw)
    inventory = nodes.inventory({"datastore": "etcdv3", "etcd_endpoints": [etcd.url]},
                                name="inventory-%s.json" % uuid.uuid4().hex)
    rc, output, _log = run_playbook("rollback.yml", inventory, tmp_path, extra_vars={"ipip_backup": "{oops"})
    assert rc != 0 and "Traceback" not in output
    assert "ipip_backup" in output and "dict" in output, output[-3000:]
    assert etcd_dump(etcd.raw) == before


def test_ansible_builder_create_makes_the_build_context(tmp_path):
    """ansible-builder 3 reads execution-environment.yml (at the collection root: a definition's dependency paths are
    relative to its own directory) and writes the Containerfile and the build context with the collection's own
    requirement files. (No image is built: no container build is possible here.)"""
    context = tmp_path / "context"
    proc = subprocess.run([str(ANSIBLE_BIN / "ansible-builder"), "create", "-f", str(REPO / "execution-environment.yml"),
                           "--context", str(context), "--output-filename", "Containerfile"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / "Containerfile").read_text()
    build = context / "_build"
    assert (build / "requirements.txt").read_text() == (REPO / "requirements.txt").read_text()
    assert (build / "bindep.txt").read_text() == (REPO / "bindep.txt").read_text()
    assert not (build / "requirements.txt").is_symlink() and not (build / "bindep.txt").is_symlink()
    assert "kubernetes" in (build / "requirements.txt").read_text()  # the Kubernetes datastore's client
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.16 ansible-runner>=2.4"' in containerfile
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "--user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile


def test_ansible_builder_reads_the_installed_collections_requirements():
    """What an execution environment that installs this collection gets from it: ansible-builder's introspection
    of meta/execution-environment.yml (paths relative to the collection root) yields requirements.txt's packages."""
    proc = subprocess.run([str(ANSIBLE_BIN / "ansible-builder"), "introspect", "--sanitize", str(COLLECTIONS)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = yaml.safe_load(proc.stdout)
    python = [line.split("#")[0].strip() for line in data["python"] if "k8snet.calico" in line]
    wanted = [line for line in (REPO / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#") and not line.startswith("ansible-core")]
    assert python == wanted and "kubernetes>=24.2" in python
    system = [line.split("#")[0].strip() for line in data["system"] if "k8snet.calico" in line]
    assert system and all("[" in line for line in system)  # profiled test/lab packages only


def test_the_execution_environment_gets_no_test_or_lab_package_from_bindep():
    """bindep.txt lists the test and lab packages under profiles; the image build runs bindep without a profile,
    so none of them goes into the execution environment (the controller needs no system package)."""
    from bindep.depends import Depends

    depends = Depends((REPO / "bindep.txt").read_text())
    assert depends.active_rules(["default"] + depends.platform_profiles()) == []
    assert len(depends.active_rules(["test"] + depends.platform_profiles())) > 0


def test_etcd_connection_and_credentials_from_etcdctl_variables(etcd_auth):
    """What an AWX credential type injects: ETCDCTL_ENDPOINTS and ETCDCTL_USER=user:password, nothing in the task
    but the datastore kind; through the real `ansible` CLI against etcd with authentication on. The password never
    appears in the output; a password set in the task wins over the environment."""
    env = {"ETCDCTL_ENDPOINTS": etcd_auth.url, "ETCDCTL_USER": "calico:" + AUTH_PASSWORD}
    result, output = run_ansible("ippool_info", {"datastore": "etcdv3"}, env=env, verbosity=3)
    assert not result.get("failed"), output[-3000:]
    assert "default-ipv4-ippool" in [pool["name"] for pool in result["pools"]]
    assert AUTH_PASSWORD not in output
    result, output = run_ansible("ippool_info", {"datastore": "etcdv3", "etcd_username": "calico",
                                                 "etcd_password": "not-the-password"}, env=env)
    assert result["failed"] is True and etcd_auth.url in result["msg"], output[-3000:]
    assert AUTH_PASSWORD not in output
