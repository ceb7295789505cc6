//! Commands to the asset and their validation. A [`Command`] can only be made by
//! [`CommandGate::validate`], which checks it against the schema's limits and rate
//! limits, so an unsafe command is refused and never sent.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::sample::Timestamp;
use crate::schema::{CommandId, Schema};

/// A validated command: within its limits and rate limits when it left the twin.
///
/// ```
/// use twin::{CommandGate, Timestamp};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let set_speed = schema.command_id("set_speed")?;
/// let mut gate = CommandGate::new(&schema);
/// let cmd = gate.validate(&schema, set_speed, 1.2, Timestamp(0))?;
/// assert_eq!((cmd.name(), cmd.value()), ("set_speed", 1.2));
/// assert!(gate.validate(&schema, set_speed, 99.0, Timestamp(10_000_000_000)).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    id: CommandId,
    name: String,
    value: f64,
    time: Timestamp,
    seq: u64,
}

impl Command {
    /// The command's id in its schema.
    pub fn id(&self) -> CommandId {
        self.id
    }
    /// The command's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The commanded value.
    pub fn value(&self) -> f64 {
        self.value
    }
    /// When the twin issued it.
    pub fn time(&self) -> Timestamp {
        self.time
    }
    /// Sequence number among the commands this gate let through (from 1).
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// What became of a command request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Outcome {
    /// Passed validation and queued for sending.
    Accepted,
    /// Handed to a connection (or taken by the host) for the asset.
    Sent,
    /// Refused before it left the twin.
    Refused {
        /// Why, as a stable kind.
        kind: ErrorKind,
        /// Why, in words.
        message: String,
    },
    /// Validated, but the connection failed to send it.
    SendFailed {
        /// Why, as a stable kind.
        kind: ErrorKind,
        /// Why, in words.
        message: String,
    },
}

impl Outcome {
    /// A short lowercase name, stable across versions.
    ///
    /// ```
    /// assert_eq!(twin::Outcome::Sent.as_str(), "sent");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Sent => "sent",
            Outcome::Refused { .. } => "refused",
            Outcome::SendFailed { .. } => "send_failed",
        }
    }

    /// A refusal for `error`.
    pub fn refused(error: &Error) -> Self {
        Outcome::Refused {
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    /// A failed send for `error`.
    pub fn send_failed(error: &Error) -> Self {
        Outcome::SendFailed {
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    /// The reason of a refusal or a failed send, if this outcome is one.
    pub fn failure(&self) -> Option<(ErrorKind, &str)> {
        match self {
            Outcome::Refused { kind, message } | Outcome::SendFailed { kind, message } => {
                Some((*kind, message.as_str()))
            }
            Outcome::Accepted | Outcome::Sent => None,
        }
    }
}

/// One entry of a twin's command audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When the command was requested.
    pub time: Timestamp,
    /// The command's name.
    pub command: String,
    /// The requested value.
    pub value: f64,
    /// Who asked: `"user"` or the name of a decision rule.
    pub source: String,
    /// What became of it.
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct LastSent {
    value: f64,
    time: i64,
}

/// Checks commands against the schema and remembers what was sent, for rate limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandGate {
    last: Vec<Option<LastSent>>,
    seq: u64,
}

impl CommandGate {
    /// A gate for a schema's commands, with nothing sent yet.
    pub fn new(schema: &Schema) -> Self {
        CommandGate {
            last: vec![None; schema.commands().len()],
            seq: 0,
        }
    }

    /// Validate a command request; on success record it as sent and return the [`Command`].
    ///
    /// Checks, in order: the id exists, the value is finite, it lies within `[min, max]`,
    /// time does not go back, the minimum interval, and the rate limit. Interval and rate
    /// are measured from the last command this gate let through; the first command is
    /// checked against its limits only.
    pub fn validate(
        &mut self,
        schema: &Schema,
        id: CommandId,
        value: f64,
        time: Timestamp,
    ) -> Result<Command> {
        let spec = schema.command(id)?;
        if !value.is_finite() {
            return Err(Error::NonFinite(format!("command {}", spec.name)));
        }
        if value < spec.min || value > spec.max {
            return Err(Error::OutOfRange {
                name: spec.name.clone(),
                value,
                min: spec.min,
                max: spec.max,
            });
        }
        if let Some(prev) = self.last[id.index()] {
            let dt = (time.0 as f64 - prev.time as f64) / Timestamp::NANOS_PER_SEC as f64;
            if dt < 0.0 {
                return Err(Error::InvalidInput(format!(
                    "command {} at {} ns is earlier than the last one sent at {} ns",
                    spec.name, time.0, prev.time
                )));
            }
            if let Some(min_dt) = spec.min_interval_s {
                if dt < min_dt {
                    return Err(Error::RateLimited {
                        command: spec.name.clone(),
                        reason: format!("{dt:.3} s since the last command, minimum {min_dt} s"),
                    });
                }
            }
            if let Some(rate) = spec.max_rate {
                let step = (value - prev.value).abs();
                let allowed = rate * dt.max(0.0);
                if step > allowed * (1.0 + 1e-12) + 1e-12 {
                    return Err(Error::RateLimited {
                        command: spec.name.clone(),
                        reason: format!(
                            "change {step:.6} {} in {dt:.3} s exceeds {rate} {}/s",
                            spec.unit, spec.unit
                        ),
                    });
                }
            }
        }
        self.seq += 1;
        self.last[id.index()] = Some(LastSent {
            value,
            time: time.0,
        });
        Ok(Command {
            id,
            name: spec.name.clone(),
            value,
            time,
            seq: self.seq,
        })
    }

    /// The value of the last command sent with this id, if any.
    pub fn last_value(&self, id: CommandId) -> Option<f64> {
        self.last
            .get(id.index())
            .copied()
            .flatten()
            .map(|l| l.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::ConveyorDrive;

    const S: i64 = Timestamp::NANOS_PER_SEC;

    #[test]
    fn limits_and_rates_are_enforced() {
        let schema = ConveyorDrive::standard_schema();
        let id = schema.command_id("set_speed").expect("id");
        let spec = schema.command(id).expect("spec").clone();
        let rate = spec.max_rate.expect("conveyor limits its rate");
        let mut gate = CommandGate::new(&schema);
        let first = gate
            .validate(&schema, id, 1.0, Timestamp(0))
            .expect("first");
        assert_eq!(first.seq(), 1);
        // Out of limits, non-finite: refused, nothing recorded.
        for bad in [spec.max + 0.01, spec.min - 0.01, f64::NAN, f64::INFINITY] {
            assert!(gate.validate(&schema, id, bad, Timestamp(100 * S)).is_err());
        }
        assert_eq!(gate.last_value(id), Some(1.0));
        // Ten seconds allow a change of exactly 10 * rate, not more.
        let ok = 1.0 + 10.0 * rate;
        let e = gate
            .validate(&schema, id, ok + 1e-3, Timestamp(10 * S))
            .expect_err("too fast");
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        let c = gate
            .validate(&schema, id, ok, Timestamp(10 * S))
            .expect("at the rate");
        assert_eq!(c.seq(), 2);
        // Time may not run backwards.
        let e = gate
            .validate(&schema, id, ok, Timestamp(5 * S))
            .expect_err("back");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}
