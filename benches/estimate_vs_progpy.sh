#!/usr/bin/env bash
# Battery prognosis, side by side in one run: NASA ProgPy's BatteryCircuit against twin's
# (same published equations and parameters, same settings):
#   - end of discharge (EOD) at a constant 2 A, deterministic and as a 100-sample
#     Monte Carlo prediction from an unscented Kalman filter's estimate;
#   - time per UKF update (predict + update) and per 100-sample Monte Carlo prediction.
# ProgPy is installed from PyPI into target/bench-venv. twin runs
# `cargo run --release --example battery_eod`; pass --criterion to also run
# `cargo bench --bench estimate`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import progpy, numpy" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet progpy numpy
fi

echo "==> ProgPy (benches/peers/progpy_battery.py)"
progpy_out=$("$venv/bin/python" benches/peers/progpy_battery.py)
echo "$progpy_out"

echo "==> twin (cargo run --release --example battery_eod)"
twin_out=$(cargo run --quiet --release --example battery_eod)
echo "$twin_out"

if [ "${1:-}" = "--criterion" ]; then
    echo "==> twin criterion (cargo bench --bench estimate)"
    cargo bench --bench estimate -- --warm-up-time 1 --measurement-time 3
fi

PROGPY_JSON=$(echo "$progpy_out" | tail -n 1) TWIN_JSON=$(echo "$twin_out" | tail -n 1) \
    "$venv/bin/python" - <<'PY'
import json, os
p = json.loads(os.environ["PROGPY_JSON"])
t = json.loads(os.environ["TWIN_JSON"])
print()
print(f"{'':34} {p['tool']:>16} {t['tool']:>16} {'ratio':>10}")
def row(name, key, fmt, ratio=None):
    a, b = p[key], t[key]
    r = "" if ratio is None else ratio(a, b)
    print(f"{name:34} {fmt.format(a):>16} {fmt.format(b):>16} {r:>10}")
speed = lambda a, b: f"{a / b:.0f}x"
diff = lambda a, b: f"{100 * (b - a) / a:+.2f}%"
row("deterministic EOD from full (s)", "eod_deterministic_s", "{:.1f}", diff)
row("UKF update (us)", "ukf_update_us", "{:.2f}", speed)
row("UKF qb after 600 s (C)", "ukf_qb_after_600s", "{:.3f}", diff)
row("Monte Carlo, 100 samples (s)", "mc100_s", "{:.4f}", speed)
row("EOD from t=600 s, mean (s)", "eod_mean_s", "{:.2f}", diff)
row("EOD 5th percentile (s)", "eod_p05_s", "{:.1f}", diff)
row("EOD median (s)", "eod_p50_s", "{:.1f}", diff)
row("EOD 95th percentile (s)", "eod_p95_s", "{:.1f}", diff)
PY
