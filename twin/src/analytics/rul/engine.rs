//! A fitted RUL model running live inside a [`Twin`](crate::Twin).
//!
//! [`RulEngine`] is an [`AnalyticsEngine`]: it listens to the signals the model was
//! trained on, assembles them into rows (one row per *cycle*: a row is complete once every
//! signal has reported since the previous row), keeps a bounded history of the rows, and
//! every `every` rows asks the model for a [`RulPrediction`]. Each prediction becomes an
//! [`Insight`] of kind [`InsightKind::Rul`] whose `value` is the point RUL and whose
//! `score` is the interval's lower end (the conservative figure to plan maintenance on);
//! the whole prediction, interval included, is kept as [`RulEngine::latest`] (and in the
//! engine's part of a twin snapshot).
//!
//! Row times are cycle numbers (1, 2, 3, ...) by default, as in run-to-failure
//! libraries such as C-MAPSS; with [`RowClock::Seconds`] they are the sample times in
//! seconds, and the RUL is then in seconds too. Train the model on the same clock.

use serde::{Deserialize, Serialize};

use super::ensemble::FittedRulEnsemble;
use super::exponential::FittedExponentialRul;
use super::regression::FittedRegressionRul;
use super::similarity::FittedSimilarityRul;
use super::{RulPrediction, UnitSeries};
use crate::analytics::{AnalyticsEngine, Insight, InsightKind};
use crate::error::{Error, Result};
use crate::sample::{BatchRef, SignalId, Timestamp};
use crate::schema::Schema;

/// A fitted model that predicts RUL from a unit's history so far.
pub trait RulPredictor: Send {
    /// The prediction for a unit observed up to its last row.
    fn predict_unit(&self, unit: &UnitSeries) -> Result<RulPrediction>;
    /// The number of signals (columns) the model expects.
    fn signals_expected(&self) -> usize;
}

macro_rules! predictor {
    ($t:ty) => {
        impl RulPredictor for $t {
            fn predict_unit(&self, unit: &UnitSeries) -> Result<RulPrediction> {
                self.predict(unit)
            }
            fn signals_expected(&self) -> usize {
                self.n_signals()
            }
        }
    };
}
predictor!(FittedExponentialRul);
predictor!(FittedSimilarityRul);
predictor!(FittedRegressionRul);
predictor!(FittedRulEnsemble);

/// How row times are measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RowClock {
    /// Rows are numbered 1, 2, 3, ... (a cycle count).
    Cycles,
    /// Rows carry the time of their last sample, in seconds.
    Seconds,
}

/// Settings of a [`RulEngine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulEngineConfig {
    /// The signals forming a row, in the model's column order.
    pub signals: Vec<SignalId>,
    /// Predict after every `every` completed rows (at least 1).
    pub every: usize,
    /// Rows kept (the oldest are dropped); at least 2.
    pub max_rows: usize,
    /// How row times are measured.
    pub clock: RowClock,
    /// The unit identifier passed to the model.
    pub unit: u64,
}

impl RulEngineConfig {
    /// Rows of `signals`, a prediction after every row, up to 1,000 rows kept, cycle clock.
    pub fn new(signals: Vec<SignalId>) -> Self {
        RulEngineConfig {
            signals,
            every: 1,
            max_rows: 1000,
            clock: RowClock::Cycles,
            unit: 0,
        }
    }
}

/// The state of a [`RulEngine`] that a snapshot carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RulEngineState {
    /// Completed rows, oldest first: times and row-major values.
    times: Vec<f64>,
    values: Vec<f64>,
    /// Rows completed since the start (including dropped ones).
    rows_total: u64,
    /// Values of the row being assembled.
    pending: Vec<Option<f64>>,
    latest: Option<(Timestamp, RulPrediction)>,
    /// Prediction failures (for example too few rows yet for the model's window).
    failures: u64,
}

/// Runs a fitted RUL model on a twin's live data; see the [module docs](self).
///
/// ```
/// use twin::analytics::rul::engine::{RulEngine, RulEngineConfig};
/// use twin::analytics::rul::regression::{RegressionConfig, RegressionRul};
/// use twin::analytics::rul::{Fleet, UnitSeries};
/// use twin::{Sample, Schema, SignalSpec, Timestamp, Twin};
/// # use ndarray::Array2;
/// // A model trained on twelve units whose one signal rises as they near failure.
/// let units = (0..12u64).map(|u| {
///     let life = 60 + 7 * u as usize;
///     let time: Vec<f64> = (1..=life).map(|t| t as f64).collect();
///     let vals = Array2::from_shape_fn((life, 1), |(r, _)| (-((life - 1 - r) as f64 / 20.0)).exp());
///     UnitSeries::new(u, time, vals)
/// }).collect::<Result<Vec<_>, _>>()?;
/// let mut config = RegressionConfig::default();
/// config.cap = 50.0;
/// config.calibration.folds = 3;
/// let model = RegressionRul::new(config)?.fit(&Fleet::new(units)?)?;
///
/// let schema = Schema::builder("unit").telemetry(SignalSpec::new("wear", "1")).build()?;
/// let wear = schema.signal_id("wear")?;
/// let mut twin = Twin::builder(schema)
///     .engine(RulEngine::new(model, RulEngineConfig::new(vec![wear]))?)
///     .build()?;
/// // A unit with 80 cycles of life, observed for its first 60.
/// for r in 0..60usize {
///     let value = (-((79 - r) as f64 / 20.0)).exp();
///     twin.ingest(Sample::new(Timestamp::from_secs_f64(r as f64), wear, value))?;
/// }
/// let rul = twin.drain_insights().last().copied().expect("a prediction");
/// assert!((rul.value - 20.0).abs() < 8.0, "{rul:?}");
/// assert!(rul.score <= rul.value);
/// # Ok::<(), twin::Error>(())
/// ```
pub struct RulEngine<M: RulPredictor> {
    model: M,
    config: RulEngineConfig,
    /// Column of each signal id, `usize::MAX` when not watched.
    column: Vec<usize>,
    state: RulEngineState,
}

impl<M: RulPredictor> RulEngine<M> {
    /// An engine running `model` on rows of `config.signals`.
    ///
    /// Errors: [`Error::InvalidInput`] when the number of signals differs from the
    /// model's, a signal appears twice, `every` is 0 or `max_rows` below 2.
    pub fn new(model: M, config: RulEngineConfig) -> Result<Self> {
        let d = config.signals.len();
        if d != model.signals_expected() {
            return Err(Error::InvalidInput(format!(
                "rul engine: {d} signals given, the model was trained on {}",
                model.signals_expected()
            )));
        }
        if config.every == 0 {
            return Err(Error::InvalidInput(
                "rul engine: every must be at least 1".into(),
            ));
        }
        if config.max_rows < 2 {
            return Err(Error::InvalidInput(
                "rul engine: max_rows must be at least 2".into(),
            ));
        }
        let top = config.signals.iter().map(|s| s.index()).max().unwrap_or(0);
        let mut column = vec![usize::MAX; top + 1];
        for (j, s) in config.signals.iter().enumerate() {
            if column[s.index()] != usize::MAX {
                return Err(Error::InvalidInput(format!(
                    "rul engine: signal {} appears twice",
                    s.index()
                )));
            }
            column[s.index()] = j;
        }
        Ok(RulEngine {
            model,
            column,
            state: RulEngineState {
                times: Vec::new(),
                values: Vec::new(),
                rows_total: 0,
                pending: vec![None; d],
                latest: None,
                failures: 0,
            },
            config,
        })
    }

    /// The latest prediction and the time of the row it was made at.
    pub fn latest(&self) -> Option<(Timestamp, RulPrediction)> {
        self.state.latest
    }

    /// Rows completed since the start.
    pub fn rows(&self) -> u64 {
        self.state.rows_total
    }

    /// Predictions the model refused (for example while the history is still shorter
    /// than the model needs); each leaves the previous prediction in place.
    pub fn failures(&self) -> u64 {
        self.state.failures
    }

    /// The fitted model.
    pub fn model(&self) -> &M {
        &self.model
    }

    fn complete_row(&mut self, time: Timestamp, out: &mut Vec<Insight>) {
        let d = self.config.signals.len();
        let st = &mut self.state;
        st.rows_total += 1;
        let t = match self.config.clock {
            RowClock::Cycles => st.rows_total as f64,
            RowClock::Seconds => time.as_secs_f64(),
        };
        if st.times.last().is_some_and(|&last| t <= last) {
            // Two rows at the same instant on the seconds clock: keep the later values.
            let start = st.values.len() - d;
            for (slot, v) in st.values[start..].iter_mut().zip(&st.pending) {
                *slot = v.unwrap_or(*slot);
            }
        } else {
            if st.times.len() == self.config.max_rows {
                st.times.remove(0);
                st.values.drain(..d);
            }
            st.times.push(t);
            st.values
                .extend(st.pending.iter().map(|v| v.unwrap_or(f64::NAN)));
        }
        st.pending.iter_mut().for_each(|v| *v = None);
        if st.rows_total % self.config.every as u64 != 0 {
            return;
        }
        let unit =
            UnitSeries::from_row_major(self.config.unit, st.times.clone(), st.values.clone(), d);
        match unit.and_then(|u| self.model.predict_unit(&u)) {
            Ok(p) if p.rul.is_finite() => {
                st.latest = Some((time, p));
                out.push(Insight {
                    time,
                    signal: self.config.signals[0],
                    kind: InsightKind::Rul,
                    value: p.rul,
                    score: p.lower,
                });
            }
            _ => st.failures += 1,
        }
    }
}

impl<M: RulPredictor> AnalyticsEngine for RulEngine<M> {
    fn name(&self) -> &str {
        "rul"
    }

    fn observe(&mut self, _schema: &Schema, batch: BatchRef<'_>, out: &mut Vec<Insight>) {
        let (times, signals, values) = (batch.times(), batch.signals(), batch.values());
        for k in 0..times.len() {
            let Some(&j) = self.column.get(SignalId(signals[k]).index()) else {
                continue;
            };
            if j == usize::MAX {
                continue;
            }
            self.state.pending[j] = Some(values[k]);
            if self.state.pending.iter().all(Option::is_some) {
                self.complete_row(Timestamp::from_nanos(times[k]), out);
            }
        }
    }

    fn save(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.state)?)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let st: RulEngineState = serde_json::from_value(state)
            .map_err(|e| Error::Serialization(format!("cannot restore rul engine: {e}")))?;
        let d = self.config.signals.len();
        if st.pending.len() != d
            || st.values.len() != st.times.len() * d
            || st.times.len() > self.config.max_rows
        {
            return Err(Error::Serialization(format!(
                "rul engine state does not fit {d} signals and {} rows",
                self.config.max_rows
            )));
        }
        self.state = st;
        Ok(())
    }
}
