#!/usr/bin/env bash
# `make bench`: Skybridge side by side with what users would otherwise run, in one invocation
# on one machine: the demo upstream alone (direct), nginx and HAProxy as plain reverse proxies,
# HAProxy verifying JWTs itself, and Skybridge forward-only and with its full policy (bearer JWT
# from a jwks_file issuer, a scope, a Redis-backed rate limit, the audit trail to a file).
#
# The server under test runs alone on CPU 0 (taskset); the load generator, the demo upstream,
# Redis and this script run on CPU 1. Each server is measured in a fresh process: a closed-model
# saturation run (requests/s and CPU time per request from /proc/PID/stat), open-model runs at
# fixed rates (p50/p99/p99.9 from each request's due time), and its peak RSS (VmHWM). The whole
# set is repeated (interleaved, so drift on the machine hits every server alike) and
# scripts/bench/summary.py reports medians with their spread and the ratios against each peer.
#
# Settings (environment, defaults in brackets):
#   BENCH_REPS [3]              repetitions of the whole set
#   BENCH_SATURATION [6s]       closed-model run length
#   BENCH_RATES ["2000 10000"]  fixed rates (req/s) for the latency runs
#   BENCH_RATE_DURATION [6s]    length of each fixed-rate run
#   BENCH_WARMUP [2s]           unmeasured closed-model run before each measurement
#   BENCH_CONNECTIONS [32]      connections of the closed-model runs
#   BENCH_POOL [40000]          distinct tokens per algorithm (>= 4 x the verified-token cache)
#   BENCH_SCENARIOS             subset of "forward repeated rs256 es256" (default all)
#   BENCH_OUT                   results folder [results/bench-<UTC time>]
#   BENCH_CACHE                 keys and token pools, reused [results/bench-cache]
#   BENCH_PROFILE [0]           1: after rep 1 of each Skybridge server, a perf profile (unmeasured)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
for part in procs configs tokens servers measure; do
  # shellcheck source=/dev/null
  source "$ROOT/scripts/bench/$part.sh"
done

BENCH_REPS=${BENCH_REPS:-3}
BENCH_SATURATION=${BENCH_SATURATION:-6s}
BENCH_RATES=${BENCH_RATES:-2000 10000}
BENCH_RATE_DURATION=${BENCH_RATE_DURATION:-6s}
BENCH_WARMUP=${BENCH_WARMUP:-2s}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_POOL=${BENCH_POOL:-40000}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-forward repeated rs256 es256}
# The gateway's verified-token cache holds this many entries (its default).
BENCH_TOKEN_CACHE=10000
BENCH_RUN=${BENCH_OUT:-$ROOT/results/bench-$(date -u +%Y%m%dT%H%M%SZ)}
BENCH_CACHE=${BENCH_CACHE:-$ROOT/results/bench-cache}

# Each scenario's servers: TARGET:SERVER:LOAD (see bench_start_sut and bench_load).
declare -A BENCH_SET=(
  [forward]="direct:upstream:plain nginx:nginx:plain haproxy:haproxy:plain skybridge:skybridge-forward:plain"
  [repeated]="haproxy-jwt:haproxy-jwt:one-rs skybridge:skybridge-rs:one-rs"
  [rs256]="haproxy-jwt:haproxy-jwt:pool-rs skybridge:skybridge-rs:pool-rs"
  [es256]="haproxy-jwt:haproxy-jwt:pool-es skybridge:skybridge-es:pool-es"
)

check_settings() {
  [ "$(nproc)" -ge 2 ] || { echo "bench: needs at least 2 CPUs (has $(nproc))" >&2; exit 2; }
  [ "$BENCH_POOL" -ge $((4 * BENCH_TOKEN_CACHE)) ] || {
    echo "bench: BENCH_POOL must be at least $((4 * BENCH_TOKEN_CACHE))" >&2
    exit 2
  }
  local scenario tool
  for scenario in $BENCH_SCENARIOS; do
    [ -n "${BENCH_SET[$scenario]:-}" ] || {
      echo "bench: unknown scenario $scenario" >&2
      exit 2
    }
  done
  for tool in nginx haproxy redis-server redis-cli taskset curl openssl python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 2; }
  done
}

build() {
  echo "bench: building release binaries."
  cargo build --release -p skybridge-gateway -p skybridge-loadtest
  local dir=${CARGO_TARGET_DIR:-$ROOT/target}/release
  BENCH_SKYBRIDGE=$dir/skybridge
  BENCH_UPSTREAM=$dir/skybridge-demo-upstream
  BENCH_LOADTEST=$dir/skybridge-loadtest
}

# The machine and settings, for the summary.
write_meta() {
  python3 - "$BENCH_RUN/meta.json" <<EOF
import json, os, platform, subprocess, sys
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
              if l.startswith("model name")), "unknown")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
json.dump({
    "nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
    "load_average_at_start": os.getloadavg()[0], "commit": commit,
    "reps": $BENCH_REPS, "saturation": "$BENCH_SATURATION", "rates": "$BENCH_RATES".split(),
    "rate_duration": "$BENCH_RATE_DURATION", "connections": $BENCH_CONNECTIONS,
    "pool": $BENCH_POOL, "token_cache": $BENCH_TOKEN_CACHE,
    "scenarios": "$BENCH_SCENARIOS".split(),
}, open(sys.argv[1], "w"), indent=2)
EOF
}

prepare_tokens() {
  mkdir -p "$BENCH_CACHE"
  local alg
  for alg in RS256 ES256; do
    bench_keys "$BENCH_CACHE" "$alg"
  done
  case " $BENCH_SCENARIOS " in *" repeated "* | *" rs256 "*) bench_pool "$BENCH_CACHE" RS256 "$BENCH_POOL" ;; esac
  case " $BENCH_SCENARIOS " in *" es256 "*) bench_pool "$BENCH_CACHE" ES256 "$BENCH_POOL" ;; esac
}

run_all() {
  local rep scenario entry target server load
  for rep in $(seq 1 "$BENCH_REPS"); do
    for scenario in $BENCH_SCENARIOS; do
      for entry in ${BENCH_SET[$scenario]}; do
        IFS=: read -r target server load <<<"$entry"
        bench_start_sut "$server" "$rep-$scenario-$target"
        bench_measure "$rep" "$scenario" "$target" "$load"
        bench_stop_sut
      done
    done
  done
}

main() {
  check_settings
  build
  mkdir -p "$BENCH_RUN/logs" "$BENCH_RUN/runs" "$BENCH_RUN/servers"
  prepare_tokens
  trap bench_stop_all EXIT
  trap 'exit 130' INT TERM
  # Everything started from here runs on CPU 1 unless started pinned to CPU 0.
  taskset -cp 1 $$ >/dev/null
  write_meta
  bench_start_shared
  local started=$SECONDS
  run_all
  bench_stop_all
  python3 "$ROOT/scripts/bench/summary.py" "$BENCH_RUN" "$((SECONDS - started))"
  echo "bench: wrote $BENCH_RUN/summary.md and $BENCH_RUN/summary.json."
}

main "$@"
