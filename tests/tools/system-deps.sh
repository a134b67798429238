#!/usr/bin/env bash
# Install the Debian packages a test suite needs (idempotent; apt-get update only when something is missing).
# Usage: tests/tools/system-deps.sh GROUP...   (groups below; bindep.txt lists the same packages)
set -euo pipefail
declare -A groups=(
  [datastore]="etcd-server etcd-client"
  [lab]="podman runc crun fuse-overlayfs uidmap debootstrap bird2 iproute2 tcpdump iputils-ping qemu-system-x86 busybox-static udev kmod file procps python3-venv"
)
need=()
for g in "$@"; do
  [ -n "${groups[$g]+x}" ] || { echo "system-deps.sh: unknown group '$g' (known: ${!groups[*]})" >&2; exit 2; }
  for p in ${groups[$g]}; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
done
((${#need[@]})) || exit 0
if [ "$(id -u)" != 0 ]; then
  echo "system-deps.sh: missing Debian packages: ${need[*]} (run as root or install them)" >&2; exit 1
fi
echo "system-deps.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# policy-rc.d 101: install packages without starting their daemons on this machine (etcd, etc.):
# the tests start their own instances on loopback or inside the lab.
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
