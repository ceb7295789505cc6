"""twin.plot: each helper draws what its data says (lines, markers, bands), checked on
the artists, and the figure renders to a PNG."""

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

import twin  # noqa: E402
import twin.plot  # noqa: E402

S = 1_000_000_000
DAY = 86_400.0


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def render(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def polys(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_plot_signal_marks_exactly_the_monitors_anomalies(tmp_path):
    # A noisy signal with two spikes; the EWMA monitor flags them and the plot marks them.
    rng = np.random.default_rng(5)
    n = 3000
    values = rng.normal(10.0, 0.5, n)
    values[[1200, 2500]] += 10.0
    times = np.arange(n, dtype=np.int64) * S
    t = twin.Twin(twin.Schema("bearing", telemetry=[{"name": "vibration"}]))
    t.ingest_batch(times, np.zeros(n, dtype=np.uint32), values)
    anomalies = [i for i in t.insights() if i.kind == "anomaly"]
    assert {1200 * S, 2500 * S} <= {i.time for i in anomalies}
    ax = twin.plot.plot_signal(times, values, anomalies=anomalies, time_scale=1e-9)
    signal, marks = ax.lines
    assert len(signal.get_xdata()) == n and signal.get_xdata()[-1] == (n - 1) * 1.0
    assert len(marks.get_xdata()) == len(anomalies)
    assert marks.get_linestyle() == "None" and marks.get_marker() == "o"
    np.testing.assert_array_equal(marks.get_ydata(), [i.value for i in anomalies])
    render(ax.figure, tmp_path, "signal")
    # A boolean mask and a list of times give the same marks.
    mask = np.zeros(n, dtype=bool)
    mask[[1200, 2500]] = True
    _, ax2 = plt.subplots()
    twin.plot.plot_signal(times, values, anomalies=mask, ax=ax2)
    _, ax3 = plt.subplots()
    twin.plot.plot_signal(times, values, anomalies=[1200 * S, 2500 * S], ax=ax3)
    for a in (ax2, ax3):
        assert a.lines[1].get_xdata().tolist() == [1200 * S, 2500 * S]
        assert a.lines[1].get_ydata().tolist() == [values[1200], values[2500]]


def test_plot_signal_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match="values has 2 elements but times has 3"):
        twin.plot.plot_signal([0, 1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="not among the signal's times"):
        twin.plot.plot_signal([0, 1, 2], [1.0, 2.0, 3.0], anomalies=[7])
    with pytest.raises(ValueError, match="mask of 2"):
        twin.plot.plot_signal([0, 1, 2], [1.0, 2.0, 3.0], anomalies=[True, False])


def test_plot_health_draws_the_rul_interval_band(tmp_path):
    cycles = np.arange(1.0, 101.0)
    health = 1.0 - cycles / 120.0
    rul = 120.0 - cycles
    lower, upper = rul - 10.0, rul + 15.0
    fig = twin.plot.plot_health(cycles, health, rul=rul, lower=lower, upper=upper, threshold=0.2)
    ax_h, ax_r = fig.axes
    assert [len(line.get_xdata()) for line in ax_h.lines] == [100, 2]  # health, threshold
    assert list(ax_h.lines[1].get_ydata()) == [0.2, 0.2]
    (band,) = polys(ax_r)
    (rul_line,) = ax_r.lines
    np.testing.assert_array_equal(rul_line.get_ydata(), rul)
    # The band's outline runs along upper and lower: its vertical extent is theirs.
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == lower.min() and ys.max() == upper.max()
    render(fig, tmp_path, "health")
    # Without a RUL: one panel, no band.
    fig2 = twin.plot.plot_health(cycles, health)
    assert len(fig2.axes) == 1 and not polys(fig2.axes[0])
    with pytest.raises(ValueError, match="both or neither"):
        twin.plot.plot_health(cycles, health, rul=rul, lower=lower)
    with pytest.raises(ValueError, match="lower must not exceed upper"):
        twin.plot.plot_health(cycles, health, rul=rul, lower=upper, upper=lower)


def test_plot_sim_draws_one_point_per_time_bucket(tmp_path):
    scenario = {
        "seed": 1,
        "horizon_s": 3_600.0,
        "gateways": [{"name": "gw", "link": {"latency_s": 0.02}}],
        "groups": [{"count": 100, "period_s": 60.0, "gateways": [0]}],
        "metrics": {"bucket_s": 600.0},
    }
    report = twin.sim_run(scenario)
    tl = report.timeline
    fig = twin.plot.plot_sim(report)
    assert len(fig.axes) == len(twin.plot.SIM_METRICS)
    for ax, metric in zip(fig.axes, twin.plot.SIM_METRICS):
        (line,) = ax.lines
        assert ax.get_ylabel() == metric
        np.testing.assert_array_equal(line.get_xdata(), tl["t_s"])
        np.testing.assert_array_equal(line.get_ydata(), tl[metric].astype(float))
    # Ten-minute buckets starting at 0, 600, ..., 3600 s; the reports per bucket add up
    # to the summary.
    assert tl["t_s"].tolist() == [600.0 * k for k in range(7)]
    assert fig.axes[0].lines[0].get_ydata().sum() == report.summary["reports"] == 6_000
    render(fig, tmp_path, "sim")
    with pytest.raises(ValueError, match="not timeline columns"):
        twin.plot.plot_sim(report, ["nope"])


def test_plot_what_if_draws_one_band_per_symmetric_level_pair(tmp_path):
    t = twin.Twin(twin.Schema.conveyor(), model=twin.ConveyorModel())
    r = t.what_if(twin.WhatIfScenario(20 * DAY, 3_600.0, paths=200, seed=4, quantiles=[0.05, 0.25, 0.5, 0.75, 0.95]))
    name = r.names[0]
    ax = twin.plot.plot_what_if(r, name)
    bands = polys(ax)
    assert len(bands) == 2  # 0.05-0.95 and 0.25-0.75
    median, mean = ax.lines
    np.testing.assert_array_equal(median.get_ydata(), r.quantile(0.5)[:, 0])
    np.testing.assert_array_equal(mean.get_ydata(), r.mean[:, 0])
    assert len(median.get_xdata()) == len(r.times_s)
    # The outer band spans the 5th to the 95th percentile.
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert np.isclose(ys.min(), r.quantile(0.05)[:, 0].min()) and np.isclose(ys.max(), r.quantile(0.95)[:, 0].max())
    render(ax.figure, tmp_path, "what_if")
    with pytest.raises(ValueError, match="not one of"):
        twin.plot.plot_what_if(r, "nope")


def test_a_clear_import_error_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        twin.plot.plot_signal([0, 1], [1.0, 2.0])


def test_module_docstring_example_runs():
    import doctest

    result = doctest.testmod(twin.plot, verbose=False)
    assert result.attempted >= 4 and result.failed == 0
