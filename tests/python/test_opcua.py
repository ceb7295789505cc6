"""OPC UA against a real server: examples/python/opcua_conveyor.py runs an asyncua server on
loopback, a client mirrors it into a twin and writes a validated command back."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import pathlib
import sys

import asyncua  # noqa: F401  (scripts/check-py.sh installs it; a missing asyncua fails here)

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "opcua_conveyor.py"


def load_example():
    spec = importlib.util.spec_from_file_location("opcua_conveyor", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def run(scans: int, **sim_args):
    ex = load_example()

    async def go():
        port = ex.free_port()
        server, nodes = await ex.start_server(port)
        async with server:
            tw, report = await ex.mirror(port, scans, ex.SimulatedConveyor(**sim_args), nodes)
            final_setpoint = await nodes["speed_setpoint"].read_value()
        return tw, report, final_setpoint

    return asyncio.run(go())


def test_mirror_flags_spikes_and_writes_the_setpoint_back():
    tw, report, final_setpoint = run(220)
    assert report.scans == 220
    assert report.values_read == 220 * 5
    c = tw.counters
    assert (c["accepted"], c["rejected"]) == (1100, 0)
    assert report.anomalies == [150, 170, 185]
    assert report.commands == [(185, "set_speed", 1.6)]
    assert report.refused_commands == 0
    # The command reached the server's node, and the twin's desired value agrees.
    assert math.isclose(final_setpoint, 1.6)
    assert math.isclose(tw.desired("speed_setpoint"), 1.6)
    # The drive followed: its reported belt speed moved towards 1.6 m/s.
    assert tw.reported("belt_speed") < 1.65


def test_a_faulty_value_read_over_opcua_is_refused_and_counted():
    tw, report, _ = run(60, nan_at=(20, 40), spikes=())
    c = tw.counters
    assert c["received"] == 300
    assert (c["accepted"], c["rejected"]) == (298, 2)
    assert c["non_finite"] == 2
    assert report.commands == []
