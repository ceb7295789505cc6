//! Split conformal calibration of prediction intervals.
//!
//! Given point predictions `ŷ` and true values `y` on data the model did not train on,
//! the residuals `r = y − ŷ` are split into bins by `ŷ` (a Mondrian split: errors are
//! not the same size for a unit predicted to fail soon as for one that looks healthy) and,
//! per bin, the `⌊(n+1)α/2⌋`-th smallest and `⌈(n+1)(1−α/2)⌉`-th smallest residuals give
//! the interval `[ŷ + r_lo, ŷ + r_hi]`. If the new point is exchangeable with the
//! calibration points of its bin, the interval covers `y` with probability at least
//! `1 − α` (Vovk et al. 2005; Lei et al. 2018), asymmetrically: at most `α/2` on each side.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings of a [`Conformal`] calibration.
///
/// ```
/// use twin::analytics::rul::conformal::ConformalConfig;
/// assert!(ConformalConfig::default().validate().is_ok());
/// assert!(ConformalConfig { level: 1.0, ..ConformalConfig::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConformalConfig {
    /// Nominal coverage of the interval, in (0, 1), for example 0.9.
    pub level: f64,
    /// Number of bins of the predicted value (1: one residual distribution for all).
    pub bins: usize,
    /// Fewest calibration points a bin may have; fewer bins are used if needed.
    pub min_per_bin: usize,
}

impl Default for ConformalConfig {
    fn default() -> Self {
        ConformalConfig {
            level: 0.9,
            bins: 4,
            min_per_bin: 40,
        }
    }
}

impl ConformalConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::InvalidInput(format!(
                "interval level must be in (0, 1), got {}",
                self.level
            )));
        }
        if self.bins == 0 || self.min_per_bin == 0 {
            return Err(Error::InvalidInput(
                "conformal bins and min_per_bin must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// A fitted conformal calibration: residual quantiles per bin of the predicted value.
///
/// ```
/// use twin::analytics::rul::conformal::{Conformal, ConformalConfig};
/// // a model that is always right to within ±1
/// let pred: Vec<f64> = (0..200).map(|i| i as f64).collect();
/// let obs: Vec<f64> = pred.iter().enumerate().map(|(i, p)| p + if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
/// let cal = Conformal::fit(&ConformalConfig::default(), &pred, &obs)?;
/// assert_eq!(cal.interval(50.0), (49.0, 51.0));
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conformal {
    level: f64,
    edges: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    counts: Vec<usize>,
}

impl Conformal {
    /// Calibrate on held-out predictions and the values they should have predicted.
    ///
    /// Errors: [`Error::InvalidInput`] for mismatched lengths, fewer than 2 points or an
    /// invalid configuration; [`Error::NonFinite`] for a NaN or infinite value.
    pub fn fit(config: &ConformalConfig, predicted: &[f64], observed: &[f64]) -> Result<Self> {
        Conformal::fit_weighted(config, predicted, observed, &vec![1.0; predicted.len()])
    }

    /// Calibrate with a weight per point (weighted split conformal, Tibshirani et al.
    /// 2019): the interval covers a new point drawn from the weighted calibration
    /// distribution. The upper offset is the smallest residual whose cumulative weight
    /// reaches `(1 − α/2)(W + w̄)`, where `W` is the bin's total weight and `w̄` its mean
    /// weight (the new point's), and the lower offset likewise from the top; with equal
    /// weights this is the usual order statistic.
    ///
    /// ```
    /// use twin::analytics::rul::conformal::{Conformal, ConformalConfig};
    /// let cfg = ConformalConfig { bins: 1, ..ConformalConfig::default() };
    /// let pred = vec![0.0; 40];
    /// let obs: Vec<f64> = (0..40).map(f64::from).collect();
    /// // weight only the first ten residuals (0..9): the interval shrinks to them
    /// let w: Vec<f64> = (0..40).map(|i| if i < 10 { 1.0 } else { 1e-9 }).collect();
    /// let (lo, hi) = Conformal::fit_weighted(&cfg, &pred, &obs, &w)?.interval(0.0);
    /// assert!(lo >= 0.0 && hi <= 9.0);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit_weighted(
        config: &ConformalConfig,
        predicted: &[f64],
        observed: &[f64],
        weights: &[f64],
    ) -> Result<Self> {
        config.validate()?;
        if predicted.len() != observed.len() || predicted.len() != weights.len() {
            return Err(Error::InvalidInput(format!(
                "{} predictions, {} observations and {} weights",
                predicted.len(),
                observed.len(),
                weights.len()
            )));
        }
        let n = predicted.len();
        if n < 2 {
            return Err(Error::InvalidInput(format!(
                "conformal calibration needs at least 2 held-out points, got {n}"
            )));
        }
        if predicted
            .iter()
            .chain(observed)
            .chain(weights)
            .any(|v| !v.is_finite())
        {
            return Err(Error::NonFinite("conformal calibration data".into()));
        }
        if weights.iter().any(|w| *w <= 0.0) {
            return Err(Error::InvalidInput(
                "conformal weights must be positive".into(),
            ));
        }
        let bins = config.bins.min(n / config.min_per_bin).max(1);
        let mut sorted_pred = predicted.to_vec();
        sorted_pred.sort_by(f64::total_cmp);
        let mut edges = Vec::new();
        for b in 1..bins {
            let e = sorted_pred[b * n / bins];
            if edges.last().is_none_or(|&l| e > l) {
                edges.push(e);
            }
        }
        let nbins = edges.len() + 1;
        let mut residuals: Vec<Vec<(f64, f64)>> = vec![Vec::new(); nbins];
        for ((p, y), w) in predicted.iter().zip(observed).zip(weights) {
            residuals[bin_of(&edges, *p)].push((y - p, *w));
        }
        let alpha = 1.0 - config.level;
        let mut lower = Vec::with_capacity(nbins);
        let mut upper = Vec::with_capacity(nbins);
        let mut counts = Vec::with_capacity(nbins);
        for r in residuals.iter_mut() {
            r.sort_by(|a, b| a.0.total_cmp(&b.0));
            counts.push(r.len());
            let (Some(first), Some(last)) = (r.first(), r.last()) else {
                // an empty bin (ties at an edge): no widening
                lower.push(0.0);
                upper.push(0.0);
                continue;
            };
            let total: f64 = r.iter().map(|x| x.1).sum();
            let need = (1.0 - alpha / 2.0) * (total + total / r.len() as f64);
            let mut acc = 0.0;
            let mut hi = last.0;
            for x in r.iter() {
                acc += x.1;
                if acc >= need * (1.0 - 1e-12) {
                    hi = x.0;
                    break;
                }
            }
            acc = 0.0;
            let mut lo = first.0;
            for x in r.iter().rev() {
                acc += x.1;
                if acc >= need * (1.0 - 1e-12) {
                    lo = x.0;
                    break;
                }
            }
            lower.push(lo);
            upper.push(hi);
        }
        Ok(Conformal {
            level: config.level,
            edges,
            lower,
            upper,
            counts,
        })
    }

    /// The nominal coverage.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// The calibrated interval around a point prediction.
    pub fn interval(&self, predicted: f64) -> (f64, f64) {
        let b = bin_of(&self.edges, predicted);
        (predicted + self.lower[b], predicted + self.upper[b])
    }

    /// Calibration points per bin.
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let nb = self.edges.len() + 1;
        if self.lower.len() != nb
            || self.upper.len() != nb
            || self.counts.len() != nb
            || !(self.level > 0.0 && self.level < 1.0)
            || self
                .edges
                .iter()
                .chain(&self.lower)
                .chain(&self.upper)
                .any(|v| !v.is_finite())
        {
            return Err(Error::Serialization(
                "conformal calibration is inconsistent".into(),
            ));
        }
        Ok(())
    }
}

fn bin_of(edges: &[f64], p: f64) -> usize {
    edges.partition_point(|&e| e <= p)
}
