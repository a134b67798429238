#!/usr/bin/env bash
# INSIDE the lab VM (virtme-ng runs this as its command; the VM powers off when it returns).
# Prepares the VM as a lab host and serves podman's API to the host until `labhost down` stops the service.
# The VM sees the host's root filesystem read-only; /run, /tmp, /var/tmp and /etc are private to it.
set -euo pipefail
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

say() { echo "vm-guest: $*"; }
say "kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"

# The kernel features the lab uses; ipip is why this VM exists.
for m in ipip vxlan veth overlay; do modprobe "$m"; done

# The VM's only link to the host: QEMU user networking (restrict=on: the guest cannot reach any network).
# Address only, no default route: the API port is forwarded to it from the host's 127.0.0.1.
nic=
for d in /sys/class/net/*; do [ "${d##*/}" = lo ] || { nic=${d##*/}; break; }; done
[ -n "$nic" ] || { say "no network interface"; exit 1; }
ip link set lo up
ip link set "$nic" up
ip addr add "$LAB_GUEST_ADDR/24" dev "$nic"

# The guest's own podman store (containers, their upper layers) on a tmpfs; images come from the host's store.
mkdir -p "$LAB_GUEST_DIR"
mount -t tmpfs -o mode=0700 k8snet-lab "$LAB_GUEST_DIR"
mkdir -p "$LAB_GUEST_DIR"/{root,runroot,tmp}
mkdir -p /run/netns
echo "K8SNET_LAB_MODE=vm" >"$LAB_GUEST_DIR/env"   # marks "inside the lab VM" for lib.sh
# podman's CNI config dir may be missing on the host; /etc is a private overlay here.
mkdir -p /etc/cni/net.d

read -r -a flags <<<"$(lab_guest_podman_flags)"
say "podman API on $LAB_GUEST_ADDR:$LAB_GUEST_PORT"
podman "${flags[@]}" system service --time=0 "tcp://$LAB_GUEST_ADDR:$LAB_GUEST_PORT" &
echo $! >"$LAB_GUEST_DIR/service.pid"
rc=0
wait $! || rc=$?
say "podman service ended ($rc), powering off"
exit 0
