#!/usr/bin/env bash
# Build the Python bindings (twin-py) as an abi3 wheel, install it into a private venv and
# run the Python tests.
#
#   bash scripts/check-py.sh                 # release build (what benches/python_ingest.py wants)
#   TWIN_PY_PROFILE=debug bash scripts/check-py.sh   # faster build, same tests
#
# The venv lives at target/py-venv (made with the machine's python3 if missing). The wheel
# is installed rather than `maturin develop`ed, so no built library lands in the source tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=target/py-venv
wheels=target/py-wheels
profile=${TWIN_PY_PROFILE:-release}

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'maturin>=1.9.4,<2' pytest numpy asyncua scikit-learn pandas matplotlib 'dask[distributed]' tqdm mypy

case "$profile" in
    release) profile_flag=(--release) ;;
    debug) profile_flag=() ;;
    *) echo "TWIN_PY_PROFILE must be release or debug, not $profile" >&2; exit 2 ;;
esac

rm -rf "$wheels"
# --compatibility linux: a wheel for this machine; no manylinux audit needed to test it.
"$venv/bin/maturin" build -q "${profile_flag[@]}" --compatibility linux \
    -m twin-py/Cargo.toml -i "$venv/bin/python" -o "$wheels"
shopt -s nullglob
built=("$wheels"/twin-*.whl)
if [[ ${#built[@]} -ne 1 ]]; then
    echo "expected one wheel in $wheels, found ${#built[@]}" >&2
    exit 1
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "${built[0]}"

# The stubs against the built module: mypy's stubtest (the allowlist names, with reasons,
# what it reports on purpose).
MYPY_CACHE_DIR=target/mypy-cache "$venv/bin/python" -m mypy.stubtest twin._twin \
    --allowlist twin-py/stubtest-allowlist.txt

# Run from the repo root with the installed package (not the source tree) on the path.
"$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider
