//! Remaining useful life (RUL) with calibrated uncertainty, learnt from a fleet's
//! run-to-failure histories.
//!
//! Three models, each fitted from a [`Fleet`] of run-to-failure [`UnitSeries`] and each
//! predicting a [`RulPrediction`] (a point and an interval) from a unit's history so far:
//!
//! - [`exponential`]: an exponential degradation model with a Bayesian update
//!   (Gebraeel et al. 2005) on a degradation indicator fused from the signals; the prior
//!   is learnt from the fleet, the posterior updated per unit, and the RUL is the
//!   predictive time to the failure threshold. The 1-D model
//!   ([`exponential::ExponentialDegradation`]) is usable on its own.
//! - [`similarity`]: the unit's recent indicator trajectory is matched against every
//!   library trajectory; the RUL is the kernel-weighted distribution of the matched units'
//!   remaining lives (Wang et al. 2008).
//! - [`regression`]: gradient-boosted trees (or ridge) on window features (smoothed
//!   level, mean, slope of each signal over the last cycles), trained on targets capped
//!   at a "healthy" RUL (the piecewise-linear target of Heimes 2008).
//!
//! [`ensemble::RulEnsemble`] stacks them with weights chosen on out-of-fold predictions.
//!
//! Every interval is calibrated by split conformal prediction ([`conformal`]): training
//! units are split into folds, each fold is predicted by models fitted on the others, and
//! the residuals against the true (uncapped) RUL at those held-out cycles set the interval
//! (asymmetric, per bin of the predicted RUL). The returned model is then refitted on
//! every unit. Fitting is typestate: `Model::new(config)?.fit(&fleet)?` returns a fitted
//! model; only fitted models predict, save and load (JSON with a format version).
//!
//! ```
//! use twin::analytics::rul::{regression::{RegressionConfig, RegressionRul}, Fleet, UnitSeries};
//! # use ndarray::Array2;
//! // Twelve synthetic units whose one signal rises faster as they near failure.
//! let units = (0..12u64).map(|u| {
//!     let life = 60 + 7 * u as usize;
//!     let time: Vec<f64> = (1..=life).map(|t| t as f64).collect();
//!     let vals = Array2::from_shape_fn((life, 1), |(r, _)| {
//!         let rul = (life - 1 - r) as f64;
//!         (-(rul / 20.0)).exp() + 0.01 * ((r * 7 + u as usize) % 5) as f64
//!     });
//!     UnitSeries::new(u, time, vals)
//! }).collect::<Result<Vec<_>, _>>()?;
//! let fleet = Fleet::new(units)?;
//! let mut config = RegressionConfig::default();
//! config.cap = 50.0;
//! config.calibration.folds = 3;
//! let model = RegressionRul::new(config)?.fit(&fleet)?;
//! let unit = fleet.units()[0].truncated(40)?; // 19 cycles of life left
//! let p = model.predict(&unit)?;
//! assert!(p.lower <= p.rul && p.rul <= p.upper);
//! assert!((p.rul - 19.0).abs() < 8.0, "{p:?}");
//! # Ok::<(), twin::Error>(())
//! ```

pub mod cmapss;
pub mod conformal;
mod data;
pub mod engine;
pub mod ensemble;
pub mod exponential;
pub mod features;
pub mod gbdt;
pub mod indicator;
mod linalg;
pub mod metrics;
pub mod regression;
pub mod similarity;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use self::conformal::{Conformal, ConformalConfig};
pub use self::data::{Fleet, SignalScaler, UnitSeries};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// A remaining-useful-life prediction: a point and a calibrated interval.
///
/// `lower ≤ rul ≤ upper` up to the calibration (the interval need not be centred), and
/// `lower ≥ 0`. `level` is the interval's nominal coverage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RulPrediction {
    /// The point prediction.
    pub rul: f64,
    /// Lower end of the prediction interval.
    pub lower: f64,
    /// Upper end of the prediction interval.
    pub upper: f64,
    /// Nominal coverage of the interval (for example 0.9).
    pub level: f64,
}

impl RulPrediction {
    pub(crate) fn from_point(rul: f64, cal: &Conformal) -> Self {
        let (lo, hi) = cal.interval(rul);
        RulPrediction {
            rul,
            lower: lo.max(0.0).min(rul.max(0.0)),
            upper: hi.max(rul),
            level: cal.level(),
        }
    }

    /// Whether the interval contains `value`.
    ///
    /// ```
    /// let p = twin::analytics::rul::RulPrediction { rul: 50.0, lower: 40.0, upper: 65.0, level: 0.9 };
    /// assert!(p.covers(64.0) && !p.covers(30.0));
    /// ```
    pub fn covers(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }
}

/// Scores of the held-out (out-of-fold) predictions made during fitting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeldOutScores {
    /// Number of held-out predictions.
    pub points: usize,
    /// RMSE against the capped target (the training objective).
    pub rmse_capped: f64,
    /// RMSE against the true RUL.
    pub rmse: f64,
}

impl HeldOutScores {
    pub(crate) fn new(pred: &[f64], truth: &[f64], cap: f64) -> Self {
        let capped: Vec<f64> = truth.iter().map(|t| t.min(cap)).collect();
        HeldOutScores {
            points: pred.len(),
            rmse_capped: metrics::rmse(pred, &capped),
            rmse: metrics::rmse(pred, truth),
        }
    }
}

/// How held-out predictions are made for conformal calibration (and, in the ensemble,
/// for the stacking weights).
///
/// Training units are shuffled (with `seed`) into `folds` groups; each group is predicted
/// by a model fitted on the others at every `stride`-th cycle from cycle `min_history`
/// on, against the true remaining life. With `per_unit` (the default) every held-out
/// unit weighs the same in the calibration, whatever its length: the interval is
/// calibrated for a unit observed at a random time of its life, rather than for a random
/// cycle of the fleet (which over-represents long-lived units and their healthy years).
/// Folds run on `threads` threads (0: as many as the machine has).
///
/// ```
/// use twin::analytics::rul::CalibrationConfig;
/// let c = CalibrationConfig { folds: 4, ..CalibrationConfig::default() };
/// assert!(c.validate().is_ok());
/// assert!(CalibrationConfig { folds: 1, ..c }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationConfig {
    /// Number of folds of training units (at least 2).
    pub folds: usize,
    /// Predict every `stride`-th cycle of a held-out unit (at least 1).
    pub stride: usize,
    /// A held-out unit is predicted from this many cycles of history on (at least 1).
    pub min_history: usize,
    /// The interval's coverage and binning.
    pub conformal: ConformalConfig,
    /// Weigh held-out units equally in the calibration (else every cycle equally).
    pub per_unit: bool,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Worker threads (0: all available).
    pub threads: usize,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            folds: 5,
            stride: 1,
            min_history: 10,
            conformal: ConformalConfig::default(),
            per_unit: true,
            seed: 0,
            threads: 0,
        }
    }
}

impl CalibrationConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if self.folds < 2 {
            return Err(Error::InvalidInput(format!(
                "calibration needs at least 2 folds, got {}",
                self.folds
            )));
        }
        if self.stride == 0 || self.min_history == 0 {
            return Err(Error::InvalidInput(
                "calibration stride and min_history must be at least 1".into(),
            ));
        }
        self.conformal.validate()
    }

    pub(crate) fn threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// Fewest training units any RUL model accepts.
pub const MIN_TRAINING_UNITS: usize = 3;
/// Fewest cycles a training unit must have.
pub const MIN_TRAINING_CYCLES: usize = 3;

/// A point-predicting model fitted on a fleet, before calibration.
pub(crate) trait PointModel: Sized + Send + Sync {
    type Config: Sync;
    /// Fit on `fleet`, advancing `progress` by [`fit_units`](Self::fit_units) in all
    /// (never starting it) and returning [`Error::Cancelled`] once it is cancelled.
    fn fit_point(config: &Self::Config, fleet: &Fleet, progress: &Progress) -> Result<Self>;
    /// Work units one `fit_point` counts: one per boosting round, else one per fit.
    fn fit_units(_config: &Self::Config) -> u64 {
        1
    }
    /// Point predictions after each of the given end rows (inclusive) of one unit whose
    /// signal count has been checked.
    fn predict_rows(&self, unit: &UnitSeries, ends: &[usize]) -> Vec<f64>;
    fn scaler(&self) -> &SignalScaler;
}

/// The held-out evaluation points of a fleet: `(unit index, end row)` and true RUL.
pub(crate) struct HeldOut {
    pub(crate) fold_of: Vec<usize>,
    pub(crate) points: Vec<(usize, usize)>,
    pub(crate) truth: Vec<f64>,
    /// Calibration weight of each point.
    pub(crate) weights: Vec<f64>,
}

impl HeldOut {
    pub(crate) fn new(fleet: &Fleet, cal: &CalibrationConfig) -> Result<HeldOut> {
        let n = fleet.len();
        if n < cal.folds {
            return Err(Error::InvalidInput(format!(
                "{} calibration folds need at least as many training units, got {n}",
                cal.folds
            )));
        }
        let mut order: Vec<usize> = (0..n).collect();
        gbdt::SplitMix::new(cal.seed).shuffle(&mut order);
        let mut fold_of = vec![0; n];
        for (i, &u) in order.iter().enumerate() {
            fold_of[u] = i % cal.folds;
        }
        let mut points = Vec::new();
        let mut truth = Vec::new();
        let mut weights = Vec::new();
        for (ui, u) in fleet.units().iter().enumerate() {
            let first = points.len();
            let mut r = cal.min_history.min(u.len()) - 1;
            while r < u.len() {
                points.push((ui, r));
                truth.push(u.remaining_life(r));
                r += cal.stride;
            }
            let w = if cal.per_unit {
                1.0 / (points.len() - first) as f64
            } else {
                1.0
            };
            weights.resize(points.len(), w);
        }
        Ok(HeldOut {
            fold_of,
            points,
            truth,
            weights,
        })
    }

    /// Indices of the training units outside fold `k`.
    fn train_units(&self, k: usize) -> Vec<usize> {
        (0..self.fold_of.len())
            .filter(|&u| self.fold_of[u] != k)
            .collect()
    }
}

/// Run `f` on every item on up to `threads` scoped threads; results in item order.
pub(crate) fn par_map<I: Sync, T: Send>(
    items: &[I],
    threads: usize,
    f: impl Fn(&I) -> T + Sync,
) -> Vec<T> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<T>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if let Ok(mut o) = out.lock() {
                    o[i] = Some(r);
                }
            });
        }
    });
    out.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Work units of [`cross_fit`]: every fit (one per fold and the full one) counts its
/// [`PointModel::fit_units`], and the held-out prediction one per unit of the fleet.
pub(crate) fn cross_fit_units<M: PointModel>(
    config: &M::Config,
    fleet: &Fleet,
    cal: &CalibrationConfig,
) -> u64 {
    (cal.folds as u64 + 1)
        .saturating_mul(M::fit_units(config))
        .saturating_add(fleet.len() as u64)
}

/// Fit one model per fold (on the other folds) and one on every unit, in parallel;
/// return the full model and the out-of-fold predictions at the held-out points.
///
/// Advances `progress` by [`cross_fit_units`] (it never starts it) and returns
/// [`Error::Cancelled`] when it is cancelled: every fit checks it before it starts (and
/// boosting before every round), every held-out unit before it is predicted.
pub(crate) fn cross_fit<M: PointModel>(
    config: &M::Config,
    fleet: &Fleet,
    held: &HeldOut,
    cal: &CalibrationConfig,
    progress: &Progress,
) -> Result<(M, Vec<f64>)> {
    progress.check()?;
    let jobs: Vec<Option<usize>> = (0..cal.folds).map(Some).chain([None]).collect();
    let results = par_map(&jobs, cal.threads(), |job| -> Result<(Option<usize>, M)> {
        progress.check()?;
        let train = match job {
            Some(k) => fleet.subset(&held.train_units(*k))?,
            None => fleet.clone(),
        };
        Ok((*job, M::fit_point(config, &train, progress)?))
    });
    if results.len() != jobs.len() {
        return Err(Error::InvalidInput("a fitting thread failed".into()));
    }
    // a cancelled run reports Cancelled, whichever job noticed first
    progress.check()?;
    let mut full = None;
    let mut per_fold: Vec<Option<M>> = (0..cal.folds).map(|_| None).collect();
    for r in results {
        match r? {
            (Some(k), m) => per_fold[k] = Some(m),
            (None, m) => full = Some(m),
        }
    }
    let full = full.ok_or_else(|| Error::InvalidInput("the full fit is missing".into()))?;
    // predict held-out points, grouped by unit, in parallel over units
    let units: Vec<usize> = (0..fleet.len()).collect();
    let per_unit = par_map(&units, cal.threads(), |&u| {
        if progress.is_cancelled() {
            return Vec::new();
        }
        let ends: Vec<usize> = held
            .points
            .iter()
            .filter(|p| p.0 == u)
            .map(|p| p.1)
            .collect();
        let out = match &per_fold[held.fold_of[u]] {
            Some(m) => m.predict_rows(&fleet.units()[u], &ends),
            None => Vec::new(),
        };
        progress.advance(1);
        out
    });
    progress.check()?;
    let oof: Vec<f64> = per_unit.into_iter().flatten().collect();
    if oof.len() != held.points.len() {
        return Err(Error::InvalidInput(
            "held-out prediction failed for some units".into(),
        ));
    }
    Ok((full, oof))
}

/// Work units of [`fit_calibrated`]: [`cross_fit_units`] and one for the calibration.
pub(crate) fn fit_calibrated_units<M: PointModel>(
    config: &M::Config,
    fleet: &Fleet,
    cal: &CalibrationConfig,
) -> u64 {
    cross_fit_units::<M>(config, fleet, cal).saturating_add(1)
}

/// Fit a calibrated point model: cross-fit, calibrate on the out-of-fold residuals.
///
/// Starts `progress` at [`fit_calibrated_units`] and counts them all on success.
pub(crate) fn fit_calibrated<M: PointModel>(
    config: &M::Config,
    fleet: &Fleet,
    cal: &CalibrationConfig,
    progress: &Progress,
) -> Result<(M, Conformal, Vec<f64>, Vec<f64>)> {
    cal.validate()?;
    fleet.check_training(MIN_TRAINING_UNITS.max(cal.folds), MIN_TRAINING_CYCLES)?;
    progress.start(fit_calibrated_units::<M>(config, fleet, cal));
    progress.check()?;
    let held = HeldOut::new(fleet, cal)?;
    let (model, oof) = cross_fit::<M>(config, fleet, &held, cal, progress)?;
    let conformal = Conformal::fit_weighted(&cal.conformal, &oof, &held.truth, &held.weights)?;
    progress.advance(1);
    Ok((model, conformal, oof, held.truth))
}

/// Predict a unit with a point model and a calibration.
pub(crate) fn predict_one<M: PointModel>(
    model: &M,
    cal: &Conformal,
    unit: &UnitSeries,
) -> Result<RulPrediction> {
    model.scaler().check(unit)?;
    let p = model
        .predict_rows(unit, &[unit.len() - 1])
        .first()
        .copied()
        .ok_or_else(|| Error::InvalidInput("empty unit".into()))?;
    if !p.is_finite() {
        return Err(Error::NonFinite(format!(
            "RUL prediction for unit {}",
            unit.id()
        )));
    }
    Ok(RulPrediction::from_point(p, cal))
}

/// The on-disk format version of every RUL model.
pub const FORMAT_VERSION: u32 = 1;

pub(crate) fn to_json<T: Serialize>(format: &str, model: &T) -> Result<String> {
    crate::analytics::persist::to_json(format, FORMAT_VERSION, model)
}

pub(crate) fn from_json<T: DeserializeOwned>(format: &str, json: &str) -> Result<T> {
    crate::analytics::persist::from_json(format, FORMAT_VERSION, json)
}

pub(crate) fn write_file(path: &Path, json: String) -> Result<()> {
    std::fs::write(path, json)?;
    Ok(())
}

/// Implements JSON save and load for a fitted model type with a `validate` method.
macro_rules! persist {
    ($ty:ty, $format:literal) => {
        impl $ty {
            #[doc = concat!("The model as JSON, tagged `", $format, "` with the format version.")]
            pub fn to_json(&self) -> $crate::error::Result<String> {
                $crate::analytics::rul::to_json($format, self)
            }

            /// Load a model saved by `to_json`.
            ///
            /// Errors: [`Error::Serialization`](crate::Error::Serialization) for corrupt
            /// JSON, another model type, another format version or an inconsistent model.
            pub fn from_json(json: &str) -> $crate::error::Result<Self> {
                let m: Self = $crate::analytics::rul::from_json($format, json)?;
                m.validate()?;
                Ok(m)
            }

            /// Save the model as JSON to a file.
            pub fn save(&self, path: impl AsRef<std::path::Path>) -> $crate::error::Result<()> {
                $crate::analytics::rul::write_file(path.as_ref(), self.to_json()?)
            }

            /// Load a model saved with `save`.
            pub fn load(path: impl AsRef<std::path::Path>) -> $crate::error::Result<Self> {
                Self::from_json(&std::fs::read_to_string(path)?)
            }
        }
    };
}
pub(crate) use persist;

#[cfg(test)]
mod progress_tests {
    use std::time::{Duration, Instant};

    use super::ensemble::{Component, EnsembleConfig, RulEnsemble};
    use super::exponential::{ExponentialRul, ExponentialRulConfig};
    use super::features::WindowConfig;
    use super::gbdt::GbdtConfig;
    use super::indicator::IndicatorConfig;
    use super::regression::{Learner, RegressionConfig, RegressionRul};
    use super::similarity::{SimilarityConfig, SimilarityRul};
    use super::*;
    use crate::progress::tests::cancel_at;

    /// `n` units with lives `60 + 5·(i mod 9)` whose two signals wear as `exp(−RUL/20)`
    /// with a deterministic ripple.
    fn fleet(n: usize) -> Fleet {
        let units = (0..n)
            .map(|i| {
                let life = 60 + 5 * (i % 9);
                let time: Vec<f64> = (1..=life).map(|t| t as f64).collect();
                let mut v = Vec::with_capacity(2 * life);
                for r in 0..life {
                    let wear = (-((life - 1 - r) as f64) / 20.0).exp();
                    let ripple = 0.02 * (((r * 7 + i * 3) % 11) as f64 - 5.0) / 5.0;
                    v.push(10.0 + 2.0 * wear + ripple);
                    v.push(5.0 - wear - ripple);
                }
                UnitSeries::from_row_major(i as u64, time, v, 2)
            })
            .collect::<Result<Vec<_>>>()
            .expect("units");
        Fleet::new(units).expect("fleet")
    }

    fn calibration() -> CalibrationConfig {
        CalibrationConfig {
            folds: 3,
            stride: 5,
            min_history: 10,
            seed: 2,
            threads: 2,
            ..CalibrationConfig::default()
        }
    }

    fn boosting(n_trees: usize) -> RegressionConfig {
        RegressionConfig {
            features: WindowConfig {
                window: 10,
                ..WindowConfig::default()
            },
            learner: Learner::Boosting(GbdtConfig {
                n_trees,
                max_depth: 3,
                ..GbdtConfig::default()
            }),
            cap: 60.0,
            calibration: calibration(),
        }
    }

    fn ridge() -> RegressionConfig {
        RegressionConfig {
            learner: Learner::Ridge { alpha: 1.0 },
            ..boosting(1)
        }
    }

    fn similarity() -> SimilarityConfig {
        SimilarityConfig {
            indicator: IndicatorConfig {
                cap: 60.0,
                ..IndicatorConfig::default()
            },
            window: 15,
            neighbours: 4,
            calibration: calibration(),
            ..SimilarityConfig::default()
        }
    }

    fn exponential() -> ExponentialRulConfig {
        let mut c = ExponentialRulConfig::default();
        c.indicator.cap = 60.0;
        c.calibration = calibration();
        c
    }

    /// Fit while a watcher records the counts: the result, the counts seen (then the
    /// final one) and the total.
    fn watched<T: Send>(work: impl FnOnce(&Progress) -> Result<T> + Send) -> (T, Vec<u64>, u64) {
        let p = Progress::new();
        let (r, mut seen) = std::thread::scope(|s| {
            let h = s.spawn(|| work(&p));
            let mut seen = Vec::new();
            while !h.is_finished() {
                seen.push(p.done());
                std::thread::sleep(Duration::from_micros(100));
            }
            (h.join().expect("no panic"), seen)
        });
        seen.push(p.done());
        (r.expect("fits"), seen, p.total())
    }

    /// The counts rise monotonically to the total, which the test computes itself.
    fn assert_counts(seen: &[u64], total: u64, expected_total: u64) {
        assert_eq!(total, expected_total);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen.last().copied(), Some(total));
    }

    /// Cancel a fit once `at` units are done (the `cancel_at` pattern, timed): it
    /// returns `Cancelled` before its end, well under a second after the cancel even in
    /// a debug build.
    fn assert_cancels<T: Send + std::fmt::Debug>(
        at: u64,
        work: impl FnOnce(&Progress) -> Result<T> + Send,
    ) {
        let p = Progress::new();
        let (r, seen, latency) = std::thread::scope(|s| {
            let h = s.spawn(|| work(&p));
            let mut seen = Vec::new();
            let mut cancelled_at = None;
            while !h.is_finished() {
                seen.push(p.done());
                if cancelled_at.is_none() && p.done() >= at {
                    p.cancel();
                    cancelled_at = Some(Instant::now());
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            let latency = cancelled_at.map(|t| t.elapsed());
            (h.join().expect("no panic"), seen, latency)
        });
        assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            p.done() >= at && p.done() < p.total(),
            "{} of {}",
            p.done(),
            p.total()
        );
        let latency = latency.unwrap_or(Duration::MAX);
        assert!(
            latency < Duration::from_millis(500),
            "stopped {latency:?} after the cancel"
        );
    }

    #[test]
    fn the_shared_cancel_at_helper_stops_a_boosting_fit() {
        // the shared helper sees the same: cancelled, monotone, stopped before the end
        let f = fleet(12);
        let m = RegressionRul::new(boosting(5_000)).expect("config");
        let (r, seen) = cancel_at(10, |p| m.fit_with(&f, p));
        assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        assert!(seen.last().copied().unwrap_or(0) < 4 * 5_000);
    }

    #[test]
    fn boosting_counts_rounds_of_every_fit_and_units() {
        let f = fleet(12);
        let m = RegressionRul::new(boosting(30)).expect("config");
        let (fitted, seen, total) = watched(|p| m.fit_with(&f, p));
        // 4 fits (3 folds and the final one) × 30 rounds, 12 held-out units, 1 calibration
        assert_counts(&seen, total, 4 * 30 + 12 + 1);
        assert_eq!(fitted, m.fit(&f).expect("fits"));
        assert_eq!(
            fitted.to_json().expect("json"),
            m.fit(&f).expect("fits").to_json().expect("json")
        );
    }

    #[test]
    fn ridge_similarity_and_exponential_count_fits_and_units() {
        let f = fleet(12);
        let m = RegressionRul::new(ridge()).expect("config");
        let (fitted, seen, total) = watched(|p| m.fit_with(&f, p));
        assert_counts(&seen, total, 4 + 12 + 1);
        assert_eq!(fitted, m.fit(&f).expect("fits"));

        let m = SimilarityRul::new(similarity()).expect("config");
        let (fitted, seen, total) = watched(|p| m.fit_with(&f, p));
        assert_counts(&seen, total, 4 + 12 + 1);
        assert_eq!(fitted, m.fit(&f).expect("fits"));

        let m = ExponentialRul::new(exponential()).expect("config");
        let (fitted, seen, total) = watched(|p| m.fit_with(&f, p));
        assert_counts(&seen, total, 4 + 12 + 1);
        assert_eq!(fitted, m.fit(&f).expect("fits"));
    }

    #[test]
    fn the_ensemble_counts_its_members_and_calibration_into_one_total() {
        let f = fleet(12);
        let cfg = EnsembleConfig {
            components: vec![
                Component::Regression(boosting(20)),
                Component::Regression(ridge()),
                Component::Similarity(similarity()),
                Component::Exponential(exponential()),
            ],
            cap: 60.0,
            grid: 10,
            calibration: calibration(),
        };
        let m = RulEnsemble::new(cfg).expect("config");
        let (fitted, seen, total) = watched(|p| m.fit_with(&f, p));
        // boosting 4×20 + 12, ridge/similarity/exponential 4 + 12 each, 1 calibration
        let expected = (4 * 20 + 12) + 3 * (4 + 12) + 1;
        assert_eq!(m.work_units(&f), expected);
        assert_counts(&seen, total, expected);
        assert_eq!(fitted, m.fit(&f).expect("fits"));
    }

    #[test]
    fn cancelled_fits_return_cancelled_and_no_model() {
        let f = fleet(12);
        // 4 × 5000 rounds: far longer than the cancel takes
        let m = RegressionRul::new(boosting(5_000)).expect("config");
        assert_cancels(20, |p| m.fit_with(&f, p));
        // every held-out cycle of 90 units matched: 3 s in a debug build
        let big = fleet(90);
        let dense = CalibrationConfig {
            stride: 1,
            ..calibration()
        };
        let m = SimilarityRul::new(SimilarityConfig {
            calibration: dense.clone(),
            ..similarity()
        })
        .expect("config");
        assert_cancels(8, |p| m.fit_with(&big, p));
        // the exponential model is quicker (0.1 s for 90 units): 1,000 units
        let m = ExponentialRul::new(ExponentialRulConfig {
            calibration: dense,
            ..exponential()
        })
        .expect("config");
        let bigger = fleet(1_000);
        assert_cancels(8, |p| m.fit_with(&bigger, p));
        let cfg = EnsembleConfig {
            components: vec![
                Component::Regression(ridge()),
                Component::Regression(boosting(5_000)),
            ],
            cap: 60.0,
            grid: 10,
            calibration: calibration(),
        };
        let m = RulEnsemble::new(cfg).expect("config");
        // past the ridge member, inside the boosting rounds
        assert_cancels(40, |p| m.fit_with(&f, p));
        // a cancelled hook refuses at once, before any unit
        let p = Progress::new();
        p.cancel();
        let e = RegressionRul::new(ridge())
            .expect("config")
            .fit_with(&f, &p)
            .expect_err("cancelled");
        assert!(matches!(e, Error::Cancelled));
        assert_eq!(p.done(), 0);
    }
}
