#!/usr/bin/env bash
# Installs every Debian and npm package Concierge uses, on Debian 12, as root.
# Idempotent: asks apt only for what is missing, and npm only when a lock file
# is newer than the installed tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

debian_packages=(
    # build
    gcc make pkg-config clang libclang-rt-14-dev
    nginx nginx-dev libnginx-mod-nchan libnginx-mod-http-js
    libssl-dev libjansson-dev libpq-dev libcurl4-openssl-dev
    libmicrohttpd-dev libpcre2-dev zlib1g-dev
    # run
    postgresql-15 postgresql-client-15 openssl curl ca-certificates
    # tests, simulator, tools
    perl libmojolicious-perl libcrypt-jwt-perl libio-socket-ssl-perl
    libjson-pp-perl libdbd-pg-perl valgrind procps
)

missing=()
for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts a system nginx and PostgreSQL on install; Concierge runs
    # its own, on its own ports, and needs neither.
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl disable --now nginx postgresql >/dev/null 2>&1 || true
    fi
fi

# npm packages: one folder each, with its own lock file.
for dir in tools tools/azure-sim/conformance; do
    [ -f "$top/$dir/package-lock.json" ] || continue
    if [ ! -d "$top/$dir/node_modules" ] \
       || [ "$top/$dir/package-lock.json" -nt "$top/$dir/node_modules/.package-lock.json" ]; then
        echo "install-deps: npm ci in $dir"
        (cd "$top/$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
