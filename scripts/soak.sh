#!/usr/bin/env bash
# A long soak in release: one twin with every bound on takes HOURS simulated hours of
# conveyor data (8 signals at 10 Hz) through a bounded channel; the test asserts that live
# heap bytes do not grow across the second half and that every counter reconciles, and
# prints the live heap at each checkpoint and the peak.
#
#   bash scripts/soak.sh          # a simulated week (168 hours)
#   bash scripts/soak.sh 720      # a simulated month
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hours="${1:-168}"
if ! [[ "$hours" =~ ^[0-9]+$ ]] || [ "$hours" -lt 2 ]; then
    echo "usage: $0 [hours >= 2]" >&2
    exit 2
fi
SOAK_HOURS="$hours" cargo test --release --locked -p twin-suite --test soak -- --nocapture
