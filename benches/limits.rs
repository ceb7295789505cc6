//! The cost of the history ring on batch ingest: 65,536 samples of 8 signals into a twin
//! with the EWMA monitor, without a history and with a full ring of 4,096 or 65,536
//! samples (warmed up on an earlier batch, so the measured batch overwrites in place).
//!
//! `cargo bench --bench limits`; figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{BatchRef, Schema, SignalSpec, Twin, TwinLimits};

const SIGNALS: u32 = 8;
const SAMPLES: usize = 1 << 16;

fn schema() -> Schema {
    let mut b = Schema::builder("bench");
    for i in 0..SIGNALS {
        b = b.telemetry(
            SignalSpec::new(format!("s{i}"), "")
                .range(-1e6, 1e6)
                .alarm_high(1e5),
        );
    }
    b.build().expect("schema")
}

/// Interleaved samples of 8 signals, one scan per millisecond from `scan0`.
fn columns(scan0: i64) -> (Vec<i64>, Vec<u32>, Vec<f64>) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut t = Vec::with_capacity(SAMPLES);
    let mut s = Vec::with_capacity(SAMPLES);
    let mut v = Vec::with_capacity(SAMPLES);
    for k in 0..SAMPLES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        t.push((scan0 + k as i64 / SIGNALS as i64) * 1_000_000);
        s.push(k as u32 % SIGNALS);
        v.push(100.0 + (state >> 11) as f64 / (1u64 << 53) as f64);
    }
    (t, s, v)
}

fn bench_history(c: &mut Criterion) {
    let schema = schema();
    let warm = columns(0);
    let (t, s, v) = columns((SAMPLES / SIGNALS as usize) as i64);
    let mut g = c.benchmark_group("limits");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    for (name, history) in [
        ("ingest_65536_history_off", 0),
        ("ingest_65536_history_4096", 4_096),
        ("ingest_65536_history_65536", 65_536),
    ] {
        let limits = TwinLimits {
            max_history_samples: history,
            ..TwinLimits::default()
        };
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || {
                    let monitor =
                        EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
                    let mut tw = Twin::builder(schema.clone())
                        .engine(monitor)
                        .limits(limits)
                        .build()
                        .expect("twin");
                    let r =
                        tw.ingest_batch(BatchRef::new(&warm.0, &warm.1, &warm.2).expect("batch"));
                    assert_eq!(r.accepted, SAMPLES);
                    tw
                },
                |tw| {
                    let r = tw.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
                    black_box(r.accepted)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench_history);
criterion_main!(benches);
