"""A conveyor fleet partitioned by device across Dask workers (twin.dask.DaskFleet).

Each worker holds the twins of its partition (device id modulo the number of partitions).
The script builds a fleet of conveyor twins and feeds it a minute of 10 Hz telemetry with a
few faults injected, in two halves along the two data paths:

* the first 30 s from the client: a fleet batch is split by device on the client and each
  part is sent to the worker holding its twins (``DaskFleet.ingest_batch``);
* the last 30 s worker-local: the data is first laid out as one directory of ``.npy``
  column files per partition (``DaskFleet.partition_columns``), then each worker loads its
  own partition's files and ingests them (``DaskFleet.ingest_partitioned``); no sample
  passes through the client.

It prints the ingest reports, the alarms and the fleet's snapshot size, and checks the
result against one twin.Fleet in this process.

    python examples/python/dask_fleet.py                          # a LocalCluster, 2 workers
    python examples/python/dask_fleet.py --scheduler tcp://host:8786   # a real cluster

On a real cluster every worker needs the same ``twin`` wheel installed (see the README's
"Scaling out on Dask" section), and ``--data`` must name a directory every worker can read
(shared storage); by default it is a temporary directory on this machine.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

import twin
from twin.dask import DaskFleet

S = 1_000_000_000
MEAN = np.array([1.5, 2.0, 50.0, 0.8])  # belt_speed, vibration, motor_temp, load
NOISE = np.array([0.05, 0.2, 1.0, 0.05])


def telemetry(devices: int, seconds: int, seed: int = 7):
    """10 Hz samples of the four conveyor signals of every device, time-major, with the
    vibration of device 3 above its alarm limit for two seconds and a NaN from device 5."""
    rng = np.random.default_rng(seed)
    steps = seconds * 10
    n_sig = len(MEAN)
    twins = np.tile(np.repeat(np.arange(devices, dtype=np.uint64), n_sig), steps)
    times = np.repeat(np.arange(steps, dtype=np.int64) * S // 10, devices * n_sig)
    signals = np.tile(np.arange(n_sig, dtype=np.uint32), steps * devices)
    values = MEAN[signals] + rng.normal(0.0, 1.0, len(signals)) * NOISE[signals]
    fault = (twins == 3) & (signals == 1) & (times >= 20 * S) & (times < 22 * S)
    values[fault] = 9.0
    values[np.flatnonzero((twins == 5) & (signals == 2))[100]] = np.nan
    return twins, times, signals, values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (default: a LocalCluster)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--data", help="directory for the per-partition files (default: a temporary one)")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=args.workers, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        )
        client = Client(cluster)
    try:
        schema = twin.Schema.conveyor()
        proto = twin.Twin(schema, model=twin.ConveyorModel())
        fleet = DaskFleet(client)
        fleet.insert_many((d, proto) for d in range(args.devices))
        print(fleet, f"holding {len(fleet)} conveyor twins")

        cols = telemetry(args.devices, args.seconds)
        half = cols[1] < args.seconds * S // 2
        first = [c[half] for c in cols]
        second = [c[~half] for c in cols]

        # First half: pushed by the client.
        report = fleet.ingest_batch(*first)
        print("client path:", report)
        try:
            import pandas as pd

            table = pd.DataFrame(report.to_dict()).set_index("twin")
            print(table[table["rejected"] > 0].to_string())
        except ImportError:
            print({k: v for k, v in report.per_twin.items() if v["rejected"]})

        # Second half: laid out per partition, then loaded by each worker.
        with tempfile.TemporaryDirectory() as tmp:
            paths = fleet.partition_columns(args.data or tmp, *second, name="second-half")
            print("partition directories:", ", ".join(paths))
            local_report = fleet.ingest_partitioned(paths)
        print("worker-local path:", local_report)

        alarms = fleet.drain_insights()
        mask = alarms["kind"] != "anomaly"
        for tw, t, sig, kind, value in zip(
            alarms["twin"][mask], alarms["time"][mask], alarms["signal"][mask], alarms["kind"][mask], alarms["value"][mask]
        ):
            print(f"device {tw}: {kind} on {schema.signal_name(int(sig))} at {t / S:.1f} s (value {value:.2f})")
        print(f"anomalies flagged: {int((~mask).sum())}")
        snap = fleet.snapshot()
        print(f"fleet snapshot: {len(snap) / 1e3:.0f} kB of JSON")

        # The same stream through one Fleet in this process ends in the same state.
        local = twin.Fleet(threads=1)
        for d in range(args.devices):
            local.insert(d, proto)
        assert local.ingest_batch(*first) == report
        again = local.ingest_batch(*second)
        # (The worker-local report indexes the partition files one after the other, so
        # compare what it counts rather than the indices.)
        assert (again.accepted, again.reasons, again.per_twin) == (
            local_report.accepted,
            local_report.reasons,
            local_report.per_twin,
        )
        mine = local.insight_columns(drain=True)
        assert all(np.array_equal(mine[k], alarms[k]) for k in mine)
        assert local.snapshot() == snap
        print("same reports, insights and snapshot as one twin.Fleet in this process")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
