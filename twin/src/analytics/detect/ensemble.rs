//! Ensembles of streaming detectors, fused by their likelihoods.

use serde::{Deserialize, Serialize};

use super::{
    check_threshold, persist, Cusum, Detection, EwmaDetector, HalfSpaceTrees, PageHinkley,
    RobustZScore, StreamingDetector, DEFAULT_THRESHOLD,
};
use crate::error::{Error, Result};

/// Any built-in univariate streaming detector: the members of an [`Ensemble`], saved
/// with a `"detector"` tag naming their type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "detector", rename_all = "snake_case")]
pub enum AnyDetector {
    /// An [`EwmaDetector`].
    Ewma(EwmaDetector),
    /// A [`RobustZScore`].
    RobustZ(RobustZScore),
    /// A [`Cusum`].
    Cusum(Cusum),
    /// A [`PageHinkley`].
    PageHinkley(PageHinkley),
    /// A univariate [`HalfSpaceTrees`] (boxed: it is much larger than the others).
    Hst(Box<HalfSpaceTrees>),
}

macro_rules! dispatch {
    ($self:expr, $d:ident => $e:expr) => {
        match $self {
            AnyDetector::Ewma($d) => $e,
            AnyDetector::RobustZ($d) => $e,
            AnyDetector::Cusum($d) => $e,
            AnyDetector::PageHinkley($d) => $e,
            AnyDetector::Hst($d) => $e,
        }
    };
}

impl StreamingDetector for AnyDetector {
    fn name(&self) -> &'static str {
        dispatch!(self, d => d.name())
    }
    fn kind(&self) -> crate::analytics::InsightKind {
        dispatch!(self, d => d.kind())
    }
    fn update(&mut self, x: f64) -> Detection {
        dispatch!(self, d => d.update(x))
    }
    fn reset(&mut self) {
        dispatch!(self, d => d.reset())
    }
    fn is_warm(&self) -> bool {
        dispatch!(self, d => d.is_warm())
    }
}

impl AnyDetector {
    fn check(&self) -> Result<()> {
        use super::Persist;
        match self {
            AnyDetector::Ewma(d) => d.check(),
            AnyDetector::RobustZ(d) => d.check(),
            AnyDetector::Cusum(d) => d.check(),
            AnyDetector::PageHinkley(d) => d.check(),
            AnyDetector::Hst(d) => {
                if d.dim() == 1 {
                    d.check()
                } else {
                    Err(Error::Serialization(
                        "ensemble members must be univariate".into(),
                    ))
                }
            }
        }
    }
}

macro_rules! from_detector {
    ($($ty:ident => $var:ident),*) => {$(
        impl From<$ty> for AnyDetector {
            fn from(d: $ty) -> Self {
                AnyDetector::$var(d)
            }
        }
    )*};
}
from_detector!(EwmaDetector => Ewma, RobustZScore => RobustZ, Cusum => Cusum,
    PageHinkley => PageHinkley);

impl From<HalfSpaceTrees> for AnyDetector {
    fn from(d: HalfSpaceTrees) -> Self {
        AnyDetector::Hst(Box::new(d))
    }
}

/// How an [`Ensemble`] fuses its members' likelihoods `L_1 .. L_m`.
///
/// ```
/// use twin::analytics::detect::Fusion;
/// let l = [0.5, 0.9, 0.999];
/// assert!((Fusion::Mean.fuse(&l) - 0.799_666).abs() < 1e-6);
/// assert_eq!(Fusion::Max.fuse(&l), 0.999);
/// assert!((Fusion::NoisyOr.fuse(&l) - (1.0 - 0.5 * 0.1 * 0.001)).abs() < 1e-12);
/// // Bonferroni: 1 - 3 * (1 - 0.999).
/// assert!((Fusion::Bonferroni.fuse(&l) - 0.997).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fusion {
    /// The mean likelihood: an alarm needs most members to agree.
    Mean,
    /// The largest likelihood: any member can raise an alarm.
    Max,
    /// `1 - prod(1 - L_i)`: the members as independent causes (noisy-OR).
    NoisyOr,
    /// `1 - min(1, m * min(1 - L_i))`: the largest likelihood with a Bonferroni correction
    /// for the number of members, so the fused false-alarm rate stays at most the
    /// members' nominal rate whatever their dependence.
    Bonferroni,
}

impl Fusion {
    /// Fuse likelihoods (an empty slice fuses to 0). The result is in [0, 1].
    pub fn fuse(self, likelihoods: &[f64]) -> f64 {
        if likelihoods.is_empty() {
            return 0.0;
        }
        let clean = |l: f64| if l.is_nan() { 0.0 } else { l.clamp(0.0, 1.0) };
        let it = likelihoods.iter().map(|&l| clean(l));
        let v = match self {
            Fusion::Mean => it.sum::<f64>() / likelihoods.len() as f64,
            Fusion::Max => it.fold(0.0, f64::max),
            Fusion::NoisyOr => 1.0 - it.map(|l| 1.0 - l).product::<f64>(),
            Fusion::Bonferroni => {
                let min_p = it.map(|l| 1.0 - l).fold(1.0, f64::min);
                1.0 - (likelihoods.len() as f64 * min_p).min(1.0)
            }
        };
        v.clamp(0.0, 1.0)
    }
}

/// Settings of an [`Ensemble`].
///
/// ```
/// use twin::analytics::detect::{EnsembleConfig, Fusion};
/// let cfg = EnsembleConfig { fusion: Fusion::Max, ..Default::default() };
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleConfig {
    /// How member likelihoods are fused.
    pub fusion: Fusion,
    /// Fused likelihood at or above which a value is an alarm, in (0, 1).
    pub threshold: f64,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        EnsembleConfig {
            fusion: Fusion::Max,
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

impl EnsembleConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        check_threshold(self.threshold)
    }
}

/// Several univariate detectors on the same stream, their likelihoods fused into one.
///
/// The default ensemble is an [`EwmaDetector`] (fast local z-score), a [`RobustZScore`]
/// (window median / MAD) and a [`HalfSpaceTrees`] (mass), fused with [`Fusion::Max`]:
/// any member can raise an alarm, so the false-alarm rate is at most the sum of the
/// members' (about 0.1% each at the default threshold); [`Fusion::Bonferroni`] holds it at
/// one member's rate at some cost in recall. Add drift detectors with [`Ensemble::new`] to
/// catch slow mean shifts as well. [`Detection::score`] of an ensemble is its fused likelihood; the
/// members' own detections of the last value are in [`Ensemble::last`].
///
/// ```
/// use twin::analytics::detect::{Ensemble, StreamingDetector};
/// let mut e = Ensemble::default();
/// let mut alarms = Vec::new();
/// for i in 0..3_000 {
///     let x = 5.0 + (i as f64 * 0.05).sin() + ((i * 31) % 17) as f64 * 0.01;
///     let x = if i == 2_500 { x + 4.0 } else { x };
///     if e.update(x).alarm {
///         alarms.push(i);
///     }
/// }
/// assert_eq!(alarms, vec![2_500]);
/// assert_eq!(e.last().len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    config: EnsembleConfig,
    members: Vec<AnyDetector>,
    last: Vec<Detection>,
}

impl Default for Ensemble {
    fn default() -> Self {
        let members = vec![
            AnyDetector::Ewma(EwmaDetector::default()),
            AnyDetector::RobustZ(RobustZScore::default()),
            AnyDetector::Hst(Box::default()),
        ];
        Ensemble {
            config: EnsembleConfig::default(),
            last: vec![Detection::QUIET; members.len()],
            members,
        }
    }
}

persist!(
    Ensemble,
    "twin.detect.ensemble",
    1,
    |e: &Ensemble| -> Result<()> {
        e.config.validate()?;
        if e.members.is_empty() || e.members.len() != e.last.len() {
            return Err(Error::Serialization("inconsistent ensemble".into()));
        }
        e.members.iter().try_for_each(AnyDetector::check)
    }
);

impl Ensemble {
    /// An ensemble of one to 64 univariate members.
    ///
    /// ```
    /// use twin::analytics::detect::{AnyDetector, Cusum, Ensemble, EnsembleConfig, EwmaDetector};
    /// let e = Ensemble::new(
    ///     vec![EwmaDetector::default().into(), Cusum::default().into()],
    ///     EnsembleConfig::default(),
    /// )?;
    /// assert_eq!(e.members().len(), 2);
    /// assert!(Ensemble::new(vec![], EnsembleConfig::default()).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn new(members: Vec<AnyDetector>, config: EnsembleConfig) -> Result<Self> {
        config.validate()?;
        if !(1..=64).contains(&members.len()) {
            return Err(Error::InvalidInput(format!(
                "an ensemble needs 1 to 64 members, got {}",
                members.len()
            )));
        }
        if let Some(m) = members
            .iter()
            .find(|m| matches!(m, AnyDetector::Hst(h) if h.dim() != 1))
        {
            return Err(Error::InvalidInput(format!(
                "ensemble members must be univariate; {} is not",
                m.name()
            )));
        }
        Ok(Ensemble {
            config,
            last: vec![Detection::QUIET; members.len()],
            members,
        })
    }

    /// The settings.
    pub fn config(&self) -> &EnsembleConfig {
        &self.config
    }

    /// The members.
    pub fn members(&self) -> &[AnyDetector] {
        &self.members
    }

    /// Each member's detection of the last value, in member order.
    pub fn last(&self) -> &[Detection] {
        &self.last
    }
}

impl StreamingDetector for Ensemble {
    fn name(&self) -> &'static str {
        "ensemble"
    }

    fn update(&mut self, x: f64) -> Detection {
        if !super::usable_value(x) {
            return Detection::QUIET;
        }
        for (m, last) in self.members.iter_mut().zip(self.last.iter_mut()) {
            *last = m.update(x);
        }
        let c = self.config;
        let l = match c.fusion {
            // Avoid a temporary: fuse straight from the detections.
            Fusion::Max => self.last.iter().map(|d| d.likelihood).fold(0.0, f64::max),
            Fusion::Bonferroni => {
                let min_p = self
                    .last
                    .iter()
                    .map(|d| 1.0 - d.likelihood)
                    .fold(1.0, f64::min);
                1.0 - (self.last.len() as f64 * min_p).min(1.0)
            }
            Fusion::Mean => {
                self.last.iter().map(|d| d.likelihood).sum::<f64>() / self.last.len() as f64
            }
            Fusion::NoisyOr => {
                1.0 - self
                    .last
                    .iter()
                    .map(|d| 1.0 - d.likelihood)
                    .product::<f64>()
            }
        }
        .clamp(0.0, 1.0);
        Detection {
            score: l,
            likelihood: l,
            alarm: l >= c.threshold,
        }
    }

    fn reset(&mut self) {
        for m in &mut self.members {
            m.reset();
        }
        self.last.fill(Detection::QUIET);
    }

    fn is_warm(&self) -> bool {
        self.members.iter().any(StreamingDetector::is_warm)
    }
}
