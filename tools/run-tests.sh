#!/usr/bin/env bash
# The whole suite in one prove run: the C unit tests of lib/ and workers/
# (TAP programs built into $BUILD/t/unit) and the integration tests in t/.
#
#   tools/run-tests.sh                 everything
#   tools/run-tests.sh t/module        only some files or folders
# Environment: BUILD (default build), CC_KEEP=1 keeps every test's directory.
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
exec prove -r --timer ${PROVE_JOBS:+-j "$PROVE_JOBS"} "$@"
