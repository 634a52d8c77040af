#!/usr/bin/env bash
# The whole suite in one prove run: the C unit tests of lib/ and workers/
# (TAP programs built into $BUILD/t/unit) and the integration tests in t/.
#
#   tools/run-tests.sh                 everything
#   tools/run-tests.sh t/module        only some files or folders
# Environment: BUILD (default build), CC_KEEP=1 keeps every test's directory.
#
# When a test fails, what it reported (its failed assertions, how it died,
# the tail of each of its logs) is printed again after prove's summary, so
# the end of a CI log is enough to read the failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export CC_BUILD=${BUILD:-build}

# Development certificates are shared by every test of a build; make them
# once, before tests run in parallel.
tools/dev-certs init "$CC_BUILD/certs" >/dev/null

if [ $# -eq 0 ]; then
    set -- "$CC_BUILD/t/unit" t
fi

CC_TEST_REPORT=$(mktemp -d /tmp/cc-test-report.XXXXXX)
export CC_TEST_REPORT
trap 'rm -rf "$CC_TEST_REPORT"' EXIT

status=0
prove -r --timer ${PROVE_JOBS:+-j "$PROVE_JOBS"} "$@" || status=$?

if [ "$status" -ne 0 ]; then
    for report in "$CC_TEST_REPORT"/*.txt; do
        [ -e "$report" ] || continue
        echo
        cat "$report"
    done
fi
exit "$status"
