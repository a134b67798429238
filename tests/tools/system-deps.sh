#!/usr/bin/env bash
# Install the Debian packages a test suite needs (idempotent; apt-get update only when something is missing).
# Usage: tests/tools/system-deps.sh PROFILE...   (profiles and packages: bindep.txt at the repository root)
set -euo pipefail
bindep=$(cd "$(dirname "$0")/../.." && pwd)/bindep.txt
need=()
for g in "$@"; do
  pkgs=$(awk -v g="$g" '!/^#/ && NF { for (i = 2; i <= NF; i++) { w = $i; gsub(/[][]/, "", w); if (w == g) print $1 } }' "$bindep")
  [ -n "$pkgs" ] || { echo "system-deps.sh: no package has profile '$g' in $bindep" >&2; exit 2; }
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
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
