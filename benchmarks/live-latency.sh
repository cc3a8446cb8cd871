#!/usr/bin/env bash
# Live latency of the daemon (release build) on the real stack: a simulated city's history is
# drained first (so that the rules have history to judge), then a second city is streamed live at
# RATE messages/s for SECONDS while probes — dishonest-debtor listings of new enterprises, which the
# shipped rule `dishonest_debtor` alerts on at once — are produced every 100 ms; `creditwatch
# latency` polls GET /v1/alerts every 5 ms and prints p50/p90/p99/max from each probe's produce
# time to its alert being readable through the API.
#
#   benchmarks/live-latency.sh [RATE] [SECONDS] [ENTERPRISES]   (defaults 2000, 60, 1000)
#
# BENCH_PERF=<file> also samples the daemon's stacks for the live phase (see lib.sh).
set -euo pipefail
RATE="${1:-2000}"
SECONDS_OF_LOAD="${2:-60}"
ENTERPRISES="${3:-1000}"
# How long the load's producer batches (librdkafka linger.ms; BENCH_LOAD_LINGER_MS): see `creditwatch
# latency --help`. The probes' producer lingers 20 ms whatever this is.
LOAD_LINGER_MS="${BENCH_LOAD_LINGER_MS:-100}"
RUN_KIND=live PORT=18091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The probe poller asks every 5 ms: above the API's default per-caller rate limit.
export CREDITWATCH_HTTP_ALLOW_ANONYMOUS=1 CREDITWATCH_HTTP_RATE_PER_SECOND=0

SENT=$("$BIN" simulate --enterprises "$ENTERPRISES" --persons $((ENTERPRISES * 2 / 3)) --seed "$SEED" --partitions 4 | awk '/^sent /{print $2}')
echo "backfill: $SENT messages ($ENTERPRISES enterprises, seed $SEED, 4 partitions per topic)"
start_instances 0
wait_drained "$SENT"
echo "backfill drained and evaluated; live load starts (its producer lingers $LOAD_LINGER_MS ms)"

# Where the live phase's time goes: the daemon's stage and batch counters before and after it.
stages() {
    curl -fsS --max-time 2 "http://127.0.0.1:$PORT/metrics" |
        awk -F'[{}" ]+' '/^creditwatch_ingest_stage_duration_sum/{for(i=1;i<NF;i++) if($i=="stage=") print $(i+1), $NF}
                         /^creditwatch_ingest_batch_duration_(count|sum)/{print $1, $NF}
                         /^creditwatch_rules_entities_evaluated[{ ]/{e+=$NF} /^creditwatch_ingest_messages[{ ]/{m+=$NF}
                         /^creditwatch_features_ledgers_read/{for(i=1;i<NF;i++) if($i=="source=") print "creditwatch_ledgers_" $(i+1), $NF}
                         END{print "creditwatch_evaluated", e; print "creditwatch_messages", m}
                         /^creditwatch_ingest_batch_duration_bucket/{for(i=1;i<NF;i++) if($i=="le=") print "le=" $(i+1), $NF}'
}
BEFORE=$(stages)
T0=$(now); CPU0=$(cpu_times)
pg_statements_reset
perf_start
"$BIN" latency --rate "$RATE" --seconds "$SECONDS_OF_LOAD" --api "http://127.0.0.1:$PORT" --enterprises 3000 --seed $((SEED + 1)) \
    --load-linger-ms "$LOAD_LINGER_MS"
AFTER=$(stages)
T1=$(now); CPU1=$(cpu_times)
perf_stop
awk 'NR==FNR{b[$1]=$2; next} {d[$1]=$2-b[$1]} END{
    printf "live phase: %d batches, %.0f ms per batch on average; time by stage:", d["creditwatch_ingest_batch_duration_count"],
        1000*d["creditwatch_ingest_batch_duration_sum"]/(d["creditwatch_ingest_batch_duration_count"]>0?d["creditwatch_ingest_batch_duration_count"]:1)
    for (k in d) if (k !~ /^creditwatch_/ && k !~ /^le=/) printf " %s %.1fs", k, d[k]; print ""
    printf "%d messages, %d entity evaluations (%.2f per message)\n", d["creditwatch_messages"], d["creditwatch_evaluated"],
        d["creditwatch_evaluated"]/(d["creditwatch_messages"]>0?d["creditwatch_messages"]:1)
    printf "ledgers read for evaluation: %d from the ledger cache, %d from Redis\n", d["creditwatch_ledgers_cache"], d["creditwatch_ledgers_redis"]
    # The batches by duration (the histogram is cumulative: at most le seconds).
    printf "batches taking at most:"
    n = 0; for (k in d) if (k ~ /^le=/) { le[++n] = substr(k, 4) }
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (le[i] == "+Inf" || (le[j] != "+Inf" && le[j] + 0 < le[i] + 0)) { t = le[i]; le[i] = le[j]; le[j] = t }
    for (i = 1; i <= n; i++) printf " %s %d", (le[i] == "+Inf" ? "any" : le[i] "s"), d["le=" le[i]]; print ""}' <(echo "$BEFORE") <(echo "$AFTER")
cpu_used "the live phase (the load and the probes' poller run beside them)" "$CPU0" "$CPU1" "$(awk "BEGIN{print $T1 - $T0}")"
pg_statements_report "the live phase"
RSS=$(awk '/VmHWM/{print $2}' /proc/${PIDS[0]}/status)
stop_instances
echo "daemon peak RSS $((RSS / 1024)) MiB"
perf_report "the live phase"
drop_run
echo "$(machine); command: benchmarks/live-latency.sh $RATE $SECONDS_OF_LOAD $ENTERPRISES"
