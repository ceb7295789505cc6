//! What-if simulation: branch a digital model's current estimate without disturbing it,
//! run it forward under a [`Scenario`] (input profiles, injected faults) with Monte Carlo
//! over the model's uncertainty, and summarise the paths as per-step percentiles and a
//! time-to-failure distribution.
//!
//! A [`DigitalModel`](crate::model::DigitalModel) takes part by returning a
//! [`ForwardModel`] from its `forward()` method: a plain copy of its current estimate with
//! a step function over flat state, input and parameter slices. The engine
//! ([`run`]) keeps every path's state in one preallocated matrix, steps all paths one time
//! step at a time, and reduces each step to its quantiles before the next, so a run
//! allocates nothing per step and its memory grows with the number of steps only through
//! the result.
//!
//! ```
//! use twin::entity::ConveyorDrive;
//! use twin::model::ConveyorModel;
//! use twin::whatif::{Profile, Scenario};
//! let schema = ConveyorDrive::standard_schema();
//! let model = ConveyorModel::new(&schema, Default::default())?;
//! let twin = twin::Twin::builder(schema).model(model).build()?;
//! // 60 days at 1.6 m/s instead of 2 m/s, 200 paths.
//! let scenario = Scenario::new(60.0 * 86_400.0, 3_600.0)
//!     .input("speed_setpoint", Profile::Constant { value: 1.6 })
//!     .paths(200, 1);
//! let r = twin.what_if(&scenario)?;
//! let wear = r.trajectory("wear").expect("conveyor wear");
//! let (p5, p95) = (wear.quantile(0.05).expect("asked"), wear.quantile(0.95).expect("asked"));
//! assert!(p5[100] <= p95[100]);
//! assert!(r.failure.probability > 0.0 && r.failure.probability < 1.0);
//! # Ok::<(), twin::Error>(())
//! ```

mod engine;
mod result;
mod scenario;

pub use engine::{run, run_with};
pub use result::{quantile_of_sorted, FailureSummary, Trajectory, WhatIfResult};
pub use scenario::{Fault, FaultEffect, MonteCarlo, Profile, Scenario, MAX_STEPS};

/// A model's state as flat numbers with a step function: what a what-if run simulates.
///
/// States, inputs and parameters are named so that scenarios and faults can refer to
/// them. Uncertainty enters through standard normal draws that the engine makes and
/// passes in (already multiplied by the scenario's scales), so a model never sees a
/// random number generator and every run is reproducible from its seed.
pub trait ForwardModel: Send + Sync {
    /// A stable name of the model.
    fn name(&self) -> &str;
    /// Names of the state variables, in the order of the state slice.
    fn state_names(&self) -> &[&'static str];
    /// Names of the inputs a scenario may set, in the order of the input slice.
    fn input_names(&self) -> &[&'static str];
    /// Names of the parameters a fault may scale, in the order of the parameter slice.
    fn parameter_names(&self) -> &[&'static str];
    /// The current estimate of the state.
    fn initial_state(&self, x: &mut [f64]);
    /// The current inputs (held constant when a scenario does not name them).
    fn current_inputs(&self, u: &mut [f64]);
    /// The nominal parameters.
    fn parameters(&self, p: &mut [f64]);
    /// How many standard normals [`ForwardModel::perturb`] takes.
    fn uncertainty_dims(&self) -> usize;
    /// Draw one path's parameters and initial state: `z` holds standard normals already
    /// multiplied by the parameter-uncertainty scale (zeros give the nominal path).
    fn perturb(&self, z: &[f64], p: &mut [f64], x: &mut [f64]);
    /// How many derived quantities [`ForwardModel::prepare`] appends to the inputs (for
    /// example an expected rate that depends on the inputs only). Default 0.
    fn aux_dims(&self) -> usize {
        0
    }
    /// Compute derived quantities once per step for all paths: `u` holds the step's
    /// inputs followed by `aux_dims()` slots to fill; [`ForwardModel::step`] and
    /// [`ForwardModel::failed`] then see the whole row. The default does nothing.
    fn prepare(&self, _u: &mut [f64]) {}
    /// How many standard normals one step takes.
    fn noise_dims(&self) -> usize;
    /// Advance `x` by `dt_s` under inputs `u` (followed by the prepared quantities) and
    /// parameters `p`; `z` holds `noise_dims()` standard normals and `scale` the
    /// scenario's process-noise scale (0: the expected, noise-free step).
    fn step(&self, p: &[f64], x: &mut [f64], u: &[f64], dt_s: f64, z: &[f64], scale: f64);
    /// Whether the state has reached the failure condition.
    fn failed(&self, x: &[f64], u: &[f64]) -> bool;
}
