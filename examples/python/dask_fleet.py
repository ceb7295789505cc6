"""A conveyor fleet partitioned by device across Dask workers (twin.dask.DaskFleet).

Each worker holds the twins of its partition (device id modulo the number of partitions);
a fleet batch is split by device on the client and processed where the twins live. The
script builds a fleet of conveyor twins, streams a minute of 10 Hz telemetry with a few
faults injected, prints the ingest report per twin, the alarms and the fleet's snapshot
size, and checks the result against one twin.Fleet in this process.

    python examples/python/dask_fleet.py                          # a LocalCluster, 2 workers
    python examples/python/dask_fleet.py --scheduler tcp://host:8786   # a real cluster

On a real cluster every worker needs the same ``twin`` wheel installed (see the README's
"Scaling out on Dask" section).
"""

from __future__ import annotations

import argparse

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
        report = fleet.ingest_batch(*cols)
        print(report)
        try:
            import pandas as pd

            table = pd.DataFrame(report.to_dict()).set_index("twin")
            print(table[table["rejected"] > 0].to_string())
        except ImportError:
            print({k: v for k, v in report.per_twin.items() if v["rejected"]})

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
        assert local.ingest_batch(*cols) == report
        mine = local.insight_columns(drain=True)
        assert all(np.array_equal(mine[k], alarms[k]) for k in mine)
        assert local.snapshot() == snap
        print("same report, insights and snapshot as one twin.Fleet in this process")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
