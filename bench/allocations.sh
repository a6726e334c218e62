#!/bin/bash
# Heap allocations a send: glibc's malloc, calloc, realloc and
# posix_memalign (which Rust's allocator calls for alignments over 16) counted with
# perf's uprobes on the local API while wrk drives the send scenario (one
# thread, 8 connections, `bench/wrk/send.lua`) for a few seconds, divided
# by the sends the outbox gained meanwhile. docs/PERFORMANCE.md quotes what
# it printed; needs root (uprobes) and perf. The probes are removed at exit.
#   bench/allocations.sh target/release/local-api [seconds]
set -euo pipefail
bin=$1; secs=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
command -v perf > /dev/null || { echo "bench/allocations.sh: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
libc=$(ldd "$bin" | awk '/libc\.so/ {print $3}')
fns=(malloc calloc realloc posix_memalign)
for fn in "${fns[@]}"; do
  perf probe -q -x "$libc" "$fn" 2> /dev/null || perf probe -l | grep -q "probe_libc:$fn " \
    || { echo "bench/allocations.sh: cannot place a probe on $fn in $libc" >&2; exit 1; }
done
scratch=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$scratch"; for fn in "${fns[@]}"; do perf probe -q -d "probe_libc:$fn" 2>/dev/null || true; done' EXIT
port=$(free_port)
serve "$bin" "$port" "$scratch"; pid=$server_pid
url=http://127.0.0.1:$port/user/sms/
# Warm: the first requests allocate the connections and the store's shards.
BENCH_FIRST_THREAD=0 wrk -t 1 -c 8 -d 1s -s "$here/wrk/send.lua" "$url" > /dev/null
before=$(wc -l < "$scratch/outbox.jsonl")
perf stat -x, -e probe_libc:malloc,probe_libc:calloc,probe_libc:realloc,probe_libc:posix_memalign -p "$pid" -o "$scratch/stat" -- \
  env BENCH_FIRST_THREAD=1 wrk -t 1 -c 8 -d "${secs}s" -s "$here/wrk/send.lua" "$url" > /dev/null
sends=$(( $(wc -l < "$scratch/outbox.jsonl") - before ))
echo "$sends sends"
[ "$sends" -gt 0 ] || { echo "bench/allocations.sh: no send was answered" >&2; exit 1; }
awk -F, -v n="$sends" '/probe_libc/ {sub("probe_libc:", "", $3); printf "%-8s %6.1f a send\n", $3, $1 / n; all += $1} END {printf "%-8s %6.1f a send\n", "all", all / n}' "$scratch/stat"
