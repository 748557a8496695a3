#!/usr/bin/env bash
# The kernel as the director: the lab topologies of lib.sh with a Linux
# namespace doing the director's job, so tapvs can be measured against the
# kernel on the same wires. This kernel has no IPVS and no ipip module, so:
#
#   NAT  a "director" namespace with veth legs into the client bridge and the
#        lan bridge (10.0.0.1/24 + VIP 10.0.0.100, 192.168.10.1/24), forwarding,
#        and nftables DNAT of VIP:5201 (tcp and udp) spread over the real
#        servers by a hash of the client address (like IPVS "sh"), and of
#        VIP:8080 (tcp, the bench's HTTP runs) to rs1; conntrack undoes the
#        rewrite on the replies, as IPVS-NAT does.
#   DR   a "director" namespace on the DR LAN (172.16.0.2/24) that forwards
#        VIP traffic to rs1 by a /32 route: the kernel re-addresses the frame
#        to rs1's MAC and leaves the IP header alone, which is all LVS-DR does.
#        The router learns the VIP at the director's MAC by a static
#        neighbour entry (tapvs answers ARP for the VIP; a plain kernel that
#        does not own the VIP will not).
#   TUN  needs the kernel's ipip module; without it: "n/a (no ipip module)".
#
# IPv6 (the labs are dual-stack unless LAB_IPV6=0): the NAT director also holds
# 2001:db8::1/64 + VIP 2001:db8::100 and 2001:db8:10::1/64, forwards IPv6, and
# nftables (table ip6) DNATs [VIP]:5201 the same way; the DR director holds
# 2001:db8:10::2/64 and forwards the IPv6 VIP 2001:db8:10::100 to rs1's IPv6
# address by a /128 route (the router's neighbour entry for the VIP is static,
# as for IPv4). No IPv6 TUN peer: that needs ip6_tunnel, absent here too.
#
# As a library (after sourcing lib.sh, lab_init, lab_trap):
#   kpeer_nat [N_RS]   kpeer_dr [N_RS]   kpeer_tun [N_RS]
# From the command line:
#   netns/kernel-peer.sh up nat|dr|tun [RUN_ID]   -> prints the state dir
#   netns/kernel-peer.sh down RUN_ID
#   netns/kernel-peer.sh can tun                  -> exit 0 when the mode can be built here
# lab.env gains LAB_DIRECTOR=kernel and LAB_DIRECTOR_NS.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# _kpeer_env KEY=VALUE...: append to this run's lab.env
_kpeer_env() {
  local kv
  for kv in "$@"; do printf '%s=%q\n' "${kv%%=*}" "${kv#*=}"; done >>"$LAB_DIR/lab.env"
}

# _kpeer_director: the director namespace, forwarding, no redirects, no reverse-path filter.
_kpeer_director() {
  local ns c
  ns=$(lab_ns director) || return 1
  lab_sysctl "$ns" net.ipv4.ip_forward 1
  lab_ipv6 && lab_sysctl "$ns" net.ipv6.conf.all.forwarding 1
  for c in all default; do
    lab_sysctl "$ns" "net.ipv4.conf.$c.rp_filter" 0
    lab_sysctl "$ns" "net.ipv4.conf.$c.send_redirects" 0
  done
  echo "$ns"
}

# _kpeer_leg DIR_NS DIR_IF BR_NS BR_PORT: a veth from the director into bridge br0 of BR_NS.
_kpeer_leg() {
  lab_veth "$1" "$2" "$3" "$4" || return 1
  ip -n "$3" link set "$4" master br0
  lab_sysctl "$1" "net.ipv4.conf.$2.rp_filter" 0
  lab_sysctl "$1" "net.ipv4.conf.$2.send_redirects" 0
}

# kpeer_nat [N_RS]: lab_nat's client, lan and real servers, with the kernel directing.
kpeer_nat() {
  local n=${1:-2} dir k map=()
  # the TAP names lab_nat records are never created: the director is a namespace here
  lab_nat "${LAB_ID}o" "${LAB_ID}i" "$n" || return 1
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  dir=$(_kpeer_director) || return 1
  _kpeer_leg "$dir" eth0 "$LAB_CLIENT_NS" director || return 1
  _kpeer_leg "$dir" eth1 "$LAB_PORT_INSIDE_NS" director || return 1
  ip -n "$dir" addr add 10.0.0.1/24 dev eth0
  ip -n "$dir" addr add "$LAB_VIP/32" dev eth0
  ip -n "$dir" addr add 192.168.10.1/24 dev eth1
  for ((k = 1; k <= n; k++)); do map+=("$((k - 1)) : 192.168.10.1$k"); done
  if [ -n "${LAB_VIP6:-}" ]; then
    lab_addr6 "$dir" eth0 2001:db8::1/64
    lab_addr6 "$dir" eth0 "$LAB_VIP6/128"
    lab_addr6 "$dir" eth1 2001:db8:10::1/64
    _kpeer_nat6 "$dir" "$n" || return 1
  fi
  ip netns exec "$dir" nft -f - <<NFT || return 1
table ip kpeer {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $LAB_VIP meta l4proto { tcp, udp } th dport 5201 dnat to jhash ip saddr mod $n map { $(IFS=,; echo "${map[*]}") }
    ip daddr $LAB_VIP tcp dport 8080 dnat to 192.168.10.11
  }
}
NFT
  _kpeer_env LAB_DIRECTOR=kernel LAB_DIRECTOR_NS="$dir"
}

# _kpeer_nat6 DIR_NS N_RS: nftables DNAT of [VIP6]:5201 over the real servers' IPv6 addresses.
_kpeer_nat6() {
  local dir=$1 n=$2 k map6=()
  for ((k = 1; k <= n; k++)); do map6+=("$((k - 1)) : 2001:db8:10::1$k"); done
  ip netns exec "$dir" nft -f - <<NFT
table ip6 kpeer6 {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip6 daddr $LAB_VIP6 meta l4proto { tcp, udp } th dport 5201 dnat to jhash ip6 saddr mod $n map { $(IFS=,; echo "${map6[*]}") }
  }
}
NFT
}

# kpeer_dr [N_RS]: lab_dr's client, router and LAN, with a kernel forwarding VIP traffic to rs1.
kpeer_dr() {
  local n=${1:-2} dir mac
  lab_dr "${LAB_ID}l" "$n" || return 1
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  dir=$(_kpeer_director) || return 1
  _kpeer_leg "$dir" eth0 "$LAB_PORT_LAN_NS" director || return 1
  ip -n "$dir" addr add 172.16.0.2/24 dev eth0
  ip -n "$dir" route add "$LAB_VIP/32" via "${LAB_RS_ADDRS%% *}" dev eth0
  ip -n "$dir" route add default via "$LAB_GATEWAY"
  mac=$(ip -n "$dir" -br link show dev eth0 | awk '{print $3}')
  ip -n "$LAB_ROUTER_NS" neigh replace "$LAB_VIP" lladdr "$mac" dev eth1 nud permanent
  if [ -n "${LAB_VIP6:-}" ]; then
    lab_addr6 "$dir" eth0 2001:db8:10::2/64
    ip -n "$dir" -6 route add "$LAB_VIP6/128" via "${LAB_RS_ADDRS6%% *}" dev eth0
    ip -n "$dir" -6 route add default via "$LAB_GATEWAY6"
    ip -n "$LAB_ROUTER_NS" -6 neigh replace "$LAB_VIP6" lladdr "$mac" dev eth1 nud permanent
  fi
  _kpeer_env LAB_DIRECTOR=kernel LAB_DIRECTOR_NS="$dir"
}

# kpeer_can_tun: true when this kernel can decapsulate and encapsulate IPIP.
kpeer_can_tun() {
  [ -d /sys/module/ipip ] || modprobe -q ipip 2>/dev/null
}

# kpeer_tun [N_RS]: lab_tun's topology, with a kernel ipip tunnel from the director to rs1.
kpeer_tun() {
  local n=${1:-2} dir mac rs1
  if ! kpeer_can_tun; then
    echo "kpeer_tun: n/a (no ipip module)" >&2
    return 2
  fi
  lab_tun "${LAB_ID}l" "$n" || return 1
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  rs1=${LAB_RS_ADDRS%% *}
  dir=$(_kpeer_director) || return 1
  _kpeer_leg "$dir" eth0 "$LAB_PORT_LAN_NS" director || return 1
  ip -n "$dir" addr add 172.16.0.2/24 dev eth0
  ip -n "$dir" route add default via "$LAB_GATEWAY"
  ip -n "$dir" tunnel add kpt0 mode ipip local 172.16.0.2 remote "$rs1" || return 1
  ip -n "$dir" link set kpt0 up
  ip -n "$dir" route add "$LAB_VIP/32" dev kpt0
  mac=$(ip -n "$dir" -br link show dev eth0 | awk '{print $3}')
  ip -n "$LAB_ROUTER_NS" neigh replace "$LAB_VIP" lladdr "$mac" dev eth1 nud permanent
  _kpeer_env LAB_DIRECTOR=kernel LAB_DIRECTOR_NS="$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    up)
      mode=${2:?mode: nat, dr or tun}
      if [ "$mode" = tun ] && ! kpeer_can_tun; then
        echo "n/a (no ipip module)" >&2
        exit 2
      fi
      lab_init "${3:-kp$$}"
      trap 'lab_down' ERR
      "kpeer_$mode"
      trap - ERR
      echo "$LAB_DIR"
      ;;
    down)
      lab_down "${2:?run id}"
      ;;
    can)
      [ "${2:-}" = tun ] || exit 0
      kpeer_can_tun
      ;;
    *)
      echo "usage: $0 up nat|dr|tun [RUN_ID] | down RUN_ID | can nat|dr|tun" >&2
      exit 2
      ;;
  esac
fi
