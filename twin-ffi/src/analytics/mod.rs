//! The analytics models from C: streaming and multivariate anomaly detectors
//! ([`detect`]), condition features ([`features`]), the health index ([`health`]),
//! remaining useful life ([`rul`]), state estimation and prognosis ([`estimate`]) and
//! Weibull reliability ([`reliability`]).
//!
//! Every model is an opaque handle that exists only fitted (a handle is made by a fit or a
//! load, so a prediction can never be asked of an unfitted model), saved with `_to_json`
//! (the size-query convention of `twin_twin_snapshot_json`) or `_save`, and loaded with
//! `_from_json` or `_load`. The saved JSON is the Rust crate's own versioned document, so
//! a model saved from C loads in Rust and Python and the other way round.
//!
//! Settings are passed as JSON text merged over the defaults: `NULL, 0` (or `"{}"`) means
//! the defaults, `{"threshold": 0.995}` changes one setting. Nested settings merge the
//! same way; arrays and enum variants are replaced whole; an unknown setting is refused
//! with `TWIN_RESULT_INVALID_INPUT`.
//!
//! Matrices are row-major `double` buffers passed as `(data, len, rows, cols)` with
//! `len == rows * cols`, checked.

pub mod detect;
pub mod estimate;
pub mod features;
pub mod health;
pub mod reliability;
pub mod rul;

#[cfg(test)]
mod tests;

pub use detect::*;
pub use estimate::*;
pub use features::*;
pub use health::*;
pub use reliability::*;
pub use rul::*;

use std::ffi::c_char;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::result::{copy_str_out, fail, OrFail, TwinResult};

/// Settings of type `T` from `json` merged over `T::default()`; empty text gives the
/// defaults.
pub(crate) fn settings<T: Serialize + DeserializeOwned + Default>(
    json: &str,
    what: &str,
) -> Result<T, TwinResult> {
    if json.trim().is_empty() {
        return Ok(T::default());
    }
    let patch: Value = serde_json::from_str(json).map_err(|e| {
        fail(
            TwinResult::InvalidInput,
            format!("{what} settings are not valid JSON: {e}"),
        )
    })?;
    if !patch.is_object() {
        return Err(fail(
            TwinResult::InvalidInput,
            format!("{what} settings must be a JSON object"),
        ));
    }
    let mut base = serde_json::to_value(T::default()).map_err(|e| {
        fail(
            TwinResult::Other,
            format!("default {what} settings cannot be encoded: {e}"),
        )
    })?;
    merge(&mut base, patch, what)?;
    serde_json::from_value(base).map_err(|e| {
        fail(
            TwinResult::InvalidInput,
            format!("invalid {what} settings: {e}"),
        )
    })
}

/// Merge `patch` into `base`: objects key by key (a key unknown to `base` is an error,
/// unless `base` is a one-key object, an enum variant, which the patch then replaces);
/// anything else is replaced.
fn merge(base: &mut Value, patch: Value, path: &str) -> Result<(), TwinResult> {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            if b.len() == 1 && p.keys().any(|k| !b.contains_key(k)) {
                *b = p;
                return Ok(());
            }
            for (k, v) in p {
                let Some(slot) = b.get_mut(&k) else {
                    return Err(fail(
                        TwinResult::InvalidInput,
                        format!("unknown setting `{k}` in {path}"),
                    ));
                };
                merge(slot, v, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (slot, v) => {
            *slot = v;
            Ok(())
        }
    }
}

/// Check that a row-major buffer of `len` values holds `rows × cols`.
pub(crate) fn check_matrix(
    len: usize,
    rows: usize,
    cols: usize,
    name: &str,
) -> Result<(), TwinResult> {
    if cols == 0 {
        return Err(fail(
            TwinResult::InvalidInput,
            format!("`{name}` must have at least one column"),
        ));
    }
    if rows.checked_mul(cols) != Some(len) {
        return Err(fail(
            TwinResult::InvalidInput,
            format!(
                "`{name}` has {len} values; {rows} rows × {cols} columns need {}",
                rows.saturating_mul(cols)
            ),
        ));
    }
    Ok(())
}

/// An owned `rows × cols` array from a checked row-major buffer.
pub(crate) fn matrix(
    data: &[f64],
    rows: usize,
    cols: usize,
    name: &str,
) -> Result<ndarray::Array2<f64>, TwinResult> {
    check_matrix(data.len(), rows, cols, name)?;
    ndarray::Array2::from_shape_vec((rows, cols), data.to_vec())
        .map_err(|e| fail(TwinResult::InvalidInput, format!("`{name}`: {e}")))
}

/// Copy a model's JSON (or its error) into a caller's buffer.
pub(crate) fn json_out(
    json: twin::Result<String>,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), TwinResult> {
    let json = json.or_fail()?;
    copy_str_out(&json, buf, cap, out_len)
}

/// Write a saved model to a file.
pub(crate) fn write_file(path: &str, json: twin::Result<String>) -> Result<(), TwinResult> {
    let json = json.or_fail()?;
    std::fs::write(path, json)
        .map_err(|e| fail(TwinResult::Io, format!("cannot write {path}: {e}")))
}

/// Read a saved model from a file.
pub(crate) fn read_file(path: &str) -> Result<String, TwinResult> {
    std::fs::read_to_string(path)
        .map_err(|e| fail(TwinResult::Io, format!("cannot read {path}: {e}")))
}

/// The `format` tag of a saved model, to choose the type to load it as.
pub(crate) fn format_of(json: &str, what: &str) -> Result<String, TwinResult> {
    let not_saved = |detail: String| {
        fail(
            TwinResult::Serialization,
            format!("cannot load a {what}: {detail}"),
        )
    };
    let doc: Value = serde_json::from_str(json).map_err(|e| not_saved(format!("not JSON: {e}")))?;
    match doc.get("format").and_then(Value::as_str) {
        Some(f) => Ok(f.to_string()),
        None => Err(not_saved(
            "not a saved twin model (no \"format\" tag)".into(),
        )),
    }
}

/// The error for a saved model of a kind this handle type does not hold.
pub(crate) fn wrong_format(format: &str, what: &str) -> TwinResult {
    fail(
        TwinResult::Serialization,
        format!("cannot load a {what}: the document holds a {format}"),
    )
}

/// Box a new handle and write it to `out`.
pub(crate) fn put_handle<T>(value: T, out: *mut *mut T) {
    let handle = Box::into_raw(Box::new(value));
    // SAFETY: callers pass an `out` checked non-NULL and aligned by `arg!(out ..)`.
    unsafe { out.write(handle) };
}

/// Drop a handle made by [`put_handle`]; NULL does nothing.
///
/// # Safety
/// `p` must be NULL or a pointer from [`put_handle`] not yet freed.
pub(crate) unsafe fn drop_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: the caller passes a pointer from `Box::into_raw` that is not freed yet.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Write one value to a checked output pointer.
pub(crate) fn put<T>(out: *mut T, value: T) {
    // SAFETY: callers pass an `out` checked non-NULL and aligned by `arg!(out ..)`.
    unsafe { out.write(value) };
}

/// Copy `src` into a caller's buffer of `cap` elements, all or nothing; `*out_len` gets
/// `src.len()`.
pub(crate) fn copy_slice_out<T: Copy>(
    src: &[T],
    buf: *mut T,
    cap: usize,
    out_len: *mut usize,
    what: &str,
) -> Result<(), TwinResult> {
    if src.len() > cap {
        return Err(fail(
            TwinResult::BufferTooSmall,
            format!("{} {what} do not fit a buffer of {cap}", src.len()),
        ));
    }
    // SAFETY: `src.len() <= cap` elements go to the caller's buffer of `cap` (non-NULL
    // whenever `cap > 0`, checked by `arg!(out_slice ..)`); `out_len` is checked.
    unsafe {
        if !src.is_empty() {
            std::ptr::copy_nonoverlapping(src.as_ptr(), buf, src.len());
        }
        out_len.write(src.len());
    }
    Ok(())
}
