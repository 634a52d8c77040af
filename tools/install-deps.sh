#!/usr/bin/env bash
# Installs the Debian and npm packages Concierge uses, on Debian 12, as root.
# Idempotent: asks apt only for what is missing, and npm only when a lock file
# is newer than the installed tree.
#
#   tools/install-deps.sh [all|build|runtime]    (default: all)
# build: what compiles the module and the workers (the Dockerfile's first
# stage); runtime: what the container runs; all: both, plus PostgreSQL, the
# simulator's and the tests' packages, and the npm packages (make deps).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
profile=${1:-all}

build_packages=(
    gcc make pkg-config nginx-dev
    libssl-dev libjansson-dev libpq-dev libcurl4-openssl-dev
    libmicrohttpd-dev libpcre2-dev zlib1g-dev
)
runtime_packages=(
    nginx libnginx-mod-nchan libjansson4 libpq5 libcurl4 libmicrohttpd12
    libpcre2-8-0 zlib1g
    postgresql-client-15 perl openssl ca-certificates
)
dev_packages=(
    clang libclang-rt-14-dev libnginx-mod-http-js
    postgresql-15 curl procps valgrind wrk
    libmojolicious-perl libcrypt-jwt-perl libcryptx-perl libio-socket-ssl-perl
    libdbd-pg-perl
)

case $profile in
    build)   debian_packages=("${build_packages[@]}") ;;
    runtime) debian_packages=("${runtime_packages[@]}") ;;
    all)     debian_packages=("${build_packages[@]}" "${runtime_packages[@]}"
                              "${dev_packages[@]}") ;;
    *)       echo "usage: install-deps.sh [all|build|runtime]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if [ "$profile" = all ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
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

[ "$profile" = all ] || exit 0

# npm packages: one folder each, with its own lock file.
for dir in tools tools/azure-sim/conformance; do
    [ -f "$top/$dir/package-lock.json" ] || continue
    if [ ! -d "$top/$dir/node_modules" ] \
       || [ "$top/$dir/package-lock.json" -nt "$top/$dir/node_modules/.package-lock.json" ]; then
        echo "install-deps: npm ci in $dir"
        (cd "$top/$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
