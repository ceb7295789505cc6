//! Shared parts of the multivariate detectors: training-data checks, column
//! standardization, the [`MultivariateScorer`] trait and the [`MultivariateEngine`].

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::analytics::{AnalyticsEngine, Insight, InsightKind};
use crate::error::{Error, Result};
use crate::sample::{BatchRef, SignalId, Timestamp};
use crate::schema::Schema;

/// Check training data: at least `min_rows` rows, at least one column, every value finite.
pub(crate) fn check_training(data: &Array2<f64>, min_rows: usize, what: &str) -> Result<()> {
    let (n, d) = data.dim();
    if d == 0 {
        return Err(Error::InvalidInput(format!(
            "{what}: training data has no columns"
        )));
    }
    if n < min_rows {
        return Err(Error::InvalidInput(format!(
            "{what}: {n} training rows are too few for {d} columns (need at least {min_rows})"
        )));
    }
    if let Some(((r, c), v)) = data.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite(format!(
            "{what} training data at row {r}, column {c} ({v})"
        )));
    }
    Ok(())
}

/// Check one observation: its length and finiteness.
pub(crate) fn check_point(x: &[f64], dim: usize, what: &str) -> Result<()> {
    if x.len() != dim {
        return Err(Error::InvalidInput(format!(
            "{what}: observation has {} values, the model {dim}",
            x.len()
        )));
    }
    if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite(format!(
            "{what} observation value {i} ({v})"
        )));
    }
    Ok(())
}

/// Per-column centering and scaling learned from training data.
///
/// A constant column keeps a tiny scale (`1e-9 * max(|mean|, 1)`) instead of zero: it
/// contributes nothing while it stays constant, and any departure from its training value
/// stands out, as a never-seen change should.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Standardizer {
    pub(crate) mean: Vec<f64>,
    pub(crate) scale: Vec<f64>,
}

impl Standardizer {
    pub(crate) fn fit(data: &Array2<f64>) -> Self {
        let n = data.nrows() as f64;
        let mut mean = Vec::with_capacity(data.ncols());
        let mut scale = Vec::with_capacity(data.ncols());
        for col in data.columns() {
            let m = col.sum() / n;
            let var = col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            mean.push(m);
            scale.push(var.sqrt().max(1e-9 * m.abs().max(1.0)));
        }
        Standardizer { mean, scale }
    }

    pub(crate) fn dim(&self) -> usize {
        self.mean.len()
    }

    #[inline]
    pub(crate) fn z(&self, j: usize, v: f64) -> f64 {
        (v - self.mean[j]) / self.scale[j]
    }

    /// The standardized training matrix.
    pub(crate) fn apply(&self, data: &Array2<f64>) -> Array2<f64> {
        let mut z = data.clone();
        for (j, mut col) in z.columns_mut().into_iter().enumerate() {
            col.mapv_inplace(|v| self.z(j, v));
        }
        z
    }

    pub(crate) fn check(&self) -> Result<()> {
        let ok = self.mean.len() == self.scale.len()
            && !self.mean.is_empty()
            && self.mean.iter().all(|v| v.is_finite())
            && self.scale.iter().all(|v| v.is_finite() && *v > 0.0);
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization("invalid standardization".into()))
        }
    }
}

/// The common result of a multivariate detector on one observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MultivariateScore {
    /// The model's main statistic (T² or SPE for PCA, whichever is more unusual; D² for
    /// Mahalanobis).
    pub statistic: f64,
    /// Anomaly likelihood in [0, 1].
    pub likelihood: f64,
    /// Whether the likelihood reached the model's threshold.
    pub alarm: bool,
}

/// A fitted multivariate model that scores one observation at a time.
pub trait MultivariateScorer {
    /// A short stable name, such as `"pca"`.
    fn name(&self) -> &'static str;
    /// The number of variables an observation has.
    fn dim(&self) -> usize;
    /// Score one observation (no allocation).
    fn score_point(&self, x: &[f64]) -> Result<MultivariateScore>;
    /// The index of the variable that contributes most to the observation's score.
    fn top_contributor(&self, x: &[f64]) -> Result<usize>;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ScanState {
    latest: Vec<f64>,
    seen: Vec<bool>,
    dirty: bool,
    time: i64,
}

/// Runs a fitted multivariate model over a set of signals as an [`AnalyticsEngine`].
///
/// It keeps the latest value of each of its signals and scores the vector once per scan:
/// when a sample arrives with a later time than the scan's, and at the end of each batch,
/// provided every signal has been seen and one of them changed. An alarm becomes an
/// [`InsightKind::Anomaly`] on the signal that contributes most, with the likelihood as
/// its score.
///
/// ```
/// use ndarray::Array2;
/// use twin::analytics::{AnalyticsEngine, InsightKind};
/// use twin::analytics::detect::{MahalanobisDetector, MultivariateEngine};
/// let schema = twin::Schema::builder("m")
///     .telemetry(twin::SignalSpec::new("a", ""))
///     .telemetry(twin::SignalSpec::new("b", ""))
///     .build()?;
/// // Healthy: b follows a closely.
/// let healthy = Array2::from_shape_fn((200, 2), |(i, j)| {
///     let a = (i as f64 * 0.37).sin();
///     a + j as f64 * 0.05 * (i as f64 * 1.3).cos()
/// });
/// let model = MahalanobisDetector::default().fit(&healthy)?;
/// let mut engine = MultivariateEngine::new(&schema, model, &["a", "b"])?;
/// let mut out = Vec::new();
/// // b = -a breaks the correlation at t = 7.
/// let batch = twin::BatchRef::new(&[6, 6, 7, 7], &[0, 1, 0, 1], &[0.5, 0.52, 0.5, -0.5])?;
/// engine.observe(&schema, batch, &mut out);
/// assert_eq!(out.len(), 1);
/// assert_eq!((out[0].time.0, out[0].kind), (7, InsightKind::Anomaly));
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MultivariateEngine<M> {
    name: String,
    model: M,
    signals: Vec<SignalId>,
    /// For each schema signal, its position among the model's variables.
    slot: Vec<Option<usize>>,
    state: ScanState,
}

impl<M: MultivariateScorer + Send> MultivariateEngine<M> {
    /// An engine scoring the named signals (in the model's variable order) with `model`.
    pub fn new(schema: &Schema, model: M, signals: &[&str]) -> Result<Self> {
        if signals.len() != model.dim() {
            return Err(Error::InvalidInput(format!(
                "{} signals given for a model of {} variables",
                signals.len(),
                model.dim()
            )));
        }
        let ids = signals
            .iter()
            .map(|s| schema.signal_id(s))
            .collect::<Result<Vec<_>>>()?;
        let mut slot = vec![None; schema.signal_count()];
        for (j, id) in ids.iter().enumerate() {
            match slot.get_mut(id.index()) {
                Some(s @ None) => *s = Some(j),
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "signal {} is listed twice",
                        signals[j]
                    )))
                }
            }
        }
        let d = ids.len();
        Ok(MultivariateEngine {
            name: format!("{}_multivariate", model.name()),
            model,
            signals: ids,
            slot,
            state: ScanState {
                latest: vec![0.0; d],
                seen: vec![false; d],
                dirty: false,
                time: i64::MIN,
            },
        })
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    fn score_scan(&mut self, out: &mut Vec<Insight>) {
        let st = &mut self.state;
        if !st.dirty || !st.seen.iter().all(|&s| s) {
            return;
        }
        st.dirty = false;
        let Ok(score) = self.model.score_point(&st.latest) else {
            return;
        };
        if score.alarm {
            let j = self.model.top_contributor(&st.latest).unwrap_or(0);
            if let (Some(&signal), Some(&value)) = (self.signals.get(j), st.latest.get(j)) {
                out.push(Insight {
                    time: Timestamp(st.time),
                    signal,
                    kind: InsightKind::Anomaly,
                    value,
                    score: score.likelihood,
                });
            }
        }
    }
}

impl<M: MultivariateScorer + Send> AnalyticsEngine for MultivariateEngine<M> {
    fn name(&self) -> &str {
        &self.name
    }

    fn observe(&mut self, _schema: &Schema, batch: BatchRef<'_>, out: &mut Vec<Insight>) {
        let (times, signals, values) = (batch.times(), batch.signals(), batch.values());
        for k in 0..times.len() {
            let Some(&Some(j)) = self.slot.get(signals[k] as usize) else {
                continue;
            };
            if !values[k].is_finite() {
                continue;
            }
            if times[k] > self.state.time {
                self.score_scan(out);
                self.state.time = times[k];
            }
            self.state.latest[j] = values[k];
            self.state.seen[j] = true;
            self.state.dirty = true;
        }
        self.score_scan(out);
    }

    fn save(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.state)?)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let st: ScanState = serde_json::from_value(state)
            .map_err(|e| Error::Serialization(format!("cannot restore {}: {e}", self.name)))?;
        if st.latest.len() != self.signals.len() || st.seen.len() != self.signals.len() {
            return Err(Error::Serialization(format!(
                "{} state has {} variables, the model {}",
                self.name,
                st.latest.len(),
                self.signals.len()
            )));
        }
        self.state = st;
        Ok(())
    }
}
