# Shared by the benchmarks: the stack up, the release build, an isolated run (its own topic prefix,
# consumer group and PostgreSQL schema in creditwatch_test), and the daemon's own progress.
# Usage: set RUN_KIND (the run's name prefix) and PORT (its API), then source benchmarks/lib.sh.
# BENCH_LOG_LEVEL=debug logs every batch of the daemons (in .state/log/<run>.log.<i>).
# BENCH_BIN=<a creditwatch binary> measures that one instead of building this checkout (before
# and after figures of a change, run interleaved).
# BENCH_KEEP=1 keeps the run's PostgreSQL schema (else dropped at the end: see drop_run).
# BENCH_SEED=<n> simulates the same city as another run (else a random one): builds compared on
# the same data.
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
SEED=${BENCH_SEED:-$RANDOM$RANDOM}
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
        CREDITWATCH_HTTP_PORT=$((PORT + i)) "$BIN" run --log-level "${BENCH_LOG_LEVEL:-warning}" >"$LOG.$i" 2>&1 &
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
now() { date +%s.%N; }
# CPU seconds used so far by the processes $@ (pids): user and system time in clock ticks, with what
# the children they reaped used (PostgreSQL's backends that ended, Redis's saves and rewrites).
proc_cpu() {
    local pid
    for pid in "$@"; do cat "/proc/$pid/stat" 2>/dev/null; done |
        awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15} END{printf "%.2f\n", s / hz}'
}
# CPU seconds used so far by the daemons, Redis, the broker and PostgreSQL (every process of theirs
# alive now, and the ones they reaped), on one line.
cpu_times() {
    echo "$(proc_cpu "${PIDS[@]}") $(proc_cpu $(pgrep -f "^redis-server 127.0.0.1:$REDIS_PORT")) $(proc_cpu $(pgrep -x tansu)) $(proc_cpu $(pgrep -x postgres))"
}
# Prints the CPU used in phase $1 between cpu_times $2 and $3, $4 seconds apart.
cpu_used() {
    awk -v what="$1" -v a="$2" -v b="$3" -v s="$4" -v c="$(nproc)" 'BEGIN{split(a, x, " "); split(b, y, " ")
        printf "cpu in %s: daemon %.1f s, redis %.1f s, broker %.1f s, postgresql %.1f s, of %.1f s × %d cores\n",
            what, y[1] - x[1], y[2] - x[2], y[3] - x[3], y[4] - x[4], s, c}'
}
# BENCH_PERF=<file>: the first daemon's stacks sampled with `perf record` between perf_start and
# perf_stop; perf_report prints the hottest functions (perf from Debian's linux-perf; cpu-clock, so it
# works in VMs). BENCH_PERF_SYSTEM=1 samples every process instead (Redis, PostgreSQL and the broker
# beside the daemon; perf_report then sorts by process too).
perf_start() {
    [ -n "${BENCH_PERF:-}" ] || return 0
    local scope=(-p "${PIDS[0]}")
    [ -z "${BENCH_PERF_SYSTEM:-}" ] || scope=(-a)
    perf record -q -e cpu-clock -F 499 ${BENCH_PERF_CALLS:--g} -o "$BENCH_PERF" "${scope[@]}" 2>/dev/null & PERF_PID=$!
}
perf_stop() {
    [ -n "${PERF_PID:-}" ] || return 0
    kill -INT "$PERF_PID"; wait "$PERF_PID" || true; PERF_PID=
}
perf_report() {
    [ -n "${BENCH_PERF:-}" ] || return 0
    local sort=symbol whose="the daemon"
    [ -z "${BENCH_PERF_SYSTEM:-}" ] || { sort=comm,symbol; whose="every process"; }
    echo "hottest functions of $whose in $1 (self time, perf report --no-children; full profile in $BENCH_PERF):"
    perf report -i "$BENCH_PERF" --no-children --sort "$sort" --percent-limit 1 --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25
}
# PostgreSQL's statement statistics (pg_stat_statements, loaded by ops/servers.sh) of this database:
# pg_statements_reset before a phase, pg_statements_report after it prints its heaviest statements.
bench_psql() {
    PGPASSWORD="$CREDITWATCH_PG_PASSWORD" psql -XqAt -h 127.0.0.1 -p "$PG_PORT" -U "$CREDITWATCH_PG_USER" -d "$CREDITWATCH_PG_DATABASE" "$@"
}
# The run's PostgreSQL schema is dropped at its end (BENCH_KEEP=1 keeps it to look into): a run of
# the 3 000-enterprise city leaves ~200 MB that later runs' checkpoints and autovacuum then carry.
# (Redis is emptied when the next run starts: it holds one store of record's features.)
drop_run() {
    [ -z "${BENCH_KEEP:-}" ] || { echo "kept: schema $RUN in $CREDITWATCH_PG_DATABASE"; return 0; }
    bench_psql -c "DROP SCHEMA IF EXISTS $RUN CASCADE" >/dev/null 2>&1 || echo "could not drop schema $RUN" >&2
}
pg_statements_reset() { bench_psql -c "SELECT pg_stat_statements_reset()" >/dev/null 2>&1 || true; }
pg_statements_report() {
    local rows
    rows=$(bench_psql -F ' | ' -c "
        SELECT to_char(total_exec_time / 1000, 'FM990.0') || ' s', calls || ' calls', rows || ' rows',
               left(regexp_replace(query, '\s+', ' ', 'g'), 110)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT 8" 2>/dev/null) || return 0
    [ -n "$rows" ] || return 0
    echo "postgresql's heaviest statements in $1 (execution time; pg_stat_statements):"
    echo "$rows" | sed 's/^/  /'
}
# Settings made by hand on the database or its role (ALTER DATABASE/ROLE … SET) outlive server
# restarts and change what is measured — a forgotten `log_min_duration_statement = 40` logged every
# batch's parameters (9 GB) and cost PostgreSQL a quarter more CPU for a whole session — so a run
# names them beside the machine.
pg_hand_settings() {
    bench_psql -c "SELECT string_agg(array_to_string(s.setconfig, ', '), '; ')
        FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase
        WHERE (d.datname = current_database() OR s.setdatabase = 0)
          AND (s.setrole = 0 OR s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user))" 2>/dev/null || true
}
machine() {
    echo "machine: $(nproc) cores, $(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
    local hand
    hand=$(pg_hand_settings)
    [ -z "$hand" ] || echo "note: the database carries settings made by hand (ALTER DATABASE/ROLE … SET): $hand"
}
