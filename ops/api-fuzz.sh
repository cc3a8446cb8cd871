#!/usr/bin/env bash
# The API against its own description: starts the daemon (debug build) on a fresh schema with one
# key per role, then runs schemathesis against /v1/openapi.json with each key. Fails on any 5xx
# or any response outside its documented schema. Called by ops/test.sh after swift test; run it
# alone after `swift build` with the servers up (ops/servers.sh start).
# Environment: CW_FUZZ_EXAMPLES (default 15) examples per operation and phase.
set -euo pipefail
# shellcheck source=ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$ROOT/.build/debug/creditwatch"
ST="$DEPS/schemathesis/bin/st"
[ -x "$BIN" ] || die "build first: swift build ($BIN missing)"
[ -x "$ST" ] || die "schemathesis missing: run ops/install.sh"
PORT=18181
URL="http://127.0.0.1:$PORT"
WORK="$STATE/api-fuzz"
rm -rf "$WORK"; mkdir -p "$WORK"

export CREDITWATCH_PG_SCHEMA=api_fuzz CREDITWATCH_KAFKA_TOPIC_PREFIX="fuzz$RANDOM." CREDITWATCH_KAFKA_GROUP="creditwatch-fuzz-$RANDOM"
export CREDITWATCH_HTTP_PORT=$PORT CREDITWATCH_HTTP_RATE_PER_SECOND=0 CREDITWATCH_WEBHOOK_HOSTS=127.0.0.1 CREDITWATCH_RULES_WATCH_SECONDS=0
PGPASSWORD="$CREDITWATCH_PG_PASSWORD" psql -q -h "$CREDITWATCH_PG_HOST" -p "$CREDITWATCH_PG_PORT" -U "$CREDITWATCH_PG_USER" \
    -d "$CREDITWATCH_PG_DATABASE" -c "DROP SCHEMA IF EXISTS api_fuzz CASCADE" >/dev/null
"$BIN" migrate >"$WORK/migrate.log" 2>&1
"$BIN" topics create --partitions 1 >"$WORK/topics.log" 2>&1

declare -A KEYS
key() { "$BIN" keys create --quiet --organisation "$1" --kind "$2" --user "fuzz-$3" --role "$3" ${4:+--uscc "$4"} 2>>"$WORK/keys.log"; }
for role in office_analyst office_admin rule_author operator auditor; do KEYS[$role]="$(key 邵阳市金融办 financial_office "$role")"; done
for role in bank_officer bank_admin; do KEYS[$role]="$(key 城市商业银行 bank "$role")"; done
KEYS[enterprise_user]="$(key 示范企业 enterprise enterprise_user 91430500MA4DEM101Y)"

"$BIN" run >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null || true; wait $DAEMON 2>/dev/null || true' EXIT
wait_for 60 daemon curl -fsS -o /dev/null "$URL/health" || { tail -20 "$WORK/daemon.log" >&2; die "the daemon did not start"; }
# Some data, so that answers have content: a small city.
"$BIN" simulate --enterprises 30 --persons 10 --partitions 0 >"$WORK/simulate.log" 2>&1 || warn "simulate failed (see $WORK/simulate.log)"
sleep 5

failed=0
for role in $(printf '%s\n' "${!KEYS[@]}" | sort); do
    log "schemathesis as $role"
    if ! "$ST" run "$URL/v1/openapi.json" -H "Authorization: Bearer ${KEYS[$role]}" \
        --checks not_a_server_error,response_schema_conformance,content_type_conformance \
        --exclude-path /v1/alerts/stream --max-examples "${CW_FUZZ_EXAMPLES:-15}" --request-timeout 20 --workers 1 \
        --seed 1 --no-shrink >"$WORK/$role.log" 2>&1; then
        failed=$((failed + 1))
        warn "schemathesis found problems as $role:"
        tail -60 "$WORK/$role.log" >&2
    else
        tail -3 "$WORK/$role.log"
    fi
done
grep -q "fatal\|panic" "$WORK/daemon.log" && { warn "the daemon logged a fatal error"; failed=$((failed + 1)); }
[ "$failed" -eq 0 ] || die "schemathesis: $failed role(s) with problems (logs in $WORK)"
log "schemathesis: every role, no 5xx, every response within its schema"
