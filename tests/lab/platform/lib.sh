# shellcheck shell=bash disable=SC2034
# Common paths and helpers of the lab platform. Sourced by labhost, podman.sh, image.sh and smoke.sh.
#
# Where things live (K8SNET_LAB_HOME, default /var/lib/k8snet-lab):
#   cache/kernel/<version>/  Debian's stock kernel, unpacked (not installed), for the VM
#   cache/vng/               virtme-ng in its own venv
#   store/                   the podman image store the node image is imported into (host side);
#                            in direct mode the lab's containers live in it too
#   run/                     runtime state of a lab host that is up; removed by `labhost down`
#     mode                   "vm" or "direct"
#     vm.pid, vm.port, vm.log   the VM supervisor's process group id, the forwarded API port, its console
#     datastore.port            the host's 127.0.0.1 port that reaches the lab's etcd (through the topology's relay)
#     shared/                read-write for the VM and the host (K8SNET_LAB_SHARED)
# Inside the VM (guest-private tmpfs): /run/k8snet-lab-guest/{root,runroot,tmp} is the guest's own podman store,
# which uses store/ above read-only as an additional image store; /run/k8snet-lab-guest/env marks "in the VM".

LAB_PLATFORM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO_DIR=$(cd "$LAB_PLATFORM_DIR/../../.." && pwd)
LAB_HOME=${K8SNET_LAB_HOME:-/var/lib/k8snet-lab}
LAB_CACHE=$LAB_HOME/cache
LAB_STORE=$LAB_HOME/store
LAB_RUN=$LAB_HOME/run
LAB_SHARED=$LAB_RUN/shared
LAB_GUEST_DIR=/run/k8snet-lab-guest
LAB_GUEST_PORT=8080              # podman API port inside the VM (forwarded from host 127.0.0.1:<vm.port>)
LAB_GUEST_ADDR=10.0.2.15         # the VM's only address: QEMU user networking, restrict=on, no default route
LAB_GUEST_DATASTORE_PORT=2379    # the lab's datastore relay inside the VM (forwarded from host 127.0.0.1:<vm.datastore_port>)
LAB_ADMIN=k8snet-lab-admin       # privileged helper container in the VM, the way into its root namespaces
LAB_IMAGE_REPO=localhost/k8snet-lab-node
LAB_NETNS_PREFIX=k8snet-

lab_die() { echo "labhost: $*" >&2; exit 1; }
lab_log() { [ -n "${K8SNET_LAB_VERBOSE:-}" ] && echo "labhost: $*" >&2; return 0; }

# True inside the lab VM (set up by vm-guest.sh).
lab_in_guest() { [ -e "$LAB_GUEST_DIR/env" ]; }

# The node image reference; the tag is a hash of the image recipe, so a changed recipe means a new image.
lab_image() {
  local tag
  tag=$(sha256sum < "$LAB_PLATFORM_DIR/image.sh" | cut -c1-12)
  echo "$LAB_IMAGE_REPO:$tag"
}

# Does the running kernel create ipip devices? (scratch namespace, so nothing changes outside it)
lab_kernel_has_ipip() {
  local ns="${LAB_NETNS_PREFIX}probe-$$" rc=1
  ip netns add "$ns" 2>/dev/null || return 1
  if ip -n "$ns" link add k8snetprobe type ipip local 127.0.0.2 remote 127.0.0.3 2>/dev/null; then rc=0; fi
  ip netns delete "$ns" 2>/dev/null
  return $rc
}

# The mode of a lab host that is up (from state), else what this machine needs (K8SNET_LAB_MODE or detection).
lab_mode() {
  if lab_in_guest; then echo vm-guest; return; fi
  if [ -s "$LAB_RUN/mode" ]; then cat "$LAB_RUN/mode"; return; fi
  lab_wanted_mode
}
lab_wanted_mode() {
  case "${K8SNET_LAB_MODE:-auto}" in
    vm|direct) echo "$K8SNET_LAB_MODE" ;;
    auto) if lab_kernel_has_ipip; then echo direct; else echo vm; fi ;;
    *) lab_die "K8SNET_LAB_MODE must be auto, vm or direct (is '$K8SNET_LAB_MODE')" ;;
  esac
}

# Global podman flags for the host-side store (image import; all containers in direct mode).
# Podman 4.3 on a hybrid-cgroup host needs runc (crun refuses it); storage as flags, not CONTAINERS_STORAGE_CONF.
lab_host_podman_flags() {
  echo "--root $LAB_STORE/root --runroot $LAB_RUN/podman --tmpdir $LAB_RUN/podman-tmp --storage-driver overlay" \
       "--runtime runc --cgroup-manager cgroupfs --events-backend file"
}
# Inside the VM: own store on a tmpfs, the host store read-only for images; crun works there.
lab_guest_podman_flags() {
  echo "--root $LAB_GUEST_DIR/root --runroot $LAB_GUEST_DIR/runroot --tmpdir $LAB_GUEST_DIR/tmp" \
       "--storage-driver overlay --storage-opt additionalimagestore=$LAB_STORE/root" \
       "--cgroup-manager cgroupfs --events-backend file"
}
# From the host to the VM's podman API service.
lab_remote_podman_flags() {
  [ -s "$LAB_RUN/vm.port" ] || lab_die "no lab VM is up (run: tests/lab/platform/labhost up)"
  echo "--url tcp://127.0.0.1:$(cat "$LAB_RUN/vm.port")"
}
# The podman flags for where this runs. Inside the VM, podman talks to the VM's own API service too: the CLI then
# skips opening the store, which under TCG makes a call 1.5-3x faster (K8SNET_LAB_PODMAN_LOCAL=1: open the store).
lab_podman_flags() {
  case "$(lab_mode)" in
    vm-guest) if [ -n "${K8SNET_LAB_PODMAN_LOCAL:-}" ]; then lab_guest_podman_flags
              else echo "--url tcp://$LAB_GUEST_ADDR:$LAB_GUEST_PORT"; fi ;;
    vm) lab_remote_podman_flags ;;
    direct) lab_host_podman_flags ;;
  esac
}
