"""twin.dask.DaskFleet on a real scheduler with two worker processes on loopback: the
same counts, insights and snapshots as one twin.Fleet in this process, whether the client
sends the batches or the workers load their partitions' files themselves."""

import doctest
import functools
import os

import numpy as np
import pytest

import twin

distributed = pytest.importorskip("distributed")
import twin.dask  # noqa: E402
from twin.dask import DaskFleet, split_columns, write_partitions  # noqa: E402

from test_fleet import fleet_batch  # noqa: E402

IDS = (10, 11, 12, 40)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def make(plant, fleet):
    for tid in IDS:
        fleet.insert(tid, twin.Twin(plant, monitor={"alpha": 0.2, "threshold": 3.0} if tid == 12 else True))
    return fleet


def test_partitions_live_on_both_workers(client, plant):
    fleet = make(plant, DaskFleet(client))
    assert fleet.partitions == 2
    where = [a.worker().result() for a in fleet._actors]
    assert sorted(where) == sorted(client.scheduler_info()["workers"])
    held = [set(a.ids().result()) for a in fleet._actors]
    assert held == [{10, 12, 40}, {11}]  # id % 2
    assert fleet.ids() == list(IDS) and len(fleet) == 4 and 11 in fleet and 13 not in fleet
    assert repr(fleet) == "<DaskFleet: 2 partitions on 2 workers>"


def test_same_results_as_one_process(client, plant):
    cols, bad = fleet_batch(seed=21, n=400)
    half = len(cols[0]) // 2
    local = make(plant, twin.Fleet(threads=1))
    dist = make(plant, DaskFleet(client))
    for part in (slice(0, half), slice(half, None)):
        got = dist.ingest_batch(*(c[part] for c in cols))
        want = local.ingest_batch(*(c[part] for c in cols))
        assert got == want
        assert got.rejections == want.rejections
        assert got.to_dict() == want.to_dict()
    assert dist.snapshot() == local.snapshot()
    for tid in IDS:
        assert dist.get(tid).counters == local.get(tid).counters
    got, want = dist.drain_insights(), local.insight_columns(drain=True)
    assert len(want["time"]) >= len(IDS)  # one alarm_high per twin at least
    for k in want:
        assert np.array_equal(got[k], want[k]), k
    assert len(dist.insight_columns()["time"]) == 0


def test_bad_batch_raises_and_the_fleet_stays_usable(client, plant):
    dist = make(plant, DaskFleet(client))
    local = make(plant, twin.Fleet(threads=1))
    before = dist.snapshot()
    ids = np.array([10, 11], dtype=np.uint64)
    t = np.array([0, 0], dtype=np.int64)
    s = np.array([0, 0], dtype=np.uint32)
    v = np.array([1.0, 2.0])
    with pytest.raises(twin.InvalidInputError, match="values has 1 elements but twins has 2"):
        dist.ingest_batch(ids, t, s, v[:1])
    with pytest.raises(TypeError, match="twins must hold integer twin ids"):
        dist.ingest_batch(ids.astype(np.float64), t, s, v)
    with pytest.raises(TypeError, match="values must hold real numbers"):
        dist.ingest_batch(ids, t, s, np.array(["a", "b"]))
    with pytest.raises(twin.InvalidInputError, match="twins holds the negative id -4 at index 1"):
        dist.ingest_batch(np.array([11, -4]), t, s, v)
    assert dist.snapshot() == before
    with pytest.raises(twin.UnknownTwinError):
        dist.remove(13)
    with pytest.raises(twin.InvalidInputError, match="already has twin 11"):
        dist.insert(11, twin.Twin(plant))
    # Per-sample problems are counted as in one process, and the fleet carries on.
    cols = (np.array([10, 11, 3]), [0, 0, 0], [0, 0, 0], [np.nan, 2.0, 1.0])
    r = dist.ingest_batch(*cols)
    assert r == local.ingest_batch(*cols)
    assert (r.accepted, r.reasons) == (1, {"non_finite": 1, "unknown_twin": 1})
    assert dist.snapshot() == local.snapshot()


def test_restore_from_a_single_process_snapshot(client, plant):
    cols, _ = fleet_batch(seed=4, n=200)
    local = twin.Fleet(threads=1)
    for tid in IDS:
        local.insert(tid, twin.Twin(plant))
    local.ingest_batch(*cols)
    dist = DaskFleet.from_snapshot(client, local.snapshot())
    assert dist.snapshot() == local.snapshot()
    more = [c.copy() for c in cols]
    more[1] = more[1] + 10_000 * 1_000_000_000
    assert dist.ingest_batch(*more) == local.ingest_batch(*more)
    moved = dist.remove(40)
    assert moved.counters == local.remove(40).counters
    assert dist.ids() == [10, 11, 12] and dist.snapshot() == local.snapshot()


def test_twins_with_a_digital_model(client):
    """Conveyor twins with the drive's model: the model travels to the workers with each
    twin and assimilates the same samples as in one process."""
    schema = twin.Schema.conveyor()
    proto = twin.Twin(schema, model=twin.ConveyorModel())
    rng = np.random.default_rng(2)
    steps, devices = 200, 5
    tw = np.tile(np.repeat(np.arange(devices, dtype=np.uint64), 4), steps)
    t = np.repeat(np.arange(steps, dtype=np.int64) * 100_000_000, devices * 4)
    s = np.tile(np.arange(4, dtype=np.uint32), steps * devices)
    v = np.array([1.5, 2.0, 50.0, 0.8])[s] + rng.normal(0.0, 0.05, len(s))
    local, dist = twin.Fleet(threads=1), DaskFleet(client)
    local_pairs = [(d, proto) for d in range(devices)]
    for d, p in local_pairs:
        local.insert(d, p)
    dist.insert_many(local_pairs)
    assert dist.ingest_batch(tw, t, s, v) == local.ingest_batch(tw, t, s, v)
    assert dist.get(3).estimate("wear") == local.get(3).estimate("wear") is not None
    assert dist.snapshot() == local.snapshot()


def test_split_columns_keeps_every_sample_and_the_order_within_each_part():
    cols, _ = fleet_batch(seed=5, n=300)
    for partitions in (1, 2, 3, 4):
        parts = split_columns(partitions, *cols)
        assert len(parts) == partitions
        idx = np.concatenate([ix for ix, _ in parts])
        assert sorted(idx.tolist()) == list(range(len(cols[0])))  # each sample exactly once
        for p, (ix, part) in enumerate(parts):
            assert np.all(np.diff(ix) > 0)  # batch order kept
            assert np.all(part[0] % partitions == p)
            assert part[0].dtype == np.uint64
            for c, whole in zip(part, cols):
                assert c.flags.c_contiguous and np.array_equal(c, whole[ix], equal_nan=True)
    with pytest.raises(twin.InvalidInputError, match="partitions must be an int of at least 1"):
        split_columns(0, *cols)
    with pytest.raises(twin.InvalidInputError, match="twins holds the negative id -3 at index 0"):
        split_columns(2, [-3], [0], [0], [1.0])
    assert doctest.testmod(twin.dask).failed == 0


def read_dir(path):
    return [np.load(os.path.join(path, f"{k}.npy")) for k in ("twins", "times", "signals", "values")]


def test_write_partitions_lays_out_one_directory_per_partition(tmp_path):
    cols, _ = fleet_batch(seed=6, n=100)
    paths = write_partitions(tmp_path / "day", 3, *cols)
    assert [os.path.basename(p) for p in paths] == ["part-0-of-3", "part-1-of-3", "part-2-of-3"]
    total = 0
    for p, path in enumerate(paths):
        assert sorted(os.listdir(path)) == ["signals.npy", "times.npy", "twins.npy", "values.npy"]
        tw, t, s, v = read_dir(path)
        assert tw.dtype == np.uint64 and np.all(tw % 3 == p)
        want = np.flatnonzero(cols[0] % 3 == p)
        assert np.array_equal(v, cols[3][want], equal_nan=True)
        assert np.array_equal(t, cols[1][want]) and np.array_equal(s, cols[2][want])
        total += len(tw)
        # A worker memory-maps the columns rather than copying them.
        loaded = twin.dask.load_columns(path)
        assert all(isinstance(c.base, np.memmap) or isinstance(c, np.memmap) for c in loaded)
    assert total == len(cols[0])
    with pytest.raises(twin.InvalidInputError, match="times has 1 elements"):
        write_partitions(tmp_path / "bad", 2, cols[0], cols[1][:1], cols[2], cols[3])
    assert not (tmp_path / "bad").exists()


def test_worker_local_ingest_equals_one_process(client, plant, tmp_path):
    """Each worker loads its partition's file; the result is what one Fleet gives for the
    concatenated files, and (each twin's samples being in stream order in its file) what
    it gives for the original stream."""
    cols, bad = fleet_batch(seed=22, n=400)
    half = len(cols[0]) // 2
    dist = make(plant, DaskFleet(client))
    local = make(plant, twin.Fleet(threads=1))
    stream = make(plant, twin.Fleet(threads=1))
    layouts = []
    for k, part in enumerate((slice(0, half), slice(half, None))):
        chunk = [c[part] for c in cols]
        paths = dist.partition_columns(tmp_path, *chunk, name=f"batch{k}")
        layouts.append(paths)
        got = dist.ingest_partitioned(paths)
        files = [read_dir(p) for p in paths]
        concat = [np.concatenate([f[k] for f in files]) for k in range(4)]
        want = local.ingest_batch(*concat)
        assert got == want
        assert got.rejections == want.rejections
        assert got.to_dict() == want.to_dict()
        in_order = stream.ingest_batch(*chunk)
        assert (got.accepted, got.reasons, got.per_twin) == (in_order.accepted, in_order.reasons, in_order.per_twin)
    assert dist.snapshot() == local.snapshot() == stream.snapshot()
    assert got.accepted > 0
    assert sum(got.reasons.values()) + got.accepted == len(cols[0]) - half
    got_i, want_i = dist.drain_insights(), local.insight_columns(drain=True)
    assert len(want_i["time"]) >= len(IDS)
    for k in want_i:
        assert np.array_equal(got_i[k], want_i[k]), k
    # Both batches' files in one call, a list of sources per partition: indices run through
    # partition 0's files, then partition 1's.
    once = make(plant, DaskFleet(client))
    lists = [[layouts[0][p], layouts[1][p]] for p in range(2)]
    got = once.ingest_partitioned(lists)
    files = [read_dir(path) for part in lists for path in part]
    concat = [np.concatenate([f[k] for f in files]) for k in range(4)]
    one = make(plant, twin.Fleet(threads=1))
    want = one.ingest_batch(*concat)
    assert got == want and got.rejections == want.rejections
    assert len(got) == len(cols[0])
    assert once.snapshot() == stream.snapshot()


def test_callable_sources_and_samples_in_the_wrong_partition(client, plant, tmp_path):
    def _columns_on_worker(seed, ids):
        """Columns made where the partition lives (a callable source, pickled by value)."""
        rng = np.random.default_rng(seed)
        tw = np.repeat(np.asarray(ids, dtype=np.uint64), 2)
        t = np.tile(np.array([0, 1_000_000_000], dtype=np.int64), len(ids))
        v = rng.normal(40.0, 1.0, len(tw))
        return {"twins": tw, "times": t, "signals": np.zeros(len(tw), np.uint32), "values": v}

    dist = make(plant, DaskFleet(client))
    local = make(plant, twin.Fleet(threads=1))
    # Partition 0 holds 10, 12, 40; its source also names 11 (partition 1's) and 13 (nobody's).
    src0 = functools.partial(_columns_on_worker, 1, [10, 11, 12, 13, 40])
    got = dist.ingest_partitioned([src0, None])
    assert (got.accepted, got.reasons) == (6, {"unknown_twin": 4})
    assert [r[:2] for r in got.rejections] == [(2, 11), (3, 11), (6, 13), (7, 13)]
    # The same samples minus the misplaced ones, in one process.
    cols = [np.asarray(c) for c in _columns_on_worker(1, [10, 11, 12, 13, 40]).values()]
    keep = cols[0] != 11
    assert local.ingest_batch(*(c[keep] for c in cols)).accepted == 6
    assert dist.snapshot() == local.snapshot()
    assert dist.get(11).counters == local.get(11).counters  # twin 11 got nothing
    # A callable giving a sequence of columns, and an np.load result.
    later = [c.copy() for c in cols]
    later[1] = later[1] + 10 * 1_000_000_000
    path = tmp_path / "p0.npz"
    np.savez(path, **dict(zip(("twins", "times", "signals", "values"), (c[~keep] for c in later))))
    r = dist.ingest_partitioned([lambda: [c[keep] for c in later], functools.partial(np.load, path)])
    assert (r.accepted, r.reasons) == (8, {"unknown_twin": 2})  # 13 is nobody's
    assert [x[:2] for x in r.rejections] == [(4, 13), (5, 13)]
    assert local.ingest_batch(*later).accepted == 8
    assert dist.snapshot() == local.snapshot()
    # One .npz file per partition is a source too.
    more = [c.copy() for c in later]
    more[1] = more[1] + 10 * 1_000_000_000
    for p in (0, 1):
        mine = more[0] % 2 == p
        np.savez(tmp_path / f"n{p}.npz", **dict(zip(("twins", "times", "signals", "values"), (c[mine] for c in more))))
    r = dist.ingest_partitioned([tmp_path / "n0.npz", str(tmp_path / "n1.npz")])
    assert (r.accepted, r.reasons) == (8, {"unknown_twin": 2})
    assert local.ingest_batch(*more).accepted == 8
    assert dist.snapshot() == local.snapshot()


def test_a_bad_source_ingests_nothing(client, plant, tmp_path):
    dist = make(plant, DaskFleet(client))
    cols, _ = fleet_batch(seed=3, n=50)
    paths = dist.partition_columns(tmp_path, *cols)
    before = dist.snapshot()
    with pytest.raises(twin.InvalidInputError, match="partition 1: cannot read"):
        dist.ingest_partitioned([paths[0], str(tmp_path / "missing.npz")])
    os.remove(os.path.join(paths[1], "values.npy"))
    with pytest.raises(twin.InvalidInputError, match="partition 1: .*part-1-of-2' has no column 'values'"):
        dist.ingest_partitioned(paths)
    np.savez(tmp_path / "short.npz", twins=np.array([11], np.uint64), times=np.array([0, 1]),
             signals=np.array([0], np.uint32), values=np.array([1.0]))
    with pytest.raises(twin.InvalidInputError, match="times has 2 elements but twins has 1"):
        dist.ingest_partitioned([paths[0], tmp_path / "short.npz"])
    np.savez(tmp_path / "nocol.npz", twins=np.array([11], np.uint64))
    with pytest.raises(twin.InvalidInputError, match="partition 1: .*has no column 'times'"):
        dist.ingest_partitioned([paths[0], tmp_path / "nocol.npz"])
    with pytest.raises(TypeError, match="values must hold real numbers"):
        dist.ingest_partitioned([lambda: (np.array([10]), [0], [0], np.array(["a"])), None])
    np.save(tmp_path / "one.npy", np.arange(3))
    with pytest.raises(twin.InvalidInputError, match="partition 1: .*one.npy' is neither a directory of .npy"):
        dist.ingest_partitioned([paths[0], tmp_path / "one.npy"])
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(twin.InvalidInputError, match="partition 0: cannot read .*junk.npz"):
        dist.ingest_partitioned([tmp_path / "junk.npz", paths[1]])
    with pytest.raises(twin.InvalidInputError, match=r"partition 0: a source is a path \(a directory"):
        dist.ingest_partitioned([42, None])
    with pytest.raises(twin.InvalidInputError, match="sources has 1 entries but the fleet has 2 partitions"):
        dist.ingest_partitioned(paths[:1])
    with pytest.raises(twin.InvalidInputError, match="one source per partition"):
        dist.ingest_partitioned(paths[0])
    assert dist.snapshot() == before
    # Still usable: the good files go in.
    paths = dist.partition_columns(tmp_path, *cols)
    local = make(plant, twin.Fleet(threads=1))
    assert dist.ingest_partitioned(paths).accepted == local.ingest_batch(*cols).accepted
    assert dist.snapshot() == local.snapshot()
