//! The Kalman filter: linear, and extended for nonlinear models with Jacobians.

// Index loops read closest to the filter equations.
#![allow(clippy::needless_range_loop)]

use serde::{Deserialize, Serialize};

use super::{
    check_dt, check_model, check_positive_definite, check_vector, linalg, persist,
    screen_covariance, Dims, StateEstimator, StateSpaceModel,
};
use crate::error::{Error, Result};

/// Buffers allocated once per filter (rebuilt after loading).
#[derive(Debug, Clone, Default)]
struct Work {
    f: Vec<f64>,
    q: Vec<f64>,
    r: Vec<f64>,
    h: Vec<f64>,
    x: Vec<f64>,
    p: Vec<f64>,
    tmp: Vec<f64>,
    z: Vec<f64>,
    s: Vec<f64>,
    ls: Vec<f64>,
    pht: Vec<f64>,
    ikh: Vec<f64>,
    k: Vec<f64>,
}

impl Work {
    fn fit(&mut self, d: Dims) {
        let (n, m) = (d.states, d.outputs);
        if self.f.len() == n * n && self.s.len() == m * m && self.h.len() == m * n {
            return;
        }
        *self = Work {
            f: vec![0.0; n * n],
            q: vec![0.0; n * n],
            r: vec![0.0; m * m],
            h: vec![0.0; m * n],
            x: vec![0.0; n],
            p: vec![0.0; n * n],
            tmp: vec![0.0; n * n.max(m)],
            z: vec![0.0; m],
            s: vec![0.0; m * m],
            ls: vec![0.0; m * m],
            pht: vec![0.0; n * m],
            ikh: vec![0.0; n * n],
            k: vec![0.0; n * m],
        };
    }
}

/// The Kalman filter on a model with Jacobians: the exact linear Kalman filter on a
/// [`LinearModel`](super::LinearModel), the extended Kalman filter (EKF) on a nonlinear one.
///
/// Prediction: `x ← f(x, u, dt)`, `P ← F P Fᵀ + Q(dt)`. Update: `K = P Hᵀ (H P Hᵀ + R)⁻¹`,
/// `x ← x + K (z − h(x, u))`, and the Joseph form `P ← (I − K H) P (I − K H)ᵀ + K R Kᵀ`,
/// which keeps `P` symmetric positive semi-definite under rounding.
///
/// ```
/// use twin::analytics::estimate::{KalmanFilter, LinearModel, StateEstimator};
/// // random walk with q = 1, r = 1: the steady-state gain is (√5 − 1) / 2
/// let walk = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
///     .process_noise(&[1.0]).measurement_noise(&[1.0]).build()?;
/// let mut kf = KalmanFilter::new(walk, &[0.0], &[1.0])?;
/// for _ in 0..50 {
///     kf.estimate(&[], 1.0, &[0.0])?;
/// }
/// assert!((kf.gain()[0] - (5f64.sqrt() - 1.0) / 2.0).abs() < 1e-12);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    try_from = "KalmanState<M>",
    bound(deserialize = "M: StateSpaceModel + Deserialize<'de>")
)]
pub struct KalmanFilter<M> {
    model: M,
    x: Vec<f64>,
    p: Vec<f64>,
    u: Vec<f64>,
    gain: Vec<f64>,
    innovation: Vec<f64>,
    #[serde(skip)]
    work: Work,
}

/// A saved filter, checked as [`KalmanFilter::new`] checks before it becomes one.
#[derive(Deserialize)]
struct KalmanState<M> {
    model: M,
    x: Vec<f64>,
    p: Vec<f64>,
    u: Vec<f64>,
    gain: Vec<f64>,
    innovation: Vec<f64>,
}

impl<M: StateSpaceModel> TryFrom<KalmanState<M>> for KalmanFilter<M> {
    type Error = Error;

    fn try_from(s: KalmanState<M>) -> Result<Self> {
        let mut f = KalmanFilter::new(s.model, &s.x, &s.p)?;
        let d = f.model.dims();
        check_vector("input", &s.u, d.inputs)?;
        check_vector("gain", &s.gain, d.states * d.outputs)?;
        check_vector("innovation", &s.innovation, d.outputs)?;
        f.u = s.u;
        f.gain = s.gain;
        f.innovation = s.innovation;
        Ok(f)
    }
}

impl<M: StateSpaceModel> KalmanFilter<M> {
    /// The format name of saved Kalman filters.
    pub const FORMAT: &'static str = "twin.kalman_filter";
    /// The format version this build writes and reads.
    pub const FORMAT_VERSION: u32 = 1;

    /// A filter starting from the estimate `x0` with covariance `p0` (states × states,
    /// row-major, symmetric positive definite). The model must supply both Jacobians.
    ///
    /// ```
    /// # use twin::analytics::estimate::{KalmanFilter, LinearModel};
    /// let walk = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
    ///     .process_noise(&[1.0]).measurement_noise(&[1.0]).build()?;
    /// let e = KalmanFilter::new(walk, &[0.0], &[-1.0]).unwrap_err();
    /// assert_eq!(e.kind(), twin::ErrorKind::InvalidInput);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn new(model: M, x0: &[f64], p0: &[f64]) -> Result<Self> {
        let d = check_model(&model)?;
        check_vector("initial state x0", x0, d.states)?;
        check_positive_definite("initial covariance P0", p0, d.states)?;
        let mut work = Work::default();
        work.fit(d);
        let u = vec![0.0; d.inputs];
        if !model.state_jacobian(x0, &u, 1.0, &mut work.f)
            || !model.output_jacobian(x0, &u, &mut work.h)
        {
            return Err(Error::InvalidInput(
                "the Kalman filter needs a model with state and output Jacobians; use the unscented or particle filter otherwise".into(),
            ));
        }
        Ok(KalmanFilter {
            model,
            x: x0.to_vec(),
            p: p0.to_vec(),
            u,
            gain: vec![0.0; d.states * d.outputs],
            innovation: vec![0.0; d.outputs],
            work,
        })
    }

    /// The model being estimated.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The Kalman gain of the last update (states × outputs, row-major).
    pub fn gain(&self) -> &[f64] {
        &self.gain
    }

    /// The innovation `z − h(x⁻, u)` of the last update.
    pub fn innovation(&self) -> &[f64] {
        &self.innovation
    }

    /// Save the filter (model and estimate) as a versioned JSON document.
    ///
    /// ```
    /// # use twin::analytics::estimate::{KalmanFilter, LinearModel, StateEstimator};
    /// let walk = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
    ///     .process_noise(&[1.0]).measurement_noise(&[1.0]).build()?;
    /// let mut kf = KalmanFilter::new(walk, &[0.0], &[1.0])?;
    /// kf.estimate(&[], 1.0, &[2.0])?;
    /// let mut back = KalmanFilter::<LinearModel>::from_json(&kf.to_json()?)?;
    /// assert_eq!(back.mean(), kf.mean());
    /// back.estimate(&[], 1.0, &[2.0])?;
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String>
    where
        M: Serialize,
    {
        persist::to_json(Self::FORMAT, Self::FORMAT_VERSION, self)
    }

    /// Load a filter saved by [`to_json`](Self::to_json); a saved estimate that is not
    /// valid (wrong sizes, a covariance that is not positive definite) is refused.
    pub fn from_json(json: &str) -> Result<Self>
    where
        M: serde::de::DeserializeOwned,
    {
        persist::from_json(Self::FORMAT, Self::FORMAT_VERSION, json)
    }
}

impl<M: StateSpaceModel + Send> StateEstimator for KalmanFilter<M> {
    fn dims(&self) -> Dims {
        self.model.dims()
    }

    fn predict(&mut self, u: &[f64], dt: f64) -> Result<()> {
        let d = self.model.dims();
        let n = d.states;
        check_dt(dt)?;
        check_vector("input u", u, d.inputs)?;
        self.model.check_step(dt)?;
        let w = &mut self.work;
        w.fit(d);
        w.f.fill(0.0);
        if !self.model.state_jacobian(&self.x, u, dt, &mut w.f) {
            return Err(Error::InvalidInput(
                "the model has no state Jacobian".into(),
            ));
        }
        w.q.fill(0.0);
        self.model.process_noise(dt, &mut w.q);
        screen_covariance("process noise Q", &w.q, n)?;
        self.model.step(&self.x, u, dt, &mut w.x);
        self.model.constrain(&mut w.x);
        // P = F P Fᵀ + Q
        linalg::matmul(&w.f, &self.p, &mut w.tmp[..n * n], n, n, n);
        linalg::matmul_bt(&w.tmp[..n * n], &w.f, &mut w.p, n, n, n);
        for (p, q) in w.p.iter_mut().zip(&w.q) {
            *p += q;
        }
        linalg::symmetrize(&mut w.p, n);
        if let Some(i) = w.x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("predicted state x[{i}]")));
        }
        if w.p.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite("predicted covariance".into()));
        }
        std::mem::swap(&mut self.x, &mut w.x);
        std::mem::swap(&mut self.p, &mut w.p);
        self.u.copy_from_slice(u);
        Ok(())
    }

    fn update(&mut self, z: &[f64]) -> Result<()> {
        let d = self.model.dims();
        let (n, m) = (d.states, d.outputs);
        check_vector("measurement z", z, m)?;
        let w = &mut self.work;
        w.fit(d);
        w.h.fill(0.0);
        if !self.model.output_jacobian(&self.x, &self.u, &mut w.h) {
            return Err(Error::InvalidInput(
                "the model has no output Jacobian".into(),
            ));
        }
        w.r.fill(0.0);
        self.model.measurement_noise(&mut w.r);
        self.model.output(&self.x, &self.u, &mut w.z);
        for i in 0..m {
            w.z[i] = z[i] - w.z[i];
        }
        // S = H P Hᵀ + R, P Hᵀ
        linalg::matmul_bt(&self.p, &w.h, &mut w.pht, n, n, m);
        linalg::matmul(&w.h, &w.pht, &mut w.s, m, n, m);
        for (s, r) in w.s.iter_mut().zip(&w.r) {
            *s += r;
        }
        linalg::symmetrize(&mut w.s, m);
        if !linalg::cholesky(&w.s, m, &mut w.ls) {
            return Err(Error::InvalidInput(
                "innovation covariance H P Hᵀ + R is not positive definite".into(),
            ));
        }
        // K = P Hᵀ S⁻¹, row by row (S symmetric): S kᵢ = (P Hᵀ)ᵢ
        let gain = &mut w.k;
        gain.copy_from_slice(&w.pht);
        for i in 0..n {
            linalg::chol_solve(&w.ls, m, &mut gain[i * m..(i + 1) * m]);
        }
        for i in 0..n {
            let mut s = 0.0;
            for j in 0..m {
                s += gain[i * m + j] * w.z[j];
            }
            w.x[i] = self.x[i] + s;
        }
        self.model.constrain(&mut w.x);
        // Joseph form: (I − K H) P (I − K H)ᵀ + K R Kᵀ
        linalg::matmul(gain, &w.h, &mut w.ikh, n, m, n);
        for v in w.ikh.iter_mut() {
            *v = -*v;
        }
        for i in 0..n {
            w.ikh[i * n + i] += 1.0;
        }
        linalg::matmul(&w.ikh, &self.p, &mut w.tmp[..n * n], n, n, n);
        linalg::matmul_bt(&w.tmp[..n * n], &w.ikh, &mut w.p, n, n, n);
        // K R Kᵀ
        linalg::matmul(gain, &w.r, &mut w.tmp[..n * m], n, m, m);
        for i in 0..n {
            for j in 0..n {
                let mut s = 0.0;
                for k in 0..m {
                    s += w.tmp[i * m + k] * gain[j * m + k];
                }
                w.p[i * n + j] += s;
            }
        }
        linalg::symmetrize(&mut w.p, n);
        let ok = w.x.iter().chain(w.p.iter()).all(|v| v.is_finite());
        if !ok {
            return Err(Error::NonFinite("updated state estimate".into()));
        }
        std::mem::swap(&mut self.gain, &mut w.k);
        self.innovation.copy_from_slice(&w.z);
        std::mem::swap(&mut self.x, &mut w.x);
        std::mem::swap(&mut self.p, &mut w.p);
        Ok(())
    }

    fn mean(&self) -> &[f64] {
        &self.x
    }

    fn covariance(&self) -> &[f64] {
        &self.p
    }
}
