//! A degradation indicator fused from many signals: 0 for a healthy unit, 1 at failure.

use serde::{Deserialize, Serialize};

use super::linalg::Ridge;
use super::{Fleet, SignalScaler, UnitSeries};
use crate::error::{Error, Result};

/// Settings of a [`DegradationIndicator`].
///
/// The indicator is a linear combination of the standardised signals, fitted by ridge
/// regression on the fleet to `1 − min(RUL, cap)/cap`: about 0 while a unit is healthy,
/// rising to 1 at failure. It is then smoothed by an exponentially weighted moving
/// average (causal: a value depends only on the past).
///
/// ```
/// use twin::analytics::rul::indicator::IndicatorConfig;
/// assert!(IndicatorConfig::default().validate().is_ok());
/// assert!(IndicatorConfig { smoothing: 2.0, ..IndicatorConfig::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorConfig {
    /// RUL beyond which a unit counts as healthy (target 0).
    pub cap: f64,
    /// Weight of each new value in the smoothed indicator, in (0, 1] (1: no smoothing).
    pub smoothing: f64,
    /// Ridge penalty of the fusion.
    pub alpha: f64,
}

impl Default for IndicatorConfig {
    fn default() -> Self {
        IndicatorConfig {
            cap: 125.0,
            smoothing: 0.1,
            alpha: 1.0,
        }
    }
}

impl IndicatorConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(self.cap.is_finite() && self.cap > 0.0) {
            return Err(Error::InvalidInput(format!(
                "indicator cap must be finite and positive, got {}",
                self.cap
            )));
        }
        if !(self.smoothing > 0.0 && self.smoothing <= 1.0) {
            return Err(Error::InvalidInput(format!(
                "indicator smoothing must be in (0, 1], got {}",
                self.smoothing
            )));
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::InvalidInput(format!(
                "indicator alpha must be finite and non-negative, got {}",
                self.alpha
            )));
        }
        Ok(())
    }
}

/// A fitted degradation indicator.
///
/// ```
/// use ndarray::Array2;
/// use twin::analytics::rul::indicator::{DegradationIndicator, IndicatorConfig};
/// use twin::analytics::rul::{Fleet, UnitSeries};
/// // a wear signal that falls linearly over the last 125 cycles, and a nuisance signal
/// let units = (0..4u64).map(|u| {
///     let n = 200 + 10 * u as usize;
///     let t: Vec<f64> = (0..n).map(|i| i as f64).collect();
///     let v = Array2::from_shape_fn((n, 2), |(r, c)| {
///         let rul = (n - 1 - r) as f64;
///         if c == 0 { rul.min(125.0) / 10.0 } else { ((r * 13 + c) % 7) as f64 }
///     });
///     UnitSeries::new(u, t, v)
/// }).collect::<Result<Vec<_>, _>>()?;
/// let fleet = Fleet::new(units)?;
/// let hi = DegradationIndicator::fit(&IndicatorConfig::default(), &fleet)?;
/// let raw = hi.raw(&fleet.units()[0]);
/// assert!(raw[0].abs() < 0.05 && (raw[raw.len() - 1] - 1.0).abs() < 0.05);
/// // smoothing lags a ramp by about (1 − a)/a cycles: 9 of 125 here
/// let d = hi.smoothed(&fleet.units()[0]);
/// assert!((d[d.len() - 1] - (1.0 - 9.0 / 125.0)).abs() < 0.05);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegradationIndicator {
    scaler: SignalScaler,
    fusion: Ridge,
    smoothing: f64,
}

impl DegradationIndicator {
    /// Number of input signals.
    pub(crate) fn n_inputs(&self) -> usize {
        self.scaler.n_inputs()
    }

    /// Fit on a fleet of run-to-failure histories.
    pub fn fit(config: &IndicatorConfig, fleet: &Fleet) -> Result<Self> {
        config.validate()?;
        let scaler = SignalScaler::fit(fleet)?;
        let k = scaler.kept().len();
        let mut x = Vec::with_capacity(fleet.n_rows() * k);
        let mut y = Vec::with_capacity(fleet.n_rows());
        for u in fleet.units() {
            x.extend(scaler.transform(u));
            y.extend((0..u.len()).map(|r| 1.0 - u.remaining_life(r).min(config.cap) / config.cap));
        }
        let fusion = Ridge::fit(&x, k, &y, config.alpha)?;
        Ok(DegradationIndicator {
            scaler,
            fusion,
            smoothing: config.smoothing,
        })
    }

    /// The indicator at every row, unsmoothed.
    pub fn raw(&self, unit: &UnitSeries) -> Vec<f64> {
        let k = self.scaler.kept().len();
        self.scaler
            .transform(unit)
            .chunks_exact(k)
            .map(|z| self.fusion.predict(z))
            .collect()
    }

    /// The indicator at every row, smoothed.
    pub fn smoothed(&self, unit: &UnitSeries) -> Vec<f64> {
        let mut d = self.raw(unit);
        for i in 1..d.len() {
            d[i] = self.smoothing * d[i] + (1.0 - self.smoothing) * d[i - 1];
        }
        d
    }

    /// The signal scaler (which signals are kept).
    pub fn scaler(&self) -> &SignalScaler {
        &self.scaler
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.scaler.validate()?;
        self.fusion.validate(self.scaler.kept().len())?;
        if !(self.smoothing > 0.0 && self.smoothing <= 1.0) {
            return Err(Error::Serialization(
                "indicator smoothing out of range".into(),
            ));
        }
        Ok(())
    }
}
