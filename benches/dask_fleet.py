"""Fleet ingest throughput on Dask: one worker against two, on two data paths, in one run.

A fleet of conveyor twins (each with the EWMA monitor and the conveyor drive's digital
model) is fed a stream of fleet batches through :class:`twin.dask.DaskFleet` on a
LocalCluster of one worker process and on a LocalCluster of two, along two paths:

* **client**: the client holds each batch in memory and calls
  :meth:`DaskFleet.ingest_batch`, which splits it by partition and sends the parts;
* **local** (worker-local): before timing, each batch is laid out per partition on local
  disk as one directory of ``.npy`` column files per partition
  (:meth:`DaskFleet.partition_columns`); in the timed region
  :meth:`DaskFleet.ingest_partitioned` has every worker load (memory-map) its partition's
  files and ingest them, so no sample passes through the client. Loading is part of the
  timed work (the files were just written, so their pages come from the page cache).
  One call per batch;
* **local-all**: the same files, but one :meth:`DaskFleet.ingest_partitioned` call takes
  every batch's file of a partition as a list (a day's files at once), so the client and
  the workers synchronise twice per run rather than twice per batch.

Repetitions alternate between the configurations so that noise on the shared machine hits
all alike. Each worker runs one thread and each partition's fleet one thread. The same
stream through one :class:`twin.Fleet` in this process (1 and 2 threads) is the reference,
and every Dask run is checked to end in the very same fleet snapshot and insight count.
Timed: from the first batch to the drained insights; building the fleet is not timed.

Run with the release wheel (``bash benches/dask_fleet.sh`` builds and installs it):

    target/py-venv/bin/python benches/dask_fleet.py [--twins N] [--steps S] [--batches B] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
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


def build(fleet, proto, twins: int):
    if isinstance(fleet, DaskFleet):
        fleet.insert_many((i, proto) for i in range(twins))
    else:
        for i in range(twins):
            fleet.insert(i, proto)
    return fleet


def feed(fleet, batches, local_paths=None, at_once=False) -> tuple[float, int, int]:
    """Seconds to ingest every batch and drain the insights; samples accepted; insights.
    With `local_paths` (one list of per-partition directories per batch) the workers load
    the batches themselves: one call per batch, or with `at_once` one call for all."""
    start = time.perf_counter()
    accepted = 0
    if local_paths is None:
        for b in batches:
            accepted += fleet.ingest_batch(*b).accepted
    elif at_once:
        per_partition = [list(files) for files in zip(*local_paths)]
        accepted += fleet.ingest_partitioned(per_partition).accepted
    else:
        for paths in local_paths:
            accepted += fleet.ingest_partitioned(paths).accepted
    ins = fleet.insight_columns(drain=True)
    return time.perf_counter() - start, accepted, len(ins["time"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--twins", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=400, help="time steps per twin (10 Hz)")
    ap.add_argument("--batches", type=int, default=4, help="fleet batches the steps are sent in")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-model", action="store_true", help="monitor only, no digital model")
    ap.add_argument("--paths", default="client,local,local-all",
                    help="which paths to time, comma-separated: client, local, local-all")
    args = ap.parse_args()
    paths = args.paths.split(",")

    from distributed import Client, LocalCluster

    schema = twin.Schema.conveyor()
    model = not args.no_model
    proto = twin.Twin(schema, model=twin.ConveyorModel() if model else None)
    batches = stream(args.twins, args.steps, args.batches)
    n = sum(len(b[0]) for b in batches)
    print(f"fleet: {args.twins} conveyor twins (monitor{' + model' if model else ''}), "
          f"{n} samples ({n * 28 / 1e6:.0f} MB of columns) in {args.batches} batches; "
          f"cpus: {os.cpu_count()}; load average at start: {os.getloadavg()}")

    # Reference: one Fleet in this process, on one thread and (the ceiling this machine
    # offers two-way parallel work right now) on two.
    local_times: dict[int, list[float]] = {1: [], 2: []}
    ref = ref_ins = None
    for _ in range(args.repeats):
        for th in (1, 2):
            f = build(twin.Fleet(threads=th), proto, args.twins)
            dt, acc, ins = feed(f, batches)
            local_times[th].append(dt)
            assert acc == n, (acc, n)
            snap = f.snapshot()
            assert ref is None or (snap == ref and ins == ref_ins)
            ref, ref_ins = snap, ins

    tmp = tempfile.TemporaryDirectory(prefix="dask_fleet_bench_")
    clusters = {}
    layouts = {}
    for w in (1, 2):
        cluster = LocalCluster(n_workers=w, processes=True, threads_per_worker=1,
                               host="127.0.0.1", dashboard_address=None)
        clusters[w] = (cluster, Client(cluster))
        # The worker-local layout: one file per partition per batch, written before timing.
        lay = DaskFleet(clusters[w][1], threads=1)
        layouts[w] = [lay.partition_columns(os.path.join(tmp.name, f"w{w}"), *b, name=f"batch{k}")
                      for k, b in enumerate(batches)]
        lay.close()
    configs = [(path, w) for path in paths for w in (1, 2)]
    times: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
    # (client CPU s, busiest worker's CPU s, all workers' CPU s) per run
    cpu: dict[tuple[str, int], list[tuple[float, float, float]]] = {c: [] for c in configs}
    try:
        for _ in range(args.repeats):
            for path, w in configs:
                client = clusters[w][1]
                f = build(DaskFleet(client, threads=1), proto, args.twins)
                w0, c0 = client.run(time.process_time), time.process_time()
                dt, acc, ins_d = feed(f, batches, None if path == "client" else layouts[w],
                                      at_once=path == "local-all")
                w1, c1 = client.run(time.process_time), time.process_time()
                used = [w1[a] - w0[a] for a in w0]
                cpu[path, w].append((c1 - c0, max(used), sum(used)))
                assert acc == n and ins_d == ref_ins, (path, w, acc, n, ins_d, ref_ins)
                assert f.snapshot() == ref, f"a Dask run ({path}, {w} workers) ended in another state"
                f.close()
                times[path, w].append(dt)
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
        tmp.cleanup()

    def line(name, ts):
        med = statistics.median(ts)
        print(f"{name:<38} median {med:8.3f} s  {n / med / 1e6:7.3f} M samples/s  "
              f"(runs: {', '.join(f'{t:.3f}' for t in ts)})")
        return med

    m0 = line("one Fleet, 1 thread", local_times[1])
    m0b = line("one Fleet, 2 threads", local_times[2])
    med = {c: line(f"Dask {c[0]} path, {c[1]} worker(s)", times[c]) for c in configs}
    for c in configs:
        cm = [statistics.median(x[i] for x in cpu[c]) for i in range(3)]
        print(f"Dask {c[0]} path, {c[1]} worker(s): CPU seconds (medians): client {cm[0]:.3f}, "
              f"busiest worker {cm[1]:.3f}, all workers {cm[2]:.3f}")
    print(f"in process 2 threads / 1 thread: {m0 / m0b:.2f}x")
    for path in paths:
        print(f"{path} path: speed-up 2 workers / 1 worker: {med[path, 1] / med[path, 2]:.2f}x "
              f"(goal >= 1.6x); 1 worker vs in process 1 thread: {m0 / med[path, 1]:.2f}x")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
