#!/bin/bash
# The send scenario of `scripts/bench` alone, for trying a change quickly
# (docs/PERFORMANCE.md quotes figures it printed): a release local API with
# the scenario's settings (memory store, a random token key, `log` backend with an outbox file,
# generous limits), wrk with 64 connections posting a new number each time.
#   bench/send_alone.sh target/release/local-api [seconds]   after cargo build --release -p local-api
#   FLOOR=1 bench/send_alone.sh target/release/floor [seconds]   the fixed-body floor, same wrk
# Prints wrk's requests/s and p50/p99, the server's VmHWM and the outbox's line count.
set -euo pipefail
bin=$1; secs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOCAL_API_ADDR=127.0.0.1:$port FLOOR_ADDR=127.0.0.1:$port STORE=memory SMS_BACKEND=log \
SMS_OUTBOX_FILE=$scratch/outbox.jsonl \
SMS_MAX_PER_IP_PER_HOUR=100000000 SMS_DAILY_BUDGET=100000000 SMS_MAX_PER_MOBILE_PER_DAY=100000000 \
AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN=100000000 LOGIN_MAX_FAILURES=100000000 \
SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY=100000000 \
  "$bin" 2>"$scratch/log" & pid=$!
for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
if [ -n "${FLOOR:-}" ]; then
  wrk --latency -t 2 -c 64 -d "${secs}s" "http://127.0.0.1:$port/" | grep -E "Requests/sec|  50%|  99%|Non-2xx"
else
  wrk --latency -t 2 -c 64 -d "${secs}s" -s "$here/wrk/send.lua" "http://127.0.0.1:$port/user/sms/" \
    | grep -E "Requests/sec|  50%|  99%|Non-2xx"
  echo "outbox lines: $(wc -l < "$scratch/outbox.jsonl")"
fi
grep VmHWM "/proc/$pid/status"
kill "$pid"; wait "$pid" 2>/dev/null || true
