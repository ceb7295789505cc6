//! Time-domain condition features over a sliding window.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::analytics::detect::persist;
use crate::error::{Error, Result};

/// Time-domain condition features of a block of values.
///
/// Conventions: `rms` is the root mean square of the values themselves (not centered);
/// `std` is the population standard deviation; `skewness` is `m3 / m2^1.5` and `kurtosis`
/// Pearson's `m4 / m2²` (3 for a normal law, 1.5 for a sine), with `mk` the central
/// moments. When they are undefined (a constant block), `skewness` and `kurtosis` are 0;
/// `crest_factor` is 0 for an all-zero block. No field is ever NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConditionFeatures {
    /// Number of values.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Root mean square.
    pub rms: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Largest absolute value.
    pub peak: f64,
    /// `peak / rms`.
    pub crest_factor: f64,
    /// Skewness, `m3 / m2^1.5`.
    pub skewness: f64,
    /// Kurtosis (Pearson, not excess), `m4 / m2²`.
    pub kurtosis: f64,
}

impl ConditionFeatures {
    /// The features of a block, computed in two passes (exact up to rounding).
    ///
    /// Fails with [`Error::InvalidInput`] for an empty block and [`Error::NonFinite`] for a
    /// NaN or infinite value.
    ///
    /// ```
    /// use twin::analytics::features::ConditionFeatures;
    /// let f = ConditionFeatures::from_slice(&[1.0, -1.0, 1.0, -1.0])?;
    /// assert_eq!((f.rms, f.peak, f.crest_factor, f.kurtosis), (1.0, 1.0, 1.0, 1.0));
    /// assert!(ConditionFeatures::from_slice(&[]).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn from_slice(x: &[f64]) -> Result<Self> {
        if x.is_empty() {
            return Err(Error::InvalidInput(
                "no values to compute features of".into(),
            ));
        }
        if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite(format!("value {i} ({v})")));
        }
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let (mut m2, mut m3, mut m4, mut sq, mut peak) = (0.0, 0.0, 0.0, 0.0, 0.0_f64);
        for &v in x {
            let d = v - mean;
            let d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
            sq += v * v;
            peak = peak.max(v.abs());
        }
        Ok(Self::from_moments(
            x.len(),
            mean,
            sq / n,
            m2 / n,
            m3 / n,
            m4 / n,
            peak,
        ))
    }

    fn from_moments(
        count: usize,
        mean: f64,
        mean_sq: f64,
        m2: f64,
        m3: f64,
        m4: f64,
        peak: f64,
    ) -> Self {
        let rms = mean_sq.max(0.0).sqrt();
        let m2 = m2.max(0.0);
        // Below this variance the moments are rounding noise: treat the block as constant.
        let tiny = 1e-24 * mean_sq.max(f64::MIN_POSITIVE);
        let (skewness, kurtosis) = if m2 > tiny {
            (m3 / m2.powf(1.5), (m4 / (m2 * m2)).max(0.0))
        } else {
            (0.0, 0.0)
        };
        ConditionFeatures {
            count,
            mean,
            rms,
            std: m2.sqrt(),
            peak,
            crest_factor: if rms > 0.0 { peak / rms } else { 0.0 },
            skewness,
            kurtosis,
        }
    }
}

/// [`ConditionFeatures`] over a sliding window of the last `window` values, updated in
/// O(1) per value.
///
/// Power sums of the values (shifted by a reference near their mean, for accuracy) are
/// updated as values enter and leave; every `window` updates they are recomputed from the
/// window exactly and the reference moves to the current mean, so rounding errors cannot
/// accumulate (amortized O(1)). The peak comes from a monotone deque of the window's
/// absolute values (amortized O(1)). Memory: the window and the deque.
///
/// ```
/// use twin::analytics::features::RollingFeatures;
/// let mut r = RollingFeatures::new(100)?;
/// for i in 0..1_000 {
///     r.push(3.0 * (i as f64 * std::f64::consts::TAU / 50.0).sin())?;
/// }
/// let f = r.features().expect("full window");
/// assert!((f.rms - 3.0 / 2f64.sqrt()).abs() < 1e-9);
/// assert!((f.kurtosis - 1.5).abs() < 1e-9);
/// assert!(r.push(f64::NAN).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingFeatures {
    window: usize,
    ring: Vec<f64>,
    next: usize,
    /// Values pushed so far.
    pushed: u64,
    /// Reference subtracted before taking powers.
    shift: f64,
    /// Sums of (x - shift)^p for p = 1..4.
    sums: [f64; 4],
    /// Updates until the next exact recomputation.
    until_refresh: usize,
    /// (sequence number, |x|), decreasing in |x|: the front is the window's peak.
    peaks: VecDeque<(u64, f64)>,
}

persist!(
    RollingFeatures,
    "twin.features.rolling",
    1,
    |r: &RollingFeatures| -> Result<()> {
        let ok = r.window >= 1
            && r.ring.len() <= r.window
            && r.next < r.window
            && (1..=r.window).contains(&r.until_refresh)
            && r.peaks.len() <= r.window
            && r.ring.iter().chain(&r.sums).all(|v| v.is_finite())
            && r.shift.is_finite();
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization("inconsistent rolling features".into()))
        }
    }
);

impl RollingFeatures {
    /// Features over the last `window` values (at least 1, at most 2^24).
    pub fn new(window: usize) -> Result<Self> {
        if !(1..=1 << 24).contains(&window) {
            return Err(Error::InvalidInput(format!(
                "window must be in [1, 16777216], got {window}"
            )));
        }
        Ok(RollingFeatures {
            window,
            ring: Vec::with_capacity(window),
            next: 0,
            pushed: 0,
            shift: 0.0,
            sums: [0.0; 4],
            until_refresh: window,
            peaks: VecDeque::with_capacity(window),
        })
    }

    /// The window length.
    pub fn window(&self) -> usize {
        self.window
    }

    /// How many values the window holds (the window length once full).
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether the window holds no value.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Add a value (the oldest leaves once the window is full). Fails with
    /// [`Error::NonFinite`] for NaN or infinity, leaving the window unchanged.
    pub fn push(&mut self, x: f64) -> Result<()> {
        if !x.is_finite() {
            return Err(Error::NonFinite(format!("rolling feature input {x}")));
        }
        if self.ring.is_empty() {
            self.shift = x;
        }
        if self.ring.len() < self.window {
            self.ring.push(x);
        } else {
            let old = self.ring[self.next];
            self.ring[self.next] = x;
            self.add(old, -1.0);
        }
        self.next = (self.next + 1) % self.window;
        self.add(x, 1.0);
        // Peak: drop smaller-or-equal values from the back, expired ones from the front.
        let a = x.abs();
        while self.peaks.back().is_some_and(|&(_, p)| p <= a) {
            self.peaks.pop_back();
        }
        self.peaks.push_back((self.pushed, a));
        self.pushed += 1;
        let oldest = self.pushed.saturating_sub(self.window as u64);
        while self.peaks.front().is_some_and(|&(i, _)| i < oldest) {
            self.peaks.pop_front();
        }
        self.until_refresh -= 1;
        if self.until_refresh == 0 {
            self.refresh();
        }
        Ok(())
    }

    fn add(&mut self, x: f64, sign: f64) {
        let d = x - self.shift;
        let d2 = d * d;
        self.sums[0] += sign * d;
        self.sums[1] += sign * d2;
        self.sums[2] += sign * d2 * d;
        self.sums[3] += sign * d2 * d2;
    }

    /// Recompute the power sums exactly around the current mean.
    fn refresh(&mut self) {
        let n = self.ring.len() as f64;
        self.shift = self.ring.iter().sum::<f64>() / n;
        self.sums = [0.0; 4];
        for i in 0..self.ring.len() {
            let v = self.ring[i];
            self.add(v, 1.0);
        }
        self.until_refresh = self.window;
    }

    /// The features of the current window, once it holds a value.
    pub fn features(&self) -> Option<ConditionFeatures> {
        let count = self.ring.len();
        if count == 0 {
            return None;
        }
        let n = count as f64;
        let c = self.shift;
        let [s1, s2, s3, s4] = self.sums.map(|s| s / n);
        // Central moments from the shifted raw moments.
        let m = s1;
        let m2 = s2 - m * m;
        let m3 = s3 - 3.0 * m * s2 + 2.0 * m * m * m;
        let m4 = s4 - 4.0 * m * s3 + 6.0 * m * m * s2 - 3.0 * m * m * m * m;
        let mean = c + m;
        let mean_sq = s2 + 2.0 * c * s1 + c * c;
        let peak = self.peaks.front().map_or(0.0, |&(_, p)| p);
        Some(ConditionFeatures::from_moments(
            count, mean, mean_sq, m2, m3, m4, peak,
        ))
    }

    /// Forget every value.
    pub fn clear(&mut self) {
        self.ring.clear();
        self.next = 0;
        self.pushed = 0;
        self.sums = [0.0; 4];
        self.until_refresh = self.window;
        self.peaks.clear();
    }
}
