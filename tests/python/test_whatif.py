"""What-if, physics models, maintenance optimisation and decision support from Python,
checked on the numbers the Rust tests check (tests/whatif.rs, tests/models.rs,
tests/maintenance.rs): closed-form wear, the renewal-reward cost rate, infeasible
optimisations and unsafe commands refused."""

import math
import pickle

import numpy as np
import pytest

import twin

DAY = 86_400.0
H = 3600.0
S = 1_000_000_000


def mirrored_twin(days, seed=11):
    """A twin with a conveyor model that has mirrored a simulated drive for ``days``."""
    drive = twin.ConveyorDrive(seed=seed)
    schema = twin.Schema.conveyor()
    t = twin.Twin(schema, model=twin.ConveyorModel())
    while drive.now < days * DAY * S:
        drive.advance(300.0)
        scan = drive.sense()
        names = list(scan)
        t.ingest_batch(
            np.full(len(names), drive.now, dtype=np.int64),
            np.array([schema.signal_id(n) for n in names], dtype=np.uint32),
            np.array([scan[n] for n in names]),
        )
    return t


def test_a_deterministic_what_if_follows_the_closed_form_wear_law():
    t = mirrored_twin(5.0)
    w0 = t.estimate("wear")
    assert 0.0 < w0 < 0.5
    cfg = twin.ConveyorModel().config
    load, speed, dt = 0.8, 1.8, 600.0
    s = twin.WhatIfScenario(
        60 * DAY, dt, inputs={"load": load, "speed_setpoint": speed},
        paths=3, seed=0, parameter_uncertainty=0.0, process_noise=0.0,
    )
    r = t.what_if(s)
    assert r.names == ["wear"]
    p50 = r.quantile(0.5)
    # One row per step plus the start.
    assert p50.shape == (s.steps + 1, 1)
    assert r.percentiles.shape == (3, s.steps + 1, 1)
    a = cfg["wear_rate"] * (load / cfg["nominal_load"]) ** 1.5 * (speed / cfg["nominal_speed"]) ** 2
    # Euler on dw/dt = a (1 + 2w): 1 + 2 w_k = (1 + 2 w0) (1 + 2 a dt)^k exactly.
    for k in [0, 1, 100, 1000, 2000]:
        expect = min(((1 + 2 * w0) * (1 + 2 * a * dt) ** k - 1) / 2, 1.0)
        assert abs(p50[k, 0] - expect) < 1e-9 * (1 + expect), k
        assert r.quantile(0.05)[k, 0] == p50[k, 0]  # one path repeated
    # All three paths fail within two steps of the continuous law's failure time.
    t_fail = math.log(3 / (1 + 2 * w0)) / (2 * a)
    assert r.summary["failed"] == 3 and r.failure_probability == 1.0
    assert len(r.failure_times) == 3
    assert abs(r.failure_times[0] - t_fail) <= 2 * dt + 1e-3 * t_fail
    assert r.times_s[-1] == pytest.approx(60 * DAY)
    with pytest.raises(twin.InvalidInputError, match="level"):
        r.quantile(0.25)
    # Results pickle through JSON.
    back = pickle.loads(pickle.dumps(r))
    assert np.array_equal(back.quantile(0.5), p50)


def test_a_what_if_leaves_the_twin_unchanged():
    t = mirrored_twin(10.0)
    before = t.snapshot()
    counters = (t.counters, t.command_counters)
    s = {
        "horizon_s": 30 * DAY, "step_s": 600.0,
        "inputs": {"speed_setpoint": {"kind": "constant", "value": 2.5}},
        "faults": [{"at_s": DAY, "effect": {"kind": "add_state", "state": "wear", "value": 0.2}}],
        "monte_carlo": {"paths": 100, "seed": 3},
    }
    r = t.what_if(s)
    assert r.summary["failed"] > 0
    assert t.snapshot() == before
    assert (t.counters, t.command_counters) == counters


def test_faults_and_inputs_on_a_model_change_the_life_as_the_law_says():
    m = twin.ConveyorModel()
    base = dict(paths=1, seed=0, parameter_uncertainty=0.0, process_noise=0.0)
    nominal = m.what_if(twin.WhatIfScenario(90 * DAY, 600.0, **base)).failure_times[0]
    doubled = m.what_if(twin.WhatIfScenario(
        90 * DAY, 600.0,
        faults=[{"at_s": 0.0, "effect": {"kind": "scale_parameter", "parameter": "wear_rate", "factor": 2.0}}],
        **base,
    )).failure_times[0]
    assert abs(doubled / nominal - 0.5) < 0.01
    # A new bearing at nominal duty fails at ln 3 / (2 r).
    r = m.config["wear_rate"]
    assert abs(nominal - math.log(3) / (2 * r)) <= 600.0 + 1e-3 * nominal
    stopped = m.what_if(twin.WhatIfScenario(
        90 * DAY, 600.0,
        inputs={"speed_setpoint": {"kind": "step", "before": 2.0, "after": 0.0, "at_s": 5 * DAY}},
        **base,
    ))
    assert stopped.summary["failed"] == 0


def test_bad_scenarios_raise_typed_errors_naming_the_problem():
    t = twin.Twin(twin.Schema.conveyor(), model=twin.ConveyorModel())
    with pytest.raises(twin.UnknownSignalError):
        t.what_if(twin.WhatIfScenario(DAY, 60.0, inputs={"warp_drive": 1.0}))
    with pytest.raises(twin.InvalidInputError):
        twin.WhatIfScenario(-1.0, 60.0)
    with pytest.raises(twin.InvalidInputError, match="scenario"):
        t.what_if({"horizon_s": "long"})
    with pytest.raises(twin.InvalidInputError, match="inputs"):
        twin.WhatIfScenario(DAY, 60.0, inputs={"load": {"kind": "wobble"}})
    with pytest.raises(twin.InvalidInputError, match="model"):
        twin.Twin(twin.Schema.conveyor()).what_if(twin.WhatIfScenario(DAY, 60.0))
    with pytest.raises(twin.InvalidInputError, match="unknown config setting"):
        twin.ThermalModel(resistence=1.0)
    with pytest.raises(twin.InvalidInputError, match="model"):
        twin.Twin(twin.Schema.conveyor(), model="conveyor")
    # Every error is also a ValueError.
    with pytest.raises(ValueError):
        twin.WhatIfScenario(DAY, 0.0)


def test_scenarios_round_trip_and_twins_with_models_pickle():
    s = twin.WhatIfScenario(DAY, 60.0, inputs={"speed_setpoint": 1.6}, paths=50, seed=7)
    assert s.steps == 1440
    assert twin.WhatIfScenario.from_json(s.to_json()) == s
    assert pickle.loads(pickle.dumps(s)) == s
    t = mirrored_twin(2.0)
    back = pickle.loads(pickle.dumps(t))
    assert back.snapshot() == t.snapshot()
    assert back.estimate("wear") == t.estimate("wear")
    r1 = t.what_if(s)
    r2 = back.what_if(s)
    assert np.array_equal(r1.mean, r2.mean)


def test_physics_models_as_entities_and_models():
    # Thermal mass: heated, it warms towards ambient + P R; the model's what-if agrees.
    cfg = twin.ThermalModel().config
    m = twin.ThermalMass(seed=1, sensor_noise=0.0)
    m.actuate("set_power", 500.0)
    for _ in range(200):
        m.advance(cfg["resistance"] * cfg["capacitance"] / 10)
    reading = m.sense()
    steady = reading["ambient"] + 500.0 * cfg["resistance"]
    assert abs(reading["temperature"] - steady) < 0.01 * abs(steady)
    with pytest.raises(twin.OutOfRangeError):
        m.actuate("set_power", 1e9)
    tm = twin.ThermalModel()
    assert "temperature" in tm.state_names
    # Every model class runs forward and names its variables.
    for cls in (twin.ConveyorModel, twin.ThermalModel, twin.BatteryModel, twin.PumpModel, twin.WindTurbineModel):
        model = cls()
        r = model.what_if(twin.WhatIfScenario(3600.0, 60.0, paths=4, seed=1))
        assert r.names == model.state_names
        assert r.mean.shape == (61, len(model.state_names))
        assert pickle.loads(pickle.dumps(model)).config == model.config
        assert isinstance(cls.standard_schema(), twin.Schema)
    for cls in (twin.ConveyorDrive, twin.ThermalMass, twin.BatteryCell, twin.PumpDrive, twin.WindTurbine):
        e = cls(seed=2)
        e.advance(60.0)
        assert e.now == 60 * S
        assert set(e.sense()) <= set(e.schema.signal_names)


def test_simulated_age_replacement_matches_the_renewal_reward_cost_rate():
    shape, scale = 2.5, 1000.0 * H
    life = {"kind": "weibull", "shape": shape, "scale": scale}
    for t in [300.0 * H, 600.0 * H, 1200.0 * H, math.inf]:
        policy = {"kind": "periodic", "interval_s": t} if math.isfinite(t) else {"kind": "run_to_failure"}
        r = twin.maintenance_evaluate(policy, life, units=400, horizon_s=100_000.0 * H, seed=9)
        analytic = twin.age_replacement_cost_rate(shape, scale, t)
        assert abs(r["cost_rate"] / analytic - 1.0) < 0.015, t
        renewals = r["failures"] + r["preventive"]
        f = 1.0 if math.isinf(t) else 1.0 - math.exp(-((t / scale) ** shape))
        assert abs(r["failures"] / renewals - f) < 0.01
    # Run to failure: the corrective cost per mean life plus its downtime, in closed form.
    c = twin.maintenance_costs()
    down = c["corrective_downtime_h"] + c["spare_lead_time_h"]
    cf = c["corrective"] + c["spare"] + c["downtime_per_hour"] * down
    mtbf = scale * math.gamma(1 + 1 / shape)
    assert twin.age_replacement_cost_rate(shape, scale, math.inf) == pytest.approx(cf / (mtbf + down * H), rel=1e-12)


def test_the_optimal_replacement_age_beats_a_grid_and_infeasible_requests_raise():
    shape, scale = 3.0, 1000.0 * H
    best = twin.optimise_age_replacement(shape, scale, 10 * H, 3000 * H)
    grid = [twin.age_replacement_cost_rate(shape, scale, i * 10 * H) for i in range(1, 301)]
    assert best["cost_rate"] <= min(grid) * (1 + 1e-9)
    assert 200 * H < best["parameter"] < 1000 * H
    assert best["policy"] == {"kind": "periodic", "interval_s": best["parameter"]}
    cap = 0.01
    capped = twin.optimise_age_replacement(shape, scale, 10 * H, 3000 * H, max_failure_probability=cap)
    assert abs(capped["parameter"] / (scale * (-math.log(1 - cap)) ** (1 / shape)) - 1) < 0.01
    with pytest.raises(twin.InvalidInputError, match="infeasible"):
        twin.optimise_age_replacement(shape, scale, 10 * H, 3000 * H, max_failure_probability=1e-9)
    with pytest.raises(twin.InvalidInputError, match="infeasible"):
        twin.optimise_policy("periodic", 5 * DAY, 40 * DAY, units=20, seed=1, min_availability=0.9999)
    with pytest.raises(twin.InvalidInputError, match="family"):
        twin.optimise_policy("sometimes", 1.0, 2.0)
    with pytest.raises(twin.InvalidInputError, match="costs"):
        twin.maintenance_evaluate({"kind": "run_to_failure"}, costs={"spares": 1.0})
    with pytest.raises(twin.InvalidInputError, match="policy"):
        twin.maintenance_evaluate({"kind": "whenever"})
    with pytest.raises(twin.InvalidInputError):
        twin.maintenance_evaluate({"kind": "run_to_failure"}, units=0)


def test_survive_window_matches_the_wear_law():
    window = 45 * DAY
    s = twin.WhatIfScenario(window, 600.0, paths=1, seed=0, parameter_uncertainty=0.0, process_noise=0.0)
    a = twin.survive_window(twin.ConveyorModel(), s, "speed_setpoint", 0.5, 2.5, confidence=0.5)
    c = twin.ConveyorModel().config
    v_star = c["nominal_speed"] * math.sqrt(math.log(3) / (2 * c["wear_rate"] * window))
    assert abs(a["value"] / v_star - 1) < 0.005
    assert a["survival"] == 1.0 and a["survival_at_hi"] == 0.0
    with pytest.raises(twin.InvalidInputError, match="infeasible"):
        twin.survive_window(twin.ConveyorModel(), s, "speed_setpoint", 2.4, 2.5)
    with pytest.raises(twin.UnknownSignalError):
        twin.survive_window(twin.ConveyorModel(), s, "warp", 0.5, 2.5)


def test_a_recommendation_is_submitted_through_the_gate_and_an_unsafe_one_never_sent():
    t = mirrored_twin(20.0)
    s = twin.WhatIfScenario(25 * DAY, 3600.0, paths=200, seed=1)
    rec = twin.advise_survival(t, s, "speed_setpoint", "set_speed", 0.5, 2.0, confidence=0.9)
    assert rec["command"] == "set_speed" and 0.5 <= rec["value"] < 2.0
    assert rec["advice"]["survival"] >= 0.9
    time = t.now + S
    cmd = twin.submit_recommendation(t, rec, time)
    assert cmd.name == "set_speed" and cmd.value == rec["value"]
    assert [c.value for c in t.pending_commands()] == [rec["value"]]
    assert t.audit_log()[-1]["source"] == rec["source"]
    # Over the command's limits: refused with the mapped exception, logged, never sent.
    with pytest.raises(twin.OutOfRangeError):
        twin.submit_recommendation(t, {"command": "set_speed", "value": 4.0, "source": "advisor"}, time + 60 * S)
    assert [c.value for c in t.take_commands()] == [rec["value"]]
    refused = [e for e in t.audit_log() if e["outcome"] == "refused"]
    assert [(e["value"], e["reason"]) for e in refused] == [(4.0, "out_of_range")]
    assert t.command_counters["refused"] == 1
    with pytest.raises(twin.InvalidInputError, match="value"):
        twin.submit_recommendation(t, {"command": "set_speed"}, time)


# ---- the case-study scripts ------------------------------------------------------------

import pathlib  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run_script(name, *args):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / name), *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=True,
    )
    return out.stdout


def test_conveyor_fleet_script_prints_the_librarys_figures_and_draws_a_plot(tmp_path):
    png = tmp_path / "fleet.png"
    out = run_script("case_conveyor_fleet.py", png, "--units", 30, "--seed", 7)
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    study = twin.conveyor_fleet_study(units=30, seed=7)
    m = re.search(r"downtime ([-+]\d+\.\d)%, cost ([-+]\d+\.\d)%", out)
    assert m, out
    assert float(m.group(1)) == round(-100 * study["downtime_cut"], 1)
    assert float(m.group(2)) == round(100 * (study["cost_ratio"] - 1), 1)
    # One row per policy with the library's counts of failures and planned replacements.
    for r in study["reports"]:
        row = next(line for line in out.splitlines() if line.startswith(r["label"]))
        failures, planned = row[34:].split()[:2]
        assert (int(failures), int(planned)) == (r["failures"], r["preventive"])


def test_wind_farm_script_prints_the_librarys_figures_and_draws_a_plot(tmp_path):
    png = tmp_path / "wind.png"
    out = run_script("case_wind_farm.py", png, "--scales", 7.0, 9.5, "--seed", 3)
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = twin.wind_farm_study(scales=[7.0, 9.5], seed=3)
    printed = [line.split() for line in out.splitlines() if re.match(r"\s+\d+\.\d\s", line)]
    assert len(printed) == 2
    for cols, r in zip(printed, rows):
        assert float(cols[0]) == r["wind_scale"]
        assert float(cols[4]) == round(r["derate"], 3)
        assert float(cols[5]) == round(r["survival_derated"], 3)
    # The Rust test's headline: the calm site keeps full power, the windy one is derated
    # just enough to reach the blade change with 90% confidence.
    calm, windy = rows
    assert calm["derate"] == 1.0 and calm["survival_full"] >= 0.9
    assert 0.3 <= windy["derate"] < 1.0 and windy["survival_derated"] >= 0.9 > windy["survival_full"]
    assert windy["damage_rate_after"] < 0.7 * windy["damage_rate_before"]


import doctest  # noqa: E402

WITH_EXAMPLES = [
    "WhatIfScenario", "ConveyorModel", "ThermalModel", "BatteryModel", "PumpModel", "WindTurbineModel",
    "ConveyorDrive", "ThermalMass", "maintenance_evaluate", "age_replacement_cost_rate",
    "optimise_age_replacement", "optimise_policy", "survive_window", "submit_recommendation",
    "Twin.what_if",
]


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    obj = twin
    for part in name.split("."):
        obj = getattr(obj, part)
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, module=False, globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for t in tests:
        runner.run(t)
    assert runner.tries > 0 and runner.failures == 0


# ---- long calls release the GIL ------------------------------------------------------

from test_analytics_gil import long_enough, other_thread_finished_first  # noqa: E402


def whatif_call(k):
    t = twin.Twin(twin.Schema.conveyor(), model=twin.ConveyorModel())
    s = twin.WhatIfScenario(30 * DAY, 600.0, paths=100 * k, seed=1)
    return lambda: t.what_if(s)


def evaluate_call(k):
    return lambda: twin.maintenance_evaluate(
        {"kind": "rul_based", "lead_time_s": DAY, "inspection_interval_s": DAY}, units=100 * k, seed=1
    )


@pytest.mark.parametrize("make", [whatif_call, evaluate_call], ids=["what_if", "maintenance_evaluate"])
def test_monte_carlo_and_policy_simulation_release_the_gil(make):
    assert other_thread_finished_first(long_enough(make))
