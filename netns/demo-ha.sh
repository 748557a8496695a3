#!/usr/bin/env bash
# `make demo MODE=ha` (NAT) or `MODE=hadr` (DR): an HA pair of tapvs directors failing over live.
#   bash netns/demo-ha.sh [ha|hadr]     (run by netns/demo.sh; needs root)
# Builds the two-director lab (netns/ha.sh), starts director a (priority 150) and b (100) with VRRP
# on the VIP and the sync daemon following it, starts slow downloads through the VIP, shows the
# backup listing the synced connections, kill -9s the master and prints the requests answered
# second by second across the takeover, then the new master's VRRP state and the downloads' checksums.
set -uo pipefail
source "$(dirname "$0")/ha.sh"

if [ -t 1 ]; then B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B='' D='' G='' R='' N=''; fi
say() { printf '%s\n' "$*"; }
step() { printf '%s==>%s %s\n' "$B" "$N" "$*"; }
bad() { printf '%s!! %s%s\n' "$R" "$*" "$N"; }
indent() { sed 's/^/    /'; }

mode=${1:-ha}
case $mode in ha) lab=nat ;; hadr) lab=dr ;; *) echo "usage: $0 [ha|hadr]" >&2; exit 2 ;; esac
DOWNLOADS=10

lab_init "tvd$(($$ % 10000))h${lab:0:1}" || exit 1
lab_trap
step "building the two-director ${lab^^} lab (run id $LAB_ID)"
"lab_ha_$lab" >/dev/null || { bad "lab_ha_$lab failed"; exit 1; }
# shellcheck disable=SC1091
source "$LAB_DIR/lab.env"
id=$LAB_ID
echo
if [ "$lab" = nat ]; then
  cat <<EOF
  client ${D}(ns $id-client)${N}            two tapvs directors ${D}(user space, two TAP ports each)${N}      real servers ${D}(ns $id-rs1, -rs2)${N}
  10.0.0.2 ──br0──┬── a: outside 10.0.0.1 | inside 192.168.10.1 ──┬──br0── rs1 192.168.10.11
                  └── b: outside 10.0.0.3 | inside 192.168.10.3 ──┘        rs2 192.168.10.12
  VRRP instance VI_1 (vrid 51, adverts every 1 s on the outside LAN): whoever is master holds the
  VIP ${B}10.0.0.100${N} and the real servers' gateway ${B}192.168.10.254${N}; the sync daemon (inside LAN,
  224.0.0.81:8848) sends the master's connections to the backup.
EOF
else
  cat <<EOF
  client ${D}(ns $id-client)${N}   router ${D}(ns $id-router)${N}        one LAN ${D}(bridge in ns $id-lan)${N}
  10.0.0.2 ──── 10.0.0.1 | 172.16.0.1 ──br0──┬── a: tapvs lan port 172.16.0.2
                                             ├── b: tapvs lan port 172.16.0.4
                                             ├── rs1 172.16.0.11, rs2 172.16.0.12 (VIP on lo)
  VRRP instance VI_1 (vrid 51, adverts every 1 s): the master holds the VIP ${B}172.16.0.100${N}, the
  router's next hop for it; the sync daemon (224.0.0.81:8848) sends the master's connections to the backup.
EOF
fi
echo

lab_ha_conf a 150 >/dev/null && lab_ha_conf b 100 >/dev/null || { bad "lab_ha_conf failed"; exit 1; }
step "starting director a (priority 150) and b (priority 100): tapvs run --config $LAB_DIR/tapvs-{a,b}.conf"
lab_ha_tapvs a || { bad "director a did not start"; exit 1; }
for ((i = 0; i < 50; i++)); do lab_ha_vrrp a 2>/dev/null | grep -q '^VI_1: MASTER' && break; sleep 0.2; done
lab_ha_tapvs b || { bad "director b did not start"; exit 1; }
disown -a 2>/dev/null || true # no "Killed" line from bash when a is killed below
for ((i = 0; i < 50; i++)); do lab_ha_vrrp b 2>/dev/null | grep -q 'master: [0-9]' && break; sleep 0.2; done
step "tapvs vrrp on a, then on b"
lab_ha_vrrp a | head -3 | indent
lab_ha_vrrp b | head -3 | indent
lab_ha_vrrp a | grep -q '^VI_1: MASTER' && lab_ha_vrrp b | grep -q '^VI_1: BACKUP' || { bad "a should be master, b backup"; exit 1; }
echo

step "$DOWNLOADS slow downloads through the VIP (360 kB each at 30 kB/s, checked by SHA-256)"
load=$LAB_DIR/load.out
( exec ip netns exec "$LAB_CLIENT_NS" python3 "$LAB_REPO/test/e2e/ha-load.py" "$LAB_VIP" 80 "$DOWNLOADS" 360000 30000 1 >"$load" 2>&1 ) &
echo $! >>"$LAB_DIR/pids"
loadpid=$!
lab_wait_line "$load" '^ready' 30 >/dev/null || { bad "the downloads did not start"; exit 1; }
listed=0
for ((i = 0; i < 40; i++)); do
  listed=$(lab_ha_ipvsadm b -Lnc | grep -c "ESTABLISHED .* $LAB_VIP:80 ")
  [ "$listed" -ge "$DOWNLOADS" ] && break
  sleep 0.25
done
step "the backup (b) already lists them, synced from a: tapvs ipvsadm -Lnc on b"
lab_ha_ipvsadm b -Lnc | grep -E "^pro|ESTABLISHED" | head -n $((DOWNLOADS + 1)) | indent
[ "$listed" -ge "$DOWNLOADS" ] || { bad "b lists $listed of $DOWNLOADS downloads"; exit 1; }
echo

pid=$(cat "$LAB_DIR/tapvs-a.pid")
step "kill -9 $pid (director a, the master); new requests through the VIP, second by second:"
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
kill -KILL "$pid"
first= line= sec=0
while :; do
  now=$(ms)
  if [ $(((now - t0) / 1000)) -gt "$sec" ]; then
    say "    ${sec}-$((sec + 1)) s:${line:- (waiting)}"
    line= sec=$((sec + 1))
    [ "$sec" -ge 7 ] && break
  fi
  body=$(ip netns exec "$LAB_CLIENT_NS" curl -s --max-time 0.5 "http://$LAB_VIP/" 2>/dev/null) || body=
  if [[ $body =~ ^rs[0-9]+$ ]]; then
    line+=" ${G}${body}${N}"
    [ -n "$first" ] || first=$(ms)
  else
    line+=" ${R}--${N}"
  fi
  sleep 0.2
done
if [ -z "$first" ]; then bad "no request was answered after the kill"; exit 1; fi
say "    ${B}answered again $(((first - t0) / 100 / 10)).$(((first - t0) / 100 % 10)) s after the kill${N} ${D}(-- : no answer within 0.5 s; VRRP: the backup takes over 3 adverts + skew = 3.6 s after the last advert it heard)${N}"
echo
step "tapvs vrrp on b (now master), and its log line"
lab_ha_vrrp b | head -5 | indent
grep -o 'vrrp VI_1: BACKUP -> MASTER[^"]*' "$LAB_DIR/tapvs-b.log" | tail -1 | indent
echo

step "the downloads (they carry on through b)"
wait "$loadpid"
ok=$(tail -1 "$load" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(sum(1 for d in r["downloads"] if d["ok"]))' 2>/dev/null) || ok=0
if [ "$ok" -eq "$DOWNLOADS" ]; then
  say "    ${G}$ok of $DOWNLOADS${N} completed with the right checksum"
else
  say "    ${R}$ok of $DOWNLOADS${N} completed with the right checksum"
fi
step "tearing down $LAB_ID"
lab_down
trap - EXIT
[ "$ok" -ge $((DOWNLOADS - 1)) ]
