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
    /// For each schema signal, the index of its detector (`None`: not watched).
    slot: Vec<Option<usize>>,
    /// One detector per watched signal.
    detectors: Vec<D>,
}

impl<D> DetectorEngine<D>
where
    D: StreamingDetector + Persist + Clone,
{
    /// An engine running a copy of `detector` (in its current state) on every telemetry
    /// signal of `schema` (and every property too with `config.include_properties`).
    pub fn new(schema: &Schema, detector: D, config: EngineConfig) -> Result<Self> {
        let n = schema.signal_count();
        if u32::try_from(n).is_err() {
            return Err(Error::InvalidInput(format!("{n} signals are too many")));
        }
        let ids: Vec<SignalId> = (0..n as u32)
            .map(SignalId)
            .filter(|&id| config.include_properties || !schema.is_property(id))
            .collect();
        Self::with_signals(schema, detector, &ids)
    }

    /// An engine running a copy of `detector` (in its current state) on each of `signals`
    /// only. Fails if the list is empty, names a signal twice or holds an id the schema
    /// lacks.
    ///
    /// ```
    /// use twin::analytics::detect::{Cusum, DetectorEngine};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let vib = schema.signal_id("vibration")?;
    /// let engine = DetectorEngine::on_signals(&schema, Cusum::default(), &[vib])?;
    /// assert!(engine.detector(vib).is_some());
    /// assert!(engine.detector(schema.signal_id("load")?).is_none());
    /// assert!(DetectorEngine::on_signals(&schema, Cusum::default(), &[vib, vib]).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn on_signals(schema: &Schema, detector: D, signals: &[SignalId]) -> Result<Self> {
        if signals.is_empty() {
            return Err(Error::InvalidInput("the engine watches no signal".into()));
        }
        Self::with_signals(schema, detector, signals)
    }

    /// Copies of `detector` on `signals` (none at all is allowed here).
    fn with_signals(schema: &Schema, detector: D, signals: &[SignalId]) -> Result<Self> {
        let mut slot = vec![None; schema.signal_count()];
        for (j, id) in signals.iter().enumerate() {
            match slot.get_mut(id.index()) {
                Some(s @ None) => *s = Some(j),
                Some(Some(_)) => {
                    return Err(Error::InvalidInput(format!(
                        "signal {} is listed twice",
                        schema.signal_name(*id)
                    )))
                }
                None => {
                    return Err(Error::InvalidInput(format!(
                        "signal id {} is not in the schema",
                        id.0
                    )))
                }
            }
        }
        Ok(DetectorEngine {
            name: format!("{}_detector", detector.name()),
            slot,
            detectors: vec![detector; signals.len()],
        })
    }

    /// The engine under another name (so that two engines of one kind can share a twin).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The watched signals, in schema order.
    pub fn signals(&self) -> impl Iterator<Item = SignalId> + '_ {
        (0..self.slot.len() as u32)
            .map(SignalId)
            .filter(|id| self.slot[id.index()].is_some())
    }

    /// The detector of a signal (`None` if the signal is not watched).
    pub fn detector(&self, id: SignalId) -> Option<&D> {
        let j = (*self.slot.get(id.index())?)?;
        self.detectors.get(j)
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
            let Some(&Some(j)) = self.slot.get(signals[k] as usize) else {
                continue;
            };
            let Some(d) = self.detectors.get_mut(j) else {
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
        let mut detectors: Vec<D> = serde_json::from_value(state)
            .map_err(|e| Error::Serialization(format!("cannot restore {}: {e}", self.name)))?;
        if detectors.len() != self.detectors.len() && detectors.len() == self.slot.len() {
            // The form saved before signals could be chosen: one detector per schema
            // signal, watched or not; keep each watched signal's, in detector order.
            let mut watched: Vec<(usize, D)> = self
                .slot
                .iter()
                .zip(detectors)
                .filter_map(|(s, d)| s.map(|j| (j, d)))
                .collect();
            watched.sort_by_key(|(j, _)| *j);
            detectors = watched.into_iter().map(|(_, d)| d).collect();
        }
        if detectors.len() != self.detectors.len() {
            return Err(Error::Serialization(format!(
                "{} state has {} detectors, the engine watches {} signals",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::detect::Cusum;
    use crate::entity::ConveyorDrive;

    /// The engine after a run of values on every signal of the conveyor schema.
    fn trained(schema: &Schema) -> DetectorEngine<Cusum> {
        let mut e =
            DetectorEngine::new(schema, Cusum::default(), EngineConfig::default()).expect("engine");
        let n = schema.signal_count() as u32;
        let (mut t, mut s, mut v) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..200_i64 {
            for sig in 0..n {
                t.push(i);
                s.push(sig);
                v.push((i as f64 * 0.3 + f64::from(sig)).sin());
            }
        }
        let batch = BatchRef::new(&t, &s, &v).expect("batch");
        e.observe(schema, batch, &mut Vec::new());
        e
    }

    #[test]
    fn watches_telemetry_only_and_restores_both_saved_forms() {
        let schema = ConveyorDrive::standard_schema();
        let e = trained(&schema);
        let telemetry: Vec<SignalId> = (0..schema.signal_count() as u32)
            .map(SignalId)
            .filter(|&id| !schema.is_property(id))
            .collect();
        assert!(telemetry.len() < schema.signal_count());
        assert_eq!(e.signals().collect::<Vec<_>>(), telemetry);
        let saved = e.save().expect("save");
        assert_eq!(saved.as_array().map(Vec::len), Some(telemetry.len()));
        // Saved as it is now: one detector per watched signal.
        let mut a = DetectorEngine::new(&schema, Cusum::default(), EngineConfig::default())
            .expect("engine");
        a.restore(saved.clone()).expect("restore");
        assert_eq!(a.save().expect("save"), saved);
        // Saved by earlier versions: one detector per schema signal, properties included.
        let fresh = serde_json::to_value(Cusum::default()).expect("json");
        assert!(saved.as_array().expect("array").iter().all(|d| *d != fresh));
        let mut watched = saved.as_array().expect("array").iter();
        let old: Vec<serde_json::Value> = (0..schema.signal_count() as u32)
            .map(|i| {
                if schema.is_property(SignalId(i)) {
                    fresh.clone()
                } else {
                    watched.next().cloned().expect("a watched detector")
                }
            })
            .collect();
        let mut b = DetectorEngine::new(&schema, Cusum::default(), EngineConfig::default())
            .expect("engine");
        b.restore(serde_json::Value::from(old))
            .expect("restore the earlier form");
        assert_eq!(b.save().expect("save"), saved);
        // Any other length is refused.
        let e = b
            .restore(serde_json::Value::from(vec![fresh; 2]))
            .expect_err("two detectors");
        assert!(e.to_string().contains("state has 2 detectors"), "{e}");
    }
}
