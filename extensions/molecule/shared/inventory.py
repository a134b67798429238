#!/usr/bin/env python
"""Ansible inventory of the lab for the molecule scenarios: the node and pod containers of the scenario named in
MOLECULE_SCENARIO_NAME, reached with the connection vars `tests/lab/platform/labhost ansible-vars` prints
(ansible_host = the container name). Before the lab host is up (create/destroy run on localhost only) the hosts
are listed without those vars.
"""
import json
import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# scenario: lab topology (tests/lab/topology/lab.sh up --scenario), lab flavour (Calico datastore layout), the
# IPIP mode the converge step sets. The topology decides the nodes.
SCENARIOS = {
    "seed": ("seed", "v2", "Always"),                   # the seed's own Calico v2 layout: tunl0 mtu 1440
    "crosssubnet": ("crosssubnet", "v3", "CrossSubnet"),
    "rollback": ("seed", "v3", "Always"),               # enable, then restore the exact previous pool
    "faults": ("crosssubnet", "v3", "Always"),          # etcd, BIRD, tunl0, router and node faults
    "vxlan": ("crosssubnet", "v3", "CrossSubnet"),      # VXLAN instead of IPIP (ipip_encapsulation: VXLAN)
}
TOPOLOGY_NODES = {"seed": ["node1", "node2"], "crosssubnet": ["node1", "node2", "node3"]}
# A second IPv4 pool some scenarios add (tests/lab/datastore/<flavour>/<file>.kv, `lab.sh up --extra <file>`): one
# block of it per node. crosssubnet's has IPIP Always from the start, and the converge names only the default pool
# (ipip_pools), so the run must leave it alone and judge its blocks by its own mode. With it, every node's tunl0 is
# up before the fix, with the first address of the node's block of that pool (the stand-in agent takes the tunnel
# address from a block of an IPIP pool, as allocate-tunnel-addrs does, node/pkg/allocateip).
EXTRA_POOLS = {
    "crosssubnet": {"file": "extra-pool", "name": "extra-ipv4-ippool", "cidr": "172.20.0.0/16", "ipip_mode": "Always",
                    "blocks": {"node1": "172.20.70.0/26", "node2": "172.20.169.192/26", "node3": "172.20.80.0/26"}},
}
# Without it, node1's tunnel address is the first free one of its block (ordinal 57, see the topology README).
TUNNEL_ADDRESSES = {"node1": "192.168.70.57"}
NODES = {  # node: address, gateway, pod address, block
    "node1": ("10.39.0.110", "10.39.0.1", "192.168.70.42", "192.168.70.0/26"),
    "node2": ("10.39.3.75", "10.39.3.1", "192.168.169.196", "192.168.169.192/26"),
    "node3": ("10.39.0.111", "10.39.0.1", "192.168.80.10", "192.168.80.0/26"),
}


def labhost(*args):
    try:
        return subprocess.run([os.path.join(REPO, "tests/lab/platform/labhost"), *args],
                              capture_output=True, text=True, timeout=60, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return ""


def connection_vars():
    try:
        return json.loads(labhost("ansible-vars"))
    except ValueError:
        return {}


def main():
    if "--host" in sys.argv:
        print("{}")
        return
    scenario = os.environ.get("MOLECULE_SCENARIO_NAME") or os.environ.get("LAB_SCENARIO", "seed")
    topology, flavour, ipip_mode = SCENARIOS[scenario]
    nodes = TOPOLOGY_NODES[topology]
    extra_pool = EXTRA_POOLS.get(scenario)
    ipip_before = bool(extra_pool and extra_pool["ipip_mode"] != "Never")
    conn = connection_vars()
    # The lab's etcd as the controller reaches it (relayed into the lab, see tests/lab/README.md); before the lab
    # host is up there is none, and nothing uses it.
    datastore_url = labhost("datastore-url").strip() or None
    hostvars = {}
    for n in nodes:
        ip, gw, pod, block = NODES[n]
        hostvars[n] = dict(conn, ansible_host="k8snet-" + n, node_ip=ip, node_gateway=gw, node_block=block)
        # where tunl0's address comes from: the node's block of the first pool with IPIP
        hostvars[n]["node_tunnel_block"] = extra_pool["blocks"][n] if ipip_before else block
        if ipip_before:
            hostvars[n]["node_tunnel_address"] = extra_pool["blocks"][n].split("/")[0]
        elif n in TUNNEL_ADDRESSES:
            hostvars[n]["node_tunnel_address"] = TUNNEL_ADDRESSES[n]
        pod_name = "pod" + n[len("node"):]
        hostvars[pod_name] = dict(conn, ansible_host="k8snet-" + pod_name, pod_ip=pod, pod_node=n)
    reports = os.environ.get("LAB_REPORTS") or os.path.join(
        os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp/k8snet-lab-molecule"), "reports")
    print(json.dumps({
        "_meta": {"hostvars": hostvars},
        "all": {"vars": {
            "lab_repo": REPO, "lab_scenario": scenario, "lab_topology": topology, "lab_flavour": flavour,
            "lab_ipip_mode": ipip_mode,
            "lab_extra_pool": extra_pool,                    # or None
            "lab_datastore_extra": [extra_pool["file"]] if extra_pool else [],
            "lab_ipip_before": ipip_before,                  # tunl0 is up before the fix
            "lab_etcd_endpoint": "http://10.39.0.2:2379",   # inside the lab
            "lab_datastore_url": datastore_url,              # from the controller
            "lab_nodes": {n: dict(zip(("ip", "gateway", "pod", "block"), NODES[n])) for n in nodes},
            "lab_reports": reports,
            # the collection's role and playbooks, as a user would run them: the pool modules run on the
            # controller (the default ipip_datastore_host), against the lab's etcd through the relay
            "ipip_mode": ipip_mode,
            "ipip_encapsulation": "VXLAN" if scenario == "vxlan" else "IPIP",
            "ipip_datastore": {"datastore": "etcdv3" if flavour == "v3" else "etcdv2",
                               "etcd_endpoints": [datastore_url]},
            "ipip_report_dir": os.path.join(reports, "enable"),
            "ipip_backup_file": os.path.join(reports, "pool-backup.json"),
            "ipip_probe": True,
            # the pre-change tunnel test where protocol 4 crosses the router (faults also runs it with it dropped)
            "ipip_preflight_tunnel_test": topology == "crosssubnet",
            "ipip_preflight_tunnel_range": "198.18.0.0/24",
        }},
        "nodes": {"hosts": nodes},
        "calico_nodes": {"hosts": nodes},  # the group the collection's playbooks target by default
        "pods": {"hosts": ["pod" + n[len("node"):] for n in nodes]},
    }))


if __name__ == "__main__":
    main()
