#!/usr/bin/env bash
# The lab topology: the seed incident, built for real on a lab host (run as root there, e.g. through
# `tests/lab/platform/labhost exec -- tests/lab/topology/lab.sh up`).
#
#   k8snet-pod1 --cali-- k8snet-node1 10.39.0.110/24 --+
#   k8snet-pod3 --cali-- k8snet-node3 10.39.0.111/24 --+-- brA 10.39.0.1/24  k8snet-router: forwards between the two
#                        k8snet-etcd  10.39.0.2/24   --+                    subnets; no pod routes, no default route
#   k8snet-pod2 --cali-- k8snet-node2 10.39.3.75/24  ----- brB 10.39.3.1/24
#
# Every veth is created with both ends inside lab namespaces: nothing touches the lab host's root namespace.
# Nodes and etcd are podman containers joined to their namespaces; each node runs BIRD and the calico-node
# STAND-IN agent (tests/lab/agent/), which renders BIRD's config from the datastore (see tests/lab/README.md).
#
# Usage:
#   lab.sh up [--scenario seed|crosssubnet] [--flavour v3|v2] [--extra NAME]...
#                                                               build it and wait for the broken BGP routes;
#                                                               --extra also loads datastore/<flavour>/NAME.kv (e.g.
#                                                               extra-pool: a second pool with a block per node)
#   lab.sh down                                                 remove everything the lab made and check
#   lab.sh status                                               what is up (exit 1 if nothing)
#   lab.sh check broken|ipip|crosssubnet                        routes, tunl0, pod pings, IPIP capture vs. expected
#                                                               (the molecule scenarios check the same from inside
#                                                               the containers, with Ansible)
#   lab.sh exec NODE CMD...                                     run CMD inside a node (or etcd) container
#   lab.sh fault WHAT ...                                       break (or mend) one part, for the fault tests:
#     fault ipip-blocked on|off        the router drops (forwards again) IP protocol 4 between the subnets
#     fault etcd stop|start            the datastore is down (back, and healthy)
#     fault agent NODE stop|start      the node's calico-node stand-in agent ends (starts again)
#     fault tunl0 NODE                 tunl0 taken out of service: link down, addresses gone (see below)
#     fault bird NODE kill             BIRD dies (SIGKILL): with `persist` its routes stay in the node's kernel
#     fault node NODE stop|start       the node's container stops (the node is unreachable); starts again
#     fault node NODE forget           the node is deleted from the datastore (node, IPAM host and affinity keys)
#
# Environment: K8SNET_LAB_DATASTORE_RELAY (ADDR:PORT, set by `labhost exec`): `up` relays that address of the lab
# host's root namespace to etcd in its namespace, so the host can reach the datastore without any lab address or
# route leaving the lab's namespaces (`labhost datastore-url`).
# LAB_PODMAN (default tests/lab/platform/podman.sh), LAB_NODE_IMAGE (default `labhost image`),
# LAB_STATE_DIR (default /run/k8snet-lab-topology), LAB_LOG_DIR (default $K8SNET_LAB_SHARED/topology-logs, else
# $LAB_STATE_DIR/logs).
set -euo pipefail

LAB_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)   # tests/lab
read -r -a PODMAN <<<"${LAB_PODMAN:-$LAB_DIR/platform/podman.sh}"
STATE=${LAB_STATE_DIR:-/run/k8snet-lab-topology}
if [ -n "${LAB_LOG_DIR:-}" ]; then LOGS=$LAB_LOG_DIR
elif [ -n "${K8SNET_LAB_SHARED:-}" ]; then LOGS=$K8SNET_LAB_SHARED/topology-logs
else LOGS=$STATE/logs; fi

P=k8snet-                       # prefix of every namespace and container the lab creates (platform rule)
ETCD_IP=10.39.0.2
ETCD_URL=http://$ETCD_IP:2379
# Paths inside the containers.
C_LAB=/opt/k8snet-lab            # tests/lab, read-only
C_RUN=/run/calico-standin        # per-node runtime: BIRD config, control socket, pid files
C_LOG=/var/log/calico-standin    # per-node logs (agent.log, bird.log), readable by the tests

# node   address/len     gateway    pod address      host-side veth   router bridge   pod veth MTU
# The pods of node1 and node2 were made before any encapsulation (1500, the uplink's); node3's after the cluster's
# MTU was set for a tunnel (1400): the verification must name the first two (workload_mtu_above_tunnel), not it.
node_params() {
  case $1 in
    node1) echo "10.39.0.110/24 10.39.0.1 192.168.70.42   cali5f1c8a10042 brA 1500" ;;
    node2) echo "10.39.3.75/24  10.39.3.1 192.168.169.196 cali7e9d3b20196 brB 1500" ;;
    node3) echo "10.39.0.111/24 10.39.0.1 192.168.80.10   cali3c2a9f10010 brA 1400" ;;
    *) die "unknown node '$1'" ;;
  esac
}
scenario_nodes() {
  case $1 in
    seed) echo "node1 node2" ;;
    crosssubnet) echo "node1 node2 node3" ;;
    *) die "unknown scenario '$1' (seed|crosssubnet)" ;;
  esac
}

die() { echo "lab.sh: $*" >&2; exit 1; }
say() { echo "lab.sh: $*" >&2; }
pm() { "${PODMAN[@]}" "$@"; }
nsx() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }
# Remember every name we create, so `down` removes exactly those (and checks the prefix for leftovers).
made() { echo "$1 $2" >>"$STATE/made"; }
new_netns() { ip netns add "$P$1"; made netns "$P$1"; ip -n "$P$1" link set lo up; }

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "timed out after ${limit}s waiting for $what"
    sleep 0.3
  done
}

build_router() {
  new_netns router
  nsx router sysctl -qw net.ipv4.ip_forward=1
  local br
  for br in brA:10.39.0.1/24 brB:10.39.3.1/24; do
    ip -n ${P}router link add "${br%%:*}" type bridge
    ip -n ${P}router addr add "${br#*:}" dev "${br%%:*}"
    ip -n ${P}router link set "${br%%:*}" up
  done
}

# uplink: eth0 in namespace $1, port r-$1 on the router's bridge $3
uplink() {
  local ns=$1 addr=$2 br=$3 gw=$4
  ip link add eth0 netns "$P$ns" type veth peer name "r-$ns" netns ${P}router
  ip -n ${P}router link set "r-$ns" master "$br" up
  ip -n "$P$ns" addr add "$addr" dev eth0
  ip -n "$P$ns" link set eth0 up
  ip -n "$P$ns" route add default via "$gw" dev eth0 proto static metric 100   # as in the seed's `ip route`
}

build_node() {
  local n=$1 addr gw pod cali br mtu pod_ns=pod${1#node}
  read -r addr gw pod cali br mtu <<<"$(node_params "$n")"
  new_netns "$n"
  nsx "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  uplink "$n" "$addr" "$br" "$gw"
  # The pod, wired the way Calico's CNI plugin does it: /32 on the pod, default via 169.254.1.1 which the host side
  # answers by proxy ARP; on the node a /32 route to the pod through its cali* veth.
  new_netns "$pod_ns"
  ip link add "$cali" netns "$P$n" type veth peer name eth0 netns "$P$pod_ns"
  ip -n "$P$n" link set "$cali" address ee:ee:ee:ee:ee:ee mtu "$mtu"
  ip -n "$P$pod_ns" link set eth0 mtu "$mtu"
  nsx "$n" sysctl -qw "net.ipv4.conf.$cali.proxy_arp=1" "net.ipv4.neigh.$cali.proxy_delay=0" \
                      "net.ipv4.conf.$cali.forwarding=1"
  ip -n "$P$n" link set "$cali" up
  ip -n "$P$n" route add "$pod/32" dev "$cali" scope link
  ip -n "$P$pod_ns" addr add "$pod/32" dev eth0
  ip -n "$P$pod_ns" link set eth0 up
  ip -n "$P$pod_ns" route add 169.254.1.1 dev eth0 scope link
  ip -n "$P$pod_ns" route add default via 169.254.1.1 dev eth0
}

run_container() {  # run_container NAME HOSTNAME [podman run args...] IMAGE COMMAND...
  local name=$1 host=$2; shift 2
  made container "$P$name"   # before `run`: a failed run can leave a created container behind
  pm run -d --name "$P$name" --hostname "$host" --network "ns:/run/netns/$P$name" \
     --cap-add NET_RAW \
     -v "$LAB_DIR:$C_LAB:ro" "$@" >/dev/null
}

# The loader and health check run with the lab host's python3 inside the etcd namespace (only the network matters;
# a `podman exec` costs seconds in the VM).
etcd_py() { nsx etcd python3 "$LAB_DIR/datastore/load.py" --endpoint "$ETCD_URL" "$@"; }

start_etcd() {  # in the background: `up` waits for all containers at once
  local flavour=$1 v2=()
  [ "$flavour" = v2 ] && v2=(--enable-v2)   # Calico v2 speaks the etcd v2 API
  run_container etcd etcd "$IMAGE" etcd --name lab --data-dir /var/lib/etcd/lab \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster lab=http://127.0.0.1:2380 "${v2[@]}" &
}

# A node: BIRD and the stand-in agent, started by node-init.sh (the agent renders BIRD's config from the datastore).
start_node() {
  local n=$1 flavour=$2
  mkdir -p "$STATE/$n" "$LOGS/$n"
  run_container "$n" "$n" --cap-add NET_ADMIN -v "$STATE/$n:$C_RUN" -v "$LOGS/$n:$C_LOG" "$IMAGE" \
    "$C_LAB/topology/node-init.sh" "$n" "$flavour" "$ETCD_URL" &
}

# The pod: a container in the pod namespace (what Kubernetes would run), so checks can run inside it (ping).
start_pod() {
  run_container "pod${1#node}" "pod${1#node}" "$IMAGE" sleep infinity &
}

# The datastore relay: socat in the etcd namespace (unix socket -> etcd) and socat in the root namespace (the relay
# address -> that socket). Both recorded by PID; `down` ends them by PID.
start_datastore_relay() {
  local listen=${K8SNET_LAB_DATASTORE_RELAY:-} sock=$STATE/etcd.sock
  [ -n "$listen" ] || return 0
  # disown: they outlive `up`, which waits for its other background jobs (the container starts)
  setsid ip netns exec ${P}etcd socat UNIX-LISTEN:"$sock",fork,unlink-early TCP4:$ETCD_IP:2379 \
    </dev/null >>"$LOGS/relay.log" 2>&1 &
  made process $!
  disown $!
  setsid socat TCP4-LISTEN:"${listen##*:}",bind="${listen%:*}",fork,reuseaddr UNIX-CONNECT:"$sock" \
    </dev/null >>"$LOGS/relay.log" 2>&1 &
  made process $!
  disown $!
  say "datastore relay: $listen -> $ETCD_URL"
}

wait_jobs() {  # wait for every background job; fail if one failed
  local pid rc=0
  for pid in $(jobs -p); do wait "$pid" || rc=1; done
  [ $rc = 0 ] || die "$1 failed (see above)"
}

# The remote blocks' routes exist on every node once the mesh has converged (broken or not).
mesh_converged() {
  local n other block
  for n in $NODES; do
    for other in $NODES; do
      [ "$n" = "$other" ] && continue
      block=$(node_block "$other")
      ip -n "$P$n" route show "$block" proto bird | grep -q via || return 1
    done
  done
}
node_block() {
  case $1 in node1) echo 192.168.70.0/26 ;; node2) echo 192.168.169.192/26 ;; node3) echo 192.168.80.0/26 ;; esac
}

up() {
  local scenario=seed flavour=v3 extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --scenario) scenario=$2; shift 2 ;;
      --flavour) flavour=$2; shift 2 ;;
      --extra) extra+=("$2"); shift 2 ;;
      *) die "unknown argument '$1'" ;;
    esac
  done
  case $flavour in v3|v2) ;; *) die "unknown flavour '$flavour' (v3|v2)" ;; esac
  local x
  for x in "${extra[@]}"; do
    [ -f "$LAB_DIR/datastore/$flavour/$x.kv" ] || die "--extra $x: no datastore/$flavour/$x.kv"
  done
  [ "$(id -u)" = 0 ] || die "run as root on the lab host"
  [ ! -e "$STATE/made" ] || die "a lab is already up ($STATE/made exists): run 'lab.sh down' first"
  NODES=$(scenario_nodes "$scenario")
  IMAGE=${LAB_NODE_IMAGE:-$("$LAB_DIR/platform/labhost" image)}
  # The logs are the last topology's until the next `up` (readable after `down`): a new topology starts new ones,
  # so that timings read from them (tests/benchmarks/lab_convergence.py) see only this topology's events.
  rm -rf "$LOGS"
  mkdir -p "$STATE" "$LOGS"
  : >"$STATE/made"
  printf 'scenario=%s\nflavour=%s\nnodes="%s"\nextra="%s"\netcd=%s\nlogs=%s\n' \
    "$scenario" "$flavour" "$NODES" "${extra[*]}" "$ETCD_URL" "$LOGS" >"$STATE/lab.env"
  local start=$SECONDS n
  # A kernel with the ipip module gives every namespace a fallback tunl0; calico-node would load it too.
  modprobe ipip 2>/dev/null || true
  modprobe vxlan 2>/dev/null || true
  build_router
  for n in $NODES; do build_node "$n"; done
  new_netns etcd
  uplink etcd $ETCD_IP/24 brA 10.39.0.1
  start_datastore_relay
  # Containers start in parallel (each `podman run` takes seconds in the VM); the agents wait for the datastore.
  start_etcd "$flavour"
  for n in $NODES; do start_node "$n" "$flavour"; start_pod "$n"; done
  wait_for 240 "etcd at $ETCD_URL" etcd_py --health
  say "etcd healthy after $((SECONDS - start))s"
  # shellcheck disable=SC2086
  etcd_py --flavour "$flavour" cluster $NODES "${extra[@]}"
  wait_jobs "starting the containers"
  say "containers started after $((SECONDS - start))s"
  wait_for 180 "BGP routes to every remote block" mesh_converged
  say "up in $((SECONDS - start))s: scenario=$scenario flavour=$flavour nodes: $NODES${extra[*]:+; extra: ${extra[*]}};\
 etcd $ETCD_URL; logs $LOGS"
}

# Every name the lab can create: `down` also removes these if an interrupted `up` did not record them.
ALL_CONTAINERS="etcd node1 node2 node3 pod1 pod2 pod3"
ALL_NETNS="pod1 pod2 pod3 node1 node2 node3 etcd router"

down() {
  local kind name left=0 containers=() netns=() pids=()
  mkdir -p "$STATE"
  touch "$STATE/made"
  for name in $ALL_CONTAINERS; do containers+=("$P$name"); done
  for name in $ALL_NETNS; do netns+=("$P$name"); done
  while read -r kind name; do
    case $kind in container) containers+=("$name") ;; netns) netns+=("$name") ;; process) pids+=("$name") ;; esac
  done <"$STATE/made"
  # Processes the lab started (the datastore relay), by PID, with the connections they forked.
  for pid in "${pids[@]}"; do pkill -P "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  # Containers first (their processes, BIRD and the agents, end with them), all in one podman call (seconds each in
  # the VM); -i: names that do not exist are fine.
  mapfile -t containers < <(printf '%s\n' "${containers[@]}" | sort -u)
  pm rm -f -i -t 0 "${containers[@]}" >/dev/null 2>&1 || true
  for name in $(printf '%s\n' "${netns[@]}" | sort -u); do
    [ -e "/run/netns/$name" ] || continue
    # Anything still running inside a lab namespace was started by the lab (e.g. a capture): end it by PID.
    for pid in $(ip netns pids "$name" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    ip netns delete "$name" 2>/dev/null || true
  done
  rm -rf "$STATE"
  # Check: nothing with the lab's names is left.
  for name in $(ip netns list | awk '{print $1}'); do
    if printf '%s\n' "${netns[@]}" | grep -qx "$name"; then say "left over namespace: $name"; left=1; fi
  done
  for pid in "${pids[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then say "left over process: $pid"; left=1; fi
  done
  for name in $(pm ps -a --format '{{.Names}}'); do
    if printf '%s\n' "${containers[@]}" | grep -qx "$name"; then say "left over container: $name"; left=1; fi
  done
  [ $left = 0 ] || die "down: something is left (see above)"
  say "down: no lab namespace or container left"
}

status() {
  [ -e "$STATE/lab.env" ] || { echo "lab: down"; return 1; }
  cat "$STATE/lab.env"
  pm ps --filter "name=^$P" --format '{{.Names}} {{.Status}}'
  ip netns list | awk '{print $1}' | grep "^$P" | tr '\n' ' '; echo
}

# ---- check: the evidence, from the nodes' and pods' network namespaces (the lab host's tools: fast in the VM) ----
field() { local v; read -r -a v <<< "$(node_params "$1")"; echo "${v[$2]}"; }
node_ip() { local a; a=$(field "$1" 0); echo "${a%/*}"; }
same_subnet() { [ "$(field "$1" 1)" = "$(field "$2" 1)" ]; }

# What the route from node $2 to node $3's block must read in state $1 (`ip route` shapes as BIRD and Felix
# program them).
want_route() {
  local expect=$1 a=$2 b=$3
  if same_subnet "$a" "$b" && [ "$expect" != ipip ]; then echo "via $(node_ip "$b") dev eth0 proto bird"; return; fi
  case $expect in
    broken) echo "via $(field "$a" 1) dev eth0 proto bird" ;;
    ipip|crosssubnet) echo "via $(node_ip "$b") dev tunl0 proto bird onlink" ;;
  esac
}

# Capture on node $1's eth0 while pod $2 pings pod $3; prints the capture, returns 0 if it saw IPIP between the nodes.
capture_ipip() {
  local a=$1 b=$2 out="$LOGS/capture-$1-to-$2" pid
  nsx "$a" timeout 8 tcpdump -i eth0 -c 6 -w "$out.pcap" "host $(node_ip "$b") and (ip proto 4 or icmp)" \
    >/dev/null 2>&1 &
  pid=$!
  sleep 1.5   # tcpdump must be listening before the first packet
  nsx "pod${a#node}" ping -c 3 -i 0.3 -W 1 "$(field "$b" 2)" >/dev/null 2>&1 || true
  wait "$pid" || true
  # -n shows the nested headers on one line (as in the seed), -v adds the outer header's `proto IPIP (4)`.
  tcpdump -n -r "$out.pcap" 2>/dev/null >"$out.txt" || true
  tcpdump -nv -r "$out.pcap" 2>/dev/null >"$out-v.txt" || true
  sed 's/^/    /' "$out.txt"; grep -m2 'proto IPIP (4)' "$out-v.txt" | sed 's/^/    -v: /' || true
  grep -q "$(node_ip "$a") > $(node_ip "$b"): IP $(field "$a" 2) > $(field "$b" 2): ICMP echo request" "$out.txt" &&
    grep -q "proto IPIP (4)" "$out-v.txt"
}

check() {
  local expect=${1:?usage: lab.sh check broken|ipip|crosssubnet} a b route want ok fail=0
  [ -e "$STATE/lab.env" ] || die "no lab is up"
  # shellcheck disable=SC1091
  . "$STATE/lab.env"
  echo "== routes to the other nodes' blocks (expect: $expect)"
  # shellcheck disable=SC2154  # $nodes comes from lab.env, written by `up`
  for a in $nodes; do
    for b in $nodes; do
      [ "$a" = "$b" ] && continue
      route=$(nsx "$a" ip route show "$(node_block "$b")" | sed 's/ *$//')
      want="$(node_block "$b") $(want_route "$expect" "$a" "$b")"
      if [ "$route" = "$want" ]; then ok=ok; else ok="MISMATCH, want: $want"; fail=1; fi
      echo "  $a: ${route:-<no route>}   [$ok]"
    done
  done
  if [ "$expect" != broken ]; then
    echo "== tunl0"
    for a in $nodes; do
      echo "  $a: $(nsx "$a" ip -o link show dev tunl0 | grep -o 'mtu [0-9]*\|link/ipip' | tr '\n' ' ')$(nsx "$a" ip -br addr show dev tunl0 2>&1)"
    done
  fi
  echo "== pod to pod ping"
  for a in $nodes; do
    for b in $nodes; do
      [ "$a" = "$b" ] && continue
      if nsx "pod${a#node}" ping -c 2 -i 0.3 -W 1 "$(field "$b" 2)" >/dev/null 2>&1; then route=reaches; else route=FAILS; fi
      if [ "$expect" = broken ] && ! same_subnet "$a" "$b"; then want=FAILS; else want=reaches; fi
      if [ "$route" = "$want" ]; then ok=ok; else ok="MISMATCH, want: $want"; fail=1; fi
      echo "  pod${a#node} $(field "$a" 2) -> pod${b#node} $(field "$b" 2): $route   [$ok]"
    done
  done
  if [ "$expect" != broken ]; then
    for b in $nodes; do
      [ "$b" = node1 ] && continue
      echo "== capture on node1 eth0, pod1 -> pod${b#node}"
      if capture_ipip node1 "$b"; then route=IPIP; else route=plain; fi
      if [ "$expect" = crosssubnet ] && same_subnet node1 "$b"; then want=plain; else want=IPIP; fi
      if [ "$route" = "$want" ]; then ok=ok; else ok="MISMATCH, want: $want"; fail=1; fi
      echo "  node1 -> $b: $route   [$ok]"
    done
  fi
  [ $fail = 0 ] || die "check $expect: mismatches above"
  echo "check $expect: all as expected"
}

# ---- fault: the failures the reliability scenario (extensions/molecule/faults) injects, one part at a time ----
in_node() { local n=$1; shift; pm exec "$P$n" sh -c "$*"; }
fault() {
  local what=${1:?usage: lab.sh fault WHAT ...} n=${2:-} action=${3:-${2:-}}
  [ -e "$STATE/lab.env" ] || die "no lab is up"
  # shellcheck disable=SC1091
  . "$STATE/lab.env"
  # shellcheck disable=SC2154  # $flavour comes from lab.env
  local node_flavour=$flavour
  case $what in
    ipip-blocked)
      # Routed traffic between the subnets only: node1 <-> node3 share brA and are bridged, not forwarded.
      case $n in
        on) nsx router iptables -C FORWARD -p 4 -j DROP 2>/dev/null || nsx router iptables -I FORWARD -p 4 -j DROP ;;
        off) while nsx router iptables -D FORWARD -p 4 -j DROP 2>/dev/null; do :; done ;;
        *) die "fault ipip-blocked on|off" ;;
      esac ;;
    etcd)
      case $n in
        stop) pm stop -t 0 "${P}etcd" >/dev/null ;;
        start) pm start "${P}etcd" >/dev/null; wait_for 120 "etcd at $ETCD_URL" etcd_py --health ;;
        *) die "fault etcd stop|start" ;;
      esac ;;
    agent)
      case $action in
        stop) in_node "$n" "kill \$(cat $C_RUN/agent.pid)" ;;   # ends only the agent the lab started, by its PID
        start) pm exec -d "$P$n" "$C_LAB/topology/node-init.sh" "$n" "$node_flavour" "$ETCD_URL" agent >/dev/null ;;
        *) die "fault agent NODE stop|start" ;;
      esac ;;
    tunl0)
      # The kernel's tunl0 is the ipip module's fallback device: `ip link del` cannot remove it (a no-op for a
      # fallback device), so "deleted" is done as what takes it out of the data plane: link down, addresses flushed;
      # the kernel then drops every route through it.
      [ -n "$n" ] || die "fault tunl0 NODE"
      nsx "$n" ip link set tunl0 down
      nsx "$n" ip addr flush dev tunl0 ;;
    bird)
      [ "$action" = kill ] || die "fault bird NODE kill"
      in_node "$n" "kill -KILL \$(cat $C_RUN/bird.pid)" ;;
    node)
      case $action in
        stop) pm stop -t 0 "$P$n" >/dev/null ;;
        start) pm start "$P$n" >/dev/null ;;   # node-init.sh again: the agent, then BIRD on a flushed table
        forget) etcd_py --flavour "$node_flavour" --delete "$n" ;;
        *) die "fault node NODE stop|start|forget" ;;
      esac ;;
    *) die "unknown fault '$what' (ipip-blocked, etcd, agent, tunl0, bird, node)" ;;
  esac
  say "fault $*: done"
}

cmd=${1:-}; shift || true
case $cmd in
  up) up "$@" ;;
  down) down ;;
  status) status ;;
  check) check "$@" ;;
  fault) fault "$@" ;;
  exec) n=${1:?NODE}; shift; exec "${PODMAN[@]}" exec "$P$n" "$@" ;;
  *) sed -n '2,25p' "$0" >&2; exit 2 ;;
esac
