"""Shared fixtures of the Python tests of the twin bindings."""

import numpy as np
import pytest

import twin

#: One second in nanoseconds.
S = 1_000_000_000


@pytest.fixture
def plant() -> twin.Schema:
    """Two telemetry signals (x bounded to [0, 100], y unbounded) and one property."""
    return twin.Schema(
        "plant",
        telemetry=[
            {"name": "x", "unit": "bar", "min": 0.0, "max": 100.0},
            twin.SignalSpec("y", "degC", alarm_high=50.0),
        ],
        properties=[twin.SignalSpec("setpoint", "bar", min=0.0, max=80.0)],
        commands=[
            twin.CommandSpec("set_x", "bar", min=0.0, max=80.0, max_rate=1.0, property="setpoint"),
        ],
    )


def _columns(rows):
    t, s, v = zip(*rows)
    return (
        np.array(t, dtype=np.int64),
        np.array(s, dtype=np.uint32),
        np.array(v, dtype=np.float64),
    )


@pytest.fixture
def columns():
    """Turns (time, signal, value) rows into the three typed numpy columns of a batch."""
    return _columns
