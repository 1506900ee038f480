#!/usr/bin/env bash
# `make run`: the fastest way to see Skybridge work.
# Generates development certificates, starts the demo upstream (which requires mutual TLS and
# echoes what it receives), starts Skybridge on its embedded default addresses
# (public 127.0.0.1:8080, admin 127.0.0.1:9090) with a demo configuration, sends one request to
# show it serving, prints curl commands, and stops both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=.dev
bin=${CARGO_TARGET_DIR:-target}/debug
mkdir -p "$dev"
scripts/gen-dev-certs.sh "$dev/certs" >/dev/null

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$bin/skybridge-demo-upstream" --listen 127.0.0.1:0 --cert "$dev/certs/upstream.pem" \
  --key "$dev/certs/upstream-key.pem" --client-ca "$dev/certs/ca.pem" > "$dev/upstream.out" &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$dev/upstream.out" 2>/dev/null && break; sleep 0.1; done
upstream_port=$(sed -E 's/.*"127\.0\.0\.1:([0-9]+)".*/\1/' "$dev/upstream.out")

# A development issuer: a key pair made by Skybridge itself, published as a JWKS file.
if [ ! -f "$dev/keys/jwks.json" ]; then
  "$bin/skybridge" keys generate --alg ES256 --out "$dev/keys" >/dev/null
fi
key=$(ls "$dev"/keys/*.pem | head -n 1)

cat > "$dev/skybridge.toml" <<TOML
# Demo configuration written by scripts/demo.sh; listeners use the embedded defaults.
[[issuers]]
name = "dev"
issuer = "https://dev.skybridge.local"
jwks_file = "keys/jwks.json"
audiences = ["skybridge-demo"]

[rate_limit]
[[rate_limit.policies]]
name = "per-caller"
limit = 5
period = "10s"
key = "claim:sub"

[telemetry]
audit_file = "audit.jsonl"

[[upstreams]]
name = "demo"
url = "https://localhost:${upstream_port}"
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
name = "orders"
path_prefix = "/orders"
upstream = "demo"
auth = { issuers = ["dev"], scopes = ["orders.read"] }
rate_limits = ["per-caller"]
TOML

"$bin/skybridge" run --config "$dev/skybridge.toml" &
pids+=($!)
for _ in $(seq 100); do curl -sf http://127.0.0.1:9090/readyz >/dev/null 2>&1 && break; sleep 0.1; done

token=$("$bin/skybridge" token issue --key "$key" --issuer https://dev.skybridge.local \
  --audience skybridge-demo --subject alice --scope orders.read --ttl 1h)

echo
echo "Skybridge is serving. One request through it to the mTLS demo upstream:"
echo "  \$ curl -s http://127.0.0.1:8080/demo/hello?x=1"
curl -s "http://127.0.0.1:8080/demo/hello?x=1"; echo
cat <<TEXT

/orders needs a token from the dev issuer with scope orders.read (5 requests per 10 s each). Get one:
  TOKEN=\$($bin/skybridge token issue --key $key --issuer https://dev.skybridge.local \\
      --audience skybridge-demo --subject alice --scope orders.read)
or use this one, valid for an hour:
  TOKEN=$token

Try:
  curl -i http://127.0.0.1:8080/orders/1                                # 401 problem+json, WWW-Authenticate
  curl -i -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8080/orders/1  # 200, RateLimit headers, x-skybridge-* upstream
  curl -i http://127.0.0.1:8080/demo/anything        # anonymous route, forwarded over mTLS
  curl -i http://127.0.0.1:8080/nowhere              # 404 problem+json, with x-request-id
  curl -i 'http://127.0.0.1:8080/demo/%2e%2e/x'      # dot segments are resolved before routing: 404
  curl -s http://127.0.0.1:9090/readyz               # readiness on the admin listener
  curl -s http://127.0.0.1:9090/metrics              # Prometheus metrics
  $bin/skybridge audit query --file $dev/audit.jsonl # the audit trail (one record per request)
Configuration: $dev/skybridge.toml   Certificates: $dev/certs/   Keys: $dev/keys/
Press Ctrl-C to stop.
TEXT
wait "${pids[1]}"
