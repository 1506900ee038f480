#!/usr/bin/env bash
# Installs what Skybridge's tests, demo and benchmarks need, only where it is missing:
#   Debian packages (apt-get update once, then install): redis-server, nginx, haproxy, openssl, curl
#   Python packages into ./.venv (git-ignored): rotel (the OpenTelemetry collector), opentelemetry-proto
#     (scripts/otlp-sink.py decodes what rotel forwards)
#   npm packages into ./.tools/node (git-ignored): oidc-provider (a certified OpenID provider)
# Safe to run repeatedly; each part is skipped when already present.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v redis-server >/dev/null || apt_packages+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_packages+=(nginx)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || apt_packages+=(haproxy)
command -v openssl >/dev/null || apt_packages+=(openssl)
command -v curl >/dev/null || apt_packages+=(curl)
command -v node >/dev/null || apt_packages+=(nodejs npm)
pkg-config --exists openssl 2>/dev/null || apt_packages+=(libssl-dev pkg-config)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${apt_packages[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  # Debian starts these services on install; the tests start their own on ephemeral ports.
  for service in redis-server nginx haproxy; do
    $sudo_cmd service "$service" stop >/dev/null 2>&1 || true
  done
fi

if [ ! -x .venv/bin/python ]; then
  echo "install-deps: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import rotel, opentelemetry.proto' 2>/dev/null; then
  echo "install-deps: installing Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
fi

if [ ! -d .tools/node/node_modules/oidc-provider ]; then
  echo "install-deps: installing npm packages into .tools/node"
  mkdir -p .tools/node
  cp scripts/package.json .tools/node/package.json
  (cd .tools/node && npm install --silent --no-audit --no-fund)
fi
echo "install-deps: ready"
