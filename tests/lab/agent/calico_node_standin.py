"""calico-node STAND-IN for the k8snet.calico lab: NOT Calico, a small agent that does on a lab node what
calico-node's Felix, confd and allocate-tunnel-addrs do for IPIP (Calico's felix/, confd/ and node/pkg/allocateip/;
docs/calico-traps.md "Sources").

One runs in each lab node container. It polls the lab's etcd (Calico v3 or v2 layout) and
  - confd's part:      renders BIRD's config (mesh peers from the nodes, own blocks from the block affinities) and
                       the kernel export filter per IP pool (IPIP Always: pool routes `via <node> dev tunl0 onlink`;
                       CrossSubnet: only for next hops outside this node's recorded network), then `birdc configure`;
  - allocate-tunnel-addrs: while a pool has IPIP, takes one address from this node's block (IPAM: first entry of
                       the block's `unallocated` list, handle `ipip-tunnel-addr-<node>`) and records it on the node
                       (v3 spec.bgp.ipv4IPIPTunnelAddr, v2 /calico/v1/host/<n>/config/IpInIpTunnelAddr); releases it
                       when no IPIP pool is left;
  - Felix's part:      while IPIP is enabled (v3.23+: any pool has IPIP unless FelixConfiguration `ipipEnabled`
                       says otherwise; v2: the IpInIpEnabled config key), keeps the kernel's tunl0 up with the MTU
                       (v2: IpInIpMtu, default 1440; v3: ipipMTU, default smallest uplink MTU - 20) and the tunnel
                       address as its only address; re-checks every 10 s like Felix's ipip_mgr.
  - Felix's VXLAN part (v3 only; Calico v2 had no VXLAN): while a pool has VXLAN (unless FelixConfiguration
                       `vxlanEnabled` says otherwise), allocate-tunnel-addrs takes the node's VTEP address from its block
                       of that pool (handle `vxlan-tunnel-addr-<node>`) and records it with a VTEP MAC on the node
                       (spec.ipv4VXLANTunnelAddr, spec.vxlanTunnelMACAddr); Felix's vxlan_mgr keeps the kernel's
                       vxlan.calico (VNI 4096, UDP 4789, MTU: vxlanMTU, default smallest uplink MTU - 50) with the VTEP
                       address, a permanent ARP and FDB entry per remote VTEP, and the routes to the other nodes'
                       blocks `via <VTEP> dev vxlan.calico onlink proto 80` (CrossSubnet: same-subnet peers direct,
                       `via <node IP> dev eth0 proto 80`); BIRD programs none of a VXLAN pool's routes
                       (felix/dataplane/linux/vxlan_mgr.go; node/pkg/allocateip/allocateip.go).
Order as in calico-node: tunl0 exists before the filter sends routes to it (vanilla BIRD rejects a route to a missing
interface; Calico's BIRD falls back to the plain next hop, which the filter reproduces by not using tunl0 then);
on the way back the filter is switched first, then tunl0 is taken down.
Every action is logged with a UTC timestamp to --log (lines start with the timestamp, then `calico-node-standin`).
It does nothing the k8snet.calico collection does: it never edits pools, FelixConfiguration or node addresses.
"""

import argparse
import hashlib
import ipaddress
import json
import os
import re
import string
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import etcd_http  # noqa: E402

V3 = "/calico/resources/v3/projectcalico.org/"
# Felix's default MTUIfacePattern: the host interfaces whose smallest MTU sets the auto IPIP MTU (v3.17+).
MTU_IFACE = re.compile(r"^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)")
IPIP_MTU_OVERHEAD = 20
V2_DEFAULT_IPIP_MTU = 1440
# Felix's VXLAN defaults (felix/config/config_params.go: VXLANVNI, VXLANPort; VXLAN's overhead over IPv4 is 50).
VXLAN_DEVICE, VXLAN_VNI, VXLAN_PORT, VXLAN_MTU_OVERHEAD = "vxlan.calico", 4096, 4789, 50
FELIX_PROTO = "80"   # routes Felix programs (Calico v3.33+ IPIP too; always for VXLAN)


class Model:
    """What the agent needs from the datastore, in Calico's v1 (syncer) terms, whatever the flavour."""

    def __init__(self):
        # [(cidr, ipip_mode: "always"|"cross-subnet"|None, vxlan_mode: "always"|"cross-subnet"|None, disabled)]
        self.pools = []
        self.felix_ipip = False   # Felix: manage tunl0
        self.ipip_mtu = None      # explicit override, else flavour default
        self.felix_vxlan = False  # Felix: manage vxlan.calico
        self.vxlan_mtu = None     # explicit override, else smallest uplink MTU - 50
        self.nodes = {}           # name -> (ip, network or None)
        self.vteps = {}           # name -> (VTEP address, VTEP MAC) as recorded on each node
        self.blocks = {}          # name -> CIDRs affine to that node (every node's)
        self.my_blocks = []       # CIDRs affine to this node
        self.tunnel_addr = None   # recorded on this node


def read_v3(store, node):
    m = Model()
    modes = {"Always": "always", "CrossSubnet": "cross-subnet"}   # else: that encapsulation is off
    for value in store.get_prefix(V3 + "ippools/").values():
        spec = json.loads(value)["spec"]
        m.pools.append((spec["cidr"], modes.get(spec.get("ipipMode")), modes.get(spec.get("vxlanMode")),
                        spec.get("disabled", False)))
    # v3.23+: IPIP (VXLAN) is on when any pool has it, unless FelixConfiguration says explicitly (default, then
    # node.<n>).
    m.felix_ipip = any(p[1] for p in m.pools)
    m.felix_vxlan = any(p[2] for p in m.pools)
    for name in ("default", "node." + node):
        value = store.get(V3 + "felixconfigurations/" + name)[0]
        spec = json.loads(value).get("spec", {}) if value else {}
        if "ipipEnabled" in spec:
            m.felix_ipip = bool(spec["ipipEnabled"])
        if spec.get("ipipMTU"):
            m.ipip_mtu = int(spec["ipipMTU"])
        if "vxlanEnabled" in spec:
            m.felix_vxlan = bool(spec["vxlanEnabled"])
        if spec.get("vxlanMTU"):
            m.vxlan_mtu = int(spec["vxlanMTU"])
    for key, value in store.get_prefix(V3 + "nodes/").items():
        name = key.rsplit("/", 1)[1]
        spec = json.loads(value).get("spec", {})
        bgp = spec.get("bgp") or {}
        if bgp.get("ipv4Address"):
            iface = ipaddress.ip_interface(bgp["ipv4Address"])   # the prefix decides CrossSubnet (bgpnodeprocessor)
            m.nodes[name] = (str(iface.ip), str(iface.network))
            if name == node:
                m.tunnel_addr = bgp.get("ipv4IPIPTunnelAddr")
        if spec.get("ipv4VXLANTunnelAddr"):
            m.vteps[name] = (spec["ipv4VXLANTunnelAddr"], spec.get("vxlanTunnelMACAddr"))
    for key, value in store.get_prefix("/calico/ipam/v2/host/").items():
        # /calico/ipam/v2/host/<node>/ipv4/block/<cidr>
        parts = key.split("/")
        if len(parts) == 9 and parts[6] == "ipv4" and json.loads(value).get("state", "confirmed") == "confirmed":
            m.blocks.setdefault(parts[5], []).append(parts[8].replace("-", "/"))
    m.my_blocks = m.blocks.get(node, [])
    return m


def read_v2(store, node):
    m = Model()
    for value in store.get_prefix("/calico/v1/ipam/v4/pool/").values():
        pool = json.loads(value)
        mode = (pool.get("ipip_mode") or "always") if pool.get("ipip") else None
        m.pools.append((pool["cidr"], mode, None, pool.get("disabled", False)))   # v2 had no VXLAN
    for key in ("/calico/v1/config/IpInIpEnabled", "/calico/v1/host/%s/config/IpInIpEnabled" % node):
        value = store.get(key)[0]
        if value is not None:
            m.felix_ipip = value.strip().lower() == "true"
    for key in ("/calico/v1/config/IpInIpMtu", "/calico/v1/host/%s/config/IpInIpMtu" % node):
        value = store.get(key)[0]
        if value:
            m.ipip_mtu = int(value)
    hosts = {}
    for key, value in store.get_prefix("/calico/bgp/v1/host/").items():
        name, field = key.rsplit("/", 2)[1:]
        hosts.setdefault(name, {})[field] = value
    for name, fields in hosts.items():
        if fields.get("ip_addr_v4"):
            m.nodes[name] = (fields["ip_addr_v4"], fields.get("network_v4"))
    m.tunnel_addr = store.get("/calico/v1/host/%s/config/IpInIpTunnelAddr" % node)[0]
    for key in store.get_prefix("/calico/ipam/v2/host/%s/ipv4/block/" % node):
        m.my_blocks.append(key.rsplit("/", 1)[1].replace("-", "/"))
    return m


def sh(*cmd, check=True):
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and res.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), (res.stderr or res.stdout).strip()))
    return res


class Agent:
    def __init__(self, args):
        self.node, self.flavour = args.node, args.flavour
        self.store = etcd_http.connect(args.flavour, args.etcd)
        self.run_dir, self.recheck = args.run_dir, args.recheck
        self.log_file = open(args.log, "a", buffering=1)
        self.templates = {name: string.Template(open(os.path.join(args.bird_template_dir, name)).read())
                          for name in ("bird.conf.tmpl", "peer.conf.tmpl", "kernel-filter.conf.tmpl")}
        self.bird_log = os.path.join(os.path.dirname(os.path.abspath(args.log)), "bird.log")
        self.bird_pending = False   # config written but not yet applied (BIRD not up, or birdc failed)
        self.tunl0_configured = False   # set once tunl0 was brought up: later fixes are repairs
        self.bird_pid = None
        self.reported = {}          # last logged value per topic, to log changes only

    def log(self, msg):
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (now % 1 * 1000)
        self.log_file.write("%s calico-node-standin[%s]: %s\n" % (stamp, self.node, msg))

    def note(self, topic, value, msg):
        """Log msg once per change of value (for states re-checked every cycle)."""
        if self.reported.get(topic) != value:
            self.reported[topic] = value
            self.log(msg)

    # ---- allocate-tunnel-addrs (node/pkg/allocateip/allocateip.go) -----------------------------------------
    def ipip_pools(self, m):
        return [ipaddress.ip_network(p[0]) for p in m.pools if p[1] and not p[3]]

    def sync_tunnel_addr(self, m):
        pools = self.ipip_pools(m)
        current = m.tunnel_addr
        if pools:
            if current and any(ipaddress.ip_address(current) in p for p in pools):
                return
            if current:
                self.release_tunnel_addr(m, current)
            blocks = [b for b in m.my_blocks if any(ipaddress.ip_network(b).subnet_of(p) for p in pools)]
            if not blocks:
                self.note("alloc", "noblock", "no block of an IPIP pool is affine to this node: no tunnel address")
                return
            addr = self.allocate_from_block(blocks[0])
            self.record_tunnel_addr(addr)
            m.tunnel_addr = addr
            self.log("tunnel address %s allocated from block %s and recorded on node %s" % (addr, blocks[0], self.node))
        elif current:
            self.release_tunnel_addr(m, current)
            m.tunnel_addr = None

    def handle(self):
        return "ipip-tunnel-addr-" + self.node

    def block_key(self, cidr):
        return "/calico/ipam/v2/assignment/ipv4/block/" + cidr.replace("/", "-")

    def allocate_from_block(self, cidr, handle_id=None, kind="ipipTunnelAddress"):
        handle_id = handle_id or self.handle()
        value, version = self.store.get(self.block_key(cidr))
        block = json.loads(value)
        ordinal = block["unallocated"].pop(0)
        secondary = {"node": self.node, "type": kind} if self.flavour == "v3" else None
        block["attributes"].append({"handle_id": handle_id, "secondary": secondary})
        block["allocations"][ordinal] = len(block["attributes"]) - 1
        self.store.put(self.block_key(cidr), compact(block), version)   # compare-and-swap, as Calico IPAM
        handle = {"handleID": handle_id, "block": {cidr: 1}}
        if self.flavour == "v3":
            handle["deleted"] = False
        self.store.put("/calico/ipam/v2/handle/" + handle_id, compact(handle))
        return str(ipaddress.ip_network(cidr)[ordinal])

    def release_tunnel_addr(self, m, addr):
        ip = ipaddress.ip_address(addr)
        for cidr in m.my_blocks:
            net = ipaddress.ip_network(cidr)
            if ip not in net:
                continue
            value, version = self.store.get(self.block_key(cidr))
            block = json.loads(value)
            ordinal = int(ip) - int(net.network_address)
            idx = block["allocations"][ordinal]
            if idx is None or block["attributes"][idx]["handle_id"] != self.handle():
                break   # not ours: leave the block alone
            block["allocations"][ordinal] = None
            block["unallocated"].append(ordinal)
            if idx not in block["allocations"]:   # drop the unreferenced attribute, renumber the others
                del block["attributes"][idx]
                block["allocations"] = [a - 1 if a is not None and a > idx else a for a in block["allocations"]]
            self.store.put(self.block_key(cidr), compact(block), version)
        self.store.delete("/calico/ipam/v2/handle/" + self.handle())
        self.record_tunnel_addr(None)
        self.log("tunnel address %s released (no IPIP pool left) and removed from node %s" % (addr, self.node))

    def record_tunnel_addr(self, addr):
        if self.flavour == "v2":
            key = "/calico/v1/host/%s/config/IpInIpTunnelAddr" % self.node
            if addr:
                self.store.put(key, addr)
            else:
                self.store.delete(key)
            return
        key = V3 + "nodes/" + self.node
        value, version = self.store.get(key)
        obj = json.loads(value)
        bgp = obj["spec"].setdefault("bgp", {})
        if addr:
            bgp["ipv4IPIPTunnelAddr"] = addr
        else:
            bgp.pop("ipv4IPIPTunnelAddr", None)
        self.store.put(key, compact(obj), version)

    # ---- Felix's ipip_mgr (felix/dataplane/linux/ipip_mgr.go: tunl0, its address, MTU) ---------------------
    def tunl0(self):
        res = sh("ip", "-j", "addr", "show", "dev", "tunl0", check=False)
        if res.returncode != 0:
            return None
        info = json.loads(res.stdout)[0]
        return {"up": "UP" in info["flags"], "mtu": info["mtu"],
                "addrs": ["%s/%s" % (a["local"], a["prefixlen"]) for a in info.get("addr_info", [])
                          if a.get("family") == "inet"]}

    def wanted_mtu(self, m):
        if m.ipip_mtu:
            return m.ipip_mtu
        if self.flavour == "v2":
            return V2_DEFAULT_IPIP_MTU
        links = json.loads(sh("ip", "-j", "link", "show").stdout)
        mtus = [link["mtu"] for link in links if MTU_IFACE.match(link["ifname"])]
        return min(mtus) - IPIP_MTU_OVERHEAD

    def ensure_tunl0(self, m):
        """(usable, repaired): tunl0 is up with the recorded tunnel address; something had undone that."""
        state = self.tunl0()
        fixed = False
        if state is None:
            res = sh("ip", "tunnel", "add", "tunl0", "mode", "ipip", check=False)
            if res.returncode != 0:
                self.note("tunl0", "error", "ERROR cannot create tunl0 (`ip tunnel add tunl0 mode ipip`: %s); "
                          "does this kernel have ipip?" % res.stderr.strip())
                return False, False
            self.log("tunl0 created (ip tunnel add tunl0 mode ipip)")
            fixed = True
            state = self.tunl0()
        mtu = self.wanted_mtu(m)
        if state["mtu"] != mtu:
            sh("ip", "link", "set", "tunl0", "mtu", str(mtu))
            self.log("tunl0 mtu %s -> %s" % (state["mtu"], mtu))
        want = [m.tunnel_addr + "/32"] if m.tunnel_addr else []
        for addr in state["addrs"]:
            if addr not in want:
                sh("ip", "addr", "del", addr, "dev", "tunl0")
                self.log("tunl0 address %s removed" % addr)
        for addr in want:
            if addr not in state["addrs"]:
                sh("ip", "addr", "add", addr, "dev", "tunl0")
                self.log("tunl0 address %s added" % addr)
                fixed = True
        if not state["up"]:
            sh("ip", "link", "set", "tunl0", "up")
            self.log("tunl0 set up")
            fixed = True
        self.note("tunl0", ("up", mtu, tuple(want)), "tunl0 is up (mtu %s, address %s)" % (mtu, ", ".join(want) or "none"))
        repaired = fixed and self.tunl0_configured
        self.tunl0_configured = True
        return True, repaired

    def teardown_tunl0(self):
        state = self.tunl0()
        if state is None or (not state["up"] and not state["addrs"]):
            return
        for addr in state["addrs"]:
            sh("ip", "addr", "del", addr, "dev", "tunl0")
        sh("ip", "link", "set", "tunl0", "down")
        self.tunl0_configured = False
        self.log("IPIP disabled: tunl0 addresses %s removed, tunl0 down" % (", ".join(state["addrs"]) or "none"))
        self.note("tunl0", "down", "tunl0 is down")

    # ---- VXLAN: allocate-tunnel-addrs' VTEP, Felix's vxlan_mgr (device, ARP/FDB, routes) ------------------
    def vxlan_pools(self, m):
        return [(ipaddress.ip_network(p[0]), p[2]) for p in m.pools if p[2] and not p[3]]

    def vtep_mac(self):
        # Calico picks a random locally administered MAC once and records it; the stand-in derives one from the node
        # name, so that a re-created lab gets the same MAC.
        digest = hashlib.sha256(self.node.encode()).digest()
        return "66:" + ":".join("%02x" % b for b in digest[:5])

    def sync_vtep(self, m):
        """The node's VTEP address (from its block of a VXLAN pool) and MAC, recorded on the node (v3 only)."""
        pools = self.vxlan_pools(m) if self.flavour == "v3" else []
        mine = m.vteps.get(self.node)
        if not pools:
            if mine:
                self.record_vtep(None, None)
                self.log("VTEP %s released (no VXLAN pool left) and removed from node %s" % (mine[0], self.node))
                m.vteps.pop(self.node, None)
            return
        if mine and any(ipaddress.ip_address(mine[0]) in net for net, _mode in pools):
            return
        blocks = [b for b in m.my_blocks if any(ipaddress.ip_network(b).subnet_of(net) for net, _mode in pools)]
        if not blocks:
            self.note("vtep", "noblock", "no block of a VXLAN pool is affine to this node: no VTEP address")
            return
        addr = self.allocate_from_block(blocks[0], "vxlan-tunnel-addr-" + self.node, "vxlanTunnelAddress")
        mac = self.vtep_mac()
        self.record_vtep(addr, mac)
        m.vteps[self.node] = (addr, mac)
        self.log("VTEP %s (MAC %s) allocated from block %s and recorded on node %s" % (addr, mac, blocks[0],
                                                                                       self.node))

    def record_vtep(self, addr, mac):
        key = V3 + "nodes/" + self.node
        value, version = self.store.get(key)
        obj = json.loads(value)
        for field, wanted in (("ipv4VXLANTunnelAddr", addr), ("vxlanTunnelMACAddr", mac)):
            if wanted:
                obj["spec"][field] = wanted
            else:
                obj["spec"].pop(field, None)
        self.store.put(key, compact(obj), version)

    def uplink(self, my_ip):
        """(device, MTU) of the interface holding the node's address."""
        for link in json.loads(sh("ip", "-j", "addr", "show").stdout):
            if any(a.get("local") == my_ip for a in link.get("addr_info", [])):
                return link["ifname"], link["mtu"]
        return None, None

    def vxlan_state(self):
        res = sh("ip", "-j", "-d", "addr", "show", "dev", VXLAN_DEVICE, check=False)
        if res.returncode != 0:
            return None
        info = json.loads(res.stdout)[0]
        return {"up": "UP" in info["flags"], "mtu": info["mtu"], "mac": info.get("address"),
                "addrs": ["%s/%s" % (a["local"], a["prefixlen"]) for a in info.get("addr_info", [])
                          if a.get("family") == "inet"]}

    def ensure_vxlan(self, m):
        """vxlan.calico up with this node's VTEP, a permanent ARP + FDB entry per remote VTEP, and Felix's routes to
        the other nodes' blocks of the VXLAN pools. Returns whether the device is usable."""
        my_ip, my_net = m.nodes.get(self.node, (None, None))
        mine = m.vteps.get(self.node)
        if my_ip is None or not mine or not mine[1]:
            self.note("vxlan", "novtep", "VXLAN enabled but this node has no VTEP address yet: no vxlan.calico")
            return False
        uplink, uplink_mtu = self.uplink(my_ip)
        if uplink is None:
            self.note("vxlan", "nouplink", "ERROR no interface holds the node address %s" % my_ip)
            return False
        state = self.vxlan_state()
        if state is None:
            res = sh("ip", "link", "add", VXLAN_DEVICE, "type", "vxlan", "id", str(VXLAN_VNI), "local", my_ip,
                     "dev", uplink, "dstport", str(VXLAN_PORT), "nolearning", check=False)
            if res.returncode != 0:
                self.note("vxlan", "error", "ERROR cannot create %s: %s" % (VXLAN_DEVICE, res.stderr.strip()))
                return False
            self.log("%s created (VNI %d, UDP %d, local %s dev %s)"
                     % (VXLAN_DEVICE, VXLAN_VNI, VXLAN_PORT, my_ip, uplink))
            state = self.vxlan_state()
        mtu = m.vxlan_mtu or uplink_mtu - VXLAN_MTU_OVERHEAD
        if state["mtu"] != mtu:
            sh("ip", "link", "set", VXLAN_DEVICE, "mtu", str(mtu))
            self.log("%s mtu %s -> %s" % (VXLAN_DEVICE, state["mtu"], mtu))
        if state["mac"] != mine[1]:
            sh("ip", "link", "set", VXLAN_DEVICE, "address", mine[1])
        want = mine[0] + "/32"
        for addr in state["addrs"]:
            if addr != want:
                sh("ip", "addr", "del", addr, "dev", VXLAN_DEVICE)
        if want not in state["addrs"]:
            sh("ip", "addr", "add", want, "dev", VXLAN_DEVICE)
            self.log("%s address %s added" % (VXLAN_DEVICE, want))
        if not state["up"]:
            sh("ip", "link", "set", VXLAN_DEVICE, "up")
            self.log("%s set up" % VXLAN_DEVICE)
        # ARP and FDB per remote VTEP, as vxlan_mgr programs them (no learning on the device)
        for name, (vtep, mac) in sorted(m.vteps.items()):
            if name == self.node or not mac or name not in m.nodes:
                continue
            sh("ip", "neigh", "replace", vtep, "lladdr", mac, "dev", VXLAN_DEVICE, "nud", "permanent")
            sh("bridge", "fdb", "replace", mac, "dev", VXLAN_DEVICE, "dst", m.nodes[name][0], "self", "permanent")
        self.program_vxlan_routes(m, my_net, uplink)
        self.note("vxlan", ("up", mtu, want), "%s is up (mtu %s, VTEP %s)" % (VXLAN_DEVICE, mtu, want))
        return True

    def program_vxlan_routes(self, m, my_net, uplink):
        wanted = {}
        for name, blocks in m.blocks.items():
            if name == self.node or name not in m.nodes:
                continue
            peer_ip, _peer_net = m.nodes[name]
            same_subnet = my_net is not None and ipaddress.ip_address(peer_ip) in ipaddress.ip_network(my_net)
            for block in blocks:
                mode = next((mode for net, mode in self.vxlan_pools(m) if ipaddress.ip_network(block).subnet_of(net)),
                            None)
                if mode is None:
                    continue
                if mode == "cross-subnet" and same_subnet:
                    wanted[block] = ["via", peer_ip, "dev", uplink]
                elif name in m.vteps:
                    wanted[block] = ["via", m.vteps[name][0], "dev", VXLAN_DEVICE, "onlink"]
        current = {r["dst"]: r for r in json.loads(sh("ip", "-j", "route", "show", "proto", FELIX_PROTO).stdout)}
        for block, how in sorted(wanted.items()):
            route = current.get(block)
            if route and route.get("gateway") == how[1] and route.get("dev") == how[3]:
                continue
            sh("ip", "route", "replace", block, *how, "proto", FELIX_PROTO)
            self.log("route %s %s proto %s" % (block, " ".join(how), FELIX_PROTO))
        for block in sorted(set(current) - set(wanted)):
            sh("ip", "route", "del", block, "proto", FELIX_PROTO, check=False)
            self.log("route %s proto %s removed" % (block, FELIX_PROTO))

    def teardown_vxlan(self):
        for route in json.loads(sh("ip", "-j", "route", "show", "proto", FELIX_PROTO).stdout):
            sh("ip", "route", "del", route["dst"], "proto", FELIX_PROTO, check=False)
        if self.vxlan_state() is not None:
            sh("ip", "link", "del", VXLAN_DEVICE)
            self.log("VXLAN disabled: %s and Felix's routes removed" % VXLAN_DEVICE)
            self.note("vxlan", "down", "%s is gone" % VXLAN_DEVICE)

    # ---- confd + BIRD (confd/etc/calico/confd/templates/bird_ipam.cfg.template: tunnel routes) ------------
    def render(self, m, tunnel_usable):
        my_ip, my_net = m.nodes.get(self.node, (None, None))
        if my_ip is None:
            return None, None
        peers = "".join(self.templates["peer.conf.tmpl"].substitute(
            peer_node=name, peer_id=ip.replace(".", "_"), peer_ip=ip)
            for name, (ip, _network) in sorted(m.nodes.items()) if name != self.node)
        conf = self.templates["bird.conf.tmpl"].substitute(
            node=self.node, node_ip=my_ip, log_file=self.bird_log,
            filter_file=os.path.join(self.run_dir, "kernel_filter.conf"),
            export_blocks="\n".join("  if ( net = %s ) then accept;" % b for b in m.my_blocks),
            blackholes="\n".join("  route %s blackhole;" % b for b in m.my_blocks), peers=peers)
        rules = []
        # Per pool, as bird_ipam.cfg; rendered only when this node's network is known.
        for cidr, mode, vxlan, _disabled in (m.pools if my_net else []):
            if vxlan:
                rules.append("  if ( net ~ %s ) then reject;   # VXLAN: Felix's routes" % cidr)
            elif mode and tunnel_usable:
                tunnel = 'ifname = "tunl0"; onlink = true; gw = bgp_next_hop; accept;'
                same_subnet = ("if ( bgp_next_hop ~ %s ) then accept;   # same subnet: no tunnel\n    " % my_net
                               if mode == "cross-subnet" else "")
                rules.append("  if ( net ~ %s && source = RTS_BGP ) then {   # IPIP %s\n    %s%s\n  }"
                             % (cidr, mode, same_subnet, tunnel))
            else:
                rules.append("  if ( net ~ %s ) then accept;   # no IPIP%s" %
                             (cidr, " (tunl0 not up: plain next hop)" if mode else ""))
        kfilter = self.templates["kernel-filter.conf.tmpl"].substitute(pool_rules="\n".join(rules))
        return conf, kfilter

    def write_if_changed(self, name, text):
        path = os.path.join(self.run_dir, name)
        try:
            with open(path) as f:
                if f.read() == text:
                    return False
        except FileNotFoundError:
            pass
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        return True

    def birdc(self, *args):
        return sh("birdc", "-s", os.path.join(self.run_dir, "bird.ctl"), *args, check=False)

    def bird_running_pid(self):
        try:
            pid = int(open(os.path.join(self.run_dir, "bird.pid")).read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def apply_bird(self, conf, kfilter, why):
        changed = self.write_if_changed("bird.conf", conf)
        changed = self.write_if_changed("kernel_filter.conf", kfilter) or changed
        if changed:
            self.log("BIRD config rendered (%s)" % why)
            self.bird_pending = True
        pid = self.bird_running_pid()
        if pid != self.bird_pid:
            if pid:
                self.log("BIRD running with pid %s (it reads the current config)" % pid)
            else:
                self.note("bird", "down", "BIRD is not running (config kept, applied when it is)")
            self.bird_pid = pid
            if pid:
                self.bird_pending = True
                self.reported.pop("bird", None)
        if self.bird_pending and pid:
            res = self.birdc("configure")
            if "Reconfigured" in res.stdout or "Reconfiguration in progress" in res.stdout:
                self.log("birdc configure: %s" % res.stdout.strip().splitlines()[-1])
                self.bird_pending = False
            else:
                self.log("ERROR birdc configure failed: %s" % (res.stdout + res.stderr).strip())

    # ---- one reconcile pass ----------------------------------------------------------------------------
    def reconcile(self, why):
        m = read_v3(self.store, self.node) if self.flavour == "v3" else read_v2(self.store, self.node)
        self.note("model", (m.felix_ipip, m.felix_vxlan, tuple(m.pools), m.tunnel_addr),
                  "datastore: pools %s; Felix IPIP %s, VXLAN %s; tunnel address %s" % (
                      ", ".join("%s ipip=%s vxlan=%s" % (p[0], p[1] or "off", p[2] or "off") for p in m.pools)
                      or "none", "enabled" if m.felix_ipip else "disabled",
                      "enabled" if m.felix_vxlan else "disabled", m.tunnel_addr or "none"))
        self.sync_tunnel_addr(m)
        self.sync_vtep(m)
        usable, repaired = self.ensure_tunl0(m) if m.felix_ipip else (False, False)
        conf, kfilter = self.render(m, usable)
        if conf is None:
            self.note("render", "nonode", "node %s has no BGP address in the datastore: no BIRD config" % self.node)
        else:
            self.apply_bird(conf, kfilter, why)
        # after BIRD's filter stopped programming the VXLAN pools' blocks, so that Felix's routes replace BIRD's
        vxlan_usable = self.ensure_vxlan(m) if m.felix_vxlan and self.vxlan_pools(m) else False
        if not (m.felix_vxlan and self.vxlan_pools(m)):
            self.teardown_vxlan()
        if not m.felix_ipip:
            self.teardown_tunl0()
        if repaired and self.bird_pid:
            # The kernel dropped the routes via tunl0 while it was broken; have BIRD send them again.
            res = self.birdc("reload", "out", "kernel1")
            self.log("tunl0 repaired: birdc reload out kernel1: %s" % " ".join(res.stdout.split()[-3:]))
        self.write_status(m, usable, vxlan_usable)

    def write_status(self, m, usable, vxlan_usable):
        status = {"node": self.node, "flavour": self.flavour, "felix_ipip": m.felix_ipip,
                  "tunnel_addr": m.tunnel_addr, "tunl0_in_filter": usable, "bird_pid": self.bird_pid,
                  "felix_vxlan": m.felix_vxlan, "vtep": (m.vteps.get(self.node) or (None,))[0],
                  "vxlan_up": vxlan_usable}
        self.write_if_changed("status.json", json.dumps(status, indent=1) + "\n")

    def run(self, poll):
        self.log("calico-node STAND-IN starting (flavour %s, pid %s, poll %ss, recheck %ss)"
                 % (self.flavour, os.getpid(), poll, self.recheck))
        last_rev, next_recheck = None, 0.0
        while True:
            try:
                rev = self.store.revision()
                now = time.monotonic()
                if rev != last_rev or now >= next_recheck or self.bird_pending:
                    why = "datastore revision %s" % rev if rev != last_rev else "periodic re-check"
                    self.reconcile(why)
                    # The revision read BEFORE reconciling: a write during it (ours included) triggers another pass.
                    last_rev, next_recheck = rev, now + self.recheck
                if self.reported.get("error"):
                    self.note("error", None, "recovered: datastore and dataplane in sync")
            except Exception as err:   # keep going: the datastore or BIRD may come back
                self.note("error", str(err), "ERROR %s\n%s" % (err, traceback.format_exc().rstrip()))
                last_rev = None
            time.sleep(poll)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))   # as Go's encoding/json writes it


def main():
    ap = argparse.ArgumentParser(description="calico-node STAND-IN for the k8snet.calico lab (not Calico)")
    ap.add_argument("--node", required=True)
    ap.add_argument("--flavour", choices=["v3", "v2"], required=True)
    ap.add_argument("--etcd", required=True, help="etcd client URL")
    ap.add_argument("--run-dir", required=True, help="BIRD config, control socket, pid file, status.json")
    ap.add_argument("--log", required=True)
    ap.add_argument("--bird-template-dir", required=True)
    ap.add_argument("--poll", type=float, default=0.5, help="datastore poll interval (s)")
    ap.add_argument("--recheck", type=float, default=10.0, help="dataplane re-check interval (s), as Felix")
    args = ap.parse_args()
    with open(os.path.join(args.run_dir, "agent.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    Agent(args).run(args.poll)


if __name__ == "__main__":
    main()
