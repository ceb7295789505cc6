"""Resource limits from Python: the history ring, the batch cap, and their errors."""

import pickle

import numpy as np
import pytest

import twin

S = 1_000_000_000


def ramp(n, start=0):
    t = np.arange(start, start + n, dtype=np.int64) * S
    return t, np.zeros(n, dtype=np.uint32), (t // S).astype(np.float64) % 100.0


def test_defaults(plant):
    t = twin.Twin(plant)
    assert t.limits == {
        "max_pending_insights": 65536,
        "max_audit_entries": 10000,
        "max_history_samples": 0,
        "max_batch_samples": 1 << 24,
    }
    t.ingest_batch(*ramp(10))
    h = t.history()
    assert [len(h[k]) for k in ("time", "signal", "value")] == [0, 0, 0]
    assert t.counters["history_dropped"] == 0


def test_history_ring_keeps_the_newest_in_order(plant):
    t = twin.Twin(plant, monitor=False, limits={"max_history_samples": 5})
    t.ingest_batch(*ramp(3))
    h = t.history()
    assert h["time"].tolist() == [0, S, 2 * S]
    assert t.counters["history_dropped"] == 0
    t.ingest_batch(*ramp(2, start=3))  # at the cap
    assert len(t.history()["time"]) == 5 and t.counters["history_dropped"] == 0
    t.ingest(5 * S, "y", 7.5)  # above: the oldest goes
    h = t.history()
    assert h["time"].dtype == np.int64 and h["signal"].dtype == np.uint32 and h["value"].dtype == np.float64
    assert h["time"].tolist() == [S, 2 * S, 3 * S, 4 * S, 5 * S]
    assert h["signal"].tolist() == [0, 0, 0, 0, 1]
    assert h["value"].tolist() == [1.0, 2.0, 3.0, 4.0, 7.5]
    c = t.counters
    assert c["history_dropped"] == 1
    assert c["history_dropped"] + len(h["time"]) == c["accepted"]


def test_batch_cap_refuses_the_whole_batch_and_counts_it(plant):
    t = twin.Twin(plant, monitor=False, limits={"max_batch_samples": 8})
    below = t.ingest_batch(*ramp(7))
    assert (below.accepted, below.rejected) == (7, 0)
    at = t.ingest_batch(*ramp(8, start=7))
    assert (at.accepted, at.rejected) == (8, 0)
    above = t.ingest_batch(*ramp(9, start=15))
    assert (above.accepted, above.rejected, above.total) == (0, 9, 9)
    assert above.reasons == {"limit_exceeded": 9}
    assert above.rejected_indices.tolist() == list(range(9))
    c = t.counters
    assert (c["received"], c["accepted"], c["rejected"], c["limit_exceeded"]) == (24, 15, 9, 9)
    assert t.now == 14 * S


def test_bad_limits_raise(plant):
    with pytest.raises(twin.InvalidInputError, match="max_batch_samples"):
        twin.Twin(plant, limits={"max_batch_samples": 0})
    with pytest.raises(twin.InvalidInputError, match="unknown limit"):
        twin.Twin(plant, limits={"max_history": 3})
    with pytest.raises(twin.InvalidInputError, match="int"):
        twin.Twin(plant, limits={"max_history_samples": -1})


def test_history_and_limits_survive_snapshot_and_pickle(plant):
    t = twin.Twin(plant, monitor=False, limits={"max_history_samples": 4, "max_batch_samples": 100})
    t.ingest_batch(*ramp(10))
    back = pickle.loads(pickle.dumps(t))
    assert back.limits == t.limits
    assert back.history()["time"].tolist() == t.history()["time"].tolist() == [6 * S, 7 * S, 8 * S, 9 * S]
    assert back.counters == t.counters
    small = twin.Twin.from_snapshot(t.snapshot(), monitor=False, limits={"max_history_samples": 2})
    assert small.history()["time"].tolist() == [8 * S, 9 * S]
    assert small.counters["history_dropped"] == 6 + 2


def test_limit_exceeded_error_class():
    e = twin.LimitExceededError("limit exceeded: max_twins is 1, got 2")
    assert isinstance(e, twin.TwinError) and isinstance(e, ValueError)
    assert twin.LimitExceededError.kind == "limit_exceeded"
