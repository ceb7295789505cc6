//! Window features: a fixed-length summary of a unit's recent history, per signal.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which features summarise the last `window` cycles of each (standardised) signal.
///
/// For each kept signal: the exponentially smoothed level at the last cycle (`level`),
/// the window mean (`mean`), the least-squares slope over the window against time
/// (`slope`), the standard deviation around that line (`spread`) and the mean over the
/// whole history so far (`history`: with the level, it tells how far a unit has moved
/// from its own starting point, whatever its initial wear); then, once, the unit's age
/// (time since its first row). With `recent > 1`, each signal also gets its slope over
/// only the last `recent` cycles (the window slope then gives the long trend, this one
/// the current rate). A window longer than the history uses the rows there are.
///
/// ```
/// use twin::analytics::rul::features::WindowConfig;
/// let cfg = WindowConfig { window: 20, ..WindowConfig::default() };
/// assert!(cfg.validate().is_ok());
/// assert_eq!(cfg.n_features(14), 14 * 3 + 1);
/// assert!(WindowConfig { smoothing: 0.0, ..cfg }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowConfig {
    /// Number of most recent cycles in the window (at least 2).
    pub window: usize,
    /// Weight of each new value in the smoothed level, in (0, 1] (1: no smoothing).
    pub smoothing: f64,
    /// Include the smoothed level.
    pub level: bool,
    /// Include the window mean.
    pub mean: bool,
    /// Include the window slope.
    pub slope: bool,
    /// Include the spread around the window's line.
    pub spread: bool,
    /// Include the mean over the whole history.
    pub history: bool,
    /// Length of a second, short window for a recent slope (0 or 1: none).
    pub recent: usize,
    /// Include the unit's age.
    pub age: bool,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            window: 30,
            smoothing: 0.1,
            level: true,
            mean: true,
            slope: true,
            spread: false,
            history: false,
            recent: 0,
            age: true,
        }
    }
}

impl WindowConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if self.window < 2 {
            return Err(Error::InvalidInput(format!(
                "window must be at least 2 cycles, got {}",
                self.window
            )));
        }
        if !(self.smoothing > 0.0 && self.smoothing <= 1.0) {
            return Err(Error::InvalidInput(format!(
                "smoothing must be in (0, 1], got {}",
                self.smoothing
            )));
        }
        if self.per_signal() == 0 && !self.age {
            return Err(Error::InvalidInput(
                "select at least one window feature".into(),
            ));
        }
        Ok(())
    }

    fn per_signal(&self) -> usize {
        [
            self.level,
            self.mean,
            self.slope,
            self.spread,
            self.history,
            self.recent > 1,
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }

    /// Number of features for `signals` kept signals.
    pub fn n_features(&self, signals: usize) -> usize {
        self.per_signal() * signals + usize::from(self.age)
    }

    /// Features at each requested end row (inclusive) of one unit, appended to `out`
    /// row by row. `z` is the unit's standardised signals, `rows × k` row-major.
    ///
    /// Window statistics come from prefix sums (of `t`, `t²`, `z`, `t·z`, `z²`, with `t`
    /// measured from the unit's first row), so a window costs O(1) whatever its length.
    pub(crate) fn extract(
        &self,
        z: &[f64],
        time: &[f64],
        k: usize,
        ends: &[usize],
        out: &mut Vec<f64>,
    ) {
        let rows = time.len();
        let t0 = time.first().copied().unwrap_or(0.0);
        // Smoothed levels for every row.
        let mut level = Vec::new();
        if self.level {
            level = vec![0.0; rows * k];
            level[..k].copy_from_slice(&z[..k]);
            let a = self.smoothing;
            for r in 1..rows {
                for j in 0..k {
                    level[r * k + j] = a * z[r * k + j] + (1.0 - a) * level[(r - 1) * k + j];
                }
            }
        }
        // Prefix sums: entry r holds the sum over rows 0..r.
        let mut st = vec![0.0; rows + 1];
        let mut stt = vec![0.0; rows + 1];
        let mut sz = vec![0.0; (rows + 1) * k];
        let mut stz = vec![0.0; (rows + 1) * k];
        let mut szz = vec![0.0; (rows + 1) * k];
        for r in 0..rows {
            let t = time[r] - t0;
            st[r + 1] = st[r] + t;
            stt[r + 1] = stt[r] + t * t;
            for j in 0..k {
                let v = z[r * k + j];
                sz[(r + 1) * k + j] = sz[r * k + j] + v;
                stz[(r + 1) * k + j] = stz[r * k + j] + t * v;
                szz[(r + 1) * k + j] = szz[r * k + j] + v * v;
            }
        }
        let stats = |j: usize, start: usize, end: usize| -> (f64, f64, f64) {
            let n = (end + 1 - start) as f64;
            let tm = (st[end + 1] - st[start]) / n;
            let ctt = ((stt[end + 1] - stt[start]) - n * tm * tm).max(0.0);
            let zs = sz[(end + 1) * k + j] - sz[start * k + j];
            let mean = zs / n;
            let cty = (stz[(end + 1) * k + j] - stz[start * k + j]) - tm * zs;
            // a spacing tiny next to the times' size cannot be told from rounding
            let slope = if ctt > 1e-9 * n * (tm * tm).max(1.0) {
                cty / ctt
            } else {
                0.0
            };
            let czz = (szz[(end + 1) * k + j] - szz[start * k + j]) - n * mean * mean;
            let spread = ((czz - slope * cty) / n).max(0.0).sqrt();
            (mean, slope, spread)
        };
        for &e in ends {
            let start = (e + 1).saturating_sub(self.window);
            for j in 0..k {
                let (mean, slope, spread) = stats(j, start, e);
                if self.level {
                    out.push(level[e * k + j]);
                }
                if self.mean {
                    out.push(mean);
                }
                if self.slope {
                    out.push(slope);
                }
                if self.spread {
                    out.push(spread);
                }
                if self.history {
                    out.push(sz[(e + 1) * k + j] / (e + 1) as f64);
                }
                if self.recent > 1 {
                    out.push(stats(j, (e + 1).saturating_sub(self.recent), e).1);
                }
            }
            if self.age {
                out.push(time[e] - t0);
            }
        }
    }
}

/// Least-squares slope of signal `j` against time over rows `start..=end` (reference).
#[cfg(test)]
fn slope_of(z: &[f64], time: &[f64], k: usize, j: usize, start: usize, end: usize) -> f64 {
    let n = (end + 1 - start) as f64;
    let tm = time[start..=end].iter().sum::<f64>() / n;
    let (mut stt, mut sty) = (0.0, 0.0);
    for r in start..=end {
        let dt = time[r] - tm;
        stt += dt * dt;
        sty += dt * z[r * k + j];
    }
    if stt > 0.0 {
        sty / stt
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_mean_and_level_of_a_line() {
        let cfg = WindowConfig {
            window: 4,
            smoothing: 1.0,
            spread: true,
            history: true,
            ..WindowConfig::default()
        };
        let time: Vec<f64> = (0..10).map(f64::from).collect();
        let z: Vec<f64> = time.iter().map(|t| 2.0 * t + 1.0).collect();
        let mut out = Vec::new();
        cfg.extract(&z, &time, 1, &[9, 0], &mut out);
        // level, mean, slope, spread, history, age at row 9; then at row 0
        let want = [
            19.0, 16.0, 2.0, 0.0, 10.0, 9.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0,
        ];
        for (g, w) in out.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{out:?}");
        }
    }

    #[test]
    fn prefix_sums_match_direct_sums() {
        let cfg = WindowConfig {
            window: 7,
            spread: true,
            recent: 3,
            ..WindowConfig::default()
        };
        let k = 2;
        let time: Vec<f64> = (0..40).map(|i| 100.0 + 1.5 * f64::from(i)).collect();
        let z: Vec<f64> = (0..80)
            .map(|i| ((i * 37 % 11) as f64).sin() + 0.1 * i as f64)
            .collect();
        let mut out = Vec::new();
        cfg.extract(&z, &time, k, &[39, 20, 3], &mut out);
        let per = cfg.n_features(k);
        for (row, &e) in [39usize, 20, 3].iter().enumerate() {
            let f = &out[row * per..(row + 1) * per];
            for j in 0..k {
                let start = (e + 1).saturating_sub(7);
                let vals: Vec<f64> = (start..=e).map(|r| z[r * k + j]).collect();
                let mean = vals.iter().sum::<f64>() / vals.len() as f64;
                let slope = slope_of(&z, &time, k, j, start, e);
                let recent = slope_of(&z, &time, k, j, (e + 1).saturating_sub(3), e);
                let g = &f[j * 5..j * 5 + 5]; // level, mean, slope, spread, recent
                assert!((g[1] - mean).abs() < 1e-9, "{g:?} {mean}");
                assert!((g[2] - slope).abs() < 1e-9, "{g:?} {slope}");
                assert!((g[4] - recent).abs() < 1e-9, "{g:?} {recent}");
            }
            assert!((f[per - 1] - (time[e] - time[0])).abs() < 1e-12);
        }
    }
}
