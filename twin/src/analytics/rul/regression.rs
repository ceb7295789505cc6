//! RUL by regression on window features, trained on capped targets.

use serde::{Deserialize, Serialize};

use super::conformal::Conformal;
use super::features::WindowConfig;
use super::gbdt::{Gbdt, GbdtConfig};
use super::linalg::Ridge;
use super::{
    fit_calibrated, persist, predict_one, CalibrationConfig, Fleet, HeldOutScores, PointModel,
    RulPrediction, SignalScaler, UnitSeries,
};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// The learner that maps window features to RUL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Learner {
    /// Histogram gradient-boosted trees.
    Boosting(GbdtConfig),
    /// Ridge regression with penalty `alpha` on standardised features.
    Ridge {
        /// The L2 penalty (≥ 0).
        alpha: f64,
    },
}

/// Settings of a [`RegressionRul`].
///
/// Training rows are every cycle of every training unit; the target is the remaining life
/// capped at `cap` (a unit far from failure looks healthy and its exact RUL cannot be
/// told from its signals). The cap applies to training targets only: calibration and
/// scores use the true RUL.
///
/// ```
/// use twin::analytics::rul::regression::{Learner, RegressionConfig};
/// let ridge = RegressionConfig { learner: Learner::Ridge { alpha: 1.0 }, ..RegressionConfig::default() };
/// assert!(ridge.validate().is_ok());
/// assert!(RegressionConfig { cap: -1.0, ..ridge }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionConfig {
    /// The window features.
    pub features: WindowConfig,
    /// The learner.
    pub learner: Learner,
    /// Cap of the training targets (a healthy unit's RUL), in time units.
    pub cap: f64,
    /// Held-out prediction and interval calibration.
    pub calibration: CalibrationConfig,
}

impl Default for RegressionConfig {
    fn default() -> Self {
        RegressionConfig {
            features: WindowConfig::default(),
            learner: Learner::Boosting(GbdtConfig::default()),
            cap: 125.0,
            calibration: CalibrationConfig::default(),
        }
    }
}

impl RegressionConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        self.features.validate()?;
        match &self.learner {
            Learner::Boosting(g) => g.validate()?,
            Learner::Ridge { alpha } => {
                if !(alpha.is_finite() && *alpha >= 0.0) {
                    return Err(Error::InvalidInput(format!(
                        "ridge alpha must be finite and non-negative, got {alpha}"
                    )));
                }
            }
        }
        if !(self.cap.is_finite() && self.cap > 0.0) {
            return Err(Error::InvalidInput(format!(
                "the RUL cap must be finite and positive, got {}",
                self.cap
            )));
        }
        self.calibration.validate()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Fitted {
    Boosting(Gbdt),
    Ridge(Ridge),
}

/// The point model of the regression: scaler, features, learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RegressionPoint {
    scaler: SignalScaler,
    features: WindowConfig,
    cap: f64,
    model: Fitted,
}

impl RegressionPoint {
    pub(crate) fn n_inputs(&self) -> usize {
        self.scaler.n_inputs()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.scaler.validate()?;
        self.features
            .validate()
            .map_err(|e| Error::Serialization(e.to_string()))?;
        let p = self.features.n_features(self.scaler.kept().len());
        match &self.model {
            Fitted::Boosting(g) => {
                if g.n_features() != p {
                    return Err(Error::Serialization(format!(
                        "boosted trees take {} features, the window gives {p}",
                        g.n_features()
                    )));
                }
                g.validate()
            }
            Fitted::Ridge(r) => r.validate(p),
        }?;
        if !(self.cap.is_finite() && self.cap > 0.0) {
            return Err(Error::Serialization("non-finite RUL cap".into()));
        }
        Ok(())
    }
}

impl PointModel for RegressionPoint {
    type Config = RegressionConfig;

    fn fit_point(config: &RegressionConfig, fleet: &Fleet, progress: &Progress) -> Result<Self> {
        let scaler = SignalScaler::fit(fleet)?;
        let k = scaler.kept().len();
        let p = config.features.n_features(k);
        let mut x = Vec::with_capacity(fleet.n_rows() * p);
        let mut y = Vec::with_capacity(fleet.n_rows());
        for u in fleet.units() {
            let z = scaler.transform(u);
            let ends: Vec<usize> = (0..u.len()).collect();
            config.features.extract(&z, u.time(), k, &ends, &mut x);
            y.extend(ends.iter().map(|&r| u.remaining_life(r).min(config.cap)));
        }
        let model = match &config.learner {
            Learner::Boosting(g) => Fitted::Boosting(Gbdt::fit_counted(g, &x, p, &y, progress)?),
            Learner::Ridge { alpha } => {
                let r = Ridge::fit(&x, p, &y, *alpha)?;
                progress.advance(1);
                Fitted::Ridge(r)
            }
        };
        Ok(RegressionPoint {
            scaler,
            features: config.features.clone(),
            cap: config.cap,
            model,
        })
    }

    fn predict_rows(&self, unit: &UnitSeries, ends: &[usize]) -> Vec<f64> {
        let k = self.scaler.kept().len();
        let p = self.features.n_features(k);
        let z = self.scaler.transform(unit);
        let mut x = Vec::with_capacity(ends.len() * p);
        self.features.extract(&z, unit.time(), k, ends, &mut x);
        x.chunks_exact(p)
            .map(|row| {
                let v = match &self.model {
                    Fitted::Boosting(g) => g.predict_unchecked(row),
                    Fitted::Ridge(r) => r.predict(row),
                };
                v.clamp(0.0, self.cap)
            })
            .collect()
    }

    fn scaler(&self) -> &SignalScaler {
        &self.scaler
    }

    fn fit_units(config: &RegressionConfig) -> u64 {
        match &config.learner {
            Learner::Boosting(g) => g.n_trees as u64,
            Learner::Ridge { .. } => 1,
        }
    }
}

/// An unfitted window-feature regression model (validated settings).
///
/// ```
/// use twin::analytics::rul::regression::{RegressionConfig, RegressionRul};
/// let bad = RegressionConfig { cap: f64::NAN, ..RegressionConfig::default() };
/// assert_eq!(RegressionRul::new(bad).unwrap_err().kind(), twin::ErrorKind::InvalidInput);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionRul {
    config: RegressionConfig,
}

impl RegressionRul {
    /// Validate the settings.
    pub fn new(config: RegressionConfig) -> Result<Self> {
        config.validate()?;
        Ok(RegressionRul { config })
    }

    /// The settings.
    pub fn config(&self) -> &RegressionConfig {
        &self.config
    }

    /// Fit on run-to-failure histories: cross-fit for the calibration, then refit on all.
    ///
    /// Errors: [`Error::InvalidInput`] for too few units (fewer than the folds, or than
    /// [`MIN_TRAINING_UNITS`](super::MIN_TRAINING_UNITS)), too few cycles, or when every
    /// signal is constant.
    pub fn fit(&self, fleet: &Fleet) -> Result<FittedRegressionRul> {
        self.fit_with(fleet, &Progress::new())
    }

    /// [`fit`](Self::fit) with progress and cancellation.
    ///
    /// Work units (the total is set at the start): every fit (one per calibration fold
    /// and the final one on every unit) counts one unit per boosting round (one in all
    /// for ridge); the held-out prediction one per unit of the fleet; the calibration
    /// one. Boosting checks `progress` before every round, the held-out prediction before
    /// every unit; once cancelled the fit returns [`Error::Cancelled`] and no model. The
    /// result is bit-identical to `fit`'s.
    ///
    /// ```
    /// use twin::analytics::rul::regression::{Learner, RegressionConfig, RegressionRul};
    /// use twin::analytics::rul::{Fleet, UnitSeries};
    /// use twin::progress::Progress;
    /// let units = (0..6u64).map(|u| {
    ///     let life = 40 + 5 * u as usize;
    ///     let time: Vec<f64> = (1..=life).map(|t| t as f64).collect();
    ///     let v = (0..life).map(|r| (-((life - 1 - r) as f64) / 10.0).exp() + 0.01 * (r % 3) as f64).collect();
    ///     UnitSeries::from_row_major(u, time, v, 1)
    /// }).collect::<Result<Vec<_>, _>>()?;
    /// let fleet = Fleet::new(units)?;
    /// let mut cfg = RegressionConfig { learner: Learner::Ridge { alpha: 1.0 }, cap: 40.0, ..Default::default() };
    /// cfg.calibration.folds = 3;
    /// let p = Progress::new();
    /// let m = RegressionRul::new(cfg)?.fit_with(&fleet, &p)?;
    /// // 4 ridge fits, 6 held-out units, 1 calibration
    /// assert_eq!((p.done(), p.total()), (11, 11));
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit_with(&self, fleet: &Fleet, progress: &Progress) -> Result<FittedRegressionRul> {
        let (point, conformal, oof, truth) = fit_calibrated::<RegressionPoint>(
            &self.config,
            fleet,
            &self.config.calibration,
            progress,
        )?;
        Ok(FittedRegressionRul {
            config: self.config.clone(),
            point,
            conformal,
            held_out: HeldOutScores::new(&oof, &truth, self.config.cap),
        })
    }
}

/// A fitted window-feature regression model with a calibrated interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRegressionRul {
    config: RegressionConfig,
    point: RegressionPoint,
    conformal: Conformal,
    held_out: HeldOutScores,
}

impl FittedRegressionRul {
    /// Number of signals (columns) the model was trained on; a unit to predict must have
    /// the same.
    pub fn n_signals(&self) -> usize {
        self.point.n_inputs()
    }

    /// The RUL after the last row of `unit`, with its calibrated interval.
    ///
    /// Errors: [`Error::InvalidInput`] if the unit has another number of signals than
    /// the training fleet.
    pub fn predict(&self, unit: &UnitSeries) -> Result<RulPrediction> {
        predict_one(&self.point, &self.conformal, unit)
    }

    /// Predict every unit of a fleet.
    pub fn predict_fleet(&self, fleet: &Fleet) -> Result<Vec<RulPrediction>> {
        fleet.units().iter().map(|u| self.predict(u)).collect()
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &RegressionConfig {
        &self.config
    }

    /// Scores of its out-of-fold predictions during fitting.
    pub fn held_out(&self) -> HeldOutScores {
        self.held_out
    }

    /// Indices of the input signals dropped as constant.
    pub fn dropped_signals(&self) -> Vec<usize> {
        self.point.scaler.dropped()
    }

    fn validate(&self) -> Result<()> {
        self.point.validate()?;
        self.conformal.validate()
    }
}

persist!(FittedRegressionRul, "twin.rul.regression");
