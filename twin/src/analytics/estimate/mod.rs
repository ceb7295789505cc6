//! State estimation and prognosis for user-defined state-space models.
//!
//! A model implements [`StateSpaceModel`]: a discrete-time step `x' = f(x, u, dt) + w`
//! with process noise `w ~ N(0, Q(dt))`, an output `z = h(x, u) + v` with measurement
//! noise `v ~ N(0, R)`, optional Jacobians, and an event margin that reaches zero when the
//! asset reaches its threshold (for a battery: voltage down to the cut-off).
//!
//! Three filters estimate its state behind one trait, [`StateEstimator`]:
//! - [`KalmanFilter`]: the linear Kalman filter, and the extended one for nonlinear models
//!   that supply Jacobians;
//! - [`UnscentedKalmanFilter`]: scaled sigma points (Julier, van der Merwe; α, β, κ);
//! - [`ParticleFilter`]: systematic resampling when the effective sample size falls below a
//!   threshold, seeded for reproducibility.
//!
//! [`MonteCarlo`] then samples the estimated state (and the process noise), runs each
//! sample forward under a future input profile until the event, and returns the
//! [`TimeOfEvent`] distribution. Built-in models: [`LinearModel`] and NASA's equivalent
//! circuit battery, [`BatteryCircuit`].
//!
//! Vectors are `&[f64]` slices; matrices are row-major slices of `rows * cols` values.
//!
//! ```
//! use twin::analytics::estimate::{
//!     BatteryCircuit, ConstantInput, MonteCarlo, PredictorConfig, StateEstimator,
//!     StateSpaceModel, UkfConfig, UnscentedKalmanFilter,
//! };
//! // The battery, with process noise on each state and noisy temperature/voltage sensors.
//! let battery = BatteryCircuit::default()
//!     .with_process_noise([0.25; 4])?
//!     .with_measurement_noise([2.0, 0.02])?;
//! let x0 = battery.initial_state();
//! let p0 = [1e-2, 0.0, 0.0, 0.0, 0.0, 1e-2, 0.0, 0.0, 0.0, 0.0, 1e-2, 0.0, 0.0, 0.0, 0.0, 1e-2];
//! let mut ukf = UnscentedKalmanFilter::new(battery.clone(), &x0, &p0, UkfConfig::default())?;
//!
//! // Track a battery drawing 2 A for 100 s from its (noise-free) voltage and temperature.
//! let mut truth = x0.clone();
//! let mut next = [0.0; 4];
//! let mut z = [0.0; 2];
//! for _ in 0..100 {
//!     battery.step(&truth, &[2.0], 1.0, &mut next);
//!     truth.copy_from_slice(&next);
//!     battery.output(&truth, &[2.0], &mut z);
//!     ukf.predict(&[2.0], 1.0)?;
//!     ukf.update(&z)?;
//! }
//! assert!((ukf.mean()[1] - truth[1]).abs() < 5.0); // charge qb, in coulombs
//!
//! // Time to end of discharge at 2 A: 50 samples of the estimate.
//! let config = PredictorConfig { samples: 50, horizon: 10_000.0, seed: 7, ..PredictorConfig::default() };
//! let eod = MonteCarlo::new(config)?.predict(&battery, ukf.distribution(), &ConstantInput::new(vec![2.0]))?;
//! let median = eod.median().expect("every sample reaches EOD");
//! assert!((median - 3703.0).abs() < 40.0, "{median}");
//! # Ok::<(), twin::Error>(())
//! ```

mod battery;
mod kalman;
use super::linalg;
mod linear;
mod particle;
use super::persist;
mod prognosis;
mod ukf;

pub use battery::{BatteryCircuit, BatteryCircuitParams};
pub use kalman::KalmanFilter;
pub use linear::{LinearModel, LinearModelBuilder};
pub use particle::{ParticleConfig, ParticleFilter};
pub use prognosis::{
    ConstantInput, InputProfile, MonteCarlo, PiecewiseInput, PredictorConfig, TimeOfEvent,
};
pub use ukf::{UkfConfig, UnscentedKalmanFilter};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The sizes of a state-space model: states `x`, inputs `u` and outputs `z`.
///
/// ```
/// use twin::analytics::estimate::{BatteryCircuit, Dims, StateSpaceModel};
/// assert_eq!(BatteryCircuit::default().dims(), Dims { states: 4, inputs: 1, outputs: 2 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dims {
    /// Length of the state vector `x`.
    pub states: usize,
    /// Length of the input vector `u` (may be zero).
    pub inputs: usize,
    /// Length of the output (measurement) vector `z`.
    pub outputs: usize,
}

/// A discrete-time stochastic state-space model, written by the user or built in.
///
/// ```text
/// x' = f(x, u, dt) + w,   w ~ N(0, Q(dt))      step, process_noise
/// z  = h(x, u) + v,       v ~ N(0, R)          output, measurement_noise
/// ```
///
/// Buffers passed to the model have exactly the lengths of [`dims`](Self::dims) (matrices
/// row-major) and are zeroed before `process_noise`, `measurement_noise` and the Jacobians
/// are called, so a model writes only its non-zero entries. Methods must not panic on
/// finite input; a model that cannot step from some state writes non-finite values, which
/// the filters and the predictor report as [`Error::NonFinite`].
///
/// A minimal model, a scalar random walk observed directly:
///
/// ```
/// use twin::analytics::estimate::{Dims, KalmanFilter, StateEstimator, StateSpaceModel};
/// struct Walk;
/// impl StateSpaceModel for Walk {
///     fn dims(&self) -> Dims { Dims { states: 1, inputs: 0, outputs: 1 } }
///     fn step(&self, x: &[f64], _u: &[f64], _dt: f64, next: &mut [f64]) { next[0] = x[0]; }
///     fn output(&self, x: &[f64], _u: &[f64], z: &mut [f64]) { z[0] = x[0]; }
///     fn process_noise(&self, dt: f64, q: &mut [f64]) { q[0] = 0.1 * dt; }
///     fn measurement_noise(&self, r: &mut [f64]) { r[0] = 1.0; }
///     fn state_jacobian(&self, _x: &[f64], _u: &[f64], _dt: f64, f: &mut [f64]) -> bool { f[0] = 1.0; true }
///     fn output_jacobian(&self, _x: &[f64], _u: &[f64], h: &mut [f64]) -> bool { h[0] = 1.0; true }
/// }
/// let mut kf = KalmanFilter::new(Walk, &[0.0], &[10.0])?;
/// kf.predict(&[], 1.0)?;
/// kf.update(&[2.0])?;
/// assert!((kf.mean()[0] - 2.0 * 10.1 / 11.1).abs() < 1e-12);
/// # Ok::<(), twin::Error>(())
/// ```
pub trait StateSpaceModel {
    /// The sizes of `x`, `u` and `z`.
    fn dims(&self) -> Dims;

    /// The noise-free next state `f(x, u, dt)`, written into `next`.
    fn step(&self, x: &[f64], u: &[f64], dt: f64, next: &mut [f64]);

    /// The noise-free output `h(x, u)`, written into `z`.
    fn output(&self, x: &[f64], u: &[f64], z: &mut [f64]);

    /// The covariance `Q(dt)` (states × states, symmetric positive semi-definite) of the
    /// process noise added over one step of `dt`.
    fn process_noise(&self, dt: f64, q: &mut [f64]);

    /// The covariance `R` (outputs × outputs, symmetric positive definite for filtering)
    /// of the measurement noise.
    fn measurement_noise(&self, r: &mut [f64]);

    /// The Jacobian `∂f/∂x` (states × states) at `(x, u, dt)`, if the model has one:
    /// write it and return `true`. The default returns `false` (no Jacobian), which the
    /// [`KalmanFilter`] refuses; the other filters never ask.
    fn state_jacobian(&self, _x: &[f64], _u: &[f64], _dt: f64, _f: &mut [f64]) -> bool {
        false
    }

    /// The Jacobian `∂h/∂x` (outputs × states) at `(x, u)`, if the model has one.
    fn output_jacobian(&self, _x: &[f64], _u: &[f64], _h: &mut [f64]) -> bool {
        false
    }

    /// How far the state is from the model's event (for example end of discharge):
    /// positive before it, zero or negative once it is reached. The predictor interpolates
    /// the event time where the margin crosses zero, so a margin proportional to the
    /// distance (a voltage above its cut-off, a wear below its limit) gives the most
    /// accurate times. The default, `+∞`, means the model has no event.
    fn event_margin(&self, _x: &[f64], _u: &[f64]) -> f64 {
        f64::INFINITY
    }

    /// Project a state back into its valid domain after a step (for example a charge that
    /// cannot be negative). The default does nothing.
    fn constrain(&self, _x: &mut [f64]) {}

    /// Refuse step sizes the model cannot take (for example a discrete model with a fixed
    /// sample period). Called once per filter prediction and per predictor run. The default
    /// accepts any positive finite `dt`.
    fn check_step(&self, _dt: f64) -> Result<()> {
        Ok(())
    }
}

macro_rules! forward_model {
    ($($ty:ty),*) => {$(
        impl<M: StateSpaceModel + ?Sized> StateSpaceModel for $ty {
            fn dims(&self) -> Dims { (**self).dims() }
            fn step(&self, x: &[f64], u: &[f64], dt: f64, next: &mut [f64]) { (**self).step(x, u, dt, next) }
            fn output(&self, x: &[f64], u: &[f64], z: &mut [f64]) { (**self).output(x, u, z) }
            fn process_noise(&self, dt: f64, q: &mut [f64]) { (**self).process_noise(dt, q) }
            fn measurement_noise(&self, r: &mut [f64]) { (**self).measurement_noise(r) }
            fn state_jacobian(&self, x: &[f64], u: &[f64], dt: f64, f: &mut [f64]) -> bool { (**self).state_jacobian(x, u, dt, f) }
            fn output_jacobian(&self, x: &[f64], u: &[f64], h: &mut [f64]) -> bool { (**self).output_jacobian(x, u, h) }
            fn event_margin(&self, x: &[f64], u: &[f64]) -> f64 { (**self).event_margin(x, u) }
            fn constrain(&self, x: &mut [f64]) { (**self).constrain(x) }
            fn check_step(&self, dt: f64) -> Result<()> { (**self).check_step(dt) }
        }
    )*};
}
forward_model!(&M, Box<M>, std::sync::Arc<M>);

/// A distribution of the state, as the [`MonteCarlo`] predictor samples it.
///
/// ```
/// use twin::analytics::estimate::StateDistribution;
/// let mean = [1.0, 2.0];
/// let cov = [0.1, 0.0, 0.0, 0.2];
/// let d = StateDistribution::Gaussian { mean: &mean, covariance: &cov };
/// assert_eq!(d.dim(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StateDistribution<'a> {
    /// A known state.
    Point(&'a [f64]),
    /// A normal distribution: a mean and a row-major covariance (positive semi-definite).
    Gaussian {
        /// The mean state.
        mean: &'a [f64],
        /// The covariance, states × states, row-major.
        covariance: &'a [f64],
    },
    /// Weighted particles: `weights.len()` states of the model's length, row after row.
    Weighted {
        /// The particles, row-major (particles × states).
        particles: &'a [f64],
        /// One non-negative weight per particle (normalised when sampled).
        weights: &'a [f64],
    },
}

impl StateDistribution<'_> {
    /// The state dimension this distribution describes.
    pub fn dim(&self) -> usize {
        match self {
            StateDistribution::Point(x) => x.len(),
            StateDistribution::Gaussian { mean, .. } => mean.len(),
            StateDistribution::Weighted { particles, weights } => {
                if weights.is_empty() {
                    0
                } else {
                    particles.len() / weights.len()
                }
            }
        }
    }
}

/// A recursive state estimator: the [`KalmanFilter`], [`UnscentedKalmanFilter`] and
/// [`ParticleFilter`] all answer to it, so code can switch filters without change.
///
/// A failed `predict` or `update` (bad input, a non-finite result, a covariance that lost
/// positive definiteness) returns an error and leaves the estimate as it was.
///
/// ```
/// use twin::analytics::estimate::{LinearModel, KalmanFilter, ParticleConfig, ParticleFilter,
///     StateEstimator, UkfConfig, UnscentedKalmanFilter};
/// let model = LinearModel::builder(1, 1)
///     .discrete(&[1.0], 1.0)
///     .observation(&[1.0])
///     .process_noise(&[0.01])
///     .measurement_noise(&[0.25])
///     .build()?;
/// let filters: Vec<Box<dyn StateEstimator>> = vec![
///     Box::new(KalmanFilter::new(model.clone(), &[0.0], &[1.0])?),
///     Box::new(UnscentedKalmanFilter::new(model.clone(), &[0.0], &[1.0], UkfConfig::default())?),
///     Box::new(ParticleFilter::new(model, &[0.0], &[1.0], ParticleConfig::default())?),
/// ];
/// for mut f in filters {
///     for _ in 0..50 {
///         f.predict(&[], 1.0)?;
///         f.update(&[3.0])?;
///     }
///     assert!((f.mean()[0] - 3.0).abs() < 0.1);
/// }
/// # Ok::<(), twin::Error>(())
/// ```
pub trait StateEstimator: Send {
    /// The sizes of the model being estimated.
    fn dims(&self) -> Dims;

    /// Advance the estimate by `dt` under input `u` (time update). The input is kept as the
    /// input of the following [`update`](Self::update)s.
    fn predict(&mut self, u: &[f64], dt: f64) -> Result<()>;

    /// Correct the estimate with a measurement `z` (measurement update), using the input of
    /// the last [`predict`](Self::predict) (zero before the first).
    fn update(&mut self, z: &[f64]) -> Result<()>;

    /// `predict(u, dt)` then `update(z)`.
    fn estimate(&mut self, u: &[f64], dt: f64, z: &[f64]) -> Result<()> {
        self.predict(u, dt)?;
        self.update(z)
    }

    /// The state estimate (the posterior mean).
    fn mean(&self) -> &[f64];

    /// The covariance of the estimate, states × states, row-major.
    fn covariance(&self) -> &[f64];

    /// The estimated state distribution, for the [`MonteCarlo`] predictor.
    fn distribution(&self) -> StateDistribution<'_> {
        StateDistribution::Gaussian {
            mean: self.mean(),
            covariance: self.covariance(),
        }
    }
}

/// `dt` must be finite and positive.
pub(crate) fn check_dt(dt: f64) -> Result<()> {
    if dt.is_finite() && dt > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "time step dt must be finite and positive, got {dt}"
        )))
    }
}

/// `v` must have `len` finite values.
pub(crate) fn check_vector(name: &str, v: &[f64], len: usize) -> Result<()> {
    if v.len() != len {
        return Err(Error::InvalidInput(format!(
            "{name} must have {len} values, got {}",
            v.len()
        )));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite(format!("{name}[{i}]")));
    }
    Ok(())
}

/// `p` must be a finite, symmetric, positive definite n×n matrix.
pub(crate) fn check_positive_definite(name: &str, p: &[f64], n: usize) -> Result<()> {
    if p.len() != n * n {
        return Err(Error::InvalidInput(format!(
            "{name} must be {n}×{n} ({} values), got {} values",
            n * n,
            p.len()
        )));
    }
    if let Some(i) = p.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite(format!("{name}[{i}]")));
    }
    if !linalg::is_symmetric(p, n) {
        return Err(Error::InvalidInput(format!("{name} is not symmetric")));
    }
    let mut l = vec![0.0; n * n];
    if !linalg::cholesky(p, n, &mut l) {
        return Err(Error::InvalidInput(format!(
            "{name} is not positive definite"
        )));
    }
    Ok(())
}

/// `q` must be a finite, symmetric n×n matrix with a non-negative diagonal (a cheap
/// screen run every step; a full factorisation runs where a square root is needed).
pub(crate) fn screen_covariance(name: &str, q: &[f64], n: usize) -> Result<()> {
    if let Some(i) = q.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite(format!("{name}[{i}]")));
    }
    if !linalg::is_symmetric(q, n) || (0..n).any(|i| q[i * n + i] < 0.0) {
        return Err(Error::InvalidInput(format!(
            "{name} is not a covariance (symmetric with a non-negative diagonal)"
        )));
    }
    Ok(())
}

/// Check a model's dimensions and that its measurement noise is positive definite.
pub(crate) fn check_model<M: StateSpaceModel + ?Sized>(model: &M) -> Result<Dims> {
    let d = model.dims();
    if d.states == 0 || d.outputs == 0 {
        return Err(Error::InvalidInput(format!(
            "a model needs at least one state and one output, got {} states and {} outputs",
            d.states, d.outputs
        )));
    }
    let mut r = vec![0.0; d.outputs * d.outputs];
    model.measurement_noise(&mut r);
    check_positive_definite("measurement noise covariance R", &r, d.outputs)?;
    Ok(d)
}
