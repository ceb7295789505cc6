//! The twin's contract: telemetry, properties and commands with units, valid ranges and
//! alarm limits. Built in code with [`SchemaBuilder`] or loaded from JSON; names are
//! resolved to dense [`SignalId`]s and [`CommandId`]s once.
//!
//! Telemetry signals take the ids `0..T`, properties the ids `T..T+P`, in declaration
//! order, so per-signal state lives in flat arrays.
//!
//! Models users already have import too: [`dtdl`] reads DTDL v3 interfaces and [`wot`]
//! reads W3C WoT Thing Descriptions.

pub mod dtdl;
pub mod wot;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sample::SignalId;

/// A dense index of a command in its [`Schema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommandId(pub u32);

impl CommandId {
    /// The id as an index into flat per-command arrays.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// One telemetry signal or property: its name, unit, valid range and alarm limits.
///
/// The valid range is physical plausibility: a sample outside it is refused as a sensor
/// fault. Alarm limits are operating limits: a sample beyond them is accepted and the
/// limit monitor reports it.
///
/// ```
/// use twin::SignalSpec;
/// let s = SignalSpec::new("vibration", "mm/s").range(0.0, 50.0).alarm_high(7.1);
/// assert_eq!(s.alarm_high, Some(7.1));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSpec {
    /// Unique name within the schema.
    pub name: String,
    /// Unit of measure (free text, for example `"m/s"`).
    #[serde(default)]
    pub unit: String,
    /// Lowest valid value, if bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Highest valid value, if bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Low alarm limit, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_low: Option<f64>,
    /// High alarm limit, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_high: Option<f64>,
}

impl SignalSpec {
    /// A signal with a name and a unit, unbounded and without alarms.
    pub fn new(name: impl Into<String>, unit: impl Into<String>) -> Self {
        SignalSpec {
            name: name.into(),
            unit: unit.into(),
            min: None,
            max: None,
            alarm_low: None,
            alarm_high: None,
        }
    }

    /// Set the valid range `[min, max]`.
    ///
    /// ```
    /// let s = twin::SignalSpec::new("t", "degC").range(-40.0, 150.0);
    /// assert_eq!((s.min, s.max), (Some(-40.0), Some(150.0)));
    /// ```
    pub fn range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    /// Set the low alarm limit.
    ///
    /// ```
    /// let s = twin::SignalSpec::new("speed", "m/s").alarm_low(0.2);
    /// assert_eq!(s.alarm_low, Some(0.2));
    /// ```
    pub fn alarm_low(mut self, limit: f64) -> Self {
        self.alarm_low = Some(limit);
        self
    }

    /// Set the high alarm limit.
    ///
    /// ```
    /// let s = twin::SignalSpec::new("temp", "degC").alarm_high(90.0);
    /// assert_eq!(s.alarm_high, Some(90.0));
    /// ```
    pub fn alarm_high(mut self, limit: f64) -> Self {
        self.alarm_high = Some(limit);
        self
    }
}

/// One command the twin may send to the asset, with its safety limits.
///
/// ```
/// use twin::CommandSpec;
/// let c = CommandSpec::new("set_speed", "m/s", 0.0, 3.0).max_rate(0.5).property("speed_setpoint");
/// assert_eq!(c.max_rate, Some(0.5));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    /// Unique command name.
    pub name: String,
    /// Unit of the command's argument.
    #[serde(default)]
    pub unit: String,
    /// Lowest value the actuator may be commanded to.
    pub min: f64,
    /// Highest value the actuator may be commanded to.
    pub max: f64,
    /// Largest change per second between consecutive sent commands, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rate: Option<f64>,
    /// Shortest time in seconds between consecutive sent commands, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval_s: Option<f64>,
    /// The property this command sets (its desired value follows each sent command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
}

impl CommandSpec {
    /// A command with a name, a unit and its limits `[min, max]`.
    pub fn new(name: impl Into<String>, unit: impl Into<String>, min: f64, max: f64) -> Self {
        CommandSpec {
            name: name.into(),
            unit: unit.into(),
            min,
            max,
            max_rate: None,
            min_interval_s: None,
            property: None,
        }
    }

    /// Limit the change between consecutive commands to `per_second` units per second.
    ///
    /// ```
    /// let c = twin::CommandSpec::new("valve", "%", 0.0, 100.0).max_rate(5.0);
    /// assert_eq!(c.max_rate, Some(5.0));
    /// ```
    pub fn max_rate(mut self, per_second: f64) -> Self {
        self.max_rate = Some(per_second);
        self
    }

    /// Require at least `seconds` between consecutive commands.
    ///
    /// ```
    /// let c = twin::CommandSpec::new("valve", "%", 0.0, 100.0).min_interval(2.0);
    /// assert_eq!(c.min_interval_s, Some(2.0));
    /// ```
    pub fn min_interval(mut self, seconds: f64) -> Self {
        self.min_interval_s = Some(seconds);
        self
    }

    /// Name the property whose desired value this command sets.
    ///
    /// ```
    /// let c = twin::CommandSpec::new("set_speed", "m/s", 0.0, 3.0).property("speed_setpoint");
    /// assert_eq!(c.property.as_deref(), Some("speed_setpoint"));
    /// ```
    pub fn property(mut self, name: impl Into<String>) -> Self {
        self.property = Some(name.into());
        self
    }
}

/// The serialized shape of a schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaDoc {
    name: String,
    #[serde(default)]
    telemetry: Vec<SignalSpec>,
    #[serde(default)]
    properties: Vec<SignalSpec>,
    #[serde(default)]
    commands: Vec<CommandSpec>,
}

/// Caps on the size of a schema, checked by [`Schema::from_json_with_limits`],
/// [`SchemaBuilder::build`] and the DTDL and WoT importers; exceeding one is
/// [`Error::LimitExceeded`] naming the cap and the value.
///
/// The defaults ([`SchemaLimits::default`]) are 65 536 signals (telemetry and properties
/// together), 4 096 commands, 16 MiB of JSON and names of at most 256 bytes (the schema's,
/// each signal's and each command's name).
///
/// ```
/// use twin::schema::SchemaLimits;
/// use twin::{ErrorKind, Schema, SignalSpec};
/// let small = SchemaLimits { max_signals: 1, ..SchemaLimits::default() };
/// let e = Schema::builder("m")
///     .telemetry(SignalSpec::new("a", ""))
///     .telemetry(SignalSpec::new("b", ""))
///     .limits(small)
///     .build()
///     .unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::LimitExceeded);
/// assert_eq!(e.to_string(), "limit exceeded: max_signals is 1, got 2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaLimits {
    /// Most signals: telemetry and properties together (default 65 536).
    pub max_signals: usize,
    /// Most commands (default 4 096).
    pub max_commands: usize,
    /// Most bytes of schema JSON read by [`Schema::from_json_with_limits`] and the
    /// importers (default 16 MiB).
    pub max_json_bytes: usize,
    /// Longest name, in bytes (UTF-8), of the schema, a signal or a command (default 256).
    pub max_name_bytes: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        SchemaLimits {
            max_signals: 65_536,
            max_commands: 4_096,
            max_json_bytes: 16 << 20,
            max_name_bytes: 256,
        }
    }
}

impl SchemaLimits {
    fn exceeded(limit: &str, max: usize, value: usize) -> Error {
        Error::LimitExceeded {
            limit: limit.into(),
            max: max as u64,
            value: value as u64,
        }
    }

    /// [`Error::LimitExceeded`] naming `max_json_bytes` if a document of `len` bytes is
    /// longer than allowed.
    ///
    /// ```
    /// let limits = twin::schema::SchemaLimits { max_json_bytes: 10, ..Default::default() };
    /// assert!(limits.check_json_len(10).is_ok());
    /// assert_eq!(limits.check_json_len(11).unwrap_err().kind(), twin::ErrorKind::LimitExceeded);
    /// ```
    pub fn check_json_len(&self, len: usize) -> Result<()> {
        if len > self.max_json_bytes {
            return Err(Self::exceeded("max_json_bytes", self.max_json_bytes, len));
        }
        Ok(())
    }

    fn check_name(&self, name: &str) -> Result<()> {
        if name.len() > self.max_name_bytes {
            return Err(Self::exceeded(
                "max_name_bytes",
                self.max_name_bytes,
                name.len(),
            ));
        }
        Ok(())
    }

    /// Counts and name lengths of a schema's parts.
    fn check_parts(
        &self,
        name: &str,
        telemetry: &[SignalSpec],
        properties: &[SignalSpec],
        commands: &[CommandSpec],
    ) -> Result<()> {
        let n = telemetry.len() + properties.len();
        if n > self.max_signals {
            return Err(Self::exceeded("max_signals", self.max_signals, n));
        }
        if commands.len() > self.max_commands {
            return Err(Self::exceeded(
                "max_commands",
                self.max_commands,
                commands.len(),
            ));
        }
        self.check_name(name)?;
        for s in telemetry.iter().chain(properties) {
            self.check_name(&s.name)?;
        }
        for c in commands {
            self.check_name(&c.name)?;
        }
        Ok(())
    }
}

/// A validated twin schema with names resolved to dense ids.
///
/// ```
/// use twin::{Schema, SignalSpec, CommandSpec};
/// let schema = Schema::builder("pump")
///     .telemetry(SignalSpec::new("flow", "m3/h").range(0.0, 500.0))
///     .property(SignalSpec::new("setpoint", "m3/h").range(0.0, 400.0))
///     .command(CommandSpec::new("set_flow", "m3/h", 0.0, 400.0).property("setpoint"))
///     .build()?;
/// assert_eq!(schema.signal_id("flow")?.0, 0);
/// assert_eq!(schema.signal_id("setpoint")?.0, 1);
/// assert!(schema.signal_id("pressure").is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SchemaDoc", into = "SchemaDoc")]
pub struct Schema {
    name: String,
    telemetry: Vec<SignalSpec>,
    properties: Vec<SignalSpec>,
    commands: Vec<CommandSpec>,
    // Derived, dense look-up tables.
    signal_index: HashMap<String, u32>,
    command_index: HashMap<String, u32>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    command_property: Vec<Option<SignalId>>,
}

impl TryFrom<SchemaDoc> for Schema {
    type Error = Error;
    fn try_from(doc: SchemaDoc) -> Result<Self> {
        Schema::from_doc(doc, &SchemaLimits::default())
    }
}

impl From<Schema> for SchemaDoc {
    fn from(s: Schema) -> Self {
        SchemaDoc {
            name: s.name,
            telemetry: s.telemetry,
            properties: s.properties,
            commands: s.commands,
        }
    }
}

fn check_bound(name: &str, what: &str, v: Option<f64>) -> Result<()> {
    match v {
        Some(x) if !x.is_finite() => Err(Error::Schema(format!("{name}: {what} must be finite"))),
        _ => Ok(()),
    }
}

impl Schema {
    /// Start building a schema in code.
    pub fn builder(name: impl Into<String>) -> SchemaBuilder {
        SchemaBuilder {
            doc: SchemaDoc {
                name: name.into(),
                telemetry: Vec::new(),
                properties: Vec::new(),
                commands: Vec::new(),
            },
            limits: SchemaLimits::default(),
        }
    }

    /// Parse and validate a schema from JSON.
    ///
    /// Malformed JSON, unknown fields, duplicate names, non-finite or inverted ranges and
    /// commands that name a missing property are all [`Error::Schema`].
    ///
    /// ```
    /// let json = r#"{"name": "fan",
    ///   "telemetry": [{"name": "rpm", "unit": "1/min", "min": 0, "max": 3000}],
    ///   "properties": [{"name": "target_rpm", "unit": "1/min", "min": 0, "max": 2500}],
    ///   "commands": [{"name": "set_rpm", "min": 0, "max": 2500, "property": "target_rpm"}]}"#;
    /// let schema = twin::Schema::from_json(json)?;
    /// assert_eq!(schema.signal_count(), 2);
    /// assert!(twin::Schema::from_json("{\"name\": 3}").is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        Schema::from_json_with_limits(json, &SchemaLimits::default())
    }

    /// [`Schema::from_json`] with caps on its size: a document longer than
    /// `max_json_bytes` is refused before it is parsed, and one with too many signals or
    /// commands, or too long a name, after; both [`Error::LimitExceeded`].
    ///
    /// ```
    /// use twin::schema::SchemaLimits;
    /// let json = r#"{"name": "fan", "telemetry": [{"name": "rpm"}]}"#;
    /// let tight = SchemaLimits { max_name_bytes: 2, ..SchemaLimits::default() };
    /// let e = twin::Schema::from_json_with_limits(json, &tight).unwrap_err();
    /// assert_eq!(e.to_string(), "limit exceeded: max_name_bytes is 2, got 3");
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn from_json_with_limits(json: &str, limits: &SchemaLimits) -> Result<Self> {
        limits.check_json_len(json.len())?;
        let doc: SchemaDoc = serde_json::from_str(json)
            .map_err(|e| Error::Schema(format!("malformed schema JSON: {e}")))?;
        Schema::from_doc(doc, limits)
    }

    fn from_doc(doc: SchemaDoc, limits: &SchemaLimits) -> Result<Self> {
        limits.check_parts(&doc.name, &doc.telemetry, &doc.properties, &doc.commands)?;
        Schema::from_parts(doc.name, doc.telemetry, doc.properties, doc.commands)
    }

    /// The schema as pretty JSON (which [`Schema::from_json`] reads back).
    pub fn to_json(&self) -> String {
        // A schema holds only strings and finite numbers, so encoding cannot fail.
        serde_json::to_string_pretty(&SchemaDoc::from(self.clone())).unwrap_or_default()
    }

    fn from_parts(
        name: String,
        telemetry: Vec<SignalSpec>,
        properties: Vec<SignalSpec>,
        commands: Vec<CommandSpec>,
    ) -> Result<Self> {
        if name.trim().is_empty() {
            return Err(Error::Schema("schema name must not be empty".into()));
        }
        let n = telemetry.len() + properties.len();
        if n > u32::MAX as usize || commands.len() > u32::MAX as usize {
            return Err(Error::Schema("too many signals or commands".into()));
        }
        let mut signal_index = HashMap::with_capacity(n);
        let mut lo = Vec::with_capacity(n);
        let mut hi = Vec::with_capacity(n);
        for (i, s) in telemetry.iter().chain(properties.iter()).enumerate() {
            if s.name.trim().is_empty() {
                return Err(Error::Schema(format!("signal {i} has an empty name")));
            }
            check_bound(&s.name, "min", s.min)?;
            check_bound(&s.name, "max", s.max)?;
            check_bound(&s.name, "alarm_low", s.alarm_low)?;
            check_bound(&s.name, "alarm_high", s.alarm_high)?;
            let (l, h) = (
                s.min.unwrap_or(f64::NEG_INFINITY),
                s.max.unwrap_or(f64::INFINITY),
            );
            if l > h {
                return Err(Error::Schema(format!(
                    "{}: min {l} is above max {h}",
                    s.name
                )));
            }
            if let (Some(a), Some(b)) = (s.alarm_low, s.alarm_high) {
                if a > b {
                    return Err(Error::Schema(format!(
                        "{}: alarm_low {a} is above alarm_high {b}",
                        s.name
                    )));
                }
            }
            if signal_index.insert(s.name.clone(), i as u32).is_some() {
                return Err(Error::Schema(format!("duplicate signal name {:?}", s.name)));
            }
            lo.push(l);
            hi.push(h);
        }
        let mut command_index = HashMap::with_capacity(commands.len());
        let mut command_property = Vec::with_capacity(commands.len());
        for (i, c) in commands.iter().enumerate() {
            if c.name.trim().is_empty() {
                return Err(Error::Schema(format!("command {i} has an empty name")));
            }
            if !c.min.is_finite() || !c.max.is_finite() || c.min > c.max {
                return Err(Error::Schema(format!(
                    "command {}: limits [{}, {}] must be finite with min <= max",
                    c.name, c.min, c.max
                )));
            }
            for (what, v) in [
                ("max_rate", c.max_rate),
                ("min_interval_s", c.min_interval_s),
            ] {
                if let Some(x) = v {
                    if !x.is_finite() || x < 0.0 {
                        return Err(Error::Schema(format!(
                            "command {}: {what} must be finite and non-negative",
                            c.name
                        )));
                    }
                }
            }
            let prop = match &c.property {
                None => None,
                Some(p) => match signal_index.get(p) {
                    Some(&id) if (id as usize) >= telemetry.len() => {
                        let (pl, ph) = (lo[id as usize], hi[id as usize]);
                        if c.min < pl || c.max > ph {
                            return Err(Error::Schema(format!(
                                "command {}: limits [{}, {}] exceed the valid range [{pl}, {ph}] of {p:?}",
                                c.name, c.min, c.max
                            )));
                        }
                        Some(SignalId(id))
                    }
                    _ => {
                        return Err(Error::Schema(format!(
                            "command {} sets {p:?}, which is not a property",
                            c.name
                        )))
                    }
                },
            };
            command_property.push(prop);
            if command_index.insert(c.name.clone(), i as u32).is_some() {
                return Err(Error::Schema(format!(
                    "duplicate command name {:?}",
                    c.name
                )));
            }
        }
        Ok(Schema {
            name,
            telemetry,
            properties,
            commands,
            signal_index,
            command_index,
            lo,
            hi,
            command_property,
        })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Telemetry signals in id order (ids `0..telemetry().len()`).
    pub fn telemetry(&self) -> &[SignalSpec] {
        &self.telemetry
    }

    /// Properties in id order (ids follow the telemetry).
    pub fn properties(&self) -> &[SignalSpec] {
        &self.properties
    }

    /// Commands in id order.
    pub fn commands(&self) -> &[CommandSpec] {
        &self.commands
    }

    /// Number of signals (telemetry and properties).
    pub fn signal_count(&self) -> usize {
        self.lo.len()
    }

    /// Resolve a signal (telemetry or property) name to its id.
    pub fn signal_id(&self, name: &str) -> Result<SignalId> {
        self.signal_index
            .get(name)
            .map(|&i| SignalId(i))
            .ok_or_else(|| Error::UnknownSignal(name.to_string()))
    }

    /// Resolve a command name to its id.
    ///
    /// ```
    /// # let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let id = schema.command_id("set_speed")?;
    /// assert_eq!(schema.command(id)?.name, "set_speed");
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn command_id(&self, name: &str) -> Result<CommandId> {
        self.command_index
            .get(name)
            .map(|&i| CommandId(i))
            .ok_or_else(|| Error::UnknownSignal(name.to_string()))
    }

    /// The spec of a signal, or [`Error::UnknownSignal`] for an id out of range.
    pub fn signal(&self, id: SignalId) -> Result<&SignalSpec> {
        let t = self.telemetry.len();
        let i = id.index();
        if i < t {
            Ok(&self.telemetry[i])
        } else {
            self.properties
                .get(i - t)
                .ok_or_else(|| Error::UnknownSignal(format!("signal id {i}")))
        }
    }

    /// The name of a signal, or `"?"` for an unknown id (for messages).
    pub fn signal_name(&self, id: SignalId) -> &str {
        self.signal(id).map(|s| s.name.as_str()).unwrap_or("?")
    }

    /// Whether the id is a property (and not telemetry).
    pub fn is_property(&self, id: SignalId) -> bool {
        id.index() >= self.telemetry.len() && id.index() < self.signal_count()
    }

    /// The spec of a command, or [`Error::UnknownSignal`] for an id out of range.
    pub fn command(&self, id: CommandId) -> Result<&CommandSpec> {
        self.commands
            .get(id.index())
            .ok_or_else(|| Error::UnknownSignal(format!("command id {}", id.0)))
    }

    /// The property a command sets, if it names one.
    pub fn command_property(&self, id: CommandId) -> Option<SignalId> {
        self.command_property.get(id.index()).copied().flatten()
    }

    /// Valid-range lower bounds per signal id (`-inf` where unbounded).
    pub(crate) fn lower_bounds(&self) -> &[f64] {
        &self.lo
    }

    /// Valid-range upper bounds per signal id (`+inf` where unbounded).
    pub(crate) fn upper_bounds(&self) -> &[f64] {
        &self.hi
    }
}

/// Builds a [`Schema`] in code; [`SchemaBuilder::build`] validates it.
#[derive(Debug, Clone)]
pub struct SchemaBuilder {
    doc: SchemaDoc,
    limits: SchemaLimits,
}

impl SchemaBuilder {
    /// Add a telemetry signal.
    ///
    /// ```
    /// let s = twin::Schema::builder("m").telemetry(twin::SignalSpec::new("x", "")).build()?;
    /// assert_eq!(s.telemetry().len(), 1);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn telemetry(mut self, spec: SignalSpec) -> Self {
        self.doc.telemetry.push(spec);
        self
    }

    /// Add a property (a value with a reported and a desired side).
    ///
    /// ```
    /// let s = twin::Schema::builder("m").property(twin::SignalSpec::new("mode", "")).build()?;
    /// assert!(s.is_property(s.signal_id("mode")?));
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn property(mut self, spec: SignalSpec) -> Self {
        self.doc.properties.push(spec);
        self
    }

    /// Add a command.
    ///
    /// ```
    /// let s = twin::Schema::builder("m")
    ///     .command(twin::CommandSpec::new("open", "%", 0.0, 100.0))
    ///     .build()?;
    /// assert_eq!(s.commands().len(), 1);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn command(mut self, spec: CommandSpec) -> Self {
        self.doc.commands.push(spec);
        self
    }

    /// Check the schema against these size caps when it is built (default
    /// [`SchemaLimits::default`]).
    ///
    /// ```
    /// use twin::schema::SchemaLimits;
    /// let limits = SchemaLimits { max_commands: 0, ..SchemaLimits::default() };
    /// let e = twin::Schema::builder("m")
    ///     .command(twin::CommandSpec::new("open", "%", 0.0, 100.0))
    ///     .limits(limits)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(e.kind(), twin::ErrorKind::LimitExceeded);
    /// ```
    pub fn limits(mut self, limits: SchemaLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Validate and resolve the schema.
    pub fn build(self) -> Result<Schema> {
        Schema::from_doc(self.doc, &self.limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_ids() {
        let s = crate::entity::ConveyorDrive::standard_schema();
        let back = Schema::from_json(&s.to_json()).expect("round trip");
        assert_eq!(back, s);
        assert_eq!(
            back.signal_id("vibration").expect("id"),
            s.signal_id("vibration").expect("id")
        );
    }

    #[test]
    fn rejects_bad_documents() {
        let cases = [
            ("not json", "malformed"),
            (
                r#"{"name": "x", "telemetry": [{"name": "a"}, {"name": "a"}]}"#,
                "duplicate",
            ),
            (
                r#"{"name": "x", "telemetry": [{"name": "a", "min": 2, "max": 1}]}"#,
                "above max",
            ),
            (
                r#"{"name": "x", "commands": [{"name": "c", "min": 0, "max": 1, "property": "p"}]}"#,
                "not a property",
            ),
            (
                r#"{"name": "x", "telemetry": [{"name": "a", "colour": 1}]}"#,
                "unknown field",
            ),
            (r#"{"name": ""}"#, "empty"),
        ];
        for (json, needle) in cases {
            let e = Schema::from_json(json).expect_err(json);
            assert_eq!(e.kind(), crate::ErrorKind::Schema, "{json}");
            assert!(e.to_string().contains(needle), "{json}: {e}");
        }
    }

    fn doc(signals: usize, commands: usize, name_len: usize) -> String {
        let name = "n".repeat(name_len);
        let telemetry: Vec<String> = (0..signals)
            .map(|i| format!(r#"{{"name": "{name}{i}"}}"#))
            .collect();
        let cmds: Vec<String> = (0..commands)
            .map(|i| format!(r#"{{"name": "c{i}", "min": 0, "max": 1}}"#))
            .collect();
        format!(
            r#"{{"name": "m", "telemetry": [{}], "commands": [{}]}}"#,
            telemetry.join(","),
            cmds.join(",")
        )
    }

    fn exceeded(e: Error, limit: &str, max: u64, value: u64) {
        assert_eq!(e.kind(), crate::ErrorKind::LimitExceeded, "{e}");
        match e {
            Error::LimitExceeded {
                limit: l,
                max: m,
                value: v,
            } => assert_eq!((l.as_str(), m, v), (limit, max, value)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn schema_size_caps_at_below_and_above() {
        let limits = SchemaLimits {
            max_signals: 4,
            max_commands: 2,
            max_json_bytes: 10_000,
            max_name_bytes: 6,
        };
        let read = |json: &str| Schema::from_json_with_limits(json, &limits);
        // Signals (names "n0".. are 2 bytes): 3 and 4 pass, 5 is refused.
        assert_eq!(read(&doc(3, 0, 1)).expect("below").signal_count(), 3);
        assert_eq!(read(&doc(4, 0, 1)).expect("at").signal_count(), 4);
        exceeded(read(&doc(5, 0, 1)).expect_err("above"), "max_signals", 4, 5);
        // Commands.
        assert_eq!(read(&doc(1, 2, 1)).expect("at").commands().len(), 2);
        exceeded(
            read(&doc(1, 3, 1)).expect_err("above"),
            "max_commands",
            2,
            3,
        );
        // Names: "nnnn0" is 5 bytes, "nnnnn0" 6, "nnnnnn0" 7.
        read(&doc(1, 0, 4)).expect("below");
        read(&doc(1, 0, 5)).expect("at");
        exceeded(
            read(&doc(1, 0, 6)).expect_err("above"),
            "max_name_bytes",
            6,
            7,
        );
        // Bytes: refused before parsing, so even malformed text over the cap says so.
        let json = doc(1, 0, 1);
        let n = json.len();
        let bytes = |max: usize| SchemaLimits {
            max_json_bytes: max,
            ..limits
        };
        Schema::from_json_with_limits(&json, &bytes(n)).expect("at");
        exceeded(
            Schema::from_json_with_limits(&json, &bytes(n - 1)).expect_err("above"),
            "max_json_bytes",
            n as u64 - 1,
            n as u64,
        );
        exceeded(
            Schema::from_json_with_limits("x".repeat(20).as_str(), &bytes(10)).expect_err("above"),
            "max_json_bytes",
            10,
            20,
        );
        // The builder applies the same caps, the schema's own name included.
        let b = |name: &str, k: usize| {
            (0..k).fold(Schema::builder(name).limits(limits), |b, i| {
                b.property(SignalSpec::new(format!("p{i}"), ""))
            })
        };
        assert_eq!(b("m", 4).build().expect("at").signal_count(), 4);
        exceeded(b("m", 5).build().expect_err("above"), "max_signals", 4, 5);
        exceeded(
            b("machine", 1).build().expect_err("long name"),
            "max_name_bytes",
            6,
            7,
        );
    }

    #[test]
    fn default_caps_admit_the_built_in_schemas_and_refuse_a_huge_one() {
        let d = SchemaLimits::default();
        assert_eq!(
            (
                d.max_signals,
                d.max_commands,
                d.max_json_bytes,
                d.max_name_bytes
            ),
            (65_536, 4_096, 16 << 20, 256)
        );
        let conveyor = crate::entity::ConveyorDrive::standard_schema();
        Schema::from_json(&conveyor.to_json()).expect("conveyor");
        let e = Schema::from_json(&doc(65_537, 0, 1)).expect_err("too many");
        exceeded(e, "max_signals", 65_536, 65_537);
        let long = format!(r#"{{"name": "{}"}}"#, "x".repeat(257));
        exceeded(
            Schema::from_json(&long).expect_err("long"),
            "max_name_bytes",
            256,
            257,
        );
    }
}
