#!/usr/bin/env bash
# The lab VM's supervisor, started by `labhost up` as the leader of its own process group (setsid), with its
# output going to run/vm.log. Runs virtme-ng (QEMU, TCG) until the guest's command (vm-guest.sh) returns.
#   usage: vm-run.sh KERNEL HOST_PORT MEM CPUS TIMEOUT MODULE_BLACKLIST DATASTORE_PORT
set -uo pipefail
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
kernel=$1 port=$2 mem=$3 cpus=$4 timeout_s=$5 blacklist=$6 datastore_port=$7

# The network: QEMU user networking, restrict=on (the guest reaches no network, not even the host's), two forwards
# from the host's 127.0.0.1: <port> to the guest's podman API, <datastore_port> to the topology's etcd relay.
net="-netdev user,id=lab0,restrict=on,hostfwd=tcp:127.0.0.1:$port-$LAB_GUEST_ADDR:$LAB_GUEST_PORT"
net+=",hostfwd=tcp:127.0.0.1:$datastore_port-$LAB_GUEST_ADDR:$LAB_GUEST_DATASTORE_PORT"
net+=" -device virtio-net-pci,netdev=lab0"

echo "vm-run: $(date -u +%FT%TZ) starting $kernel, API 127.0.0.1:$port"
cd /
# --disable-kvm: /dev/kvm on these machines is kvm_pvm, which cannot boot a stock kernel; TCG can.
# --force-9p: QEMU itself enforces the read-only root (readonly=on); no virtiofsd needed.
# Output through a pipe: QEMU reopens fd 1/2 with O_TRUNC, which garbles a log file given directly.
status=$LAB_RUN/vm.status
rm -f "$status"
# The VM in the background, so that this script can also run the watchdog and react to signals at once.
{
  PATH="$LAB_CACHE/vng/bin:$PATH" \
  vng --run "$kernel" --disable-kvm --force-9p --name k8snet-lab \
      --cpus "$cpus" --memory "$mem" \
      --append "modprobe.blacklist=$blacklist tsc=reliable" \
      --rwdir="$LAB_SHARED" \
      --qemu-opts="$net" \
      --exec "$LAB_PLATFORM_DIR/vm-guest.sh" </dev/null 2>&1
  echo $? >"$status"
} | cat &
vm=$!
# Watchdog: a VM nobody stops ends after timeout_s.
sleep "$timeout_s" &
watchdog=$!
# On a signal (labhost down sends TERM to the whole process group), or when either ends: stop the other.
stopping=
# shellcheck disable=SC2064  # $s expands now, on purpose
for s in HUP INT TERM PIPE; do trap "echo vm-run: got SIG$s; stopping=1" $s; done
wait -n "$vm" "$watchdog" || true
if [ -n "$stopping" ] || kill -0 "$watchdog" 2>/dev/null; then
  kill "$watchdog" "$vm" 2>/dev/null
else
  echo "vm-run: $(date -u +%FT%TZ) no labhost down after $timeout_s s: stopping the VM"
  kill -TERM -- -$$ 2>/dev/null
fi
wait
rc=$(cat "$status" 2>/dev/null || echo 1)
echo "vm-run: $(date -u +%FT%TZ) VM ended, status $rc"
exit "$rc"
