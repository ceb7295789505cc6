//! `TwinFleet`: many twins keyed by a 64-bit id, fed by one columnar batch that the
//! library spreads over worker threads.

use std::collections::VecDeque;
use std::ffi::c_char;

use twin::fleet::{Fleet, FleetBatchRef, FleetSnapshot};
use twin::Timestamp;

use crate::handle::builder;
use crate::result::{copy_str_out, fail, OrFail, TwinResult};
use crate::schema::TwinSchema;
use crate::types::{TwinCounters, TwinIngestReport, TwinInsight};

/// The most insights a fleet keeps waiting to be drained; beyond it the oldest are dropped
/// and counted in `twin_fleet_insights_dropped`.
pub const TWIN_FLEET_MAX_PENDING_INSIGHTS: usize = 1_048_576;

/// Many twins keyed by id (opaque). Create with `twin_fleet_new` or
/// `twin_fleet_restore_json`, free with `twin_fleet_free`.
///
/// A fleet is not safe for concurrent use: calls on one fleet must not overlap. Inside
/// `twin_fleet_ingest_batch` the library itself runs the twins on up to `threads` threads.
pub struct TwinFleet {
    inner: Fleet,
    rejections: Vec<TwinFleetRejection>,
    insights: VecDeque<TwinFleetInsight>,
    insights_dropped: u64,
}

/// One refused sample of a fleet batch.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwinFleetRejection {
    /// Index of the sample in the batch.
    pub index: usize,
    /// The twin id the sample was for.
    pub twin: u64,
    /// Why: `TWIN_RESULT_UNKNOWN_TWIN` for an id not in the fleet, otherwise as for
    /// `TwinRejection`.
    pub reason: TwinResult,
}

/// An insight of one twin of a fleet.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinFleetInsight {
    /// The twin's id.
    pub twin: u64,
    /// What it found.
    pub insight: TwinInsight,
}

impl TwinFleet {
    fn new(inner: Fleet) -> Self {
        TwinFleet {
            inner,
            rejections: Vec::new(),
            insights: VecDeque::new(),
            insights_dropped: 0,
        }
    }

    /// Move the twins' new insights into the fleet's bounded queue.
    fn collect_insights(&mut self) {
        for (id, i) in self.inner.drain_insights() {
            if self.insights.len() == TWIN_FLEET_MAX_PENDING_INSIGHTS {
                self.insights.pop_front();
                self.insights_dropped += 1;
            }
            self.insights.push_back(TwinFleetInsight {
                twin: id,
                insight: TwinInsight::from(&i),
            });
        }
    }
}

fn unknown(id: u64) -> TwinResult {
    fail(
        TwinResult::UnknownTwin,
        format!("no twin {id} in the fleet"),
    )
}

/// Create an empty fleet whose batches run on up to `threads` threads (1 or more).
///
/// On success `*out` receives the fleet, freed with `twin_fleet_free`; `threads == 0`
/// gives `TWIN_RESULT_INVALID_INPUT` and leaves `*out` untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `out` must point to a writable `TwinFleet *`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_new(threads: usize, out: *mut *mut TwinFleet) -> TwinResult {
    ffi_boundary!("twin_fleet_new", {
        let out = arg!(out out);
        let fleet = Fleet::new(threads).or_fail()?;
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(Box::into_raw(Box::new(TwinFleet::new(fleet)))) };
        Ok(())
    })
}

/// Free a fleet and every twin in it. `twin_fleet_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the fleet during or after this call.
///
/// # Safety
/// `fleet` must be NULL or a fleet from `twin_fleet_new` / `twin_fleet_restore_json`, not
/// yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_free(fleet: *mut TwinFleet) {
    let _ = ffi_boundary!("twin_fleet_free", {
        if !fleet.is_null() {
            // SAFETY: the caller passes a pointer from `Box::into_raw`, freed once.
            drop(unsafe { Box::from_raw(fleet) });
        }
        Ok(())
    });
}

/// Add a twin of `schema` (with the built-in EWMA monitor, as `twin_twin_new`) under `id`.
///
/// An id already in the fleet gives `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: not safe for concurrent use of the same fleet; the schema may be read
/// concurrently.
///
/// # Safety
/// `fleet` must be a live fleet and `schema` a live schema.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_insert(
    fleet: *mut TwinFleet,
    id: u64,
    schema: *const TwinSchema,
) -> TwinResult {
    ffi_boundary!("twin_fleet_insert", {
        let fleet = arg!(mut fleet);
        let schema = arg!(ref schema);
        let twin = builder(&schema.inner).and_then(|b| b.build()).or_fail()?;
        fleet.inner.insert(id, twin).or_fail()?;
        Ok(())
    })
}

/// Remove and free the twin `id` (its insights already collected stay queued).
/// `TWIN_RESULT_UNKNOWN_TWIN` if there is none.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_remove(fleet: *mut TwinFleet, id: u64) -> TwinResult {
    ffi_boundary!("twin_fleet_remove", {
        let fleet = arg!(mut fleet);
        fleet.collect_insights();
        fleet.inner.remove(id).or_fail()?;
        Ok(())
    })
}

/// The number of twins, into `*out_len`.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_len(
    fleet: *const TwinFleet,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_fleet_len", {
        let fleet = arg!(ref fleet);
        let out_len = arg!(out out_len);
        // SAFETY: `out_len` is checked non-NULL and aligned.
        unsafe { out_len.write(fleet.inner.len()) };
        Ok(())
    })
}

/// Ingest a columnar fleet batch of `len` samples: `twins[i]` is the id of the twin sample
/// `i` is for, with `times[i]` (ns), `signals[i]` and `values[i]` as for
/// `twin_twin_ingest_batch`. Each twin takes its samples in batch order; the twins run in
/// parallel, and the outcome does not depend on the number of threads.
///
/// On success `*out_report` gets the counts (`accepted + rejected == len`) and the fleet
/// keeps the rejections, in batch order, for `twin_fleet_last_rejections`. Samples for an
/// id not in the fleet are refused with `TWIN_RESULT_UNKNOWN_TWIN`.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; the four arrays must each hold `len` readable elements
/// (NULL only when `len` is 0); `out_report` must point to a writable `TwinIngestReport`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_ingest_batch(
    fleet: *mut TwinFleet,
    twins: *const u64,
    times: *const i64,
    signals: *const u32,
    values: *const f64,
    len: usize,
    out_report: *mut TwinIngestReport,
) -> TwinResult {
    ffi_boundary!("twin_fleet_ingest_batch", {
        let fleet = arg!(mut fleet);
        let twins = arg!(slice twins, len);
        let times = arg!(slice times, len);
        let signals = arg!(slice signals, len);
        let values = arg!(slice values, len);
        let out_report = arg!(out out_report);
        let batch = FleetBatchRef::new(twins, times, signals, values).or_fail()?;
        let report = fleet.inner.ingest_batch(batch);
        fleet.rejections.clear();
        fleet
            .rejections
            .extend(report.rejections.iter().map(|r| TwinFleetRejection {
                index: r.index,
                twin: r.twin,
                reason: TwinResult::from_kind(r.kind),
            }));
        fleet.collect_insights();
        let counts = TwinIngestReport {
            accepted: report.accepted,
            rejected: report.rejected(),
        };
        // SAFETY: `out_report` is checked non-NULL and aligned.
        unsafe { out_report.write(counts) };
        Ok(())
    })
}

/// Copy the rejections of the last `twin_fleet_ingest_batch` into `buf`; `*out_len` gets
/// how many. All or nothing: `TWIN_RESULT_BUFFER_TOO_SMALL` (nothing written) when they
/// do not fit; `buf = NULL, cap = 0` asks for the number only.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `buf` must be NULL or point to `cap` writable
/// `TwinFleetRejection`s; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_last_rejections(
    fleet: *const TwinFleet,
    buf: *mut TwinFleetRejection,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_fleet_last_rejections", {
        let fleet = arg!(ref fleet);
        let buf = arg!(out_slice buf, cap);
        let out_len = arg!(out out_len);
        let n = fleet.rejections.len();
        if buf.is_null() {
            // SAFETY: `out_len` is checked non-NULL and aligned.
            unsafe { out_len.write(n) };
            return Ok(());
        }
        if n > cap {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("{n} rejections do not fit a buffer of {cap}"),
            ));
        }
        // SAFETY: `n <= cap` elements into the caller's non-NULL buffer of `cap`.
        unsafe {
            std::ptr::copy_nonoverlapping(fleet.rejections.as_ptr(), buf, n);
            out_len.write(n);
        }
        Ok(())
    })
}

/// Move up to `cap` pending insights of all twins into `buf`, by twin id and time within
/// each batch; `*out_len` gets how many. The rest stay pending: call until
/// `*out_len < cap` to drain everything.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `buf` must be NULL or point to `cap` writable
/// `TwinFleetInsight`s; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_drain_insights(
    fleet: *mut TwinFleet,
    buf: *mut TwinFleetInsight,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_fleet_drain_insights", {
        let fleet = arg!(mut fleet);
        let buf = arg!(out_slice buf, cap);
        let out_len = arg!(out out_len);
        fleet.collect_insights();
        let n = fleet.insights.len().min(cap);
        // SAFETY: `n <= cap` elements into the caller's buffer (non-NULL when `cap > 0`).
        unsafe {
            for (k, i) in fleet.insights.drain(..n).enumerate() {
                buf.add(k).write(i);
            }
            out_len.write(n);
        }
        Ok(())
    })
}

/// Insights dropped because more than `TWIN_FLEET_MAX_PENDING_INSIGHTS` were waiting, into
/// `*out_count`.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `out_count` must point to a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_insights_dropped(
    fleet: *const TwinFleet,
    out_count: *mut u64,
) -> TwinResult {
    ffi_boundary!("twin_fleet_insights_dropped", {
        let fleet = arg!(ref fleet);
        let out_count = arg!(out out_count);
        // SAFETY: `out_count` is checked non-NULL and aligned.
        unsafe { out_count.write(fleet.insights_dropped) };
        Ok(())
    })
}

/// The last reported value of `signal` on twin `id`, into `*out_value`: as
/// `twin_twin_reported`, plus `TWIN_RESULT_UNKNOWN_TWIN` for an id not in the fleet.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `out_value` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_reported(
    fleet: *const TwinFleet,
    id: u64,
    signal: u32,
    out_value: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_fleet_reported", {
        let fleet = arg!(ref fleet);
        let out_value = arg!(out out_value);
        let twin = fleet.inner.get(id).ok_or_else(|| unknown(id))?;
        let sid = twin::SignalId(signal);
        let name = &twin.schema().signal(sid).or_fail()?.name;
        let Some(v) = twin.state().reported(sid) else {
            return Err(fail(
                TwinResult::NotFound,
                format!("twin {id}: {name} (id {signal}) has not been reported yet"),
            ));
        };
        // SAFETY: `out_value` is checked non-NULL and aligned.
        unsafe { out_value.write(v) };
        Ok(())
    })
}

/// Twin `id`'s running totals, into `*out` (`TWIN_RESULT_UNKNOWN_TWIN` if absent).
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `out` must point to a writable `TwinCounters`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_counters(
    fleet: *const TwinFleet,
    id: u64,
    out: *mut TwinCounters,
) -> TwinResult {
    ffi_boundary!("twin_fleet_counters", {
        let fleet = arg!(ref fleet);
        let out = arg!(out out);
        let twin = fleet.inner.get(id).ok_or_else(|| unknown(id))?;
        let c = TwinCounters::new(twin.ingest_counters(), twin.command_counters());
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(c) };
        Ok(())
    })
}

/// Request a command on twin `id`: validated exactly as `twin_twin_command` does, plus
/// `TWIN_RESULT_UNKNOWN_TWIN` for an id not in the fleet.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `name` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_command(
    fleet: *mut TwinFleet,
    id: u64,
    name: *const c_char,
    len: usize,
    value: f64,
    time_ns: i64,
) -> TwinResult {
    ffi_boundary!("twin_fleet_command", {
        let fleet = arg!(mut fleet);
        let name = arg!(str name, len);
        let twin = fleet.inner.get_mut(id).ok_or_else(|| unknown(id))?;
        twin.command(name, value, Timestamp(time_ns)).or_fail()?;
        Ok(())
    })
}

/// Save every twin of the fleet as JSON text into `buf` (NUL-terminated), with the
/// size-query convention of `twin_twin_snapshot_json`.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_snapshot_json(
    fleet: *const TwinFleet,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_fleet_snapshot_json", {
        let fleet = arg!(ref fleet);
        let snap = fleet.inner.snapshot().or_fail()?;
        let json = snap.to_json().or_fail()?;
        copy_str_out(&json, buf, cap, out_len)
    })
}

/// Rebuild a fleet of twins of `schema` (each with the EWMA monitor) from `len` bytes of
/// JSON made by `twin_fleet_snapshot_json`, running on `threads` threads.
///
/// Every saved twin must have been made with this schema (`TWIN_RESULT_SERIALIZATION`
/// otherwise); on failure `*out` is left untouched.
///
/// Thread safety: may be called from any thread; the schema may be read concurrently.
///
/// # Safety
/// `schema` must be a live schema; `json` must point to `len` readable bytes; `out` must
/// point to a writable `TwinFleet *`.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_restore_json(
    schema: *const TwinSchema,
    threads: usize,
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinFleet,
) -> TwinResult {
    ffi_boundary!("twin_fleet_restore_json", {
        let schema = arg!(ref schema);
        let json = arg!(str json, len);
        let out = arg!(out out);
        let snap = FleetSnapshot::from_json(json).or_fail()?;
        let fleet = Fleet::restore(threads, snap, |_| builder(&schema.inner)).or_fail()?;
        // SAFETY: `out` is checked non-NULL and aligned.
        unsafe { out.write(Box::into_raw(Box::new(TwinFleet::new(fleet)))) };
        Ok(())
    })
}

/// Cap the fleet: at most `max_twins` twins (a further `twin_fleet_insert` gives
/// `TWIN_RESULT_LIMIT_EXCEEDED`; lowering it removes no twin) and batches of at most
/// `max_batch_samples` samples (a longer `twin_fleet_ingest_batch` succeeds with every
/// sample refused as `TWIN_RESULT_LIMIT_EXCEEDED`). Defaults: 4194304 twins, 16777216
/// samples. `max_batch_samples == 0` gives `TWIN_RESULT_INVALID_INPUT` and changes nothing.
///
/// Thread safety: not safe for concurrent use of the same fleet.
///
/// # Safety
/// `fleet` must be a live fleet.
#[no_mangle]
pub unsafe extern "C" fn twin_fleet_set_limits(
    fleet: *mut TwinFleet,
    max_twins: usize,
    max_batch_samples: usize,
) -> TwinResult {
    ffi_boundary!("twin_fleet_set_limits", {
        let fleet = arg!(mut fleet);
        fleet
            .inner
            .set_limits(max_twins, max_batch_samples)
            .or_fail()
    })
}
