"""Environment fallbacks of the datastore options (K8S_AUTH_* as kubernetes.core, ETCDCTL_* as etcdctl): the pure
env_value/scope_env, and the real AnsibleModule argument validation with the collection's argument spec, where an
option set in the task must win over the environment and credentials from it must be hidden."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8snet.calico.plugins.module_utils import _datastore_args as args
from ansible_collections.k8snet.calico.tests.unit.module_args import patch_module_args

ALL_ENV = [name for names in args.ENV_SOURCES.values() for name in names]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No datastore variable of the machine running the tests leaks in."""
    for name in ALL_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def validated(module_args, capsys):
    """The module's params after AnsibleModule validated `module_args` with the datastore spec; on a validation
    failure, the failure's message."""
    spec = args.datastore_arg_spec()
    with patch_module_args(module_args):
        try:
            module = AnsibleModule(argument_spec=spec, required_if=args.DATASTORE_REQUIRED_IF,
                                   required_together=args.DATASTORE_REQUIRED_TOGETHER)
        except SystemExit:
            return None, json.loads(capsys.readouterr().out)
    return module, None


def open_failure(module_args, capsys):
    """What open_datastore fails the module with (the module validated and opened under the same arguments)."""
    spec = args.datastore_arg_spec()
    with patch_module_args(module_args):
        module = AnsibleModule(argument_spec=spec, required_if=args.DATASTORE_REQUIRED_IF,
                               required_together=args.DATASTORE_REQUIRED_TOGETHER)
        with pytest.raises(SystemExit):
            args.open_datastore(module)
    return module, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("option, variable, value", [
    ("etcd_ca", "ETCDCTL_CACERT", "/etc/etcd/ca.pem"),
    ("etcd_cert", "ETCDCTL_CERT", "/etc/etcd/client.pem"),
    ("etcd_key", "ETCDCTL_KEY", "/etc/etcd/client-key.pem"),
    ("kubeconfig", "K8S_AUTH_KUBECONFIG", "/runner/kubeconfig"),
    ("context", "K8S_AUTH_CONTEXT", "kubernetes-admin@cluster.local"),
    ("host", "K8S_AUTH_HOST", "https://10.0.0.10:6443"),
    ("api_key", "K8S_AUTH_API_KEY", "eyJhbGciOi-token"),
    ("ca_cert", "K8S_AUTH_SSL_CA_CERT", "/runner/ca.crt"),
    ("client_cert", "K8S_AUTH_CERT_FILE", "/runner/client.crt"),
    ("client_key", "K8S_AUTH_KEY_FILE", "/runner/client.key"),
])
def test_each_option_reads_its_variable(option, variable, value):
    assert args.env_value(option, {variable: value}) == (value, variable)
    assert args.env_value(option, {}) == (None, None)
    assert args.env_value(option, {variable: ""}) == (None, None)  # empty counts as unset


def test_etcdctl_user_with_password_is_split_on_the_first_colon_as_etcdctl_does():
    env = {"ETCDCTL_USER": "calico:pa:ss"}
    assert args.env_value("etcd_username", env) == ("calico", "ETCDCTL_USER")
    assert args.env_value("etcd_password", env) == ("pa:ss", "ETCDCTL_USER")
    # With ETCDCTL_PASSWORD set, --user is the whole name (etcdctl: "--user option shouldn't include password").
    env = {"ETCDCTL_USER": "odd:name", "ETCDCTL_PASSWORD": "pw"}
    assert args.env_value("etcd_username", env) == ("odd:name", "ETCDCTL_USER")
    assert args.env_value("etcd_password", env) == ("pw", "ETCDCTL_PASSWORD")
    # A bare user name gives no password.
    assert args.env_value("etcd_password", {"ETCDCTL_USER": "calico"}) == (None, None)


@pytest.mark.parametrize("env, kind, expected", [
    ({"K8S_AUTH_VERIFY_SSL": "false"}, "kubernetes", (False, "K8S_AUTH_VERIFY_SSL")),
    ({"K8S_AUTH_VERIFY_SSL": "yes"}, "kubernetes", (True, "K8S_AUTH_VERIFY_SSL")),
    ({"ETCDCTL_INSECURE_SKIP_TLS_VERIFY": "true"}, "etcdv3", (False, "ETCDCTL_INSECURE_SKIP_TLS_VERIFY")),
    ({"ETCDCTL_INSECURE_SKIP_TLS_VERIFY": "false"}, "etcdv2", (True, "ETCDCTL_INSECURE_SKIP_TLS_VERIFY")),
    # one datastore's variable never turns verification off for another
    ({"ETCDCTL_INSECURE_SKIP_TLS_VERIFY": "true"}, "kubernetes", (None, None)),
    ({"K8S_AUTH_VERIFY_SSL": "false"}, "etcdv3", (None, None)),
    ({"K8S_AUTH_VERIFY_SSL": "false", "ETCDCTL_INSECURE_SKIP_TLS_VERIFY": "true"}, "calicoctl", (None, None)),
    # before the datastore is known: off when any set variable turns it off
    ({"K8S_AUTH_VERIFY_SSL": "true", "ETCDCTL_INSECURE_SKIP_TLS_VERIFY": "true"}, None,
     (False, "ETCDCTL_INSECURE_SKIP_TLS_VERIFY")),
    ({}, None, (None, None)),
    # not a boolean: returned as NAME=value so that the bool check's error names the variable
    ({"K8S_AUTH_VERIFY_SSL": "maybe"}, None, ("K8S_AUTH_VERIFY_SSL=maybe", "K8S_AUTH_VERIFY_SSL")),
])
def test_validate_certs_from_the_datastores_own_variable(env, kind, expected):
    assert args.env_value("validate_certs", env, kind) == expected


def test_scope_env_drops_the_other_datastores_values_and_keeps_verification_on():
    params = {"kubeconfig": "/k", "etcd_ca": "/ca", "validate_certs": False}
    from_env = {"kubeconfig": "K8S_AUTH_KUBECONFIG", "etcd_ca": "ETCDCTL_CACERT",
                "validate_certs": "ETCDCTL_INSECURE_SKIP_TLS_VERIFY"}
    kept = args.scope_env(params, from_env, "kubernetes", {"ETCDCTL_INSECURE_SKIP_TLS_VERIFY": "true"})
    assert params == {"kubeconfig": "/k", "etcd_ca": None, "validate_certs": True}
    assert kept == {"kubeconfig": "K8S_AUTH_KUBECONFIG"}
    assert args.env_note(kept) == " (from the environment: kubeconfig=K8S_AUTH_KUBECONFIG)"
    assert args.env_note({}) == ""


# -- through AnsibleModule's own validation ----------------------------------------------------------------------

def test_etcd_connection_entirely_from_etcdctl_variables(clean_env, capsys):
    clean_env.setenv("ETCDCTL_ENDPOINTS", "https://10.0.0.10:2379,https://10.0.0.11:2379")
    clean_env.setenv("ETCDCTL_USER", "calico:S3cret-from-env")
    clean_env.setenv("ETCDCTL_INSECURE_SKIP_TLS_VERIFY", "true")
    module, failure = validated({"datastore": "etcdv3"}, capsys)
    assert failure is None
    assert module.params["etcd_endpoints"] == ["https://10.0.0.10:2379", "https://10.0.0.11:2379"]
    assert module.params["etcd_username"] == "calico"
    assert module.params["etcd_password"] == "S3cret-from-env"
    assert module.params["validate_certs"] is False
    # the password is a credential: Ansible hides it in everything the module returns
    assert "S3cret-from-env" in module.no_log_values
    assert "calico" not in module.no_log_values


def test_the_option_set_in_the_task_wins(clean_env, capsys):
    clean_env.setenv("ETCDCTL_ENDPOINTS", "https://10.0.0.10:2379")
    clean_env.setenv("ETCDCTL_INSECURE_SKIP_TLS_VERIFY", "true")
    clean_env.setenv("K8S_AUTH_HOST", "https://env.invalid:6443")
    module, failure = validated({"datastore": "etcdv3", "etcd_endpoints": ["https://127.0.0.1:2379"],
                                 "validate_certs": True, "host": "https://task.invalid:6443"}, capsys)
    assert failure is None
    assert module.params["etcd_endpoints"] == ["https://127.0.0.1:2379"]
    assert module.params["validate_certs"] is True
    assert module.params["host"] == "https://task.invalid:6443"
    assert "etcd_endpoints" not in args._FROM_ENV and "validate_certs" not in args._FROM_ENV


def test_without_variables_nothing_changes(capsys):
    module, failure = validated({"datastore": "kubernetes"}, capsys)
    assert failure is None
    assert module.params["validate_certs"] is True
    assert all(module.params[option] is None for option in args.ENV_SOURCES if option != "validate_certs")
    module, failure = validated({"datastore": "etcdv3"}, capsys)
    assert "etcd_endpoints" in failure["msg"]  # still required, from the task or ETCDCTL_ENDPOINTS


def test_a_variable_that_is_not_a_boolean_is_named_in_the_error(clean_env, capsys):
    clean_env.setenv("K8S_AUTH_VERIFY_SSL", "sometimes")
    _module, failure = validated({"datastore": "kubernetes"}, capsys)
    assert failure["failed"] is True
    assert "validate_certs" in failure["msg"] and "K8S_AUTH_VERIFY_SSL=sometimes" in failure["msg"]


def test_kubernetes_token_from_the_environment_is_hidden(clean_env, capsys):
    clean_env.setenv("K8S_AUTH_HOST", "https://10.0.0.10:6443")
    clean_env.setenv("K8S_AUTH_API_KEY", "token-from-a-credential-type")
    clean_env.setenv("K8S_AUTH_VERIFY_SSL", "no")
    module, failure = validated({"datastore": "kubernetes"}, capsys)
    assert failure is None
    assert (module.params["host"], module.params["validate_certs"]) == ("https://10.0.0.10:6443", False)
    assert "token-from-a-credential-type" in module.no_log_values


def test_open_datastore_names_the_variable_a_bad_value_came_from(clean_env, capsys):
    """etcdctl accepts endpoints without a scheme; the modules need URLs. The error says which variable held it."""
    clean_env.setenv("ETCDCTL_ENDPOINTS", "127.0.0.1:2379")
    clean_env.setenv("K8S_AUTH_KUBECONFIG", "/not/for/etcd")  # another datastore's: not used, not named
    module, result = open_failure({"datastore": "etcdv3"}, capsys)
    assert result["failed"] is True
    assert "etcd_endpoints: '127.0.0.1:2379' is not an http:// or https:// URL" in result["msg"]
    assert result["msg"].endswith("(from the environment: etcd_endpoints=ETCDCTL_ENDPOINTS)")
    assert module.params["kubeconfig"] is None


def test_pem_check_names_the_variable(clean_env, capsys, tmp_path):
    clean_env.setenv("ETCDCTL_ENDPOINTS", "https://127.0.0.1:2379")
    clean_env.setenv("ETCDCTL_CACERT", str(tmp_path / "missing-ca.pem"))
    _module, result = open_failure({"datastore": "etcdv3"}, capsys)
    msg = result["msg"]
    assert msg.startswith("etcd_ca: %s cannot be read" % (tmp_path / "missing-ca.pem"))
    assert "etcd_ca=ETCDCTL_CACERT" in msg
