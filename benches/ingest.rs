//! Batch ingest into a twin with 8 signals and the EWMA monitor.
//!
//! `cargo bench --bench ingest`; figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{BatchRef, Sample, Schema, SignalId, SignalSpec, Timestamp, Twin};

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

fn twin(schema: &Schema) -> Twin {
    let monitor = EwmaMonitor::new(schema, MonitorConfig::default()).expect("monitor");
    Twin::builder(schema.clone())
        .engine(monitor)
        .build()
        .expect("twin")
}

/// Interleaved samples of 8 signals, one scan per millisecond, values with mild noise.
fn columns() -> (Vec<i64>, Vec<u32>, Vec<f64>) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut t = Vec::with_capacity(SAMPLES);
    let mut s = Vec::with_capacity(SAMPLES);
    let mut v = Vec::with_capacity(SAMPLES);
    for k in 0..SAMPLES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        t.push((k as i64 / SIGNALS as i64) * 1_000_000);
        s.push(k as u32 % SIGNALS);
        v.push(100.0 + (state >> 11) as f64 / (1u64 << 53) as f64);
    }
    (t, s, v)
}

fn bench_ingest(c: &mut Criterion) {
    let schema = schema();
    let (t, s, v) = columns();
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("batch_65536_8_signals_ewma", |b| {
        b.iter_batched_ref(
            || twin(&schema),
            |tw| {
                let r = tw.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"));
                black_box(r.accepted)
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("single_65536_8_signals_ewma", |b| {
        b.iter_batched_ref(
            || twin(&schema),
            |tw| {
                for k in 0..SAMPLES {
                    let _ =
                        black_box(tw.ingest(Sample::new(Timestamp(t[k]), SignalId(s[k]), v[k])));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
