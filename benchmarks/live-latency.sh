#!/usr/bin/env bash
# Live latency of the daemon (release build) on the real stack: a simulated city's history is
# drained first (so that the rules have history to judge), then a second city is streamed live at
# RATE messages/s for SECONDS while probes — dishonest-debtor listings of new enterprises, which the
# shipped rule `dishonest_debtor` alerts on at once — are produced every 100 ms; `creditwatch
# latency` polls GET /v1/alerts every 5 ms and prints p50/p90/p99/max from each probe's produce
# time to its alert being readable through the API.
#
#   benchmarks/live-latency.sh [RATE] [SECONDS] [ENTERPRISES]   (defaults 2000, 60, 1000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../ops/lib.sh"
RATE="${1:-2000}"
SECONDS_OF_LOAD="${2:-60}"
ENTERPRISES="${3:-1000}"
cd "$ROOT"
bash ops/install.sh >/dev/null
bash ops/servers.sh start >/dev/null
swift build -c release 2>&1 | tail -1
BIN="$ROOT/.build/release/creditwatch"

RUN="live$(date +%s)"
PORT=18091
SEED=$RANDOM$RANDOM
export CREDITWATCH_KAFKA_TOPIC_PREFIX="$RUN." CREDITWATCH_KAFKA_GROUP="$RUN" CREDITWATCH_PG_SCHEMA="$RUN"
export CREDITWATCH_PG_DATABASE="$CREDITWATCH_PG_TEST_DATABASE" CREDITWATCH_HTTP_PORT="$PORT" CREDITWATCH_HTTP_ALLOW_ANONYMOUS=1

SENT=$("$BIN" simulate --enterprises "$ENTERPRISES" --persons $((ENTERPRISES * 2 / 3)) --seed "$SEED" --partitions 4 | awk '/^sent /{print $2}')
echo "backfill: $SENT messages ($ENTERPRISES enterprises, seed $SEED, 4 partitions per topic)"
LOG="$STATE/log/$RUN.log"
"$BIN" run --log-level warning >"$LOG" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true' EXIT
processed() {
    { curl -fsS --max-time 2 "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true; } |
        awk '/^creditwatch_ingest_messages[{ ]/{s+=$NF} END{printf "%d\n", s}'
}
evaluated() { curl -fsS --max-time 2 "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q '"catching_up":false'; }
until [ "$(processed)" -ge "$SENT" ] && evaluated; do
    kill -0 $PID 2>/dev/null || { tail -20 "$LOG"; exit 1; }
    sleep 0.5
done
echo "backfill drained and evaluated; live load starts"

"$BIN" latency --rate "$RATE" --seconds "$SECONDS_OF_LOAD" --api "http://127.0.0.1:$PORT" --enterprises 3000 --seed $((SEED + 1))
RSS=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
kill -TERM $PID; wait $PID || true
trap - EXIT
echo "daemon peak RSS $((RSS / 1024)) MiB"
echo "machine: $(nproc) cores, $(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; command: benchmarks/live-latency.sh $RATE $SECONDS_OF_LOAD $ENTERPRISES"
