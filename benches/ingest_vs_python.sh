#!/usr/bin/env bash
# Batch ingest, Rust and Python side by side in one run: the criterion benchmark of
# `Twin::ingest_batch` and the same stream through the Python bindings (release wheel).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/check-py.sh >/dev/null   # builds and installs the release wheel into target/py-venv
echo "== Rust: cargo bench --bench ingest"
cargo bench --bench ingest -- --warm-up-time 2 --measurement-time 8 2>&1 | grep -E '^ingest/|time:|thrpt:'
echo "== Python: benches/python_ingest.py"
target/py-venv/bin/python benches/python_ingest.py --repeats 7
