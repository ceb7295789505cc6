//! Import a twin schema from a DTDL v3 (or v2) interface.
//!
//! Mapping:
//! - `Telemetry` with a numeric schema (`double`, `float`, `integer`, `long`, `short`,
//!   `byte`, `unsigned…`, `decimal`) becomes telemetry; `boolean` becomes a signal in `[0, 1]`;
//!   an `Enum` with integer values becomes a signal ranging over them.
//! - A writable `Property` becomes a property (with a desired side); a read-only one becomes
//!   telemetry.
//! - A `Command` becomes a command. DTDL has no limits, so a numeric request is bounded only
//!   by the largest finite numbers (tighten them before sending anything to an actuator), a
//!   boolean request by `[0, 1]`, and a command without a request takes `[0, 1]` as a trigger.
//! - A `Component` includes the contents of its interface (which must be in the same
//!   document) with names prefixed `component/`; `extends` includes the base interface.
//! - A `Relationship` is kept in [`DtdlImport::relationships`]; it is a link, not a signal.
//!
//! Anything else (string, date or object telemetry, maps, arrays, object requests, an
//! interface not in the document) is an [`Error::Schema`] naming the element, unless
//! [`DtdlOptions::skip_unsupported`] is set, in which case it is listed in
//! [`DtdlImport::skipped`].

use serde_json::Value;

use super::{CommandSpec, Schema, SchemaLimits, SignalSpec};
use crate::error::{Error, Result};

/// How strictly to import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DtdlOptions {
    /// List unsupported elements in [`DtdlImport::skipped`] instead of failing.
    pub skip_unsupported: bool,
    /// Size caps on the document and the schema it makes (default
    /// [`SchemaLimits::default`]); exceeding one is [`Error::LimitExceeded`].
    pub limits: SchemaLimits,
}

/// A relationship declared by the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// Its name (with any component prefix).
    pub name: String,
    /// The target interface, if the relationship names one.
    pub target: Option<String>,
}

/// What an import produced.
#[derive(Debug, Clone)]
pub struct DtdlImport {
    /// The schema.
    pub schema: Schema,
    /// Relationships of the interface.
    pub relationships: Vec<Relationship>,
    /// Unsupported elements that were skipped (only with `skip_unsupported`), with why.
    pub skipped: Vec<String>,
}

fn err(msg: impl Into<String>) -> Error {
    Error::Schema(format!("dtdl: {}", msg.into()))
}

/// The types of an element: `@type` is a string or an array of strings.
fn types(el: &Value) -> Vec<&str> {
    match el.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The numeric range a DTDL schema allows, or why it is unsupported.
fn range_of(schema: Option<&Value>) -> std::result::Result<Option<(f64, f64)>, String> {
    match schema {
        Some(Value::String(s)) => match s.as_str() {
            "double" | "float" | "decimal" => Ok(None),
            "integer" => Ok(Some((i32::MIN as f64, i32::MAX as f64))),
            "long" => Ok(None),
            "short" => Ok(Some((i16::MIN as f64, i16::MAX as f64))),
            "byte" => Ok(Some((i8::MIN as f64, i8::MAX as f64))),
            "unsignedByte" => Ok(Some((0.0, u8::MAX as f64))),
            "unsignedShort" => Ok(Some((0.0, u16::MAX as f64))),
            "unsignedInteger" => Ok(Some((0.0, u32::MAX as f64))),
            "unsignedLong" => Ok(Some((0.0, u64::MAX as f64))),
            "boolean" => Ok(Some((0.0, 1.0))),
            other => Err(format!("schema {other:?} is not numeric")),
        },
        Some(obj @ Value::Object(_)) => {
            if types(obj).contains(&"Enum") {
                let values: Vec<f64> = obj
                    .get("enumValues")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.get("enumValue")?.as_f64())
                            .collect()
                    })
                    .unwrap_or_default();
                let n = obj
                    .get("enumValues")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                if values.is_empty() || values.len() != n {
                    return Err("an Enum with string values is not numeric".into());
                }
                let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                Ok(Some((lo, hi)))
            } else {
                Err(format!("complex schema {:?} is not supported", types(obj)))
            }
        }
        Some(other) => Err(format!("schema {other} is not supported")),
        None => Err("no schema".into()),
    }
}

struct Builder<'a> {
    doc: &'a [Value],
    opts: DtdlOptions,
    telemetry: Vec<SignalSpec>,
    properties: Vec<SignalSpec>,
    commands: Vec<CommandSpec>,
    relationships: Vec<Relationship>,
    skipped: Vec<String>,
    depth: usize,
}

impl<'a> Builder<'a> {
    fn find(&self, id: &str) -> Result<&'a Value> {
        self.doc
            .iter()
            .find(|i| i.get("@id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| err(format!("interface {id:?} is not in the document")))
    }

    fn unsupported(&mut self, what: String) -> Result<()> {
        if self.opts.skip_unsupported {
            self.skipped.push(what);
            Ok(())
        } else {
            Err(err(format!("unsupported: {what}")))
        }
    }

    fn interface(&mut self, iface: &'a Value, prefix: &str) -> Result<()> {
        self.depth += 1;
        if self.depth > 16 {
            return Err(err("components or extends nest deeper than 16 (a cycle?)"));
        }
        if !types(iface).contains(&"Interface") {
            return Err(err(format!(
                "expected an Interface, got @type {:?}",
                types(iface)
            )));
        }
        let bases: Vec<String> = match iface.get("extends") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(other) => return Err(err(format!("extends must name interfaces, got {other}"))),
        };
        for b in bases {
            let base = self.find(&b)?;
            self.interface(base, prefix)?;
        }
        let contents: &'a [Value] = match iface.get("contents") {
            None => &[],
            Some(Value::Array(a)) => a,
            Some(_) => return Err(err("contents must be an array")),
        };
        for el in contents {
            self.element(el, prefix)?;
        }
        self.depth -= 1;
        Ok(())
    }

    fn element(&mut self, el: &'a Value, prefix: &str) -> Result<()> {
        let name = el
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| err(format!("an element without a name: {el}")))?;
        let full = format!("{prefix}{name}");
        let unit = el
            .get("unit")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let t = types(el);
        let spec = |range: Option<(f64, f64)>| {
            let s = SignalSpec::new(full.clone(), unit.clone());
            match range {
                Some((lo, hi)) => s.range(lo, hi),
                None => s,
            }
        };
        if t.contains(&"Telemetry") || t.contains(&"Property") {
            match range_of(el.get("schema")) {
                Ok(range) => {
                    let writable = el.get("writable").and_then(Value::as_bool).unwrap_or(false);
                    if t.contains(&"Property") && writable {
                        self.properties.push(spec(range));
                    } else {
                        self.telemetry.push(spec(range));
                    }
                    Ok(())
                }
                Err(why) => self.unsupported(format!("{full}: {why}")),
            }
        } else if t.contains(&"Command") {
            let (lo, hi) = match el.get("request") {
                None | Some(Value::Null) => (0.0, 1.0),
                Some(req) => match range_of(req.get("schema")) {
                    Ok(Some(r)) => r,
                    Ok(None) => (f64::MIN, f64::MAX),
                    Err(why) => return self.unsupported(format!("command {full}: request {why}")),
                },
            };
            self.commands.push(CommandSpec::new(full, unit, lo, hi));
            Ok(())
        } else if t.contains(&"Component") {
            let target = el
                .get("schema")
                .and_then(Value::as_str)
                .ok_or_else(|| err(format!("component {full} must name its interface")))?;
            let iface = self.find(target)?;
            self.interface(iface, &format!("{full}/"))
        } else if t.contains(&"Relationship") {
            self.relationships.push(Relationship {
                name: full,
                target: el.get("target").and_then(Value::as_str).map(str::to_string),
            });
            Ok(())
        } else {
            self.unsupported(format!("{full}: element type {t:?}"))
        }
    }
}

/// Import the first interface of a DTDL document (one interface object, or an array whose
/// first element is the root and whose others are the interfaces it uses).
///
/// ```
/// let dtdl = r#"{
///   "@context": "dtmi:dtdl:context;3", "@id": "dtmi:example:Fan;1", "@type": "Interface",
///   "displayName": "Fan",
///   "contents": [
///     {"@type": ["Telemetry", "AngularVelocity"], "name": "speed", "schema": "double",
///      "unit": "revolutionPerMinute"},
///     {"@type": "Property", "name": "targetSpeed", "schema": "double", "writable": true},
///     {"@type": "Command", "name": "setSpeed", "request": {"name": "rpm", "schema": "integer"}}
///   ]}"#;
/// let import = twin::schema::dtdl::import(dtdl, Default::default())?;
/// assert_eq!(import.schema.name(), "Fan");
/// assert_eq!(import.schema.telemetry()[0].unit, "revolutionPerMinute");
/// assert!(import.schema.is_property(import.schema.signal_id("targetSpeed")?));
/// # Ok::<(), twin::Error>(())
/// ```
pub fn import(json: &str, opts: DtdlOptions) -> Result<DtdlImport> {
    opts.limits.check_json_len(json.len())?;
    let doc: Value = serde_json::from_str(json).map_err(|e| err(format!("malformed JSON: {e}")))?;
    let all: Vec<Value> = match doc {
        Value::Array(a) => a,
        one @ Value::Object(_) => vec![one],
        _ => {
            return Err(err(
                "a DTDL document is an interface object or an array of them",
            ))
        }
    };
    let root = all
        .first()
        .ok_or_else(|| err("the document holds no interface"))?;
    if let Some(ctx) = root.get("@context") {
        let ok = |c: &Value| {
            c.as_str()
                .is_some_and(|s| s.starts_with("dtmi:dtdl:context;"))
        };
        let known = match ctx {
            Value::Array(a) => a.iter().any(ok),
            c => ok(c),
        };
        if !known {
            return Err(err(format!("@context {ctx} is not a DTDL context")));
        }
    }
    let name = root
        .get("displayName")
        .and_then(|d| d.as_str().or_else(|| d.get("en").and_then(Value::as_str)))
        .or_else(|| root.get("@id").and_then(Value::as_str))
        .ok_or_else(|| err("the interface has no @id"))?
        .to_string();
    let mut b = Builder {
        doc: &all,
        opts,
        telemetry: Vec::new(),
        properties: Vec::new(),
        commands: Vec::new(),
        relationships: Vec::new(),
        skipped: Vec::new(),
        depth: 0,
    };
    b.interface(root, "")?;
    let mut sb = Schema::builder(name).limits(opts.limits);
    for s in b.telemetry {
        sb = sb.telemetry(s);
    }
    for s in b.properties {
        sb = sb.property(s);
    }
    for c in b.commands {
        sb = sb.command(c);
    }
    Ok(DtdlImport {
        schema: sb.build()?,
        relationships: b.relationships,
        skipped: b.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const THERMOSTAT: &str = r#"[
      {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Controller;1",
       "@type": "Interface", "extends": "dtmi:com:example:Device;1",
       "contents": [
         {"@type": "Component", "name": "thermostat1", "schema": "dtmi:com:example:Thermostat;1"},
         {"@type": "Component", "name": "thermostat2", "schema": "dtmi:com:example:Thermostat;1"},
         {"@type": "Relationship", "name": "feeds", "target": "dtmi:com:example:Room;1"},
         {"@type": "Property", "name": "mode",
          "schema": {"@type": "Enum", "valueSchema": "integer",
                     "enumValues": [{"name": "off", "enumValue": 0}, {"name": "heat", "enumValue": 2}]},
          "writable": true},
         {"@type": "Command", "name": "reboot"}
       ]},
      {"@id": "dtmi:com:example:Device;1", "@type": "Interface",
       "contents": [{"@type": "Property", "name": "serialNumber", "schema": "long"}]},
      {"@id": "dtmi:com:example:Thermostat;1", "@type": "Interface",
       "contents": [
         {"@type": ["Telemetry", "Temperature"], "name": "temperature", "schema": "double", "unit": "degreeCelsius"},
         {"@type": "Property", "name": "targetTemperature", "schema": "double", "writable": true},
         {"@type": "Command", "name": "setMode", "request": {"name": "on", "schema": "boolean"}}
       ]}
    ]"#;

    #[test]
    fn components_extends_enums_and_relationships() {
        let imp = import(THERMOSTAT, DtdlOptions::default()).expect("import");
        let s = &imp.schema;
        let tele: Vec<&str> = s.telemetry().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            tele,
            vec![
                "serialNumber",
                "thermostat1/temperature",
                "thermostat2/temperature"
            ]
        );
        let props: Vec<&str> = s.properties().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            props,
            vec![
                "thermostat1/targetTemperature",
                "thermostat2/targetTemperature",
                "mode"
            ]
        );
        let mode = s.signal(s.signal_id("mode").expect("id")).expect("spec");
        assert_eq!((mode.min, mode.max), (Some(0.0), Some(2.0)));
        let reboot = s
            .command(s.command_id("reboot").expect("id"))
            .expect("spec");
        assert_eq!((reboot.min, reboot.max), (0.0, 1.0));
        let set_mode = s
            .command(s.command_id("thermostat2/setMode").expect("id"))
            .expect("spec");
        assert_eq!((set_mode.min, set_mode.max), (0.0, 1.0));
        assert_eq!(imp.relationships.len(), 1);
        assert_eq!(
            imp.relationships[0].target.as_deref(),
            Some("dtmi:com:example:Room;1")
        );
        assert!(imp.skipped.is_empty());
    }

    #[test]
    fn unsupported_features_are_clear_errors_or_skipped() {
        let doc = r#"{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:x:A;1", "@type": "Interface",
          "contents": [
            {"@type": "Telemetry", "name": "ok", "schema": "float"},
            {"@type": "Telemetry", "name": "label", "schema": "string"},
            {"@type": "Telemetry", "name": "pos", "schema": {"@type": "Object", "fields": []}},
            {"@type": "Command", "name": "configure", "request": {"name": "cfg", "schema": {"@type": "Map"}}}
          ]}"#;
        let e = import(doc, DtdlOptions::default()).expect_err("strict");
        assert_eq!(e.kind(), ErrorKind::Schema);
        assert!(e.to_string().contains("label"), "{e}");
        let imp = import(
            doc,
            DtdlOptions {
                skip_unsupported: true,
                ..Default::default()
            },
        )
        .expect("lenient");
        assert_eq!(imp.schema.signal_count(), 1);
        assert_eq!(imp.skipped.len(), 3);
        for (bad, needle) in [
            ("[]", "no interface"),
            ("3", "interface object"),
            (
                r#"{"@context": "http://x", "@id": "a", "@type": "Interface"}"#,
                "not a DTDL context",
            ),
            (
                r#"{"@id": "a", "@type": "Interface", "contents": [{"@type": "Component", "name": "c", "schema": "dtmi:missing;1"}]}"#,
                "not in the document",
            ),
            (
                r#"{"@id": "a", "@type": "Interface", "extends": "a"}"#,
                "deeper",
            ),
            ("{", "malformed"),
        ] {
            let e = import(bad, DtdlOptions::default()).expect_err(bad);
            assert_eq!(e.kind(), ErrorKind::Schema);
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn imports_go_through_the_schema_size_caps() {
        // THERMOSTAT makes 6 signals and 3 commands.
        let with = |limits: SchemaLimits| {
            import(
                THERMOSTAT,
                DtdlOptions {
                    limits,
                    ..Default::default()
                },
            )
        };
        let d = SchemaLimits::default();
        with(SchemaLimits {
            max_signals: 6,
            max_commands: 3,
            ..d
        })
        .expect("at");
        let e = with(SchemaLimits {
            max_signals: 5,
            ..d
        })
        .expect_err("signals");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert_eq!(e.to_string(), "limit exceeded: max_signals is 5, got 6");
        let e = with(SchemaLimits {
            max_commands: 2,
            ..d
        })
        .expect_err("commands");
        assert_eq!(e.to_string(), "limit exceeded: max_commands is 2, got 3");
        // "thermostat1/targetTemperature" is 29 bytes.
        with(SchemaLimits {
            max_name_bytes: 29,
            ..d
        })
        .expect("at");
        let e = with(SchemaLimits {
            max_name_bytes: 28,
            ..d
        })
        .expect_err("name");
        assert_eq!(
            e.to_string(),
            "limit exceeded: max_name_bytes is 28, got 29"
        );
        let n = THERMOSTAT.len();
        with(SchemaLimits {
            max_json_bytes: n,
            ..d
        })
        .expect("at");
        let e = with(SchemaLimits {
            max_json_bytes: n - 1,
            ..d
        })
        .expect_err("bytes");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    }
}
