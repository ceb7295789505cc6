"""Plot helpers for what people would rather see than read (matplotlib is optional).

- :func:`plot_signal`: a signal with its anomalies marked,
- :func:`plot_health`: a health index over time and the RUL with its interval band,
- :func:`plot_sim`: the time-bucket metrics of a simulation (:class:`twin.SimReport`),
- :func:`plot_what_if`: the percentile fan of a what-if result (:class:`twin.WhatIfResult`).

Each draws into the Axes given as ``ax`` (or a new figure) and returns what it drew on:
an ``Axes`` for the single-panel plots, a ``Figure`` for the multi-panel ones. Times are
plotted as given (seconds, cycles or datetimes); integer nanosecond times can be passed
with ``time_scale=1e-9`` to plot seconds.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np, twin.plot
>>> ax = twin.plot.plot_signal(np.arange(5.0), [1.0, 1.1, 9.0, 1.0, 1.2], anomalies=[2.0])
>>> len(ax.lines), ax.lines[1].get_xdata().tolist()
(2, [2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np

__all__ = ["plot_health", "plot_signal", "plot_sim", "plot_what_if"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("twin.plot needs matplotlib, which is not installed: pip install matplotlib") from e
    return plt


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots()
    return ax


def _column(name: str, values: Any, n: Optional[int] = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} elements but times has {n}")
    return arr


def _scaled(times: np.ndarray, time_scale: float) -> np.ndarray:
    if time_scale == 1.0 or np.issubdtype(times.dtype, np.datetime64):
        return times
    return times.astype(np.float64) * time_scale


def _anomaly_mask(times: np.ndarray, anomalies: Any) -> np.ndarray:
    """A boolean mask over the samples from a mask, a list of insights or anomaly times."""
    if anomalies is None:
        return np.zeros(len(times), dtype=bool)
    items = list(anomalies) if not isinstance(anomalies, np.ndarray) else anomalies
    if len(items) and hasattr(items[0], "time") and hasattr(items[0], "kind"):
        # twin.Insight objects: their times.
        items = np.asarray([i.time for i in items])
    arr = np.asarray(items)
    if arr.dtype == bool:
        if len(arr) != len(times):
            raise ValueError(f"anomalies is a mask of {len(arr)} elements but times has {len(times)}")
        return arr
    if arr.size == 0:
        return np.zeros(len(times), dtype=bool)
    mask = np.isin(times, arr)
    missing = arr.size - int(np.isin(arr, times).sum())
    if missing:
        raise ValueError(f"anomalies: {missing} anomaly time(s) are not among the signal's times")
    return mask


def plot_signal(
    times: Any,
    values: Any,
    anomalies: Any = None,
    *,
    ax: Any = None,
    label: Optional[str] = None,
    time_scale: float = 1.0,
) -> Any:
    """Draw a signal as a line and mark its anomalies with red dots.

    ``anomalies``: a boolean mask over the samples, a sequence of anomaly times (each one
    of ``times``), or a list of :class:`twin.Insight` (their times are used). Returns the
    Axes: ``ax.lines[0]`` is the signal, ``ax.lines[1]`` the anomaly markers (one per
    anomaly).
    """
    t = _column("times", times)
    v = _column("values", values, len(t)).astype(np.float64)
    mask = _anomaly_mask(t, anomalies)
    x = _scaled(t, time_scale)
    ax = _axes(ax)
    ax.plot(x, v, lw=1.0, label=label or "signal")
    ax.plot(x[mask], v[mask], ls="none", marker="o", color="tab:red", label=f"anomalies ({int(mask.sum())})")
    ax.set_xlabel("time")
    ax.legend(loc="best")
    return ax


def plot_health(
    times: Any,
    health: Any,
    rul: Any = None,
    lower: Any = None,
    upper: Any = None,
    *,
    threshold: Optional[float] = None,
    time_scale: float = 1.0,
    fig: Any = None,
) -> Any:
    """Draw a health index over time and, given ``rul``, the RUL with its interval.

    The top panel is the health index (with a dashed ``threshold`` line if given); the
    bottom panel, drawn when ``rul`` is given, is the RUL point prediction with the band
    between ``lower`` and ``upper`` (both needed for the band). Returns the Figure.
    """
    t = _column("times", times)
    h = _column("health", health, len(t)).astype(np.float64)
    x = _scaled(t, time_scale)
    if (lower is None) != (upper is None):
        raise ValueError("lower and upper come together: give both or neither")
    if rul is None and lower is not None:
        raise ValueError("lower and upper bound a rul: give rul too")
    plt = _pyplot()
    if fig is None:
        fig = plt.figure()
    panels = 2 if rul is not None else 1
    ax_h = fig.add_subplot(panels, 1, 1)
    ax_h.plot(x, h, lw=1.2, label="health index")
    if threshold is not None:
        ax_h.axhline(threshold, ls="--", color="tab:red", label="threshold")
    ax_h.set_ylabel("health")
    ax_h.legend(loc="best")
    if rul is not None:
        r = _column("rul", rul, len(t)).astype(np.float64)
        ax_r = fig.add_subplot(panels, 1, 2, sharex=ax_h)
        if lower is not None:
            lo = _column("lower", lower, len(t)).astype(np.float64)
            hi = _column("upper", upper, len(t)).astype(np.float64)
            if np.any(lo > hi):
                raise ValueError("lower must not exceed upper")
            ax_r.fill_between(x, lo, hi, alpha=0.3, label="RUL interval")
        ax_r.plot(x, r, lw=1.2, color="tab:orange", label="RUL")
        ax_r.set_ylabel("RUL")
        ax_r.set_xlabel("time")
        ax_r.legend(loc="best")
    else:
        ax_h.set_xlabel("time")
    return fig


#: The timeline metrics :func:`plot_sim` draws by default.
SIM_METRICS = ("reports", "delivered", "failed_transmissions", "latency_mean_s")


def plot_sim(report: Any, metrics: Sequence[str] = SIM_METRICS, *, fig: Any = None) -> Any:
    """Draw a simulation's time-bucket metrics, one panel per metric (shared time axis).

    ``report`` is a :class:`twin.SimReport` (its ``timeline`` table) or a mapping of
    column name to array with ``t_s``. Unknown metric names raise ``ValueError``.
    Returns the Figure; each panel has one line with one point per time bucket.
    """
    table = report.timeline if hasattr(report, "timeline") else report
    if "t_s" not in table:
        raise ValueError("report has no timeline column t_s")
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one timeline column")
    unknown = [m for m in metrics if m not in table]
    if unknown:
        raise ValueError(f"metrics {unknown} are not timeline columns; have {sorted(table)}")
    plt = _pyplot()
    if fig is None:
        fig = plt.figure()
    t = np.asarray(table["t_s"], dtype=np.float64)
    first = None
    for k, m in enumerate(metrics):
        ax = fig.add_subplot(len(metrics), 1, k + 1, sharex=first)
        first = first or ax
        ax.plot(t, np.asarray(table[m], dtype=np.float64), drawstyle="steps-post", lw=1.0)
        ax.set_ylabel(m)
    fig.axes[-1].set_xlabel("time, s")
    return fig


def plot_what_if(result: Any, variable: Union[str, int] = 0, *, ax: Any = None) -> Any:
    """Draw the percentile fan of one variable of a :class:`twin.WhatIfResult`.

    Each pair of symmetric levels (``q`` and ``1 - q``, e.g. 0.05 and 0.95) is a shaded
    band, the median (0.5, if a level) a solid line and the mean a dashed line.
    ``variable`` is a name or an index into ``result.names``. Returns the Axes.
    """
    names = list(result.names)
    if isinstance(variable, str):
        if variable not in names:
            raise ValueError(f"variable {variable!r} is not one of {names}")
        j = names.index(variable)
    else:
        j = int(variable)
        if not 0 <= j < len(names):
            raise ValueError(f"variable index {j} is out of range for {len(names)} variables")
    t = np.asarray(result.times_s)
    levels = list(result.levels)
    pct = np.asarray(result.percentiles)[:, :, j]
    ax = _axes(ax)
    lows = sorted(q for q in levels if q < 0.5 and any(abs((1 - q) - p) < 1e-12 for p in levels))
    for q in lows:
        hi = next(i for i, p in enumerate(levels) if abs((1 - q) - p) < 1e-12)
        lo = levels.index(q)
        ax.fill_between(t, pct[lo], pct[hi], alpha=0.15 + 0.5 * q, color="tab:blue", lw=0, label=f"{q:g}-{1 - q:g}")
    if 0.5 in levels:
        ax.plot(t, pct[levels.index(0.5)], color="tab:blue", lw=1.5, label="median")
    ax.plot(t, np.asarray(result.mean)[:, j], color="k", ls="--", lw=1.0, label="mean")
    ax.set_xlabel("time, s")
    ax.set_ylabel(names[j])
    ax.legend(loc="best")
    return ax
