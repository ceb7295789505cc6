//! State estimation, prognosis and reliability: filter updates on NASA's battery model,
//! the 100-sample Monte Carlo prediction to end of discharge, and a Weibull fit.
//!
//! `cargo bench --bench estimate`; `benches/estimate_vs_progpy.sh` compares with ProgPy.
//! Figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;
use twin::analytics::estimate::{
    BatteryCircuit, ConstantInput, KalmanFilter, LinearModel, MonteCarlo, ParticleConfig,
    ParticleFilter, PredictorConfig, StateEstimator, StateSpaceModel, UkfConfig,
    UnscentedKalmanFilter,
};
use twin::analytics::reliability::WeibullFit;

const P0: [f64; 16] = [
    0.01, 0.0, 0.0, 0.0, //
    0.0, 1.0, 0.0, 0.0, //
    0.0, 0.0, 0.01, 0.0, //
    0.0, 0.0, 0.0, 0.01,
];

fn battery() -> BatteryCircuit {
    BatteryCircuit::default()
        .with_process_noise([0.25; 4])
        .and_then(|b| b.with_measurement_noise([2.0, 0.02]))
        .expect("battery")
}

/// Noise-free 1 Hz measurements of a cell at 2 A.
fn measurements(steps: usize) -> Vec<[f64; 2]> {
    let b = BatteryCircuit::default();
    let mut x = b.initial_state();
    let mut next = [0.0; 4];
    (0..steps)
        .map(|_| {
            b.step(&x, &[2.0], 1.0, &mut next);
            x.copy_from_slice(&next);
            let mut z = [0.0; 2];
            b.output(&x, &[2.0], &mut z);
            z
        })
        .collect()
}

/// Run a filter over 600 s of data, then time one more predict + update.
fn bench_filter<F: StateEstimator + Clone>(c: &mut Criterion, name: &str, mut f: F) {
    let zs = measurements(601);
    for z in &zs[..600] {
        f.estimate(&[2.0], 1.0, z).expect("estimate");
    }
    let z = zs[600];
    c.bench_function(name, |b| {
        b.iter_batched_ref(
            || f.clone(),
            |f| {
                f.estimate(black_box(&[2.0]), 1.0, black_box(&z))
                    .expect("estimate")
            },
            BatchSize::SmallInput,
        )
    });
}

fn filters(c: &mut Criterion) {
    let b = battery();
    let x0 = b.initial_state();
    let progpy_sigma = UkfConfig {
        alpha: 1.0,
        beta: 0.0,
        kappa: -1.0,
    };
    bench_filter(
        c,
        "estimate/ukf_battery_update",
        UnscentedKalmanFilter::new(b.clone(), &x0, &P0, progpy_sigma).expect("ukf"),
    );
    bench_filter(
        c,
        "estimate/ekf_battery_update",
        KalmanFilter::new(b.clone(), &x0, &P0).expect("ekf"),
    );
    let cfg = ParticleConfig {
        particles: 1000,
        seed: 1,
        ..ParticleConfig::default()
    };
    bench_filter(
        c,
        "estimate/pf1000_battery_update",
        ParticleFilter::new(b, &x0, &P0, cfg).expect("pf"),
    );

    let cv = LinearModel::builder(2, 1)
        .discrete(&[1.0, 1.0, 0.0, 1.0], 1.0)
        .observation(&[1.0, 0.0])
        .process_noise(&[0.25, 0.5, 0.5, 1.0])
        .measurement_noise(&[4.0])
        .build()
        .expect("cv");
    let mut kf = KalmanFilter::new(cv, &[0.0, 0.0], &[10.0, 0.0, 0.0, 10.0]).expect("kf");
    let mut t = 0.0;
    c.bench_function("estimate/kf_constant_velocity_update", |b| {
        b.iter(|| {
            t += 1.0;
            kf.estimate(&[], 1.0, black_box(&[t])).expect("kf")
        })
    });
}

fn prognosis(c: &mut Criterion) {
    let b = battery();
    let mut ukf = UnscentedKalmanFilter::new(
        b.clone(),
        &b.initial_state(),
        &P0,
        UkfConfig {
            alpha: 1.0,
            beta: 0.0,
            kappa: -1.0,
        },
    )
    .expect("ukf");
    for z in measurements(600) {
        ukf.estimate(&[2.0], 1.0, &z).expect("estimate");
    }
    let mc = MonteCarlo::new(PredictorConfig {
        samples: 100,
        dt: 1.0,
        horizon: 1e5,
        seed: 0,
        process_noise: true,
        interpolate: false,
    })
    .expect("mc");
    let load = ConstantInput::new(vec![2.0]);
    let mut g = c.benchmark_group("estimate");
    g.sample_size(20);
    g.bench_function("mc100_battery_eod", |bch| {
        bch.iter(|| {
            mc.predict(&b, ukf.distribution(), &load)
                .expect("prediction")
        })
    });
    g.finish();
}

fn reliability(c: &mut Criterion) {
    // 1000 units, Weibull(k = 2, λ = 1000) quantiles at a scrambled grid, 30% suspended
    let mut times = Vec::with_capacity(1000);
    let mut failed = Vec::with_capacity(1000);
    for i in 0..1000u64 {
        let p = ((i * 7919) % 1000) as f64 / 1000.0 + 0.0005;
        times.push(1000.0 * (-(1.0 - p).ln()).sqrt());
        failed.push(i % 10 >= 3);
    }
    let fit = WeibullFit::default();
    c.bench_function("reliability/weibull_fit_1000_censored", |b| {
        b.iter(|| fit.fit(black_box(&times), black_box(&failed)).expect("fit"))
    });
}

criterion_group!(benches, filters, prognosis, reliability);
criterion_main!(benches);
