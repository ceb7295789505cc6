"""twin.Fleet: many twins fed by one numpy batch, against the same data through single Twins."""

import pickle

import numpy as np
import pytest

import twin

S = 1_000_000_000
IDS = (10, 11, 12, 40)


def fleet_batch(seed=7, n=600, unknown=(99, 7)):
    """A shuffled fleet batch: per twin, x and y every second, y crossing its alarm limit
    (50) in a burst, with NaNs, out-of-range x values and a few samples for unknown ids.

    Returns the four columns and the number of samples injected of each bad kind.
    """
    rng = np.random.default_rng(seed)
    rows = []
    bad = {"non_finite": 0, "out_of_range": 0, "unknown_twin": 0}
    for k, tid in enumerate(IDS):
        for i in range(n):
            t = i * S
            x = 40.0 + rng.normal(0.0, 1.0)
            y = 20.0 + rng.normal(0.0, 0.5)
            if 200 + 50 * k <= i < 220 + 50 * k:
                y = 70.0  # alarm burst
            if i % 97 == 5:
                x = float("nan")
                bad["non_finite"] += 1
            elif i % 89 == 3:
                x = 150.0  # outside [0, 100]
                bad["out_of_range"] += 1
            rows.append((tid, t, 0, x))
            rows.append((tid, t, 1, y))
    for j, tid in enumerate(unknown):
        rows.append((tid, j * S, 0, 1.0))
        bad["unknown_twin"] += 1
    # Interleave the twins (a real gateway's order) but keep each twin's own order.
    order = np.lexsort((rng.random(len(rows)), np.array([r[1] for r in rows])))
    rows = [rows[i] for i in order]
    twins = np.array([r[0] for r in rows], dtype=np.uint64)
    times = np.array([r[1] for r in rows], dtype=np.int64)
    signals = np.array([r[2] for r in rows], dtype=np.uint32)
    values = np.array([r[3] for r in rows], dtype=np.float64)
    return (twins, times, signals, values), bad


def make_fleet(plant, threads=2, ids=IDS):
    fleet = twin.Fleet(threads=threads)
    for tid in ids:
        fleet.insert(tid, twin.Twin(plant))
    return fleet


def test_fleet_equals_single_twins_fed_the_same_samples(plant):
    cols, bad = fleet_batch()
    fleet = make_fleet(plant)
    report = fleet.ingest_batch(*cols)
    assert report.copied == []
    assert report.total == len(cols[0]) == report.accepted + report.rejected
    assert report.reasons == bad
    assert report.rejected == sum(bad.values())

    twins_col = cols[0]
    accepted = 0
    insight_pairs = []
    for tid in IDS:
        mask = twins_col == tid
        single = twin.Twin(plant)
        r = single.ingest_batch(cols[1][mask], cols[2][mask], cols[3][mask])
        accepted += r.accepted
        assert report.per_twin[tid]["accepted"] == r.accepted
        assert report.per_twin[tid]["rejected"] == r.rejected
        # Indices in the fleet report are positions in the fleet batch.
        where = np.flatnonzero(mask)
        assert [(i, t, k) for i, t, k in report.rejections if t == tid] == [
            (int(where[i]), tid, k) for i, k in r.rejections
        ]
        mine = fleet.get(tid)
        assert mine.counters == single.counters
        assert mine.reported("x") == single.reported("x")
        insight_pairs += [(tid, i) for i in single.drain_insights()]
    assert accepted == report.accepted
    assert report.per_twin[99] == {"accepted": 0, "rejected": 1, "unknown_twin": 1}

    # One alarm_high per burst per twin; the fleet gives the same insights as the twins.
    got = fleet.drain_insights()
    assert got == insight_pairs
    assert sum(1 for _, i in got if i.kind == "alarm_high") == len(IDS)
    assert [t for t, _ in got] == sorted(t for t, _ in got)
    assert fleet.drain_insights() == []


def test_outcome_does_not_depend_on_threads(plant):
    cols, _ = fleet_batch(seed=3)
    one, three = make_fleet(plant, threads=1), make_fleet(plant, threads=3)
    assert one.threads == 1 and three.threads == 3
    assert one.ingest_batch(*cols) == three.ingest_batch(*cols)
    assert one.snapshot() == three.snapshot()
    assert twin.Fleet().threads >= 1


def test_report_tables(plant):
    pd = pytest.importorskip("pandas")
    cols, bad = fleet_batch()
    report = make_fleet(plant).ingest_batch(*cols)
    df = pd.DataFrame(report.to_dict())
    assert list(df["twin"]) == sorted(IDS + (7, 99))
    assert df["accepted"].sum() == report.accepted
    assert df["rejected"].sum() == report.rejected
    for kind, n in bad.items():
        assert df[kind].sum() == n
    assert df["out_of_order"].sum() == 0
    assert list(report.rejected_indices) == [i for i, _, _ in report.rejections]
    assert "accepted=" in repr(report) and "'unknown_twin': 2" in repr(report)
    back = pickle.loads(pickle.dumps(report))
    assert back == report and back.to_dict() == report.to_dict()
    assert twin.FleetReport.from_json(report.to_json()) == report
    with pytest.raises(twin.SerializationError):
        twin.FleetReport.from_json("{}")


def test_merging_reports_of_parts_gives_the_whole(plant):
    cols, _ = fleet_batch(seed=11)
    whole = make_fleet(plant).ingest_batch(*cols)
    fleet = make_fleet(plant)
    parts = []
    for p in range(2):
        idx = np.flatnonzero(cols[0] % 2 == p)
        parts.append((fleet.ingest_batch(*(c[idx] for c in cols)), idx))
    merged = twin.FleetReport.merge(parts)
    assert merged == whole
    assert merged.rejections == whole.rejections
    with pytest.raises(twin.InvalidInputError, match="indices"):
        twin.FleetReport.merge([(parts[0][0], parts[0][1][:-1])])
    with pytest.raises(twin.InvalidInputError, match="indices must be a sequence of int"):
        twin.FleetReport.merge([(parts[0][0], ["a"] * parts[0][0].total)])
    assert twin.FleetReport.merge([(parts[0][0], parts[0][1].tolist())]) == twin.FleetReport.merge([parts[0]])



def test_merging_contiguous_parts_by_start_position(plant):
    cols, _ = fleet_batch(seed=11)
    whole = make_fleet(plant).ingest_batch(*cols)
    assert whole.rejected > 0
    fleet = make_fleet(plant)
    k = len(cols[0]) // 3
    first = fleet.ingest_batch(*(c[:k] for c in cols))
    rest = fleet.ingest_batch(*(c[k:] for c in cols))
    merged = twin.FleetReport.merge([(first, 0), (rest, k)])
    assert merged == whole and merged.rejections == whole.rejections
    # the same as spelling the positions out
    assert merged == twin.FleetReport.merge([(first, np.arange(k)), (rest, np.arange(k, len(cols[0])))])
    with pytest.raises(twin.InvalidInputError, match=r"parts\[1\]: a start position"):
        twin.FleetReport.merge([(first, 0), (rest, -1)])
    with pytest.raises(twin.InvalidInputError, match="indices must be a sequence of int"):
        twin.FleetReport.merge([(first, True)])

def test_insert_copies_and_remove_moves(plant):
    t = twin.Twin(plant)
    t.ingest(0, "y", 80.0)  # an alarm, pending
    fleet = twin.Fleet(threads=1)
    fleet.insert(5, t)
    assert len(fleet) == 1 and 5 in fleet and 6 not in fleet and fleet.ids() == [5]
    t.ingest(S, "y", 10.0)  # only the original sees this
    copy = fleet.get(5)
    assert copy.reported("y") == 80.0 and copy.counters["accepted"] == 1
    assert [i.kind for i in copy.insights()] == ["alarm_high"]
    assert [(tid, i.kind) for tid, i in fleet.insights()] == [(5, "alarm_high")]
    out = fleet.remove(5)
    assert len(fleet) == 0 and out.reported("y") == 80.0
    assert out.counters == copy.counters
    with pytest.raises(twin.UnknownTwinError):
        fleet.remove(5)
    with pytest.raises(twin.UnknownTwinError):
        fleet.get(5)
    fleet.insert(5, t)
    with pytest.raises(twin.InvalidInputError, match="already"):
        fleet.insert(5, t)
    with pytest.raises(twin.InvalidInputError, match="id"):
        fleet.insert(-1, t)
    assert repr(fleet) == "<Fleet: 1 twins, 1 threads>"


def test_bad_batches_raise_naming_the_argument_and_change_nothing(plant):
    fleet = make_fleet(plant)
    before = fleet.snapshot()
    ids = np.array([10, 11], dtype=np.uint64)
    t = np.array([0, 0], dtype=np.int64)
    s = np.array([0, 0], dtype=np.uint32)
    v = np.array([1.0, 2.0])
    with pytest.raises(twin.InvalidInputError, match="values has 1 elements but twins has 2"):
        fleet.ingest_batch(ids, t, s, v[:1])
    with pytest.raises(TypeError, match="twins must hold integer twin ids"):
        fleet.ingest_batch(ids.astype(np.float64), t, s, v)
    with pytest.raises(twin.InvalidInputError, match="twins holds the negative id -4 at index 1"):
        fleet.ingest_batch(np.array([10, -4]), t, s, v)
    with pytest.raises(TypeError, match="values must hold real numbers"):
        fleet.ingest_batch(ids, t, s, np.array(["a", "b"]))
    with pytest.raises(twin.InvalidInputError, match="one-dimensional"):
        fleet.ingest_batch(ids.reshape(1, 2), t, s, v)
    assert fleet.snapshot() == before
    # Still usable; per-sample problems are counted, not raised.
    r = fleet.ingest_batch(np.array([10, 11, 3]), t.tolist() + [0], [0, 0, 0], [np.nan, 2.0, 1.0])
    assert (r.accepted, r.reasons) == (1, {"non_finite": 1, "unknown_twin": 1})
    assert sorted(r.copied) == ["signals", "times", "twins", "values"]
    # Non-contiguous views are copied, not refused.
    wide = np.zeros(4, dtype=np.int64)
    wide[::2] = [S, S]
    r = fleet.ingest_batch(ids, wide[::2], s, v)
    assert r.accepted == 2 and r.copied == ["times"]
    # So are misaligned arrays (as numpy makes them from a buffer at an odd offset, and as
    # Dask can unpickle them).
    def odd(a):
        raw = bytearray(a.nbytes + 1)
        out = np.frombuffer(raw, dtype=a.dtype, offset=1, count=len(a))
        out[:] = a
        return out

    cols = (odd(ids), odd(t + 2 * S), odd(s), odd(v))
    assert not any(c.flags.aligned for c in cols)
    r = fleet.ingest_batch(*cols)
    assert r.accepted == 2 and r.copied == ["twins", "times", "signals", "values"]
    assert fleet.get(11).reported("x") == 2.0


def test_snapshot_and_pickle_round_trip(plant):
    cols, _ = fleet_batch(seed=5, n=300)
    half = len(cols[0]) // 2
    first = [c[:half] for c in cols]
    rest = [c[half:] for c in cols]
    fleet = twin.Fleet(threads=2)
    fleet.insert(10, twin.Twin(plant))
    fleet.insert(11, twin.Twin(plant, monitor={"alpha": 0.2, "threshold": 3.0}))
    fleet.insert(12, twin.Twin(plant, monitor=False))
    fleet.insert(40, twin.Twin(plant))
    fleet.ingest_batch(*first)

    back = pickle.loads(pickle.dumps(fleet))
    assert back.snapshot() == fleet.snapshot() and back.threads == 2
    assert back.get(12).engine_names == []
    assert back.ingest_batch(*rest) == fleet.ingest_batch(*rest)
    assert back.snapshot() == fleet.snapshot()
    assert back.drain_insights() == fleet.drain_insights()

    same = make_fleet(plant)
    same.ingest_batch(*first)
    restored = twin.Fleet.from_snapshot(same.snapshot(), threads=1)
    assert restored.ids() == list(IDS)
    assert restored.ingest_batch(*rest) == same.ingest_batch(*rest)
    assert restored.snapshot() == same.snapshot()
    with pytest.raises(twin.SerializationError):
        twin.Fleet.from_snapshot("not json")

    # Snapshots of disjoint fleets merge into the whole fleet's snapshot.
    a, b = make_fleet(plant, ids=(10, 40)), make_fleet(plant, ids=(11, 12))
    whole = make_fleet(plant)
    for f in (a, b, whole):
        f.ingest_batch(*first)
    assert twin.Fleet.merge_snapshots([b.snapshot(), a.snapshot()]) == whole.snapshot()
    with pytest.raises(twin.SerializationError, match="twin 10"):
        twin.Fleet.merge_snapshots([a.snapshot(), a.snapshot()])


def test_insight_columns_match_insight_objects(plant):
    cols, _ = fleet_batch(seed=9, n=400)
    fleet = make_fleet(plant)
    fleet.ingest_batch(*cols)
    objs = fleet.insights()
    c = fleet.insight_columns()
    assert set(c) == {"twin", "time", "signal", "kind", "value", "score"}
    assert c["twin"].dtype == np.uint64 and c["time"].dtype == np.int64
    assert list(c["twin"]) == [t for t, _ in objs]
    assert list(c["time"]) == [i.time for _, i in objs]
    assert list(c["kind"]) == [i.kind for _, i in objs]
    assert np.array_equal(c["score"], [i.score for _, i in objs])
    drained = fleet.insight_columns(drain=True)
    assert np.array_equal(drained["value"], c["value"])
    assert len(fleet.insight_columns()["twin"]) == 0
