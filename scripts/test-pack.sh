#!/usr/bin/env bash
# The published package, as a user gets it: `npm pack` this checkout (or take
# the tarball given with --tarball), install it with `npm install -g` on an
# empty prefix (production dependencies only), and use the installed `tapvs`
# from outside the checkout: --version, help, check-config, replay of every
# fixtures/pcap case compared byte for byte with its expected capture,
# ipvsadm, run with bad configs; as root also a short live `tapvs run` on a
# TAP with health checks in a namespace (the probe agent starts from dist/).
#
# Uses the `node` first on PATH (scripts/test-node-versions.sh runs it under
# each Node line). Removes everything it made, also on failure.
#
# usage: scripts/test-pack.sh [--tarball FILE] [--keep]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

tarball=
keep=
while [ $# -gt 0 ]; do
  case "$1" in
    --tarball) tarball=$(realpath "$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--tarball FILE] [--keep]" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/tapvs-pack.XXXXXX)
ns="tvpk$$"
dev="tvpk$$"
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do { kill -KILL "$p" && wait "$p"; } 2>/dev/null || true; done
  if [ "$(id -u)" -eq 0 ]; then
    if ip netns list 2>/dev/null | grep -qw "^$ns"; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
    ip link show "$dev" >/dev/null 2>&1 && ip link del "$dev" 2>/dev/null || true
  fi
  if [ -n "$keep" ]; then echo "test-pack: kept $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT INT TERM

node_bin=$(command -v node)
node_version=$(node -p process.version)
version=$(node -p "require('$repo/package.json').version")
fails=0
ok() { echo "  ok    $*"; }
bad() { echo "  FAIL  $*"; fails=$((fails + 1)); }
# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND (output in $work/out, $work/err)
expect() {
  local want=$1 what=$2; shift 3
  local got=0
  "$@" >"$work/out" 2>"$work/err" || got=$?
  if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, wanted $want"; sed 's/^/        /' "$work/out" "$work/err" | head -20; fi
}
has() { # has FILE REGEX DESCRIPTION
  if grep -Eq -- "$2" "$1"; then ok "$3"; else bad "$3: no /$2/ in:"; sed 's/^/        /' "$1" | head -20; fi
}

echo "test-pack: node $node_version ($node_bin), tapvs $version"
t0=$(date +%s)

# --- the tarball ---
if [ -z "$tarball" ]; then
  (cd "$repo" && npm pack --silent --pack-destination "$work" >"$work/pack.log" 2>&1) || { cat "$work/pack.log"; echo "test-pack: npm pack failed" >&2; exit 1; }
  tarball="$work/tapvs-$version.tgz"
fi
tar tzf "$tarball" | sed 's|^package/||' | sort >"$work/files"
for f in package.json README.md bin/tapvs.js dist/cli/main.js dist/control/health/agent-main.js docs/config.md; do
  grep -qx "$f" "$work/files" && ok "packed $f" || bad "not packed: $f"
done
if grep -Eq '^(src|test|fixtures|bench|netns|scripts|node_modules)/|\.ts$' "$work/files"; then
  bad "packed files that are not the runtime's:"; grep -E '^(src|test|fixtures|bench|netns|scripts|node_modules)/|\.ts$' "$work/files" | head | sed 's/^/        /'
else
  ok "nothing but dist/, bin/, docs/ and README packed ($(wc -l <"$work/files") files, $(du -k "$tarball" | cut -f1) kB)"
fi

# --- install on an empty prefix ---
prefix="$work/prefix"
nodedir=$(dirname "$(dirname "$(realpath "$node_bin")")")
gyp=()
[ -f "$nodedir/include/node/node.h" ] && gyp=(--nodedir="$nodedir")
if npm install -g --prefix "$prefix" --omit=dev --allow-scripts=cap,ioctl,raw-socket "${gyp[@]}" \
     --no-audit --no-fund --loglevel=warn "$tarball" >"$work/install.log" 2>&1; then
  ok "npm install -g --prefix <empty> ($(($(date +%s) - t0)) s so far)"
else
  cat "$work/install.log"; echo "test-pack: npm install -g of the tarball failed" >&2; exit 1
fi
tapvs="$prefix/bin/tapvs"
mods="$prefix/lib/node_modules/tapvs/node_modules"
for d in tsx vitest typescript fast-check @types/node esbuild; do
  [ -e "$mods/$d" ] && bad "dev dependency installed: $d" || true
done
ok "no dev dependency installed"
for m in ioctl cap; do
  (cd "$mods/.." && node -e "require('$m')") 2>"$work/err" && ok "native addon $m loads" || { bad "native addon $m does not load"; head -5 "$work/err"; }
done
# raw-socket is optional: it does not build from the registry on Node >= 24
# (it pins nan 2.19); ICMP checks then use ping(8)
(cd "$mods/.." && node -e "require('raw-socket')") 2>/dev/null && ok "optional raw-socket loads" || echo "  note  optional raw-socket not built for node $node_version (ICMP checks fall back to ping)"

cd "$work"   # nothing from the checkout on the module path

# --- commands ---
expect 0 "tapvs --version" -- "$tapvs" --version
has "$work/out" "^tapvs $version\$" "--version prints 'tapvs $version'"
expect 0 "tapvs version" -- "$tapvs" version
has "$work/out" "^tapvs $version\$" "version prints 'tapvs $version'"
expect 0 "tapvs help" -- "$tapvs" help
has "$work/out" "tapvs replay" "help lists the commands"
expect 2 "tapvs (no command)" -- "$tapvs"
expect 2 "tapvs no-such-command" -- "$tapvs" no-such-command

for conf in "$repo"/fixtures/pcap/*.conf; do
  case=$(basename "$conf" .conf)
  in=$(ls "$repo/fixtures/pcap/$case".in.pcap* | head -1)
  expect 0 "check-config $case.conf" -- "$tapvs" check-config "$conf"
  expect 0 "replay $case" -- "$tapvs" replay --config "$conf" --in "$in" --out "$work/$case.out.pcapng"
  cmp -s "$work/$case.out.pcapng" "$repo/fixtures/pcap/$case.expected.pcapng" \
    && ok "replay $case = $case.expected.pcapng, byte for byte" || bad "replay $case differs from $case.expected.pcapng"
done

printf 'port lan kind=tap device=x addr=10.0.0.1/24\nvip 10.0.0.9 on nowhere\n' >"$work/bad.conf"
expect 1 "check-config of a bad config" -- "$tapvs" check-config "$work/bad.conf"
has "$work/err" "bad\.conf:1: .*mac=" "check-config names file:line"
expect 1 "run --config <bad config>" -- "$tapvs" run --config "$work/bad.conf"
has "$work/err" "bad\.conf:2: .*unknown port" "run refuses it with file:line"
expect 1 "run --config <missing file>" -- "$tapvs" run --config "$work/missing.conf"
has "$work/err" "missing\.conf" "run names the missing file"
expect 2 "ipvsadm -Ln without a director" -- "$tapvs" ipvsadm --socket "$work/none.sock" -Ln
has "$work/err" "cannot reach tapvs at $work/none.sock" "ipvsadm says it cannot reach the director"

# --- live, as root: a TAP, health checks through the probe agent in a namespace ---
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
  echo "  skip  live tapvs run (needs root and /dev/net/tun)"
else
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 10.99.0.11/32 dev lo
  ip netns exec "$ns" node -e "require('net').createServer((s) => s.end()).listen(8080, '10.99.0.11', () => console.log('listening'))" >"$work/rs.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do grep -q listening "$work/rs.log" && break; sleep 0.1; done
  sock="$work/tapvs.sock"
  cat >"$work/live.conf" <<EOF
port lan kind=tap device=$dev mac=02:00:00:00:99:01 addr=10.99.0.1/24
vip 10.99.0.100 on lan
option control_socket $sock
option check_netns $ns
-A -t 10.99.0.100:80 -s rr
-a -t 10.99.0.100:80 -r 10.99.0.11:8080 -m
-a -t 10.99.0.100:80 -r 10.99.0.12:8080 -m
check tcp -t 10.99.0.100:80 -r 10.99.0.11:8080 interval=200ms timeout=150ms retries=1
check tcp -t 10.99.0.100:80 -r 10.99.0.12:8080 interval=200ms timeout=150ms retries=1
EOF
  expect 0 "check-config of the live config" -- "$tapvs" check-config "$work/live.conf"
  "$tapvs" run --config "$work/live.conf" >"$work/run.log" 2>&1 &
  run_pid=$!
  pids+=("$run_pid")
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] && ok "tapvs run is up (control socket)" || { bad "no control socket after 10 s"; sed 's/^/        /' "$work/run.log" | head -20; }
  ip link show "$dev" >/dev/null 2>&1 && ok "TAP $dev created" || bad "TAP $dev not created"
  # the check of .12 (nothing there) fails and removes it; .11 answers and stays
  for _ in $(seq 100); do
    "$tapvs" ipvsadm --socket "$sock" -Ln >"$work/list" 2>&1 || true
    grep -q 10.99.0.12 "$work/list" || break
    sleep 0.1
  done
  if grep -q '10.99.0.11:8080' "$work/list" && ! grep -q 10.99.0.12 "$work/list"; then
    ok "health checks ran in the namespace: the dead real server removed, the live one kept"
  else
    bad "health checks did not settle as expected:"; sed 's/^/        /' "$work/list" "$work/run.log" | head -30
  fi
  expect 0 "ipvsadm -Ln --stats" -- "$tapvs" ipvsadm --socket "$sock" -Ln --stats
  has "$work/out" "TCP +10\.99\.0\.100:80" "the listing shows the service"
  expect 0 "ipvsadm -h" -- "$tapvs" ipvsadm --socket "$sock" -h
  has "$work/out" "ipvsadm" "ipvsadm -h prints ipvsadm's help"
  kill -TERM "$run_pid"
  run_rc=0
  wait "$run_pid" || run_rc=$?
  [ "$run_rc" -eq 0 ] && ok "SIGTERM: tapvs run exits 0" || { bad "SIGTERM: tapvs run exited $run_rc"; sed 's/^/        /' "$work/run.log" | tail -20; }
  ip link show "$dev" >/dev/null 2>&1 && bad "TAP $dev still there after exit" || ok "TAP $dev removed on exit"
fi

echo "test-pack: node $node_version: $fails failed, $(($(date +%s) - t0)) s"
[ "$fails" -eq 0 ]
