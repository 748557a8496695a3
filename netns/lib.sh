#!/usr/bin/env bash
# Lab topologies for tapvs in network namespaces (source this file).
#
# Every run has an id (LAB_ID, default "tv$$") that prefixes everything it
# creates, and a state dir (LAB_DIR) that records the namespaces and PIDs it
# created. Teardown (lab_down) removes exactly those — never anything found by
# a name pattern — so parallel or leftover runs never clash.
#
#   source netns/lib.sh
#   lab_init [RUN_ID]          # sets LAB_ID, LAB_DIR; call once
#   lab_trap                   # tear down on exit, error, Ctrl-C
#   lab_nat [OUT_DEV] [IN_DEV] # or lab_dr [DEV] / lab_tun [DEV]
#   ... run tapvs with $LAB_DIR/lab.json, test through $LAB_DIR/lab.env ...
#   lab_down                   # (also run by the trap)
#
# Addresses: see netns/README.md. Every lab is dual-stack: IPv4 and IPv6 (documentation
# prefixes 2001:db8::/32, added with nodad so they are usable at once) on every link, real
# servers listening on both; LAB_IPV6=0 builds the IPv4-only labs of before.

LAB_ROOT_DIR=${TAPVS_LAB_DIR:-/tmp/tapvs-lab}
LAB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

lab_log() { printf 'lab[%s]: %s\n' "${LAB_ID:-?}" "$*" >&2; }

# lab_init [RUN_ID]: choose the run id and create the state dir.
lab_init() {
  LAB_ID=${1:-tv$$}
  if ! [[ $LAB_ID =~ ^[a-z][a-z0-9]{1,9}$ ]]; then
    echo "lab_init: run id must be 2-10 lowercase letters/digits starting with a letter (got '$LAB_ID')" >&2
    return 1
  fi
  LAB_DIR=$LAB_ROOT_DIR/$LAB_ID
  if [ -e "$LAB_DIR" ]; then
    echo "lab_init: $LAB_DIR exists: run id '$LAB_ID' is in use (lab_down $LAB_ID removes it)" >&2
    return 1
  fi
  mkdir -p "$LAB_DIR"
  : >"$LAB_DIR/netns"
  : >"$LAB_DIR/pids"
  export LAB_ID LAB_DIR
}

# lab_trap: tear this run down however the script ends.
lab_trap() {
  trap 'lab_down' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# lab_ns NAME: create namespace "$LAB_ID-NAME" (recorded), print its name.
lab_ns() {
  local ns="$LAB_ID-$1"
  ip netns add "$ns" || return 1
  echo "$ns" >>"$LAB_DIR/netns"
  ip -n "$ns" link set lo up
  echo "$ns"
}

# lab_veth NS1 IF1 NS2 IF2: a veth pair created directly inside the two namespaces.
lab_veth() {
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

# lab_bridge NS BR: a bridge that forwards at once (no STP delay), and switches without a firewall.
# Bridge netfilter (built into this kernel, and on by default in every namespace) runs every
# switched frame through the IP firewall hooks: 17% of tapvs's thread in a 64-byte UDP flood
# through NAT, spent on the real servers' LAN in its TAP writes. A lab's bridges stand for
# switches, so it is off in the namespaces that hold them (a kernel without it: nothing to do).
lab_bridge() {
  ip -n "$1" link add "$2" type bridge forward_delay 0 stp_state 0 || return 1
  ip -n "$1" link set "$2" up
  local k
  for k in iptables ip6tables arptables; do
    ip netns exec "$1" sysctl -qw "net.bridge.bridge-nf-call-$k=0" >/dev/null 2>&1 || true
  done
}

# lab_sysctl NS KEY VALUE
lab_sysctl() { ip netns exec "$1" sysctl -qw "$2=$3" >/dev/null; }

# lab_ipv6: true when the labs are built dual-stack (the default; LAB_IPV6=0 turns IPv6 off).
lab_ipv6() { [ "${LAB_IPV6:-1}" != 0 ]; }

# _lab_if6 TEXT: TEXT when the labs are dual-stack, else nothing (always succeeds).
_lab_if6() { if lab_ipv6; then printf '%s' "$1"; fi; }

# lab_addr6 NS DEV ADDR6/LEN: an IPv6 address usable at once (no duplicate address detection).
lab_addr6() { ip -n "$1" -6 addr add "$3" dev "$2" nodad; }

# lab_spawn NS LOGNAME CMD...: run CMD in NS in the background, record its PID.
lab_spawn() {
  local ns=$1 log=$2; shift 2
  ( cd "$LAB_REPO" && exec ip netns exec "$ns" "$@" ) >"$LAB_DIR/$log.log" 2>&1 &
  echo $! >>"$LAB_DIR/pids"
}

# lab_wait_line FILE REGEX [SECONDS]
lab_wait_line() {
  local i
  for ((i = 0; i < ${3:-15} * 10; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "lab: timed out waiting for /$2/ in $1:" >&2
  cat "$1" >&2 2>/dev/null
  return 1
}

# lab_rs BRIDGE_NS NAME ADDR/LEN GATEWAY [VIP] [ADDR6/LEN GATEWAY6 [VIP6]]: a real server on
# bridge br0 of BRIDGE_NS, running rs-server.mjs. With VIP: holds it on lo and stays quiet about
# it in ARP (DR/TUN). With ADDR6: dual-stack, its services on IPv6 too; VIP6 goes on lo as a
# /128 (Linux answers neighbour solicitations only for addresses of the asking interface, so an
# address on lo is never announced on eth0: no sysctl needed, unlike ARP).
lab_rs() {
  local brns=$1 name=$2 addr=$3 gw=$4 vip=${5:-} addr6=${6:-} gw6=${7:-} vip6=${8:-}
  local ns
  ns=$(lab_ns "$name") || return 1
  lab_veth "$ns" eth0 "$brns" "$name" || return 1
  ip -n "$brns" link set "$name" master br0
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" route add default via "$gw"
  if [ -n "$vip" ]; then
    ip -n "$ns" addr add "$vip/32" dev lo
    for c in all eth0; do
      lab_sysctl "$ns" "net.ipv4.conf.$c.arp_ignore" 1
      lab_sysctl "$ns" "net.ipv4.conf.$c.arp_announce" 2
    done
  fi
  if [ -n "$addr6" ]; then
    lab_addr6 "$ns" eth0 "$addr6"
    ip -n "$ns" -6 route add default via "$gw6"
    [ -z "$vip6" ] || lab_addr6 "$ns" lo "$vip6/128"
  fi
  _lab_rs_serve "$name" "$vip" "$addr6" "$vip6" "$name" || return 1
  # bound to the VIP in DR/TUN: a UDP reply must leave from the address the client sent to
  lab_spawn "$ns" "$name-iperf3" iperf3 -s -p 5201 ${vip:+-B "$vip"}
  # unbound, the one above listens on both families; bound to the IPv4 VIP it needs an IPv6 twin
  [ -z "$vip6" ] || lab_spawn "$ns" "$name-iperf3-6" iperf3 -s -p 5201 -B "$vip6"
}

# _lab_rs_serve NAME VIP ADDR6 VIP6 LOG: start real server NAME's rs-server.mjs (IPv6 too when
# ADDR6 is set) and wait until it is ready.
_lab_rs_serve() {
  local name=$1 vip=$2 addr6=$3 vip6=$4 log=$5
  lab_spawn "$LAB_ID-$name" "$log" node "$LAB_REPO/netns/rs-server.mjs" --name "$name" --http 80 --udp 7 ${vip:+--vip "$vip"} \
    ${addr6:+--ipv6} ${vip6:+--vip6 "$vip6"}
  lab_wait_line "$LAB_DIR/$log.log" "^ready $name" || return 1
}

# lab_decap NS VIP [VIP6]: LVS-TUN decapsulation in a real server: kernel ipip (and ip6_tunnel
# for VIP6) when present, else the helper, which takes IPIP and IPv6-in-IPv6 in one process.
# LAB_DECAP_ARGS adds helper arguments: "--gre --gue-port 6080" takes GRE and GUE (port 6080)
# too, for real servers with --tun-type gre / gue (always the helper's; see tun-decap-main.ts).
lab_decap() {
  local ns=$1 vip=$2 vip6=${3:-} name=${1#"$LAB_ID-"}
  # shellcheck disable=SC2086 # LAB_DECAP_ARGS is a word list
  lab_spawn "$ns" "$name-decap" node --import tsx "$LAB_REPO/src/io/tun-decap-main.ts" --vip "$vip" ${vip6:+--vip "$vip6"} --dev tvdecap0 ${LAB_DECAP_ARGS:-}
  lab_wait_line "$LAB_DIR/$name-decap.log" '^ready (kernel|helper)' 30 || return 1
  sed -n 's/^ready \([a-z]*\).*/\1/p' "$LAB_DIR/$name-decap.log" | head -1
}

# lab_client ADDR/LEN GATEWAY [BRIDGE [ADDR6/LEN GATEWAY6]]: namespace "client"; with BRIDGE
# the address sits on a bridge there (the director's TAP joins it), else returns the ns for a
# veth to be added.
lab_client() {
  local ns
  ns=$(lab_ns client) || return 1
  if [ -n "${3:-}" ]; then
    lab_bridge "$ns" "$3"
    ip -n "$ns" addr add "$1" dev "$3"
    ip -n "$ns" route add default via "$2"
    if [ -n "${4:-}" ]; then
      lab_addr6 "$ns" "$3" "$4"
      ip -n "$ns" -6 route add default via "$5"
    fi
  fi
  echo "$ns"
}

_lab_write_env() {
  # shell form for scripts/tests (source it), JSON form for tapvs configs
  {
    echo "LAB_ID=$LAB_ID"
    echo "LAB_DIR=$LAB_DIR"
    local kv
    for kv in "$@"; do printf '%s=%q\n' "${kv%%=*}" "${kv#*=}"; done
  } >"$LAB_DIR/lab.env"
}

# lab_nat [OUTSIDE_DEV] [INSIDE_DEV] [N_RS]
#   client ns: br0 10.0.0.2/24, default via 10.0.0.1   <- TAP OUTSIDE_DEV joins br0 (director 10.0.0.1, VIP 10.0.0.100)
#              2001:db8::2/64, default via 2001:db8::1        (director 2001:db8::1, VIP 2001:db8::100)
#   lan ns:    br0                                      <- TAP INSIDE_DEV joins br0 (director 192.168.10.1, 2001:db8:10::1)
#   rsK:       192.168.10.1K/24 (K=1..N), default via 192.168.10.1; 2001:db8:10::1K/64, default via 2001:db8:10::1
lab_nat() {
  local out=${1:-${LAB_ID}o} in=${2:-${LAB_ID}i} n=${3:-2} k client lan rs=() six=() v6env=()
  if lab_ipv6; then
    client=$(lab_client 10.0.0.2/24 10.0.0.1 br0 2001:db8::2/64 2001:db8::1) || return 1
  else
    client=$(lab_client 10.0.0.2/24 10.0.0.1 br0) || return 1
  fi
  lan=$(lab_ns lan) || return 1
  lab_bridge "$lan" br0
  for ((k = 1; k <= n; k++)); do
    lab_ipv6 && six=("" "2001:db8:10::1$k/64" 2001:db8:10::1)
    lab_rs "$lan" "rs$k" "192.168.10.1$k/24" 192.168.10.1 "${six[@]}" || return 1
    rs+=("{\"name\":\"rs$k\",\"netns\":\"$LAB_ID-rs$k\",\"addr\":\"192.168.10.1$k\",\"method\":\"masq\"$(_lab_if6 ",\"addr6\":\"2001:db8:10::1$k\"")}")
  done
  lab_ipv6 && v6env=(LAB_VIP6=2001:db8::100 LAB_CLIENT_ADDR6=2001:db8::2 LAB_PORT_OUTSIDE_ADDR6=2001:db8::1/64
    LAB_PORT_INSIDE_ADDR6=2001:db8:10::1/64 LAB_RS_ADDRS6="$(seq -f '2001:db8:10::1%g' -s ' ' 1 "$n")")
  _lab_write_env LAB_MODE=nat LAB_VIP=10.0.0.100 LAB_CLIENT_NS="$client" LAB_CLIENT_ADDR=10.0.0.2 \
    LAB_PORT_OUTSIDE_DEV="$out" LAB_PORT_OUTSIDE_NS="$client" LAB_PORT_OUTSIDE_MASTER=br0 LAB_PORT_OUTSIDE_ADDR=10.0.0.1/24 \
    LAB_PORT_INSIDE_DEV="$in" LAB_PORT_INSIDE_NS="$lan" LAB_PORT_INSIDE_MASTER=br0 LAB_PORT_INSIDE_ADDR=192.168.10.1/24 \
    LAB_RS_ADDRS="$(seq -f '192.168.10.1%g' -s ' ' 1 "$n")" "${v6env[@]}"
  _lab_write_json nat 10.0.0.100 "$client" 10.0.0.2 \
    "{\"name\":\"outside\",\"device\":\"$out\",\"netns\":\"$client\",\"master\":\"br0\",\"addr\":\"10.0.0.1/24\"$(_lab_if6 ',"addr6":"2001:db8::1/64"')},{\"name\":\"inside\",\"device\":\"$in\",\"netns\":\"$lan\",\"master\":\"br0\",\"addr\":\"192.168.10.1/24\"$(_lab_if6 ',"addr6":"2001:db8:10::1/64"')}" \
    "" "$(IFS=,; echo "${rs[*]}")"
}

# _lab_router: namespace "router" with a client leg (10.0.0.1/24, client 10.0.0.2/24) and a leg
# into bridge br0 of LAN_NS at 172.16.0.1/24. Prints the router ns and the client ns.
_lab_router() {
  local lan=$1 router client
  router=$(lab_ns router) || return 1
  client=$(lab_client) || return 1
  lab_veth "$client" eth0 "$router" eth0
  ip -n "$client" addr add 10.0.0.2/24 dev eth0
  ip -n "$client" route add default via 10.0.0.1
  ip -n "$router" addr add 10.0.0.1/24 dev eth0
  lab_veth "$router" eth1 "$lan" router
  ip -n "$lan" link set router master br0
  ip -n "$router" addr add 172.16.0.1/24 dev eth1
  lab_sysctl "$router" net.ipv4.ip_forward 1
  for c in all default eth0 eth1; do lab_sysctl "$router" "net.ipv4.conf.$c.rp_filter" 0; done
  if lab_ipv6; then
    # client 2001:db8::2/64 -- router 2001:db8::1 | 2001:db8:10::1/64 (the DR/TUN LAN)
    lab_addr6 "$client" eth0 2001:db8::2/64
    ip -n "$client" -6 route add default via 2001:db8::1
    lab_addr6 "$router" eth0 2001:db8::1/64
    lab_addr6 "$router" eth1 2001:db8:10::1/64
    lab_sysctl "$router" net.ipv6.conf.all.forwarding 1
  fi
  echo "$router $client"
}

# _lab_routed_lan: the part DR and TUN share: namespace "lan" with bridge br0 (the director's
# port joins it), and the router between it and the client. Prints "lan router client".
_lab_routed_lan() {
  local lan rc
  lan=$(lab_ns lan) || return 1
  lab_bridge "$lan" br0
  rc=$(_lab_router "$lan") || return 1
  echo "$lan $rc"
}

# _lab_routed_files MODE DEV N RS_PREFIX LAN ROUTER CLIENT RS_JSON [RS_PREFIX6]: lab.env and
# lab.json of a DR/TUN lab (director port "lan" at 172.16.0.2, VIP 172.16.0.100, gateway
# 172.16.0.1; real servers RS_PREFIX1..RS_PREFIXN; dual-stack: 2001:db8:10::2, VIP
# 2001:db8:10::100, gateway 2001:db8:10::1, real servers RS_PREFIX61..RS_PREFIX6N).
_lab_routed_files() {
  local mode=$1 dev=$2 n=$3 pfx=$4 lan=$5 router=$6 client=$7 rsjson=$8 pfx6=${9:-} v6env=() addr6=''
  if lab_ipv6; then
    v6env=(LAB_VIP6=2001:db8:10::100 LAB_CLIENT_ADDR6=2001:db8::2 LAB_PORT_LAN_ADDR6=2001:db8:10::2/64
      LAB_GATEWAY6=2001:db8:10::1 LAB_RS_ADDRS6="$(seq -f "${pfx6}%g" -s ' ' 1 "$n")")
    addr6=',"addr6":"2001:db8:10::2/64"'
  fi
  _lab_write_env LAB_MODE="$mode" LAB_VIP=172.16.0.100 LAB_CLIENT_NS="$client" LAB_CLIENT_ADDR=10.0.0.2 LAB_ROUTER_NS="$router" \
    LAB_PORT_LAN_DEV="$dev" LAB_PORT_LAN_NS="$lan" LAB_PORT_LAN_MASTER=br0 LAB_PORT_LAN_ADDR=172.16.0.2/24 \
    LAB_GATEWAY=172.16.0.1 LAB_RS_ADDRS="$(seq -f "${pfx}%g" -s ' ' 1 "$n")" "${v6env[@]}"
  _lab_write_json "$mode" 172.16.0.100 "$client" 10.0.0.2 \
    "{\"name\":\"lan\",\"device\":\"$dev\",\"netns\":\"$lan\",\"master\":\"br0\",\"addr\":\"172.16.0.2/24\"$addr6}" \
    "{\"dst\":\"0.0.0.0/0\",\"via\":\"172.16.0.1\"}" "$rsjson"
}

# lab_dr [DEV] [N_RS]
#   client 10.0.0.2/24 -- router 10.0.0.1 | 172.16.0.1 -- lan ns br0: TAP DEV (director 172.16.0.2, VIP 172.16.0.100),
#   rsK 172.16.0.1K/24 with the VIP on lo (arp_ignore=1, arp_announce=2), default via 172.16.0.1
#   dual-stack: client 2001:db8::2/64 -- router 2001:db8::1 | 2001:db8:10::1 -- director 2001:db8:10::2,
#   VIP 2001:db8:10::100; rsK 2001:db8:10::1K/64 with the VIP /128 on lo, default via 2001:db8:10::1
lab_dr() {
  local dev=${1:-${LAB_ID}l} n=${2:-2} k lan router client rs=() rc six=()
  rc=$(_lab_routed_lan) || return 1
  read -r lan router client <<<"$rc"
  for ((k = 1; k <= n; k++)); do
    lab_ipv6 && six=("2001:db8:10::1$k/64" 2001:db8:10::1 2001:db8:10::100)
    lab_rs "$lan" "rs$k" "172.16.0.1$k/24" 172.16.0.1 172.16.0.100 "${six[@]}" || return 1
    rs+=("{\"name\":\"rs$k\",\"netns\":\"$LAB_ID-rs$k\",\"addr\":\"172.16.0.1$k\",\"method\":\"route\"$(_lab_if6 ",\"addr6\":\"2001:db8:10::1$k\"")}")
  done
  _lab_routed_files dr "$dev" "$n" 172.16.0.1 "$lan" "$router" "$client" "$(IFS=,; echo "${rs[*]}")" 2001:db8:10::1
}

# lab_tun [DEV] [N_RS]
#   like DR, but the real servers sit on another subnet behind the router:
#   router 172.16.1.1/24 -- rsnet ns br0 -- rsK 172.16.1.1K/24, VIP on lo, decapsulating IPIP
#   (kernel ipip when the kernel has it, else src/io/tun-decap-main.ts)
#   dual-stack: router 2001:db8:11::1/64 on eth2, rsK 2001:db8:11::1K/64 with the VIP 2001:db8:10::100
#   on lo, decapsulating IPv6-in-IPv6 too (kernel ip6_tunnel when present, else the same helper)
lab_tun() {
  local dev=${1:-${LAB_ID}l} n=${2:-2} k lan rsnet router client rs=() rc how six=() vip6=
  rc=$(_lab_routed_lan) || return 1
  read -r lan router client <<<"$rc"
  rsnet=$(lab_ns rsnet) || return 1
  lab_bridge "$rsnet" br0
  lab_veth "$router" eth2 "$rsnet" router
  ip -n "$rsnet" link set router master br0
  ip -n "$router" addr add 172.16.1.1/24 dev eth2
  lab_sysctl "$router" net.ipv4.conf.eth2.rp_filter 0
  if lab_ipv6; then
    lab_addr6 "$router" eth2 2001:db8:11::1/64
    vip6=2001:db8:10::100
  fi
  for ((k = 1; k <= n; k++)); do
    lab_ipv6 && six=("2001:db8:11::1$k/64" 2001:db8:11::1 "$vip6")
    lab_rs "$rsnet" "rs$k" "172.16.1.1$k/24" 172.16.1.1 172.16.0.100 "${six[@]}" || return 1
    how=$(lab_decap "$LAB_ID-rs$k" 172.16.0.100 $vip6) || return 1
    rs+=("{\"name\":\"rs$k\",\"netns\":\"$LAB_ID-rs$k\",\"addr\":\"172.16.1.1$k\",\"method\":\"tunnel\",\"decap\":\"$how\"$(_lab_if6 ",\"addr6\":\"2001:db8:11::1$k\"")}")
  done
  _lab_routed_files tun "$dev" "$n" 172.16.1.1 "$lan" "$router" "$client" "$(IFS=,; echo "${rs[*]}")" 2001:db8:11::1
}

# lab_conf [SCHED] [EXTRA_LINE...]: write $LAB_DIR/tapvs.conf, the tapvs config for this lab:
# its ports placed into the lab's namespaces and bridges, the VIP, routes, and two services
# (TCP 80 and UDP 7) over every real server in the lab's forwarding mode. Extra lines
# (options, checks, persistence flags on services...) are appended verbatim. In a dual-stack
# lab the ports get their IPv6 addresses too, and the same services (and the iperf3 fwmark,
# mark 6) exist on the IPv6 VIP over the real servers' IPv6 addresses; LAB_CONF_IPV6=0 leaves
# the IPv6 services out (the addresses stay).
lab_conf() {
  local sched=${1:-rr}; shift || true
  local conf=$LAB_DIR/tapvs.conf flag a p extra=("$@") a6o= a6i= a6l=
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  [ -z "${LAB_PORT_OUTSIDE_ADDR6:-}" ] || a6o=" addr=$LAB_PORT_OUTSIDE_ADDR6"
  [ -z "${LAB_PORT_INSIDE_ADDR6:-}" ] || a6i=" addr=$LAB_PORT_INSIDE_ADDR6"
  [ -z "${LAB_PORT_LAN_ADDR6:-}" ] || a6l=" addr=$LAB_PORT_LAN_ADDR6"
  {
    echo "# tapvs config for lab $LAB_ID ($LAB_MODE), written by netns/lib.sh lab_conf"
    case $LAB_MODE in
      nat)
        echo "port outside kind=tap device=$LAB_PORT_OUTSIDE_DEV mac=02:00:00:00:00:01 addr=$LAB_PORT_OUTSIDE_ADDR$a6o netns=$LAB_PORT_OUTSIDE_NS bridge=$LAB_PORT_OUTSIDE_MASTER"
        echo "port inside kind=tap device=$LAB_PORT_INSIDE_DEV mac=02:00:00:00:00:02 addr=$LAB_PORT_INSIDE_ADDR$a6i netns=$LAB_PORT_INSIDE_NS bridge=$LAB_PORT_INSIDE_MASTER"
        echo "vip $LAB_VIP on outside"
        [ -z "${LAB_VIP6:-}" ] || echo "vip $LAB_VIP6 on outside"
        flag=-m ;;
      dr|tun)
        echo "port lan kind=tap device=$LAB_PORT_LAN_DEV mac=02:00:00:00:00:01 addr=$LAB_PORT_LAN_ADDR$a6l netns=$LAB_PORT_LAN_NS bridge=$LAB_PORT_LAN_MASTER"
        echo "vip $LAB_VIP on lan"
        [ -z "${LAB_VIP6:-}" ] || echo "vip $LAB_VIP6 on lan"
        echo "route default via $LAB_GATEWAY"
        [ -z "${LAB_GATEWAY6:-}" ] || echo "route default via $LAB_GATEWAY6"
        if [ "$LAB_MODE" = dr ]; then flag=-g; else flag=-i; fi ;;
    esac
    echo "option control_socket $LAB_DIR/tapvs.sock"
    for p in t:80 u:7; do
      echo "-A -${p%%:*} $LAB_VIP:${p#*:} -s $sched"
      for a in $LAB_RS_ADDRS; do echo "-a -${p%%:*} $LAB_VIP:${p#*:} -r $a:${p#*:} $flag -w 1"; done
    done
    # iperf3 (control over TCP, data over TCP or UDP, same port) must reach one server for both:
    # one persistent fwmark service for TCP and UDP 5201, as LVS setups group multi-port apps
    echo "mark 2 tcp $LAB_VIP ports 5201"
    echo "mark 2 udp $LAB_VIP ports 5201"
    echo "-A -f 2 -s $sched -p 60"
    for a in $LAB_RS_ADDRS; do echo "-a -f 2 -r $a $flag -w 1"; done
    if [ -n "${LAB_VIP6:-}" ] && [ "${LAB_CONF_IPV6:-1}" != 0 ]; then
      echo "# the same services on the IPv6 VIP"
      for p in t:80 u:7; do
        echo "-A -${p%%:*} [$LAB_VIP6]:${p#*:} -s $sched"
        for a in $LAB_RS_ADDRS6; do echo "-a -${p%%:*} [$LAB_VIP6]:${p#*:} -r [$a]:${p#*:} $flag -w 1"; done
      done
      echo "mark 6 tcp $LAB_VIP6 ports 5201"
      echo "mark 6 udp $LAB_VIP6 ports 5201"
      echo "-A -f 6 -6 -s $sched -p 60"
      for a in $LAB_RS_ADDRS6; do echo "-a -f 6 -6 -r [$a]:0 $flag -w 1"; done
    fi
    for a in "${extra[@]}"; do echo "$a"; done
  } >"$conf"
  echo "$conf"
}

# lab_tapvs [CONF] [ARGS...]: start `tapvs run` (in our own namespace: it moves its TAPs into the
# lab), record its PID in the run, and wait until it runs. Its log is $LAB_DIR/tapvs.log.
lab_tapvs() {
  local conf=${1:-$LAB_DIR/tapvs.conf}; shift || true
  ( cd "$LAB_REPO" && exec node bin/tapvs.js run --config "$conf" "$@" ) >"$LAB_DIR/tapvs.log" 2>&1 &
  LAB_TAPVS_PID=$!
  echo "$LAB_TAPVS_PID" >>"$LAB_DIR/pids"
  echo "$LAB_TAPVS_PID" >"$LAB_DIR/tapvs.pid"
  lab_wait_line "$LAB_DIR/tapvs.log" 'director running' 60 || return 1
}

# lab_probe_leg [ADDR/LEN]: give the real servers' LAN bridge an address of its own, so that the
# namespace holding it reaches the real servers directly, as a keepalived host would. tapvs keeps
# its own addresses in user space, so its health checks probe from there (option check_netns).
# Defaults: NAT 192.168.10.254/24 on <id>-lan br0; DR 172.16.0.254/24 on <id>-lan br0;
# TUN 172.16.1.254/24 on <id>-rsnet br0. Records LAB_PROBE_NS in lab.env and prints it.
lab_probe_leg() {
  local ns addr
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  case $LAB_MODE in
    nat) ns=$LAB_ID-lan addr=192.168.10.254/24 ;;
    dr) ns=$LAB_ID-lan addr=172.16.0.254/24 ;;
    tun) ns=$LAB_ID-rsnet addr=172.16.1.254/24 ;;
    *) echo "lab_probe_leg: unknown lab mode '$LAB_MODE'" >&2; return 1 ;;
  esac
  ip -n "$ns" addr add "${1:-$addr}" dev br0 || return 1
  printf 'LAB_PROBE_NS=%q\n' "$ns" >>"$LAB_DIR/lab.env"
  echo "$ns"
}

# lab_rs_pid NAME: PID of real server NAME's rs-server.mjs (to stop it in a test or demo).
lab_rs_pid() {
  local pid
  for pid in $(ip netns pids "$LAB_ID-$1" 2>/dev/null); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'rs-server\.mjs' && { echo "$pid"; return 0; }
  done
  return 1
}

# lab_rs_start NAME: start real server NAME's rs-server.mjs again (after it was stopped).
lab_rs_start() {
  local name=$1 log vip=
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  local vip6= addr6=
  [ "$LAB_MODE" = nat ] || { vip=$LAB_VIP; vip6=${LAB_VIP6:-}; }
  [ -z "${LAB_RS_ADDRS6:-}" ] || addr6=yes
  log=$name-$(date +%s%N)
  _lab_rs_serve "$name" "$vip" "$addr6" "$vip6" "$log"
}

# lab_ipvsadm ARGS...: ipvsadm against this lab's director.
lab_ipvsadm() {
  ( cd "$LAB_REPO" && node bin/tapvs.js ipvsadm --socket "$LAB_DIR/tapvs.sock" "$@" )
}

# _lab_write_json MODE VIP CLIENT_NS CLIENT_ADDR PORTS_JSON ROUTES_JSON RS_JSON
_lab_write_json() {
  cat >"$LAB_DIR/lab.json" <<JSON
{
  "id": "$LAB_ID",
  "mode": "$1",
  "vip": "$2",
  "services": [{ "proto": "tcp", "port": 80 }, { "proto": "udp", "port": 7 }],
  "client": { "netns": "$3", "addr": "$4" },
  "ports": [$5],
  "routes": [$6],
  "realServers": [$7]
}
JSON
}

# lab_place_port DEV NS [MASTER]: move an existing TAP netdev (made by tapvs in this
# namespace) into NS, join MASTER there, bring it up. tapvs can do the same itself
# with openTap({ netns, master }).
lab_place_port() {
  ip link set dev "$1" netns "$2" || return 1
  [ -n "${3:-}" ] && ip -n "$2" link set dev "$1" master "$3"
  ip -n "$2" link set dev "$1" up
}

# _lab_any_alive PID...: true while one of them runs (zombies count as gone)
_lab_any_alive() {
  local pid st
  for pid in "$@"; do
    st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || continue
    [ -n "$st" ] && [ "$st" != Z ] && return 0
  done
  return 1
}

# lab_down [RUN_ID]: stop the PIDs and delete the namespaces this run recorded. Idempotent.
lab_down() {
  local id=${1:-${LAB_ID:-}} dir pid ns
  [ -n "$id" ] || return 0
  dir=$LAB_ROOT_DIR/$id
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pids" ]; then
    local pids i
    pids=$(cat "$dir/pids")
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
    # give them a moment to exit cleanly, then insist
    for ((i = 0; i < 20; i++)); do
      _lab_any_alive $pids || break
      sleep 0.1
    done
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  if [ -f "$dir/netns" ]; then
    while read -r ns; do
      [ -n "$ns" ] || continue
      for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    done <"$dir/netns"
  fi
  rm -rf "$dir"
  return 0
}
