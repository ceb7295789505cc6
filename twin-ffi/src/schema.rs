//! `TwinSchema`: a parsed, validated schema, and name look-ups.

use std::ffi::c_char;

use twin::{Schema, SignalId};

use crate::result::{copy_str_out, OrFail, TwinResult};

/// A validated twin schema (opaque). Create with `twin_schema_from_json`, free with
/// `twin_schema_free`.
///
/// A schema never changes after it is created, so one schema may be read by several
/// threads at once; it must not be freed while another thread uses it.
pub struct TwinSchema {
    pub(crate) inner: Schema,
}

/// Parse and validate a schema from `len` bytes of UTF-8 JSON (no NUL terminator needed).
///
/// On success `*out` receives a new schema that the caller frees with `twin_schema_free`.
/// Malformed JSON, unknown fields, duplicate names, inverted or non-finite ranges give
/// `TWIN_RESULT_SCHEMA`; bytes that are not UTF-8 give `TWIN_RESULT_INVALID_UTF8`; a NULL
/// `json` (with `len > 0`) or `out` gives `TWIN_RESULT_NULL_PARAMETER`. On failure `*out`
/// is left untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes (or be NULL if `len` is 0); `out` must point
/// to a writable `TwinSchema *`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinSchema,
) -> TwinResult {
    ffi_boundary!("twin_schema_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = Schema::from_json(json).or_fail()?;
        let handle = Box::into_raw(Box::new(TwinSchema { inner }));
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Free a schema made by `twin_schema_from_json`. `twin_schema_free(NULL)` does nothing.
///
/// Twins made from the schema keep their own copy and stay valid.
///
/// Thread safety: no other thread may use the schema during or after this call.
///
/// # Safety
/// `schema` must be NULL or a pointer returned by `twin_schema_from_json` and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_free(schema: *mut TwinSchema) {
    let _ = ffi_boundary!("twin_schema_free", {
        if !schema.is_null() {
            // SAFETY: the caller passes a pointer from `Box::into_raw` that is not freed yet.
            drop(unsafe { Box::from_raw(schema) });
        }
        Ok(())
    });
}

/// Resolve a signal (telemetry or property) name of `len` UTF-8 bytes to its dense id.
///
/// Telemetry signals have the ids `0..T` in declaration order, properties the ids that
/// follow. An unknown name gives `TWIN_RESULT_UNKNOWN_SIGNAL` and leaves `*out_id`
/// untouched.
///
/// Thread safety: safe to call concurrently with other read-only schema functions.
///
/// # Safety
/// `schema` must be a live schema; `name` must point to `len` readable bytes (or be NULL
/// if `len` is 0); `out_id` must point to a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_signal_id(
    schema: *const TwinSchema,
    name: *const c_char,
    len: usize,
    out_id: *mut u32,
) -> TwinResult {
    ffi_boundary!("twin_schema_signal_id", {
        let schema = arg!(ref schema);
        let name = arg!(str name, len);
        let out_id = arg!(out out_id);
        let id = schema.inner.signal_id(name).or_fail()?;
        // SAFETY: `out_id` is checked non-NULL and aligned.
        unsafe { out_id.write(id.0) };
        Ok(())
    })
}

/// The number of signals (telemetry and properties) of the schema, into `*out_count`.
///
/// Thread safety: safe to call concurrently with other read-only schema functions.
///
/// # Safety
/// `schema` must be a live schema; `out_count` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_signal_count(
    schema: *const TwinSchema,
    out_count: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_schema_signal_count", {
        let schema = arg!(ref schema);
        let out_count = arg!(out out_count);
        // SAFETY: `out_count` is checked non-NULL and aligned.
        unsafe { out_count.write(schema.inner.signal_count()) };
        Ok(())
    })
}

/// Copy the name of signal `id` into `buf` (NUL-terminated); `*out_len` gets its length
/// without the NUL. Pass `buf = NULL` and `cap = 0` to learn the length only.
///
/// An id out of range gives `TWIN_RESULT_UNKNOWN_SIGNAL`; a buffer shorter than the name
/// plus its NUL gives `TWIN_RESULT_BUFFER_TOO_SMALL`. On failure nothing is written.
///
/// Thread safety: safe to call concurrently with other read-only schema functions.
///
/// # Safety
/// `schema` must be a live schema; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_signal_name(
    schema: *const TwinSchema,
    id: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_schema_signal_name", {
        let schema = arg!(ref schema);
        let spec = schema.inner.signal(SignalId(id)).or_fail()?;
        copy_str_out(&spec.name, buf, cap, out_len)
    })
}

/// Resolve a command name of `len` UTF-8 bytes to its dense id (the `command` field of
/// `TwinCommand`). An unknown name gives `TWIN_RESULT_UNKNOWN_SIGNAL` and leaves `*out_id`
/// untouched.
///
/// Thread safety: safe to call concurrently with other read-only schema functions.
///
/// # Safety
/// `schema` must be a live schema; `name` must point to `len` readable bytes (or be NULL
/// if `len` is 0); `out_id` must point to a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_command_id(
    schema: *const TwinSchema,
    name: *const c_char,
    len: usize,
    out_id: *mut u32,
) -> TwinResult {
    ffi_boundary!("twin_schema_command_id", {
        let schema = arg!(ref schema);
        let name = arg!(str name, len);
        let out_id = arg!(out out_id);
        let id = schema.inner.command_id(name).or_fail()?;
        // SAFETY: `out_id` is checked non-NULL and aligned.
        unsafe { out_id.write(id.0) };
        Ok(())
    })
}

/// The number of commands of the schema, into `*out_count`.
///
/// Thread safety: safe to call concurrently with other read-only schema functions.
///
/// # Safety
/// `schema` must be a live schema; `out_count` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_command_count(
    schema: *const TwinSchema,
    out_count: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_schema_command_count", {
        let schema = arg!(ref schema);
        let out_count = arg!(out out_count);
        // SAFETY: `out_count` is checked non-NULL and aligned.
        unsafe { out_count.write(schema.inner.commands().len()) };
        Ok(())
    })
}
