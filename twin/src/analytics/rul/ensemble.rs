//! A stacked ensemble of RUL models with one calibrated interval.
//!
//! Each component is cross-fitted on the same folds of training units; the convex
//! weights that minimise the squared error of the out-of-fold predictions against the
//! capped target are found on a simplex grid; the interval is calibrated by split
//! conformal prediction on the weighted out-of-fold predictions against the true RUL.

use serde::{Deserialize, Serialize};

use super::conformal::Conformal;
use super::exponential::{ExponentialPoint, ExponentialRulConfig};
use super::regression::{RegressionConfig, RegressionPoint};
use super::similarity::{SimilarityConfig, SimilarityPoint};
use super::{
    cross_fit, cross_fit_units, persist, CalibrationConfig, Fleet, HeldOut, HeldOutScores,
    PointModel, RulPrediction, UnitSeries, MIN_TRAINING_CYCLES, MIN_TRAINING_UNITS,
};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// One member of an ensemble. Its own `calibration` settings are ignored: the ensemble's
/// apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Component {
    /// A window-feature regression (boosted trees or ridge).
    Regression(RegressionConfig),
    /// A similarity-based model.
    Similarity(SimilarityConfig),
    /// An exponential degradation model.
    Exponential(ExponentialRulConfig),
}

impl Component {
    /// A short name for reports: `boosting`, `ridge`, `similarity` or `exponential`.
    pub fn name(&self) -> &'static str {
        match self {
            Component::Regression(c) => match c.learner {
                super::regression::Learner::Boosting(_) => "boosting",
                super::regression::Learner::Ridge { .. } => "ridge",
            },
            Component::Similarity(_) => "similarity",
            Component::Exponential(_) => "exponential",
        }
    }

    fn validate(&self) -> Result<()> {
        match self {
            Component::Regression(c) => c.validate(),
            Component::Similarity(c) => c.validate(),
            Component::Exponential(c) => c.validate(),
        }
    }
}

/// Settings of a [`RulEnsemble`].
///
/// ```
/// use twin::analytics::rul::ensemble::EnsembleConfig;
/// let cfg = EnsembleConfig::default();
/// assert_eq!(cfg.components.len(), 4);
/// assert!(cfg.validate().is_ok());
/// assert!(EnsembleConfig { components: vec![], ..cfg }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleConfig {
    /// The members (at least 1, at most 6).
    pub components: Vec<Component>,
    /// The healthy-RUL cap: member predictions are clipped to `[0, cap]` and the weights
    /// fitted against the capped target.
    pub cap: f64,
    /// Resolution of the weight grid (weights are multiples of `1/grid`, 1 to 100, with
    /// at most two million candidate weightings).
    pub grid: usize,
    /// Held-out prediction and interval calibration for every member.
    pub calibration: CalibrationConfig,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        use super::regression::Learner;
        EnsembleConfig {
            components: vec![
                Component::Regression(RegressionConfig::default()),
                Component::Regression(RegressionConfig {
                    learner: Learner::Ridge { alpha: 1.0 },
                    ..RegressionConfig::default()
                }),
                Component::Similarity(SimilarityConfig::default()),
                Component::Exponential(ExponentialRulConfig::default()),
            ],
            cap: 125.0,
            grid: 20,
            calibration: CalibrationConfig::default(),
        }
    }
}

impl EnsembleConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if self.components.is_empty() || self.components.len() > 6 {
            return Err(Error::InvalidInput(format!(
                "an ensemble needs 1 to 6 components, got {}",
                self.components.len()
            )));
        }
        for c in &self.components {
            c.validate()?;
        }
        if !(self.cap.is_finite() && self.cap > 0.0) {
            return Err(Error::InvalidInput(format!(
                "the RUL cap must be finite and positive, got {}",
                self.cap
            )));
        }
        if !(1..=100).contains(&self.grid) {
            return Err(Error::InvalidInput(format!(
                "grid must be in 1..=100, got {}",
                self.grid
            )));
        }
        // candidates on the simplex grid: C(grid + m − 1, m − 1)
        let m = self.components.len();
        let mut candidates = 1.0f64;
        for i in 1..m {
            candidates *= (self.grid + i) as f64 / i as f64;
        }
        if candidates > 2e6 {
            return Err(Error::InvalidInput(format!(
                "a weight grid of {} for {m} components has {candidates:.0} candidates; use a coarser grid",
                self.grid
            )));
        }
        self.calibration.validate()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Member {
    Regression(RegressionPoint),
    Similarity(SimilarityPoint),
    Exponential(ExponentialPoint),
}

impl Member {
    fn n_inputs(&self) -> usize {
        match self {
            Member::Regression(p) => p.n_inputs(),
            Member::Similarity(p) => p.n_inputs(),
            Member::Exponential(p) => p.n_inputs(),
        }
    }

    fn predict_rows(&self, unit: &UnitSeries, ends: &[usize]) -> Vec<f64> {
        match self {
            Member::Regression(m) => m.predict_rows(unit, ends),
            Member::Similarity(m) => m.predict_rows(unit, ends),
            Member::Exponential(m) => m.predict_rows(unit, ends),
        }
    }

    fn check(&self, unit: &UnitSeries) -> Result<()> {
        match self {
            Member::Regression(m) => m.scaler().check(unit),
            Member::Similarity(m) => m.scaler().check(unit),
            Member::Exponential(m) => m.scaler().check(unit),
        }
    }

    fn validate(&self) -> Result<()> {
        match self {
            Member::Regression(m) => m.validate(),
            Member::Similarity(m) => m.validate(),
            Member::Exponential(m) => m.validate(),
        }
    }
}

/// A member's report: its name, its stacking weight, and its held-out scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberReport {
    /// The component's name.
    pub name: String,
    /// Its weight in the ensemble.
    pub weight: f64,
    /// Scores of its out-of-fold predictions (clipped to the cap).
    pub held_out: HeldOutScores,
}

/// The unfitted ensemble.
///
/// ```
/// use twin::analytics::rul::ensemble::{EnsembleConfig, RulEnsemble};
/// assert!(RulEnsemble::new(EnsembleConfig { grid: 0, ..EnsembleConfig::default() }).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulEnsemble {
    config: EnsembleConfig,
}

impl RulEnsemble {
    /// Validate the settings.
    pub fn new(config: EnsembleConfig) -> Result<Self> {
        config.validate()?;
        Ok(RulEnsemble { config })
    }

    /// Cross-fit every member, choose the weights, calibrate, refit on every unit.
    ///
    /// Errors: as for the members' `fit` ([`Error::InvalidInput`] for too few units or
    /// cycles, or all-constant signals).
    pub fn fit(&self, fleet: &Fleet) -> Result<FittedRulEnsemble> {
        self.fit_with(fleet, &Progress::new())
    }

    /// Work units of [`fit_with`](Self::fit_with) on `fleet`: each member's cross-fit
    /// (per fit, one per boosting round or one in all; then one per held-out unit) and
    /// one for the weights and the calibration.
    ///
    /// ```
    /// use twin::analytics::rul::ensemble::{EnsembleConfig, RulEnsemble};
    /// use twin::analytics::rul::{Fleet, UnitSeries};
    /// let units = (0..8u64).map(|u| {
    ///     let time: Vec<f64> = (1..=50).map(f64::from).collect();
    ///     UnitSeries::from_row_major(u, time, (0..50).map(f64::from).collect(), 1)
    /// }).collect::<Result<Vec<_>, _>>()?;
    /// let fleet = Fleet::new(units)?;
    /// let e = RulEnsemble::new(EnsembleConfig::default())?;
    /// // default: boosting (300 rounds) and ridge, similarity, exponential (one each),
    /// // each fitted 6 times (5 folds and the final fit), 8 held-out units per member
    /// assert_eq!(e.work_units(&fleet), 6 * 300 + 6 * 3 + 4 * 8 + 1);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn work_units(&self, fleet: &Fleet) -> u64 {
        let cal = &self.config.calibration;
        self.config
            .components
            .iter()
            .map(|c| match c {
                Component::Regression(c) => cross_fit_units::<RegressionPoint>(c, fleet, cal),
                Component::Similarity(c) => cross_fit_units::<SimilarityPoint>(c, fleet, cal),
                Component::Exponential(c) => cross_fit_units::<ExponentialPoint>(c, fleet, cal),
            })
            .fold(1u64, u64::saturating_add)
    }

    /// [`fit`](Self::fit) with progress and cancellation: the members' cross-fits and
    /// the final calibration count into one total ([`work_units`](Self::work_units), set
    /// at the start). `progress` is checked before every member, every fit, every
    /// boosting round and every held-out unit; once cancelled the fit returns
    /// [`Error::Cancelled`] and no model. The result is bit-identical to `fit`'s.
    pub fn fit_with(&self, fleet: &Fleet, progress: &Progress) -> Result<FittedRulEnsemble> {
        let cfg = &self.config;
        let cal = &cfg.calibration;
        fleet.check_training(MIN_TRAINING_UNITS.max(cal.folds), MIN_TRAINING_CYCLES)?;
        progress.start(self.work_units(fleet));
        progress.check()?;
        let held = HeldOut::new(fleet, cal)?;
        let capped: Vec<f64> = held.truth.iter().map(|t| t.min(cfg.cap)).collect();
        let mut members = Vec::new();
        let mut oofs: Vec<Vec<f64>> = Vec::new();
        for c in &cfg.components {
            let (m, oof) = match c {
                Component::Regression(c) => {
                    let (m, o) = cross_fit::<RegressionPoint>(c, fleet, &held, cal, progress)?;
                    (Member::Regression(m), o)
                }
                Component::Similarity(c) => {
                    let (m, o) = cross_fit::<SimilarityPoint>(c, fleet, &held, cal, progress)?;
                    (Member::Similarity(m), o)
                }
                Component::Exponential(c) => {
                    let (m, o) = cross_fit::<ExponentialPoint>(c, fleet, &held, cal, progress)?;
                    (Member::Exponential(m), o)
                }
            };
            members.push(m);
            oofs.push(oof.iter().map(|v| v.clamp(0.0, cfg.cap)).collect());
        }
        let weights = simplex_weights(&oofs, &capped, cfg.grid);
        let blend: Vec<f64> = (0..held.points.len())
            .map(|i| weights.iter().zip(&oofs).map(|(w, o)| w * o[i]).sum())
            .collect();
        let conformal =
            Conformal::fit_weighted(&cal.conformal, &blend, &held.truth, &held.weights)?;
        progress.advance(1);
        let reports = cfg
            .components
            .iter()
            .zip(&weights)
            .zip(&oofs)
            .map(|((c, w), o)| MemberReport {
                name: c.name().to_string(),
                weight: *w,
                held_out: HeldOutScores::new(o, &held.truth, cfg.cap),
            })
            .collect();
        let held_out = HeldOutScores::new(&blend, &held.truth, cfg.cap);
        let covered: f64 = (0..blend.len())
            .filter(|&i| RulPrediction::from_point(blend[i], &conformal).covers(held.truth[i]))
            .map(|i| held.weights[i])
            .sum();
        let coverage = covered / held.weights.iter().sum::<f64>();
        Ok(FittedRulEnsemble {
            config: cfg.clone(),
            members,
            weights,
            conformal,
            reports,
            held_out,
            held_out_coverage: coverage,
        })
    }
}

/// Convex weights on a grid of step `1/grid` minimising the squared error.
fn simplex_weights(preds: &[Vec<f64>], target: &[f64], grid: usize) -> Vec<f64> {
    let m = preds.len();
    // Gram matrix and cross products make each candidate O(m²)
    let mut g = vec![0.0; m * m];
    let mut c = vec![0.0; m];
    for i in 0..m {
        for j in 0..=i {
            let s: f64 = preds[i].iter().zip(&preds[j]).map(|(a, b)| a * b).sum();
            g[i * m + j] = s;
            g[j * m + i] = s;
        }
        c[i] = preds[i].iter().zip(target).map(|(a, b)| a * b).sum();
    }
    let mut best = (f64::INFINITY, vec![0.0; m]);
    let mut k = vec![0usize; m];
    fn rec(
        i: usize,
        left: usize,
        k: &mut [usize],
        grid: usize,
        g: &[f64],
        c: &[f64],
        best: &mut (f64, Vec<f64>),
    ) {
        let m = k.len();
        if i == m - 1 {
            k[i] = left;
            let w: Vec<f64> = k.iter().map(|&x| x as f64 / grid as f64).collect();
            let mut q = 0.0;
            for a in 0..m {
                q -= 2.0 * w[a] * c[a];
                for b in 0..m {
                    q += w[a] * w[b] * g[a * m + b];
                }
            }
            if q < best.0 - 1e-9 * q.abs() {
                *best = (q, w);
            }
            return;
        }
        for x in 0..=left {
            k[i] = x;
            rec(i + 1, left - x, k, grid, g, c, best);
        }
    }
    rec(0, grid, &mut k, grid, &g, &c, &mut best);
    best.1
}

/// A fitted ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRulEnsemble {
    config: EnsembleConfig,
    members: Vec<Member>,
    weights: Vec<f64>,
    conformal: Conformal,
    reports: Vec<MemberReport>,
    held_out: HeldOutScores,
    held_out_coverage: f64,
}

impl FittedRulEnsemble {
    /// Number of signals (columns) the model was trained on; a unit to predict must have
    /// the same.
    pub fn n_signals(&self) -> usize {
        self.members.first().map_or(0, Member::n_inputs)
    }

    /// The weighted RUL after the last row of `unit`, with the calibrated interval.
    ///
    /// Errors: [`Error::InvalidInput`] if the unit has another number of signals than
    /// the training fleet.
    pub fn predict(&self, unit: &UnitSeries) -> Result<RulPrediction> {
        let p: f64 = self
            .member_predictions(unit)?
            .iter()
            .zip(&self.weights)
            .map(|(p, w)| p * w)
            .sum();
        if !p.is_finite() {
            return Err(Error::NonFinite(format!(
                "RUL prediction for unit {}",
                unit.id()
            )));
        }
        Ok(RulPrediction::from_point(p, &self.conformal))
    }

    /// Each member's point prediction (clipped to `[0, cap]`), in component order.
    pub fn member_predictions(&self, unit: &UnitSeries) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(self.members.len());
        for m in &self.members {
            m.check(unit)?;
            let v = m
                .predict_rows(unit, &[unit.len() - 1])
                .first()
                .copied()
                .ok_or_else(|| Error::InvalidInput("empty unit".into()))?;
            out.push(v.clamp(0.0, self.config.cap));
        }
        Ok(out)
    }

    /// Predict every unit of a fleet.
    pub fn predict_fleet(&self, fleet: &Fleet) -> Result<Vec<RulPrediction>> {
        fleet.units().iter().map(|u| self.predict(u)).collect()
    }

    /// The stacking weights, in component order.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Each member's weight and held-out scores.
    pub fn members(&self) -> &[MemberReport] {
        &self.reports
    }

    /// Scores of the blended out-of-fold predictions.
    pub fn held_out(&self) -> HeldOutScores {
        self.held_out
    }

    /// Weighted coverage of the calibrated interval on the out-of-fold predictions
    /// (in-sample for the calibration: close to the nominal level by construction).
    pub fn held_out_coverage(&self) -> f64 {
        self.held_out_coverage
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &EnsembleConfig {
        &self.config
    }

    fn validate(&self) -> Result<()> {
        if self.members.is_empty() || self.members.len() != self.weights.len() {
            return Err(Error::Serialization(
                "ensemble members and weights disagree".into(),
            ));
        }
        if !self.weights.iter().all(|w| w.is_finite()) || !self.config.cap.is_finite() {
            return Err(Error::Serialization("non-finite ensemble weight".into()));
        }
        for m in &self.members {
            m.validate()?;
        }
        self.conformal.validate()
    }
}

persist!(FittedRulEnsemble, "twin.rul.ensemble");
