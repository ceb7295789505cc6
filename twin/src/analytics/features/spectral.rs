//! Spectral band energies of vibration frames.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use crate::analytics::detect::persist;
use crate::error::{Error, Result};

/// Settings of a [`BandEnergies`]: sample rate, frame length and band edges.
///
/// ```
/// use twin::analytics::features::BandConfig;
/// let cfg = BandConfig::new(1_000.0, 256, vec![0.0, 100.0, 250.0, 500.0]);
/// assert!(cfg.validate().is_ok());
/// // Edges must rise and stay within [0, sample_rate / 2].
/// assert!(BandConfig::new(1_000.0, 256, vec![0.0, 600.0]).validate().is_err());
/// assert!(BandConfig::new(1_000.0, 256, vec![100.0, 50.0]).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandConfig {
    /// Samples per second, positive.
    pub sample_rate: f64,
    /// Values per frame (the FFT length), in [8, 2^22].
    pub frame: usize,
    /// Band edges in Hz, strictly increasing, within [0, sample_rate / 2]; band `i` is
    /// `[edges[i], edges[i + 1])`, the last band also holds its upper edge.
    pub edges: Vec<f64>,
    /// Subtract the frame's mean before the transform (drops the DC component).
    pub remove_mean: bool,
}

impl BandConfig {
    /// Settings with the mean kept (`remove_mean = false`).
    pub fn new(sample_rate: f64, frame: usize, edges: Vec<f64>) -> Self {
        BandConfig {
            sample_rate,
            frame,
            edges,
            remove_mean: false,
        }
    }

    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(self.sample_rate.is_finite() && self.sample_rate > 0.0) {
            return Err(Error::InvalidInput(format!(
                "sample rate must be finite and positive, got {}",
                self.sample_rate
            )));
        }
        if !(8..=1 << 22).contains(&self.frame) {
            return Err(Error::InvalidInput(format!(
                "frame must be in [8, 4194304] values, got {}",
                self.frame
            )));
        }
        if self.edges.len() < 2 || self.edges.len() > 4097 {
            return Err(Error::InvalidInput(format!(
                "2 to 4097 band edges are needed, got {}",
                self.edges.len()
            )));
        }
        let nyquist = self.sample_rate / 2.0;
        if self
            .edges
            .iter()
            .any(|e| !(e.is_finite() && *e >= 0.0 && *e <= nyquist))
        {
            return Err(Error::InvalidInput(format!(
                "band edges must lie in [0, {nyquist}] Hz"
            )));
        }
        if self.edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::InvalidInput(
                "band edges must be strictly increasing".into(),
            ));
        }
        Ok(())
    }
}

/// Energies of a frame in frequency bands, by a Hann-windowed FFT.
///
/// The frame `x` (length `N`) is multiplied by the periodic Hann window `w`, transformed,
/// and each one-sided bin's share of `sum((w x)²) / mean(w²)` is added to the band holding
/// its frequency `k * sample_rate / N`. By Parseval's theorem the bands covering
/// `[0, sample_rate / 2]` therefore add up to the window-corrected frame energy
/// `sum((w x)²) / mean(w²)`, which equals the plain energy `sum(x²)` for a stationary signal
/// (exactly for a tone of a whole number of cycles, at least two, away from Nyquist). Divide by `N` for
/// the band's mean square, take the root for its RMS. The FFT is planned once; computing a
/// frame does not allocate.
///
/// ```
/// use twin::analytics::features::{BandConfig, BandEnergies};
/// let fs = 1_000.0;
/// let mut bands = BandEnergies::new(BandConfig::new(fs, 1_000, vec![0.0, 40.0, 60.0, 500.0]))?;
/// // A 50 Hz tone of amplitude 2: energy N * A² / 2 = 2000, all of it in the 40-60 Hz band.
/// let x: Vec<f64> = (0..1_000).map(|i| 2.0 * (std::f64::consts::TAU * 50.0 * i as f64 / fs).sin()).collect();
/// let e = bands.compute(&x)?;
/// assert!((e[1] - 2_000.0).abs() < 1e-6);
/// assert!(e[0] < 1e-9 && e[2] < 1e-9);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "BandConfig", into = "BandConfig")]
pub struct BandEnergies {
    config: BandConfig,
    fft: Arc<dyn Fft<f64>>,
    window: Vec<f64>,
    /// `1 / sum(w²)`: turns |X_k|² into a share of the corrected frame energy.
    scale: f64,
    /// For each one-sided bin, its band (or `usize::MAX` when outside every band) and
    /// its one-sided weight (1 for DC and Nyquist, 2 otherwise).
    bins: Vec<(usize, f64)>,
    buffer: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl std::fmt::Debug for BandEnergies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BandEnergies")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PartialEq for BandEnergies {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl TryFrom<BandConfig> for BandEnergies {
    type Error = Error;
    fn try_from(config: BandConfig) -> Result<Self> {
        BandEnergies::new(config)
    }
}

impl From<BandEnergies> for BandConfig {
    fn from(b: BandEnergies) -> Self {
        b.config
    }
}

persist!(BandEnergies, "twin.features.band_energies", 1);

impl BandEnergies {
    /// Plan the transform for validated settings.
    pub fn new(config: BandConfig) -> Result<Self> {
        config.validate()?;
        let n = config.frame;
        let fft = FftPlanner::<f64>::new().plan_fft_forward(n);
        let window: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
            .collect();
        let sum_w2: f64 = window.iter().map(|w| w * w).sum();
        let last_edge = config.edges.len() - 1;
        let bins = (0..=n / 2)
            .map(|k| {
                let f = k as f64 * config.sample_rate / n as f64;
                let band = config
                    .edges
                    .windows(2)
                    .enumerate()
                    .find(|(b, e)| f >= e[0] && (f < e[1] || (*b + 1 == last_edge && f <= e[1])))
                    .map_or(usize::MAX, |(b, _)| b);
                let weight = if k == 0 || 2 * k == n { 1.0 } else { 2.0 };
                (band, weight)
            })
            .collect();
        let scratch = vec![Complex::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        Ok(BandEnergies {
            scale: 1.0 / sum_w2,
            fft,
            window,
            bins,
            buffer: vec![Complex::new(0.0, 0.0); n],
            scratch,
            config,
        })
    }

    /// The settings.
    pub fn config(&self) -> &BandConfig {
        &self.config
    }

    /// The number of bands.
    pub fn bands(&self) -> usize {
        self.config.edges.len() - 1
    }

    /// The band energies of one frame, written into `out` (one value per band).
    ///
    /// Fails with [`Error::InvalidInput`] if the frame or `out` has the wrong length and
    /// [`Error::NonFinite`] for a NaN or infinite value; `out` is written only on success.
    pub fn compute_into(&mut self, frame: &[f64], out: &mut [f64]) -> Result<()> {
        let n = self.config.frame;
        if frame.len() != n {
            return Err(Error::InvalidInput(format!(
                "frame has {} values, the transform {n}",
                frame.len()
            )));
        }
        if out.len() != self.bands() {
            return Err(Error::InvalidInput(format!(
                "output has room for {} bands, there are {}",
                out.len(),
                self.bands()
            )));
        }
        if let Some((i, v)) = frame.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite(format!("frame value {i} ({v})")));
        }
        let mean = if self.config.remove_mean {
            frame.iter().sum::<f64>() / n as f64
        } else {
            0.0
        };
        for ((b, &x), &w) in self.buffer.iter_mut().zip(frame).zip(&self.window) {
            *b = Complex::new((x - mean) * w, 0.0);
        }
        self.fft
            .process_with_scratch(&mut self.buffer, &mut self.scratch);
        out.fill(0.0);
        for (x, &(band, weight)) in self.buffer.iter().zip(&self.bins) {
            if let Some(o) = out.get_mut(band) {
                *o += weight * x.norm_sqr() * self.scale;
            }
        }
        Ok(())
    }

    /// The band energies of one frame, as a new vector.
    pub fn compute(&mut self, frame: &[f64]) -> Result<Vec<f64>> {
        let mut out = vec![0.0; self.bands()];
        self.compute_into(frame, &mut out)?;
        Ok(out)
    }
}
