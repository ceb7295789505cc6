#!/usr/bin/env bash
# Fleet ingest on Dask, 1 worker against 2 workers, client-pushed and worker-local data, in
# one run (benches/dask_fleet.py), with
# the release wheel. Builds and installs it into target/py-venv (made if missing) through
# scripts/check-py.sh unless SKIP_BUILD=1 says the installed wheel is current.
#
#   bash benches/dask_fleet.sh [--twins N] [--steps S] [--batches B] [--repeats R] [--paths client,local]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    bash scripts/check-py.sh >/dev/null   # release wheel + the Python tests
fi
target/py-venv/bin/python benches/dask_fleet.py "$@"
