//! What-if results: per-step percentiles of every state variable and the distribution of
//! the time to failure.

use serde::{Deserialize, Serialize};

/// One state variable over a run: its mean and its quantiles at every recorded time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// The state variable's name.
    pub name: String,
    /// Mean over paths at each time.
    pub mean: Vec<f64>,
    /// The quantile levels, as asked for in the scenario.
    pub levels: Vec<f64>,
    /// `values[i][k]`: quantile `levels[i]` over paths at time `k`.
    pub values: Vec<Vec<f64>>,
}

impl Trajectory {
    /// The series of quantile `level`, if it was asked for.
    pub fn quantile(&self, level: f64) -> Option<&[f64]> {
        self.levels
            .iter()
            .position(|l| (l - level).abs() < 1e-12)
            .map(|i| self.values[i].as_slice())
    }
}

/// The distribution of the time to failure over the paths of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureSummary {
    /// Paths simulated.
    pub paths: usize,
    /// Paths that failed within the horizon.
    pub failed: usize,
    /// `failed / paths`.
    pub probability: f64,
    /// Failure times of the failed paths, s, ascending: the end of the step in which each
    /// path first met its failure condition.
    pub times_s: Vec<f64>,
    /// `(level, time)`: the time by which a fraction `level` of all paths has failed,
    /// `None` where that fraction is not reached within the horizon.
    pub quantiles: Vec<(f64, Option<f64>)>,
}

impl FailureSummary {
    /// The time by which a fraction `level` of all paths has failed, if reached within
    /// the horizon (censored paths count as failing after it).
    pub fn quantile(&self, level: f64) -> Option<f64> {
        if !(level > 0.0 && level < 1.0) || self.paths == 0 {
            return None;
        }
        // Order statistic without interpolation: the smallest time t with F(t) >= level.
        let rank = (level * self.paths as f64).ceil() as usize;
        self.times_s.get(rank.max(1) - 1).copied()
    }

    /// Mean failure time of the paths that failed, if any did.
    pub fn mean_failed(&self) -> Option<f64> {
        (self.failed > 0).then(|| self.times_s.iter().sum::<f64>() / self.failed as f64)
    }

    /// The fraction of paths that survive to `t_s` (failures at exactly `t_s` count as
    /// failed).
    pub fn survival(&self, t_s: f64) -> f64 {
        if self.paths == 0 {
            return 1.0;
        }
        let failed = self.times_s.partition_point(|&t| t <= t_s);
        1.0 - failed as f64 / self.paths as f64
    }
}

/// The result of a what-if run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfResult {
    /// The model that was run.
    pub model: String,
    /// Times of the recorded points, s from the start: `0, dt, 2 dt, …, horizon`.
    pub times_s: Vec<f64>,
    /// One trajectory per state variable.
    pub trajectories: Vec<Trajectory>,
    /// Time to failure over the paths.
    pub failure: FailureSummary,
}

impl WhatIfResult {
    /// The trajectory of a state variable by name.
    pub fn trajectory(&self, name: &str) -> Option<&Trajectory> {
        self.trajectories.iter().find(|t| t.name == name)
    }

    /// The result as JSON.
    pub fn to_json(&self) -> crate::error::Result<String> {
        Ok(serde_json::to_string(self)?)
    }
}

/// The linear-interpolation quantile (Hyndman and Fan type 7, numpy's default) of sorted
/// data; `None` for empty data or a level outside `[0, 1]`.
///
/// ```
/// use twin::whatif::quantile_of_sorted;
/// assert_eq!(quantile_of_sorted(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
/// assert_eq!(quantile_of_sorted(&[1.0, 2.0, 3.0, 4.0], 0.0), Some(1.0));
/// ```
pub fn quantile_of_sorted(sorted: &[f64], level: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&level) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * level;
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    let a = sorted[lo];
    Some(match sorted.get(lo + 1) {
        Some(b) if frac > 0.0 => a + frac * (b - a),
        _ => a,
    })
}
