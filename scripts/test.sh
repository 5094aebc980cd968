#!/usr/bin/env bash
# The README's test command: everything the tests need, then every test of the workspace.
# Tests that need a broker start their own server on a free loopback port; this script only
# makes sure the server programs are installed (Debian packages), never that they are running.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the test suite needs: the broker servers the connector tests start on free
# loopback ports (nats-server, mosquitto, redis-server, PostgreSQL's initdb/pg_ctl),
# mosquitto's command-line clients for trying a live pipeline by hand, and headless Chromium
# (chromium, chromium-driver) for the web UI's browser test.
packages=(nats-server mosquitto mosquitto-clients redis-server postgresql chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

cargo test --workspace "$@"
