# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by every module that talks to the Calico datastore.
    # The matching argument_spec is plugins/module_utils/_datastore_args.py: keep the two in step.
    # Environment fallbacks are written in the descriptions: module documentation has no env: key (ansible-test's
    # validate-modules accepts env: for other plugin types only), and kubernetes.core documents its K8S_AUTH_*
    # variables the same way.
    DOCUMENTATION = r"""
options:
  datastore:
    description:
      - Where Calico keeps its configuration, and so how to reach it.
      - V(etcdv3) is Calico v3 on etcd, read and written through etcd's v3 JSON gateway (no etcdctl needed).
      - V(etcdv2) is Calico v2 on etcd's v2 keys API (etcd must run with C(--enable-v2)).
      - V(kubernetes) is the Kubernetes datastore (KDD), through the API server with the C(kubernetes) Python client.
      - V(calicoctl) runs the C(calicoctl) binary on the target (v1 calicoctl for Calico v2, or v3 calicoctl),
        configured by O(calicoctl_config) or the task's C(environment).
    type: str
    required: true
    choices: [etcdv3, etcdv2, kubernetes, calicoctl]
  timeout:
    description:
      - Seconds each request to etcd or the Kubernetes API may take.
      - For etcd this is the whole request, from connecting to the last byte of the reply; a reply larger than 64 MiB
        is refused. A read that fails goes to the next of O(etcd_endpoints); a write goes to another endpoint only when
        it cannot have reached the first (connection refused, TLS handshake failed).
      - A number above 0 and at most 3600.
    type: float
    default: 10
  validate_certs:
    description:
      - Verify the TLS certificate of etcd or the Kubernetes API server.
      - Only set to V(false) in a throwaway lab.
      - If not set, taken from E(K8S_AUTH_VERIFY_SSL) for O(datastore=kubernetes) (as kubernetes.core), and for etcd
        from E(ETCDCTL_INSECURE_SKIP_TLS_VERIFY) (etcdctl's variable, so V(true) there turns verification off);
        without either, verification is on.
    type: bool
    default: true
  etcd_endpoints:
    description:
      - etcd client URLs, tried in order until one answers, for example V(https://10.0.0.10:2379).
      - Required with O(datastore=etcdv3) or O(datastore=etcdv2).
      - If not set, taken from E(ETCDCTL_ENDPOINTS) (comma-separated, as etcdctl reads it).
    type: list
    elements: str
  etcd_ca:
    description:
      - CA certificate file that signed etcd's server certificate (PEM).
      - If not set, taken from E(ETCDCTL_CACERT).
    type: path
  etcd_cert:
    description:
      - Client certificate file for etcd (PEM). Requires O(etcd_key).
      - If not set, taken from E(ETCDCTL_CERT).
    type: path
  etcd_key:
    description:
      - Private key file of O(etcd_cert) (PEM).
      - If not set, taken from E(ETCDCTL_KEY).
    type: path
  etcd_username:
    description:
      - etcd user (etcd authentication). Requires O(etcd_password).
      - If not set, taken from E(ETCDCTL_USER), which may be C(user:password) as for etcdctl's C(--user) (then the part
        before the first colon; all of it when E(ETCDCTL_PASSWORD) is set).
    type: str
  etcd_password:
    description:
      - Password of O(etcd_username).
      - If not set, taken from E(ETCDCTL_PASSWORD), else from the part after the first colon of E(ETCDCTL_USER).
    type: str
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig content as a dictionary.
      - Without O(kubeconfig), O(context) and O(host), the in-cluster service account is used, then C(~/.kube/config).
      - If not set, taken from E(K8S_AUTH_KUBECONFIG) (a path).
    type: raw
  context:
    description:
      - kubeconfig context to use.
      - If not set, taken from E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - Kubernetes API server URL; use with O(api_key) instead of a kubeconfig.
      - If not set, taken from E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the Kubernetes API.
      - If not set, taken from E(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description:
      - CA certificate file of the Kubernetes API server.
      - If not set, taken from E(K8S_AUTH_SSL_CA_CERT).
    type: path
  client_cert:
    description:
      - Client certificate file for the Kubernetes API. Requires O(client_key).
      - If not set, taken from E(K8S_AUTH_CERT_FILE).
    type: path
  client_key:
    description:
      - Private key file of O(client_cert).
      - If not set, taken from E(K8S_AUTH_KEY_FILE).
    type: path
  calicoctl_path:
    description: Path of the calicoctl binary on the target. Default is to look it up on the E(PATH).
    type: path
  calicoctl_config:
    description: calicoctl configuration file (passed as C(--config)).
    type: path
notes:
  - Every connection option the task does not set falls back to an environment variable of the host that runs the
    module (the controller by default), so that an AWX / Automation Platform credential type or ansible-runner's
    C(env/envvars) can inject the connection; an option set in the task always wins. The etcd options read etcdctl's
    own E(ETCDCTL_*) variables, the Kubernetes options kubernetes.core's E(K8S_AUTH_*) variables; a variable of one
    datastore never changes a run on another (a E(K8S_AUTH_*) variable is ignored with O(datastore=etcdv3)), and an
    empty variable counts as unset. Values that came from the environment are named in error messages; credentials
    from it are hidden like the options themselves.
  - Writes are compare-and-swap (etcd v3 C(mod_revision), etcd v2 C(prevIndex), Kubernetes C(resourceVersion),
    calicoctl v3 C(resourceVersion)), so a concurrent change is never overwritten.
  - calicoctl v1 objects carry no version; the object is re-read just before C(calicoctl replace) and the write is
    skipped as a conflict if it changed. This narrows the race but cannot close it; prefer O(datastore=etcdv2).
requirements:
  - etcd 3.4 or later for O(datastore=etcdv3) (its C(/v3/) JSON gateway); C(--enable-v2) for O(datastore=etcdv2).
  - The C(kubernetes) Python library (>= 24.2) on the target for O(datastore=kubernetes).
  - The C(calicoctl) binary on the target for O(datastore=calicoctl).
"""
