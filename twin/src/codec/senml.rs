//! SenML (RFC 8428): Sensor Measurement Lists in JSON and CBOR, to and from samples.
//!
//! A pack is an array of records. Base fields (`bn`, `bt`, `bu`, `bv`, `bs`, `bver`) apply to
//! the records that follow until changed; [`parse_json`] and [`parse_cbor`] resolve them into
//! [`Record`]s with full names, absolute times and values. [`decode_json`] and
//! [`decode_cbor`] go on to map records onto a schema's signals, refusing records one by one
//! with a reason, so that accepted + refused always equals the number of records.
//!
//! Times are seconds in SenML. A resolved time below 2^28 s is relative to "now" (RFC 8428
//! section 4.5.3), so decoding takes the receiver's current time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::sample::{BatchRef, SampleBatch, Timestamp};
use crate::schema::Schema;

/// The SenML version this codec implements (RFC 8428 is version 10).
pub const SENML_VERSION: i64 = 10;

/// Resolved times below this many seconds are relative to the receiver's "now".
pub const RELATIVE_TIME_LIMIT_S: f64 = 268_435_456.0; // 2^28

/// Units of the SenML Units Registry (RFC 8428 section 12.1 and its later additions).
pub const UNITS: &[&str] = &[
    "m", "kg", "g", "s", "A", "K", "cd", "mol", "Hz", "rad", "sr", "N", "Pa", "J", "W", "C", "V",
    "F", "Ohm", "S", "Wb", "T", "H", "Cel", "lm", "lx", "Bq", "Gy", "Sv", "kat", "m2", "m3", "l",
    "m/s", "m/s2", "m3/s", "l/s", "W/m2", "cd/m2", "bit", "bit/s", "lat", "lon", "pH", "dB", "dBW",
    "Bspl", "count", "/", "%", "%RH", "%EL", "EL", "1/s", "1/min", "beat/min", "beats", "S/m", "B",
    "VA", "VAs", "var", "vars", "J/m", "kg/m3", "deg", "NTU", "ms", "min", "h", "MHz", "kW", "kVA",
    "kvar", "Ah", "Wh", "kWh", "varh", "kvarh", "kVAh", "Wh/km", "KiB", "GB", "Mbit/s", "B/s",
    "MB/s", "mV", "mA", "dBm", "ug/m3", "mm/h", "m/h", "ppm", "/100", "/1000", "hPa", "mm", "cm",
    "km", "km/h", "gravity", "dps", "Gs", "rpm",
];

/// Whether a unit is in the SenML Units Registry.
///
/// ```
/// assert!(twin::codec::senml::is_registered_unit("Cel"));
/// assert!(!twin::codec::senml::is_registered_unit("degC"));
/// ```
pub fn is_registered_unit(unit: &str) -> bool {
    UNITS.contains(&unit)
}

/// The value of a resolved record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// A number (`v`, plus any base value).
    Number(f64),
    /// A string (`vs`).
    String(String),
    /// A boolean (`vb`).
    Bool(bool),
    /// Binary data, base64url in JSON (`vd`), kept as text.
    Data(String),
}

/// One resolved SenML record: base fields applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Full name: base name followed by name.
    pub name: String,
    /// Unit, from the record or the base unit.
    pub unit: Option<String>,
    /// Absolute time in seconds (relative times already resolved against "now").
    pub time_s: f64,
    /// The value, if the record has one.
    pub value: Option<Value>,
    /// The sum (`s`, plus any base sum), if the record has one.
    pub sum: Option<f64>,
}

/// The fields of one unresolved record, whichever encoding it came in.
#[derive(Debug, Default)]
struct RawRecord {
    bn: Option<String>,
    bt: Option<f64>,
    bu: Option<String>,
    bv: Option<f64>,
    bs: Option<f64>,
    bver: Option<i64>,
    n: Option<String>,
    u: Option<String>,
    v: Option<f64>,
    vs: Option<String>,
    vb: Option<bool>,
    vd: Option<String>,
    s: Option<f64>,
    t: Option<f64>,
}

fn bad(i: usize, msg: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("senml record {i}: {msg}"))
}

fn num(i: usize, field: &str, v: &serde_json::Value) -> Result<f64> {
    let x = v
        .as_f64()
        .ok_or_else(|| bad(i, format!("{field} must be a number, got {v}")))?;
    if !x.is_finite() {
        return Err(bad(i, format!("{field} must be finite")));
    }
    Ok(x)
}

fn text(i: usize, field: &str, v: &serde_json::Value) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| bad(i, format!("{field} must be a string, got {v}")))
}

fn raw_from_json(i: usize, rec: &serde_json::Value) -> Result<RawRecord> {
    let obj = rec
        .as_object()
        .ok_or_else(|| bad(i, "a record must be a JSON object"))?;
    let mut r = RawRecord::default();
    for (k, v) in obj {
        match k.as_str() {
            "bn" => r.bn = Some(text(i, k, v)?),
            "bt" => r.bt = Some(num(i, k, v)?),
            "bu" => r.bu = Some(text(i, k, v)?),
            "bv" => r.bv = Some(num(i, k, v)?),
            "bs" => r.bs = Some(num(i, k, v)?),
            "bver" => {
                r.bver = Some(
                    v.as_i64()
                        .ok_or_else(|| bad(i, "bver must be an integer"))?,
                )
            }
            "n" => r.n = Some(text(i, k, v)?),
            "u" => r.u = Some(text(i, k, v)?),
            "v" => r.v = Some(num(i, k, v)?),
            "vs" => r.vs = Some(text(i, k, v)?),
            "vb" => r.vb = Some(v.as_bool().ok_or_else(|| bad(i, "vb must be a boolean"))?),
            "vd" => r.vd = Some(text(i, k, v)?),
            "s" => r.s = Some(num(i, k, v)?),
            "t" => r.t = Some(num(i, k, v)?),
            "ut" => {
                num(i, k, v)?;
            }
            // RFC 8428 4.4: fields ending in "_" must be understood, others may be ignored.
            other if other.ends_with('_') => {
                return Err(bad(
                    i,
                    format!("must-understand field {other:?} is not supported"),
                ))
            }
            _ => {}
        }
    }
    Ok(r)
}

fn cbor_num(i: usize, field: &str, v: &ciborium::Value) -> Result<f64> {
    let x = match v {
        ciborium::Value::Float(f) => *f,
        ciborium::Value::Integer(n) => i128::from(*n) as f64,
        _ => return Err(bad(i, format!("{field} must be a number"))),
    };
    if !x.is_finite() {
        return Err(bad(i, format!("{field} must be finite")));
    }
    Ok(x)
}

fn cbor_text(i: usize, field: &str, v: &ciborium::Value) -> Result<String> {
    match v {
        ciborium::Value::Text(s) => Ok(s.clone()),
        _ => Err(bad(i, format!("{field} must be a text string"))),
    }
}

fn raw_from_cbor(i: usize, rec: &ciborium::Value) -> Result<RawRecord> {
    let ciborium::Value::Map(entries) = rec else {
        return Err(bad(i, "a record must be a CBOR map"));
    };
    let mut r = RawRecord::default();
    for (k, v) in entries {
        // RFC 8428 section 6: integer labels in CBOR, text labels for extensions.
        let label = match k {
            ciborium::Value::Integer(n) => i128::from(*n),
            ciborium::Value::Text(t) if t.ends_with('_') => {
                return Err(bad(
                    i,
                    format!("must-understand field {t:?} is not supported"),
                ))
            }
            ciborium::Value::Text(_) => continue,
            _ => return Err(bad(i, "a record label must be an integer or text")),
        };
        match label {
            -1 => r.bver = Some(cbor_num(i, "bver", v)? as i64),
            -2 => r.bn = Some(cbor_text(i, "bn", v)?),
            -3 => r.bt = Some(cbor_num(i, "bt", v)?),
            -4 => r.bu = Some(cbor_text(i, "bu", v)?),
            -5 => r.bv = Some(cbor_num(i, "bv", v)?),
            -6 => r.bs = Some(cbor_num(i, "bs", v)?),
            0 => r.n = Some(cbor_text(i, "n", v)?),
            1 => r.u = Some(cbor_text(i, "u", v)?),
            2 => r.v = Some(cbor_num(i, "v", v)?),
            3 => r.vs = Some(cbor_text(i, "vs", v)?),
            4 => match v {
                ciborium::Value::Bool(b) => r.vb = Some(*b),
                _ => return Err(bad(i, "vb must be a boolean")),
            },
            5 => r.s = Some(cbor_num(i, "s", v)?),
            6 => r.t = Some(cbor_num(i, "t", v)?),
            7 => {
                cbor_num(i, "ut", v)?;
            }
            8 => match v {
                ciborium::Value::Bytes(b) => r.vd = Some(base64url(b)),
                _ => return Err(bad(i, "vd must be a byte string")),
            },
            _ => {}
        }
    }
    Ok(r)
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    out
}

/// Whether a resolved name follows RFC 8428 section 4.5.1: starts with a letter or digit,
/// then letters, digits, and `: . / - _`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '/' | '-' | '_'))
}

/// Apply base fields and resolve names, times and values (RFC 8428 section 4.6).
fn resolve(raw: Vec<RawRecord>, now: Timestamp) -> Result<Vec<Record>> {
    let (mut bn, mut bt, mut bu, mut bv, mut bs) = (String::new(), 0.0, None::<String>, 0.0, 0.0);
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        if let Some(ver) = r.bver {
            if ver > SENML_VERSION {
                return Err(bad(
                    i,
                    format!("bver {ver} is newer than the supported {SENML_VERSION}"),
                ));
            }
        }
        if let Some(x) = r.bn {
            bn = x;
        }
        if let Some(x) = r.bt {
            bt = x;
        }
        if let Some(x) = r.bu {
            bu = Some(x);
        }
        if let Some(x) = r.bv {
            bv = x;
        }
        if let Some(x) = r.bs {
            bs = x;
        }
        let name = format!("{bn}{}", r.n.as_deref().unwrap_or(""));
        if name.is_empty() {
            return Err(bad(i, "missing name: neither bn nor n is given"));
        }
        if !valid_name(&name) {
            return Err(bad(i, format!("invalid name {name:?}")));
        }
        let kinds = [
            r.v.is_some(),
            r.vs.is_some(),
            r.vb.is_some(),
            r.vd.is_some(),
        ];
        if kinds.iter().filter(|&&k| k).count() > 1 {
            return Err(bad(i, "a record has at most one of v, vs, vb, vd"));
        }
        let value = if let Some(v) = r.v {
            Some(Value::Number(bv + v))
        } else if let Some(s) = r.vs {
            Some(Value::String(s))
        } else if let Some(b) = r.vb {
            Some(Value::Bool(b))
        } else {
            r.vd.map(Value::Data)
        };
        let sum = r.s.map(|s| bs + s);
        if value.is_none() && sum.is_none() {
            // Base-only records carry no measurement (RFC 8428 allows them only as the first
            // record holding base fields for the rest).
            if r.n.is_some() || r.t.is_some() {
                return Err(bad(
                    i,
                    format!("record {name:?} has neither a value nor a sum"),
                ));
            }
            continue;
        }
        let mut time_s = bt + r.t.unwrap_or(0.0);
        if time_s < RELATIVE_TIME_LIMIT_S {
            time_s += now.as_secs_f64();
        }
        out.push(Record {
            name,
            unit: r.u.or_else(|| bu.clone()),
            time_s,
            value,
            sum,
        });
    }
    Ok(out)
}

/// Parse and resolve a SenML pack in JSON.
///
/// ```
/// use twin::codec::senml::{parse_json, Value};
/// let pack = br#"[{"bn":"urn:dev:ow:10e2073a01080063:","bt":1.320067464e9,"bu":"Cel","n":"temp","v":23.1},
///                 {"n":"temp","t":60,"v":23.4}]"#;
/// let recs = parse_json(pack, twin::Timestamp(0))?;
/// assert_eq!(recs[1].name, "urn:dev:ow:10e2073a01080063:temp");
/// assert_eq!(recs[1].time_s, 1.320067524e9);
/// assert_eq!(recs[1].value, Some(Value::Number(23.4)));
/// # Ok::<(), twin::Error>(())
/// ```
pub fn parse_json(bytes: &[u8], now: Timestamp) -> Result<Vec<Record>> {
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidInput(format!("senml pack is not valid JSON: {e}")))?;
    let arr = doc
        .as_array()
        .ok_or_else(|| Error::InvalidInput("a senml pack must be a JSON array".into()))?;
    let raw = arr
        .iter()
        .enumerate()
        .map(|(i, r)| raw_from_json(i, r))
        .collect::<Result<_>>()?;
    resolve(raw, now)
}

/// Parse and resolve a SenML pack in CBOR (integer labels, RFC 8428 section 6).
pub fn parse_cbor(bytes: &[u8], now: Timestamp) -> Result<Vec<Record>> {
    let doc: ciborium::Value = ciborium::de::from_reader(bytes)
        .map_err(|e| Error::InvalidInput(format!("senml pack is not valid CBOR: {e}")))?;
    let ciborium::Value::Array(arr) = doc else {
        return Err(Error::InvalidInput(
            "a senml pack must be a CBOR array".into(),
        ));
    };
    let raw = arr
        .iter()
        .enumerate()
        .map(|(i, r)| raw_from_cbor(i, r))
        .collect::<Result<_>>()?;
    resolve(raw, now)
}

/// One record refused when mapping a pack onto a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// Index of the record among the resolved records with a value.
    pub index: usize,
    /// Why, as a stable kind.
    pub kind: ErrorKind,
    /// Why, in words.
    pub message: String,
}

/// Samples decoded from a pack, and the records refused: `batch.len() + refused.len()`
/// equals the number of records with a value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    /// The accepted records as samples, in pack order.
    pub batch: SampleBatch,
    /// The refused records with their reasons.
    pub refused: Vec<Refusal>,
}

/// How records map onto a schema's signals.
///
/// ```
/// use twin::codec::senml::Mapping;
/// let m = Mapping { strip_prefix: Some("urn:dev:conveyor-7:".into()) };
/// assert_eq!(m.signal_name("urn:dev:conveyor-7:vibration"), "vibration");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// A device prefix removed from record names before looking them up in the schema.
    pub strip_prefix: Option<String>,
}

impl Mapping {
    /// The schema name a record name maps to.
    pub fn signal_name<'a>(&self, record_name: &'a str) -> &'a str {
        match &self.strip_prefix {
            Some(p) => record_name.strip_prefix(p.as_str()).unwrap_or(record_name),
            None => record_name,
        }
    }
}

/// Map resolved records onto a schema: each record with a value becomes a sample or a
/// refusal (unknown name, non-numeric value, unknown or mismatched unit).
///
/// A record's unit must be the schema unit of its signal, or absent. A unit that is neither
/// the schema's nor in the SenML registry is refused as unknown.
pub fn to_samples(records: &[Record], schema: &Schema, mapping: &Mapping) -> Decoded {
    let mut out = Decoded::default();
    let mut refuse = |index, kind, message: String| {
        out.refused.push(Refusal {
            index,
            kind,
            message,
        })
    };
    let mut accepted = SampleBatch::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let name = mapping.signal_name(&r.name);
        let Ok(id) = schema.signal_id(name) else {
            refuse(
                i,
                ErrorKind::UnknownSignal,
                format!("{name:?} is not in the schema"),
            );
            continue;
        };
        let value = match &r.value {
            Some(Value::Number(x)) => *x,
            Some(Value::Bool(b)) => f64::from(u8::from(*b)),
            Some(other) => {
                refuse(
                    i,
                    ErrorKind::InvalidInput,
                    format!("{name}: value {other:?} is not numeric"),
                );
                continue;
            }
            None => match r.sum {
                Some(s) => s,
                None => {
                    refuse(i, ErrorKind::InvalidInput, format!("{name}: no value"));
                    continue;
                }
            },
        };
        let schema_unit = schema.signal(id).map(|s| s.unit.as_str()).unwrap_or("");
        if let Some(u) = &r.unit {
            if u != schema_unit {
                let why = if is_registered_unit(u) || schema_unit.is_empty() {
                    format!("{name}: unit {u:?} does not match the schema's {schema_unit:?}")
                } else {
                    format!("{name}: unknown unit {u:?}")
                };
                refuse(i, ErrorKind::InvalidInput, why);
                continue;
            }
        }
        accepted.push(Timestamp::from_secs_f64(r.time_s), id, value);
    }
    out.batch = accepted;
    out
}

/// Parse a JSON pack and map it onto a schema.
///
/// Structural faults (not JSON, not an array, a record without a name, a base value that is
/// not a number) refuse the whole pack with [`Error::InvalidInput`], as RFC 8428 requires;
/// record-level faults refuse only that record (see [`to_samples`]).
///
/// ```
/// use twin::codec::senml::{decode_json, Mapping};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let pack = br#"[{"bn":"conveyor/","bt":1700000000,"n":"vibration","u":"mm/s","v":1.5},
///                 {"n":"load","v":0.7},{"n":"pressure","v":3}]"#;
/// let m = Mapping { strip_prefix: Some("conveyor/".into()) };
/// let d = decode_json(pack, &schema, &m, twin::Timestamp(0))?;
/// assert_eq!(d.batch.len(), 2);
/// assert_eq!(d.refused[0].kind, twin::ErrorKind::UnknownSignal);
/// assert!(decode_json(br#"[{"v":1}]"#, &schema, &m, twin::Timestamp(0)).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
pub fn decode_json(
    bytes: &[u8],
    schema: &Schema,
    mapping: &Mapping,
    now: Timestamp,
) -> Result<Decoded> {
    Ok(to_samples(&parse_json(bytes, now)?, schema, mapping))
}

/// Parse a CBOR pack and map it onto a schema (see [`decode_json`]).
pub fn decode_cbor(
    bytes: &[u8],
    schema: &Schema,
    mapping: &Mapping,
    now: Timestamp,
) -> Result<Decoded> {
    Ok(to_samples(&parse_cbor(bytes, now)?, schema, mapping))
}

/// One sample ready for a pack: schema name and unit, time relative to the base time.
struct Entry<'a> {
    name: &'a str,
    unit: &'a str,
    t: f64,
    v: f64,
}

/// The base time (the first sample's, in seconds) and the entries of a batch.
fn pack_entries<'a>(schema: &'a Schema, batch: BatchRef<'_>) -> Result<(f64, Vec<Entry<'a>>)> {
    let bt = batch
        .times()
        .first()
        .map_or(0.0, |&t| Timestamp(t).as_secs_f64());
    let mut entries = Vec::with_capacity(batch.len());
    for s in batch.iter() {
        let spec = schema.signal(s.signal)?;
        if !s.value.is_finite() {
            return Err(Error::NonFinite(spec.name.clone()));
        }
        entries.push(Entry {
            name: spec.name.as_str(),
            unit: spec.unit.as_str(),
            t: s.time.as_secs_f64() - bt,
            v: s.value,
        });
    }
    Ok((bt, entries))
}

/// Encode samples as a SenML JSON pack with base name `base_name` and a base time at the
/// first sample (times relative to it).
///
/// ```
/// use twin::codec::senml::{encode_json, parse_json};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let mut b = twin::SampleBatch::new();
/// b.push(twin::Timestamp::from_secs_f64(1.7e9), schema.signal_id("load")?, 0.75);
/// let json = encode_json(&schema, b.as_ref(), "conveyor/")?;
/// let back = parse_json(&json, twin::Timestamp(0))?;
/// assert_eq!(back[0].name, "conveyor/load");
/// # Ok::<(), twin::Error>(())
/// ```
pub fn encode_json(schema: &Schema, batch: BatchRef<'_>, base_name: &str) -> Result<Vec<u8>> {
    let (bt, recs) = pack_entries(schema, batch)?;
    let mut out = Vec::with_capacity(recs.len());
    for (i, e) in recs.into_iter().enumerate() {
        let mut m = serde_json::Map::new();
        if i == 0 {
            m.insert("bn".into(), base_name.into());
            m.insert("bt".into(), bt.into());
        }
        m.insert("n".into(), e.name.into());
        if !e.unit.is_empty() {
            m.insert("u".into(), e.unit.into());
        }
        if e.t != 0.0 {
            m.insert("t".into(), e.t.into());
        }
        m.insert("v".into(), e.v.into());
        out.push(serde_json::Value::Object(m));
    }
    Ok(serde_json::to_vec(&out)?)
}

/// Encode samples as a SenML CBOR pack (integer labels), like [`encode_json`].
pub fn encode_cbor(schema: &Schema, batch: BatchRef<'_>, base_name: &str) -> Result<Vec<u8>> {
    use ciborium::Value as V;
    let (bt, recs) = pack_entries(schema, batch)?;
    let mut out = Vec::with_capacity(recs.len());
    for (i, e) in recs.into_iter().enumerate() {
        let mut m: BTreeMap<i64, V> = BTreeMap::new();
        if i == 0 {
            m.insert(-2, V::Text(base_name.into()));
            m.insert(-3, V::Float(bt));
        }
        m.insert(0, V::Text(e.name.into()));
        if !e.unit.is_empty() {
            m.insert(1, V::Text(e.unit.into()));
        }
        if e.t != 0.0 {
            m.insert(6, V::Float(e.t));
        }
        m.insert(2, V::Float(e.v));
        out.push(V::Map(
            m.into_iter()
                .map(|(k, v)| (V::Integer(k.into()), v))
                .collect(),
        ));
    }
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&V::Array(out), &mut bytes)
        .map_err(|e| Error::Serialization(format!("cbor encoding failed: {e}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::ConveyorDrive;
    use crate::sample::SignalId;

    #[test]
    fn rfc_examples_resolve() {
        // RFC 8428 section 5.1.2: multiple measurements with base name, time and unit.
        let pack = br#"[
          {"bn":"urn:dev:ow:10e2073a01080063:","bt":1.276020076001e+09,"bu":"A","bver":5,
           "n":"voltage","u":"V","v":120.1},
          {"n":"current","t":-5,"v":1.2},
          {"n":"current","t":-4,"v":1.3},
          {"n":"current","t":-3,"v":1.4}]"#;
        let r = parse_json(pack, Timestamp(0)).expect("valid");
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].unit.as_deref(), Some("V"));
        assert_eq!(r[1].unit.as_deref(), Some("A"));
        assert_eq!(r[1].name, "urn:dev:ow:10e2073a01080063:current");
        assert!((r[3].time_s - 1.276020073001e9).abs() < 1e-6);
        // Base value and base sum add up.
        let p2 = br#"[{"bn":"x","bv":100,"bs":10,"v":1.5,"s":2}]"#;
        let r2 = parse_json(p2, Timestamp(0)).expect("valid");
        assert_eq!(
            (r2[0].value.clone(), r2[0].sum),
            (Some(Value::Number(101.5)), Some(12.0))
        );
    }

    #[test]
    fn relative_times_are_taken_from_now() {
        let now = Timestamp::from_secs_f64(1.7e9);
        let r = parse_json(br#"[{"n":"a","t":-10,"v":1}]"#, now).expect("valid");
        assert!((r[0].time_s - (1.7e9 - 10.0)).abs() < 1e-6);
    }

    #[test]
    fn malformed_packs_are_refused_whole() {
        let cases: [(&[u8], &str); 8] = [
            (b"{}", "array"),
            (b"[1]", "object"),
            (b"[{\"v\":1}]", "missing name"),
            (
                b"[{\"n\":\"a\",\"bv\":\"x\",\"v\":1}]",
                "bv must be a number",
            ),
            (b"[{\"n\":\"a b\",\"v\":1}]", "invalid name"),
            (b"[{\"n\":\"a\",\"v\":1,\"vs\":\"x\"}]", "at most one"),
            (b"[{\"n\":\"a\",\"v\":1,\"foo_\":1}]", "must-understand"),
            (b"[{\"bver\":99,\"n\":\"a\",\"v\":1}]", "newer"),
        ];
        for (pack, needle) in cases {
            let e = parse_json(pack, Timestamp(0)).expect_err(needle);
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.to_string().contains(needle), "{needle}: {e}");
        }
        assert!(parse_cbor(&[0xff, 0x00], Timestamp(0)).is_err());
    }

    #[test]
    fn records_are_refused_one_by_one_with_reasons() {
        let schema = ConveyorDrive::standard_schema();
        let pack = br#"[{"bn":"c/","bt":1.7e9,"n":"vibration","u":"mm/s","v":1.1},
            {"n":"vibration","u":"m/s","t":1,"v":0.001},
            {"n":"motor_temp","u":"degF","t":1,"v":100},
            {"n":"load","vs":"high","t":1},
            {"n":"pressure","t":1,"v":2},
            {"n":"load","t":2,"v":0.8}]"#;
        let m = Mapping {
            strip_prefix: Some("c/".into()),
        };
        let d = decode_json(pack, &schema, &m, Timestamp(0)).expect("structurally valid");
        assert_eq!(d.batch.len() + d.refused.len(), 6);
        assert_eq!(d.batch.len(), 2);
        let why: Vec<(usize, ErrorKind)> = d.refused.iter().map(|r| (r.index, r.kind)).collect();
        assert_eq!(
            why,
            vec![
                (1, ErrorKind::InvalidInput),
                (2, ErrorKind::InvalidInput),
                (3, ErrorKind::InvalidInput),
                (4, ErrorKind::UnknownSignal)
            ]
        );
        assert!(d.refused[0].message.contains("does not match"));
        assert!(d.refused[1].message.contains("unknown unit"));
        assert_eq!(d.batch.as_ref().times()[1], 1_700_000_002_000_000_000);
    }

    #[test]
    fn json_and_cbor_round_trip_samples() {
        let schema = ConveyorDrive::standard_schema();
        let mut b = SampleBatch::new();
        for k in 0..20 {
            let t = Timestamp(1_700_000_000_000_000_000 + k * 500_000_000);
            b.push(t, SignalId((k % 4) as u32), 0.1 * k as f64 + 0.05);
        }
        let m = Mapping {
            strip_prefix: Some("dev7/".into()),
        };
        for (bytes, cbor) in [
            (
                encode_json(&schema, b.as_ref(), "dev7/").expect("json"),
                false,
            ),
            (
                encode_cbor(&schema, b.as_ref(), "dev7/").expect("cbor"),
                true,
            ),
        ] {
            let d = if cbor {
                decode_cbor(&bytes, &schema, &m, Timestamp(0))
            } else {
                decode_json(&bytes, &schema, &m, Timestamp(0))
            }
            .expect("decode");
            assert!(d.refused.is_empty(), "{:?}", d.refused);
            assert_eq!(d.batch.as_ref().signals(), b.as_ref().signals());
            assert_eq!(d.batch.as_ref().values(), b.as_ref().values());
            // Seconds as f64 keep sub-microsecond precision at this epoch.
            for (x, y) in d.batch.as_ref().times().iter().zip(b.as_ref().times()) {
                assert!((x - y).abs() < 1_000, "{x} vs {y}");
            }
        }
    }

    #[test]
    fn base64url_matches_known_vectors() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
