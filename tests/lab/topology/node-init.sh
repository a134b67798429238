#!/bin/sh
# Command of a lab node container (what calico-node's runit does at start): start the calico-node STAND-IN agent,
# wait for the BIRD config it renders from the datastore, start BIRD, then stay up.
#   node-init.sh NODE FLAVOUR ETCD_URL          the container's command
#   node-init.sh NODE FLAVOUR ETCD_URL agent    the agent alone, in the foreground (`lab.sh fault agent NODE start`)
set -eu
node=$1 flavour=$2 etcd=$3
lab=/opt/k8snet-lab run=/run/calico-standin logs=/var/log/calico-standin
agent() {
  python3 "$lab/agent/calico_node_standin.py" --node "$node" --flavour "$flavour" --etcd "$etcd" \
    --run-dir "$run" --log "$logs/agent.log" --bird-template-dir "$lab/bird" >>"$logs/agent.stdout" 2>&1
}
if [ "${4:-}" = agent ]; then agent; exit; fi
agent &
i=0
until [ -s "$run/bird.conf" ]; do
  i=$((i + 1)); [ $i -le 600 ] || { echo "node-init: no BIRD config after 120 s" >&2; exit 1; }
  sleep 0.2
done
# BIRD keeps its routes when it stops (`persist`, as calico-node's): start from a clean table.
ip route flush proto bird 2>/dev/null || true
bird -c "$run/bird.conf" -s "$run/bird.ctl" -P "$run/bird.pid"
exec sleep infinity
