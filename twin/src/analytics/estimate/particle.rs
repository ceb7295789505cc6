//! The bootstrap particle filter with systematic resampling.

// Index loops read closest to the filter equations.
#![allow(clippy::needless_range_loop)]

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};
use serde::{Deserialize, Serialize};

use super::{
    check_dt, check_model, check_positive_definite, check_vector, linalg, persist, Dims,
    StateDistribution, StateEstimator, StateSpaceModel,
};
use crate::error::{Error, Result};

/// Settings of a [`ParticleFilter`].
///
/// ```
/// use twin::analytics::estimate::ParticleConfig;
/// let cfg = ParticleConfig { particles: 500, seed: 42, ..ParticleConfig::default() };
/// assert!(cfg.validate().is_ok());
/// assert!(ParticleConfig { resample_threshold: 1.5, ..cfg }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParticleConfig {
    /// Number of particles (at least 2).
    pub particles: usize,
    /// Resample when the effective sample size `1 / Σ wᵢ²` falls below this fraction of
    /// the particle count, in (0, 1]; 1 resamples after every update.
    pub resample_threshold: f64,
    /// Seed of the filter's random numbers: the same seed and data give the same estimates.
    pub seed: u64,
}

impl Default for ParticleConfig {
    fn default() -> Self {
        ParticleConfig {
            particles: 1000,
            resample_threshold: 0.5,
            seed: 0,
        }
    }
}

impl ParticleConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if self.particles < 2 {
            return Err(Error::InvalidInput(format!(
                "a particle filter needs at least 2 particles, got {}",
                self.particles
            )));
        }
        if !(self.resample_threshold > 0.0 && self.resample_threshold <= 1.0) {
            return Err(Error::InvalidInput(format!(
                "resample_threshold must be in (0, 1], got {}",
                self.resample_threshold
            )));
        }
        Ok(())
    }
}

/// Buffers allocated once per filter (rebuilt after loading).
#[derive(Debug, Clone, Default)]
struct Work {
    q: Vec<f64>,
    lq: Vec<f64>,
    r: Vec<f64>,
    lr: Vec<f64>,
    next: Vec<f64>,
    noise: Vec<f64>,
    z: Vec<f64>,
    logw: Vec<f64>,
}

impl Work {
    fn fit(&mut self, d: Dims, particles: usize) {
        let (n, m) = (d.states, d.outputs);
        if self.next.len() == particles * n && self.z.len() == m && self.q.len() == n * n {
            return;
        }
        *self = Work {
            q: vec![0.0; n * n],
            lq: vec![0.0; n * n],
            r: vec![0.0; m * m],
            lr: vec![0.0; m * m],
            next: vec![0.0; particles * n],
            noise: vec![0.0; n],
            z: vec![0.0; m],
            logw: vec![0.0; particles],
        };
    }
}

/// The bootstrap particle filter: particles move by the model's step plus sampled process
/// noise, are weighted by the Gaussian likelihood of each measurement, and are resampled
/// systematically when the effective sample size falls below
/// [`ParticleConfig::resample_threshold`] of the count. Deterministic for a seed.
///
/// It makes no Gaussian assumption about the state, so it suits strongly nonlinear models
/// and multi-modal estimates; it costs one model step per particle per prediction.
///
/// ```
/// use twin::analytics::estimate::{LinearModel, ParticleConfig, ParticleFilter, StateEstimator};
/// let walk = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
///     .process_noise(&[0.01]).measurement_noise(&[0.25]).build()?;
/// let cfg = ParticleConfig { particles: 2000, seed: 3, ..ParticleConfig::default() };
/// let mut pf = ParticleFilter::new(walk.clone(), &[0.0], &[4.0], cfg)?;
/// let mut again = ParticleFilter::new(walk, &[0.0], &[4.0], cfg)?;
/// for z in [1.1, 0.9, 1.0, 1.2, 0.8] {
///     pf.estimate(&[], 1.0, &[z])?;
///     again.estimate(&[], 1.0, &[z])?;
/// }
/// assert!((pf.mean()[0] - 1.0).abs() < 0.1);
/// assert_eq!(pf.mean(), again.mean()); // same seed, same answer
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    try_from = "ParticleState<M>",
    bound(deserialize = "M: StateSpaceModel + Deserialize<'de>")
)]
pub struct ParticleFilter<M> {
    model: M,
    config: ParticleConfig,
    /// particles × states, row-major.
    particles: Vec<f64>,
    /// Normalised weights.
    weights: Vec<f64>,
    u: Vec<f64>,
    mean: Vec<f64>,
    cov: Vec<f64>,
    resamples: u64,
    #[serde(serialize_with = "crate::entity::rng_serde::serialize")]
    rng: ChaCha8Rng,
    #[serde(skip)]
    work: Work,
}

/// A saved filter, checked before it becomes one.
#[derive(Deserialize)]
struct ParticleState<M> {
    model: M,
    config: ParticleConfig,
    particles: Vec<f64>,
    weights: Vec<f64>,
    u: Vec<f64>,
    resamples: u64,
    #[serde(deserialize_with = "crate::entity::rng_serde::deserialize")]
    rng: ChaCha8Rng,
}

impl<M: StateSpaceModel> TryFrom<ParticleState<M>> for ParticleFilter<M> {
    type Error = Error;

    fn try_from(s: ParticleState<M>) -> Result<Self> {
        let d = check_model(&s.model)?;
        s.config.validate()?;
        let np = s.config.particles;
        check_vector("particles", &s.particles, np * d.states)?;
        check_vector("weights", &s.weights, np)?;
        check_vector("input", &s.u, d.inputs)?;
        let total: f64 = s.weights.iter().sum();
        if s.weights.iter().any(|w| *w < 0.0) || (total - 1.0).abs() > 1e-6 {
            return Err(Error::InvalidInput(
                "weights must be non-negative and sum to 1".into(),
            ));
        }
        let mut work = Work::default();
        work.fit(d, np);
        let mut f = ParticleFilter {
            model: s.model,
            config: s.config,
            particles: s.particles,
            weights: s.weights,
            u: s.u,
            mean: vec![0.0; d.states],
            cov: vec![0.0; d.states * d.states],
            resamples: s.resamples,
            rng: s.rng,
            work,
        };
        f.moments();
        Ok(f)
    }
}

impl<M: StateSpaceModel> ParticleFilter<M> {
    /// The format name of saved particle filters.
    pub const FORMAT: &'static str = "twin.particle_filter";
    /// The format version this build writes and reads.
    pub const FORMAT_VERSION: u32 = 1;

    /// A filter whose particles are drawn from `N(x0, p0)` (`p0` states × states,
    /// row-major, symmetric positive definite).
    ///
    /// ```
    /// # use twin::analytics::estimate::{LinearModel, ParticleConfig, ParticleFilter};
    /// let walk = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
    ///     .process_noise(&[0.01]).measurement_noise(&[0.25]).build()?;
    /// let e = ParticleFilter::new(walk, &[f64::NAN], &[1.0], ParticleConfig::default()).unwrap_err();
    /// assert_eq!(e.kind(), twin::ErrorKind::NonFinite);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn new(model: M, x0: &[f64], p0: &[f64], config: ParticleConfig) -> Result<Self> {
        let d = check_model(&model)?;
        config.validate()?;
        check_vector("initial state x0", x0, d.states)?;
        check_positive_definite("initial covariance P0", p0, d.states)?;
        let n = d.states;
        let np = config.particles;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut l = vec![0.0; n * n];
        linalg::cholesky(p0, n, &mut l);
        let mut particles = vec![0.0; np * n];
        let mut xi = vec![0.0; n];
        for k in 0..np {
            for v in xi.iter_mut() {
                *v = StandardNormal.sample(&mut rng);
            }
            let row = &mut particles[k * n..(k + 1) * n];
            for i in 0..n {
                let mut s = x0[i];
                for j in 0..=i {
                    s += l[i * n + j] * xi[j];
                }
                row[i] = s;
            }
            model.constrain(row);
        }
        let mut work = Work::default();
        work.fit(d, np);
        let mut pf = ParticleFilter {
            model,
            config,
            particles,
            weights: vec![1.0 / np as f64; np],
            u: vec![0.0; d.inputs],
            mean: vec![0.0; n],
            cov: vec![0.0; n * n],
            resamples: 0,
            rng,
            work,
        };
        pf.moments();
        Ok(pf)
    }

    /// The model being estimated.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The settings.
    pub fn config(&self) -> &ParticleConfig {
        &self.config
    }

    /// The particles, row-major (particles × states).
    pub fn particles(&self) -> &[f64] {
        &self.particles
    }

    /// The normalised particle weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The effective sample size `1 / Σ wᵢ²` of the current weights.
    pub fn effective_sample_size(&self) -> f64 {
        1.0 / self.weights.iter().map(|w| w * w).sum::<f64>()
    }

    /// How many times the filter has resampled.
    pub fn resample_count(&self) -> u64 {
        self.resamples
    }

    /// Save the filter, its particles and its random generator's position as a versioned
    /// JSON document: a loaded filter continues exactly as the saved one would.
    pub fn to_json(&self) -> Result<String>
    where
        M: Serialize,
    {
        persist::to_json(Self::FORMAT, Self::FORMAT_VERSION, self)
    }

    /// Load a filter saved by [`to_json`](Self::to_json).
    ///
    /// ```
    /// # use twin::analytics::estimate::{LinearModel, ParticleConfig, ParticleFilter, StateEstimator};
    /// let walk = LinearModel::builder(1, 1).discrete(&[1.0], 1.0).observation(&[1.0])
    ///     .process_noise(&[0.01]).measurement_noise(&[0.25]).build()?;
    /// let cfg = ParticleConfig { particles: 100, ..ParticleConfig::default() };
    /// let mut pf = ParticleFilter::new(walk, &[0.0], &[1.0], cfg)?;
    /// pf.estimate(&[], 1.0, &[0.5])?;
    /// let mut back = ParticleFilter::<LinearModel>::from_json(&pf.to_json()?)?;
    /// pf.estimate(&[], 1.0, &[0.7])?;
    /// back.estimate(&[], 1.0, &[0.7])?;
    /// assert_eq!(pf.mean(), back.mean());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self>
    where
        M: serde::de::DeserializeOwned,
    {
        persist::from_json(Self::FORMAT, Self::FORMAT_VERSION, json)
    }

    /// Weighted mean and covariance of the particles.
    fn moments(&mut self) {
        let n = self.mean.len();
        self.mean.fill(0.0);
        for (k, w) in self.weights.iter().enumerate() {
            for i in 0..n {
                self.mean[i] += w * self.particles[k * n + i];
            }
        }
        self.cov.fill(0.0);
        for (k, w) in self.weights.iter().enumerate() {
            let row = &self.particles[k * n..(k + 1) * n];
            for i in 0..n {
                let di = w * (row[i] - self.mean[i]);
                for j in 0..=i {
                    self.cov[i * n + j] += di * (row[j] - self.mean[j]);
                }
            }
        }
        for i in 0..n {
            for j in 0..i {
                self.cov[j * n + i] = self.cov[i * n + j];
            }
        }
    }

    /// Systematic resampling into equal weights.
    fn resample(&mut self) {
        let n = self.mean.len();
        let np = self.weights.len();
        let step = 1.0 / np as f64;
        let start: f64 = StandardUniform.sample(&mut self.rng);
        let mut target = start * step;
        let mut cum = self.weights[0];
        let mut src = 0;
        for k in 0..np {
            while target > cum && src + 1 < np {
                src += 1;
                cum += self.weights[src];
            }
            self.work.next[k * n..(k + 1) * n]
                .copy_from_slice(&self.particles[src * n..(src + 1) * n]);
            target += step;
        }
        std::mem::swap(&mut self.particles, &mut self.work.next);
        self.weights.fill(step);
        self.resamples += 1;
    }
}

impl<M: StateSpaceModel + Send> StateEstimator for ParticleFilter<M> {
    fn dims(&self) -> Dims {
        self.model.dims()
    }

    fn predict(&mut self, u: &[f64], dt: f64) -> Result<()> {
        let d = self.model.dims();
        let n = d.states;
        let np = self.config.particles;
        check_dt(dt)?;
        check_vector("input u", u, d.inputs)?;
        self.model.check_step(dt)?;
        let w = &mut self.work;
        w.fit(d, np);
        w.q.fill(0.0);
        self.model.process_noise(dt, &mut w.q);
        if w.q.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite("process noise Q".into()));
        }
        if !linalg::is_symmetric(&w.q, n) || !linalg::cholesky_psd(&w.q, n, &mut w.lq) {
            return Err(Error::InvalidInput(
                "process noise Q is not symmetric positive semi-definite".into(),
            ));
        }
        let noisy = w.lq.iter().any(|v| *v != 0.0);
        let rng_before = self.rng.clone();
        for k in 0..np {
            let (src, dst) = (
                &self.particles[k * n..(k + 1) * n],
                &mut w.next[k * n..(k + 1) * n],
            );
            self.model.step(src, u, dt, dst);
            if noisy {
                for v in w.noise.iter_mut() {
                    *v = StandardNormal.sample(&mut self.rng);
                }
                for i in 0..n {
                    let mut s = 0.0;
                    for j in 0..=i {
                        s += w.lq[i * n + j] * w.noise[j];
                    }
                    dst[i] += s;
                }
            }
            self.model.constrain(dst);
        }
        if let Some(i) = w.next.iter().position(|v| !v.is_finite()) {
            self.rng = rng_before;
            return Err(Error::NonFinite(format!(
                "predicted particle {} (state {})",
                i / n,
                i % n
            )));
        }
        std::mem::swap(&mut self.particles, &mut w.next);
        self.u.copy_from_slice(u);
        self.moments();
        Ok(())
    }

    fn update(&mut self, z: &[f64]) -> Result<()> {
        let d = self.model.dims();
        let (n, m) = (d.states, d.outputs);
        let np = self.config.particles;
        check_vector("measurement z", z, m)?;
        let w = &mut self.work;
        w.fit(d, np);
        w.r.fill(0.0);
        self.model.measurement_noise(&mut w.r);
        if !linalg::cholesky(&w.r, m, &mut w.lr) {
            return Err(Error::InvalidInput(
                "measurement noise R is not positive definite".into(),
            ));
        }
        let mut best = f64::NEG_INFINITY;
        for k in 0..np {
            self.model
                .output(&self.particles[k * n..(k + 1) * n], &self.u, &mut w.z);
            for i in 0..m {
                w.z[i] = z[i] - w.z[i];
            }
            linalg::forward_substitute(&w.lr, m, &mut w.z);
            let d2: f64 = w.z.iter().map(|v| v * v).sum();
            // A particle whose output is not finite cannot explain the measurement.
            let lw = if d2.is_finite() && self.weights[k] > 0.0 {
                self.weights[k].ln() - 0.5 * d2
            } else {
                f64::NEG_INFINITY
            };
            w.logw[k] = lw;
            best = best.max(lw);
        }
        if !best.is_finite() {
            return Err(Error::NonFinite(
                "no particle has a finite likelihood for this measurement".into(),
            ));
        }
        let mut total = 0.0;
        for v in w.logw.iter_mut() {
            *v = (*v - best).exp();
            total += *v;
        }
        for (wk, v) in self.weights.iter_mut().zip(&w.logw) {
            *wk = v / total;
        }
        if self.effective_sample_size() < self.config.resample_threshold * np as f64 {
            self.resample();
        }
        self.moments();
        Ok(())
    }

    fn mean(&self) -> &[f64] {
        &self.mean
    }

    fn covariance(&self) -> &[f64] {
        &self.cov
    }

    fn distribution(&self) -> StateDistribution<'_> {
        StateDistribution::Weighted {
            particles: &self.particles,
            weights: &self.weights,
        }
    }
}
