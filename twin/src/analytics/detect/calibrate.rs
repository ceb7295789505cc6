//! Self-calibration: turning a detector's raw scores into anomaly likelihoods by the
//! tail of the scores' own recent distribution.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The fraction of the kept scores that forms the fitted tail.
const TAIL_FRACTION: f64 = 0.1;
/// The fewest scores in the tail fit.
const MIN_TAIL: usize = 8;
/// The largest tail shape fitted (1 is a Cauchy-like tail).
const MAX_SHAPE: f64 = 1.0;

/// Settings of a [`ScoreCalibrator`].
///
/// ```
/// use twin::analytics::detect::CalibratorConfig;
/// assert!(CalibratorConfig::default().validate().is_ok());
/// assert!(CalibratorConfig { window: 8, ..Default::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibratorConfig {
    /// How many recent scores are kept (the calibration's memory), at least 64.
    pub window: usize,
    /// Scores needed before the first calibration; until then the likelihood is 0.
    pub min_scores: usize,
}

impl Default for CalibratorConfig {
    fn default() -> Self {
        CalibratorConfig {
            window: 2048,
            min_scores: 128,
        }
    }
}

impl CalibratorConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(64..=1 << 20).contains(&self.window) {
            return Err(Error::InvalidInput(format!(
                "calibration window must be in [64, 1048576], got {}",
                self.window
            )));
        }
        if !(16..=self.window).contains(&self.min_scores) {
            return Err(Error::InvalidInput(format!(
                "min_scores must be in [16, window = {}], got {}",
                self.window, self.min_scores
            )));
        }
        Ok(())
    }
}

/// `Q(0.9) / Q(0.5)` of a generalized Pareto law of shape `xi`: `(10^xi - 1) / (2^xi - 1)`.
fn quantile_ratio(xi: f64) -> f64 {
    if xi < 1e-9 {
        std::f64::consts::LN_10 / std::f64::consts::LN_2
    } else {
        (10f64.powf(xi) - 1.0) / (2f64.powf(xi) - 1.0)
    }
}

/// The shape in [0, MAX_SHAPE] whose quantile ratio is `r` (bisection; the ratio grows with
/// the shape).
fn shape_from_ratio(r: f64) -> f64 {
    if r.is_nan() || r <= quantile_ratio(0.0) {
        return 0.0;
    }
    if r >= quantile_ratio(MAX_SHAPE) {
        return MAX_SHAPE;
    }
    let (mut lo, mut hi) = (0.0, MAX_SHAPE);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if quantile_ratio(mid) < r {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A fitted upper tail: scores above `u` follow a generalized Pareto law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Tail {
    /// The tail threshold: the `q` quantile of the kept scores.
    u: f64,
    /// Fraction of kept scores at or below `u`.
    q: f64,
    /// Shape of the generalized Pareto tail, clamped to [0, 1].
    xi: f64,
    /// Scale of the generalized Pareto tail (positive).
    sigma: f64,
}

impl Tail {
    fn likelihood(&self, s: f64) -> f64 {
        if s.is_nan() {
            return 0.0;
        }
        if s <= self.u {
            // Below the tail: a monotone ramp to q, so that the map stays continuous.
            return if self.u > 0.0 {
                self.q * (s / self.u).max(0.0)
            } else {
                0.0
            };
        }
        let y = (s - self.u) / self.sigma;
        let survival = if self.xi > 1e-9 {
            (1.0 + self.xi * y).powf(-1.0 / self.xi)
        } else {
            (-y).exp()
        };
        (1.0 - (1.0 - self.q) * survival).clamp(0.0, 1.0)
    }
}

/// Maps raw, non-negative anomaly scores to likelihoods in [0, 1] by their own recent
/// distribution: no per-stream threshold to tune.
///
/// It keeps the last `window` scores. Every so often (at `min_scores`, then at each doubling,
/// then every `window / 4` scores) it fits the upper 10% of them with a generalized Pareto
/// distribution (peaks over threshold; shape and scale matched to the median and the 90%
/// quantile of the excesses, so the largest few scores, often anomalies themselves, do
/// not sway the fit; shape clamped to [0, 1]). The likelihood of a score `s` above the tail threshold `u` is
/// `1 - 0.1 * S((s - u) / sigma)`, where `S` is the fitted survival function, so it reads as
/// one minus the estimated probability of a score at least as large; below `u` it ramps
/// linearly from 0 to 0.9. A score is judged against the past only, then joins it.
///
/// Constant input (all scores equal) yields likelihood 0; any later larger score yields
/// a likelihood near 1. The likelihood is never NaN.
///
/// ```
/// use twin::analytics::detect::ScoreCalibrator;
/// let mut cal = ScoreCalibrator::default();
/// // Exponentially distributed scores: P(S > s) = exp(-s).
/// let mut state = 1_u64;
/// for _ in 0..5_000 {
///     state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
///     let u = (state >> 11) as f64 / (1u64 << 53) as f64;
///     cal.likelihood(-(1.0 - u).ln());
/// }
/// // A score of 6.9 has a tail probability of about 1e-3, 4.6 of about 1e-2.
/// let l = cal.likelihood(6.9);
/// assert!((0.998..0.9995).contains(&l), "{l}");
/// assert!((0.98..0.995).contains(&cal.peek(4.6)));
/// assert!(cal.likelihood(0.1) < 0.5);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreCalibrator {
    config: CalibratorConfig,
    /// Ring buffer of recent scores.
    scores: Vec<f64>,
    next: usize,
    seen: u64,
    next_fit: u64,
    tail: Option<Tail>,
    #[serde(skip)]
    scratch: Vec<f64>,
}

impl Default for ScoreCalibrator {
    fn default() -> Self {
        Self::build_valid(CalibratorConfig::default())
    }
}

impl PartialEq for ScoreCalibrator {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.scores == other.scores
            && self.next == other.next
            && self.seen == other.seen
            && self.next_fit == other.next_fit
            && self.tail == other.tail
    }
}

impl ScoreCalibrator {
    /// A calibrator with validated settings.
    pub fn new(config: CalibratorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build_valid(config))
    }

    /// A calibrator from settings already validated.
    pub(crate) fn build_valid(config: CalibratorConfig) -> Self {
        ScoreCalibrator {
            config,
            scores: Vec::with_capacity(config.window),
            next: 0,
            seen: 0,
            next_fit: config.min_scores as u64,
            tail: None,
            scratch: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CalibratorConfig {
        &self.config
    }

    /// Whether enough scores have been seen for a calibrated likelihood.
    pub fn is_calibrated(&self) -> bool {
        self.tail.is_some()
    }

    /// Forget every score.
    pub fn reset(&mut self) {
        *self = Self::build_valid(self.config);
    }

    /// The likelihood of a score against the scores seen so far, without recording it.
    pub fn peek(&self, score: f64) -> f64 {
        match &self.tail {
            None => 0.0,
            Some(_) if score == f64::INFINITY => 1.0,
            Some(t) => t.likelihood(score),
        }
    }

    /// The likelihood of a score against the scores seen so far; then record it.
    ///
    /// Non-finite scores are not recorded: NaN gets likelihood 0, +infinity gets 1 once
    /// the calibrator is calibrated.
    pub fn likelihood(&mut self, score: f64) -> f64 {
        let l = self.peek(score);
        if score.is_finite() {
            self.record(score.max(0.0));
        }
        l
    }

    fn record(&mut self, s: f64) {
        let w = self.config.window;
        if self.scores.len() < w {
            self.scores.push(s);
        } else {
            self.scores[self.next] = s;
        }
        self.next = (self.next + 1) % w;
        self.seen += 1;
        if self.seen >= self.next_fit {
            self.fit();
            self.next_fit = if (self.seen as usize) < w {
                (self.seen * 2).min(w as u64)
            } else {
                self.seen + (w / 4).max(1) as u64
            };
        }
    }

    fn fit(&mut self) {
        let n = self.scores.len();
        if n < MIN_TAIL * 2 {
            return;
        }
        let k = ((n as f64 * TAIL_FRACTION).round() as usize).clamp(MIN_TAIL, n / 2);
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.scores);
        let idx = n - k - 1;
        let (_, &mut u, upper) = self.scratch.select_nth_unstable_by(idx, f64::total_cmp);
        // Quantile matching on the excesses over u, robust to the largest tenth of them
        // (often the anomalies themselves): for a generalized Pareto law with shape xi the
        // excess quantiles are Q(p) = sigma ((1 - p)^-xi - 1) / xi, so Q(0.9) / Q(0.5)
        // depends on xi alone.
        let (i50, i90) = (k / 2, (9 * k) / 10);
        let (_, &mut e90, _) = upper.select_nth_unstable_by(i90, f64::total_cmp);
        let (_, &mut e50, _) = upper[..i90].select_nth_unstable_by(i50, f64::total_cmp);
        let (q50, q90) = (e50 - u, e90 - u);
        let floor = 1e-12 * u.abs().max(1e-300);
        let (xi, sigma) = if q50 > 0.0 {
            // The ratio's sampling noise (about 1/sqrt(k) in shape) would, after clamping
            // at 0, bias light tails heavy; subtract it so only clearly heavy tails count.
            let xi = (shape_from_ratio(q90 / q50) - 1.0 / (k as f64).sqrt()).max(0.0);
            let sigma = if xi > 1e-9 {
                q50 * xi / (2f64.powf(xi) - 1.0)
            } else {
                // Exponential tail: maximum likelihood with the excesses censored at
                // their 90% quantile (as robust as the quantiles, less noisy).
                let (sum, below) = upper.iter().fold((0.0, 0usize), |(s, b), &x| {
                    let y = x - u;
                    if y < q90 {
                        (s + y, b + 1)
                    } else {
                        (s + q90, b)
                    }
                });
                sum / below.max(1) as f64
            };
            (xi, sigma.max(floor))
        } else {
            // More than half the tail sits at u: fall back on the mean excess.
            let m = upper.iter().map(|&x| x - u).sum::<f64>() / k as f64;
            (0.0, m.max(floor))
        };
        self.tail = Some(Tail {
            u,
            q: (n - k) as f64 / n as f64,
            xi,
            sigma,
        });
    }

    /// Check the invariants of a loaded calibrator.
    pub(crate) fn check(&self) -> Result<()> {
        self.config.validate()?;
        let bad = self.scores.len() > self.config.window
            || (self.next >= self.config.window)
            || self.scores.iter().any(|s| !s.is_finite() || *s < 0.0)
            || self
                .tail
                .is_some_and(|t| !(t.u.is_finite() && t.sigma > 0.0 && (0.0..=1.0).contains(&t.q)));
        if bad {
            return Err(Error::Serialization(
                "inconsistent calibrator state".to_string(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn false_alarm_rate_matches_the_nominal_tail() {
        // z² of Gaussian noise (what the z-score detectors calibrate): the share of
        // likelihoods >= 0.999 should be about 1e-3, and >= 0.99 about 1e-2.
        let mut cal = ScoreCalibrator::default();
        let mut s = 7;
        let n = 200_000;
        let (mut over3, mut over2) = (0, 0);
        for i in 0..n {
            let (u1, u2) = (lcg(&mut s).max(1e-300), lcg(&mut s));
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let l = cal.likelihood(z * z);
            if i > 2000 {
                over3 += usize::from(l >= 0.999);
                over2 += usize::from(l >= 0.99);
            }
        }
        let (r3, r2) = (over3 as f64 / n as f64, over2 as f64 / n as f64);
        assert!((0.0004..0.002).contains(&r3), "rate at 0.999: {r3}");
        assert!((0.006..0.015).contains(&r2), "rate at 0.99: {r2}");
    }

    #[test]
    fn constant_scores_give_zero_then_a_jump_gives_one() {
        let mut cal = ScoreCalibrator::default();
        for _ in 0..500 {
            assert_eq!(cal.likelihood(0.0), 0.0);
        }
        assert!(cal.likelihood(1e-6) > 0.999);
        assert_eq!(cal.likelihood(f64::NAN), 0.0);
        assert_eq!(cal.likelihood(f64::INFINITY), 1.0);
    }

    #[test]
    fn likelihood_is_monotone_and_bounded() {
        let mut cal = ScoreCalibrator::default();
        let mut s = 3;
        for _ in 0..3000 {
            let u = lcg(&mut s);
            cal.likelihood(u * u * 10.0);
        }
        let mut last = -1.0;
        for i in 0..2000 {
            let l = cal.peek(i as f64 * 0.01);
            assert!((0.0..=1.0).contains(&l));
            assert!(l >= last, "not monotone at {i}");
            last = l;
        }
    }
}
