//! The hot path allocates nothing per sample: a counting allocator watches batch ingest.

use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{BatchRef, Schema, SignalSpec, Twin};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

#[test]
fn clean_batches_ingest_without_allocating() {
    counting_alloc::check_counts();
    let mut b = Schema::builder("m");
    for i in 0..8 {
        b = b.telemetry(
            SignalSpec::new(format!("s{i}"), "")
                .range(-10.0, 1000.0)
                .alarm_high(500.0),
        );
    }
    let schema = b.build().expect("schema");
    let monitor = EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
    let mut twin = Twin::builder(schema).engine(monitor).build().expect("twin");
    let n = 80_000;
    let times: Vec<i64> = (0..n as i64).map(|k| k / 8).collect();
    let signals: Vec<u32> = (0..n as u32).map(|k| k % 8).collect();
    // Uniform noise (a xorshift generator): bounded, so the monitor flags nothing.
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let values: Vec<f64> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            100.0 + (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    let half = n / 2;
    // Warm up on the first half (first use may size internal buffers).
    let r = twin
        .ingest_batch(BatchRef::new(&times[..half], &signals[..half], &values[..half]).expect("b"));
    assert_eq!(r.accepted, half);
    let before = counting_alloc::allocations();
    let r = twin
        .ingest_batch(BatchRef::new(&times[half..], &signals[half..], &values[half..]).expect("b"));
    let allocs = counting_alloc::allocations() - before;
    assert_eq!(r.accepted, n - half);
    assert_eq!(twin.insights().count(), 0);
    assert_eq!(allocs, 0, "{allocs} allocations for {} samples", n - half);
}
