# shellcheck shell=bash
# Configuration files for the servers scripts/bench.sh compares, written into the run folder.
# Every server gets one worker on one core and writes one log line per request to a file, as
# Skybridge writes one audit record per request; everything listens on 127.0.0.1 only.

# The claims every benchmark token carries and every verifier checks.
BENCH_ISSUER="https://bench.skybridge.test"
BENCH_AUDIENCE="skybridge-bench"
BENCH_SCOPE="orders.read"

# nginx as a plain reverse proxy: bench_nginx_conf DIR PORT UPSTREAM_PORT (prefix is DIR).
bench_nginx_conf() {
  local dir=$1 port=$2 upstream=$3
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
# nginx as a plain reverse proxy, one worker (the core it is pinned to).
worker_processes 1;
daemon off;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    access_log $dir/access.log;
    keepalive_requests 1000000;
    upstream demo {
        server 127.0.0.1:$upstream;
        keepalive 128;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://demo;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF
}

# The global and defaults sections shared by both HAProxy configurations.
bench_haproxy_head() {
  cat <<EOF
global
    nbthread 1
    maxconn 8000
    # Access log lines go to stdout, which the script sends to a file.
    log stdout format raw local0 info
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
EOF
}

# The backend shared by both HAProxy configurations: bench_haproxy_backend UPSTREAM_PORT.
bench_haproxy_backend() {
  cat <<EOF
backend demo
    http-reuse always
    server demo 127.0.0.1:$1 maxconn 1000
EOF
}

# HAProxy as a plain reverse proxy: bench_haproxy_conf FILE PORT UPSTREAM_PORT.
bench_haproxy_conf() {
  local file=$1 port=$2 upstream=$3
  {
    bench_haproxy_head
    cat <<EOF
frontend public
    bind 127.0.0.1:$port
    option forwardfor
    default_backend demo
EOF
    bench_haproxy_backend "$upstream"
  } >"$file"
}

# HAProxy verifying every JWT itself (jwt_verify, HAProxy 2.5+): the same checks Skybridge's
# policy route makes (algorithm pinned, signature, iss, aud, exp, scope) and a per-subject
# request rate tracked in a stick table, as Skybridge's rate limit counts per subject.
# bench_haproxy_jwt_conf FILE PORT UPSTREAM_PORT RS256_PUBLIC_PEM ES256_PUBLIC_PEM
bench_haproxy_jwt_conf() {
  local file=$1 port=$2 upstream=$3 rs_pem=$4 es_pem=$5
  {
    bench_haproxy_head
    cat <<EOF
frontend public
    bind 127.0.0.1:$port
    option forwardfor
    stick-table type string len 64 size 200k expire 60s store http_req_rate(1s)
    http-request set-var(txn.bearer) http_auth_bearer
    http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('\$.alg')
    http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('\$.iss')
    http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('\$.aud')
    http-request set-var(txn.scope) var(txn.bearer),jwt_payload_query('\$.scope')
    http-request set-var(txn.sub) var(txn.bearer),jwt_payload_query('\$.sub')
    http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('\$.exp','int')
    http-request set-var(txn.now) date()
    http-request deny status 401 unless { var(txn.alg) -m str RS256 ES256 }
    http-request deny status 401 if { var(txn.alg) -m str RS256 } !{ var(txn.bearer),jwt_verify(txn.alg,"$rs_pem") -m int 1 }
    http-request deny status 401 if { var(txn.alg) -m str ES256 } !{ var(txn.bearer),jwt_verify(txn.alg,"$es_pem") -m int 1 }
    http-request deny status 401 unless { var(txn.iss) -m str $BENCH_ISSUER }
    http-request deny status 401 unless { var(txn.aud) -m str $BENCH_AUDIENCE }
    http-request deny status 401 if { var(txn.exp),sub(txn.now) -m int lt 0 }
    http-request deny status 403 unless { var(txn.scope) -m sub $BENCH_SCOPE }
    http-request track-sc0 var(txn.sub)
    http-request deny status 429 if { sc_http_req_rate(0) gt 1000000 }
    default_backend demo
EOF
    bench_haproxy_backend "$upstream"
  } >"$file"
}

# Skybridge: bench_skybridge_conf FILE PORT ADMIN_PORT UPSTREAM_PORT POLICY [JWKS ALG REDIS_PORT]
# POLICY is `forward` (an anonymous route) or `policy` (issuer from a jwks_file, a scope, a
# Redis-backed rate limit per subject that never trips). Both write the audit trail to a file.
bench_skybridge_conf() {
  local file=$1 port=$2 admin=$3 upstream=$4 policy=$5 jwks=${6:-} alg=${7:-} redis=${8:-}
  cat >"$file" <<EOF
[listener]
address = "127.0.0.1:$port"
workers = 1
[admin]
address = "127.0.0.1:$admin"
[[upstreams]]
name = "demo"
url = "http://127.0.0.1:$upstream"
[telemetry]
audit_file = "$(dirname "$file")/audit.jsonl"
EOF
  if [ "$policy" = forward ]; then
    cat >>"$file" <<EOF
[[routes]]
name = "forward"
path_prefix = "/"
upstream = "demo"
auth = "anonymous"
EOF
    return
  fi
  cat >>"$file" <<EOF
[rate_limit]
redis_url = "redis://127.0.0.1:$redis"
[[rate_limit.policies]]
name = "per-subject"
limit = 1000000
period = "1s"
key = "claim:sub"
[[issuers]]
name = "bench"
issuer = "$BENCH_ISSUER"
jwks_file = "$jwks"
audiences = ["$BENCH_AUDIENCE"]
algorithms = ["$alg"]
[[routes]]
name = "policy"
path_prefix = "/"
upstream = "demo"
auth = { issuers = ["bench"], scopes = ["$BENCH_SCOPE"] }
rate_limits = ["per-subject"]
EOF
}
