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

/// Regression (found by fuzz/fuzz_targets/c_api.rs): huge but finite values used to
/// overflow a drift detector's warm-up statistics to infinity; the detector then saved a
/// document (`"m2": null`) that it could not load back. Every detector must stay finite,
/// keep working and round-trip through its saved JSON whatever finite values it sees.
#[test]
fn huge_finite_values_keep_every_detector_saveable() {
    use twin::analytics::detect::{
        Cusum, Ensemble, EwmaDetector, HalfSpaceTrees, PageHinkley, Persist, RobustZScore,
        StreamingDetector,
    };
    fn feed<D: StreamingDetector + Persist>(mut d: D, name: &str) {
        // Skipped (beyond 1e100) and learnt (up to 1e100) values, alternating in sign, so the
        // warm-up completes and the scoring paths see extreme deviations too.
        let huge = [1e300, -1e100, 1.7e308, 1e100, -9e99, 5.0, -1e200, 1e99];
        for i in 0..300 {
            let det = d.update(huge[i % huge.len()] * if i % 3 == 0 { 1.0 } else { -0.5 });
            assert!(
                (0.0..=1.0).contains(&det.likelihood),
                "{name}: likelihood {}",
                det.likelihood
            );
            if i % 10 != 9 {
                continue;
            }
            let json = d.to_json().expect("to_json");
            let back = D::from_json(&json)
                .unwrap_or_else(|e| panic!("{name} after {i} values: {e}\n{json}"));
            assert_eq!(back.to_json().expect("to_json"), json, "{name}");
        }
        // Still usable: an ordinary value is scored.
        let det = d.update(1.0);
        assert!((0.0..=1.0).contains(&det.likelihood), "{name}");
    }
    feed(EwmaDetector::default(), "ewma");
    feed(RobustZScore::default(), "robust_z");
    feed(Cusum::default(), "cusum");
    feed(PageHinkley::default(), "page_hinkley");
    feed(HalfSpaceTrees::default(), "hst");
    feed(Ensemble::default(), "ensemble");
}

/// The bad-input matrix (tests/bad_input.tsv) on the Rust surface; the same table runs
/// through C (tests/c/test_bad_input.c) and Python (tests/python/test_bad_input.py).
mod matrix {
    use twin::analytics::detect::{EwmaDetector, Persist};
    use twin::fleet::{Fleet, FleetBatchRef};
    use twin::{BatchRef, ErrorKind, Sample, Schema, SignalId, Timestamp, Twin};

    pub struct Row {
        pub case: String,
        pub surfaces: String,
        pub op: String,
        pub payload: Vec<u8>,
        pub expected: String,
    }

    /// Decode the TSV escapes: \t \n \\ \xNN.
    fn unescape(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && i + 1 < b.len() {
                match b[i + 1] {
                    b't' => out.push(b'\t'),
                    b'n' => out.push(b'\n'),
                    b'\\' => out.push(b'\\'),
                    b'x' => {
                        let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("hex escape");
                        out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                        i += 2;
                    }
                    other => panic!("unknown escape \\{}", other as char),
                }
                i += 2;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    pub fn load() -> (String, Vec<Row>) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad_input.tsv");
        let text = std::fs::read_to_string(path).expect("tests/bad_input.tsv");
        let mut schema = None;
        let mut rows = Vec::new();
        for line in text.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(s) = line.strip_prefix("@schema\t") {
                schema = Some(s.to_string());
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "row {line:?} needs 5 columns");
            rows.push(Row {
                case: f[0].into(),
                surfaces: f[1].into(),
                op: f[2].into(),
                payload: unescape(f[3]),
                expected: f[4].into(),
            });
        }
        (schema.expect("@schema line"), rows)
    }

    fn num(s: &str) -> f64 {
        match s {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            _ => s.parse().expect("number"),
        }
    }

    /// Apply a restore/model mutation to a saved document.
    pub fn mutate(doc: &str, m: &str) -> String {
        let (what, arg) = m.split_once(' ').unwrap_or((m, ""));
        match what {
            "truncate" => doc[..arg.parse::<usize>().expect("n")].to_string(),
            "flip" => {
                let mut b = doc.as_bytes().to_vec();
                let back: usize = arg.trim_start_matches('-').parse().expect("n");
                let i = b.len() - back;
                b[i] ^= 1;
                String::from_utf8(b).expect("ascii document")
            }
            "version" => {
                let at = doc.find("\"version\":").expect("version field") + 10;
                let rest = &doc[at..];
                let skip = rest.len() - rest.trim_start().len();
                let digits = rest[skip..].bytes().take_while(u8::is_ascii_digit).count();
                format!("{}{}{}", &doc[..at + skip], arg, &rest[skip + digits..])
            }
            "text" => arg.to_string(),
            other => panic!("unknown mutation {other}"),
        }
    }

    fn primed(schema: &Schema) -> Twin {
        let mut t = Twin::builder(schema.clone()).build().expect("twin");
        for (name, v) in [("pressure", 10.0), ("vibration", 1.0)] {
            let id = schema.signal_id(name).expect("id");
            t.ingest(Sample::new(Timestamp(1000), id, v))
                .expect("primer");
        }
        t
    }

    fn sample(schema: &Schema, words: &[&str]) -> Result<Sample, twin::Error> {
        let id = match words[0].strip_prefix('#') {
            Some(n) => SignalId(n.parse().expect("id")),
            None => schema.signal_id(words[0])?,
        };
        Ok(Sample::new(
            Timestamp(words[1].parse().expect("time")),
            id,
            num(words[2]),
        ))
    }

    /// Run one row; the error kind it gave, and how many samples it refused.
    fn run(schema: &Schema, twin: &mut Twin, row: &Row) -> (Option<ErrorKind>, u64) {
        let text = std::str::from_utf8(&row.payload).expect("Rust rows are UTF-8");
        let words: Vec<&str> = text.split(' ').collect();
        let kind = |r: Result<(), twin::Error>| r.err().map(|e| e.kind());
        match row.op.as_str() {
            "schema" => (kind(Schema::from_json(text).map(drop)), 0),
            "ingest" => {
                // A name not in the schema is refused before any sample reaches the twin.
                match sample(schema, &words) {
                    Ok(s) => (kind(twin.ingest(s)), 1),
                    Err(e) => (Some(e.kind()), 0),
                }
            }
            "batch" => {
                let cols: Vec<&str> = text.split('|').collect();
                let times: Vec<i64> = cols[0].split(',').map(|x| x.parse().expect("t")).collect();
                let sigs: Vec<u32> = cols[1].split(',').map(|x| x.parse().expect("s")).collect();
                let vals: Vec<f64> = cols[2].split(',').map(num).collect();
                let r = BatchRef::new(&times, &sigs, &vals).map(|b| {
                    twin.ingest_batch(b);
                });
                (kind(r), 0)
            }
            "command" => {
                let steps: Vec<&str> = text.split(';').collect();
                for (i, step) in steps.iter().enumerate() {
                    let w: Vec<&str> = step.split(' ').collect();
                    let r = twin.command(w[0], num(w[1]), Timestamp(w[2].parse().expect("t")));
                    if i + 1 < steps.len() {
                        r.unwrap_or_else(|e| panic!("{}: step {i} refused: {e}", row.case));
                    } else {
                        return (kind(r.map(drop)), 0);
                    }
                }
                unreachable!("a command row has a step")
            }
            "desired" => {
                let v = twin.state().version();
                let first = twin.set_desired(words[0], num(words[1]), Timestamp(2000), Some(v));
                if words[2] == "current" {
                    return (kind(first.map(drop)), 0);
                }
                first.unwrap_or_else(|e| panic!("{}: first write refused: {e}", row.case));
                let second =
                    twin.set_desired(words[0], num(words[1]) + 1.0, Timestamp(3000), Some(v));
                (kind(second.map(drop)), 0)
            }
            "restore" => {
                let doc = twin.snapshot().expect("snapshot").to_json().expect("json");
                let bad = mutate(&doc, text);
                let r = twin::TwinSnapshot::from_json(&bad)
                    .and_then(|s| Twin::builder(schema.clone()).restore(s));
                (kind(r.map(drop)), 0)
            }
            "model" => {
                let doc = EwmaDetector::default().to_json().expect("json");
                (
                    kind(EwmaDetector::from_json(&mutate(&doc, text)).map(drop)),
                    0,
                )
            }
            "fleet" => {
                let mut fleet = Fleet::new(1).expect("fleet");
                fleet.insert(1, primed(schema)).expect("insert");
                let p = schema.signal_id("pressure").expect("id").0;
                let ids = [words[0].parse::<u64>().expect("id")];
                let times = [words[1].parse::<i64>().expect("t")];
                let report = fleet.ingest_batch(
                    FleetBatchRef::new(&ids, &times, &[p], &[num(words[2])]).expect("batch"),
                );
                assert_eq!(report.accepted + report.rejected(), 1);
                let k = report.rejections.first().map(|r| r.kind);
                // The fleet's own twin stays usable.
                let ok = fleet.ingest_batch(
                    FleetBatchRef::new(&[1], &[9_000_000_000], &[p], &[42.0]).expect("batch"),
                );
                assert_eq!(ok.accepted, 1, "{}: fleet twin unusable", row.case);
                (k, 0)
            }
            "sim" => (
                kind(twin::sim::Scenario::from_json(text).and_then(|s| s.validate())),
                0,
            ),
            other => panic!("unknown op {other}"),
        }
    }

    /// The expected kind on one surface: the cell's first word, unless a `surface:kind`
    /// word overrides it.
    fn expected_on(cell: &str, surface: char) -> &str {
        let mut words = cell.split(' ');
        let first = words.next().unwrap_or("");
        words
            .find_map(|w| w.strip_prefix(surface).and_then(|r| r.strip_prefix(':')))
            .unwrap_or(first)
    }

    #[test]
    fn bad_input_matrix_rust() {
        let (schema_json, rows) = load();
        let schema = Schema::from_json(&schema_json).expect("base schema");
        let pressure = schema.signal_id("pressure").expect("id");
        let mut ran = 0;
        let mut wrong = Vec::new();
        for row in rows.iter().filter(|r| r.surfaces.contains('r')) {
            let mut twin = primed(&schema);
            let (got, refused) = run(&schema, &mut twin, row);
            let got = got.map(ErrorKind::as_str).unwrap_or("ok");
            let expected = expected_on(&row.expected, 'r');
            if got != expected {
                wrong.push(format!("{}: got {got}, expected {expected}", row.case));
            }
            // Still usable, and nothing lost uncounted.
            twin.ingest(Sample::new(Timestamp(9_000_000_000), pressure, 42.0))
                .unwrap_or_else(|e| panic!("{}: twin unusable afterwards: {e}", row.case));
            let c = twin.ingest_counters();
            let rejected = if row.op == "ingest" { refused } else { 0 };
            assert_eq!(
                (c.received, c.accepted, c.rejected()),
                (3 + rejected, 3, rejected),
                "{}: counters",
                row.case
            );
            assert!(
                twin.pending_commands()
                    .iter()
                    .all(|cmd| (0.0..=40.0).contains(&cmd.value())),
                "{}",
                row.case
            );
            ran += 1;
        }
        assert!(
            wrong.is_empty(),
            "{} of {ran} rows wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        assert!(ran >= 40, "only {ran} rows ran on Rust");
    }
}
