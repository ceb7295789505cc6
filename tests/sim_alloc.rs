//! A whole simulator run allocates nothing per event: a counting allocator shows that the
//! allocations of `twin::sim::run` do not grow with the number of events (set-up and the
//! report are the same size for 1 h and 4 h when the timeline has the same number of
//! buckets); what little a longer run adds is calendar buckets growing once to fit a burst,
//! bounded by the queue's size.
//!
//! The counter is per thread (see `tests/common/counting_alloc.rs`): only the measuring
//! thread's allocations count.

use twin::sim::failure::{FailureModel, RetryPolicy};
use twin::sim::gateway::{Balancing, GatewayConfig};
use twin::sim::network::{LinkConfig, LoRaConfig, LossModel};
use twin::sim::scenario::MetricsConfig;
use twin::sim::{run, DeviceGroup, Placement, Radio, Scenario};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

/// A busy deployment: jittered reports, noisy signals, a lossy jittery bandwidth-limited
/// link with a queue, retries with failover, random device and gateway failures, and a
/// LoRa group with collisions and duty cycle. The timeline always has 60 buckets and the
/// per-device table is off, so the report's size does not depend on the horizon.
fn scenario(hours: f64) -> Scenario {
    let horizon_s = hours * 3_600.0;
    let link = LinkConfig {
        latency_s: 0.02,
        jitter_s: 0.01,
        bandwidth_bps: Some(10_000.0),
        queue_bytes: 400,
        loss: LossModel::GilbertElliott {
            p: 0.05,
            r: 0.3,
            k: 0.99,
            h: 0.2,
        },
    };
    let gw = GatewayConfig {
        link,
        failure: Some(FailureModel::Exponential {
            mtbf_s: 1_800.0,
            mttr_s: 120.0,
        }),
        ..GatewayConfig::default()
    };
    let mut sensors = DeviceGroup::periodic(2_000, 30.0);
    sensors.jitter_s = 5.0;
    sensors.gateways = vec![0, 1];
    sensors.signal.noise_sd = 1.0;
    sensors.failure = Some(FailureModel::Exponential {
        mtbf_s: 3_600.0,
        mttr_s: 300.0,
    });
    sensors.retry = RetryPolicy {
        max_retries: 2,
        ack_timeout_s: 0.5,
        backoff_s: 0.5,
        failover_after: 2,
    };
    let mut lora = DeviceGroup::periodic(300, 60.0);
    lora.jitter_s = 50.0;
    lora.gateways = vec![0, 1];
    lora.balancing = Balancing::LeastLoaded;
    lora.radio = Radio::Lora(LoRaConfig {
        channels: 1,
        ..LoRaConfig::default()
    });
    lora.placement = Placement::Disc {
        x: 0.0,
        y: 0.0,
        radius: 150.0,
    };
    Scenario {
        seed: 9,
        horizon_s,
        gateways: vec![gw.clone(), gw],
        groups: vec![sensors, lora],
        outages: Vec::new(),
        metrics: MetricsConfig {
            bucket_s: horizon_s / 60.0,
            per_device: false,
        },
        limits: Default::default(),
    }
}

/// Allocations made by one run, and its event count.
fn allocations_of(s: &Scenario) -> (usize, u64) {
    let before = counting_alloc::allocations();
    let r = run(s).expect("runs");
    let allocs = counting_alloc::allocations() - before;
    let sm = &r.summary;
    assert!(
        sm.collisions > 0 && sm.retries > 0 && sm.dropped_queue > 0 && sm.lost_channel > 0,
        "{sm:?}"
    );
    (allocs, sm.events)
}

/// The busy deployment without random failures: a steady load.
fn steady(hours: f64) -> Scenario {
    let mut s = scenario(hours);
    s.groups[0].failure = None;
    for g in &mut s.gateways {
        g.failure = None;
    }
    s
}

#[test]
fn a_whole_run_allocates_nothing_per_event() {
    counting_alloc::check_counts();
    // Warm up anything the process sets up once.
    allocations_of(&steady(0.5));
    let (a1, e1) = allocations_of(&steady(1.0));
    let (a4, e4) = allocations_of(&steady(4.0));
    assert!(e4 > 3 * e1 + e1 / 2, "events {e1} then {e4}");
    assert!(e1 > 400_000, "{e1} events");
    // Four times the events, (almost) not one allocation more. The calendar reserves each
    // bucket's mean occupancy plus 5 sd for one pending report per device; retries push
    // a bucket over that now and then (here three times in the three extra hours), and
    // the bucket then doubles once and keeps its room. So the extra allocations are
    // bounded by the number of buckets, not by the events.
    let extra = a4.saturating_sub(a1);
    assert!(
        extra <= 8,
        "{a1} allocations for {e1} events, {a4} for {e4}"
    );
    assert!((extra as f64) < 1e-5 * (e4 - e1) as f64);

    // Random device and gateway failures. A gateway failure makes every device on it
    // retry at once, and such a storm overfills many buckets at once: each doubles once
    // and keeps its capacity, and the heap of far events (failures and repairs) doubles
    // up to the number of devices. So a longer run allocates more, bounded by the queue's
    // shape, never per event: here 256 ring buckets (2,316 pending events / 16, rounded
    // up to a power of two) doubling at most twice each, plus the far heap's doublings
    // (at most 12 for 2,300 devices).
    let (f1, g1) = allocations_of(&scenario(1.0));
    let (f4, g4) = allocations_of(&scenario(4.0));
    assert!(g4 > 3 * g1 + g1 / 2, "events {g1} then {g4}");
    let extra = f4.saturating_sub(f1);
    assert!(
        extra <= 2 * 256 + 12,
        "{f1} allocations for {g1} events, {f4} for {g4}"
    );
    assert!(
        (extra as f64) < 2e-4 * (g4 - g1) as f64,
        "{extra} extra allocations for {} extra events",
        g4 - g1
    );
}
