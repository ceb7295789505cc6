//! Calls the exported functions as C would: NULL and invalid arguments give their codes and
//! leave outputs untouched; counts and insights are the real numbers.

use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

use crate::*;

const CONVEYOR: &str = r#"{"name": "conveyor_drive",
  "telemetry": [
    {"name": "belt_speed", "unit": "m/s", "min": 0.0, "max": 5.0, "alarm_low": 0.2},
    {"name": "vibration", "unit": "mm/s", "min": 0.0, "max": 100.0, "alarm_high": 4.5},
    {"name": "motor_temp", "unit": "degC", "min": -40.0, "max": 200.0, "alarm_high": 90.0},
    {"name": "load", "unit": "1", "min": 0.0, "max": 2.0, "alarm_high": 1.2}],
  "properties": [{"name": "speed_setpoint", "unit": "m/s", "min": 0.0, "max": 3.0}],
  "commands": [{"name": "set_speed", "unit": "m/s", "min": 0.0, "max": 2.5,
                "max_rate": 0.05, "min_interval_s": 1.0, "property": "speed_setpoint"}]}"#;

const SEC: i64 = 1_000_000_000;

fn c(s: &str) -> *const c_char {
    s.as_ptr().cast()
}

fn schema() -> *mut TwinSchema {
    let mut out = null_mut();
    // SAFETY: valid string and out pointer.
    let r = unsafe { twin_schema_from_json(c(CONVEYOR), CONVEYOR.len(), &mut out) };
    assert_eq!(r, TwinResult::Ok);
    assert!(!out.is_null());
    out
}

fn new_twin(s: *const TwinSchema) -> *mut TwinTwin {
    let mut out = null_mut();
    // SAFETY: live schema, valid out pointer.
    assert_eq!(unsafe { twin_twin_new(s, &mut out) }, TwinResult::Ok);
    out
}

fn signal(s: *const TwinSchema, name: &str) -> u32 {
    let mut id = u32::MAX;
    // SAFETY: live schema, valid name and out pointer.
    let r = unsafe { twin_schema_signal_id(s, c(name), name.len(), &mut id) };
    assert_eq!(r, TwinResult::Ok, "{name}");
    id
}

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

fn ingest(t: *mut TwinTwin, times: &[i64], ids: &[u32], values: &[f64]) -> TwinIngestReport {
    let mut report = TwinIngestReport::default();
    // SAFETY: three columns of equal length, valid report pointer.
    let r = unsafe {
        twin_twin_ingest_batch(
            t,
            times.as_ptr(),
            ids.as_ptr(),
            values.as_ptr(),
            times.len(),
            &mut report,
        )
    };
    assert_eq!(r, TwinResult::Ok);
    report
}

#[test]
fn the_c_quickstart_schema_is_the_standard_conveyor_schema() {
    let standard = twin::entity::ConveyorDrive::standard_schema();
    assert_eq!(twin::Schema::from_json(CONVEYOR).expect("json"), standard);
    // The C example carries the schema as a string literal between two markers.
    let src = include_str!("../../examples/c/quickstart.c");
    let start = src.find("/* BEGIN SCHEMA */").expect("begin marker");
    let end = src.find("/* END SCHEMA */").expect("end marker");
    let json: String = src[start..end]
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (a, b) = (l.find('"')?, l.rfind('"')?);
            (a < b).then(|| l[a + 1..b].replace("\\\"", "\""))
        })
        .collect();
    assert_eq!(twin::Schema::from_json(&json).expect("C json"), standard);
}

#[test]
fn schema_errors_have_their_codes_and_leave_out_untouched() {
    let sentinel = std::ptr::without_provenance_mut::<TwinSchema>(0x1234);
    let mut out = sentinel;
    let bad = "{\"name\": \"x\", \"telemetry\": [{\"name\": \"a\", \"min\": 2, \"max\": 1}]}";
    // SAFETY: valid arguments; the schema is refused.
    let r = unsafe { twin_schema_from_json(c(bad), bad.len(), &mut out) };
    assert_eq!((r, out), (TwinResult::Schema, sentinel));
    assert!(
        last_error().starts_with("twin_schema_from_json: schema error: a: min 2 is above max 1")
    );
    let not_json = "{not json";
    // SAFETY: valid arguments.
    let r = unsafe { twin_schema_from_json(c(not_json), not_json.len(), &mut out) };
    assert_eq!((r, out), (TwinResult::Schema, sentinel));
    let invalid = b"{\"name\": \"\xff\"}";
    // SAFETY: valid arguments; the bytes are not UTF-8.
    let r = unsafe { twin_schema_from_json(invalid.as_ptr().cast(), invalid.len(), &mut out) };
    assert_eq!((r, out), (TwinResult::InvalidUtf8, sentinel));
    // SAFETY: NULL json with a length, and NULL out: refused before any use.
    let r = unsafe { twin_schema_from_json(null(), 3, &mut out) };
    assert_eq!((r, out), (TwinResult::NullParameter, sentinel));
    assert_eq!(
        last_error(),
        "twin_schema_from_json: parameter `json` is NULL but its length is 3"
    );
    // SAFETY: NULL out is refused.
    let r = unsafe { twin_schema_from_json(c(CONVEYOR), CONVEYOR.len(), null_mut()) };
    assert_eq!(r, TwinResult::NullParameter);
    // An empty document is a schema error, not a NULL one.
    // SAFETY: NULL with length 0 is an empty string.
    let r = unsafe { twin_schema_from_json(null(), 0, &mut out) };
    assert_eq!((r, out), (TwinResult::Schema, sentinel));
}

#[test]
fn schema_lookups() {
    let s = schema();
    assert_eq!(signal(s, "vibration"), 1);
    assert_eq!(signal(s, "speed_setpoint"), 4);
    let mut id = 77u32;
    // SAFETY: valid arguments; unknown name.
    let r = unsafe { twin_schema_signal_id(s, c("rpm"), 3, &mut id) };
    assert_eq!((r, id), (TwinResult::UnknownSignal, 77));
    let bad = b"vib\xc3";
    // SAFETY: valid arguments; truncated UTF-8.
    let r = unsafe { twin_schema_signal_id(s, bad.as_ptr().cast(), bad.len(), &mut id) };
    assert_eq!((r, id), (TwinResult::InvalidUtf8, 77));
    // SAFETY: NULL schema, NULL name, NULL out: each refused.
    unsafe {
        assert_eq!(
            twin_schema_signal_id(null(), c("load"), 4, &mut id),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_schema_signal_id(s, null(), 4, &mut id),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_schema_signal_id(s, c("load"), 4, null_mut()),
            TwinResult::NullParameter
        );
    }
    assert_eq!(id, 77);
    let mut n = 99usize;
    // SAFETY: valid arguments.
    unsafe {
        assert_eq!(twin_schema_signal_count(s, &mut n), TwinResult::Ok);
        assert_eq!(n, 5);
        assert_eq!(twin_schema_command_count(s, &mut n), TwinResult::Ok);
        assert_eq!(n, 1);
        assert_eq!(
            twin_schema_command_id(s, c("set_speed"), 9, &mut id),
            TwinResult::Ok
        );
        assert_eq!(id, 0);
        assert_eq!(
            twin_schema_signal_count(null(), &mut n),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_schema_signal_count(s, null_mut()),
            TwinResult::NullParameter
        );
    }
    // Names out: length query, too small, exact.
    let mut buf = [b'#' as c_char; 16];
    let mut len = 0usize;
    // SAFETY: valid arguments.
    unsafe {
        assert_eq!(
            twin_schema_signal_name(s, 2, null_mut(), 0, &mut len),
            TwinResult::Ok
        );
        assert_eq!(len, "motor_temp".len());
        len = 5;
        let r = twin_schema_signal_name(s, 2, buf.as_mut_ptr(), 10, &mut len);
        assert_eq!((r, len), (TwinResult::BufferTooSmall, 5));
        assert!(buf.iter().all(|&b| b == b'#' as c_char));
        let r = twin_schema_signal_name(s, 9, buf.as_mut_ptr(), 16, &mut len);
        assert_eq!((r, len), (TwinResult::UnknownSignal, 5));
        assert_eq!(
            twin_schema_signal_name(s, 2, buf.as_mut_ptr(), 11, &mut len),
            TwinResult::Ok
        );
        assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str(), Ok("motor_temp"));
        assert_eq!(len, 10);
    }
    // SAFETY: frees the schema once; NULL is a no-op.
    unsafe {
        twin_schema_free(s);
        twin_schema_free(null_mut());
        twin_twin_free(null_mut());
    }
}

#[test]
fn batch_counts_and_rejections_reconcile() {
    let s = schema();
    let t = new_twin(s);
    let (speed, vib, load) = (
        signal(s, "belt_speed"),
        signal(s, "vibration"),
        signal(s, "load"),
    );
    // 0 ok, 1 ok, 2 NaN, 3 unknown id, 4 out of order, 5 duplicate, 6 conflict,
    // 7 out of range, 8 ok, 9 infinite.
    let times = [10, 10, 11, 11, 5, 10, 10, 12, 12, 13];
    let ids = [speed, vib, vib, 42, speed, vib, vib, load, load, load];
    let values = [
        1.0,
        2.0,
        f64::NAN,
        1.0,
        1.0,
        2.0,
        2.5,
        7.0,
        0.5,
        f64::INFINITY,
    ];
    let report = ingest(t, &times, &ids, &values);
    assert_eq!(
        report,
        TwinIngestReport {
            accepted: 3,
            rejected: 7
        }
    );
    let mut buf = [TwinRejection {
        index: 999,
        reason: TwinResult::Ok,
    }; 8];
    let mut n = 0usize;
    // SAFETY: too small a buffer: nothing written.
    let r = unsafe { twin_twin_last_rejections(t, buf.as_mut_ptr(), 6, &mut n) };
    assert_eq!((r, n, buf[0].index), (TwinResult::BufferTooSmall, 0, 999));
    // SAFETY: large enough.
    let r = unsafe { twin_twin_last_rejections(t, buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!((r, n), (TwinResult::Ok, 7));
    let got: Vec<(usize, TwinResult)> = buf[..n].iter().map(|r| (r.index, r.reason)).collect();
    assert_eq!(
        got,
        vec![
            (2, TwinResult::NonFinite),
            (3, TwinResult::UnknownSignal),
            (4, TwinResult::OutOfOrder),
            (5, TwinResult::Duplicate),
            (6, TwinResult::TimestampConflict),
            (7, TwinResult::OutOfRange),
            (9, TwinResult::NonFinite),
        ]
    );
    let mut value = -1.0;
    let mut counters = TwinCounters::default();
    // SAFETY: valid arguments.
    unsafe {
        assert_eq!(twin_twin_reported(t, load, &mut value), TwinResult::Ok);
        assert_eq!(value, 0.5);
        assert_eq!(twin_twin_counters(t, &mut counters), TwinResult::Ok);
    }
    assert_eq!(
        (counters.received, counters.accepted, counters.rejected),
        (10, 3, 7)
    );
    assert_eq!((counters.non_finite, counters.out_of_range), (2, 1));
    // Single samples give the specific code and replace the rejection list.
    // SAFETY: live twin.
    unsafe {
        assert_eq!(twin_twin_ingest(t, 4, vib, 1.0), TwinResult::OutOfOrder);
        assert!(last_error().starts_with("twin_twin_ingest: out-of-order sample for vibration"));
        assert_eq!(
            twin_twin_last_rejections(t, buf.as_mut_ptr(), 1, &mut n),
            TwinResult::Ok
        );
        assert_eq!(
            (n, buf[0].index, buf[0].reason),
            (1, 0, TwinResult::OutOfOrder)
        );
        assert_eq!(twin_twin_ingest(t, 20, 99, 1.0), TwinResult::UnknownSignal);
        assert_eq!(
            twin_twin_ingest(t, 20, vib, f64::NAN),
            TwinResult::NonFinite
        );
        assert_eq!(twin_twin_ingest(t, 20, vib, -1.0), TwinResult::OutOfRange);
        assert_eq!(twin_twin_ingest(t, 10, vib, 2.0), TwinResult::Duplicate);
        assert_eq!(twin_twin_ingest(t, 20, vib, 2.1), TwinResult::Ok);
        assert_eq!(
            twin_twin_last_rejections(t, null_mut(), 0, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 0);
        twin_twin_free(t);
        twin_schema_free(s);
    }
}

#[test]
fn null_and_bad_arguments_leave_outputs_untouched() {
    let s = schema();
    let t = new_twin(s);
    let times = [1i64];
    let ids = [0u32];
    let values = [1.0f64];
    let untouched = TwinIngestReport {
        accepted: 77,
        rejected: 77,
    };
    let mut report = untouched;
    let mut n = 55usize;
    let mut v = 3.5f64;
    let mut out_twin = std::ptr::without_provenance_mut::<TwinTwin>(0x10);
    // SAFETY: every call below has one NULL pointer, refused before any use.
    unsafe {
        assert_eq!(
            twin_twin_new(null(), &mut out_twin),
            TwinResult::NullParameter
        );
        assert_eq!(out_twin, std::ptr::without_provenance_mut::<TwinTwin>(0x10));
        assert_eq!(twin_twin_new(s, null_mut()), TwinResult::NullParameter);
        for (tw, a, b, cc, len) in [
            (null_mut(), times.as_ptr(), ids.as_ptr(), values.as_ptr(), 1),
            (t, null(), ids.as_ptr(), values.as_ptr(), 1),
            (t, times.as_ptr(), null(), values.as_ptr(), 1),
            (t, times.as_ptr(), ids.as_ptr(), null(), 1),
        ] {
            assert_eq!(
                twin_twin_ingest_batch(tw, a, b, cc, len, &mut report),
                TwinResult::NullParameter
            );
        }
        let r = twin_twin_ingest_batch(
            t,
            times.as_ptr(),
            ids.as_ptr(),
            values.as_ptr(),
            1,
            null_mut(),
        );
        assert_eq!(r, TwinResult::NullParameter);
        assert_eq!(report, untouched);
        // Nothing was ingested by the refused calls.
        assert_eq!(twin_twin_reported(t, 0, &mut v), TwinResult::NotFound);
        assert_eq!(v, 3.5);
        assert!(last_error().contains("has not been reported yet"));
        assert_eq!(twin_twin_reported(t, 17, &mut v), TwinResult::UnknownSignal);
        assert_eq!(
            twin_twin_reported(null(), 0, &mut v),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_reported(t, 0, null_mut()),
            TwinResult::NullParameter
        );
        assert_eq!(v, 3.5);
        // Empty batches may pass NULL columns.
        assert_eq!(
            twin_twin_ingest_batch(t, null(), null(), null(), 0, &mut report),
            TwinResult::Ok
        );
        assert_eq!(
            report,
            TwinIngestReport {
                accepted: 0,
                rejected: 0
            }
        );
        assert_eq!(
            twin_twin_ingest(null_mut(), 0, 0, 1.0),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_insight_count(null(), &mut n),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_insight_count(t, null_mut()),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_drain_insights(t, null_mut(), 4, &mut n),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_drain_insights(null_mut(), null_mut(), 0, &mut n),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_last_rejections(t, null_mut(), 1, &mut n),
            TwinResult::NullParameter
        );
        assert_eq!(twin_twin_counters(t, null_mut()), TwinResult::NullParameter);
        assert_eq!(
            twin_twin_command(null_mut(), c("set_speed"), 9, 1.0, 0),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_command(t, null(), 9, 1.0, 0),
            TwinResult::NullParameter
        );
        let bad = b"set_\xffspeed";
        let r = twin_twin_command(t, bad.as_ptr().cast(), bad.len(), 1.0, 0);
        assert_eq!(r, TwinResult::InvalidUtf8);
        assert_eq!(
            twin_twin_take_commands(t, null_mut(), 3, &mut n),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_pending_command_count(t, null_mut()),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_snapshot_json(t, null_mut(), 0, null_mut()),
            TwinResult::NullParameter
        );
        assert_eq!(n, 55);
        // A misaligned column is refused too.
        // The buffer is 8-aligned, so one byte in is misaligned wherever the
        // stack (or miri's randomised allocator) places it.
        let raw = [0u64; 3];
        let misaligned = raw.as_ptr().cast::<u8>().wrapping_add(1).cast::<i64>();
        let r =
            twin_twin_ingest_batch(t, misaligned, ids.as_ptr(), values.as_ptr(), 1, &mut report);
        assert_eq!(r, TwinResult::InvalidInput);
        twin_twin_free(t);
        twin_schema_free(s);
    }
}

/// Forty quiet vibration samples, then a spike above the alarm limit, then back to normal.
fn spike_run(t: *mut TwinTwin, vib: u32) {
    let times: Vec<i64> = (0..42).map(|i| i * SEC).collect();
    let ids = vec![vib; 42];
    let mut values: Vec<f64> = (0..42).map(|i| 2.0 + 0.01 * (i % 5) as f64).collect();
    values[40] = 30.0;
    assert_eq!(ingest(t, &times, &ids, &values).accepted, 42);
}

#[test]
fn a_spike_gives_three_insights_and_partial_drains_lose_none() {
    let s = schema();
    let t = new_twin(s);
    let vib = signal(s, "vibration");
    spike_run(t, vib);
    let mut n = 0usize;
    // SAFETY: live twin, valid out pointer.
    assert_eq!(
        unsafe { twin_twin_insight_count(t, &mut n) },
        TwinResult::Ok
    );
    assert_eq!(n, 3);
    let blank = TwinInsight {
        time_ns: -1,
        signal: 99,
        kind: TwinInsightKind::Other,
        value: 0.0,
        score: 0.0,
    };
    let mut buf = [blank; 2];
    let mut got = Vec::new();
    // SAFETY: buffer of 2, valid out pointers.
    unsafe {
        assert_eq!(
            twin_twin_drain_insights(t, buf.as_mut_ptr(), 2, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 2);
        got.extend_from_slice(&buf[..n]);
        let mut left = 0usize;
        assert_eq!(twin_twin_insight_count(t, &mut left), TwinResult::Ok);
        assert_eq!(left, 1);
        // A partial drain leaves the rest pending in the twin, where snapshots keep them.
        let mut len = 0usize;
        assert_eq!(
            twin_twin_snapshot_json(t, null_mut(), 0, &mut len),
            TwinResult::Ok
        );
        assert!(len > 0);
        assert_eq!(
            twin_twin_drain_insights(t, null_mut(), 0, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 0);
        assert_eq!(
            twin_twin_drain_insights(t, buf.as_mut_ptr(), 2, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 1);
        got.extend_from_slice(&buf[..n]);
        assert_eq!(twin_twin_insight_count(t, &mut left), TwinResult::Ok);
        assert_eq!(left, 0);
    }
    let kinds: Vec<(i64, TwinInsightKind)> =
        got.iter().map(|i| (i.time_ns / SEC, i.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (40, TwinInsightKind::AlarmHigh),
            (40, TwinInsightKind::Anomaly),
            (41, TwinInsightKind::AlarmCleared),
        ]
    );
    assert_eq!(
        (got[0].signal, got[0].value, got[0].score),
        (vib, 30.0, 4.5)
    );
    assert!(got[1].score > 4.0);
    // SAFETY: frees once.
    unsafe {
        twin_twin_free(t);
        twin_schema_free(s);
    }
}

#[test]
fn commands_are_validated_and_taken_all_or_nothing() {
    let s = schema();
    let t = new_twin(s);
    let sp = signal(s, "speed_setpoint");
    let name = "set_speed";
    let mut n = 0usize;
    let mut v = -1.0;
    let blank = TwinCommand {
        time_ns: -1,
        seq: 0,
        value: 0.0,
        command: 99,
    };
    let mut buf = [blank; 2];
    // SAFETY: valid arguments throughout.
    unsafe {
        assert_eq!(twin_twin_desired(t, sp, &mut v), TwinResult::NotFound);
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), 1.5, 0),
            TwinResult::Ok
        );
        assert_eq!(twin_twin_desired(t, sp, &mut v), TwinResult::Ok);
        assert_eq!(v, 1.5);
        assert_eq!(twin_twin_desired(t, 0, &mut v), TwinResult::InvalidInput);
        // Beyond the limits, too soon, too fast, unknown, NaN: all refused.
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), 2.6, 100 * SEC),
            TwinResult::OutOfRange
        );
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), 1.5, SEC / 2),
            TwinResult::RateLimited
        );
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), 2.0, 2 * SEC),
            TwinResult::RateLimited
        );
        assert!(last_error()
            .starts_with("twin_twin_command: command set_speed refused by its rate limit"));
        assert_eq!(
            twin_twin_command(t, c("stop"), 4, 0.0, 2 * SEC),
            TwinResult::UnknownSignal
        );
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), f64::NAN, 2 * SEC),
            TwinResult::NonFinite
        );
        // 0.05 m/s per second over 10 s allows 0.5.
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), 2.0, 10 * SEC),
            TwinResult::Ok
        );
        assert_eq!(twin_twin_pending_command_count(t, &mut n), TwinResult::Ok);
        assert_eq!(n, 2);
        n = 7;
        assert_eq!(
            twin_twin_take_commands(t, buf.as_mut_ptr(), 1, &mut n),
            TwinResult::BufferTooSmall
        );
        assert_eq!((n, buf[0]), (7, blank));
        assert_eq!(
            twin_twin_take_commands(t, buf.as_mut_ptr(), 2, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 2);
        assert_eq!(
            buf[0],
            TwinCommand {
                time_ns: 0,
                seq: 1,
                value: 1.5,
                command: 0
            }
        );
        assert_eq!(
            buf[1],
            TwinCommand {
                time_ns: 10 * SEC,
                seq: 2,
                value: 2.0,
                command: 0
            }
        );
        assert_eq!(twin_twin_pending_command_count(t, &mut n), TwinResult::Ok);
        assert_eq!(n, 0);
        let mut counters = TwinCounters::default();
        assert_eq!(twin_twin_counters(t, &mut counters), TwinResult::Ok);
        assert_eq!(
            (
                counters.commands_accepted,
                counters.commands_refused,
                counters.commands_taken
            ),
            (2, 5, 2)
        );
        twin_twin_free(t);
        twin_schema_free(s);
    }
}

#[test]
fn snapshot_round_trip_carries_on_like_the_original() {
    let s = schema();
    let a = new_twin(s);
    let vib = signal(s, "vibration");
    spike_run(a, vib);
    let mut len = 0usize;
    // SAFETY: valid arguments throughout.
    unsafe {
        assert_eq!(
            twin_twin_snapshot_json(a, null_mut(), 0, &mut len),
            TwinResult::Ok
        );
        let mut json = vec![b'#' as c_char; len + 1];
        let mut got = 0usize;
        let r = twin_twin_snapshot_json(a, json.as_mut_ptr(), len, &mut got);
        assert_eq!((r, got), (TwinResult::BufferTooSmall, 0));
        assert_eq!(json[0], b'#' as c_char);
        assert_eq!(
            twin_twin_snapshot_json(a, json.as_mut_ptr(), len + 1, &mut got),
            TwinResult::Ok
        );
        assert_eq!((got, json[len]), (len, 0));
        let mut b = null_mut();
        assert_eq!(
            twin_twin_restore_json(s, json.as_ptr(), len, &mut b),
            TwinResult::Ok
        );
        // Both twins see the same next spike, and the restored one kept the pending insights.
        for t in [a, b] {
            assert_eq!(twin_twin_ingest(t, 42 * SEC, vib, 40.0), TwinResult::Ok);
        }
        let mut na = 0usize;
        let mut nb = 0usize;
        assert_eq!(twin_twin_insight_count(a, &mut na), TwinResult::Ok);
        assert_eq!(twin_twin_insight_count(b, &mut nb), TwinResult::Ok);
        assert_eq!((na, nb), (5, 5));
        let mut sentinel = std::ptr::without_provenance_mut::<TwinTwin>(0x20);
        let r = twin_twin_restore_json(s, c("{\"format\": 1}"), 13, &mut sentinel);
        assert_eq!(
            (r, sentinel),
            (
                TwinResult::Serialization,
                std::ptr::without_provenance_mut::<TwinTwin>(0x20)
            )
        );
        twin_twin_free(a);
        twin_twin_free(b);
        twin_schema_free(s);
    }
}

/// A fieldbus stand-in behind a C connection: samples to hand out, commands received, and
/// switches to make either callback fail.
struct Bus {
    queue: Vec<(i64, u32, f64)>,
    received: Vec<TwinCommand>,
    poll_code: u32,
    send_code: u32,
    overrun: bool,
}

unsafe extern "C" fn bus_poll(
    user: *mut std::ffi::c_void,
    times: *mut i64,
    signals: *mut u32,
    values: *mut f64,
    cap: usize,
    written: *mut usize,
) -> u32 {
    // SAFETY: the tests pass a live `Bus` as user data.
    let bus = unsafe { &mut *user.cast::<Bus>() };
    if bus.poll_code != 0 {
        return bus.poll_code;
    }
    let n = bus.queue.len().min(cap);
    for (i, (t, s, v)) in bus.queue.drain(..n).enumerate() {
        // SAFETY: `i < cap`, the buffers hold `cap` elements.
        unsafe {
            times.add(i).write(t);
            signals.add(i).write(s);
            values.add(i).write(v);
        }
    }
    // SAFETY: valid out pointer.
    unsafe { written.write(if bus.overrun { cap + 1 } else { n }) };
    0
}

unsafe extern "C" fn bus_send(user: *mut std::ffi::c_void, cmd: *const TwinCommand) -> u32 {
    // SAFETY: the tests pass a live `Bus` as user data and the twin a live command.
    let (bus, cmd) = unsafe { (&mut *user.cast::<Bus>(), *cmd) };
    if bus.send_code != 0 {
        return bus.send_code;
    }
    bus.received.push(cmd);
    0
}

#[test]
fn a_c_connection_feeds_the_twin_and_carries_its_commands() {
    let s = schema();
    let t = new_twin(s);
    let (speed, vib) = (signal(s, "belt_speed"), signal(s, "vibration"));
    let mut cmd_id = u32::MAX;
    let name = "set_speed";
    // The bus is reached only through this raw pointer (as C would), so that the test's
    // own accesses do not invalidate the pointer the callbacks use.
    let bus_ptr: *mut Bus = Box::into_raw(Box::new(Bus {
        queue: vec![
            (SEC, speed, 1.5),
            (SEC, vib, 2.0),
            (2 * SEC, vib, f64::NAN),
            (2 * SEC, 77, 1.0),
            (3 * SEC, vib, 2.1),
        ],
        received: Vec::new(),
        poll_code: 0,
        send_code: 0,
        overrun: false,
    }));
    let conn = TwinConnection {
        user_data: bus_ptr.cast(),
        poll: Some(bus_poll),
        send: Some(bus_send),
    };
    let untouched = TwinStepReport {
        polled: 99,
        ..TwinStepReport::default()
    };
    let mut report = untouched;
    let mut rej = [TwinRejection {
        index: 99,
        reason: TwinResult::Ok,
    }; 4];
    let mut n = 0;
    // SAFETY: live handles, valid pointers; the bus outlives every call and is freed last.
    unsafe {
        let bus = bus_ptr;
        assert_eq!(
            twin_schema_command_id(s, c(name), name.len(), &mut cmd_id),
            TwinResult::Ok
        );
        // Four of the five samples fit; a NaN and an unknown signal are refused.
        assert_eq!(twin_twin_step(t, &conn, 4, &mut report), TwinResult::Ok);
        assert_eq!(
            report,
            TwinStepReport {
                polled: 4,
                accepted: 2,
                rejected: 2,
                sent: 0,
                send_failed: 0
            }
        );
        assert_eq!(
            twin_twin_last_rejections(t, rej.as_mut_ptr(), 4, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 2);
        assert_eq!((rej[0].index, rej[0].reason), (2, TwinResult::NonFinite));
        assert_eq!(
            (rej[1].index, rej[1].reason),
            (3, TwinResult::UnknownSignal)
        );
        // A command goes out through the send callback on the next step.
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), 1.4, 3 * SEC),
            TwinResult::Ok
        );
        assert_eq!(twin_twin_step(t, &conn, 4, &mut report), TwinResult::Ok);
        assert_eq!((report.polled, report.accepted, report.sent), (1, 1, 1));
        let received = &(*bus).received;
        assert_eq!(received.len(), 1);
        assert_eq!(
            (received[0].command, received[0].value, received[0].seq),
            (cmd_id, 1.4, 1)
        );
        // A refused hand-over is counted, not lost silently, and does not fail the step.
        (*bus).send_code = 7;
        assert_eq!(
            twin_twin_command(t, c(name), name.len(), 1.3, 10 * SEC),
            TwinResult::Ok
        );
        assert_eq!(twin_twin_step(t, &conn, 4, &mut report), TwinResult::Ok);
        assert_eq!((report.polled, report.sent, report.send_failed), (0, 0, 1));
        let mut counters = TwinCounters::default();
        assert_eq!(twin_twin_counters(t, &mut counters), TwinResult::Ok);
        assert_eq!(counters.accepted, 3);
        assert_eq!(
            (counters.commands_taken, counters.commands_send_failed),
            (1, 1)
        );
        // A source that is gone, or a callback that overruns its buffer: an error, and the
        // report is left alone.
        (*bus).poll_code = TwinResult::Disconnected as u32;
        report = untouched;
        assert_eq!(
            twin_twin_step(t, &conn, 4, &mut report),
            TwinResult::Disconnected
        );
        assert!(last_error().contains("gone"), "{}", last_error());
        (*bus).poll_code = 5;
        assert_eq!(twin_twin_step(t, &conn, 4, &mut report), TwinResult::Io);
        assert!(last_error().contains("returned 5"), "{}", last_error());
        (*bus).poll_code = 0;
        (*bus).overrun = true;
        (*bus).queue.push((20 * SEC, vib, 2.0));
        assert_eq!(
            twin_twin_step(t, &conn, 4, &mut report),
            TwinResult::InvalidInput
        );
        assert_eq!(report, untouched);
        (*bus).overrun = false;
        // Bad arguments.
        assert_eq!(
            twin_twin_step(null_mut(), &conn, 4, &mut report),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_step(t, null(), 4, &mut report),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_step(t, &conn, 4, null_mut()),
            TwinResult::NullParameter
        );
        let no_poll = TwinConnection { poll: None, ..conn };
        assert_eq!(
            twin_twin_step(t, &no_poll, 4, &mut report),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_twin_step(t, &conn, TWIN_MAX_STEP_SAMPLES + 1, &mut report),
            TwinResult::InvalidInput
        );
        assert_eq!(report, untouched);
        // Still usable afterwards.
        (*bus).queue.push((30 * SEC, vib, 2.2));
        assert_eq!(twin_twin_step(t, &conn, 4, &mut report), TwinResult::Ok);
        assert_eq!((report.polled, report.accepted), (1, 1));
        twin_twin_free(t);
        twin_schema_free(s);
        drop(Box::from_raw(bus));
    }
}

#[test]
fn fleet_calls_with_null_or_bad_arguments_leave_outputs_untouched() {
    let s = schema();
    let mut f = null_mut();
    let mut len = 77usize;
    let mut v = -7.0;
    let mut counters = TwinCounters::default();
    let mut report = TwinIngestReport {
        accepted: 9,
        rejected: 9,
    };
    let name = "set_speed";
    // SAFETY: arguments valid except where NULL or wrong on purpose.
    unsafe {
        assert_eq!(twin_fleet_new(0, &mut f), TwinResult::InvalidInput);
        assert!(f.is_null());
        assert_eq!(twin_fleet_new(2, null_mut()), TwinResult::NullParameter);
        assert_eq!(twin_fleet_new(2, &mut f), TwinResult::Ok);
        assert_eq!(
            twin_fleet_insert(null_mut(), 1, s),
            TwinResult::NullParameter
        );
        assert_eq!(twin_fleet_insert(f, 1, null()), TwinResult::NullParameter);
        assert_eq!(twin_fleet_insert(f, 1, s), TwinResult::Ok);
        assert_eq!(twin_fleet_len(f, null_mut()), TwinResult::NullParameter);
        assert_eq!(twin_fleet_len(null(), &mut len), TwinResult::NullParameter);
        assert_eq!(len, 77);
        let (ids, t, sig, val) = ([1u64, 2], [0i64, 0], [0u32, 0], [1.0f64, 1.0]);
        assert_eq!(
            twin_fleet_ingest_batch(
                f,
                null(),
                t.as_ptr(),
                sig.as_ptr(),
                val.as_ptr(),
                2,
                &mut report
            ),
            TwinResult::NullParameter
        );
        assert_eq!((report.accepted, report.rejected), (9, 9));
        assert_eq!(
            twin_fleet_ingest_batch(
                f,
                ids.as_ptr(),
                t.as_ptr(),
                sig.as_ptr(),
                val.as_ptr(),
                2,
                &mut report
            ),
            TwinResult::Ok
        );
        assert_eq!((report.accepted, report.rejected), (1, 1));
        assert_eq!(
            twin_fleet_last_rejections(f, null_mut(), 3, &mut len),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_fleet_reported(f, 2, 0, &mut v),
            TwinResult::UnknownTwin
        );
        assert!(last_error().contains("no twin 2"), "{}", last_error());
        assert_eq!(
            twin_fleet_reported(f, 1, 0, null_mut()),
            TwinResult::NullParameter
        );
        assert_eq!(twin_fleet_reported(f, 1, 1, &mut v), TwinResult::NotFound);
        assert_eq!(v, -7.0);
        assert_eq!(twin_fleet_reported(f, 1, 0, &mut v), TwinResult::Ok);
        assert_eq!(v, 1.0);
        assert_eq!(
            twin_fleet_counters(f, 5, &mut counters),
            TwinResult::UnknownTwin
        );
        assert_eq!(counters.received, 0);
        assert_eq!(
            twin_fleet_command(f, 1, null(), 3, 1.0, 0),
            TwinResult::NullParameter
        );
        assert_eq!(
            twin_fleet_command(f, 1, c(name), name.len(), f64::NAN, 0),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_fleet_snapshot_json(f, null_mut(), 0, null_mut()),
            TwinResult::NullParameter
        );
        let mut out = std::ptr::without_provenance_mut::<TwinFleet>(0x40);
        assert_eq!(
            twin_fleet_restore_json(s, 1, c("[]"), 2, &mut out),
            TwinResult::Serialization
        );
        assert_eq!(out, std::ptr::without_provenance_mut::<TwinFleet>(0x40));
        let bad = [0xffu8, 0xfe];
        assert_eq!(
            twin_fleet_restore_json(s, 1, bad.as_ptr().cast(), 2, &mut out),
            TwinResult::InvalidUtf8
        );
        assert_eq!(twin_fleet_remove(f, 3), TwinResult::UnknownTwin);
        let mut dropped = 5u64;
        assert_eq!(twin_fleet_insights_dropped(f, &mut dropped), TwinResult::Ok);
        assert_eq!(dropped, 0);
        twin_fleet_free(null_mut());
        twin_fleet_free(f);
        twin_schema_free(s);
    }
}
