//! RUL models on NASA C-MAPSS FD001: prediction latency per unit and fitting time of the
//! window-feature regression (boosted trees), with the configuration of the `cmapss`
//! example.
//!
//! `cargo bench --bench rul`; figures go in BENCHMARKS.md.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use twin::analytics::rul::cmapss::{self, FD001_SENSORS};
use twin::analytics::rul::features::WindowConfig;
use twin::analytics::rul::gbdt::GbdtConfig;
use twin::analytics::rul::regression::{Learner, RegressionConfig, RegressionRul};
use twin::analytics::rul::similarity::{SimilarityConfig, SimilarityRul};
use twin::analytics::rul::{CalibrationConfig, Fleet};

fn load(name: &str) -> Fleet {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches/data/cmapss")
        .join(name);
    cmapss::load(path)
        .and_then(|f| f.select_signals(&FD001_SENSORS))
        .expect("C-MAPSS data")
}

fn config() -> RegressionConfig {
    RegressionConfig {
        features: WindowConfig {
            window: 200,
            smoothing: 0.2,
            recent: 20,
            ..WindowConfig::default()
        },
        learner: Learner::Boosting(GbdtConfig {
            n_trees: 600,
            learning_rate: 0.025,
            max_depth: 5,
            min_samples_leaf: 60,
            colsample: 0.5,
            subsample: 0.5,
            ..GbdtConfig::default()
        }),
        cap: 125.0,
        calibration: CalibrationConfig {
            folds: 5,
            min_history: 31,
            seed: 7,
            ..CalibrationConfig::default()
        },
    }
}

fn bench(c: &mut Criterion) {
    let train = load("train_FD001.txt");
    let test = load("test_FD001.txt");
    let model = RegressionRul::new(config())
        .and_then(|m| m.fit(&train))
        .expect("fit");
    let similarity = SimilarityRul::new(SimilarityConfig {
        window: 50,
        bandwidth: 0.5,
        ..SimilarityConfig::default()
    })
    .and_then(|m| m.fit(&train))
    .expect("fit");
    let mut g = c.benchmark_group("rul");
    g.bench_function("predict_boosting_per_unit_fd001", |b| {
        let mut i = 0;
        b.iter(|| {
            let u = &test.units()[i % test.len()];
            i += 1;
            black_box(model.predict(black_box(u)).expect("predict"))
        })
    });
    g.bench_function("predict_similarity_per_unit_fd001", |b| {
        let mut i = 0;
        b.iter(|| {
            let u = &test.units()[i % test.len()];
            i += 1;
            black_box(similarity.predict(black_box(u)).expect("predict"))
        })
    });
    g.sample_size(10);
    g.bench_function("fit_boosting_calibrated_fd001", |b| {
        b.iter(|| {
            black_box(
                RegressionRul::new(config())
                    .and_then(|m| m.fit(black_box(&train)))
                    .expect("fit"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
