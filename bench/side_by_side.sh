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
scratch=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$scratch"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
token_key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq "$rounds"); do
  ports=() pids=()
  for bin in "$a" "$b"; do
    port=$(free_port); dir=$scratch/$round-${#pids[@]}; mkdir -p "$dir"
    LOCAL_API_ADDR=127.0.0.1:$port STORE=memory SMS_BACKEND=log SMS_OUTBOX_FILE=$dir/outbox.jsonl JWT_SECRET=$token_key \
    SMS_MAX_PER_IP_PER_HOUR=100000000 SMS_DAILY_BUDGET=100000000 SMS_MAX_PER_MOBILE_PER_DAY=100000000 \
      "$bin" 2>"$dir/log" & pids+=($!); ports+=("$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
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
    line+=$(python3 -c "import sys; print('%s %.1f µs CPU/request (%s requests)   ' % (sys.argv[1], int(sys.argv[2]) * 1e6 / int(sys.argv[3]) / $(getconf CLK_TCK), sys.argv[3]))" "$bin" "$spent" "$requests")
  done
  echo "round $round: $line"
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
done
