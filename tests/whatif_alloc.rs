//! A what-if run allocates nothing per step: a counting allocator sees the same number of
//! allocations for 1,000 steps as for 4,000 (with paths failing along the way), and the
//! result is plain owned data that can move between threads.

use twin::entity::ConveyorDrive;
use twin::model::{ConveyorModel, DigitalModel};
use twin::whatif::{run, FaultEffect, Profile, Scenario, WhatIfResult};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

fn assert_send<T: Send + 'static>() {}

#[test]
fn allocations_do_not_grow_with_the_number_of_steps() {
    counting_alloc::check_counts();
    assert_send::<WhatIfResult>();
    let schema = ConveyorDrive::standard_schema();
    let model = ConveyorModel::new(&schema, Default::default()).expect("model");
    let fm = model.forward().expect("forward");
    let scenario = |steps: f64| {
        // One-hour steps: most paths fail within 4,000 steps (about 167 days), so the run
        // covers both stepping and failed paths.
        Scenario::new(steps * 3600.0, 3600.0)
            .input(
                "load",
                Profile::Ramp {
                    from: 0.6,
                    to: 0.9,
                    start_s: 0.0,
                    end_s: 5e6,
                },
            )
            .fault(
                10.0 * 3600.0,
                FaultEffect::AddState {
                    state: "wear".into(),
                    value: 0.1,
                },
            )
            .paths(200, 4)
    };
    let (short, long) = (scenario(1_000.0), scenario(4_000.0));
    let count = |s: &Scenario| {
        let before = counting_alloc::allocations();
        let r = run(fm.as_ref(), s).expect("run");
        let n = counting_alloc::allocations() - before;
        (n, r)
    };
    let (n_short, _) = count(&short);
    let (n_long, r) = count(&long);
    assert!(r.failure.failed > 100, "{}", r.failure.failed);
    assert_eq!(n_short, n_long, "allocations grew with the steps");
    assert!(n_long < 2_000, "{n_long} allocations");
    // Owned serde data: the result survives a JSON round trip unchanged.
    let back: WhatIfResult = serde_json::from_str(&r.to_json().expect("json")).expect("parse");
    assert_eq!(back, r);
}
