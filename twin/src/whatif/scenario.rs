//! Scenarios: what the world does to the asset during a what-if run (serde data).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How one input (a load, a set-point, an ambient condition) evolves over a scenario.
///
/// Times are seconds from the start of the run.
///
/// ```
/// use twin::whatif::Profile;
/// let ramp = Profile::Ramp { from: 1.0, to: 3.0, start_s: 10.0, end_s: 20.0 };
/// assert_eq!(ramp.value_at(0.0), 1.0);
/// assert_eq!(ramp.value_at(15.0), 2.0);
/// assert_eq!(ramp.value_at(99.0), 3.0);
/// let pw = Profile::Piecewise { points: vec![(0.0, 0.0), (10.0, 5.0), (20.0, 5.0)] };
/// assert_eq!(pw.value_at(4.0), 2.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Profile {
    /// The same value throughout.
    Constant {
        /// The value.
        value: f64,
    },
    /// `before` until `at_s`, then `after`.
    Step {
        /// Value before the step.
        before: f64,
        /// Value from the step on.
        after: f64,
        /// Time of the step, s.
        at_s: f64,
    },
    /// `from` until `start_s`, linear to `to` at `end_s`, then `to`.
    Ramp {
        /// Value before the ramp.
        from: f64,
        /// Value after the ramp.
        to: f64,
        /// Start of the ramp, s.
        start_s: f64,
        /// End of the ramp, s.
        end_s: f64,
    },
    /// Linear interpolation between `(time_s, value)` points in increasing time, held
    /// constant before the first and after the last.
    Piecewise {
        /// The points.
        points: Vec<(f64, f64)>,
    },
}

impl Profile {
    /// The profile's value at `t_s` seconds.
    pub fn value_at(&self, t_s: f64) -> f64 {
        match self {
            Profile::Constant { value } => *value,
            Profile::Step {
                before,
                after,
                at_s,
            } => {
                if t_s < *at_s {
                    *before
                } else {
                    *after
                }
            }
            Profile::Ramp {
                from,
                to,
                start_s,
                end_s,
            } => {
                if t_s <= *start_s {
                    *from
                } else if t_s >= *end_s {
                    *to
                } else {
                    from + (to - from) * (t_s - start_s) / (end_s - start_s)
                }
            }
            Profile::Piecewise { points } => {
                let (Some(first), Some(last)) = (points.first(), points.last()) else {
                    return f64::NAN;
                };
                if t_s <= first.0 {
                    return first.1;
                }
                if t_s >= last.0 {
                    return last.1;
                }
                let k = points.partition_point(|p| p.0 <= t_s);
                let (a, b) = (points[k - 1], points[k]);
                a.1 + (b.1 - a.1) * (t_s - a.0) / (b.0 - a.0)
            }
        }
    }

    /// Check that every number is finite and times are ordered.
    pub fn validate(&self, name: &str) -> Result<()> {
        let bad = |what: &str| Err(Error::InvalidInput(format!("profile of {name}: {what}")));
        let finite = |xs: &[f64]| xs.iter().all(|x| x.is_finite());
        match self {
            Profile::Constant { value } if !finite(&[*value]) => bad("value must be finite"),
            Profile::Step {
                before,
                after,
                at_s,
            } if !finite(&[*before, *after, *at_s]) => bad("numbers must be finite"),
            Profile::Ramp {
                from,
                to,
                start_s,
                end_s,
            } => {
                if !finite(&[*from, *to, *start_s, *end_s]) {
                    bad("numbers must be finite")
                } else if end_s <= start_s {
                    bad("a ramp must end after it starts")
                } else {
                    Ok(())
                }
            }
            Profile::Piecewise { points } => {
                if points.is_empty() {
                    bad("needs at least one point")
                } else if !points.iter().all(|p| p.0.is_finite() && p.1.is_finite()) {
                    bad("points must be finite")
                } else if points.windows(2).any(|w| w[1].0 <= w[0].0) {
                    bad("point times must increase strictly")
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

/// What an injected fault does to a path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultEffect {
    /// Add `value` to a state variable (for example a sudden chunk of wear).
    AddState {
        /// The state variable's name.
        state: String,
        /// The amount added.
        value: f64,
    },
    /// Set a state variable to `value`.
    SetState {
        /// The state variable's name.
        state: String,
        /// The new value.
        value: f64,
    },
    /// Multiply a model parameter by `factor` from then on (for example a wear rate
    /// doubled by lost lubrication).
    ScaleParameter {
        /// The parameter's name.
        parameter: String,
        /// The factor.
        factor: f64,
    },
}

/// A fault injected at a time into every path of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// When it happens, s from the start (applied at the first step at or after it).
    pub at_s: f64,
    /// What it does.
    pub effect: FaultEffect,
}

/// Monte Carlo settings: how many paths, the seed, and how much of the model's
/// uncertainty to sample.
///
/// Scales multiply the model's own uncertainty: `0` switches that source off (a single
/// deterministic path repeated), `1` is the model's estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonteCarlo {
    /// Number of paths, at least 1.
    pub paths: usize,
    /// Seed of the run: the same seed and scenario give the same result.
    pub seed: u64,
    /// Scale of the parameter and initial-state uncertainty (drawn once per path).
    pub parameter_uncertainty: f64,
    /// Scale of the process noise (drawn every step).
    pub process_noise: f64,
    /// The quantiles reported per step, each in `(0, 1)`.
    pub quantiles: Vec<f64>,
}

impl Default for MonteCarlo {
    fn default() -> Self {
        MonteCarlo {
            paths: 200,
            seed: 0,
            parameter_uncertainty: 1.0,
            process_noise: 1.0,
            quantiles: vec![0.05, 0.5, 0.95],
        }
    }
}

/// A what-if scenario: the horizon and step, input profiles by signal name, injected
/// faults and Monte Carlo settings. Inputs it does not name keep their current values.
///
/// ```
/// use twin::whatif::{Profile, Scenario};
/// let s: Scenario = serde_json::from_str(r#"{
///     "horizon_s": 86400, "step_s": 60,
///     "inputs": { "speed_setpoint": { "kind": "step", "before": 2.0, "after": 1.6, "at_s": 3600 } },
///     "monte_carlo": { "paths": 100, "seed": 7 }
/// }"#)?;
/// assert_eq!(s.steps()?, 1440);
/// assert_eq!(s.monte_carlo.quantiles, vec![0.05, 0.5, 0.95]);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// How far to run, s (positive).
    pub horizon_s: f64,
    /// The step, s (positive, at most the horizon).
    pub step_s: f64,
    /// Input profiles by the model's input names.
    #[serde(default)]
    pub inputs: BTreeMap<String, Profile>,
    /// Faults to inject.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Monte Carlo settings.
    #[serde(default)]
    pub monte_carlo: MonteCarlo,
}

/// The most steps a run may take (bounds memory: results hold one row per step).
pub const MAX_STEPS: usize = 10_000_000;

impl Scenario {
    /// A scenario with a horizon and a step, current inputs, no faults and default
    /// Monte Carlo settings.
    ///
    /// ```
    /// let s = twin::whatif::Scenario::new(3600.0, 60.0);
    /// assert_eq!(s.steps()?, 60);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn new(horizon_s: f64, step_s: f64) -> Self {
        Scenario {
            horizon_s,
            step_s,
            inputs: BTreeMap::new(),
            faults: Vec::new(),
            monte_carlo: MonteCarlo::default(),
        }
    }

    /// The same scenario with an input profile.
    pub fn input(mut self, name: &str, profile: Profile) -> Self {
        self.inputs.insert(name.to_string(), profile);
        self
    }

    /// The same scenario with a fault.
    pub fn fault(mut self, at_s: f64, effect: FaultEffect) -> Self {
        self.faults.push(Fault { at_s, effect });
        self
    }

    /// The same scenario with `paths` Monte Carlo paths and a seed.
    pub fn paths(mut self, paths: usize, seed: u64) -> Self {
        self.monte_carlo.paths = paths;
        self.monte_carlo.seed = seed;
        self
    }

    /// The same scenario with uncertainty scales (see [`MonteCarlo`]).
    pub fn uncertainty(mut self, parameter: f64, process: f64) -> Self {
        self.monte_carlo.parameter_uncertainty = parameter;
        self.monte_carlo.process_noise = process;
        self
    }

    /// The number of steps (`ceil(horizon / step)`), after checking horizon and step.
    pub fn steps(&self) -> Result<usize> {
        let (h, dt) = (self.horizon_s, self.step_s);
        if !(h.is_finite() && h > 0.0) {
            return Err(Error::InvalidInput(format!(
                "scenario horizon must be finite and positive, got {h}"
            )));
        }
        if !(dt.is_finite() && dt > 0.0) {
            return Err(Error::InvalidInput(format!(
                "scenario step must be finite and positive, got {dt}"
            )));
        }
        let n = (h / dt - 1e-9).ceil().max(1.0);
        if n > MAX_STEPS as f64 {
            return Err(Error::InvalidInput(format!(
                "scenario has {n} steps, more than the {MAX_STEPS} allowed"
            )));
        }
        Ok(n as usize)
    }

    /// Check the settings that do not depend on a model.
    pub fn validate(&self) -> Result<usize> {
        let n = self.steps()?;
        let mc = &self.monte_carlo;
        if mc.paths == 0 {
            return Err(Error::InvalidInput(
                "a what-if run needs at least one path".into(),
            ));
        }
        if mc.paths > 1_000_000 {
            return Err(Error::InvalidInput(format!(
                "{} paths is more than the 1,000,000 allowed",
                mc.paths
            )));
        }
        for (name, v) in [
            ("parameter_uncertainty", mc.parameter_uncertainty),
            ("process_noise", mc.process_noise),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{name} must be finite and non-negative, got {v}"
                )));
            }
        }
        if mc.quantiles.is_empty() || mc.quantiles.len() > 64 {
            return Err(Error::InvalidInput(
                "between 1 and 64 quantiles must be asked for".into(),
            ));
        }
        if let Some(q) = mc.quantiles.iter().find(|q| !(**q > 0.0 && **q < 1.0)) {
            return Err(Error::InvalidInput(format!(
                "quantiles must lie in (0, 1), got {q}"
            )));
        }
        for (name, p) in &self.inputs {
            p.validate(name)?;
        }
        for f in &self.faults {
            if !(f.at_s.is_finite() && f.at_s >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "fault time must be finite and non-negative, got {}",
                    f.at_s
                )));
            }
            let v = match &f.effect {
                FaultEffect::AddState { value, .. } | FaultEffect::SetState { value, .. } => *value,
                FaultEffect::ScaleParameter { factor, .. } => *factor,
            };
            if !v.is_finite() {
                return Err(Error::NonFinite("fault value".into()));
            }
            if let FaultEffect::ScaleParameter { factor, .. } = &f.effect {
                if *factor < 0.0 {
                    return Err(Error::InvalidInput(format!(
                        "a fault's parameter factor must be non-negative, got {factor}"
                    )));
                }
            }
        }
        Ok(n)
    }
}
