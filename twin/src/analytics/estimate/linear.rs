//! The built-in linear Gaussian model, in discrete or continuous time.

// Index loops read closest to the matrix formulas.
#![allow(clippy::needless_range_loop)]

use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::linalg;
use super::{persist, Dims, StateSpaceModel};
use crate::error::{Error, Result};

/// How the linear model's dynamics are given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TimeDomain {
    /// `x' = F x + B u + w` once per `period`; `Q` is the noise covariance per period.
    Discrete { period: f64 },
    /// `dx/dt = A x + B u + w(t)`, discretised exactly for each step size; `Q` is the
    /// spectral density of the white noise `w(t)`.
    Continuous,
}

/// An event when `weights · x` reaches `level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LinearEvent {
    weights: Vec<f64>,
    level: f64,
}

/// Exact discretisation of a continuous model for one step size.
#[derive(Debug, Clone)]
struct Discretised {
    dt: f64,
    phi: Vec<f64>,
    bd: Vec<f64>,
    qd: Vec<f64>,
}

/// One-entry cache of the discretisation (step sizes rarely change).
#[derive(Debug, Default)]
struct Cache(Mutex<Option<Discretised>>);

impl Clone for Cache {
    fn clone(&self) -> Self {
        Cache::default()
    }
}

/// A linear Gaussian state-space model, with Jacobians (so every filter accepts it, and the
/// [`KalmanFilter`](super::KalmanFilter) on it is the exact linear Kalman filter).
///
/// In discrete time (`discrete(F, period)`): `x' = F x + B u + w`, `w ~ N(0, Q)` per period,
/// and the model refuses other step sizes. In continuous time (`continuous(A)`):
/// `dx/dt = A x + B u + w(t)` with white noise of spectral density `Q`, discretised exactly
/// for each step `dt` (zero-order hold on `u`): `F = e^{A dt}`, `B_d = ∫ e^{Aτ} dτ B`,
/// `Q_d = ∫ e^{Aτ} Q e^{Aᵀτ} dτ` (Van Loan's method). Output: `z = H x + D u + v`,
/// `v ~ N(0, R)`. An optional event fires when `weights · x` reaches `level`.
///
/// A constant-velocity target whose position is measured, with continuous white
/// acceleration noise:
///
/// ```
/// use twin::analytics::estimate::{LinearModel, StateSpaceModel};
/// let cv = LinearModel::builder(2, 1)
///     .continuous(&[0.0, 1.0, 0.0, 0.0])
///     .observation(&[1.0, 0.0])
///     .process_noise(&[0.0, 0.0, 0.0, 0.5])
///     .measurement_noise(&[1.0])
///     .build()?;
/// let mut q = [0.0; 4];
/// cv.process_noise(2.0, &mut q);
/// // q [dt³/3, dt²/2; dt²/2, dt]
/// assert!((q[0] - 0.5 * 8.0 / 3.0).abs() < 1e-12 && (q[1] - 1.0).abs() < 1e-12);
/// let mut next = [0.0; 2];
/// cv.step(&[1.0, 3.0], &[], 2.0, &mut next);
/// assert_eq!(next, [7.0, 3.0]);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "LinearModelData")]
pub struct LinearModel {
    dims: Dims,
    time: TimeDomain,
    /// `F` (discrete) or `A` (continuous), states × states.
    a: Vec<f64>,
    /// states × inputs.
    b: Vec<f64>,
    /// outputs × states.
    h: Vec<f64>,
    /// outputs × inputs.
    d: Vec<f64>,
    /// Noise covariance per period (discrete) or spectral density (continuous).
    q: Vec<f64>,
    /// outputs × outputs.
    r: Vec<f64>,
    event: Option<LinearEvent>,
    #[serde(skip)]
    cache: Cache,
}

/// A saved model, checked as [`LinearModelBuilder::build`] checks before it becomes one.
#[derive(Deserialize)]
struct LinearModelData {
    dims: Dims,
    time: TimeDomain,
    a: Vec<f64>,
    b: Vec<f64>,
    h: Vec<f64>,
    d: Vec<f64>,
    q: Vec<f64>,
    r: Vec<f64>,
    event: Option<LinearEvent>,
}

impl TryFrom<LinearModelData> for LinearModel {
    type Error = Error;

    fn try_from(m: LinearModelData) -> Result<Self> {
        let model = LinearModel {
            dims: m.dims,
            time: m.time,
            a: m.a,
            b: m.b,
            h: m.h,
            d: m.d,
            q: m.q,
            r: m.r,
            event: m.event,
            cache: Cache::default(),
        };
        model.validate()?;
        Ok(model)
    }
}

impl PartialEq for LinearModel {
    fn eq(&self, o: &Self) -> bool {
        self.dims == o.dims
            && self.time == o.time
            && self.a == o.a
            && self.b == o.b
            && self.h == o.h
            && self.d == o.d
            && self.q == o.q
            && self.r == o.r
            && self.event == o.event
    }
}

/// Builds a [`LinearModel`]; [`build`](Self::build) checks every matrix.
#[derive(Debug, Clone)]
pub struct LinearModelBuilder {
    states: usize,
    outputs: usize,
    inputs: usize,
    time: Option<TimeDomain>,
    a: Vec<f64>,
    b: Vec<f64>,
    h: Vec<f64>,
    d: Vec<f64>,
    q: Option<Vec<f64>>,
    r: Option<Vec<f64>>,
    event: Option<LinearEvent>,
}

impl LinearModel {
    /// The format name of saved linear models.
    pub const FORMAT: &'static str = "twin.linear_model";
    /// The format version this build writes and reads.
    pub const FORMAT_VERSION: u32 = 1;

    /// Start a model with `states` states and `outputs` outputs (and no inputs until
    /// [`LinearModelBuilder::input`] adds some).
    ///
    /// ```
    /// use twin::analytics::estimate::LinearModel;
    /// let walk = LinearModel::builder(1, 1)
    ///     .discrete(&[1.0], 1.0)
    ///     .observation(&[1.0])
    ///     .process_noise(&[0.1])
    ///     .measurement_noise(&[1.0])
    ///     .build()?;
    /// assert_eq!(walk.period(), Some(1.0));
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn builder(states: usize, outputs: usize) -> LinearModelBuilder {
        LinearModelBuilder {
            states,
            outputs,
            inputs: 0,
            time: None,
            a: Vec::new(),
            b: Vec::new(),
            h: Vec::new(),
            d: Vec::new(),
            q: None,
            r: None,
            event: None,
        }
    }

    /// The sample period of a discrete-time model (`None` in continuous time).
    pub fn period(&self) -> Option<f64> {
        match self.time {
            TimeDomain::Discrete { period } => Some(period),
            TimeDomain::Continuous => None,
        }
    }

    /// Save as a versioned JSON document.
    ///
    /// ```
    /// use twin::analytics::estimate::LinearModel;
    /// let m = LinearModel::builder(1, 1).discrete(&[0.9], 1.0).observation(&[1.0])
    ///     .process_noise(&[0.1]).measurement_noise(&[1.0]).build()?;
    /// let back = LinearModel::from_json(&m.to_json()?)?;
    /// assert_eq!(back, m);
    /// assert_eq!(LinearModel::from_json("{").unwrap_err().kind(), twin::ErrorKind::Serialization);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        persist::to_json(Self::FORMAT, Self::FORMAT_VERSION, self)
    }

    /// Load a model saved by [`to_json`](Self::to_json), checking it as `build` does.
    pub fn from_json(json: &str) -> Result<Self> {
        persist::from_json(Self::FORMAT, Self::FORMAT_VERSION, json)
    }

    fn validate(&self) -> Result<()> {
        let Dims {
            states: n,
            inputs: p,
            outputs: m,
        } = self.dims;
        if n == 0 || m == 0 {
            return Err(Error::InvalidInput(
                "a linear model needs at least one state and one output".into(),
            ));
        }
        let shape = |name: &str, v: &[f64], rows: usize, cols: usize| -> Result<()> {
            if v.len() != rows * cols {
                return Err(Error::InvalidInput(format!(
                    "{name} must be {rows}×{cols} ({} values), got {}",
                    rows * cols,
                    v.len()
                )));
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite(format!("{name}[{i}]")));
            }
            Ok(())
        };
        shape("transition matrix", &self.a, n, n)?;
        shape("input matrix B", &self.b, n, p)?;
        shape("observation matrix H", &self.h, m, n)?;
        shape("feed-through matrix D", &self.d, m, p)?;
        shape("process noise Q", &self.q, n, n)?;
        shape("measurement noise R", &self.r, m, m)?;
        if let TimeDomain::Discrete { period } = self.time {
            if !(period.is_finite() && period > 0.0) {
                return Err(Error::InvalidInput(format!(
                    "the sample period must be finite and positive, got {period}"
                )));
            }
        }
        let mut l = vec![0.0; n * n];
        if !linalg::is_symmetric(&self.q, n) || !linalg::cholesky_psd(&self.q, n, &mut l) {
            return Err(Error::InvalidInput(
                "process noise Q is not symmetric positive semi-definite".into(),
            ));
        }
        super::check_positive_definite("measurement noise R", &self.r, m)?;
        if let Some(e) = &self.event {
            shape("event weights", &e.weights, 1, n)?;
            if !e.level.is_finite() {
                return Err(Error::NonFinite("event level".into()));
            }
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Option<Discretised>> {
        self.cache.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` on the exact discretisation for `dt` (continuous models only).
    fn with_discretised<R>(&self, dt: f64, f: impl FnOnce(&Discretised) -> R) -> R {
        let mut guard = self.lock();
        match guard.as_ref() {
            Some(d) if d.dt == dt => f(d),
            _ => {
                let d = self.discretise(dt);
                let out = f(&d);
                *guard = Some(d);
                out
            }
        }
    }

    fn discretise(&self, dt: f64) -> Discretised {
        let n = self.dims.states;
        let p = self.dims.inputs;
        // [[A, B], [0, 0]] dt  ->  [[Φ, B_d], [0, I]]
        let k = n + p;
        let mut aug = vec![0.0; k * k];
        for i in 0..n {
            for j in 0..n {
                aug[i * k + j] = self.a[i * n + j] * dt;
            }
            for j in 0..p {
                aug[i * k + n + j] = self.b[i * p + j] * dt;
            }
        }
        let e = linalg::expm(&aug, k);
        let mut phi = vec![0.0; n * n];
        let mut bd = vec![0.0; n * p];
        for i in 0..n {
            phi[i * n..(i + 1) * n].copy_from_slice(&e[i * k..i * k + n]);
            bd[i * p..(i + 1) * p].copy_from_slice(&e[i * k + n..i * k + k]);
        }
        // Van Loan: expm([[-A, Q], [0, Aᵀ]] dt) = [[., G], [0, Φᵀ]], Q_d = Φ G.
        let k = 2 * n;
        let mut vl = vec![0.0; k * k];
        for i in 0..n {
            for j in 0..n {
                vl[i * k + j] = -self.a[i * n + j] * dt;
                vl[i * k + n + j] = self.q[i * n + j] * dt;
                vl[(n + i) * k + n + j] = self.a[j * n + i] * dt;
            }
        }
        let e = linalg::expm(&vl, k);
        let mut g = vec![0.0; n * n];
        for i in 0..n {
            g[i * n..(i + 1) * n].copy_from_slice(&e[i * k + n..i * k + k]);
        }
        let mut qd = vec![0.0; n * n];
        linalg::matmul(&phi, &g, &mut qd, n, n, n);
        linalg::symmetrize(&mut qd, n);
        Discretised { dt, phi, bd, qd }
    }
}

impl LinearModelBuilder {
    /// Discrete-time dynamics `x' = F x (+ B u)`, one step per `period`.
    ///
    /// ```
    /// # use twin::analytics::estimate::LinearModel;
    /// let m = LinearModel::builder(1, 1).discrete(&[0.5], 0.1).observation(&[1.0])
    ///     .process_noise(&[0.0]).measurement_noise(&[1.0]).build()?;
    /// assert_eq!(m.period(), Some(0.1));
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn discrete(mut self, f: &[f64], period: f64) -> Self {
        self.time = Some(TimeDomain::Discrete { period });
        self.a = f.to_vec();
        self
    }

    /// Continuous-time dynamics `dx/dt = A x (+ B u)`, discretised exactly for each step.
    ///
    /// ```
    /// # use twin::analytics::estimate::{LinearModel, StateSpaceModel};
    /// // exponential decay with rate 0.5
    /// let m = LinearModel::builder(1, 1).continuous(&[-0.5]).observation(&[1.0])
    ///     .process_noise(&[0.0]).measurement_noise(&[1.0]).build()?;
    /// let mut next = [0.0];
    /// m.step(&[2.0], &[], 2.0, &mut next);
    /// assert!((next[0] - 2.0 * (-1.0f64).exp()).abs() < 1e-12);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn continuous(mut self, a: &[f64]) -> Self {
        self.time = Some(TimeDomain::Continuous);
        self.a = a.to_vec();
        self
    }

    /// The observation matrix `H` (outputs × states).
    ///
    /// ```
    /// # use twin::analytics::estimate::{LinearModel, StateSpaceModel};
    /// let m = LinearModel::builder(2, 1).discrete(&[1.0, 0.0, 0.0, 1.0], 1.0)
    ///     .observation(&[0.0, 2.0]).process_noise(&[0.0; 4]).measurement_noise(&[1.0]).build()?;
    /// let mut z = [0.0];
    /// m.output(&[5.0, 3.0], &[], &mut z);
    /// assert_eq!(z, [6.0]);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn observation(mut self, h: &[f64]) -> Self {
        self.h = h.to_vec();
        self
    }

    /// `inputs` inputs acting on the state through `b` (states × inputs) and on the output
    /// through `d` (outputs × inputs; an empty slice means no feed-through).
    ///
    /// ```
    /// # use twin::analytics::estimate::{LinearModel, StateSpaceModel};
    /// // a tank level fed by an inflow u: dx/dt = u
    /// let m = LinearModel::builder(1, 1).continuous(&[0.0]).input(1, &[1.0], &[])
    ///     .observation(&[1.0]).process_noise(&[0.0]).measurement_noise(&[1.0]).build()?;
    /// let mut next = [0.0];
    /// m.step(&[1.0], &[0.5], 4.0, &mut next);
    /// assert!((next[0] - 3.0).abs() < 1e-12);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn input(mut self, inputs: usize, b: &[f64], d: &[f64]) -> Self {
        self.inputs = inputs;
        self.b = b.to_vec();
        self.d = if d.is_empty() {
            vec![0.0; self.outputs * inputs]
        } else {
            d.to_vec()
        };
        self
    }

    /// The process noise: covariance per period (discrete) or spectral density
    /// (continuous), states × states, symmetric positive semi-definite.
    ///
    /// ```
    /// # use twin::analytics::estimate::LinearModel;
    /// let bad = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
    ///     .process_noise(&[-1.0]).measurement_noise(&[1.0]).build();
    /// assert_eq!(bad.unwrap_err().kind(), twin::ErrorKind::InvalidInput);
    /// ```
    pub fn process_noise(mut self, q: &[f64]) -> Self {
        self.q = Some(q.to_vec());
        self
    }

    /// The measurement noise covariance `R` (outputs × outputs, positive definite).
    ///
    /// ```
    /// # use twin::analytics::estimate::LinearModel;
    /// let bad = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
    ///     .process_noise(&[0.0]).measurement_noise(&[0.0]).build();
    /// assert_eq!(bad.unwrap_err().kind(), twin::ErrorKind::InvalidInput);
    /// ```
    pub fn measurement_noise(mut self, r: &[f64]) -> Self {
        self.r = Some(r.to_vec());
        self
    }

    /// An event when `weights · x` reaches `level` from below (to watch a falling quantity,
    /// negate both).
    ///
    /// ```
    /// # use twin::analytics::estimate::{LinearModel, StateSpaceModel};
    /// let m = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
    ///     .process_noise(&[0.0]).measurement_noise(&[1.0]).event(&[1.0], 10.0).build()?;
    /// assert_eq!(m.event_margin(&[4.0], &[]), 6.0);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn event(mut self, weights: &[f64], level: f64) -> Self {
        self.event = Some(LinearEvent {
            weights: weights.to_vec(),
            level,
        });
        self
    }

    /// Check every matrix and build the model.
    pub fn build(self) -> Result<LinearModel> {
        let time = self.time.ok_or_else(|| {
            Error::InvalidInput(
                "a linear model needs discrete(..) or continuous(..) dynamics".into(),
            )
        })?;
        let n = self.states;
        let m = self.outputs;
        let model = LinearModel {
            dims: Dims {
                states: n,
                inputs: self.inputs,
                outputs: m,
            },
            time,
            a: self.a,
            b: self.b,
            h: self.h,
            d: self.d,
            q: self.q.unwrap_or_else(|| vec![0.0; n * n]),
            r: self.r.ok_or_else(|| {
                Error::InvalidInput("a linear model needs a measurement noise R".into())
            })?,
            event: self.event,
            cache: Cache::default(),
        };
        model.validate()?;
        Ok(model)
    }
}

impl StateSpaceModel for LinearModel {
    fn dims(&self) -> Dims {
        self.dims
    }

    fn step(&self, x: &[f64], u: &[f64], dt: f64, next: &mut [f64]) {
        let n = self.dims.states;
        let p = self.dims.inputs;
        let apply = |phi: &[f64], bd: &[f64], next: &mut [f64]| {
            linalg::matvec(phi, x, next, n, n);
            for i in 0..n {
                let mut s = 0.0;
                for j in 0..p {
                    s += bd[i * p + j] * u[j];
                }
                next[i] += s;
            }
        };
        match self.time {
            TimeDomain::Discrete { .. } => apply(&self.a, &self.b, next),
            TimeDomain::Continuous => self.with_discretised(dt, |d| apply(&d.phi, &d.bd, next)),
        }
    }

    fn output(&self, x: &[f64], u: &[f64], z: &mut [f64]) {
        let n = self.dims.states;
        let p = self.dims.inputs;
        let m = self.dims.outputs;
        linalg::matvec(&self.h, x, z, m, n);
        for i in 0..m {
            for j in 0..p {
                z[i] += self.d[i * p + j] * u[j];
            }
        }
    }

    fn process_noise(&self, dt: f64, q: &mut [f64]) {
        match self.time {
            TimeDomain::Discrete { .. } => q.copy_from_slice(&self.q),
            TimeDomain::Continuous => self.with_discretised(dt, |d| q.copy_from_slice(&d.qd)),
        }
    }

    fn measurement_noise(&self, r: &mut [f64]) {
        r.copy_from_slice(&self.r);
    }

    fn state_jacobian(&self, _x: &[f64], _u: &[f64], dt: f64, f: &mut [f64]) -> bool {
        match self.time {
            TimeDomain::Discrete { .. } => f.copy_from_slice(&self.a),
            TimeDomain::Continuous => self.with_discretised(dt, |d| f.copy_from_slice(&d.phi)),
        }
        true
    }

    fn output_jacobian(&self, _x: &[f64], _u: &[f64], h: &mut [f64]) -> bool {
        h.copy_from_slice(&self.h);
        true
    }

    fn event_margin(&self, x: &[f64], _u: &[f64]) -> f64 {
        match &self.event {
            Some(e) => e.level - e.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>(),
            None => f64::INFINITY,
        }
    }

    fn check_step(&self, dt: f64) -> Result<()> {
        if let TimeDomain::Discrete { period } = self.time {
            if (dt - period).abs() > 1e-9 * period {
                return Err(Error::InvalidInput(format!(
                    "this discrete-time model steps by its period {period}, got dt {dt}"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuous_constant_velocity_discretises_exactly() {
        let q = 0.3;
        let m = LinearModel::builder(2, 1)
            .continuous(&[0.0, 1.0, 0.0, 0.0])
            .input(1, &[0.0, 1.0], &[])
            .observation(&[1.0, 0.0])
            .process_noise(&[0.0, 0.0, 0.0, q])
            .measurement_noise(&[1.0])
            .build()
            .expect("model");
        let dt = 0.7f64;
        let mut qd = [0.0; 4];
        m.process_noise(dt, &mut qd);
        let want = [
            q * dt.powi(3) / 3.0,
            q * dt * dt / 2.0,
            q * dt * dt / 2.0,
            q * dt,
        ];
        for (a, b) in qd.iter().zip(&want) {
            assert!((a - b).abs() < 1e-14, "{qd:?} vs {want:?}");
        }
        // constant acceleration input u: x += v dt + u dt²/2, v += u dt
        let mut next = [0.0; 2];
        m.step(&[1.0, 2.0], &[3.0], dt, &mut next);
        assert!((next[0] - (1.0 + 2.0 * dt + 1.5 * dt * dt)).abs() < 1e-13);
        assert!((next[1] - (2.0 + 3.0 * dt)).abs() < 1e-13);
    }

    #[test]
    fn discrete_model_refuses_other_steps_and_bad_matrices() {
        let m = LinearModel::builder(1, 1)
            .discrete(&[1.0], 2.0)
            .observation(&[1.0])
            .measurement_noise(&[1.0])
            .build()
            .expect("model");
        assert!(m.check_step(2.0).is_ok());
        assert!(m.check_step(1.0).is_err());
        let e = LinearModel::builder(2, 1)
            .discrete(&[1.0, 0.0, 0.0], 1.0)
            .observation(&[1.0, 0.0])
            .measurement_noise(&[1.0])
            .build()
            .expect_err("refused");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let e = LinearModel::builder(1, 1)
            .discrete(&[f64::NAN], 1.0)
            .observation(&[1.0])
            .measurement_noise(&[1.0])
            .build()
            .expect_err("refused");
        assert_eq!(e.kind(), crate::ErrorKind::NonFinite);
    }
}
