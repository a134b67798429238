# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Calico on the Kubernetes datastore (KDD), with the official `kubernetes` Python client.

Pools and FelixConfiguration are read and written through `projectcalico.org/v3` when the Calico API server serves
it (its writes run Calico's validation and drop legacy fields), otherwise through the
`crd.projectcalico.org/v1` CRDs. Also read: the operator's Installation, BlockAffinity CRDs and
Nodes with Calico's annotations. Updates carry metadata.resourceVersion, so the API server refuses (409)
a write based on a stale read.
"""

from __future__ import annotations

import copy
import json
import traceback
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import (
    AFFINITY,
    FELIX,
    INSTALLATION,
    NODE,
    POOL,
    ConflictError,
    Datastore,
    DatastoreError,
    NewValue,
    Record,
)

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.exceptions import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

    class ApiException(Exception):  # type: ignore[no-redef]
        """Placeholder so `except ApiException` parses when the client is missing."""

CRD = ("crd.projectcalico.org", "v1")
V3 = ("projectcalico.org", "v3")
OPERATOR = ("operator.tigera.io", "v1")


def api_path(group_version: Tuple[str, str], plural: str, name: Optional[str] = None) -> str:
    path = "/apis/%s/%s/%s" % (group_version[0], group_version[1], plural)
    return path + "/" + name if name else path


def parse_api_path(path: str) -> Tuple[str, str, str, str]:
    """`/apis/<group>/<version>/<plural>/<name>` -> (group, version, plural, name)."""
    parts = path.split("/")
    if len(parts) != 6 or parts[0] != "" or parts[1] != "apis" or not all(parts[2:]):
        raise ValueError("%r is not a cluster-scoped custom object path /apis/<group>/<version>/<plural>/<name>" % path)
    return parts[2], parts[3], parts[4], parts[5]


class KubernetesDatastore(Datastore):
    name = "kubernetes"

    def __init__(self, kubeconfig: Any = None, context: Optional[str] = None, host: Optional[str] = None,
                 api_key: Optional[str] = None, validate_certs: bool = True, ca_cert: Optional[str] = None,
                 client_cert: Optional[str] = None, client_key: Optional[str] = None, timeout: float = 10.0):
        if not HAS_KUBERNETES:
            raise ImportError("kubernetes")
        self.timeout = timeout
        configuration = k8s_client.Configuration()
        try:
            if host:
                configuration.host = host
            elif isinstance(kubeconfig, dict):
                k8s_config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=configuration)
            elif kubeconfig or context:
                k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
            else:
                try:
                    k8s_config.load_incluster_config(client_configuration=configuration)
                except k8s_config.ConfigException:
                    k8s_config.load_kube_config(client_configuration=configuration)
        except (k8s_config.ConfigException, OSError, ValueError, TypeError) as exc:
            raise DatastoreError("cannot load the Kubernetes client configuration: %s" % exc, kubeconfig if isinstance(kubeconfig, str) else None,
                                 "Set kubeconfig (and context), or host with api_key, or run inside the cluster")
        if ca_cert:
            configuration.ssl_ca_cert = ca_cert
        if client_cert:
            configuration.cert_file = client_cert
        if client_key:
            configuration.key_file = client_key
        if not validate_certs:
            configuration.verify_ssl = False
        if host or kubeconfig or context:
            configuration.retries = 1  # fail fast on a wrong endpoint; the module reports it
        self.host = configuration.host
        self.api = k8s_client.ApiClient(configuration,
                                        header_name="Authorization" if api_key else None,
                                        header_value="Bearer %s" % api_key if api_key else None)
        self.custom = k8s_client.CustomObjectsApi(self.api)
        self._groups: Optional[Dict[str, List[str]]] = None

    @property
    def endpoint(self) -> str:  # type: ignore[override]
        return self.host

    # -- errors ------------------------------------------------------------------------------------------------
    def _error(self, exc: Exception, what: str) -> DatastoreError:
        if isinstance(exc, ApiException):
            status = getattr(exc, "status", None)
            reason = _api_message(exc)
            if status == 401:
                advice = "The API server did not accept the credentials: check api_key, or the kubeconfig user"
            elif status == 403:
                advice = "RBAC forbids this: grant get/list/update on %s to this identity" % what.split()[-1]
            elif status == 404:
                advice = "Not found: is Calico installed with the Kubernetes datastore (its CRDs present)?"
            else:
                advice = "Check the API server and its logs"
            return DatastoreError("Kubernetes API refused %s: HTTP %s %s" % (what, status, reason), self.host, advice)
        text = str(exc)
        lowered = text.lower()
        if "certificate" in lowered or "ssl" in lowered:
            advice = "TLS failed: check ca_cert (the cluster CA), client_cert/client_key, or validate_certs"
        else:
            advice = "Check that the API server runs there and that host/kubeconfig point at it"
        return DatastoreError("cannot reach the Kubernetes API while %s: %s" % (what, _first_line(text)), self.host, advice)

    def _call(self, what: str, func, *args, **kwargs):
        try:
            return func(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as exc:
            raise self._error(exc, what)
        except Exception as exc:  # pylint: disable=broad-except
            # urllib3 raises many types (MaxRetryError, SSLError, ProtocolError...): all mean "unreachable".
            raise self._error(exc, what)

    # -- discovery ---------------------------------------------------------------------------------------------
    def served_groups(self) -> Dict[str, List[str]]:
        if self._groups is None:
            result = self._call("listing API groups", k8s_client.ApisApi(self.api).get_api_versions)
            data = self.api.sanitize_for_serialization(result)
            self._groups = {g["name"]: [v["version"] for v in g.get("versions") or []] for g in data.get("groups") or []}
        return self._groups

    def _serves(self, group_version: Tuple[str, str]) -> bool:
        return group_version[1] in self.served_groups().get(group_version[0], [])

    def calico_api(self) -> Tuple[str, str]:
        """The Calico API to use: v3 through the Calico API server when it runs, else the CRDs."""
        return V3 if self._serves(V3) else CRD

    # -- records -----------------------------------------------------------------------------------------------
    def _record(self, obj: Dict[str, Any], group_version: Tuple[str, str], plural: str, kind: str) -> Record:
        name = (obj.get("metadata") or {}).get("name")
        return Record(api_path(group_version, plural, name), kind, True,
                      (obj.get("metadata") or {}).get("resourceVersion"), json.dumps(obj, sort_keys=True), obj, self.name)

    def _list(self, group_version: Tuple[str, str], plural: str, kind: str) -> List[Record]:
        data = self._call("listing %s" % api_path(group_version, plural), self.custom.list_cluster_custom_object,
                          group_version[0], group_version[1], plural)
        return [self._record(item, group_version, plural, kind) for item in (data or {}).get("items") or []]

    def read_pools(self) -> List[Record]:
        return self._list(self.calico_api(), "ippools", POOL)

    def read_felix(self) -> Optional[Record]:
        return self.read(api_path(self.calico_api(), "felixconfigurations", "default"), FELIX)

    def read_nodes(self) -> List[Record]:
        result = self._call("listing /api/v1/nodes", k8s_client.CoreV1Api(self.api).list_node)
        data = self.api.sanitize_for_serialization(result)
        records = []
        for item in data.get("items") or []:
            item.setdefault("kind", "Node")
            item.setdefault("apiVersion", "v1")
            name = (item.get("metadata") or {}).get("name")
            records.append(Record("/api/v1/nodes/%s" % name, NODE, True, (item.get("metadata") or {}).get("resourceVersion"),
                                  None, item, self.name))
        return records

    def read_block_affinities(self) -> List[Record]:
        return self._list(CRD, "blockaffinities", AFFINITY) if self._serves(CRD) else []

    def read_installation(self) -> Optional[Record]:
        if not self._serves(OPERATOR):
            return None
        record = self.read(api_path(OPERATOR, "installations", "default"), INSTALLATION)
        return record if record.exists else None

    def read(self, key: str, kind: str) -> Record:
        group, version, plural, name = parse_api_path(key)
        try:
            obj = self.custom.get_cluster_custom_object(group, version, plural, name, _request_timeout=self.timeout)
        except ApiException as exc:
            if getattr(exc, "status", None) == 404:
                return Record(key, kind, exists=False, datastore=self.name)
            raise self._error(exc, "reading %s" % key)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, "reading %s" % key)
        return self._record(obj, (group, version), plural, kind)

    def serialise(self, record: Record, obj: Any) -> str:
        return obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True)

    def compare_and_swap(self, record: Record, new: NewValue) -> Record:
        group, version, plural, name = parse_api_path(record.key)
        if new is None:
            raise DatastoreError("deleting %s is not supported" % record.key, self.host)
        body = json.loads(new) if isinstance(new, str) else copy.deepcopy(new)
        metadata = body.setdefault("metadata", {})
        metadata["name"] = name
        # A restore brings back an old object: strip what the server owns, keep the CAS token of the read.
        for owned in ("uid", "creationTimestamp", "generation", "managedFields"):
            if record.exists and owned in metadata and isinstance(record.obj, dict):
                metadata[owned] = (record.obj.get("metadata") or {}).get(owned, metadata[owned])
        try:
            if record.exists:
                metadata["resourceVersion"] = record.revision
                obj = self.custom.replace_cluster_custom_object(group, version, plural, name, body,
                                                                _request_timeout=self.timeout)
            else:
                metadata.pop("resourceVersion", None)
                obj = self.custom.create_cluster_custom_object(group, version, plural, body, _request_timeout=self.timeout)
        except ApiException as exc:
            if getattr(exc, "status", None) in (409, 404):
                raise ConflictError("%s changed since it was read (%s)" % (record.key, _api_message(exc)), self.host,
                                    "Re-read and decide again")
            raise self._error(exc, "writing %s" % record.key)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(exc, "writing %s" % record.key)
        return self._record(obj, (group, version), plural, record.kind)


def _api_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    try:
        data = json.loads(body) if body else {}
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])
    except (TypeError, ValueError):
        pass
    return str(getattr(exc, "reason", "") or "")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
