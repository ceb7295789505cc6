"""Commands: limits, rate limits, outbox, audit log, desired state and versions."""

import pytest

import twin

S = 1_000_000_000


def test_command_within_limits_is_queued_and_sets_desired():
    t = twin.Twin(twin.Schema.conveyor())
    cmd = t.command("set_speed", 1.2, 0)
    assert (cmd.name, cmd.value, cmd.time, cmd.seq, cmd.id) == ("set_speed", 1.2, 0, 1, 0)
    assert repr(cmd) == "Command('set_speed', value=1.2, time=0, seq=1)"
    assert t.desired("speed_setpoint") == 1.2
    assert t.version == 1
    assert t.pending_commands() == [cmd]
    assert t.take_commands() == [cmd]
    assert t.take_commands() == [] and t.pending_commands() == []
    assert t.command_counters["accepted"] == 1 and t.command_counters["sent"] == 1


def test_command_out_of_limits_raises_and_is_never_sent():
    t = twin.Twin(twin.Schema.conveyor())
    with pytest.raises(twin.OutOfRangeError, match="outside its valid range") as info:
        t.command("set_speed", 9.0, 0)
    assert isinstance(info.value, ValueError) and info.value.kind == "out_of_range"
    with pytest.raises(twin.OutOfRangeError):
        t.command("set_speed", -0.1, 0)
    with pytest.raises(twin.NonFiniteError):
        t.command("set_speed", float("nan"), 0)
    with pytest.raises(twin.UnknownSignalError):
        t.command("fly", 1.0, 0)
    assert t.pending_commands() == [] and t.take_commands() == []
    assert t.desired("speed_setpoint") is None
    log = t.audit_log()
    assert [(e["outcome"], e["reason"]) for e in log] == [
        ("refused", "out_of_range"),
        ("refused", "out_of_range"),
        ("refused", "non_finite"),
        ("refused", "unknown_signal"),
    ]
    assert log[0]["command"] == "set_speed" and log[0]["value"] == 9.0 and log[0]["source"] == "user"
    assert t.command_counters["refused"] == 4


def test_rate_limits():
    # The conveyor's set_speed moves at most 0.05 m/s per second, at most once a second.
    t = twin.Twin(twin.Schema.conveyor())
    t.command("set_speed", 1.0, 0)
    with pytest.raises(twin.RateLimitedError) as info:
        t.command("set_speed", 1.01, S // 2)  # sooner than the minimum interval
    assert not isinstance(info.value, ValueError)
    with pytest.raises(twin.RateLimitedError):
        t.command("set_speed", 1.6, 10 * S)  # 0.6 in 10 s is faster than 0.05/s
    ok = t.command("set_speed", 1.5, 10 * S)  # exactly 0.05/s
    assert ok.seq == 2
    assert [c.value for c in t.take_commands()] == [1.0, 1.5]


def test_desired_state_with_versions(plant):
    t = twin.Twin(plant)
    v = t.version
    assert t.set_desired("setpoint", 10.0, 0, expected_version=v) == v + 1
    with pytest.raises(twin.VersionConflictError) as info:
        t.set_desired("setpoint", 20.0, 0, expected_version=v)
    assert not isinstance(info.value, ValueError)
    assert t.desired("setpoint") == 10.0
    with pytest.raises(twin.OutOfRangeError):
        t.set_desired("setpoint", 81.0, 0)
    with pytest.raises(twin.InvalidInputError, match="telemetry"):
        t.set_desired("x", 1.0, 0)
