#!/usr/bin/env bash
# The browser tests (README, "Browser client"): the /app page and
# authx-client.js in headless Chromium against authx-server on loopback.
#
# Installs Debian's chromium if it is missing, the pinned npm packages
# (npm ci), builds the server (debug), type-checks the browser code, checks
# that authx-client.d.ts matches the JSDoc, then runs the tests.
#
#   ./scripts/browser-test.sh                       # everything
#   ./scripts/browser-test.sh test/tabs.test.mjs    # some test files
#   UPDATE_SCREENSHOTS=1 ./scripts/browser-test.sh  # also refresh docs/screenshots/
#
# The screenshot of the signed-in page lands in
# browser-tests/artifacts/app-signed-in.png.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "browser-test: Chromium missing; install Debian's chromium (or set CHROMIUM_PATH)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

(cd browser-tests && npm ci --no-audit --no-fund --loglevel=error)

cargo build -p authx-server

# The browser code is plain JS with JSDoc types: check them, and check the
# committed .d.ts is what the JSDoc says.
(cd browser-tests && npx tsc -p tsconfig.json)
dts=$(mktemp -d)
trap 'rm -rf "$dts"' EXIT
(cd browser-tests && npx tsc -p tsconfig.dts.json --outDir "$dts")
if ! diff -u crates/authx-server/static/authx-client.d.ts "$dts/authx-client.d.ts"; then
  echo "browser-test: authx-client.d.ts is stale: run (cd browser-tests && npm run types)" >&2
  exit 1
fi

export AUTHX_SERVER_BIN="${AUTHX_SERVER_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/authx-server}"
cd browser-tests
if [ "$#" -gt 0 ]; then
  node --test --test-concurrency=1 --test-reporter=spec "$@"
else
  node --test --test-concurrency=1 --test-reporter=spec test/*.test.mjs
fi
