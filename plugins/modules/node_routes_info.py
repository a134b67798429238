#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_routes_info
short_description: Read a node's IPv4 routes and tunnel device and tell which Calico routes are healthy
version_added: 0.1.0
description:
  - Reads the node's IPv4 main routing table, its links and addresses with C(ip), from iproute2's JSON output
    (C(ip -j)) when the node's iproute2 has it and from plain text otherwise (for example CentOS 7's iproute2);
    both give the same result.
  - For every route inside one of O(pools), returns a RV(routes[].kind) telling what Calico route it is; the
    incident this collection exists for shows up as C(via_gateway), a pod block routed via the default gateway
    because the remote node is in another subnet.
  - Returns the state of the IPIP tunnel device (O(tunnel_device)), the node's addresses, default gateway and
    uplink MTU.
  - Where the node has Felix's VXLAN device C(vxlan.calico), also reads its ARP table (C(ip -4 neigh show dev
    vxlan.calico)) and FDB (C(bridge fdb show dev vxlan.calico)), which say to which node the kernel sends what is
    routed via each remote VTEP. Without the C(bridge) command, the FDB is null.
  - Offline mode, when O(routes) is given, parses captured outputs instead of running anything, so a pasted
    C(ip route) can be diagnosed and tests can feed real captures.
  - Changes nothing on the node.
author:
  - k8snet.calico maintainers (@k8snet)
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode runs it as usual.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Runs C(ip) from iproute2 on Linux nodes, or parses captures anywhere.
options:
  pools:
    description:
      - Calico IP pool CIDRs (strictly masked IPv4 networks such as V(192.168.0.0/16)).
      - Routes inside a pool are judged; routes outside every pool are reported with RV(routes[].kind) null.
      - When empty, routes that look like Calico's own are judged (protocol C(bird) or C(80), a blackhole, or a
        route on a C(cali*), tunnel or C(vxlan.calico) device).
    type: list
    elements: str
    default: []
  tunnel_device:
    description: Name of the IPIP tunnel device Calico uses.
    type: str
    default: tunl0
  routes:
    description:
      - Offline mode. Captured output of C(ip -4 route show) or C(ip -j -4 route show), text or JSON (detected).
      - When set, nothing is run on the node.
    type: str
  links:
    description:
      - Offline mode. Captured output of C(ip -d link show) (text or JSON). Optional; without it and without
        O(addresses), the tunnel's state is reported as unknown.
    type: str
  addresses:
    description:
      - Offline mode. Captured output of C(ip -d addr show) (text or JSON); it also describes the links, so
        O(links) is then not needed.
    type: str
  neighbours:
    description:
      - Offline mode. Captured output of C(ip -4 neigh show dev vxlan.calico) (text or JSON). Optional.
    type: str
  fdb:
    description:
      - Offline mode. Captured output of C(bridge fdb show dev vxlan.calico) (text or JSON). Optional.
    type: str
notes:
  - Felix-programmed routes (protocol 80, Calico v3.33 and later) count like C(proto bird) ones; the protocol is
    never required.
  - Multipath routes are judged per next hop; a route whose next hops differ in kind is C(mixed).
  - A route capture without any connected route or address (filtered, such as C(ip route | grep 192.168)) knows no
    subnet. A next hop on a NIC that is not a known default gateway is then taken as C(direct), as the kernel only
    accepts a next hop it reaches on that device.
  - A capture iproute2 could not have printed fails, naming the line (text) or the JSON item and the field, for
    example an invalid address, a number beyond 32 bits, a JSON value of the wrong type, a line longer than 65536
    characters, or a prefix length with a leading zero such as V(192.168.1.0/026), which is refused rather than read
    as V(/26) (C(ip route add) would read it as octal).
seealso:
  - name: Calico IP-in-IP
    description: Calico's documentation on overlay networking.
    link: https://docs.tigera.io/calico/latest/networking/configuring/vxlan-ipip
"""

EXAMPLES = r"""
- name: Judge this node's routes to the default Calico pool
  k8snet.calico.node_routes_info:
    pools:
      - 192.168.0.0/16
  register: node_routes

- name: Show routes that go via the default gateway (the cross-subnet breakage)
  ansible.builtin.debug:
    msg: "{{ node_routes.routes | selectattr('kind', 'equalto', 'via_gateway') | map(attribute='dst') | list }}"

- name: Diagnose a pasted `ip route` without touching any node
  k8snet.calico.node_routes_info:
    pools: [192.168.0.0/16]
    routes: |
      default via 10.39.0.1 dev eth0  proto static  metric 100
      192.168.169.192/26 via 10.39.0.1 dev eth0  proto bird
  delegate_to: localhost
  register: pasted
"""

RETURN = r"""
routes:
  description: Every IPv4 route of the main table, normalised.
  returned: always
  type: list
  elements: dict
  contains:
    dst:
      description: Destination CIDR (V(0.0.0.0/0) for the default route, V(/32) added to host routes).
      type: str
      sample: 192.168.169.192/26
    type:
      description: Route type (V(unicast), V(blackhole), V(unreachable), ...).
      type: str
    gateway:
      description: Next hop address, or null.
      type: str
      sample: 10.39.3.75
    dev:
      description: Output device, or null.
      type: str
      sample: tunl0
    protocol:
      description: Routing protocol name (numbers with a standard name are mapped to it), for example V(bird) or V(80).
      type: str
    scope:
      description: Route scope when shown (V(link), V(host)), or null.
      type: str
    prefsrc:
      description: Preferred source address, or null.
      type: str
    metric:
      description: Route metric, or null.
      type: int
    table:
      description: Routing table when not the main table, or null.
      type: str
    flags:
      description: Route flags, sorted (V(onlink), V(linkdown), ...).
      type: list
      elements: str
    metrics:
      description: Route metrics such as V(mtu).
      type: dict
    nexthops:
      description: Next hops of a multipath route (empty otherwise), each with gateway, dev, weight, flags, kind.
      type: list
      elements: dict
    pool:
      description: The pool the route falls in, or null.
      type: str
    kind:
      description:
        - What Calico route this is; null for routes that are not judged.
        - V(own_block), V(workload), V(tunnel), V(vxlan), V(direct), V(via_gateway), V(unreachable),
          V(other) or V(mixed).
      type: str
      sample: via_gateway
summary:
  description: Number of judged routes per kind.
  returned: always
  type: dict
  sample: {own_block: 1, tunnel: 1, via_gateway: 0, direct: 0}
tunnel:
  description: The tunnel device's state; RV(tunnel.exists) is null when only routes were given offline.
  returned: always
  type: dict
  contains:
    name: {description: Device name., type: str, sample: tunl0}
    exists: {description: Whether the device exists., type: bool}
    kind: {description: Device kind (V(ipip) for IPIP)., type: str, sample: ipip}
    up: {description: Whether the device is administratively up., type: bool}
    operstate: {description: Operational state as the kernel reports it., type: str}
    mtu: {description: Device MTU., type: int, sample: 1440}
    flags: {description: Link flags., type: list, elements: str}
    addresses: {description: IPv4 addresses as CIDRs., type: list, elements: str, sample: [192.168.70.57/32]}
addresses:
  description: The node's IPv4 addresses (tunnel, workload and loopback devices excluded).
  returned: always
  type: list
  elements: dict
  sample: [{dev: eth0, address: 10.39.0.110, prefixlen: 24, cidr: 10.39.0.110/24, network: 10.39.0.0/24}]
connected_networks:
  description: Networks the node reaches directly (from its addresses and connected routes).
  returned: always
  type: list
  elements: str
default_gateway:
  description: The default route's (first) gateway, or null.
  returned: always
  type: str
  sample: 10.39.0.1
default_gateways:
  description: Every gateway of the default route(s), lowest metric first.
  returned: always
  type: list
  elements: str
vxlan:
  description:
    - Felix's VXLAN device (C(vxlan.calico)) as the node has it, with the keys of RV(tunnel); its C(exists) is
      null when only routes were given offline.
    - C(vni) and C(port) are the device's VXLAN network identifier and UDP port (null when unknown).
    - C(neighbours) maps each VTEP address to its MAC (the device's ARP table) and C(fdb) each MAC to the node
      addresses its packets are sent to (the device's forwarding database); each null when not read.
  returned: always
  type: dict
  sample: {name: vxlan.calico, exists: true, kind: vxlan, up: true, mtu: 1450, addresses: [192.168.70.1/32],
           vni: 4096, port: 4789, neighbours: {192.168.80.0: "66:c5:8e:27:41:03"},
           fdb: {"66:c5:8e:27:41:03": [10.39.0.111]}}
uplink:
  description: The default route's device, or null.
  returned: always
  type: str
  sample: eth0
uplink_mtu:
  description: The uplink device's MTU, or null when unknown.
  returned: always
  type: int
  sample: 1500
workloads:
  description:
    - The pods' host-side interfaces (C(cali*), Felix's default interface prefix) with their MTU, from the same
      read of the links; null when no link data was read.
    - P(k8snet.calico.ipip_verdict#filter) warns (C(workload_mtu_above_tunnel)) when one is above the tunnel's MTU.
  returned: always
  type: list
  elements: dict
  sample: [{name: cali1a2b3c4d5e6, mtu: 1500}]
platform:
  description:
    - The node's platform from its DMI strings (C(/sys/class/dmi/id)), read live in the same call; null for pasted
      captures. C(cloud) is V(azure) on Azure (told by the chassis asset tag Azure sets, as cloud-init does), else
      null; Azure does not carry IP-in-IP, so the C(ipip) role refuses IPIP there and says to use VXLAN.
  returned: always
  type: dict
  sample: {sys_vendor: Microsoft Corporation, product_name: Virtual Machine,
           chassis_asset_tag: 7783-7084-3265-9085-8269-3286-77, cloud: azure}
source:
  description:
    - Where each table came from and in which form (V(json) or V(text)); V(none) when not given.
    - C(read_at) is when the node's tables were read (UTC, ISO 8601, the node's clock), null for pasted captures.
  returned: always
  type: dict
  sample: {mode: live, routes: json, links: json, read_at: "2026-11-29T00:41:12.345+00:00"}
"""

import traceback
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import (
    IprouteParseError,
    parse_links,
    parse_routes,
)
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_vxlan import (
    parse_vxlan_fdb,
    parse_vxlan_neighbours,
)
from ansible_collections.k8snet.calico.plugins.module_utils._node_commands import (
    read_dmi,
    read_node_tables,
    read_vxlan_tables,
)
from ansible_collections.k8snet.calico.plugins.module_utils._platform import describe_platform
from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import (
    VXLAN_DEVICE,
    PoolError,
    describe_node,
    parse_pools,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pools=dict(type="list", elements="str", default=[]),
            tunnel_device=dict(type="str", default="tunl0"),
            routes=dict(type="str"),
            links=dict(type="str"),
            addresses=dict(type="str"),
            neighbours=dict(type="str"),
            fdb=dict(type="str"),
        ),
        required_by=dict(links=("routes",), addresses=("routes",), neighbours=("routes",), fdb=("routes",)),
        supports_check_mode=True,
    )
    params = module.params
    read_at = platform = None
    try:
        pools = parse_pools(params["pools"])
        if params["routes"] is not None:
            if not params["routes"].strip():
                raise IprouteParseError("routes: the capture is empty; give the output of `ip -4 route show` "
                                        "(text) or `ip -j -4 route show` (JSON)")
            captures = dict(mode="offline", routes=params["routes"],
                            links=params["addresses"] if params["addresses"] is not None else params["links"],
                            neighbours=params["neighbours"], fdb=params["fdb"])
        else:
            captures = read_node_tables(module)
            read_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            platform = describe_platform(read_dmi())
        routes, routes_format = parse_routes(captures["routes"])
        links, links_format = (None, "none")
        if captures["links"] is not None:
            links, links_format = parse_links(captures["links"], what="addresses" if params["addresses"] else "links")
        if captures["mode"] == "live" and any(link["name"] == VXLAN_DEVICE for link in links or []):
            captures.update(read_vxlan_tables(module, VXLAN_DEVICE))
        neighbours = fdb = None
        if captures.get("neighbours") is not None:
            neighbours = parse_vxlan_neighbours(captures["neighbours"], VXLAN_DEVICE)
        if captures.get("fdb") is not None:
            fdb = parse_vxlan_fdb(captures["fdb"], VXLAN_DEVICE)
    except (IprouteParseError, PoolError) as exc:
        module.fail_json(msg=str(exc))
    try:
        node = describe_node(routes, links, pools, params["tunnel_device"], neighbours, fdb)
    except Exception as exc:  # pylint: disable=broad-except  # a bug of ours: a message, not a traceback
        module.fail_json(msg="node_routes_info could not judge the parsed tables (%s: %s); this is a bug, please "
                             "report it with the captures" % (type(exc).__name__, exc), exception=traceback.format_exc())

    module.exit_json(changed=False,
                     source=dict(mode=captures["mode"], routes=routes_format, links=links_format, read_at=read_at),
                     platform=platform, **node)


if __name__ == "__main__":
    main()
