#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod analytics;
pub mod codec;
pub mod command;
pub mod connection;
pub mod decision;
pub mod entity;
pub mod error;
#[cfg(feature = "columnar")]
pub mod export;
pub mod fleet;
pub mod maintenance;
pub mod model;
pub(crate) mod persist;
pub mod physics;
pub mod progress;
pub mod sample;
pub mod schema;
pub mod sim;
pub mod state;
pub mod twin;
pub mod whatif;

pub use crate::command::{AuditEntry, Command, CommandGate, Outcome};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::sample::{BatchRef, Sample, SampleBatch, SignalId, Timestamp};
pub use crate::schema::{CommandId, CommandSpec, Schema, SchemaBuilder, SchemaLimits, SignalSpec};
pub use crate::state::{Delta, TwinState};
pub use crate::twin::{
    CommandCounters, IngestCounters, IngestReport, Rejection, StepReport, Twin, TwinBuilder,
    TwinLimits, TwinSnapshot, DEFAULT_MAX_BATCH_SAMPLES,
};
