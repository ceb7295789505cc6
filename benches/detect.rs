//! Streaming anomaly detection speed on one univariate series: twin's Half-Space Trees
//! (river's default shape: 10 trees, height 8, windows of 250) and the default ensemble
//! (EWMA z-score, robust z-score and Half-Space Trees, fused).
//!
//! `cargo bench --bench detect`; `benches/detect_vs_river.sh` runs it beside river's
//! `HalfSpaceTrees` on the same series. Figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use twin::analytics::detect::{Ensemble, HalfSpaceTrees, HstConfig, StreamingDetector};

/// Samples per iteration.
const SAMPLES: usize = 100_000;

/// The series of `benches/peers/detect_river.py`: a sine of period 200 samples, uniform
/// noise from a xorshift64 generator, and a spike every 997 samples.
fn series() -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..SAMPLES)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let spike = if i % 997 == 996 { 5.0 } else { 0.0 };
            (std::f64::consts::TAU * i as f64 / 200.0).sin() + 0.3 * u + spike
        })
        .collect()
}

fn run(d: &mut dyn StreamingDetector, xs: &[f64]) -> usize {
    xs.iter().filter(|&&x| d.update(x).alarm).count()
}

fn bench_detect(c: &mut Criterion) {
    let xs = series();
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    let river_shape = HstConfig {
        trees: 10,
        height: 8,
        window: 250,
        size_limit: 0.1,
        ..HstConfig::default()
    };
    g.bench_function("hst_10_trees_height_8_window_250", |b| {
        b.iter_batched_ref(
            || HalfSpaceTrees::new(river_shape).expect("valid"),
            |d| black_box(run(d, black_box(&xs))),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("ensemble_default", |b| {
        b.iter_batched_ref(
            Ensemble::default,
            |d| black_box(run(d, black_box(&xs))),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_detect);
criterion_main!(benches);
