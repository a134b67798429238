# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""The connection options every module shares (documented in doc_fragments/datastore.py), their environment
fallbacks, and the one place that turns them into a Datastore backend."""

from __future__ import annotations

import copy
import os
import ssl
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import Datastore, DatastoreError, check_timeout

# Environment fallbacks, for runs where the connection is injected into the environment (an AWX / Automation
# Platform credential type, ansible-runner's env/envvars, a CI job) rather than given in variables: kubernetes.core's
# K8S_AUTH_* names for the Kubernetes options and etcdctl's own ETCDCTL_* names (etcdctl reads --foo-bar from
# ETCDCTL_FOO_BAR) for the etcd options. An option the task sets always wins; an empty variable counts as unset.
# option -> variables, in the order they are read.
ENV_SOURCES: Dict[str, Tuple[str, ...]] = {
    "etcd_endpoints": ("ETCDCTL_ENDPOINTS",),
    "etcd_ca": ("ETCDCTL_CACERT",),
    "etcd_cert": ("ETCDCTL_CERT",),
    "etcd_key": ("ETCDCTL_KEY",),
    "etcd_username": ("ETCDCTL_USER",),
    "etcd_password": ("ETCDCTL_PASSWORD", "ETCDCTL_USER"),
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "ca_cert": ("K8S_AUTH_SSL_CA_CERT",),
    "client_cert": ("K8S_AUTH_CERT_FILE",),
    "client_key": ("K8S_AUTH_KEY_FILE",),
    "validate_certs": ("K8S_AUTH_VERIFY_SSL", "ETCDCTL_INSECURE_SKIP_TLS_VERIFY"),
}
# Which datastores an environment variable speaks for: a K8S_AUTH_* variable left in the environment never changes
# an etcd run, nor an ETCDCTL_* variable a Kubernetes one (each is dropped in open_datastore for the other kind).
ETCD_KINDS = ("etcdv3", "etcdv2")
ENV_KINDS = {"ETCDCTL_": ETCD_KINDS, "K8S_AUTH_": ("kubernetes",)}


def env_value(option: str, environ: Mapping[str, str], kind: Optional[str] = None) -> Tuple[Any, Optional[str]]:
    """The value `option` takes from `environ`, and the variable it came from (None: nothing set). Pure.

    ETCDCTL_USER may be user:password, as etcdctl's --user: split on the first colon unless ETCDCTL_PASSWORD is set
    (then, as in etcdctl, the whole of ETCDCTL_USER is the user name). validate_certs comes from K8S_AUTH_VERIFY_SSL
    for the Kubernetes datastore and from the inverse of ETCDCTL_INSECURE_SKIP_TLS_VERIFY for etcd; with no `kind`
    (while the arguments are validated, before the datastore is known) verification is off only when a set variable
    turns it off. A value that is not a boolean is returned as NAME=value, so that the type check's error names it."""
    def get(name):
        value = environ.get(name)
        return value if value else None

    if option == "etcd_username":
        user = get("ETCDCTL_USER")
        if user is None:
            return None, None
        return (user if get("ETCDCTL_PASSWORD") else user.split(":", 1)[0]), "ETCDCTL_USER"
    if option == "etcd_password":
        if get("ETCDCTL_PASSWORD"):
            return get("ETCDCTL_PASSWORD"), "ETCDCTL_PASSWORD"
        user = get("ETCDCTL_USER") or ""
        return (user.split(":", 1)[1], "ETCDCTL_USER") if ":" in user else (None, None)
    if option == "validate_certs":
        verdicts = []
        for name, inverse in (("K8S_AUTH_VERIFY_SSL", False), ("ETCDCTL_INSECURE_SKIP_TLS_VERIFY", True)):
            if get(name) is None or (kind is not None and kind not in _kinds_of(name)):
                continue
            try:
                verdicts.append((boolean(get(name), strict=True) != inverse, name))
            except TypeError:
                return "%s=%s" % (name, get(name)), name
        if not verdicts:
            return None, None
        off = [name for verify, name in verdicts if not verify]
        return (False, off[0]) if off else (True, verdicts[0][1])
    for name in ENV_SOURCES[option]:
        if get(name) is not None:
            return get(name), name
    return None, None


def _kinds_of(variable: str) -> Tuple[str, ...]:
    return next(kinds for prefix, kinds in ENV_KINDS.items() if variable.startswith(prefix))


# option -> the variable its value came from, in this module run (filled by the fallbacks while AnsibleModule
# validates the arguments; only options the task did not set reach a fallback).
_FROM_ENV: Dict[str, str] = {}


def _env_fallback(option: str) -> Any:
    value, name = env_value(option, os.environ)
    if name is None:
        raise AnsibleFallbackNotFound
    _FROM_ENV[option] = name
    return value


def scope_env(params: Dict[str, Any], from_env: Mapping[str, str], kind: str,
              environ: Mapping[str, str]) -> Dict[str, Any]:
    """Drop the values that came from another datastore's variables and decide validate_certs from this datastore's
    own variable (verification on when it has none). Returns the changed params and `from_env` for what is kept."""
    kept = {}
    for option, name in from_env.items():
        if option == "validate_certs":
            value, source = env_value(option, environ, kind)
            params[option] = True if source is None else value
            if source is not None:
                kept[option] = source
        elif kind in _kinds_of(name):
            kept[option] = name
        else:
            params[option] = None
    return kept


def env_note(from_env: Mapping[str, str]) -> str:
    """' (from the environment: option=VARIABLE, ...)' for error messages, or ''."""
    if not from_env:
        return ""
    return " (from the environment: %s)" % ", ".join("%s=%s" % item for item in sorted(from_env.items()))


DATASTORE_ARG_SPEC: Dict[str, Any] = {
    "datastore": {"type": "str", "required": True, "choices": ["etcdv3", "etcdv2", "kubernetes", "calicoctl"]},
    "timeout": {"type": "float", "default": 10.0},
    "validate_certs": {"type": "bool", "default": True},
    # etcd (etcdv3, etcdv2)
    "etcd_endpoints": {"type": "list", "elements": "str"},
    "etcd_ca": {"type": "path"},
    "etcd_cert": {"type": "path"},
    "etcd_key": {"type": "path", "no_log": True},
    "etcd_username": {"type": "str"},
    "etcd_password": {"type": "str", "no_log": True},
    # kubernetes (names as in kubernetes.core)
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "ca_cert": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": True},
    # calicoctl
    "calicoctl_path": {"type": "path"},
    "calicoctl_config": {"type": "path"},
}

# The options only one kind of datastore reads; given with another kind they do nothing, which deserves a warning.
OPTIONS_OF_KIND: Dict[str, Tuple[str, ...]] = {
    "etcd": ("etcd_endpoints", "etcd_ca", "etcd_cert", "etcd_key", "etcd_username", "etcd_password"),
    "kubernetes": ("kubeconfig", "context", "host", "api_key", "ca_cert", "client_cert", "client_key"),
    "calicoctl": ("calicoctl_path", "calicoctl_config"),
}


def unused_options(params: Mapping[str, Any], kind: str) -> List[str]:
    """The options set that datastore `kind` does not read (their names only: some are secrets). Pure."""
    own = "etcd" if kind in ETCD_KINDS else kind
    return [option for group, options in OPTIONS_OF_KIND.items() if group != own
            for option in options if params.get(option) not in (None, [], "")]


DATASTORE_REQUIRED_IF = [
    ("datastore", "etcdv3", ["etcd_endpoints"]),
    ("datastore", "etcdv2", ["etcd_endpoints"]),
]

DATASTORE_REQUIRED_TOGETHER = [["etcd_username", "etcd_password"], ["etcd_cert", "etcd_key"], ["client_cert", "client_key"]]


for _option in ENV_SOURCES:
    DATASTORE_ARG_SPEC[_option]["fallback"] = (_env_fallback, [_option])


def datastore_arg_spec() -> Dict[str, Any]:
    _FROM_ENV.clear()  # a new module run: nothing came from the environment yet
    return copy.deepcopy(DATASTORE_ARG_SPEC)


# Key material is checked before any connection, so a wrong path is reported as such and not as a network error.
PEM_FILE_OPTIONS = ("etcd_ca", "etcd_cert", "etcd_key", "ca_cert", "client_cert", "client_key")


def check_pem_files(params: Dict[str, Any]) -> None:
    """Fail with the option's name when a certificate or key option does not name a readable PEM file."""
    for option in PEM_FILE_OPTIONS:
        path = params.get(option)
        if not path:
            continue
        try:
            with open(path, "rb") as handle:
                head = handle.read(65536)
        except OSError as exc:
            raise DatastoreError("%s: %s cannot be read (%s)" % (option, path, exc.strerror), None,
                                 "Give the path of a PEM file on the host that runs the module")
        if b"-----BEGIN " not in head:
            raise DatastoreError("%s: %s is not a PEM file (no -----BEGIN line)" % (option, path), None,
                                 "Give a PEM certificate or key, as etcd and the Kubernetes API use")
    for cert_option, key_option in PEM_PAIRS:
        if params.get(cert_option) and params.get(key_option):
            _check_pair(cert_option, params[cert_option], key_option, params[key_option])


# A client certificate and its key, checked as a pair so that a key of another certificate is named as such.
PEM_PAIRS = (("etcd_cert", "etcd_key"), ("client_cert", "client_key"))


def _check_pair(cert_option: str, cert: str, key_option: str, key: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        # No password: an encrypted key fails here instead of prompting on a terminal (open_url cannot use one).
        context.load_cert_chain(cert, key, password=lambda: b"")
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc) or getattr(exc, "reason", "") == "KEY_VALUES_MISMATCH":
            raise DatastoreError("%s: %s does not match %s %s (it is the key of another certificate)"
                                 % (key_option, key, cert_option, cert), None,
                                 "Give the private key that was issued with that certificate")
        reason = getattr(exc, "reason", None) or exc
        raise DatastoreError("%s and %s: %s with %s cannot be used (%s)" % (cert_option, key_option, cert, key, reason),
                             None, "Give a PEM certificate and its unencrypted PEM private key")


def open_datastore(module: AnsibleModule) -> Datastore:
    """Build the backend the options select. Fails the module (never a traceback) when that is impossible."""
    params = module.params
    kind = params["datastore"]
    from_env = scope_env(params, dict(_FROM_ENV), kind, os.environ)
    unused = unused_options(params, kind)
    if unused:
        module.warn("datastore %s does not use %s; %s ignored" % (kind, ", ".join(unused),
                                                                  "it is" if len(unused) == 1 else "they are"))
    try:
        check_pem_files(params)
        check_timeout(params["timeout"])
        if kind in ("etcdv3", "etcdv2"):
            from ansible_collections.k8snet.calico.plugins.module_utils._etcd_http import EtcdHTTP

            http = EtcdHTTP(params["etcd_endpoints"] or [], params["etcd_ca"], params["etcd_cert"], params["etcd_key"],
                            params["validate_certs"], params["timeout"])
            if kind == "etcdv3":
                from ansible_collections.k8snet.calico.plugins.module_utils._datastore_etcdv3 import EtcdV3Datastore

                return EtcdV3Datastore(http, params["etcd_username"], params["etcd_password"])
            from ansible_collections.k8snet.calico.plugins.module_utils._datastore_etcdv2 import EtcdV2Datastore

            return EtcdV2Datastore(http, params["etcd_username"], params["etcd_password"])
        if kind == "kubernetes":
            from ansible_collections.k8snet.calico.plugins.module_utils import _datastore_kubernetes as kube

            if not kube.HAS_KUBERNETES:
                module.fail_json(msg=missing_required_lib("kubernetes"), exception=kube.KUBERNETES_IMPORT_ERROR)
            return kube.KubernetesDatastore(params["kubeconfig"], params["context"], params["host"], params["api_key"],
                                            params["validate_certs"], params["ca_cert"], params["client_cert"],
                                            params["client_key"], params["timeout"])
        from ansible_collections.k8snet.calico.plugins.module_utils._datastore_calicoctl import CalicoctlDatastore

        binary = params["calicoctl_path"] or module.get_bin_path("calicoctl")
        if params["calicoctl_path"] and not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            module.fail_json(msg="calicoctl_path: %s is not an executable file; give the path of the calicoctl "
                             "binary on the target host" % binary)
        if not binary:
            module.fail_json(msg="calicoctl was not found on the PATH of the target host; install it there or set "
                             "calicoctl_path")

        def run(argv, data=None):
            return module.run_command(argv, data=data, check_rc=False, environ_update={"LANG": "C", "LC_ALL": "C"})

        return CalicoctlDatastore(run, binary, params["calicoctl_config"])
    except DatastoreError as exc:
        module.fail_json(msg=str(exc) + env_note(from_env), endpoint=exc.endpoint)
    raise AssertionError("unreachable")  # pragma: no cover
