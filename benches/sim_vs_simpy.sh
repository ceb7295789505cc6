#!/usr/bin/env bash
# Discrete-event speed, side by side: SimPy (Python, installed into a virtual environment
# under target/) and twin's sim module on the same periodic-sensor model (N devices report
# once a minute with 1 s jitter; each report is a packet over a 10 ms link; two events per
# report). Sizes: 10,000 devices for one simulated hour, and 1,000,000 devices (SimPy: a
# 5-minute horizon, which is enough to measure its rate; twin: the full hour). Prints events
# per second and the ratio; goal: twin at least 50x SimPy at both sizes. The 10,000-device
# figures are medians (3 SimPy runs, 9 twin runs: a twin run lasts under 0.1 s).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=target/bench-venv-simpy
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import simpy" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check simpy
fi

rate() { sed -n "s/^$1=//p"; }

echo "==> SimPy, 10,000 devices, 1 h (median of 3 runs)"
runs=()
for _ in 1 2 3; do
    out=$("$venv/bin/python" benches/peers/simpy_sensors.py 10000 3600); echo "$out"
    runs+=("$(echo "$out" | rate SIMPY_EVENTS_PER_SEC)")
done
simpy_10k=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
echo "==> SimPy, 1,000,000 devices, 5 min"
out=$("$venv/bin/python" benches/peers/simpy_sensors.py 1000000 300); echo "$out"
simpy_1m=$(echo "$out" | rate SIMPY_EVENTS_PER_SEC)

echo "==> twin (cargo run --release --example sim_scale)"
cargo build --release --example sim_scale
bin=${CARGO_TARGET_DIR:-target}/release/examples/sim_scale
out=$("$bin" 10000 3600 9); echo "$out"
twin_10k=$(echo "$out" | rate SIM_EVENTS_PER_SEC)
out=$("$bin" 1000000 3600); echo "$out"
twin_1m=$(echo "$out" | rate SIM_EVENTS_PER_SEC)

echo
echo "==> side by side (events per second, one core)"
printf '%-28s %14s %14s %8s\n' "model" "SimPy" "twin" "ratio"
printf '%-28s %14s %14s %7.0fx\n' "10,000 devices" "$simpy_10k" "$twin_10k" "$(echo "$twin_10k / $simpy_10k" | bc -l)"
printf '%-28s %14s %14s %7.0fx\n' "1,000,000 devices" "$simpy_1m" "$twin_1m" "$(echo "$twin_1m / $simpy_1m" | bc -l)"
echo
echo "criterion figures for the same model: cargo bench --bench sim"
