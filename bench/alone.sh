#!/bin/bash
# One scenario of `scripts/bench` alone, for trying a change quickly
# (docs/PERFORMANCE.md quotes figures it printed): a release local API with
# the scenario's settings (memory store, `log` backend with an outbox file,
# generous limits), and wrk as the benchmark drives it.
#   bench/alone.sh send  target/release/local-api [seconds]   64 connections, a new number each time
#   bench/alone.sh login target/release/local-api [seconds]   8 connections, one registered user, right password
#   bench/alone.sh floor target/release/floor [seconds]       the fixed-body floor, send's wrk
# after cargo build --release -p local-api (-p bench --bins for the floor).
# Prints wrk's requests/s and p50/p99, the server's CPU per request, its VmHWM, for send the outbox's line count,
# and for login the hashing threads' CPU per hash and the share of the cores spent hashing.
set -euo pipefail
scenario=$1; bin=$2; secs=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
scratch=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$scratch"' EXIT
port=$(free_port)
base=http://127.0.0.1:$port
serve "$bin" "$port" "$scratch"; pid=$server_pid
# The nanoseconds its hashing threads (named argon2) have run, from schedstat.
hashing_ns() {
  for t in /proc/$pid/task/*; do
    if [ "$(cat "$t/comm")" = argon2 ]; then cut -d' ' -f1 "$t/schedstat"; fi
  done | awk '{s += $1} END {printf "%.0f\n", s}'
}
hashing_threads() { grep -lx argon2 /proc/$pid/task/*/comm | wc -l; }
started=
# wrk's figures, and the CPU the server spent per request.
show() {
  local out; out=$(cat)
  grep -E "Requests/sec|  50%|  99%|Non-2xx" <<< "$out" || true
  local requests; requests=$(awk '/requests in/ {print $1}' <<< "$out")
  echo "server CPU: $(cpu_per_request "$(( $(ticks "$pid") - started ))" "$requests") µs a request"
}
case "$scenario" in
  floor) started=$(ticks "$pid"); wrk --latency -t 2 -c 64 -d "${secs}s" "$base/" | show ;;
  send)
    started=$(ticks "$pid"); wrk --latency -t 2 -c 64 -d "${secs}s" -s "$here/wrk/send.lua" "$base/user/sms/" | show
    echo "outbox lines: $(wc -l < "$scratch/outbox.jsonl")" ;;
  login)
    user=13800138000 password=password123
    post() { curl -sf -X POST -H 'content-type: application/json' -d "$2" "$base$1" >/dev/null; }
    post /user/sms/ "{\"mobile\":\"$user\"}"
    code=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["code"])' "$scratch/outbox.jsonl")
    post /user/register/ "{\"mobile\":\"$user\",\"password\":\"$password\",\"sms_code\":\"$code\"}"
    started=$(ticks "$pid"); hashed=$(hashing_ns)
    out=$(BENCH_USERNAME=$user wrk --latency -t 2 -c 8 -d "${secs}s" -s "$here/wrk/login.lua" "$base/user/login/")
    show <<< "$out"
    # As scripts/bench reads it: each hash's CPU, and the share of the cores spent hashing.
    # (a hash under way per hashing thread when wrk stops is counted as whole).
    python3 -c "import sys; ns, n, rate, cores = int(sys.argv[1]), int(sys.argv[2]) + int(sys.argv[4]), float(sys.argv[3]), int(sys.argv[5]); us = ns / 1e3 / n; print('hashing threads: %.1f µs of CPU a hash, %.4f of the cores spent hashing' % (us, rate * us / 1e6 / cores))" \
      "$(( $(hashing_ns) - hashed ))" "$(awk '/requests in/ {print $1}' <<< "$out")" "$(awk '/Requests\/sec/ {print $2}' <<< "$out")" "$(hashing_threads)" "$(nproc)" ;;
  *) echo "bench/alone.sh: unknown scenario $scenario (send, login or floor)" >&2; exit 2 ;;
esac
grep VmHWM "/proc/$pid/status"
