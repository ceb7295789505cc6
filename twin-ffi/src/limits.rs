//! Resource limits through the C ABI: a twin's bounds (`TwinLimits`, history ring and
//! batch cap), its history, and the size caps of a schema (`TwinSchemaLimits`).

use std::ffi::c_char;

use twin::schema::SchemaLimits;
use twin::{Schema, TwinBuilder, TwinSnapshot};

use crate::handle::{builder, TwinTwin};
use crate::result::{fail, OrFail, TwinResult};
use crate::schema::TwinSchema;

/// The bounds of a twin. Start from `twin_limits_default` and change what you need.
///
/// A batch longer than `max_batch_samples` is refused whole: `twin_twin_ingest_batch`
/// succeeds, and every sample is a rejection with reason `TWIN_RESULT_LIMIT_EXCEEDED`
/// (counted in `TwinCounters.limit_exceeded`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwinLimits {
    /// Insights kept until drained; beyond it the oldest are dropped and counted (default
    /// 65536; at least 1).
    pub max_pending_insights: usize,
    /// Command audit entries kept; beyond it the oldest are dropped (default 10000; at
    /// least 1).
    pub max_audit_entries: usize,
    /// Accepted samples kept in the history ring (`twin_twin_history`); beyond it the
    /// oldest are dropped and counted in `TwinCounters.history_dropped`. Default 0: none.
    pub max_history_samples: usize,
    /// The longest batch `twin_twin_ingest_batch` takes (default 16777216; at least 1).
    pub max_batch_samples: usize,
}

impl From<twin::TwinLimits> for TwinLimits {
    fn from(l: twin::TwinLimits) -> Self {
        TwinLimits {
            max_pending_insights: l.max_pending_insights,
            max_audit_entries: l.max_audit_entries,
            max_history_samples: l.max_history_samples,
            max_batch_samples: l.max_batch_samples,
        }
    }
}

impl From<TwinLimits> for twin::TwinLimits {
    fn from(l: TwinLimits) -> Self {
        twin::TwinLimits {
            max_pending_insights: l.max_pending_insights,
            max_audit_entries: l.max_audit_entries,
            max_history_samples: l.max_history_samples,
            max_batch_samples: l.max_batch_samples,
        }
    }
}

/// Size caps of a schema read from JSON. Start from `twin_schema_limits_default`.
/// Exceeding one gives `TWIN_RESULT_LIMIT_EXCEEDED` naming the cap and the value.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwinSchemaLimits {
    /// Most signals, telemetry and properties together (default 65536).
    pub max_signals: usize,
    /// Most commands (default 4096).
    pub max_commands: usize,
    /// Most bytes of JSON (default 16 MiB).
    pub max_json_bytes: usize,
    /// Longest name in bytes: the schema's, a signal's or a command's (default 256).
    pub max_name_bytes: usize,
}

impl From<TwinSchemaLimits> for SchemaLimits {
    fn from(l: TwinSchemaLimits) -> Self {
        SchemaLimits {
            max_signals: l.max_signals,
            max_commands: l.max_commands,
            max_json_bytes: l.max_json_bytes,
            max_name_bytes: l.max_name_bytes,
        }
    }
}

/// Write the default twin bounds into `*out`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `out` must point to a writable `TwinLimits`.
#[no_mangle]
pub unsafe extern "C" fn twin_limits_default(out: *mut TwinLimits) -> TwinResult {
    ffi_boundary!("twin_limits_default", {
        let out = arg!(out out);
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(twin::TwinLimits::default().into()) };
        Ok(())
    })
}

/// Write the default schema size caps into `*out`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `out` must point to a writable `TwinSchemaLimits`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_limits_default(out: *mut TwinSchemaLimits) -> TwinResult {
    ffi_boundary!("twin_schema_limits_default", {
        let out = arg!(out out);
        let d = SchemaLimits::default();
        let c = TwinSchemaLimits {
            max_signals: d.max_signals,
            max_commands: d.max_commands,
            max_json_bytes: d.max_json_bytes,
            max_name_bytes: d.max_name_bytes,
        };
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(c) };
        Ok(())
    })
}

/// `twin_schema_from_json` with size caps: too long a document, too many signals or
/// commands, or too long a name gives `TWIN_RESULT_LIMIT_EXCEEDED` (the detail names the
/// cap and the value); on failure `*out` is left untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes (or be NULL if `len` is 0); `limits` must
/// point to a readable `TwinSchemaLimits`; `out` must point to a writable `TwinSchema *`.
#[no_mangle]
pub unsafe extern "C" fn twin_schema_from_json_with_limits(
    json: *const c_char,
    len: usize,
    limits: *const TwinSchemaLimits,
    out: *mut *mut TwinSchema,
) -> TwinResult {
    ffi_boundary!("twin_schema_from_json_with_limits", {
        let json = arg!(str json, len);
        let limits = arg!(ref limits);
        let out = arg!(out out);
        let inner = Schema::from_json_with_limits(json, &(*limits).into()).or_fail()?;
        let handle = Box::into_raw(Box::new(TwinSchema { inner }));
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// `twin_twin_new` with bounds: `TWIN_RESULT_INVALID_INPUT` if `max_pending_insights`,
/// `max_audit_entries` or `max_batch_samples` is 0. On failure `*out` is left untouched.
///
/// Thread safety: may be called from any thread; the schema may be read concurrently.
///
/// # Safety
/// `schema` must be a live schema; `limits` must point to a readable `TwinLimits`; `out`
/// must point to a writable `TwinTwin *`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_new_with_limits(
    schema: *const TwinSchema,
    limits: *const TwinLimits,
    out: *mut *mut TwinTwin,
) -> TwinResult {
    ffi_boundary!("twin_twin_new_with_limits", {
        let schema = arg!(ref schema);
        let limits = arg!(ref limits);
        let out = arg!(out out);
        let inner = builder(&schema.inner)
            .map(|b| b.limits((*limits).into()))
            .and_then(TwinBuilder::build)
            .or_fail()?;
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(Box::into_raw(Box::new(TwinTwin::with_twin(inner)))) };
        Ok(())
    })
}

/// `twin_twin_restore_json` into a twin with these bounds. The history saved in the
/// snapshot is kept up to `max_history_samples` (the newest; the rest are counted as
/// dropped). On failure `*out` is left untouched.
///
/// Thread safety: may be called from any thread; the schema may be read concurrently.
///
/// # Safety
/// As `twin_twin_restore_json`, and `limits` must point to a readable `TwinLimits`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_restore_json_with_limits(
    schema: *const TwinSchema,
    json: *const c_char,
    len: usize,
    limits: *const TwinLimits,
    out: *mut *mut TwinTwin,
) -> TwinResult {
    ffi_boundary!("twin_twin_restore_json_with_limits", {
        let schema = arg!(ref schema);
        let json = arg!(str json, len);
        let limits = arg!(ref limits);
        let out = arg!(out out);
        let snapshot = TwinSnapshot::from_json(json).or_fail()?;
        let inner = builder(&schema.inner)
            .and_then(|b| b.limits((*limits).into()).restore(snapshot))
            .or_fail()?;
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(Box::into_raw(Box::new(TwinTwin::with_twin(inner)))) };
        Ok(())
    })
}

/// The twin's bounds, into `*out`.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `out` must point to a writable `TwinLimits`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_limits(
    twin: *const TwinTwin,
    out: *mut TwinLimits,
) -> TwinResult {
    ffi_boundary!("twin_twin_limits", {
        let twin = arg!(ref twin);
        let out = arg!(out out);
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write((*twin.twin().limits()).into()) };
        Ok(())
    })
}

/// Copy the twin's history (its newest accepted samples, oldest first, at most
/// `max_history_samples`) into three caller arrays of `cap` elements; `*out_len` gets the
/// number of samples.
///
/// All or nothing: if `cap` is smaller than the number of samples the call returns
/// `TWIN_RESULT_BUFFER_TOO_SMALL` and writes nothing (not even `*out_len`). Pass three
/// NULL arrays and `cap = 0` to learn the number only. An array may be NULL only if `cap`
/// is 0.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `times`, `signals` and `values` must each be NULL or point
/// to `cap` writable elements; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_history(
    twin: *const TwinTwin,
    times: *mut i64,
    signals: *mut u32,
    values: *mut f64,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_twin_history", {
        let twin = arg!(ref twin);
        let times = arg!(out_slice times, cap);
        let signals = arg!(out_slice signals, cap);
        let values = arg!(out_slice values, cap);
        let out_len = arg!(out out_len);
        let tw = twin.twin();
        let n = tw.history_len();
        if cap == 0 && times.is_null() && signals.is_null() && values.is_null() {
            // SAFETY: `out_len` is checked non-NULL and aligned.
            unsafe { out_len.write(n) };
            return Ok(());
        }
        if n > cap {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("the history holds {n} samples; the arrays hold {cap}"),
            ));
        }
        let h = tw.history();
        let h = h.as_ref();
        // SAFETY: `n <= cap` elements go to each caller array of `cap`; when `n > 0` the
        // arrays are non-NULL (NULL only with `cap == 0`, and then `n == 0`).
        unsafe {
            std::ptr::copy_nonoverlapping(h.times().as_ptr(), times, n);
            std::ptr::copy_nonoverlapping(h.signals().as_ptr(), signals, n);
            std::ptr::copy_nonoverlapping(h.values().as_ptr(), values, n);
            out_len.write(n);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::{c_char, CStr};
    use std::ptr::{null, null_mut};

    use crate::*;

    const SCHEMA: &str = r#"{"name": "m",
      "telemetry": [{"name": "x", "min": 0, "max": 100}, {"name": "y"}],
      "commands": [{"name": "c", "min": 0, "max": 1}]}"#;

    fn last_error() -> String {
        let mut buf = [0 as c_char; 512];
        let mut len = 0;
        // SAFETY: valid buffer and length pointer.
        let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    fn schema() -> *mut TwinSchema {
        let mut out = null_mut();
        // SAFETY: valid string and out pointer.
        let r = unsafe { twin_schema_from_json(SCHEMA.as_ptr().cast(), SCHEMA.len(), &mut out) };
        assert_eq!(r, TwinResult::Ok);
        out
    }

    fn defaults() -> TwinLimits {
        let mut l = TwinLimits {
            max_pending_insights: 0,
            max_audit_entries: 0,
            max_history_samples: 7,
            max_batch_samples: 0,
        };
        // SAFETY: valid out pointer.
        assert_eq!(unsafe { twin_limits_default(&mut l) }, TwinResult::Ok);
        l
    }

    #[test]
    fn defaults_match_the_engine() {
        let l = defaults();
        assert_eq!(
            (
                l.max_pending_insights,
                l.max_audit_entries,
                l.max_history_samples,
                l.max_batch_samples
            ),
            (65_536, 10_000, 0, 1 << 24)
        );
        let mut s = TwinSchemaLimits {
            max_signals: 0,
            max_commands: 0,
            max_json_bytes: 0,
            max_name_bytes: 0,
        };
        // SAFETY: valid out pointer.
        assert_eq!(
            unsafe { twin_schema_limits_default(&mut s) },
            TwinResult::Ok
        );
        assert_eq!(
            (
                s.max_signals,
                s.max_commands,
                s.max_json_bytes,
                s.max_name_bytes
            ),
            (65_536, 4_096, 16 << 20, 256)
        );
        // SAFETY: NULL is refused.
        assert_eq!(
            unsafe { twin_limits_default(null_mut()) },
            TwinResult::NullParameter
        );
        // SAFETY: NULL is refused.
        assert_eq!(
            unsafe { twin_schema_limits_default(null_mut()) },
            TwinResult::NullParameter
        );
    }

    #[test]
    fn batch_cap_and_history_through_the_c_interface() {
        let s = schema();
        let limits = TwinLimits {
            max_history_samples: 3,
            max_batch_samples: 4,
            ..defaults()
        };
        let mut t = null_mut();
        // SAFETY: live schema, valid pointers.
        assert_eq!(
            unsafe { twin_twin_new_with_limits(s, &limits, &mut t) },
            TwinResult::Ok
        );
        let mut got = defaults();
        // SAFETY: live twin, valid out pointer.
        assert_eq!(unsafe { twin_twin_limits(t, &mut got) }, TwinResult::Ok);
        assert_eq!(got, limits);
        let times = [0_i64, 1, 2, 3, 4];
        let signals = [0_u32, 1, 0, 1, 0];
        let values = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut report = TwinIngestReport::default();
        // Above the cap: the call succeeds and refuses all five.
        // SAFETY: arrays of 5, valid report pointer.
        let r = unsafe {
            twin_twin_ingest_batch(
                t,
                times.as_ptr(),
                signals.as_ptr(),
                values.as_ptr(),
                5,
                &mut report,
            )
        };
        assert_eq!(r, TwinResult::Ok);
        assert_eq!((report.accepted, report.rejected), (0, 5));
        let mut rej = [TwinRejection {
            index: 99,
            reason: TwinResult::Ok,
        }; 5];
        let mut n = 0;
        // SAFETY: buffer of 5.
        let r = unsafe { twin_twin_last_rejections(t, rej.as_mut_ptr(), 5, &mut n) };
        assert_eq!((r, n), (TwinResult::Ok, 5));
        assert!(rej.iter().all(|x| x.reason == TwinResult::LimitExceeded));
        // At the cap: all four accepted; the history keeps the newest three.
        // SAFETY: arrays of at least 4.
        let r = unsafe {
            twin_twin_ingest_batch(
                t,
                times.as_ptr(),
                signals.as_ptr(),
                values.as_ptr(),
                4,
                &mut report,
            )
        };
        assert_eq!(
            (r, report.accepted, report.rejected),
            (TwinResult::Ok, 4, 0)
        );
        let mut c = TwinCounters::default();
        // SAFETY: live twin, valid out pointer.
        assert_eq!(unsafe { twin_twin_counters(t, &mut c) }, TwinResult::Ok);
        assert_eq!(
            (
                c.received,
                c.accepted,
                c.rejected,
                c.limit_exceeded,
                c.history_dropped
            ),
            (9, 4, 5, 5, 1)
        );
        // Length only.
        let mut len = 0;
        // SAFETY: NULL arrays with cap 0 ask for the length.
        let r = unsafe { twin_twin_history(t, null_mut(), null_mut(), null_mut(), 0, &mut len) };
        assert_eq!((r, len), (TwinResult::Ok, 3));
        // Too small: nothing written, not even the length.
        let (mut ht, mut hs, mut hv) = ([-1_i64; 3], [9_u32; 3], [-1.0_f64; 3]);
        let mut len = 77;
        // SAFETY: arrays of 3, cap 2.
        let r = unsafe {
            twin_twin_history(
                t,
                ht.as_mut_ptr(),
                hs.as_mut_ptr(),
                hv.as_mut_ptr(),
                2,
                &mut len,
            )
        };
        assert_eq!((r, len), (TwinResult::BufferTooSmall, 77));
        assert_eq!((ht, hs, hv), ([-1; 3], [9; 3], [-1.0; 3]));
        // Exactly enough.
        // SAFETY: arrays of 3.
        let r = unsafe {
            twin_twin_history(
                t,
                ht.as_mut_ptr(),
                hs.as_mut_ptr(),
                hv.as_mut_ptr(),
                3,
                &mut len,
            )
        };
        assert_eq!((r, len), (TwinResult::Ok, 3));
        assert_eq!((ht, hs, hv), ([1, 2, 3], [1, 0, 1], [2.0, 3.0, 4.0]));
        // NULL arrays with a capacity, NULL out_len, NULL twin.
        // SAFETY: refused by the checks.
        unsafe {
            assert_eq!(
                twin_twin_history(t, null_mut(), hs.as_mut_ptr(), hv.as_mut_ptr(), 3, &mut len),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_history(
                    t,
                    ht.as_mut_ptr(),
                    hs.as_mut_ptr(),
                    hv.as_mut_ptr(),
                    3,
                    null_mut()
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_history(null(), null_mut(), null_mut(), null_mut(), 0, &mut len),
                TwinResult::NullParameter
            );
        }
        // The history travels in a snapshot and into a smaller ring.
        let mut json_len = 0;
        // SAFETY: length query.
        let r = unsafe { twin_twin_snapshot_json(t, null_mut(), 0, &mut json_len) };
        assert_eq!(r, TwinResult::Ok);
        let mut buf = vec![0 as c_char; json_len + 1];
        // SAFETY: buffer of json_len + 1.
        let r = unsafe { twin_twin_snapshot_json(t, buf.as_mut_ptr(), buf.len(), &mut json_len) };
        assert_eq!(r, TwinResult::Ok);
        let small = TwinLimits {
            max_history_samples: 2,
            ..limits
        };
        let mut back = null_mut();
        // SAFETY: live schema, the JSON just written, valid pointers.
        let r = unsafe {
            twin_twin_restore_json_with_limits(s, buf.as_ptr(), json_len, &small, &mut back)
        };
        assert_eq!(r, TwinResult::Ok);
        let mut len = 0;
        // SAFETY: arrays of 3.
        let r = unsafe {
            twin_twin_history(
                back,
                ht.as_mut_ptr(),
                hs.as_mut_ptr(),
                hv.as_mut_ptr(),
                3,
                &mut len,
            )
        };
        assert_eq!((r, len), (TwinResult::Ok, 2));
        assert_eq!(&ht[..2], &[2, 3]);
        // Zero bounds are refused, out untouched.
        let zero = TwinLimits {
            max_batch_samples: 0,
            ..limits
        };
        let mut none = null_mut();
        // SAFETY: valid pointers.
        let r = unsafe { twin_twin_new_with_limits(s, &zero, &mut none) };
        assert_eq!(r, TwinResult::InvalidInput);
        assert!(none.is_null());
        assert!(
            last_error().contains("max_batch_samples"),
            "{}",
            last_error()
        );
        // SAFETY: NULL limits refused.
        let r = unsafe { twin_twin_new_with_limits(s, null(), &mut none) };
        assert_eq!(r, TwinResult::NullParameter);
        // SAFETY: handles from above, freed once.
        unsafe {
            twin_twin_free(back);
            twin_twin_free(t);
            twin_schema_free(s);
        }
    }

    #[test]
    fn schema_caps_through_the_c_interface() {
        let d = {
            let mut d = TwinSchemaLimits {
                max_signals: 0,
                max_commands: 0,
                max_json_bytes: 0,
                max_name_bytes: 0,
            };
            // SAFETY: valid out pointer.
            unsafe { twin_schema_limits_default(&mut d) };
            d
        };
        let read = |l: TwinSchemaLimits| {
            let mut out = null_mut();
            // SAFETY: valid string, limits and out pointer.
            let r = unsafe {
                twin_schema_from_json_with_limits(
                    SCHEMA.as_ptr().cast(),
                    SCHEMA.len(),
                    &l,
                    &mut out,
                )
            };
            if !out.is_null() {
                // SAFETY: made just now.
                unsafe { twin_schema_free(out) };
            }
            (r, out.is_null())
        };
        assert_eq!(
            read(TwinSchemaLimits {
                max_signals: 2,
                max_commands: 1,
                ..d
            }),
            (TwinResult::Ok, false)
        );
        assert_eq!(
            read(TwinSchemaLimits {
                max_signals: 1,
                ..d
            }),
            (TwinResult::LimitExceeded, true)
        );
        assert_eq!(
            last_error(),
            "twin_schema_from_json_with_limits: limit exceeded: max_signals is 1, got 2"
        );
        assert_eq!(
            read(TwinSchemaLimits {
                max_commands: 0,
                ..d
            }),
            (TwinResult::LimitExceeded, true)
        );
        assert_eq!(
            read(TwinSchemaLimits {
                max_json_bytes: SCHEMA.len() - 1,
                ..d
            }),
            (TwinResult::LimitExceeded, true)
        );
        assert_eq!(
            read(TwinSchemaLimits {
                max_json_bytes: SCHEMA.len(),
                ..d
            }),
            (TwinResult::Ok, false)
        );
    }

    #[test]
    fn fleet_caps_through_the_c_interface() {
        let s = schema();
        let mut f = null_mut();
        // SAFETY: valid out pointer.
        assert_eq!(unsafe { twin_fleet_new(1, &mut f) }, TwinResult::Ok);
        // SAFETY: live fleet.
        assert_eq!(unsafe { twin_fleet_set_limits(f, 1, 2) }, TwinResult::Ok);
        // SAFETY: live fleet and schema.
        assert_eq!(unsafe { twin_fleet_insert(f, 1, s) }, TwinResult::Ok);
        // SAFETY: live fleet and schema.
        assert_eq!(
            unsafe { twin_fleet_insert(f, 2, s) },
            TwinResult::LimitExceeded
        );
        assert_eq!(
            last_error(),
            "twin_fleet_insert: limit exceeded: max_twins is 1, got 2"
        );
        let ids = [1_u64; 3];
        let times = [0_i64, 1, 2];
        let sig = [0_u32; 3];
        let vals = [1.0; 3];
        let mut report = TwinIngestReport::default();
        for (n, expect) in [(2, (2, 0)), (3, (0, 3))] {
            // SAFETY: arrays of 3.
            let r = unsafe {
                twin_fleet_ingest_batch(
                    f,
                    ids.as_ptr(),
                    times.as_ptr(),
                    sig.as_ptr(),
                    vals.as_ptr(),
                    n,
                    &mut report,
                )
            };
            assert_eq!(r, TwinResult::Ok);
            assert_eq!((report.accepted, report.rejected), expect);
        }
        let mut rej = [TwinFleetRejection {
            index: 9,
            twin: 9,
            reason: TwinResult::Ok,
        }; 3];
        let mut n = 0;
        // SAFETY: buffer of 3.
        let r = unsafe { twin_fleet_last_rejections(f, rej.as_mut_ptr(), 3, &mut n) };
        assert_eq!((r, n), (TwinResult::Ok, 3));
        assert!(rej
            .iter()
            .all(|x| x.reason == TwinResult::LimitExceeded && x.twin == 1));
        // SAFETY: live fleet.
        assert_eq!(
            unsafe { twin_fleet_set_limits(f, 1, 0) },
            TwinResult::InvalidInput
        );
        // SAFETY: NULL refused.
        assert_eq!(
            unsafe { twin_fleet_set_limits(null_mut(), 1, 1) },
            TwinResult::NullParameter
        );
        // SAFETY: handles from above, freed once.
        unsafe {
            twin_fleet_free(f);
            twin_schema_free(s);
        }
    }
}
