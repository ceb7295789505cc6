#!/usr/bin/env bash
# Runs the concurrency tests (twin/tests/stress.rs: producers feeding a fleet through bounded
# channels under every overflow policy; the fleet's threaded batches) under
# ThreadSanitizer. Needs the nightly toolchain with rust-src (installed when missing);
# the standard library is rebuilt with the sanitizer into target/tsan.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal --component rust-src
elif ! rustup +nightly component list --installed | grep -q '^rust-src'; then
    rustup +nightly component add rust-src
fi
host="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Zsanitizer=thread"
export TSAN_OPTIONS="halt_on_error=1"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/tsan" \
    cargo +nightly test -Zbuild-std --target "$host" -p twin --test stress
