"""STAND-IN for the calicoctl binary, for tests only (no calicoctl can be installed on the test machines).

Implements only what k8snet.calico's calicoctl backend runs: `[--config F] get ippool|nodes|felixconfiguration
[name] -o json` and `[--config F] replace|create -f -`. State lives in the JSON file $CALICOCTL_STANDIN_STATE:
{"api": "v1"|"v3", "pools": [...], "nodes": [...], "felix": {...}|null, "conflict_once": bool, "garbage": bool}.
Every call is appended to $CALICOCTL_STANDIN_STATE.log as {"argv": [...], "stdin": "..."}.
Output shapes follow real calicoctl: v1 prints a JSON list, v3 a <Kind>List; v3 replace with a stale
metadata.resourceVersion fails like libcalico-go ("update conflict").
Runs are serialised by a lock on $CALICOCTL_STANDIN_STATE.lock, as the datastore serialises writes: each `get` reads
one consistent state and each `replace` compares and writes atomically, while parallel calicoctl processes still
race between their `get` and their `replace`, as real ones do. Every pool replaced is appended to
$CALICOCTL_STANDIN_STATE.history as {"name", "from", "to", "object"} (resourceVersions replaced and written).
"""
import fcntl
import json
import os
import sys

state_path = os.environ["CALICOCTL_STANDIN_STATE"]
lock = open(state_path + ".lock", "a")  # released when the process exits
fcntl.flock(lock, fcntl.LOCK_EX)
with open(state_path) as f:
    state = json.load(f)
argv = sys.argv[1:]
stdin = sys.stdin.read() if "-f" in argv else ""
with open(state_path + ".log", "a") as f:
    f.write(json.dumps({"argv": sys.argv, "stdin": stdin}) + "\n")
if argv[:1] == ["--config"]:
    argv = argv[2:]


def save():
    with open(state_path, "w") as f:
        json.dump(state, f)


def v3_list(kind, items):
    return {"kind": kind + "List", "apiVersion": "projectcalico.org/v3", "metadata": {"resourceVersion": "9999"}, "items": items}


def ident(obj):
    meta = obj.get("metadata") or {}
    return meta.get("cidr") if obj.get("apiVersion") == "v1" else meta.get("name")


if state.get("garbage"):
    print("Error: connection to datastore: <html>proxy</html>")
    sys.exit(0)
if argv[:1] == ["get"] and argv[-2:] == ["-o", "json"]:
    resource = argv[1]
    if resource == "ippool":
        out = state["pools"] if state["api"] == "v1" else v3_list("IPPool", state["pools"])
    elif resource == "nodes":
        out = state.get("nodes", []) if state["api"] == "v1" else v3_list("Node", state.get("nodes", []))
    elif resource == "felixconfiguration" and state["api"] == "v3":
        if not state.get("felix"):
            sys.stderr.write("resource does not exist: FelixConfiguration(default)\n")
            sys.exit(1)
        out = state["felix"]
    else:
        sys.stderr.write("unknown resource type: %s\n" % resource)
        sys.exit(1)
    print(json.dumps(out, indent=2))
    sys.exit(0)
if argv[:1] in (["replace"], ["create"]) and argv[1:] == ["-f", "-"]:
    obj = json.loads(stdin)
    kind = obj.get("kind")
    if kind in ("ipPool", "IPPool"):
        for i, current in enumerate(state["pools"]):
            if ident(current) == ident(obj):
                if state["api"] == "v3":
                    if state.get("conflict_once"):
                        state["conflict_once"] = False
                        current["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
                        current["spec"]["disabled"] = True  # another writer's change
                        save()
                    if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                        sys.stderr.write("Failed to execute command: update conflict: IPPool(%s)\n" % ident(obj))
                        sys.exit(1)
                    obj["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
                state["pools"][i] = obj
                save()
                with open(state_path + ".history", "a") as f:
                    f.write(json.dumps({"name": ident(obj), "from": current["metadata"].get("resourceVersion"),
                                        "to": obj["metadata"].get("resourceVersion"), "object": obj}) + "\n")
                print("Successfully replaced 1 '%s' resource(s)" % kind)
                sys.exit(0)
        sys.stderr.write("resource does not exist: %s(%s)\n" % (kind, ident(obj)))
        sys.exit(1)
    if kind == "FelixConfiguration":
        if obj["metadata"].get("resourceVersion") != (state.get("felix") or {}).get("metadata", {}).get("resourceVersion"):
            sys.stderr.write("Failed to execute command: update conflict: FelixConfiguration(default)\n")
            sys.exit(1)
        obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)
        state["felix"] = obj
        save()
        print("Successfully replaced 1 'FelixConfiguration' resource(s)")
        sys.exit(0)
sys.stderr.write("calicoctl stand-in: unsupported command %r\n" % (argv,))
sys.exit(2)
