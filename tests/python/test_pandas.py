"""pandas tables in and out: insights, the audit log, long and wide ingest, what-if results."""

import sys

import numpy as np
import pytest

import twin

pd = pytest.importorskip("pandas")

S = 1_000_000_000
DAY = 86_400.0


def test_insights_frame_matches_the_insight_list(plant, columns):
    t = twin.Twin(plant)
    rows = [(k * 60 * S, 1, v) for k, v in enumerate([10.0, 60.0, 70.0, 10.0])]
    t.ingest_batch(*columns(rows))
    df = t.insights_frame()
    assert list(df.columns) == ["time", "signal", "signal_id", "kind", "value", "score"]
    assert df["time"].dtype == np.int64 and df["value"].dtype == np.float64
    listed = t.insights()
    assert len(df) == len(listed) == 2
    assert df["time"].tolist() == [i.time for i in listed] == [60 * S, 180 * S]
    assert df["signal"].tolist() == ["y", "y"] and df["signal_id"].tolist() == [1, 1]
    assert df["kind"].tolist() == ["alarm_high", "alarm_cleared"]
    assert df["value"].tolist() == [60.0, 10.0] and df["score"].tolist() == [50.0, 50.0]
    # Reading leaves them; drain=True takes them.
    assert len(t.insights_frame(drain=True)) == 2
    empty = t.insights_frame()
    assert len(empty) == 0 and list(empty.columns) == list(df.columns)


def test_audit_frame_has_one_row_per_entry_with_fixed_columns():
    t = twin.Twin(twin.Schema.conveyor())
    empty = t.audit_frame()
    assert len(empty) == 0
    assert list(empty.columns) == ["time", "command", "value", "source", "outcome", "reason", "message"]
    t.command("set_speed", 1.0, 0)
    with pytest.raises(twin.OutOfRangeError):
        t.command("set_speed", 9.0, S)
    df = t.audit_frame()
    log = t.audit_log()
    assert len(df) == len(log) == 2
    assert df["time"].dtype == np.int64 and df["value"].dtype == np.float64
    assert df["outcome"].tolist() == [e["outcome"] for e in log] == ["accepted", "refused"]
    # Missing cells (no failure) are pandas NA.
    assert df["reason"].isna().tolist() == [True, False] and df["reason"][1] == "out_of_range"
    assert df["value"].tolist() == [1.0, 9.0]
    assert "outside its valid range" in df["message"][1]


def test_long_and_wide_frames_ingest_the_same_samples(plant):
    times = np.arange(6, dtype=np.int64) * S
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y = np.array([10.0, np.nan, 12.0, np.nan, 14.0, 15.0])
    wide = pd.DataFrame({"time": times, "x": x, "y": y})
    keep = ~np.isnan(y)
    long = pd.DataFrame(
        {
            "time": np.concatenate([times, times[keep]]),
            "signal": ["x"] * 6 + ["y"] * int(keep.sum()),
            "value": np.concatenate([x, y[keep]]),
        }
    ).sort_values("time", kind="stable")
    a, b = twin.Twin(plant), twin.Twin(plant)
    ra, rb = a.ingest_frame(wide), b.ingest_frame(long)
    # A NaN cell of a wide frame is a signal that did not report: 6 + 4 samples.
    assert (ra.accepted, ra.rejected) == (rb.accepted, rb.rejected) == (10, 0)
    for tw in (a, b):
        assert tw.reported("x") == 6.0 and tw.reported("y") == 15.0
        assert tw.reported_time("y") == 5 * S
    assert a.counters == b.counters
    # Signal ids work in a long frame too.
    c = twin.Twin(plant)
    ids = long.assign(signal=long["signal"].map({"x": 0, "y": 1}))
    assert c.ingest_frame(ids).accepted == 10 and c.counters == a.counters


def test_datetime_times_and_custom_column_names(plant):
    idx = pd.date_range("2024-01-01", periods=3, freq="1min", tz="UTC")
    wide = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=idx)
    t = twin.Twin(plant)
    assert t.ingest_frame(wide).accepted == 3
    assert t.reported_time("x") == int(idx[-1].value) == 1_704_067_320 * S
    long = pd.DataFrame({"ts": idx.tz_localize(None), "name": ["y"] * 3, "v": [5.0, 6.0, 7.0]})
    assert t.ingest_frame(long, time="ts", signal="name", value="v").accepted == 3
    assert t.reported_time("y") == 1_704_067_320 * S and t.reported("y") == 7.0


def test_bad_frames_raise_clear_errors(plant):
    t = twin.Twin(plant)
    with pytest.raises(TypeError, match="DataFrame"):
        t.ingest_frame({"time": [0], "x": [1.0]})
    with pytest.raises(TypeError, match="integer nanoseconds or datetimes"):
        t.ingest_frame(pd.DataFrame({"time": [0.5], "x": [1.0]}))
    with pytest.raises(twin.UnknownSignalError):
        t.ingest_frame(pd.DataFrame({"time": [0], "pressure": [1.0]}))
    with pytest.raises(ValueError, match="no signal columns"):
        t.ingest_frame(pd.DataFrame({"time": [0]}))
    # Out-of-range values are refused per sample, as by ingest_batch.
    r = t.ingest_frame(pd.DataFrame({"time": [0, S], "x": [50.0, 500.0]}))
    assert (r.accepted, r.rejected, r.reasons) == (1, 1, {"out_of_range": 1})


def test_what_if_frame_holds_every_step_variable_and_level():
    t = twin.Twin(twin.Schema.conveyor(), model=twin.ConveyorModel())
    r = t.what_if(twin.WhatIfScenario(5 * DAY, 3_600.0, paths=100, seed=2))
    df = r.to_pandas()
    steps, names, levels = len(r.times_s), r.names, r.levels
    assert len(df) == steps * len(names)
    assert list(df.columns) == ["time_s", "variable", "mean"] + [f"q{q:g}" for q in levels]
    for j, name in enumerate(names):
        sub = df[df["variable"] == name]
        np.testing.assert_array_equal(sub["time_s"].to_numpy(), r.times_s)
        np.testing.assert_array_equal(sub["mean"].to_numpy(), r.mean[:, j])
        for q in levels:
            np.testing.assert_array_equal(sub[f"q{q:g}"].to_numpy(), r.quantile(q)[:, j])


def test_a_clear_import_error_without_pandas(monkeypatch, plant):
    t = twin.Twin(plant)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="Twin.insights_frame needs pandas.*pip install pandas"):
        t.insights_frame()
    with pytest.raises(ImportError, match="Twin.ingest_frame needs pandas"):
        t.ingest_frame(None)


def test_history_frame_long_and_wide_with_signal_names(plant, columns):
    t = twin.Twin(plant, monitor=False, limits={"max_history_samples": 100})
    rows = [(0, 0, 1.0), (0, 1, 20.0), (60 * S, 0, 2.0), (120 * S, 1, 22.0), (120 * S, 2, 5.0),
            (180 * S, 0, 3.0)]
    t.ingest_batch(*columns(rows))
    hist = t.history()
    long = twin.history_frame(t)
    assert list(long.columns) == ["time", "signal", "signal_id", "value"]
    assert long["time"].dtype == np.int64 and long["value"].dtype == np.float64
    assert long["time"].tolist() == hist["time"].tolist() == [r[0] for r in rows]
    assert long["signal"].tolist() == ["x", "y", "x", "y", "setpoint", "x"]
    assert long["signal_id"].tolist() == [r[1] for r in rows]
    assert long["value"].tolist() == [r[2] for r in rows]
    wide = twin.history_frame(t, wide=True)
    assert list(wide.columns) == ["x", "y", "setpoint"]
    assert wide.index.tolist() == [0, 60 * S, 120 * S, 180 * S]
    assert wide["x"].iloc[[0, 1, 3]].tolist() == [1.0, 2.0, 3.0] and np.isnan(wide["x"].iloc[2])
    assert wide["y"].iloc[[0, 2]].tolist() == [20.0, 22.0] and wide["y"].isna().sum() == 2
    assert wide["setpoint"].notna().sum() == 1 and wide.loc[120 * S, "setpoint"] == 5.0
    # Every sample is in exactly one cell.
    assert int(wide.notna().to_numpy().sum()) == len(rows)
    stamped = twin.history_frame(t, wide=True, datetime=True)
    assert str(stamped.index.dtype) == "datetime64[ns, UTC]"
    assert stamped.index[1] == pd.Timestamp(60 * S, unit="ns", tz="UTC")
    assert str(twin.history_frame(t, datetime=True)["time"].dtype) == "datetime64[ns, UTC]"
    # An empty history has the same columns.
    empty = twin.history_frame(twin.Twin(plant))
    assert len(empty) == 0 and list(empty.columns) == list(long.columns)
    assert twin.history_frame(twin.Twin(plant), wide=True).shape == (0, 0)


def test_history_frame_without_pandas_says_how_to_get_it(plant, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="twin.history_frame needs pandas.*pip install pandas"):
        twin.history_frame(twin.Twin(plant))
