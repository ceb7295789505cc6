//! The unscented Kalman filter with scaled sigma points.

// Index loops read closest to the filter equations.
#![allow(clippy::needless_range_loop)]

use serde::{Deserialize, Serialize};

use super::{
    check_dt, check_model, check_positive_definite, check_vector, linalg, persist,
    screen_covariance, Dims, StateEstimator, StateSpaceModel,
};
use crate::error::{Error, Result};

/// The sigma-point scaling of an [`UnscentedKalmanFilter`] (van der Merwe's scaled
/// unscented transform): `λ = α² (n + κ) − n`, `2n + 1` points `x` and `x ± √(n + λ) Lᵢ`.
///
/// The default (α = 1, β = 2, κ = 0) keeps every weight non-negative, which keeps the
/// covariance positive semi-definite. ProgPy's filter uses α = 1, β = 0, κ = −1.
///
/// ```
/// use twin::analytics::estimate::UkfConfig;
/// assert!(UkfConfig::default().validate(4).is_ok());
/// // n + κ must be positive
/// assert!(UkfConfig { kappa: -4.0, ..UkfConfig::default() }.validate(4).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UkfConfig {
    /// Spread of the sigma points around the mean, in (0, 1] usually.
    pub alpha: f64,
    /// Prior knowledge of the distribution: 2 is optimal for a Gaussian.
    pub beta: f64,
    /// Secondary scaling, often 0 or 3 − n.
    pub kappa: f64,
}

impl Default for UkfConfig {
    fn default() -> Self {
        UkfConfig {
            alpha: 1.0,
            beta: 2.0,
            kappa: 0.0,
        }
    }
}

impl UkfConfig {
    /// Check the settings for a model with `states` states.
    pub fn validate(&self, states: usize) -> Result<()> {
        for (name, v) in [
            ("alpha", self.alpha),
            ("beta", self.beta),
            ("kappa", self.kappa),
        ] {
            if !v.is_finite() {
                return Err(Error::NonFinite(format!("UKF {name}")));
            }
        }
        if self.alpha <= 0.0 {
            return Err(Error::InvalidInput(format!(
                "UKF alpha must be positive, got {}",
                self.alpha
            )));
        }
        if states as f64 + self.kappa <= 0.0 {
            return Err(Error::InvalidInput(format!(
                "UKF needs n + kappa > 0, got n = {states}, kappa = {}",
                self.kappa
            )));
        }
        Ok(())
    }

    /// `(√(n + λ), mean weights, covariance weights)` for `n` states.
    fn weights(&self, n: usize) -> (f64, Vec<f64>, Vec<f64>) {
        let nf = n as f64;
        let lambda = self.alpha * self.alpha * (nf + self.kappa) - nf;
        let c = nf + lambda;
        let mut wm = vec![0.5 / c; 2 * n + 1];
        let mut wc = wm.clone();
        wm[0] = lambda / c;
        wc[0] = lambda / c + (1.0 - self.alpha * self.alpha + self.beta);
        (c.sqrt(), wm, wc)
    }
}

/// Buffers allocated once per filter (rebuilt after loading).
#[derive(Debug, Clone, Default)]
struct Work {
    gamma: f64,
    wm: Vec<f64>,
    wc: Vec<f64>,
    l: Vec<f64>,
    sigma: Vec<f64>,
    prop: Vec<f64>,
    zs: Vec<f64>,
    q: Vec<f64>,
    r: Vec<f64>,
    x: Vec<f64>,
    p: Vec<f64>,
    z: Vec<f64>,
    s: Vec<f64>,
    ls: Vec<f64>,
    pxz: Vec<f64>,
    k: Vec<f64>,
    dx: Vec<f64>,
    dz: Vec<f64>,
}

impl Work {
    fn fit(&mut self, d: Dims, cfg: &UkfConfig) {
        let (n, m) = (d.states, d.outputs);
        let pts = 2 * n + 1;
        if self.sigma.len() == pts * n && self.zs.len() == pts * m {
            return;
        }
        let (gamma, wm, wc) = cfg.weights(n);
        *self = Work {
            gamma,
            wm,
            wc,
            l: vec![0.0; n * n],
            sigma: vec![0.0; pts * n],
            prop: vec![0.0; pts * n],
            zs: vec![0.0; pts * m],
            q: vec![0.0; n * n],
            r: vec![0.0; m * m],
            x: vec![0.0; n],
            p: vec![0.0; n * n],
            z: vec![0.0; m],
            s: vec![0.0; m * m],
            ls: vec![0.0; m * m],
            pxz: vec![0.0; n * m],
            k: vec![0.0; n * m],
            dx: vec![0.0; n],
            dz: vec![0.0; m],
        };
    }

    /// Sigma points of `(x, p)` into `sigma`; `false` if `p` has no square root.
    fn draw(&mut self, x: &[f64], p: &[f64], n: usize) -> bool {
        if !linalg::cholesky_psd(p, n, &mut self.l) {
            return false;
        }
        self.sigma[..n].copy_from_slice(x);
        for j in 0..n {
            for i in 0..n {
                let d = self.gamma * self.l[i * n + j];
                self.sigma[(1 + j) * n + i] = x[i] + d;
                self.sigma[(1 + n + j) * n + i] = x[i] - d;
            }
        }
        true
    }
}

/// The unscented Kalman filter (Julier and Uhlmann; scaled sigma points of van der Merwe)
/// for additive process and measurement noise. It needs no Jacobians.
///
/// Prediction propagates `2n + 1` sigma points through the model's step and adds `Q(dt)`.
/// The update draws fresh sigma points from the predicted estimate (so the process noise is
/// accounted for in the cross-covariance), maps them through the output, and applies the
/// Kalman correction with `P ← P − K S Kᵀ`. On a linear model it equals the Kalman filter
/// to rounding.
///
/// ```
/// use twin::analytics::estimate::{BatteryCircuit, StateEstimator, StateSpaceModel, UkfConfig, UnscentedKalmanFilter};
/// let battery = BatteryCircuit::default().with_process_noise([0.01, 1.0, 0.1, 0.1])?
///     .with_measurement_noise([0.5, 0.01])?;
/// let x0 = battery.initial_state();
/// // a start 100 C off the true charge, with a matching uncertainty
/// let mut guess = x0.clone();
/// guess[1] -= 100.0;
/// let p0 = [0.1, 0.0, 0.0, 0.0, 0.0, 1e4, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
/// let mut ukf = UnscentedKalmanFilter::new(battery.clone(), &guess, &p0, UkfConfig::default())?;
/// let (mut x, mut next, mut z) = (x0, [0.0; 4], [0.0; 2]);
/// for _ in 0..600 {
///     battery.step(&x, &[2.0], 1.0, &mut next);
///     x.copy_from_slice(&next);
///     battery.output(&x, &[2.0], &mut z);
///     ukf.estimate(&[2.0], 1.0, &z)?;
/// }
/// assert!((ukf.mean()[1] - x[1]).abs() < 20.0, "{} vs {}", ukf.mean()[1], x[1]);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    try_from = "UkfState<M>",
    bound(deserialize = "M: StateSpaceModel + Deserialize<'de>")
)]
pub struct UnscentedKalmanFilter<M> {
    model: M,
    config: UkfConfig,
    x: Vec<f64>,
    p: Vec<f64>,
    u: Vec<f64>,
    #[serde(skip)]
    work: Work,
}

/// A saved filter, checked as [`UnscentedKalmanFilter::new`] checks before it becomes one.
#[derive(Deserialize)]
struct UkfState<M> {
    model: M,
    config: UkfConfig,
    x: Vec<f64>,
    p: Vec<f64>,
    u: Vec<f64>,
}

impl<M: StateSpaceModel> TryFrom<UkfState<M>> for UnscentedKalmanFilter<M> {
    type Error = Error;

    fn try_from(s: UkfState<M>) -> Result<Self> {
        let mut f = UnscentedKalmanFilter::new(s.model, &s.x, &s.p, s.config)?;
        check_vector("input", &s.u, f.model.dims().inputs)?;
        f.u = s.u;
        Ok(f)
    }
}

impl<M: StateSpaceModel> UnscentedKalmanFilter<M> {
    /// The format name of saved unscented Kalman filters.
    pub const FORMAT: &'static str = "twin.unscented_kalman_filter";
    /// The format version this build writes and reads.
    pub const FORMAT_VERSION: u32 = 1;

    /// A filter starting from `x0` with covariance `p0` (states × states, row-major,
    /// symmetric positive definite).
    ///
    /// ```
    /// # use twin::analytics::estimate::{BatteryCircuit, UkfConfig, UnscentedKalmanFilter};
    /// let battery = BatteryCircuit::default().with_measurement_noise([1.0, 0.01])?;
    /// let x0 = battery.initial_state();
    /// let not_pd = [1.0; 16];
    /// let e = UnscentedKalmanFilter::new(battery, &x0, &not_pd, UkfConfig::default()).unwrap_err();
    /// assert_eq!(e.kind(), twin::ErrorKind::InvalidInput);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn new(model: M, x0: &[f64], p0: &[f64], config: UkfConfig) -> Result<Self> {
        let d = check_model(&model)?;
        config.validate(d.states)?;
        check_vector("initial state x0", x0, d.states)?;
        check_positive_definite("initial covariance P0", p0, d.states)?;
        let mut work = Work::default();
        work.fit(d, &config);
        Ok(UnscentedKalmanFilter {
            model,
            config,
            x: x0.to_vec(),
            p: p0.to_vec(),
            u: vec![0.0; d.inputs],
            work,
        })
    }

    /// The model being estimated.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The sigma-point settings.
    pub fn config(&self) -> &UkfConfig {
        &self.config
    }

    /// Save the filter (model, settings and estimate) as a versioned JSON document.
    pub fn to_json(&self) -> Result<String>
    where
        M: Serialize,
    {
        persist::to_json(Self::FORMAT, Self::FORMAT_VERSION, self)
    }

    /// Load a filter saved by [`to_json`](Self::to_json).
    ///
    /// ```
    /// # use twin::analytics::estimate::{BatteryCircuit, UkfConfig, UnscentedKalmanFilter};
    /// let e = UnscentedKalmanFilter::<BatteryCircuit>::from_json(r#"{"format":"twin.unscented_kalman_filter","version":99,"model":{}}"#)
    ///     .unwrap_err();
    /// assert_eq!(e.kind(), twin::ErrorKind::Serialization);
    /// assert!(e.to_string().contains("version 99"));
    /// ```
    pub fn from_json(json: &str) -> Result<Self>
    where
        M: serde::de::DeserializeOwned,
    {
        persist::from_json(Self::FORMAT, Self::FORMAT_VERSION, json)
    }
}

impl<M: StateSpaceModel + Send> StateEstimator for UnscentedKalmanFilter<M> {
    fn dims(&self) -> Dims {
        self.model.dims()
    }

    fn predict(&mut self, u: &[f64], dt: f64) -> Result<()> {
        let d = self.model.dims();
        let n = d.states;
        let pts = 2 * n + 1;
        check_dt(dt)?;
        check_vector("input u", u, d.inputs)?;
        self.model.check_step(dt)?;
        let w = &mut self.work;
        w.fit(d, &self.config);
        w.q.fill(0.0);
        self.model.process_noise(dt, &mut w.q);
        screen_covariance("process noise Q", &w.q, n)?;
        if !w.draw(&self.x, &self.p, n) {
            return Err(Error::InvalidInput(
                "state covariance is not positive semi-definite".into(),
            ));
        }
        for k in 0..pts {
            let (src, dst) = (
                &w.sigma[k * n..(k + 1) * n],
                &mut w.prop[k * n..(k + 1) * n],
            );
            self.model.step(src, u, dt, dst);
            self.model.constrain(dst);
        }
        w.x.fill(0.0);
        for k in 0..pts {
            for i in 0..n {
                w.x[i] += w.wm[k] * w.prop[k * n + i];
            }
        }
        w.p.copy_from_slice(&w.q);
        for k in 0..pts {
            for i in 0..n {
                w.dx[i] = w.prop[k * n + i] - w.x[i];
            }
            let c = w.wc[k];
            for i in 0..n {
                let ci = c * w.dx[i];
                for j in 0..=i {
                    w.p[i * n + j] += ci * w.dx[j];
                }
            }
        }
        for i in 0..n {
            for j in 0..i {
                w.p[j * n + i] = w.p[i * n + j];
            }
        }
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
        let pts = 2 * n + 1;
        check_vector("measurement z", z, m)?;
        let w = &mut self.work;
        w.fit(d, &self.config);
        if !w.draw(&self.x, &self.p, n) {
            return Err(Error::InvalidInput(
                "state covariance is not positive semi-definite".into(),
            ));
        }
        for k in 0..pts {
            self.model.output(
                &w.sigma[k * n..(k + 1) * n],
                &self.u,
                &mut w.zs[k * m..(k + 1) * m],
            );
        }
        w.z.fill(0.0);
        for k in 0..pts {
            for i in 0..m {
                w.z[i] += w.wm[k] * w.zs[k * m + i];
            }
        }
        w.r.fill(0.0);
        self.model.measurement_noise(&mut w.r);
        w.s.copy_from_slice(&w.r);
        w.pxz.fill(0.0);
        for k in 0..pts {
            for i in 0..m {
                w.dz[i] = w.zs[k * m + i] - w.z[i];
            }
            for i in 0..n {
                w.dx[i] = w.sigma[k * n + i] - self.x[i];
            }
            let c = w.wc[k];
            for i in 0..m {
                let ci = c * w.dz[i];
                for j in 0..m {
                    w.s[i * m + j] += ci * w.dz[j];
                }
            }
            for i in 0..n {
                let ci = c * w.dx[i];
                for j in 0..m {
                    w.pxz[i * m + j] += ci * w.dz[j];
                }
            }
        }
        linalg::symmetrize(&mut w.s, m);
        if !linalg::cholesky(&w.s, m, &mut w.ls) {
            return Err(Error::InvalidInput(
                "innovation covariance is not positive definite".into(),
            ));
        }
        // K = Pxz S⁻¹ row by row
        w.k.copy_from_slice(&w.pxz);
        for i in 0..n {
            linalg::chol_solve(&w.ls, m, &mut w.k[i * m..(i + 1) * m]);
        }
        for i in 0..m {
            w.dz[i] = z[i] - w.z[i];
        }
        for i in 0..n {
            let mut s = 0.0;
            for j in 0..m {
                s += w.k[i * m + j] * w.dz[j];
            }
            w.x[i] = self.x[i] + s;
        }
        self.model.constrain(&mut w.x);
        // P − K S Kᵀ = P − K Pxzᵀ
        for i in 0..n {
            for j in 0..n {
                let mut s = 0.0;
                for k in 0..m {
                    s += w.k[i * m + k] * w.pxz[j * m + k];
                }
                w.p[i * n + j] = self.p[i * n + j] - s;
            }
        }
        linalg::symmetrize(&mut w.p, n);
        if !w.x.iter().chain(w.p.iter()).all(|v| v.is_finite()) {
            return Err(Error::NonFinite("updated state estimate".into()));
        }
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
