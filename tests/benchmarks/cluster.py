"""Synthetic Calico clusters for the benchmarks: N nodes on several subnets, one /26 block each.

Every node's main routing table is produced as ``ip -j -4 route show`` JSON and as plain ``ip -4 route show`` text,
and its links and addresses as ``ip -j -d addr show`` JSON and ``ip -d addr show`` text, in the shapes iproute2
prints (compare tests/unit/fixtures/iproute). A node's table is in one of two states:

- ``healthy``: IPIP Always, every remote block ``via <owner> dev tunl0 proto bird onlink``, tunl0 up with a /32
  from the node's own block;
- ``broken``: no IPIP (the incident): a remote block in the node's own subnet goes ``via <owner> dev eth0``, one in
  another subnet ``via <default gateway> dev eth0``; there is no tunl0.

A cluster is ``healthy`` (every node healthy), ``broken`` (every node broken) or ``mixed`` (odd-numbered nodes
broken). Nothing here touches the network: these are strings.

Layout: subnet ``s`` is 172.(16+s).0.0/16 with its gateway at .0.1; node ``k`` sits in subnet ``k % subnets``; the
pool is 10.0.0.0/8 and node ``k`` owns block ``10.0.0.0 + 64*k``/26 (so up to 262,144 nodes).
"""

from __future__ import annotations

import ipaddress
import json

POOL = "10.0.0.0/8"
STATES = ("healthy", "broken", "mixed")
_POOL_BASE = int(ipaddress.IPv4Address("10.0.0.0"))
_UPLINK_MTU = 1500
_TUNNEL_MTU = 1480


def _ip(value):
    return str(ipaddress.IPv4Address(value))


class Cluster:
    """``n`` nodes on ``subnets`` subnets; ``state`` is one of :data:`STATES`."""

    def __init__(self, n, subnets=4, state="healthy", workloads=2):
        if state not in STATES:
            raise ValueError("state must be one of %s" % ", ".join(STATES))
        if not 1 <= subnets <= 16 or n > 262144 or n > subnets * 65000:
            raise ValueError("too many nodes for the layout")
        self.n, self.subnets, self.state, self.workloads = n, subnets, state, workloads
        self.names = ["node%05d" % k for k in range(n)]
        self.subnet_of = [k % subnets for k in range(n)]
        self.ips = []
        for k in range(n):
            s = k % subnets
            host = 10 + k // subnets
            self.ips.append("172.%d.%d.%d" % (16 + s, host // 256, host % 256))
        self.blocks = ["%s/26" % _ip(_POOL_BASE + 64 * k) for k in range(n)]

    # ---------------------------------------------------------------------------------------------- per node
    def node_state(self, k):
        if self.state == "mixed":
            return "broken" if k % 2 else "healthy"
        return self.state

    def gateway(self, k):
        return "172.%d.0.1" % (16 + self.subnet_of[k])

    def subnet(self, k):
        return "172.%d.0.0/16" % (16 + self.subnet_of[k])

    def tunnel_ip(self, k):
        return _ip(_POOL_BASE + 64 * k + 1)

    def _workload_ip(self, k, w):
        return _ip(_POOL_BASE + 64 * k + 2 + w)

    def _remote_routes(self, k):
        """``(block, gateway, dev, onlink)`` for every other node's block, as node k has it."""
        healthy = self.node_state(k) == "healthy"
        gateway, my_subnet, ips, blocks, subnet_of = self.gateway(k), self.subnet_of[k], self.ips, self.blocks, \
            self.subnet_of
        for j in range(self.n):
            if j == k:
                continue
            if healthy:
                yield blocks[j], ips[j], "tunl0", True
            elif subnet_of[j] == my_subnet:
                yield blocks[j], ips[j], "eth0", False
            else:
                yield blocks[j], gateway, "eth0", False

    def routes_json(self, k):
        """``ip -j -4 route show`` of node k (compact, as iproute2 prints without -p)."""
        table = [
            {"dst": "default", "gateway": self.gateway(k), "dev": "eth0", "protocol": "static", "metric": 100,
             "flags": []},
            {"dst": self.subnet(k), "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": self.ips[k],
             "flags": []},
            {"type": "blackhole", "dst": self.blocks[k], "protocol": "bird", "flags": []},
        ]
        for w in range(self.workloads):
            table.append({"dst": self._workload_ip(k, w), "dev": "cali%011x" % (k * 16 + w), "scope": "link",
                          "flags": []})
        for block, gateway, dev, onlink in self._remote_routes(k):
            table.append({"dst": block, "gateway": gateway, "dev": dev, "protocol": "bird",
                          "flags": ["onlink"] if onlink else []})
        return json.dumps(table, separators=(",", ":"))

    def routes_text(self, k):
        """``ip -4 route show`` of node k."""
        lines = [
            "default via %s dev eth0 proto static metric 100 " % self.gateway(k),
            "%s dev eth0 proto kernel scope link src %s " % (self.subnet(k), self.ips[k]),
            "blackhole %s proto bird " % self.blocks[k],
        ]
        for w in range(self.workloads):
            lines.append("%s dev cali%011x scope link " % (self._workload_ip(k, w), k * 16 + w))
        for block, gateway, dev, onlink in self._remote_routes(k):
            lines.append("%s via %s dev %s proto bird%s " % (block, gateway, dev, " onlink" if onlink else ""))
        return "\n".join(lines) + "\n"

    def _links(self, k):
        links = [
            {"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"], "mtu": 65536,
             "operstate": "UNKNOWN", "link_type": "loopback", "addr": ("127.0.0.1", 8)},
            {"ifindex": 2, "ifname": "eth0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
             "mtu": _UPLINK_MTU, "operstate": "UP", "link_type": "ether", "addr": (self.ips[k], 16)},
        ]
        if self.node_state(k) == "healthy":
            links.append({"ifindex": 3, "ifname": "tunl0", "flags": ["NOARP", "UP", "LOWER_UP"], "mtu": _TUNNEL_MTU,
                          "operstate": "UNKNOWN", "link_type": "ipip", "kind": "ipip",
                          "addr": (self.tunnel_ip(k), 32)})
        for w in range(self.workloads):
            links.append({"ifindex": 10 + w, "ifname": "cali%011x" % (k * 16 + w), "link_netnsid": w,
                          "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": _UPLINK_MTU,
                          "operstate": "UP", "link_type": "ether", "kind": "veth", "addr": None})
        return links

    def addr_json(self, k):
        """``ip -j -d addr show`` of node k."""
        out = []
        for link in self._links(k):
            obj = {"ifindex": link["ifindex"], "ifname": link["ifname"], "flags": link["flags"], "mtu": link["mtu"],
                   "qdisc": "noqueue", "operstate": link["operstate"], "group": "default", "txqlen": 1000,
                   "link_type": link["link_type"], "promiscuity": 0, "num_tx_queues": 1, "num_rx_queues": 1}
            if link.get("kind"):
                obj["linkinfo"] = {"info_kind": link["kind"]}
            obj["addr_info"] = []
            if link["addr"]:
                obj["addr_info"].append({"family": "inet", "local": link["addr"][0], "prefixlen": link["addr"][1],
                                         "scope": "host" if link["ifname"] == "lo" else "global",
                                         "label": link["ifname"], "valid_life_time": 4294967295,
                                         "preferred_life_time": 4294967295})
            out.append(obj)
        return json.dumps(out, separators=(",", ":"))

    def addr_text(self, k):
        """``ip -d addr show`` of node k."""
        lines = []
        for link in self._links(k):
            name = link["ifname"] + ("@NONE" if link["ifname"] == "tunl0" else "")
            lines.append("%d: %s: <%s> mtu %d qdisc noqueue state %s group default qlen 1000" % (
                link["ifindex"], name, ",".join(link["flags"]), link["mtu"], link["operstate"]))
            lines.append("    link/%s 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 "
                         "numtxqueues 1 numrxqueues 1 " % link["link_type"])
            if link.get("kind") == "ipip":
                lines.append("    ipip any remote any local any ttl inherit nopmtudisc numtxqueues 1 ")
            elif link.get("kind"):
                lines.append("    %s numtxqueues 1 numrxqueues 1 " % link["kind"])
            if link["addr"]:
                scope = "host" if link["ifname"] == "lo" else "global"
                lines.append("    inet %s/%d scope %s %s" % (link["addr"][0], link["addr"][1], scope, link["ifname"]))
                lines.append("       valid_lft forever preferred_lft forever")
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------------------------------- datastore side
    def calico_nodes(self):
        return [{"name": self.names[k], "ipv4_address": "%s/16" % self.ips[k]} for k in range(self.n)]

    def affinities(self):
        return [{"node": self.names[k], "cidr": self.blocks[k]} for k in range(self.n)]

    def pools(self, ipip_mode="Always"):
        return [{"cidr": POOL, "ipip_mode": ipip_mode}]

    def remote_routes(self):
        """Routes to remote blocks over the whole cluster (what the verdict judges): N * (N - 1)."""
        return self.n * (self.n - 1)


def single_table(routes, fmt="json"):
    """One node's table with (about) *routes* routes: node 0 (healthy: IPIP routes) of a cluster of ``routes - 4`` nodes."""
    cluster = Cluster(max(2, routes - 4), subnets=4, state="mixed", workloads=2)
    return cluster.routes_json(0) if fmt == "json" else cluster.routes_text(0)
