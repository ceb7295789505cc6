"""Schema building, JSON, and schema errors."""

import json
import pickle

import pytest

import twin


def test_ids_follow_declaration_order(plant):
    assert plant.name == "plant"
    assert plant.signal_names == ["x", "y", "setpoint"]
    assert [plant.signal_id(n) for n in plant.signal_names] == [0, 1, 2]
    assert plant.signal_name(1) == "y"
    assert plant.signal_count == 3
    assert plant.command_names == ["set_x"]
    assert not plant.is_property(1) and plant.is_property(2)
    assert "x" in plant and "set_x" in plant and "z" not in plant


def test_specs_from_dicts_and_classes_agree():
    a = twin.Schema("m", telemetry=[{"name": "x", "unit": "m", "min": -1, "max": 1, "alarm_high": 0.5}])
    b = twin.Schema("m", telemetry=[twin.SignalSpec("x", "m", min=-1.0, max=1.0, alarm_high=0.5)])
    assert a == b
    spec = a.telemetry[0]
    assert (spec.name, spec.unit, spec.min, spec.max, spec.alarm_low, spec.alarm_high) == ("x", "m", -1.0, 1.0, None, 0.5)
    assert spec.to_dict() == {"name": "x", "unit": "m", "min": -1.0, "max": 1.0, "alarm_high": 0.5}
    assert twin.Schema("m", telemetry=[spec.to_dict()]) == a


def test_json_round_trip_and_pickle(plant):
    text = plant.to_json()
    doc = json.loads(text)
    assert doc["name"] == "plant"
    assert [s["name"] for s in doc["telemetry"]] == ["x", "y"]
    assert doc["commands"][0]["property"] == "setpoint"
    back = twin.Schema.from_json(text)
    assert back == plant
    assert back.signal_id("setpoint") == 2
    assert pickle.loads(pickle.dumps(plant)) == plant


def test_conveyor_schema():
    s = twin.Schema.conveyor()
    assert s.name == "conveyor_drive"
    assert s.signal_names == ["belt_speed", "vibration", "motor_temp", "load", "speed_setpoint"]
    (cmd,) = s.commands
    assert (cmd.name, cmd.min, cmd.max, cmd.property) == ("set_speed", 0.0, 2.5, "speed_setpoint")
    assert s.telemetry[1].alarm_high == 4.5


@pytest.mark.parametrize(
    "build, needle",
    [
        (lambda: twin.Schema("m", telemetry=[{"name": "a"}, {"name": "a"}]), "duplicate"),
        (lambda: twin.Schema("m", telemetry=[{"name": "a", "min": 2, "max": 1}]), "above max"),
        (lambda: twin.Schema("m", telemetry=[{"name": "a", "min": float("nan")}]), "finite"),
        (lambda: twin.Schema("m", telemetry=[{"name": "a", "colour": 1}]), "unknown field"),
        (lambda: twin.Schema("m", telemetry=[{"unit": "m"}]), "missing field"),
        (lambda: twin.Schema("m", telemetry=[{"name": "a", "min": "low"}]), "expected a number"),
        (lambda: twin.Schema("", telemetry=[{"name": "a"}]), "empty"),
        (lambda: twin.Schema("m", commands=[{"name": "c", "min": 0, "max": 1, "property": "p"}]), "not a property"),
        (lambda: twin.Schema("m", commands=[{"name": "c", "min": 0}]), "missing field \"max\""),
        (lambda: twin.Schema("m", commands=[twin.CommandSpec("c", min=2.0, max=1.0)]), "min <= max"),
        (lambda: twin.Schema.from_json("{not json"), "malformed"),
        (lambda: twin.Schema.from_json('{"name": "m", "telemetry": [{"name": "a", "colour": 1}]}'), "unknown field"),
        (lambda: twin.Schema.from_json('{"name": 3}'), "malformed"),
    ],
)
def test_schema_errors(build, needle):
    with pytest.raises(twin.SchemaError, match=needle) as info:
        build()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, twin.TwinError)
    assert info.value.kind == "schema"


def test_wrong_item_types_are_type_errors():
    with pytest.raises(TypeError, match=r"telemetry\[0\]"):
        twin.Schema("m", telemetry=[5])
    with pytest.raises(TypeError):
        twin.Schema("m", telemetry="x")


def test_unknown_names_and_ids(plant):
    with pytest.raises(twin.UnknownSignalError, match="pressure"):
        plant.signal_id("pressure")
    with pytest.raises(twin.UnknownSignalError):
        plant.signal_name(3)
    with pytest.raises(twin.UnknownSignalError):
        plant.signal_name(-1)


def test_reprs(plant):
    assert repr(plant) == "<Schema 'plant': 2 telemetry, 1 properties, 1 commands>"
    assert repr(plant.telemetry[0]) == "SignalSpec('x', 'bar', min=0.0, max=100.0, alarm_low=None, alarm_high=None)"
    assert repr(plant.commands[0]) == (
        "CommandSpec('set_x', 'bar', min=0.0, max=80.0, max_rate=1.0, min_interval_s=None, property='setpoint')"
    )
