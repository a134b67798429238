# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: calico_nodes
short_description: Hosts from the Calico nodes in the datastore, grouped by subnet
version_added: 0.1.0
description:
  - Reads the Calico node objects and the IPAM block affinities from the datastore (Calico v3 on etcd, Calico v2 on
    etcd, or the Kubernetes datastore) and makes one host per Calico node, named as the node.
  - C(ansible_host) is the node's BGP IPv4 address without its prefix (C(spec.bgp.ipv4Address), the v2 key
    C(ip_addr_v4), or the Kubernetes annotation C(projectcalico.org/IPv4Address)).
  - Every node is in the group O(nodes_group) (default C(calico_nodes), the playbooks' default C(ipip_hosts)).
    A node is also in the group of its subnet, the network of its recorded address, named
    O(subnet_group_prefix) plus the CIDR with every character other than letters, digits and C(_) replaced by
    C(_), for example C(subnet_10_39_0_0_24) for C(10.39.0.110/24). A node recorded with a C(/32) gets a group of
    its own (C(subnet_10_0_2_7_32)), which is what makes CrossSubnet tunnel everything (projectcalico/calico#2380).
  - Host variables, besides C(ansible_host) - C(calico_node_name), C(calico_ipv4_address) (with prefix, as stored),
    C(calico_ipv4_subnet), C(calico_ipip_tunnel_address), C(calico_blocks) (the CIDRs of the IPAM blocks affine to
    the node, not those pending deletion) and C(calico_datastore).
  - A node without an IPv4 address is still a host of O(nodes_group), without C(ansible_host) and subnet group; a
    warning says so.
  - 'The connection options are those of the pool modules (M(k8snet.calico.ippool_info)); the file needs
    C(plugin: k8snet.calico.calico_nodes) and a name ending in C(.calico_nodes.yml) or C(.calico_nodes.yaml).'
  - Credentials (O(etcd_password), O(api_key), key files) are used to connect only; they never become host
    variables. Keep them in Ansible Vault (C(!vault) values work in the inventory file).
author:
  - k8snet.calico maintainers (@k8snet)
requirements:
  - netaddr (on the controller)
extends_documentation_fragment:
  - k8snet.calico.datastore
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; marks the file as its source.
    type: str
    required: true
    choices: [k8snet.calico.calico_nodes]
  datastore:
    description:
      - Where Calico keeps its configuration, read from the controller.
      - V(etcdv3) is Calico v3 on etcd (its v3 JSON gateway), V(etcdv2) Calico v2 on etcd's v2 keys API,
        V(kubernetes) the Kubernetes datastore through the API server (the C(kubernetes) Python client).
      - The pool modules' V(calicoctl) is not available here, nor are O(calicoctl_path) and O(calicoctl_config).
    type: str
    required: true
    choices: [etcdv3, etcdv2, kubernetes]
  calicoctl_path:
    description: Not used by this plugin; setting it is an error.
    type: path
  calicoctl_config:
    description: Not used by this plugin; setting it is an error.
    type: path
  nodes_group:
    description: The group every Calico node is in.
    type: str
    default: calico_nodes
  subnet_group_prefix:
    description: Start of the name of each subnet's group.
    type: str
    default: subnet_
notes:
  - Read-only - nothing is written to the datastore.
  - The environment fallbacks of the connection options (E(ETCDCTL_*), E(K8S_AUTH_*)) are read from the environment
    of the controller process that parses the inventory, for example the variables an AWX / Automation Platform
    credential injects into an inventory source; a value in the file always wins.
  - With O(cache=true) the nodes and block affinities read are cached (see the cache options); C(--flush-cache)
    reads the datastore again.
  - O(compose) can override C(ansible_host), for example with C(calico_node_name ~ '.example.com') when the nodes are
    reached by name.
seealso:
  - module: k8snet.calico.ippool_info
"""

EXAMPLES = r"""
# calico.calico_nodes.yml: Calico v3 on etcd over TLS
plugin: k8snet.calico.calico_nodes
datastore: etcdv3
etcd_endpoints: ["https://10.0.0.10:2379"]
etcd_ca: /etc/calico/certs/ca.pem
etcd_cert: /etc/calico/certs/cert.pem
etcd_key: /etc/calico/certs/key.pem
# then: ansible-playbook k8snet.calico.enable_ipip -i calico.calico_nodes.yml -e ipip_hosts=subnet_10_39_0_0_24

---
# kdd.calico_nodes.yml: the Kubernetes datastore, nodes reached by name, grouped by tunnel presence
plugin: k8snet.calico.calico_nodes
datastore: kubernetes
kubeconfig: ~/.kube/admin.conf
compose:
  ansible_host: calico_node_name
keyed_groups:
  - key: "'with_tunnel' if calico_ipip_tunnel_address else 'without_tunnel'"
    prefix: calico
    separator: "_"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/calico-nodes
"""

import os

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import DatastoreError
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_args import DATASTORE_ARG_SPEC, env_note
from ansible_collections.k8snet.calico.plugins.plugin_utils import _inventory_nodes as nodes_lib


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "k8snet.calico.calico_nodes"

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        name = os.path.basename(path)
        return name.endswith((".calico_nodes.yml", ".calico_nodes.yaml")) or name in ("calico_nodes.yml",
                                                                                      "calico_nodes.yaml")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        if not nodes_lib.HAS_NETADDR:
            raise AnsibleError("%s: the netaddr Python library is needed on the controller (pip install netaddr)"
                               % self.NAME)
        options = {name: self.get_option(name) for name in list(DATASTORE_ARG_SPEC)
                   + ["nodes_group", "subnet_group_prefix"] if name in self._options}
        try:
            nodes_lib.check_unknown(config)
            options, from_env = nodes_lib.with_environment(options, set(config), os.environ)
            nodes_lib.check_options(options, from_env)
        except nodes_lib.InventoryOptionError as exc:
            raise AnsibleParserError("%s: %s (in %s)" % (self.NAME, exc, path))

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        layout = None
        if use_cache and cache:
            try:
                layout = self._cache[cache_key]
            except KeyError:
                layout = None
        if layout is None:
            try:
                layout = nodes_lib.read_layout(options)
            except nodes_lib.InventoryOptionError as exc:
                raise AnsibleParserError("%s: %s%s" % (self.NAME, exc, env_note(from_env)))
            except DatastoreError as exc:
                raise AnsibleError("%s: cannot read the Calico nodes: %s%s" % (self.NAME, to_native(exc),
                                                                               env_note(from_env)))
            if use_cache:
                self._cache[cache_key] = layout
        self._populate(layout, options)

    def _populate(self, layout, options):
        hosts, warnings = nodes_lib.node_hosts(layout["nodes"], layout["block_affinities"], options["nodes_group"],
                                               options["subnet_group_prefix"], layout.get("traps"))
        for text in warnings:
            self.display.warning("%s: %s" % (self.NAME, text))
        strict = self.get_option("strict")
        for host in hosts:
            # Everything below comes from the datastore, which any calico-node (or whoever can write a Node) writes:
            # never templated (ansible-core < 2.19 would run a "{{ lookup('pipe', ...) }}" held in a node's address).
            name = wrap_var(host["name"])
            for group in host["groups"]:
                self.inventory.add_group(group)
            self.inventory.add_host(name, group=host["groups"][0])
            for group in host["groups"][1:]:
                self.inventory.add_child(group, name)
            for key, value in host["vars"].items():
                self.inventory.set_variable(name, key, wrap_var(value))
            host_vars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)
