#!/usr/bin/env bash
# End-to-end throughput of the daemon (release build) on the real stack: the simulated city is
# produced to fresh topics first, then the daemon drains that backlog — decode, link, Redis
# windows, rule evaluation, PostgreSQL transaction, offset commit — and the time from its first
# processed message until the last is processed and evaluated is measured from its own /metrics
# counter and /health. It prints beside it
# the peak RSS, the time per stage, Redis memory per enterprise per year of history, and the
# ceilings of Redis and PostgreSQL measured on the same machine right after.
#
#   benchmarks/e2e-throughput.sh [ENTERPRISES] [PARTITIONS] [INSTANCES]
#
# Defaults 3000 enterprises (~355k messages), 4 partitions per topic, and INSTANCES 0: one daemon
# reading the departments' topics itself. INSTANCES ≥ 1 runs that many daemons sharing the city
# through the changes topic (12 partitions; README, "Several instances"), on ports 18090, 18091, …
#
# Each run uses its own topic prefix, consumer group, PostgreSQL schema (in creditwatch_test) and
# random seed, and leaves the demo's PostgreSQL data alone (its own schema is dropped at the end
# unless BENCH_KEEP=1); Redis holds one store of record's features, so it is emptied at the start
# (the demo's are rebuilt when it next runs).
#
# BENCH_PERF=<file> also samples the (first) daemon's stacks for the drain (see lib.sh).
set -euo pipefail
ENTERPRISES="${1:-3000}"
PARTITIONS="${2:-4}"
INSTANCES="${3:-0}"
RUN_KIND=bench PORT=18090
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SENT=$("$BIN" simulate --enterprises "$ENTERPRISES" --persons $((ENTERPRISES * 2 / 3)) --seed "$SEED" --partitions "$PARTITIONS" | awk '/^sent /{print $2}')
echo "produced $SENT messages ($ENTERPRISES enterprises, seed $SEED, $PARTITIONS partitions per topic)"

redis_used() { redis-cli -p "$REDIS_PORT" INFO memory | awk -F: '/^used_memory:/{print $2+0}'; }
# The run's daemon empties a Redis holding another store's features before it starts; emptied
# here already, so that what the city takes is measured from an empty store.
redis-cli -p "$REDIS_PORT" FLUSHDB >/dev/null
REDIS_BEFORE=$(redis_used)

start_instances "$INSTANCES"

until [ "$(processed)" -gt 0 ]; do
    alive || exit 1
    sleep 0.05
done
T0=$(now); N0=$(processed); CPU0=$(cpu_times)
pg_statements_reset
perf_start
wait_drained "$SENT"
perf_stop
T1=$(now); N1=$(processed); CPU1=$(cpu_times)
RSS=0
for pid in "${PIDS[@]}"; do RSS=$((RSS + $(awk '/VmHWM/{print $2}' /proc/$pid/status))); done
STAGES=$(for port in "${PORTS[@]}"; do curl -fsS --max-time 2 "http://127.0.0.1:$port/metrics"; done |
    awk -F'[{}" ]+' '/^creditwatch_ingest_stage_duration_sum/{for(i=1;i<NF;i++) if($i=="stage=") t[$(i+1)]+=$NF} END{for(s in t) printf "%s %.1fs  ", s, t[s]}')
stop_instances
REDIS_AFTER=$(redis_used)

SECS=$(awk "BEGIN{print $T1 - $T0}")
RATE=$(awk "BEGIN{print ($N1 - $N0) / $SECS}")
ALERTS=$(PGPASSWORD="$CREDITWATCH_PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$CREDITWATCH_PG_USER" -d "$CREDITWATCH_PG_DATABASE" -tAc "SELECT count(*) FROM $RUN.alert")
QUARANTINED=$(PGPASSWORD="$CREDITWATCH_PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$CREDITWATCH_PG_USER" -d "$CREDITWATCH_PG_DATABASE" -tAc "SELECT count(*) FROM $RUN.quarantine")
printf '\nmessages %d in %.1f s after the first: %.0f events/s; peak RSS %d MiB (%s); alerts %d; quarantined %d\n' \
    "$((N1 - N0))" "$SECS" "$RATE" "$((RSS / 1024))" "$(describe_instances)" "$ALERTS" "$QUARANTINED"
echo "time by stage (summed over batches): $STAGES"
cpu_used "the drain" "$CPU0" "$CPU1" "$SECS"
pg_statements_report "the drain"
# The simulated city spans 25 months of monthly history.
YEARS=$(awk 'BEGIN{print 25 / 12}')
awk -v b="$REDIS_BEFORE" -v a="$REDIS_AFTER" -v e="$ENTERPRISES" -v y="$YEARS" \
    'BEGIN{printf "redis: %.0f MiB for this city, %.1f KiB per enterprise per year of history\n", (a-b)/1048576, (a-b)/1024/e/y}'

# Ceilings on the same machine, measured now: what the servers do alone.
REDIS_OPS=$(redis-benchmark -p "$REDIS_PORT" -n 1000000 -P 64 -t hset --csv 2>/dev/null | awk -F'"' '/HSET/{print $4}')
# A logged table keyed and indexed like credit_record (WAL included, as for the engine's writes).
PG_ROWS=$(PGPASSWORD="$CREDITWATCH_PG_PASSWORD" psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$CREDITWATCH_PG_USER" -d "$CREDITWATCH_PG_DATABASE" -v ON_ERROR_STOP=1 <<SQL | awk '/^Time:/{ms=$2} END{printf "%.0f\n", 500000 / (ms / 1000)}'
CREATE TABLE $RUN.ceiling (topic text, pk text, entity_id text, version bigint, fields jsonb, PRIMARY KEY (topic, pk));
CREATE INDEX ON $RUN.ceiling (entity_id, topic);
\\timing on
INSERT INTO $RUN.ceiling SELECT 'tax.payment', 'P' || g, 'E' || (g % 3000), g, jsonb_build_object('amount', g, 'period', '2026-05') FROM generate_series(1, 500000) g;
\\timing off
DROP TABLE $RUN.ceiling;
SQL
)
# librdkafka alone: the same topics read again by a throwaway consumer group that commits nothing.
CONSUME=$("$BIN" topics drain | awk '/^drained/{print $(NF-1)}')
printf 'ceilings: redis %s pipelined HSET/s (redis-benchmark -P 64); postgresql %s rows/s into a logged, indexed jsonb table (one INSERT … SELECT); librdkafka %s messages/s consumed (creditwatch topics drain)\n' "$REDIS_OPS" "$PG_ROWS" "$CONSUME"
awk -v r="$RATE" -v o="$REDIS_OPS" -v p="$PG_ROWS" -v k="$CONSUME" \
    'BEGIN{printf "end to end is %.1f%% of the redis ceiling at one op per event, %.1f%% of the postgresql row ceiling at two rows (record + history) per event, %.1f%% of the consume ceiling\n", 100*r/o, 100*2*r/p, 100*r/k}'
perf_report "the drain"
drop_run
echo "$(machine); command: benchmarks/e2e-throughput.sh $ENTERPRISES $PARTITIONS $INSTANCES"
