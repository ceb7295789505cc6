//! The exponentially weighted z-score detector.

use serde::{Deserialize, Serialize};

use super::{
    check_threshold, persist, CalibratorConfig, Detection, ScoreCalibrator, StreamingDetector,
    DEFAULT_THRESHOLD,
};
use crate::error::{Error, Result};

/// The fast moving standard deviation is floored at this fraction of the slow one, so a
/// calm spell (a quantized or briefly constant signal) does not make the next ordinary
/// step look enormous.
const SLOW_FLOOR: f64 = 1.0;

/// Settings of an [`EwmaDetector`].
///
/// ```
/// use twin::analytics::detect::EwmaConfig;
/// assert!(EwmaConfig::default().validate().is_ok());
/// assert!(EwmaConfig { alpha: 1.5, ..Default::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EwmaConfig {
    /// Weight of each new value in the moving mean and variance, in (0, 1].
    pub alpha: f64,
    /// Values farther than `clip` standard deviations update the moments as if they were
    /// exactly `clip` away, so a spike does not inflate the variance; positive.
    pub clip: f64,
    /// Values before the first likelihood.
    pub warmup: u32,
    /// Likelihood at or above which a value is an alarm, in (0, 1).
    pub threshold: f64,
    /// Calibration of |z| to likelihood.
    pub calibration: CalibratorConfig,
}

impl Default for EwmaConfig {
    fn default() -> Self {
        EwmaConfig {
            alpha: 0.05,
            clip: 4.0,
            warmup: 30,
            threshold: DEFAULT_THRESHOLD,
            calibration: CalibratorConfig::default(),
        }
    }
}

impl EwmaConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(Error::InvalidInput(format!(
                "alpha must be in (0, 1], got {}",
                self.alpha
            )));
        }
        if !(self.clip.is_finite() && self.clip > 0.0) {
            return Err(Error::InvalidInput(format!(
                "clip must be finite and positive, got {}",
                self.clip
            )));
        }
        check_threshold(self.threshold)?;
        self.calibration.validate()
    }
}

/// Flags values far from an exponentially weighted moving mean, in units of the moving
/// standard deviation.
///
/// The score is `|x - mean| / sd` against the moments before `x`; a [`ScoreCalibrator`]
/// turns it into a likelihood. Values beyond `clip` standard deviations update the moments
/// winsorized, so isolated spikes do not mask the next one while a lasting level shift or a
/// change of noise scale is still absorbed in a few dozen samples. The standard deviation
/// has a floor of `1e-9 * max(|mean|, 1)`, so a constant signal scores 0.
///
/// ```
/// use twin::analytics::detect::{EwmaDetector, StreamingDetector};
/// let mut d = EwmaDetector::default();
/// for i in 0..500 {
///     d.update(20.0 + (i % 5) as f64 * 0.1);
/// }
/// let spike = d.update(25.0);
/// assert!(spike.alarm && spike.likelihood > 0.999 && spike.score > 10.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EwmaDetector {
    config: EwmaConfig,
    mean: f64,
    var: f64,
    /// A slower moving variance (weight alpha / 8): a floor for the fast one.
    slow_var: f64,
    n: u64,
    calibrator: ScoreCalibrator,
}

impl Default for EwmaDetector {
    fn default() -> Self {
        Self::build(EwmaConfig::default())
    }
}

persist!(
    EwmaDetector,
    "twin.detect.ewma",
    1,
    |d: &EwmaDetector| -> Result<()> {
        d.config.validate()?;
        d.calibrator.check()?;
        if d.mean.is_finite()
            && d.var.is_finite()
            && d.var >= 0.0
            && d.slow_var.is_finite()
            && d.slow_var >= 0.0
        {
            Ok(())
        } else {
            Err(Error::Serialization("non-finite moments".into()))
        }
    }
);

impl EwmaDetector {
    /// A detector with validated settings.
    pub fn new(config: EwmaConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: EwmaConfig) -> Self {
        EwmaDetector {
            config,
            mean: 0.0,
            var: 0.0,
            slow_var: 0.0,
            n: 0,
            calibrator: ScoreCalibrator::build_valid(config.calibration),
        }
    }

    /// The settings.
    pub fn config(&self) -> &EwmaConfig {
        &self.config
    }

    /// The current moving mean and standard deviation, once a value has been seen.
    pub fn moments(&self) -> Option<(f64, f64)> {
        (self.n > 0).then(|| (self.mean, self.var.sqrt()))
    }
}

impl StreamingDetector for EwmaDetector {
    fn name(&self) -> &'static str {
        "ewma"
    }

    fn update(&mut self, x: f64) -> Detection {
        if !super::usable_value(x) {
            return Detection::QUIET;
        }
        let c = &self.config;
        let floor = (SLOW_FLOOR * self.slow_var.sqrt()).max(1e-9 * self.mean.abs().max(1.0));
        let sd = self.var.sqrt().max(floor);
        let z = (x - self.mean) / sd;
        let warm = self.n >= u64::from(c.warmup);
        let det = if warm {
            // z² has a near-exponential tail for Gaussian noise, which the calibrator fits best.
            let l = self.calibrator.likelihood(z * z);
            Detection {
                score: z.abs(),
                likelihood: l,
                alarm: l >= c.threshold,
            }
        } else {
            Detection::QUIET
        };
        let update = if warm && z.abs() > c.clip {
            self.mean + c.clip * sd * z.signum()
        } else {
            x
        };
        // Plain averaging during warm-up, exponential weighting after.
        let a = c.alpha.max(1.0 / (self.n as f64 + 1.0));
        let d = update - self.mean;
        let inc = a * d;
        self.mean += inc;
        self.var = (1.0 - a) * (self.var + d * inc);
        let b = (c.alpha / 8.0).max(1.0 / (self.n as f64 + 1.0));
        self.slow_var = (1.0 - b) * (self.slow_var + b * d * d);
        self.n = self.n.saturating_add(1);
        det
    }

    fn reset(&mut self) {
        *self = Self::build(self.config);
    }

    fn is_warm(&self) -> bool {
        self.n >= u64::from(self.config.warmup) && self.calibrator.is_calibrated()
    }
}
