//! The hot path allocates nothing per sample: a counting allocator watches batch ingest.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{BatchRef, Schema, SignalSpec, Twin};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn clean_batches_ingest_without_allocating() {
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
    let before = ALLOCS.load(Ordering::Relaxed);
    let r = twin
        .ingest_batch(BatchRef::new(&times[half..], &signals[half..], &values[half..]).expect("b"));
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(r.accepted, n - half);
    assert_eq!(twin.insights().count(), 0);
    assert_eq!(allocs, 0, "{allocs} allocations for {} samples", n - half);
}
