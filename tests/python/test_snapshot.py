"""Snapshots and pickling: a restored twin carries on exactly like one that never stopped."""

import copy
import pickle

import numpy as np
import pytest

import twin

S = 1_000_000_000


def stream(n=4000, seed=11):
    rng = np.random.default_rng(seed)
    times = np.repeat(np.arange(n // 2, dtype=np.int64) * S, 2)
    signals = np.tile(np.array([0, 1], dtype=np.uint32), n // 2)
    values = np.abs(rng.normal(20.0, 2.0, n))
    values[[1001, 2601, 3333]] += 40.0  # spikes, and alarms on y (alarm_high 50)
    return times, signals, values


def state(t):
    return (t.counters, t.insights(), t.reported("x"), t.reported("y"), t.now, t.version)


@pytest.mark.parametrize("restore", ["snapshot", "pickle", "deepcopy"])
def test_restore_equals_uninterrupted_run(plant, restore):
    times, signals, values = stream()
    straight = twin.Twin(plant)
    straight.ingest_batch(times, signals, values)

    first = twin.Twin(plant)
    half = len(times) // 2
    first.ingest_batch(times[:half], signals[:half], values[:half])
    first.command("set_x", 5.0, 0)
    if restore == "snapshot":
        second = twin.Twin.from_snapshot(first.snapshot())
    elif restore == "pickle":
        second = pickle.loads(pickle.dumps(first))
    else:
        second = copy.deepcopy(first)
    assert second.schema == plant
    second.ingest_batch(times[half:], signals[half:], values[half:])
    straight.command("set_x", 5.0, 0)
    assert state(second) == state(straight)
    assert len([i for i in second.insights() if i.kind == "anomaly"]) >= 3
    assert [c.value for c in second.take_commands()] == [5.0]


def test_pickle_keeps_monitor_settings(plant):
    t = twin.Twin(plant, monitor={"threshold": 6.5, "warmup": 10})
    back = pickle.loads(pickle.dumps(t))
    assert back.engine_names == ["ewma_monitor"]
    assert pickle.loads(pickle.dumps(twin.Twin(plant, monitor=False))).engine_names == []
    assert t.__reduce__()[1][1] == {"alpha": 0.05, "threshold": 6.5, "warmup": 10, "include_properties": False}


def test_bad_snapshots_raise_serialization_error(plant):
    snap = twin.Twin(plant).snapshot()
    with pytest.raises(twin.SerializationError) as info:
        twin.Twin.from_snapshot(snap[: len(snap) // 2])
    assert isinstance(info.value, ValueError) and info.value.kind == "serialization"
    with pytest.raises(twin.SerializationError, match="truncated"):
        twin.Twin.from_snapshot(snap[: len(snap) // 2])
    newer = snap.replace('"version":2', '"version":99', 1)
    assert newer != snap
    with pytest.raises(twin.SerializationError, match="newer release"):
        twin.Twin.from_snapshot(newer)
    corrupted = snap.replace('"n":0', '"n":1', 1)
    assert corrupted != snap
    with pytest.raises(twin.SerializationError, match="checksum mismatch"):
        twin.Twin.from_snapshot(corrupted)
    # A snapshot taken with a monitor does not fit a twin without one.
    with pytest.raises(twin.SerializationError):
        twin.Twin.from_snapshot(snap, monitor=False)
