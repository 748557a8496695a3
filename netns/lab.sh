#!/usr/bin/env bash
# Bring a lab up or down from the command line.
#   netns/lab.sh up nat|dr|tun [RUN_ID]   -> prints the state dir (lab.env, lab.json, logs)
#   netns/lab.sh down RUN_ID
set -euo pipefail
source "$(dirname "$0")/lib.sh"
case "${1:-}" in
  up)
    mode=${2:?mode: nat, dr or tun}
    lab_init "${3:-tv$$}"
    trap 'lab_down' ERR
    "lab_$mode"
    trap - ERR
    echo "$LAB_DIR"
    ;;
  down)
    lab_down "${2:?run id}"
    ;;
  *)
    echo "usage: $0 up nat|dr|tun [RUN_ID] | down RUN_ID" >&2
    exit 2
    ;;
esac
