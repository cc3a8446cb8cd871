# Shared by the benchmarks: the stack up, the release build, an isolated run (its own topic prefix,
# consumer group and PostgreSQL schema in creditwatch_test), and the daemon's own progress.
# Usage: set RUN_KIND (the run's name prefix) and PORT (its API), then source benchmarks/lib.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../ops/lib.sh"
cd "$ROOT"
bash ops/install.sh >/dev/null
bash ops/servers.sh start >/dev/null
swift build -c release 2>&1 | tail -1
BIN="$ROOT/.build/release/creditwatch"

RUN="${RUN_KIND}$(date +%s)"
SEED=$RANDOM$RANDOM
export CREDITWATCH_KAFKA_TOPIC_PREFIX="$RUN." CREDITWATCH_KAFKA_GROUP="$RUN" CREDITWATCH_PG_SCHEMA="$RUN"
export CREDITWATCH_PG_DATABASE="$CREDITWATCH_PG_TEST_DATABASE" CREDITWATCH_HTTP_PORT="$PORT"
LOG="$STATE/log/$RUN.log"

# Messages the daemon has processed (its /metrics counter).
processed() {
    { curl -fsS --max-time 2 "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true; } |
        awk '/^creditwatch_ingest_messages[{ ]/{s+=$NF} END{printf "%d\n", s}'
}
# Nothing waits for evaluation (the engine evaluates a backlog once it has read all of it).
evaluated() { curl -fsS --max-time 2 "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q '"catching_up":false'; }
# Waits until daemon $PID has processed and evaluated $1 messages.
wait_drained() {
    until [ "$(processed)" -ge "$1" ] && evaluated; do
        kill -0 "$PID" 2>/dev/null || { tail -20 "$LOG"; exit 1; }
        sleep 0.2
    done
}
machine() { echo "machine: $(nproc) cores, $(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"; }
