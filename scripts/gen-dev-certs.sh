#!/usr/bin/env bash
# Generates development certificates into DIR (default .dev/certs), once:
#   ca.pem / ca-key.pem              a throwaway CA trusted by the demo
#   upstream.pem / upstream-key.pem  the demo upstream's server certificate (localhost, 127.0.0.1)
#   gateway.pem / gateway-key.pem    the gateway's public listener certificate (same names)
#   gateway-client.pem / -key.pem    the client certificate Skybridge presents upstream (mTLS)
#   caller.pem / caller-key.pem      a client certificate for callers of an mTLS listener
# Nothing here is secret beyond this machine; the folder is git-ignored.
# DEV_CERT_EXTRA_SANS adds names to every certificate, e.g. "DNS:demo-upstream" for the
# Compose demo, where services reach each other by service name.
set -euo pipefail
dir=${1:-.dev/certs}
mkdir -p "$dir"
cd "$dir"
[ -f caller.pem ] && exit 0

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Skybridge dev CA" \
  -keyout ca-key.pem -out ca.pem 2>/dev/null

issue() { # name, subject CN, extendedKeyUsage
  local name=$1 cn=$2 usage=$3
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$name-key.pem" -out "$name.csr" 2>/dev/null
  local sans="DNS:localhost,IP:127.0.0.1,IP:::1${DEV_CERT_EXTRA_SANS:+,$DEV_CERT_EXTRA_SANS}"
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$sans" "$usage" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  chmod 600 "$name-key.pem"
}
issue upstream "demo-upstream" serverAuth
issue gateway "skybridge" serverAuth
issue gateway-client "skybridge-gateway" clientAuth
issue caller "demo-caller" clientAuth
chmod 600 ca-key.pem
echo "gen-dev-certs: certificates written to $dir"
