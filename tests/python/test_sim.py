"""The simulator (twin.sim_*) and its worked studies from Python, with real numbers."""

import pathlib
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

import twin

ROOT = pathlib.Path(__file__).resolve().parents[2]


def scenario(devices=200, period_s=60.0, horizon_s=600.0, loss=0.0, seed=1):
    gw = {"name": "gw", "link": {"latency_s": 0.02}}
    if loss:
        gw["link"]["loss"] = {"model": "bernoulli", "p": loss}
    return {
        "seed": seed,
        "horizon_s": horizon_s,
        "gateways": [gw],
        "groups": [{"count": devices, "period_s": period_s, "gateways": [0]}],
    }


# ------------------------------------------------------------------------- runs and reports


def test_counts_reconcile_in_the_python_report():
    r = twin.sim_run(scenario(loss=0.1))
    s = r.summary
    assert s["devices"] == 200
    # 200 devices, one reading a minute for ten minutes.
    assert s["reports"] == 2000
    assert s["reports"] == s["delivered"] + s["undelivered"] + s["in_flight"]
    assert s["failed_transmissions"] == (
        s["lost_channel"] + s["dropped_queue"] + s["gateway_down"] + s["collisions"] + s["out_of_range"]
    )
    # Bernoulli loss of 10 %: the share of transmissions lost is near 0.1 (sd about 0.007).
    assert abs(s["lost_channel"] / s["transmissions"] - 0.1) < 0.03
    # The tables agree with the summary.
    d = r.devices
    assert d["reports"].dtype == np.uint64 and len(d["reports"]) == 200
    assert int(d["reports"].sum()) == s["reports"]
    assert int(d["delivered"].sum()) == s["delivered"]
    assert int(r.timeline["reports"].sum()) == s["reports"]
    assert int(r.gateways["received"].sum()) >= s["delivered"]
    assert s["delivery_ratio"] == pytest.approx(s["delivered"] / s["reports"])


def test_latency_is_the_link_latency():
    r = twin.sim_run(scenario())
    s = r.summary
    # Readings sensed in the last 20 ms are still on the link at the horizon.
    assert s["delivered"] + s["in_flight"] == 2000
    assert s["latency_p50_s"] == pytest.approx(0.02, abs=0.001)


def test_json_string_and_dict_give_the_same_run():
    import json

    a = twin.sim_run(scenario(loss=0.2))
    b = twin.sim_run(json.dumps(scenario(loss=0.2)))
    assert a == b
    assert a.summary == b.summary


def test_pickle_and_json_round_trip_keep_nan_cells():
    # One reading per device, half of them lost: those devices have no mean latency (NaN).
    r = twin.sim_run(scenario(devices=100, horizon_s=60.0, loss=0.5))
    lat = r.devices["latency_mean_s"]
    assert np.isnan(lat).any() and not np.isnan(lat).all()
    back = pickle.loads(pickle.dumps(r))
    assert back == r
    for name in ("devices", "gateways", "timeline"):
        t0, t1 = getattr(r, name), getattr(back, name)
        assert list(t0) == list(t1)
        for c in t0:
            np.testing.assert_array_equal(t0[c], t1[c])
    assert twin.SimReport.from_json(r.to_json()).summary == r.summary
    with pytest.raises(twin.SerializationError):
        twin.SimReport.from_json('{"format": "something else"}')


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    r = twin.sim_run(scenario())
    df = r.to_pandas("devices")
    assert isinstance(df, pd.DataFrame)
    assert df.shape[0] == 200
    assert int(df["reports"].sum()) == 2000
    assert list(df.columns) == list(r.devices)
    with pytest.raises(twin.InvalidInputError, match="table"):
        r.to_pandas("nope")


# ------------------------------------------------------------------------- bad scenarios


def test_bad_scenarios_raise_naming_the_field():
    s = scenario()
    s["groups"][0]["gateways"] = []
    with pytest.raises(twin.InvalidInputError, match=r"groups\[0\]\.gateways"):
        twin.sim_validate(s)
    with pytest.raises(twin.InvalidInputError, match=r"groups\[0\]\.gateways"):
        twin.sim_run(s)
    s = scenario(period_s=-5.0)
    with pytest.raises(ValueError, match=r"groups\[0\]\.period_s"):
        twin.sim_run(s)
    s = scenario()
    s["groups"][0]["perod_s"] = 3
    with pytest.raises(twin.InvalidInputError, match="perod_s"):
        twin.sim_validate(s)
    with pytest.raises(twin.InvalidInputError):
        twin.sim_run("{not json")
    with pytest.raises(twin.InvalidInputError, match="scenario"):
        twin.sim_run({"x": object()})
    assert twin.sim_validate(scenario()) is None


def test_a_battery_with_no_capacity_is_refused_naming_the_field():
    s = scenario()
    s["groups"][0]["energy"] = {
        "sleep_ma": 0.01,
        "tx_ma": 20.0,
        "battery": {"model": "linear", "capacity_mah": 0.0},
    }
    for call in (twin.sim_validate, twin.sim_run):
        with pytest.raises(twin.InvalidInputError, match=r"groups\[0\]\.energy\.battery\.capacity_mah") as e:
            call(s)
        assert isinstance(e.value, ValueError)
        assert "no capacity" in str(e.value)
    # A positive capacity is accepted and runs.
    s["groups"][0]["energy"]["battery"]["capacity_mah"] = 100.0
    assert twin.sim_run(s).summary["depleted"] == 0


def test_four_billion_devices_are_refused_by_the_memory_estimate_not_a_crash():
    s = scenario(devices=4_000_000_000)
    with pytest.raises(twin.InvalidInputError, match="limits.max_memory_bytes") as e:
        twin.sim_run(s)
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert "4000000000 devices" in msg and "4096 MiB" in msg, msg
    # The same scenario with a cap raised past its estimate passes validation (it is not
    # run): the refusal is the cap, not the count.
    s["limits"] = {"max_memory_bytes": 2**62}
    assert twin.sim_validate(s) is None


def test_a_trillion_replications_are_refused_before_any_run():
    with pytest.raises(twin.InvalidInputError, match=r"replications: 1000000000000 runs") as e:
        twin.sim_replicate(scenario(), 10**12)
    assert isinstance(e.value, ValueError)
    assert "limits.max_memory_bytes" in str(e.value)
    # A modest request still runs.
    assert len(twin.sim_replicate(scenario(devices=10), 2, threads=1)) == 2


# ------------------------------------------------------------------------- many runs


def test_replications_differ_and_do_not_depend_on_threads():
    a = twin.sim_replicate(scenario(loss=0.3), 3, threads=1)
    b = twin.sim_replicate(scenario(loss=0.3), 3, threads=2)
    assert len(a) == 3 and a == b
    delivered = [r.summary["delivered"] for r in a]
    assert len(set(delivered)) > 1, delivered
    assert all(r.summary["reports"] == 2000 for r in a)


def test_sweep_over_the_period():
    out = twin.sim_sweep(scenario(), "groups.0.period_s", [30.0, 60.0, 120.0], replications=2, threads=2)
    t = out["table"]
    assert out["path"] == "groups.0.period_s"
    np.testing.assert_array_equal(t["value"], [30, 30, 60, 60, 120, 120])
    np.testing.assert_array_equal(t["replication"], [0, 1, 0, 1, 0, 1])
    # 200 devices for 600 s: 600 / period readings each.
    np.testing.assert_array_equal(t["reports"], [4000, 4000, 2000, 2000, 1000, 1000])
    assert [r.summary["reports"] for r in out["reports"]] == list(t["reports"])
    with pytest.raises(twin.InvalidInputError, match="nope"):
        twin.sim_sweep(scenario(), "groups.0.nope", [1.0])


def test_paired_runs_share_random_numbers():
    p = twin.sim_paired(scenario(), scenario(loss=0.2), 3, threads=2)
    d = p["differences"]
    assert len(p["baseline"]) == len(p["variant"]) == 3
    # Same sensing on both sides: the readings are identical, only deliveries differ.
    np.testing.assert_array_equal(d["reports"], [0.0, 0.0, 0.0])
    for i in range(3):
        b, v = p["baseline"][i].summary, p["variant"][i].summary
        assert d["delivered"][i] == v["delivered"] - b["delivered"]
        # Loss of 20 % removes about 400 of 2000 deliveries (sd about 18).
        assert -480 < d["delivered"][i] < -320
    assert d["delivery_ratio"] == pytest.approx(
        [p["variant"][i].summary["delivery_ratio"] - p["baseline"][i].summary["delivery_ratio"] for i in range(3)]
    )


# ------------------------------------------------------------------------- the studies


def test_smart_grid_cuts_the_peak_on_paired_runs():
    r = twin.smart_grid(houses=400, seed=7)
    assert r["strategy"] == ["baseline", "shift_charging", "shift_and_setback"]
    # Paired: same base load and charging energy; shifting charging leaves heating unchanged.
    assert r["base_kwh"][0] == r["base_kwh"][1] == r["base_kwh"][2]
    assert r["charging_kwh"][1] == pytest.approx(r["charging_kwh"][0], abs=1e-6)
    assert r["heating_kwh"][0] == r["heating_kwh"][1]
    assert r["events"][0] == r["events"][1]
    assert 17.0 <= r["peak_at_h"][0] < 21.0
    assert r["peak_reduction"][0] == 0.0
    assert r["peak_reduction"][1] > 0.10
    assert r["peak_reduction"][1] == (r["peak_kw"][0] - r["peak_kw"][1]) / r["peak_kw"][0]
    assert r["heating_kwh"][2] < r["heating_kwh"][0]
    assert r["discomfort_deg_h"][2] >= r["discomfort_deg_h"][0]
    # Energy is conserved across the 15-minute intervals of the demand curves.
    assert r["demand_kw"].shape == (3, 128) and r["t_h"].shape == (128,)
    energy = r["demand_kw"].sum(axis=1) * 0.25
    parts = r["heating_kwh"] + r["charging_kwh"] + r["base_kwh"]
    np.testing.assert_allclose(energy, parts, rtol=1e-9)
    np.testing.assert_array_equal(r["peak_kw"], r["demand_kw"].max(axis=1))
    assert (r["peak_start_h"], r["peak_end_h"]) == (17.0, 21.0)


def test_smart_grid_default_numbers_match_the_rust_example():
    # `cargo run --example sim_smart_grid` prints 13083 kW at 19.75 h and a 37.4 % cut.
    r = twin.smart_grid()
    assert round(r["peak_kw"][0]) == 13083 and r["peak_at_h"][0] == 19.75
    assert round(100 * r["peak_reduction"][1], 1) == 37.4
    assert round(100 * r["peak_reduction"][2], 1) == 35.2
    only = twin.smart_grid(strategies=["shift_charging"])
    assert only["peak_kw"][0] == r["peak_kw"][1]


def test_building_coverage_grows_and_delivery_falls():
    r = twin.building_placement(counts=[10, 50, 200], threads=2)
    np.testing.assert_array_equal(r["sensors"], [10, 50, 200])
    c, d, k = r["coverage"], r["delivery"], r["collisions"]
    assert c[0] < c[1] < c[2] and c[2] > 0.8
    assert d[0] > d[2] and k[0] < k[2]
    # Near pure ALOHA's e^(-2G) for 200 sensors on 3 channels sending 56.6 ms a minute.
    g = 200 * 0.056576 / 60 / 3
    assert abs(d[2] - np.exp(-2 * g)) < 0.05
    assert (r["working"] <= r["sensors"]).all()
    # `cargo run --example sim_building`: 37.9 % and 92.9 % coverage at 10 and 50 sensors.
    assert round(100 * c[0], 1) == 37.9 and round(100 * c[1], 1) == 92.9


def test_traffic_green_wave_beats_simultaneous_signals():
    r = twin.traffic_corridor()
    assert r["plan"] == ["simultaneous 90 s", "green wave 90 s", "green wave 60 s"]
    np.testing.assert_array_equal(r["vehicles"], [600, 600, 600])
    np.testing.assert_array_equal(r["reports"], [4800, 4800, 4800])
    assert (r["mean_travel_s"] >= r["free_flow_s"] - 1e-6).all()
    assert r["stops_per_vehicle"][1] < 0.5 * r["stops_per_vehicle"][0]
    assert r["mean_travel_s"][1] < r["mean_travel_s"][0]
    for i, t in enumerate(r["travel_times_s"]):
        assert len(t) == 600 and (np.diff(t) >= 0).all()
        assert t.mean() == pytest.approx(r["mean_travel_s"][i], rel=1e-12)
    # `cargo run --example sim_traffic` prints 358.7 s, 244.9 s and 241.8 s.
    assert [round(x, 1) for x in r["mean_travel_s"]] == [358.7, 244.9, 241.8]
    custom = twin.traffic_corridor(vehicles=50, plans=[{"name": "long", "cycle_s": 120, "green_s": 60, "offset_step_s": 0}])
    assert custom["plan"] == ["long"] and custom["vehicles"][0] == 50


def test_study_settings_are_checked():
    with pytest.raises(twin.InvalidInputError, match="grid.houses"):
        twin.smart_grid(houses=0)
    with pytest.raises(twin.InvalidInputError, match="homes"):
        twin.smart_grid(homes=3)
    with pytest.raises(twin.InvalidInputError, match="strategies"):
        twin.smart_grid(strategies=[])
    with pytest.raises(twin.InvalidInputError, match=r"traffic\.plans\.0\.green_s"):
        twin.traffic_corridor(plans=[{"name": "x", "cycle_s": 60, "green_s": 90, "offset_step_s": 0}])
    with pytest.raises(twin.InvalidInputError, match=r"building\.counts\.1"):
        twin.building_placement(counts=[5, 0])


# ------------------------------------------------------------------------- the example script


def test_smart_grid_example_draws_the_plot_and_prints_the_library_numbers(tmp_path):
    out = tmp_path / "grid.png"
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/sim_smart_grid.py"), str(out), "--houses", "300"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.exists() and out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lib = twin.smart_grid(houses=300)
    printed = {}
    for line in run.stdout.splitlines():
        m = re.match(r"(\w+)\s+(\d+)\s+([\d.]+)\s+(-?[\d.]+)%", line)
        if m:
            printed[m.group(1)] = float(m.group(4))
    assert list(printed) == lib["strategy"]
    for name, red in zip(lib["strategy"], lib["peak_reduction"]):
        assert printed[name] == round(100 * red, 1)


def test_building_and_traffic_examples_draw_their_plots(tmp_path):
    b, t = tmp_path / "b.png", tmp_path / "t.png"
    out_b = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/sim_building.py"), str(b)],
        capture_output=True, text=True, check=True,
    ).stdout
    out_t = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/sim_traffic.py"), str(t), "--vehicles", "200"],
        capture_output=True, text=True, check=True,
    ).stdout
    for png in (b, t):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    lib_b = twin.building_placement()
    rows = [l.split() for l in out_b.splitlines() if re.match(r"\s+\d+\s+[\d.]+%", l)]
    assert [int(r[0]) for r in rows] == list(lib_b["sensors"])
    assert [r[1] for r in rows] == [f"{100 * c:.1f}%" for c in lib_b["coverage"]]
    lib_t = twin.traffic_corridor(vehicles=200)
    means = [float(m.group(1)) for m in re.finditer(r"^\D+?\d+ s\s+([\d.]+)", out_t, re.M)]
    assert means == [round(x, 1) for x in lib_t["mean_travel_s"]]


def test_a_run_releases_the_gil():
    """Another Python thread gets work done while a long run is under way."""
    import threading
    import time

    def work(devices):
        return lambda: twin.sim_run(scenario(devices=devices, horizon_s=3600.0))

    n = 2_000
    while True:
        t0 = time.perf_counter()
        work(n)()
        if time.perf_counter() - t0 >= 0.4 or n >= 2_000_000:
            break
        n *= 2
    started, ended = threading.Event(), {}

    def run():
        started.set()
        work(n)()
        ended["work"] = time.perf_counter()

    th = threading.Thread(target=run)
    th.start()
    started.wait()
    time.sleep(0.02)
    s = 0
    for i in range(20_000):
        s += i
    mine = time.perf_counter()
    th.join()
    assert mine < ended["work"]
