"""twin: an embeddable digital-twin engine (Python bindings of the Rust ``twin`` crate).

A :class:`Twin` mirrors one physical asset from its sensor samples, checks alarm limits
and flags anomalies with an EWMA monitor, and validates commands before they can leave.

>>> import numpy as np, twin
>>> schema = twin.Schema(
...     "pump",
...     telemetry=[{"name": "flow", "unit": "m3/h", "min": 0.0, "max": 500.0}],
...     properties=[twin.SignalSpec("flow_setpoint", "m3/h", min=0.0, max=400.0)],
...     commands=[twin.CommandSpec("set_flow", "m3/h", min=0.0, max=400.0, property="flow_setpoint")],
... )
>>> t = twin.Twin(schema)
>>> report = t.ingest_batch(
...     np.array([0, 1, 2], dtype=np.int64),
...     np.array([0, 0, 7], dtype=np.uint32),
...     np.array([300.0, float("nan"), 1.0]),
... )
>>> report.accepted, report.rejections
(1, [(1, 'non_finite'), (2, 'unknown_signal')])

Times are integer nanoseconds. Every error is a :class:`TwinError`; the ones caused by a
bad argument or sample are also ``ValueError``.

The analytics models are classes fit from numpy and predicting to numpy: streaming
detectors (:class:`EwmaDetector`, :class:`RobustZScore`, :class:`Cusum`,
:class:`PageHinkley`, :class:`HalfSpaceTrees`, :class:`DetectorEnsemble`), multivariate
detectors (:class:`PcaDetector`, :class:`MahalanobisDetector`), condition features
(:class:`RollingFeatures`, :func:`condition_features`, :class:`BandEnergies`), the
:class:`HealthIndex`, remaining useful life (:class:`RegressionRul`,
:class:`SimilarityRul`, :class:`ExponentialRul`, :class:`RulEnsemble`), state estimation
and prognosis (:class:`LinearModel`, :class:`BatteryCircuit`, :class:`StateModel`,
:class:`KalmanFilter`, :class:`UnscentedKalmanFilter`, :class:`ParticleFilter`) and
reliability (:class:`Weibull`). They follow scikit-learn's conventions without importing
it, and pickle through their versioned JSON.
"""

from twin._twin import (
    DETACH_MIN_SAMPLES,
    BandEnergies,
    BatteryCircuit,
    ChannelFullError,
    Command,
    CommandSpec,
    Cusum,
    DetectorEnsemble,
    DisconnectedError,
    DuplicateError,
    EwmaDetector,
    ExponentialRul,
    HalfSpaceTrees,
    HealthIndex,
    IngestReport,
    Insight,
    InvalidInputError,
    IoError,
    KalmanFilter,
    LimitExceededError,
    LinearModel,
    MahalanobisDetector,
    NonFiniteError,
    OutOfOrderError,
    OutOfRangeError,
    PageHinkley,
    ParticleFilter,
    PcaDetector,
    RateLimitedError,
    RegressionRul,
    RobustZScore,
    RollingFeatures,
    RulEnsemble,
    Schema,
    SchemaError,
    SerializationError,
    SignalSpec,
    SimilarityRul,
    StateModel,
    TimestampConflictError,
    Twin,
    TwinError,
    UnknownSignalError,
    UnknownTwinError,
    UnscentedKalmanFilter,
    VersionConflictError,
    Weibull,
    condition_features,
    __version__,
)
# sim (issue 5)
from twin._twin import (
    SimReport,
    building_placement,
    sim_paired,
    sim_replicate,
    sim_run,
    sim_sweep,
    sim_validate,
    smart_grid,
    traffic_corridor,
)

__all__ = [
    "DETACH_MIN_SAMPLES",
    "BandEnergies",
    "BatteryCircuit",
    "ChannelFullError",
    "Command",
    "CommandSpec",
    "Cusum",
    "DetectorEnsemble",
    "DisconnectedError",
    "DuplicateError",
    "EwmaDetector",
    "ExponentialRul",
    "HalfSpaceTrees",
    "HealthIndex",
    "IngestReport",
    "Insight",
    "InvalidInputError",
    "IoError",
    "KalmanFilter",
    "LimitExceededError",
    "LinearModel",
    "MahalanobisDetector",
    "NonFiniteError",
    "OutOfOrderError",
    "OutOfRangeError",
    "PageHinkley",
    "ParticleFilter",
    "PcaDetector",
    "RateLimitedError",
    "RegressionRul",
    "RobustZScore",
    "RollingFeatures",
    "RulEnsemble",
    "Schema",
    "SchemaError",
    "SerializationError",
    "SignalSpec",
    "SimilarityRul",
    "StateModel",
    "TimestampConflictError",
    "Twin",
    "TwinError",
    "UnknownSignalError",
    "UnknownTwinError",
    "UnscentedKalmanFilter",
    "VersionConflictError",
    "Weibull",
    "condition_features",
    # sim (issue 5)
    "SimReport",
    "building_placement",
    "sim_paired",
    "sim_replicate",
    "sim_run",
    "sim_sweep",
    "sim_validate",
    "smart_grid",
    "traffic_corridor",
    "__version__",
]

# ---- what-if, physics models, maintenance and decision support ----
from twin._twin import (
    BatteryCell,
    BatteryModel,
    ConveyorDrive,
    ConveyorModel,
    PumpDrive,
    PumpModel,
    ThermalMass,
    ThermalModel,
    WhatIfResult,
    WhatIfScenario,
    WindTurbine,
    WindTurbineModel,
    advise_survival,
    age_replacement_cost_rate,
    conveyor_fleet_study,
    maintenance_costs,
    maintenance_evaluate,
    optimise_age_replacement,
    optimise_policy,
    submit_recommendation,
    survive_window,
    wind_farm_study,
)

__all__ += [
    "BatteryCell",
    "BatteryModel",
    "ConveyorDrive",
    "ConveyorModel",
    "PumpDrive",
    "PumpModel",
    "ThermalMass",
    "ThermalModel",
    "WhatIfResult",
    "WhatIfScenario",
    "WindTurbine",
    "WindTurbineModel",
    "advise_survival",
    "age_replacement_cost_rate",
    "conveyor_fleet_study",
    "maintenance_costs",
    "maintenance_evaluate",
    "optimise_age_replacement",
    "optimise_policy",
    "submit_recommendation",
    "survive_window",
    "wind_farm_study",
]
# ---- end what-if ----

# ---- fleet (issue 7) ----
from twin._twin import Fleet, FleetReport

__all__ += ["Fleet", "FleetReport"]
# ---- end fleet ----

# ---- progress and Ctrl-C for long runs ----
from twin._twin import CancelledError

__all__ += ["CancelledError"]
# ---- end progress ----

# ---- analytics engines and decision rules on twins ----
from twin._twin import DerateRule, DetectorEngine, MultivariateEngine, RulEngine

__all__ += ["DerateRule", "DetectorEngine", "MultivariateEngine", "RulEngine"]
# ---- end engines ----

# ---- schema formats and payload codecs ----
from twin._twin import (
    Decoded,
    SchemaImport,
    history_frame,
    object_decode,
    object_encode,
    senml_decode,
    senml_encode,
)

__all__ += [
    "Decoded",
    "SchemaImport",
    "history_frame",
    "object_decode",
    "object_encode",
    "senml_decode",
    "senml_encode",
]
# ---- end formats ----

# ---- connections ----
from twin._twin import (
    CsvReplay,
    DeviceEnd,
    SimNetwork,
    StepReport,
    TwinEnd,
    channel,
    export_history_csv,
    write_csv,
)

__all__ += [
    "CsvReplay",
    "DeviceEnd",
    "SimNetwork",
    "StepReport",
    "TwinEnd",
    "channel",
    "export_history_csv",
    "write_csv",
]
# ---- end connections ----
