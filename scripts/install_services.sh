#!/usr/bin/env bash
# Debian services the test suite needs: PostgreSQL's server binaries (the test fixtures start and
# stop their own server from /usr/lib/postgresql/*/bin; nothing is left running) and Chromium for the
# dashboard's browser tests (Playwright drives /usr/bin/chromium; no browser is ever downloaded).
set -euo pipefail
missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing Debian's ${missing[*]} (PostgreSQL store tests, browser tests of the dashboard)"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
