"""The exception hierarchy: one class per error kind, importable from twin."""

import pickle

import pytest

import twin

# (class name, kind, also a ValueError, also an OSError)
KINDS = [
    ("InvalidInputError", "invalid_input", True, False),
    ("NonFiniteError", "non_finite", True, False),
    ("UnknownSignalError", "unknown_signal", True, False),
    ("OutOfOrderError", "out_of_order", True, False),
    ("DuplicateError", "duplicate", True, False),
    ("TimestampConflictError", "timestamp_conflict", True, False),
    ("OutOfRangeError", "out_of_range", True, False),
    ("SchemaError", "schema", True, False),
    ("RateLimitedError", "rate_limited", False, False),
    ("VersionConflictError", "version_conflict", False, False),
    ("ChannelFullError", "channel_full", False, False),
    ("DisconnectedError", "disconnected", False, False),
    ("IoError", "io", False, True),
    ("SerializationError", "serialization", True, False),
    ("UnknownTwinError", "unknown_twin", True, False),
    ("LimitExceededError", "limit_exceeded", True, False),
    ("CancelledError", "cancelled", False, False),
]


@pytest.mark.parametrize("name, kind, value_error, os_error", KINDS)
def test_hierarchy(name, kind, value_error, os_error):
    cls = getattr(twin, name)
    assert cls.__module__ == "twin" and cls.__name__ == name
    assert issubclass(cls, twin.TwinError) and issubclass(cls, Exception)
    assert issubclass(cls, ValueError) == value_error
    assert issubclass(cls, OSError) == os_error
    assert cls.kind == kind
    assert cls.__doc__
    e = pickle.loads(pickle.dumps(cls("message")))
    assert type(e) is cls and str(e) == "message"


def test_every_kind_has_its_own_class():
    assert len({k for _, k, _, _ in KINDS}) == len(KINDS) == 17
    assert twin.TwinError.kind is None
    assert not issubclass(twin.TwinError, ValueError)


def test_errors_are_raised_by_kind_not_message(plant):
    t = twin.Twin(plant)
    t.ingest(10, "x", 1.0)
    with pytest.raises(twin.TwinError) as info:
        t.ingest(5, "x", 1.0)
    assert type(info.value) is twin.OutOfOrderError
