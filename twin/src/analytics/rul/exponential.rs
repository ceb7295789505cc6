//! Exponential degradation with a Bayesian update (Gebraeel, Lawley, Li & Ryan 2005).
//!
//! A unit's degradation signal follows `S(t) = φ + θ·exp(β t + ε(t))` with Gaussian
//! noise `ε ~ N(0, σ²)`. Taking logs gives the linear model
//! `L(t) = ln(S(t) − φ) = ln θ + β t + ε`, so the unit's parameters `(ln θ, β)` get a
//! conjugate Gaussian prior, learnt from a fleet of run-to-failure histories (the mean
//! and spread of per-unit least-squares fits, less their estimation noise), and a
//! Gaussian posterior from the unit's own observations:
//!
//! `Σₙ = (Σ₀⁻¹ + XᵀX/σ²)⁻¹`, `μₙ = Σₙ (Σ₀⁻¹ μ₀ + Xᵀ L/σ²)` with rows `X = [1, t]`.
//!
//! The unit fails when `L` reaches the log threshold `Λ = ln(D − φ)`, itself Gaussian
//! over the fleet. The probability it has failed by `t` is
//! `Φ((μ_a + μ_b t − μ_Λ) / √(V_a + 2t C_ab + t² V_b + σ² + σ_Λ²))`, and the RUL
//! distribution is that, conditioned on survival to now. [`ExponentialRul`] applies the
//! model to a [`DegradationIndicator`] fused from many signals.

use serde::{Deserialize, Serialize};

use super::conformal::Conformal;
use super::indicator::{DegradationIndicator, IndicatorConfig};
use super::{
    fit_calibrated, persist, predict_one, CalibrationConfig, Fleet, HeldOutScores, PointModel,
    RulPrediction, SignalScaler, UnitSeries,
};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// The standard normal CDF (via a Chebyshev-fitted `erfc`, relative error < 1.2e-7).
pub(crate) fn norm_cdf(x: f64) -> f64 {
    let z = (x / std::f64::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let erfc = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// One degradation history: times and signal values (run to failure when training).
///
/// ```
/// use twin::analytics::rul::exponential::Trajectory;
/// assert!(Trajectory::new(vec![0.0, 1.0], vec![1.0, 1.2]).is_ok());
/// assert!(Trajectory::new(vec![0.0, 1.0], vec![1.0, f64::NAN]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    time: Vec<f64>,
    signal: Vec<f64>,
}

impl Trajectory {
    /// A trajectory from equal-length times (finite, strictly increasing) and values.
    pub fn new(time: Vec<f64>, signal: Vec<f64>) -> Result<Self> {
        if time.is_empty() || time.len() != signal.len() {
            return Err(Error::InvalidInput(format!(
                "a trajectory needs equal, non-zero numbers of times and values, got {} and {}",
                time.len(),
                signal.len()
            )));
        }
        if let Some(i) = time.iter().chain(&signal).position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("trajectory entry {i}")));
        }
        if time.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::InvalidInput(
                "trajectory times must strictly increase".into(),
            ));
        }
        Ok(Trajectory { time, signal })
    }

    /// The times.
    pub fn time(&self) -> &[f64] {
        &self.time
    }

    /// The values.
    pub fn signal(&self) -> &[f64] {
        &self.signal
    }
}

/// Settings of an [`ExponentialDegradation`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExponentialConfig {
    /// The offset `φ` of the signal; `None` estimates it by profile likelihood.
    pub phi: Option<f64>,
    /// The failure threshold `D` of the signal; `None` learns its distribution from the
    /// training histories' last values.
    pub threshold: Option<f64>,
    /// Longest RUL reported (a quantile beyond it reports it); `None`: three times the
    /// longest training history.
    pub horizon: Option<f64>,
}

impl ExponentialConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("phi", self.phi), ("threshold", self.threshold)] {
            if let Some(v) = v {
                if !v.is_finite() {
                    return Err(Error::InvalidInput(format!(
                        "{name} must be finite, got {v}"
                    )));
                }
            }
        }
        if let (Some(p), Some(d)) = (self.phi, self.threshold) {
            if d <= p {
                return Err(Error::InvalidInput(format!(
                    "threshold {d} must be above phi {p}"
                )));
            }
        }
        if let Some(h) = self.horizon {
            if !(h.is_finite() && h > 0.0) {
                return Err(Error::InvalidInput(format!(
                    "horizon must be finite and positive, got {h}"
                )));
            }
        }
        Ok(())
    }
}

/// The unfitted 1-D exponential degradation model.
///
/// ```
/// use twin::analytics::rul::exponential::{ExponentialConfig, ExponentialDegradation, Trajectory};
/// // three units degrading as S = 1 + exp(-2 + 0.05 t), failing at S = 10
/// let units: Vec<Trajectory> = [0.9, 1.0, 1.1].iter().map(|k| {
///     let t: Vec<f64> = (0..200).map(f64::from).filter(|t| 1.0 + (-2.0 + 0.05 * k * t).exp() <= 10.0).collect();
///     let s = t.iter().map(|t| 1.0 + (-2.0 + 0.05 * k * t).exp()).collect();
///     Trajectory::new(t, s)
/// }).collect::<Result<_, _>>()?;
/// let cfg = ExponentialConfig { phi: Some(1.0), threshold: Some(10.0), horizon: None };
/// let model = ExponentialDegradation::new(cfg)?.fit(&units)?;
/// let (mean, _) = model.prior();
/// assert!((mean[0] + 2.0).abs() < 1e-6 && (mean[1] - 0.05).abs() < 0.001);
/// // a unit observed until t = 20: ln(9) = -2 + 0.05 t at t ≈ 83.9
/// let t: Vec<f64> = (0..=20).map(f64::from).collect();
/// let s: Vec<f64> = t.iter().map(|t| 1.0 + (-2.0 + 0.05 * t).exp()).collect();
/// let post = model.posterior(&t, &s)?;
/// assert!((post.rul_median() - 63.9).abs() < 1.0);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentialDegradation {
    config: ExponentialConfig,
}

/// Sufficient statistics of a least-squares line of `L` on `t`.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: f64,
    t: f64,
    tt: f64,
    l: f64,
    tl: f64,
    ll: f64,
}

impl Sums {
    fn add(&mut self, t: f64, l: f64) {
        self.n += 1.0;
        self.t += t;
        self.tt += t * t;
        self.l += l;
        self.tl += t * l;
        self.ll += l * l;
    }

    /// OLS intercept and slope, and the residual sum of squares.
    fn ols(&self) -> Option<(f64, f64, f64)> {
        let det = self.n * self.tt - self.t * self.t;
        if det <= 1e-12 * self.n * self.tt.max(1.0) || det.is_nan() {
            return None;
        }
        let b = (self.n * self.tl - self.t * self.l) / det;
        let a = (self.l - b * self.t) / self.n;
        let rss = (self.ll - a * self.l - b * self.tl).max(0.0);
        Some((a, b, rss))
    }
}

impl ExponentialDegradation {
    /// Validate the settings.
    pub fn new(config: ExponentialConfig) -> Result<Self> {
        config.validate()?;
        Ok(ExponentialDegradation { config })
    }

    /// Learn the prior, the noise and the threshold from run-to-failure trajectories
    /// (at least 3, each with at least 3 points).
    ///
    /// Errors: [`Error::InvalidInput`] for too few trajectories or points, a constant
    /// signal, or (with a given `phi`) a value at or below `phi`.
    pub fn fit(&self, histories: &[Trajectory]) -> Result<FittedExponentialDegradation> {
        if histories.len() < 3 {
            return Err(Error::InvalidInput(format!(
                "the exponential model needs at least 3 run-to-failure histories, got {}",
                histories.len()
            )));
        }
        if let Some(h) = histories.iter().find(|h| h.time.len() < 3) {
            return Err(Error::InvalidInput(format!(
                "each history needs at least 3 points, one has {}",
                h.time.len()
            )));
        }
        let all = || histories.iter().flat_map(|h| h.signal.iter().copied());
        let lo = all().fold(f64::INFINITY, f64::min);
        let hi = all().fold(f64::NEG_INFINITY, f64::max);
        let range = hi - lo;
        if range <= 1e-12 * lo.abs().max(1.0) || range.is_nan() {
            return Err(Error::InvalidInput(
                "the degradation signal is constant over every history".into(),
            ));
        }
        let phi = match self.config.phi {
            Some(p) => {
                if lo <= p {
                    return Err(Error::InvalidInput(format!(
                        "a signal value {lo} is at or below phi {p}"
                    )));
                }
                p
            }
            None => profile_phi(histories, lo, range)?,
        };
        let floor = 0.5 * (lo - phi);
        let n_total: usize = histories.iter().map(|h| h.time.len()).sum();
        let mut fits = Vec::with_capacity(histories.len());
        let mut rss = 0.0;
        for h in histories {
            let mut s = Sums::default();
            for (t, v) in h.time.iter().zip(&h.signal) {
                s.add(*t, (v - phi).max(floor).ln());
            }
            let (a, b, r) = s
                .ols()
                .ok_or_else(|| Error::InvalidInput("a history's times are degenerate".into()))?;
            rss += r;
            fits.push((a, b, s));
        }
        let dof = n_total.saturating_sub(2 * histories.len()).max(1) as f64;
        let noise_var = (rss / dof).max(1e-12);
        let u = fits.len() as f64;
        let ma = fits.iter().map(|f| f.0).sum::<f64>() / u;
        let mb = fits.iter().map(|f| f.1).sum::<f64>() / u;
        let (mut vaa, mut vab, mut vbb) = (0.0, 0.0, 0.0);
        let (mut eaa, mut eab, mut ebb) = (0.0, 0.0, 0.0);
        for (a, b, s) in &fits {
            vaa += (a - ma) * (a - ma);
            vab += (a - ma) * (b - mb);
            vbb += (b - mb) * (b - mb);
            // sampling covariance of this unit's estimates: σ² (XᵀX)⁻¹
            let det = s.n * s.tt - s.t * s.t;
            eaa += noise_var * s.tt / det;
            eab -= noise_var * s.t / det;
            ebb += noise_var * s.n / det;
        }
        let d = u - 1.0;
        let (saa, sab, sbb) = (vaa / d, vab / d, vbb / d);
        // subtract the mean estimation noise, keeping at least 10% of the spread
        let caa = (saa - eaa / u).max(0.1 * saa).max(1e-12);
        let cbb = (sbb - ebb / u).max(0.1 * sbb).max(1e-18);
        let mut cab = sab - eab / u;
        let lim = 0.99 * (caa * cbb).sqrt();
        cab = cab.clamp(-lim, lim);
        let (log_threshold_mean, log_threshold_var) = match self.config.threshold {
            Some(dth) => ((dth - phi).ln(), 0.0),
            None => {
                let lt: Vec<f64> = histories
                    .iter()
                    .filter_map(|h| h.signal.last())
                    .map(|v| (v - phi).max(floor).ln())
                    .collect();
                let m = lt.iter().sum::<f64>() / u;
                let v = lt.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / d;
                (m, (v - noise_var).max(0.0))
            }
        };
        let horizon = self.config.horizon.unwrap_or_else(|| {
            3.0 * histories
                .iter()
                .map(|h| h.time[h.time.len() - 1] - h.time[0])
                .fold(1.0, f64::max)
        });
        let m = FittedExponentialDegradation {
            phi,
            floor,
            prior_mean: [ma, mb],
            prior_cov: [caa, cab, cbb],
            noise_var,
            log_threshold_mean,
            log_threshold_var,
            horizon,
        };
        m.validate()
            .map_err(|_| Error::InvalidInput("the degradation fit is not finite".into()))?;
        Ok(m)
    }
}

/// Profile likelihood of `φ` over a grid below the smallest value.
fn profile_phi(histories: &[Trajectory], lo: f64, range: f64) -> Result<f64> {
    let n_total: usize = histories.iter().map(|h| h.time.len()).sum();
    let dof = n_total.saturating_sub(2 * histories.len()).max(1) as f64;
    let mut best: Option<(f64, f64)> = None;
    for i in 0..60 {
        let delta = range * 10f64.powf(-4.0 + 6.0 * i as f64 / 59.0);
        let phi = lo - delta;
        let mut rss = 0.0;
        let mut jac = 0.0;
        for h in histories {
            let mut s = Sums::default();
            for (t, v) in h.time.iter().zip(&h.signal) {
                let l = (v - phi).ln();
                jac += l;
                s.add(*t, l);
            }
            if let Some((_, _, r)) = s.ols() {
                rss += r;
            }
        }
        let ll = -0.5 * n_total as f64 * (rss / dof).max(1e-300).ln() - jac;
        if ll.is_finite() && best.is_none_or(|(_, b)| ll > b) {
            best = Some((phi, ll));
        }
    }
    best.map(|b| b.0)
        .ok_or_else(|| Error::InvalidInput("cannot estimate phi: no finite likelihood".into()))
}

/// A fitted 1-D exponential degradation model: the fleet prior of `(ln θ, β)`, the noise
/// variance, the offset and the failure threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedExponentialDegradation {
    phi: f64,
    floor: f64,
    prior_mean: [f64; 2],
    prior_cov: [f64; 3],
    noise_var: f64,
    log_threshold_mean: f64,
    log_threshold_var: f64,
    horizon: f64,
}

impl FittedExponentialDegradation {
    /// The offset `φ`.
    pub fn phi(&self) -> f64 {
        self.phi
    }

    /// The prior mean `[ln θ, β]` and covariance `[[V_a, C], [C, V_b]]`.
    pub fn prior(&self) -> ([f64; 2], [[f64; 2]; 2]) {
        let [a, c, b] = self.prior_cov;
        (self.prior_mean, [[a, c], [c, b]])
    }

    /// The noise variance `σ²` of `ln(S − φ)`.
    pub fn noise_var(&self) -> f64 {
        self.noise_var
    }

    /// Mean and variance of the log failure threshold `ln(D − φ)`.
    pub fn log_threshold(&self) -> (f64, f64) {
        (self.log_threshold_mean, self.log_threshold_var)
    }

    /// The posterior of a unit after observing `signal` at `time` (on the training clock).
    /// With no observation it is the prior, at time 0.
    ///
    /// Errors: [`Error::InvalidInput`] for unequal lengths or times that do not
    /// strictly increase, [`Error::NonFinite`] for a NaN or infinite entry.
    pub fn posterior(&self, time: &[f64], signal: &[f64]) -> Result<DegradationPosterior> {
        if time.len() != signal.len() {
            return Err(Error::InvalidInput(format!(
                "{} times for {} values",
                time.len(),
                signal.len()
            )));
        }
        if let Some(i) = time.iter().chain(signal).position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("observation entry {i}")));
        }
        if time.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::InvalidInput("times must strictly increase".into()));
        }
        let mut s = Sums::default();
        for (t, v) in time.iter().zip(signal) {
            s.add(*t, self.log_signal(*v));
        }
        Ok(self.posterior_from(&s, time.last().copied().unwrap_or(0.0)))
    }

    fn log_signal(&self, v: f64) -> f64 {
        (v - self.phi).max(self.floor).ln()
    }

    fn posterior_from(&self, s: &Sums, now: f64) -> DegradationPosterior {
        let [va, c, vb] = self.prior_cov;
        let det0 = va * vb - c * c;
        // prior precision
        let (p_aa, p_ab, p_bb) = (vb / det0, -c / det0, va / det0);
        let w = 1.0 / self.noise_var;
        let (q_aa, q_ab, q_bb) = (p_aa + w * s.n, p_ab + w * s.t, p_bb + w * s.tt);
        let [ma, mb] = self.prior_mean;
        let ra = p_aa * ma + p_ab * mb + w * s.l;
        let rb = p_ab * ma + p_bb * mb + w * s.tl;
        let det = q_aa * q_bb - q_ab * q_ab;
        let (ca, cab, cb) = (q_bb / det, -q_ab / det, q_aa / det);
        DegradationPosterior {
            mean: [ca * ra + cab * rb, cab * ra + cb * rb],
            cov: [ca, cab, cb],
            noise_var: self.noise_var,
            log_threshold_mean: self.log_threshold_mean,
            log_threshold_var: self.log_threshold_var,
            now,
            horizon: self.horizon,
        }
    }

    fn validate(&self) -> Result<()> {
        let [va, c, vb] = self.prior_cov;
        let ok = [
            self.phi,
            self.floor,
            self.prior_mean[0],
            self.prior_mean[1],
            va,
            c,
            vb,
            self.noise_var,
            self.log_threshold_mean,
            self.log_threshold_var,
            self.horizon,
        ]
        .iter()
        .all(|v| v.is_finite())
            && va > 0.0
            && vb > 0.0
            && va * vb - c * c > 0.0
            && self.noise_var > 0.0
            && self.floor > 0.0
            && self.log_threshold_var >= 0.0
            && self.horizon > 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization(
                "exponential degradation model is inconsistent".into(),
            ))
        }
    }
}

/// A unit's posterior over `(ln θ, β)` and its predictive RUL distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DegradationPosterior {
    mean: [f64; 2],
    cov: [f64; 3],
    noise_var: f64,
    log_threshold_mean: f64,
    log_threshold_var: f64,
    now: f64,
    horizon: f64,
}

impl DegradationPosterior {
    /// Posterior mean and standard deviation of `ln θ`.
    pub fn log_theta(&self) -> (f64, f64) {
        (self.mean[0], self.cov[0].sqrt())
    }

    /// Posterior mean and standard deviation of `β`.
    pub fn beta(&self) -> (f64, f64) {
        (self.mean[1], self.cov[2].sqrt())
    }

    /// The time of the last observation.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Probability that the unit has failed by time `t` (not conditioned on survival).
    pub fn failure_probability(&self, t: f64) -> f64 {
        let m = self.mean[0] + self.mean[1] * t - self.log_threshold_mean;
        let v = self.cov[0]
            + 2.0 * t * self.cov[1]
            + t * t * self.cov[2]
            + self.noise_var
            + self.log_threshold_var;
        norm_cdf(m / v.max(1e-300).sqrt())
    }

    /// Probability that the RUL is at most `r`, given survival until now.
    ///
    /// ```
    /// # use twin::analytics::rul::exponential::*;
    /// # let units: Vec<Trajectory> = [0.9, 1.0, 1.1].iter().map(|k| {
    /// #     let t: Vec<f64> = (0..100).map(f64::from).collect();
    /// #     let s = t.iter().map(|t| 1.0 + (-2.0 + 0.05 * k * t + 0.01 * (t * 3.7).sin()).exp()).collect();
    /// #     Trajectory::new(t, s)
    /// # }).collect::<Result<_, _>>()?;
    /// # let cfg = ExponentialConfig { phi: Some(1.0), threshold: Some(10.0), horizon: None };
    /// # let model = ExponentialDegradation::new(cfg)?.fit(&units)?;
    /// let post = model.posterior(&[0.0, 10.0], &[1.14, 1.22])?;
    /// assert!(post.rul_cdf(0.0) == 0.0);
    /// assert!(post.rul_cdf(50.0) < post.rul_cdf(100.0));
    /// let (q10, q90) = (post.rul_quantile(0.1), post.rul_quantile(0.9));
    /// assert!(q10 < post.rul_median() && post.rul_median() < q90);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn rul_cdf(&self, r: f64) -> f64 {
        if r <= 0.0 {
            return 0.0;
        }
        let f0 = self.failure_probability(self.now);
        let surv = 1.0 - f0;
        if surv < 1e-12 {
            return 1.0;
        }
        ((self.failure_probability(self.now + r) - f0) / surv).clamp(0.0, 1.0)
    }

    /// The RUL quantile `q` (in (0, 1)), at most the model's horizon.
    pub fn rul_quantile(&self, q: f64) -> f64 {
        let q = q.clamp(1e-9, 1.0 - 1e-9);
        if self.rul_cdf(self.horizon) < q {
            return self.horizon;
        }
        let (mut lo, mut hi) = (0.0, self.horizon);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if self.rul_cdf(mid) < q {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// The median RUL.
    pub fn rul_median(&self) -> f64 {
        self.rul_quantile(0.5)
    }
}

/// Settings of an [`ExponentialRul`]: the indicator, the onset of degradation, the
/// degradation model and the calibration.
///
/// A unit's clock starts at the onset of degradation: the first cycle its smoothed
/// indicator has risen by `onset` above its lowest value so far (on the indicator's
/// 0-healthy-to-1-failed scale; measuring the rise rather than the level discounts each
/// unit's initial wear). Before the onset the model has nothing to update and predicts
/// the fleet's median time from onset to failure; after it, the Bayesian update uses the
/// cycles since the onset. Point predictions are at most the indicator's cap (the
/// indicator is flat beyond it); [`FittedExponentialRul::posterior`] gives the whole
/// predictive distribution.
///
/// ```
/// use twin::analytics::rul::exponential::ExponentialRulConfig;
/// assert!(ExponentialRulConfig::default().validate().is_ok());
/// assert!(ExponentialRulConfig { onset: 1.5, ..ExponentialRulConfig::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentialRulConfig {
    /// How signals are fused into the degradation indicator.
    pub indicator: IndicatorConfig,
    /// Rise of the indicator above its running minimum taken as the onset, in [0, 1).
    pub onset: f64,
    /// The degradation model on the indicator (`phi`, `threshold` in indicator units).
    pub model: ExponentialConfig,
    /// Held-out prediction and interval calibration.
    pub calibration: CalibrationConfig,
}

impl Default for ExponentialRulConfig {
    fn default() -> Self {
        ExponentialRulConfig {
            indicator: IndicatorConfig::default(),
            onset: 0.1,
            model: ExponentialConfig::default(),
            calibration: CalibrationConfig::default(),
        }
    }
}

impl ExponentialRulConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        self.indicator.validate()?;
        if !(0.0..1.0).contains(&self.onset) {
            return Err(Error::InvalidInput(format!(
                "onset must be in [0, 1), got {}",
                self.onset
            )));
        }
        self.model.validate()?;
        self.calibration.validate()
    }
}

/// The point model: indicator, onset and 1-D degradation model on the time since onset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExponentialPoint {
    indicator: DegradationIndicator,
    onset: f64,
    model: FittedExponentialDegradation,
    /// The prior median time from onset to failure: the RUL of a unit not yet degrading.
    healthy_rul: f64,
    cap: f64,
}

/// The first row where `d` has risen by `rise` above its running minimum.
fn onset_row(d: &[f64], rise: f64) -> Option<usize> {
    let mut lo = f64::INFINITY;
    d.iter().position(|&v| {
        lo = lo.min(v);
        v - lo >= rise
    })
}

impl ExponentialPoint {
    pub(crate) fn n_inputs(&self) -> usize {
        self.indicator.n_inputs()
    }

    /// Posteriors after each end row; `None` where the unit has not reached the onset.
    fn posterior_at(&self, unit: &UnitSeries, ends: &[usize]) -> Vec<Option<DegradationPosterior>> {
        let d = self.indicator.smoothed(unit);
        let time = unit.time();
        let onset = onset_row(&d, self.onset);
        let mut prefix = Vec::with_capacity(d.len());
        if let Some(o) = onset {
            let mut s = Sums::default();
            for r in o..d.len() {
                s.add(time[r] - time[o], self.model.log_signal(d[r]));
                prefix.push(s);
            }
        }
        ends.iter()
            .map(|&e| match onset {
                Some(o) if e >= o => prefix
                    .get(e - o)
                    .map(|s| self.model.posterior_from(s, time[e] - time[o])),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.indicator.validate()?;
        if !(self.healthy_rul.is_finite()
            && self.cap.is_finite()
            && self.cap > 0.0
            && (0.0..1.0).contains(&self.onset))
        {
            return Err(Error::Serialization(
                "exponential onset is inconsistent".into(),
            ));
        }
        self.model.validate()
    }
}

impl PointModel for ExponentialPoint {
    type Config = ExponentialRulConfig;

    fn fit_point(
        config: &ExponentialRulConfig,
        fleet: &Fleet,
        progress: &Progress,
    ) -> Result<Self> {
        let indicator = DegradationIndicator::fit(&config.indicator, fleet)?;
        let mut histories = Vec::with_capacity(fleet.len());
        for u in fleet.units() {
            let d = indicator.smoothed(u);
            let Some(o) = onset_row(&d, config.onset) else {
                continue;
            };
            if d.len() - o < 3 {
                continue;
            }
            let t0 = u.time()[o];
            histories.push(Trajectory::new(
                u.time()[o..].iter().map(|t| t - t0).collect(),
                d[o..].to_vec(),
            )?);
        }
        if histories.len() < 3 {
            return Err(Error::InvalidInput(format!(
                "only {} training units reach the degradation onset {} with 3 cycles to spare",
                histories.len(),
                config.onset
            )));
        }
        let model = ExponentialDegradation::new(config.model.clone())?.fit(&histories)?;
        let healthy_rul = model.posterior(&[], &[])?.rul_median();
        progress.advance(1);
        Ok(ExponentialPoint {
            indicator,
            onset: config.onset,
            model,
            healthy_rul: healthy_rul.min(config.indicator.cap),
            cap: config.indicator.cap,
        })
    }

    fn predict_rows(&self, unit: &UnitSeries, ends: &[usize]) -> Vec<f64> {
        self.posterior_at(unit, ends)
            .iter()
            .map(|p| {
                p.as_ref()
                    .map_or(self.healthy_rul, DegradationPosterior::rul_median)
                    .min(self.cap)
            })
            .collect()
    }

    fn scaler(&self) -> &SignalScaler {
        self.indicator.scaler()
    }
}

/// The unfitted fleet-level exponential degradation RUL model.
///
/// ```
/// use twin::analytics::rul::exponential::{ExponentialRul, ExponentialRulConfig};
/// let mut cfg = ExponentialRulConfig::default();
/// cfg.indicator.smoothing = 0.0;
/// assert!(ExponentialRul::new(cfg).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentialRul {
    config: ExponentialRulConfig,
}

impl ExponentialRul {
    /// Validate the settings.
    pub fn new(config: ExponentialRulConfig) -> Result<Self> {
        config.validate()?;
        Ok(ExponentialRul { config })
    }

    /// Fit on run-to-failure histories: the indicator, the fleet prior, and the
    /// calibration of the interval on held-out units.
    pub fn fit(&self, fleet: &Fleet) -> Result<FittedExponentialRul> {
        self.fit_with(fleet, &Progress::new())
    }

    /// [`fit`](Self::fit) with progress and cancellation.
    ///
    /// Work units (the total is set at the start): one per fit of the indicator and the
    /// prior (one per calibration fold and the final one), one per unit of the fleet for
    /// the held-out posterior updates, and one for the calibration. `progress` is checked
    /// before every fit and every held-out unit; once cancelled the fit returns
    /// [`Error::Cancelled`] and no model. The result is bit-identical to `fit`'s.
    pub fn fit_with(&self, fleet: &Fleet, progress: &Progress) -> Result<FittedExponentialRul> {
        let (point, conformal, oof, truth) = fit_calibrated::<ExponentialPoint>(
            &self.config,
            fleet,
            &self.config.calibration,
            progress,
        )?;
        Ok(FittedExponentialRul {
            config: self.config.clone(),
            point,
            conformal,
            held_out: HeldOutScores::new(&oof, &truth, self.config.indicator.cap),
        })
    }
}

/// A fitted fleet-level exponential degradation model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedExponentialRul {
    config: ExponentialRulConfig,
    point: ExponentialPoint,
    conformal: Conformal,
    held_out: HeldOutScores,
}

impl FittedExponentialRul {
    /// Number of signals (columns) the model was trained on; a unit to predict must have
    /// the same.
    pub fn n_signals(&self) -> usize {
        self.point.n_inputs()
    }

    /// The median predictive RUL after the last row of `unit`, with the conformal interval.
    pub fn predict(&self, unit: &UnitSeries) -> Result<RulPrediction> {
        predict_one(&self.point, &self.conformal, unit)
    }

    /// Predict every unit of a fleet.
    pub fn predict_fleet(&self, fleet: &Fleet) -> Result<Vec<RulPrediction>> {
        fleet.units().iter().map(|u| self.predict(u)).collect()
    }

    /// The unit's Bayesian posterior and predictive RUL distribution (uncalibrated),
    /// on the clock that starts at its onset of degradation; `None` before the onset.
    pub fn posterior(&self, unit: &UnitSeries) -> Result<Option<DegradationPosterior>> {
        self.point.scaler().check(unit)?;
        Ok(self
            .point
            .posterior_at(unit, &[unit.len() - 1])
            .first()
            .copied()
            .flatten())
    }

    /// The 1-D degradation model on the indicator.
    pub fn degradation(&self) -> &FittedExponentialDegradation {
        &self.point.model
    }

    /// The fused degradation indicator.
    pub fn indicator(&self) -> &DegradationIndicator {
        &self.point.indicator
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &ExponentialRulConfig {
        &self.config
    }

    /// Scores of its out-of-fold predictions during fitting.
    pub fn held_out(&self) -> HeldOutScores {
        self.held_out
    }

    fn validate(&self) -> Result<()> {
        self.point.validate()?;
        self.conformal.validate()
    }
}

persist!(FittedExponentialRul, "twin.rul.exponential");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((norm_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((norm_cdf(-1.644_854) - 0.05).abs() < 1e-6);
    }
}
