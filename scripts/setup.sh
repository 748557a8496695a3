#!/usr/bin/env bash
# Installs what tapvs needs on a fresh Debian machine: system tools for the
# labs and tests, then the npm packages from the lockfile. Idempotent and quiet
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# wrk and nginx: make bench's HTTP runs (it starts its own nginx in the real servers' namespaces;
# the packaged service is not used); ethtool: the pcap-port offload test
debs=(python3 g++ make libpcap-dev iproute2 iputils-ping iperf3 curl socat netcat-openbsd nftables tcpdump tshark tcpreplay python3-scapy procps keepalived prometheus prometheus-node-exporter python3-prometheus-client chromium hping3 ethtool wrk nginx vsftpd)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=node_modules/.tapvs-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
