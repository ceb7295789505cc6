//! Import a twin schema from a W3C Web of Things Thing Description (TD 1.0 / 1.1).
//!
//! Mapping:
//! - A property affordance of type `number`, `integer` or `boolean` becomes telemetry when
//!   `readOnly`, otherwise a property (with a desired side). `minimum` / `maximum` give the
//!   valid range (`boolean` is `[0, 1]`) and `unit` the unit.
//! - An action with a numeric or boolean `input` becomes a command whose limits are the
//!   input's `minimum` / `maximum` (the largest finite numbers where absent: tighten them
//!   before sending anything to an actuator); an action without input is a trigger in `[0, 1]`.
//! - An event whose `data` is numeric or boolean becomes telemetry named after the event.
//!
//! Other data types (`string`, `object`, `array`, `null`) are an [`Error::Schema`] naming the
//! affordance, unless [`WotOptions::skip_unsupported`] is set, in which case they are listed
//! in [`WotImport::skipped`]. Affordances are read in name order.

use serde_json::{Map, Value};

use super::{CommandSpec, Schema, SchemaLimits, SignalSpec};
use crate::error::{Error, Result};

/// How strictly to import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WotOptions {
    /// List unsupported affordances in [`WotImport::skipped`] instead of failing.
    pub skip_unsupported: bool,
    /// Size caps on the document and the schema it makes (default
    /// [`SchemaLimits::default`]); exceeding one is [`Error::LimitExceeded`].
    pub limits: SchemaLimits,
}

/// What an import produced.
#[derive(Debug, Clone)]
pub struct WotImport {
    /// The schema.
    pub schema: Schema,
    /// Unsupported affordances that were skipped (only with `skip_unsupported`), with why.
    pub skipped: Vec<String>,
}

fn err(msg: impl Into<String>) -> Error {
    Error::Schema(format!("wot: {}", msg.into()))
}

/// A data schema's range and unit, or why it is not numeric.
fn numeric(name: &str, ds: &Value) -> std::result::Result<(Option<(f64, f64)>, String), String> {
    let unit = ds
        .get("unit")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match ds.get("type").and_then(Value::as_str) {
        Some("boolean") => Ok((Some((0.0, 1.0)), unit)),
        Some("number") | Some("integer") => {
            let lo = ds.get("minimum").and_then(Value::as_f64);
            let hi = ds.get("maximum").and_then(Value::as_f64);
            let range = match (lo, hi) {
                (None, None) => None,
                (lo, hi) => Some((lo.unwrap_or(f64::MIN), hi.unwrap_or(f64::MAX))),
            };
            Ok((range, unit))
        }
        Some(other) => Err(format!("{name}: data type {other:?} is not numeric")),
        None => Err(format!("{name}: no data type")),
    }
}

fn affordances<'a>(td: &'a Value, key: &str) -> Result<Option<&'a Map<String, Value>>> {
    match td.get(key) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(err(format!("{key} must be an object of affordances"))),
    }
}

/// Import a Thing Description.
///
/// ```
/// let td = r#"{
///   "@context": "https://www.w3.org/2022/wot/td/v1.1",
///   "title": "Lamp",
///   "properties": {
///     "brightness": {"type": "integer", "minimum": 0, "maximum": 100, "unit": "%"},
///     "power": {"type": "number", "unit": "W", "readOnly": true}
///   },
///   "actions": {"fade": {"input": {"type": "number", "minimum": 0, "maximum": 10}}},
///   "events": {"overheat": {"data": {"type": "number", "unit": "Cel"}}}
/// }"#;
/// let import = twin::schema::wot::import(td, Default::default())?;
/// let s = &import.schema;
/// assert_eq!(s.name(), "Lamp");
/// assert!(s.is_property(s.signal_id("brightness")?));
/// assert_eq!(s.command(s.command_id("fade")?)?.max, 10.0);
/// assert_eq!(s.signal(s.signal_id("overheat")?)?.unit, "Cel");
/// # Ok::<(), twin::Error>(())
/// ```
pub fn import(json: &str, opts: WotOptions) -> Result<WotImport> {
    opts.limits.check_json_len(json.len())?;
    let td: Value = serde_json::from_str(json).map_err(|e| err(format!("malformed JSON: {e}")))?;
    if !td.is_object() {
        return Err(err("a Thing Description is a JSON object"));
    }
    let ctx_ok = |c: &Value| {
        c.as_str()
            .is_some_and(|s| s.starts_with("https://www.w3.org/") && s.contains("wot/td"))
    };
    match td.get("@context") {
        Some(Value::Array(a)) if a.iter().any(ctx_ok) => {}
        Some(c) if ctx_ok(c) => {}
        other => return Err(err(format!("@context {other:?} is not a WoT TD context"))),
    }
    let title = td
        .get("title")
        .and_then(Value::as_str)
        .ok_or_else(|| err("the Thing Description has no title"))?;
    let mut skipped = Vec::new();
    let mut unsupported = |why: String| -> Result<()> {
        if opts.skip_unsupported {
            skipped.push(why);
            Ok(())
        } else {
            Err(err(format!("unsupported: {why}")))
        }
    };
    let spec = |name: &str, range: Option<(f64, f64)>, unit: String| {
        let s = SignalSpec::new(name, unit);
        match range {
            Some((lo, hi)) => s.range(lo, hi),
            None => s,
        }
    };
    let mut b = Schema::builder(title).limits(opts.limits);
    if let Some(props) = affordances(&td, "properties")? {
        for (name, p) in props {
            match numeric(name, p) {
                Ok((range, unit)) => {
                    if p.get("readOnly").and_then(Value::as_bool).unwrap_or(false) {
                        b = b.telemetry(spec(name, range, unit));
                    } else {
                        b = b.property(spec(name, range, unit));
                    }
                }
                Err(why) => unsupported(format!("property {why}"))?,
            }
        }
    }
    if let Some(events) = affordances(&td, "events")? {
        for (name, e) in events {
            match e.get("data").map(|d| numeric(name, d)) {
                Some(Ok((range, unit))) => b = b.telemetry(spec(name, range, unit)),
                Some(Err(why)) => unsupported(format!("event {why}"))?,
                None => unsupported(format!("event {name}: no data to observe"))?,
            }
        }
    }
    if let Some(actions) = affordances(&td, "actions")? {
        for (name, a) in actions {
            match a.get("input").map(|i| numeric(name, i)) {
                None => b = b.command(CommandSpec::new(name, "", 0.0, 1.0)),
                Some(Ok((range, unit))) => {
                    let (lo, hi) = range.unwrap_or((f64::MIN, f64::MAX));
                    b = b.command(CommandSpec::new(name, unit, lo, hi));
                }
                Some(Err(why)) => unsupported(format!("action {why}"))?,
            }
        }
    }
    Ok(WotImport {
        schema: b.build()?,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn properties_events_and_actions_map() {
        let td = r#"{"@context": ["https://www.w3.org/2019/wot/td/v1", {"saref": "https://w3id.org/saref#"}],
          "title": "Pump", "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}}, "security": "nosec_sc",
          "properties": {
            "flow": {"type": "number", "minimum": 0, "readOnly": true, "unit": "m3/h", "forms": []},
            "running": {"type": "boolean"},
            "speed": {"type": "integer", "maximum": 3000}
          },
          "actions": {"stop": {}, "setSpeed": {"input": {"type": "integer", "minimum": 0, "maximum": 2800}}},
          "events": {"pressure": {"data": {"type": "number", "minimum": 0, "maximum": 16, "unit": "bar"}}}}"#;
        let s = import(td, WotOptions::default()).expect("import").schema;
        let names = |v: &[SignalSpec]| v.iter().map(|x| x.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(s.telemetry()), vec!["flow", "pressure"]);
        assert_eq!(names(s.properties()), vec!["running", "speed"]);
        let flow = s.signal(s.signal_id("flow").expect("id")).expect("spec");
        assert_eq!((flow.min, flow.max), (Some(0.0), Some(f64::MAX)));
        let speed = s.signal(s.signal_id("speed").expect("id")).expect("spec");
        assert_eq!((speed.min, speed.max), (Some(f64::MIN), Some(3000.0)));
        let set = s
            .command(s.command_id("setSpeed").expect("id"))
            .expect("spec");
        assert_eq!((set.min, set.max), (0.0, 2800.0));
        let stop = s.command(s.command_id("stop").expect("id")).expect("spec");
        assert_eq!((stop.min, stop.max), (0.0, 1.0));
    }

    #[test]
    fn unsupported_and_malformed_descriptions() {
        let td = r#"{"@context": "https://www.w3.org/2022/wot/td/v1.1", "title": "T",
          "properties": {"name": {"type": "string"}, "t": {"type": "number"}},
          "actions": {"configure": {"input": {"type": "object"}}},
          "events": {"ping": {}}}"#;
        let e = import(td, WotOptions::default()).expect_err("strict");
        assert_eq!(e.kind(), ErrorKind::Schema);
        assert!(e.to_string().contains("name"), "{e}");
        let imp = import(
            td,
            WotOptions {
                skip_unsupported: true,
                ..Default::default()
            },
        )
        .expect("lenient");
        assert_eq!(imp.schema.signal_count(), 1);
        assert_eq!(imp.skipped.len(), 3);
        for (bad, needle) in [
            ("{", "malformed"),
            ("[]", "JSON object"),
            (r#"{"title": "x"}"#, "context"),
            (
                r#"{"@context": "https://www.w3.org/2022/wot/td/v1.1"}"#,
                "no title",
            ),
            (
                r#"{"@context": "https://www.w3.org/2022/wot/td/v1.1", "title": "x", "properties": []}"#,
                "must be an object",
            ),
            (
                r#"{"@context": "https://www.w3.org/2022/wot/td/v1.1", "title": "x",
                 "properties": {"a": {"type": "number", "minimum": 5, "maximum": 1}}}"#,
                "above max",
            ),
        ] {
            let e = import(bad, WotOptions::default()).expect_err(bad);
            assert_eq!(e.kind(), ErrorKind::Schema, "{bad}");
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn imports_go_through_the_schema_size_caps() {
        let td = r#"{"@context": "https://www.w3.org/2022/wot/td/v1.1", "title": "Lamp",
          "properties": {"brightness": {"type": "number"}, "on": {"type": "boolean"}},
          "actions": {"toggle": {}}}"#;
        let with = |limits: SchemaLimits| {
            import(
                td,
                WotOptions {
                    limits,
                    ..Default::default()
                },
            )
        };
        let d = SchemaLimits::default();
        with(SchemaLimits {
            max_signals: 2,
            max_commands: 1,
            max_name_bytes: 10,
            ..d
        })
        .expect("at");
        let e = with(SchemaLimits {
            max_signals: 1,
            ..d
        })
        .expect_err("signals");
        assert_eq!(e.to_string(), "limit exceeded: max_signals is 1, got 2");
        let e = with(SchemaLimits {
            max_commands: 0,
            ..d
        })
        .expect_err("commands");
        assert_eq!(e.to_string(), "limit exceeded: max_commands is 0, got 1");
        let e = with(SchemaLimits {
            max_name_bytes: 9,
            ..d
        })
        .expect_err("name");
        assert_eq!(e.to_string(), "limit exceeded: max_name_bytes is 9, got 10");
        let e = with(SchemaLimits {
            max_json_bytes: td.len() - 1,
            ..d
        })
        .expect_err("bytes");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    }
}
