#!/usr/bin/env bash
# The two-director (HA pair) labs for tapvs in network namespaces. Source it
# (it sources lib.sh): the same run ids, state dir and teardown as lib.sh.
#
#   source netns/ha.sh
#   lab_init [RUN_ID]; lab_trap
#   lab_ha_nat [N_RS]   or   lab_ha_dr [N_RS]
#   lab_ha_conf a 150 [VRRP_KEYS] [EXTRA_LINE...]   # $LAB_DIR/tapvs-a.conf
#   lab_ha_conf b 100 ...
#   lab_ha_tapvs a; lab_ha_tapvs b                    # start each (log tapvs-a.log, socket tapvs-a.sock)
#   lab_ha_vrrp a [--json]; lab_ha_ipvsadm b -Lnc     # talk to one of them
#   lab_ha_kill a                                     # kill -9 director a (by its recorded PID)
#   lab_ha_keepalived NAME PRIORITY [VERSION] [ADDR]  # a keepalived VRRP peer on the VRRP LAN
#
# NAT:  client ns br0 10.0.0.2/24 <- TAP ao (director a 10.0.0.1) and TAP bo (director b 10.0.0.3),
#       VIP 10.0.0.100 on the VRRP instance (adverts on this LAN);
#       lan ns br0 <- TAP ai (a 192.168.10.1) and TAP bi (b 192.168.10.3), the real servers'
#       gateway 192.168.10.254 moves with the VIP (excluded from the adverts); sync on this LAN;
#       rsK 192.168.10.1K/24, default via 192.168.10.254.
# DR:   client 10.0.0.2 -- router 10.0.0.1 | 172.16.0.1 -- lan ns br0 <- TAP al (a 172.16.0.2) and
#       TAP bl (b 172.16.0.4); VIP 172.16.0.100 (VRRP: the router's next hop for it), adverts and
#       sync on this LAN; rsK 172.16.0.1K/24 with the VIP on lo, default via 172.16.0.1.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LAB_HA_MAC_A=02:00:00:00:0a
LAB_HA_MAC_B=02:00:00:00:0b

# lab_ha_nat [N_RS]
lab_ha_nat() {
  local n=${1:-2} k client lan
  client=$(lab_client 10.0.0.2/24 10.0.0.100 br0) || return 1
  lan=$(lab_ns lan) || return 1
  lab_bridge "$lan" br0
  for ((k = 1; k <= n; k++)); do
    lab_rs "$lan" "rs$k" "192.168.10.1$k/24" 192.168.10.254 || return 1
  done
  _lab_write_env LAB_MODE=hanat LAB_VIP=10.0.0.100 LAB_GATEWAY_VIP=192.168.10.254 LAB_CLIENT_NS="$client" LAB_CLIENT_ADDR=10.0.0.2 \
    LAB_VRRP_NS="$client" LAB_VRRP_BR=br0 LAB_LAN_NS="$lan" \
    LAB_RS_ADDRS="$(seq -f '192.168.10.1%g' -s ' ' 1 "$n")"
}

# lab_ha_dr [N_RS]
lab_ha_dr() {
  local n=${1:-2} k lan router client rc
  rc=$(_lab_routed_lan) || return 1
  read -r lan router client <<<"$rc"
  for ((k = 1; k <= n; k++)); do
    lab_rs "$lan" "rs$k" "172.16.0.1$k/24" 172.16.0.1 172.16.0.100 || return 1
  done
  _lab_write_env LAB_MODE=hadr LAB_VIP=172.16.0.100 LAB_CLIENT_NS="$client" LAB_CLIENT_ADDR=10.0.0.2 LAB_ROUTER_NS="$router" \
    LAB_VRRP_NS="$lan" LAB_VRRP_BR=br0 LAB_LAN_NS="$lan" LAB_GATEWAY=172.16.0.1 \
    LAB_RS_ADDRS="$(seq -f '172.16.0.1%g' -s ' ' 1 "$n")"
}

# lab_ha_conf NAME(a|b) PRIORITY [VRRP_KEYS] [EXTRA_LINE...]: write $LAB_DIR/tapvs-NAME.conf: the
# director's ports in the lab, the VIP (and NAT's gateway) under VRRP instance VI_1 (vrid 51, advert
# 1 s, VRRP_KEYS appended to its line, e.g. "preempt=off"), the sync daemon following VI_1, and TCP
# 80 / UDP 7 over every real server.
lab_ha_conf() {
  local name=$1 prio=$2 keys=${3:-} conf=$LAB_DIR/tapvs-$1.conf mac a flag p
  shift 3 2>/dev/null || shift $#
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  case $name in a) mac=$LAB_HA_MAC_A; a=1 ;; b) mac=$LAB_HA_MAC_B; a=3 ;; *) echo "lab_ha_conf: director a or b" >&2; return 1 ;; esac
  {
    echo "# tapvs config of director $name in HA lab $LAB_ID ($LAB_MODE), written by netns/ha.sh lab_ha_conf"
    case $LAB_MODE in
      hanat)
        echo "port outside kind=tap device=${LAB_ID}${name}o mac=$mac:01 addr=10.0.0.$a/24 netns=$LAB_CLIENT_NS bridge=br0"
        echo "port inside kind=tap device=${LAB_ID}${name}i mac=$mac:02 addr=192.168.10.$a/24 netns=$LAB_LAN_NS bridge=br0"
        echo "vip $LAB_VIP on outside"
        echo "vip $LAB_GATEWAY_VIP on inside"
        echo "vrrp VI_1 port=outside vrid=51 priority=$prio advert=1s vip=$LAB_VIP excluded=$LAB_GATEWAY_VIP $keys"
        echo "sync follow VI_1 port=inside"
        flag=-m ;;
      hadr)
        echo "port lan kind=tap device=${LAB_ID}${name}l mac=$mac:01 addr=172.16.0.$((a + 1))/24 netns=$LAB_LAN_NS bridge=br0"
        echo "vip $LAB_VIP on lan"
        echo "route default via $LAB_GATEWAY"
        echo "vrrp VI_1 port=lan vrid=51 priority=$prio advert=1s vip=$LAB_VIP $keys"
        echo "sync follow VI_1 port=lan"
        flag=-g ;;
      *) echo "lab_ha_conf: not an HA lab ($LAB_MODE)" >&2; return 1 ;;
    esac
    echo "option control_socket $LAB_DIR/tapvs-$name.sock"
    for p in t:80 u:7; do
      echo "-A -${p%%:*} $LAB_VIP:${p#*:} -s rr"
      for a in $LAB_RS_ADDRS; do echo "-a -${p%%:*} $LAB_VIP:${p#*:} -r $a:${p#*:} $flag -w 1"; done
    done
    for p in "$@"; do echo "$p"; done
  } >"$conf"
  echo "$conf"
}

# lab_ha_tapvs NAME [ARGS...]: start director NAME with $LAB_DIR/tapvs-NAME.conf, record its PID
# (run's pids and tapvs-NAME.pid), wait until it runs. Log: $LAB_DIR/tapvs-NAME.log (appended).
lab_ha_tapvs() {
  local name=$1 pid log; shift
  log=$LAB_DIR/tapvs-$name.log
  echo "=== start $(date +%s.%N)" >>"$log"
  ( cd "$LAB_REPO" && exec node bin/tapvs.js run --config "$LAB_DIR/tapvs-$name.conf" "$@" ) >>"$log" 2>&1 &
  pid=$!
  echo "$pid" >>"$LAB_DIR/pids"
  echo "$pid" >"$LAB_DIR/tapvs-$name.pid"
  local i
  for ((i = 0; i < 600; i++)); do
    [ "$(grep -c 'director running' "$log" 2>/dev/null)" -ge "$(grep -c '^=== start' "$log")" ] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "lab_ha_tapvs: director $name exited:" >&2; tail -20 "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "lab_ha_tapvs: director $name did not start" >&2
  return 1
}

# lab_ha_kill NAME [SIGNAL]: signal director NAME (default KILL) and wait until it is gone.
lab_ha_kill() {
  local pid i
  pid=$(cat "$LAB_DIR/tapvs-$1.pid") || return 1
  kill "-${2:-KILL}" "$pid" 2>/dev/null || return 1
  for ((i = 0; i < 100; i++)); do _lab_any_alive "$pid" || return 0; sleep 0.05; done
  return 1
}

lab_ha_vrrp() {
  local name=$1; shift
  ( cd "$LAB_REPO" && node bin/tapvs.js vrrp --socket "$LAB_DIR/tapvs-$name.sock" "$@" )
}

lab_ha_ipvsadm() {
  local name=$1; shift
  ( cd "$LAB_REPO" && node bin/tapvs.js ipvsadm --socket "$LAB_DIR/tapvs-$name.sock" "$@" )
}

# lab_ha_keepalived NAME PRIORITY [VERSION] [ADDR/LEN]: namespace NAME with a leg on the VRRP LAN
# (ADDR, default 10.0.0.9/24 NAT or 172.16.0.9/24 DR; MAC 02:00:00:00:0c:<last octet>) running
# keepalived's VRRP only (no IPVS):
# instance VI_1, vrid 51, advert 1 s, the lab's VIP; VRRPv2 unless VERSION is 3.
# Log $LAB_DIR/NAME.log; its PIDs are recorded (stop it with lab_ha_keepalived_stop NAME).
lab_ha_keepalived() {
  local name=$1 prio=$2 version=${3:-2} addr=${4:-} ns conf
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  [ -n "$addr" ] || { [ "$LAB_MODE" = hanat ] && addr=10.0.0.9/24 || addr=172.16.0.9/24; }
  ns=$(lab_ns "$name") || return 1
  lab_veth "$ns" eth0 "$LAB_VRRP_NS" "$name" || return 1
  ip -n "$LAB_VRRP_NS" link set "$name" master "$LAB_VRRP_BR"
  ip -n "$ns" link set eth0 address "02:00:00:00:0c:$(printf %02x "$(echo "${addr%/*}" | cut -d. -f4)")"
  ip -n "$ns" addr add "$addr" dev eth0
  conf=$LAB_DIR/$name.conf
  cat >"$conf" <<EOF
global_defs {
  router_id $name
  vrrp_version $version
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $prio
  advert_int 1
  virtual_ipaddress {
    $LAB_VIP/24
  }
}
EOF
  lab_spawn "$ns" "$name" keepalived -n -l -D -P -f "$conf" -p "$LAB_DIR/$name.pid" -r "$LAB_DIR/$name-vrrp.pid"
  lab_wait_line "$LAB_DIR/$name.log" 'Entering BACKUP STATE|Entering MASTER STATE' 20 || return 1
}

# lab_ha_keepalived_stop NAME: SIGTERM keepalived (it sends priority 0 as master) and wait for it.
lab_ha_keepalived_stop() {
  local f pid i
  for f in "$LAB_DIR/$1.pid" "$LAB_DIR/$1-vrrp.pid"; do
    [ -f "$f" ] && pid=$(cat "$f") && kill -TERM "$pid" 2>/dev/null
  done
  pid=$(cat "$LAB_DIR/$1.pid" 2>/dev/null) || return 0
  for ((i = 0; i < 100; i++)); do _lab_any_alive "$pid" || return 0; sleep 0.05; done
}
