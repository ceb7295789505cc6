#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a fixed number of executions, starting from the
# committed seed corpus (fuzz/corpus/<target>, copied to a scratch directory so the
# checkout is not modified). Exits non-zero on any crash, panic, hang, or an input that
# allocates beyond the RSS limit; the failing input is left in fuzz/artifacts/<target>/.
# Targets: schema_json, documents, codecs, and c_api (sequences of C API calls on a pool of
# handles; it links twin-ffi's source as the rlib fuzz/ffi, see fuzz/ffi/Cargo.toml).
#
#   bash scripts/fuzz.sh            # 5,000 executions per target (what the test command runs)
#   bash scripts/fuzz.sh 2000000    # a longer run
#   FUZZ_KEEP=dir bash scripts/fuzz.sh 2000000   # keep the grown corpora under dir
#
# Installs the nightly toolchain and cargo-fuzz when they are missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${1:-5000}
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

scratch="${FUZZ_KEEP:-$(mktemp -d)}"
[ -n "${FUZZ_KEEP:-}" ] || trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build -O
for target in $(cargo +nightly fuzz list); do
    mkdir -p "$scratch/$target"
    cp fuzz/corpus/"$target"/* "$scratch/$target/"
    echo "==> fuzz $target: $runs executions from $(ls fuzz/corpus/"$target" | wc -l) seeds"
    # The c_api target writes detector files into a scratch directory under TMPDIR; point
    # it into this run's scratch so nothing is left in /tmp.
    mkdir -p "$scratch/tmp"
    TMPDIR="$scratch/tmp" cargo +nightly fuzz run -O "$target" "$scratch/$target" -- \
        -runs="$runs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 |
        grep -E '^(stat::number_of_executed_units|Done|==[0-9]+==|SUMMARY|thread .* panicked)' || true
    # cargo fuzz run exits non-zero on a finding; with pipefail that fails the script.
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
        echo "error: fuzz target $target failed; see fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
echo "fuzz: every target ran $runs executions without a finding"
