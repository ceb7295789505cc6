//! Bad input on the Rust surface: every refusal is a typed error, and nothing is lost
//! without being counted.

use twin::connection::{channel, DataConnection, OverflowPolicy};
use twin::entity::ConveyorDrive;
use twin::{BatchRef, ErrorKind, Outcome, Sample, SampleBatch, Schema, SignalId, Timestamp, Twin};

fn twin() -> Twin {
    Twin::builder(ConveyorDrive::standard_schema())
        .build()
        .expect("twin")
}

#[test]
fn batch_report_lists_every_refusal_with_index_and_reason() {
    let mut t = twin();
    let s = t.schema().clone();
    let vib = s.signal_id("vibration").expect("id").0;
    let load = s.signal_id("load").expect("id").0;
    let times = [10, 20, 20, 20, 15, 30, 40, 50, 60, 70];
    let signals = [vib, vib, vib, vib, vib, 99, load, load, load, vib];
    let values = [
        1.0,
        1.1,
        1.1,
        1.2,
        1.3,
        1.0,
        f64::NAN,
        5.0,
        0.5,
        f64::INFINITY,
    ];
    let report = t.ingest_batch(BatchRef::new(&times, &signals, &values).expect("batch"));
    let got: Vec<(usize, ErrorKind)> = report
        .rejections
        .iter()
        .map(|r| (r.index, r.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, ErrorKind::Duplicate),
            (3, ErrorKind::TimestampConflict),
            (4, ErrorKind::OutOfOrder),
            (5, ErrorKind::UnknownSignal),
            (6, ErrorKind::NonFinite),
            (7, ErrorKind::OutOfRange),
            (9, ErrorKind::NonFinite),
        ]
    );
    assert_eq!(report.accepted, 3);
    assert_eq!(report.total(), times.len());
    let c = t.ingest_counters();
    assert_eq!((c.received, c.accepted, c.rejected()), (10, 3, 7));
    assert_eq!(
        (c.duplicate, c.timestamp_conflict, c.out_of_order),
        (1, 1, 1)
    );
    assert_eq!((c.unknown_signal, c.non_finite, c.out_of_range), (1, 2, 1));
    assert_eq!(t.state().reported(SignalId(vib)), Some(1.1));
    assert_eq!(t.state().reported(SignalId(load)), Some(0.5));
}

#[test]
fn duplicate_deliveries_are_idempotent() {
    let mut drive = ConveyorDrive::new(5);
    let mut once = twin();
    let mut twice = twin();
    let mut b = SampleBatch::new();
    use twin::entity::PhysicalEntity;
    for _ in 0..200 {
        drive.advance(60.0).expect("advance");
        b.clear();
        drive.sense(&mut b);
        once.ingest_batch(b.as_ref());
        let first = twice.ingest_batch(b.as_ref());
        let again = twice.ingest_batch(b.as_ref());
        assert_eq!(first.accepted, b.len());
        assert_eq!(again.accepted, 0);
        assert!(again
            .rejections
            .iter()
            .all(|r| r.kind == ErrorKind::Duplicate));
    }
    assert_eq!(once.state(), twice.state());
    assert_eq!(
        once.ingest_counters().accepted,
        twice.ingest_counters().accepted
    );
    assert_eq!(twice.ingest_counters().duplicate, 1000);
}

#[test]
fn single_ingest_errors_name_the_signal() {
    let mut t = twin();
    let load = t.schema().signal_id("load").expect("id");
    t.ingest(Sample::new(Timestamp(100), load, 0.5))
        .expect("ok");
    let cases = [
        (
            Sample::new(Timestamp(50), load, 0.5),
            ErrorKind::OutOfOrder,
            "load",
        ),
        (
            Sample::new(Timestamp(100), load, 0.5),
            ErrorKind::Duplicate,
            "load",
        ),
        (
            Sample::new(Timestamp(100), load, 0.6),
            ErrorKind::TimestampConflict,
            "load",
        ),
        (
            Sample::new(Timestamp(200), load, f64::NAN),
            ErrorKind::NonFinite,
            "load",
        ),
        (
            Sample::new(Timestamp(200), load, 3.0),
            ErrorKind::OutOfRange,
            "load",
        ),
        (
            Sample::new(Timestamp(200), SignalId(77), 1.0),
            ErrorKind::UnknownSignal,
            "77",
        ),
    ];
    for (s, kind, needle) in cases {
        let e = t.ingest(s).expect_err("refused");
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
    let c = t.ingest_counters();
    assert_eq!((c.received, c.accepted, c.rejected()), (7, 1, 6));
}

#[test]
fn mismatched_columns_are_refused() {
    let e = BatchRef::new(&[1, 2], &[0], &[1.0, 2.0]).expect_err("lengths differ");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn malformed_schema_json_is_a_schema_error() {
    for bad in [
        "",
        "{",
        "[]",
        r#"{"name": "x", "telemetry": [{"unit": "m"}]}"#,
        r#"{"name": "x", "telemetry": [{"name": "a", "min": "low"}]}"#,
    ] {
        let e = Schema::from_json(bad).expect_err(bad);
        assert_eq!(e.kind(), ErrorKind::Schema, "{bad}: {e}");
    }
}

#[test]
fn unsafe_commands_are_refused_logged_and_never_sent() {
    let mut t = twin();
    let (device, mut conn) = channel(16, OverflowPolicy::Reject).expect("channel");
    let s = Timestamp::NANOS_PER_SEC;
    t.command("set_speed", 2.0, Timestamp(0))
        .expect("within limits");
    let refused = [
        (
            t.command("set_speed", 2.6, Timestamp(100 * s)),
            ErrorKind::OutOfRange,
        ),
        (
            t.command("set_speed", -0.1, Timestamp(100 * s)),
            ErrorKind::OutOfRange,
        ),
        (
            t.command("set_speed", f64::NAN, Timestamp(100 * s)),
            ErrorKind::NonFinite,
        ),
        // 0.05 m/s per second: 1.0 m/s needs 20 s, only 10 s passed.
        (
            t.command("set_speed", 1.0, Timestamp(10 * s)),
            ErrorKind::RateLimited,
        ),
        // Less than the 1 s minimum interval.
        (
            t.command("set_speed", 2.0, Timestamp(s / 2)),
            ErrorKind::RateLimited,
        ),
        (
            t.command("open_valve", 1.0, Timestamp(100 * s)),
            ErrorKind::UnknownSignal,
        ),
    ];
    for (r, kind) in refused {
        assert_eq!(r.expect_err("refused").kind(), kind);
    }
    t.command("set_speed", 1.0, Timestamp(20 * s))
        .expect("at the rate limit");
    let (sent, failed) = t.flush(&mut conn);
    assert_eq!((sent, failed), (2, 0));
    let got: Vec<f64> = device
        .try_recv_commands()
        .iter()
        .map(|c| c.value())
        .collect();
    assert_eq!(got, vec![2.0, 1.0]);
    let cc = t.command_counters();
    assert_eq!((cc.accepted, cc.refused, cc.sent), (2, 6, 2));
    let refused_logged = t
        .audit_log()
        .filter(|e| matches!(e.outcome, Outcome::Refused { .. }))
        .count();
    assert_eq!(refused_logged, 6);
    let sp = t.schema().signal_id("speed_setpoint").expect("id");
    assert_eq!(t.state().desired(sp), Some(1.0));
}

#[test]
fn a_full_channel_refuses_or_counts_and_loses_nothing() {
    let mut t = twin();
    let vib = t.schema().signal_id("vibration").expect("id");
    for policy in [OverflowPolicy::Reject, OverflowPolicy::DropOldest] {
        let (device, mut conn) = channel(8, policy).expect("channel");
        let mut refused = 0;
        let base = t.now().map_or(0, |n| n.0 + 1);
        for i in 0..20 {
            match device.publish(Sample::new(Timestamp(base + i), vib, 1.0 + i as f64 * 0.01)) {
                Ok(()) => {}
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::ChannelFull);
                    refused += 1;
                }
            }
        }
        let report = t.step(&mut conn, 100).expect("step");
        let st = device.stats();
        assert_eq!(report.polled, 8);
        assert_eq!(st.sent + st.refused, 20, "{policy:?}");
        assert_eq!(st.delivered + st.dropped, st.sent, "{policy:?}");
        assert_eq!(st.refused, refused);
        match policy {
            OverflowPolicy::Reject => assert_eq!((st.refused, st.dropped), (12, 0)),
            _ => assert_eq!((st.refused, st.dropped), (0, 12)),
        }
    }
    // A channel whose device end is gone delivers what is queued, then says so.
    let (device, mut conn) = channel(2, OverflowPolicy::Reject).expect("channel");
    device
        .publish(Sample::new(Timestamp(1), vib, 1.0))
        .expect("publish");
    drop(device);
    let mut b = SampleBatch::new();
    assert_eq!(conn.poll(&mut b, 10).expect("queued sample"), 1);
    let e = conn.poll(&mut b, 10).expect_err("gone");
    assert_eq!(e.kind(), ErrorKind::Disconnected);
    let cmd = twin()
        .command("set_speed", 1.0, Timestamp(0))
        .expect("valid");
    assert_eq!(
        conn.send(&cmd).expect_err("no device").kind(),
        ErrorKind::Disconnected
    );
    assert!(channel(0, OverflowPolicy::Block).is_err());
}

#[test]
fn optimistic_concurrency_on_desired_state() {
    let mut t = twin();
    let v0 = t.state().version();
    let v1 = t
        .set_desired("speed_setpoint", 1.5, Timestamp(0), Some(v0))
        .expect("first writer");
    let e = t
        .set_desired("speed_setpoint", 1.2, Timestamp(0), Some(v0))
        .expect_err("stale writer");
    assert_eq!(e.kind(), ErrorKind::VersionConflict);
    t.set_desired("speed_setpoint", 1.2, Timestamp(0), Some(v1))
        .expect("fresh writer");
    assert_eq!(
        t.set_desired("vibration", 1.0, Timestamp(0), None)
            .expect_err("telemetry")
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        t.set_desired("speed_setpoint", 9.0, Timestamp(0), None)
            .expect_err("range")
            .kind(),
        ErrorKind::OutOfRange
    );
    let delta = t.state().delta();
    assert_eq!(delta.len(), 1);
    assert_eq!((delta[0].desired, delta[0].reported), (1.2, None));
}
