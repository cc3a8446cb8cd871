#!/usr/bin/env bash
# The dashboard in a real browser: starts the daemon (debug build) on a fresh schema, feeds it a
# small simulated city (with its marketplace, and one department that stopped sending), makes an
# office key and a bank key with a portfolio, waits until every figure is settled, then drives
# headless Chromium through every page with Selenium (Tests/Browser/dashboard_test.py).
# Screenshots go to .state/screenshots/. Called by ops/test.sh; run it alone after `swift build`
# with the servers up (ops/servers.sh start).
# Environment: CW_BROWSER_ENTERPRISES (default 300).
set -euo pipefail
# shellcheck source=ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$ROOT/.build/debug/creditwatch"
PY="$DEPS/browser/bin/python"
[ -x "$BIN" ] || die "build first: swift build ($BIN missing)"
[ -x "$PY" ] || die "selenium missing: run ops/install.sh"
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || die "chromium or chromedriver missing: run ops/install.sh"
PORT=18182
URL="http://127.0.0.1:$PORT"
WORK="$STATE/browser-test"
SHOTS="$STATE/screenshots"
rm -rf "$WORK" "$SHOTS"; mkdir -p "$WORK" "$SHOTS"

export CREDITWATCH_PG_SCHEMA=browser_test CREDITWATCH_KAFKA_TOPIC_PREFIX="browser$RANDOM." CREDITWATCH_KAFKA_GROUP="creditwatch-browser-$RANDOM"
export CREDITWATCH_HTTP_PORT=$PORT CREDITWATCH_HTTP_RATE_PER_SECOND=0 CREDITWATCH_RULES_WATCH_SECONDS=0
# Every read of data health recounts, so that the page and the API show the same figures.
export CREDITWATCH_DATA_HEALTH_SECONDS=0
PGPASSWORD="$CREDITWATCH_PG_PASSWORD" psql -q -h "$CREDITWATCH_PG_HOST" -p "$CREDITWATCH_PG_PORT" -U "$CREDITWATCH_PG_USER" \
    -d "$CREDITWATCH_PG_DATABASE" -c "DROP SCHEMA IF EXISTS browser_test CASCADE" >/dev/null 2>&1
"$BIN" migrate >"$WORK/migrate.log" 2>&1
"$BIN" topics create --partitions 2 >"$WORK/topics.log" 2>&1
key() { "$BIN" keys create --quiet --organisation "$1" --kind "$2" --user "browser-$3" --role "$3" 2>>"$WORK/keys.log"; }
OFFICE_KEY="$(key 邵阳市金融办 financial_office office_analyst)"
# A bank of its own: a bank of the simulated marketplace would also see the enterprises it lends to.
BANK_KEY="$(key 浏览器测试银行 bank bank_officer)"

"$BIN" run >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null || true; wait $DAEMON 2>/dev/null || true' EXIT
wait_for 60 daemon curl -fsS -o /dev/null "$URL/health" || { tail -20 "$WORK/daemon.log" >&2; die "the daemon did not start"; }
log "simulating a city of ${CW_BROWSER_ENTERPRISES:-300} enterprises (traffic.vehicle stops after 2026-03)"
"$BIN" simulate --enterprises "${CW_BROWSER_ENTERPRISES:-300}" --persons 200 --partitions 0 --market \
    --stop-feed traffic.vehicle=2026-03 >"$WORK/simulate.log" 2>&1 || { tail -20 "$WORK/simulate.log" >&2; die "simulate failed"; }

# Settled: the overview, the feeds and the alert feed answer the same three times in a row.
figures() {
    local path
    for path in /v1/stats/overview /v1/feeds "/v1/alerts?limit=500"; do
        curl -fsS -H "Authorization: Bearer $OFFICE_KEY" "$URL$path" | sed 's/"computed_at":"[^"]*"//' || return 1
    done | sha256sum
}
previous="" same=0
for _ in $(seq 1 100); do
    now="$(figures || echo unavailable)"
    if [ "$now" = "$previous" ]; then same=$((same + 1)); else same=0; fi
    previous="$now"
    [ "$same" -ge 2 ] && break
    sleep 3
done
[ "$same" -ge 2 ] || die "the figures did not settle within 5 minutes (log: $WORK/daemon.log)"

# The bank's portfolio: three enterprises with alerts and two without.
PORTFOLIO="$(curl -fsS -H "Authorization: Bearer $OFFICE_KEY" "$URL/v1/alerts?limit=500" | "$PY" -c '
import json, sys
alerted = []
for alert in json.load(sys.stdin)["items"]:
    if alert["subject_kind"] == "enterprise" and alert["subject_id"] not in alerted:
        alerted.append(alert["subject_id"])
print(",".join(alerted[:3]))')"
QUIET="$(curl -fsS -H "Authorization: Bearer $OFFICE_KEY" "$URL/v1/tags/trustworthy?limit=50" | "$PY" -c '
import json, sys
alerted = set(sys.argv[1].split(","))
print(",".join([m["uscc"] for m in json.load(sys.stdin)["items"] if m["uscc"] not in alerted][:2]))' "$PORTFOLIO")"
PORTFOLIO="$PORTFOLIO,$QUIET"
printf 'uscc\n%s\n' "${PORTFOLIO//,/$'\n'}" | curl -fsS -X PUT -H "Authorization: Bearer $BANK_KEY" -H 'Content-Type: text/csv' \
    --data-binary @- "$URL/v1/portfolio" >"$WORK/portfolio.json" || die "setting the bank's portfolio failed"

log "driving headless Chromium through the dashboard (screenshots in $SHOTS)"
DASHBOARD_URL="$URL" OFFICE_KEY="$OFFICE_KEY" BANK_KEY="$BANK_KEY" BANK_PORTFOLIO="$PORTFOLIO" SCREENSHOT_DIR="$SHOTS" \
    "$PY" "$ROOT/Tests/Browser/dashboard_test.py"
if grep -q "fatal\|panic" "$WORK/daemon.log"; then die "the daemon logged a fatal error (log: $WORK/daemon.log)"; fi
log "browser test passed"
