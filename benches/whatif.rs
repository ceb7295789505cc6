//! What-if Monte Carlo: 1,000 paths of the conveyor's wear model over 10,000 steps with
//! parameter and process noise (the target: under 1 s on one core).
//!
//! `cargo bench --bench whatif`. Figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use twin::entity::ConveyorDrive;
use twin::model::{ConveyorModel, DigitalModel};
use twin::whatif::{run, Profile, Scenario};

fn whatif(c: &mut Criterion) {
    let schema = ConveyorDrive::standard_schema();
    let model = ConveyorModel::new(&schema, Default::default()).expect("model");
    let fm = model.forward().expect("forward");
    // 10,000 one-minute steps (about 7 days): no path fails, so every path is stepped at
    // every step (the worst case; failed paths stop costing anything).
    let scenario = Scenario::new(10_000.0 * 60.0, 60.0)
        .input(
            "speed_setpoint",
            Profile::Ramp {
                from: 2.0,
                to: 1.6,
                start_s: 3_600.0,
                end_s: 7_200.0,
            },
        )
        .paths(1_000, 7);
    let mut g = c.benchmark_group("whatif");
    g.sample_size(10);
    g.bench_function("conveyor_1000_paths_10000_steps", |b| {
        b.iter(|| black_box(run(fm.as_ref(), black_box(&scenario)).expect("run")))
    });
    let small = scenario.clone().paths(100, 7);
    g.bench_function("conveyor_100_paths_10000_steps", |b| {
        b.iter(|| black_box(run(fm.as_ref(), black_box(&small)).expect("run")))
    });
    g.finish();
}

criterion_group!(benches, whatif);
criterion_main!(benches);
