#!/usr/bin/env bash
# `make cluster` / `make cluster-down`: Skybridge at scale on this machine, all on 127.0.0.1.
#
#   scripts/cluster.sh up       Redis, the collector (rotel → scripts/otlp-sink.py writing
#                               .dev/cluster/audit.jsonl), the mTLS demo upstream, three Skybridge
#                               instances sharing Redis and one configuration, and nginx in front
#                               (deploy/nginx/cluster.conf.template); prints how to use them.
#   scripts/cluster.sh status   what runs, where.
#   scripts/cluster.sh roll     rolling restart of the three instances, one at a time.
#   scripts/cluster.sh reload   SIGHUP to every instance (edit .dev/cluster/skybridge.toml first).
#   scripts/cluster.sh down     stops everything `up` started, and nothing else.
#
# Ports are chosen free at start. State, certificates, logs and pid files live under
# .dev/cluster/ (CLUSTER_DIR overrides it); a pid file holds the process id and its start time,
# so `down` never signals a process that merely reused the id. The binaries come from
# ${CARGO_TARGET_DIR:-target}/debug (`make build`), or SKYBRIDGE_BIN_DIR when set.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
state=${CLUSTER_DIR:-$root/.dev/cluster}
[[ $state = /* ]] || state=$root/$state
target=${CARGO_TARGET_DIR:-target}
[[ $target = /* ]] || target=$root/$target
bin=${SKYBRIDGE_BIN_DIR:-$target/debug}
shown=${state#"$root"/}   # the state directory as printed: relative when inside the checkout
issuer="https://dev-issuer.skybridge.local"
audience="api://skybridge-cluster"
# Stop order: the balancer first, then the instances (which flush their audit records to the
# collector), the collector (which forwards them to the sink), and the stores last.
components=(nginx skybridge-1 skybridge-2 skybridge-3 upstream rotel otlp-sink redis)

say() { printf '%s\n' "$*"; }
fail() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot; nothing
# for a zombie (field 3 is Z): it has exited and only waits for its parent to reap it.
start_time() { awk '$3 != "Z" {print $22}' "/proc/$1/stat" 2>/dev/null || true; }

alive() { # name
  local file=$state/pids/$1.pid pid started
  [ -f "$file" ] || return 1
  read -r pid started < "$file"
  [ -n "$pid" ] && [ -n "$started" ] && [ "$(start_time "$pid")" = "$started" ]
}

pid_of() { read -r pid _ < "$state/pids/$1.pid"; printf '%s' "$pid"; }

# Starts a command in its own session (no terminal hangup reaches it), output to its log.
start_bg() { # name command...
  local name=$1; shift
  setsid "$@" >> "$state/logs/$name.log" 2>&1 < /dev/null &
  local pid=$!
  sleep 0.05
  printf '%s %s\n' "$pid" "$(start_time "$pid")" > "$state/pids/$name.pid"
}

port_open() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # description, seconds, command...
  local seconds=$2; shift 2
  local tries=$((seconds * 10))
  until "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}

free_ports() { # count: prints that many distinct free loopback ports
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

stop_component() { # name
  local name=$1 pid
  if ! alive "$name"; then rm -f "$state/pids/$name.pid"; return 0; fi
  pid=$(pid_of "$name")
  kill -TERM "$pid" 2>/dev/null || true
  # Skybridge drains for drain_delay, then finishes in-flight requests and flushes audit.
  for _ in $(seq 200); do alive "$name" || break; sleep 0.1; done
  if alive "$name"; then
    say "  $name (pid $pid) did not stop in 20s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pids/$name.pid"
  say "  stopped $name (pid $pid)"
}

down() {
  [ -d "$state/pids" ] || { say "cluster: nothing to stop"; return 0; }
  for name in "${components[@]}"; do stop_component "$name"; done
  say "Logs and the audit trail stay in ${state#"$root"/}/ (make clean-dev removes them)."
}

# Starts instance N from the ports in endpoints.env and waits until /readyz says ready.
start_instance() { # n
  local n=$1 public admin
  # shellcheck disable=SC1091
  source "$state/endpoints.env"
  public=PUBLIC_$n admin=ADMIN_$n
  # The binaries `up` used, whatever CARGO_TARGET_DIR says in this shell.
  bin=$BIN
  mkdir -p "$state/spool-$n"
  SKYBRIDGE__LISTENER__ADDRESS=127.0.0.1:${!public} \
  SKYBRIDGE__ADMIN__ADDRESS=127.0.0.1:${!admin} \
  SKYBRIDGE__TELEMETRY__INSTANCE_ID=skybridge-$n \
  SKYBRIDGE__TELEMETRY__SPOOL_DIR=$state/spool-$n \
    start_bg "skybridge-$n" "$bin/skybridge" run --config "$state/skybridge.toml"
  wait_for "skybridge-$n ready" 30 curl -sf -o /dev/null "http://127.0.0.1:${!admin}/readyz" \
    || fail "skybridge-$n did not become ready; see $state/logs/skybridge-$n.log"
}

write_config() { # upstream port, rotel http port, redis port
  cat > "$state/skybridge.toml" <<TOML
# Written by scripts/cluster.sh for \`make cluster\`; the three instances share it. Each one's
# listener addresses, service.instance.id and spool come from its environment
# (SKYBRIDGE__LISTENER__ADDRESS, SKYBRIDGE__ADMIN__ADDRESS, SKYBRIDGE__TELEMETRY__*).
# Edit it, then \`scripts/cluster.sh reload\` (SIGHUP) applies it without a restart.

[listener]
address = "127.0.0.1:0"
# Long enough for nginx to retire its pooled connections (answers say Connection: close).
drain_delay = "2s"
shutdown_timeout = "10s"

[admin]
address = "127.0.0.1:0"

[[issuers]]
name = "dev"
issuer = "$issuer"
jwks_file = "keys/jwks.json"
audiences = ["$audience"]
algorithms = ["ES256"]

[rate_limit]
redis_url = "redis://127.0.0.1:$3"
timeout = "100ms"
trusted_proxies = ["127.0.0.1"]

# Ten requests a minute for the whole route, shared by the three instances through Redis.
[[rate_limit.policies]]
name = "ten-per-minute"
limit = 10
period = "1m"
key = "route"

[[rate_limit.policies]]
name = "per-subject"
limit = 600
period = "1m"
key = "claim:sub"

[[upstreams]]
name = "demo"
url = "https://localhost:$1"
[upstreams.tls]
ca = "certs/ca.pem"
client_certificate = "certs/gateway-client.pem"
client_private_key = "certs/gateway-client-key.pem"

[[routes]]
name = "demo"
path_prefix = "/demo"
upstream = "demo"
auth = "anonymous"

[[routes]]
name = "limited"
path_prefix = "/limited"
upstream = "demo"
auth = "anonymous"
rate_limits = ["ten-per-minute"]

[[routes]]
name = "orders"
path_prefix = "/orders"
upstream = "demo"
auth = { issuers = ["dev"], scopes = ["orders.read"] }
rate_limits = ["per-subject"]

[telemetry]
service_name = "skybridge"
otlp_endpoint = "http://127.0.0.1:$2"
TOML
}

render_nginx() { # listen port, three instance ports
  local runtime=$state/nginx
  mkdir -p "$runtime"
  # As root, nginx's worker runs as an unprivileged user that must reach its temp directories.
  chmod 755 "$state" "$runtime"
  sed -e "s|\${RUNTIME_DIR}|$runtime|g" -e "s|\${CONF_DIR}|$root/deploy/nginx|g" \
      -e "s|\${LISTEN_PORT}|$1|g" -e "s|\${PORT_1}|$2|g" -e "s|\${PORT_2}|$3|g" \
      -e "s|\${PORT_3}|$4|g" deploy/nginx/cluster.conf.template > "$runtime/nginx.conf"
  if grep -q '\${' "$runtime/nginx.conf"; then fail "a placeholder is left in $runtime/nginx.conf"; fi
}

nginx_binary() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || fail "nginx is missing: run scripts/install-deps.sh"; }

rotel_agent() {
  local agent
  agent=$(ls "$root"/.venv/lib/python3*/site-packages/rotel/rotel-agent 2>/dev/null | head -1 || true)
  [ -x "$agent" ] || fail "rotel is missing from .venv: run scripts/install-deps.sh"
  printf '%s' "$agent"
}

start_collector() { # rotel http port, rotel grpc port; sets sink_port
  start_bg otlp-sink "$root/.venv/bin/python" scripts/otlp-sink.py "$state/audit.jsonl"
  wait_for "the sink" 10 grep -q '^listening ' "$state/logs/otlp-sink.log" \
    || fail "the OTLP sink did not start; see $state/logs/otlp-sink.log"
  sink_port=$(sed -n 's/^listening //p' "$state/logs/otlp-sink.log")
  start_bg rotel "$(rotel_agent)" start --otlp-http-endpoint "127.0.0.1:$1" \
    --otlp-grpc-endpoint "127.0.0.1:$2" --exporter otlp --otlp-exporter-protocol http \
    --otlp-exporter-endpoint "http://127.0.0.1:$sink_port" \
    --pid-file "$state/rotel.pid" --log-file "$state/logs/rotel-daemon.log"
  wait_for "rotel" 15 port_open "$1" || fail "rotel did not start; see $state/logs/rotel.log"
}

start_upstream() { # sets upstream_port
  start_bg upstream "$bin/skybridge-demo-upstream" --listen 127.0.0.1:0 \
    --cert "$state/certs/upstream.pem" --key "$state/certs/upstream-key.pem" \
    --client-ca "$state/certs/ca.pem"
  wait_for "the upstream" 10 grep -q listening "$state/logs/upstream.log" \
    || fail "the demo upstream did not start; see $state/logs/upstream.log"
  upstream_port=$(sed -nE 's/.*"listening":"127\.0\.0\.1:([0-9]+)".*/\1/p' "$state/logs/upstream.log")
}

up() {
  for name in "${components[@]}"; do
    if alive "$name"; then status; say "The cluster is already up (make cluster-down stops it)."; return 0; fi
  done
  for binary in skybridge skybridge-demo-upstream; do
    [ -x "$bin/$binary" ] || fail "$bin/$binary is missing: run make build"
  done
  # Logs are appended across restarts of one run; a new run starts them afresh.
  rm -rf "$state/logs"
  mkdir -p "$state/pids" "$state/logs"
  # Whatever fails from here on, nothing is left running.
  trap 'code=$?; if [ "$code" -ne 0 ]; then say "cluster: start failed; stopping what started"; down; fi' EXIT
  scripts/gen-dev-certs.sh "$state/certs" > /dev/null
  [ -f "$state/keys/jwks.json" ] || "$bin/skybridge" keys generate --alg ES256 --out "$state/keys" > /dev/null

  local redis rotel_http rotel_grpc lb p1 a1 p2 a2 p3 a3
  read -r redis rotel_http rotel_grpc lb p1 a1 p2 a2 p3 a3 <<< "$(free_ports 10)"
  start_bg redis redis-server --bind 127.0.0.1 --port "$redis" --save "" --appendonly no
  wait_for "redis" 10 port_open "$redis" || fail "redis did not start; see $state/logs/redis.log"
  start_collector "$rotel_http" "$rotel_grpc"
  start_upstream
  write_config "$upstream_port" "$rotel_http" "$redis"
  cat > "$state/endpoints.env" <<ENV
BALANCER=$lb
PUBLIC_1=$p1
ADMIN_1=$a1
PUBLIC_2=$p2
ADMIN_2=$a2
PUBLIC_3=$p3
ADMIN_3=$a3
REDIS=$redis
BIN=$bin
COLLECTOR=$rotel_http
UPSTREAM=$upstream_port
ENV
  for n in 1 2 3; do start_instance "$n"; done
  render_nginx "$lb" "$p1" "$p2" "$p3"
  local nginx; nginx=$(nginx_binary)
  "$nginx" -q -t -e stderr -c "$state/nginx/nginx.conf" -p "$state/nginx/"
  start_bg nginx "$nginx" -e stderr -g 'daemon off;' -c "$state/nginx/nginx.conf" -p "$state/nginx/"
  wait_for "nginx" 10 port_open "$lb" || fail "nginx did not start; see $state/logs/nginx.log"
  trap - EXIT
  "$bin/skybridge" token issue --key "$(ls "$state"/keys/*.pem | head -1)" --issuer "$issuer" \
    --audience "$audience" --subject demo-user --scope orders.read --ttl 8h > "$state/token"
  chmod 600 "$state/token"
  status
  welcome "$lb"
}

welcome() { # balancer port
  local lb=$1 trace token
  trace=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  token=$(cat "$state/token")
  curl -s -o /dev/null -H "authorization: Bearer $token" \
    -H "traceparent: 00-$trace-$(python3 -c 'import secrets; print(secrets.token_hex(8))')-01" \
    "http://127.0.0.1:$lb/orders/first" || true
  cat <<TEXT

Skybridge runs as three instances behind nginx on http://127.0.0.1:$lb

A development token (issuer $issuer, subject demo-user, scope orders.read, 8 hours),
also in $shown/token:
$token

Try:
  curl -i http://127.0.0.1:$lb/demo/hello                        # anonymous, over mTLS upstream
  curl -i -H "authorization: Bearer \$(cat $shown/token)" http://127.0.0.1:$lb/orders/1
  curl -i http://127.0.0.1:$lb/orders/1                           # 401 without the token
  for i in \$(seq 12); do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:$lb/limited/x; done; echo
                                                                  # 200 ten times, then 429: one budget for all three
  scripts/cluster.sh roll                                         # rolling restart; nginx keeps serving
  scripts/cluster.sh reload                                       # SIGHUP after editing $shown/skybridge.toml

The audit trail (each record names its instance in service.instance.id); one request was just
sent with trace id $trace:
  $bin/skybridge audit query --file $shown/audit.jsonl --trace-id $trace
  $bin/skybridge audit query --file $shown/audit.jsonl --route limited --decision deny

Logs: $shown/logs/   Stop everything: make cluster-down
TEXT
}

status() {
  [ -f "$state/endpoints.env" ] || { say "cluster: not started (make cluster)"; return 0; }
  # shellcheck disable=SC1091
  source "$state/endpoints.env"
  local name where
  for name in "${components[@]}"; do
    case $name in
      nginx) where="http://127.0.0.1:$BALANCER (load balancer)" ;;
      skybridge-[123]) local n=${name#skybridge-} p a; p=PUBLIC_$n a=ADMIN_$n
        where="http://127.0.0.1:${!p}  admin http://127.0.0.1:${!a}/readyz" ;;
      upstream) where="https://localhost:$UPSTREAM (mTLS demo upstream)" ;;
      rotel) where="http://127.0.0.1:$COLLECTOR (OTLP/HTTP collector)" ;;
      otlp-sink) where="writes $shown/audit.jsonl" ;;
      redis) where="redis://127.0.0.1:$REDIS" ;;
    esac
    if alive "$name"; then
      printf '  %-12s running (pid %s)  %s\n' "$name" "$(pid_of "$name")" "$where"
    else
      printf '  %-12s stopped\n' "$name"
    fi
  done
}

roll() {
  [ -f "$state/endpoints.env" ] || fail "not started (make cluster)"
  # shellcheck disable=SC1091
  source "$state/endpoints.env"
  for n in 1 2 3; do
    say "Restarting skybridge-$n: SIGTERM, not ready, drains, exits; then started again."
    stop_component "skybridge-$n"
    start_instance "$n"
    # nginx skips an instance for fail_timeout (10s) after refused connections; give it that
    # time before the next instance goes, so two are never out of rotation at once.
    [ "$n" = 3 ] || sleep 10
  done
  say "Rolled all three instances."
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  roll) roll ;;
  reload)
    for n in 1 2 3; do alive "skybridge-$n" && kill -HUP "$(pid_of "skybridge-$n")"; done
    say "Sent SIGHUP; each instance logs 'Configuration reloaded.' or why it rejected the file:"
    say "  tail $shown/logs/skybridge-{1,2,3}.log" ;;
  *) say "usage: scripts/cluster.sh up|status|roll|reload|down"; exit 2 ;;
esac
