"""twin.dask.DaskFleet on a real scheduler with two worker processes on loopback: the
same counts, insights and snapshots as one twin.Fleet in this process."""

import numpy as np
import pytest

import twin

distributed = pytest.importorskip("distributed")
from twin.dask import DaskFleet  # noqa: E402

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
