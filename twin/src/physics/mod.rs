//! Physics-based assets beyond the conveyor. Each file holds one asset's equations, its
//! simulated [`PhysicalEntity`](crate::entity::PhysicalEntity) (for tests and examples),
//! its [`DigitalModel`](crate::model::DigitalModel) (the twin's replica), and the
//! [`ForwardModel`](crate::whatif::ForwardModel) its what-if runs simulate:
//!
//! - [`thermal`]: a first-order thermal mass, `dT/dt = (P − (T − Ta)/R) / C`;
//! - [`battery`]: the equivalent-circuit Li-ion cell of
//!   [`BatteryCircuit`](crate::analytics::estimate::BatteryCircuit) (the same equations);
//! - [`pump`]: a centrifugal pump with a quadratic head curve, affinity laws, an efficiency
//!   curve and impeller wear;
//! - [`wind`]: a wind turbine with a power curve and blade fatigue by Miner's rule under a
//!   Weibull wind-speed distribution.
//!
//! The entities and models are also re-exported from [`crate::entity`] and
//! [`crate::model`].

pub mod battery;
pub mod pump;
pub mod thermal;
pub mod wind;

pub use battery::{BatteryCell, BatteryForward, BatteryModel, BatteryUncertainty};
pub use pump::{PumpConfig, PumpDrive, PumpForward, PumpModel, PumpPoint};
pub use thermal::{ThermalConfig, ThermalForward, ThermalMass, ThermalModel};
pub use wind::{WindConfig, WindForward, WindTurbine, WindTurbineModel};

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{Error, Result};
use crate::schema::Schema;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// Check named values: finite and positive.
fn positive(values: &[(&str, f64)]) -> Result<()> {
    match values.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
        Some((name, v)) => Err(Error::InvalidInput(format!(
            "{name} must be finite and positive, got {v}"
        ))),
        None => Ok(()),
    }
}

/// Check named values: finite and non-negative.
fn non_negative(values: &[(&str, f64)]) -> Result<()> {
    match values.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
        Some((name, v)) => Err(Error::InvalidInput(format!(
            "{name} must be finite and non-negative, got {v}"
        ))),
        None => Ok(()),
    }
}

/// A literal schema of this crate; a failure is a bug here.
fn literal(built: Result<Schema>) -> Schema {
    match built {
        Ok(s) => s,
        Err(e) => unreachable!("a built-in schema is invalid: {e}"),
    }
}

/// Seconds between two nanosecond times (0 for the first observation).
fn secs_since(last: Option<i64>, now: i64) -> f64 {
    last.map_or(0.0, |t| (now - t).max(0) as f64 / 1e9)
}
