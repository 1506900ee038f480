# shellcheck shell=bash
# Process handling for scripts/bench.sh: free loopback ports, starting a process pinned to a
# CPU, waiting for it to answer, reading its CPU time and peak memory from /proc, and stopping
# every process the benchmark started (by PID, also when the script fails or is interrupted).

# PIDs of every process started here, stopped by bench_stop_all on exit.
BENCH_PIDS=()

# A free TCP port on 127.0.0.1: the kernel picks it (bind to port 0), then it is released for
# the server that needs a fixed port in its configuration. The window between the two is short
# and only loopback is involved.
bench_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# bench_start CPU LOG CMD... : starts CMD pinned to CPU with its output in LOG; sets BENCH_LAST_PID.
bench_start() {
  local cpu=$1 log=$2
  shift 2
  taskset -c "$cpu" "$@" >"$log" 2>&1 &
  BENCH_LAST_PID=$!
  BENCH_PIDS+=("$BENCH_LAST_PID")
}

# bench_wait_http URL PID LOG [EXPECT]: waits up to 20 s until URL answers over HTTP (any status,
# or exactly EXPECT when given); fails early, showing LOG, when PID has exited.
bench_wait_http() {
  local url=$1 pid=$2 log=$3 expect=${4:-} code
  for _ in $(seq 1 200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench: the process behind $url exited; its log ($log):" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
    if [ "$code" != "000" ] && { [ -z "$expect" ] || [ "$code" = "$expect" ]; }; then
      return 0
    fi
    sleep 0.1
  done
  echo "bench: $url did not answer within 20 s (last status $code); log $log" >&2
  return 1
}

# bench_stop PID: SIGTERM, then SIGKILL after 5 s; reaps it.
bench_stop() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

# Stops every process started by bench_start, newest first.
bench_stop_all() {
  local index
  for ((index = ${#BENCH_PIDS[@]} - 1; index >= 0; index--)); do
    bench_stop "${BENCH_PIDS[$index]}"
  done
  BENCH_PIDS=()
}

# The PID and its direct children (nginx's workers), the processes a server's cost is summed over.
bench_tree() {
  local pid=$1
  echo "$pid"
  pgrep -P "$pid" || true
}

# CPU time (user + system, all threads) of a process tree, in clock ticks.
bench_cpu_ticks() {
  local total=0 pid stat
  for pid in $(bench_tree "$1"); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    # Fields after the command name (which may hold spaces): state is 3, utime 14, stime 15.
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# Peak resident memory (VmHWM) of a process tree in KiB, summed over its processes.
bench_peak_rss_kib() {
  local total=0 pid kib
  for pid in $(bench_tree "$1"); do
    kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}
