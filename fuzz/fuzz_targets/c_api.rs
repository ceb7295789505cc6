//! Sequences of C API calls. The input is decoded (with `arbitrary::Unstructured`) into a
//! list of operations on a small pool of handles: schemas (known or fuzzed JSON), twins,
//! single and batch ingest (fuzzed lengths, NaN, infinities, old times, NULL arrays, lengths
//! too large for memory), commands, desired / reported values, insights, rejections,
//! snapshot and restore (of intact, truncated or corrupted snapshots), detectors (new,
//! update, to/from JSON, save/load through a scratch file) and frees.
//!
//! The harness only makes calls a correct C caller could make, plus NULL pointers and bad
//! lengths that the library promises to refuse; it never uses a freed handle. After every
//! call it checks:
//! - the result is one of `TwinResult::ALL`, and a failure has a static description and a
//!   non-empty `twin_last_error_message`;
//! - outputs are untouched on failure (they are pre-filled with sentinels);
//! - the twin's counters reconcile with a model kept by the harness (received = accepted +
//!   rejected = sum of the six reasons; each call adds what its report or code says);
//! - every command taken lies inside its schema limits, and the pending count is what was
//!   accepted and not yet taken;
//! - a schema JSON is accepted by the C API exactly when the Rust API accepts it.
#![no_main]

use std::ffi::CStr;
use std::ptr;

use arbitrary::{Result as AResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use twin::Schema;
use twin_ffi::analytics::{
    twin_detector_dim, twin_detector_free, twin_detector_from_json, twin_detector_kind,
    twin_detector_load, twin_detector_new, twin_detector_save, twin_detector_to_json,
    twin_detector_update, twin_detector_update_batch, twin_detector_update_vector, TwinDetection,
    TwinDetector, TwinDetectorKind,
};
use twin_ffi::*;

const PRESS: &str = r#"{"name": "press",
 "telemetry": [
  {"name": "pressure", "unit": "bar", "min": 0, "max": 400, "alarm_high": 250},
  {"name": "vibration", "unit": "mm/s", "min": 0, "max": 100, "alarm_high": 4.5}],
 "properties": [{"name": "stroke_rate", "unit": "1/min", "min": 0, "max": 60}],
 "commands": [{"name": "set_stroke_rate", "unit": "1/min", "min": 0, "max": 40,
   "max_rate": 1.0, "min_interval_s": 0.5, "property": "stroke_rate"}]}"#;

const SCHEMAS: usize = 2;
const TWINS: usize = 3;
const DETECTORS: usize = 2;
const SENTINEL_LEN: usize = 0x5a5a_5a5a;
const SENTINEL_F: f64 = -123_456.75;

/// A pointer no call may write on failure.
fn sentinel<T>() -> *mut T {
    // An aligned, non-NULL address that is never dereferenced: only compared.
    std::ptr::NonNull::<T>::dangling().as_ptr().wrapping_add(7)
}

fn check_code(r: TwinResult) -> TwinResult {
    assert!(
        TwinResult::ALL.contains(&r),
        "result {} not in the enum",
        r as u32
    );
    if r != TwinResult::Ok {
        // SAFETY: twin_result_message returns a static NUL-terminated string.
        let stat = unsafe { CStr::from_ptr(twin_result_message(r as u32)) };
        let stat = stat.to_str().expect("ascii message");
        assert!(!stat.is_empty() && stat != "unknown result code", "{r:?}");
        let mut len = SENTINEL_LEN;
        // SAFETY: a size query (NULL, 0); len is writable.
        let got = unsafe { twin_last_error_message(ptr::null_mut(), 0, &mut len) };
        assert_eq!(got, TwinResult::Ok, "last error message size query");
        assert!(len > 0 && len != SENTINEL_LEN, "no message for {r:?}");
    }
    r
}

/// This thread's last error message.
fn last_message() -> String {
    let mut buf = vec![0u8; 4096];
    let mut len = 0usize;
    // SAFETY: buf has 4096 writable bytes.
    unsafe { twin_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    buf.truncate(len.min(4095));
    String::from_utf8_lossy(&buf).into_owned()
}

/// What the harness knows of one live twin.
struct TwinSlot {
    ptr: *mut TwinTwin,
    schema: Schema,
    counters: TwinCounters,
    pending: u64,
    last_cmd_time: Option<i64>,
}

struct SchemaSlot {
    ptr: *mut TwinSchema,
    rust: Schema,
}

#[derive(Default)]
struct Pool {
    schemas: [Option<SchemaSlot>; SCHEMAS],
    twins: [Option<TwinSlot>; TWINS],
    detectors: [Option<*mut TwinDetector>; DETECTORS],
    snapshot: Vec<u8>,
    detector_json: Vec<u8>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        for s in self.schemas.iter_mut().filter_map(Option::take) {
            // SAFETY: live handle from twin_schema_from_json, freed once.
            unsafe { twin_schema_free(s.ptr) };
        }
        for t in self.twins.iter_mut().filter_map(Option::take) {
            // SAFETY: live handle, freed once.
            unsafe { twin_twin_free(t.ptr) };
        }
        for d in self.detectors.iter_mut().filter_map(Option::take) {
            // SAFETY: live handle, freed once.
            unsafe { twin_detector_free(d) };
        }
    }
}

fn zero_counters() -> TwinCounters {
    TwinCounters {
        received: 0,
        accepted: 0,
        rejected: 0,
        non_finite: 0,
        unknown_signal: 0,
        out_of_order: 0,
        duplicate: 0,
        timestamp_conflict: 0,
        out_of_range: 0,
        commands_accepted: 0,
        commands_refused: 0,
        commands_taken: 0,
        insights_dropped: 0,
        commands_send_failed: 0,
        limit_exceeded: 0,
        history_dropped: 0,
    }
}

fn sentinel_counters() -> TwinCounters {
    let mut c = zero_counters();
    c.received = 0xdead;
    c.rejected = 0xbeef;
    c
}

fn read_counters(t: *const TwinTwin) -> TwinCounters {
    let mut c = sentinel_counters();
    // SAFETY: t is live; c is writable.
    let r = check_code(unsafe { twin_twin_counters(t, &mut c) });
    assert_eq!(r, TwinResult::Ok);
    assert_eq!(c.received, c.accepted + c.rejected, "{c:?}");
    assert_eq!(
        c.rejected,
        c.non_finite
            + c.unknown_signal
            + c.out_of_order
            + c.duplicate
            + c.timestamp_conflict
            + c.out_of_range,
        "{c:?}"
    );
    c
}

fn same_ingest_counts(a: &TwinCounters, b: &TwinCounters) -> bool {
    (
        a.received,
        a.accepted,
        a.rejected,
        a.non_finite,
        a.unknown_signal,
        a.out_of_order,
        a.duplicate,
        a.timestamp_conflict,
        a.out_of_range,
        a.limit_exceeded,
        a.commands_accepted,
        a.commands_taken,
    ) == (
        b.received,
        b.accepted,
        b.rejected,
        b.non_finite,
        b.unknown_signal,
        b.out_of_order,
        b.duplicate,
        b.timestamp_conflict,
        b.out_of_range,
        b.limit_exceeded,
        b.commands_accepted,
        b.commands_taken,
    )
}

/// Count one refused sample in the model.
fn count_rejection(c: &mut TwinCounters, reason: TwinResult) {
    c.received += 1;
    c.rejected += 1;
    match reason {
        TwinResult::NonFinite => c.non_finite += 1,
        TwinResult::UnknownSignal => c.unknown_signal += 1,
        TwinResult::OutOfOrder => c.out_of_order += 1,
        TwinResult::Duplicate => c.duplicate += 1,
        TwinResult::TimestampConflict => c.timestamp_conflict += 1,
        TwinResult::OutOfRange => c.out_of_range += 1,
        TwinResult::LimitExceeded => c.limit_exceeded += 1,
        other => panic!("a sample refused with {other:?}"),
    }
}

fn check_twin(slot: &TwinSlot) {
    let c = read_counters(slot.ptr);
    assert!(
        same_ingest_counts(&c, &slot.counters),
        "counters {c:?} model {:?}",
        slot.counters
    );
    let mut n = SENTINEL_LEN;
    // SAFETY: live twin; n writable.
    assert_eq!(
        check_code(unsafe { twin_twin_pending_command_count(slot.ptr, &mut n) }),
        TwinResult::Ok
    );
    assert_eq!(n as u64, slot.pending);
    assert_eq!(
        c.commands_accepted,
        c.commands_taken + slot.pending + c.commands_send_failed
    );
}

fn value(u: &mut Unstructured) -> AResult<f64> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => f64::from(u.int_in_range(-10..=500i32)?),
        4 => f64::from_bits(u.arbitrary()?),
        _ => f64::from(u.int_in_range(0..=400u16)?) / 4.0,
    })
}

fn time(u: &mut Unstructured) -> AResult<i64> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => u.arbitrary()?,
        1 => i64::MIN,
        2 => i64::MAX,
        _ => i64::from(u.int_in_range(0..=2_000u16)?) * 100_000_000,
    })
}

fn signal(u: &mut Unstructured, n: usize) -> AResult<u32> {
    Ok(if u.ratio(1, 8)? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=n as u32)?
    })
}

fn schema_json(u: &mut Unstructured) -> AResult<Vec<u8>> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => PRESS.as_bytes().to_vec(),
        1 => serde_json::to_string(&twin::entity::ConveyorDrive::standard_schema())
            .expect("schema json")
            .into_bytes(),
        2 => {
            // The press schema with a few bytes overwritten.
            let mut b = PRESS.as_bytes().to_vec();
            for _ in 0..u.int_in_range(1..=4u8)? {
                let i = u.choose_index(b.len())?;
                b[i] = u.arbitrary()?;
            }
            b
        }
        _ => {
            let n = u.int_in_range(0..=512usize)?;
            u.bytes(n.min(u.len()))?.to_vec()
        }
    })
}

fn op_schema_new(u: &mut Unstructured, pool: &mut Pool) -> AResult<()> {
    let slot = u.choose_index(SCHEMAS)?;
    let json = schema_json(u)?;
    let mut out: *mut TwinSchema = sentinel();
    // SAFETY: json has json.len() readable bytes; out is writable.
    let r =
        check_code(unsafe { twin_schema_from_json(json.as_ptr().cast(), json.len(), &mut out) });
    let rust = std::str::from_utf8(&json).ok().map(Schema::from_json);
    match r {
        TwinResult::Ok => {
            let rust = rust
                .expect("C accepted non-UTF-8")
                .expect("Rust refused what C accepted");
            assert!(!out.is_null() && out != sentinel());
            if let Some(old) = pool.schemas[slot].take() {
                // SAFETY: live handle, freed once.
                unsafe { twin_schema_free(old.ptr) };
            }
            pool.schemas[slot] = Some(SchemaSlot { ptr: out, rust });
        }
        TwinResult::InvalidUtf8 => {
            assert!(rust.is_none());
            assert_eq!(out, sentinel());
        }
        _ => {
            assert!(
                matches!(rust, Some(Err(_))),
                "C refused {r:?}, Rust accepted"
            );
            assert_eq!(out, sentinel());
        }
    }
    Ok(())
}

fn op_schema_queries(u: &mut Unstructured, pool: &mut Pool) -> AResult<()> {
    let slot = u.choose_index(SCHEMAS)?;
    let Some(s) = &pool.schemas[slot] else {
        // NULL schema: refused.
        let mut n = SENTINEL_LEN;
        // SAFETY: NULL schema is refused before any read.
        let r = check_code(unsafe { twin_schema_signal_count(ptr::null(), &mut n) });
        assert_eq!((r, n), (TwinResult::NullParameter, SENTINEL_LEN));
        return Ok(());
    };
    let mut n = SENTINEL_LEN;
    // SAFETY: live schema; n writable.
    assert_eq!(
        check_code(unsafe { twin_schema_signal_count(s.ptr, &mut n) }),
        TwinResult::Ok
    );
    assert_eq!(n, s.rust.signal_count());
    let name: Vec<u8> = if u.arbitrary()? && !s.rust.commands().is_empty() {
        let i = u.choose_index(s.rust.commands().len())?;
        s.rust.commands()[i].name.as_bytes().to_vec()
    } else {
        let k = u.int_in_range(0..=16usize)?;
        u.bytes(k.min(u.len()))?.to_vec()
    };
    let mut id = 0xabcd_u32;
    // SAFETY: name has name.len() readable bytes; id writable.
    let r = check_code(unsafe {
        twin_schema_command_id(s.ptr, name.as_ptr().cast(), name.len(), &mut id)
    });
    let expected = std::str::from_utf8(&name)
        .ok()
        .map(|n| s.rust.command_id(n));
    match r {
        TwinResult::Ok => {
            let e = expected.expect("utf8").expect("known command");
            assert_eq!(id, e.0);
        }
        _ => {
            assert_eq!(id, 0xabcd);
            assert!(!matches!(expected, Some(Ok(_))));
        }
    }
    Ok(())
}

fn op_twin_new(u: &mut Unstructured, pool: &mut Pool) -> AResult<()> {
    let t = u.choose_index(TWINS)?;
    let s = u.choose_index(SCHEMAS)?;
    let mut out: *mut TwinTwin = sentinel();
    let (sp, rust) = match &pool.schemas[s] {
        Some(slot) => (slot.ptr.cast_const(), Some(slot.rust.clone())),
        None => (ptr::null(), None),
    };
    // SAFETY: sp is NULL or a live schema; out writable.
    let r = check_code(unsafe { twin_twin_new(sp, &mut out) });
    match (r, rust) {
        (TwinResult::Ok, Some(schema)) => {
            assert!(!out.is_null() && out != sentinel());
            if let Some(old) = pool.twins[t].take() {
                // SAFETY: live handle, freed once.
                unsafe { twin_twin_free(old.ptr) };
            }
            let slot = TwinSlot {
                ptr: out,
                schema,
                counters: zero_counters(),
                pending: 0,
                last_cmd_time: None,
            };
            check_twin(&slot);
            pool.twins[t] = Some(slot);
        }
        (TwinResult::NullParameter, None) => assert_eq!(out, sentinel()),
        (r, _) => {
            assert_ne!(r, TwinResult::Ok);
            assert_eq!(out, sentinel());
        }
    }
    Ok(())
}

fn op_ingest(u: &mut Unstructured, slot: &mut TwinSlot) -> AResult<()> {
    let n = slot.schema.signal_count();
    let (tm, sig, v) = (time(u)?, signal(u, n)?, value(u)?);
    // SAFETY: live twin.
    let r = check_code(unsafe { twin_twin_ingest(slot.ptr, tm, sig, v) });
    if r == TwinResult::Ok {
        assert!(v.is_finite() && (sig as usize) < n);
        slot.counters.received += 1;
        slot.counters.accepted += 1;
        let mut got = SENTINEL_F;
        // SAFETY: live twin; got writable.
        assert_eq!(
            check_code(unsafe { twin_twin_reported(slot.ptr, sig, &mut got) }),
            TwinResult::Ok
        );
        assert_eq!(got.to_bits(), v.to_bits());
    } else {
        count_rejection(&mut slot.counters, r);
        if !v.is_finite() {
            assert!(
                r == TwinResult::NonFinite || r == TwinResult::UnknownSignal,
                "{r:?}"
            );
        }
        if sig as usize >= n {
            assert_eq!(r, TwinResult::UnknownSignal);
        }
    }
    // The rejection list of a single ingest has at most one entry.
    let mut rej = [TwinRejection {
        index: 77,
        reason: TwinResult::Other,
    }; 2];
    let mut len = SENTINEL_LEN;
    // SAFETY: rej has 2 writable entries.
    let rr =
        check_code(unsafe { twin_twin_last_rejections(slot.ptr, rej.as_mut_ptr(), 2, &mut len) });
    assert_eq!(rr, TwinResult::Ok);
    if r == TwinResult::Ok {
        assert_eq!(len, 0);
    } else {
        assert_eq!((len, rej[0].index, rej[0].reason), (1, 0, r));
    }
    Ok(())
}

fn op_ingest_batch(u: &mut Unstructured, slot: &mut TwinSlot) -> AResult<()> {
    let n = slot.schema.signal_count();
    let len = u.int_in_range(0..=64usize)?;
    let base = time(u)?;
    let mut times = Vec::with_capacity(len);
    let mut signals = Vec::with_capacity(len);
    let mut values = Vec::with_capacity(len);
    for _ in 0..len {
        // Mostly rising times, sometimes repeats and steps back.
        let step: i64 = i64::from(u.int_in_range(-2..=6i8)?) * 50_000_000;
        let last = times.last().copied().unwrap_or(base);
        times.push(last.saturating_add(step));
        signals.push(signal(u, n)?);
        values.push(value(u)?);
    }
    let mode = u.int_in_range(0..=9u8)?;
    let mut report = TwinIngestReport {
        accepted: SENTINEL_LEN,
        rejected: SENTINEL_LEN,
    };
    let (tp, sp, vp, l) = match mode {
        0 => (ptr::null(), signals.as_ptr(), values.as_ptr(), len),
        1 => (times.as_ptr(), ptr::null(), values.as_ptr(), len),
        2 => (times.as_ptr(), signals.as_ptr(), ptr::null(), len),
        // A length too large for memory: refused before any read.
        3 => (
            times.as_ptr(),
            signals.as_ptr(),
            values.as_ptr(),
            usize::MAX / 2,
        ),
        // NULL arrays with length 0: an empty batch.
        4 => (ptr::null(), ptr::null(), ptr::null(), 0),
        _ => (times.as_ptr(), signals.as_ptr(), values.as_ptr(), len),
    };
    // SAFETY: each non-NULL array has at least `l` readable elements, except in mode 3 where
    // the documented length check refuses the call before reading.
    let r = check_code(unsafe { twin_twin_ingest_batch(slot.ptr, tp, sp, vp, l, &mut report) });
    let expect_fail = match mode {
        0..=2 => l > 0,
        3 => true,
        _ => false,
    };
    if expect_fail {
        let want = if mode == 3 {
            TwinResult::InvalidInput
        } else {
            TwinResult::NullParameter
        };
        assert_eq!(r, want);
        assert_eq!(
            (report.accepted, report.rejected),
            (SENTINEL_LEN, SENTINEL_LEN)
        );
        return Ok(());
    }
    assert_eq!(r, TwinResult::Ok);
    assert_eq!(report.accepted + report.rejected, l);
    let mut rej = vec![
        TwinRejection {
            index: usize::MAX,
            reason: TwinResult::Other
        };
        l + 1
    ];
    let mut got = SENTINEL_LEN;
    if report.rejected > 0 {
        // Too small a buffer: refused, nothing written.
        let cap = report.rejected - 1;
        let bp = if cap == 0 {
            ptr::null_mut()
        } else {
            rej.as_mut_ptr()
        };
        // SAFETY: bp is NULL with cap 0 or has cap writable entries.
        let rr = check_code(unsafe { twin_twin_last_rejections(slot.ptr, bp, cap, &mut got) });
        assert_eq!((rr, got), (TwinResult::BufferTooSmall, SENTINEL_LEN));
        assert!(rej.iter().all(|x| x.index == usize::MAX));
    }
    // SAFETY: rej has l + 1 writable entries.
    let rr = check_code(unsafe {
        twin_twin_last_rejections(slot.ptr, rej.as_mut_ptr(), rej.len(), &mut got)
    });
    assert_eq!((rr, got), (TwinResult::Ok, report.rejected));
    let mut prev = None;
    for x in &rej[..got] {
        assert!(
            x.index < l && prev.is_none_or(|p| p < x.index),
            "rejections in input order"
        );
        prev = Some(x.index);
        let i = x.index;
        if !values[i].is_finite() && (signals[i] as usize) < n {
            assert_eq!(x.reason, TwinResult::NonFinite);
        }
        if signals[i] as usize >= n {
            assert_eq!(x.reason, TwinResult::UnknownSignal);
        }
        count_rejection(&mut slot.counters, x.reason);
    }
    slot.counters.received += report.accepted as u64;
    slot.counters.accepted += report.accepted as u64;
    Ok(())
}

fn op_command(u: &mut Unstructured, slot: &mut TwinSlot) -> AResult<()> {
    let cmds = slot.schema.commands();
    let name: Vec<u8> = match u.int_in_range(0..=5u8)? {
        0 => {
            let k = u.int_in_range(0..=12usize)?;
            u.bytes(k.min(u.len()))?.to_vec()
        }
        1 => vec![0xff, 0xfe, b'x'],
        _ if !cmds.is_empty() => cmds[u.choose_index(cmds.len())?].name.as_bytes().to_vec(),
        _ => b"set_stroke_rate".to_vec(),
    };
    let v = value(u)?;
    let tm = time(u)?;
    let null_name = u.ratio(1, 16)? && !name.is_empty();
    let np = if null_name {
        ptr::null()
    } else {
        name.as_ptr().cast()
    };
    let before = read_counters(slot.ptr);
    // SAFETY: np is NULL or has name.len() readable bytes; the twin is live.
    let r = check_code(unsafe { twin_twin_command(slot.ptr, np, name.len(), v, tm) });
    let after = read_counters(slot.ptr);
    match r {
        TwinResult::Ok => {
            let text = std::str::from_utf8(&name).expect("accepted name is UTF-8");
            let id = slot
                .schema
                .command_id(text)
                .expect("accepted command is known");
            let spec = &cmds[id.0 as usize];
            assert!(
                v.is_finite() && v >= spec.min && v <= spec.max,
                "{v} outside {spec:?}"
            );
            if let Some(last) = slot.last_cmd_time {
                assert!(tm >= last, "command time went back");
            }
            slot.last_cmd_time = Some(tm);
            slot.pending += 1;
            slot.counters.commands_accepted += 1;
            assert_eq!(after.commands_accepted, before.commands_accepted + 1);
            if let Some(prop) = &spec.property {
                let pid = slot.schema.signal_id(prop).expect("property id");
                let mut d = SENTINEL_F;
                // SAFETY: live twin; d writable.
                let rd = check_code(unsafe { twin_twin_desired(slot.ptr, pid.0, &mut d) });
                assert_eq!((rd, d.to_bits()), (TwinResult::Ok, v.to_bits()));
            }
        }
        TwinResult::NullParameter => assert!(null_name),
        TwinResult::InvalidUtf8 => assert!(std::str::from_utf8(&name).is_err()),
        _ => {
            assert_eq!(after.commands_accepted, before.commands_accepted);
            assert!(
                matches!(
                    r,
                    TwinResult::UnknownSignal
                        | TwinResult::NonFinite
                        | TwinResult::OutOfRange
                        | TwinResult::RateLimited
                        | TwinResult::InvalidInput
                ),
                "{r:?}"
            );
        }
    }
    Ok(())
}

fn op_take_commands(u: &mut Unstructured, slot: &mut TwinSlot) -> AResult<()> {
    let cap = u.int_in_range(0..=8usize)?;
    let mut buf = vec![
        TwinCommand {
            time_ns: 0,
            seq: u64::MAX,
            value: SENTINEL_F,
            command: 0
        };
        cap
    ];
    let bp = if cap == 0 {
        ptr::null_mut()
    } else {
        buf.as_mut_ptr()
    };
    let mut got = SENTINEL_LEN;
    // SAFETY: bp is NULL with cap 0 or has cap writable entries.
    let r = check_code(unsafe { twin_twin_take_commands(slot.ptr, bp, cap, &mut got) });
    if (cap as u64) < slot.pending {
        assert_eq!((r, got), (TwinResult::BufferTooSmall, SENTINEL_LEN));
        assert!(buf.iter().all(|c| c.seq == u64::MAX));
        return Ok(());
    }
    assert_eq!(r, TwinResult::Ok);
    assert_eq!(got as u64, slot.pending);
    let cmds = slot.schema.commands();
    for c in &buf[..got] {
        let spec = &cmds[c.command as usize];
        assert!(
            c.value >= spec.min && c.value <= spec.max,
            "sent {c:?} outside {spec:?}"
        );
    }
    slot.counters.commands_taken += got as u64;
    slot.pending = 0;
    Ok(())
}

fn op_queries(u: &mut Unstructured, slot: &mut TwinSlot) -> AResult<()> {
    let n = slot.schema.signal_count();
    let sig = signal(u, n)?;
    let mut v = SENTINEL_F;
    // SAFETY: live twin; v writable.
    let r = check_code(unsafe { twin_twin_reported(slot.ptr, sig, &mut v) });
    match r {
        TwinResult::Ok => assert!(v.is_finite()),
        TwinResult::UnknownSignal | TwinResult::NotFound => {
            assert_eq!(v.to_bits(), SENTINEL_F.to_bits())
        }
        other => panic!("reported gave {other:?}"),
    }
    let mut d = SENTINEL_F;
    // SAFETY: live twin; d writable.
    let r = check_code(unsafe { twin_twin_desired(slot.ptr, sig, &mut d) });
    if r != TwinResult::Ok {
        assert_eq!(d.to_bits(), SENTINEL_F.to_bits());
    }
    // NULL outputs are refused.
    // SAFETY: NULL output is checked before any write.
    let r = check_code(unsafe { twin_twin_reported(slot.ptr, sig, ptr::null_mut()) });
    assert_eq!(r, TwinResult::NullParameter);
    // SAFETY: as above.
    let r = check_code(unsafe { twin_twin_counters(slot.ptr, ptr::null_mut()) });
    assert_eq!(r, TwinResult::NullParameter);
    Ok(())
}

fn op_drain(u: &mut Unstructured, slot: &mut TwinSlot) -> AResult<()> {
    let cap = u.int_in_range(0..=16usize)?;
    let mut count = SENTINEL_LEN;
    // SAFETY: live twin.
    assert_eq!(
        check_code(unsafe { twin_twin_insight_count(slot.ptr, &mut count) }),
        TwinResult::Ok
    );
    let blank = TwinInsight {
        time_ns: 0,
        signal: u32::MAX,
        kind: TwinInsightKind::Other,
        value: 0.0,
        score: 0.0,
    };
    let mut buf = vec![blank; cap];
    let bp = if cap == 0 {
        ptr::null_mut()
    } else {
        buf.as_mut_ptr()
    };
    let mut got = SENTINEL_LEN;
    // SAFETY: bp is NULL with cap 0 or has cap writable entries.
    let r = check_code(unsafe { twin_twin_drain_insights(slot.ptr, bp, cap, &mut got) });
    assert_eq!(r, TwinResult::Ok);
    assert_eq!(got, cap.min(count));
    let n = slot.schema.signal_count();
    for i in &buf[..got] {
        assert!((i.signal as usize) < n, "insight for signal {}", i.signal);
    }
    let mut left = SENTINEL_LEN;
    // SAFETY: live twin.
    assert_eq!(
        check_code(unsafe { twin_twin_insight_count(slot.ptr, &mut left) }),
        TwinResult::Ok
    );
    assert_eq!(left, count - got);
    Ok(())
}

fn snapshot_of(slot: &TwinSlot) -> Vec<u8> {
    let mut len = SENTINEL_LEN;
    // SAFETY: size query with NULL, 0.
    let r = check_code(unsafe { twin_twin_snapshot_json(slot.ptr, ptr::null_mut(), 0, &mut len) });
    assert!(
        r == TwinResult::Ok || r == TwinResult::BufferTooSmall,
        "{r:?}"
    );
    assert_ne!(len, SENTINEL_LEN);
    let mut buf = vec![0u8; len + 1];
    // One byte short: refused, nothing written.
    let mut l2 = SENTINEL_LEN;
    // SAFETY: buf has len + 1 writable bytes; we offer len.
    let r = check_code(unsafe {
        twin_twin_snapshot_json(slot.ptr, buf.as_mut_ptr().cast(), len, &mut l2)
    });
    assert_eq!((r, l2), (TwinResult::BufferTooSmall, SENTINEL_LEN));
    assert!(buf.iter().all(|&b| b == 0));
    // SAFETY: buf has len + 1 writable bytes.
    let r = check_code(unsafe {
        twin_twin_snapshot_json(slot.ptr, buf.as_mut_ptr().cast(), buf.len(), &mut l2)
    });
    assert_eq!((r, l2), (TwinResult::Ok, len));
    assert_eq!(buf[len], 0);
    buf.truncate(len);
    buf
}

fn op_snapshot(u: &mut Unstructured, pool: &mut Pool) -> AResult<()> {
    let t = u.choose_index(TWINS)?;
    let Some(slot) = &pool.twins[t] else {
        return Ok(());
    };
    pool.snapshot = snapshot_of(slot);
    match u.int_in_range(0..=3u8)? {
        0 if !pool.snapshot.is_empty() => {
            let k = u.choose_index(pool.snapshot.len())?;
            pool.snapshot.truncate(k);
        }
        1 if !pool.snapshot.is_empty() => {
            let k = u.choose_index(pool.snapshot.len())?;
            pool.snapshot[k] = u.arbitrary()?;
        }
        _ => {}
    }
    Ok(())
}

fn op_restore(u: &mut Unstructured, pool: &mut Pool) -> AResult<()> {
    let t = u.choose_index(TWINS)?;
    let s = u.choose_index(SCHEMAS)?;
    let Some(schema) = &pool.schemas[s] else {
        return Ok(());
    };
    let json = if u.ratio(1, 4)? {
        let k = u.int_in_range(0..=256usize)?;
        u.bytes(k.min(u.len()))?.to_vec()
    } else {
        pool.snapshot.clone()
    };
    let mut out: *mut TwinTwin = sentinel();
    // SAFETY: live schema; json has json.len() readable bytes; out writable.
    let r = check_code(unsafe {
        twin_twin_restore_json(schema.ptr, json.as_ptr().cast(), json.len(), &mut out)
    });
    if r != TwinResult::Ok {
        assert_eq!(out, sentinel());
        assert!(
            matches!(
                r,
                TwinResult::Serialization | TwinResult::InvalidUtf8 | TwinResult::InvalidInput
            ),
            "{r:?}"
        );
        return Ok(());
    }
    assert!(!out.is_null() && out != sentinel());
    let counters = read_counters(out);
    let mut pending = SENTINEL_LEN;
    // SAFETY: live twin.
    assert_eq!(
        check_code(unsafe { twin_twin_pending_command_count(out, &mut pending) }),
        TwinResult::Ok
    );
    let mut slot = TwinSlot {
        ptr: out,
        schema: schema.rust.clone(),
        counters,
        pending: pending as u64,
        last_cmd_time: None,
    };
    // A restored twin snapshots to the same document it was restored from.
    if json == pool.snapshot {
        let again = snapshot_of(&slot);
        let a: serde_json::Value = serde_json::from_slice(&again).expect("snapshot is JSON");
        let b: serde_json::Value = serde_json::from_slice(&json).expect("restored JSON");
        assert_eq!(a, b, "restore then snapshot changed the document");
    }
    // The twin takes a valid sample afterwards if it has any telemetry: checked by counts.
    check_twin(&slot);
    slot.last_cmd_time = None;
    if let Some(old) = pool.twins[t].replace(slot) {
        // SAFETY: live handle, freed once.
        unsafe { twin_twin_free(old.ptr) };
    }
    Ok(())
}

fn detection_ok(d: &TwinDetection) {
    assert!(
        !d.likelihood.is_nan() && (0.0..=1.0).contains(&d.likelihood),
        "{d:?}"
    );
    assert!(d.alarm <= 1);
}

fn adopt_detector(pool: &mut Pool, k: usize, d: *mut TwinDetector) {
    if let Some(old) = pool.detectors[k].replace(d) {
        // SAFETY: live handle, freed once.
        unsafe { twin_detector_free(old) };
    }
}

fn op_detector(u: &mut Unstructured, pool: &mut Pool, dir: &std::path::Path) -> AResult<()> {
    let k = u.choose_index(DETECTORS)?;
    let what = u.int_in_range(0..=6u8)?;
    if what == 0 || pool.detectors[k].is_none() {
        let kind: u32 = if u.ratio(1, 8)? {
            u.arbitrary()?
        } else {
            u.int_in_range(0..=5u32)?
        };
        let config: Vec<u8> = match u.int_in_range(0..=3u8)? {
            0 => Vec::new(),
            1 => br#"{"warmup": 5}"#.to_vec(),
            2 => br#"{"threshold": 1.5}"#.to_vec(),
            _ => {
                let n = u.int_in_range(0..=64usize)?;
                u.bytes(n.min(u.len()))?.to_vec()
            }
        };
        let cp = if config.is_empty() {
            ptr::null()
        } else {
            config.as_ptr().cast()
        };
        let mut out: *mut TwinDetector = sentinel();
        // SAFETY: cp is NULL with length 0 or has config.len() readable bytes.
        let r = check_code(unsafe { twin_detector_new(kind, cp, config.len(), &mut out) });
        if r == TwinResult::Ok {
            assert!(kind <= 5 && !out.is_null() && out != sentinel());
            let mut got = TwinDetectorKind::Ensemble;
            // SAFETY: live detector.
            assert_eq!(
                check_code(unsafe { twin_detector_kind(out, &mut got) }),
                TwinResult::Ok
            );
            assert_eq!(got as u32, kind);
            adopt_detector(pool, k, out);
        } else {
            assert_eq!(out, sentinel());
            // An unknown kind is refused (after the settings text is checked for UTF-8).
            assert!(
                matches!(r, TwinResult::InvalidInput | TwinResult::InvalidUtf8),
                "detector_new gave {r:?}"
            );
        }
        return Ok(());
    }
    let Some(d) = pool.detectors[k] else {
        return Ok(());
    };
    let mut dim = SENTINEL_LEN;
    // SAFETY: live detector.
    assert_eq!(
        check_code(unsafe { twin_detector_dim(d, &mut dim) }),
        TwinResult::Ok
    );
    match what {
        1 => {
            let mut out = TwinDetection {
                score: SENTINEL_F,
                likelihood: SENTINEL_F,
                alarm: 9,
            };
            // SAFETY: live detector; out writable.
            let r = check_code(unsafe { twin_detector_update(d, value(u)?, &mut out) });
            if r == TwinResult::Ok {
                detection_ok(&out);
            } else {
                assert_eq!((r, out.alarm), (TwinResult::InvalidInput, 9));
                assert!(dim != 1);
            }
        }
        2 => {
            let len = u.int_in_range(0..=64usize)?;
            let vals: Vec<f64> = (0..len).map(|_| value(u)).collect::<AResult<_>>()?;
            let cap = if u.ratio(1, 4)? {
                len.saturating_sub(1)
            } else {
                len
            };
            let blank = TwinDetection {
                score: SENTINEL_F,
                likelihood: SENTINEL_F,
                alarm: 9,
            };
            let mut out = vec![blank; cap];
            let op = if cap == 0 {
                ptr::null_mut()
            } else {
                out.as_mut_ptr()
            };
            let vp = if len == 0 { ptr::null() } else { vals.as_ptr() };
            // SAFETY: vp has len readable values (or is NULL with 0); op has cap entries.
            let r = check_code(unsafe { twin_detector_update_batch(d, vp, len, op, cap) });
            match r {
                TwinResult::Ok => out.iter().for_each(detection_ok),
                TwinResult::BufferTooSmall => {
                    assert!(cap < len);
                    assert!(out.iter().all(|o| o.alarm == 9));
                }
                TwinResult::InvalidInput => assert!(dim != 1),
                other => panic!("update_batch gave {other:?}"),
            }
        }
        3 => {
            let len = u.int_in_range(0..=4usize)?;
            let vals: Vec<f64> = (0..len).map(|_| value(u)).collect::<AResult<_>>()?;
            let vp = if len == 0 { ptr::null() } else { vals.as_ptr() };
            let mut out = TwinDetection {
                score: SENTINEL_F,
                likelihood: SENTINEL_F,
                alarm: 9,
            };
            // SAFETY: vp has len readable values or is NULL with 0.
            let r = check_code(unsafe { twin_detector_update_vector(d, vp, len, &mut out) });
            if len == dim {
                assert_eq!(r, TwinResult::Ok);
                detection_ok(&out);
            } else {
                assert_eq!((r, out.alarm), (TwinResult::InvalidInput, 9));
            }
        }
        4 => {
            // To JSON (size query, then the text), maybe corrupt it, and load it back.
            let mut len = SENTINEL_LEN;
            // SAFETY: size query.
            let r = check_code(unsafe { twin_detector_to_json(d, ptr::null_mut(), 0, &mut len) });
            assert!(r == TwinResult::Ok || r == TwinResult::BufferTooSmall);
            let mut buf = vec![0u8; len + 1];
            // SAFETY: buf has len + 1 writable bytes.
            let r = check_code(unsafe {
                twin_detector_to_json(d, buf.as_mut_ptr().cast(), buf.len(), &mut len)
            });
            assert_eq!(r, TwinResult::Ok);
            buf.truncate(len);
            let intact = u.arbitrary::<bool>()?;
            if !intact && !buf.is_empty() {
                let i = u.choose_index(buf.len())?;
                if u.arbitrary()? {
                    buf.truncate(i);
                } else {
                    buf[i] = u.arbitrary()?;
                }
            }
            let mut out: *mut TwinDetector = sentinel();
            // SAFETY: buf has buf.len() readable bytes.
            let r = check_code(unsafe {
                twin_detector_from_json(buf.as_ptr().cast(), buf.len(), &mut out)
            });
            if r == TwinResult::Ok {
                let mut dim2 = SENTINEL_LEN;
                // SAFETY: live detector.
                assert_eq!(
                    check_code(unsafe { twin_detector_dim(out, &mut dim2) }),
                    TwinResult::Ok
                );
                if intact {
                    assert_eq!(dim2, dim);
                }
                let k2 = u.choose_index(DETECTORS)?;
                adopt_detector(pool, k2, out);
            } else {
                assert!(
                    !intact,
                    "an intact detector document was refused: {r:?}: {}\n{}",
                    last_message(),
                    String::from_utf8_lossy(&buf)
                );
                assert_eq!(out, sentinel());
            }
            pool.detector_json = buf;
        }
        5 => {
            // Save to a scratch file and load it back; or load a file holding fuzzed bytes.
            let path = dir.join(format!("det{k}.json"));
            let p = path.to_str().expect("utf8 path").as_bytes().to_vec();
            if u.arbitrary()? {
                // SAFETY: p has p.len() readable bytes.
                let r = check_code(unsafe { twin_detector_save(d, p.as_ptr().cast(), p.len()) });
                assert_eq!(r, TwinResult::Ok);
            } else {
                std::fs::write(&path, &pool.detector_json).expect("scratch write");
            }
            let mut out: *mut TwinDetector = sentinel();
            // SAFETY: p has p.len() readable bytes.
            let r = check_code(unsafe { twin_detector_load(p.as_ptr().cast(), p.len(), &mut out) });
            if r == TwinResult::Ok {
                adopt_detector(pool, k, out);
            } else {
                assert_eq!(out, sentinel());
                assert!(
                    matches!(r, TwinResult::Serialization | TwinResult::Io),
                    "{r:?}"
                );
            }
            // A missing file and a non-UTF-8 path are refused.
            let missing = dir.join("missing.json");
            let m = missing.to_str().expect("utf8").as_bytes();
            let mut out: *mut TwinDetector = sentinel();
            // SAFETY: m has m.len() readable bytes.
            let r = check_code(unsafe { twin_detector_load(m.as_ptr().cast(), m.len(), &mut out) });
            assert_eq!((r, out), (TwinResult::Io, sentinel()));
            let bad = [b'/', 0xff, b'x'];
            // SAFETY: bad has 3 readable bytes.
            let r =
                check_code(unsafe { twin_detector_load(bad.as_ptr().cast(), bad.len(), &mut out) });
            assert_eq!((r, out), (TwinResult::InvalidUtf8, sentinel()));
        }
        _ => {
            pool.detectors[k] = None;
            // SAFETY: live handle, freed once (the slot no longer holds it).
            unsafe { twin_detector_free(d) };
        }
    }
    Ok(())
}

fn run(data: &[u8], dir: &std::path::Path) -> AResult<()> {
    let mut u = Unstructured::new(data);
    let mut pool = Pool::default();
    let mut ops = 0;
    while !u.is_empty() && ops < 64 {
        ops += 1;
        match u.int_in_range(0..=15u8)? {
            0 => op_schema_new(&mut u, &mut pool)?,
            1 => op_schema_queries(&mut u, &mut pool)?,
            2 => op_twin_new(&mut u, &mut pool)?,
            3 => op_snapshot(&mut u, &mut pool)?,
            4 => op_restore(&mut u, &mut pool)?,
            5 => op_detector(&mut u, &mut pool, dir)?,
            6 => {
                let s = u.choose_index(SCHEMAS)?;
                if let Some(old) = pool.schemas[s].take() {
                    // SAFETY: live handle, freed once; twins keep their own copy.
                    unsafe { twin_schema_free(old.ptr) };
                }
                // SAFETY: freeing NULL does nothing.
                unsafe { twin_schema_free(ptr::null_mut()) };
            }
            7 => {
                let t = u.choose_index(TWINS)?;
                if let Some(old) = pool.twins[t].take() {
                    check_twin(&old);
                    // SAFETY: live handle, freed once.
                    unsafe { twin_twin_free(old.ptr) };
                }
                // SAFETY: freeing NULL does nothing.
                unsafe { twin_twin_free(ptr::null_mut()) };
            }
            op => {
                let t = u.choose_index(TWINS)?;
                let Some(slot) = pool.twins[t].as_mut() else {
                    continue;
                };
                match op {
                    8 | 9 => op_ingest(&mut u, slot)?,
                    10 | 11 => op_ingest_batch(&mut u, slot)?,
                    12 => op_command(&mut u, slot)?,
                    13 => op_take_commands(&mut u, slot)?,
                    14 => op_queries(&mut u, slot)?,
                    _ => op_drain(&mut u, slot)?,
                }
                check_twin(slot);
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static DIR: std::path::PathBuf = {
            let d = std::env::temp_dir().join(format!("twin-fuzz-c-api-{}", std::process::id()));
            std::fs::create_dir_all(&d).expect("scratch dir");
            d
        };
    }
    DIR.with(|dir| {
        let _ = run(data, dir);
    });
});
