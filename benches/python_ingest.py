"""Batch-ingest throughput of the Python bindings (twin.Twin.ingest_batch).

Eight telemetry signals, sampled together (time-major), through a twin with the EWMA
monitor. Each case ingests the same stream into a fresh twin; the figure is the median of
several repeats. Run after a release build of the bindings:

    bash scripts/check-py.sh            # builds twin-py in release into target/py-venv
    target/py-venv/bin/python benches/python_ingest.py [--samples N] [--repeats R]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import twin

SIGNALS = 8
S = 1_000_000_000


def schema() -> twin.Schema:
    return twin.Schema(
        "bench",
        telemetry=[{"name": f"s{i}", "unit": "1", "min": -1e6, "max": 1e6, "alarm_high": 1e5} for i in range(SIGNALS)],
    )


def stream(n: int, seed: int = 1):
    """n samples: n // SIGNALS time steps of all SIGNALS signals, as numpy columns."""
    steps = n // SIGNALS
    times = np.repeat(np.arange(steps, dtype=np.int64) * S // 10, SIGNALS)
    signals = np.tile(np.arange(SIGNALS, dtype=np.uint32), steps)
    values = np.random.default_rng(seed).normal(50.0, 5.0, steps * SIGNALS)
    return times, signals, values


def run(sch, cols, chunk: int, repeats: int, monitor: bool = True) -> float:
    """Median seconds to ingest all of `cols` in batches of `chunk` samples."""
    times, signals, values = cols
    n = len(times)
    bounds = list(range(0, n, chunk)) + [n]
    pieces = [(times[a:b], signals[a:b], values[a:b]) for a, b in zip(bounds, bounds[1:])]
    out = []
    for _ in range(repeats):
        t = twin.Twin(sch, monitor=monitor)
        start = time.perf_counter()
        for p in pieces:
            t.ingest_batch(*p)
        out.append(time.perf_counter() - start)
        c = t.counters
        assert c["accepted"] == n and c["rejected"] == 0, c
    return statistics.median(out)


def run_single(sch, cols, n: int, repeats: int) -> float:
    """Median seconds to ingest the first n samples one call each (for contrast)."""
    times, signals, values = (c[:n].tolist() for c in cols)
    out = []
    for _ in range(repeats):
        t = twin.Twin(sch)
        ingest = t.ingest
        start = time.perf_counter()
        for k in range(n):
            ingest(times[k], signals[k], values[k])
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def report(label: str, n: int, secs: float) -> None:
    print(f"{label:<44} {n / secs:>14,.0f} samples/s {secs / n * 1e9:>9.1f} ns/sample")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=2_000_000, help="samples per run (all signals)")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    n = args.samples - args.samples % SIGNALS
    sch = schema()
    cols = stream(n)
    print(f"twin {twin.__version__}: {SIGNALS} signals x {n // SIGNALS:,} samples, median of {args.repeats}")
    report(f"one batch of {n:,}, monitor", n, run(sch, cols, n, args.repeats))
    report(f"one batch of {n:,}, no monitor", n, run(sch, cols, n, args.repeats, monitor=False))
    for chunk in (65_536, 4_096, 256, 16):
        m = min(n, chunk * 2_000)
        part = tuple(c[:m] for c in cols)
        report(f"batches of {chunk:,}, monitor", m, run(sch, part, chunk, args.repeats))
    # Converted input: int32 times would wrap here, so convert values only (float32).
    conv = (cols[0], cols[1].astype(np.int64), cols[2].astype(np.float32))
    report("one batch, int64 ids + float32 values (copied)", n, run(sch, conv, n, args.repeats))
    m = min(n, 200_000)
    report("single-sample ingest() calls, monitor", m, run_single(sch, cols, m, max(3, args.repeats // 2)))


if __name__ == "__main__":
    main()
