"""Fleet ingest throughput on Dask: one worker against two, in one run.

A fleet of conveyor twins (each with the EWMA monitor and the conveyor drive's digital
model, so the Rust work per sample dominates moving the samples) is fed a stream of fleet
batches through :class:`twin.dask.DaskFleet`, once on a LocalCluster of one worker process
and once on a LocalCluster of two, alternating repetitions so that noise on the shared
machine hits both alike. Each worker runs one thread and each partition's fleet one thread.
The same stream through one :class:`twin.Fleet` in this process is timed as the reference,
and the Dask runs are checked to end in the very same fleet snapshot.

Run with the release wheel (``bash benches/dask_fleet.sh`` builds and installs it):

    target/py-venv/bin/python benches/dask_fleet.py [--twins N] [--steps S] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import twin
from twin.dask import DaskFleet

S = 1_000_000_000


#: Normal operating point and noise of the conveyor schema's telemetry (belt_speed m/s,
#: vibration mm/s, motor_temp degC, load), in signal-id order.
MEAN = np.array([1.5, 2.0, 50.0, 0.8])
NOISE = np.array([0.05, 0.2, 1.0, 0.05])


def stream(twins: int, steps: int, batches: int, seed: int = 1):
    """`batches` fleet batches covering `steps` time steps at 10 Hz: at each step every
    twin reports the four telemetry signals of the conveyor schema (time-major, twins
    interleaved as a gateway would send them)."""
    n_sig = len(MEAN)
    rng = np.random.default_rng(seed)
    per = steps // batches
    out = []
    for b in range(batches):
        step = np.arange(b * per, (b + 1) * per, dtype=np.int64)
        tw = np.tile(np.repeat(np.arange(twins, dtype=np.uint64), n_sig), per)
        times = np.repeat(step * S // 10, twins * n_sig)
        sig = np.tile(np.arange(n_sig, dtype=np.uint32), per * twins)
        vals = MEAN[sig] + rng.normal(0.0, 1.0, len(sig)) * NOISE[sig]
        out.append((tw, times, sig, vals))
    return out


def build(fleet, schema, twins: int, model: bool):
    proto = twin.Twin(schema, model=twin.ConveyorModel() if model else None)
    if isinstance(fleet, DaskFleet):
        fleet.insert_many((i, proto) for i in range(twins))
    else:
        for i in range(twins):
            fleet.insert(i, proto)
    return fleet


def feed(fleet, batches) -> tuple[float, int, int]:
    """Seconds to ingest every batch and drain the insights; samples accepted; insights."""
    start = time.perf_counter()
    accepted = 0
    for b in batches:
        accepted += fleet.ingest_batch(*b).accepted
    ins = fleet.insight_columns(drain=True)
    return time.perf_counter() - start, accepted, len(ins["time"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--twins", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=400, help="time steps per twin (10 Hz)")
    ap.add_argument("--batches", type=int, default=4, help="fleet batches the steps are sent in")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-model", action="store_true", help="monitor only, no digital model")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    schema = twin.Schema.conveyor()
    batches = stream(args.twins, args.steps, args.batches)
    n = sum(len(b[0]) for b in batches)
    model = not args.no_model
    print(f"fleet: {args.twins} conveyor twins (monitor{' + model' if model else ''}), "
          f"{n} samples in {args.batches} batches; cpus: {os.cpu_count()}")

    # Reference: one Fleet in this process, on one thread and (the ceiling this machine
    # offers two-way parallel work right now) on two.
    local_times = {1: [], 2: []}
    ref = None
    for _ in range(args.repeats):
        for th in (1, 2):
            f = build(twin.Fleet(threads=th), schema, args.twins, model)
            dt, acc, ins = feed(f, batches)
            local_times[th].append(dt)
            assert acc == n, (acc, n)
            assert ref is None or f.snapshot() == ref
            ref = f.snapshot()

    clusters = {}
    for w in (1, 2):
        cluster = LocalCluster(n_workers=w, processes=True, threads_per_worker=1,
                               host="127.0.0.1", dashboard_address=None)
        clusters[w] = (cluster, Client(cluster))
    times = {1: [], 2: []}
    cpu = {1: [], 2: []}  # (client CPU s, busiest worker's CPU s, all workers' CPU s)
    try:
        for _ in range(args.repeats):
            for w in (1, 2):
                client = clusters[w][1]
                f = build(DaskFleet(client, threads=1), schema, args.twins, model)
                w0, c0 = client.run(time.process_time), time.process_time()
                dt, acc, ins_d = feed(f, batches)
                w1, c1 = client.run(time.process_time), time.process_time()
                used = [w1[a] - w0[a] for a in w0]
                cpu[w].append((c1 - c0, max(used), sum(used)))
                assert acc == n and ins_d == ins, (acc, n, ins_d, ins)
                assert f.snapshot() == ref, "a Dask run ended in another state than one process"
                f.close()
                times[w].append(dt)
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()

    def line(name, ts):
        med = statistics.median(ts)
        print(f"{name:<28} median {med:8.3f} s  {n / med / 1e6:7.3f} M samples/s  "
              f"(runs: {', '.join(f'{t:.3f}' for t in ts)})")
        return med

    m0 = line("one Fleet, 1 thread", local_times[1])
    m0b = line("one Fleet, 2 threads", local_times[2])
    m1 = line("Dask, 1 worker", times[1])
    m2 = line("Dask, 2 workers", times[2])
    for w in (1, 2):
        med = [statistics.median(c[i] for c in cpu[w]) for i in range(3)]
        print(f"Dask, {w} worker(s): CPU seconds (medians): client {med[0]:.3f}, "
              f"busiest worker {med[1]:.3f}, all workers {med[2]:.3f}")
    print(f"speed-up 2 workers / 1 worker: {m1 / m2:.2f}x (goal >= 1.6x); "
          f"in process 2 threads / 1 thread: {m0 / m0b:.2f}x; "
          f"Dask 1 worker / in process 1 thread: {m0 / m1:.2f}x")


if __name__ == "__main__":
    main()
