#!/usr/bin/env bash
# Local servers for development, tests and the demo, all on 127.0.0.1 and non-default ports:
#   Redis 7        :16379   state .state/redis, config written here (AOF, fsync everysec)
#     with TLS also :16380  the same server; a self-signed CA and its server certificate (for
#                           127.0.0.1, ::1 and localhost) are made at first start in .state/tls
#   PostgreSQL 15  :15432   role/password creditwatch, databases creditwatch + creditwatch_test
#   Tansu (Kafka)  :19092   in-memory storage; topics from topics/*.yaml (4 partitions each)
#   Redis Cluster  :16400-16402   three masters, no persistence (the tests of cluster mode)
# Usage: ops/servers.sh start|stop|status|reset|restart
#   start   start whatever is not running (no-op for what is), wait until healthy, create topics
#   stop    stop all three cleanly
#   status  print each server's state (exit 0 only when all three answer)
#   reset   stop and delete all server state (Redis data, PostgreSQL cluster, logs)
# Logs: .state/log/{redis,postgres,tansu}.log (tls.log: openssl's output when certificates are made)
set -euo pipefail
# shellcheck source=ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOG_DIR="$STATE/log"
RUN_DIR="$STATE/run"
WAIT_SECS="${CREDITWATCH_WAIT_SECS:-30}"
TOPIC_PARTITIONS=4

# The 14 feeds of shared/design/EVENTS.md: used only while topics/ has no *.yaml yet.
FALLBACK_TOPICS=(market.enterprise market.abnormal market.penalty tax.taxpayer tax.payment
    tax.arrears water.usage water.arrears hrss.insurance court.dishonest court.enforcement
    realestate.rights traffic.vehicle traffic.driver)
EXTRA_TOPICS=(creditwatch.test)

mkdir -p "$LOG_DIR" "$RUN_DIR"

# ==============================================================================================
# Redis
# ==============================================================================================
REDIS_DIR="$STATE/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PID="$RUN_DIR/redis.pid"

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING 2>/dev/null)" = "PONG" ]; }

# --- TLS: the same Redis also listens on $REDIS_TLS_PORT ---------------------------------------
TLS_CA_CRT="$REDIS_TLS_DIR/ca.crt"   # = $CREDITWATCH_TEST_REDIS_TLS_CA
TLS_CA_KEY="$REDIS_TLS_DIR/ca.key"
REDIS_TLS_CRT="$REDIS_TLS_DIR/redis.crt"
REDIS_TLS_KEY="$REDIS_TLS_DIR/redis.key"
TLS_DAYS=3650

# redis_tls_ping: PING over TLS answers PONG, the server's certificate verified against our CA.
redis_tls_ping() {
    [ "$(redis-cli --tls --cacert "$TLS_CA_CRT" -h 127.0.0.1 -p "$REDIS_TLS_PORT" PING 2>/dev/null)" = "PONG" ]
}

# redis_tls_certs: make a self-signed CA and a server certificate signed by it (subjectAltName
# 127.0.0.1, ::1, localhost), unless a pair that verifies and is valid for another day is there.
redis_tls_certs() {
    if [ -s "$TLS_CA_CRT" ] && [ -s "$TLS_CA_KEY" ] && [ -s "$REDIS_TLS_CRT" ] && [ -s "$REDIS_TLS_KEY" ] &&
        openssl x509 -in "$REDIS_TLS_CRT" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl verify -CAfile "$TLS_CA_CRT" "$REDIS_TLS_CRT" >/dev/null 2>&1; then
        return 0
    fi
    command -v openssl >/dev/null || die "openssl not installed (needed for Redis' TLS certificates)"
    log "redis: creating a self-signed CA and a server certificate (127.0.0.1, ::1, localhost) in $REDIS_TLS_DIR"
    rm -rf "$REDIS_TLS_DIR"
    mkdir -p "$REDIS_TLS_DIR"
    local log_file="$LOG_DIR/tls.log" ext="$REDIS_TLS_DIR/redis.ext"
    cat >"$ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
EOF
    (
        umask 077   # the private keys: owner only
        openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days "$TLS_DAYS" \
            -subj "/O=CreditWatch/CN=CreditWatch local test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout "$TLS_CA_KEY" -out "$TLS_CA_CRT" &&
        openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/O=CreditWatch/CN=localhost" \
            -keyout "$REDIS_TLS_KEY" -out "$REDIS_TLS_DIR/redis.csr" &&
        openssl x509 -req -in "$REDIS_TLS_DIR/redis.csr" -CA "$TLS_CA_CRT" -CAkey "$TLS_CA_KEY" \
            -set_serial "0x$(openssl rand -hex 16)" -days "$TLS_DAYS" -sha256 -extfile "$ext" -out "$REDIS_TLS_CRT"
    ) >>"$log_file" 2>&1 || { tail -n 20 "$log_file" >&2; die "redis: making the TLS certificates failed (log: $log_file)"; }
    rm -f "$REDIS_TLS_DIR/redis.csr" "$ext"
    chmod 0644 "$TLS_CA_CRT" "$REDIS_TLS_CRT"
    openssl verify -CAfile "$TLS_CA_CRT" "$REDIS_TLS_CRT" >/dev/null || die "redis: the new server certificate does not verify"
}

# redis_tls_enable: a running Redis of ours without our TLS listener (started before TLS was
# configured, or with other certificates) gets it by CONFIG SET, without a restart.
redis_tls_enable() {
    redis_tls_ping && return 0
    if ! redis_ours; then warn "redis: the server on port $REDIS_PORT is not this checkout's; not enabling TLS on it"; return 0; fi
    local current
    current="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" CONFIG GET tls-port | sed -n 2p)"
    if [ "$current" != "$REDIS_TLS_PORT" ] && tcp_open "$REDIS_TLS_PORT"; then
        die "redis: TLS port $REDIS_TLS_PORT is taken by something else"
    fi
    redis_tls_certs
    log "redis: enabling TLS on 127.0.0.1:$REDIS_TLS_PORT (CONFIG SET on the running server)"
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" CONFIG SET tls-cert-file "$REDIS_TLS_CRT" tls-key-file "$REDIS_TLS_KEY" \
        tls-ca-cert-file "$TLS_CA_CRT" tls-auth-clients optional)" = "OK" ] || die "redis: CONFIG SET of the TLS files failed"
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" CONFIG SET tls-port "$REDIS_TLS_PORT")" = "OK" ] ||
        die "redis: CONFIG SET tls-port $REDIS_TLS_PORT failed"
    wait_for "$WAIT_SECS" redis-tls redis_tls_ping || die "redis: no PONG over TLS on port $REDIS_TLS_PORT"
    log "redis: TLS ready on 127.0.0.1:$REDIS_TLS_PORT (CA $TLS_CA_CRT)"
}

redis_start() {
    if redis_ping; then
        log "redis: already running on 127.0.0.1:$REDIS_PORT"
        redis_tls_enable
        return 0
    fi
    command -v redis-server >/dev/null || die "redis-server not installed (run ops/install.sh)"
    tcp_open "$REDIS_PORT" && die "redis: port $REDIS_PORT is taken by something that is not Redis"
    tcp_open "$REDIS_TLS_PORT" && die "redis: TLS port $REDIS_TLS_PORT is taken by something else"
    redis_tls_certs
    mkdir -p "$REDIS_DIR"
    cat >"$REDIS_CONF" <<EOF
# Written by ops/servers.sh; regenerated on every start.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile "$REDIS_PID"
logfile "$LOG_DIR/redis.log"
dir "$REDIS_DIR"
appendonly yes
appendfsync everysec
appenddirname "appendonly"
# The feature store is rebuilt from PostgreSQL when Redis loses it; the AOF spares that rebuild
# after a restart. Rewritten only past 1 GB: from 64 MB, a 10 000-enterprise backfill (~500 MB
# of AOF) forked several rewrites of the whole store, ~3 s of Redis's 25 s of CPU. No RDB
# snapshots beside it (Redis loads the AOF; each save forked the whole store too).
auto-aof-rewrite-min-size 1gb
save ""
maxmemory 0
databases 16
# Ledger entries are ~70 bytes: hashes of them stay compact listpacks (measured on the 3000-enterprise
# city: 12.4 → 9.6–10.1 KiB per enterprise per year, same rate).
hash-max-listpack-value 128
# TLS on a second port, certificates made by ops/servers.sh (a client certificate is optional).
tls-port $REDIS_TLS_PORT
tls-cert-file "$REDIS_TLS_CRT"
tls-key-file "$REDIS_TLS_KEY"
tls-ca-cert-file "$TLS_CA_CRT"
tls-auth-clients optional
EOF
    log "redis: starting on 127.0.0.1:$REDIS_PORT, TLS on $REDIS_TLS_PORT (data $REDIS_DIR)"
    redis-server "$REDIS_CONF" || die "redis-server failed to start (see $LOG_DIR/redis.log)"
    wait_for "$WAIT_SECS" redis redis_ping ||
        { tail -n 20 "$LOG_DIR/redis.log" >&2 || true; die "redis did not answer PING within ${WAIT_SECS}s"; }
    wait_for "$WAIT_SECS" redis-tls redis_tls_ping ||
        { tail -n 20 "$LOG_DIR/redis.log" >&2 || true; die "redis did not answer PING over TLS on port $REDIS_TLS_PORT within ${WAIT_SECS}s"; }
    log "redis: ready (PING -> PONG, also over TLS)"
}

# redis_ours: the Redis answering on our port is this checkout's (its data dir is ours).
redis_ours() {
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" CONFIG GET dir 2>/dev/null | sed -n 2p)" = "$REDIS_DIR" ]
}

redis_stop() {
    if redis_ping && ! redis_ours; then
        warn "redis: the server on port $REDIS_PORT is not this checkout's (dir $REDIS_DIR); not stopping it"
    elif redis_ping; then
        log "redis: shutting down"
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" SHUTDOWN >/dev/null 2>&1 || true
        wait_for 15 redis-stop bash -c "! redis-cli -h 127.0.0.1 -p $REDIS_PORT PING" ||
            warn "redis still answering after SHUTDOWN"
    elif pid_alive "$REDIS_PID"; then
        log "redis: not answering; killing pid $(cat "$REDIS_PID")"
        kill "$(cat "$REDIS_PID")" 2>/dev/null || true
    else
        log "redis: not running"
    fi
    rm -f "$REDIS_PID"
}

redis_status() {
    local rc=0
    if redis_ping; then
        echo "redis:      running  127.0.0.1:$REDIS_PORT  pid $(cat "$REDIS_PID" 2>/dev/null || echo '?')  data $REDIS_DIR"
    else
        echo "redis:      stopped  (port $REDIS_PORT)"; rc=1
    fi
    if redis_tls_ping; then
        echo "redis-tls:  running  127.0.0.1:$REDIS_TLS_PORT  (same server)  CA $TLS_CA_CRT"
    elif tcp_open "$REDIS_TLS_PORT"; then
        echo "redis-tls:  no PONG over TLS on 127.0.0.1:$REDIS_TLS_PORT with CA $TLS_CA_CRT (ops/servers.sh start fixes it)"; rc=1
    else
        echo "redis-tls:  stopped  (port $REDIS_TLS_PORT)"; rc=1
    fi
    return "$rc"
}

# ==============================================================================================
# Redis Cluster: three masters on consecutive ports, slots spread by redis-cli --cluster create
# ==============================================================================================
CLUSTER_DIR="$STATE/redis-cluster"
CLUSTER_PORTS=("$REDIS_CLUSTER_PORT" "$((REDIS_CLUSTER_PORT + 1))" "$((REDIS_CLUSTER_PORT + 2))")

cluster_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = "PONG" ]; }
cluster_ok() { redis-cli -h 127.0.0.1 -p "$REDIS_CLUSTER_PORT" CLUSTER INFO 2>/dev/null | grep -q '^cluster_state:ok'; }

cluster_start() {
    if cluster_ok; then log "redis cluster: already running on ports ${CLUSTER_PORTS[*]}"; return 0; fi
    local port
    for port in "${CLUSTER_PORTS[@]}"; do
        if cluster_ping "$port"; then continue; fi
        tcp_open "$port" && die "redis cluster: port $port is taken by something that is not Redis"
        mkdir -p "$CLUSTER_DIR/$port"
        cat >"$CLUSTER_DIR/$port/redis.conf" <<EOF
# Written by ops/servers.sh; regenerated on every start.
bind 127.0.0.1
port $port
protected-mode yes
daemonize yes
pidfile "$RUN_DIR/redis-cluster-$port.pid"
logfile "$LOG_DIR/redis-cluster-$port.log"
dir "$CLUSTER_DIR/$port"
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
appendonly no
save ""
hash-max-listpack-value 128
EOF
        redis-server "$CLUSTER_DIR/$port/redis.conf" ||
            die "redis cluster: redis-server on $port failed (see $LOG_DIR/redis-cluster-$port.log)"
        wait_for "$WAIT_SECS" "redis-cluster-$port" cluster_ping "$port" ||
            die "redis cluster: $port did not answer PING within ${WAIT_SECS}s"
    done
    if ! redis-cli -h 127.0.0.1 -p "$REDIS_CLUSTER_PORT" CLUSTER INFO | grep -q '^cluster_slots_assigned:16384'; then
        log "redis cluster: creating (3 masters, no replicas)"
        redis-cli --cluster create "${CLUSTER_PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes \
            >>"$LOG_DIR/redis-cluster.log" 2>&1 ||
            { tail -n 20 "$LOG_DIR/redis-cluster.log" >&2 || true; die "redis cluster: create failed"; }
    fi
    wait_for "$WAIT_SECS" redis-cluster cluster_ok || die "redis cluster: cluster_state is not ok within ${WAIT_SECS}s"
    log "redis cluster: ready on ports ${CLUSTER_PORTS[*]}"
}

cluster_stop() {
    local port
    for port in "${CLUSTER_PORTS[@]}"; do
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" CONFIG GET dir 2>/dev/null | sed -n 2p)" = "$CLUSTER_DIR/$port" ]; then
            redis-cli -h 127.0.0.1 -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
        fi
        rm -f "$RUN_DIR/redis-cluster-$port.pid"
    done
    log "redis cluster: stopped"
}

cluster_status() {
    if cluster_ok; then
        echo "redis-cluster: running  127.0.0.1:${CLUSTER_PORTS[*]}  data $CLUSTER_DIR"
    else
        echo "redis-cluster: stopped  (ports ${CLUSTER_PORTS[*]})"; return 1
    fi
}

# ==============================================================================================
# PostgreSQL 15
# ==============================================================================================
# initdb refuses to run as root: as root the cluster runs as the `postgres` system user with
# its files under /var/tmp (reachable even when the repo lives under /root, mode 700);
# $STATE/pg is then a symlink to that directory. As a normal user it lives in $STATE/pg.
if is_root; then
    PG_BASE="/var/tmp/creditwatch-pg-$(root_hash)"
    PG_OWNER="postgres"
else
    PG_BASE="$STATE/pg"
    PG_OWNER="$(id -un)"
fi
PG_DATA="$PG_BASE/data"
PG_SOCK="$PG_BASE/sock"
PG_LOG="$PG_BASE/postgres.log"
# Unix socket paths are limited to 107 bytes: fall back to a short directory when needed.
if [ "$(printf '%s' "$PG_SOCK/.s.PGSQL.$PG_PORT" | wc -c)" -gt 100 ]; then
    PG_SOCK="/tmp/creditwatch-pg-$(root_hash)-$(id -u)"
fi

# pg_run CMD...: run a PostgreSQL command as the cluster owner, from a directory it can read.
pg_run() {
    if is_root; then (cd / && runuser -u postgres -- "$@")
    else (cd / && "$@")
    fi
}
pg_ready() { "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }
pg_psql() { pg_run "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"; }

pg_prepare_dirs() {
    if is_root; then
        id postgres >/dev/null 2>&1 || die "system user 'postgres' missing (is postgresql-15 installed? run ops/install.sh)"
        mkdir -p "$PG_BASE" "$PG_SOCK"
        chown postgres:postgres "$PG_BASE" "$PG_SOCK"
        chmod 0755 "$PG_BASE"
        chmod 0700 "$PG_SOCK"   # local connections are trusted: only the owner (and root) may use the socket
        ln -sfn "$PG_BASE" "$STATE/pg"
        cat >"$STATE/pg.README" <<EOF
PostgreSQL for this checkout runs as the 'postgres' system user (initdb refuses root).
Its data directory, socket directory and log live in $PG_BASE
(\$STATE/pg is a symlink to it). ops/servers.sh reset removes it.
EOF
        touch "$PG_LOG"; chown postgres:postgres "$PG_LOG"
        ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
    else
        mkdir -p "$PG_BASE" "$PG_SOCK"
        chmod 0700 "$PG_BASE" "$PG_SOCK"
        [ -L "$LOG_DIR/postgres.log" ] || ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
    fi
}

pg_write_config() {
    # Our settings live in an included file that is rewritten on each start.
    local conf="$PG_DATA/creditwatch.conf"
    pg_run tee "$conf" >/dev/null <<EOF
# Written by ops/servers.sh; regenerated on every start.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
unix_socket_permissions = 0700
max_connections = 100
shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 16MB
maintenance_work_mem = 128MB
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
fsync = on
synchronous_commit = on
full_page_writes = on
wal_compression = on
max_wal_size = 2GB
checkpoint_timeout = 10min
password_encryption = 'scram-sha-256'
log_min_duration_statement = 1000
# A slow statement's parameters are logged cut short: the engine binds arrays of 20 000 values
# (a whole batch), which logged in full wrote megabytes a statement.
log_parameter_max_length = 256
# Where PostgreSQL's time goes, by statement (benchmarks/ print the drain's heaviest).
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
log_line_prefix = '%m [%p] %q%u@%d '
timezone = 'UTC'
EOF
    pg_run tee "$PG_DATA/pg_hba.conf" >/dev/null <<EOF
# Written by ops/servers.sh. Local socket: trust (admin from this machine's scripts);
# TCP only on loopback, with a password.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
EOF
    grep -q "^include_if_exists = 'creditwatch.conf'" "$PG_DATA/postgresql.conf" ||
        echo "include_if_exists = 'creditwatch.conf'" | pg_run tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_start() {
    if pg_ready; then log "postgres: already running on 127.0.0.1:$PG_PORT"; pg_bootstrap; return 0; fi
    [ -x "$PG_BINDIR/initdb" ] || die "PostgreSQL 15 not installed in $PG_BINDIR (run ops/install.sh)"
    tcp_open "$PG_PORT" && die "postgres: port $PG_PORT is taken by something that is not answering as PostgreSQL"
    pg_prepare_dirs
    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
        log "postgres: initdb $PG_DATA (owner $PG_OWNER)"
        # Collation C: text keys compare as bytes (for UTF-8 the same order as C.UTF-8's code
        # points, without strcoll): ~9 % of PostgreSQL's CPU in a backfill.
        pg_run "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 --lc-collate=C \
            --auth-local=trust --auth-host=scram-sha-256 >"$STATE/log/initdb.log" 2>&1 ||
            { tail -n 20 "$STATE/log/initdb.log" >&2; die "initdb failed (log: $STATE/log/initdb.log)"; }
    fi
    pg_write_config
    # A stale postmaster.pid from a killed server would block start; pg_ctl handles a dead pid.
    log "postgres: starting on 127.0.0.1:$PG_PORT (data $PG_DATA, socket dir $PG_SOCK)"
    pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT_SECS" -s start ||
        { tail -n 20 "$PG_LOG" >&2 || true; die "PostgreSQL failed to start (log: $PG_LOG)"; }
    wait_for "$WAIT_SECS" postgres pg_ready ||
        { tail -n 20 "$PG_LOG" >&2 || true; die "PostgreSQL did not become ready within ${WAIT_SECS}s"; }
    log "postgres: ready (pg_isready)"
    pg_bootstrap
}

# Role creditwatch and databases creditwatch + creditwatch_test, idempotently.
pg_bootstrap() {
    [ -S "$PG_SOCK/.s.PGSQL.$PG_PORT" ] || { warn "postgres: socket $PG_SOCK not ours; skipping role/database setup"; return 0; }
    local user="$CREDITWATCH_PG_USER" pass="$CREDITWATCH_PG_PASSWORD" db
    pg_psql -d postgres -v u="$user" -v p="$pass" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'u', :'p')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'u', :'p') \gexec
SQL
    for db in "$CREDITWATCH_PG_DATABASE" "$CREDITWATCH_PG_TEST_DATABASE"; do
        pg_psql -d postgres -v u="$user" -v d="$db" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0 LC_COLLATE ''C'' LC_CTYPE ''C.UTF-8''', :'d', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'d') \gexec
SQL
        local collation
        collation=$(pg_psql -d postgres -tA -v d="$db" <<<"SELECT datcollate FROM pg_database WHERE datname = :'d'" || true)
        [ -z "$collation" ] || [ "$collation" = "C" ] ||
            warn "postgres: database '$db' collates by $collation, not C: its text keys compare slower (drop it to have it made again)"
        # Statement statistics, readable and resettable by the role (benchmarks/), where the
        # library is loaded (a server started before this setting has not).
        pg_psql -d "$db" -v u="$user" <<'SQL'
SET client_min_messages = warning;
SELECT 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
 WHERE current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%' \gexec
SELECT format('GRANT pg_read_all_stats TO %I', :'u') \gexec
SELECT format('GRANT EXECUTE ON FUNCTION pg_stat_statements_reset TO %I', :'u')
 WHERE EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') \gexec
SQL
    done
    log "postgres: role '$user' and databases '$CREDITWATCH_PG_DATABASE', '$CREDITWATCH_PG_TEST_DATABASE' present"
}

pg_stop() {
    if [ -f "$PG_DATA/postmaster.pid" ] || pg_ready; then
        if [ -f "$PG_DATA/postmaster.pid" ]; then
            log "postgres: stopping (pg_ctl stop -m fast)"
            pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop ||
                warn "pg_ctl stop failed (server may not have been running)"
        else
            warn "postgres: something answers on $PG_PORT but its data dir is not $PG_DATA; not stopping it"
        fi
    else
        log "postgres: not running"
    fi
}

pg_status() {
    if pg_ready; then
        local pid; pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || echo '?')"
        echo "postgres:   running  127.0.0.1:$PG_PORT  pid $pid  data $PG_DATA"
    else
        echo "postgres:   stopped  (port $PG_PORT)"; return 1
    fi
}

# ==============================================================================================
# Tansu (Kafka-compatible broker, in memory)
# ==============================================================================================
TANSU_BIN="$DEPS/bin/tansu"
TANSU_PID="$RUN_DIR/tansu.pid"
TANSU_URL="tcp://127.0.0.1:$KAFKA_PORT"

# tansu_pid_ok: the pid file names a live tansu process (guards against a recycled pid).
tansu_pid_ok() {
    pid_alive "$TANSU_PID" && tr '\0' ' ' <"/proc/$(cat "$TANSU_PID")/cmdline" 2>/dev/null | grep -q 'tansu broker'
}
tansu_list() { "$TANSU_BIN" topic list --broker "$TANSU_URL" 2>/dev/null; }
tansu_ready() { tcp_open "$KAFKA_PORT" && tansu_list >/dev/null; }
# tansu_topic_names: one topic name per line; fails only when the broker does not answer.
tansu_topic_names() {
    local json
    json="$(tansu_list)" || return 1
    { grep -o '"name":"[^"]*"' <<<"$json" || true; } | sed 's/^"name":"//; s/"$//'
}

# Topic names: `name:` lines of topics/*.yaml, else the EVENTS.md list; plus EXTRA_TOPICS.
wanted_topics() {
    local f found=0 n
    shopt -s nullglob
    for f in "$ROOT"/topics/*.yaml "$ROOT"/topics/*.yml; do
        n="$(awk '/^name:/ { sub(/^name:[ \t]*/, ""); sub(/[ \t]+#.*$/, ""); sub(/[ \t\r]+$/, "");
                              gsub(/^["\047]|["\047]$/, ""); print; exit }' "$f")"
        if [ -n "$n" ]; then echo "$n"; found=1; else warn "no top-level 'name:' in $f"; fi
    done
    shopt -u nullglob
    [ "$found" = 1 ] || printf '%s\n' "${FALLBACK_TOPICS[@]}"
    printf '%s\n' "${EXTRA_TOPICS[@]}"
}

tansu_create_topics() {
    local existing t created=0 total=0
    existing="$(tansu_topic_names)" || die "tansu topic list failed"
    while read -r t; do
        [ -n "$t" ] || continue
        total=$((total + 1))
        if grep -qxF "$t" <<<"$existing"; then continue; fi
        "$TANSU_BIN" topic create --broker "$TANSU_URL" --partitions "$TOPIC_PARTITIONS" "$t" >/dev/null 2>>"$LOG_DIR/tansu.log" ||
            die "tansu: creating topic $t failed (see $LOG_DIR/tansu.log)"
        created=$((created + 1))
    done < <(wanted_topics | sort -u)
    log "tansu: $total topics present ($created created, $TOPIC_PARTITIONS partitions each)"
}

tansu_start() {
    if tansu_ready; then
        log "tansu: already running on $TANSU_URL"
        tansu_create_topics
        return 0
    fi
    [ -x "$TANSU_BIN" ] || die "tansu not installed at $TANSU_BIN (run ops/install.sh)"
    tcp_open "$KAFKA_PORT" && die "tansu: port $KAFKA_PORT is taken by something else"
    if tansu_pid_ok; then
        warn "tansu: pid $(cat "$TANSU_PID") alive but not answering; restarting it"
        tansu_stop
    fi
    log "tansu: starting on $TANSU_URL (in-memory storage)"
    # Clear env vars that tansu would read in place of defaults; flags set what we need.
    (cd "$STATE" && exec env -u CLUSTER_ID -u LISTENER_URL -u ADVERTISED_LISTENER_URL -u STORAGE_ENGINE \
        -u SCHEMA_REGISTRY -u OTEL_EXPORTER_OTLP_ENDPOINT \
        nohup setsid "$TANSU_BIN" broker \
        --cluster-id creditwatch \
        --listener-url "$TANSU_URL" \
        --advertised-listener-url "$TANSU_URL" \
        --storage-engine memory://tansu/ \
        </dev/null >>"$LOG_DIR/tansu.log" 2>&1) &
    echo $! >"$TANSU_PID"
    sleep 0.2
    tansu_pid_ok || warn "tansu: pid $(cat "$TANSU_PID") is not the broker process (see $LOG_DIR/tansu.log)"
    if ! wait_for "$WAIT_SECS" tansu tansu_ready; then
        tail -n 20 "$LOG_DIR/tansu.log" >&2 || true
        die "tansu did not answer on $TANSU_URL within ${WAIT_SECS}s"
    fi
    log "tansu: ready (pid $(cat "$TANSU_PID"), topic list answers)"
    tansu_create_topics
}

tansu_stop() {
    if tansu_pid_ok; then
        local pid; pid="$(cat "$TANSU_PID")"
        log "tansu: stopping pid $pid"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_for 10 tansu-stop bash -c "! kill -0 $pid"; then
            warn "tansu: pid $pid did not exit on SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    elif tcp_open "$KAFKA_PORT"; then
        warn "tansu: something answers on $KAFKA_PORT but pid file $TANSU_PID names no live process; not stopping it"
    else
        log "tansu: not running"
    fi
    rm -f "$TANSU_PID"
}

tansu_status() {
    if tansu_ready; then
        local n; n="$(tansu_topic_names | wc -l)"
        echo "tansu:      running  $TANSU_URL  pid $(cat "$TANSU_PID" 2>/dev/null || echo '?')  topics $n"
    else
        echo "tansu:      stopped  (port $KAFKA_PORT)"; return 1
    fi
}

# ==============================================================================================
cmd_start() {
    redis_start
    cluster_start
    pg_start
    tansu_start
    log "all servers up: redis 127.0.0.1:$REDIS_PORT (TLS :$REDIS_TLS_PORT), postgres 127.0.0.1:$PG_PORT, kafka $CREDITWATCH_KAFKA_BROKERS (logs in $LOG_DIR)"
}
cmd_stop() { tansu_stop; pg_stop; cluster_stop; redis_stop; }
cmd_status() {
    local rc=0
    redis_status || rc=1
    cluster_status || rc=1
    pg_status || rc=1
    tansu_status || rc=1
    echo "logs:       $LOG_DIR"
    return "$rc"
}
cmd_reset() {
    cmd_stop
    log "deleting server state: $STATE${PG_BASE:+ and $PG_BASE}"
    if is_root && [ -d "$PG_BASE" ]; then rm -rf "$PG_BASE"; fi
    if [ -n "${PG_SOCK:-}" ] && [[ "$PG_SOCK" == /tmp/creditwatch-pg-* ]]; then rm -rf "$PG_SOCK"; fi
    rm -rf "$STATE"
    log "reset done; 'ops/servers.sh start' creates fresh servers"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    *) echo "usage: $0 start|stop|status|reset|restart" >&2; exit 2 ;;
esac
