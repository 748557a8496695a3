#!/usr/bin/env bash
# `make demo`: tapvs in each LVS forwarding mode, in throw-away network namespaces.
#   bash netns/demo.sh [nat|dr|tun|nat6|dr6|tun6|ha|hadr ...]
#                                           (nat, dr and tun when none is given; needs root;
#                                            nat6/dr6/tun6: the same dual-stack lab, driven over IPv6;
#                                            ha/hadr: an HA pair failing over, NAT/DR, netns/demo-ha.sh)
#   UI=1 bash netns/demo.sh ...             (make demo UI=1: each lab with the browser view on
#                                            127.0.0.1:${UI_PORT:-8080}, opened at that mode's lesson)
# For each mode: build the lab, start tapvs, draw the lab, send HTTP requests and a UDP
# echo through the VIP showing which real server answered (curl -6 and UDP6 to the IPv6 VIP
# in the *6 modes), print the ipvsadm tables, tear everything down. Exits non-zero if anything did not work; Ctrl-C tears down too.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

if [ -t 1 ]; then B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B='' D='' G='' R='' N=''; fi
say() { printf '%s\n' "$*"; }
step() { printf '%s==>%s %s\n' "$B" "$N" "$*"; }
bad() { printf '%s!! %s%s\n' "$R" "$*" "$N"; }
indent() { sed 's/^/    /'; }

UI=${UI:-}
UI_PORT=${UI_PORT:-8080}
[ "$UI" = 0 ] && UI=
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(nat dr tun)
for m in "${modes[@]}"; do
  case $m in nat|dr|tun|nat6|dr6|tun6|ha|hadr) ;; *) echo "usage: $0 [nat|dr|tun|nat6|dr6|tun6|ha|hadr ...] (got '$m')" >&2; exit 2 ;; esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: the labs need root (network namespaces, TAP devices): sudo make demo" >&2
  exit 1
fi
for tool in ip curl socat node; do
  command -v "$tool" >/dev/null || { echo "demo: '$tool' is missing: run make setup" >&2; exit 1; }
done

diagram() {
  local id=$LAB_ID
  case $LAB_MODE$1 in
    nat) cat <<EOF
  client ${D}(ns $id-client)${N}      tapvs ${D}(user space, two TAP ports)${N}            real servers ${D}(ns $id-rs1, -rs2)${N}
  10.0.0.2 ──br0── outside 10.0.0.1, VIP ${B}10.0.0.100${N} | inside 192.168.10.1 ──br0── rs1 192.168.10.11
                                                                                  rs2 192.168.10.12
  request: client -> VIP; tapvs picks a real server and rewrites the destination (NAT).
  reply:   real server -> tapvs (its default gateway), source rewritten back to the VIP -> client.
EOF
      ;;
    dr) cat <<EOF
  client ${D}(ns $id-client)${N}   router ${D}(ns $id-router)${N}        one LAN ${D}(bridge in ns $id-lan)${N}
  10.0.0.2 ──── 10.0.0.1 | 172.16.0.1 ──br0──┬── tapvs lan port 172.16.0.2, VIP ${B}172.16.0.100${N}
                                             ├── rs1 172.16.0.11  (VIP on lo, silent in ARP)
                                             └── rs2 172.16.0.12  (VIP on lo, silent in ARP)
  request: router -> VIP (only tapvs answers ARP for it); tapvs changes only the MAC (DR).
  reply:   real server -> router -> client, straight from the VIP, not through tapvs.
EOF
      ;;
    tun) cat <<EOF
  client ${D}(ns $id-client)${N}   router ${D}(ns $id-router)${N}
  10.0.0.2 ──── 10.0.0.1 | 172.16.0.1 ──br0── tapvs lan port 172.16.0.2, VIP ${B}172.16.0.100${N}   ${D}(ns $id-lan)${N}
                         | 172.16.1.1 ──br0──┬── rs1 172.16.1.11  (VIP on lo, decapsulates IPIP)   ${D}(ns $id-rsnet)${N}
                                             └── rs2 172.16.1.12
  request: tapvs wraps each packet in IPIP to the real server's own address, via the router (TUN).
  reply:   real server -> router -> client, straight from the VIP, not through tapvs.
EOF
      ;;
    nat6) cat <<EOF
  client ${D}(ns $id-client)${N}        tapvs ${D}(user space, two TAP ports)${N}                real servers ${D}(ns $id-rs1, -rs2)${N}
  2001:db8::2 ──br0── outside 2001:db8::1, VIP ${B}2001:db8::100${N} | inside 2001:db8:10::1 ──br0── rs1 2001:db8:10::11
                                                                                         rs2 2001:db8:10::12
  (the same lab has its IPv4 addresses too: 10.0.0.2, VIP 10.0.0.100, 192.168.10.1x)
  request: client -> VIP; tapvs picks a real server and rewrites the destination (NAT, IPv6:
           the checksum patched through the pseudo-header). Neighbour discovery instead of ARP.
  reply:   real server -> tapvs (its default gateway), source rewritten back to the VIP -> client.
EOF
      ;;
    dr6) cat <<EOF
  client ${D}(ns $id-client)${N}     router ${D}(ns $id-router)${N}              one LAN ${D}(bridge in ns $id-lan)${N}
  2001:db8::2 ──── 2001:db8::1 | 2001:db8:10::1 ──br0──┬── tapvs lan port 2001:db8:10::2, VIP ${B}2001:db8:10::100${N}
                                                     ├── rs1 2001:db8:10::11  (VIP /128 on lo: never announced on eth0)
                                                     └── rs2 2001:db8:10::12
  request: the router solicits the VIP's MAC (only tapvs answers the neighbour solicitation);
           tapvs changes only the MAC (DR).
  reply:   real server -> router -> client, straight from the VIP, not through tapvs.
EOF
      ;;
    tun6) cat <<EOF
  client ${D}(ns $id-client)${N}     router ${D}(ns $id-router)${N}
  2001:db8::2 ──── 2001:db8::1 | 2001:db8:10::1 ──br0── tapvs lan port 2001:db8:10::2, VIP ${B}2001:db8:10::100${N}   ${D}(ns $id-lan)${N}
                               | 2001:db8:11::1 ──br0──┬── rs1 2001:db8:11::11  (VIP on lo, decapsulates IPv6-in-IPv6)   ${D}(ns $id-rsnet)${N}
                                                     └── rs2 2001:db8:11::12
  request: tapvs wraps each packet in an outer IPv6 header (next header 41) to the real server's
           own address, via the router (TUN); a packet that would not fit gets packet too big.
  reply:   real server -> router -> client, straight from the VIP, not through tapvs.
EOF
      ;;
  esac
}

# demo_mode MODE: one lab, start to teardown. Runs in a subshell with its own trap, so a
# failure (or Ctrl-C) tears down exactly this lab.
demo_mode() {
  local mode=${1%6} v6= i name body addrs seen=() udp k vip url sock
  [ "$1" = "$mode" ] || v6=6
  lab_init "tvd$(($$ % 100000))${mode:0:1}$v6" || return 1
  lab_trap
  step "building the ${mode^^} lab (run id $LAB_ID)${v6:+, dual-stack, driven over IPv6}"
  "lab_$mode" >/dev/null || { bad "lab_$mode failed"; return 1; }
  lab_conf rr >/dev/null || return 1
  local uiargs=()
  [ -n "$UI" ] && uiargs=(--ui "127.0.0.1:$UI_PORT" --ui-lab "$LAB_DIR/lab.json")
  step "starting tapvs: node bin/tapvs.js run --config $LAB_DIR/tapvs.conf${UI:+ ${uiargs[*]}}"
  if ! lab_tapvs "$LAB_DIR/tapvs.conf" "${uiargs[@]}"; then bad "tapvs did not start"; return 1; fi
  if [ -n "$UI" ]; then
    lab_wait_line "$LAB_DIR/tapvs.log" 'browser view listening' 10 >/dev/null || { bad "the browser view did not start (port $UI_PORT in use?)"; return 1; }
    say "    ${B}browser view: http://127.0.0.1:$UI_PORT/?lesson=$mode${N}  ${D}(from another machine: ssh -L $UI_PORT:127.0.0.1:$UI_PORT this-host)${N}"
  fi
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  if [ -n "$v6" ]; then
    [ -n "${LAB_VIP6:-}" ] || { bad "the lab has no IPv6 (LAB_IPV6=0?)"; return 1; }
    read -r -a addrs <<<"$LAB_RS_ADDRS6"
    vip=$LAB_VIP6 url="http://[$LAB_VIP6]/" sock="UDP6:[$LAB_VIP6]:7"
  else
    read -r -a addrs <<<"$LAB_RS_ADDRS"
    vip=$LAB_VIP url="http://$LAB_VIP/" sock="UDP:$LAB_VIP:7"
  fi
  echo
  diagram "$v6"
  if [ "$mode" = tun ]; then
    say "  ${D}${v6:+IPv6-in-IPv6 and }IPIP decapsulation in the real servers: $(grep -o '"decap":"[a-z]*"' "$LAB_DIR/lab.json" | cut -d'"' -f4 | sort -u | paste -sd,)${N}"
  fi
  echo

  step "6 HTTP requests from the client to $url (${v6:+curl -6, }scheduler rr)"
  for ((i = 1; i <= 6; i++)); do
    body=$(ip netns exec "$LAB_CLIENT_NS" curl ${v6:+-6} -s --max-time 5 "$url") || body=
    name=${body%$'\n'}
    if [[ $name =~ ^rs([0-9]+)$ ]]; then
      k=${BASH_REMATCH[1]}
      say "    request $i -> ${G}$name${N} (${addrs[k - 1]})"
      seen+=("$name")
    else
      say "    request $i -> ${R}no answer${N}"
    fi
  done
  if [ ${#seen[@]} -ne 6 ]; then bad "some requests got no answer"; return 1; fi
  if [ "$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)" -ne ${#addrs[@]} ]; then
    bad "round robin should have used every real server"; return 1
  fi

  step "one UDP datagram to ${sock#UDP*:} (echo${v6:+, over IPv6})"
  udp=$(printf 'hello' | ip netns exec "$LAB_CLIENT_NS" socat -t1 - "$sock") || udp=
  if [[ $udp =~ ^rs[0-9]+:hello$ ]]; then
    say "    sent 'hello', got '${G}$udp${N}' (the real server put its name in front)"
  else
    bad "no UDP echo (got '$udp')"; return 1
  fi
  echo

  step "tapvs ipvsadm -Ln --stats (counters of the traffic above)"
  [ -z "$v6" ] || say "    ${D}(the lab is dual-stack: the IPv4 services are listed first, then the IPv6 ones, as ipvsadm sorts them)${N}"
  [ "$mode" = nat ] || say "    ${D}(replies bypass the director in ${mode^^}, so OutPkts/OutBytes stay 0, as with kernel IPVS)${N}"
  lab_ipvsadm -Ln --stats | indent || { bad "ipvsadm -Ln --stats failed"; return 1; }
  step "tapvs ipvsadm -Lnc (the connection table)"
  lab_ipvsadm -Lnc | indent || { bad "ipvsadm -Lnc failed"; return 1; }

  if [ -n "$UI" ]; then
    # leave the lab up while the student steps through the requests in the page
    if [ -t 0 ]; then
      step "the view stays up: pick a connection in 'Traced connections' and step through it; press Enter to go on"
      read -r _ || true
    elif [ "${UI_WAIT:-0}" -gt 0 ]; then
      step "the view stays up for ${UI_WAIT} s (UI_WAIT)"
      sleep "$UI_WAIT"
    fi
  fi
  step "tearing down $LAB_ID"
  lab_down
  trap - EXIT
  return 0
}

results=()
failed=0
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT TERM
for m in "${modes[@]}"; do
  echo
  say "${B}=== LVS-${m^^} ===${N}"
  # a subshell per mode: its EXIT trap tears its lab down whatever happens
  if [[ $m == ha* ]]; then
    bash "$(dirname "$0")/demo-ha.sh" "$m"   # the HA pair (two directors) failing over: netns/demo-ha.sh
  else
    ( demo_mode "$m" || { s=$?; [ -f "$LAB_DIR/tapvs.log" ] && { bad "last lines of tapvs.log:"; tail -n 15 "$LAB_DIR/tapvs.log" | indent; }; exit "$s"; } )
  fi
  rc=$?
  [ $rc -eq 130 ] && exit 130
  if [ $rc -eq 0 ]; then results+=("$m ${G}ok${N}"); else results+=("$m ${R}FAILED${N}"); failed=1; fi
done
echo
say "${B}demo:${N} $(IFS=,; echo "${results[*]}" | sed 's/,/, /g')"
exit $failed
