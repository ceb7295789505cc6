//! Condition features of signals, the usual inputs of health indices and remaining-life
//! models.
//!
//! - [`RollingFeatures`]: RMS, peak, crest factor, mean, standard deviation, skewness and
//!   kurtosis over a bounded sliding window, updated in O(1) per value.
//! - [`ConditionFeatures::from_slice`]: the same features of a finished block, two-pass.
//! - [`BandEnergies`]: energies of a vibration frame in frequency bands (Hann window, FFT,
//!   scaled so the bands add up to the frame's energy, Parseval's theorem).
//!
//! ```
//! use twin::analytics::features::ConditionFeatures;
//! // Four full periods of a sine of amplitude 2.
//! let x: Vec<f64> = (0..400).map(|i| 2.0 * (i as f64 * std::f64::consts::TAU / 100.0).sin()).collect();
//! let f = ConditionFeatures::from_slice(&x)?;
//! assert!((f.rms - 2.0 / 2f64.sqrt()).abs() < 1e-12);
//! assert!((f.crest_factor - 2f64.sqrt()).abs() < 1e-12);
//! assert!((f.kurtosis - 1.5).abs() < 1e-12);
//! # Ok::<(), twin::Error>(())
//! ```

mod rolling;
mod spectral;

pub use rolling::{ConditionFeatures, RollingFeatures};
pub use spectral::{BandConfig, BandEnergies};
