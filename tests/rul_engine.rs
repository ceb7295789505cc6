//! A fitted RUL model running live inside a twin: the streamed predictions equal the
//! batch predictions on the same history, row by row, through a snapshot and restore, and
//! with a bounded history; bad settings are refused.

use twin::analytics::rul::engine::{RowClock, RulEngine, RulEngineConfig};
use twin::analytics::rul::regression::{FittedRegressionRul, RegressionConfig, RegressionRul};
use twin::analytics::rul::{CalibrationConfig, Fleet, RulPrediction, UnitSeries};
use twin::analytics::InsightKind;
use twin::{ErrorKind, Sample, Schema, SignalId, SignalSpec, Timestamp, Twin, TwinBuilder};

/// Units whose two sensors move with `exp(−RUL/25)` (plus a deterministic ripple).
/// Lives are `90 + 9·(i mod 10)`.
fn unit(id: u64, life: usize) -> UnitSeries {
    let time: Vec<f64> = (1..=life).map(|t| t as f64).collect();
    let mut v = Vec::with_capacity(life * 2);
    for r in 0..life {
        let wear = (-((life - 1 - r) as f64) / 25.0).exp();
        let ripple = (((r as u64 * 37 + id * 11) % 17) as f64 / 17.0 - 0.5) * 0.05;
        v.push(10.0 + 2.0 * wear + ripple);
        v.push(5.0 - wear - ripple);
    }
    UnitSeries::from_row_major(id, time, v, 2).expect("unit")
}

fn model() -> FittedRegressionRul {
    let fleet = Fleet::new(
        (0..20)
            .map(|i| unit(i, 90 + 9 * (i as usize % 10)))
            .collect(),
    )
    .expect("fleet");
    let config = RegressionConfig {
        cap: 80.0,
        calibration: CalibrationConfig {
            folds: 3,
            stride: 4,
            min_history: 10,
            seed: 3,
            threads: 2,
            ..CalibrationConfig::default()
        },
        ..RegressionConfig::default()
    };
    RegressionRul::new(config)
        .expect("config")
        .fit(&fleet)
        .expect("fit")
}

fn schema() -> Schema {
    Schema::builder("engine")
        .telemetry(SignalSpec::new("temp", "K"))
        .telemetry(SignalSpec::new("pressure", "bar"))
        .telemetry(SignalSpec::new("other", "1"))
        .build()
        .expect("schema")
}

fn ids(schema: &Schema) -> [SignalId; 3] {
    ["temp", "pressure", "other"].map(|n| schema.signal_id(n).expect("signal"))
}

fn builder(model: FittedRegressionRul, config: impl FnOnce(&mut RulEngineConfig)) -> TwinBuilder {
    let schema = schema();
    let [temp, pressure, _] = ids(&schema);
    let mut cfg = RulEngineConfig::new(vec![temp, pressure]);
    config(&mut cfg);
    Twin::builder(schema).engine(RulEngine::new(model, cfg).expect("engine"))
}

/// Feed rows `range` of `u` one cycle per second; the unrelated signal in between and the
/// pressure before the temperature, so rows complete on whichever signal comes last.
fn feed(twin: &mut Twin, u: &UnitSeries, range: std::ops::Range<usize>) -> Vec<(i64, f64, f64)> {
    let [temp, pressure, other] = ids(twin.schema());
    for r in range {
        let t = Timestamp::from_secs_f64(r as f64 + 1.0);
        let row = u.values();
        twin.ingest(Sample::new(t, pressure, row[[r, 1]]))
            .expect("pressure");
        twin.ingest(Sample::new(t, other, 1.0)).expect("other");
        twin.ingest(Sample::new(t, temp, row[[r, 0]]))
            .expect("temp");
    }
    twin.drain_insights()
        .into_iter()
        .map(|i| {
            assert_eq!(i.kind, InsightKind::Rul);
            assert_eq!(i.signal, temp);
            (i.time.0, i.value, i.score)
        })
        .collect()
}

fn batch_prediction(m: &FittedRegressionRul, u: &UnitSeries, rows: usize) -> Option<RulPrediction> {
    m.predict(&u.truncated(rows).expect("rows")).ok()
}

#[test]
fn streamed_predictions_equal_batch_predictions_row_by_row() {
    let m = model();
    let u = unit(99, 130);
    let mut twin = builder(m.clone(), |_| {}).build().expect("twin");
    let got = feed(&mut twin, &u, 0..110);
    let expected: Vec<(i64, f64, f64)> = (1..=110)
        .filter_map(|rows| {
            batch_prediction(&m, &u, rows)
                .map(|p| (Timestamp::from_secs_f64(rows as f64).0, p.rul, p.lower))
        })
        .collect();
    assert!(
        expected.len() >= 100,
        "the model predicts from short histories too"
    );
    assert_eq!(got, expected);
    // After 110 of 130 cycles the true RUL is 20: the model is close and its interval
    // holds it.
    let last = batch_prediction(&m, &u, 110).expect("prediction");
    assert!((last.rul - 20.0).abs() < 6.0, "{last:?}");
    assert!(last.covers(20.0), "{last:?}");
    assert_eq!(twin.ingest_counters().accepted, 3 * 110);
}

#[test]
fn every_n_rows_and_a_bounded_history() {
    let m = model();
    let u = unit(98, 120);
    let mut twin = builder(m.clone(), |c| {
        c.every = 5;
        c.max_rows = 40;
    })
    .build()
    .expect("twin");
    let got = feed(&mut twin, &u, 0..100);
    assert_eq!(got.len(), 20, "one prediction per 5 rows");
    for (k, &(time, rul, lower)) in got.iter().enumerate() {
        let rows = 5 * (k + 1);
        assert_eq!(time, Timestamp::from_secs_f64(rows as f64).0);
        // The engine holds only the last 40 rows, keeping their cycle numbers.
        let keep = rows.min(40);
        let start = rows - keep;
        let window = UnitSeries::new(
            u.id(),
            u.time()[start..rows].to_vec(),
            u.values().slice(ndarray::s![start..rows, ..]).to_owned(),
        )
        .expect("window");
        let p = m.predict(&window).expect("prediction");
        assert_eq!((rul, lower), (p.rul, p.lower), "at {rows} rows");
    }
}

#[test]
fn a_restored_twin_continues_exactly() {
    let m = model();
    let u = unit(97, 125);
    let mut whole = builder(m.clone(), |_| {}).build().expect("twin");
    let all = feed(&mut whole, &u, 0..100);

    let mut first = builder(m.clone(), |_| {}).build().expect("twin");
    let mut got = feed(&mut first, &u, 0..57);
    // Leave a half-assembled row in the snapshot.
    let [_, pressure, _] = ids(first.schema());
    first
        .ingest(Sample::new(
            Timestamp::from_secs_f64(58.0),
            pressure,
            u.values()[[57, 1]],
        ))
        .expect("pressure");
    let json = first.snapshot().expect("snapshot").to_json().expect("json");
    let snap = twin::TwinSnapshot::from_json(&json).expect("parse");
    let mut second = builder(m, |_| {}).restore(snap).expect("restore");
    // A redelivered sample is refused as a duplicate and does not disturb the row.
    let [temp, pressure, _] = ids(second.schema());
    let t58 = Timestamp::from_secs_f64(58.0);
    let again = second.ingest(Sample::new(t58, pressure, u.values()[[57, 1]]));
    assert_eq!(again.err().map(|e| e.kind()), Some(ErrorKind::Duplicate));
    second
        .ingest(Sample::new(t58, temp, u.values()[[57, 0]]))
        .expect("temp");
    got.extend(feed(&mut second, &u, 58..100));
    assert_eq!(got, all);
}

#[test]
fn seconds_clock_gives_rul_in_seconds() {
    // Train on a seconds clock: every cycle lasts 10 s.
    let stretch = |u: UnitSeries| {
        let t = u.time().iter().map(|c| c * 10.0).collect();
        UnitSeries::new(u.id(), t, u.values().to_owned()).expect("unit")
    };
    let fleet = Fleet::new(
        (0..20)
            .map(|i| stretch(unit(i, 90 + 9 * (i as usize % 10))))
            .collect(),
    )
    .expect("fleet");
    let config = RegressionConfig {
        cap: 800.0,
        calibration: CalibrationConfig {
            folds: 3,
            stride: 4,
            min_history: 10,
            seed: 3,
            threads: 2,
            ..CalibrationConfig::default()
        },
        ..RegressionConfig::default()
    };
    let m = RegressionRul::new(config)
        .expect("config")
        .fit(&fleet)
        .expect("fit");
    let schema = schema();
    let [temp, pressure, _] = ids(&schema);
    let mut cfg = RulEngineConfig::new(vec![temp, pressure]);
    cfg.clock = RowClock::Seconds;
    let mut twin = Twin::builder(schema)
        .engine(RulEngine::new(m.clone(), cfg).expect("engine"))
        .build()
        .expect("twin");
    let u = unit(96, 130);
    for r in 0..110 {
        let t = Timestamp::from_secs_f64(10.0 * (r as f64 + 1.0));
        twin.ingest_batch(
            twin::BatchRef::new(
                &[t.0, t.0],
                &[temp.0, pressure.0],
                &[u.values()[[r, 0]], u.values()[[r, 1]]],
            )
            .expect("batch"),
        );
    }
    let last = twin.drain_insights().last().copied().expect("prediction");
    let expected = m
        .predict(&stretch(u.truncated(110).expect("rows")))
        .expect("p");
    assert_eq!((last.value, last.score), (expected.rul, expected.lower));
    assert!((last.value - 200.0).abs() < 60.0, "{last:?}");
}

#[test]
fn bad_settings_are_refused() {
    let m = model();
    let schema = schema();
    let [temp, pressure, other] = ids(&schema);
    let kind = |cfg: RulEngineConfig| {
        RulEngine::new(m.clone(), cfg)
            .err()
            .map(|e| e.kind())
            .expect("refused")
    };
    assert_eq!(
        kind(RulEngineConfig::new(vec![temp])),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(RulEngineConfig::new(vec![temp, pressure, other])),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(RulEngineConfig::new(vec![temp, temp])),
        ErrorKind::InvalidInput
    );
    let mut every0 = RulEngineConfig::new(vec![temp, pressure]);
    every0.every = 0;
    assert_eq!(kind(every0), ErrorKind::InvalidInput);
    let mut short = RulEngineConfig::new(vec![temp, pressure]);
    short.max_rows = 1;
    assert_eq!(kind(short), ErrorKind::InvalidInput);
}
