//! Versioned JSON documents for every saved model, detector and filter of `analytics`.
//!
//! Every document is `{"format": "<kind>", "version": <n>, "model": {...}}`. A document of
//! another kind, another version, or one that does not parse is refused with
//! [`Error::Serialization`] and a message that says which.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Serialize)]
struct Out<'a, T> {
    format: &'a str,
    version: u32,
    model: &'a T,
}

#[derive(Deserialize)]
struct In {
    format: String,
    version: u32,
    model: serde_json::Value,
}

/// Encode `model` as a `format` document of `version`.
pub(crate) fn to_json<T: Serialize>(format: &str, version: u32, model: &T) -> Result<String> {
    serde_json::to_string(&Out {
        format,
        version,
        model,
    })
    .map_err(|e| Error::Serialization(format!("cannot encode {format}: {e}")))
}

/// Decode a `format` document of `version`.
pub(crate) fn from_json<T: DeserializeOwned>(format: &str, version: u32, json: &str) -> Result<T> {
    let doc: In = serde_json::from_str(json).map_err(|e| {
        Error::Serialization(format!(
            "cannot load {format}: not a saved twin model (expected {{\"format\", \"version\", \"model\"}}): {e}"
        ))
    })?;
    if doc.format != format {
        return Err(Error::Serialization(format!(
            "cannot load {format}: the file holds a {}",
            doc.format
        )));
    }
    if doc.version != version {
        return Err(Error::Serialization(format!(
            "cannot load {format}: format version {} is not supported (this build reads version {version})",
            doc.version
        )));
    }
    serde_json::from_value(doc.model)
        .map_err(|e| Error::Serialization(format!("cannot load {format}: corrupt model: {e}")))
}
