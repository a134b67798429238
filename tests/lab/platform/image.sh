#!/usr/bin/env bash
# Build the lab's node image from Debian packages (no container registry is reachable) and import it into the lab's
# host-side image store. The image tag is a hash of THIS file (the recipe): edit the recipe and the next
# `labhost up` builds a new image; otherwise the cached one is used. Older tags are removed.
#   usage: image.sh          (build if missing; prints nothing on success)
#          image.sh --force  (rebuild)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

SUITE=bookworm
# What a lab node needs: Python for Ansible, iproute2 for ipip/netns work, BIRD 2 for routing, etcd for the lab's
# datastore (same image), ping/tcpdump for the checks, procps for ps/pkill inside a node.
PACKAGES=python3,iproute2,bird2,iputils-ping,tcpdump,procps,etcd-server,etcd-client,ca-certificates,openssl

image=$(lab_image)
read -r -a pm <<<"$(lab_host_podman_flags)"
if [ "${1:-}" != --force ] && podman "${pm[@]}" image exists "$image"; then exit 0; fi

# The Debian mirror this machine's apt uses (never a hard-coded host).
mirror() { /usr/bin/python3 "$LAB_PLATFORM_DIR/labhost_util.py" apt-mirror "$SUITE"; }

work=$LAB_HOME/tmp/image-build.$$
trap 'rm -rf "$work"' EXIT
rm -rf "$LAB_HOME"/tmp/image-build.*
mkdir -p "$work" "$LAB_STORE" "$LAB_RUN"
start=$SECONDS
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/rootfs" "$(mirror)" >"$work/debootstrap.log" 2>&1; then
  tail -20 "$work/debootstrap.log" >&2
  lab_die "debootstrap failed (log above)"
fi
# Smaller image: no package caches or lists (nothing is installed in a node at run time).
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/log/*.log
tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
podman "${pm[@]}" import -q --change 'CMD ["sleep", "infinity"]' "$work/rootfs.tar" "$image" >/dev/null
# Remove the images of older recipes.
podman "${pm[@]}" images --format '{{.Repository}}:{{.Tag}}' | while read -r old; do
  if [ "${old%%:*}" = "$LAB_IMAGE_REPO" ] && [ "$old" != "$image" ]; then
    podman "${pm[@]}" rmi -f "$old" >/dev/null 2>&1 || true
  fi
done
lab_log "built $image in $((SECONDS - start)) s"
