#!/usr/bin/env bash
# NASA C-MAPSS FD001, side by side in one run: scikit-learn (random forest, histogram
# gradient boosting, ridge) on the same window features and protocol as twin, then twin's
# `cmapss` example (boosted trees, ridge, similarity, exponential degradation, ensemble,
# each with a conformal 90% interval).
#
# Usage: bash benches/rul_vs_sklearn.sh   (creates target/bench-venv on first use)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check scikit-learn numpy pandas

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== scikit-learn $("$venv/bin/python" -c 'import sklearn; print(sklearn.__version__)')"
"$venv/bin/python" benches/peers/rul_sklearn.py
echo
echo "== scikit-learn, classic 30-cycle window"
"$venv/bin/python" benches/peers/rul_sklearn.py --window 30 --recent 0
echo
echo "== twin (cargo run --release --example cmapss)"
cargo run --release --quiet --example cmapss
