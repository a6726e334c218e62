# Sourced by bench/alone.sh and bench/side_by_side.sh: one way to start a
# server under test and to read what it spent.

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A token key of the bench's own, as scripts/bench sets one (not a secret:
# nothing outside this run trusts it).
token_key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

# serve BIN PORT DIR: BIN (the local API, or the floor) in the background on
# 127.0.0.1:PORT, as scripts/bench runs it (memory store, `log` backend with
# DIR/outbox.jsonl, abuse limits set generously), its log in DIR/log, its
# pid in $server_pid. Returns once the port answers.
serve() {
  local bin=$1 port=$2 dir=$3
  LOCAL_API_ADDR=127.0.0.1:$port FLOOR_ADDR=127.0.0.1:$port STORE=memory SMS_BACKEND=log \
  SMS_OUTBOX_FILE=$dir/outbox.jsonl JWT_SECRET=$token_key \
  SMS_MAX_PER_IP_PER_HOUR=100000000 SMS_DAILY_BUDGET=100000000 SMS_MAX_PER_MOBILE_PER_DAY=100000000 \
  AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN=100000000 LOGIN_MAX_FAILURES=100000000 \
  SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY=100000000 \
    "$bin" 2>"$dir/log" &
  server_pid=$!
  for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
}

# ticks PID: the CPU PID has spent (user + system, in clock ticks, from /proc).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# cpu_per_request SPENT_TICKS REQUESTS: microseconds of CPU a request.
cpu_per_request() { python3 -c "import sys; print('%.1f' % (int(sys.argv[1]) * 1e6 / int(sys.argv[2]) / int(sys.argv[3])))" "$1" "$2" "$(getconf CLK_TCK)"; }
