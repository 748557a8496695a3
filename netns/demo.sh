#!/usr/bin/env bash
# `make demo`: tapvs in each LVS forwarding mode, in throw-away network namespaces.
#   bash netns/demo.sh [nat|dr|tun ...]     (all three when none is given; needs root)
#   UI=1 bash netns/demo.sh ...             (make demo UI=1: each lab with the browser view on
#                                            127.0.0.1:${UI_PORT:-8080}, opened at that mode's lesson)
# For each mode: build the lab, start tapvs, draw the lab, send HTTP requests and a UDP
# echo through the VIP showing which real server answered, print the ipvsadm tables,
# tear everything down. Exits non-zero if anything did not work; Ctrl-C tears down too.
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
  case $m in nat|dr|tun) ;; *) echo "usage: $0 [nat|dr|tun ...] (got '$m')" >&2; exit 2 ;; esac
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
  case $LAB_MODE in
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
  esac
}

# demo_mode MODE: one lab, start to teardown. Runs in a subshell with its own trap, so a
# failure (or Ctrl-C) tears down exactly this lab.
demo_mode() {
  local mode=$1 i name body addrs seen=() udp k
  lab_init "tvd$(($$ % 100000))${mode:0:1}" || return 1
  lab_trap
  step "building the ${mode^^} lab (run id $LAB_ID)"
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
  read -r -a addrs <<<"$LAB_RS_ADDRS"
  echo
  diagram
  if [ "$mode" = tun ]; then
    say "  ${D}IPIP decapsulation in the real servers: $(grep -o '"decap":"[a-z]*"' "$LAB_DIR/lab.json" | cut -d'"' -f4 | sort -u | paste -sd,)${N}"
  fi
  echo

  step "6 HTTP requests from the client to http://$LAB_VIP/ (scheduler rr)"
  for ((i = 1; i <= 6; i++)); do
    body=$(ip netns exec "$LAB_CLIENT_NS" curl -s --max-time 5 "http://$LAB_VIP/") || body=
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

  step "one UDP datagram to $LAB_VIP:7 (echo)"
  udp=$(printf 'hello' | ip netns exec "$LAB_CLIENT_NS" socat -t1 - "UDP:$LAB_VIP:7") || udp=
  if [[ $udp =~ ^rs[0-9]+:hello$ ]]; then
    say "    sent 'hello', got '${G}$udp${N}' (the real server put its name in front)"
  else
    bad "no UDP echo (got '$udp')"; return 1
  fi
  echo

  step "tapvs ipvsadm -Ln --stats (counters of the traffic above)"
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
  ( demo_mode "$m" || { s=$?; [ -f "$LAB_DIR/tapvs.log" ] && { bad "last lines of tapvs.log:"; tail -n 15 "$LAB_DIR/tapvs.log" | indent; }; exit "$s"; } )
  rc=$?
  [ $rc -eq 130 ] && exit 130
  if [ $rc -eq 0 ]; then results+=("$m ${G}ok${N}"); else results+=("$m ${R}FAILED${N}"); failed=1; fi
done
echo
say "${B}demo:${N} $(IFS=,; echo "${results[*]}" | sed 's/,/, /g')"
exit $failed
