"""river's HalfSpaceTrees on the series of benches/detect.rs, for a side-by-side speed figure.

Same series (sine of period 200, xorshift64 uniform noise, a spike every 997 samples), same
forest shape (10 trees, height 8, windows of 250, size limit 0.1). river expects features
in [0, 1], so the series is min-max scaled first (outside the timing; it does not change
the work). Each sample is scored, then learned, as twin's detector does in one update.
Prints samples per second, the median of several repeats.
"""

import math
import statistics
import sys
import time

from river import anomaly

SAMPLES = 100_000
REPEATS = 5
TIMED = 20_000  # samples per timed repeat (river is slow; a subset keeps the run short)


def series():
    mask = (1 << 64) - 1
    state = 0x2545F4914F6CDD1D
    out = []
    for i in range(SAMPLES):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        u = (state >> 11) / float(1 << 53) - 0.5
        spike = 5.0 if i % 997 == 996 else 0.0
        out.append(math.sin(2.0 * math.pi * i / 200.0) + 0.3 * u + spike)
    return out


def main():
    xs = series()
    lo, hi = min(xs), max(xs)
    scaled = [{"x": (v - lo) / (hi - lo)} for v in xs]
    rates = []
    for r in range(REPEATS):
        hst = anomaly.HalfSpaceTrees(
            n_trees=10, height=8, window_size=250, limits={"x": (0.0, 1.0)}, seed=42
        )
        # Warm the model past its first window so every timed sample is scored for real.
        for x in scaled[:1_000]:
            hst.score_one(x)
            hst.learn_one(x)
        chunk = scaled[1_000 : 1_000 + TIMED]
        t0 = time.perf_counter()
        for x in chunk:
            hst.score_one(x)
            hst.learn_one(x)
        rates.append(len(chunk) / (time.perf_counter() - t0))
    import river

    print(
        f"river {river.__version__} HalfSpaceTrees (10 trees, height 8, window 250): "
        f"{statistics.median(rates):,.0f} samples/s (median of {REPEATS} x {TIMED:,} samples; "
        f"Python {sys.version.split()[0]})"
    )
    print(f"RIVER_SAMPLES_PER_SEC={statistics.median(rates):.0f}")


if __name__ == "__main__":
    main()
