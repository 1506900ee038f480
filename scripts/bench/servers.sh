# shellcheck shell=bash
# Starting the servers scripts/bench.sh compares. The shared parts (demo upstream, Redis) run
# once for the whole benchmark on CPU 1; each server under test is started fresh for each
# measurement, pinned to CPU 0, and stopped afterwards, so its peak memory is its own.

# Starts the demo upstream (plain HTTP, as the peers use) and Redis on CPU 1.
# Sets BENCH_UPSTREAM_PORT, BENCH_UPSTREAM_PID and BENCH_REDIS_PORT.
bench_start_shared() {
  BENCH_UPSTREAM_PORT=$(bench_free_port)
  bench_start 1 "$BENCH_RUN/logs/upstream.log" "$BENCH_UPSTREAM" \
    --listen "127.0.0.1:$BENCH_UPSTREAM_PORT"
  BENCH_UPSTREAM_PID=$BENCH_LAST_PID
  bench_wait_http "http://127.0.0.1:$BENCH_UPSTREAM_PORT/" "$BENCH_UPSTREAM_PID" \
    "$BENCH_RUN/logs/upstream.log" 200
  BENCH_REDIS_PORT=$(bench_free_port)
  bench_start 1 "$BENCH_RUN/logs/redis.log" redis-server --bind 127.0.0.1 \
    --port "$BENCH_REDIS_PORT" --save "" --appendonly no --dir "$BENCH_RUN/logs"
  local pid=$BENCH_LAST_PID
  for _ in $(seq 1 100); do
    redis-cli -p "$BENCH_REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: redis-server did not start; see $BENCH_RUN/logs/redis.log" >&2
  return 1
}

# bench_start_sut SERVER TAG: starts the server under test (upstream, nginx, haproxy,
# haproxy-jwt, skybridge-forward, skybridge-rs, skybridge-es) and waits until it answers.
# Sets BENCH_SUT_PID, BENCH_URL and BENCH_SUT_OWNED (whether to stop it afterwards).
bench_start_sut() {
  local server=$1 tag=$2 port dir log
  dir="$BENCH_RUN/servers/$tag"
  log="$dir/stdout.log"
  mkdir -p "$dir"
  BENCH_SUT_OWNED=1
  case $server in
    upstream)
      # The upstream alone: the baseline every proxy's added latency is measured against.
      BENCH_SUT_PID=$BENCH_UPSTREAM_PID
      BENCH_URL="http://127.0.0.1:$BENCH_UPSTREAM_PORT"
      BENCH_SUT_OWNED=0
      return 0
      ;;
    nginx)
      port=$(bench_free_port)
      bench_nginx_conf "$dir" "$port" "$BENCH_UPSTREAM_PORT"
      bench_start 0 "$log" nginx -p "$dir" -c "$dir/nginx.conf"
      ;;
    haproxy | haproxy-jwt)
      port=$(bench_free_port)
      if [ "$server" = haproxy ]; then
        bench_haproxy_conf "$dir/haproxy.cfg" "$port" "$BENCH_UPSTREAM_PORT"
      else
        bench_haproxy_jwt_conf "$dir/haproxy.cfg" "$port" "$BENCH_UPSTREAM_PORT" \
          "$BENCH_CACHE/RS256/public.pem" "$BENCH_CACHE/ES256/public.pem"
      fi
      # HAProxy logs each request to stdout: its log file is the access log.
      log="$dir/access.log"
      bench_start 0 "$log" haproxy -db -f "$dir/haproxy.cfg"
      ;;
    skybridge-*)
      bench_start_skybridge "$server" "$dir"
      return $?
      ;;
    *)
      echo "bench: unknown server $server" >&2
      return 1
      ;;
  esac
  BENCH_SUT_PID=$BENCH_LAST_PID
  BENCH_URL="http://127.0.0.1:$port"
  bench_wait_http "$BENCH_URL/" "$BENCH_SUT_PID" "$log"
}

# Skybridge in one of its benchmark configurations, ready when its admin /readyz says 200.
bench_start_skybridge() {
  local server=$1 dir=$2 port admin
  port=$(bench_free_port)
  admin=$(bench_free_port)
  case $server in
    skybridge-forward)
      bench_skybridge_conf "$dir/skybridge.toml" "$port" "$admin" "$BENCH_UPSTREAM_PORT" forward
      ;;
    skybridge-rs | skybridge-es)
      local alg=RS256
      [ "$server" = skybridge-es ] && alg=ES256
      bench_skybridge_conf "$dir/skybridge.toml" "$port" "$admin" "$BENCH_UPSTREAM_PORT" \
        policy "$BENCH_CACHE/$alg/jwks.json" "$alg" "$BENCH_REDIS_PORT"
      ;;
  esac
  SKYBRIDGE_LOG=warn bench_start 0 "$dir/stdout.log" "$BENCH_SKYBRIDGE" run \
    --config "$dir/skybridge.toml"
  BENCH_SUT_PID=$BENCH_LAST_PID
  BENCH_URL="http://127.0.0.1:$port"
  bench_wait_http "http://127.0.0.1:$admin/readyz" "$BENCH_SUT_PID" "$dir/stdout.log" 200
}

# Stops the server under test if this measurement started it.
bench_stop_sut() {
  [ "${BENCH_SUT_OWNED:-0}" = 1 ] && bench_stop "$BENCH_SUT_PID"
  BENCH_SUT_OWNED=0
}
