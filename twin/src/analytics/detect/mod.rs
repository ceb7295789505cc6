//! Anomaly and drift detectors: online, unsupervised, bounded in memory and
//! self-calibrating.
//!
//! - Univariate streaming detectors implement [`StreamingDetector`]: each
//!   [`update`](StreamingDetector::update) takes one value and returns a [`Detection`]
//!   with a raw score and an anomaly likelihood in [0, 1]. They are [`EwmaDetector`]
//!   (exponentially weighted z-score), [`RobustZScore`] (median / MAD over a window),
//!   [`Cusum`] and [`PageHinkley`] (mean-shift drift) and [`HalfSpaceTrees`] (mass in
//!   random half-spaces); [`Ensemble`] fuses several of them.
//! - [`DetectorEngine`] runs one such detector per signal of a schema as an
//!   [`AnalyticsEngine`](crate::analytics::AnalyticsEngine).
//! - Multivariate detectors are fit on healthy data first (a fitted model is a separate
//!   type, so an unfitted one cannot score): [`PcaDetector`] → [`FittedPca`] (Hotelling's
//!   T² and the squared prediction error), [`MahalanobisDetector`] →
//!   [`FittedMahalanobis`]. [`MultivariateEngine`] runs a fitted one over a set of signals.
//! - [`EwmaMonitor`] checks schema alarm limits and flags z-score anomalies in one engine.
//!
//! Likelihoods read as one minus the estimated probability, under the stream's normal
//! behaviour, of a score at least as large: detectors with no closed-form null law pass
//! their raw scores through a [`ScoreCalibrator`] (a tail fit of the scores' own recent
//! distribution), the others use their statistic's distribution. A likelihood threshold
//! of 0.999 ([`DEFAULT_THRESHOLD`]) therefore means about one false alarm per thousand
//! normal samples on any stream, without tuning per stream; Half-Space Trees, whose mass
//! estimate cannot resolve rarer events than about one per window, default to
//! [`HST_THRESHOLD`] (0.995), and drift detectors to [`DEFAULT_DRIFT_THRESHOLD`].
//! Likelihoods are never NaN: constant signals score 0, non-finite inputs (and values beyond
//! [`MAX_ABS_VALUE`] in magnitude) are skipped.
//!
//! Each detector has its regime. The EWMA z-score follows the local level and suits
//! spikes on slowly varying signals; the robust z-score resists bursts of outliers but
//! needs cycles slower than its window; Half-Space Trees model the distribution of
//! deviations from a moving level, so multi-modal or oddly shaped noise is fine; CUSUM and
//! Page-Hinkley find small lasting shifts of the mean of a stationary signal and fire
//! repeatedly on trends. The default [`Ensemble`] combines the first three.
//!
//! Every configuration, detector and fitted model derives serde and implements
//! [`Persist`] for versioned JSON.
//!
//! ```
//! use twin::analytics::detect::{RobustZScore, StreamingDetector};
//! let mut d = RobustZScore::default();
//! let mut flagged = Vec::new();
//! for i in 0..2_000 {
//!     let noise = ((i * 7919) % 101) as f64 / 100.0 - 0.5; // deterministic "noise"
//!     let x = if i == 1_500 { 25.0 } else { 10.0 + noise };
//!     if d.update(x).alarm {
//!         flagged.push(i);
//!     }
//! }
//! assert_eq!(flagged, vec![1_500]);
//! ```

mod calibrate;
mod drift;
mod engine;
mod ensemble;
mod ewma;
mod hst;
mod mahalanobis;
mod monitor;
mod multivariate;
mod pca;
mod persist;
mod robust;
pub(crate) mod stats;

use serde::{Deserialize, Serialize};

use super::InsightKind;

pub use calibrate::{CalibratorConfig, ScoreCalibrator};
pub use drift::{Cusum, CusumConfig, PageHinkley, PageHinkleyConfig};
pub use engine::{DetectorEngine, EngineConfig};
pub use ensemble::{AnyDetector, Ensemble, EnsembleConfig, Fusion};
pub use ewma::{EwmaConfig, EwmaDetector};
pub use hst::{HalfSpaceTrees, HstConfig, HST_THRESHOLD};
pub use mahalanobis::{FittedMahalanobis, MahalanobisDetector, MahalanobisScore, Shrinkage};
pub use monitor::{EwmaMonitor, MonitorConfig};
pub use multivariate::{MultivariateEngine, MultivariateScore, MultivariateScorer};
pub use pca::{FittedPca, PcaComponents, PcaDetector, PcaScore};
pub(crate) use persist::persist;
pub use persist::Persist;
pub use robust::{RobustConfig, RobustZScore};

/// The default likelihood at or above which anomaly detectors raise an alarm: about one
/// false alarm per thousand normal samples.
pub const DEFAULT_THRESHOLD: f64 = 0.999;

/// The default likelihood at which drift detectors declare a change. Drift statistics
/// accumulate evidence over many samples, so their threshold is stricter: with it the
/// in-control average run length of [`Cusum`] is about 3 × 10⁵ samples.
pub const DEFAULT_DRIFT_THRESHOLD: f64 = 0.99999;

/// What a streaming detector says about one value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The raw score, larger when more unusual; its scale depends on the detector
    /// (|z| for z-scores, the cumulative sum in standard deviations for drift detectors,
    /// one minus the normalised mass for Half-Space Trees).
    pub score: f64,
    /// The anomaly likelihood in [0, 1]: one minus the estimated probability of a score at
    /// least this large under the stream's normal behaviour. 0 during warm-up.
    pub likelihood: f64,
    /// Whether the detector raises an alarm on this value: its likelihood reached the
    /// detector's threshold (for drift detectors: a change was detected, after which the
    /// detector re-learns the new level).
    pub alarm: bool,
}

impl Detection {
    /// The detection of a value that says nothing: warm-up, or a skipped non-finite input.
    pub const QUIET: Detection = Detection {
        score: 0.0,
        likelihood: 0.0,
        alarm: false,
    };
}

/// The largest magnitude a streaming detector learns from: [`MAX_ABS_VALUE`] = 1e100.
///
/// Beyond it squares and sums of deviations could overflow to infinity, which would make
/// the detector's state (and its saved document) non-finite; such values, like NaN and
/// infinities, are skipped.
pub const MAX_ABS_VALUE: f64 = 1e100;

/// Whether a streaming detector learns from `x`: finite and at most [`MAX_ABS_VALUE`] in
/// magnitude.
///
/// ```
/// use twin::analytics::detect::usable_value;
/// assert!(usable_value(-3.5e99));
/// assert!(!usable_value(f64::NAN) && !usable_value(1e300));
/// ```
pub fn usable_value(x: f64) -> bool {
    x.is_finite() && x.abs() <= MAX_ABS_VALUE
}

/// An online, unsupervised detector of one stream of values.
///
/// Implementations keep bounded memory, need no threshold tuned per stream and return
/// likelihoods in [0, 1] (never NaN). Non-finite values and values beyond
/// [`MAX_ABS_VALUE`] in magnitude are skipped (they return [`Detection::QUIET`] and leave
/// the state untouched), so the state stays finite and always saves and loads.
///
/// ```
/// use twin::analytics::detect::{EwmaDetector, StreamingDetector};
/// fn count_alarms(d: &mut dyn StreamingDetector, xs: &[f64]) -> usize {
///     xs.iter().filter(|&&x| d.update(x).alarm).count()
/// }
/// let xs: Vec<f64> = (0..1_000).map(|i| if i == 900 { 50.0 } else { (i % 10) as f64 }).collect();
/// assert_eq!(count_alarms(&mut EwmaDetector::default(), &xs), 1);
/// ```
pub trait StreamingDetector: Send {
    /// A short stable name, such as `"hst"`.
    fn name(&self) -> &'static str;
    /// The kind of insight an alarm of this detector means.
    fn kind(&self) -> InsightKind {
        InsightKind::Anomaly
    }
    /// Score one value, then learn from it.
    fn update(&mut self, x: f64) -> Detection;
    /// Forget everything learned; keep the configuration.
    fn reset(&mut self);
    /// Whether the warm-up is over (likelihoods are 0 until it is).
    fn is_warm(&self) -> bool;
}

/// Check that a likelihood threshold is in (0, 1).
pub(crate) fn check_threshold(threshold: f64) -> crate::error::Result<()> {
    if threshold > 0.0 && threshold < 1.0 {
        Ok(())
    } else {
        Err(crate::error::Error::InvalidInput(format!(
            "threshold must be a likelihood in (0, 1), got {threshold}"
        )))
    }
}
