"""Type stubs of the native module ``twin._twin`` (import its names from ``twin``)."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable, Optional, Union, final

from typing_extensions import Self

import numpy as np
import numpy.typing as npt

__version__: str
#: Batches at least this long are ingested with the GIL released.
DETACH_MIN_SAMPLES: int

# ---- progress and Ctrl-C for long runs ----
#: ``progress=`` of long runs: ``None``/``False`` (quiet), ``True`` (a tqdm bar when tqdm
#: is installed) or a callable ``progress(done, total)``.
_ProgressArg = Union[bool, Callable[[int, int], object], None]
# ---- end progress ----

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

class LimitExceededError(TwinError, ValueError):
    """A configured resource limit (history length, schema size, batch size, number of twins) would be exceeded."""
class CancelledError(TwinError):
    """A long run was cancelled before it finished (from Python, Ctrl-C raises KeyboardInterrupt instead)."""

# ---------------------------------------------------------------------------- schema

@final
class SignalSpec:
    """One telemetry signal or property: name, unit, valid range, alarm limits."""

    def __new__(
        cls,
        name: str,
        unit: str = "",
        *,
        min: Optional[float] = None,
        max: Optional[float] = None,
        alarm_low: Optional[float] = None,
        alarm_high: Optional[float] = None,
    ) -> Self: ...
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
    def __eq__(self, other: object, /) -> bool: ...

@final
class CommandSpec:
    """One command with its safety limits, rate limits and the property it sets."""

    def __new__(
        cls,
        name: str,
        unit: str = "",
        *,
        min: float,
        max: float,
        max_rate: Optional[float] = None,
        min_interval_s: Optional[float] = None,
        property: Optional[str] = None,
    ) -> Self: ...
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
    def __eq__(self, other: object, /) -> bool: ...

_SignalLike = Union[SignalSpec, Mapping[str, Any]]
_CommandLike = Union[CommandSpec, Mapping[str, Any]]

@final
class Schema:
    """A validated schema; names resolve to dense ids (telemetry first, then properties).

    Every validation failure raises :class:`SchemaError`.
    """

    def __new__(
        cls,
        name: str,
        telemetry: Optional[Iterable[_SignalLike]] = None,
        properties: Optional[Iterable[_SignalLike]] = None,
        commands: Optional[Iterable[_CommandLike]] = None,
    ) -> Self: ...
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
    def __contains__(self, name: str, /) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Callable[[str], Schema], tuple[str]]: ...

# ---------------------------------------------------------------------------- results

@final
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

@final
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
    def __eq__(self, other: object, /) -> bool: ...

@final
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
    def __eq__(self, other: object, /) -> bool: ...

# ---------------------------------------------------------------------------- twin

#: ``True`` (default monitor), ``False`` (none), or settings: any of ``alpha``,
#: ``threshold``, ``warmup``, ``include_properties``.
_MonitorArg = Union[bool, Mapping[str, Union[float, int, bool]]]
_Signal = Union[int, str]
_IntArrayLike = Union[npt.NDArray[np.integer[Any]], Iterable[int]]
_FloatArrayLike = Union[npt.NDArray[np.floating[Any]], npt.NDArray[np.integer[Any]], Iterable[float]]

@final
class Twin:
    """A digital twin of one asset. Times are integer nanoseconds; methods are thread-safe."""

    def __new__(
        cls,
        schema: Schema,
        monitor: _MonitorArg = True,
        model: Optional[_Model] = None,
        limits: Optional[dict[str, int]] = None,
        engines: Optional[Iterable[_Engine]] = (),
        rules: Optional[Iterable[_Rule]] = (),
    ) -> Self: ...
    @staticmethod
    def from_snapshot(
        json: str,
        monitor: _MonitorArg = True,
        model: Optional[_Model] = None,
        limits: Optional[dict[str, int]] = None,
        engines: Optional[Iterable[_Engine]] = (),
        rules: Optional[Iterable[_Rule]] = (),
    ) -> Twin: ...
    @property
    def engines(self) -> tuple[_Engine, ...]:
        """The engines given as ``engines``, in order."""
    @property
    def rules(self) -> tuple[_Rule, ...]:
        """The rules given as ``rules``, in order."""
    @property
    def limits(self) -> dict[str, int]:
        """The twin's bounds: max_pending_insights, max_audit_entries, max_history_samples, max_batch_samples."""
    def history(self) -> dict[str, np.ndarray]:
        """The recent accepted samples, oldest first: time (int64), signal (uint32), value (float64)."""
    def what_if(self, scenario: _ScenarioArg, *, progress: _ProgressArg = None) -> WhatIfResult:
        """Run the twin's model forward from its current estimate; the twin is untouched."""
    # ---- pandas tables (pandas is optional; ImportError without it) ----
    def insights_frame(self, drain: bool = False) -> Any:
        """Pending insights as a DataFrame: time, signal, signal_id, kind, value, score."""
    def audit_frame(self) -> Any:
        """The command audit log as a DataFrame."""
    def ingest_frame(self, df: Any, *, time: str = "time", signal: str = "signal", value: str = "value") -> IngestReport:
        """Ingest a long (time, signal, value) or wide (one column per signal) DataFrame."""
    # ---- end pandas tables ----
    @property
    def model(self) -> Optional[_Model]: ...
    def estimate(self, name: str) -> Optional[float]: ...
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

# ---------------------------------------------------------------------------- streaming detectors

@final
class EwmaDetector:
    """Exponentially weighted z-score detector of one stream."""

    def __new__(
        cls,
        *,
        alpha: float = 0.05,
        clip: float = 4.0,
        warmup: int = 30,
        threshold: float = 0.999,
        calibration_window: int = 2048,
        calibration_min_scores: int = 128,
    ) -> Self: ...
    def update(self, x: float) -> float: ...
    def score_many(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def detect_many(
        self, x: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...
    def reset(self) -> None: ...
    @property
    def is_warm(self) -> bool: ...
    @property
    def threshold(self) -> float: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

@final
class RobustZScore:
    """Robust (median / MAD) z-score detector of one stream."""

    def __new__(
        cls,
        *,
        window: int = 64,
        min_samples: int = 16,
        threshold: float = 0.999,
        calibration_window: int = 2048,
        calibration_min_scores: int = 128,
    ) -> Self: ...
    def update(self, x: float) -> float: ...
    def score_many(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def detect_many(
        self, x: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...
    def reset(self) -> None: ...
    @property
    def is_warm(self) -> bool: ...
    @property
    def threshold(self) -> float: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

@final
class Cusum:
    """Two-sided CUSUM detector of lasting mean shifts."""

    def __new__(
        cls,
        *,
        k: float = 0.5,
        warmup: int = 128,
        threshold: float = 0.99999,
    ) -> Self: ...
    def update(self, x: float) -> float: ...
    def score_many(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def detect_many(
        self, x: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...
    def reset(self) -> None: ...
    @property
    def is_warm(self) -> bool: ...
    @property
    def threshold(self) -> float: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

@final
class PageHinkley:
    """Two-sided Page-Hinkley detector of lasting mean shifts."""

    def __new__(
        cls,
        *,
        delta: float = 0.5,
        warmup: int = 128,
        threshold: float = 0.99999,
    ) -> Self: ...
    def update(self, x: float) -> float: ...
    def score_many(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def detect_many(
        self, x: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...
    def reset(self) -> None: ...
    @property
    def is_warm(self) -> bool: ...
    @property
    def threshold(self) -> float: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

@final
class HalfSpaceTrees:
    """Streaming Half-Space Trees on one stream."""

    def __new__(
        cls,
        *,
        trees: int = 10,
        height: int = 8,
        window: int = 250,
        size_limit: float = 0.1,
        detrend: float = 0.05,
        seed: int = 42,
        threshold: float = 0.995,
        calibration_window: int = 4096,
        calibration_min_scores: int = 128,
    ) -> Self: ...
    def update(self, x: float) -> float: ...
    def score_many(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def detect_many(
        self, x: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...
    def reset(self) -> None: ...
    @property
    def is_warm(self) -> bool: ...
    @property
    def threshold(self) -> float: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

@final
class DetectorEnsemble:
    """Several univariate detectors on one stream, their likelihoods fused into one."""

    def __new__(
        cls,
        *,
        members: Sequence[Union[str, EwmaDetector, RobustZScore, Cusum, PageHinkley, HalfSpaceTrees]] = ("ewma", "robust_z", "hst"),
        fusion: str = "max",
        threshold: float = 0.999,
    ) -> Self: ...
    def update(self, x: float) -> float: ...
    def score_many(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def detect_many(
        self, x: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...
    def member_likelihoods(self) -> list[float]: ...
    @property
    def member_names(self) -> list[str]: ...
    def reset(self) -> None: ...
    @property
    def is_warm(self) -> bool: ...
    @property
    def threshold(self) -> float: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

# ---------------------------------------------------------------------------- multivariate detectors

@final
class PcaDetector:
    """Principal-component detector (Hotelling's T² and SPE) fit on healthy data."""

    def __new__(cls, *, n_components: Union[int, float] = 0.9, threshold: float = 0.999) -> Self: ...
    def fit(self, x: npt.ArrayLike, y: Optional[npt.ArrayLike] = None) -> Self: ...
    def predict(self, x: npt.ArrayLike) -> npt.NDArray[np.int64]: ...
    def decision_function(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def likelihood(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score(self, x: npt.ArrayLike, y: Optional[npt.ArrayLike] = None) -> float: ...
    def statistics(self, x: npt.ArrayLike) -> dict[str, npt.NDArray[Any]]: ...
    def spe_contributions(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    @property
    def n_features_in_(self) -> int: ...
    @property
    def n_components_(self) -> int: ...
    @property
    def explained_variance_ratio_(self) -> npt.NDArray[np.float64]: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    def __sklearn_tags__(self) -> Any: ...

@final
class MahalanobisDetector:
    """Mahalanobis-distance detector with a shrunk covariance, fit on healthy data."""

    def __new__(cls, *, shrinkage: Union[str, float] = "ledoit_wolf", threshold: float = 0.999) -> Self: ...
    def fit(self, x: npt.ArrayLike, y: Optional[npt.ArrayLike] = None) -> Self: ...
    def predict(self, x: npt.ArrayLike) -> npt.NDArray[np.int64]: ...
    def decision_function(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def likelihood(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score(self, x: npt.ArrayLike, y: Optional[npt.ArrayLike] = None) -> float: ...
    def statistics(self, x: npt.ArrayLike) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def n_features_in_(self) -> int: ...
    @property
    def shrinkage_(self) -> float: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    def __sklearn_tags__(self) -> Any: ...

# ---------------------------------------------------------------------------- condition features

def condition_features(x: npt.ArrayLike) -> dict[str, float]:
    """Condition features (count, mean, rms, std, peak, crest_factor, skewness, kurtosis) of a block."""

@final
class RollingFeatures:
    """Condition features over a sliding window, updated in O(1) per value."""

    def __new__(cls, *, window: int = 64, step: int = 1) -> Self: ...
    @property
    def columns(self) -> list[str]: ...
    def update(self, x: float) -> None: ...
    def update_many(self, x: npt.ArrayLike, as_dict: bool = False) -> Union[npt.NDArray[np.float64], dict[str, npt.NDArray[np.float64]]]: ...
    def features(self) -> Optional[dict[str, float]]: ...
    def reset(self) -> None: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    def __len__(self) -> int: ...

@final
class BandEnergies:
    """Energies of vibration frames in frequency bands (Hann window, FFT, Parseval scaling)."""

    def __new__(cls, sample_rate: float, frame: int, edges: npt.ArrayLike, remove_mean: bool = False) -> Self: ...
    @property
    def bands(self) -> int: ...
    def compute(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def compute_many(self, x: npt.ArrayLike, hop: Optional[int] = None) -> npt.NDArray[np.float64]: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

# ---------------------------------------------------------------------------- health index

@final
class HealthIndex:
    """A health index fused from condition features: 1 like new, 0 failed."""

    def __new__(
        cls,
        *,
        method: str = "regression",
        ridge: float = 1.0,
        healthy_fraction: float = 0.1,
        failed_fraction: float = 0.05,
    ) -> Self: ...
    def fit(self, x: npt.ArrayLike, y: Optional[npt.ArrayLike] = None, *, groups: Optional[npt.ArrayLike] = None) -> Self: ...
    def predict(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def predict_unclamped(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score(self, x: npt.ArrayLike, y: npt.ArrayLike) -> float: ...
    @property
    def n_features_in_(self) -> int: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    def __sklearn_tags__(self) -> Any: ...

# ---------------------------------------------------------------------------- reliability

@final
class Weibull:
    """A two-parameter Weibull life distribution, fit with right-censored data."""

    def __new__(cls, shape: float, scale: float) -> Self: ...
    @classmethod
    def fit(
        cls,
        times: npt.ArrayLike,
        censored: Optional[npt.ArrayLike] = None,
        *,
        confidence: float = 0.9,
        min_failures: int = 2,
        fixed_shape: Optional[float] = None,
    ) -> Weibull: ...
    @property
    def shape(self) -> float: ...
    @property
    def scale(self) -> float: ...
    @property
    def mtbf(self) -> float: ...
    @property
    def b10(self) -> float: ...
    @property
    def fit_summary(self) -> Optional[dict[str, Any]]: ...
    def reliability(self, t: Union[float, npt.ArrayLike]) -> Any: ...
    def unreliability(self, t: Union[float, npt.ArrayLike]) -> Any: ...
    def pdf(self, t: Union[float, npt.ArrayLike]) -> Any: ...
    def hazard(self, t: Union[float, npt.ArrayLike]) -> Any: ...
    def conditional_reliability(self, t: float, x: float) -> float: ...
    def quantile(self, p: float) -> float: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Weibull: ...

# ---------------------------------------------------------------------------- remaining useful life

@final
class RegressionRul:
    """RUL by gradient-boosted trees or ridge on window features, with a conformal interval."""

    def __new__(
        cls,
        *,
        learner: str = "boosting",
        cap: float = 125.0,
        window: int = 30,
        smoothing: float = 0.1,
        recent: int = 0,
        spread: bool = False,
        history: bool = False,
        age: bool = True,
        n_trees: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 5,
        min_samples_leaf: int = 20,
        subsample: float = 0.8,
        colsample: float = 0.8,
        max_bins: int = 64,
        tree_seed: int = 0,
        alpha: float = 1.0,
        level: float = 0.9,
        bins: int = 4,
        min_per_bin: int = 40,
        folds: int = 5,
        stride: int = 1,
        min_history: int = 10,
        per_unit: bool = True,
        seed: int = 0,
        threads: int = 0,
    ) -> Self: ...
    def fit(
        self,
        x: npt.ArrayLike,
        units: npt.ArrayLike,
        cycles: Optional[npt.ArrayLike] = None,
        *,
        progress: _ProgressArg = None,
    ) -> Self: ...
    def predict(self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float64]: ...
    def predict_interval(
        self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    @property
    def held_out_(self) -> dict[str, float]: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    @property
    def dropped_signals_(self) -> list[int]: ...
    def __sklearn_tags__(self) -> Any: ...

@final
class SimilarityRul:
    """Similarity-based RUL against a fleet's run-to-failure library, with a conformal interval."""

    def __new__(
        cls,
        *,
        cap: float = 125.0,
        smoothing: float = 0.1,
        indicator_alpha: float = 1.0,
        window: int = 30,
        neighbours: int = 10,
        bandwidth: float = 1.0,
        level: float = 0.9,
        bins: int = 4,
        min_per_bin: int = 40,
        folds: int = 5,
        stride: int = 1,
        min_history: int = 10,
        per_unit: bool = True,
        seed: int = 0,
        threads: int = 0,
    ) -> Self: ...
    def fit(
        self,
        x: npt.ArrayLike,
        units: npt.ArrayLike,
        cycles: Optional[npt.ArrayLike] = None,
        *,
        progress: _ProgressArg = None,
    ) -> Self: ...
    def predict(self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float64]: ...
    def predict_interval(
        self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    @property
    def held_out_(self) -> dict[str, float]: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    def __sklearn_tags__(self) -> Any: ...

@final
class ExponentialRul:
    """RUL from an exponential degradation model with a Bayesian update, with a conformal interval."""

    def __new__(
        cls,
        *,
        cap: float = 125.0,
        smoothing: float = 0.1,
        indicator_alpha: float = 1.0,
        onset: float = 0.1,
        phi: Optional[float] = None,
        threshold: Optional[float] = None,
        horizon: Optional[float] = None,
        level: float = 0.9,
        bins: int = 4,
        min_per_bin: int = 40,
        folds: int = 5,
        stride: int = 1,
        min_history: int = 10,
        per_unit: bool = True,
        seed: int = 0,
        threads: int = 0,
    ) -> Self: ...
    def fit(
        self,
        x: npt.ArrayLike,
        units: npt.ArrayLike,
        cycles: Optional[npt.ArrayLike] = None,
        *,
        progress: _ProgressArg = None,
    ) -> Self: ...
    def predict(self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float64]: ...
    def predict_interval(
        self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    @property
    def held_out_(self) -> dict[str, float]: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    def __sklearn_tags__(self) -> Any: ...

@final
class RulEnsemble:
    """Stacked RUL models with weights chosen on out-of-fold predictions and one conformal interval."""

    def __new__(
        cls,
        *,
        members: Sequence[Union[str,
        RegressionRul,
        SimilarityRul,
        ExponentialRul]] = ("boosting",
        "ridge",
        "similarity",
        "exponential"),
        cap: float = 125.0,
        grid: int = 20,
        level: float = 0.9,
        bins: int = 4,
        min_per_bin: int = 40,
        folds: int = 5,
        stride: int = 1,
        min_history: int = 10,
        per_unit: bool = True,
        seed: int = 0,
        threads: int = 0,
    ) -> Self: ...
    def fit(
        self,
        x: npt.ArrayLike,
        units: npt.ArrayLike,
        cycles: Optional[npt.ArrayLike] = None,
        *,
        progress: _ProgressArg = None,
    ) -> Self: ...
    def predict(self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float64]: ...
    def predict_interval(
        self, x: npt.ArrayLike, units: npt.ArrayLike, cycles: Optional[npt.ArrayLike] = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    @property
    def held_out_(self) -> dict[str, float]: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    @property
    def weights_(self) -> list[float]: ...
    def __sklearn_tags__(self) -> Any: ...

# ---------------------------------------------------------------------------- state estimation and prognosis

@final
class LinearModel:
    """A linear Gaussian state-space model, discrete (transition) or continuous (dynamics)."""

    def __new__(
        cls,
        *,
        observation: npt.ArrayLike,
        process_noise: npt.ArrayLike,
        measurement_noise: npt.ArrayLike,
        transition: Optional[npt.ArrayLike] = None,
        period: float = 1.0,
        dynamics: Optional[npt.ArrayLike] = None,
        input_matrix: Optional[npt.ArrayLike] = None,
        feedthrough: Optional[npt.ArrayLike] = None,
        event_weights: Optional[npt.ArrayLike] = None,
        event_level: float = 0.0,
    ) -> Self: ...
    @property
    def dims(self) -> tuple[int, int, int]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> LinearModel: ...

@final
class BatteryCircuit:
    """NASA's equivalent-circuit battery model (ProgPy's BatteryCircuit)."""

    def __new__(
        cls,
        *,
        params: Optional[dict[str, float]] = None,
        process_noise: Optional[Sequence[float]] = None,
        measurement_noise: Optional[Sequence[float]] = None,
    ) -> Self: ...
    def initial_state(self) -> npt.NDArray[np.float64]: ...
    def state_of_charge(self, x: Sequence[float]) -> float: ...
    def event_state(self, x: Sequence[float]) -> float: ...
    def step(self, x: Sequence[float], u: Sequence[float], dt: float) -> npt.NDArray[np.float64]: ...
    def output(self, x: Sequence[float], u: Sequence[float]) -> npt.NDArray[np.float64]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> BatteryCircuit: ...

@final
class StateModel:
    """A user-defined state-space model of Python callables (slower than the built-in models)."""

    def __new__(
        cls,
        f: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64], float], npt.ArrayLike],
        h: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], npt.ArrayLike],
        *,
        states: int,
        outputs: int,
        process_noise: npt.ArrayLike,
        measurement_noise: npt.ArrayLike,
        inputs: int = 0,
        event: Optional[Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], float]] = None,
    ) -> Self: ...
    @property
    def dims(self) -> tuple[int, int, int]: ...

@final
class KalmanFilter:
    """The (extended) Kalman filter for a LinearModel or BatteryCircuit."""

    def __new__(cls, model: Union[LinearModel, BatteryCircuit], x0: npt.ArrayLike, p0: npt.ArrayLike) -> Self: ...
    def predict(self, u: npt.ArrayLike, dt: float) -> None: ...
    def update(self, z: npt.ArrayLike) -> None: ...
    def estimate(self, u: npt.ArrayLike, dt: float, z: npt.ArrayLike) -> None: ...
    def run(self, u: npt.ArrayLike, dt: float, z: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    @property
    def mean(self) -> npt.NDArray[np.float64]: ...
    @property
    def covariance(self) -> npt.NDArray[np.float64]: ...
    def predict_event(
        self,
        u: npt.ArrayLike,
        *,
        samples: int = 100,
        dt: float = 1.0,
        horizon: float = 1e7,
        seed: int = 0,
        process_noise: bool = True,
        interpolate: bool = True,
    ) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

@final
class UnscentedKalmanFilter:
    """The unscented Kalman filter."""

    def __new__(cls, model: Union[LinearModel, BatteryCircuit, StateModel], x0: npt.ArrayLike, p0: npt.ArrayLike, *, alpha: float = 1.0, beta: float = 2.0, kappa: float = 0.0) -> Self: ...
    def predict(self, u: npt.ArrayLike, dt: float) -> None: ...
    def update(self, z: npt.ArrayLike) -> None: ...
    def estimate(self, u: npt.ArrayLike, dt: float, z: npt.ArrayLike) -> None: ...
    def run(self, u: npt.ArrayLike, dt: float, z: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    @property
    def mean(self) -> npt.NDArray[np.float64]: ...
    @property
    def covariance(self) -> npt.NDArray[np.float64]: ...
    def predict_event(
        self,
        u: npt.ArrayLike,
        *,
        samples: int = 100,
        dt: float = 1.0,
        horizon: float = 1e7,
        seed: int = 0,
        process_noise: bool = True,
        interpolate: bool = True,
    ) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

@final
class ParticleFilter:
    """The particle filter with systematic resampling."""

    def __new__(cls, model: Union[LinearModel, BatteryCircuit, StateModel], x0: npt.ArrayLike, p0: npt.ArrayLike, *, particles: int = 1000, resample_threshold: float = 0.5, seed: int = 0) -> Self: ...
    def predict(self, u: npt.ArrayLike, dt: float) -> None: ...
    def update(self, z: npt.ArrayLike) -> None: ...
    def estimate(self, u: npt.ArrayLike, dt: float, z: npt.ArrayLike) -> None: ...
    def run(self, u: npt.ArrayLike, dt: float, z: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    @property
    def mean(self) -> npt.NDArray[np.float64]: ...
    @property
    def covariance(self) -> npt.NDArray[np.float64]: ...
    def predict_event(
        self,
        u: npt.ArrayLike,
        *,
        samples: int = 100,
        dt: float = 1.0,
        horizon: float = 1e7,
        seed: int = 0,
        process_noise: bool = True,
        interpolate: bool = True,
    ) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...
    @property
    def effective_sample_size(self) -> float: ...

# ---------------------------------------------------------------------------- sim (issue 5)

@final
class SimReport:
    """What one simulation run produced: a summary dict and tables as dicts of numpy arrays."""

    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def devices(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def gateways(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def timeline(self) -> dict[str, npt.NDArray[Any]]: ...
    def to_pandas(self, table: str) -> Any: ...
    def to_json(self) -> str: ...
    @classmethod
    def from_json(cls, json: str) -> Self: ...

def sim_validate(scenario: Union[str, Mapping[str, Any]]) -> None:
    """Validate a scenario; raises InvalidInputError naming the offending field."""

def sim_run(scenario: Union[str, Mapping[str, Any]], *, progress: _ProgressArg = None) -> SimReport:
    """Validate and run a scenario with the GIL released."""

def sim_replicate(
    scenario: Union[str, Mapping[str, Any]], n: int, threads: int = 0, *, progress: _ProgressArg = None
) -> list[SimReport]:
    """``n`` independent replications, ``threads`` at a time (0: all cores)."""

def sim_sweep(
    scenario: Union[str, Mapping[str, Any]],
    path: str,
    values: Sequence[float],
    replications: int = 1,
    threads: int = 0,
    *,
    progress: _ProgressArg = None,
) -> dict[str, Any]:
    """Sweep a numeric field by dotted path: ``path``, ``table`` (numpy columns) and ``reports``."""

def sim_paired(
    baseline: Union[str, Mapping[str, Any]],
    variant: Union[str, Mapping[str, Any]],
    n: int,
    threads: int = 0,
    *,
    progress: _ProgressArg = None,
) -> dict[str, Any]:
    """Paired runs on common random numbers: ``baseline``, ``variant`` and ``differences``."""

def smart_grid(**config: Any) -> dict[str, Any]:
    """The smart-grid demand-response study (houses, seed, strategies)."""

def building_placement(**config: Any) -> dict[str, Any]:
    """The building sensor-placement study (counts, seed, period_s, horizon_s, threads)."""

def traffic_corridor(**config: Any) -> dict[str, Any]:
    """The traffic-corridor signal-timing study (vehicles, seed, plans)."""


# ---- what-if, physics models, maintenance and decision support ----

_ScenarioArg = Union["WhatIfScenario", dict[str, Any], str]
_Model = Union["ConveyorModel", "ThermalModel", "BatteryModel", "PumpModel", "WindTurbineModel"]

@final
class WhatIfScenario:
    """A what-if scenario: horizon, step, input profiles, faults and Monte Carlo settings."""

    def __new__(
        cls,
        horizon_s: float,
        step_s: float,
        *,
        inputs: Optional[dict[str, Union[float, dict[str, Any]]]] = None,
        faults: Optional[list[dict[str, Any]]] = None,
        paths: int = 200,
        seed: int = 0,
        parameter_uncertainty: float = 1.0,
        process_noise: float = 1.0,
        quantiles: Optional[list[float]] = None,
    ) -> Self: ...
    @staticmethod
    def from_json(json: Union[str, dict[str, Any]]) -> WhatIfScenario: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def steps(self) -> int: ...
    @property
    def horizon_s(self) -> float: ...
    @property
    def step_s(self) -> float: ...
    @property
    def paths(self) -> int: ...

@final
class WhatIfResult:
    """Trajectories (steps x variables) per quantile, and the time-to-failure distribution."""

    @property
    def model(self) -> str: ...
    @property
    def times_s(self) -> npt.NDArray[np.float64]: ...
    @property
    def names(self) -> list[str]: ...
    @property
    def levels(self) -> list[float]: ...
    @property
    def mean(self) -> npt.NDArray[np.float64]: ...
    def quantile(self, level: float) -> npt.NDArray[np.float64]: ...
    @property
    def percentiles(self) -> npt.NDArray[np.float64]: ...
    def trajectory(self, name: str) -> dict[Any, npt.NDArray[np.float64]]: ...
    def to_pandas(self) -> Any:
        """Long DataFrame: time_s, variable, mean and one column per level (pandas optional)."""
    @property
    def failure_times(self) -> npt.NDArray[np.float64]: ...
    @property
    def failure_probability(self) -> float: ...
    @property
    def summary(self) -> dict[str, Any]: ...
    def survival(self, t_s: float) -> float: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(json: Union[str, dict[str, Any]]) -> WhatIfResult: ...

@final
class ConveyorModel:
    """The conveyor drive's digital model."""

    def __new__(cls, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @staticmethod
    def standard_schema() -> Schema: ...
    @property
    def name(self) -> str: ...
    @property
    def state_names(self) -> list[str]: ...
    @property
    def input_names(self) -> list[str]: ...
    @property
    def parameter_names(self) -> list[str]: ...
    def what_if(self, scenario: _ScenarioArg, *, progress: _ProgressArg = None) -> WhatIfResult: ...

@final
class ThermalModel:
    """A first-order thermal mass as a digital model."""

    def __new__(cls, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @staticmethod
    def standard_schema() -> Schema: ...
    @property
    def name(self) -> str: ...
    @property
    def state_names(self) -> list[str]: ...
    @property
    def input_names(self) -> list[str]: ...
    @property
    def parameter_names(self) -> list[str]: ...
    def what_if(self, scenario: _ScenarioArg, *, progress: _ProgressArg = None) -> WhatIfResult: ...

@final
class BatteryModel:
    """A battery cell (equivalent circuit) as a digital model."""

    def __new__(cls, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @staticmethod
    def standard_schema() -> Schema: ...
    @property
    def name(self) -> str: ...
    @property
    def state_names(self) -> list[str]: ...
    @property
    def input_names(self) -> list[str]: ...
    @property
    def parameter_names(self) -> list[str]: ...
    def what_if(self, scenario: _ScenarioArg, *, progress: _ProgressArg = None) -> WhatIfResult: ...

@final
class PumpModel:
    """A centrifugal pump as a digital model."""

    def __new__(cls, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @staticmethod
    def standard_schema() -> Schema: ...
    @property
    def name(self) -> str: ...
    @property
    def state_names(self) -> list[str]: ...
    @property
    def input_names(self) -> list[str]: ...
    @property
    def parameter_names(self) -> list[str]: ...
    def what_if(self, scenario: _ScenarioArg, *, progress: _ProgressArg = None) -> WhatIfResult: ...

@final
class WindTurbineModel:
    """A wind turbine (power curve, blade fatigue) as a digital model."""

    def __new__(cls, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @staticmethod
    def standard_schema() -> Schema: ...
    @property
    def name(self) -> str: ...
    @property
    def state_names(self) -> list[str]: ...
    @property
    def input_names(self) -> list[str]: ...
    @property
    def parameter_names(self) -> list[str]: ...
    def what_if(self, scenario: _ScenarioArg, *, progress: _ProgressArg = None) -> WhatIfResult: ...

@final
class ConveyorDrive:
    """A simulated conveyor drive."""

    def __new__(cls, seed: int = 0, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    def advance(self, dt_s: float) -> None: ...
    def sense(self) -> dict[str, float]: ...
    def actuate(self, command: str, value: float) -> None: ...
    @property
    def now(self) -> int: ...
    @property
    def failed(self) -> bool: ...
    @property
    def schema(self) -> Schema: ...

@final
class ThermalMass:
    """A simulated thermal mass with a heater."""

    def __new__(cls, seed: int = 0, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    def advance(self, dt_s: float) -> None: ...
    def sense(self) -> dict[str, float]: ...
    def actuate(self, command: str, value: float) -> None: ...
    @property
    def now(self) -> int: ...
    @property
    def failed(self) -> bool: ...
    @property
    def schema(self) -> Schema: ...

@final
class BatteryCell:
    """A simulated battery cell."""

    def __new__(cls, seed: int = 0, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    def advance(self, dt_s: float) -> None: ...
    def sense(self) -> dict[str, float]: ...
    def actuate(self, command: str, value: float) -> None: ...
    @property
    def now(self) -> int: ...
    @property
    def failed(self) -> bool: ...
    @property
    def schema(self) -> Schema: ...

@final
class PumpDrive:
    """A simulated centrifugal pump."""

    def __new__(cls, seed: int = 0, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    def advance(self, dt_s: float) -> None: ...
    def sense(self) -> dict[str, float]: ...
    def actuate(self, command: str, value: float) -> None: ...
    @property
    def now(self) -> int: ...
    @property
    def failed(self) -> bool: ...
    @property
    def schema(self) -> Schema: ...

@final
class WindTurbine:
    """A simulated wind turbine."""

    def __new__(cls, seed: int = 0, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Self: ...
    def advance(self, dt_s: float) -> None: ...
    def sense(self) -> dict[str, float]: ...
    def actuate(self, command: str, value: float) -> None: ...
    @property
    def now(self) -> int: ...
    @property
    def failed(self) -> bool: ...
    @property
    def schema(self) -> Schema: ...

def maintenance_evaluate(
    policy: Union[dict[str, Any], str],
    degradation: Optional[Union[dict[str, Any], str]] = None,
    costs: Optional[dict[str, float]] = None,
    *,
    units: int = 100,
    horizon_s: float = 31536000.0,
    seed: int = 0,
    progress: _ProgressArg = None,
) -> dict[str, Any]: ...
def maintenance_costs() -> dict[str, float]: ...
def age_replacement_cost_rate(shape: float, scale: float, interval_s: float, costs: Optional[dict[str, float]] = None) -> float: ...
def optimise_age_replacement(
    shape: float,
    scale: float,
    lo_s: float,
    hi_s: float,
    *,
    costs: Optional[dict[str, float]] = None,
    max_failure_probability: Optional[float] = None,
) -> dict[str, Any]: ...
def optimise_policy(
    family: str,
    lo: float,
    hi: float,
    *,
    degradation: Optional[Union[dict[str, Any], str]] = None,
    costs: Optional[dict[str, float]] = None,
    units: int = 100,
    horizon_s: float = 31536000.0,
    seed: int = 0,
    inspection_interval_s: float = 86400.0,
    min_availability: Optional[float] = None,
    progress: _ProgressArg = None,
) -> dict[str, Any]: ...
def survive_window(
    model: Union[_Model, Twin],
    scenario: _ScenarioArg,
    input: str,
    lo: float,
    hi: float,
    confidence: float = 0.9,
) -> dict[str, Any]: ...
def advise_survival(
    twin: Twin,
    scenario: _ScenarioArg,
    input: str,
    command: str,
    lo: float,
    hi: float,
    confidence: float = 0.9,
) -> dict[str, Any]: ...
def submit_recommendation(twin: Twin, recommendation: dict[str, Any], time: int) -> Command: ...
def conveyor_fleet_study(**kwargs: Any) -> dict[str, Any]: ...
def wind_farm_study(**kwargs: Any) -> list[dict[str, Any]]: ...

# ---- end what-if ----

# ---- fleet (issue 7) ----

@final
class FleetReport:
    """What became of one fleet batch: ``accepted + rejected == total``; reports pickle."""

    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def rejections(self) -> list[tuple[int, int, str]]:
        """``(index, twin_id, reason)`` of each refused sample, in batch order."""
    @property
    def rejected_indices(self) -> npt.NDArray[np.int64]: ...
    @property
    def reasons(self) -> dict[str, int]: ...
    @property
    def per_twin(self) -> dict[int, dict[str, int]]:
        """Per twin id in the batch: ``accepted``, ``rejected`` and a count per reason."""
    @property
    def copied(self) -> list[str]: ...
    def to_dict(self) -> dict[str, list[int]]:
        """Columns ``twin``, ``accepted``, ``rejected`` and one per reason (for pandas)."""
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(json: str) -> FleetReport: ...
    @staticmethod
    def merge(parts: Sequence[tuple[FleetReport, Union[int, _IntArrayLike]]]) -> FleetReport:
        """Join reports of parts of a batch (disjoint twins); ``indices`` (or a start
        position for a contiguous part) map to the batch."""
    def __eq__(self, other: object, /) -> bool: ...
    def __len__(self) -> int: ...

@final
class Fleet:
    """Many twins keyed by an int device id, fed by one columnar batch, run on threads."""

    def __new__(cls, threads: int = 0) -> Self: ...
    @staticmethod
    def from_snapshot(
        json: str,
        threads: int = 0,
        monitor: _MonitorArg = True,
        model: Optional[_Model] = None,
        engines: Optional[Iterable[_Engine]] = (),
        rules: Optional[Iterable[_Rule]] = (),
    ) -> Fleet: ...
    @staticmethod
    def merge_snapshots(parts: Sequence[str]) -> str:
        """Join snapshots of fleets with disjoint twins into one (ascending by id)."""
    @property
    def threads(self) -> int: ...
    def insert(self, id: int, twin: Twin) -> None:
        """Add a copy of ``twin`` (made from its snapshot) under ``id``."""
    def remove(self, id: int) -> Twin:
        """Take the twin out (moved, not copied); ``UnknownTwinError`` if absent."""
    def get(self, id: int) -> Twin:
        """A copy of the twin; ``UnknownTwinError`` if absent."""
    def ids(self) -> list[int]: ...
    def ingest_batch(
        self,
        twins: _IntArrayLike,
        times: _IntArrayLike,
        signals: _IntArrayLike,
        values: _FloatArrayLike,
    ) -> FleetReport:
        """Columns of equal length: uint64 twin ids, int64 ns times, uint32 ids, float64 values."""
    def insights(self) -> list[tuple[int, Insight]]: ...
    def drain_insights(self) -> list[tuple[int, Insight]]: ...
    def insight_columns(self, drain: bool = False) -> dict[str, npt.NDArray[Any]]:
        """``twin`` uint64, then the columns of :meth:`Twin.insight_columns`."""
    def snapshot(self) -> str: ...
    def __len__(self) -> int: ...
    def __contains__(self, id: object, /) -> bool: ...
    def __setstate__(
        self,
        state: tuple[
            str,
            list[
                Union[
                    tuple[int, _MonitorArg, Optional[_Model]],
                    tuple[int, _MonitorArg, Optional[_Model], tuple[_Engine, ...], tuple[_Rule, ...]],
                ]
            ],
        ],
    ) -> None: ...

# ---- end fleet ----

# ---- analytics engines and decision rules on twins ----
_StreamingDetector = Union[EwmaDetector, RobustZScore, Cusum, PageHinkley, HalfSpaceTrees, DetectorEnsemble]
_RulModel = Union[RegressionRul, SimilarityRul, ExponentialRul, RulEnsemble]
#: What ``Twin(engines=...)`` takes.
_Engine = Union[DetectorEngine, MultivariateEngine, RulEngine]
#: What ``Twin(rules=...)`` takes.
_Rule = DerateRule

@final
class DetectorEngine:
    """A streaming detector (copied) watching signals of a twin: ``Twin(engines=[...])``."""

    def __new__(
        cls,
        detector: _StreamingDetector,
        signals: Union[str, Sequence[str], None] = None,
        include_properties: bool = False,
        name: Optional[str] = None,
    ) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def signals(self) -> Optional[list[str]]: ...
    @property
    def include_properties(self) -> bool: ...
    @property
    def detector(self) -> _StreamingDetector:
        """A new copy of the detector as the engine took it."""
    def __reduce__(self) -> tuple[type[DetectorEngine], tuple[Any, ...]]: ...

@final
class MultivariateEngine:
    """A fitted PCA or Mahalanobis detector (copied) over named signals of a twin."""

    def __new__(
        cls,
        model: Union[PcaDetector, MahalanobisDetector],
        signals: Union[str, Sequence[str]],
        name: Optional[str] = None,
    ) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def signals(self) -> list[str]: ...
    @property
    def model(self) -> Union[PcaDetector, MahalanobisDetector]:
        """A new copy of the fitted model."""
    def __reduce__(self) -> tuple[type[MultivariateEngine], tuple[Any, ...]]: ...

@final
class RulEngine:
    """A fitted RUL model (copied) running on named signals of a twin; predictions are ``"rul"`` insights."""

    def __new__(
        cls,
        model: _RulModel,
        signals: Union[str, Sequence[str]],
        every: int = 1,
        max_rows: int = 1000,
        clock: str = "cycles",
        unit: int = 0,
        name: Optional[str] = None,
    ) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def signals(self) -> list[str]: ...
    @property
    def model(self) -> _RulModel:
        """A new copy of the fitted model."""
    def __reduce__(self) -> tuple[type[RulEngine], tuple[Any, ...]]: ...

@final
class DerateRule:
    """Derates a set-point when abnormal insights on a signal persist: ``Twin(rules=[...])``."""

    def __new__(
        cls,
        signal: str = "vibration",
        command: str = "set_speed",
        min_events: int = 3,
        window_s: float = 21600.0,
        factor: float = 0.8,
        floor: float = 1.0,
        cooldown_s: float = 86400.0,
    ) -> Self: ...
    @property
    def signal(self) -> str: ...
    @property
    def command(self) -> str: ...
    @property
    def min_events(self) -> int: ...
    @property
    def window_s(self) -> float: ...
    @property
    def factor(self) -> float: ...
    @property
    def floor(self) -> float: ...
    @property
    def cooldown_s(self) -> float: ...
    @property
    def name(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[type[DerateRule], tuple[str, str, int, float, float, float, float]]: ...

# ---- end engines ----
