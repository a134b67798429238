# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_verdict
short_description: Judge every node's routes to every remote Calico pod block
version_added: 0.1.0
description:
  - Takes what M(k8snet.calico.node_routes_info) returned on each host and the cluster's Calico data (nodes with
    their BGP address and prefix, block affinities, pools) and says, per host and per remote block, whether the
    route is right for the mode of the block's own pool, and what is wrong when it is not.
  - A remote block owned by node O must be routed C(via O dev tunl0 onlink) with IPIP C(Always); with
    C(CrossSubnet), directly via O when O is inside the local node's recorded subnet and through the tunnel
    otherwise. The local node's recorded prefix decides, as in Calico, so a C(/32) node address tunnels everything.
  - A block of a pool using VXLAN (C(vxlan_mode) V(Always), or V(CrossSubnet) across subnets) must be routed
    C(dev vxlan.calico onlink), the routes Felix programs; the next hop is checked against O's VXLAN tunnel address
    only when O(nodes) gives it (C(vxlan_tunnel_address)). A pool with neither IPIP nor VXLAN needs a direct route
    within the subnet; across subnets nothing unencapsulated can work.
  - Each block entry names its pool (C(pool)). O(scope) limits which pools' blocks decide a node's C(ok); blocks of
    other pools are still judged by their own pool's mode and listed with C(in_scope=false), and their bad ones are
    counted in C(blocks_bad_out_of_scope), a warning rather than a failure. The role verifies a change with
    O(pools) as they are after the change and O(scope) the pools it changed; its diagnosis judges every pool.
  - Block owners come from the affinities and, for blocks missing there, from each host's own blackhole route.
    Hosts are matched to Calico nodes by address.
  - Causes are V(ok), V(via_gateway), V(missing), V(wrong_next_hop), V(wrong_device), V(not_onlink), V(linkdown),
    V(stale) (a route to a block no node owns) and V(vtep_unresolved) (a VXLAN next hop without the ARP or FDB
    entry that sends its packets to a node).
  - A VXLAN route's next hop is followed through the node's C(vxlan.calico) ARP and FDB tables, where
    M(k8snet.calico.node_routes_info) read them, to the address of the block's owner. Without them, a next hop
    the datastore does not give (no C(vxlan_tunnel_address) yet) must be from one of the owner's blocks.
  - Tunnel device problems (missing, not ipip, down, no /32 from the node's own block, MTU above uplink - 20; for
    C(vxlan.calico) also a VNI or UDP port other than Felix's) are listed per host in RV(_value.nodes[].problems).
  - Runs on the controller; linear in the number of routes.
options:
  _input:
    description: Map of inventory host name to its M(k8snet.calico.node_routes_info) result.
    type: dict
    required: true
  nodes:
    description: Calico nodes, as M(k8snet.calico.ippool_info) returns them (C(name), C(ipv4_address) with prefix).
    type: list
    elements: dict
    default: []
  affinities:
    description: Block affinities, as M(k8snet.calico.ippool_info) returns them (C(node), C(cidr)).
    type: list
    elements: dict
    default: []
  pools:
    description:
      - Pools with C(cidr), C(ipip_mode) and C(vxlan_mode) (each V(Always), V(CrossSubnet) or V(Never); missing
        means V(Never)) and C(name), as M(k8snet.calico.ippool_info) returns them. Each block is judged by the pool
        that contains it; a block in no pool as one without encapsulation.
    type: list
    elements: dict
    default: []
  scope:
    description:
      - Names or CIDRs of the pools whose blocks decide each node's C(ok), C(converged), C(blocks_ok) and
        C(blocks_bad). Every entry must name one of O(pools); an empty list is an error, not a pass.
      - Unset means every pool.
    type: list
    elements: str
  planned_ipip_mode:
    description:
      - The IPIP mode about to be set on the pools in O(scope) (a diagnosis before the change). A node that will then
        tunnel to a peer (V(Always) - any peer; V(CrossSubnet) - a peer in another subnet) is warned
        (C(workload_mtu_above_tunnel)) of its pod interfaces above the tunnel to come; it changes no judgement.
      - V(Never) plans no IPIP (as unset).
    type: str
    choices: [Always, CrossSubnet, Never]
  planned_vxlan_mode:
    description:
      - As O(planned_ipip_mode), for a switch to VXLAN (its tunnel - the uplink MTU less 50). Only one of the two
        may be other than V(Never).
    type: str
    choices: [Always, CrossSubnet, Never]
  felix:
    description:
      - The Felix configuration, as M(k8snet.calico.ippool_info) returns it (RV(k8snet.calico.ippool_info#module:felix)).
        Its C(vxlan_vni) and C(vxlan_port) are the VNI and UDP port C(vxlan.calico) must have (unset or null - Felix's
        defaults 4096 and 4789); a device with another is a problem.
    type: dict
  mode:
    description:
      - IPIP mode to judge every block against instead of its own pool's C(ipip_mode) and C(vxlan_mode) (as if
        every pool had that IPIP mode and no VXLAN). For callers that want one mode; the role does not use it.
    type: str
    choices: [Always, CrossSubnet, Never]
  tunnel_device:
    description: Name of the IPIP tunnel device.
    type: str
    default: tunl0
requirements:
  - netaddr (on the controller)
"""

EXAMPLES = r"""
- name: Judge every node of the play
  ansible.builtin.set_fact:
    ipip_result: >-
      {{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'node_routes')))
         | k8snet.calico.ipip_verdict(nodes=pools_info.nodes, affinities=pools_info.affinities,
                                      pools=pools_info.pools) }}
  run_once: true

- name: Judge one host after changing only the pool ipip-pool (the other pools' blocks are warnings)
  ansible.builtin.set_fact:
    ipip_check: >-
      {{ {inventory_hostname: node_routes}
         | k8snet.calico.ipip_verdict(nodes=pools_info.nodes, affinities=pools_info.affinities,
                                      pools=pools_after, scope=['ipip-pool']) }}
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    ok: {description: True when every host is fine and RV(_value.problems) is empty., type: bool}
    problems:
      description:
        - Conflicts in the cluster data, each also a problem of the nodes it names (which are then not ok) - a
          block claimed by two nodes (C(block X is claimed by nodes A and B)), two nodes with the same address.
      type: list
      elements: str
    hosts_ok: {description: Number of hosts without problems., type: int}
    hosts_bad: {description: Number of hosts with at least one problem., type: int}
    causes: {description: Number of remote block routes in scope per cause., type: dict}
    blocks_bad_out_of_scope: {description: Number of bad routes to blocks of pools outside O(scope)., type: int}
    nodes:
      description: One entry per host, sorted by host name.
      type: list
      elements: dict
      contains:
        host: {description: Inventory host name., type: str}
        node: {description: Calico node name., type: str}
        address: {description: The node's BGP address., type: str}
        subnet: {description: The node's subnet as Calico records it., type: str}
        ok: {description: Whether every block and the tunnel are fine., type: bool}
        problems:
          description: Conflicts in the cluster data that name this node (see RV(_value.problems)), then tunnel device
            problems.
          type: list
          elements: str
        tunnel: {description: The tunnel device's state from node_routes_info., type: dict}
        blocks:
          description:
            - Per remote block, C(block), C(owner), C(owner_ip), C(pool) (the name of the pool that holds the block,
              or its CIDR), C(mode) (the pool's IPIP mode), C(vxlan_mode), C(in_scope), C(cause), C(detail),
              C(converged).
            - A route to a block no node owns is an entry with C(cause=stale) and C(owner=null).
          type: list
          elements: dict
        blocks_ok: {description: Number of remote blocks in scope routed right., type: int}
        blocks_bad: {description: Number of remote blocks in scope routed wrong., type: int}
        blocks_bad_out_of_scope:
          description: Number of remote blocks of pools outside O(scope) routed wrong (a warning, not a failure).
          type: int
        problems_out_of_scope:
          description: Tunnel device problems that matter only to pools outside O(scope).
          type: list
          elements: str
        first_bad:
          description: The first wrong block entry in scope; null when there is none.
          type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._verdict import VerdictInputError, verdict


def ipip_verdict(hosts, nodes=None, affinities=None, pools=None, mode=None, tunnel_device="tunl0", scope=None,
                 planned_ipip_mode=None, planned_vxlan_mode=None, felix=None):
    if not isinstance(hosts, dict):
        raise AnsibleFilterError("ipip_verdict: input must be a dict of host -> node_routes_info result, got %s"
                                 % type(hosts).__name__)
    if felix is not None and not isinstance(felix, dict):
        raise AnsibleFilterError("ipip_verdict: felix: %r is not a mapping (ippool_info's felix)" % (felix,))
    felix = felix or {}
    try:
        return verdict(hosts, calico_nodes=nodes, affinities=affinities, pools=pools, mode=mode,
                       tunnel_device=tunnel_device, scope=scope, planned_ipip_mode=planned_ipip_mode,
                       planned_vxlan_mode=planned_vxlan_mode,
                       vxlan_vni=felix.get("vxlan_vni"), vxlan_port=felix.get("vxlan_port"),
                       # malformed nodes are left to verdict()'s input check, which names the field
                       tunnel_addresses=dict((n["name"], n["ipip_tunnel_address"]) for n in nodes or []
                                             if isinstance(n, dict) and n.get("name")
                                             and n.get("ipip_tunnel_address")))
    except VerdictInputError as exc:
        raise AnsibleFilterError("ipip_verdict: %s" % exc)


class FilterModule:
    def filters(self):
        return {"ipip_verdict": ipip_verdict}
