#!/usr/bin/env bash
# The C ABI check: the committed header matches what the pinned cbindgen generates, and the
# C example, the C tests and the C++ compile test build with strict warnings and run clean
# under AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer, and under
# valgrind when it is installed. Exits non-zero on any failure. Runnable from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CBINDGEN_VERSION=0.29.4
REGEN="cbindgen --config twin-ffi/cbindgen.toml --crate twin-ffi --output include/twin.h"

# 1. The pinned cbindgen.
cbindgen="${CARGO_HOME:-$HOME/.cargo}/bin/cbindgen"
if ! [ -x "$cbindgen" ] || [ "$("$cbindgen" --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]; then
    echo "installing cbindgen $CBINDGEN_VERSION"
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked
fi
"$cbindgen" --version

# 2. Header drift.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$cbindgen" --quiet --config twin-ffi/cbindgen.toml --crate twin-ffi --output "$tmp/twin.h"
if ! diff -u include/twin.h "$tmp/twin.h"; then
    echo "error: include/twin.h differs from what cbindgen $CBINDGEN_VERSION generates." >&2
    echo "Regenerate it from the repository root with: $REGEN" >&2
    exit 1
fi
echo "ok: include/twin.h matches cbindgen $CBINDGEN_VERSION"

# 3. The library.
cargo build -p twin-ffi --locked
lib="${CARGO_TARGET_DIR:-target}/debug/libtwin.a"
libs=(-lpthread -ldl -lm)
out="${CARGO_TARGET_DIR:-target}/c"
mkdir -p "$out"

# LeakSanitizer cannot run under ptrace (some sandboxes, debuggers); fall back to ASan
# without leak checks there, and say so.
asan_options="detect_leaks=1:abort_on_error=0:halt_on_error=1"
printf 'int main(void) { return 0; }\n' >"$tmp/probe.c"
gcc -fsanitize=address "$tmp/probe.c" -o "$tmp/probe"
if ! ASAN_OPTIONS="detect_leaks=1" "$tmp/probe" >"$tmp/probe.log" 2>&1; then
    echo "note: LeakSanitizer does not work here ($(head -n 1 "$tmp/probe.log")); running without leak checks" >&2
    asan_options="detect_leaks=0:halt_on_error=1"
fi
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# tests/c/test_bad_input.c reads the bad-input matrix at run time.
export TWIN_BAD_INPUT_TSV="$PWD/tests/bad_input.tsv"

have_valgrind=0
if command -v valgrind >/dev/null 2>&1; then
    have_valgrind=1
else
    echo "note: valgrind is not installed; skipping the valgrind runs" >&2
fi

cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude)
cxxflags=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -g -Iinclude)
sanitize=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)

passed=0
failed=0
# run NAME COMPILER FLAGS... -- SOURCE: build with sanitizers and run; then build plain and
# run under valgrind. The program passes if every build and run does.
run() {
    local name="$1" compiler="$2" src="$3"
    shift 3
    echo "==> $name ($src)"
    if "$compiler" "$@" "${sanitize[@]}" "$src" "$lib" "${libs[@]}" -o "$out/$name" &&
        ASAN_OPTIONS="$asan_options" "$out/$name"; then
        if [ "$have_valgrind" = 0 ] || {
            "$compiler" "$@" "$src" "$lib" "${libs[@]}" -o "$out/$name-plain" &&
                valgrind --quiet --error-exitcode=99 --leak-check=full \
                    --errors-for-leak-kinds=definite,indirect "$out/$name-plain" >/dev/null
        }; then
            passed=$((passed + 1))
            echo "ok: $name"
            return
        fi
    fi
    failed=$((failed + 1))
    echo "FAILED: $name" >&2
}

run quickstart gcc examples/c/quickstart.c "${cflags[@]}"
run plc_loop gcc examples/c/plc_loop.c "${cflags[@]}"
for src in tests/c/*.c; do
    run "$(basename "$src" .c)" gcc "$src" "${cflags[@]}"
done
run compile_test g++ tests/c/compile_test.cpp "${cxxflags[@]}"

# The installed build products: headers, both libraries and the pkg-config file, used the
# way the example's header comment tells a user to.
echo "==> pkg-config (scripts/install-c.sh, examples/c/plc_loop.c against libtwin.so)"
if TWIN_PROFILE=debug bash scripts/install-c.sh "$tmp/prefix" &&
    [ -f "$tmp/prefix/lib/libtwin.a" ] &&
    pc_flags="$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs twin)" &&
    # shellcheck disable=SC2086 # word splitting of the pkg-config flags is intended
    gcc -std=c11 -Wall -Wextra -Wpedantic -Werror examples/c/plc_loop.c $pc_flags -o "$out/plc_loop-pc" &&
    ldd "$out/plc_loop-pc" | grep -q "$tmp/prefix/lib/libtwin.so" &&
    "$out/plc_loop-pc" >/dev/null; then
    passed=$((passed + 1))
    echo "ok: pkg-config"
else
    failed=$((failed + 1))
    echo "FAILED: pkg-config" >&2
fi

echo "c: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
