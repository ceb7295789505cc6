//! Similarity-based RUL: match a unit's recent degradation trajectory against a fleet's
//! run-to-failure library (trajectory similarity, Wang, Yu, Siegel & Lee 2008).
//!
//! Every library unit's smoothed indicator is slid along the unit's last `window`
//! indicator values; the best alignment (least mean squared difference) says how far
//! that library unit was from failure when it looked like this. The `neighbours` closest
//! library units vote with kernel weights `exp(−d / (bandwidth · d̄))` (`d̄`: the mean
//! distance of the voters), and the RUL is the weighted mean of their remaining lives;
//! [`FittedSimilarityRul::matches`] returns the whole weighted distribution.

use serde::{Deserialize, Serialize};

use super::conformal::Conformal;
use super::indicator::{DegradationIndicator, IndicatorConfig};
use super::{
    fit_calibrated, persist, predict_one, CalibrationConfig, Fleet, HeldOutScores, PointModel,
    RulPrediction, SignalScaler, UnitSeries,
};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Settings of a [`SimilarityRul`].
///
/// ```
/// use twin::analytics::rul::similarity::SimilarityConfig;
/// assert!(SimilarityConfig::default().validate().is_ok());
/// assert!(SimilarityConfig { neighbours: 0, ..SimilarityConfig::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityConfig {
    /// How signals are fused into the degradation indicator.
    pub indicator: IndicatorConfig,
    /// Number of most recent cycles matched (at least 2).
    pub window: usize,
    /// Number of library units that vote (at least 1).
    pub neighbours: usize,
    /// Kernel width relative to the voters' mean distance (> 0).
    pub bandwidth: f64,
    /// Held-out prediction and interval calibration.
    pub calibration: CalibrationConfig,
}

impl Default for SimilarityConfig {
    fn default() -> Self {
        SimilarityConfig {
            indicator: IndicatorConfig::default(),
            window: 30,
            neighbours: 10,
            bandwidth: 1.0,
            calibration: CalibrationConfig::default(),
        }
    }
}

impl SimilarityConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        self.indicator.validate()?;
        if self.window < 2 || self.neighbours == 0 {
            return Err(Error::InvalidInput(format!(
                "similarity needs window ≥ 2 and neighbours ≥ 1, got {} and {}",
                self.window, self.neighbours
            )));
        }
        if !(self.bandwidth.is_finite() && self.bandwidth > 0.0) {
            return Err(Error::InvalidInput(format!(
                "bandwidth must be finite and positive, got {}",
                self.bandwidth
            )));
        }
        self.calibration.validate()
    }
}

/// One library unit's vote for a query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The library unit's id.
    pub unit: u64,
    /// Its remaining life at the best alignment.
    pub rul: f64,
    /// Mean squared indicator difference at the best alignment.
    pub distance: f64,
    /// Normalised kernel weight (weights of the voters sum to 1).
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LibraryUnit {
    id: u64,
    time: Vec<f64>,
    indicator: Vec<f64>,
}

/// The point model: indicator plus library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SimilarityPoint {
    indicator: DegradationIndicator,
    library: Vec<LibraryUnit>,
    window: usize,
    neighbours: usize,
    bandwidth: f64,
    cap: f64,
}

impl SimilarityPoint {
    pub(crate) fn n_inputs(&self) -> usize {
        self.indicator.n_inputs()
    }

    /// Best alignment of `q` (the query's last values) in each library unit.
    fn distances(&self, q: &[f64], out: &mut Vec<(usize, f64, f64)>) {
        out.clear();
        let m = q.len();
        let mf = m as f64;
        let q_mean = q.iter().sum::<f64>() / mf;
        let mut order: Vec<(f64, usize)> = Vec::new();
        for (j, lib) in self.library.iter().enumerate() {
            let h = &lib.indicator;
            if h.len() < m {
                continue;
            }
            // Lower bound of each alignment's mean squared difference from the window
            // means alone: Σ(q − l)² ≥ m (q̄ − l̄)². Alignments are tried in order of their
            // bound, and the search stops once the bound reaches the best distance found:
            // the result is the exhaustive search's, at a fraction of the cost.
            order.clear();
            let mut sum: f64 = h[..m].iter().sum();
            for start in 0..=h.len() - m {
                if start > 0 {
                    sum += h[start + m - 1] - h[start - 1];
                }
                let gap = q_mean - sum / mf;
                order.push((gap * gap, start));
            }
            order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut best = (f64::INFINITY, 0usize);
            for &(bound, start) in &order {
                if bound > best.0 {
                    break;
                }
                let d = q
                    .iter()
                    .zip(&h[start..start + m])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    / mf;
                if d < best.0 || (d == best.0 && start < best.1) {
                    best = (d, start);
                }
            }
            if best.0.is_finite() {
                let end = best.1 + m - 1;
                out.push((j, best.0, lib.time[lib.time.len() - 1] - lib.time[end]));
            }
        }
    }

    fn vote(&self, d: &mut [(usize, f64, f64)]) -> Vec<Match> {
        d.sort_by(|a, b| a.1.total_cmp(&b.1));
        let k = self.neighbours.min(d.len());
        let voters = &d[..k];
        if voters.is_empty() {
            return Vec::new();
        }
        let mean_d = voters.iter().map(|v| v.1).sum::<f64>() / k as f64;
        let h = self.bandwidth * mean_d.max(1e-12);
        let w: Vec<f64> = voters
            .iter()
            .map(|v| (-(v.1 - voters[0].1) / h).exp())
            .collect();
        let total: f64 = w.iter().sum();
        voters
            .iter()
            .zip(&w)
            .map(|(v, w)| Match {
                unit: self.library[v.0].id,
                rul: v.2,
                distance: v.1,
                weight: w / total,
            })
            .collect()
    }

    fn matches_at(&self, d: &[f64], end: usize) -> Vec<Match> {
        let start = (end + 1).saturating_sub(self.window);
        let mut buf = Vec::with_capacity(self.library.len());
        self.distances(&d[start..=end], &mut buf);
        self.vote(&mut buf)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.indicator.validate()?;
        let ok = !self.library.is_empty()
            && self.window >= 2
            && self.neighbours >= 1
            && self.bandwidth.is_finite()
            && self.bandwidth > 0.0
            && self.cap.is_finite()
            && self.cap > 0.0
            && self.library.iter().all(|l| {
                !l.time.is_empty()
                    && l.time.len() == l.indicator.len()
                    && l.time.iter().chain(&l.indicator).all(|v| v.is_finite())
            });
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization(
                "similarity library is inconsistent".into(),
            ))
        }
    }
}

impl PointModel for SimilarityPoint {
    type Config = SimilarityConfig;

    fn fit_point(config: &SimilarityConfig, fleet: &Fleet, progress: &Progress) -> Result<Self> {
        let indicator = DegradationIndicator::fit(&config.indicator, fleet)?;
        let library = fleet
            .units()
            .iter()
            .map(|u| LibraryUnit {
                id: u.id(),
                time: u.time().to_vec(),
                indicator: indicator.smoothed(u),
            })
            .collect();
        progress.advance(1);
        Ok(SimilarityPoint {
            indicator,
            library,
            window: config.window,
            neighbours: config.neighbours,
            bandwidth: config.bandwidth,
            cap: config.indicator.cap,
        })
    }

    fn predict_rows(&self, unit: &UnitSeries, ends: &[usize]) -> Vec<f64> {
        let d = self.indicator.smoothed(unit);
        ends.iter()
            .map(|&e| {
                self.matches_at(&d, e)
                    .iter()
                    .map(|m| m.weight * m.rul)
                    .sum::<f64>()
                    .clamp(0.0, self.cap)
            })
            .collect()
    }

    fn scaler(&self) -> &SignalScaler {
        self.indicator.scaler()
    }
}

/// The unfitted similarity-based RUL model.
///
/// ```
/// use twin::analytics::rul::similarity::{SimilarityConfig, SimilarityRul};
/// assert!(SimilarityRul::new(SimilarityConfig { window: 1, ..SimilarityConfig::default() }).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityRul {
    config: SimilarityConfig,
}

impl SimilarityRul {
    /// Validate the settings.
    pub fn new(config: SimilarityConfig) -> Result<Self> {
        config.validate()?;
        Ok(SimilarityRul { config })
    }

    /// Build the library from run-to-failure histories and calibrate the interval on
    /// held-out units.
    pub fn fit(&self, fleet: &Fleet) -> Result<FittedSimilarityRul> {
        self.fit_with(fleet, &Progress::new())
    }

    /// [`fit`](Self::fit) with progress and cancellation.
    ///
    /// Work units (the total is set at the start): one per library build (one per
    /// calibration fold and the final one), one per unit of the fleet for the held-out
    /// matching (the bulk of the time: every held-out cycle is matched against the
    /// fold's library), and one for the calibration. `progress` is checked before every
    /// build and every held-out unit; once cancelled the fit returns
    /// [`Error::Cancelled`] and no model. The result is bit-identical to `fit`'s.
    pub fn fit_with(&self, fleet: &Fleet, progress: &Progress) -> Result<FittedSimilarityRul> {
        let (point, conformal, oof, truth) = fit_calibrated::<SimilarityPoint>(
            &self.config,
            fleet,
            &self.config.calibration,
            progress,
        )?;
        Ok(FittedSimilarityRul {
            config: self.config.clone(),
            point,
            conformal,
            held_out: HeldOutScores::new(&oof, &truth, self.config.indicator.cap),
        })
    }
}

/// A fitted similarity-based RUL model (a library of indicator trajectories).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedSimilarityRul {
    config: SimilarityConfig,
    point: SimilarityPoint,
    conformal: Conformal,
    held_out: HeldOutScores,
}

impl FittedSimilarityRul {
    /// Number of signals (columns) the model was trained on; a unit to predict must have
    /// the same.
    pub fn n_signals(&self) -> usize {
        self.point.n_inputs()
    }

    /// The weighted-mean RUL after the last row of `unit`, with the conformal interval.
    pub fn predict(&self, unit: &UnitSeries) -> Result<RulPrediction> {
        predict_one(&self.point, &self.conformal, unit)
    }

    /// Predict every unit of a fleet.
    pub fn predict_fleet(&self, fleet: &Fleet) -> Result<Vec<RulPrediction>> {
        fleet.units().iter().map(|u| self.predict(u)).collect()
    }

    /// The voting library units, closest first, with their remaining lives and weights.
    pub fn matches(&self, unit: &UnitSeries) -> Result<Vec<Match>> {
        self.point.scaler().check(unit)?;
        let d = self.point.indicator.smoothed(unit);
        Ok(self.point.matches_at(&d, unit.len() - 1))
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &SimilarityConfig {
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

persist!(FittedSimilarityRul, "twin.rul.similarity");
