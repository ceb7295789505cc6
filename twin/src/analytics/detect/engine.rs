//! [`DetectorEngine`]: any univariate streaming detector, run on every watched signal of a
//! schema as an [`AnalyticsEngine`].

use serde::{Deserialize, Serialize};

use super::{Persist, StreamingDetector};
use crate::analytics::{AnalyticsEngine, Insight};
use crate::error::{Error, Result};
use crate::sample::{BatchRef, SignalId, Timestamp};
use crate::schema::Schema;

/// Settings of a [`DetectorEngine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Watch properties too (by default only telemetry, since set-points change on purpose).
    pub include_properties: bool,
}

/// Runs one copy of a streaming detector per watched signal and reports each alarm as an
/// [`Insight`] of the detector's [`kind`](StreamingDetector::kind) (`Anomaly`, or `Drift`
/// for drift detectors) whose `score` is the likelihood.
///
/// The hot path does no allocation and no dynamic dispatch: the detector type is a
/// generic parameter and the per-signal detectors live in one flat vector.
///
/// ```
/// use twin::analytics::{AnalyticsEngine, InsightKind};
/// use twin::analytics::detect::{DetectorEngine, EngineConfig, HalfSpaceTrees};
/// let schema = twin::Schema::builder("m")
///     .telemetry(twin::SignalSpec::new("a", ""))
///     .telemetry(twin::SignalSpec::new("b", ""))
///     .build()?;
/// let mut engine = DetectorEngine::new(&schema, HalfSpaceTrees::default(), EngineConfig::default())?;
/// assert_eq!(engine.name(), "hst_detector");
/// let (mut t, mut s, mut v) = (Vec::new(), Vec::new(), Vec::new());
/// for i in 0..3_000_i64 {
///     let wave = (i as f64 * 0.1).sin();
///     for sig in 0..2_u32 {
///         t.push(i);
///         s.push(sig);
///         // Signal b has a spike at 2,500.
///         v.push(if sig == 1 && i == 2_500 { 9.0 } else { wave });
///     }
/// }
/// let mut out = Vec::new();
/// engine.observe(&schema, twin::BatchRef::new(&t, &s, &v)?, &mut out);
/// assert!(out.iter().any(|i| i.time.0 == 2_500 && i.signal.0 == 1 && i.kind == InsightKind::Anomaly));
/// assert!(out.iter().all(|i| (0.0..=1.0).contains(&i.score)));
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DetectorEngine<D> {
    name: String,
    watch: Vec<bool>,
    detectors: Vec<D>,
}

impl<D> DetectorEngine<D>
where
    D: StreamingDetector + Persist + Clone,
{
    /// An engine running a copy of `detector` (in its current state) on every watched
    /// signal of `schema`.
    pub fn new(schema: &Schema, detector: D, config: EngineConfig) -> Result<Self> {
        let n = schema.signal_count();
        if u32::try_from(n).is_err() {
            return Err(Error::InvalidInput(format!("{n} signals are too many")));
        }
        let watch = (0..n)
            .map(|i| config.include_properties || !schema.is_property(SignalId(i as u32)))
            .collect();
        Ok(DetectorEngine {
            name: format!("{}_detector", detector.name()),
            watch,
            detectors: vec![detector; n],
        })
    }

    /// The detector of a signal.
    pub fn detector(&self, id: SignalId) -> Option<&D> {
        self.detectors.get(id.index())
    }
}

impl<D> AnalyticsEngine for DetectorEngine<D>
where
    D: StreamingDetector + Persist + Clone,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn observe(&mut self, _schema: &Schema, batch: BatchRef<'_>, out: &mut Vec<Insight>) {
        let (times, signals, values) = (batch.times(), batch.signals(), batch.values());
        for k in 0..times.len() {
            let i = signals[k] as usize;
            if !self.watch.get(i).copied().unwrap_or(false) {
                continue;
            }
            let Some(d) = self.detectors.get_mut(i) else {
                continue;
            };
            let det = d.update(values[k]);
            if det.alarm {
                out.push(Insight {
                    time: Timestamp(times[k]),
                    signal: SignalId(signals[k]),
                    kind: d.kind(),
                    value: values[k],
                    score: det.likelihood,
                });
            }
        }
    }

    fn save(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.detectors)?)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let detectors: Vec<D> = serde_json::from_value(state)
            .map_err(|e| Error::Serialization(format!("cannot restore {}: {e}", self.name)))?;
        if detectors.len() != self.detectors.len() {
            return Err(Error::Serialization(format!(
                "{} state has {} signals, the schema {}",
                self.name,
                detectors.len(),
                self.detectors.len()
            )));
        }
        detectors.iter().try_for_each(Persist::check)?;
        self.detectors = detectors;
        Ok(())
    }
}
