"""Pickling: a round trip for every class of ``twin._twin`` that had none, and a census
that every exported class is either round-trip tested or documented as not picklable."""

import copy
import inspect
import pickle

import numpy as np
import pytest

import twin
import twin._twin

S = 1_000_000_000


def roundtrip(obj):
    """The object through pickle at the default and the lowest protocol."""
    back = pickle.loads(pickle.dumps(obj))
    assert type(back) is type(obj)
    low = pickle.loads(pickle.dumps(obj, protocol=0))
    assert type(low) is type(obj)
    return back, low


def test_signal_spec():
    spec = twin.SignalSpec("vibration", "mm/s", min=0.0, max=50.0, alarm_low=0.1, alarm_high=4.5)
    for back in roundtrip(spec):
        assert back == spec
        assert (back.name, back.unit, back.min, back.max, back.alarm_low, back.alarm_high) == (
            "vibration", "mm/s", 0.0, 50.0, 0.1, 4.5)
    bare = twin.SignalSpec("x")
    assert pickle.loads(pickle.dumps(bare)) == bare and pickle.loads(pickle.dumps(bare)).max is None
    assert pickle.loads(pickle.dumps(bare)) != spec


def test_command_spec():
    spec = twin.CommandSpec("set_flow", "m3/h", min=0.0, max=400.0, max_rate=10.0,
                            min_interval_s=2.5, property="flow_setpoint")
    for back in roundtrip(spec):
        assert back == spec
        assert back.to_dict() == {"name": "set_flow", "unit": "m3/h", "min": 0.0, "max": 400.0,
                                  "max_rate": 10.0, "min_interval_s": 2.5, "property": "flow_setpoint"}
    bare = twin.CommandSpec("c", min=-1.0, max=1.0)
    back = pickle.loads(pickle.dumps(bare))
    assert back == bare and back.property is None and back.max_rate is None


def test_insight(plant):
    t = twin.Twin(plant)
    t.ingest(3 * S, "y", 61.5)
    (insight,) = t.insights()
    assert insight.kind == "alarm_high"
    for back in roundtrip(insight):
        assert back == insight
        assert (back.time, back.signal, back.signal_name, back.kind, back.value, back.score) == (
            3 * S, 1, "y", "alarm_high", 61.5, 50.0)
    assert twin.Insight.from_json(insight.to_json()) == insight
    with pytest.raises(twin.SerializationError):
        twin.Insight.from_json('{"time": 1, "signal": 0, "signal_name": "y", "kind": "bogus", '
                               '"value": 1.0, "score": 0.0}')


def test_command_rebuilt_from_its_rust_record(plant):
    t = twin.Twin(plant)
    first = t.command("set_x", 10.0, 0)
    cmd = t.command("set_x", 12.0, 10 * S)
    assert cmd.seq == 2
    for back in roundtrip(cmd):
        assert back == cmd
        assert (back.name, back.id, back.value, back.time, back.seq) == ("set_x", 0, 12.0, 10 * S, 2)
    assert pickle.loads(pickle.dumps(first)) != cmd
    # The pickle is the Rust command's serde form.
    import json
    assert json.loads(cmd.to_json()) == {"id": 0, "name": "set_x", "value": 12.0, "time": 10 * S, "seq": 2}
    # A record is restored, not validated anew; a record no gate could have made is refused.
    with pytest.raises(twin.SerializationError, match="numbered from 1"):
        twin.Command.from_json('{"id": 0, "name": "set_x", "value": 1.0, "time": 0, "seq": 0}')
    with pytest.raises(twin.SerializationError):
        twin.Command.from_json('{"id": 0, "name": "set_x", "value": 1.0}')
    # Unpickling makes no command: the twin's outbox and counters are unchanged.
    assert [c.seq for c in t.take_commands()] == [1, 2]


def test_ingest_report(plant, columns):
    t = twin.Twin(plant)
    times, signals, values = columns([(0, 0, 1.0), (S, 0, float("nan")), (2 * S, 7, 1.0), (3 * S, 0, 2.0)])
    report = t.ingest_batch(times, signals, values.astype(np.float32))
    assert report.copied == ["values"]
    for back in roundtrip(report):
        assert back == report
        assert (back.accepted, back.rejected, back.total) == (2, 2, 4)
        assert back.rejections == [(1, "non_finite"), (2, "unknown_signal")]
        assert back.reasons == {"non_finite": 1, "unknown_signal": 1}
        assert back.copied == ["values"]
        assert np.array_equal(back.rejected_indices, [1, 2])
    with pytest.raises(twin.SerializationError, match="unknown column"):
        twin.IngestReport.from_json('{"accepted": 0, "rejections": [], "copied": ["bogus"]}')


ENTITIES = [
    (twin.ConveyorDrive, 600.0, ("set_speed", 1.2)),
    (twin.ThermalMass, 60.0, ("set_power", 800.0)),
    (twin.BatteryCell, 10.0, ("set_current", 2.0)),
    (twin.PumpDrive, 60.0, ("set_speed", 1500.0)),
    (twin.WindTurbine, 600.0, ("set_derate", 0.99)),
]


def _scans(entity, n, dt):
    out = []
    for _ in range(n):
        entity.advance(dt)
        out.append(entity.sense())
    return out


@pytest.mark.parametrize("cls, dt, command", ENTITIES, ids=[c[0].__name__ for c in ENTITIES])
def test_entity_continues_with_the_same_samples(cls, dt, command):
    original = cls(seed=42)
    name, value = command
    _scans(original, 20, dt)
    original.actuate(name, value)
    _scans(original, 20, dt)
    for back in (*roundtrip(original), copy.deepcopy(original), cls.from_state(original.state_json())):
        assert back.now == original.now and back.failed == original.failed
        assert back.state_json() == original.state_json()
    twin_of_it = pickle.loads(pickle.dumps(original))
    ahead = _scans(original, 30, dt)
    again = _scans(twin_of_it, 30, dt)
    assert ahead == again
    # The noise really is noise: the 30 scans are not all the same.
    assert len({tuple(sorted(s.items())) for s in ahead}) > 1
    # A fresh entity of the same seed is not the same as the continued one.
    assert _scans(cls(seed=42), 30, dt) != again


def test_conveyor_drive_keeps_its_wear_and_its_command_gate():
    d = twin.ConveyorDrive(seed=3)
    for _ in range(200):
        d.advance(3600.0)
    d.actuate("set_speed", 1.2)
    back = pickle.loads(pickle.dumps(d))
    import json
    state = json.loads(back.state_json())
    assert state["entity"]["wear"] > 0.0
    assert state["entity"]["wear"] == json.loads(d.state_json())["entity"]["wear"]
    # The gate remembers the last command (min interval 1 s, max rate 0.05 m/s per s): a
    # fresh gate takes 1.25 at once, the restored one refuses it as the original does.
    fresh = twin.ConveyorDrive(seed=3)
    fresh.actuate("set_speed", 1.25)
    for e in (d, back):
        with pytest.raises(twin.RateLimitedError, match="since the last command"):
            e.actuate("set_speed", 1.25)
        e.advance(1.0)
        e.actuate("set_speed", 1.25)


def test_entity_state_errors():
    with pytest.raises(twin.SerializationError, match="ConveyorDrive state"):
        twin.ConveyorDrive.from_state("{}")
    good = twin.PumpDrive(seed=1).state_json()
    import json
    doc = json.loads(good)
    doc["entity"]["config"]["rated_speed"] = -5.0
    with pytest.raises(twin.InvalidInputError):
        twin.PumpDrive.from_state(json.dumps(doc))
    with pytest.raises(twin.SerializationError):
        twin.ThermalMass.from_state(good)


def _battery_filter(cls, **kw):
    b = twin.BatteryCircuit(process_noise=[0.25] * 4, measurement_noise=[1.0, 0.01])
    f = cls(b, b.initial_state(), np.diag([0.01, 1.0, 0.01, 0.01]), **kw)
    x = b.initial_state()
    z = []
    for _ in range(40):
        x = b.step(x, [2.0], 1.0)
        z.append(b.output(x, [2.0]))
    return f, np.array(z)


def test_kalman_filter():
    f, z = _battery_filter(twin.KalmanFilter)
    f.run([[2.0]], 1.0, z[:20])
    for back in roundtrip(f):
        assert np.array_equal(back.mean, f.mean)
        assert np.array_equal(back.covariance, f.covariance)
        assert np.array_equal(back.run([[2.0]], 1.0, z[20:]), copy.deepcopy(f).run([[2.0]], 1.0, z[20:]))


def test_particle_filter():
    f, z = _battery_filter(twin.ParticleFilter, particles=300, seed=9)
    f.run([[2.0]], 1.0, z[:20])
    back = pickle.loads(pickle.dumps(f))
    assert np.array_equal(back.mean, f.mean)
    # The random generator's position travels too: resampling continues identically.
    assert np.array_equal(back.run([[2.0]], 1.0, z[20:]), f.run([[2.0]], 1.0, z[20:]))
    assert np.array_equal(back.mean, f.mean)


def test_state_model_refuses_to_pickle_with_a_clear_type_error():
    m = twin.StateModel(lambda x, u, dt: x, lambda x, u: x, states=1, outputs=1,
                        process_noise=[[0.1]], measurement_noise=[[1.0]])
    with pytest.raises(TypeError, match="StateModel holds Python callables"):
        pickle.dumps(m)
    with pytest.raises(TypeError, match="StateModel holds Python callables"):
        copy.deepcopy(m)


#: Classes whose pickle round trip is tested here (this file's test names).
TESTED_HERE = {
    "SignalSpec", "CommandSpec", "Insight", "Command", "IngestReport", "ConveyorDrive",
    "ThermalMass", "BatteryCell", "PumpDrive", "WindTurbine", "KalmanFilter", "ParticleFilter",
}

#: Classes whose pickle round trip is tested in another file.
TESTED_ELSEWHERE = {
    "Schema": "test_schema.py",
    "SchemaImport": "test_formats.py",
    "Decoded": "test_formats.py",
    "Twin": "test_snapshot.py",
    "Fleet": "test_fleet.py",
    "FleetReport": "test_fleet.py",
    "SimReport": "test_sim.py",
    "WhatIfResult": "test_whatif.py",
    "WhatIfScenario": "test_whatif.py",
    "ConveyorModel": "test_whatif.py",
    "ThermalModel": "test_whatif.py",
    "BatteryModel": "test_whatif.py",
    "PumpModel": "test_whatif.py",
    "WindTurbineModel": "test_whatif.py",
    "BatteryCircuit": "test_analytics_estimate.py",
    "LinearModel": "test_analytics_estimate.py",
    "UnscentedKalmanFilter": "test_analytics_estimate.py",
    "EwmaDetector": "test_analytics_detect.py",
    "Cusum": "test_analytics_detect.py",
    "PageHinkley": "test_analytics_detect.py",
    "RobustZScore": "test_analytics_detect.py",
    "HalfSpaceTrees": "test_analytics_detect.py",
    "DetectorEnsemble": "test_analytics_detect.py",
    "RollingFeatures": "test_analytics_features.py",
    "BandEnergies": "test_analytics_features.py",
    "HealthIndex": "test_analytics_features.py",
    "MahalanobisDetector": "test_analytics_multivariate.py",
    "PcaDetector": "test_analytics_multivariate.py",
    "Weibull": "test_analytics_reliability.py",
    "ExponentialRul": "test_analytics_rul.py",
    "RegressionRul": "test_analytics_rul.py",
    "SimilarityRul": "test_analytics_rul.py",
    "RulEnsemble": "test_analytics_rul.py",
    "DetectorEngine": "test_engines.py",
    "MultivariateEngine": "test_engines.py",
    "RulEngine": "test_engines.py",
    "DerateRule": "test_engines.py",
    "SimNetwork": "test_connection.py",
    "StepReport": "test_connection.py",
    "CsvReplay": "test_connection.py",
}

#: Where a class's name does not appear in the test that pickles it: a line of that test.
MARKERS = {"WhatIfResult": "# Results pickle through JSON.", "Decoded": "pickling a Decoded"}

#: Classes that do not pickle, and why (each checked by a test that pickling raises).
NOT_PICKLABLE = {
    "StateModel": "holds arbitrary Python callables; "
                  "test_state_model_refuses_to_pickle_with_a_clear_type_error",
    "DeviceEnd": "one end of a live in-process queue shared with a twin end; "
                 "test_channel_ends_refuse_to_pickle_with_the_reason",
    "TwinEnd": "one end of a live in-process queue shared with a device end; "
               "test_channel_ends_refuse_to_pickle_with_the_reason",
}


def test_channel_ends_refuse_to_pickle_with_the_reason():
    device, twin_end = twin.channel(8)
    assert type(device) is twin.DeviceEnd and type(twin_end) is twin.TwinEnd
    for end in (device, twin_end):
        with pytest.raises(TypeError, match="live"):
            pickle.dumps(end)


def test_every_exported_class_is_pickle_tested_or_documented():
    exported = {
        name for name, obj in vars(twin._twin).items()
        if isinstance(obj, type) and not issubclass(obj, BaseException)
    }
    listed = TESTED_HERE | set(TESTED_ELSEWHERE) | set(NOT_PICKLABLE)
    groups = [TESTED_HERE, set(TESTED_ELSEWHERE), set(NOT_PICKLABLE)]
    assert sum(len(g) for g in groups) == len(listed), "a class is listed twice"
    assert exported - listed == set(), "classes with no pickle test and no reason"
    assert listed - exported == set(), "listed classes that twin._twin does not export"
    here = globals()
    for name in TESTED_HERE:
        assert any(k.startswith("test_") and name_in(name, k, v) for k, v in here.items()), name
    import pathlib
    folder = pathlib.Path(__file__).parent
    for name, file in TESTED_ELSEWHERE.items():
        text = (folder / file).read_text()
        assert "pickle.dumps" in text and MARKERS.get(name, name) in text, (name, file)
    for name, why in NOT_PICKLABLE.items():
        test = why.rsplit("; ", 1)[-1]
        assert test.startswith("test_") and callable(here.get(test)), (name, test)
        assert name in inspect.getsource(here[test]), (name, test)


def name_in(name, test_name, fn):
    """Whether a test of this file exercises class ``name`` (by its source)."""
    import inspect
    if not callable(fn):
        return False
    src = inspect.getsource(fn)
    return f"twin.{name}" in src or (name in {c.__name__ for c, _, _ in ENTITIES} and "ENTITIES" in src)
