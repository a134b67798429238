#!/usr/bin/env bash
# The lab by hand (called by the Makefile; see tests/lab/README.md):
#   lab.sh up           lab host (VM or direct) + the incident's topology
#   lab.sh down         topology, then the lab host; checks nothing is left
#   lab.sh shell NODE   interactive shell in a node container (node1, node2, node3, ...)
#   lab.sh status       what is running
#   lab.sh smoke        the platform's smoke test (IPIP ping, Ansible from the host)
#   lab.sh main         the README's main job: lab up (the seed incident), the collection's enable_ipip playbook
#                       (diagnose, enable IPIP, verify every node, probe, report), routes before/after, lab down
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
LABHOST=$ROOT/tests/lab/platform/labhost
TOPOLOGY=$ROOT/tests/lab/topology/lab.sh

topology() {
  if [ -x "$TOPOLOGY" ]; then
    "$LABHOST" exec -- "$TOPOLOGY" "$@"
  else
    echo "lab: no topology yet ($TOPOLOGY missing): lab host only" >&2
  fi
}

# A node's container: the name as given, or with the lab's k8snet- prefix.
container() {
  local n
  for n in "$1" "k8snet-$1"; do
    if "$LABHOST" podman -- container exists "$n" 2>/dev/null; then echo "$n"; return; fi
  done
  echo "lab: no container for node '$1' (running: $("$LABHOST" podman -- ps --format '{{.Names}}' | tr '\n' ' '))" >&2
  return 1
}

up() {
  local t=$SECONDS
  "$LABHOST" up
  topology up --scenario "${LAB_SCENARIO:-seed}" --flavour "${LAB_FLAVOUR:-v3}"
  echo "lab: up ($("$LABHOST" mode)) in $((SECONDS - t)) s; shell: make lab-shell NODE=node1; stop: make lab-down"
}

down() {
  local rc=0
  if "$LABHOST" status >/dev/null 2>&1; then topology down || rc=$?; fi
  "$LABHOST" down || rc=$?
  [ "$rc" = 0 ] && echo "lab: down, nothing left behind"
  return "$rc"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) "$LABHOST" status ;;
  shell)
    [ -n "${2:-}" ] || { echo "usage: make lab-shell NODE=node1" >&2; exit 2; }
    c=$(container "$2")
    tty=(-i); [ -t 0 ] && tty=(-it)
    exec "$LABHOST" podman -- exec "${tty[@]}" "$c" /bin/bash ;;
  smoke) exec "$ROOT/tests/lab/platform/smoke.sh" ;;
  main)
    # The seed incident with the seed's own Calico v2 datastore layout, fixed by the collection's playbook.
    export LAB_SCENARIO=seed LAB_FLAVOUR=v2 LAB_REPORTS=${LAB_REPORTS:-$ROOT/lab-report}
    trap 'down' EXIT
    up
    c=$(container node1)
    routes() {
      echo "lab: node1's routes to the pod network $1:"
      "$LABHOST" podman -- exec "$c" ip route show root 192.168.0.0/16 | sed 's/^/  /'
    }
    routes "(the incident: node2's block via the gateway on eth0)"
    rm -rf "$LAB_REPORTS"
    rc=0
    ANSIBLE_COLLECTIONS_PATH=$ROOT/.ansible/collections ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-1} \
      ansible-playbook -i "$ROOT/extensions/molecule/shared/inventory.py" "$ROOT/playbooks/enable_ipip.yml" || rc=$?
    routes "after the playbook (via node2 on tunl0, onlink)"
    echo "lab: tunl0 on node1:"
    "$LABHOST" podman -- exec "$c" ip -d addr show dev tunl0 | sed 's/^/  /'
    echo "lab: report: $LAB_REPORTS/enable/report.txt (also report.json, report.xml); playbook exit status $rc"
    exit "$rc" ;;
  *) echo "usage: lab.sh up|down|status|shell NODE|smoke|main" >&2; exit 2 ;;
esac
