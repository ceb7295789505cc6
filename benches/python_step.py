"""Throughput of Twin.step over the Python connections (twin.Twin.step).

The same stream (8 telemetry signals, time-major) reaches a twin without a monitor
through each connection, polled in steps of ``--chunk`` samples:

- ``channel``: a ``twin.channel`` twin end, pre-filled by ``publish_batch`` (run natively);
- ``csv_replay``: a ``twin.CsvReplay`` of the stream (run natively);
- ``python_object``: a Python class whose ``poll`` returns numpy column slices (the
  protocol path: one Python call per step, columns copied into the twin's batch).

and, separately, ``sim_network``: ``SimNetwork.advance_to`` with conveyor drives sampled
every second (a Python call per entity event: now, advance, sense), reported as scans
(one sense of one device, 5 samples) per second.

The figure is the median of several repeats, each on fresh objects. Run after a release
build of the bindings:

    bash scripts/check-py.sh            # builds twin-py in release into target/py-venv
    target/py-venv/bin/python benches/python_step.py [--samples N] [--chunk C] [--repeats R]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import twin

SIGNALS = 8


def schema() -> twin.Schema:
    return twin.Schema(
        "bench",
        telemetry=[{"name": f"s{i}", "unit": "1", "min": -1e6, "max": 1e6} for i in range(SIGNALS)],
    )


def stream(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = np.arange(n)
    times = (k // SIGNALS).astype(np.int64) * 1_000_000
    signals = (k % SIGNALS).astype(np.uint32)
    values = np.sin(k * 0.001)
    return times, signals, values


class Columns:
    """A Python connection over numpy columns."""

    def __init__(self, t: np.ndarray, s: np.ndarray, v: np.ndarray) -> None:
        self.t, self.s, self.v = t, s, v
        self.i = 0

    def poll(self, max_samples: int):
        i, j = self.i, min(self.i + max_samples, len(self.t))
        self.i = j
        return (self.t[i:j], self.s[i:j], self.v[i:j])

    def send(self, command: twin.Command) -> None:
        pass


def drain(t: twin.Twin, conn, chunk: int, n: int) -> float:
    start = time.perf_counter()
    got = 0
    while got < n:
        got += t.step(conn, chunk).accepted
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2_000_000)
    ap.add_argument("--chunk", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--sim-seconds", type=float, default=2_000.0)
    a = ap.parse_args()
    n, sch = a.samples, schema()
    t, s, v = stream(n)
    text = "time_ns,signal,value\n" + "".join(
        f"{ti},s{si},{vi!r}\n" for ti, si, vi in zip(t.tolist(), s.tolist(), v.tolist())
    )

    def channel_case() -> float:
        dev, conn = twin.channel(n, "reject")
        dev.publish_batch(t, s, v)
        return drain(twin.Twin(sch, monitor=False), conn, a.chunk, n)

    def csv_case() -> float:
        return drain(twin.Twin(sch, monitor=False), twin.CsvReplay(text, sch, text=True), a.chunk, n)

    def python_case() -> float:
        return drain(twin.Twin(sch, monitor=False), Columns(t, s, v), a.chunk, n)

    print(f"{n} samples, {SIGNALS} signals, steps of {a.chunk}, median of {a.repeats}")
    for name, case in [("channel", channel_case), ("csv_replay", csv_case), ("python_object", python_case)]:
        secs = statistics.median(case() for _ in range(a.repeats))
        print(f"{name:>14}: {n / secs / 1e6:7.2f} M samples/s  ({secs * 1e3:.1f} ms)")

    def sim_case() -> float:
        net = twin.SimNetwork({"latency_s": 0.01}, seed=1)
        for d in range(a.devices):
            net.add_device(twin.ConveyorDrive(seed=d), 1.0)
        tw = twin.Twin(twin.Schema.conveyor(), monitor=False)
        start = time.perf_counter()
        for k in range(1, int(a.sim_seconds / 100) + 1):
            net.advance_to(100.0 * k)
            tw.step(net, 1_000_000)
        return time.perf_counter() - start

    scans = a.devices * (int(a.sim_seconds) + 1)
    secs = statistics.median(sim_case() for _ in range(a.repeats))
    print(
        f"{'sim_network':>14}: {scans / secs / 1e3:7.1f} k scans/s  "
        f"({a.devices} conveyor drives x {a.sim_seconds:.0f} s at 1 Hz, {secs * 1e3:.1f} ms)"
    )


if __name__ == "__main__":
    main()
