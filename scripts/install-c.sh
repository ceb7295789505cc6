#!/usr/bin/env bash
# Build libtwin (release) and install the C build products under PREFIX:
#   PREFIX/include/twin.h
#   PREFIX/lib/libtwin.a, PREFIX/lib/libtwin.so
#   PREFIX/lib/pkgconfig/twin.pc
#
#   bash scripts/install-c.sh "$HOME/.local"
#   export PKG_CONFIG_PATH="$HOME/.local/lib/pkgconfig"
#   cc -std=c11 examples/c/plc_loop.c $(pkg-config --cflags --libs twin) -o plc_loop
#
# The shared library is found at run time through the rpath that `pkg-config --libs`
# adds; for a fully static program link PREFIX/lib/libtwin.a with `pkg-config --static`'s
# private libraries (-lpthread -ldl -lm). TWIN_PROFILE=debug installs a debug build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
mkdir -p "$1"
prefix="$(cd "$1" && pwd)"
profile=${TWIN_PROFILE:-release}
case "$profile" in
    release) cargo build --release -p twin-ffi --locked ;;
    debug) cargo build -p twin-ffi --locked ;;
    *) echo "TWIN_PROFILE must be release or debug, not $profile" >&2; exit 2 ;;
esac
built="${CARGO_TARGET_DIR:-target}/$profile"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' twin-ffi/Cargo.toml | head -n 1)"
if [[ -z "$version" ]]; then
    version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
fi

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/twin.h "$prefix/include/twin.h"
install -m 644 "$built/libtwin.a" "$prefix/lib/libtwin.a"
install -m 755 "$built/libtwin.so" "$prefix/lib/libtwin.so"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" twin-ffi/twin.pc.in \
    >"$prefix/lib/pkgconfig/twin.pc"
echo "installed libtwin $version into $prefix"
