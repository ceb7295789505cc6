"""The EWMA monitor through the bindings: anomalies, alarms, insight lists and columns."""

import numpy as np
import pytest

import twin

S = 1_000_000_000


def noisy(n=5000, seed=7, spike_at=3000, spike=8.0):
    """A noisy signal (mean 10, sd 0.5) with one spike of `spike` (16 sd) at `spike_at`."""
    rng = np.random.default_rng(seed)
    values = rng.normal(10.0, 0.5, n)
    values[spike_at] += spike
    times = np.arange(n, dtype=np.int64) * S + 1_700_000_000 * S
    return times, np.zeros(n, dtype=np.uint32), values


def test_spike_in_noise_is_flagged_at_its_time():
    schema = twin.Schema("bearing", telemetry=[{"name": "vibration", "unit": "mm/s"}])
    t = twin.Twin(schema)
    assert t.engine_names == ["ewma_monitor"]
    times, signals, values = noisy()
    report = t.ingest_batch(times, signals, values)
    assert (report.accepted, report.copied) == (5000, [])
    anomalies = [i for i in t.insights() if i.kind == "anomaly"]
    spike = [i for i in anomalies if i.time == times[3000]]
    assert len(spike) == 1, anomalies
    (s,) = spike
    assert (s.signal, s.signal_name, s.value) == (0, "vibration", values[3000])
    assert 12.0 < s.score < 20.0  # the spike is 16 sd; the EWMA estimate of sd is close
    # |z| > 4 has probability 6e-5 under noise alone: hardly any false alarms in 5000.
    assert len(anomalies) - 1 <= 2
    assert repr(s).startswith("Insight(time=%d, signal='vibration', kind='anomaly', value=" % times[3000])


def test_spike_found_across_many_small_batches():
    """Splitting the stream into batches (some below the GIL-release threshold) changes nothing."""
    schema = twin.Schema("bearing", telemetry=[{"name": "vibration"}])
    times, signals, values = noisy()
    whole, pieces = twin.Twin(schema), twin.Twin(schema)
    whole.ingest_batch(times, signals, values)
    bounds = [0, 7, 100, 1000, 2999, 3001, 4096, 5000]
    for a, b in zip(bounds, bounds[1:]):
        pieces.ingest_batch(times[a:b], signals[a:b], values[a:b])
    assert pieces.insights() == whole.insights()


def test_alarm_limits_report_transitions(plant, columns):
    t = twin.Twin(plant)
    rows = [(k * 60 * S, 1, v) for k, v in enumerate([10.0, 60.0, 70.0, 10.0])]
    t.ingest_batch(*columns(rows))
    got = [(i.kind, i.time, i.signal_name, i.value, i.score) for i in t.insights()]
    assert got == [
        ("alarm_high", 60 * S, "y", 60.0, 50.0),
        ("alarm_cleared", 180 * S, "y", 10.0, 50.0),
    ]


def test_insight_columns_and_draining(plant, columns):
    t = twin.Twin(plant)
    t.ingest_batch(*columns([(0, 1, 10.0), (S, 1, 60.0), (2 * S, 1, 10.0)]))
    listed = t.insights()
    cols = t.insight_columns()
    assert set(cols) == {"time", "signal", "kind", "value", "score"}
    assert cols["time"].dtype == np.int64 and cols["signal"].dtype == np.uint32
    assert cols["value"].dtype == np.float64 and cols["kind"].dtype == object
    assert cols["time"].tolist() == [i.time for i in listed] == [S, 2 * S]
    assert cols["kind"].tolist() == ["alarm_high", "alarm_cleared"]
    assert cols["value"].tolist() == [60.0, 10.0]
    assert len(t.insights()) == 2  # reading does not take them
    drained = t.insight_columns(drain=True)
    assert drained["kind"].tolist() == ["alarm_high", "alarm_cleared"]
    assert t.insights() == [] and t.drain_insights() == []
    t.ingest(3 * S, "y", 70.0)
    assert [i.kind for i in t.drain_insights()] == ["alarm_high"]
    assert t.insights() == []


def test_without_monitor_nothing_is_flagged():
    schema = twin.Schema("bearing", telemetry=[{"name": "vibration", "alarm_high": 5.0}])
    t = twin.Twin(schema, monitor=False)
    assert t.engine_names == []
    t.ingest_batch(*noisy())
    assert t.insights() == []


def test_monitor_settings():
    schema = twin.Schema("bearing", telemetry=[{"name": "vibration"}])
    times, signals, values = noisy(spike=2.5)  # 5 sd: caught at threshold 4, not at 6
    strict = twin.Twin(schema, monitor={"threshold": 6.0, "warmup": 50})
    strict.ingest_batch(times, signals, values)
    assert all(i.time != times[3000] for i in strict.insights())
    default = twin.Twin(schema, monitor=True)
    default.ingest_batch(times, signals, values)
    assert any(i.time == times[3000] for i in default.insights())
    with pytest.raises(twin.InvalidInputError, match="alpha"):
        twin.Twin(schema, monitor={"alpha": 0.0})
    with pytest.raises(twin.InvalidInputError, match="unknown monitor setting"):
        twin.Twin(schema, monitor={"treshold": 3.0})
    with pytest.raises(TypeError):
        twin.Twin(schema, monitor="yes")
