//! Set-point optimisation: the largest set-point (speed, power cap) at which a machine
//! survives to its next maintenance window with a given confidence.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::whatif::{run, ForwardModel, Profile, Scenario};

/// What to optimise: an input of the model held constant over the scenario's horizon
/// (the time to the maintenance window), searched in `[lo, hi]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurvivalQuery {
    /// The scenario: its horizon is the time to the window; its Monte Carlo settings,
    /// other inputs and faults apply to every candidate.
    pub scenario: Scenario,
    /// The model input to set (for example `"speed_setpoint"` or `"derate"`).
    pub input: String,
    /// Lowest acceptable value.
    pub lo: f64,
    /// Highest acceptable value (the normal set-point).
    pub hi: f64,
    /// Required probability of surviving to the window, in (0, 1).
    pub confidence: f64,
}

/// The chosen set-point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetpointAdvice {
    /// The largest value found whose survival probability meets the confidence.
    pub value: f64,
    /// Its simulated probability of surviving to the window.
    pub survival: f64,
    /// The survival probability at `hi` (no derate).
    pub survival_at_hi: f64,
    /// What-if runs made.
    pub runs: usize,
}

/// Find the largest value of `query.input` in `[lo, hi]` at which the fraction of
/// Monte Carlo paths that survive the scenario's horizon is at least `confidence`, by
/// bisection (survival is taken to fall as the set-point rises; every candidate uses the
/// same seed, so they compare like with like).
///
/// Errors: invalid bounds or confidence ([`Error::InvalidInput`]); an unknown input
/// ([`Error::UnknownSignal`]); even `lo` does not survive with the confidence
/// ([`Error::InvalidInput`], "infeasible").
///
/// ```
/// use twin::maintenance::{survive_window, SurvivalQuery};
/// use twin::model::{ConveyorModel, DigitalModel};
/// use twin::whatif::Scenario;
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let model = ConveyorModel::new(&schema, Default::default())?;
/// let fm = model.forward().expect("forward");
/// // A new bearing must last 40 days (it lasts about 30 at 2 m/s).
/// let q = SurvivalQuery {
///     scenario: Scenario::new(40.0 * 86_400.0, 3_600.0).paths(200, 1),
///     input: "speed_setpoint".into(),
///     lo: 0.5,
///     hi: 2.0,
///     confidence: 0.9,
/// };
/// let advice = survive_window(fm.as_ref(), &q)?;
/// assert!(advice.value < 2.0 && advice.survival >= 0.9 && advice.survival_at_hi < 0.9);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn survive_window(model: &dyn ForwardModel, query: &SurvivalQuery) -> Result<SetpointAdvice> {
    let (lo, hi, conf) = (query.lo, query.hi, query.confidence);
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::InvalidInput(format!(
            "set-point bounds must be finite with lo < hi, got [{lo}, {hi}]"
        )));
    }
    if !(conf > 0.0 && conf < 1.0) {
        return Err(Error::InvalidInput(format!(
            "confidence must be in (0, 1), got {conf}"
        )));
    }
    let horizon = query.scenario.horizon_s;
    let mut runs = 0;
    let mut survival = |v: f64| -> Result<f64> {
        let s = query
            .scenario
            .clone()
            .input(&query.input, Profile::Constant { value: v });
        runs += 1;
        Ok(run(model, &s)?.failure.survival(horizon))
    };
    let at_hi = survival(hi)?;
    if at_hi >= conf {
        return Ok(SetpointAdvice {
            value: hi,
            survival: at_hi,
            survival_at_hi: at_hi,
            runs,
        });
    }
    let at_lo = survival(lo)?;
    if at_lo < conf {
        return Err(Error::InvalidInput(format!(
            "infeasible: even {} = {lo} survives {horizon} s with probability {at_lo}, below {conf}",
            query.input
        )));
    }
    let (mut a, mut b, mut sa) = (lo, hi, at_lo);
    let tol = (hi - lo) * 1e-4;
    while b - a > tol {
        let m = 0.5 * (a + b);
        let sm = survival(m)?;
        if sm >= conf {
            a = m;
            sa = sm;
        } else {
            b = m;
        }
    }
    Ok(SetpointAdvice {
        value: a,
        survival: sa,
        survival_at_hi: at_hi,
        runs,
    })
}
