"""Schema formats (DTDL, WoT TD, JSON with size caps) and payload codecs (SenML JSON and
CBOR, flat JSON objects) from Python, on small documents written for these tests."""

import json
import pickle

import numpy as np
import pytest

import twin

S = 1_000_000_000

FREEZER_DTDL = json.dumps([
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:test:Freezer;1",
        "@type": "Interface",
        "displayName": "Freezer",
        "contents": [
            {"@type": ["Telemetry", "Temperature"], "name": "cabinet_temp", "schema": "double",
             "unit": "degreeCelsius"},
            {"@type": "Telemetry", "name": "door_open", "schema": "boolean"},
            {"@type": "Telemetry", "name": "mode",
             "schema": {"@type": "Enum", "valueSchema": "integer", "enumValues": [
                 {"name": "off", "enumValue": 0}, {"name": "eco", "enumValue": 1},
                 {"name": "boost", "enumValue": 4}]}},
            {"@type": "Property", "name": "target_temp", "schema": "double", "writable": True},
            {"@type": "Property", "name": "serial_checksum", "schema": "integer"},
            {"@type": "Command", "name": "defrost", "request": {"name": "minutes", "schema": "integer"}},
            {"@type": "Command", "name": "reset"},
            {"@type": "Relationship", "name": "located_in", "target": "dtmi:test:Room;1"},
            {"@type": "Telemetry", "name": "firmware", "schema": "string"},
            {"@type": "Component", "name": "compressor", "schema": "dtmi:test:Compressor;1"},
        ],
    },
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:test:Compressor;1",
        "@type": "Interface",
        "contents": [{"@type": "Telemetry", "name": "current", "schema": "float", "unit": "ampere"}],
    },
])

LAMP_TD = json.dumps({
    "@context": "https://www.w3.org/2019/wot/td/v1",
    "title": "Lamp",
    "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}},
    "security": "nosec_sc",
    "properties": {
        "brightness": {"type": "integer", "minimum": 0, "maximum": 100, "unit": "%"},
        "power": {"type": "number", "unit": "W", "readOnly": True, "minimum": 0, "maximum": 60},
        "on": {"type": "boolean"},
        "label": {"type": "string"},
    },
    "actions": {
        "fade": {"input": {"type": "number", "minimum": 0, "maximum": 10, "unit": "s"}},
        "toggle": {},
    },
    "events": {"overheat": {"data": {"type": "number", "unit": "Cel"}}},
})


def test_dtdl_import_maps_signals_properties_commands_and_relationships():
    with pytest.raises(twin.SchemaError, match=r"^schema error: json: dtdl: unsupported: firmware") as info:
        twin.Schema.from_dtdl(FREEZER_DTDL)
    assert isinstance(info.value, ValueError)
    imp = twin.Schema.from_dtdl(FREEZER_DTDL, skip_unsupported=True)
    s = imp.schema
    assert s.name == "Freezer"
    assert [t.name for t in s.telemetry] == [
        "cabinet_temp", "door_open", "mode", "serial_checksum", "compressor/current"]
    assert [p.name for p in s.properties] == ["target_temp"]
    assert s.command_names == ["defrost", "reset"]
    temp = s.telemetry[0]
    assert (temp.unit, temp.min, temp.max) == ("degreeCelsius", None, None)
    door, mode = s.telemetry[1], s.telemetry[2]
    assert (door.min, door.max) == (0.0, 1.0)
    assert (mode.min, mode.max) == (0.0, 4.0)
    assert s.telemetry[4].unit == "ampere"
    defrost, reset = s.commands
    # An integer request is bounded by the 32-bit integer range (DTDL "integer").
    assert (defrost.min, defrost.max) == (-2.0**31, 2.0**31 - 1)
    assert (reset.min, reset.max) == (0.0, 1.0)
    assert imp.relationships == [("located_in", "dtmi:test:Room;1")]
    assert len(imp.skipped) == 1 and "firmware" in imp.skipped[0]
    back = pickle.loads(pickle.dumps(imp))
    assert back == imp and back.schema == s
    assert "SchemaImport(schema='Freezer', relationships=1, skipped=1)" == repr(imp)


def test_wot_import_maps_affordances_in_name_order():
    with pytest.raises(twin.SchemaError, match=r"^schema error: json: wot: unsupported: property label"):
        twin.Schema.from_wot(LAMP_TD)
    imp = twin.Schema.from_wot(LAMP_TD, skip_unsupported=True)
    s = imp.schema
    assert s.name == "Lamp"
    assert imp.relationships == []
    assert len(imp.skipped) == 1 and "label" in imp.skipped[0]
    assert [t.name for t in s.telemetry] == ["power", "overheat"]
    assert [p.name for p in s.properties] == ["brightness", "on"]
    power = s.telemetry[0]
    assert (power.unit, power.min, power.max) == ("W", 0.0, 60.0)
    assert s.telemetry[1].unit == "Cel"
    brightness, on = s.properties
    assert (brightness.unit, brightness.min, brightness.max) == ("%", 0.0, 100.0)
    assert (on.min, on.max) == (0.0, 1.0)
    fade, toggle = s.commands
    assert (fade.name, fade.min, fade.max) == ("fade", 0.0, 10.0)
    assert (toggle.name, toggle.min, toggle.max) == ("toggle", 0.0, 1.0)
    # A twin runs on the imported schema: the range is enforced.
    t = twin.Twin(s)
    r = t.ingest_batch(np.array([0, 0], np.int64), np.array([s.signal_id("power")] * 2, np.uint32),
                       np.array([30.0, 75.0]))
    assert r.accepted == 1 and r.rejections == [(1, "out_of_range")]


def test_import_errors_name_the_argument_and_the_limits():
    with pytest.raises(twin.SchemaError, match=r"^schema error: json: wot: malformed JSON"):
        twin.Schema.from_wot("{not json")
    with pytest.raises(twin.SchemaError, match="not a WoT TD context"):
        twin.Schema.from_wot('{"title": "x"}')
    with pytest.raises(twin.LimitExceededError, match="max_signals is 2, got 6"):
        twin.Schema.from_dtdl(FREEZER_DTDL, skip_unsupported=True, max_signals=2)
    with pytest.raises(twin.LimitExceededError, match="max_json_bytes is 100"):
        twin.Schema.from_wot(LAMP_TD, max_json_bytes=100)
    with pytest.raises(twin.LimitExceededError, match="max_commands is 1, got 2"):
        twin.Schema.from_wot(LAMP_TD, skip_unsupported=True, max_commands=1)
    with pytest.raises(TypeError):
        twin.Schema.from_dtdl(FREEZER_DTDL, skip=True)
    doc = twin.Schema.conveyor().to_json()
    assert twin.Schema.from_json(doc) == twin.Schema.conveyor()
    with pytest.raises(twin.LimitExceededError, match="max_name_bytes is 4, got"):
        twin.Schema.from_json(doc, max_name_bytes=4)
    with pytest.raises(twin.LimitExceededError, match="max_signals is 3, got 5"):
        twin.Schema.from_json(doc, max_signals=3)
    assert twin.Schema.from_json(doc, max_signals=5, max_commands=1) == twin.Schema.conveyor()


# A pack written for these tests: base name, base time and base unit, relative times,
# a boolean, a sum-only record, and three records that must be refused.
PACK = json.dumps([
    {"bn": "urn:dev:belt7:", "bt": 1.7e9, "bu": "mm/s", "n": "vibration", "v": 1.25},
    {"n": "vibration", "t": 60, "v": 1.5},
    {"n": "load", "u": "1", "t": 60, "v": 0.8},
    {"n": "temperature", "u": "Cel", "v": 40.0},
    {"n": "motor_temp", "u": "Cel", "t": 120, "v": 55.0},
    {"n": "load", "u": "1", "t": 120, "vs": "heavy"},
    {"n": "belt_speed", "u": "m/s", "t": 120, "vb": True},
    {"n": "load", "u": "1", "t": 180, "s": 0.9},
])


def test_senml_json_decodes_to_columns_with_refusals():
    schema = twin.Schema.conveyor()
    d = twin.senml_decode(PACK, schema, strip_prefix="urn:dev:belt7:")
    assert d.times.dtype == np.int64 and d.signals.dtype == np.uint32 and d.values.dtype == np.float64
    t0 = 1_700_000_000 * S
    assert d.times.tolist() == [t0, t0 + 60 * S, t0 + 60 * S, t0 + 120 * S, t0 + 180 * S]
    names = [schema.signal_name(i) for i in d.signals]
    assert names == ["vibration", "vibration", "load", "belt_speed", "load"]
    assert d.values.tolist() == [1.25, 1.5, 0.8, 1.0, 0.9]
    assert len(d) == 5 and d.refused_count == 3
    (i1, k1, m1), (i2, k2, m2), (i3, k3, m3) = d.refused
    assert (i1, k1) == (3, "unknown_signal") and "temperature" in m1
    assert (i2, k2) == (4, "invalid_input") and "unit" in m2 and "Cel" in m2
    assert (i3, k3) == (5, "invalid_input") and "not numeric" in m3
    assert d.reasons == {"invalid_input": 2, "unknown_signal": 1}
    # The columns go straight into a twin.
    t = twin.Twin(schema, monitor=False)
    assert t.ingest_batch(d.times, d.signals, d.values).accepted == 5
    assert t.reported("load") == 0.9
    # Bytes in, the same result; pickling a Decoded keeps everything.
    assert twin.senml_decode(PACK.encode(), schema, strip_prefix="urn:dev:belt7:") == d
    assert pickle.loads(pickle.dumps(d)) == d
    # Without the prefix no name matches.
    assert twin.senml_decode(PACK, schema).reasons == {"unknown_signal": 8}


def test_senml_relative_times_resolve_against_now():
    schema = twin.Schema.conveyor()
    pack = '[{"n": "load", "t": -30, "v": 0.5}, {"n": "load", "v": 0.6}]'
    d = twin.senml_decode(pack, schema, now=1_000 * S)
    assert d.times.tolist() == [970 * S, 1_000 * S]
    # Without `now`, relative times count from the system clock (RFC 8428 section 4.5.3).
    import time
    before = time.time_ns()
    d = twin.senml_decode(pack, schema)
    after = time.time_ns()
    assert before - 30 * S <= d.times[0] <= after - 30 * S + 1000
    assert before <= d.times[1] <= after + 1000
    # Absolute times do not depend on it.
    assert twin.senml_decode(PACK, schema, strip_prefix="urn:dev:belt7:").times[0] == 1_700_000_000 * S


def test_senml_cbor_hand_made_and_round_trip():
    schema = twin.Schema.conveyor()
    # [{-2: "b/", -3: 100, 0: "load", 2: 0.5 (half float)}, {0: "rpm", 2: 1}]
    pack = bytes([0x82, 0xA4, 0x21, 0x62]) + b"b/" + bytes([0x22, 0x18, 100, 0x00, 0x64]) + b"load" \
        + bytes([0x02, 0xF9, 0x38, 0x00, 0xA2, 0x00, 0x63]) + b"rpm" + bytes([0x02, 0x01])
    d = twin.senml_decode(pack, schema, format="cbor", strip_prefix="b/", now=0)
    assert d.times.tolist() == [100 * S] and d.values.tolist() == [0.5]
    # The base name carries over to the second record, whose name is then stripped.
    assert d.refused == [(1, "unknown_signal", '"rpm" is not in the schema')]
    # Encode columns and decode them back, in both encodings.
    ids = [schema.signal_id(n) for n in ("vibration", "load", "motor_temp")]
    times = np.array([5 * S, 5 * S, 65 * S], np.int64)
    values = np.array([2.5, 0.75, 61.0])
    for fmt in ("json", "cbor"):
        pack = twin.senml_encode(schema, times, ids, values, base_name="belt/", format=fmt)
        assert isinstance(pack, bytes)
        back = twin.senml_decode(pack, schema, format=fmt, strip_prefix="belt/", now=0)
        assert back.times.tolist() == times.tolist()
        assert back.signals.tolist() == ids
        assert back.values.tolist() == values.tolist()
        assert back.refused_count == 0
    records = json.loads(twin.senml_encode(schema, times, ids, values, base_name="belt/"))
    assert records[0] == {"bn": "belt/", "bt": 5.0, "n": "vibration", "u": "mm/s", "v": 2.5}
    assert records[2] == {"n": "motor_temp", "u": "degC", "t": 60.0, "v": 61.0}


def test_senml_bad_input_names_the_argument():
    schema = twin.Schema.conveyor()
    with pytest.raises(twin.InvalidInputError, match=r"^invalid input: data: senml pack is not valid JSON"):
        twin.senml_decode("[{", schema)
    with pytest.raises(twin.InvalidInputError, match=r"^invalid input: data: a senml pack must be a JSON array"):
        twin.senml_decode('{"n": "load"}', schema)
    with pytest.raises(twin.InvalidInputError, match=r"^invalid input: data: senml pack is not valid CBOR"):
        twin.senml_decode(b"\xff\x00", schema, format="cbor")
    with pytest.raises(twin.InvalidInputError, match="format must be 'json' or 'cbor', got \"xml\""):
        twin.senml_decode(PACK, schema, format="xml")
    with pytest.raises(TypeError, match="data must be str or bytes, not int"):
        twin.senml_decode(42, schema)
    with pytest.raises(twin.NonFiniteError, match=r"values: .*load"):
        twin.senml_encode(schema, [0], [schema.signal_id("load")], [float("nan")])
    with pytest.raises(twin.UnknownSignalError):
        twin.senml_encode(schema, [0], [99], [1.0])
    with pytest.raises(twin.InvalidInputError, match="values has 2 elements but times has 1"):
        twin.senml_encode(schema, [0], [0], [1.0, 2.0])


def test_json_object_codec():
    schema = twin.Schema.conveyor()
    d = twin.object_decode('{"load": 0.7, "vibration": 2.0, "rpm": 3, "motor_temp": "hot"}',
                           schema, time=42 * S)
    assert d.times.tolist() == [42 * S, 42 * S]
    assert [schema.signal_name(i) for i in d.signals] == ["load", "vibration"]
    assert d.values.tolist() == [0.7, 2.0]
    # Members are read in name order (load, motor_temp, rpm, vibration); indices follow it.
    assert [(i, k) for i, k, _ in d.refused] == [(1, "invalid_input"), (2, "unknown_signal")]
    with pytest.raises(twin.InvalidInputError, match=r"^invalid input: data: payload must be a JSON object"):
        twin.object_decode("[1, 2]", schema, time=0)
    with pytest.raises(twin.InvalidInputError, match=r"^invalid input: data: payload is not valid JSON"):
        twin.object_decode(b"{", schema, time=0)
    t = twin.Twin(schema, monitor=False)
    assert twin.object_encode(t) == b"{}"
    t.ingest_batch(d.times, d.signals, d.values)
    assert json.loads(twin.object_encode(t)) == {"load": 0.7, "vibration": 2.0}
