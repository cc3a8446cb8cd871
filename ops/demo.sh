#!/usr/bin/env bash
# The demo: install what is missing, start the local servers, build the release binary,
# migrate the database, start the daemon in the background, feed it the synthetic city,
# and print where the dashboard and API are. The daemon keeps running afterwards.
# Usage: ops/demo.sh [start] [ARGS for `creditwatch simulate`...]
#        ops/demo.sh stop      stop the daemon (the servers keep running; ops/servers.sh stop)
#        ops/demo.sh status    is the daemon running?
set -euo pipefail
# shellcheck source=ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$ROOT/.build/release/creditwatch"
DAEMON_PID="$STATE/run/daemon.pid"
DAEMON_LOG="$STATE/log/daemon.log"
URL="http://127.0.0.1:$HTTP_PORT"

daemon_running() {
    pid_alive "$DAEMON_PID" &&
        tr '\0' ' ' <"/proc/$(cat "$DAEMON_PID")/cmdline" 2>/dev/null | grep -q 'creditwatch run'
}

# http_ok PATH: true when GET PATH answers 2xx.
http_ok() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$URL$1"
    else
        local line
        exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT" || return 1
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&3
        IFS= read -r -t 2 line <&3 || true
        exec 3<&-
        [[ "$line" =~ ^HTTP/1\.[01]\ 2 ]]
    fi
}

daemon_stop() {
    if daemon_running; then
        local pid; pid="$(cat "$DAEMON_PID")"
        log "stopping the daemon (pid $pid, SIGTERM; it drains its batch and commits)"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_for 35 daemon-stop bash -c "! kill -0 $pid"; then
            warn "daemon pid $pid still running after 35 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        log "daemon stopped"
    else
        log "daemon not running"
    fi
    rm -f "$DAEMON_PID"
}

# demo_keys: one named key per role in the demo organisations (a new set at every start; the old
# ones stay valid until revoked: creditwatch keys list / revoke).
declare -A DEMO_KEYS
demo_keys() {
    log "creating the demo keys (one per role)"
    local enterprise_uscc
    enterprise_uscc="$(python3 - <<'PY'
first = "91430500MA4DEM101"
alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
check = (31 - sum(alphabet.index(c) * w for c, w in zip(first, weights)) % 31) % 31
print(first + alphabet[check])
PY
)"
    local spec org kind role extra
    for spec in "邵阳市金融办|financial_office|office_analyst|" "邵阳市金融办|financial_office|office_admin|" \
        "邵阳市金融办|financial_office|rule_author|" "邵阳市金融办|financial_office|operator|" "邵阳市金融办|financial_office|auditor|" \
        "城市商业银行|bank|bank_officer|" "城市商业银行|bank|bank_admin|" \
        "邵阳示范企业|enterprise|enterprise_user|--uscc $enterprise_uscc"; do
        IFS='|' read -r org kind role extra <<<"$spec"
        # shellcheck disable=SC2086
        DEMO_KEYS[$role]="$("$BIN" keys create --quiet --organisation "$org" --kind "$kind" --user "demo-$role" \
            --role "$role" --label demo $extra)"
    done
    mkdir -p "$STATE"
    for role in "${!DEMO_KEYS[@]}"; do echo "$role ${DEMO_KEYS[$role]}"; done | sort >"$STATE/demo-keys.txt"
    chmod 600 "$STATE/demo-keys.txt"
}

demo_start() {
    bash "$CW_OPS_DIR/install.sh"
    bash "$CW_OPS_DIR/servers.sh" start
    cd "$ROOT"
    log "swift build -c release (the first build takes several minutes)"
    swift build -c release
    [ -x "$BIN" ] || die "release binary not found: $BIN"

    if daemon_running; then
        log "a daemon is already running (pid $(cat "$DAEMON_PID")); restarting it on the new build"
        daemon_stop
    fi
    if tcp_open "$HTTP_PORT"; then
        die "port $HTTP_PORT is already in use by another process; stop it first"
    fi

    log "creditwatch migrate"
    "$BIN" migrate

    # The demo city's topics, four partitions each. The simulator sends two years of history at
    # once; the daemon evaluates it once it has read every partition (README, Semantics), so the
    # partitioning does not change the alerts.
    export CREDITWATCH_KAFKA_TOPIC_PREFIX="${CREDITWATCH_KAFKA_TOPIC_PREFIX:-city.}"
    log "creditwatch topics create --partitions 4 (prefix $CREDITWATCH_KAFKA_TOPIC_PREFIX)"
    "$BIN" topics create --partitions 4

    demo_keys

    log "starting: creditwatch run (log $DAEMON_LOG)"
    mkdir -p "$STATE/run" "$STATE/log"
    nohup setsid "$BIN" run </dev/null >>"$DAEMON_LOG" 2>&1 &
    echo $! >"$DAEMON_PID"
    if ! wait_for 60 daemon http_ok /health; then
        tail -n 30 "$DAEMON_LOG" >&2 || true
        daemon_running || die "the daemon exited during start-up (log: $DAEMON_LOG)"
        die "the daemon did not answer $URL/health within 60 s (log: $DAEMON_LOG)"
    fi
    log "daemon up: pid $(cat "$DAEMON_PID"), $URL/health answers"

    log "creditwatch simulate --market --stop-feed traffic.vehicle=2026-03 $* (the synthetic city into Kafka, its financing marketplace into PostgreSQL; the vehicle registry stops sending in March: a stale feed for data health)"
    "$BIN" simulate --partitions 0 --market --stop-feed traffic.vehicle=2026-03 "$@"

    local office="Authorization: Bearer ${DEMO_KEYS[office_analyst]}"
    local bank="Authorization: Bearer ${DEMO_KEYS[bank_officer]}"
    cat <<EOF

CreditWatch demo is running.
  Dashboard:  $URL/dashboard   (城市征信预警数据展示; sign in with a key, e.g. the office analyst's:
              ${DEMO_KEYS[office_analyst]}
              or the bank officer's, which sees its portfolio only)
  API:        $URL/v1/   (every /v1 route needs a key: Authorization: Bearer <key>)
  Daemon log: $DAEMON_LOG   (pid file $DAEMON_PID)

Demo keys, one per role (stored hashed; also in $STATE/demo-keys.txt):
$(for role in "${!DEMO_KEYS[@]}"; do printf '  %-16s %s\n' "$role" "${DEMO_KEYS[$role]}"; done | sort)

Try:
  curl -s $URL/health
  curl -s -H '$office' '$URL/v1/alerts?limit=20'
  curl -s -H '$office' '$URL/v1/alerts?severity=high,critical&category=tax'
  curl -s -H '$office' $URL/v1/enterprises/<a USCC of the planted stories above>   (score, tags, facts, alerts)
  curl -s -H '$office' '$URL/v1/alerts/events?limit=20'      (raised / withdrawn / reactivated)
  curl -s -H '$office' $URL/v1/tags/leading                  (the quality-enterprise library)
  curl -s -H '$office' $URL/v1/rules                         (the live rule set; edit rules/*.cwr to reload it)
  curl -s -H '$office' $URL/v1/feeds                         (data health: freshness, key coverage, linking, quarantine per feed)
  curl -s -H '$office' $URL/v1/stats/overview                (the dashboard's overview figures)
  curl -s -H '$office' -X POST $URL/v1/queries -d '{"subject":"<a USCC>","purpose":"行政监管"}'
                                                   (one-click query, audited; a person needs "authorisation")
  curl -s -H '$bank' -X POST $URL/v1/portfolio -H 'Content-Type: text/csv' --data-binary \$'uscc\n<a USCC>\n'
                                                   (the bank's watchlist is its scope)
  curl -s -H '$bank' '$URL/v1/alerts'           (the bank sees its portfolio only)
  curl -N -H '$office' $URL/v1/alerts/stream     (live alert changes, server-sent events; resume with -H 'Last-Event-ID: <id>')
  curl -s -H 'Authorization: Bearer ${DEMO_KEYS[auditor]}' $URL/v1/audit   (who queried whom)
  curl -s $URL/metrics

Marketplace (银企融资对接):
  curl -s -H '$bank' '$URL/v1/market/applications?limit=5'   (the bank's applications, loans, schedules, days past due)
  curl -s -H '$bank' $URL/v1/market/matches/needs             (open needs its products fit)
  curl -s -H 'Authorization: Bearer ${DEMO_KEYS[enterprise_user]}' $URL/v1/market/matches/products   (products ranked for the enterprise)
  curl -s -H '$office' '$URL/v1/market/stats?from=2024-10-01'  (claim and approval rates, amounts, non-performing ratio)
  curl -s -H '$office' '$URL/v1/market/outcomes?from=2024-10-01' (did the alerts foretell the loans that went bad?)

Rules:  $BIN rules test
          (the case files in rules/tests)
        $BIN replay --rules <folder>
          (what a changed rule set would have done on this history)

Stop the daemon:   ops/demo.sh stop
Stop the servers:  ops/servers.sh stop      (wipe all state: ops/servers.sh reset)
EOF
}

case "${1:-start}" in
    start) shift || true; demo_start "$@" ;;
    stop) daemon_stop ;;
    status)
        if daemon_running; then echo "daemon: running pid $(cat "$DAEMON_PID") $URL/"; else echo "daemon: stopped"; exit 1; fi ;;
    -h|--help) sed -n '2,8p' "$0" ;;
    *) demo_start "$@" ;;
esac
