//! Drift (mean-shift) detectors: two-sided CUSUM and Page-Hinkley.
//!
//! Both learn the stream's in-control mean and standard deviation over a warm-up, then
//! accumulate standardized deviations. Their statistics `S` (in standard deviations)
//! behave under no change like a random walk reflected at zero with negative drift `-k`,
//! whose stationary tail is close to `exp(-2 k S)` for Gaussian noise; the likelihood is
//! `1 - exp(-2 k S)`. On an alarm (a detected change) they re-learn the new level with a
//! fresh warm-up, so a lasting shift is reported once.

use serde::{Deserialize, Serialize};

use super::{check_threshold, persist, Detection, StreamingDetector, DEFAULT_DRIFT_THRESHOLD};
use crate::analytics::InsightKind;
use crate::error::{Error, Result};

/// Mean and standard deviation learned over a warm-up (Welford's algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Reference {
    n: u32,
    mean: f64,
    m2: f64,
    /// Standard deviation, set when the warm-up ends.
    sd: f64,
}

impl Reference {
    const fn new() -> Self {
        Reference {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            sd: 0.0,
        }
    }

    /// Learn one value; true when this value completes a warm-up of `warmup` values.
    fn learn(&mut self, x: f64, warmup: u32) -> bool {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / f64::from(self.n);
        self.m2 += d * (x - self.mean);
        if self.n == warmup {
            let var = self.m2 / f64::from(self.n.max(2) - 1);
            self.sd = var.sqrt().max(1e-9 * self.mean.abs().max(1.0));
            true
        } else {
            false
        }
    }

    fn is_learned(&self, warmup: u32) -> bool {
        self.n >= warmup
    }

    fn check(&self) -> Result<()> {
        if self.mean.is_finite() && self.m2.is_finite() && self.sd.is_finite() && self.sd >= 0.0 {
            Ok(())
        } else {
            Err(Error::Serialization("non-finite drift reference".into()))
        }
    }
}

fn check_warmup(warmup: u32) -> Result<()> {
    if (8..=1_000_000).contains(&warmup) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "warmup must be in [8, 1000000], got {warmup}"
        )))
    }
}

fn check_allowance(name: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 && v <= 10.0 {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{name} must be in (0, 10] standard deviations, got {v}"
        )))
    }
}

/// Settings of a [`Cusum`].
///
/// ```
/// use twin::analytics::detect::CusumConfig;
/// let cfg = CusumConfig::default();
/// assert!(cfg.validate().is_ok());
/// // The decision interval h follows from the threshold: -ln(1 - 0.99999) / (2 * 0.5).
/// assert!((cfg.decision_interval() - 11.513).abs() < 1e-3);
/// assert!(CusumConfig { k: 0.0, ..cfg }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CusumConfig {
    /// Allowance (reference value) in standard deviations: half the smallest shift worth
    /// detecting quickly; in (0, 10].
    pub k: f64,
    /// Values used to learn the in-control mean and standard deviation, at the start and
    /// after each detected change; in [8, 10⁶].
    pub warmup: u32,
    /// Likelihood at which a change is declared, in (0, 1).
    pub threshold: f64,
}

impl Default for CusumConfig {
    fn default() -> Self {
        CusumConfig {
            k: 0.5,
            warmup: 128,
            threshold: DEFAULT_DRIFT_THRESHOLD,
        }
    }
}

impl CusumConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        check_allowance("k", self.k)?;
        check_warmup(self.warmup)?;
        check_threshold(self.threshold)
    }

    /// The decision interval `h` (in standard deviations) that the threshold implies:
    /// `h = -ln(1 - threshold) / (2 k)`.
    pub fn decision_interval(&self) -> f64 {
        -(1.0 - self.threshold).ln() / (2.0 * self.k)
    }
}

/// Page's two-sided cumulative-sum detector of a shift in the mean.
///
/// After a warm-up that learns the mean `mu` and standard deviation `sd`, with
/// `z = (x - mu) / sd` it keeps `S+ = max(0, S+ + z - k)` and `S- = max(0, S- - z - k)`;
/// the score is `max(S+, S-)` and a change is declared when it reaches the decision
/// interval `h` (see [`CusumConfig::decision_interval`]). The expected delay for a shift of
/// `d` standard deviations is about `(h + 1.166) / (d - k)` samples.
///
/// ```
/// use twin::analytics::detect::{Cusum, StreamingDetector};
/// let mut d = Cusum::default();
/// let mut alarm_at = None;
/// for i in 0..400 {
///     let noise = ((i * 37) % 11) as f64 / 10.0 - 0.5; // within ±0.5
///     let x = if i < 200 { noise } else { 2.0 + noise };
///     if d.update(x).alarm {
///         alarm_at.get_or_insert(i);
///     }
/// }
/// let at = alarm_at.expect("the shift is found");
/// assert!((200..215).contains(&at), "{at}");
/// assert_eq!(d.changes(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cusum {
    config: CusumConfig,
    reference: Reference,
    upper: f64,
    lower: f64,
    changes: u64,
}

impl Default for Cusum {
    fn default() -> Self {
        Self::build(CusumConfig::default())
    }
}

persist!(Cusum, "twin.detect.cusum", 1, |d: &Cusum| -> Result<()> {
    d.config.validate()?;
    d.reference.check()?;
    if d.upper.is_finite() && d.lower.is_finite() && d.upper >= 0.0 && d.lower >= 0.0 {
        Ok(())
    } else {
        Err(Error::Serialization("invalid cusum sums".into()))
    }
});

impl Cusum {
    /// A detector with validated settings.
    pub fn new(config: CusumConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: CusumConfig) -> Self {
        Cusum {
            config,
            reference: Reference::new(),
            upper: 0.0,
            lower: 0.0,
            changes: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &CusumConfig {
        &self.config
    }

    /// How many changes have been declared.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// The learned in-control mean and standard deviation, once the warm-up is over.
    pub fn reference(&self) -> Option<(f64, f64)> {
        self.reference
            .is_learned(self.config.warmup)
            .then_some((self.reference.mean, self.reference.sd))
    }

    /// The current upper and lower cumulative sums, in standard deviations.
    pub fn sums(&self) -> (f64, f64) {
        (self.upper, self.lower)
    }
}

impl StreamingDetector for Cusum {
    fn name(&self) -> &'static str {
        "cusum"
    }

    fn kind(&self) -> InsightKind {
        InsightKind::Drift
    }

    fn update(&mut self, x: f64) -> Detection {
        if !super::usable_value(x) {
            return Detection::QUIET;
        }
        let c = self.config;
        if !self.reference.is_learned(c.warmup) {
            self.reference.learn(x, c.warmup);
            return Detection::QUIET;
        }
        let z = (x - self.reference.mean) / self.reference.sd;
        self.upper = (self.upper + z - c.k).max(0.0);
        self.lower = (self.lower - z - c.k).max(0.0);
        let s = self.upper.max(self.lower);
        let likelihood = -(-2.0 * c.k * s).exp_m1();
        let alarm = likelihood >= c.threshold;
        if alarm {
            self.changes += 1;
            self.reference = Reference::new();
            self.upper = 0.0;
            self.lower = 0.0;
        }
        Detection {
            score: s,
            likelihood,
            alarm,
        }
    }

    fn reset(&mut self) {
        *self = Self::build(self.config);
    }

    fn is_warm(&self) -> bool {
        self.reference.is_learned(self.config.warmup)
    }
}

/// Settings of a [`PageHinkley`].
///
/// ```
/// use twin::analytics::detect::PageHinkleyConfig;
/// assert!(PageHinkleyConfig::default().validate().is_ok());
/// assert!(PageHinkleyConfig { warmup: 1, ..Default::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageHinkleyConfig {
    /// Magnitude of changes tolerated, in standard deviations; in (0, 10].
    pub delta: f64,
    /// Values used to learn the standard deviation (and the initial mean), at the start
    /// and after each detected change; in [8, 10⁶].
    pub warmup: u32,
    /// Likelihood at which a change is declared, in (0, 1).
    pub threshold: f64,
}

impl Default for PageHinkleyConfig {
    fn default() -> Self {
        PageHinkleyConfig {
            delta: 0.5,
            warmup: 128,
            threshold: DEFAULT_DRIFT_THRESHOLD,
        }
    }
}

impl PageHinkleyConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        check_allowance("delta", self.delta)?;
        check_warmup(self.warmup)?;
        check_threshold(self.threshold)
    }

    /// The detection threshold `lambda` (in standard deviations) that the likelihood
    /// threshold implies: `-ln(1 - threshold) / (2 delta)`.
    pub fn lambda(&self) -> f64 {
        -(1.0 - self.threshold).ln() / (2.0 * self.delta)
    }
}

/// The two-sided Page-Hinkley test: cumulative deviations from the running mean.
///
/// With the running mean `m_t` since the last change and `sd` learned over the warm-up,
/// `U_t = sum((x_i - m_i) / sd - delta)` and `D_t = sum((m_i - x_i) / sd - delta)`; the
/// score is the larger of `U_t - min U` and `D_t - min D`, and a change is declared when it
/// reaches `lambda` (see [`PageHinkleyConfig::lambda`]).
///
/// ```
/// use twin::analytics::detect::{PageHinkley, StreamingDetector};
/// let mut d = PageHinkley::default();
/// let mut alarm_at = None;
/// for i in 0..600 {
///     let noise = ((i * 37) % 11) as f64 / 10.0 - 0.5;
///     let x = if i < 300 { 5.0 + noise } else { 3.0 + noise };
///     if d.update(x).alarm {
///         alarm_at.get_or_insert(i);
///     }
/// }
/// let at = alarm_at.expect("the drop is found");
/// assert!((300..320).contains(&at), "{at}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageHinkley {
    config: PageHinkleyConfig,
    reference: Reference,
    /// Values in the running mean.
    count: u64,
    mean: f64,
    up: f64,
    up_min: f64,
    down: f64,
    down_min: f64,
    changes: u64,
}

impl Default for PageHinkley {
    fn default() -> Self {
        Self::build(PageHinkleyConfig::default())
    }
}

persist!(
    PageHinkley,
    "twin.detect.page_hinkley",
    1,
    |d: &PageHinkley| -> Result<()> {
        d.config.validate()?;
        d.reference.check()?;
        let all_finite = [d.mean, d.up, d.up_min, d.down, d.down_min]
            .iter()
            .all(|v| v.is_finite());
        if all_finite {
            Ok(())
        } else {
            Err(Error::Serialization("non-finite page-hinkley sums".into()))
        }
    }
);

impl PageHinkley {
    /// A detector with validated settings.
    pub fn new(config: PageHinkleyConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: PageHinkleyConfig) -> Self {
        PageHinkley {
            config,
            reference: Reference::new(),
            count: 0,
            mean: 0.0,
            up: 0.0,
            up_min: 0.0,
            down: 0.0,
            down_min: 0.0,
            changes: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &PageHinkleyConfig {
        &self.config
    }

    /// How many changes have been declared.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    fn restart(&mut self) {
        let changes = self.changes;
        *self = Self::build(self.config);
        self.changes = changes;
    }
}

impl StreamingDetector for PageHinkley {
    fn name(&self) -> &'static str {
        "page_hinkley"
    }

    fn kind(&self) -> InsightKind {
        InsightKind::Drift
    }

    fn update(&mut self, x: f64) -> Detection {
        if !super::usable_value(x) {
            return Detection::QUIET;
        }
        let c = self.config;
        if !self.reference.is_learned(c.warmup) {
            if self.reference.learn(x, c.warmup) {
                self.mean = self.reference.mean;
                self.count = u64::from(self.reference.n);
            }
            return Detection::QUIET;
        }
        self.count += 1;
        self.mean += (x - self.mean) / self.count as f64;
        let dev = (x - self.mean) / self.reference.sd;
        self.up += dev - c.delta;
        self.down += -dev - c.delta;
        self.up_min = self.up_min.min(self.up);
        self.down_min = self.down_min.min(self.down);
        let s = (self.up - self.up_min).max(self.down - self.down_min);
        let likelihood = -(-2.0 * c.delta * s).exp_m1();
        let alarm = likelihood >= c.threshold;
        if alarm {
            self.changes += 1;
            self.restart();
        }
        Detection {
            score: s,
            likelihood,
            alarm,
        }
    }

    fn reset(&mut self) {
        *self = Self::build(self.config);
    }

    fn is_warm(&self) -> bool {
        self.reference.is_learned(self.config.warmup)
    }
}
