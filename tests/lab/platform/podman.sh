#!/usr/bin/env bash
# podman for the lab: use this instead of bare `podman` in every lab script. It adds the flags for where it runs:
#   - inside the lab VM: the guest's own store (tmpfs) + the host's image store read-only;
#   - on the host while the lab VM is up: the VM's podman API service (--url tcp://127.0.0.1:<port>);
#   - on a host whose kernel has ipip (direct mode): the lab's own store, runc, explicit ulimits.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

mode=$(lab_mode)
read -r -a flags <<<"$(lab_podman_flags)"
args=("$@")
if [ "$mode" = direct ]; then
  # Podman's default ulimits can exceed a host's hard limits (runc then fails "error setting rlimits"): give
  # containers explicit ones, within the hard limits (nproc 32768 is what such hosts accept; plenty for a node).
  lim() { local h; h=$(ulimit -H "$1"); if [ "$h" = unlimited ] || [ "$h" -gt "$2" ]; then h=$2; fi; echo "$h:$h"; }
  for i in "${!args[@]}"; do
    case "${args[$i]}" in
      -*) continue ;;
      run|create)
        args=("${args[@]:0:$((i + 1))}" --ulimit "nofile=$(lim -n 1048576)" --ulimit "nproc=$(lim -u 32768)"
              "${args[@]:$((i + 1))}") ;;
    esac
    break
  done
fi
exec podman "${flags[@]}" "${args[@]}"
