//! The crate's one error type, [`Error`], and its stable classification, [`ErrorKind`].
//!
//! Bindings (C result codes, Python exception classes) map from [`ErrorKind`], never
//! from message text, so messages may improve without breaking anyone.

use serde::{Deserialize, Serialize};

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is: a small `Copy` value that bindings map from.
///
/// New kinds may be added (the enum is non-exhaustive) but existing ones never change
/// meaning, so the C result codes derived from them are append-only.
///
/// ```
/// use twin::{Error, ErrorKind};
/// let e = Error::UnknownSignal("rpm".into());
/// assert_eq!(e.kind(), ErrorKind::UnknownSignal);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument or a configuration value is invalid.
    InvalidInput,
    /// A value is NaN or infinite.
    NonFinite,
    /// A signal, property or command name (or id) is not in the schema.
    UnknownSignal,
    /// A sample is older than the last accepted sample of its signal.
    OutOfOrder,
    /// A sample repeats the time and value of the last accepted sample of its signal.
    Duplicate,
    /// A sample has the time of the last accepted sample of its signal but another value.
    TimestampConflict,
    /// A value lies outside the valid range the schema gives for it.
    OutOfRange,
    /// A schema (or other document) could not be parsed or is inconsistent.
    Schema,
    /// A command would move faster than its rate limit allows.
    RateLimited,
    /// An optimistic-concurrency check failed: the state version has moved on.
    VersionConflict,
    /// A bounded channel is full and its policy is to refuse.
    ChannelFull,
    /// The other end of a connection has gone away.
    Disconnected,
    /// Reading or writing a file or stream failed.
    Io,
    /// Saved data (a snapshot, a model) could not be encoded or decoded.
    Serialization,
    /// A twin id is not in the fleet.
    UnknownTwin,
    /// A configured resource limit (history length, schema size, batch size, number of
    /// twins, ...) would be exceeded.
    LimitExceeded,
    /// A long run was cancelled through its [`crate::progress::Progress`] hook.
    Cancelled,
}

impl ErrorKind {
    /// A short lowercase name of the kind, stable across versions.
    ///
    /// ```
    /// assert_eq!(twin::ErrorKind::OutOfOrder.as_str(), "out_of_order");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NonFinite => "non_finite",
            ErrorKind::UnknownSignal => "unknown_signal",
            ErrorKind::OutOfOrder => "out_of_order",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::TimestampConflict => "timestamp_conflict",
            ErrorKind::OutOfRange => "out_of_range",
            ErrorKind::Schema => "schema",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::VersionConflict => "version_conflict",
            ErrorKind::ChannelFull => "channel_full",
            ErrorKind::Disconnected => "disconnected",
            ErrorKind::Io => "io",
            ErrorKind::Serialization => "serialization",
            ErrorKind::UnknownTwin => "unknown_twin",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::Cancelled => "cancelled",
        }
    }

    /// Every kind, in the order of their C result codes.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::InvalidInput,
        ErrorKind::NonFinite,
        ErrorKind::UnknownSignal,
        ErrorKind::OutOfOrder,
        ErrorKind::Duplicate,
        ErrorKind::TimestampConflict,
        ErrorKind::OutOfRange,
        ErrorKind::Schema,
        ErrorKind::RateLimited,
        ErrorKind::VersionConflict,
        ErrorKind::ChannelFull,
        ErrorKind::Disconnected,
        ErrorKind::Io,
        ErrorKind::Serialization,
        ErrorKind::UnknownTwin,
        ErrorKind::LimitExceeded,
        ErrorKind::Cancelled,
    ];
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every way an operation of this crate can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or configuration value is invalid.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A value is NaN or infinite.
    #[error("non-finite value for {0}")]
    NonFinite(String),
    /// A name or id is not in the schema.
    #[error("unknown signal, property or command: {0}")]
    UnknownSignal(String),
    /// A sample is older than the last accepted one of its signal.
    #[error(
        "out-of-order sample for {signal}: time {time} ns is before the last accepted {last} ns"
    )]
    OutOfOrder {
        /// The signal's name.
        signal: String,
        /// The sample's time in nanoseconds.
        time: i64,
        /// The last accepted time in nanoseconds.
        last: i64,
    },
    /// A sample repeats the last accepted one exactly.
    #[error("duplicate sample for {signal} at {time} ns")]
    Duplicate {
        /// The signal's name.
        signal: String,
        /// The sample's time in nanoseconds.
        time: i64,
    },
    /// A sample has the time of the last accepted sample but another value.
    #[error(
        "conflicting sample for {signal} at {time} ns: a different value was already accepted"
    )]
    TimestampConflict {
        /// The signal's name.
        signal: String,
        /// The sample's time in nanoseconds.
        time: i64,
    },
    /// A value lies outside its valid range.
    #[error("value {value} of {name} is outside its valid range [{min}, {max}]")]
    OutOfRange {
        /// The signal, property or command name.
        name: String,
        /// The offending value.
        value: f64,
        /// Lower bound of the valid range.
        min: f64,
        /// Upper bound of the valid range.
        max: f64,
    },
    /// A schema is malformed or inconsistent.
    #[error("schema error: {0}")]
    Schema(String),
    /// A command changes faster than its rate limit allows.
    #[error("command {command} refused by its rate limit: {reason}")]
    RateLimited {
        /// The command's name.
        command: String,
        /// Which limit, and by how much.
        reason: String,
    },
    /// The state version moved on since the caller read it.
    #[error("version conflict: expected version {expected}, current version is {current}")]
    VersionConflict {
        /// The version the caller expected.
        expected: u64,
        /// The version the state is at.
        current: u64,
    },
    /// A bounded channel is full and refuses more.
    #[error("channel full: capacity {capacity} reached")]
    ChannelFull {
        /// The channel's capacity.
        capacity: usize,
    },
    /// The other side of a connection is gone.
    #[error("disconnected: {0}")]
    Disconnected(String),
    /// An I/O failure.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON encoding or decoding failure.
    #[error("serialization error: {0}")]
    Json(#[from] serde_json::Error),
    /// Saved data is inconsistent with what it is loaded into.
    #[error("serialization error: {0}")]
    Serialization(String),
    /// A twin id is not in the fleet.
    #[error("unknown twin {0}")]
    UnknownTwin(u64),
    /// A configured resource limit would be exceeded.
    #[error("limit exceeded: {limit} is {max}, got {value}")]
    LimitExceeded {
        /// Which limit, by its setting's name (for example `max_batch_samples`).
        limit: String,
        /// The configured maximum.
        max: u64,
        /// The value that would exceed it.
        value: u64,
    },
    /// A long run was cancelled through its [`crate::progress::Progress`] hook.
    #[error("cancelled: the run was stopped before it finished")]
    Cancelled,
}

impl Error {
    /// The stable [`ErrorKind`] of this error.
    ///
    /// ```
    /// use twin::{Error, ErrorKind};
    /// let e = Error::VersionConflict { expected: 1, current: 2 };
    /// assert_eq!(e.kind(), ErrorKind::VersionConflict);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::NonFinite(_) => ErrorKind::NonFinite,
            Error::UnknownSignal(_) => ErrorKind::UnknownSignal,
            Error::OutOfOrder { .. } => ErrorKind::OutOfOrder,
            Error::Duplicate { .. } => ErrorKind::Duplicate,
            Error::TimestampConflict { .. } => ErrorKind::TimestampConflict,
            Error::OutOfRange { .. } => ErrorKind::OutOfRange,
            Error::Schema(_) => ErrorKind::Schema,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::VersionConflict { .. } => ErrorKind::VersionConflict,
            Error::ChannelFull { .. } => ErrorKind::ChannelFull,
            Error::Disconnected(_) => ErrorKind::Disconnected,
            Error::Io(_) => ErrorKind::Io,
            Error::Json(_) | Error::Serialization(_) => ErrorKind::Serialization,
            Error::UnknownTwin(_) => ErrorKind::UnknownTwin,
            Error::LimitExceeded { .. } => ErrorKind::LimitExceeded,
            Error::Cancelled => ErrorKind::Cancelled,
        }
    }
}
