"""Analytics engines and decision rules on Python twins: ``Twin(engines=..., rules=...)``.

The engines run the same Rust detectors and models as the standalone classes, so a twin's
insights are checked against the standalone objects fed the same values; the derate rule
against the arithmetic of its configuration; snapshots, pickles and fleets against an
uninterrupted twin."""

import pickle

import numpy as np
import pytest

import twin

S = 10**9
H = 3600 * S
SCHEMA = twin.Schema.conveyor()



def shifted(n=600, at=400, seed=5, mean=2.0, sd=0.1, shift=0.2):
    """Vibration with a mean shift of `shift` (2 sd by default) from sample `at`."""
    x = mean + sd * np.random.default_rng(seed).standard_normal(n)
    x[at:] += shift
    return x


def feed(t, signal, x, start=0, step=S):
    for k, v in enumerate(x):
        t.ingest(start + k * step, signal, float(v))


# ---- a CUSUM engine ----


def test_cusum_engine_alarms_exactly_where_the_standalone_cusum_does():
    x = shifted()
    cusum = twin.Cusum()
    engine = twin.DetectorEngine(cusum, signals="vibration")
    t = twin.Twin(SCHEMA, monitor=False, engines=[engine])
    # Interleave another signal that shifts far more: the engine does not watch it.
    speed = shifted(seed=9, mean=1.5, shift=1.0)
    for k in range(len(x)):
        t.ingest(k * S, "vibration", float(x[k]))
        t.ingest(k * S, "belt_speed", float(speed[k]))
    got = t.drain_insights()
    _, like, alarm = twin.Cusum().detect_many(x)
    expected = np.flatnonzero(alarm)
    assert [i.time // S for i in got] == expected.tolist()
    assert all(i.signal_name == "vibration" and i.kind == "drift" for i in got)
    assert [i.score for i in got] == like[alarm].tolist()
    assert [i.value for i in got] == x[alarm].tolist()
    # The first alarm follows the shift at 400 within the detector's delay: k = 0.5 sd,
    # h = 11.5 sd, Siegmund's delay for a 2 sd shift is 8.5 samples (the standalone
    # test's bound: median within 12, 90% within 20).
    assert len(got) >= 1
    first = got[0].time // S
    assert 400 <= first <= 420, first
    # The Python object given was copied, not moved: it has learnt nothing.
    assert not cusum.is_warm


def test_detector_engine_copies_the_detector_in_its_current_state():
    x = shifted()
    warm = twin.Cusum()
    warm.score_many(x[:300])
    t = twin.Twin(SCHEMA, monitor=False, engines=[twin.DetectorEngine(warm, "vibration")])
    # Changing the Python detector afterwards does not reach the twin.
    warm.reset()
    feed(t, "vibration", x[300:], start=300 * S)
    ref = twin.Cusum()
    ref.score_many(x[:300])
    _, _, alarm = ref.detect_many(x[300:])
    assert [i.time // S - 300 for i in t.drain_insights()] == np.flatnonzero(alarm).tolist()
    assert np.flatnonzero(alarm).size >= 1


def test_detector_engine_without_signals_watches_every_telemetry_signal():
    e = twin.DetectorEngine(twin.Cusum(warmup=20))
    assert e.signals is None and e.name == "cusum_detector"
    t = twin.Twin(SCHEMA, monitor=False, engines=[e])
    x = shifted(n=200, at=100, shift=1.0)
    for k in range(len(x)):
        t.ingest(k * S, "vibration", float(x[k]))
        t.ingest(k * S, "motor_temp", 40.0 + float(x[k]))
        t.ingest(k * S, "speed_setpoint", 1.0 + k * 1e-3)  # a property: not watched
    signals = {i.signal_name for i in t.drain_insights()}
    assert signals == {"vibration", "motor_temp"}


def test_two_engines_of_one_kind_need_their_own_names():
    a = twin.DetectorEngine(twin.HalfSpaceTrees(), "vibration")
    b = twin.DetectorEngine(twin.HalfSpaceTrees(), "motor_temp")
    t = twin.Twin(SCHEMA, monitor=False, engines=[a, b])
    assert t.engine_names == ["hst_detector[vibration]", "hst_detector[motor_temp]"]
    with pytest.raises(twin.InvalidInputError, match="two parts are named"):
        twin.Twin(SCHEMA, engines=[a, twin.DetectorEngine(twin.HalfSpaceTrees(), "vibration")])
    c = twin.DetectorEngine(twin.HalfSpaceTrees(), "vibration", name="hst_2")
    assert twin.Twin(SCHEMA, monitor=False, engines=[a, c]).engine_names == ["hst_detector[vibration]", "hst_2"]


# ---- multivariate ----


def correlated(n, seed):
    rng = np.random.default_rng(seed)
    s = rng.normal(1.5, 0.1, n)
    return np.column_stack([s, 2.0 * s + rng.normal(0.0, 0.02, n)])


@pytest.mark.parametrize("cls", [twin.PcaDetector, twin.MahalanobisDetector])
def test_multivariate_engine_scores_each_scan_like_the_standalone_model(cls):
    model = cls().fit(correlated(2000, 1))
    e = twin.MultivariateEngine(model, ["belt_speed", "vibration"])
    assert e.signals == ["belt_speed", "vibration"]
    t = twin.Twin(SCHEMA, monitor=False, engines=[e])
    X = correlated(300, 2)
    X[150, 1] = 2.0 * X[150, 0] - 0.5  # breaks the correlation once
    X[220, 1] = 2.0 * X[220, 0] + 0.6
    n = len(X)
    times = np.repeat(np.arange(n) * S, 2)
    sigs = np.tile(np.array([0, 1], dtype=np.uint32), n)
    t.ingest_batch(times, sigs, X.ravel())
    got = t.drain_insights()
    flagged = np.flatnonzero(model.predict(X) == 1)
    assert [i.time // S for i in got] == flagged.tolist()
    assert {150, 220} <= set(flagged.tolist())
    assert all(i.kind == "anomaly" and i.signal_name in ("belt_speed", "vibration") for i in got)


def test_multivariate_engine_refuses_an_unfitted_model_and_a_wrong_width():
    with pytest.raises(twin.InvalidInputError, match=r"^model: .*not fitted"):
        twin.MultivariateEngine(twin.PcaDetector(), ["belt_speed", "vibration"])
    with pytest.raises(twin.InvalidInputError, match=r"^model: .*not fitted"):
        twin.MultivariateEngine(twin.MahalanobisDetector(), ["belt_speed", "vibration"])
    m = twin.PcaDetector().fit(correlated(500, 3))
    with pytest.raises(twin.InvalidInputError, match="3 names given for a model of 2"):
        twin.MultivariateEngine(m, ["belt_speed", "vibration", "load"])
    with pytest.raises(twin.InvalidInputError, match="listed twice"):
        twin.MultivariateEngine(m, ["vibration", "vibration"])


# ---- RUL on a degrading conveyor ----


def wear_units(n, seed, life=(80, 140)):
    """Conveyors whose vibration (mm/s) rises as the bearing wears: 2 + 3 exp(-rul / 25)."""
    rng = np.random.default_rng(seed)
    X, ids, lives = [], [], []
    for u in range(n):
        L = int(rng.integers(*life))
        rul = L - 1 - np.arange(L)
        X.append(2.0 + 3.0 * np.exp(-rul / 25.0) + 0.03 * rng.standard_normal(L))
        ids.append(np.full(L, u))
        lives.append(L)
    return np.concatenate(X)[:, None], np.concatenate(ids), np.array(lives)


@pytest.fixture(scope="module")
def rul_model():
    X, ids, _ = wear_units(30, 11)
    return twin.RegressionRul(cap=60.0, n_trees=40, max_depth=3, folds=3, seed=3, threads=1).fit(X, ids)


def test_rul_engine_predicts_like_the_model_on_a_degrading_conveyor(rul_model):
    X, _, lives = wear_units(1, 99, life=(110, 111))
    life = int(lives[0])
    seen = 90  # rows observed: 20 cycles of life left
    e = twin.RulEngine(rul_model, "vibration")
    assert repr(e) == "RulEngine(RegressionRul, signals=['vibration'], every=1, clock='cycles', name='rul')"
    t = twin.Twin(SCHEMA, monitor=False, engines=[e])
    feed(t, "vibration", X[:seen, 0], step=60 * S)
    ruls = [i for i in t.drain_insights() if i.kind == "rul"]
    assert ruls, "the engine predicted"
    last = ruls[-1]
    assert last.time == (seen - 1) * 60 * S and last.signal_name == "vibration"
    # The same rows given to the standalone model: the same prediction.
    rul, lower, _ = rul_model.predict_interval(X[:seen], np.zeros(seen, dtype=np.int64))
    assert last.value == pytest.approx(rul[0], rel=1e-12)
    assert last.score == pytest.approx(lower[0], rel=1e-12)
    # And near the truth (20 cycles left), the lower end below the point estimate.
    assert abs(last.value - (life - seen)) < 8.0, last
    assert last.score <= last.value
    # Late predictions fall as the conveyor wears.
    late = [i.value for i in ruls if i.time >= 60 * 60 * S]
    assert late[0] > late[-1]


def test_rul_engine_settings_are_checked(rul_model):
    with pytest.raises(twin.InvalidInputError, match="trained on 1"):
        twin.RulEngine(rul_model, ["vibration", "load"])
    with pytest.raises(twin.InvalidInputError, match="every"):
        twin.RulEngine(rul_model, "vibration", every=0)
    with pytest.raises(twin.InvalidInputError, match="clock"):
        twin.RulEngine(rul_model, "vibration", clock="days")
    with pytest.raises(twin.InvalidInputError, match=r"^model: .*not fitted"):
        twin.RulEngine(twin.RegressionRul(), "vibration")


# ---- the derate rule ----


def derate_twin(**rule):
    t = twin.Twin(SCHEMA, rules=[twin.DerateRule(**rule)])
    t.ingest(0, "speed_setpoint", 2.0)
    return t


def alarms_at(t, hours, start=0):
    """A vibration alarm (above the 4.5 mm/s limit) at each hour, cleared 30 min later."""
    for h in hours:
        t.ingest(start + int(h * H), "vibration", 6.0)
        t.ingest(start + int(h * H) + H // 2, "vibration", 2.0)


def test_derate_rule_cuts_the_set_point_by_20_percent_after_three_alarms_in_six_hours():
    t = derate_twin()
    alarms_at(t, [1, 3])
    assert t.pending_commands() == []
    alarms_at(t, [6.5])  # third alarm, 5.5 h after the first
    (cmd,) = t.pending_commands()
    assert (cmd.name, cmd.value, cmd.time) == ("set_speed", pytest.approx(1.6), int(6.5 * H))
    assert t.desired("speed_setpoint") == pytest.approx(1.6)
    (entry,) = t.audit_log()
    assert entry["source"] == "derate_on_persistent_anomaly" and entry["outcome"] == "accepted"
    assert t.command_counters["accepted"] == 1


def test_derate_rule_waits_for_persistence_and_cooldown_and_respects_the_floor():
    t = derate_twin()
    # Three alarms spread over 7 h: not persistent.
    alarms_at(t, [0, 3.5, 7])
    assert t.pending_commands() == []
    # Two more within 6 h of the one at 7 h: act.
    alarms_at(t, [8, 9])
    values = [c.value for c in t.take_commands()]
    assert values == [pytest.approx(1.6)]
    # Inside the one-day cooldown nothing more happens however many alarms come.
    alarms_at(t, [10, 11, 12, 13])
    assert t.take_commands() == []
    # Each later day: 1.6 * 0.8 = 1.28, then 1.024, then the floor of 1.0, then nothing.
    for day in (1, 2, 3, 4):
        alarms_at(t, [9 + 24 * day, 10 + 24 * day, 11 + 24 * day])
        values += [c.value for c in t.take_commands()]
    assert values == pytest.approx([1.6, 1.28, 1.024, 1.0])
    assert t.desired("speed_setpoint") == 1.0


def test_derate_rule_commands_go_through_the_command_gate():
    # A factor that asks for more than set_speed's limits allow (its max_rate is 0.05 m/s
    # per s): the request one second after a user command is refused and audited.
    t = derate_twin(min_events=1, factor=0.5, floor=0.0)
    t.command("set_speed", 2.0, H - S)
    alarms_at(t, [1])
    log = t.audit_log()
    assert [e["source"] for e in log] == ["user", "derate_on_persistent_anomaly"]
    assert log[1]["outcome"] == "refused" and log[1]["reason"] == "rate_limited"
    assert t.command_counters["refused"] == 1


def test_derate_rule_settings_mirror_the_rust_config():
    r = twin.DerateRule()
    assert (r.signal, r.command, r.min_events, r.window_s, r.factor, r.floor, r.cooldown_s) == (
        "vibration", "set_speed", 3, 21600.0, 0.8, 1.0, 86400.0,
    )
    assert r.name == "derate_on_persistent_anomaly"
    with pytest.raises(twin.InvalidInputError, match="factor"):
        twin.DerateRule(factor=1.0)
    with pytest.raises(twin.InvalidInputError, match="min_events"):
        twin.DerateRule(min_events=0)
    with pytest.raises(twin.InvalidInputError, match="window_s"):
        twin.DerateRule(window_s=float("nan"))
    assert pickle.loads(pickle.dumps(twin.DerateRule(floor=0.5))) == twin.DerateRule(floor=0.5)


# ---- bad input names the argument ----


def test_bad_engines_and_rules_raise_errors_naming_the_argument():
    ok = twin.DetectorEngine(twin.Cusum(), "vibration")
    with pytest.raises(TypeError, match=r"^engines\[1\]: expected a twin.DetectorEngine.*got Cusum \(wrap it"):
        twin.Twin(SCHEMA, engines=[ok, twin.Cusum()])
    with pytest.raises(TypeError, match=r"^engines\[0\]: .*got str"):
        twin.Twin(SCHEMA, engines=["cusum"])
    with pytest.raises(TypeError, match="engines must be a sequence, not a str"):
        twin.Twin(SCHEMA, engines="cusum")
    with pytest.raises(TypeError, match=r"^rules\[0\]: expected a twin.DerateRule, got DetectorEngine"):
        twin.Twin(SCHEMA, rules=[ok])
    with pytest.raises(twin.UnknownSignalError, match=r"^engines\[1\]: .*vibraton"):
        twin.Twin(SCHEMA, engines=[ok, twin.DetectorEngine(twin.Cusum(), "vibraton")])
    m = twin.PcaDetector().fit(correlated(500, 3))
    with pytest.raises(twin.UnknownSignalError, match=r"^engines\[0\]: .*speed"):
        twin.Twin(SCHEMA, engines=[twin.MultivariateEngine(m, ["speed", "vibration"])])
    with pytest.raises(twin.UnknownSignalError, match=r"^rules\[0\]: .*set_sped"):
        twin.Twin(SCHEMA, rules=[twin.DerateRule(command="set_sped")])
    # A signal that is not a property-setting command's target.
    with pytest.raises(twin.UnknownSignalError, match=r"^rules\[0\]: .*temperature"):
        twin.Twin(SCHEMA, rules=[twin.DerateRule(signal="temperature")])
    with pytest.raises(TypeError, match="detector: expected a streaming detector"):
        twin.DetectorEngine(twin.PcaDetector(), "vibration")
    with pytest.raises(TypeError, match="model: expected a fitted PcaDetector"):
        twin.MultivariateEngine(twin.Cusum(), ["vibration"])


# ---- snapshots, pickles, fleets ----


def busy_twin():
    """A twin with the monitor, a model and every kind of engine and a rule."""
    pca = twin.PcaDetector().fit(correlated(1000, 4))
    engines = [
        twin.DetectorEngine(twin.Cusum(warmup=30), "vibration"),
        twin.DetectorEngine(twin.HalfSpaceTrees(window=50), ["motor_temp"], name="hst_temp"),
        twin.MultivariateEngine(pca, ["belt_speed", "vibration"]),
    ]
    return twin.Twin(SCHEMA, engines=engines, rules=[twin.DerateRule()])


def stream(n=2000, seed=8):
    """Minute scans of belt speed, vibration and motor temperature, with drifts, spikes
    and vibration alarms."""
    rng = np.random.default_rng(seed)
    # The belt's set-point (signal 4), which the derate rule cuts.
    times, sigs, vals = [0], [4], [2.0]
    for k in range(n):
        speed = 1.5 + 0.05 * rng.standard_normal()
        vib = 2.0 * speed + 0.02 * rng.standard_normal() + (0.3 if k > n // 2 else 0.0)
        if k % 97 == 0 and k > 0:
            vib = 6.0
        temp = 50.0 + rng.standard_normal() + (8.0 if k % 211 == 0 else 0.0)
        for s, v in ((0, speed), (1, vib), (2, temp)):
            times.append(k * 60 * S)
            sigs.append(s)
            vals.append(v)
    return np.array(times, dtype=np.int64), np.array(sigs, dtype=np.uint32), np.array(vals)


def run(t, cols, lo, hi):
    times, sigs, vals = cols
    for a in range(lo, hi, 300):
        b = min(a + 300, hi)
        t.ingest_batch(times[a:b], sigs[a:b], vals[a:b])


def outputs(t):
    return (
        [(i.time, i.signal, i.kind, i.value, i.score) for i in t.drain_insights()],
        [(c.name, c.value, c.time) for c in t.take_commands()],
        t.audit_log(),
    )


def test_pickle_mid_stream_continues_exactly_like_the_original():
    cols = stream()
    n = len(cols[0])
    t = busy_twin()
    run(t, cols, 0, n // 2)
    first = outputs(t)
    assert first[0] and first[1], "the first half raised insights and a derate"
    copy = pickle.loads(pickle.dumps(t))
    assert copy.engine_names == t.engine_names
    assert copy.engines == t.engines or [repr(e) for e in copy.engines] == [repr(e) for e in t.engines]
    assert repr(copy.rules) == repr(t.rules)
    run(t, cols, n // 2, n)
    run(copy, cols, n // 2, n)
    a, b = outputs(t), outputs(copy)
    assert a == b
    kinds = {k for _, _, k, _, _ in first[0] + a[0]}
    assert {"drift", "anomaly", "alarm_high"} <= kinds, kinds
    # The second derate, a day after the first: 2.0 * 0.8 * 0.8.
    assert [v for _, v, _ in first[1] + a[1]] == pytest.approx([1.6, 1.28])


def test_snapshot_restores_with_the_same_engines_and_rules():
    cols = stream(seed=9)
    n = len(cols[0])
    t = busy_twin()
    run(t, cols, 0, n // 3)
    outputs(t)
    back = twin.Twin.from_snapshot(t.snapshot(), engines=t.engines, rules=t.rules)
    run(t, cols, n // 3, n)
    run(back, cols, n // 3, n)
    assert outputs(t) == outputs(back)
    # A snapshot restored without its engines does not fit.
    with pytest.raises(twin.SerializationError):
        twin.Twin.from_snapshot(t.snapshot())


def test_fleets_of_twins_with_engines_and_rules_copy_and_pickle_them():
    cols = stream(seed=10)
    n = len(cols[0])
    t = busy_twin()
    run(t, cols, 0, n // 2)
    outputs(t)
    fleet = twin.Fleet()
    fleet.insert(7, t)
    fleet.insert(8, twin.Twin(SCHEMA))  # a plain twin beside it
    fleet = pickle.loads(pickle.dumps(fleet))
    times, sigs, vals = cols
    # The same batches as the twin gets (a multivariate engine scores at batch ends too).
    for a in range(n // 2, n, 300):
        b = min(a + 300, n)
        fleet.ingest_batch(np.full(b - a, 7, dtype=np.uint64), times[a:b], sigs[a:b], vals[a:b])
    run(t, cols, n // 2, n)
    want = outputs(t)
    got = fleet.remove(7)
    assert got.engine_names == t.engine_names and repr(got.rules) == repr(t.rules)
    assert outputs(got) == want
    assert fleet.get(8).engine_names == ["ewma_monitor"]


def test_fleet_from_snapshot_gives_every_twin_the_engines_and_rules():
    cols = stream(seed=12)
    n = len(cols[0])
    t = busy_twin()
    run(t, cols, 0, n // 2)
    outputs(t)
    fleet = twin.Fleet()
    fleet.insert(1, t)
    back = twin.Fleet.from_snapshot(fleet.snapshot(), engines=t.engines, rules=t.rules)
    times, sigs, vals = cols
    for a in range(n // 2, n, 300):
        b = min(a + 300, n)
        back.ingest_batch(np.ones(b - a, dtype=np.uint64), times[a:b], sigs[a:b], vals[a:b])
    run(t, cols, n // 2, n)
    assert outputs(back.remove(1)) == outputs(t)
    with pytest.raises(twin.SerializationError):
        twin.Fleet.from_snapshot(fleet.snapshot())


def test_twin_repr_lists_engines_and_rules():
    t = busy_twin()
    assert repr(t) == (
        "<Twin 'conveyor_drive': engines ['ewma_monitor', 'cusum_detector[vibration]', "
        "'hst_temp', 'pca_multivariate'], rules ['derate_on_persistent_anomaly'], "
        "0 samples accepted, 0 rejected, 0 insights pending>"
    )
    e = t.engines[1]
    assert repr(e) == "DetectorEngine(HalfSpaceTrees, signals=['motor_temp'], name='hst_temp')"
    assert isinstance(e.detector, twin.HalfSpaceTrees)
    assert repr(pickle.loads(pickle.dumps(e))) == repr(e)


def test_each_engine_and_rule_wrapper_pickles_and_behaves_like_the_original(rul_model):
    """A pickle round trip of every wrapper: same repr, and a twin built with the copy
    gives exactly the insights and commands of one built with the original."""
    model = twin.PcaDetector().fit(correlated(2000, 1))
    wrappers = [
        twin.DetectorEngine(twin.Cusum(), signals="vibration", name="cusum_v"),
        twin.MultivariateEngine(model, ["belt_speed", "vibration"], name="pca"),
        twin.RulEngine(rul_model, "vibration", every=5, name="rul5"),
    ]
    rule = twin.DerateRule(min_events=2, floor=1.2)
    copies = [pickle.loads(pickle.dumps(w)) for w in wrappers]
    rule_copy = pickle.loads(pickle.dumps(rule))
    assert [repr(c) for c in copies] == [repr(w) for w in wrappers]
    assert rule_copy == rule and repr(rule_copy) == repr(rule)
    a = twin.Twin(SCHEMA, engines=wrappers, rules=[rule])
    b = twin.Twin(SCHEMA, engines=copies, rules=[rule_copy])
    cols = stream(1500, seed=21)
    run(a, cols, 0, len(cols[0]))
    run(b, cols, 0, len(cols[0]))
    out_a, out_b = outputs(a), outputs(b)
    assert out_a == out_b
    kinds = {i[2] for i in out_a[0]}
    assert "rul" in kinds and "anomaly" in kinds, kinds
    assert out_a[1], "the derate rule issued commands"
