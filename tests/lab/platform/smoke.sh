#!/usr/bin/env bash
# Smoke test of the lab platform (make lab-smoke): on the lab host, two network namespaces joined by a veth, one
# node container in each (the lab's image), tunl0 in both, a ping between two "pod" addresses over real IP-in-IP
# (with a capture showing the encapsulation); then, from THIS host, Ansible reaches a container with
# containers.podman.podman (ping, copy = put_file, fetch = fetch_file). Brings the lab host up if it is down, and
# down again at the end in that case. Prints "smoke: N passed, M failed".
#   usage: smoke.sh            (on the host)
#          smoke.sh --labhost setup|check|cleanup   (the parts that run ON the lab host, via labhost exec)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
LABHOST=$LAB_PLATFORM_DIR/labhost
PODMAN=$LAB_PLATFORM_DIR/podman.sh
A=${LAB_NETNS_PREFIX}smoke-a B=${LAB_NETNS_PREFIX}smoke-b
# Underlay (10.39.200.0/24) and "pod" addresses (192.168.250.1, 192.168.251.1): only inside the smoke's namespaces.
declare -A UNDER=([$A]=10.39.200.1 [$B]=10.39.200.2) POD=([$A]=192.168.250.1 [$B]=192.168.251.1)
declare -A PEER=([$A]=$B [$B]=$A)

on_labhost() {
  case "$1" in
    setup)
      modprobe ipip 2>/dev/null || true
      for n in $A $B; do ip netns add "$n"; done
      # Both ends created inside lab namespaces: nothing touches the lab host's root namespace.
      ip -n "$A" link add eth0 type veth peer name eth0 netns "$B"
      for n in $A $B; do
        ip -n "$n" link set lo up
        ip -n "$n" addr add "${UNDER[$n]}/24" dev eth0
        ip -n "$n" link set eth0 up
        "$PODMAN" run -d --name "$n" --network "ns:/run/netns/$n" --cap-add NET_ADMIN --cap-add NET_RAW \
          "$(lab_image)" sleep infinity >/dev/null
      done
      for n in $A $B; do
        p=${PEER[$n]}
        # In the container: tunl0 (the kernel's ipip fallback device), a pod /32 on it, the peer's pod range
        # via the peer's underlay address over tunl0 (what Calico's BIRD does with IPIP on).
        "$PODMAN" exec "$n" sh -ec "
          ip link set tunl0 up
          ip addr add ${POD[$n]}/32 dev tunl0
          ip route add ${POD[$p]%.*}.0/24 via ${UNDER[$p]} dev tunl0 onlink"
      done ;;
    check)
      "$PODMAN" exec "$B" sh -c 'ip -d link show tunl0 | grep -o "ipip any remote any"'
      # Capture on B's uplink while A pings B's pod address from its own pod address.
      "$PODMAN" exec -d "$B" sh -c 'timeout 20 tcpdump -l -n -v -c 2 -i eth0 ip proto 4 >/tmp/cap.txt 2>/dev/null'
      sleep 2
      "$PODMAN" exec "$A" ping -c 3 -W 2 -I "${POD[$A]}" "${POD[$B]}" | grep -E 'packets transmitted|bytes from' | tail -2
      sleep 1
      "$PODMAN" exec "$B" sh -c 'cat /tmp/cap.txt' | grep -E 'proto IPIP|ICMP echo' | head -4 ;;
    cleanup)
      "$PODMAN" rm -f -t 0 "$A" "$B" >/dev/null 2>&1 || true
      for n in $A $B; do ip netns delete "$n" 2>/dev/null || true; done ;;
  esac
}
if [ "${1:-}" = --labhost ]; then on_labhost "$2"; exit; fi

passed=0 failed=0
ok() { echo "smoke: PASS $*"; passed=$((passed + 1)); }
bad() { echo "smoke: FAIL $*"; failed=$((failed + 1)); }
t0=$SECONDS
started=0
if ! "$LABHOST" status >/dev/null 2>&1; then "$LABHOST" up; started=1; fi
echo "smoke: lab host up ($("$LABHOST" mode)) in $((SECONDS - t0)) s"
work=$(mktemp -d)
finish() {
  "$LABHOST" exec -- "$LAB_PLATFORM_DIR/smoke.sh" --labhost cleanup || true
  if [ "$started" = 1 ]; then
    if "$LABHOST" down; then ok "labhost down left nothing behind"; else bad "labhost down"; fi
  fi
  rm -rf "$work"
  echo "smoke: total $((SECONDS - t0)) s"
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
trap 'finish; exit $?' EXIT

t=$SECONDS
"$LABHOST" exec -- "$LAB_PLATFORM_DIR/smoke.sh" --labhost cleanup >/dev/null 2>&1 || true
if "$LABHOST" exec -- "$LAB_PLATFORM_DIR/smoke.sh" --labhost setup; then ok "two netns + two node containers ($((SECONDS - t)) s)"
else bad "setup"; exit 1; fi

t=$SECONDS
out=$("$LABHOST" exec -- "$LAB_PLATFORM_DIR/smoke.sh" --labhost check 2>&1) || true
printf '%s\n' "$out" | sed 's/^/  /'
if grep -q 'ipip any remote any' <<<"$out"; then ok "tunl0 is a real ipip device"; else bad "tunl0 is not an ipip device"; fi
if grep -q ' 0% packet loss' <<<"$out"; then ok "pod-to-pod ping over IPIP ($((SECONDS - t)) s)"; else bad "pod-to-pod ping over IPIP"; fi
if grep -q 'proto IPIP' <<<"$out" && grep -q "${POD[$A]} > ${POD[$B]}: ICMP echo request" <<<"$out"; then
  ok "capture shows the pod packets inside IP-in-IP"; else bad "capture shows no IP-in-IP"; fi

# Ansible from this host into a node container, with the host vars labhost prints.
t=$SECONDS
ANSIBLE=$LAB_REPO_DIR/.venv/bin/ansible
[ -x "$ANSIBLE" ] || ANSIBLE=ansible
/usr/bin/python3 "$(dirname "$LABHOST")/labhost_util.py" inventory "$work/inventory.json" "$A" \
  "$("$LABHOST" ansible-vars)"
run_ansible() { ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_NOCOLOR=1 "$ANSIBLE" -i "$work/inventory.json" "$A" "$@"; }
if run_ansible -m ansible.builtin.ping >"$work/ping.txt" 2>&1 && grep -q '"ping": "pong"' "$work/ping.txt"; then
  ok "ansible ping from the host via containers.podman.podman ($((SECONDS - t)) s)"; head -1 "$work/ping.txt" | sed 's/^/  /'
else bad "ansible ping"; sed 's/^/  /' "$work/ping.txt"; fi
t=$SECONDS
if run_ansible -m ansible.builtin.copy -a "content=k8snet-smoke dest=/tmp/smoke.txt" >"$work/copy.txt" 2>&1 &&
   run_ansible -m ansible.builtin.fetch -a "src=/tmp/smoke.txt dest=$work/fetched/ flat=true" >>"$work/copy.txt" 2>&1 &&
   [ "$(cat "$work/fetched/smoke.txt" 2>/dev/null)" = k8snet-smoke ]; then
  ok "ansible copy (put_file) and fetch (fetch_file) round trip ($((SECONDS - t)) s)"
else bad "ansible copy/fetch"; sed 's/^/  /' "$work/copy.txt"; fi
