# shellcheck shell=bash
# One measured target for scripts/bench.sh: warm-up, closed-model saturation, then open-model
# runs at fixed rates, each bracketed by CPU-time readings of the server under test, every
# result appended as one JSON line to $BENCH_RUN/runs.jsonl for scripts/bench/summary.py.

# A field of a loadtest report.json by dotted path, e.g. `latency_us.p99`.
bench_field() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value[part]
print(value)
EOF
}

# bench_load OUT_DIR LOAD ARGS...: runs the load generator on CPU 1 against $BENCH_URL with the
# requests LOAD names (plain, one-rs, pool-rs, pool-es); returns its exit status.
bench_load() {
  local out=$1 load=$2
  shift 2
  local suite=(--suite steady)
  case $load in
    plain) ;;
    one-rs) suite+=(--tokens "$BENCH_CACHE/RS256/one.txt") ;;
    pool-rs | pool-es)
      local alg=RS256
      [ "$load" = pool-es ] && alg=ES256
      suite=(--suite token-churn --tokens "$BENCH_CACHE/$alg/tokens.txt"
        --token-cache-size "$BENCH_TOKEN_CACHE")
      ;;
  esac
  mkdir -p "$out"
  taskset -c 1 "$BENCH_LOADTEST" --target "$BENCH_URL" "${suite[@]}" --out "$out" "$@" \
    >"$out/stdout.log" 2>"$out/stderr.log"
}

# bench_record KEY=VALUE...: appends one JSON object (values as strings or numbers) to runs.jsonl.
bench_record() {
  python3 - "$BENCH_RUN/runs.jsonl" "$@" <<'EOF'
import json, sys
record = {}
for pair in sys.argv[2:]:
    key, value = pair.split("=", 1)
    try:
        record[key] = int(value)
    except ValueError:
        try:
            record[key] = float(value)
        except ValueError:
            record[key] = value
with open(sys.argv[1], "a") as out:
    out.write(json.dumps(record) + "\n")
EOF
}

# bench_phase REP SCENARIO TARGET LOAD PHASE ARGS...: one measured run and its record.
# Sets BENCH_LAST_RPS to its throughput (0 when the run did not produce a report).
bench_phase() {
  local rep=$1 scenario=$2 target=$3 load=$4 phase=$5
  shift 5
  local out="$BENCH_RUN/runs/$rep-$scenario-$target-$phase" before after status=0
  before=$(bench_cpu_ticks "$BENCH_SUT_PID")
  bench_load "$out" "$load" "$@" || status=$?
  after=$(bench_cpu_ticks "$BENCH_SUT_PID")
  BENCH_LAST_RPS=0
  if [ ! -s "$out/report.json" ]; then
    echo "bench: $scenario/$target $phase produced no report (exit $status): $out/stderr.log" >&2
    bench_record rep="$rep" scenario="$scenario" target="$target" phase="$phase" \
      exit="$status" report=none
    return 0
  fi
  BENCH_LAST_RPS=$(bench_field "$out/report.json" throughput_rps)
  bench_record rep="$rep" scenario="$scenario" target="$target" phase="$phase" \
    exit="$status" report="$out/report.json" cpu_ticks=$((after - before)) \
    clock_ticks="$(getconf CLK_TCK)"
  printf 'bench: rep %s %-8s %-11s %-15s %8.0f req/s  %s CPU ticks  exit %s\n' \
    "$rep" "$scenario" "$target" "$phase" "$BENCH_LAST_RPS" "$((after - before))" "$status"
}

# bench_measure REP SCENARIO TARGET LOAD: the whole measurement of a started server
# ($BENCH_SUT_PID, $BENCH_URL): warm-up, saturation, each fixed rate it can sustain, peak RSS.
bench_measure() {
  local rep=$1 scenario=$2 target=$3 load=$4 rate
  bench_load "$BENCH_RUN/runs/$rep-$scenario-$target-warmup" "$load" --mode closed \
    --duration "$BENCH_WARMUP" --connections "$BENCH_CONNECTIONS" || true
  bench_phase "$rep" "$scenario" "$target" "$load" saturation --mode closed \
    --duration "$BENCH_SATURATION" --connections "$BENCH_CONNECTIONS"
  local saturation
  saturation=$(printf '%.0f' "$BENCH_LAST_RPS")
  for rate in $BENCH_RATES; do
    # A rate above 90% of what the server managed at saturation would only measure a queue.
    if python3 -c "import sys; sys.exit(0 if $rate <= 0.9 * $saturation else 1)"; then
      bench_phase "$rep" "$scenario" "$target" "$load" "rate-$rate" --rate "$rate" \
        --duration "$BENCH_RATE_DURATION"
    else
      echo "bench: rep $rep $scenario/$target skips $rate req/s (saturates at $saturation)."
      bench_record rep="$rep" scenario="$scenario" target="$target" phase="rate-$rate" \
        skipped="saturates at $saturation req/s"
    fi
  done
  bench_record rep="$rep" scenario="$scenario" target="$target" phase=memory \
    peak_rss_kib="$(bench_peak_rss_kib "$BENCH_SUT_PID")"
  if [ "${BENCH_PROFILE:-0}" = 1 ] && [ "$rep" = 1 ] && [ "$target" = skybridge ]; then
    bench_profile "$scenario" "$load"
  fi
}

# bench_profile SCENARIO LOAD: an extra, unmeasured saturation run of the server under test
# with perf sampling its CPU time (cpu-clock, so it works without hardware counters, as in
# most VMs), reported flat by symbol into $BENCH_RUN/profile-SCENARIO.txt.
bench_profile() {
  local scenario=$1 load=$2 data="$BENCH_RUN/profile-$1.data" perf_pid
  command -v perf >/dev/null || { echo "bench: perf is missing; no profile." >&2; return 0; }
  taskset -c 1 perf record -q -e cpu-clock -F 1999 -g -p "$BENCH_SUT_PID" -o "$data" \
    >"$BENCH_RUN/logs/perf-$scenario.log" 2>&1 &
  perf_pid=$!
  bench_load "$BENCH_RUN/runs/profile-$scenario" "$load" --mode closed \
    --duration "$BENCH_SATURATION" --connections "$BENCH_CONNECTIONS" || true
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  perf report -i "$data" --no-children --sort dso,sym --percent-limit 0.7 --stdio \
    >"$BENCH_RUN/profile-$scenario.txt" 2>/dev/null || true
  perf report -i "$data" --no-children --sort dso --stdio \
    >"$BENCH_RUN/profile-$scenario-by-library.txt" 2>/dev/null || true
  echo "bench: profile of skybridge ($scenario) in $BENCH_RUN/profile-$scenario.txt."
}
