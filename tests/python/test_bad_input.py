"""The bad-input matrix on the Python surface.

Reads tests/bad_input.tsv (the table the Rust test tests/bad_input.rs and the C program
tests/c/test_bad_input.c run too), runs every row marked for Python and checks that the call
raises the row's exception class (``twin.<Kind>Error`` with ``.kind`` equal to the row's
kind, or ``UnicodeEncodeError`` for a name that is not valid UTF-8), and that the twin stays
usable afterwards: a valid sample is accepted, the counters reconcile and no refused command
waits to be sent.
"""

import json
import pathlib

import numpy as np
import pytest

import twin

TSV = pathlib.Path(__file__).resolve().parents[1] / "bad_input.tsv"
S = 1_000_000_000


def _unescape(s: str) -> bytes:
    out = bytearray()
    i = 0
    raw = s.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c == ord("\\") and i + 1 < len(raw):
            e = chr(raw[i + 1])
            if e == "t":
                out.append(9)
            elif e == "n":
                out.append(10)
            elif e == "x":
                out.append(int(raw[i + 2 : i + 4].decode("ascii"), 16))
                i += 2
            else:
                out.append(raw[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _load():
    schema, rows = None, []
    for line in TSV.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("@schema\t"):
            schema = line[len("@schema\t") :]
            continue
        case, surfaces, op, payload, expected = line.split("\t")
        rows.append((case, surfaces, op, _unescape(payload), expected))
    assert schema is not None
    return schema, rows


SCHEMA_JSON, ROWS = _load()
PY_ROWS = [r for r in ROWS if "p" in r[1]]
SIGNAL_NAMES = {
    s["name"]
    for part in ("telemetry", "properties")
    for s in json.loads(SCHEMA_JSON).get(part, [])
}


def _num(s: str) -> float:
    return float(s)  # float() reads nan, inf and -inf as the C and Rust surfaces do


def _mutate(doc: str, m: str) -> str:
    what, _, arg = m.partition(" ")
    if what == "truncate":
        return doc[: int(arg)]
    if what == "flip":
        b = bytearray(doc.encode("utf-8"))
        b[len(b) - int(arg.lstrip("-"))] ^= 1
        return b.decode("utf-8")
    if what == "version":
        at = doc.index('"version":') + len('"version":')
        rest = doc[at:]
        skip = len(rest) - len(rest.lstrip())
        digits = len(rest[skip:]) - len(rest[skip:].lstrip("0123456789"))
        return doc[: at + skip] + arg + rest[skip + digits :]
    if what == "text":
        return arg
    raise AssertionError(f"unknown mutation {what}")


def _primed(schema):
    t = twin.Twin(schema)
    t.ingest(1000, "pressure", 10.0)
    t.ingest(1000, "vibration", 1.0)
    return t


def _run(t, op, text):
    """Run one row: the call that must fail is the last one it makes."""
    words = text.split(" ")
    if op == "schema":
        twin.Schema.from_json(text)
    elif op == "ingest":
        signal = int(words[0][1:]) if words[0].startswith("#") else words[0]
        t.ingest(int(words[1]), signal, _num(words[2]))
    elif op == "batch":
        times, sigs, vals = (c.split(",") for c in text.split("|"))
        t.ingest_batch(
            np.array([int(x) for x in times], dtype=np.int64),
            np.array([int(x) for x in sigs], dtype=np.uint32),
            np.array([_num(x) for x in vals], dtype=np.float64),
        )
    elif op == "command":
        steps = text.split(";")
        for i, step in enumerate(steps):
            name, value, time = step.split(" ")
            if i + 1 < len(steps):
                try:
                    t.command(name, _num(value), int(time))
                except twin.TwinError as e:
                    pytest.fail(f"step {i} was refused: {e}")
            else:
                t.command(name, _num(value), int(time))
    elif op == "desired":
        v = t.version
        if words[2] == "current":
            t.set_desired(words[0], _num(words[1]), 2000, expected_version=v)
        else:
            t.set_desired(words[0], _num(words[1]), 2000, expected_version=v)
            t.set_desired(words[0], _num(words[1]) + 1.0, 3000, expected_version=v)
    elif op == "restore":
        twin.Twin.from_snapshot(_mutate(t.snapshot(), text))
    elif op == "model":
        twin.EwmaDetector.from_json(_mutate(twin.EwmaDetector().to_json(), text))
    elif op == "sim":
        twin.sim_validate(text)
    else:
        raise AssertionError(f"unknown op {op}")


def _expected_kind(cell):
    """The cell's first word, unless a ``p:kind`` word overrides it for Python."""
    words = cell.split(" ")
    return next((w[2:] for w in words[1:] if w.startswith("p:")), words[0])


def _expected_class(kind):
    if kind == "invalid_utf8":
        # A str-or-int argument wraps it in a TypeError that names the UnicodeEncodeError.
        return (UnicodeEncodeError, TypeError)
    return getattr(twin, "".join(p.capitalize() for p in kind.split("_")) + "Error")


def test_the_table_has_rows_for_python():
    assert len(PY_ROWS) >= 35
    # Every kind named in the table has its exception class.
    for _, _, _, _, cell in PY_ROWS:
        assert _expected_class(_expected_kind(cell)) is not None


@pytest.mark.parametrize("case, surfaces, op, payload, expected", PY_ROWS, ids=[r[0] for r in PY_ROWS])
def test_bad_input_matrix_python(case, surfaces, op, payload, expected):
    schema = twin.Schema.from_json(SCHEMA_JSON)
    t = _primed(schema)
    # Bytes that are not UTF-8 become lone surrogates, which no str -> UTF-8 call accepts.
    text = payload.decode("utf-8", errors="surrogateescape")
    expected = _expected_kind(expected)
    cls = _expected_class(expected)
    with pytest.raises(cls) as info:
        _run(t, op, text)
    # A sample reaches the twin (and is counted as refused) when its signal is an id or a
    # name of the schema; an unknown name is refused before.
    signal = text.split(" ")[0]
    refused = int(op == "ingest" and (signal.startswith("#") or signal in SIGNAL_NAMES))
    if expected == "invalid_utf8":
        assert isinstance(info.value, UnicodeEncodeError) or "UnicodeEncodeError" in str(info.value)
    else:
        assert info.value.kind == expected, str(info.value)
        assert str(info.value), "an error without a message"
    # Still usable, nothing lost uncounted, no refused command waiting to be sent.
    t.ingest(9 * S, "pressure", 42.0)
    c = t.counters
    assert c["received"] == c["accepted"] + c["rejected"]
    assert (c["accepted"], c["rejected"]) == (3, refused), case
    accepted_steps = text.count(";") if op == "command" else 0
    pending = t.take_commands()
    assert len(pending) == accepted_steps
    assert all(0.0 <= cmd.value <= 40.0 for cmd in pending)
