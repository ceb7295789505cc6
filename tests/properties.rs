//! Property tests (proptest) of the twin's invariants over random streams:
//! - a snapshot then restore, mid-stream, ends exactly where an uninterrupted run ends;
//! - redelivering samples already delivered changes nothing but the refusal counters;
//! - no command that leaves the twin is outside its limits or its rate limits;
//! - ingest counts always reconcile, per batch and in the running totals.

use proptest::prelude::*;
use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{
    BatchRef, CommandSpec, ErrorKind, Schema, SignalSpec, Timestamp, Twin, TwinBuilder,
    TwinSnapshot,
};

const SEC: i64 = 1_000_000_000;

fn schema() -> Schema {
    Schema::builder("press")
        .telemetry(
            SignalSpec::new("pressure", "bar")
                .range(0.0, 400.0)
                .alarm_high(250.0),
        )
        .telemetry(
            SignalSpec::new("vibration", "mm/s")
                .range(0.0, 100.0)
                .alarm_high(4.5),
        )
        .property(SignalSpec::new("stroke_rate", "1/min").range(0.0, 60.0))
        .command(
            CommandSpec::new("set_stroke_rate", "1/min", 5.0, 40.0)
                .max_rate(0.5)
                .min_interval(2.0)
                .property("stroke_rate"),
        )
        .build()
        .expect("schema")
}

fn builder() -> TwinBuilder {
    let s = schema();
    let monitor = EwmaMonitor::new(&s, MonitorConfig::default()).expect("monitor");
    Twin::builder(s).engine(monitor)
}

/// One delivered sample: time step from the previous sample of the stream (may be 0 or
/// negative, to produce duplicates, conflicts and out-of-order samples), signal (3 is
/// unknown), and a value (sometimes NaN or out of range, sometimes a spike).
#[derive(Debug, Clone)]
struct Raw {
    dt_ms: i64,
    signal: u32,
    value: f64,
}

fn raw() -> impl Strategy<Value = Raw> {
    let value = prop_oneof![
        8 => 0.0f64..10.0,
        1 => 100.0f64..300.0,
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-5.0), Just(1e9)],
    ];
    let dt = prop_oneof![8 => 1i64..2000, 1 => Just(0i64), 1 => -500i64..0];
    (dt, prop_oneof![9 => 0u32..3, 1 => Just(3u32)], value).prop_map(|(dt_ms, signal, value)| Raw {
        dt_ms,
        signal,
        value,
    })
}

fn columns(raw: &[Raw]) -> (Vec<i64>, Vec<u32>, Vec<f64>) {
    let mut t = 0i64;
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for r in raw {
        t += r.dt_ms * 1_000_000;
        out.0.push(t);
        out.1.push(r.signal);
        out.2.push(r.value);
    }
    out
}

fn snapshot_json(t: &Twin) -> String {
    t.snapshot().and_then(|s| s.to_json()).expect("snapshot")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn restore_mid_stream_equals_an_uninterrupted_run(
        stream in prop::collection::vec(raw(), 1..400),
        cut in 0usize..400,
    ) {
        let (t, s, v) = columns(&stream);
        let cut = cut.min(t.len());
        let mut whole = builder().build().expect("twin");
        let r_all = whole.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));

        let mut first = builder().build().expect("twin");
        let r1 = first.ingest_batch(BatchRef::new(&t[..cut], &s[..cut], &v[..cut]).expect("batch"));
        let snap = TwinSnapshot::from_json(&snapshot_json(&first)).expect("parse");
        let mut second = builder().restore(snap).expect("restore");
        let r2 = second.ingest_batch(BatchRef::new(&t[cut..], &s[cut..], &v[cut..]).expect("batch"));

        prop_assert_eq!(r1.accepted + r2.accepted, r_all.accepted);
        let mut kinds: Vec<(usize, ErrorKind)> = r1.rejections.iter().map(|r| (r.index, r.kind)).collect();
        kinds.extend(r2.rejections.iter().map(|r| (r.index + cut, r.kind)));
        let all: Vec<(usize, ErrorKind)> = r_all.rejections.iter().map(|r| (r.index, r.kind)).collect();
        prop_assert_eq!(kinds, all);
        prop_assert_eq!(snapshot_json(&second), snapshot_json(&whole));
    }

    #[test]
    fn redelivery_changes_nothing_but_refusal_counts(
        stream in prop::collection::vec(raw(), 1..300),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..100),
    ) {
        let (t, s, v) = columns(&stream);
        let mut once = builder().build().expect("twin");
        once.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        let state_before = once.state().clone();
        let insights_before: Vec<_> = once.insights().copied().collect();
        let accepted_before = once.ingest_counters().accepted;

        // Redeliver a random selection of what was already delivered, in any order.
        let idx: Vec<usize> = picks.iter().map(|p| p.index(t.len())).collect();
        let rt: Vec<i64> = idx.iter().map(|&i| t[i]).collect();
        let rs: Vec<u32> = idx.iter().map(|&i| s[i]).collect();
        let rv: Vec<f64> = idx.iter().map(|&i| v[i]).collect();
        let again = once.ingest_batch(BatchRef::new(&rt, &rs, &rv).expect("batch"));

        prop_assert_eq!(again.accepted, 0);
        prop_assert_eq!(again.rejected(), idx.len());
        prop_assert_eq!(once.state(), &state_before);
        prop_assert_eq!(once.insights().copied().collect::<Vec<_>>(), insights_before);
        prop_assert_eq!(once.ingest_counters().accepted, accepted_before);
    }

    #[test]
    fn commands_that_leave_the_twin_respect_every_limit(
        requests in prop::collection::vec(
            (0i64..5_000, prop_oneof![
                6 => -10.0f64..60.0,
                1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
            ]),
            1..200,
        ),
    ) {
        let mut twin = builder().build().expect("twin");
        let mut time = 0i64;
        let mut accepted = 0usize;
        for (dt_ms, value) in &requests {
            time += dt_ms * 1_000_000;
            if twin.command("set_stroke_rate", *value, Timestamp(time)).is_ok() {
                accepted += 1;
            }
        }
        let sent = twin.take_commands();
        prop_assert_eq!(sent.len(), accepted);
        for c in &sent {
            prop_assert!(c.value().is_finite() && (5.0..=40.0).contains(&c.value()), "{c:?}");
        }
        for w in sent.windows(2) {
            let dt = (w[1].time().0 - w[0].time().0) as f64 / SEC as f64;
            prop_assert!(dt >= 2.0, "interval {dt}");
            prop_assert!((w[1].value() - w[0].value()).abs() <= 0.5 * dt * (1.0 + 1e-9) + 1e-9);
            prop_assert_eq!(w[1].seq(), w[0].seq() + 1);
        }
        let c = twin.command_counters();
        prop_assert_eq!(c.accepted as usize + c.refused as usize, requests.len());
    }

    #[test]
    fn ingest_counts_reconcile(
        batches in prop::collection::vec(prop::collection::vec(raw(), 0..120), 1..6),
    ) {
        let mut twin = builder().build().expect("twin");
        let mut offset = 0i64;
        let mut total = 0usize;
        let mut accepted = 0usize;
        for b in &batches {
            let (mut t, s, v) = columns(b);
            t.iter_mut().for_each(|x| *x += offset);
            offset = t.last().copied().unwrap_or(offset);
            let r = twin.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
            prop_assert_eq!(r.accepted + r.rejected(), t.len());
            prop_assert!(r.rejections.windows(2).all(|w| w[0].index < w[1].index));
            total += t.len();
            accepted += r.accepted;
        }
        let c = twin.ingest_counters();
        prop_assert_eq!(c.received as usize, total);
        prop_assert_eq!(c.accepted as usize, accepted);
        let by_kind = c.non_finite + c.unknown_signal + c.out_of_order + c.duplicate
            + c.timestamp_conflict + c.out_of_range;
        prop_assert_eq!(c.accepted + by_kind, c.received);
    }
}
