#!/usr/bin/env bash
# Builds ngx_module/ + lib/ into a dynamic module for Debian's stock nginx,
# with nginx's own build system and the distribution's configure flags
# (nginx-dev ships both under /usr/share/nginx/src), so that the .so's
# signature matches the installed nginx binary.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
src=${NGINX_SRC:-/usr/share/nginx/src}
tree=$build/nginx

[ -f "$src/configure" ] || { echo "build-module: $src/configure not found (apt-get install nginx-dev)" >&2; exit 2; }

# shellcheck disable=SC1091
. "$src/conf_flags"      # defines NGX_CONF_FLAGS=( ... )

# Copy the tree once; re-run configure only when our config file changes.
if [ ! -f "$tree/configure" ]; then
    rm -rf "$tree"
    mkdir -p "$build"
    cp -r "$src" "$tree"
fi
if [ ! -f "$tree/objs/Makefile" ] || [ "$top/config" -nt "$tree/objs/Makefile" ] \
   || [ "$(ls "$top"/ngx_module/*.c "$top"/lib/*.c 2>/dev/null | md5sum)" != "$(cat "$tree/.srclist" 2>/dev/null)" ]; then
    (cd "$tree" && ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="${NGX_CC_OPT:--O2 -g}" \
        --add-dynamic-module="$top" > "$build/nginx-configure.log" 2>&1) \
        || { tail -30 "$build/nginx-configure.log" >&2; exit 1; }
    ls "$top"/ngx_module/*.c "$top"/lib/*.c 2>/dev/null | md5sum > "$tree/.srclist"
fi
# After a reconfigure the .so may be named after another first module:
# drop what an earlier build left so exactly one remains.
rm -f "$tree"/objs/ngx_http_cc_*_module.so
make -s -C "$tree" -f objs/Makefile modules
# nginx names the .so after the first module in the list; publish it under
# one stable name.
so=$(ls "$tree"/objs/ngx_http_cc_*_module.so)
[ "$(wc -w <<<"$so")" -eq 1 ] || { echo "build-module: expected one .so, got: $so" >&2; exit 1; }
cp "$so" "$build/ngx_http_concierge_module.so"
