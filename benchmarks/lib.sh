# Shared by the benchmarks: the stack up, the release build, an isolated run (its own topic prefix,
# consumer group and PostgreSQL schema in creditwatch_test), and the daemon's own progress.
# Usage: set RUN_KIND (the run's name prefix) and PORT (its API), then source benchmarks/lib.sh.
# BENCH_BIN=<a creditwatch binary> measures that one instead of building this checkout (before
# and after figures of a change, run interleaved).
source "$(dirname "${BASH_SOURCE[0]}")/../ops/lib.sh"
cd "$ROOT"
bash ops/install.sh >/dev/null
bash ops/servers.sh start >/dev/null
if [ -n "${BENCH_BIN:-}" ]; then
    BIN="$BENCH_BIN"
else
    swift build -c release 2>&1 | tail -1
    BIN="$ROOT/.build/release/creditwatch"
fi

RUN="${RUN_KIND}$(date +%s)"
SEED=$RANDOM$RANDOM
export CREDITWATCH_KAFKA_TOPIC_PREFIX="$RUN." CREDITWATCH_KAFKA_GROUP="$RUN" CREDITWATCH_PG_SCHEMA="$RUN"
export CREDITWATCH_PG_DATABASE="$CREDITWATCH_PG_TEST_DATABASE" CREDITWATCH_HTTP_PORT="$PORT"
LOG="$STATE/log/$RUN.log"

# The daemons of this run: PIDS and their API PORTS (PORT, PORT+1, …).
PIDS=(); PORTS=()
# Starts $1 daemons sharing the city through the changes topic, or one reading the departments'
# topics itself when $1 is 0 (or absent).
start_instances() {
    local n="${1:-0}" i
    if [ "$n" -gt 0 ]; then export CREDITWATCH_CHANGES_PARTITIONS=12; else n=1; fi
    for ((i = 0; i < n; i++)); do
        CREDITWATCH_HTTP_PORT=$((PORT + i)) "$BIN" run --log-level warning >"$LOG.$i" 2>&1 &
        PIDS+=($!); PORTS+=($((PORT + i)))
    done
    trap stop_instances EXIT
}
stop_instances() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" || true; done
    trap - EXIT
}
describe_instances() {
    if [ -n "${CREDITWATCH_CHANGES_PARTITIONS:-}" ]; then echo "${#PIDS[@]} instances sharing the city"; else echo "1 instance"; fi
}
# Every daemon still runs (else its log's end is shown).
alive() {
    local i
    for i in "${!PIDS[@]}"; do
        kill -0 "${PIDS[$i]}" 2>/dev/null || { tail -20 "$LOG.$i"; return 1; }
    done
}
# Messages the daemons have processed (their /metrics counters).
processed() {
    local port
    for port in "${PORTS[@]}"; do curl -fsS --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null || true; done |
        awk '/^creditwatch_ingest_messages[{ ]/{s+=$NF} END{printf "%d\n", s}'
}
# Nothing waits for evaluation on any daemon (the engine evaluates a backlog once it has read all of it).
evaluated() {
    local port
    for port in "${PORTS[@]}"; do
        curl -fsS --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"catching_up":false' || return 1
    done
}
# Waits until the daemons have processed and evaluated $1 messages.
wait_drained() {
    until [ "$(processed)" -ge "$1" ] && evaluated; do
        alive || exit 1
        sleep 0.2
    done
}
machine() { echo "machine: $(nproc) cores, $(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"; }
