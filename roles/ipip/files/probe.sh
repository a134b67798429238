# Run as `sh -c "$(cat probe.sh)" probe DEVICE ADDRESS...` by tasks/probe.yml (one round trip, no Python needed).
# Prints "mtu <DEVICE's MTU>" ("mtu -" when there is no such device), then for each address, probed at once, one
# line in the addresses' order: "<reach> <full> <over>"
#   reach  2 small pings:                                  ok | silent
#   full   DF set, MTU - 28 bytes of payload (a packet of exactly the tunnel's MTU):
#                                                          ok | silent | too-big:<mtu the path or the kernel gave>
#   over   DF set, one byte more (must be refused, not lost): refused:<mtu> | ok | silent
#   full and over are "-" when the device's MTU is not known, and "direct" when the address is not reached through
#   DEVICE (CrossSubnet: a peer in this node's subnet), where the tunnel's MTU does not apply.
# iputils ping: exit 0 = answered, 1 = no answer (or every send refused), 2 = another error; a refused send or an
# ICMP "frag needed" prints "message too long, mtu=N" / "Frag needed and DF set (mtu = N)" (not with -q).
device=$1
mtu=$(cat "/sys/class/net/$device/mtu" 2>/dev/null) || mtu=-
case $mtu in '' | *[!0-9]*) mtu=- ;; esac
shift
echo "mtu $mtu"
dir=$(mktemp -d) || exit 2
trap 'rm -rf "$dir"' EXIT

df_ping() {  # df_ping ADDRESS SIZE -> ok | silent | too-big:N | refused:N (too big, and the caller says refused)
  out=$(ping -c 2 -W 2 -M do -s "$2" "$1" 2>&1); rc=$?
  limit=$(printf '%s\n' "$out" | sed -n 's/.*[Mm]essage too long, mtu=\([0-9]*\).*/\1/p; s/.*mtu = \([0-9]*\)).*/\1/p' \
          | head -n 1)
  if [ -n "$limit" ]; then echo "too-big:$limit"; elif [ "$rc" = 0 ]; then echo ok; else echo silent; fi
}

probe_one() {  # probe_one INDEX ADDRESS
  if ping -c 2 -W 2 -q "$2" >/dev/null 2>&1; then reach=ok; else reach=silent; fi
  via=$(ip route get "$2" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1)
  if [ "$mtu" = - ]; then
    full=- over=-
  elif [ "$via" != "$device" ]; then
    full=direct over=direct
  else
    full=$(df_ping "$2" $((mtu - 28)))
    over=$(df_ping "$2" $((mtu - 27)))
    case $over in too-big:*) over=refused:${over#too-big:} ;; esac
  fi
  echo "$reach $full $over" >"$dir/$1"
}

i=0
for address do i=$((i + 1)); probe_one "$i" "$address" & done
wait
i=0
for address do i=$((i + 1)); cat "$dir/$i" 2>/dev/null || echo "silent - -"; done
