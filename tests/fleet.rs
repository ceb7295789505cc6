//! Fleets: the outcome does not depend on the number of threads and equals feeding each
//! twin on its own; every sample is accounted for; membership, limits and snapshots.

use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::fleet::{Fleet, FleetBatchRef, FleetSnapshot};
use twin::{BatchRef, ErrorKind, Schema, SignalSpec, Twin, TwinBuilder};

fn schema() -> Schema {
    Schema::builder("pump")
        .telemetry(
            SignalSpec::new("flow", "m3/h")
                .range(0.0, 500.0)
                .alarm_high(420.0),
        )
        .telemetry(
            SignalSpec::new("vibration", "mm/s")
                .range(0.0, 50.0)
                .alarm_high(4.5),
        )
        .build()
        .expect("schema")
}

fn builder() -> TwinBuilder {
    let s = schema();
    let monitor = EwmaMonitor::new(&s, MonitorConfig::default()).expect("monitor");
    Twin::builder(s).engine(monitor)
}

fn fleet(n: u64, threads: usize) -> Fleet {
    let mut f = Fleet::new(threads).expect("fleet");
    for id in 0..n {
        f.insert(1000 + 7 * id, builder().build().expect("twin"))
            .expect("insert");
    }
    f
}

struct Columns {
    twins: Vec<u64>,
    times: Vec<i64>,
    signals: Vec<u32>,
    values: Vec<f64>,
}

impl Columns {
    fn batch(&self) -> FleetBatchRef<'_> {
        FleetBatchRef::new(&self.twins, &self.times, &self.signals, &self.values).expect("batch")
    }
}

/// `n` samples for twins `0..twins` (ids `1000 + 7 i`), with about 1% for unknown ids,
/// 0.5% NaN, 0.5% out of range, and a vibration spike now and then. Times advance per
/// twin and signal so most samples are accepted.
fn columns(n: usize, twins: u64, seed: u64) -> Columns {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut clock = vec![0i64; (twins * 2) as usize];
    let mut c = Columns {
        twins: Vec::with_capacity(n),
        times: Vec::with_capacity(n),
        signals: Vec::with_capacity(n),
        values: Vec::with_capacity(n),
    };
    for _ in 0..n {
        let r = next();
        let unit = (r >> 8) % twins;
        let signal = ((r >> 40) & 1) as u32;
        let roll = (r >> 44) % 1000;
        let id = if roll < 10 { 5 + roll } else { 1000 + 7 * unit };
        let slot = (unit * 2 + u64::from(signal)) as usize;
        clock[slot] += 1_000_000 + ((r >> 50) % 1000) as i64;
        let base = if signal == 0 { 300.0 } else { 2.0 };
        let noise = ((next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.1 * base;
        let value = match roll {
            10..=14 => f64::NAN,
            15..=19 => -1.0,
            20 => base * 3.0,
            _ => base + noise,
        };
        c.twins.push(id);
        c.times.push(clock[slot]);
        c.signals.push(signal);
        c.values.push(value);
    }
    c
}

fn snapshot_json(f: &Fleet) -> String {
    serde_json::to_string(&f.snapshot().expect("snapshot")).expect("json")
}

#[test]
fn the_outcome_does_not_depend_on_the_number_of_threads() {
    let data = columns(60_000, 150, 1);
    let mut reference = fleet(150, 1);
    let r1 = reference.ingest_batch(data.batch());
    let s1 = snapshot_json(&reference);
    let i1 = reference.drain_insights();
    assert!(i1.len() > 50, "spikes and alarms are found: {}", i1.len());
    for threads in [2, 3, 8] {
        let mut f = fleet(150, threads);
        let r = f.ingest_batch(data.batch());
        assert_eq!(r, r1, "{threads} threads");
        assert_eq!(snapshot_json(&f), s1, "{threads} threads");
        assert_eq!(f.drain_insights(), i1, "{threads} threads");
    }
}

#[test]
fn a_fleet_equals_feeding_each_twin_on_its_own() {
    let data = columns(20_000, 40, 2);
    let mut f = fleet(40, 2);
    let report = f.ingest_batch(data.batch());
    for id in (0..40).map(|i| 1000 + 7 * i) {
        let mut alone = builder().build().expect("twin");
        let mine: Vec<usize> = (0..data.twins.len())
            .filter(|&i| data.twins[i] == id)
            .collect();
        let t: Vec<i64> = mine.iter().map(|&i| data.times[i]).collect();
        let s: Vec<u32> = mine.iter().map(|&i| data.signals[i]).collect();
        let v: Vec<f64> = mine.iter().map(|&i| data.values[i]).collect();
        let r = alone.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
        // The same refusals, at the same places of the fleet batch.
        let fleet_rej: Vec<(usize, ErrorKind)> = report
            .rejections
            .iter()
            .filter(|x| x.twin == id)
            .map(|x| (x.index, x.kind))
            .collect();
        let alone_rej: Vec<(usize, ErrorKind)> = r
            .rejections
            .iter()
            .map(|x| (mine[x.index], x.kind))
            .collect();
        assert_eq!(fleet_rej, alone_rej, "twin {id}");
        let member = f.get(id).expect("member");
        assert_eq!(
            serde_json::to_string(&member.snapshot().expect("snap")).expect("json"),
            serde_json::to_string(&alone.snapshot().expect("snap")).expect("json"),
            "twin {id}"
        );
    }
}

#[test]
fn every_sample_is_accounted_for() {
    let data = columns(30_000, 64, 3);
    let mut f = fleet(64, 2);
    let r = f.ingest_batch(data.batch());
    assert_eq!(r.accepted + r.rejected(), data.twins.len());
    let unknown = data.twins.iter().filter(|&&id| id < 1000).count();
    assert!(unknown > 200, "{unknown}");
    assert_eq!(r.count(ErrorKind::UnknownTwin), unknown);
    let nan = data
        .values
        .iter()
        .zip(&data.twins)
        .filter(|(v, &id)| v.is_nan() && id >= 1000)
        .count();
    assert_eq!(r.count(ErrorKind::NonFinite), nan);
    // The members' own counters add up to the fleet's report.
    let (mut accepted, mut received) = (0u64, 0u64);
    for id in f.ids() {
        let c = f.get(id).expect("member").ingest_counters();
        accepted += c.accepted;
        received += c.received;
    }
    assert_eq!(accepted as usize, r.accepted);
    assert_eq!(received as usize, data.twins.len() - unknown);
    // Rejections are in batch order and point at the right twin.
    assert!(r.rejections.windows(2).all(|w| w[0].index < w[1].index));
    assert!(r.rejections.iter().all(|x| data.twins[x.index] == x.twin));
}

#[test]
fn membership_limits_and_bad_batches() {
    let mut f = Fleet::new(2).expect("fleet").with_limit(3);
    for id in [1, 2, 3] {
        f.insert(id, builder().build().expect("twin"))
            .expect("insert");
    }
    let again = f
        .insert(2, builder().build().expect("twin"))
        .expect_err("refused");
    assert_eq!(again.kind(), ErrorKind::InvalidInput);
    let full = f
        .insert(4, builder().build().expect("twin"))
        .expect_err("refused");
    assert_eq!(full.kind(), ErrorKind::LimitExceeded);
    assert_eq!(
        full.to_string(),
        "limit exceeded: max_twins is 3, got 4",
        "{full}"
    );
    assert_eq!(f.len(), 3);
    // Removing from the middle keeps every other id reachable.
    f.remove(1).expect("remove");
    assert_eq!(f.ids(), vec![2, 3]);
    assert!(f.get(1).is_none() && f.get(3).is_some());
    assert_eq!(
        f.remove(1).expect_err("refused").kind(),
        ErrorKind::UnknownTwin
    );
    let r = f.ingest_batch(
        FleetBatchRef::new(&[3, 1], &[0, 0], &[0, 0], &[100.0, 100.0]).expect("batch"),
    );
    assert_eq!(r.accepted, 1);
    assert_eq!(
        (r.rejections[0].index, r.rejections[0].kind),
        (1, ErrorKind::UnknownTwin)
    );
    assert_eq!(
        FleetBatchRef::new(&[3], &[0, 1], &[0, 0], &[1.0, 1.0])
            .expect_err("refused")
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        Fleet::new(0).expect_err("refused").kind(),
        ErrorKind::InvalidInput
    );
    // An empty batch and an empty fleet are fine.
    let r = f.ingest_batch(FleetBatchRef::new(&[], &[], &[], &[]).expect("batch"));
    assert_eq!((r.accepted, r.rejected()), (0, 0));
    let mut empty = Fleet::new(4).expect("fleet");
    let r = empty.ingest_batch(FleetBatchRef::new(&[9], &[0], &[0], &[1.0]).expect("batch"));
    assert_eq!(r.count(ErrorKind::UnknownTwin), 1);
}

#[test]
fn a_restored_fleet_carries_on_like_the_original() {
    let first = columns(10_000, 20, 4);
    let second = columns(10_000, 20, 5);
    // The second half must come after the first in time: shift it.
    let shift = *first.times.iter().max().expect("times") + 1;
    let second = Columns {
        times: second.times.iter().map(|t| t + shift).collect(),
        ..second
    };
    let mut whole = fleet(20, 2);
    whole.ingest_batch(first.batch());
    let expected = whole.ingest_batch(second.batch());

    let mut f = fleet(20, 2);
    f.ingest_batch(first.batch());
    let json = snapshot_json(&f);
    let snap: FleetSnapshot = serde_json::from_str(&json).expect("parse");
    let mut back = Fleet::restore(3, snap, |_| Ok(builder())).expect("restore");
    assert_eq!(back.ingest_batch(second.batch()), expected);
    assert_eq!(snapshot_json(&back), snapshot_json(&whole));
}

#[test]
fn twin_count_cap_at_below_and_above() {
    let mut f = Fleet::new(1).expect("fleet").with_limit(2);
    assert_eq!(f.max_twins(), 2);
    f.insert(1, builder().build().expect("twin"))
        .expect("below");
    f.insert(2, builder().build().expect("twin")).expect("at");
    let e = f
        .insert(3, builder().build().expect("twin"))
        .expect_err("above");
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    assert_eq!(f.len(), 2);
    // Room again after a removal.
    f.remove(1).expect("remove");
    f.insert(3, builder().build().expect("twin")).expect("room");
    assert_eq!(f.ids(), vec![2, 3]);
    // A zero cap admits nobody.
    let mut none = Fleet::new(1).expect("fleet").with_limit(0);
    assert_eq!(
        none.insert(1, builder().build().expect("twin"))
            .expect_err("zero")
            .kind(),
        ErrorKind::LimitExceeded
    );
}

#[test]
fn fleet_batch_cap_at_below_and_above() {
    let mut f = Fleet::new(2)
        .expect("fleet")
        .with_max_batch_samples(4)
        .expect("cap");
    for id in [1, 2] {
        f.insert(id, builder().build().expect("twin"))
            .expect("insert");
    }
    let ids = [1, 2, 1, 2, 1];
    let times = [0, 0, 1, 1, 2];
    let values = [100.0, 100.0, 110.0, 110.0, 120.0];
    let mut offer = |n: usize| {
        f.ingest_batch(
            FleetBatchRef::new(&ids[..n], &times[..n], &[0; 5][..n], &values[..n]).expect("batch"),
        )
    };
    let below = offer(3);
    assert_eq!((below.accepted, below.rejected()), (3, 0));
    let above = offer(5);
    assert_eq!(
        (above.accepted, above.count(ErrorKind::LimitExceeded)),
        (0, 5)
    );
    assert!(above
        .rejections
        .iter()
        .enumerate()
        .all(|(i, r)| r.index == i && r.twin == ids[i]));
    // The refused batch reached no twin: the one at the cap then takes the fourth sample.
    let at = offer(4);
    assert_eq!(at.accepted, 1);
    // (twin 1 at t=0 is now out of order, the two repeats are duplicates)
    assert_eq!(at.count(ErrorKind::Duplicate), 2);
    assert_eq!(at.count(ErrorKind::OutOfOrder), 1);
    let total: u64 = [1, 2]
        .iter()
        .map(|&id| f.get(id).expect("twin").ingest_counters().received)
        .sum();
    assert_eq!(total, 3 + 4);
    assert_eq!(
        f.check_batch(5).expect_err("over").to_string(),
        "limit exceeded: max_batch_samples is 4, got 5"
    );
    assert_eq!(
        Fleet::new(1)
            .expect("fleet")
            .with_max_batch_samples(0)
            .expect_err("zero")
            .kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn each_twin_batch_cap_applies_to_its_part_of_a_fleet_batch() {
    let limits = twin::TwinLimits {
        max_batch_samples: 2,
        ..twin::TwinLimits::default()
    };
    let mut f = Fleet::new(2).expect("fleet");
    f.insert(1, builder().limits(limits).build().expect("twin"))
        .expect("insert");
    f.insert(2, builder().build().expect("twin"))
        .expect("insert");
    let r = f.ingest_batch(
        FleetBatchRef::new(
            &[1, 2, 1, 2, 1],
            &[0, 0, 1, 1, 2],
            &[0; 5],
            &[100.0, 100.0, 110.0, 110.0, 120.0],
        )
        .expect("batch"),
    );
    // Twin 1 got three samples, one more than its cap: all three refused; twin 2 took two.
    assert_eq!((r.accepted, r.count(ErrorKind::LimitExceeded)), (2, 3));
    assert!(r
        .rejections
        .iter()
        .all(|x| x.twin == 1 && x.kind == ErrorKind::LimitExceeded));
    let c = f.get(1).expect("twin").ingest_counters();
    assert_eq!((c.received, c.limit_exceeded, c.accepted), (3, 3, 0));
}
