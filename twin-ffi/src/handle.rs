//! `TwinTwin`: a live twin with the built-in EWMA monitor; ingest, insights, state,
//! commands, snapshots.

use std::ffi::c_char;

use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{BatchRef, Sample, Schema, SignalId, Timestamp, Twin, TwinBuilder, TwinSnapshot};

use crate::connection::PollScratch;
use crate::result::{copy_str_out, fail, fail_err, OrFail, TwinResult};
use crate::schema::TwinSchema;
use crate::types::{TwinCommand, TwinCounters, TwinIngestReport, TwinInsight, TwinRejection};

/// A live digital twin (opaque). Create with `twin_twin_new` or `twin_twin_restore_json`,
/// free with `twin_twin_free`.
///
/// A twin is not safe for concurrent use: calls on one twin must not overlap (not even
/// read-only ones). Distinct twins may be used on distinct threads at once, and a twin may
/// move from one thread to another between calls.
pub struct TwinTwin {
    inner: Twin,
    /// The rejections of the last ingest call.
    rejections: Vec<TwinRejection>,
    /// Buffers the poll callback of `twin_twin_step` writes into.
    scratch: PollScratch,
}

impl TwinTwin {
    fn new(inner: Twin) -> Self {
        TwinTwin {
            inner,
            rejections: Vec::new(),
            scratch: PollScratch::default(),
        }
    }

    /// A handle around a twin built elsewhere in the crate (for example with a model).
    pub(crate) fn with_twin(inner: Twin) -> Self {
        TwinTwin::new(inner)
    }

    /// The twin, read-only.
    pub(crate) fn twin(&self) -> &Twin {
        &self.inner
    }

    /// The twin, the poll buffers and the last rejections, borrowed apart.
    pub(crate) fn parts(&mut self) -> (&mut Twin, &mut PollScratch, &mut Vec<TwinRejection>) {
        (&mut self.inner, &mut self.scratch, &mut self.rejections)
    }
}

/// The parts of every twin made through the C interface: the schema and the EWMA monitor
/// with its default configuration.
pub(crate) fn builder(schema: &Schema) -> twin::Result<TwinBuilder> {
    let monitor = EwmaMonitor::new(schema, MonitorConfig::default())?;
    Ok(Twin::builder(schema.clone()).engine(monitor))
}

/// Create a twin of `schema` with the built-in EWMA monitor (default configuration: alarm
/// limits from the schema, anomalies above |z| = 4 after 30 samples of warm-up).
///
/// On success `*out` receives a new twin, freed with `twin_twin_free`. The twin keeps its
/// own copy of the schema, so the schema may be freed afterwards. On failure `*out` is left
/// untouched.
///
/// Thread safety: may be called from any thread; the schema may be read concurrently.
///
/// # Safety
/// `schema` must be a live schema; `out` must point to a writable `TwinTwin *`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_new(
    schema: *const TwinSchema,
    out: *mut *mut TwinTwin,
) -> TwinResult {
    ffi_boundary!("twin_twin_new", {
        let schema = arg!(ref schema);
        let out = arg!(out out);
        let inner = builder(&schema.inner)
            .and_then(TwinBuilder::build)
            .or_fail()?;
        let handle = Box::into_raw(Box::new(TwinTwin::new(inner)));
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Free a twin. `twin_twin_free(NULL)` does nothing. Pending insights and commands are
/// discarded.
///
/// Thread safety: no other thread may use the twin during or after this call.
///
/// # Safety
/// `twin` must be NULL or a pointer returned by `twin_twin_new` / `twin_twin_restore_json`
/// and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_free(twin: *mut TwinTwin) {
    let _ = ffi_boundary!("twin_twin_free", {
        if !twin.is_null() {
            // SAFETY: the caller passes a pointer from `Box::into_raw` that is not freed yet.
            drop(unsafe { Box::from_raw(twin) });
        }
        Ok(())
    });
}

/// Ingest a columnar batch of `len` samples: `times[i]` (nanoseconds), `signals[i]` (ids
/// from `twin_schema_signal_id`) and `values[i]`.
///
/// Each sample is accepted or refused on its own; the call itself succeeds even if every
/// sample is refused. A batch longer than the twin's `max_batch_samples` (see
/// `twin_twin_new_with_limits`) is refused whole, each sample with
/// `TWIN_RESULT_LIMIT_EXCEEDED`. On success `*out_report` gets the counts, with
/// `accepted + rejected == len` exactly, and the twin keeps the list of rejections
/// (index in the batch and reason) until its next ingest call: read it with
/// `twin_twin_last_rejections`. Accepted samples then go through the monitor, which may
/// add insights (`twin_twin_insight_count`, `twin_twin_drain_insights`).
///
/// The three arrays may be NULL only if `len` is 0. On failure (a NULL or misaligned
/// pointer) nothing is ingested and `*out_report` is left untouched.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `times`, `signals` and `values` must each point to `len`
/// readable elements; `out_report` must point to a writable `TwinIngestReport`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_ingest_batch(
    twin: *mut TwinTwin,
    times: *const i64,
    signals: *const u32,
    values: *const f64,
    len: usize,
    out_report: *mut TwinIngestReport,
) -> TwinResult {
    ffi_boundary!("twin_twin_ingest_batch", {
        let twin = arg!(mut twin);
        let times = arg!(slice times, len);
        let signals = arg!(slice signals, len);
        let values = arg!(slice values, len);
        let out_report = arg!(out out_report);
        let batch = BatchRef::new(times, signals, values).or_fail()?;
        let report = twin.inner.ingest_batch(batch);
        twin.rejections.clear();
        twin.rejections
            .extend(report.rejections.iter().map(|r| TwinRejection {
                index: r.index,
                reason: TwinResult::from_kind(r.kind),
            }));
        let counts = TwinIngestReport {
            accepted: report.accepted,
            rejected: report.rejected(),
        };
        // SAFETY: `out_report` is checked non-NULL and aligned.
        unsafe { out_report.write(counts) };
        Ok(())
    })
}

/// Ingest one sample. Returns `TWIN_RESULT_OK` if it was accepted, otherwise why it was
/// refused: `TWIN_RESULT_UNKNOWN_SIGNAL`, `TWIN_RESULT_NON_FINITE`,
/// `TWIN_RESULT_OUT_OF_RANGE`, `TWIN_RESULT_OUT_OF_ORDER`, `TWIN_RESULT_DUPLICATE` or
/// `TWIN_RESULT_TIMESTAMP_CONFLICT`, with the details in `twin_last_error_message`.
///
/// Like a batch of one: it replaces the twin's list of last rejections (empty, or one
/// entry with index 0).
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_ingest(
    twin: *mut TwinTwin,
    time_ns: i64,
    signal: u32,
    value: f64,
) -> TwinResult {
    ffi_boundary!("twin_twin_ingest", {
        let twin = arg!(mut twin);
        let result = twin
            .inner
            .ingest(Sample::new(Timestamp(time_ns), SignalId(signal), value));
        twin.rejections.clear();
        if let Err(e) = result {
            twin.rejections.push(TwinRejection {
                index: 0,
                reason: TwinResult::from_kind(e.kind()),
            });
            return Err(fail_err(e));
        }
        Ok(())
    })
}

/// Copy the rejections of the twin's last ingest call (`twin_twin_ingest_batch` or
/// `twin_twin_ingest`) into `buf`, in input order; `*out_len` gets their number, which is
/// the `rejected` count of that call's report.
///
/// The list stays in the twin (reading it twice gives the same list) until the next ingest
/// call. If `cap` is smaller than the number of rejections the call returns
/// `TWIN_RESULT_BUFFER_TOO_SMALL` and writes nothing; size `buf` from the report's
/// `rejected` count. `buf` may be NULL only if `cap` is 0.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `buf` must be NULL or point to `cap` writable
/// `TwinRejection`s; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_last_rejections(
    twin: *const TwinTwin,
    buf: *mut TwinRejection,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_twin_last_rejections", {
        let twin = arg!(ref twin);
        let buf = arg!(out_slice buf, cap);
        let out_len = arg!(out out_len);
        let n = twin.rejections.len();
        if n > cap {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("{n} rejections do not fit a buffer of {cap}"),
            ));
        }
        // SAFETY: `n <= cap` elements are written to the caller's buffer of `cap`; when
        // `n > 0`, `buf` is non-NULL (checked: NULL only with `cap == 0`).
        unsafe {
            for (k, r) in twin.rejections.iter().enumerate() {
                buf.add(k).write(*r);
            }
            out_len.write(n);
        }
        Ok(())
    })
}

/// The number of insights waiting to be drained, into `*out_count`.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `out_count` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_insight_count(
    twin: *const TwinTwin,
    out_count: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_twin_insight_count", {
        let twin = arg!(ref twin);
        let out_count = arg!(out out_count);
        let n = twin.inner.insights().count();
        // SAFETY: `out_count` is checked non-NULL and aligned.
        unsafe { out_count.write(n) };
        Ok(())
    })
}

/// Move up to `cap` pending insights, oldest first, into `buf`; `*out_len` gets how many.
///
/// Insights that do not fit stay pending for the next call: none is lost. Call until
/// `*out_len < cap` (or until `twin_twin_insight_count` gives 0) to drain everything.
/// `buf` may be NULL only if `cap` is 0. At most 65,536 insights are kept pending; beyond
/// that the oldest are dropped and counted in `TwinCounters.insights_dropped`.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `buf` must be NULL or point to `cap` writable
/// `TwinInsight`s; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_drain_insights(
    twin: *mut TwinTwin,
    buf: *mut TwinInsight,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_twin_drain_insights", {
        let twin = arg!(mut twin);
        let buf = arg!(out_slice buf, cap);
        let out_len = arg!(out out_len);
        let mut n = 0;
        // SAFETY: at most `cap` elements are written to the caller's buffer of `cap`; when
        // `cap > 0`, `buf` is non-NULL (checked: NULL only with `cap == 0`).
        unsafe {
            for ins in twin.inner.drain_insights_up_to(cap) {
                buf.add(n).write(TwinInsight::from(&ins));
                n += 1;
            }
            out_len.write(n);
        }
        Ok(())
    })
}

/// The last reported value of a signal (telemetry or property), into `*out_value`.
///
/// Returns `TWIN_RESULT_UNKNOWN_SIGNAL` for an id not in the schema and
/// `TWIN_RESULT_NOT_FOUND` if the signal was never reported; `*out_value` is then left
/// untouched.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `out_value` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_reported(
    twin: *const TwinTwin,
    signal: u32,
    out_value: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_twin_reported", {
        let twin = arg!(ref twin);
        let out_value = arg!(out out_value);
        let id = SignalId(signal);
        let name = &twin.inner.schema().signal(id).or_fail()?.name;
        let Some(v) = twin.inner.state().reported(id) else {
            return Err(fail(
                TwinResult::NotFound,
                format!("{name} (id {signal}) has not been reported yet"),
            ));
        };
        // SAFETY: `out_value` is checked non-NULL and aligned.
        unsafe { out_value.write(v) };
        Ok(())
    })
}

/// The desired value of a property (set by a validated command), into `*out_value`.
///
/// Returns `TWIN_RESULT_UNKNOWN_SIGNAL` for an id not in the schema,
/// `TWIN_RESULT_INVALID_INPUT` for a telemetry signal (only properties have a desired
/// value) and `TWIN_RESULT_NOT_FOUND` if none was set; `*out_value` is then left untouched.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `out_value` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_desired(
    twin: *const TwinTwin,
    signal: u32,
    out_value: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_twin_desired", {
        let twin = arg!(ref twin);
        let out_value = arg!(out out_value);
        let id = SignalId(signal);
        let schema = twin.inner.schema();
        let name = &schema.signal(id).or_fail()?.name;
        if !schema.is_property(id) {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("{name} (id {signal}) is telemetry; only properties have a desired value"),
            ));
        }
        let Some(v) = twin.inner.state().desired(id) else {
            return Err(fail(
                TwinResult::NotFound,
                format!("no desired value of {name} (id {signal}) has been set"),
            ));
        };
        // SAFETY: `out_value` is checked non-NULL and aligned.
        unsafe { out_value.write(v) };
        Ok(())
    })
}

/// The twin's running totals (samples received, accepted, rejected by reason; commands),
/// into `*out`.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `out` must point to a writable `TwinCounters`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_counters(
    twin: *const TwinTwin,
    out: *mut TwinCounters,
) -> TwinResult {
    ffi_boundary!("twin_twin_counters", {
        let twin = arg!(ref twin);
        let out = arg!(out out);
        let c = TwinCounters::new(twin.inner.ingest_counters(), twin.inner.command_counters());
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(c) };
        Ok(())
    })
}

/// Request the command named by `len` UTF-8 bytes with `value` at `time_ns`.
///
/// The command is validated against the schema: an unknown name gives
/// `TWIN_RESULT_UNKNOWN_SIGNAL`, a NaN or infinite value `TWIN_RESULT_NON_FINITE`, a value
/// outside the command's limits `TWIN_RESULT_OUT_OF_RANGE`, too fast a change or too short
/// an interval since the last command `TWIN_RESULT_RATE_LIMITED`, a time earlier than the
/// last command's `TWIN_RESULT_INVALID_INPUT`. A refused command is never sent. A valid one
/// sets the desired value of its property and waits to be taken with
/// `twin_twin_take_commands`.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `name` must point to `len` readable bytes (or be NULL if
/// `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn twin_twin_command(
    twin: *mut TwinTwin,
    name: *const c_char,
    len: usize,
    value: f64,
    time_ns: i64,
) -> TwinResult {
    ffi_boundary!("twin_twin_command", {
        let twin = arg!(mut twin);
        let name = arg!(str name, len);
        twin.inner
            .command(name, value, Timestamp(time_ns))
            .or_fail()?;
        Ok(())
    })
}

/// The number of validated commands waiting to be taken, into `*out_count`.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `out_count` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_pending_command_count(
    twin: *const TwinTwin,
    out_count: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_twin_pending_command_count", {
        let twin = arg!(ref twin);
        let out_count = arg!(out out_count);
        // SAFETY: `out_count` is checked non-NULL and aligned.
        unsafe { out_count.write(twin.inner.pending_commands().len()) };
        Ok(())
    })
}

/// Take every validated command waiting to be sent, oldest first, into `buf`; `*out_len`
/// gets how many. The host sends them to the asset itself; they count as sent.
///
/// All or nothing: if `cap` is smaller than the number waiting
/// (`twin_twin_pending_command_count`), the call returns `TWIN_RESULT_BUFFER_TOO_SMALL`,
/// takes nothing and writes nothing. `buf` may be NULL only if `cap` is 0.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `buf` must be NULL or point to `cap` writable
/// `TwinCommand`s; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_take_commands(
    twin: *mut TwinTwin,
    buf: *mut TwinCommand,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_twin_take_commands", {
        let twin = arg!(mut twin);
        let buf = arg!(out_slice buf, cap);
        let out_len = arg!(out out_len);
        let n = twin.inner.pending_commands().len();
        if n > cap {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("{n} pending commands do not fit a buffer of {cap}"),
            ));
        }
        let taken = twin.inner.take_commands();
        // SAFETY: `taken.len() == n <= cap` elements are written to the caller's buffer;
        // when `n > 0`, `buf` is non-NULL (checked: NULL only with `cap == 0`).
        unsafe {
            for (k, c) in taken.iter().enumerate() {
                buf.add(k).write(TwinCommand::from(c));
            }
            out_len.write(taken.len());
        }
        Ok(())
    })
}

/// Save everything the twin has learnt as JSON text into `buf` (NUL-terminated); `*out_len`
/// gets its length without the NUL. Pass `buf = NULL` and `cap = 0` to learn the length
/// only, then call again with `cap >= *out_len + 1`.
///
/// A buffer too small gives `TWIN_RESULT_BUFFER_TOO_SMALL` and writes nothing. Insights
/// still pending (not yet drained) are part of the snapshot.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_snapshot_json(
    twin: *const TwinTwin,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_twin_snapshot_json", {
        let twin = arg!(ref twin);
        let json = twin.inner.snapshot().and_then(|s| s.to_json()).or_fail()?;
        copy_str_out(&json, buf, cap, out_len)
    })
}

/// Create a twin of `schema` (with the built-in EWMA monitor, as `twin_twin_new`) and load
/// a snapshot from `len` bytes of JSON made by `twin_twin_snapshot_json`: the twin carries
/// on exactly where the saved one stopped.
///
/// A snapshot that cannot be read, or was taken with another schema, gives
/// `TWIN_RESULT_SERIALIZATION`; on failure `*out` is left untouched.
///
/// Thread safety: may be called from any thread; the schema may be read concurrently.
///
/// # Safety
/// `schema` must be a live schema; `json` must point to `len` readable bytes (or be NULL if
/// `len` is 0); `out` must point to a writable `TwinTwin *`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_restore_json(
    schema: *const TwinSchema,
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinTwin,
) -> TwinResult {
    ffi_boundary!("twin_twin_restore_json", {
        let schema = arg!(ref schema);
        let json = arg!(str json, len);
        let out = arg!(out out);
        let snapshot = TwinSnapshot::from_json(json).or_fail()?;
        let inner = builder(&schema.inner)
            .and_then(|b| b.restore(snapshot))
            .or_fail()?;
        let handle = Box::into_raw(Box::new(TwinTwin::new(inner)));
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(handle) };
        Ok(())
    })
}
