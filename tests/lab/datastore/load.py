"""Load the lab's Calico seed data into etcd over its HTTP API (runs inside the lab's etcd container).

  load.py --endpoint URL --flavour v3|v2 cluster node1 node2 ...   writes <flavour>/<name>.kv
  load.py --endpoint URL --flavour v3|v2 --delete node3            deletes the keys of <flavour>/node3.kv (the node
                                                                    leaves the cluster: node, IPAM host, affinity)
  load.py --endpoint URL --health                                   exit 0 when etcd answers healthy

A .kv file holds one key per line: `<etcd key> <value>`, the value exactly as Calico stores it (compact JSON or a
plain string; layouts: docs/calico-traps.md "Sources").
"""

import argparse
import json
import os
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
import etcd_http  # noqa: E402


def read_kv(path):
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                key, value = line.split(" ", 1)
                yield key, value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--flavour", choices=["v3", "v2"])
    ap.add_argument("--health", action="store_true")
    ap.add_argument("--delete", action="store_true", help="delete the files' keys instead of writing them")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if args.health:
        with urllib.request.urlopen(args.endpoint + "/health", timeout=2) as resp:
            return 0 if json.loads(resp.read()).get("health") == "true" else 1
    store = etcd_http.connect(args.flavour, args.endpoint)
    count = 0
    for name in args.files:
        for key, value in read_kv(os.path.join(HERE, args.flavour, name + ".kv")):
            if args.delete:
                store.delete(key)
            else:
                store.put(key, value)
            count += 1
    action = "deleted from" if args.delete else "into"
    print("load.py: %d keys (%s) %s %s" % (count, args.flavour, action, args.endpoint))
    return 0


if __name__ == "__main__":
    sys.exit(main())
