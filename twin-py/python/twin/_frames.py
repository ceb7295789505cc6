"""pandas tables in and out of twins and what-if results (pandas is optional).

The native methods ``Twin.insights_frame``, ``Twin.audit_frame``, ``Twin.ingest_frame``
and ``WhatIfResult.to_pandas`` delegate here; pandas is imported on first use, and a
clear ``ImportError`` says how to get it when it is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The audit log's columns, in order (an empty log still has them).
AUDIT_COLUMNS = ["time", "command", "value", "source", "outcome", "reason", "message"]


def pandas(what: str) -> Any:
    """The pandas module, or an ImportError naming ``what`` and how to install pandas."""
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError(f"{what} needs pandas, which is not installed: pip install pandas") from e
    return pd


def insights_frame(tw: Any, drain: bool) -> Any:
    pd = pandas("Twin.insights_frame")
    cols = tw.insight_columns(drain=drain)
    schema = tw.schema
    ids = cols["signal"]
    names = {int(i): schema.signal_name(int(i)) for i in np.unique(ids)}
    return pd.DataFrame(
        {
            "time": cols["time"],
            "signal": np.array([names[int(i)] for i in ids], dtype=object),
            "signal_id": ids,
            "kind": cols["kind"],
            "value": cols["value"],
            "score": cols["score"],
        }
    )


def audit_frame(tw: Any) -> Any:
    pd = pandas("Twin.audit_frame")
    rows = tw.audit_log()
    frame = pd.DataFrame.from_records(rows, columns=AUDIT_COLUMNS)
    return frame.astype({"time": "int64", "value": "float64"})


def _times_ns(values: Any, pd: Any, what: str) -> np.ndarray:
    """int64 nanoseconds from integer times or datetimes (naive ones taken as UTC)."""
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64) or isinstance(getattr(values, "dtype", None), pd.DatetimeTZDtype):
        idx = pd.DatetimeIndex(values)
        if idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
        return idx.as_unit("ns").asi8.astype(np.int64, copy=False)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{what} must hold integer nanoseconds or datetimes, not {arr.dtype}; "
            "convert float seconds with (t * 1e9).astype('int64')"
        )
    return arr.astype(np.int64, copy=False)


def _signal_ids(tw: Any, signals: Any) -> np.ndarray:
    arr = np.asarray(signals)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.uint32)
    schema = tw.schema
    cache: dict[Any, int] = {}
    out = np.empty(len(arr), dtype=np.uint32)
    for k, name in enumerate(arr):
        if name not in cache:
            cache[name] = schema.signal_id(str(name))
        out[k] = cache[name]
    return out


def ingest_frame(tw: Any, df: Any, time: str, signal: str, value: str) -> Any:
    pd = pandas("Twin.ingest_frame")
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, not {type(df).__name__}")
    if signal in df.columns and value in df.columns:
        # Long: one sample per row.
        if time not in df.columns:
            raise ValueError(f"df: a long frame needs a {time!r} column next to {signal!r} and {value!r}")
        times = _times_ns(df[time], pd, f"df[{time!r}]")
        sigs = _signal_ids(tw, df[signal].to_numpy())
        vals = df[value].to_numpy(dtype=np.float64)
        return tw.ingest_batch(times, sigs, vals)
    # Wide: one column per signal, times in the `time` column or the index; a NaN cell
    # is a signal that did not report at that time.
    if time in df.columns:
        times = _times_ns(df[time], pd, f"df[{time!r}]")
        data = df.drop(columns=[time])
    else:
        times = _times_ns(df.index, pd, "df.index")
        data = df
    if data.shape[1] == 0:
        raise ValueError("df has no signal columns")
    ids = _signal_ids(tw, np.asarray([str(c) for c in data.columns]))
    vals = data.to_numpy(dtype=np.float64)
    keep = ~np.isnan(vals).ravel()
    n_rows, n_cols = vals.shape
    return tw.ingest_batch(
        np.repeat(times, n_cols)[keep],
        np.tile(ids, n_rows)[keep],
        vals.ravel()[keep],
    )


def what_if_frame(result: Any) -> Any:
    pd = pandas("WhatIfResult.to_pandas")
    times = result.times_s
    names = result.names
    levels = result.levels
    mean = result.mean
    pct = result.percentiles
    n, m = mean.shape
    data: dict[str, Any] = {
        "time_s": np.repeat(times, m),
        "variable": np.tile(np.asarray(names, dtype=object), n),
        "mean": mean.ravel(),
    }
    for i, level in enumerate(levels):
        data[f"q{level:g}"] = pct[i].ravel()
    return pd.DataFrame(data)


def history_frame(tw: Any, wide: bool, datetime: bool) -> Any:
    """The twin's history as a DataFrame with signal names (see ``twin.history_frame``)."""
    pd = pandas("twin.history_frame")
    hist = tw.history()
    schema = tw.schema
    ids = hist["signal"]
    names = {int(i): schema.signal_name(int(i)) for i in np.unique(ids)}
    times: Any = hist["time"]
    if datetime:
        times = pd.to_datetime(times, unit="ns", utc=True)
    if not wide:
        return pd.DataFrame(
            {
                "time": times,
                "signal": np.array([names[int(i)] for i in ids], dtype=object),
                "signal_id": ids,
                "value": hist["value"],
            }
        )
    # Wide: one row per time (ascending), one column per signal in id order; a cell is
    # the value the signal reported at that time, NaN where it reported none. The twin
    # refuses a second sample of a signal at one time, so no cell has two candidates.
    long = pd.DataFrame({"time": times, "signal_id": ids, "value": hist["value"]})
    wide_df = long.pivot(index="time", columns="signal_id", values="value")
    order = sorted(int(i) for i in wide_df.columns)
    wide_df = wide_df[order]
    wide_df.columns = pd.Index([names[i] for i in order], name="signal")
    return wide_df
