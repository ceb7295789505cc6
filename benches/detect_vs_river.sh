#!/usr/bin/env bash
# Streaming detector speed, side by side: river's HalfSpaceTrees (Python, installed into a
# virtual environment at target/bench-venv) and twin's HalfSpaceTrees and default ensemble
# (criterion, `cargo bench --bench detect`) on the same generated series with the same
# forest shape. Prints both figures and their ratio; goal: twin at least 100x river.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import river, numpy" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check river numpy
fi

echo "==> river (Python)"
river_out=$("$venv/bin/python" benches/peers/detect_river.py)
echo "$river_out" | grep -v '^RIVER_SAMPLES_PER_SEC='
river_rate=$(echo "$river_out" | sed -n 's/^RIVER_SAMPLES_PER_SEC=//p')

echo "==> twin (cargo bench --bench detect)"
log=target/detect-bench.log
cargo bench --bench detect -- --warm-up-time 2 --measurement-time 8 2>&1 | tee "$log"

# The middle figure of criterion's "thrpt: [low mid high]" line after each benchmark name,
# converted to elements per second.
rate_of() {
    awk -v name="$1" '
        index($0, name) { found = 1 }
        found && /thrpt:/ {
            gsub(/[\[\]]/, "")
            for (i = 1; i <= NF; i++) if ($i == "thrpt:") { v = $(i + 3); u = $(i + 4) }
            m = 1
            if (u ~ /^Kelem/) m = 1e3
            if (u ~ /^Melem/) m = 1e6
            if (u ~ /^Gelem/) m = 1e9
            printf "%.0f\n", v * m
            exit
        }' "$log"
}
hst=$(rate_of "detect/hst_10_trees_height_8_window_250")
ens=$(rate_of "detect/ensemble_default")

echo
echo "==> side by side (samples per second, one core)"
printf '%-52s %14s %10s\n' "detector" "samples/s" "vs river"
printf '%-52s %14s %10s\n' "river HalfSpaceTrees (10 trees, height 8, window 250)" "$river_rate" "1x"
for row in "twin HalfSpaceTrees (10 trees, height 8, window 250):$hst" "twin default ensemble (EWMA + robust z + HST):$ens"; do
    name=${row%%:*}
    rate=${row##*:}
    ratio=$(awk -v a="$rate" -v b="$river_rate" 'BEGIN { printf "%.0f", a / b }')
    printf '%-52s %14s %9sx\n' "$name" "$rate" "$ratio"
done
