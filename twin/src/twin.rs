//! The [`Twin`]: wires a schema, its state, a digital model, analytics engines and decision
//! rules; ingests samples, produces insights, and sends validated commands back.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::analytics::{AnalyticsEngine, Insight};
use crate::command::{AuditEntry, Command, CommandGate, Outcome};
use crate::connection::DataConnection;
use crate::decision::{CommandRequest, DecisionRule};
use crate::error::{Error, ErrorKind, Result};
use crate::model::DigitalModel;
use crate::sample::{BatchRef, Sample, SampleBatch, SignalId, Timestamp};
use crate::schema::{CommandId, Schema};
use crate::state::TwinState;

/// The snapshot format this version writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 2;

/// The kind name of a sealed snapshot document.
const SNAPSHOT_KIND: &str = "twin.snapshot";

/// One refused sample of a batch: its index in the batch and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Index of the sample in the input batch.
    pub index: usize,
    /// Why it was refused.
    pub kind: ErrorKind,
}

/// What became of one ingested batch: `accepted + rejections.len()` equals its length.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Samples taken into the state.
    pub accepted: usize,
    /// Samples refused, in input order.
    pub rejections: Vec<Rejection>,
}

impl IngestReport {
    /// Number of refused samples.
    pub fn rejected(&self) -> usize {
        self.rejections.len()
    }

    /// Number of samples in the batch.
    pub fn total(&self) -> usize {
        self.accepted + self.rejections.len()
    }
}

/// Running totals of everything a twin was given; `accepted + rejected() == received`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestCounters {
    /// Samples offered to the twin.
    pub received: u64,
    /// Samples taken into the state.
    pub accepted: u64,
    /// Refused: NaN or infinite value.
    pub non_finite: u64,
    /// Refused: signal id not in the schema.
    pub unknown_signal: u64,
    /// Refused: older than the signal's last accepted sample.
    pub out_of_order: u64,
    /// Refused: an exact repeat of the signal's last accepted sample (idempotent).
    pub duplicate: u64,
    /// Refused: same time as the last accepted sample, different value.
    pub timestamp_conflict: u64,
    /// Refused: outside the signal's valid range.
    pub out_of_range: u64,
    /// Refused: part of a batch longer than [`TwinLimits::max_batch_samples`] (such a
    /// batch is refused whole).
    #[serde(default)]
    pub limit_exceeded: u64,
    /// Accepted samples that left the history ring, oldest first, to keep it within
    /// [`TwinLimits::max_history_samples`] (not a refusal: they were accepted).
    #[serde(default)]
    pub history_dropped: u64,
}

impl IngestCounters {
    /// Total refused samples.
    pub fn rejected(&self) -> u64 {
        self.non_finite
            + self.unknown_signal
            + self.out_of_order
            + self.duplicate
            + self.timestamp_conflict
            + self.out_of_range
            + self.limit_exceeded
    }

    fn count(&mut self, kind: ErrorKind) {
        match kind {
            ErrorKind::NonFinite => self.non_finite += 1,
            ErrorKind::UnknownSignal => self.unknown_signal += 1,
            ErrorKind::OutOfOrder => self.out_of_order += 1,
            ErrorKind::Duplicate => self.duplicate += 1,
            ErrorKind::TimestampConflict => self.timestamp_conflict += 1,
            ErrorKind::LimitExceeded => self.limit_exceeded += 1,
            _ => self.out_of_range += 1,
        }
    }
}

/// Running totals of commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandCounters {
    /// Requests that passed validation.
    pub accepted: u64,
    /// Requests refused by validation (never sent).
    pub refused: u64,
    /// Validated commands handed to a connection.
    pub sent: u64,
    /// Validated commands the connection failed to send.
    pub send_failed: u64,
    /// Insights discarded because the pending queue was full.
    pub insights_dropped: u64,
    /// Audit entries discarded because the log was full.
    pub audit_dropped: u64,
}

/// What one [`Twin::step`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// Samples taken from the connection.
    pub polled: usize,
    /// What became of them.
    pub ingest: IngestReport,
    /// Commands handed to the connection.
    pub sent: usize,
    /// Commands the connection failed to send (see the audit log).
    pub send_failed: usize,
}

/// A saved part (model, engine or rule): its name and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPart {
    /// The part's name.
    pub name: String,
    /// The part's state.
    pub state: serde_json::Value,
}

/// Everything a twin has learnt, as plain data: restore it into a twin built with the same
/// schema and parts, and the twin carries on exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinSnapshot {
    /// The snapshot format ([`SNAPSHOT_FORMAT`]).
    pub format: u32,
    schema: Schema,
    state: TwinState,
    gate: CommandGate,
    ingest: IngestCounters,
    commands: CommandCounters,
    latest: Option<i64>,
    model: Option<SavedPart>,
    engines: Vec<SavedPart>,
    rules: Vec<SavedPart>,
    insights: Vec<Insight>,
    audit: Vec<AuditEntry>,
    outbox: Vec<Command>,
    /// The history ring, oldest first; absent (and empty) when the twin keeps none, so
    /// snapshots of twins without history read and write exactly as before.
    #[serde(default, skip_serializing_if = "SampleBatch::is_empty")]
    history: SampleBatch,
}

impl TwinSnapshot {
    /// The snapshot as a sealed JSON document:
    /// `{"format": "twin.snapshot", "version": 2, "checksum": "crc32:..", "snapshot": {..}}`.
    pub fn to_json(&self) -> Result<String> {
        crate::persist::seal(SNAPSHOT_KIND, SNAPSHOT_FORMAT, "snapshot", self)
    }

    /// Read a snapshot from JSON made by [`to_json`](Self::to_json).
    ///
    /// Refused with [`Error::Serialization`] and a message that says why: truncated text,
    /// another kind of document, a version written by a newer release, a checksum that
    /// does not match (corrupted data), or content that does not decode. Snapshots of
    /// format 1 (plain JSON, before checksums) are migrated.
    pub fn from_json(json: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct Peek {
            format: serde_json::Value,
        }
        let peek: Option<Peek> = serde_json::from_str(json).ok();
        if let Some(n) = peek.as_ref().and_then(|p| p.format.as_u64()) {
            // Format 1: the snapshot itself, with a numeric format field.
            if n != 1 {
                return Err(Error::Serialization(format!(
                    "cannot load {SNAPSHOT_KIND}: format {n} is not one this build reads (it writes version {SNAPSHOT_FORMAT} and migrates format 1)"
                )));
            }
            let mut snap: TwinSnapshot = serde_json::from_str(json).map_err(|e| {
                Error::Serialization(format!("cannot load {SNAPSHOT_KIND} of format 1: {e}"))
            })?;
            snap.format = SNAPSHOT_FORMAT;
            return Ok(snap);
        }
        let doc = crate::persist::open(SNAPSHOT_KIND, SNAPSHOT_FORMAT, json)?;
        if doc.version < 2 {
            return Err(Error::Serialization(format!(
                "cannot load {SNAPSHOT_KIND}: version {} is not a sealed snapshot version",
                doc.version
            )));
        }
        let snap: TwinSnapshot = doc.decode(SNAPSHOT_KIND)?;
        if snap.format != SNAPSHOT_FORMAT {
            return Err(Error::Serialization(format!(
                "cannot load {SNAPSHOT_KIND}: its content says format {}, its envelope version {}",
                snap.format, doc.version
            )));
        }
        Ok(snap)
    }

    /// The schema of the snapshotted twin.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The name of the snapshotted model, if the twin had one.
    pub fn model_name(&self) -> Option<&str> {
        self.model.as_ref().map(|m| m.name.as_str())
    }

    /// The names of the snapshotted analytics engines, in order.
    pub fn engine_names(&self) -> Vec<&str> {
        self.engines.iter().map(|e| e.name.as_str()).collect()
    }

    /// The names of the snapshotted decision rules, in order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name.as_str()).collect()
    }
}

/// The default of [`TwinLimits::max_batch_samples`]: 2^24 samples (about 400 MB of
/// columns), far above any sensible batch and low enough to stop a corrupt length.
pub const DEFAULT_MAX_BATCH_SAMPLES: usize = 1 << 24;

/// Bounds on what a twin keeps in memory and accepts in one call.
///
/// Every bound is a count; the defaults are those of [`TwinLimits::default`]:
/// 65 536 pending insights, 10 000 audit entries, no history, and batches of at most
/// [`DEFAULT_MAX_BATCH_SAMPLES`] samples.
///
/// ```
/// use twin::{BatchRef, ErrorKind, Twin, TwinLimits};
/// let limits = TwinLimits { max_history_samples: 3, max_batch_samples: 4, ..TwinLimits::default() };
/// let mut twin = Twin::builder(twin::entity::ConveyorDrive::standard_schema())
///     .limits(limits)
///     .build()?;
/// // Five samples is one more than a batch may hold: all five are refused.
/// let r = twin.ingest_batch(BatchRef::new(&[0, 1, 2, 3, 4], &[0; 5], &[0.5; 5])?);
/// assert_eq!((r.accepted, r.rejected()), (0, 5));
/// assert_eq!(r.rejections[0].kind, ErrorKind::LimitExceeded);
/// // Four are fine; the history keeps the newest three.
/// twin.ingest_batch(BatchRef::new(&[0, 1, 2, 3], &[0; 4], &[0.5, 0.6, 0.7, 0.8])?);
/// assert_eq!(twin.history().as_ref().values(), &[0.6, 0.7, 0.8]);
/// assert_eq!(twin.ingest_counters().history_dropped, 1);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwinLimits {
    /// Insights kept until drained; older ones are dropped and counted beyond this
    /// (default 65 536; at least 1).
    pub max_pending_insights: usize,
    /// Audit entries kept; older ones are dropped and counted beyond this (default 10 000;
    /// at least 1).
    pub max_audit_entries: usize,
    /// Accepted samples kept in the twin's history ring, see [`Twin::history`]; beyond
    /// this the oldest are dropped and counted in
    /// [`IngestCounters::history_dropped`]. Default 0: the twin keeps no history.
    #[serde(default)]
    pub max_history_samples: usize,
    /// The longest batch [`Twin::ingest_batch`] takes; a longer one is refused whole,
    /// every sample counted as [`ErrorKind::LimitExceeded`] (default
    /// [`DEFAULT_MAX_BATCH_SAMPLES`]; at least 1).
    #[serde(default = "default_max_batch_samples")]
    pub max_batch_samples: usize,
}

fn default_max_batch_samples() -> usize {
    DEFAULT_MAX_BATCH_SAMPLES
}

impl Default for TwinLimits {
    fn default() -> Self {
        TwinLimits {
            max_pending_insights: 65_536,
            max_audit_entries: 10_000,
            max_history_samples: 0,
            max_batch_samples: DEFAULT_MAX_BATCH_SAMPLES,
        }
    }
}

impl TwinLimits {
    /// [`Error::InvalidInput`] unless the insight, audit and batch bounds are at least 1
    /// (the history may be 0: no history).
    ///
    /// ```
    /// let zero = twin::TwinLimits { max_batch_samples: 0, ..Default::default() };
    /// assert_eq!(zero.validate().unwrap_err().kind(), twin::ErrorKind::InvalidInput);
    /// ```
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("max_pending_insights", self.max_pending_insights),
            ("max_audit_entries", self.max_audit_entries),
            ("max_batch_samples", self.max_batch_samples),
        ] {
            if v == 0 {
                return Err(Error::InvalidInput(format!(
                    "twin limit {name} must be at least 1"
                )));
            }
        }
        Ok(())
    }

    /// [`Error::LimitExceeded`] naming `max_batch_samples` if a batch of `len` samples is
    /// longer than it.
    ///
    /// ```
    /// let limits = twin::TwinLimits { max_batch_samples: 100, ..Default::default() };
    /// assert!(limits.check_batch(100).is_ok());
    /// let e = limits.check_batch(101).unwrap_err();
    /// assert_eq!(e.to_string(), "limit exceeded: max_batch_samples is 100, got 101");
    /// ```
    pub fn check_batch(&self, len: usize) -> Result<()> {
        if len > self.max_batch_samples {
            return Err(Error::LimitExceeded {
                limit: "max_batch_samples".into(),
                max: self.max_batch_samples as u64,
                value: len as u64,
            });
        }
        Ok(())
    }
}

/// The history ring: the newest `cap` accepted samples. It grows to `cap` as samples come
/// (never beyond), then overwrites the oldest in place, so a full ring allocates nothing.
#[derive(Debug, Clone, Default)]
struct History {
    cap: usize,
    /// Index of the oldest sample once the ring is full.
    head: usize,
    buf: Vec<Sample>,
}

impl History {
    fn new(cap: usize) -> History {
        History {
            cap,
            head: 0,
            buf: Vec::new(),
        }
    }

    /// Keep `s`; true if the oldest sample was dropped to make room. `cap` must be > 0.
    #[inline]
    fn push(&mut self, s: Sample) -> bool {
        if self.buf.len() < self.cap {
            if self.buf.len() == self.buf.capacity() {
                // Grow geometrically but never past the cap.
                let grow = self.buf.len().max(64).min(self.cap - self.buf.len());
                self.buf.reserve_exact(grow);
            }
            self.buf.push(s);
            false
        } else {
            self.buf[self.head] = s;
            self.head = (self.head + 1) % self.cap;
            true
        }
    }

    fn len(&self) -> usize {
        self.buf.len()
    }

    /// Oldest first.
    fn iter(&self) -> impl Iterator<Item = Sample> + '_ {
        let (newer, older) = self.buf.split_at(self.head);
        older.iter().chain(newer).copied()
    }

    fn to_batch(&self) -> SampleBatch {
        let mut out = SampleBatch::with_capacity(self.buf.len());
        for s in self.iter() {
            out.push_sample(s);
        }
        out
    }
}

/// Builds a [`Twin`] from a schema and its parts.
pub struct TwinBuilder {
    schema: Schema,
    model: Option<Box<dyn DigitalModel>>,
    engines: Vec<Box<dyn AnalyticsEngine>>,
    rules: Vec<Box<dyn DecisionRule>>,
    limits: TwinLimits,
}

impl TwinBuilder {
    /// The schema the twin will have (for building its parts).
    ///
    /// ```
    /// let b = twin::Twin::builder(twin::entity::ConveyorDrive::standard_schema());
    /// assert_eq!(b.schema().name(), "conveyor_drive");
    /// ```
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Set the digital model.
    ///
    /// ```
    /// use twin::entity::ConveyorDrive;
    /// use twin::model::ConveyorModel;
    /// let schema = ConveyorDrive::standard_schema();
    /// let model = ConveyorModel::new(&schema, Default::default())?;
    /// let twin = twin::Twin::builder(schema).model(model).build()?;
    /// assert!(twin.model().is_some());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn model(mut self, model: impl DigitalModel + 'static) -> Self {
        self.model = Some(Box::new(model));
        self
    }

    /// Add an analytics engine; engines see each batch in the order they were added.
    ///
    /// ```
    /// use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let monitor = EwmaMonitor::new(&schema, MonitorConfig::default())?;
    /// let twin = twin::Twin::builder(schema).engine(monitor).build()?;
    /// assert_eq!(twin.engine_names(), vec!["ewma_monitor"]);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn engine(mut self, engine: impl AnalyticsEngine + 'static) -> Self {
        self.engines.push(Box::new(engine));
        self
    }

    /// Add a decision rule; rules see each batch's insights in the order they were added.
    ///
    /// ```
    /// use twin::decision::{DerateConfig, DerateRule};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let rule = DerateRule::new(&schema, DerateConfig::conveyor())?;
    /// let twin = twin::Twin::builder(schema).rule(rule).build()?;
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn rule(mut self, rule: impl DecisionRule + 'static) -> Self {
        self.rules.push(Box::new(rule));
        self
    }

    /// Set memory bounds.
    ///
    /// ```
    /// use twin::TwinLimits;
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let limits = TwinLimits { max_pending_insights: 10, ..TwinLimits::default() };
    /// let twin = twin::Twin::builder(schema).limits(limits).build()?;
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn limits(mut self, limits: TwinLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Validate and build the twin.
    pub fn build(self) -> Result<Twin> {
        self.limits.validate()?;
        let mut names: Vec<&str> = self.engines.iter().map(|e| e.name()).collect();
        names.extend(self.rules.iter().map(|r| r.name()));
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::InvalidInput(format!(
                "two parts are named {:?}",
                w[0]
            )));
        }
        let schema = Arc::new(self.schema);
        Ok(Twin {
            state: TwinState::new(&schema),
            gate: CommandGate::new(&schema),
            schema,
            model: self.model,
            engines: self.engines,
            rules: self.rules,
            history: History::new(self.limits.max_history_samples),
            limits: self.limits,
            ingest: IngestCounters::default(),
            commands: CommandCounters::default(),
            latest: None,
            insights: VecDeque::new(),
            audit: VecDeque::new(),
            outbox: Vec::new(),
            scratch: SampleBatch::new(),
            poll_buf: SampleBatch::new(),
            new_insights: Vec::new(),
            requests: Vec::new(),
        })
    }

    /// Build the twin and load a snapshot into it. The snapshot's schema must equal the
    /// builder's, and its model, engines and rules must match by name and order.
    pub fn restore(self, snapshot: TwinSnapshot) -> Result<Twin> {
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(Error::Serialization(format!(
                "snapshot format {} is not supported",
                snapshot.format
            )));
        }
        if snapshot.schema != self.schema {
            return Err(Error::Serialization(
                "the snapshot was taken with another schema".into(),
            ));
        }
        let mut twin = self.build()?;
        snapshot.state.check_shape(&twin.schema)?;
        let mismatch = |what: &str| {
            Error::Serialization(format!("the snapshot's {what} differ from the twin's"))
        };
        match (&mut twin.model, snapshot.model) {
            (None, None) => {}
            (Some(m), Some(saved)) if m.name() == saved.name => m.restore(saved.state)?,
            _ => return Err(mismatch("model")),
        }
        if twin.engines.len() != snapshot.engines.len() || twin.rules.len() != snapshot.rules.len()
        {
            return Err(mismatch("engines or rules"));
        }
        for (e, saved) in twin.engines.iter_mut().zip(snapshot.engines) {
            if e.name() != saved.name {
                return Err(mismatch("engines"));
            }
            e.restore(saved.state)?;
        }
        for (r, saved) in twin.rules.iter_mut().zip(snapshot.rules) {
            if r.name() != saved.name {
                return Err(mismatch("rules"));
            }
            r.restore(saved.state)?;
        }
        twin.state = snapshot.state;
        twin.gate = snapshot.gate;
        twin.ingest = snapshot.ingest;
        twin.commands = snapshot.commands;
        twin.latest = snapshot.latest;
        twin.insights = snapshot.insights.into();
        twin.audit = snapshot.audit.into();
        twin.outbox = snapshot.outbox;
        // The restoring twin's bound rules: keep the newest samples that fit.
        let cap = twin.limits.max_history_samples;
        if cap > 0 {
            let saved = snapshot.history.as_ref();
            let skip = saved.len().saturating_sub(cap);
            for s in saved.iter().skip(skip) {
                twin.history.push(s);
            }
            twin.ingest.history_dropped += skip as u64;
        }
        Ok(twin)
    }
}

/// A digital twin of one asset.
///
/// ```
/// use twin::{Twin, Timestamp};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let vib = schema.signal_id("vibration")?;
/// let mut twin = Twin::builder(schema).build()?;
/// let report = twin.ingest_batch(twin::BatchRef::new(
///     &[0, 1, 1, 0],
///     &[vib.0, vib.0, vib.0, 99],
///     &[1.0, 1.1, 1.1, 2.0],
/// )?);
/// // The repeat at t=1 is a duplicate, id 99 is unknown: 2 accepted, 2 refused.
/// assert_eq!((report.accepted, report.rejected()), (2, 2));
/// assert_eq!(twin.state().reported(vib), Some(1.1));
/// # Ok::<(), twin::Error>(())
/// ```
pub struct Twin {
    schema: Arc<Schema>,
    state: TwinState,
    gate: CommandGate,
    model: Option<Box<dyn DigitalModel>>,
    engines: Vec<Box<dyn AnalyticsEngine>>,
    rules: Vec<Box<dyn DecisionRule>>,
    limits: TwinLimits,
    history: History,
    ingest: IngestCounters,
    commands: CommandCounters,
    latest: Option<i64>,
    insights: VecDeque<Insight>,
    audit: VecDeque<AuditEntry>,
    outbox: Vec<Command>,
    // Reused buffers: the hot path allocates nothing per sample.
    scratch: SampleBatch,
    poll_buf: SampleBatch,
    new_insights: Vec<Insight>,
    requests: Vec<CommandRequest>,
}

impl std::fmt::Debug for Twin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twin")
            .field("schema", &self.schema.name())
            .field("version", &self.state.version())
            .field("ingest", &self.ingest)
            .field("commands", &self.commands)
            .finish_non_exhaustive()
    }
}

impl Twin {
    /// Start building a twin for a schema.
    pub fn builder(schema: Schema) -> TwinBuilder {
        TwinBuilder {
            schema,
            model: None,
            engines: Vec::new(),
            rules: Vec::new(),
            limits: TwinLimits::default(),
        }
    }

    /// The twin's schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The twin's state.
    pub fn state(&self) -> &TwinState {
        &self.state
    }

    /// The digital model, if any.
    pub fn model(&self) -> Option<&dyn DigitalModel> {
        self.model.as_deref()
    }

    /// A copy of the digital model's forward model, from its current estimate: what
    /// what-if runs and survival advice branch from. The copy is independent of the twin.
    ///
    /// Errors: the twin has no model, or its model cannot run forward
    /// ([`Error::InvalidInput`]).
    pub fn forward_model(&self) -> Result<Box<dyn crate::whatif::ForwardModel>> {
        let model = self.model.as_deref().ok_or_else(|| {
            Error::InvalidInput("the twin has no digital model to run a what-if on".into())
        })?;
        model.forward().ok_or_else(|| {
            Error::InvalidInput(format!(
                "model {} cannot run what-if scenarios",
                model.name()
            ))
        })
    }

    /// Run the twin's digital model forward under a what-if scenario, from its current
    /// estimate, without touching the twin (see [`crate::whatif`]).
    ///
    /// Errors: those of [`Twin::forward_model`], and every error of [`crate::whatif::run`].
    pub fn what_if(
        &self,
        scenario: &crate::whatif::Scenario,
    ) -> Result<crate::whatif::WhatIfResult> {
        crate::whatif::run(self.forward_model()?.as_ref(), scenario)
    }

    /// Names of the analytics engines, in order.
    pub fn engine_names(&self) -> Vec<&str> {
        self.engines.iter().map(|e| e.name()).collect()
    }

    /// The twin's bounds.
    ///
    /// ```
    /// let twin = twin::Twin::builder(twin::entity::ConveyorDrive::standard_schema()).build()?;
    /// assert_eq!(twin.limits().max_history_samples, 0);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn limits(&self) -> &TwinLimits {
        &self.limits
    }

    /// The recent accepted samples, oldest first in order of acceptance (within a batch,
    /// batch order): at most [`TwinLimits::max_history_samples`] of them, empty when the
    /// twin keeps no history. A copy, columnar, ready for
    /// `twin::export::history_batch` (feature `columnar`) or a replay connection.
    ///
    /// ```
    /// use twin::{BatchRef, Twin, TwinLimits};
    /// let limits = TwinLimits { max_history_samples: 2, ..TwinLimits::default() };
    /// let mut twin = Twin::builder(twin::entity::ConveyorDrive::standard_schema())
    ///     .limits(limits)
    ///     .build()?;
    /// twin.ingest_batch(BatchRef::new(&[10, 20, 30], &[1, 1, 1], &[0.1, 0.2, 0.3])?);
    /// let h = twin.history();
    /// assert_eq!((h.as_ref().times(), h.as_ref().values()), (&[20, 30][..], &[0.2, 0.3][..]));
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn history(&self) -> SampleBatch {
        self.history.to_batch()
    }

    /// Number of samples in the history ring (at most
    /// [`TwinLimits::max_history_samples`]).
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Running totals of ingested samples.
    pub fn ingest_counters(&self) -> IngestCounters {
        self.ingest
    }

    /// Running totals of commands.
    pub fn command_counters(&self) -> CommandCounters {
        self.commands
    }

    /// The latest accepted sample time, if any.
    pub fn now(&self) -> Option<Timestamp> {
        self.latest.map(Timestamp)
    }

    /// Ingest one sample; a refused sample is an error that says why.
    ///
    /// ```
    /// use twin::{ErrorKind, Sample, Timestamp, Twin};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let load = schema.signal_id("load")?;
    /// let mut twin = Twin::builder(schema).build()?;
    /// twin.ingest(Sample::new(Timestamp(10), load, 0.7))?;
    /// let e = twin.ingest(Sample::new(Timestamp(5), load, 0.7)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::OutOfOrder);
    /// let e = twin.ingest(Sample::new(Timestamp(20), load, f64::NAN)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::NonFinite);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn ingest(&mut self, sample: Sample) -> Result<()> {
        let report = self.ingest_batch(BatchRef::from_sample(&sample));
        match report.rejections.first() {
            None => Ok(()),
            Some(r) => Err(self.rejection_error(sample, r.kind)),
        }
    }

    /// The detailed error for a sample the batch path refused with `kind`. A refused sample
    /// leaves the state as it was, so the last accepted time is still the one it met.
    fn rejection_error(&self, s: Sample, kind: ErrorKind) -> Error {
        let i = s.signal.index();
        let name = || self.schema.signal_name(s.signal).to_string();
        match kind {
            ErrorKind::UnknownSignal => Error::UnknownSignal(format!("signal id {}", s.signal.0)),
            ErrorKind::NonFinite => Error::NonFinite(name()),
            ErrorKind::OutOfRange => Error::OutOfRange {
                name: name(),
                value: s.value,
                min: self.schema.lower_bounds()[i],
                max: self.schema.upper_bounds()[i],
            },
            ErrorKind::Duplicate => Error::Duplicate {
                signal: name(),
                time: s.time.0,
            },
            ErrorKind::TimestampConflict => Error::TimestampConflict {
                signal: name(),
                time: s.time.0,
            },
            ErrorKind::OutOfOrder => Error::OutOfOrder {
                signal: name(),
                time: s.time.0,
                last: self.state.last_time_raw(i),
            },
            ErrorKind::LimitExceeded => match self.limits.check_batch(1) {
                Err(e) => e,
                Ok(()) => Error::InvalidInput("sample refused: limit_exceeded".into()),
            },
            other => Error::InvalidInput(format!("sample refused: {other}")),
        }
    }

    /// Ingest a columnar batch. Each sample is accepted or refused on its own; the report
    /// lists every refusal with its index and reason, and `accepted + rejected` always
    /// equals the batch length. Accepted samples then go to the model, the engines and the
    /// rules; any commands the rules request are validated and queued for sending.
    ///
    /// A batch longer than [`TwinLimits::max_batch_samples`] is refused whole: every
    /// sample is a rejection of kind [`ErrorKind::LimitExceeded`] (counted in
    /// [`IngestCounters::limit_exceeded`]) and nothing reaches the state;
    /// [`TwinLimits::check_batch`] gives the error that explains it.
    pub fn ingest_batch(&mut self, batch: BatchRef<'_>) -> IngestReport {
        let (times, signals, values) = (batch.times(), batch.signals(), batch.values());
        let n = times.len();
        let mut report = IngestReport::default();
        if n > self.limits.max_batch_samples {
            self.ingest.received += n as u64;
            self.ingest.limit_exceeded += n as u64;
            report.rejections = (0..n)
                .map(|index| Rejection {
                    index,
                    kind: ErrorKind::LimitExceeded,
                })
                .collect();
            return report;
        }
        let lo = self.schema.lower_bounds();
        let hi = self.schema.upper_bounds();
        let nsig = lo.len();
        let keep_history = self.history.cap > 0;
        let mut latest = self.latest.unwrap_or(i64::MIN);
        for k in 0..n {
            let (t, v) = (times[k], values[k]);
            let i = signals[k] as usize;
            let kind = if i >= nsig {
                ErrorKind::UnknownSignal
            } else if !v.is_finite() {
                ErrorKind::NonFinite
            } else if v < lo[i] || v > hi[i] {
                ErrorKind::OutOfRange
            } else {
                let last = self.state.last_time_raw(i);
                if t > last {
                    self.state.report(i, t, v);
                    latest = latest.max(t);
                    if keep_history
                        && self
                            .history
                            .push(Sample::new(Timestamp(t), SignalId(signals[k]), v))
                    {
                        self.ingest.history_dropped += 1;
                    }
                    continue;
                } else if t < last {
                    ErrorKind::OutOfOrder
                } else if self.state.last_value_raw(i).to_bits() == v.to_bits() {
                    ErrorKind::Duplicate
                } else {
                    ErrorKind::TimestampConflict
                }
            };
            self.ingest.count(kind);
            report.rejections.push(Rejection { index: k, kind });
        }
        report.accepted = n - report.rejections.len();
        self.ingest.received += n as u64;
        self.ingest.accepted += report.accepted as u64;
        if report.accepted > 0 {
            self.latest = Some(latest);
            if report.rejections.is_empty() {
                self.process(batch);
            } else {
                let mut accepted = std::mem::take(&mut self.scratch);
                accepted.clear();
                let mut next = report.rejections.iter().map(|r| r.index).peekable();
                for k in 0..n {
                    if next.peek() == Some(&k) {
                        next.next();
                    } else {
                        accepted.push(Timestamp(times[k]), SignalId(signals[k]), values[k]);
                    }
                }
                self.process(accepted.as_ref());
                self.scratch = accepted;
            }
        }
        report
    }

    /// Run accepted samples through the model, the engines and the rules.
    fn process(&mut self, batch: BatchRef<'_>) {
        if let Some(m) = self.model.as_mut() {
            m.assimilate(batch);
        }
        self.new_insights.clear();
        for e in self.engines.iter_mut() {
            e.observe(&self.schema, batch, &mut self.new_insights);
        }
        let now = Timestamp(self.latest.unwrap_or(0));
        if !self.rules.is_empty() {
            let mut requests = std::mem::take(&mut self.requests);
            for ri in 0..self.rules.len() {
                requests.clear();
                self.rules[ri].evaluate(&self.state, &self.new_insights, now, &mut requests);
                for req in requests.iter() {
                    let source = self.rules[ri].name().to_string();
                    // A refusal is recorded in the audit log; the rule carries on.
                    let _ = self.issue(req.command, req.value, now, source);
                }
            }
            self.requests = requests;
        }
        let cap = self.limits.max_pending_insights;
        for ins in self.new_insights.drain(..) {
            if self.insights.len() == cap {
                self.insights.pop_front();
                self.commands.insights_dropped += 1;
            }
            self.insights.push_back(ins);
        }
    }

    fn log(&mut self, entry: AuditEntry) {
        if self.audit.len() == self.limits.max_audit_entries {
            self.audit.pop_front();
            self.commands.audit_dropped += 1;
        }
        self.audit.push_back(entry);
    }

    fn issue(
        &mut self,
        id: CommandId,
        value: f64,
        time: Timestamp,
        source: String,
    ) -> Result<Command> {
        let name = self
            .schema
            .command(id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|_| format!("#{}", id.0));
        let result = self
            .gate
            .validate(&self.schema, id, value, time)
            .and_then(|cmd| {
                if let Some(prop) = self.schema.command_property(id) {
                    self.state
                        .set_desired(&self.schema, prop, value, time, None)?;
                }
                Ok(cmd)
            });
        let outcome = match &result {
            Ok(cmd) => {
                self.commands.accepted += 1;
                if let Some(m) = self.model.as_mut() {
                    m.apply(cmd);
                }
                self.outbox.push(cmd.clone());
                Outcome::Accepted
            }
            Err(e) => {
                self.commands.refused += 1;
                Outcome::refused(e)
            }
        };
        self.log(AuditEntry {
            time,
            command: name,
            value,
            source,
            outcome,
        });
        result
    }

    /// Record what became of a command that left the outbox.
    fn log_outbox(&mut self, cmd: &Command, outcome: Outcome) {
        self.log(AuditEntry {
            time: cmd.time(),
            command: cmd.name().to_string(),
            value: cmd.value(),
            source: "outbox".into(),
            outcome,
        });
    }

    /// Request a command by name at `time`. It is validated against the schema's limits
    /// and rate limits; if it passes, it sets the desired value of its property, goes to
    /// the model, and waits in the outbox for [`Twin::flush`] or [`Twin::step`]. Either way
    /// it is recorded in the audit log.
    ///
    /// ```
    /// use twin::{ErrorKind, Timestamp, Twin};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let mut twin = Twin::builder(schema).build()?;
    /// twin.command("set_speed", 1.8, Timestamp(0))?;
    /// let e = twin.command("set_speed", 9.0, Timestamp(60_000_000_000)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::OutOfRange);
    /// assert_eq!(twin.pending_commands().len(), 1);
    /// assert_eq!(twin.audit_log().count(), 2);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn command(&mut self, name: &str, value: f64, time: Timestamp) -> Result<Command> {
        self.command_as(name, value, time, "user")
    }

    /// [`Twin::command`] on behalf of `source` (for example an advisor), which the audit
    /// log records as the requester.
    ///
    /// ```
    /// use twin::{Timestamp, Twin};
    /// let mut twin = Twin::builder(twin::entity::ConveyorDrive::standard_schema()).build()?;
    /// twin.command_as("set_speed", 1.5, Timestamp(0), "advisor")?;
    /// assert_eq!(twin.audit_log().next().map(|e| e.source.as_str()), Some("advisor"));
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn command_as(
        &mut self,
        name: &str,
        value: f64,
        time: Timestamp,
        source: &str,
    ) -> Result<Command> {
        let id = match self.schema.command_id(name) {
            Ok(id) => id,
            Err(e) => {
                self.commands.refused += 1;
                self.log(AuditEntry {
                    time,
                    command: name.to_string(),
                    value,
                    source: source.into(),
                    outcome: Outcome::refused(&e),
                });
                return Err(e);
            }
        };
        self.issue(id, value, time, source.into())
    }

    /// Set the desired value of a property (optimistic concurrency with `expected_version`).
    ///
    /// ```
    /// use twin::{ErrorKind, Timestamp, Twin};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let mut twin = Twin::builder(schema).build()?;
    /// let v = twin.state().version();
    /// twin.set_desired("speed_setpoint", 1.5, Timestamp(0), Some(v))?;
    /// let e = twin.set_desired("speed_setpoint", 1.0, Timestamp(0), Some(v)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::VersionConflict);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn set_desired(
        &mut self,
        property: &str,
        value: f64,
        time: Timestamp,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        let id = self.schema.signal_id(property)?;
        self.state
            .set_desired(&self.schema, id, value, time, expected_version)
    }

    /// Validated commands waiting to be sent.
    pub fn pending_commands(&self) -> &[Command] {
        &self.outbox
    }

    /// Take the validated commands waiting to be sent (for hosts that send them themselves).
    pub fn take_commands(&mut self) -> Vec<Command> {
        let taken = std::mem::take(&mut self.outbox);
        for cmd in &taken {
            self.commands.sent += 1;
            self.log_outbox(cmd, Outcome::Sent);
        }
        taken
    }

    /// Send every pending command through a connection. Returns (sent, failed); a failed
    /// command is recorded in the audit log and not retried.
    pub fn flush(&mut self, conn: &mut dyn DataConnection) -> (usize, usize) {
        let outbox = std::mem::take(&mut self.outbox);
        let (mut sent, mut failed) = (0, 0);
        for cmd in &outbox {
            let outcome = match conn.send(cmd) {
                Ok(()) => {
                    sent += 1;
                    self.commands.sent += 1;
                    Outcome::Sent
                }
                Err(e) => {
                    failed += 1;
                    self.commands.send_failed += 1;
                    Outcome::send_failed(&e)
                }
            };
            self.log_outbox(cmd, outcome);
        }
        (sent, failed)
    }

    /// Poll up to `max_samples` from a connection, ingest them, and send pending commands
    /// back through it.
    pub fn step(
        &mut self,
        conn: &mut dyn DataConnection,
        max_samples: usize,
    ) -> Result<StepReport> {
        let mut buf = std::mem::take(&mut self.poll_buf);
        buf.clear();
        let polled = conn.poll(&mut buf, max_samples);
        let ingest = match polled {
            Ok(_) => self.ingest_batch(buf.as_ref()),
            Err(e) => {
                self.poll_buf = buf;
                return Err(e);
            }
        };
        let polled = buf.len();
        self.poll_buf = buf;
        let (sent, send_failed) = self.flush(conn);
        Ok(StepReport {
            polled,
            ingest,
            sent,
            send_failed,
        })
    }

    /// Insights waiting to be read, oldest first.
    pub fn insights(&self) -> impl Iterator<Item = &Insight> {
        self.insights.iter()
    }

    /// Take every pending insight, oldest first.
    pub fn drain_insights(&mut self) -> Vec<Insight> {
        self.insights.drain(..).collect()
    }

    /// Take up to `max` pending insights, oldest first; the rest stay pending.
    ///
    /// ```
    /// use twin::{BatchRef, Twin};
    /// use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
    /// let schema = twin::Schema::builder("m")
    ///     .telemetry(twin::SignalSpec::new("x", "").alarm_high(1.0))
    ///     .build()?;
    /// let monitor = EwmaMonitor::new(&schema, MonitorConfig::default())?;
    /// let mut twin = Twin::builder(schema).engine(monitor).build()?;
    /// twin.ingest_batch(BatchRef::new(&[0, 1, 2], &[0, 0, 0], &[2.0, 0.0, 2.0])?);
    /// let first: Vec<i64> = twin.drain_insights_up_to(2).map(|i| i.time.0).collect();
    /// assert_eq!(first, vec![0, 1]);
    /// assert_eq!(twin.insights().count(), 1);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn drain_insights_up_to(&mut self, max: usize) -> impl Iterator<Item = Insight> + '_ {
        let n = max.min(self.insights.len());
        self.insights.drain(..n)
    }

    /// The command audit log, oldest first.
    pub fn audit_log(&self) -> impl Iterator<Item = &AuditEntry> {
        self.audit.iter()
    }

    /// Save everything the twin has learnt.
    pub fn snapshot(&self) -> Result<TwinSnapshot> {
        let model = match &self.model {
            Some(m) => Some(SavedPart {
                name: m.name().to_string(),
                state: m.save()?,
            }),
            None => None,
        };
        let engines = self
            .engines
            .iter()
            .map(|e| {
                Ok(SavedPart {
                    name: e.name().to_string(),
                    state: e.save()?,
                })
            })
            .collect::<Result<_>>()?;
        let rules = self
            .rules
            .iter()
            .map(|r| {
                Ok(SavedPart {
                    name: r.name().to_string(),
                    state: r.save()?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(TwinSnapshot {
            format: SNAPSHOT_FORMAT,
            schema: (*self.schema).clone(),
            state: self.state.clone(),
            gate: self.gate.clone(),
            ingest: self.ingest,
            commands: self.commands,
            latest: self.latest,
            model,
            engines,
            rules,
            insights: self.insights.iter().copied().collect(),
            audit: self.audit.iter().cloned().collect(),
            outbox: self.outbox.clone(),
            history: self.history.to_batch(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::detect::{EwmaMonitor, MonitorConfig};
    use crate::schema::SignalSpec;

    fn assert_send<T: Send>() {}

    #[test]
    fn twins_can_move_between_threads() {
        assert_send::<Twin>();
        assert_send::<TwinSnapshot>();
    }

    #[test]
    fn pending_insights_are_bounded_and_overflow_is_counted() {
        let schema = Schema::builder("m")
            .telemetry(SignalSpec::new("x", "").alarm_high(1.0))
            .build()
            .expect("schema");
        let monitor = EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
        let limits = TwinLimits {
            max_pending_insights: 4,
            max_audit_entries: 2,
            ..TwinLimits::default()
        };
        let mut twin = Twin::builder(schema)
            .engine(monitor)
            .limits(limits)
            .build()
            .expect("twin");
        // Alternate across the alarm limit: every sample after the first is a transition.
        let times: Vec<i64> = (0..10).collect();
        let values: Vec<f64> = (0..10)
            .map(|i| if i % 2 == 0 { 0.0 } else { 2.0 })
            .collect();
        twin.ingest_batch(BatchRef::new(&times, &[0; 10], &values).expect("batch"));
        let kept: Vec<i64> = twin.insights().map(|i| i.time.0).collect();
        assert_eq!(kept, vec![6, 7, 8, 9]);
        assert_eq!(twin.command_counters().insights_dropped, 5);
        assert_eq!(twin.drain_insights().len(), 4);
        assert_eq!(twin.insights().count(), 0);
    }

    #[test]
    fn duplicate_part_names_and_zero_limits_are_refused() {
        let schema = crate::entity::ConveyorDrive::standard_schema();
        let m = || EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
        let e = Twin::builder(schema.clone())
            .engine(m())
            .engine(m())
            .build()
            .expect_err("dup");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let zero = TwinLimits {
            max_pending_insights: 0,
            ..TwinLimits::default()
        };
        assert!(Twin::builder(schema).limits(zero).build().is_err());
    }

    fn limited(limits: TwinLimits) -> Twin {
        Twin::builder(crate::entity::ConveyorDrive::standard_schema())
            .limits(limits)
            .build()
            .expect("twin")
    }

    /// `n` samples of signal 0 at times 0..n with values 0.001 * time.
    fn ramp(from: i64, n: usize) -> (Vec<i64>, Vec<u32>, Vec<f64>) {
        let t: Vec<i64> = (from..from + n as i64).collect();
        let v = t.iter().map(|&t| 0.001 * t as f64).collect();
        (t, vec![0; n], v)
    }

    #[test]
    fn batches_at_and_below_the_cap_pass_and_above_it_are_refused_whole() {
        let mut twin = limited(TwinLimits {
            max_batch_samples: 8,
            ..TwinLimits::default()
        });
        let (t, s, v) = ramp(0, 7);
        let r = twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        assert_eq!((r.accepted, r.rejected()), (7, 0));
        let (t, s, v) = ramp(7, 8);
        let r = twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        assert_eq!((r.accepted, r.rejected()), (8, 0));
        let (t, s, v) = ramp(15, 9);
        let r = twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        assert_eq!((r.accepted, r.rejected()), (0, 9));
        assert!(r
            .rejections
            .iter()
            .enumerate()
            .all(|(i, x)| x.index == i && x.kind == ErrorKind::LimitExceeded));
        // Nothing of the refused batch reached the state.
        assert_eq!(twin.state().reported(SignalId(0)), Some(0.001 * 14.0));
        assert_eq!(twin.now(), Some(Timestamp(14)));
        let c = twin.ingest_counters();
        assert_eq!((c.received, c.accepted, c.limit_exceeded), (24, 15, 9));
        assert_eq!(c.accepted + c.rejected(), c.received);
        let e = twin.limits().check_batch(9).expect_err("over");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert_eq!(
            e.to_string(),
            "limit exceeded: max_batch_samples is 8, got 9"
        );
    }

    #[test]
    fn the_history_ring_keeps_the_newest_samples_in_arrival_order() {
        let mut twin = limited(TwinLimits {
            max_history_samples: 5,
            ..TwinLimits::default()
        });
        // Below the cap: everything kept, nothing dropped.
        let (t, s, v) = ramp(0, 4);
        twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        assert_eq!(twin.history().as_ref().times(), &[0, 1, 2, 3]);
        assert_eq!(twin.ingest_counters().history_dropped, 0);
        // At the cap.
        twin.ingest(Sample::new(Timestamp(4), SignalId(1), 0.5))
            .expect("sample");
        assert_eq!(twin.history_len(), 5);
        assert_eq!(twin.ingest_counters().history_dropped, 0);
        // Above: refused samples never enter; accepted ones push the oldest out.
        let r = twin.ingest_batch(
            BatchRef::new(&[5, 3, 6, 7], &[0, 0, 1, 0], &[0.005, 9.0, 0.6, 0.007]).expect("batch"),
        );
        assert_eq!((r.accepted, r.rejected()), (3, 1));
        let h = twin.history();
        assert_eq!(h.as_ref().times(), &[3, 4, 5, 6, 7]);
        assert_eq!(h.as_ref().signals(), &[0, 1, 0, 1, 0]);
        assert_eq!(h.as_ref().values(), &[0.003, 0.5, 0.005, 0.6, 0.007]);
        assert_eq!(twin.ingest_counters().history_dropped, 3);
        // A long run: the ring never holds more than its cap, the count reconciles.
        let (t, s, v) = ramp(100, 1000);
        twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        assert_eq!(
            twin.history().as_ref().times(),
            &[1095, 1096, 1097, 1098, 1099]
        );
        let c = twin.ingest_counters();
        assert_eq!(c.history_dropped + twin.history_len() as u64, c.accepted);
        assert!(twin.history.buf.capacity() <= 5);
    }

    #[test]
    fn no_history_by_default() {
        let mut twin = limited(TwinLimits::default());
        let (t, s, v) = ramp(0, 100);
        twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        assert!(twin.history().is_empty());
        assert_eq!(twin.ingest_counters().history_dropped, 0);
        let json = twin.snapshot().expect("snap").to_json().expect("json");
        assert!(!json.contains("\"history\""), "{json}");
    }

    #[test]
    fn the_history_survives_a_snapshot_and_a_smaller_ring_keeps_the_newest() {
        let limits = TwinLimits {
            max_history_samples: 6,
            ..TwinLimits::default()
        };
        let mut twin = limited(limits);
        let (t, s, v) = ramp(0, 10);
        twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        let json = twin.snapshot().expect("snap").to_json().expect("json");
        let snap = TwinSnapshot::from_json(&json).expect("read");
        let builder = || Twin::builder(crate::entity::ConveyorDrive::standard_schema());
        let same = builder()
            .limits(limits)
            .restore(snap.clone())
            .expect("restore");
        assert_eq!(same.history(), twin.history());
        assert_eq!(same.ingest_counters(), twin.ingest_counters());
        let smaller = builder()
            .limits(TwinLimits {
                max_history_samples: 2,
                ..limits
            })
            .restore(snap.clone())
            .expect("restore");
        assert_eq!(smaller.history().as_ref().times(), &[8, 9]);
        assert_eq!(smaller.ingest_counters().history_dropped, 4 + 4);
        let none = builder().restore(snap).expect("restore");
        assert!(none.history().is_empty());
        // Carries on: the restored ring keeps rolling.
        let mut same = same;
        same.ingest(Sample::new(Timestamp(10), SignalId(0), 0.01))
            .expect("sample");
        assert_eq!(same.history().as_ref().times(), &[5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn a_snapshot_without_history_still_loads() {
        let mut twin = limited(TwinLimits::default());
        let (t, s, v) = ramp(0, 3);
        twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        let json = twin.snapshot().expect("snap").to_json().expect("json");
        // Written by a twin with no history: what older versions wrote, and loads into a
        // twin that keeps history, empty.
        let restored = Twin::builder(crate::entity::ConveyorDrive::standard_schema())
            .limits(TwinLimits {
                max_history_samples: 4,
                ..TwinLimits::default()
            })
            .restore(TwinSnapshot::from_json(&json).expect("read"))
            .expect("restore");
        assert!(restored.history().is_empty());
        // Limits saved before the new fields existed read with their defaults.
        let old: TwinLimits =
            serde_json::from_str(r#"{"max_pending_insights": 5, "max_audit_entries": 6}"#)
                .expect("limits");
        assert_eq!(old.max_history_samples, 0);
        assert_eq!(old.max_batch_samples, DEFAULT_MAX_BATCH_SAMPLES);
    }

    #[test]
    fn zero_batch_cap_is_refused() {
        let e = Twin::builder(crate::entity::ConveyorDrive::standard_schema())
            .limits(TwinLimits {
                max_batch_samples: 0,
                ..TwinLimits::default()
            })
            .build()
            .expect_err("zero");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("max_batch_samples"), "{e}");
    }
}
