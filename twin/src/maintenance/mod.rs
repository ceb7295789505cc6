//! Maintenance: evaluate policies (run-to-failure, periodic, condition-based, RUL-based)
//! by simulating a fleet under costs of downtime, repair and spares; compare with the
//! renewal-reward formula for age replacement under a Weibull life; choose the interval,
//! threshold or lead time that minimises the expected cost; and choose set-points that let
//! a machine survive to its next maintenance window ([`setpoint`]).
//!
//! ```
//! use twin::maintenance::{evaluate, Costs, Degradation, Fleet, Policy};
//! let life = Degradation::Weibull { shape: 3.0, scale: 1000.0 * 3600.0 };
//! let fleet = Fleet { units: 50, horizon_s: 20_000.0 * 3600.0, seed: 1 };
//! let costs = Costs::default();
//! let rtf = evaluate(&Policy::RunToFailure, &life, &costs, &fleet)?;
//! let pm = evaluate(&Policy::Periodic { interval_s: 500.0 * 3600.0 }, &life, &costs, &fleet)?;
//! assert!(pm.failures < rtf.failures && pm.cost < rtf.cost);
//! # Ok::<(), twin::Error>(())
//! ```

pub mod cases;
mod optimise;
pub mod setpoint;

pub use optimise::{
    age_replacement_cost_rate, optimise_age_replacement, optimise_policy, optimise_policy_with,
    Constraint, Optimum, PolicyFamily, OPTIMISE_POLICY_EVALUATIONS,
};
pub use setpoint::{survive_window, SetpointAdvice, SurvivalQuery};

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};
use serde::{Deserialize, Serialize};

use crate::entity::ConveyorConfig;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Costs of maintenance actions, in any one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// Labour and parts of a planned (preventive) replacement, excluding the spare.
    pub preventive: f64,
    /// Labour and collateral damage of a repair after a failure, excluding the spare.
    pub corrective: f64,
    /// The spare part, used by every replacement.
    pub spare: f64,
    /// Cost of an hour of downtime (lost production).
    pub downtime_per_hour: f64,
    /// Downtime of a planned replacement, h.
    pub preventive_downtime_h: f64,
    /// Downtime of a repair after a failure, h (excluding waiting for the spare).
    pub corrective_downtime_h: f64,
    /// Waiting for a spare after an unplanned failure, h (planned work orders it ahead).
    pub spare_lead_time_h: f64,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            preventive: 500.0,
            corrective: 2_000.0,
            spare: 800.0,
            downtime_per_hour: 250.0,
            preventive_downtime_h: 4.0,
            corrective_downtime_h: 12.0,
            spare_lead_time_h: 24.0,
        }
    }
}

impl Costs {
    /// Check that every cost and duration is finite and non-negative.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("preventive", self.preventive),
            ("corrective", self.corrective),
            ("spare", self.spare),
            ("downtime_per_hour", self.downtime_per_hour),
            ("preventive_downtime_h", self.preventive_downtime_h),
            ("corrective_downtime_h", self.corrective_downtime_h),
            ("spare_lead_time_h", self.spare_lead_time_h),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "cost {name} must be finite and non-negative, got {v}"
                )));
            }
        }
        Ok(())
    }

    /// Downtime of a planned replacement, s.
    pub fn preventive_downtime_s(&self) -> f64 {
        self.preventive_downtime_h * 3600.0
    }

    /// Downtime after a failure including the wait for the spare, s.
    pub fn corrective_downtime_s(&self) -> f64 {
        (self.corrective_downtime_h + self.spare_lead_time_h) * 3600.0
    }

    /// Total cost of one planned replacement (repair, spare, downtime).
    pub fn preventive_total(&self) -> f64 {
        self.preventive + self.spare + self.downtime_per_hour * self.preventive_downtime_h
    }

    /// Total cost of one replacement after a failure (repair, spare, downtime).
    pub fn corrective_total(&self) -> f64 {
        self.corrective
            + self.spare
            + self.downtime_per_hour * (self.corrective_downtime_h + self.spare_lead_time_h)
    }
}

/// A maintenance policy. Every replacement renews the unit (as good as new).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Policy {
    /// Replace only after a failure.
    RunToFailure,
    /// Replace at a fixed age (age replacement), or after a failure.
    Periodic {
        /// Age at which a unit is replaced, s.
        interval_s: f64,
    },
    /// Inspect at a fixed interval; replace when the measured condition reaches a
    /// threshold (a wear fraction, 0 to 1).
    ConditionBased {
        /// The wear threshold.
        threshold: f64,
        /// Time between inspections, s.
        inspection_interval_s: f64,
    },
    /// Inspect at a fixed interval; estimate the unit's own degradation rate from its
    /// measured condition and age, predict its remaining useful life with the physics
    /// model, and replace when that falls below the lead time plus one inspection
    /// interval.
    RulBased {
        /// The lead time of a planned replacement, s.
        lead_time_s: f64,
        /// Time between inspections, s.
        inspection_interval_s: f64,
    },
}

impl Policy {
    /// A short lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Policy::RunToFailure => "run_to_failure",
            Policy::Periodic { .. } => "periodic",
            Policy::ConditionBased { .. } => "condition_based",
            Policy::RulBased { .. } => "rul_based",
        }
    }

    fn validate(&self) -> Result<()> {
        let check = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidInput(format!(
                    "policy {name} must be finite and positive, got {v}"
                )))
            }
        };
        match self {
            Policy::RunToFailure => Ok(()),
            Policy::Periodic { interval_s } => check("interval_s", *interval_s),
            Policy::ConditionBased {
                threshold,
                inspection_interval_s,
            } => {
                check("inspection_interval_s", *inspection_interval_s)?;
                if !(*threshold > 0.0 && *threshold <= 1.0) {
                    return Err(Error::InvalidInput(format!(
                        "condition threshold must be in (0, 1], got {threshold}"
                    )));
                }
                Ok(())
            }
            Policy::RulBased {
                lead_time_s,
                inspection_interval_s,
            } => {
                check("inspection_interval_s", *inspection_interval_s)?;
                if !(lead_time_s.is_finite() && *lead_time_s >= 0.0) {
                    return Err(Error::InvalidInput(format!(
                        "lead_time_s must be finite and non-negative, got {lead_time_s}"
                    )));
                }
                Ok(())
            }
        }
    }
}

/// How units of the fleet degrade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Degradation {
    /// Lives drawn from a Weibull distribution, with no observable condition (only
    /// run-to-failure and periodic policies apply).
    Weibull {
        /// Shape β.
        shape: f64,
        /// Scale η, s.
        scale: f64,
    },
    /// The conveyor's bearing wear law at constant duty with the unit-to-unit spread of
    /// its design: a unit with rate `r` has wear `w(a) = (exp(2 r a) − 1) / 2` at age `a`
    /// and fails at `ln 3 / (2 r)`. Inspections measure the wear with Gaussian noise.
    Conveyor {
        /// The design (its `wear_rate` and `wear_rate_spread` are used).
        config: ConveyorConfig,
        /// Duty factor on the wear rate: `(load / nominal)^1.5 (speed / nominal)²`.
        duty: f64,
        /// Standard deviation of the wear measured at an inspection.
        measurement_sd: f64,
    },
}

impl Degradation {
    /// The conveyor law at nominal duty with a measurement noise of 0.02.
    pub fn conveyor() -> Self {
        Degradation::Conveyor {
            config: ConveyorConfig::default(),
            duty: 1.0,
            measurement_sd: 0.02,
        }
    }

    fn validate(&self, policy: &Policy) -> Result<()> {
        match self {
            Degradation::Weibull { shape, scale } => {
                crate::analytics::reliability::Weibull::new(*shape, *scale)?;
                if matches!(
                    policy,
                    Policy::ConditionBased { .. } | Policy::RulBased { .. }
                ) {
                    return Err(Error::InvalidInput(format!(
                        "a {} policy needs an observable condition; a Weibull life has none",
                        policy.as_str()
                    )));
                }
                Ok(())
            }
            Degradation::Conveyor {
                config,
                duty,
                measurement_sd,
            } => {
                if !(config.wear_rate.is_finite() && config.wear_rate > 0.0) {
                    return Err(Error::InvalidInput("wear_rate must be positive".into()));
                }
                if !(config.wear_rate_spread.is_finite() && config.wear_rate_spread >= 0.0) {
                    return Err(Error::InvalidInput(
                        "wear_rate_spread must be non-negative".into(),
                    ));
                }
                if !(duty.is_finite() && *duty > 0.0) {
                    return Err(Error::InvalidInput(format!(
                        "duty must be finite and positive, got {duty}"
                    )));
                }
                if !(measurement_sd.is_finite() && *measurement_sd >= 0.0) {
                    return Err(Error::InvalidInput(format!(
                        "measurement_sd must be finite and non-negative, got {measurement_sd}"
                    )));
                }
                Ok(())
            }
        }
    }
}

/// The simulated fleet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Number of units, at least 1.
    pub units: usize,
    /// Simulated time, s.
    pub horizon_s: f64,
    /// Seed: each unit has its own random stream, so policies compared with the same
    /// seed meet the same units (common random numbers).
    pub seed: u64,
}

impl Fleet {
    fn validate(&self) -> Result<()> {
        if self.units == 0 || self.units > 10_000_000 {
            return Err(Error::InvalidInput(format!(
                "a fleet needs between 1 and 10,000,000 units, got {}",
                self.units
            )));
        }
        if !(self.horizon_s.is_finite() && self.horizon_s > 0.0) {
            return Err(Error::InvalidInput(format!(
                "fleet horizon must be finite and positive, got {}",
                self.horizon_s
            )));
        }
        Ok(())
    }
}

/// What a policy did to a fleet over the horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// The policy.
    pub policy: Policy,
    /// Units simulated.
    pub units: usize,
    /// Simulated time, s.
    pub horizon_s: f64,
    /// Failures (corrective replacements).
    pub failures: u64,
    /// Planned replacements.
    pub preventive: u64,
    /// Inspections made.
    pub inspections: u64,
    /// Hours of downtime over the fleet within the horizon.
    pub downtime_h: f64,
    /// Total cost over the fleet within the horizon.
    pub cost: f64,
}

impl PolicyReport {
    /// Cost per unit per second.
    pub fn cost_rate(&self) -> f64 {
        self.cost / (self.units as f64 * self.horizon_s)
    }

    /// Fraction of unit-time the fleet was up.
    pub fn availability(&self) -> f64 {
        1.0 - self.downtime_h * 3600.0 / (self.units as f64 * self.horizon_s)
    }

    /// Spares used (one per replacement).
    pub fn spares(&self) -> u64 {
        self.failures + self.preventive
    }
}

/// One unit's life: its failure age and, for conveyors, its wear rate.
struct Unit {
    life: f64,
    rate: f64,
}

fn draw_unit(deg: &Degradation, rng: &mut ChaCha8Rng) -> Unit {
    match deg {
        Degradation::Weibull { shape, scale } => {
            let u: f64 = StandardUniform.sample(rng);
            Unit {
                life: scale * (-(1.0 - u).ln()).powf(1.0 / shape),
                rate: 0.0,
            }
        }
        Degradation::Conveyor { config, duty, .. } => {
            let z: f64 = StandardNormal.sample(rng);
            let rate = config.wear_rate * duty * (config.wear_rate_spread * z).exp();
            Unit {
                life: 3f64.ln() / (2.0 * rate),
                rate,
            }
        }
    }
}

fn wear_at(rate: f64, age: f64) -> f64 {
    ((2.0 * rate * age).exp() - 1.0) / 2.0
}

/// The most inspections of one life, and renewals of one unit, a simulation makes before
/// it refuses the policy as degenerate (an interval far too short for the horizon).
pub const MAX_EVENTS: u64 = 1_000_000;

fn too_many(what: &str) -> Error {
    Error::InvalidInput(format!(
        "the policy makes more than {MAX_EVENTS} {what}: its interval is too short for the lives or the horizon"
    ))
}

/// When the policy acts on a unit (age), whether it is planned, and inspections made.
fn action(
    policy: &Policy,
    deg: &Degradation,
    unit: &Unit,
    rng: &mut ChaCha8Rng,
) -> Result<(f64, bool, u64)> {
    let inspect = |interval: f64, rng: &mut ChaCha8Rng, decide: &dyn Fn(f64, f64) -> bool| {
        let sd = match deg {
            Degradation::Conveyor { measurement_sd, .. } => *measurement_sd,
            Degradation::Weibull { .. } => 0.0,
        };
        let mut k = 1u64;
        loop {
            if k > MAX_EVENTS {
                return Err(too_many("inspections of one life"));
            }
            let age = k as f64 * interval;
            if age >= unit.life {
                return Ok((unit.life, false, k - 1));
            }
            let z: f64 = StandardNormal.sample(rng);
            let measured = wear_at(unit.rate, age) + sd * z;
            if decide(measured, age) {
                return Ok((age, true, k));
            }
            k += 1;
        }
    };
    match policy {
        Policy::RunToFailure => Ok((unit.life, false, 0)),
        Policy::Periodic { interval_s } => Ok(if *interval_s < unit.life {
            (*interval_s, true, 0)
        } else {
            (unit.life, false, 0)
        }),
        Policy::ConditionBased {
            threshold,
            inspection_interval_s,
        } => inspect(*inspection_interval_s, rng, &|w, _| w >= *threshold),
        Policy::RulBased {
            lead_time_s,
            inspection_interval_s,
        } => {
            let margin = lead_time_s + inspection_interval_s;
            inspect(*inspection_interval_s, rng, &|w, age| {
                if w >= 1.0 {
                    return true;
                }
                if w <= 0.0 {
                    return false;
                }
                // The unit's own rate from w = (exp(2 r a) − 1) / 2, then the time to w = 1.
                let rate = (1.0 + 2.0 * w).ln() / (2.0 * age);
                let rul = (3.0 / (1.0 + 2.0 * w)).ln() / (2.0 * rate);
                rul <= margin
            })
        }
    }
}

/// Simulate a policy over a fleet: each unit runs from new, the policy replaces it
/// (planned) or it fails (corrective, waiting for the spare), and the replacement starts
/// a new life. Events after the horizon are not counted; downtime is clipped to it.
///
/// Errors ([`Error::InvalidInput`]): invalid costs, policy, degradation or fleet, and a
/// condition-based or RUL-based policy on a Weibull life (no condition to measure).
pub fn evaluate(
    policy: &Policy,
    degradation: &Degradation,
    costs: &Costs,
    fleet: &Fleet,
) -> Result<PolicyReport> {
    evaluate_with(policy, degradation, costs, fleet, &Progress::new())
}

/// [`evaluate`] with a progress and cancellation hook: progress counts simulated units
/// (total: the fleet's units); cancellation is checked before each unit and a cancelled
/// run returns [`Error::Cancelled`].
pub fn evaluate_with(
    policy: &Policy,
    degradation: &Degradation,
    costs: &Costs,
    fleet: &Fleet,
    progress: &Progress,
) -> Result<PolicyReport> {
    progress.start(fleet.units as u64);
    evaluate_inner(policy, degradation, costs, fleet, progress, true)
}

/// [`evaluate`], checking `progress` for cancellation; with `count` it counts units.
pub(crate) fn evaluate_inner(
    policy: &Policy,
    degradation: &Degradation,
    costs: &Costs,
    fleet: &Fleet,
    progress: &Progress,
    count: bool,
) -> Result<PolicyReport> {
    costs.validate()?;
    policy.validate()?;
    degradation.validate(policy)?;
    fleet.validate()?;
    let mut report = PolicyReport {
        policy: policy.clone(),
        units: fleet.units,
        horizon_s: fleet.horizon_s,
        failures: 0,
        preventive: 0,
        inspections: 0,
        downtime_h: 0.0,
        cost: 0.0,
    };
    let h = fleet.horizon_s;
    for u in 0..fleet.units {
        progress.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(fleet.seed);
        rng.set_stream(u as u64);
        let mut t = 0.0;
        let mut renewals = 0u64;
        while t < h {
            renewals += 1;
            if renewals > MAX_EVENTS {
                return Err(too_many("renewals of one unit"));
            }
            let unit = draw_unit(degradation, &mut rng);
            let (age, planned, inspections) = action(policy, degradation, &unit, &mut rng)?;
            // Inspections after the horizon do not happen.
            let insp_interval = match policy {
                Policy::ConditionBased {
                    inspection_interval_s,
                    ..
                }
                | Policy::RulBased {
                    inspection_interval_s,
                    ..
                } => *inspection_interval_s,
                _ => f64::INFINITY,
            };
            let within = ((h - t) / insp_interval).floor().max(0.0) as u64;
            report.inspections += inspections.min(within);
            t += age;
            if t >= h {
                break;
            }
            let (down, cost) = if planned {
                report.preventive += 1;
                (
                    costs.preventive_downtime_s(),
                    costs.preventive + costs.spare,
                )
            } else {
                report.failures += 1;
                (
                    costs.corrective_downtime_s(),
                    costs.corrective + costs.spare,
                )
            };
            let down_h = (down.min(h - t)) / 3600.0;
            report.downtime_h += down_h;
            report.cost += cost + costs.downtime_per_hour * down_h;
            t += down;
        }
        if count {
            progress.advance(1);
        }
    }
    Ok(report)
}
