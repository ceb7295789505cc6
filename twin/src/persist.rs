//! The sealed JSON envelope of everything the crate saves (twin snapshots, fitted models,
//! detectors, filters).
//!
//! A document is `{"format": "<kind>", "version": <n>, "checksum": "crc32:<8 hex>",
//! "<body>": {...}}` where the checksum is the CRC-32 (IEEE) of the body's exact JSON
//! text. Loading checks, in order, and refuses with [`Error::Serialization`] and a message
//! that says which:
//! - the text is JSON (a cut-off file is reported as truncated);
//! - it is a document of the expected kind;
//! - its version is one this build reads (a newer version is refused as written by a newer
//!   release; older versions are migrated where the kind knows how, otherwise refused);
//! - the checksum matches the body (a corrupted body is refused, never half-loaded);
//! - the body decodes into the expected type.
//!
//! Documents written before checksums existed (no `checksum` field) are still read: they
//! are migrated, with the structural checks of the type they decode into.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Envelope<'a> {
    format: String,
    version: u32,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(borrow, alias = "model", alias = "snapshot")]
    body: &'a RawValue,
}

/// The checksum text of a body.
fn checksum(body: &str) -> String {
    format!("crc32:{:08x}", crc32fast::hash(body.as_bytes()))
}

/// Encode `value` as a sealed `format` document of `version`, its body under `key`.
pub(crate) fn seal<T: Serialize>(
    format: &str,
    version: u32,
    key: &str,
    value: &T,
) -> Result<String> {
    let body = serde_json::to_string(value)
        .map_err(|e| Error::Serialization(format!("cannot encode {format}: {e}")))?;
    let head = serde_json::to_string(format)
        .map_err(|e| Error::Serialization(format!("cannot encode {format}: {e}")))?;
    Ok(format!(
        "{{\"format\":{head},\"version\":{version},\"checksum\":\"{}\",\"{key}\":{body}}}",
        checksum(&body)
    ))
}

/// What a loaded document holds before its body is decoded.
pub(crate) struct Opened<'a> {
    /// The document's version (checked to be at most the current one).
    pub version: u32,
    body: &'a RawValue,
}

impl Opened<'_> {
    /// Decode the body.
    pub fn decode<T: DeserializeOwned>(&self, format: &str) -> Result<T> {
        serde_json::from_str(self.body.get()).map_err(|e| {
            Error::Serialization(format!("cannot load {format}: corrupt content: {e}"))
        })
    }
}

/// Open a `format` document: parse, check its kind, that its version is at most
/// `current`, and its checksum. The caller decides what to do with older versions.
pub(crate) fn open<'a>(format: &str, current: u32, json: &'a str) -> Result<Opened<'a>> {
    let doc: Envelope<'a> = serde_json::from_str(json).map_err(|e| {
        // A cut that leaves a half token at the very end (a lone `-` of a number, say) is
        // reported by serde_json as a syntax error at the last character, not as EOF.
        let at_end = json.trim_end().lines().count() == e.line()
            && json.trim_end().lines().last().map(str::len) == Some(e.column());
        let why = if e.is_eof() || at_end {
            "the text is truncated".to_string()
        } else {
            format!(
                "not a saved twin document (expected format, version, checksum and a body): {e}"
            )
        };
        Error::Serialization(format!("cannot load {format}: {why}"))
    })?;
    if doc.format != format {
        return Err(Error::Serialization(format!(
            "cannot load {format}: the document holds a {}",
            doc.format
        )));
    }
    if doc.version > current {
        return Err(Error::Serialization(format!(
            "cannot load {format}: format version {} was written by a newer release (this build reads up to version {current})",
            doc.version
        )));
    }
    if let Some(expected) = &doc.checksum {
        let actual = checksum(doc.body.get());
        if *expected != actual {
            return Err(Error::Serialization(format!(
                "cannot load {format}: checksum mismatch (the document says {expected}, its content gives {actual}): the data is corrupted"
            )));
        }
    }
    Ok(Opened {
        version: doc.version,
        body: doc.body,
    })
}

/// Open and decode a `format` document of exactly `version` (no migrations).
pub(crate) fn open_exact<T: DeserializeOwned>(format: &str, version: u32, json: &str) -> Result<T> {
    let doc = open(format, version, json)?;
    if doc.version != version {
        return Err(Error::Serialization(format!(
            "cannot load {format}: format version {} is no longer supported (this build reads version {version})",
            doc.version
        )));
    }
    doc.decode(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Thing {
        a: f64,
        b: Vec<u32>,
    }

    fn thing() -> Thing {
        Thing {
            a: 0.1,
            b: vec![1, 2, 3],
        }
    }

    #[test]
    fn round_trip_and_the_exact_text() {
        let json = seal("test.thing", 3, "model", &thing()).expect("seal");
        let body = r#"{"a":0.1,"b":[1,2,3]}"#;
        let crc = format!("{:08x}", crc32fast::hash(body.as_bytes()));
        assert_eq!(
            json,
            format!(
                r#"{{"format":"test.thing","version":3,"checksum":"crc32:{crc}","model":{body}}}"#
            )
        );
        // The CRC-32 (IEEE) check value of "123456789" is cbf43926.
        assert_eq!(checksum("123456789"), "crc32:cbf43926");
        let back: Thing = open_exact("test.thing", 3, &json).expect("open");
        assert_eq!(back, thing());
    }

    #[test]
    fn every_fault_has_its_message() {
        let json = seal("test.thing", 3, "model", &thing()).expect("seal");
        let err = |text: &str| {
            open_exact::<Thing>("test.thing", 3, text)
                .expect_err("refused")
                .to_string()
        };
        assert!(err(&json[..json.len() - 5]).contains("truncated"));
        // Cut right after the minus sign of a number: still truncated, not "not a document".
        let neg = seal("test.thing", 3, "model", &-1.5_f64).expect("seal");
        let cut = neg.find("-1.5").expect("number") + 1;
        assert!(
            err(&neg[..cut]).contains("truncated"),
            "{}",
            err(&neg[..cut])
        );
        assert!(err("[1, 2]").contains("not a saved twin document"));
        assert!(err(&json.replace("test.thing", "test.other")).contains("holds a test.other"));
        assert!(err(&json.replace("\"version\":3", "\"version\":4")).contains("newer release"));
        assert!(
            err(&json.replace("\"version\":3", "\"version\":2")).contains("no longer supported")
        );
        let flipped = json.replace("0.1", "0.2");
        assert!(
            err(&flipped).contains("checksum mismatch"),
            "{}",
            err(&flipped)
        );
        let wrong_type = seal("test.thing", 3, "model", &vec![1, 2]).expect("seal");
        assert!(err(&wrong_type).contains("corrupt content"));
        // A document from before checksums is still read.
        let legacy = r#"{"format":"test.thing","version":3,"model":{"a":0.1,"b":[1,2,3]}}"#;
        let doc = open("test.thing", 3, legacy).expect("legacy");
        assert_eq!(doc.decode::<Thing>("test.thing").expect("decode"), thing());
        // The body may sit under any of the known keys.
        let snap = json.replace("\"model\":", "\"snapshot\":");
        assert_eq!(
            open_exact::<Thing>("test.thing", 3, &snap).expect("snapshot key"),
            thing()
        );
    }
}
