#!/usr/bin/env bash
# Debian services the test suite needs: PostgreSQL's server binaries (the test fixtures start and
# stop their own server from /usr/lib/postgresql/*/bin; nothing is left running).
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing Debian's postgresql (for the PostgreSQL store tests)"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
