# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""The connection options every module shares (documented in doc_fragments/datastore.py) and the one place that
turns them into a Datastore backend."""

from __future__ import annotations

import copy
import os
from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import Datastore, DatastoreError

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

DATASTORE_REQUIRED_IF = [
    ("datastore", "etcdv3", ["etcd_endpoints"]),
    ("datastore", "etcdv2", ["etcd_endpoints"]),
]

DATASTORE_REQUIRED_TOGETHER = [["etcd_username", "etcd_password"], ["etcd_cert", "etcd_key"], ["client_cert", "client_key"]]


def datastore_arg_spec() -> Dict[str, Any]:
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


def open_datastore(module: AnsibleModule) -> Datastore:
    """Build the backend the options select. Fails the module (never a traceback) when that is impossible."""
    params = module.params
    kind = params["datastore"]
    try:
        check_pem_files(params)
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
        module.fail_json(msg=str(exc), endpoint=exc.endpoint)
    raise AssertionError("unreachable")  # pragma: no cover
