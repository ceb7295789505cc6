//! Concurrency stress: many producer threads feed a fleet of twins through bounded
//! channels under every overflow policy, while one consumer steps the fleet. Every sample
//! is either processed or counted as refused or dropped, and none is processed twice.
//!
//! Also run under ThreadSanitizer by `scripts/tsan.sh`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use twin::connection::{channel, DataConnection, OverflowPolicy};
use twin::fleet::{Fleet, FleetBatchRef};
use twin::{ErrorKind, Sample, SampleBatch, Schema, SignalId, SignalSpec, Timestamp, Twin};

const TWINS: u64 = 6;
const PRODUCERS_PER_TWIN: u32 = 2;
/// Smaller in debug builds (the test command and ThreadSanitizer run those), larger in release.
const PER_PRODUCER: i64 = if cfg!(debug_assertions) {
    3_000
} else {
    20_000
};

fn schema() -> Schema {
    let mut b = Schema::builder("stress");
    for i in 0..PRODUCERS_PER_TWIN {
        b = b.telemetry(SignalSpec::new(format!("s{i}"), "").range(0.0, 1e9));
    }
    b.build().expect("schema")
}

struct Outcome {
    attempted: u64,
    refused_by_producers: u64,
    sent: u64,
    refused: u64,
    dropped: u64,
    delivered: u64,
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    out_of_order: u64,
}

/// Each twin has its own channel shared by two producer threads, each publishing one
/// signal with strictly increasing times; one consumer polls every channel a little at a
/// time and ingests what it gets into the fleet as one batch per round.
fn run(policy: OverflowPolicy, capacity: usize) -> Outcome {
    let schema = schema();
    let mut fleet = Fleet::new(2).expect("fleet");
    let mut ends = Vec::new();
    let mut devices = Vec::new();
    for id in 0..TWINS {
        fleet
            .insert(id, Twin::builder(schema.clone()).build().expect("twin"))
            .expect("insert");
        let (device, twin_end) = channel(capacity, policy).expect("channel");
        ends.push((id, twin_end));
        devices.push(device);
    }
    let refused_by_producers = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for device in &devices {
        for p in 0..PRODUCERS_PER_TWIN {
            let device = device.clone();
            let refused = Arc::clone(&refused_by_producers);
            handles.push(std::thread::spawn(move || {
                for k in 0..PER_PRODUCER {
                    let s = Sample::new(Timestamp(k * 1_000), SignalId(p), k as f64);
                    match device.publish(s) {
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::ChannelFull => {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("publish: {e}"),
                    }
                    if k % 512 == 0 {
                        std::thread::yield_now();
                    }
                }
            }));
        }
    }
    // The producers keep the channels alive through their clones only: once they are
    // done and the queues are empty, each channel reports itself disconnected.
    drop(devices);

    let mut buf = SampleBatch::new();
    let (mut twins, mut times, mut signals, mut values) = (vec![], vec![], vec![], vec![]);
    let (mut accepted, mut rejected, mut delivered) = (0u64, 0u64, 0u64);
    let mut open: Vec<bool> = vec![true; ends.len()];
    loop {
        twins.clear();
        times.clear();
        signals.clear();
        values.clear();
        for (k, (id, end)) in ends.iter_mut().enumerate() {
            buf.clear();
            match end.poll(&mut buf, 7) {
                Ok(n) => {
                    delivered += n as u64;
                    for s in buf.iter() {
                        twins.push(*id);
                        times.push(s.time.0);
                        signals.push(s.signal.0);
                        values.push(s.value);
                    }
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Disconnected);
                    open[k] = false;
                }
            }
        }
        let r = fleet.ingest_batch(
            FleetBatchRef::new(&twins, &times, &signals, &values).expect("fleet batch"),
        );
        accepted += r.accepted as u64;
        rejected += r.rejected() as u64;
        let producers_done = handles.iter().all(|h| h.is_finished());
        if producers_done && open.iter().all(|o| !o) {
            break;
        }
    }
    for h in handles {
        h.join().expect("producer");
    }
    let (mut sent, mut refused, mut dropped, mut delivered_stats) = (0, 0, 0, 0);
    for (_, end) in &ends {
        let s = end.stats();
        sent += s.sent;
        refused += s.refused;
        dropped += s.dropped;
        delivered_stats += s.delivered;
    }
    assert_eq!(delivered_stats, delivered, "channel and consumer agree");
    let (mut duplicates, mut out_of_order) = (0, 0);
    for id in fleet.ids() {
        let c = fleet.get(id).expect("twin").ingest_counters();
        duplicates += c.duplicate + c.timestamp_conflict;
        out_of_order += c.out_of_order;
    }
    Outcome {
        attempted: TWINS * u64::from(PRODUCERS_PER_TWIN) * PER_PRODUCER as u64,
        refused_by_producers: refused_by_producers.load(Ordering::Relaxed),
        sent,
        refused,
        dropped,
        delivered,
        accepted,
        rejected,
        duplicates,
        out_of_order,
    }
}

#[test]
fn block_delivers_everything_exactly_once() {
    let o = run(OverflowPolicy::Block, 8);
    assert_eq!(o.sent, o.attempted);
    assert_eq!((o.refused, o.dropped, o.refused_by_producers), (0, 0, 0));
    assert_eq!(o.delivered, o.sent);
    assert_eq!(o.accepted, o.delivered);
    assert_eq!((o.rejected, o.duplicates, o.out_of_order), (0, 0, 0));
}

#[test]
fn reject_counts_every_refusal_and_loses_nothing_else() {
    let o = run(OverflowPolicy::Reject, 8);
    assert!(
        o.refused > 0,
        "the queues overflowed: producers outpace the consumer"
    );
    assert_eq!(o.refused, o.refused_by_producers);
    assert_eq!(o.sent + o.refused, o.attempted);
    assert_eq!(o.dropped, 0);
    assert_eq!(o.delivered, o.sent);
    assert_eq!(o.accepted, o.delivered);
    assert_eq!((o.rejected, o.duplicates, o.out_of_order), (0, 0, 0));
}

#[test]
fn drop_oldest_counts_every_drop_and_keeps_order() {
    let o = run(OverflowPolicy::DropOldest, 8);
    assert_eq!(o.sent, o.attempted);
    assert_eq!(o.refused, 0);
    assert!(
        o.dropped > 0,
        "the queues overflowed: producers outpace the consumer"
    );
    assert_eq!(o.delivered + o.dropped, o.sent);
    assert_eq!(o.accepted, o.delivered);
    // Dropping the oldest never reorders what remains, nor delivers anything twice.
    assert_eq!((o.rejected, o.duplicates, o.out_of_order), (0, 0, 0));
}
