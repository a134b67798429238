# The pre-change tunnel test's node side, run as `sh -c "$(cat tunnel_test.sh)" tunnel_test STEP ARG...` by
# tasks/tunnel_test.yml (one round trip per step, no Python needed). The plan (which tunnels, which addresses) is
# made on the controller (filter ipip_tunnel_test_plan); this only runs it. Every test tunnel is named k8snet-t<N>.
#   firewall                        what iptables-save and nft list ruleset print (read-only; nothing if absent)
#   setup (NAME LOCAL REMOTE ADDRESS PEER)...
#                                   removes any test tunnel left, then brings up each tunnel: one line per tunnel,
#                                   "ok" or "setup failed: <what ip said>"
#   ping PEER...                    pings each peer at once: one line per peer, in order, "ok" or "no reply"
#   cleanup                         removes every test tunnel, then prints the names of those still there (none)
test_tunnels() {
  ip -o link show | sed -n 's/^[0-9]*: \(k8snet-t[0-9]*\)[@:].*/\1/p'
}

remove_test_tunnels() {
  for name in $(test_tunnels); do ip link del "$name"; done
}

step=$1; shift
case $step in
  firewall)
    iptables-save 2>/dev/null
    nft list ruleset 2>/dev/null
    true ;;
  setup)
    remove_test_tunnels
    while [ $# -ge 5 ]; do
      if out=$(ip link add "$1" type ipip local "$2" remote "$3" 2>&1 &&
               ip addr add "$4/32" peer "$5/32" dev "$1" 2>&1 && ip link set "$1" up 2>&1); then
        echo ok
      else
        echo "setup failed: $(printf '%s' "$out" | tr '\n' ' ')"
      fi
      shift 5
    done ;;
  ping)
    pids=''
    for peer do ping -c 3 -i 0.5 -W 2 -q "$peer" >/dev/null 2>&1 & pids="$pids $!"; done
    for pid in $pids; do if wait "$pid"; then echo ok; else echo 'no reply'; fi; done ;;
  cleanup)
    remove_test_tunnels
    test_tunnels ;;
  *)
    echo "tunnel_test.sh: unknown step '$step' (firewall, setup, ping, cleanup)" >&2
    exit 2 ;;
esac
