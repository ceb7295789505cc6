//! `Fleet::ingest_batch` on 1 and 2 threads: a fleet of 10,000 conveyor twins (the standard
//! conveyor schema, each twin with the EWMA monitor, optionally the conveyor drive's
//! digital model) takes one fleet batch of 20 time steps of the four conveyor signals per
//! twin (800,000 samples, time-major, each twin's four signals side by side as a gateway
//! sends them). Every iteration gets the same batch moved on in time, so every sample is
//! accepted and the twins' work stays the same from one iteration to the next.
//!
//! `cargo bench --locked --bench fleet`; figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::entity::{ConveyorConfig, ConveyorDrive};
use twin::fleet::{Fleet, FleetBatchRef};
use twin::model::ConveyorModel;
use twin::Twin;

const TWINS: u64 = 10_000;
const STEPS: i64 = 20;
const SIGNALS: u32 = 4;
/// 10 Hz.
const STEP_NS: i64 = 100_000_000;

/// Normal operating point of the four conveyor signals, in signal-id order.
const MEAN: [f64; 4] = [1.5, 2.0, 50.0, 0.8];
const NOISE: [f64; 4] = [0.05, 0.2, 1.0, 0.05];

fn fleet(threads: usize, model: bool) -> Fleet {
    let schema = ConveyorDrive::standard_schema();
    let mut f = Fleet::new(threads).expect("fleet");
    for id in 0..TWINS {
        let monitor = EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
        let mut b = Twin::builder(schema.clone()).engine(monitor);
        if model {
            b = b.model(ConveyorModel::new(&schema, ConveyorConfig::default()).expect("model"));
        }
        f.insert(id, b.build().expect("twin")).expect("insert");
    }
    f
}

/// The batch's columns, its times starting at step 0.
fn columns() -> (Vec<u64>, Vec<i64>, Vec<u32>, Vec<f64>) {
    let n = (TWINS as usize) * (STEPS as usize) * SIGNALS as usize;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let (mut w, mut t, mut s, mut v) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for step in 0..STEPS {
        for id in 0..TWINS {
            for sig in 0..SIGNALS {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                w.push(id);
                t.push(step * STEP_NS);
                s.push(sig);
                v.push(MEAN[sig as usize] + u * 2.0 * NOISE[sig as usize]);
            }
        }
    }
    (w, t, s, v)
}

fn bench_fleet(c: &mut Criterion) {
    let (w, t0, s, v) = columns();
    let mut g = c.benchmark_group("fleet");
    g.throughput(Throughput::Elements(w.len() as u64));
    g.sample_size(20);
    for model in [false, true] {
        for threads in [1, 2] {
            let mut f = fleet(threads, model);
            let mut epoch = 0i64;
            let name = format!(
                "ingest_800k_{}_threads_{threads}",
                if model { "monitor_model" } else { "monitor" }
            );
            g.bench_function(name, |b| {
                b.iter_batched(
                    || {
                        epoch += 1;
                        let shift = epoch * STEPS * STEP_NS;
                        t0.iter().map(|x| x + shift).collect::<Vec<i64>>()
                    },
                    |t| {
                        let batch = FleetBatchRef::new(&w, &t, &s, &v).expect("batch");
                        let r = f.ingest_batch(black_box(batch));
                        assert_eq!(r.accepted, w.len());
                        r
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_fleet);
criterion_main!(benches);
