#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and
# runs each for SECONDS (default 30) from a copy of its seed corpus in
# fuzz/corpus/<target>/.  Exits non-zero if any target crashes, leaks or
# trips a sanitizer; the reproducer is left in build-fuzz/artifacts/.
#
#   fuzz/run.sh [SECONDS]            all targets
#   FUZZ_TARGETS="jwt" fuzz/run.sh   some of them
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
build=${FUZZ_BUILD:-$top/build-fuzz}
targets=${FUZZ_TARGETS:-"jwt jwks session base64 route batch jscan"}
cc=${FUZZ_CC:-clang}

case $seconds in ''|*[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;; esac

flags="-g -O1 -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -I$top/lib -I$top/fuzz"
libs="$(pkg-config --libs openssl jansson)"

mkdir -p "$build/obj"
objs=()
for src in "$top"/lib/*.c; do
    obj=$build/obj/$(basename "$src" .c).o
    # -fsanitize=fuzzer-no-link instruments lib/ without a second main.
    $cc ${flags/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,} -c "$src" -o "$obj"
    objs+=("$obj")
done

# Targets whose code lives outside lib/ name their sources here.
declare -A extra=(
    [route]="$top/workers/common/cc_route.c -I$top/workers/common"
    [batch]="$top/workers/cc-ingest/ingest_batch.c $top/workers/common/cc_identity.c $top/workers/common/cc_pgtime.c -I$top/workers/common -I$top/workers/cc-ingest"
)

failed=0
for t in $targets; do
    # shellcheck disable=SC2086
    $cc $flags "$top/fuzz/fuzz_$t.c" ${extra[$t]:-} "${objs[@]}" $libs -o "$build/fuzz_$t"

    work=$build/corpus/$t
    artifacts=$build/artifacts/$t/
    mkdir -p "$work" "$artifacts"
    echo "fuzz: $t for ${seconds}s"
    if ! "$build/fuzz_$t" -max_total_time="$seconds" -max_len=20000 \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$artifacts" "$work" "$top/fuzz/corpus/$t" \
            > "$build/fuzz_$t.log" 2>&1; then
        echo "fuzz: $t FAILED, see $build/fuzz_$t.log and $artifacts" >&2
        grep -E 'ERROR|SUMMARY|Test unit written' "$build/fuzz_$t.log" >&2 || true
        failed=1
        continue
    fi
    grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz_$t.log" || true
done

exit $failed
