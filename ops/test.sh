#!/usr/bin/env bash
# The project's test command: install what is missing, start the local servers (Redis,
# PostgreSQL, Tansu), then `swift build --build-tests` and `swift test` with the connection
# environment of ops/lib.sh. Extra arguments go to `swift test`, e.g.
#   ops/test.sh --filter RuleLanguageTests
# Under CI (CI=true) the servers are stopped and their state deleted afterwards (so repeated
# CI clones leave nothing behind), unless CREDITWATCH_KEEP_SERVERS=1.
set -euo pipefail
# shellcheck source=ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$CW_OPS_DIR/install.sh"
bash "$CW_OPS_DIR/servers.sh" start

if [ "${CI:-}" = "true" ] && [ "${CREDITWATCH_KEEP_SERVERS:-}" != "1" ]; then
    # Quietly, so that swift test's summary stays the last lines of the output.
    trap 'bash "$CW_OPS_DIR/servers.sh" reset >/dev/null 2>&1 || true' EXIT
fi

command -v swift >/dev/null 2>&1 || die "swift not found on PATH"
cd "$ROOT"
log "swift build --build-tests"
swift build --build-tests
log "creditwatch rules check && creditwatch rules test (the shipped rule set and its cases)"
swift run --skip-build creditwatch rules check
swift run --skip-build creditwatch rules test
if [ "$#" -eq 0 ]; then
    # The API against its OpenAPI description, with a key of each role (a filtered run skips it).
    log "ops/api-fuzz.sh (schemathesis)"
    bash "$CW_OPS_DIR/api-fuzz.sh"
    # The dashboard in headless Chromium against the daemon on a simulated city.
    log "ops/browser-test.sh (Selenium, Chromium)"
    bash "$CW_OPS_DIR/browser-test.sh"
    # The benchmarks, short, on the debug build (their figures mean nothing at this size; the
    # scripts and the paths they drive must work): one daemon, two sharing the city, live probes.
    log "benchmarks/ (smoke runs: 100 enterprises)"
    BENCH_BIN="$ROOT/.build/debug/creditwatch" bash benchmarks/e2e-throughput.sh 100 1 0
    BENCH_BIN="$ROOT/.build/debug/creditwatch" bash benchmarks/e2e-throughput.sh 100 4 2
    BENCH_BIN="$ROOT/.build/debug/creditwatch" bash benchmarks/live-latency.sh 200 5 100
fi
log "swift test $*"
swift test "$@"
