//! Python bindings of the `twin` digital-twin engine: the native module `twin._twin`,
//! re-exported by the pure-Python package `twin`.
//!
//! - [`schema`]: `Schema`, `SignalSpec`, `CommandSpec`.
//! - [`digital_twin`]: `Twin`, with single-sample and zero-copy numpy batch ingest.
//! - [`results`]: `IngestReport`, `Insight`, `Command`.
//! - [`columns`]: how numpy arrays become batch columns (borrowed or converted).
//! - [`analytics`]: detectors, features, health, RUL, estimation and reliability models.
//! - [`sim`]: `SimReport`, `sim_run` and friends, and the simulator's worked studies.
//! - [`fleet`]: `Fleet` and `FleetReport`: many twins fed by one numpy batch (issue 7).
//! - [`errors`]: `TwinError` and one subclass per [`twin::ErrorKind`].

use pyo3::prelude::*;

pub mod analytics;
pub mod columns;
pub mod connection;
pub mod digital_twin;
pub mod engines;
pub mod errors;
// fleet bindings (issue 7)
pub mod fleet;
pub mod formats;
pub mod maintenance;
pub mod physics;
pub mod progress;
mod repr;
pub mod results;
pub mod schema;
// sim bindings (issue 5)
pub mod sim;
pub mod simnet;
pub mod whatif;

/// Native core of the `twin` package; import from `twin` instead.
#[pymodule]
mod _twin {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::analytics::detect::{
        PyCusum, PyDetectorEnsemble, PyEwmaDetector, PyHalfSpaceTrees, PyPageHinkley,
        PyRobustZScore,
    };
    #[pymodule_export]
    use crate::analytics::estimate::{
        PyBatteryCircuit, PyKalmanFilter, PyLinearModel, PyParticleFilter, PyStateModel,
        PyUnscentedKalmanFilter,
    };
    #[pymodule_export]
    use crate::analytics::features::{condition_features, PyBandEnergies, PyRollingFeatures};
    #[pymodule_export]
    use crate::analytics::health::PyHealthIndex;
    #[pymodule_export]
    use crate::analytics::multivariate::{PyMahalanobisDetector, PyPcaDetector};
    #[pymodule_export]
    use crate::analytics::reliability::PyWeibull;
    #[pymodule_export]
    use crate::analytics::rul::{
        PyExponentialRul, PyRegressionRul, PyRulEnsemble, PySimilarityRul,
    };
    #[pymodule_export]
    use crate::digital_twin::PyTwin;
    #[pymodule_export]
    use crate::engines::{PyDerateRule, PyDetectorEngine, PyMultivariateEngine, PyRulEngine};
    #[pymodule_export]
    use crate::formats::{
        history_frame, object_decode, object_encode, senml_decode, senml_encode, PyDecoded,
        PySchemaImport,
    };
    #[pymodule_export]
    use crate::results::{PyCommand, PyIngestReport, PyInsight};
    #[pymodule_export]
    use crate::schema::{PyCommandSpec, PySchema, PySignalSpec};
    // sim bindings (issue 5)
    #[pymodule_export]
    use crate::sim::{
        building_placement, sim_paired, sim_replicate, sim_run, sim_sweep, sim_validate,
        smart_grid, traffic_corridor, PySimReport,
    };

    // ---- what-if, physics models, maintenance and decision support ----
    #[pymodule_export]
    use crate::maintenance::{
        advise_survival, age_replacement_cost_rate, conveyor_fleet_study, maintenance_costs,
        maintenance_evaluate, optimise_age_replacement, optimise_policy, submit_recommendation,
        survive_window, wind_farm_study,
    };
    #[pymodule_export]
    use crate::physics::{
        PyBatteryCell, PyBatteryModel, PyConveyorDrive, PyConveyorModel, PyPumpDrive, PyPumpModel,
        PyThermalMass, PyThermalModel, PyWindTurbine, PyWindTurbineModel,
    };
    #[pymodule_export]
    use crate::whatif::{PyWhatIfResult, PyWhatIfScenario};
    // ---- end what-if ----

    // ---- fleet (issue 7) ----
    #[pymodule_export]
    use crate::fleet::{PyFleet, PyFleetReport};
    // ---- end fleet ----

    // ---- connections ----
    #[pymodule_export]
    use crate::connection::{
        channel, export_history_csv, write_csv, PyCsvReplay, PyDeviceEnd, PyStepReport, PyTwinEnd,
    };
    #[pymodule_export]
    use crate::simnet::PySimNetwork;
    // ---- end connections ----

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        crate::errors::register(m)?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add(
            "DETACH_MIN_SAMPLES",
            crate::digital_twin::DETACH_MIN_SAMPLES,
        )?;
        Ok(())
    }
}
