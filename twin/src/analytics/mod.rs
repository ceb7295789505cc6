//! Analytics: the [`AnalyticsEngine`] trait that turns observations into [`Insight`]s,
//! and built-in engines grouped by job: `detect` (anomaly detectors and limit checks),
//! `features` (condition features), `health` (health index), `rul` (remaining useful life),
//! `estimate` (state estimation and prognosis) and `reliability` (Weibull).

pub mod detect;
pub mod estimate;
pub mod features;
pub mod health;
pub(crate) mod linalg;
pub(crate) mod persist;
pub mod reliability;
pub mod rul;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::sample::{BatchRef, SignalId, Timestamp};
use crate::schema::Schema;

/// What an insight says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum InsightKind {
    /// The signal rose above its high alarm limit.
    AlarmHigh,
    /// The signal fell below its low alarm limit.
    AlarmLow,
    /// The signal came back within its alarm limits.
    AlarmCleared,
    /// The value is improbable given the signal's recent behaviour.
    Anomaly,
    /// The signal's level has shifted (a drift detector found a lasting change).
    Drift,
    /// A remaining-useful-life prediction: `value` is the point RUL, `score` the lower end
    /// of its prediction interval (see [`rul::engine::RulEngine`]).
    Rul,
}

impl InsightKind {
    /// A short lowercase name, stable across versions.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::AlarmHigh => "alarm_high",
            InsightKind::AlarmLow => "alarm_low",
            InsightKind::AlarmCleared => "alarm_cleared",
            InsightKind::Anomaly => "anomaly",
            InsightKind::Drift => "drift",
            InsightKind::Rul => "rul",
        }
    }

    /// Whether this kind reports an abnormal condition (as opposed to a recovery).
    pub fn is_abnormal(self) -> bool {
        !matches!(self, InsightKind::AlarmCleared | InsightKind::Rul)
    }
}

/// A finding about one signal at one time.
///
/// `score` depends on the kind: the z-score for an anomaly, the crossed limit for an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Insight {
    /// When the triggering sample was observed.
    pub time: Timestamp,
    /// The signal concerned.
    pub signal: SignalId,
    /// What was found.
    pub kind: InsightKind,
    /// The triggering value.
    pub value: f64,
    /// Kind-dependent score (z-score for anomalies, the limit for alarms).
    pub score: f64,
}

/// Turns accepted observations into insights.
///
/// Engines see each accepted batch once, in order. They keep bounded state, and save and
/// restore it as JSON so a twin snapshot can carry them.
pub trait AnalyticsEngine: Send {
    /// A stable name, checked when a snapshot is restored.
    fn name(&self) -> &str;
    /// Examine a batch of accepted samples, appending any insights to `out`.
    fn observe(&mut self, schema: &Schema, batch: BatchRef<'_>, out: &mut Vec<Insight>);
    /// The engine's state as JSON.
    fn save(&self) -> Result<serde_json::Value>;
    /// Replace the engine's state with a saved one.
    fn restore(&mut self, state: serde_json::Value) -> Result<()>;
}
