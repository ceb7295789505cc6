"""Type stubs of the native module ``twin._twin`` (import its names from ``twin``)."""

from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional, Union

import numpy as np
import numpy.typing as npt

__version__: str
#: Batches at least this long are ingested with the GIL released.
DETACH_MIN_SAMPLES: int

# ---------------------------------------------------------------------------- errors

class TwinError(Exception):
    """Base class of every error raised by twin."""

    #: Stable name of the error kind (None on the base class).
    kind: Optional[str]

class InvalidInputError(TwinError, ValueError):
    """An argument or configuration value is invalid."""

class NonFiniteError(TwinError, ValueError):
    """A value is NaN or infinite."""

class UnknownSignalError(TwinError, ValueError):
    """A signal, property or command name (or id) is not in the schema."""

class OutOfOrderError(TwinError, ValueError):
    """A sample is older than the last accepted sample of its signal."""

class DuplicateError(TwinError, ValueError):
    """A sample repeats the time and value of the last accepted sample of its signal."""

class TimestampConflictError(TwinError, ValueError):
    """A sample has the time of the last accepted sample of its signal but another value."""

class OutOfRangeError(TwinError, ValueError):
    """A value lies outside the valid range (or command limits) the schema gives for it."""

class SchemaError(TwinError, ValueError):
    """A schema could not be parsed or is inconsistent."""

class RateLimitedError(TwinError):
    """A command would move faster (or sooner) than its rate limit allows."""

class VersionConflictError(TwinError):
    """An optimistic-concurrency check failed: the state version has moved on."""

class ChannelFullError(TwinError):
    """A bounded channel is full and its policy is to refuse."""

class DisconnectedError(TwinError):
    """The other end of a connection has gone away."""

class IoError(TwinError, OSError):
    """Reading or writing a file or stream failed."""

class SerializationError(TwinError, ValueError):
    """Saved data (a snapshot, a model) could not be encoded or decoded."""

class UnknownTwinError(TwinError, ValueError):
    """A twin id is not in the fleet."""

# ---------------------------------------------------------------------------- schema

class SignalSpec:
    """One telemetry signal or property: name, unit, valid range, alarm limits."""

    def __init__(
        self,
        name: str,
        unit: str = "",
        *,
        min: Optional[float] = None,
        max: Optional[float] = None,
        alarm_low: Optional[float] = None,
        alarm_high: Optional[float] = None,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def min(self) -> Optional[float]: ...
    @property
    def max(self) -> Optional[float]: ...
    @property
    def alarm_low(self) -> Optional[float]: ...
    @property
    def alarm_high(self) -> Optional[float]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...

class CommandSpec:
    """One command with its safety limits, rate limits and the property it sets."""

    def __init__(
        self,
        name: str,
        unit: str = "",
        *,
        min: float,
        max: float,
        max_rate: Optional[float] = None,
        min_interval_s: Optional[float] = None,
        property: Optional[str] = None,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def min(self) -> float: ...
    @property
    def max(self) -> float: ...
    @property
    def max_rate(self) -> Optional[float]: ...
    @property
    def min_interval_s(self) -> Optional[float]: ...
    @property
    def property(self) -> Optional[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...

_SignalLike = Union[SignalSpec, Mapping[str, Any]]
_CommandLike = Union[CommandSpec, Mapping[str, Any]]

class Schema:
    """A validated schema; names resolve to dense ids (telemetry first, then properties).

    Every validation failure raises :class:`SchemaError`.
    """

    def __init__(
        self,
        name: str,
        telemetry: Optional[Iterable[_SignalLike]] = None,
        properties: Optional[Iterable[_SignalLike]] = None,
        commands: Optional[Iterable[_CommandLike]] = None,
    ) -> None: ...
    @staticmethod
    def from_json(json: str) -> Schema: ...
    @staticmethod
    def conveyor() -> Schema: ...
    def to_json(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def signal_names(self) -> list[str]: ...
    @property
    def command_names(self) -> list[str]: ...
    @property
    def telemetry(self) -> list[SignalSpec]: ...
    @property
    def properties(self) -> list[SignalSpec]: ...
    @property
    def commands(self) -> list[CommandSpec]: ...
    @property
    def signal_count(self) -> int: ...
    def signal_id(self, name: str) -> int: ...
    def signal_name(self, id: int) -> str: ...
    def is_property(self, id: int) -> bool: ...
    def __contains__(self, name: str) -> bool: ...
    def __eq__(self, other: object) -> bool: ...
    def __reduce__(self) -> tuple[Callable[[str], Schema], tuple[str]]: ...

# ---------------------------------------------------------------------------- results

class IngestReport:
    """What became of one ingested batch: ``accepted + rejected == total``."""

    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def rejections(self) -> list[tuple[int, str]]:
        """``(index, reason)`` of each refused sample, in input order."""
    @property
    def rejected_indices(self) -> npt.NDArray[np.int64]: ...
    @property
    def reasons(self) -> dict[str, int]: ...
    @property
    def copied(self) -> list[str]:
        """Input columns that were converted or copied rather than borrowed."""
    def __len__(self) -> int: ...

class Insight:
    """A finding about one signal at one time."""

    @property
    def time(self) -> int: ...
    @property
    def signal(self) -> int: ...
    @property
    def signal_name(self) -> str: ...
    @property
    def kind(self) -> str:
        """``"anomaly"``, ``"drift"``, ``"alarm_high"``, ``"alarm_low"`` or ``"alarm_cleared"``."""
    @property
    def value(self) -> float: ...
    @property
    def score(self) -> float:
        """z-score for an anomaly, the crossed limit for an alarm."""
    def __eq__(self, other: object) -> bool: ...

class Command:
    """A validated command: within its limits and rate limits when it left the twin."""

    @property
    def name(self) -> str: ...
    @property
    def id(self) -> int: ...
    @property
    def value(self) -> float: ...
    @property
    def time(self) -> int: ...
    @property
    def seq(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...

# ---------------------------------------------------------------------------- twin

#: ``True`` (default monitor), ``False`` (none), or settings: any of ``alpha``,
#: ``threshold``, ``warmup``, ``include_properties``.
_MonitorArg = Union[bool, Mapping[str, Union[float, int, bool]]]
_Signal = Union[int, str]
_IntArrayLike = Union[npt.NDArray[np.integer[Any]], Iterable[int]]
_FloatArrayLike = Union[npt.NDArray[np.floating[Any]], npt.NDArray[np.integer[Any]], Iterable[float]]

class Twin:
    """A digital twin of one asset. Times are integer nanoseconds; methods are thread-safe."""

    def __init__(self, schema: Schema, monitor: _MonitorArg = True) -> None: ...
    @staticmethod
    def from_snapshot(json: str, monitor: _MonitorArg = True) -> Twin: ...
    @property
    def schema(self) -> Schema: ...
    @property
    def engine_names(self) -> list[str]: ...
    def ingest(self, time: int, signal: _Signal, value: float) -> None:
        """Ingest one sample; a refused sample raises the error that says why."""
    def ingest_batch(
        self,
        times: _IntArrayLike,
        signals: _IntArrayLike,
        values: _FloatArrayLike,
    ) -> IngestReport:
        """Ingest columns of equal length: int64 ns times, uint32 ids, float64 values.

        C-contiguous arrays of exactly these dtypes are read without a copy; other
        integer/float dtypes and non-contiguous views are converted (see
        ``IngestReport.copied``); other dtypes raise ``TypeError``.
        """
    def insights(self) -> list[Insight]: ...
    def drain_insights(self) -> list[Insight]: ...
    def insight_columns(self, drain: bool = False) -> dict[str, npt.NDArray[Any]]:
        """``time`` int64, ``signal`` uint32, ``kind`` object (str), ``value``/``score`` float64."""
    def reported(self, signal: _Signal) -> Optional[float]: ...
    def reported_time(self, signal: _Signal) -> Optional[int]: ...
    def desired(self, signal: _Signal) -> Optional[float]: ...
    def set_desired(
        self, name: str, value: float, time: int, expected_version: Optional[int] = None
    ) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def now(self) -> Optional[int]: ...
    @property
    def counters(self) -> dict[str, int]: ...
    @property
    def command_counters(self) -> dict[str, int]: ...
    def command(self, name: str, value: float, time: int) -> Command: ...
    def pending_commands(self) -> list[Command]: ...
    def take_commands(self) -> list[Command]: ...
    def audit_log(self) -> list[dict[str, Any]]: ...
    def snapshot(self) -> str: ...
    def __reduce__(self) -> tuple[Callable[..., Twin], tuple[str, _MonitorArg]]: ...
