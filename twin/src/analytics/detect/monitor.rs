//! The [`EwmaMonitor`]: alarm-limit checks and an exponentially weighted z-score for every
//! watched signal of a schema, in one engine.

use serde::{Deserialize, Serialize};

use crate::analytics::{AnalyticsEngine, Insight, InsightKind};
use crate::error::{Error, Result};
use crate::sample::{BatchRef, SignalId, Timestamp};
use crate::schema::Schema;

/// Settings of an [`EwmaMonitor`]; [`MonitorConfig::validate`] checks them.
///
/// ```
/// use twin::analytics::detect::MonitorConfig;
/// let cfg = MonitorConfig { threshold: 5.0, ..MonitorConfig::default() };
/// assert!(cfg.validate().is_ok());
/// assert!(MonitorConfig { alpha: 0.0, ..cfg }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// Weight of each new sample in the moving mean and variance, in (0, 1].
    pub alpha: f64,
    /// |z| above which a sample is an anomaly.
    pub threshold: f64,
    /// Samples a signal must have before it can be flagged.
    pub warmup: u32,
    /// Watch properties too (by default only telemetry, since set-points change on purpose).
    pub include_properties: bool,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            alpha: 0.05,
            threshold: 4.0,
            warmup: 30,
            include_properties: false,
        }
    }
}

impl MonitorConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(Error::InvalidInput(format!(
                "alpha must be in (0, 1], got {}",
                self.alpha
            )));
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(Error::InvalidInput(format!(
                "threshold must be finite and positive, got {}",
                self.threshold
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct SignalStats {
    mean: f64,
    var: f64,
    n: u32,
    /// -1 below the low alarm, 0 within limits, 1 above the high alarm.
    alarm: i8,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    watch: bool,
    low: f64,
    high: f64,
}

/// Checks alarm limits and flags anomalies by an exponentially weighted z-score.
///
/// For each watched signal it keeps an exponentially weighted mean and variance. A sample
/// whose z-score against them exceeds the threshold (after a warm-up) is an
/// [`InsightKind::Anomaly`]. Anomalous samples update the statistics only up to the
/// threshold, so a burst of spikes does not inflate the variance and hide the next one,
/// while a lasting level shift is still absorbed. Alarm limits from the schema give
/// [`InsightKind::AlarmHigh`] / [`InsightKind::AlarmLow`] when crossed and
/// [`InsightKind::AlarmCleared`] on return.
///
/// ```
/// use twin::analytics::{AnalyticsEngine, InsightKind};
/// use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
/// let schema = twin::Schema::builder("m")
///     .telemetry(twin::SignalSpec::new("x", "").alarm_high(50.0))
///     .build()?;
/// let mut monitor = EwmaMonitor::new(&schema, MonitorConfig::default())?;
/// let times: Vec<i64> = (0..200).collect();
/// let ids = vec![0_u32; 200];
/// let mut values: Vec<f64> = (0..200).map(|i| 10.0 + (i % 7) as f64 * 0.1).collect();
/// values[150] = 30.0; // a spike
/// let mut out = Vec::new();
/// monitor.observe(&schema, twin::BatchRef::new(&times, &ids, &values)?, &mut out);
/// assert_eq!(out.len(), 1);
/// assert_eq!((out[0].kind, out[0].time.0), (InsightKind::Anomaly, 150));
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct EwmaMonitor {
    config: MonitorConfig,
    limits: Vec<Limits>,
    stats: Vec<SignalStats>,
}

impl EwmaMonitor {
    /// A monitor for a schema's signals.
    pub fn new(schema: &Schema, config: MonitorConfig) -> Result<Self> {
        config.validate()?;
        let n = schema.signal_count();
        let limits = (0..n)
            .map(|i| {
                let id = SignalId(i as u32);
                let spec = schema.signal(id)?;
                Ok(Limits {
                    watch: config.include_properties || !schema.is_property(id),
                    low: spec.alarm_low.unwrap_or(f64::NEG_INFINITY),
                    high: spec.alarm_high.unwrap_or(f64::INFINITY),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let stats = vec![
            SignalStats {
                mean: 0.0,
                var: 0.0,
                n: 0,
                alarm: 0,
            };
            n
        ];
        Ok(EwmaMonitor {
            config,
            limits,
            stats,
        })
    }

    /// The current moving mean and standard deviation of a signal, once it has data.
    pub fn moments(&self, id: SignalId) -> Option<(f64, f64)> {
        let s = self.stats.get(id.index())?;
        (s.n > 0).then(|| (s.mean, s.var.sqrt()))
    }
}

impl AnalyticsEngine for EwmaMonitor {
    fn name(&self) -> &str {
        "ewma_monitor"
    }

    fn observe(&mut self, _schema: &Schema, batch: BatchRef<'_>, out: &mut Vec<Insight>) {
        let (times, signals, values) = (batch.times(), batch.signals(), batch.values());
        let alpha = self.config.alpha;
        let thr = self.config.threshold;
        let warmup = self.config.warmup;
        for k in 0..times.len() {
            let i = signals[k] as usize;
            let (Some(lim), Some(st)) = (self.limits.get(i), self.stats.get_mut(i)) else {
                continue;
            };
            if !lim.watch {
                continue;
            }
            let x = values[k];
            let mk = |kind, score| Insight {
                time: Timestamp(times[k]),
                signal: SignalId(i as u32),
                kind,
                value: x,
                score,
            };
            // Alarm limits: report transitions only.
            let alarm = if x > lim.high {
                1
            } else if x < lim.low {
                -1
            } else {
                0
            };
            if alarm != st.alarm {
                out.push(match alarm {
                    1 => mk(InsightKind::AlarmHigh, lim.high),
                    -1 => mk(InsightKind::AlarmLow, lim.low),
                    _ => mk(
                        InsightKind::AlarmCleared,
                        if st.alarm > 0 { lim.high } else { lim.low },
                    ),
                });
                st.alarm = alarm;
            }
            // EWMA z-score, with a variance floor relative to the level.
            let mut update = x;
            if st.n >= warmup {
                let sd = st.var.sqrt().max(1e-9 * st.mean.abs().max(1.0));
                let z = (x - st.mean) / sd;
                if z.abs() > thr {
                    out.push(mk(InsightKind::Anomaly, z));
                    update = st.mean + thr * sd * z.signum();
                }
            }
            // Plain averaging during warm-up, exponential weighting after.
            let a = if st.n == 0 {
                1.0
            } else {
                alpha.max(1.0 / (st.n as f64 + 1.0))
            };
            let d = update - st.mean;
            let inc = a * d;
            st.mean += inc;
            st.var = (1.0 - a) * (st.var + d * inc);
            st.n = st.n.saturating_add(1);
        }
    }

    fn save(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.stats)?)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let stats: Vec<SignalStats> = serde_json::from_value(state)?;
        if stats.len() != self.stats.len() {
            return Err(Error::Serialization(format!(
                "monitor state has {} signals, the schema {}",
                stats.len(),
                self.stats.len()
            )));
        }
        self.stats = stats;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SignalSpec;

    fn schema() -> Schema {
        Schema::builder("t")
            .telemetry(SignalSpec::new("x", "").alarm_low(-5.0).alarm_high(5.0))
            .build()
            .expect("schema")
    }

    #[test]
    fn moments_match_closed_form_during_warmup() {
        let s = schema();
        let mut m = EwmaMonitor::new(
            &s,
            MonitorConfig {
                warmup: 1000,
                ..MonitorConfig::default()
            },
        )
        .expect("m");
        let v = [1.0, 2.0, 3.0, 4.0];
        let mut out = Vec::new();
        m.observe(
            &s,
            BatchRef::new(&[0, 1, 2, 3], &[0; 4], &v).expect("b"),
            &mut out,
        );
        let (mean, sd) = m.moments(SignalId(0)).expect("data");
        // Plain averaging in warm-up: mean 2.5, population variance 1.25.
        assert!((mean - 2.5).abs() < 1e-12);
        assert!((sd * sd - 1.25).abs() < 1e-12);
    }

    #[test]
    fn alarms_report_transitions_only() {
        let s = schema();
        let mut m = EwmaMonitor::new(&s, MonitorConfig::default()).expect("m");
        let v = [0.0, 6.0, 7.0, 8.0, 0.0, -6.0];
        let mut out = Vec::new();
        m.observe(
            &s,
            BatchRef::new(&[0, 1, 2, 3, 4, 5], &[0; 6], &v).expect("b"),
            &mut out,
        );
        let kinds: Vec<_> = out.iter().map(|i| (i.kind, i.time.0)).collect();
        assert_eq!(
            kinds,
            vec![
                (InsightKind::AlarmHigh, 1),
                (InsightKind::AlarmCleared, 4),
                (InsightKind::AlarmLow, 5)
            ]
        );
    }

    #[test]
    fn gaussian_noise_rarely_flags_and_spikes_always_do() {
        use rand_chacha::rand_core::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let s = Schema::builder("t")
            .telemetry(SignalSpec::new("x", ""))
            .build()
            .expect("s");
        let mut m = EwmaMonitor::new(&s, MonitorConfig::default()).expect("m");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let n = 20_000;
        let mut v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let spikes = [5_000, 5_003, 12_000, 17_500];
        for &i in &spikes {
            v[i] += 12.0;
        }
        let t: Vec<i64> = (0..n as i64).collect();
        let mut out = Vec::new();
        m.observe(&s, BatchRef::new(&t, &vec![0; n], &v).expect("b"), &mut out);
        for &i in &spikes {
            assert!(out.iter().any(|x| x.time.0 == i as i64), "spike {i} missed");
        }
        let false_alarms = out
            .iter()
            .filter(|x| !spikes.contains(&(x.time.0 as usize)))
            .count();
        // |z| > 4 has probability 6.3e-5 under a normal law; the moving estimates fatten the
        // tails a little, so allow a few in 20,000.
        assert!(false_alarms <= 10, "{false_alarms} false alarms");
    }
}
