#!/bin/bash
# Two builds of the local API under the send scenario at the same time, for
# telling apart changes smaller than this machine's drift (its speed moves
# by a fifth within minutes, which one run after the other cannot tell from
# the change): each round starts both, drives each with its own wrk (one
# thread, 32 connections, `bench/wrk/send.lua`) for the same seconds, and
# prints the CPU each spent per request (user + system, from /proc) and
# how many requests it answered. Settings as `bench/alone.sh send`. The two
# swap places (which one's wrk starts first) every other round, and a round
# in which either answered anything but 2xx stops the script.
#   bench/side_by_side.sh A B [rounds] [seconds]     e.g. target/release/local-api /tmp/local-api.before 3 6
set -euo pipefail
a=$1; b=$2; rounds=${3:-3}; secs=${4:-6}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
scratch=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$scratch"' EXIT
for round in $(seq "$rounds"); do
  ports=() pids=()
  for bin in "$a" "$b"; do
    port=$(free_port); dir=$scratch/$round-${#pids[@]}; mkdir -p "$dir"
    serve "$bin" "$port" "$dir"; pids+=("$server_pid"); ports+=("$port")
  done
  before=("$(ticks "${pids[0]}")" "$(ticks "${pids[1]}")")
  first=$(( round % 2 )); second=$(( 1 - first ))
  wrk -t 1 -c 32 -d "${secs}s" -s "$here/wrk/send.lua" "http://127.0.0.1:${ports[$first]}/user/sms/" > "$scratch/wrk$first" &
  wrk -t 1 -c 32 -d "${secs}s" -s "$here/wrk/send.lua" "http://127.0.0.1:${ports[$second]}/user/sms/" > "$scratch/wrk$second"
  wait %%
  if grep -q "Non-2xx" "$scratch/wrk0" "$scratch/wrk1"; then
    grep -H "Non-2xx" "$scratch/wrk0" "$scratch/wrk1" >&2
    echo "bench/side_by_side.sh: a build answered other than 2xx: its CPU per request would not measure send" >&2
    exit 1
  fi
  line=""
  for i in 0 1; do
    spent=$(( $(ticks "${pids[$i]}") - ${before[$i]} ))
    requests=$(awk '/requests in/ {print $1}' "$scratch/wrk$i")
    bin=$a; [ "$i" = 1 ] && bin=$b
    line+="$bin $(cpu_per_request "$spent" "$requests") µs CPU/request ($requests requests)   "
  done
  echo "round $round: $line"
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
done
