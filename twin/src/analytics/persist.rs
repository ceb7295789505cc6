//! Versioned, checksummed JSON documents for every saved model, detector and filter of
//! `analytics`: `{"format": "<kind>", "version": <n>, "checksum": "crc32:..", "model": {...}}`
//! (the crate's sealed envelope, see `crate::persist`). A document of another kind, a
//! newer version, a corrupted body or text that does not parse is refused with
//! [`Error::Serialization`](crate::Error::Serialization) and a message that says which.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Result;

/// Encode `model` as a `format` document of `version`.
pub(crate) fn to_json<T: Serialize>(format: &str, version: u32, model: &T) -> Result<String> {
    crate::persist::seal(format, version, "model", model)
}

/// Decode a `format` document of `version`.
pub(crate) fn from_json<T: DeserializeOwned>(format: &str, version: u32, json: &str) -> Result<T> {
    crate::persist::open_exact(format, version, json)
}
