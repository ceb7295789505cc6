//! What a virtual sensor measures: synthetic signals (level, trend, seasonality, noise and
//! injected faults) or replayed history.
//!
//! A value is a closed-form function of the sampling time, the device and the device's
//! sensing stream, so no per-device signal state is stored.

use serde::{Deserialize, Serialize};

use super::rng::{self, StreamId};
use crate::error::{Error, Result};

/// How a fault changes the clean signal while it is active.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Adds `magnitude` (an offset or bias).
    Step,
    /// Adds `magnitude * (t - start_s)`: a calibration drift, `magnitude` per second.
    Drift,
    /// The reading freezes at the clean value of `start_s` (noise included then).
    Stuck,
    /// Each sample independently gets `+magnitude` with probability `probability`.
    Spike,
}

/// A fault injected into a share of a group's devices for a time window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The kind of fault.
    pub kind: FaultKind,
    /// When it begins, seconds.
    pub start_s: f64,
    /// How long it lasts, seconds (infinite if absent).
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Size of the fault (unit of the signal, or unit per second for drift).
    #[serde(default)]
    pub magnitude: f64,
    /// Chance per sample of a spike ([`FaultKind::Spike`] only).
    #[serde(default)]
    pub probability: f64,
    /// Share of the group's devices affected, in `[0, 1]` (chosen by a fixed hash).
    #[serde(default = "one")]
    pub share: f64,
}

fn one() -> f64 {
    1.0
}

/// A synthetic signal: `level + trend * t + amplitude * sin(2 pi t / season_s + phase) +
/// noise_sd * N(0, 1)`, plus faults. The phase is drawn per device when
/// `random_phase` is set, so a fleet does not peak in lockstep.
///
/// ```
/// use twin::sim::signal::SignalModel;
/// let s = SignalModel { level: 20.0, trend: 0.001, ..SignalModel::default() };
/// assert_eq!(s.clean(1000.0, 0.0), 21.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalModel {
    /// Constant level.
    pub level: f64,
    /// Linear trend per second.
    pub trend: f64,
    /// Amplitude of the seasonal sine.
    pub amplitude: f64,
    /// Period of the seasonal sine, seconds (86,400 for a daily cycle).
    pub season_s: f64,
    /// Draw a phase per device.
    pub random_phase: bool,
    /// Standard deviation of white Gaussian noise.
    pub noise_sd: f64,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Replayed history instead of the synthetic shape: `(time_s, value)` pairs in
    /// increasing time, held until the next point (noise and faults still apply).
    pub history: Option<Vec<(f64, f64)>>,
}

impl Default for SignalModel {
    fn default() -> Self {
        SignalModel {
            level: 0.0,
            trend: 0.0,
            amplitude: 0.0,
            season_s: 86_400.0,
            random_phase: false,
            noise_sd: 0.0,
            faults: Vec::new(),
            history: None,
        }
    }
}

impl SignalModel {
    /// Check the parameters; `field` names the signal in error messages.
    pub fn validate(&self, field: &str) -> Result<()> {
        let finite = [self.level, self.trend, self.amplitude, self.noise_sd];
        if finite.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!(
                "{field}: level/trend/amplitude/noise_sd"
            )));
        }
        if !(self.season_s.is_finite() && self.season_s > 0.0) {
            return Err(Error::InvalidInput(format!(
                "{field}.season_s must be positive, got {}",
                self.season_s
            )));
        }
        if self.noise_sd < 0.0 {
            return Err(Error::InvalidInput(format!(
                "{field}.noise_sd must not be negative, got {}",
                self.noise_sd
            )));
        }
        for (i, f) in self.faults.iter().enumerate() {
            let ok = f.start_s.is_finite()
                && f.duration_s.is_none_or(|d| d.is_finite() && d >= 0.0)
                && f.magnitude.is_finite()
                && (0.0..=1.0).contains(&f.probability)
                && (0.0..=1.0).contains(&f.share);
            if !ok {
                return Err(Error::InvalidInput(format!(
                    "{field}.faults[{i}]: start_s and magnitude must be finite, duration_s \
                     non-negative, probability and share in [0, 1]"
                )));
            }
        }
        if let Some(h) = &self.history {
            if h.is_empty() {
                return Err(Error::InvalidInput(format!("{field}.history is empty")));
            }
            if h.iter().any(|(t, v)| !t.is_finite() || !v.is_finite())
                || h.windows(2).any(|w| w[1].0 < w[0].0)
            {
                return Err(Error::InvalidInput(format!(
                    "{field}.history must be finite and in increasing time"
                )));
            }
        }
        Ok(())
    }

    /// Whether every sample is the constant `level` (lets the engine skip the work).
    pub fn is_constant(&self) -> bool {
        self.trend == 0.0
            && self.amplitude == 0.0
            && self.noise_sd == 0.0
            && self.faults.is_empty()
            && self.history.is_none()
    }

    /// The clean value (no noise, no faults) at `t_s` with seasonal phase `phase`.
    pub fn clean(&self, t_s: f64, phase: f64) -> f64 {
        if let Some(h) = &self.history {
            let i = h.partition_point(|&(t, _)| t <= t_s);
            return h[i.saturating_sub(1)].1;
        }
        let mut v = self.level + self.trend * t_s;
        if self.amplitude != 0.0 {
            v += self.amplitude * (std::f64::consts::TAU * t_s / self.season_s + phase).sin();
        }
        v
    }

    /// The device's seasonal phase (fixed per device).
    pub fn phase(&self, seed: u64, device: u64) -> f64 {
        if self.random_phase {
            std::f64::consts::TAU * rng::hash_uniform(seed, device, StreamId::Placement, 17)
        } else {
            0.0
        }
    }

    /// The reading of `device` at `t_s`, drawing noise from the device's stream `state`.
    pub fn sample(&self, seed: u64, device: u64, t_s: f64, state: &mut u64) -> f64 {
        let phase = self.phase(seed, device);
        let noise = if self.noise_sd > 0.0 {
            self.noise_sd * rng::normal(state)
        } else {
            0.0
        };
        let mut v = self.clean(t_s, phase) + noise;
        for (i, f) in self.faults.iter().enumerate() {
            let end = f.duration_s.map_or(f64::INFINITY, |d| f.start_s + d);
            if t_s < f.start_s || t_s >= end {
                continue;
            }
            if rng::hash_uniform(seed, device, StreamId::Placement, 1000 + i as u64) >= f.share {
                continue;
            }
            match f.kind {
                FaultKind::Step => v += f.magnitude,
                FaultKind::Drift => v += f.magnitude * (t_s - f.start_s),
                FaultKind::Stuck => {
                    // The value frozen at onset, its noise drawn from a fixed hash.
                    let z = {
                        let mut s =
                            rng::key(seed, device, StreamId::Placement) ^ rng::mix(2000 + i as u64);
                        rng::normal(&mut s)
                    };
                    v = self.clean(f.start_s, phase) + self.noise_sd * z;
                }
                FaultKind::Spike => {
                    if rng::uniform(state) < f.probability {
                        v += f.magnitude;
                    }
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_seasonality_and_faults() {
        let s = SignalModel {
            level: 10.0,
            trend: 0.5,
            amplitude: 2.0,
            season_s: 100.0,
            faults: vec![
                Fault {
                    kind: FaultKind::Step,
                    start_s: 50.0,
                    duration_s: Some(10.0),
                    magnitude: 5.0,
                    probability: 0.0,
                    share: 1.0,
                },
                Fault {
                    kind: FaultKind::Drift,
                    start_s: 200.0,
                    duration_s: None,
                    magnitude: 0.1,
                    probability: 0.0,
                    share: 1.0,
                },
                Fault {
                    kind: FaultKind::Stuck,
                    start_s: 400.0,
                    duration_s: Some(50.0),
                    magnitude: 0.0,
                    probability: 0.0,
                    share: 1.0,
                },
            ],
            ..SignalModel::default()
        };
        let mut st = 1;
        // Quarter season: sin = 1.
        assert!((s.sample(1, 0, 25.0, &mut st) - (10.0 + 12.5 + 2.0)).abs() < 1e-9);
        assert!((s.sample(1, 0, 55.0, &mut st) - (s.clean(55.0, 0.0) + 5.0)).abs() < 1e-9);
        assert!((s.sample(1, 0, 60.0, &mut st) - s.clean(60.0, 0.0)).abs() < 1e-9);
        assert!((s.sample(1, 0, 300.0, &mut st) - (s.clean(300.0, 0.0) + 10.0)).abs() < 1e-9);
        // Stuck (drift still applies after, since the stuck value replaces it first).
        let a = s.sample(1, 0, 410.0, &mut st);
        let b = s.sample(1, 0, 440.0, &mut st);
        assert!((a - b).abs() < 1e-9 && (a - s.clean(400.0, 0.0)).abs() < 1e-9);
    }

    #[test]
    fn noise_and_spike_rates() {
        let s = SignalModel {
            noise_sd: 2.0,
            faults: vec![Fault {
                kind: FaultKind::Spike,
                start_s: 0.0,
                duration_s: None,
                magnitude: 1000.0,
                probability: 0.05,
                share: 1.0,
            }],
            ..SignalModel::default()
        };
        let mut st = rng::key(3, 3, StreamId::Sensing);
        let n = 100_000;
        let vals: Vec<f64> = (0..n).map(|i| s.sample(3, 3, i as f64, &mut st)).collect();
        let spikes = vals.iter().filter(|v| **v > 500.0).count() as f64 / n as f64;
        assert!((spikes - 0.05).abs() < 0.005, "spike rate {spikes}");
        let clean: Vec<f64> = vals.iter().copied().filter(|v| *v < 500.0).collect();
        let var = clean.iter().map(|v| v * v).sum::<f64>() / clean.len() as f64;
        assert!((var.sqrt() - 2.0).abs() < 0.03, "sd {}", var.sqrt());
    }

    #[test]
    fn history_is_held() {
        let s = SignalModel {
            history: Some(vec![(0.0, 1.0), (10.0, 2.0), (20.0, 3.0)]),
            ..SignalModel::default()
        };
        assert_eq!(s.clean(-1.0, 0.0), 1.0);
        assert_eq!(s.clean(9.9, 0.0), 1.0);
        assert_eq!(s.clean(10.0, 0.0), 2.0);
        assert_eq!(s.clean(100.0, 0.0), 3.0);
        assert!(SignalModel {
            history: Some(vec![(1.0, 0.0), (0.0, 0.0)]),
            ..SignalModel::default()
        }
        .validate("s")
        .is_err());
    }
}
