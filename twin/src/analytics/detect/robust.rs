//! The robust (median / MAD) z-score detector over a bounded window.

use serde::{Deserialize, Serialize};

use super::{
    check_threshold, persist, CalibratorConfig, Detection, ScoreCalibrator, StreamingDetector,
    DEFAULT_THRESHOLD,
};
use crate::error::{Error, Result};

/// Consistency constant of the MAD for a normal law: sd = 1.4826 MAD.
const MAD_TO_SD: f64 = 1.482_602_218_505_602;
/// Consistency constant of the mean absolute deviation: sd = 1.2533 MeanAD.
const MEANAD_TO_SD: f64 = 1.253_314_137_315_500_3;

/// Settings of a [`RobustZScore`].
///
/// ```
/// use twin::analytics::detect::RobustConfig;
/// assert!(RobustConfig::default().validate().is_ok());
/// assert!(RobustConfig { window: 2, ..Default::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobustConfig {
    /// How many recent values the median and MAD are taken over, in [8, 65536].
    pub window: usize,
    /// Values needed before the first score, in [4, window].
    pub min_samples: usize,
    /// Likelihood at or above which a value is an alarm, in (0, 1).
    pub threshold: f64,
    /// Calibration of the robust |z| to likelihood.
    pub calibration: CalibratorConfig,
}

impl Default for RobustConfig {
    fn default() -> Self {
        RobustConfig {
            window: 64,
            min_samples: 16,
            threshold: DEFAULT_THRESHOLD,
            calibration: CalibratorConfig::default(),
        }
    }
}

impl RobustConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(8..=65_536).contains(&self.window) {
            return Err(Error::InvalidInput(format!(
                "window must be in [8, 65536], got {}",
                self.window
            )));
        }
        if !(4..=self.window).contains(&self.min_samples) {
            return Err(Error::InvalidInput(format!(
                "min_samples must be in [4, window = {}], got {}",
                self.window, self.min_samples
            )));
        }
        check_threshold(self.threshold)?;
        self.calibration.validate()
    }
}

/// Flags values far from the median of a recent window, in units of the window's
/// median absolute deviation (MAD): `|x - median| / (1.4826 MAD)`.
///
/// Median and MAD ignore up to half the window being outliers, so bursts of spikes do not
/// hide each other; a level shift is absorbed once it fills half the window. When more than
/// half the window is one value (MAD = 0), the mean absolute deviation stands in, and for a
/// constant window a floor of `1e-9 * max(|median|, 1)`, so the score is always finite.
/// Each update costs O(window) for the sorted insert and O(log window) for the MAD (a
/// selection over the two sorted halves).
///
/// ```
/// use twin::analytics::detect::{RobustZScore, StreamingDetector};
/// let mut d = RobustZScore::default();
/// for i in 0..300 {
///     d.update(if i % 2 == 0 { 1.0 } else { 2.0 });
/// }
/// assert!(!d.update(2.0).alarm);
/// assert!(d.update(9.0).alarm);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustZScore {
    config: RobustConfig,
    /// The window in arrival order (ring buffer).
    ring: Vec<f64>,
    next: usize,
    /// The window sorted.
    sorted: Vec<f64>,
    calibrator: ScoreCalibrator,
}

impl Default for RobustZScore {
    fn default() -> Self {
        Self::build(RobustConfig::default())
    }
}

persist!(
    RobustZScore,
    "twin.detect.robust_z",
    1,
    |d: &RobustZScore| -> Result<()> {
        d.config.validate()?;
        d.calibrator.check()?;
        let ok = d.ring.len() == d.sorted.len()
            && d.ring.len() <= d.config.window
            && d.next < d.config.window
            && d.ring.iter().all(|x| x.is_finite())
            && d.sorted.windows(2).all(|w| w[0] <= w[1]);
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization(
                "inconsistent robust z-score window".into(),
            ))
        }
    }
);

impl RobustZScore {
    /// A detector with validated settings.
    pub fn new(config: RobustConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: RobustConfig) -> Self {
        RobustZScore {
            config,
            ring: Vec::with_capacity(config.window),
            next: 0,
            sorted: Vec::with_capacity(config.window),
            calibrator: ScoreCalibrator::build_valid(config.calibration),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RobustConfig {
        &self.config
    }

    /// The median and the robust standard deviation (1.4826 MAD, with the fall-backs
    /// above) of the current window, once it has `min_samples` values.
    ///
    /// ```
    /// use twin::analytics::detect::{RobustZScore, StreamingDetector};
    /// let mut d = RobustZScore::default();
    /// for x in [1.0, 2.0, 3.0, 4.0, 100.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0] {
    ///     d.update(x);
    /// }
    /// // 16 values: median 8.5, absolute deviations' median 4.
    /// let (median, sd) = d.location_scale().unwrap();
    /// assert_eq!(median, 8.5);
    /// assert!((sd - 1.4826 * 4.0).abs() < 1e-3);
    /// ```
    pub fn location_scale(&self) -> Option<(f64, f64)> {
        (self.sorted.len() >= self.config.min_samples).then(|| self.median_scale())
    }

    fn median_scale(&self) -> (f64, f64) {
        let s = &self.sorted;
        let n = s.len();
        let med = if n % 2 == 1 {
            s[n / 2]
        } else {
            0.5 * (s[n / 2 - 1] + s[n / 2])
        };
        // Absolute deviations, as two ascending sequences: below the median (walking down)
        // and at or above it (walking up).
        let p = s.partition_point(|&v| v < med);
        let below = |i: usize| med - s[p - 1 - i];
        let above = |j: usize| s[p + j] - med;
        let (nb, na) = (p, n - p);
        let kth = |k: usize| kth_of_two(&below, nb, &above, na, k);
        let mad = if n % 2 == 1 {
            kth(n / 2)
        } else {
            0.5 * (kth(n / 2 - 1) + kth(n / 2))
        };
        let mut scale = MAD_TO_SD * mad;
        if scale <= 0.0 {
            let mean_ad = s.iter().map(|&v| (v - med).abs()).sum::<f64>() / n as f64;
            scale = MEANAD_TO_SD * mean_ad;
        }
        (med, scale.max(1e-9 * med.abs().max(1.0)))
    }

    fn insert(&mut self, x: f64) {
        let w = self.config.window;
        if self.ring.len() < w {
            self.ring.push(x);
        } else {
            let old = self.ring[self.next];
            self.ring[self.next] = x;
            let i = self.sorted.partition_point(|&v| v < old);
            // `old` is in the sorted window, so i < len.
            if i < self.sorted.len() {
                self.sorted.remove(i);
            }
        }
        self.next = (self.next + 1) % w;
        let j = self.sorted.partition_point(|&v| v < x);
        self.sorted.insert(j, x);
    }
}

/// The k-th smallest (0-based) of the union of two ascending sequences given by index
/// functions, by binary search on how many come from the first: O(log(na + nb)).
fn kth_of_two(
    a: &dyn Fn(usize) -> f64,
    na: usize,
    b: &dyn Fn(usize) -> f64,
    nb: usize,
    k: usize,
) -> f64 {
    // Take i from `a` and k + 1 - i from `b`; find the smallest valid i.
    let mut lo = (k + 1).saturating_sub(nb);
    let mut hi = (k + 1).min(na);
    while lo < hi {
        let i = lo + (hi - lo) / 2;
        let j = k + 1 - i;
        if j > 0 && b(j - 1) > a(i) {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let i = lo;
    let j = k + 1 - i;
    let from_a = if i > 0 { a(i - 1) } else { f64::NEG_INFINITY };
    let from_b = if j > 0 { b(j - 1) } else { f64::NEG_INFINITY };
    from_a.max(from_b)
}

impl StreamingDetector for RobustZScore {
    fn name(&self) -> &'static str {
        "robust_z"
    }

    fn update(&mut self, x: f64) -> Detection {
        if !super::usable_value(x) {
            return Detection::QUIET;
        }
        let det = if self.sorted.len() >= self.config.min_samples {
            let (med, scale) = self.median_scale();
            let z = (x - med).abs() / scale;
            // z² has a near-exponential tail for Gaussian noise, which the calibrator fits best.
            let l = self.calibrator.likelihood(z * z);
            Detection {
                score: z,
                likelihood: l,
                alarm: l >= self.config.threshold,
            }
        } else {
            Detection::QUIET
        };
        self.insert(x);
        det
    }

    fn reset(&mut self) {
        *self = Self::build(self.config);
    }

    fn is_warm(&self) -> bool {
        self.sorted.len() >= self.config.min_samples && self.calibrator.is_calibrated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mad_matches_brute_force() {
        let mut d = RobustZScore::new(RobustConfig {
            window: 37,
            ..RobustConfig::default()
        })
        .expect("valid");
        let mut state = 99_u64;
        for step in 0..400 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Coarse values so ties happen.
            let x = (state % 23) as f64 * 0.5;
            d.update(x);
            if d.sorted.len() < 4 {
                continue;
            }
            let mut v = d.ring.clone();
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let med = if n % 2 == 1 {
                v[n / 2]
            } else {
                0.5 * (v[n / 2 - 1] + v[n / 2])
            };
            let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
            dev.sort_by(f64::total_cmp);
            let mad = if n % 2 == 1 {
                dev[n / 2]
            } else {
                0.5 * (dev[n / 2 - 1] + dev[n / 2])
            };
            let (m, s) = d.median_scale();
            assert_eq!(m, med, "step {step}");
            if mad > 0.0 {
                assert!((s - MAD_TO_SD * mad).abs() < 1e-12, "step {step}");
            }
            assert_eq!(d.sorted, v);
        }
    }
}
