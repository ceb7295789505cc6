//! Prognosis: Monte Carlo prediction of the time of a model's event.

// Index loops read closest to the sampling formulas.
#![allow(clippy::needless_range_loop)]

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};
use serde::{Deserialize, Serialize};

use super::{check_dt, linalg, persist, StateDistribution, StateSpaceModel};
use crate::error::{Error, Result};

/// The future inputs of a prediction: `u(t, x)` for times from the start of the prediction.
///
/// Built in: [`ConstantInput`], [`PiecewiseInput`]; any `Fn(f64, &[f64], &mut [f64])`
/// closure also works (for example a load that depends on the state).
///
/// ```
/// use twin::analytics::estimate::InputProfile;
/// // a current that steps from 2 A to 3 A at t = 600 s
/// let load = |t: f64, _x: &[f64], u: &mut [f64]| u[0] = if t < 600.0 { 2.0 } else { 3.0 };
/// let mut u = [0.0];
/// load.input(700.0, &[], &mut u)?;
/// assert_eq!(u, [3.0]);
/// # Ok::<(), twin::Error>(())
/// ```
pub trait InputProfile {
    /// Write the input at time `t` (seconds from the start of the prediction) for state
    /// `x` into `u`, which has the model's input length.
    fn input(&self, t: f64, x: &[f64], u: &mut [f64]) -> Result<()>;
}

impl<F: Fn(f64, &[f64], &mut [f64])> InputProfile for F {
    fn input(&self, t: f64, x: &[f64], u: &mut [f64]) -> Result<()> {
        self(t, x, u);
        Ok(())
    }
}

/// The same input at every time.
///
/// ```
/// use twin::analytics::estimate::{ConstantInput, InputProfile};
/// let mut u = [0.0];
/// ConstantInput::new(vec![2.0]).input(1e3, &[], &mut u)?;
/// assert_eq!(u, [2.0]);
/// // a profile of the wrong length is an error, not a panic
/// assert!(ConstantInput::new(vec![1.0, 2.0]).input(0.0, &[], &mut u).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstantInput(Vec<f64>);

impl ConstantInput {
    /// An input held at `u`.
    pub fn new(u: Vec<f64>) -> Self {
        ConstantInput(u)
    }

    /// The input.
    pub fn value(&self) -> &[f64] {
        &self.0
    }
}

fn copy_input(src: &[f64], u: &mut [f64]) -> Result<()> {
    if src.len() != u.len() {
        return Err(Error::InvalidInput(format!(
            "the input profile has {} values but the model takes {}",
            src.len(),
            u.len()
        )));
    }
    u.copy_from_slice(src);
    Ok(())
}

impl InputProfile for ConstantInput {
    fn input(&self, _t: f64, _x: &[f64], u: &mut [f64]) -> Result<()> {
        copy_input(&self.0, u)
    }
}

/// Inputs that change at given times: `values[i]` holds until `times[i]`, and the last
/// value holds after the last time (so there is one more value than times).
///
/// ```
/// use twin::analytics::estimate::{InputProfile, PiecewiseInput};
/// let load = PiecewiseInput::new(vec![600.0, 900.0], vec![vec![2.0], vec![1.0], vec![4.0]])?;
/// let mut u = [0.0];
/// load.input(650.0, &[], &mut u)?;
/// assert_eq!(u, [1.0]);
/// load.input(1e4, &[], &mut u)?;
/// assert_eq!(u, [4.0]);
/// assert!(PiecewiseInput::new(vec![900.0, 600.0], vec![vec![2.0], vec![1.0], vec![4.0]]).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PiecewiseData")]
pub struct PiecewiseInput {
    times: Vec<f64>,
    values: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct PiecewiseData {
    times: Vec<f64>,
    values: Vec<Vec<f64>>,
}

impl TryFrom<PiecewiseData> for PiecewiseInput {
    type Error = Error;

    fn try_from(d: PiecewiseData) -> Result<Self> {
        PiecewiseInput::new(d.times, d.values)
    }
}

impl PiecewiseInput {
    /// A profile switching at increasing `times` between `values` (one more than times, all
    /// of one length).
    pub fn new(times: Vec<f64>, values: Vec<Vec<f64>>) -> Result<Self> {
        if values.len() != times.len() + 1 {
            return Err(Error::InvalidInput(format!(
                "a piecewise input needs one more value than switch times, got {} times and {} values",
                times.len(),
                values.len()
            )));
        }
        if let Some(i) = times.iter().position(|t| !t.is_finite()) {
            return Err(Error::NonFinite(format!("switch time {i}")));
        }
        if times.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::InvalidInput(
                "switch times must be strictly increasing".into(),
            ));
        }
        let len = values[0].len();
        for (i, v) in values.iter().enumerate() {
            if v.len() != len {
                return Err(Error::InvalidInput(format!(
                    "input value {i} has {} entries, the first has {len}",
                    v.len()
                )));
            }
            if v.iter().any(|x| !x.is_finite()) {
                return Err(Error::NonFinite(format!("input value {i}")));
            }
        }
        Ok(PiecewiseInput { times, values })
    }
}

impl InputProfile for PiecewiseInput {
    fn input(&self, t: f64, _x: &[f64], u: &mut [f64]) -> Result<()> {
        let i = self.times.partition_point(|&s| s <= t);
        copy_input(&self.values[i], u)
    }
}

/// Settings of a [`MonteCarlo`] prediction.
///
/// ```
/// use twin::analytics::estimate::PredictorConfig;
/// let cfg = PredictorConfig { samples: 500, dt: 0.5, seed: 1, ..PredictorConfig::default() };
/// assert!(cfg.validate().is_ok());
/// assert!(PredictorConfig { dt: 0.0, ..cfg }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictorConfig {
    /// Number of Monte Carlo samples.
    pub samples: usize,
    /// Simulation step, in the model's time unit.
    pub dt: f64,
    /// Give up on a sample that has not reached the event this long after the start.
    pub horizon: f64,
    /// Seed: sample `i` uses stream `i` of a generator seeded with it, so a prediction is
    /// reproducible and its first samples do not depend on how many are drawn.
    pub seed: u64,
    /// Add the model's process noise at every step (otherwise only the initial state is
    /// uncertain).
    pub process_noise: bool,
    /// Interpolate the event time linearly where the event margin crosses zero within a
    /// step; otherwise report the end of the step that reaches it (ProgPy's convention).
    pub interpolate: bool,
}

impl Default for PredictorConfig {
    fn default() -> Self {
        PredictorConfig {
            samples: 100,
            dt: 1.0,
            horizon: 1e7,
            seed: 0,
            process_noise: true,
            interpolate: true,
        }
    }
}

impl PredictorConfig {
    /// Most steps a single sample may take (`horizon / dt`).
    pub const MAX_STEPS: f64 = 1e9;

    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if self.samples == 0 {
            return Err(Error::InvalidInput(
                "a prediction needs at least one sample".into(),
            ));
        }
        check_dt(self.dt)?;
        if !(self.horizon.is_finite() && self.horizon > 0.0) {
            return Err(Error::InvalidInput(format!(
                "the horizon must be finite and positive, got {}",
                self.horizon
            )));
        }
        if self.horizon / self.dt > Self::MAX_STEPS {
            return Err(Error::InvalidInput(format!(
                "horizon / dt = {:.3e} steps is more than {:.0e}: raise dt or lower the horizon",
                self.horizon / self.dt,
                Self::MAX_STEPS
            )));
        }
        Ok(())
    }
}

/// The predicted distribution of the time of an event, from a [`MonteCarlo`] run.
///
/// Each sample's time counts from the start of the prediction; a sample that did not reach
/// the event within the horizon is `None` and counts as later than every time.
///
/// ```
/// use twin::analytics::estimate::TimeOfEvent;
/// let toe = TimeOfEvent::from_samples(vec![Some(10.0), Some(20.0), Some(30.0), None], 100.0)?;
/// assert_eq!(toe.mean(), Some(20.0));
/// assert_eq!(toe.fraction_reached(), 0.75);
/// assert_eq!(toe.percentile(0.5), Some(25.0));
/// assert_eq!(toe.percentile(0.9), None); // beyond the horizon
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TimeOfEventData")]
pub struct TimeOfEvent {
    samples: Vec<Option<f64>>,
    horizon: f64,
}

#[derive(Deserialize)]
struct TimeOfEventData {
    samples: Vec<Option<f64>>,
    horizon: f64,
}

impl TryFrom<TimeOfEventData> for TimeOfEvent {
    type Error = Error;

    fn try_from(d: TimeOfEventData) -> Result<Self> {
        TimeOfEvent::from_samples(d.samples, d.horizon)
    }
}

impl TimeOfEvent {
    /// The format name of saved predictions.
    pub const FORMAT: &'static str = "twin.time_of_event";
    /// The format version this build writes and reads.
    pub const FORMAT_VERSION: u32 = 1;

    /// A distribution from sampled times (`None`: not reached within `horizon`).
    pub fn from_samples(samples: Vec<Option<f64>>, horizon: f64) -> Result<Self> {
        if samples.is_empty() {
            return Err(Error::InvalidInput("no samples".into()));
        }
        if let Some(i) = samples
            .iter()
            .position(|s| s.is_some_and(|t| !t.is_finite()))
        {
            return Err(Error::NonFinite(format!("time of event sample {i}")));
        }
        if !horizon.is_finite() {
            return Err(Error::NonFinite("horizon".into()));
        }
        Ok(TimeOfEvent { samples, horizon })
    }

    /// The samples in the order they were drawn.
    pub fn samples(&self) -> &[Option<f64>] {
        &self.samples
    }

    /// The horizon of the prediction.
    pub fn horizon(&self) -> f64 {
        self.horizon
    }

    /// The times of the samples that reached the event, in draw order.
    pub fn reached(&self) -> Vec<f64> {
        self.samples.iter().flatten().copied().collect()
    }

    /// The fraction of samples that reached the event within the horizon.
    pub fn fraction_reached(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        self.samples.iter().flatten().count() as f64 / self.samples.len() as f64
    }

    /// The mean time over the samples that reached the event (`None` if none did).
    pub fn mean(&self) -> Option<f64> {
        let r = self.reached();
        if r.is_empty() {
            None
        } else {
            Some(r.iter().sum::<f64>() / r.len() as f64)
        }
    }

    /// The sample standard deviation over the samples that reached the event (`None` with
    /// fewer than two).
    pub fn std_dev(&self) -> Option<f64> {
        let r = self.reached();
        if r.len() < 2 {
            return None;
        }
        let m = r.iter().sum::<f64>() / r.len() as f64;
        let v = r.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / (r.len() - 1) as f64;
        Some(v.sqrt())
    }

    /// The `q`-quantile (`q` in [0, 1]) of the time over all samples, interpolated between
    /// order statistics; `None` if it lies beyond the horizon or `q` is out of range.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) || self.samples.is_empty() {
            return None;
        }
        let mut all: Vec<f64> = self
            .samples
            .iter()
            .map(|s| s.unwrap_or(f64::INFINITY))
            .collect();
        all.sort_by(f64::total_cmp);
        let pos = q * (all.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        let (a, b) = (all[lo], all[hi]);
        if !b.is_finite() {
            return if lo == hi || pos == lo as f64 {
                a.is_finite().then_some(a)
            } else {
                None
            };
        }
        Some(a + (pos - lo as f64) * (b - a))
    }

    /// The median time (`percentile(0.5)`).
    pub fn median(&self) -> Option<f64> {
        self.percentile(0.5)
    }

    /// Save as a versioned JSON document.
    ///
    /// ```
    /// use twin::analytics::estimate::TimeOfEvent;
    /// let toe = TimeOfEvent::from_samples(vec![Some(1.5), None], 10.0)?;
    /// assert_eq!(TimeOfEvent::from_json(&toe.to_json()?)?, toe);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        persist::to_json(Self::FORMAT, Self::FORMAT_VERSION, self)
    }

    /// Load a prediction saved by [`to_json`](Self::to_json).
    pub fn from_json(json: &str) -> Result<Self> {
        persist::from_json(Self::FORMAT, Self::FORMAT_VERSION, json)
    }
}

/// How initial states are drawn.
enum Sampler<'a> {
    Point(&'a [f64]),
    Gaussian {
        mean: &'a [f64],
        l: Vec<f64>,
    },
    Weighted {
        particles: &'a [f64],
        cumulative: Vec<f64>,
    },
}

impl<'a> Sampler<'a> {
    fn new(d: StateDistribution<'a>, n: usize) -> Result<Self> {
        let bad_dim = |len: usize| {
            Error::InvalidInput(format!(
                "the state distribution has dimension {len}, the model has {n} states"
            ))
        };
        match d {
            StateDistribution::Point(x) => {
                super::check_vector("initial state", x, n)?;
                Ok(Sampler::Point(x))
            }
            StateDistribution::Gaussian { mean, covariance } => {
                if mean.len() != n {
                    return Err(bad_dim(mean.len()));
                }
                super::check_vector("initial state mean", mean, n)?;
                super::check_vector("initial state covariance", covariance, n * n)?;
                let mut l = vec![0.0; n * n];
                if !linalg::is_symmetric(covariance, n)
                    || !linalg::cholesky_psd(covariance, n, &mut l)
                {
                    return Err(Error::InvalidInput(
                        "the initial state covariance is not symmetric positive semi-definite"
                            .into(),
                    ));
                }
                Ok(Sampler::Gaussian { mean, l })
            }
            StateDistribution::Weighted { particles, weights } => {
                if weights.is_empty() || particles.len() != weights.len() * n {
                    return Err(Error::InvalidInput(format!(
                        "{} particle values do not make {} particles of {n} states",
                        particles.len(),
                        weights.len()
                    )));
                }
                super::check_vector("particles", particles, particles.len())?;
                if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
                    return Err(Error::NonFinite(format!("particle weight {i}")));
                }
                if weights.iter().any(|w| *w < 0.0) {
                    return Err(Error::InvalidInput(
                        "particle weights must be non-negative".into(),
                    ));
                }
                let mut cumulative = Vec::with_capacity(weights.len());
                let mut s = 0.0;
                for w in weights {
                    s += w;
                    cumulative.push(s);
                }
                if s <= 0.0 {
                    return Err(Error::InvalidInput("particle weights sum to zero".into()));
                }
                Ok(Sampler::Weighted {
                    particles,
                    cumulative,
                })
            }
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng, x: &mut [f64], xi: &mut [f64]) {
        let n = x.len();
        match self {
            Sampler::Point(p) => x.copy_from_slice(p),
            Sampler::Gaussian { mean, l } => {
                for v in xi.iter_mut() {
                    *v = StandardNormal.sample(rng);
                }
                for i in 0..n {
                    let mut s = mean[i];
                    for j in 0..=i {
                        s += l[i * n + j] * xi[j];
                    }
                    x[i] = s;
                }
            }
            Sampler::Weighted {
                particles,
                cumulative,
            } => {
                let total = cumulative[cumulative.len() - 1];
                let r: f64 = StandardUniform.sample(rng);
                let target = r * total;
                let k = cumulative
                    .partition_point(|&c| c <= target)
                    .min(cumulative.len() - 1);
                x.copy_from_slice(&particles[k * n..(k + 1) * n]);
            }
        }
    }
}

/// The Monte Carlo predictor: samples the state distribution, runs each sample forward
/// under a future input profile (adding sampled process noise each step) until the model's
/// event margin reaches zero, and returns the [`TimeOfEvent`] distribution.
/// Deterministic for a seed.
///
/// A wear level that grows at an uncertain rate until it reaches 1:
///
/// ```
/// use twin::analytics::estimate::{ConstantInput, LinearModel, MonteCarlo, PredictorConfig, StateDistribution};
/// // x = [wear, rate]: d(wear)/dt = rate; event when wear reaches 1
/// let model = LinearModel::builder(2, 1)
///     .continuous(&[0.0, 1.0, 0.0, 0.0])
///     .observation(&[1.0, 0.0])
///     .measurement_noise(&[1e-4])
///     .event(&[1.0, 0.0], 1.0)
///     .build()?;
/// let mean = [0.0, 0.01];
/// let cov = [0.0, 0.0, 0.0, 1e-6]; // rate 0.01 ± 0.001 per hour
/// let mc = MonteCarlo::new(PredictorConfig { samples: 400, dt: 1.0, horizon: 1000.0, seed: 5, ..PredictorConfig::default() })?;
/// let toe = mc.predict(&model, StateDistribution::Gaussian { mean: &mean, covariance: &cov }, &ConstantInput::new(vec![]))?;
/// // median time 1 / 0.01 = 100 h
/// assert!((toe.median().expect("reached") - 100.0).abs() < 2.0);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PredictorConfig")]
pub struct MonteCarlo {
    config: PredictorConfig,
}

impl TryFrom<PredictorConfig> for MonteCarlo {
    type Error = Error;

    fn try_from(config: PredictorConfig) -> Result<Self> {
        MonteCarlo::new(config)
    }
}

impl MonteCarlo {
    /// A predictor with checked settings.
    pub fn new(config: PredictorConfig) -> Result<Self> {
        config.validate()?;
        Ok(MonteCarlo { config })
    }

    /// The settings.
    pub fn config(&self) -> &PredictorConfig {
        &self.config
    }

    /// Predict the time of `model`'s event from the state distribution `state` (for
    /// example [`StateEstimator::distribution`](super::StateEstimator::distribution))
    /// under the future inputs `profile`.
    ///
    /// Errors: a distribution of the wrong dimension or with a covariance that is not
    /// positive semi-definite, a process noise that is not, a step the model refuses, or a
    /// sample whose state becomes non-finite.
    pub fn predict<M, P>(
        &self,
        model: &M,
        state: StateDistribution<'_>,
        profile: &P,
    ) -> Result<TimeOfEvent>
    where
        M: StateSpaceModel + ?Sized,
        P: InputProfile + ?Sized,
    {
        let c = &self.config;
        let d = model.dims();
        let n = d.states;
        if n == 0 {
            return Err(Error::InvalidInput("the model has no states".into()));
        }
        model.check_step(c.dt)?;
        let sampler = Sampler::new(state, n)?;
        let mut lq = vec![0.0; n * n];
        let mut noisy = false;
        if c.process_noise {
            let mut q = vec![0.0; n * n];
            model.process_noise(c.dt, &mut q);
            super::check_vector("process noise Q", &q, n * n)?;
            if !linalg::is_symmetric(&q, n) || !linalg::cholesky_psd(&q, n, &mut lq) {
                return Err(Error::InvalidInput(
                    "process noise Q is not symmetric positive semi-definite".into(),
                ));
            }
            noisy = lq.iter().any(|v| *v != 0.0);
        }
        let mut x = vec![0.0; n];
        let mut next = vec![0.0; n];
        let mut xi = vec![0.0; n];
        let mut u = vec![0.0; d.inputs];
        let mut samples = Vec::with_capacity(c.samples);
        let base = ChaCha8Rng::seed_from_u64(c.seed);
        for s in 0..c.samples {
            let mut rng = base.clone();
            rng.set_stream(s as u64);
            sampler.draw(&mut rng, &mut x, &mut xi);
            model.constrain(&mut x);
            let mut t = 0.0;
            profile.input(t, &x, &mut u)?;
            check_input(&u)?;
            let mut margin = model.event_margin(&x, &u);
            let mut hit = None;
            if margin <= 0.0 {
                hit = Some(0.0);
            }
            while hit.is_none() && t < c.horizon {
                model.step(&x, &u, c.dt, &mut next);
                if noisy {
                    for v in xi.iter_mut() {
                        *v = StandardNormal.sample(&mut rng);
                    }
                    for i in 0..n {
                        let mut acc = 0.0;
                        for j in 0..=i {
                            acc += lq[i * n + j] * xi[j];
                        }
                        next[i] += acc;
                    }
                }
                model.constrain(&mut next);
                if let Some(i) = next.iter().position(|v| !v.is_finite()) {
                    return Err(Error::NonFinite(format!(
                        "state {i} of sample {s} at t = {}",
                        t + c.dt
                    )));
                }
                std::mem::swap(&mut x, &mut next);
                let t_next = t + c.dt;
                profile.input(t_next, &x, &mut u)?;
                check_input(&u)?;
                let m = model.event_margin(&x, &u);
                if m.is_nan() {
                    return Err(Error::NonFinite(format!(
                        "event margin of sample {s} at t = {t_next}"
                    )));
                }
                if m <= 0.0 {
                    let frac = if c.interpolate && margin.is_finite() && margin > m {
                        (margin / (margin - m)).clamp(0.0, 1.0)
                    } else {
                        1.0
                    };
                    hit = Some(t + frac * c.dt);
                }
                margin = m;
                t = t_next;
            }
            samples.push(hit);
        }
        TimeOfEvent::from_samples(samples, c.horizon)
    }
}

fn check_input(u: &[f64]) -> Result<()> {
    match u.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::NonFinite(format!("future input u[{i}]"))),
        None => Ok(()),
    }
}
