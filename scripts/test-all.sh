#!/usr/bin/env bash
# Runs every check of the workspace: formatting, one ndarray version, clippy, Rust unit,
# integration and doc tests, the C header drift check and C programs under sanitizers,
# and the Python tests in their own virtual environment. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
step() {
    echo
    echo "==> $*"
}
ok() {
    passed=$((passed + 1))
    echo "ok: $1"
}

step "toolchain components"
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
ok "toolchain"

step "test servers: Mosquitto (MQTT broker for tests/mqtt.rs, started by the test on loopback)"
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mosquitto >/dev/null
fi
ok "mosquitto"

step "rustfmt"
cargo fmt --all -- --check
ok "rustfmt"

step "one ndarray version in the dependency graph"
if cargo tree --workspace --target all -d --locked | grep -E '^ndarray v'; then
    echo "error: two ndarray versions in Cargo.lock; pin with cargo update -p ndarray@0.17.x --precise 0.16.1" >&2
    exit 1
fi
n=$(grep -c '^name = "ndarray"$' Cargo.lock)
[ "$n" -eq 1 ] || { echo "error: Cargo.lock lists $n ndarray packages" >&2; exit 1; }
ok "ndarray"

step "clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
ok "clippy"

step "rustdoc -D warnings (broken intra-doc links)"
RUSTDOCFLAGS="-D warnings" cargo doc -p twin --no-deps --locked
ok "rustdoc"

step "Rust unit, integration and doc tests"
cargo test --workspace --locked
ok "cargo test"

step "C ABI: header drift, C programs under ASan and UBSan"
bash scripts/check-c.sh
ok "C"

step "miri: the FFI crate's tests under the Rust interpreter (undefined behaviour checks)"
# Installs the nightly toolchain with miri when missing (from static.rust-lang.org).
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-disable-isolation -Zmiri-deterministic-floats" cargo +nightly miri test -p twin-ffi --locked
ok "miri"

step "ThreadSanitizer: producers feeding a fleet through bounded channels (twin/tests/stress.rs)"
bash scripts/tsan.sh
ok "tsan"

step "fuzz: every cargo-fuzz target, 5,000 executions from the committed corpus"
bash scripts/fuzz.sh 5000
ok "fuzz"

step "Python: pytest in target/py-venv"
bash scripts/check-py.sh
ok "Python"

echo
echo "checks: ${passed} passed, 0 failed"
