//! Plain `#[repr(C)]` values the C API fills in: reports, rejections, insights, counters
//! and commands.

use std::ffi::c_char;

use twin::analytics::{Insight, InsightKind};
use twin::{Command, IngestCounters};

use crate::result::TwinResult;

/// What became of one ingested batch: `accepted + rejected` equals the batch length.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TwinIngestReport {
    /// Samples taken into the state.
    pub accepted: usize,
    /// Samples refused; read which and why with `twin_twin_last_rejections`.
    pub rejected: usize,
}

/// One refused sample: its index in the ingested batch and why it was refused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwinRejection {
    /// Index of the sample in the batch (0 for `twin_twin_ingest`).
    pub index: usize,
    /// Why: `TWIN_RESULT_UNKNOWN_SIGNAL`, `TWIN_RESULT_NON_FINITE`,
    /// `TWIN_RESULT_OUT_OF_RANGE`, `TWIN_RESULT_OUT_OF_ORDER`, `TWIN_RESULT_DUPLICATE`,
    /// `TWIN_RESULT_TIMESTAMP_CONFLICT`, or `TWIN_RESULT_LIMIT_EXCEEDED` for every sample of a
    /// batch longer than the twin's `max_batch_samples`.
    pub reason: TwinResult,
}

/// What an insight says. Codes are append-only.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwinInsightKind {
    /// A kind this version of the C interface has no code for.
    Other = 0,
    /// The signal rose above its high alarm limit (`score` is the limit).
    AlarmHigh = 1,
    /// The signal fell below its low alarm limit (`score` is the limit).
    AlarmLow = 2,
    /// The signal came back within its alarm limits (`score` is the limit it had crossed).
    AlarmCleared = 3,
    /// The value is improbable given the signal's recent behaviour (`score` is the z-score).
    Anomaly = 4,
    /// A drift detector found a lasting change of level (`score` is its likelihood).
    Drift = 5,
    /// A remaining-useful-life prediction (`value` is the point RUL, `score` the lower end of
    /// its prediction interval).
    Rul = 6,
}

impl TwinInsightKind {
    /// The code of an engine insight kind.
    pub fn from_kind(kind: InsightKind) -> TwinInsightKind {
        match kind {
            InsightKind::AlarmHigh => TwinInsightKind::AlarmHigh,
            InsightKind::AlarmLow => TwinInsightKind::AlarmLow,
            InsightKind::AlarmCleared => TwinInsightKind::AlarmCleared,
            InsightKind::Anomaly => TwinInsightKind::Anomaly,
            InsightKind::Drift => TwinInsightKind::Drift,
            InsightKind::Rul => TwinInsightKind::Rul,
            _ => TwinInsightKind::Other,
        }
    }
}

/// A finding about one signal at one time.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinInsight {
    /// When the triggering sample was observed, in nanoseconds.
    pub time_ns: i64,
    /// The signal's id.
    pub signal: u32,
    /// What was found.
    pub kind: TwinInsightKind,
    /// The triggering value.
    pub value: f64,
    /// Kind-dependent score: the z-score for an anomaly, the crossed limit for an alarm.
    pub score: f64,
}

impl From<&Insight> for TwinInsight {
    fn from(i: &Insight) -> Self {
        TwinInsight {
            time_ns: i.time.as_nanos(),
            signal: i.signal.0,
            kind: TwinInsightKind::from_kind(i.kind),
            value: i.value,
            score: i.score,
        }
    }
}

/// Running totals of a twin: `accepted + rejected == received`, and `rejected` is the sum
/// of the seven reasons (the six of a sample and `limit_exceeded`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TwinCounters {
    /// Samples offered to the twin.
    pub received: u64,
    /// Samples taken into the state.
    pub accepted: u64,
    /// Samples refused, for any reason.
    pub rejected: u64,
    /// Refused: NaN or infinite value.
    pub non_finite: u64,
    /// Refused: signal id not in the schema.
    pub unknown_signal: u64,
    /// Refused: older than the signal's last accepted sample.
    pub out_of_order: u64,
    /// Refused: an exact repeat of the signal's last accepted sample.
    pub duplicate: u64,
    /// Refused: same time as the signal's last accepted sample, another value.
    pub timestamp_conflict: u64,
    /// Refused: outside the signal's valid range.
    pub out_of_range: u64,
    /// Command requests that passed validation.
    pub commands_accepted: u64,
    /// Command requests refused by validation (never sent).
    pub commands_refused: u64,
    /// Validated commands that left the twin: taken out with `twin_twin_take_commands` or
    /// accepted by a connection's send callback in `twin_twin_step`.
    pub commands_taken: u64,
    /// Insights discarded, oldest first, because too many were pending.
    pub insights_dropped: u64,
    /// Validated commands a connection's send callback refused in `twin_twin_step` (kept
    /// in the audit log as failed).
    pub commands_send_failed: u64,
    /// Refused: part of a batch longer than the twin's `max_batch_samples` (such a batch
    /// is refused whole).
    pub limit_exceeded: u64,
    /// Accepted samples that left the history ring, oldest first (not refusals).
    pub history_dropped: u64,
}

impl TwinCounters {
    pub(crate) fn new(i: IngestCounters, c: twin::CommandCounters) -> Self {
        TwinCounters {
            received: i.received,
            accepted: i.accepted,
            rejected: i.rejected(),
            non_finite: i.non_finite,
            unknown_signal: i.unknown_signal,
            out_of_order: i.out_of_order,
            duplicate: i.duplicate,
            timestamp_conflict: i.timestamp_conflict,
            out_of_range: i.out_of_range,
            commands_accepted: c.accepted,
            commands_refused: c.refused,
            commands_taken: c.sent,
            insights_dropped: c.insights_dropped,
            commands_send_failed: c.send_failed,
            limit_exceeded: i.limit_exceeded,
            history_dropped: i.history_dropped,
        }
    }
}

/// A validated command, ready to send to the asset.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinCommand {
    /// When the twin issued it, in nanoseconds.
    pub time_ns: i64,
    /// Sequence number among the commands the twin let through (from 1).
    pub seq: u64,
    /// The commanded value, within the command's limits.
    pub value: f64,
    /// The command's id in the schema (see `twin_schema_command_id`).
    pub command: u32,
}

impl From<&Command> for TwinCommand {
    fn from(c: &Command) -> Self {
        TwinCommand {
            time_ns: c.time().as_nanos(),
            seq: c.seq(),
            value: c.value(),
            command: c.id().0,
        }
    }
}

/// A static, NUL-terminated name of an insight kind: `"alarm_high"`, `"alarm_low"`,
/// `"alarm_cleared"`, `"anomaly"`, `"drift"`, `"rul"`, or `"other"` for any other number.
///
/// Thread safety: may be called from any thread at any time.
#[no_mangle]
pub extern "C" fn twin_insight_kind_name(kind: u32) -> *const c_char {
    ffi_boundary!(value "twin_insight_kind_name", c"other".as_ptr(), {
        let name = match kind {
            k if k == TwinInsightKind::AlarmHigh as u32 => c"alarm_high",
            k if k == TwinInsightKind::AlarmLow as u32 => c"alarm_low",
            k if k == TwinInsightKind::AlarmCleared as u32 => c"alarm_cleared",
            k if k == TwinInsightKind::Anomaly as u32 => c"anomaly",
            k if k == TwinInsightKind::Drift as u32 => c"drift",
            k if k == TwinInsightKind::Rul as u32 => c"rul",
            _ => c"other",
        };
        name.as_ptr()
    })
}
