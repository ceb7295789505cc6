//! Virtual IoT Models: behaviour of whole simulated deployments checked against known
//! results (stationary loss, availability, ALOHA collisions, battery lifetime), count
//! conservation, reproducibility across thread counts, and bad input refused before a run.

use twin::connection::DataConnection;
use twin::entity::ConveyorDrive;
use twin::sim::connection::SimNetwork;
use twin::sim::energy::{Battery, EnergyConfig};
use twin::sim::failure::{FailureModel, Outage, OutageKind, RetryPolicy};
use twin::sim::gateway::{Balancing, GatewayConfig};
use twin::sim::network::{LinkConfig, LoRaConfig, LossModel};
use twin::sim::{run, sweep, DeviceGroup, Placement, Radio, Report, Scenario};
use twin::{ErrorKind, Twin};

fn base(devices: u32, period_s: f64, horizon_s: f64) -> Scenario {
    let mut s = Scenario::single(devices, period_s, horizon_s);
    s.seed = 42;
    s.gateways[0].link.latency_s = 0.01;
    s
}

/// Every report is delivered, given up or still under way; every failed transmission has
/// one cause; the gateways received exactly what was delivered.
fn check_conservation(r: &Report) {
    let s = &r.summary;
    assert_eq!(
        s.reports,
        s.delivered + s.undelivered + s.in_flight,
        "{s:?}"
    );
    assert_eq!(
        s.failed_transmissions,
        s.lost_channel + s.dropped_queue + s.gateway_down + s.collisions + s.out_of_range,
        "{s:?}"
    );
    assert_eq!(r.gateways.sum_u64("received").expect("column"), s.delivered);
    if r.devices.rows() > 0 {
        assert_eq!(r.devices.sum_u64("reports").expect("column"), s.reports);
        assert_eq!(r.devices.sum_u64("delivered").expect("column"), s.delivered);
        assert_eq!(r.devices.sum_u64("retries").expect("column"), s.retries);
    }
    assert_eq!(r.timeline.sum_u64("reports").expect("column"), s.reports);
    assert_eq!(
        r.timeline.sum_u64("delivered").expect("column"),
        s.delivered
    );
}

#[test]
fn periodic_sensors_report_on_schedule() {
    let r = run(&base(500, 60.0, 3_600.0)).expect("runs");
    check_conservation(&r);
    // 60 reports per device in an hour (phase < period), two events each plus none else.
    assert_eq!(r.summary.reports, 30_000);
    assert_eq!(r.summary.events, r.summary.reports + r.summary.delivered);
    // Latency is the link's 10 ms (histogram bins are 4.4 % wide).
    let p50 = r.summary.latency_p50_s.expect("deliveries");
    assert!((p50 - 0.01).abs() < 0.0005, "p50 {p50}");
    let mean = r.summary.latency_mean_s.expect("deliveries");
    assert!((mean - 0.01).abs() < 1e-9, "mean {mean}");
    // The timeline spreads them evenly: 500 reports a minute.
    let per_min = r.timeline.u64("reports").expect("column");
    assert!(per_min[..60].iter().all(|&n| n == 500), "{per_min:?}");
}

#[test]
fn gilbert_elliott_loss_through_the_engine() {
    let (p, rr, k, h) = (0.05, 0.3, 0.995, 0.2);
    let mut s = base(2_000, 10.0, 3_600.0);
    s.gateways[0].link.loss = LossModel::GilbertElliott { p, r: rr, k, h };
    let r = run(&s).expect("runs");
    check_conservation(&r);
    let expect = p / (p + rr) * (1.0 - h) + rr / (p + rr) * (1.0 - k);
    let loss = r.summary.lost_channel as f64 / r.summary.transmissions as f64;
    assert!((loss - expect).abs() < 0.005, "loss {loss} vs {expect}");
    assert!((r.summary.delivery_ratio - (1.0 - expect)).abs() < 0.006);
}

#[test]
fn retries_recover_losses() {
    let mut s = base(1_000, 60.0, 3_600.0);
    s.gateways[0].link.loss = LossModel::Bernoulli { p: 0.2 };
    let no_retry = run(&s).expect("runs");
    s.groups[0].retry = RetryPolicy {
        max_retries: 3,
        ack_timeout_s: 0.5,
        backoff_s: 0.5,
        failover_after: 0,
    };
    let with_retry = run(&s).expect("runs");
    check_conservation(&no_retry);
    check_conservation(&with_retry);
    assert!((no_retry.summary.delivery_ratio - 0.8).abs() < 0.01);
    // Four independent tries: 1 - 0.2^4 = 0.9984 (minus reports still retrying at the end).
    assert!(
        with_retry.summary.delivery_ratio > 0.995,
        "{:?}",
        with_retry.summary
    );
    let undelivered = with_retry.summary.undelivered as f64 / with_retry.summary.reports as f64;
    assert!(
        (undelivered - 0.0016).abs() < 0.001,
        "undelivered share {undelivered}"
    );
}

#[test]
fn device_availability_matches_mtbf_over_mtbf_plus_mttr() {
    let mut s = base(2_000, 600.0, 30.0 * 86_400.0);
    s.groups[0].failure = Some(FailureModel::Exponential {
        mtbf_s: 2.0 * 86_400.0,
        mttr_s: 0.5 * 86_400.0,
    });
    s.metrics.bucket_s = 86_400.0;
    let r = run(&s).expect("runs");
    check_conservation(&r);
    // Starting up biases the finite-horizon mean up by MTTR/(MTBF+MTTR)^2 * (1 - e^-..)
    // ~ 0.8 %/30 days; the tolerance covers it.
    let a = r.summary.availability;
    assert!((a - 0.8).abs() < 0.01, "availability {a}");
    // A device reports only while up: the report count follows availability.
    let expected_reports = 2_000.0 * 30.0 * 86_400.0 / 600.0 * a;
    let ratio = r.summary.reports as f64 / expected_reports;
    assert!((ratio - 1.0).abs() < 0.01, "reports ratio {ratio}");
}

#[test]
fn weibull_wear_out_without_repair() {
    let mut s = base(5_000, 3_600.0, 100.0 * 86_400.0);
    let scale = 50.0 * 86_400.0;
    s.groups[0].failure = Some(FailureModel::Weibull {
        shape: 3.0,
        scale_s: scale,
        mttr_s: None,
    });
    s.metrics.bucket_s = 86_400.0;
    let r = run(&s).expect("runs");
    // Expected up-time per device: integral of exp(-(t/scale)^3) over 100 days.
    let (mut up, n) = (0.0, 100_000);
    let dt = 100.0 * 86_400.0 / n as f64;
    for i in 0..n {
        let t = (i as f64 + 0.5) * dt;
        up += (-(t / scale).powi(3)).exp() * dt;
    }
    let expect = up / (100.0 * 86_400.0);
    assert!(
        (r.summary.availability - expect).abs() < 0.01,
        "{} vs {expect}",
        r.summary.availability
    );
}

#[test]
fn linear_battery_lifetime_is_scheduled() {
    let mut s = base(100, 60.0, 20.0 * 86_400.0);
    s.metrics.bucket_s = 86_400.0;
    // 0.01 mA sleep; per report 20 mA x 0.1 s tx + 5 mA x 0.2 s rx = 3 mAs.
    s.groups[0].energy = Some(EnergyConfig {
        sleep_ma: 0.01,
        idle_ma: 0.0,
        rx_ma: 5.0,
        tx_ma: 20.0,
        cpu_ma: 0.0,
        cpu_s: 0.0,
        tx_s: Some(0.1),
        rx_s: 0.2,
        idle_s: 0.0,
        battery: Battery::Linear { capacity_mah: 10.0 },
        harvest: None,
    });
    let r = run(&s).expect("runs");
    check_conservation(&r);
    // Mean current 0.01 + 3/60 = 0.06 mA: 10 mAh lasts 166.7 h.
    let expect = 10.0 / 0.06 * 3600.0;
    assert_eq!(r.summary.depleted, 100);
    let life = r.devices.f64("lifetime_s").expect("column");
    for &l in life {
        assert!((l - expect).abs() < 120.0, "lifetime {l} vs {expect}");
    }
    // Energy drawn is the capacity (to within one report's pulse).
    let used = r.devices.f64("energy_mah").expect("column");
    assert!(used.iter().all(|&u| (u - 10.0).abs() < 0.001), "{used:?}");
    // Dead devices stop reporting: about 10,000 reports each.
    let per = r.summary.reports as f64 / 100.0;
    assert!(
        (per - expect / 60.0).abs() < 2.0,
        "{per} reports per device"
    );
}

#[test]
fn lora_pure_aloha_collisions() {
    // One channel, no capture, reports spread uniformly: pure ALOHA, success e^(-2G).
    let lora = LoRaConfig {
        channels: 1,
        capture_db: None,
        ..LoRaConfig::default()
    };
    let toa = lora.time_on_air_s(20);
    let (n, period) = (400u32, 60.0);
    let mut s = base(n, period, 6.0 * 3_600.0);
    s.groups[0].jitter_s = 59.0;
    s.groups[0].radio = Radio::Lora(lora);
    // Inside the SF7 range (about 115 m with the LoRaSim path-loss defaults).
    s.groups[0].placement = Placement::Disc {
        x: 0.0,
        y: 0.0,
        radius: 0.8 * LoRaConfig::default().range_m(),
    };
    let r = run(&s).expect("runs");
    check_conservation(&r);
    let g = f64::from(n) * toa / period;
    let expect = (-2.0 * g).exp();
    let success = 1.0 - r.summary.collisions as f64 / r.summary.transmissions as f64;
    assert!(
        (success - expect).abs() < 0.03,
        "success {success} vs e^-2G {expect}"
    );
    assert_eq!(r.summary.out_of_range, 0);
    // Three channels cut collisions: G/3 per channel.
    if let Radio::Lora(l) = &mut s.groups[0].radio {
        l.channels = 3;
    }
    let r3 = run(&s).expect("runs");
    let s3 = 1.0 - r3.summary.collisions as f64 / r3.summary.transmissions as f64;
    assert!(
        (s3 - (-2.0 * g / 3.0).exp()).abs() < 0.03,
        "3 channels {s3}"
    );
}

#[test]
fn lora_range_and_duty_cycle() {
    let lora = LoRaConfig::default();
    let range = lora.range_m();
    let mut s = base(50, 60.0, 3_600.0);
    s.groups[0].radio = Radio::Lora(lora.clone());
    s.groups[0].placement = Placement::Point {
        x: 1.2 * range,
        y: 0.0,
    };
    let r = run(&s).expect("runs");
    assert_eq!(r.summary.delivered, 0);
    assert_eq!(r.summary.out_of_range, r.summary.transmissions);
    // SF12 at 1 %: a 20-byte packet (1.32 s on air) allows one every 132 s, so reports
    // every 60 s are deferred and, beyond a period, skipped.
    let mut s = base(10, 60.0, 3_600.0);
    s.groups[0].radio = Radio::Lora(LoRaConfig {
        spreading_factor: 12,
        ..lora
    });
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert!(r.summary.duty_cycle_skipped > 0);
    let sent_per_device = (r.summary.transmissions - r.summary.duty_cycle_skipped) as f64 / 10.0;
    let max = 3_600.0 / (1.318_912 / 0.01) + 1.0;
    assert!(sent_per_device <= max, "{sent_per_device} > {max}");
}

#[test]
fn gateway_edge_processing() {
    let mut s = base(100, 60.0, 3_600.0);
    s.horizon_s = 3_599.0; // every report delivered before the horizon
    s.gateways.push(GatewayConfig::default());
    s.gateways.push(GatewayConfig::default());
    s.gateways[0].edge.deadband = Some(0.5);
    s.gateways[1].edge.aggregate = Some(6);
    s.gateways[2].edge.filter = Some((0.0, 10.0));
    s.groups[0].signal.level = 5.0;
    let mut g1 = s.groups[0].clone();
    g1.gateways = vec![1];
    let mut g2 = s.groups[0].clone();
    g2.gateways = vec![2];
    g2.signal.level = 50.0;
    s.groups.push(g1);
    s.groups.push(g2);
    let r = run(&s).expect("runs");
    check_conservation(&r);
    let recv = r.gateways.u64("received").expect("col");
    let fwd = r.gateways.u64("forwarded").expect("col");
    let sup = r.gateways.u64("suppressed").expect("col");
    let filt = r.gateways.u64("filtered").expect("col");
    // Deadband on a constant: one forward per device.
    assert_eq!(fwd[0], 100);
    assert_eq!(sup[0], recv[0] - 100);
    // Aggregation by 6: a forward per 6 readings of each device.
    let per_dev = r.devices.u64("delivered").expect("col");
    let expect_agg: u64 = per_dev[100..200].iter().map(|d| d / 6).sum();
    assert_eq!(fwd[1], expect_agg);
    // The filter drops every implausible 50.
    assert_eq!(filt[2], recv[2]);
    assert_eq!(fwd[2], 0);
}

#[test]
fn failover_and_load_balancing() {
    // Gateway 0 is down for the whole run (a regional outage).
    let mut s = base(200, 60.0, 3_600.0);
    s.gateways.push(GatewayConfig::default());
    s.groups[0].gateways = vec![0, 1];
    s.outages.push(Outage {
        gateways: vec![0],
        groups: vec![],
        start_s: 0.0,
        duration_s: 10_000.0,
        kind: OutageKind::Down,
    });
    let stuck = run(&s).expect("runs");
    check_conservation(&stuck);
    assert_eq!(stuck.summary.delivered, 0);
    s.groups[0].retry = RetryPolicy {
        max_retries: 2,
        ack_timeout_s: 1.0,
        backoff_s: 1.0,
        failover_after: 1,
    };
    let failover = run(&s).expect("runs");
    check_conservation(&failover);
    // Each device loses one transmission, fails over, and its retry gets through.
    assert_eq!(failover.summary.gateway_down, 200);
    assert_eq!(failover.summary.undelivered, 0);
    assert!(failover.summary.delivery_ratio > 0.999);
    // Spread balancing splits devices evenly when both are up.
    let mut s = base(200, 60.0, 3_600.0);
    s.horizon_s = 3_599.0;
    s.gateways.push(GatewayConfig::default());
    s.groups[0].gateways = vec![0, 1];
    s.groups[0].balancing = Balancing::Spread;
    let r = run(&s).expect("runs");
    let recv = r.gateways.u64("received").expect("col");
    assert!(recv[0].abs_diff(recv[1]) <= 100, "{recv:?}");
    assert_eq!(recv[0] + recv[1], r.summary.delivered);
    // Least-loaded balancing uses both gateways' queues.
    s.gateways[0].link.bandwidth_bps = Some(2_000.0);
    s.gateways[1].link.bandwidth_bps = Some(2_000.0);
    s.groups[0].balancing = Balancing::LeastLoaded;
    s.groups[0].count = 2_000;
    s.groups[0].jitter_s = 30.0;
    let r = run(&s).expect("runs");
    let recv = r.gateways.u64("received").expect("col");
    assert!(recv[0] > 0 && recv[1] > 0, "{recv:?}");
}

#[test]
fn queue_drops_and_partition_delays() {
    // 1,000 devices a minute, 20-byte packets over 2 kbit/s: 2,667 bit/s offered, so the
    // queue overflows and drops are counted.
    let mut s = base(1_000, 60.0, 3_600.0);
    s.gateways[0].link.bandwidth_bps = Some(2_000.0);
    s.gateways[0].link.queue_bytes = 2_000;
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert!(r.summary.dropped_queue > 0);
    // Served at most at the link rate: 2,000 / 160 bits = 12.5 packets/s.
    let max = 12.5 * 3_600.0 + 100.0;
    assert!(
        (r.summary.delivered as f64) <= max,
        "{}",
        r.summary.delivered
    );
    assert!((r.summary.delivered as f64) > 0.95 * 12.5 * 3_600.0);
    assert!(r.gateways.u64("peak_backlog_bytes").expect("col")[0] <= 2_000);

    // A partition delays delivery to the back end but loses nothing.
    let mut s = base(100, 60.0, 3_600.0);
    s.outages.push(Outage {
        gateways: vec![0],
        groups: vec![],
        start_s: 600.0,
        duration_s: 600.0,
        kind: OutageKind::Partition,
    });
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert_eq!(r.summary.undelivered, 0);
    let held = r.gateways.u64("held").expect("col")[0];
    assert!((held as i64 - 1_000).abs() <= 2, "held {held}");
    // Held readings wait up to the 600 s of the partition.
    assert!(r.summary.latency_max_s.expect("some") > 590.0);
}

#[test]
fn same_seed_same_report_any_thread_count() {
    let mut s = base(300, 30.0, 1_800.0);
    s.groups[0].jitter_s = 5.0;
    s.groups[0].signal.noise_sd = 1.0;
    s.gateways[0].link.loss = LossModel::GilbertElliott {
        p: 0.1,
        r: 0.4,
        k: 0.99,
        h: 0.3,
    };
    s.groups[0].retry.max_retries = 2;
    s.groups[0].failure = Some(FailureModel::Exponential {
        mtbf_s: 600.0,
        mttr_s: 60.0,
    });
    let one = sweep::replicate(&s, 4, 1).expect("runs");
    let two = sweep::replicate(&s, 4, 2).expect("runs");
    let three = sweep::replicate(&s, 4, 3).expect("runs");
    // Compared as JSON: the tables hold NaN (no delivery in a bucket), and NaN != NaN.
    let json = |r: &[Report]| serde_json::to_string(r).expect("json");
    assert_eq!(json(&one), json(&two));
    assert_eq!(json(&one), json(&three));
    // Replications differ from each other.
    assert_ne!(one[0].summary, one[1].summary);
    // And the JSON round trip gives back the same scenario and the same run.
    let back = Scenario::from_json(&s.to_json().expect("json")).expect("parse");
    assert_eq!(back, s);
    assert_eq!(
        json(&[run(&back).expect("runs")]),
        json(&[run(&s).expect("runs")])
    );
}

#[test]
fn paired_runs_share_random_numbers() {
    let mut a = base(500, 60.0, 3_600.0);
    a.groups[0].jitter_s = 10.0;
    a.gateways[0].link.loss = LossModel::Bernoulli { p: 0.1 };
    let mut b = a.clone();
    b.gateways[0].edge.deadband = Some(1.0);
    let p = sweep::paired(&a, &b, 3, 2).expect("runs");
    // The policy acts only at the gateway: reports and losses are identical in each pair.
    for (x, y) in p.baseline.iter().zip(&p.variant) {
        assert_eq!(x.summary.reports, y.summary.reports);
        assert_eq!(x.summary.delivered, y.summary.delivered);
        assert_eq!(x.summary.lost_channel, y.summary.lost_channel);
    }
    let d = p.differences(|s| s.forwarded as f64);
    assert!(d.iter().all(|&x| x < 0.0), "{d:?}");
    // Sweeps: reports scale with the rate.
    let sw = sweep::sweep(&a, "groups.0.period_s", &[30.0, 60.0, 120.0], 2, 2).expect("runs");
    let reports = sw.table.u64("reports").expect("col");
    assert_eq!(sw.table.rows(), 6);
    // Halving the period doubles the reports (to within the slots cut by the horizon).
    let ratio = |a: u64, b: u64| a as f64 / b as f64;
    assert!((ratio(reports[0], reports[2]) - 2.0).abs() < 0.005);
    assert!((ratio(reports[2], reports[4]) - 2.0).abs() < 0.005);
}

#[test]
fn a_twin_fed_through_the_simulated_network_sees_what_it_delivered() {
    let link = LinkConfig {
        latency_s: 0.2,
        jitter_s: 0.1,
        loss: LossModel::GilbertElliott {
            p: 0.05,
            r: 0.3,
            k: 0.99,
            h: 0.2,
        },
        ..LinkConfig::default()
    };
    let mut net = SimNetwork::new(link, 11).expect("valid link");
    net.add_device(Box::new(ConveyorDrive::new(3)), 5.0)
        .expect("device");
    let mut twin = Twin::builder(ConveyorDrive::standard_schema())
        .build()
        .expect("twin");
    for minute in 1..=240 {
        net.advance_to(f64::from(minute) * 60.0).expect("advance");
        twin.step(&mut net, 100_000).expect("step");
    }
    let st = net.stats();
    assert_eq!(
        st.sensed,
        st.lost + st.dropped + st.delivered + st.in_flight
    );
    assert_eq!(st.delivered, st.polled + st.ready);
    assert_eq!(st.ready, 0);
    assert!(st.lost > 0, "the channel lost something: {st:?}");
    let c = twin.ingest_counters();
    // Every delivered sample reached the twin and was accepted (in order, in range).
    assert_eq!(c.accepted, st.polled);
    assert_eq!(c.rejected(), 0);
    // 5 samples every 5 s for 4 h; the loss rate is the channel's.
    assert_eq!(st.sensed, 5 * (240 * 12 + 1));
    let loss = st.lost as f64 / st.sensed as f64;
    let expect = LossModel::GilbertElliott {
        p: 0.05,
        r: 0.3,
        k: 0.99,
        h: 0.2,
    }
    .stationary_loss();
    assert!((loss - expect).abs() < 0.04, "loss {loss} vs {expect}");
    let mut batch = twin::SampleBatch::new();
    assert_eq!(net.poll(&mut batch, 10).expect("poll"), 0);
}

fn err_of(s: &Scenario) -> twin::Error {
    match run(s) {
        Ok(_) => panic!("the scenario should be refused"),
        Err(e) => e,
    }
}

#[test]
fn bad_scenarios_are_refused_before_the_run() {
    let ok = base(10, 60.0, 600.0);
    let mut s = ok.clone();
    s.groups[0].gateways.clear();
    let e = err_of(&s);
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("groups[0].gateways"), "{e}");
    assert!(e.to_string().contains("no gateway"), "{e}");

    let mut s = ok.clone();
    s.groups[0].gateways = vec![3];
    assert!(err_of(&s).to_string().contains("gateway 3 does not exist"));

    let mut s = ok.clone();
    s.groups[0].period_s = -1.0;
    assert!(err_of(&s).to_string().contains("groups[0].period_s"));

    let mut s = ok.clone();
    s.gateways[0].link.loss = LossModel::Bernoulli { p: -0.1 };
    assert!(err_of(&s).to_string().contains("gateways[0].link.loss"));

    let mut s = ok.clone();
    s.groups[0].failure = Some(FailureModel::Exponential {
        mtbf_s: -5.0,
        mttr_s: 1.0,
    });
    assert!(err_of(&s).to_string().contains("groups[0].failure.mtbf_s"));

    let mut s = ok.clone();
    s.groups[0].energy = Some(EnergyConfig {
        sleep_ma: 0.01,
        idle_ma: 0.0,
        rx_ma: 0.0,
        tx_ma: 20.0,
        cpu_ma: 0.0,
        cpu_s: 0.0,
        tx_s: None,
        rx_s: 0.0,
        idle_s: 0.0,
        battery: Battery::Linear { capacity_mah: 0.0 },
        harvest: None,
    });
    let e = err_of(&s);
    assert!(
        e.to_string()
            .contains("groups[0].energy.battery.capacity_mah"),
        "{e}"
    );

    let mut s = ok.clone();
    s.horizon_s = f64::NAN;
    assert!(err_of(&s).to_string().contains("horizon_s"));

    // Absurd sizes: refused from the estimate, before anything is allocated.
    let mut s = ok.clone();
    s.groups[0].count = 4_000_000_000;
    let e = err_of(&s);
    assert!(e.to_string().contains("limits.max_memory_bytes"), "{e}");
    let mut s = ok.clone();
    s.groups.push(DeviceGroup::periodic(u32::MAX, 60.0));
    assert!(err_of(&s).to_string().contains("devices"));
    // The cap is configurable.
    let mut s = base(100_000, 60.0, 60.0);
    s.limits.max_memory_bytes = 10 << 20;
    assert!(err_of(&s).to_string().contains("limits.max_memory_bytes"));
    s.limits.max_memory_bytes = 1 << 30;
    assert!(run(&s).is_ok());

    // Unknown fields in JSON are refused, with serde's message.
    let e = Scenario::from_json(r#"{"horizon_s": 1, "gateways": [], "groups": [], "bogus": 1}"#)
        .expect_err("unknown field");
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert!(e.to_string().contains("bogus"));

    // Sweeps validate every scenario first.
    let e = sweep::sweep(&ok, "groups.0.period_s", &[60.0, -1.0], 1, 1).expect_err("bad value");
    assert!(e.to_string().contains("period_s"), "{e}");

    // Absurd numbers of runs: refused from the estimate before any copy of the scenario is
    // made (a trillion copies would abort the process, not return).
    let e = sweep::replicate(&ok, 1_000_000_000_000, 2).expect_err("absurd replications");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("replications: 1000000000000 runs"),
        "{e}"
    );
    assert!(e.to_string().contains("limits.max_memory_bytes"), "{e}");
    let e = sweep::sweep(&ok, "groups.0.period_s", &[30.0, 60.0], usize::MAX, 2)
        .expect_err("absurd sweep");
    assert!(
        e.to_string().contains("sweep: 18446744073709551615 runs"),
        "{e}"
    );
    let e = sweep::paired(&ok, &ok, 1 << 40, 2).expect_err("absurd paired");
    assert!(
        e.to_string()
            .contains("paired baseline: 2199023255552 runs"),
        "{e}"
    );
    // The kept reports count: 100,000 devices with the per-device table are about 10 MiB
    // a report, so 100 of them do not fit a 512 MiB cap although one run does.
    let mut big = base(100_000, 60.0, 60.0);
    big.limits.max_memory_bytes = 512 << 20;
    assert!(big.validate().is_ok());
    let e = sweep::check_batch(&big, 100, 1, "replications").expect_err("reports too big");
    assert!(e.to_string().contains("100 runs"), "{e}");
    assert!(sweep::check_batch(&big, 10, 1, "replications").is_ok());
    // A modest request passes.
    assert_eq!(sweep::replicate(&ok, 3, 2).map(|r| r.len()).ok(), Some(3));
}

fn energy(battery: Battery, harvest: Option<twin::sim::energy::Solar>) -> EnergyConfig {
    EnergyConfig {
        sleep_ma: 0.05,
        idle_ma: 0.0,
        rx_ma: 0.0,
        tx_ma: 40.0,
        cpu_ma: 0.0,
        cpu_s: 0.0,
        tx_s: Some(0.5),
        rx_s: 0.0,
        idle_s: 0.0,
        battery,
        harvest,
    }
}

#[test]
fn battery_models_and_harvest_in_the_engine() {
    let days = 30.0;
    let mut s = base(20, 60.0, days * 86_400.0);
    s.metrics.bucket_s = 86_400.0;
    // Mean current 0.05 + 40 * 0.5 / 60 = 0.3833 mA.
    let mean_ma = 0.05 + 40.0 * 0.5 / 60.0;
    let life = |s: &Scenario| {
        let r = run(s).expect("runs");
        check_conservation(&r);
        r.devices.f64("lifetime_s").expect("col").to_vec()
    };
    s.groups[0].energy = Some(energy(
        Battery::Linear {
            capacity_mah: 100.0,
        },
        None,
    ));
    let linear = life(&s);
    let expect = 100.0 / mean_ma * 3600.0;
    assert!(
        linear.iter().all(|&l| (l - expect).abs() < 120.0),
        "{linear:?} vs {expect}"
    );
    // Peukert with k = 1.2 rated at 20 h: the 40 mA pulses cost more than their charge.
    s.groups[0].energy = Some(energy(
        Battery::Peukert {
            capacity_mah: 100.0,
            exponent: 1.2,
            rated_hours: 20.0,
        },
        None,
    ));
    let peukert = life(&s);
    assert!(peukert.iter().all(|&l| l < 0.9 * expect), "{peukert:?}");
    // KiBaM with a generous available well and fast diffusion is close to linear; a
    // small available well with slow diffusion strands charge and dies sooner.
    s.groups[0].energy = Some(energy(
        Battery::Kibam {
            capacity_mah: 100.0,
            c: 0.9,
            k_per_h: 5.0,
        },
        None,
    ));
    let kibam_easy = life(&s);
    assert!(
        kibam_easy
            .iter()
            .all(|&l| (l - expect).abs() / expect < 0.02),
        "{kibam_easy:?}"
    );
    s.groups[0].energy = Some(energy(
        Battery::Kibam {
            capacity_mah: 100.0,
            c: 0.05,
            k_per_h: 0.001,
        },
        None,
    ));
    let kibam_hard = life(&s);
    assert!(
        kibam_hard.iter().all(|&l| l < 0.5 * expect),
        "{kibam_hard:?}"
    );
    // Solar harvesting with a mean (peak / pi) above the load keeps every device alive;
    // a weak panel only extends life.
    let solar = |peak_ma: f64| twin::sim::energy::Solar {
        peak_ma,
        day_s: 86_400.0,
        sunrise_s: 21_600.0,
    };
    s.groups[0].energy = Some(energy(
        Battery::Linear {
            capacity_mah: 100.0,
        },
        Some(solar(2.0)),
    ));
    let r = run(&s).expect("runs");
    assert_eq!(r.summary.depleted, 0);
    s.groups[0].energy = Some(energy(
        Battery::Linear {
            capacity_mah: 100.0,
        },
        Some(solar(0.5)),
    ));
    let weak = life(&s);
    // Net mean 0.3833 - 0.5/pi = 0.2242 mA.
    let expect_weak = 100.0 / (mean_ma - 0.5 / std::f64::consts::PI) * 3600.0;
    assert!(
        weak.iter()
            .all(|&l| (l - expect_weak).abs() / expect_weak < 0.05),
        "{weak:?} vs {expect_weak}"
    );
}

#[test]
fn commands_from_a_twin_reach_the_virtual_device_over_the_link() {
    let link = LinkConfig {
        latency_s: 0.5,
        ..LinkConfig::default()
    };
    let mut net = SimNetwork::new(link, 5).expect("valid link");
    net.add_device(Box::new(ConveyorDrive::new(9)), 1.0)
        .expect("device");
    let schema = ConveyorDrive::standard_schema();
    let setpoint = schema.signal_id("speed_setpoint").expect("id");
    let mut twin = Twin::builder(schema).build().expect("twin");
    net.advance_to(600.0).expect("advance");
    twin.step(&mut net, 100_000).expect("step");
    assert_eq!(twin.state().reported(setpoint), Some(2.0));
    let now = twin.now().expect("has data");
    twin.command("set_speed", 1.5, now).expect("within limits");
    let report = twin.step(&mut net, 100_000).expect("step");
    assert_eq!(report.sent, 1);
    // Not applied before the link's latency has passed.
    net.advance_to(600.4).expect("advance");
    assert_eq!(net.stats().commands_applied, 0);
    net.advance_to(660.0).expect("advance");
    assert_eq!(net.stats().commands_applied, 1);
    twin.step(&mut net, 100_000).expect("step");
    // The device now reports the new set-point, and its belt slows towards it.
    assert_eq!(twin.state().reported(setpoint), Some(1.5));
    let speed = twin
        .state()
        .reported(twin.schema().signal_id("belt_speed").expect("id"))
        .expect("speed");
    assert!((speed - 1.5).abs() < 0.05, "belt speed {speed}");
}

// ------------------------------------------------------------------ audit of the test gaps

/// Latencies of the devices that delivered (one report each in the jitter tests).
fn delivered_latencies(r: &Report) -> Vec<f64> {
    let mut v: Vec<f64> = r
        .devices
        .f64("latency_mean_s")
        .expect("column")
        .iter()
        .copied()
        .filter(|x| !x.is_nan())
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The `q`-quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[test]
fn a_group_power_cut_and_a_gateway_outage_cost_exactly_their_share() {
    // Two groups of 200 devices reporting every minute for an hour, each on its own
    // gateway, with no link latency (so nothing is in flight at the horizon). Group 0
    // loses power from 600 s to 1,500 s; gateway 1 (group 1's) is down from 1,800 s to
    // 2,700 s. Each window is 900 s, a quarter of the horizon: 15 of each device's 60
    // slots (phases are continuous, so no slot falls on a window's edge).
    let mut s = base(200, 60.0, 3_600.0);
    s.gateways[0].link.latency_s = 0.0;
    s.gateways.push(s.gateways[0].clone());
    let mut g1 = s.groups[0].clone();
    g1.gateways = vec![1];
    s.groups.push(g1);
    s.outages.push(Outage {
        gateways: vec![],
        groups: vec![0],
        start_s: 600.0,
        duration_s: 900.0,
        kind: OutageKind::Down,
    });
    s.outages.push(Outage {
        gateways: vec![1],
        groups: vec![],
        start_s: 1_800.0,
        duration_s: 900.0,
        kind: OutageKind::Down,
    });
    let r = run(&s).expect("runs");
    check_conservation(&r);
    // A device without power takes no reading: its slots in the window are not reports
    // (documented on `Outage.groups`: the devices are down), so group 0 makes 45 each.
    let per_dev = r.devices.u64("reports").expect("col");
    assert!(
        per_dev[..200].iter().all(|&n| n == 45),
        "{:?}",
        &per_dev[..200]
    );
    assert!(
        per_dev[200..].iter().all(|&n| n == 60),
        "{:?}",
        &per_dev[200..]
    );
    assert_eq!(r.summary.reports, 200 * 45 + 200 * 60);
    // Each of group 0's devices was down exactly 900 s; availability loses 200 x 900
    // device-seconds of 400 x 3,600: 1 - 0.125.
    let down = r.devices.f64("down_s").expect("col");
    assert!(down[..200].iter().all(|&d| (d - 900.0).abs() < 1e-6));
    assert!(down[200..].iter().all(|&d| d == 0.0));
    assert!(
        (r.summary.availability - 0.875).abs() < 1e-12,
        "{}",
        r.summary.availability
    );
    // Group 1's devices keep reporting while their gateway is down: 15 readings each are
    // sent into the outage and lost (no retries).
    assert_eq!(r.summary.gateway_down, 200 * 15);
    assert_eq!(r.gateways.u64("lost_down").expect("col"), &[0, 3_000]);
    let gw_down = r.gateways.f64("down_s").expect("col");
    assert!((gw_down[0]).abs() < 1e-12 && (gw_down[1] - 900.0).abs() < 1e-6);
    assert_eq!(r.summary.in_flight, 0);
    assert_eq!(r.summary.undelivered, 3_000);
    assert_eq!(r.summary.delivered, 18_000);
    // Against the 24,000 nominal readings, each window costs its quarter of the horizon
    // for half the devices: 1 - 0.125 - 0.125.
    assert!((r.summary.delivered as f64 / 24_000.0 - 0.75).abs() < 1e-12);
    assert!((r.summary.delivery_ratio - 18_000.0 / 21_000.0).abs() < 1e-12);
    // The timeline shows both windows minute by minute.
    let tl_reports = r.timeline.u64("reports").expect("col");
    let tl_delivered = r.timeline.u64("delivered").expect("col");
    for m in 0..60 {
        let cut = (10..25).contains(&m);
        let gw_out = (30..45).contains(&m);
        assert_eq!(tl_reports[m], if cut { 200 } else { 400 }, "minute {m}");
        let expect = 400 - if cut { 200 } else { 0 } - if gw_out { 200 } else { 0 };
        assert_eq!(tl_delivered[m], expect, "minute {m}");
    }
}

#[test]
fn random_gateway_failures_availability_and_failover() {
    // Both gateways fail at random: exponential up times (MTBF 1,800 s) and repairs
    // (MTTR 200 s), so each is up MTBF / (MTBF + MTTR) = 0.9 of the time in the long run.
    // Over 60 days each makes about 2,600 up/down cycles; by the renewal CLT the up share
    // has sd sqrt(2 MTBF^2 MTTR^2 / ((MTBF + MTTR)^3 T)) = 0.0025, so 0.01 is 4 sd.
    let (mtbf, mttr) = (1_800.0, 200.0);
    let horizon = 60.0 * 86_400.0;
    let mut s = base(10, 60.0, horizon);
    s.metrics.bucket_s = 86_400.0;
    s.gateways[0].link.latency_s = 0.0;
    s.gateways[0].failure = Some(FailureModel::Exponential {
        mtbf_s: mtbf,
        mttr_s: mttr,
    });
    s.gateways.push(s.gateways[0].clone());
    s.groups[0].gateways = vec![0, 1];
    let sd = (2.0 * mtbf * mtbf * mttr * mttr / ((mtbf + mttr).powi(3) * horizon)).sqrt();
    assert!((sd - 0.0025).abs() < 0.0001, "sd {sd}");

    // Without failover every device stays on gateway 0 and loses what it sends while
    // gateway 0 is down: the delivery ratio is gateway 0's availability.
    let alone = run(&s).expect("runs");
    check_conservation(&alone);
    let down = alone.gateways.f64("down_s").expect("col");
    let (a0, a1) = (1.0 - down[0] / horizon, 1.0 - down[1] / horizon);
    let a = mtbf / (mtbf + mttr);
    assert!((a0 - a).abs() < 4.0 * sd, "gateway 0 availability {a0}");
    assert!((a1 - a).abs() < 4.0 * sd, "gateway 1 availability {a1}");
    assert!((a0 - a1).abs() > 1e-6, "the gateways fail independently");
    let dr = alone.summary.delivery_ratio;
    assert!(
        (dr - a0).abs() < 0.003,
        "delivery {dr} vs availability {a0}"
    );
    assert_eq!(alone.gateways.u64("received").expect("col")[1], 0);
    assert_eq!(alone.summary.gateway_down, alone.summary.undelivered);

    // Failing over after one failed transmission, with three retries a few seconds
    // apart: a report is lost only when both gateways are down together, a share
    // (1 - a0)(1 - a1) of the time for independent gateways (about 500 joint outages
    // over the horizon: sd of that share about 0.0006).
    let both = (1.0 - a0) * (1.0 - a1);
    s.groups[0].retry = RetryPolicy {
        max_retries: 3,
        ack_timeout_s: 1.0,
        backoff_s: 1.0,
        failover_after: 1,
    };
    let failover = run(&s).expect("runs");
    check_conservation(&failover);
    let lost = failover.summary.undelivered as f64 / failover.summary.reports as f64;
    assert!(
        (lost - both).abs() < 0.003,
        "lost {lost} vs both down {both}"
    );
    assert!(failover.summary.delivery_ratio > 0.985);
    let recv = failover.gateways.u64("received").expect("col");
    assert!(recv[1] > recv[0] / 20, "{recv:?}");

    // Least-loaded balancing never sends to a gateway that is down: with no retries at
    // all the loss is again the share of time both are down.
    s.groups[0].retry = RetryPolicy::default();
    s.groups[0].balancing = Balancing::LeastLoaded;
    let ll = run(&s).expect("runs");
    check_conservation(&ll);
    let lost = ll.summary.undelivered as f64 / ll.summary.reports as f64;
    assert!(
        (lost - both).abs() < 0.003,
        "lost {lost} vs both down {both}"
    );
    // Ties (both idle) go to the first gateway, so gateway 1 carries just the reports made
    // while gateway 0 is down and it is up: a share (1 - a0) a1 / (1 - both) of deliveries.
    let recv = ll.gateways.u64("received").expect("col");
    let share1 = recv[1] as f64 / (recv[0] + recv[1]) as f64;
    let expect1 = (1.0 - a0) * a1 / (1.0 - both);
    assert!(
        (share1 - expect1).abs() < 0.005,
        "gateway 1 share {share1} vs {expect1}"
    );
}

#[test]
fn link_jitter_stays_within_its_bounds_and_spreads_latency() {
    // 5,000 devices reporting once an hour, for just under an hour: each delivers at most
    // one packet, so its per-device mean latency is that packet's latency. Packets are
    // 0.7 s apart on average and take 0.1 ms on the link (20 bytes at 1.6 Mbit/s), so
    // none waits for another (two within 0.1 ms: about 5e-5 expected pairs): latency =
    // latency_s + transmission time + a uniform jitter in [0, 20 ms).
    let (lat, jit, bps) = (0.05, 0.02, 1_600_000.0);
    let tx = 20.0 * 8.0 / bps;
    let mut s = base(5_000, 3_600.0, 3_599.0);
    s.gateways[0].link = LinkConfig {
        latency_s: lat,
        jitter_s: jit,
        bandwidth_bps: Some(bps),
        ..LinkConfig::default()
    };
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert!(r
        .devices
        .u64("delivered")
        .expect("col")
        .iter()
        .all(|&n| n <= 1));
    let l = delivered_latencies(&r);
    assert!(l.len() > 4_900, "{}", l.len());
    let lo = lat + tx;
    assert!(
        l.iter().all(|&x| x >= lo - 1e-12 && x < lo + jit),
        "{:?} {:?}",
        l.first(),
        l.last()
    );
    // Uniform jitter: the extremes reach both ends, the median is the middle, and p99 - p50
    // is 0.49 of the jitter (quantile sd about 0.007 x 20 ms = 0.15 ms).
    assert!(l[0] - lo < 0.0005 && lo + jit - l[l.len() - 1] < 0.0005);
    let (p50, p99) = (quantile(&l, 0.5), quantile(&l, 0.99));
    assert!((p50 - (lo + 0.5 * jit)).abs() < 0.0006, "p50 {p50}");
    assert!(
        (p99 - p50 - 0.49 * jit).abs() < 0.0006,
        "p99 - p50 {}",
        p99 - p50
    );
    // The report's histogram (bins 4.4 % wide, about 3 ms here) agrees.
    let sm = &r.summary;
    let spread = sm.latency_p99_s.expect("some") - sm.latency_p50_s.expect("some");
    assert!(
        (spread - 0.49 * jit).abs() < 0.004,
        "histogram p99 - p50 {spread}"
    );
    // The mean is latency + transmission + jit / 2 (sd jit / sqrt(12 n) = 0.08 ms).
    let mean = sm.latency_mean_s.expect("some");
    assert!((mean - (lo + 0.5 * jit)).abs() < 0.0003, "mean {mean}");
    assert!(sm.latency_max_s.expect("some") < lo + jit);

    // No jitter: every packet takes exactly latency + transmission time.
    s.gateways[0].link.jitter_s = 0.0;
    let r = run(&s).expect("runs");
    let l = delivered_latencies(&r);
    assert!(l.iter().all(|&x| (x - lo).abs() < 1e-12), "{:?}", l.last());
    let sm = &r.summary;
    assert_eq!(sm.latency_p50_s, sm.latency_p99_s);
    assert!((sm.latency_max_s.expect("some") - lo).abs() < 1e-12);

    // Dense traffic (a packet every 5 ms, jitter 20 ms) on an unlimited link: arrivals
    // stay in order, which delays some packets behind earlier ones, but never beyond the
    // bound (the packet ahead was sensed earlier and took less than latency + jitter).
    let mut s = base(2_000, 10.0, 9.9);
    s.gateways[0].link = LinkConfig {
        latency_s: lat,
        jitter_s: jit,
        ..LinkConfig::default()
    };
    let r = run(&s).expect("runs");
    check_conservation(&r);
    let l = delivered_latencies(&r);
    assert!(l.len() > 1_900);
    assert!(l.iter().all(|&x| x >= lat - 1e-12 && x < lat + jit));
    // Waiting for the packet ahead raises the mean above the uniform lat + jit / 2.
    let mean = r.summary.latency_mean_s.expect("some");
    assert!(mean > lat + 0.5 * jit + 0.001, "mean {mean}");
}

#[test]
fn replayed_history_reaches_the_gateway_value_for_value() {
    // Every device replays 1.0, then 1.2 from 600 s, 4.0 from 1,200 s and 8.0 from
    // 1,800 s; a minute apart, each device reads 10, 10, 10 and 30 of them.
    let history = vec![(0.0, 1.0), (600.0, 1.2), (1_200.0, 4.0), (1_800.0, 8.0)];
    let mut s = base(100, 60.0, 3_600.0);
    s.gateways[0].link.latency_s = 0.0;
    s.gateways.push(s.gateways[0].clone());
    // Gateway 0: send-on-delta 0.5 forwards 1.0, 4.0 and 8.0 (1.2 is within 0.5 of 1.0).
    s.gateways[0].edge.deadband = Some(0.5);
    // Gateway 1: plausible range [0, 5] drops the 8.0 readings.
    s.gateways[1].edge.filter = Some((0.0, 5.0));
    s.groups[0].signal.history = Some(history);
    let mut g1 = s.groups[0].clone();
    g1.gateways = vec![1];
    // A +10 step fault from 600 s to 1,200 s on group 1 applies on top of the history:
    // those 1.2 readings become 11.2, out of range too.
    g1.signal.faults.push(twin::sim::signal::Fault {
        kind: twin::sim::signal::FaultKind::Step,
        start_s: 600.0,
        duration_s: Some(600.0),
        magnitude: 10.0,
        probability: 0.0,
        share: 1.0,
    });
    s.groups.push(g1);
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert_eq!(r.summary.delivered, 12_000);
    let fwd = r.gateways.u64("forwarded").expect("col");
    let sup = r.gateways.u64("suppressed").expect("col");
    let filt = r.gateways.u64("filtered").expect("col");
    assert_eq!((fwd[0], sup[0]), (300, 6_000 - 300));
    assert_eq!((fwd[1], filt[1]), (2_000, 4_000));
    // Without the step, only the 30 readings of 8.0 per device are out of range.
    s.groups[1].signal.faults.clear();
    let r = run(&s).expect("runs");
    let filt = r.gateways.u64("filtered").expect("col");
    assert_eq!(filt[1], 3_000);
}

#[test]
fn lora_capture_favours_devices_near_the_gateway() {
    // One channel, 400 devices uniform in a disc of radius R around the gateway, each
    // sending a 56.6 ms packet a minute at a uniform time: pure ALOHA with G = 0.377. With
    // capture at 6 dB a packet survives every overlap with a packet from farther than
    // 10^(6 / 20.8) = 1.94 times its own distance (log-distance exponent 2.08), so a device
    // at distance r succeeds with probability exp(-2 G min(1, (1.94 r / R)^2)): near ones
    // almost always, those beyond R / 1.94 as in plain ALOHA.
    let lora = LoRaConfig {
        channels: 1,
        ..LoRaConfig::default()
    };
    let c = lora.capture_db.expect("capture on by default");
    let factor = 10f64.powf(c / (10.0 * lora.path_loss_exponent));
    let toa = lora.time_on_air_s(20);
    let (n, period) = (400u32, 60.0);
    let radius = 0.8 * lora.range_m();
    let mut s = base(n, period, 6.0 * 3_600.0);
    s.groups[0].jitter_s = 59.0;
    s.groups[0].radio = Radio::Lora(lora);
    s.groups[0].placement = Placement::Disc {
        x: 0.0,
        y: 0.0,
        radius,
    };
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert_eq!(r.summary.out_of_range, 0);
    let g = f64::from(n) * toa / period;
    let (x, y) = (
        r.devices.f64("x").expect("col"),
        r.devices.f64("y").expect("col"),
    );
    let reports = r.devices.u64("reports").expect("col");
    let failed = r.devices.u64("failed_transmissions").expect("col");
    // Mean observed and predicted success per ring of r / R.
    let rings = [(0.0, 0.3), (0.3, 0.5), (0.55, 1.0)];
    let mut observed = Vec::new();
    for &(a, b) in &rings {
        let (mut obs, mut pred, mut k) = (0.0, 0.0, 0.0);
        for d in 0..n as usize {
            let rr = x[d].hypot(y[d]) / radius;
            if rr >= a && rr < b {
                obs += 1.0 - failed[d] as f64 / reports[d] as f64;
                pred += (-2.0 * g * (factor * rr).powi(2).min(1.0)).exp();
                k += 1.0;
            }
        }
        assert!(k >= 20.0, "ring {a}-{b}: {k} devices");
        let (obs, pred) = (obs / k, pred / k);
        assert!(
            (obs - pred).abs() < 0.03,
            "ring {a}-{b}: success {obs} vs {pred}"
        );
        observed.push(obs);
    }
    // The inner ring does much better than the outer one, which sees plain ALOHA.
    assert!(
        observed[0] > 0.85 && observed[0] > observed[2] + 0.35,
        "{observed:?}"
    );
    assert!(
        (observed[2] - (-2.0 * g).exp()).abs() < 0.03,
        "{observed:?}"
    );
}

#[test]
fn least_loaded_balancing_steers_away_and_keeps_both_links_under_capacity() {
    // Gateway 0 is down for the whole run: least-loaded never sends to it, so without any
    // retry or failover nothing is lost.
    let mut s = base(200, 60.0, 3_600.0);
    s.gateways.push(GatewayConfig::default());
    s.groups[0].gateways = vec![0, 1];
    s.groups[0].balancing = Balancing::LeastLoaded;
    s.outages.push(Outage {
        gateways: vec![0],
        groups: vec![],
        start_s: 0.0,
        duration_s: 10_000.0,
        kind: OutageKind::Down,
    });
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert_eq!(r.summary.gateway_down, 0);
    assert_eq!(r.summary.undelivered, 0);
    assert_eq!(r.gateways.u64("received").expect("col")[0], 0);
    assert_eq!(r.summary.delivered + r.summary.in_flight, 12_000);

    // 1,200 devices a minute offer 20 packets/s of 160 bits to links of 2 kbit/s
    // (12.5 packets/s each, queues of 100 packets): 1.6 times one link.
    let mut s = base(1_200, 60.0, 3_599.0);
    s.gateways[0].link.latency_s = 0.0;
    s.gateways[0].link.bandwidth_bps = Some(2_000.0);
    s.gateways[0].link.queue_bytes = 2_000;
    s.gateways.push(s.gateways[0].clone());
    s.groups[0].gateways = vec![0, 1];
    s.groups[0].jitter_s = 30.0;
    let capacity = 12.5 * 3_599.0;
    // All on the first gateway: it serves at its rate and drops the rest.
    let first = run(&s).expect("runs");
    check_conservation(&first);
    let d = first.summary.delivered as f64;
    assert!(
        d <= capacity + 100.0 && d > 0.99 * capacity,
        "{d} vs {capacity}"
    );
    let drop = first.summary.dropped_queue as f64 / first.summary.reports as f64;
    assert!((drop - (1.0 - 1.0 / 1.6)).abs() < 0.01, "drop share {drop}");
    // Least loaded: each link at 80 %, joining the shorter queue; nothing is dropped and
    // neither gateway takes more than its link carries.
    s.groups[0].balancing = Balancing::LeastLoaded;
    let ll = run(&s).expect("runs");
    check_conservation(&ll);
    assert_eq!(ll.summary.dropped_queue, 0);
    let recv = ll.gateways.u64("received").expect("col");
    assert!(
        recv.iter().all(|&x| (x as f64) <= capacity + 100.0),
        "{recv:?} vs {capacity}"
    );
    assert!(
        recv.iter()
            .all(|&x| x as f64 > 0.375 * ll.summary.delivered as f64 - 100.0),
        "{recv:?}"
    );
    assert_eq!(recv[0] + recv[1], ll.summary.delivered);
}

#[test]
fn weibull_wear_out_with_repair_reaches_the_renewal_availability() {
    // Up times Weibull (shape 3, scale 50 days: wear-out), repairs exponential (5 days),
    // a repaired device as good as new. Starting new, the expected up time over [0, T] is
    // A T + c + o(1) with A = E[X] / (E[X] + E[Y]) and
    // c = E[X] E[C^2] / (2 mu^2) - E[X^2] / (2 mu), C = X + Y, mu = E[C]
    // (key renewal theorem; c = 0 when repairs are instant).
    let day = 86_400.0;
    let (shape, scale, mttr) = (3.0, 50.0 * day, 5.0 * day);
    let horizon = 2_000.0 * day;
    let mut s = base(2_000, 5.0 * day, horizon);
    s.metrics.bucket_s = 20.0 * day;
    s.groups[0].failure = Some(FailureModel::Weibull {
        shape,
        scale_s: scale,
        mttr_s: Some(mttr),
    });
    let r = run(&s).expect("runs");
    check_conservation(&r);
    // E[X] = int R, E[X^2] = int 2 t R with R(t) = exp(-(t / scale)^shape).
    let (mut ex, mut ex2) = (0.0, 0.0);
    let steps = 200_000;
    let dt = 5.0 * scale / steps as f64;
    for i in 0..steps {
        let t = (i as f64 + 0.5) * dt;
        let rel = (-(t / scale).powf(shape)).exp();
        ex += rel * dt;
        ex2 += 2.0 * t * rel * dt;
    }
    // E[X] = scale Gamma(4/3).
    assert!(
        (ex / scale - 0.892_979_511_569_249).abs() < 1e-6,
        "{}",
        ex / scale
    );
    let mu = ex + mttr;
    let ec2 = ex2 + 2.0 * ex * mttr + 2.0 * mttr * mttr;
    let a_inf = ex / mu;
    let c = ex * ec2 / (2.0 * mu * mu) - ex2 / (2.0 * mu);
    let expect = a_inf + c / horizon;
    // 2,000 devices of about 40 cycles each: sd of the mean up share about 0.0004.
    let a = r.summary.availability;
    assert!(
        (a - expect).abs() < 0.002,
        "availability {a} vs {expect} (A = {a_inf})"
    );
    // The share of slots a device reports in follows the availability.
    let nominal = 2_000.0 * horizon / (5.0 * day);
    let ratio = r.summary.reports as f64 / (nominal * a);
    assert!((ratio - 1.0).abs() < 0.01, "reports ratio {ratio}");
}

#[test]
fn cpu_and_radio_energy_match_the_closed_form() {
    // Per report the CPU draws 5 mA for 0.2 s; per transmission 20 mA x 0.1 s on air,
    // 10 mA x 0.05 s receiving and 2 mA x 0.5 s idle; 0.01 mA asleep the whole time.
    let horizon = 6.0 * 3_600.0;
    let cfg = EnergyConfig {
        sleep_ma: 0.01,
        idle_ma: 2.0,
        rx_ma: 10.0,
        tx_ma: 20.0,
        cpu_ma: 5.0,
        cpu_s: 0.2,
        tx_s: Some(0.1),
        rx_s: 0.05,
        idle_s: 0.5,
        battery: Battery::Linear {
            capacity_mah: 10_000.0,
        },
        harvest: None,
    };
    let per_report = 5.0 * 0.2 / 3_600.0;
    let per_tx = (20.0 * 0.1 + 10.0 * 0.05 + 2.0 * 0.5) / 3_600.0;
    let sleep = 0.01 * horizon / 3_600.0;
    let mut s = base(50, 60.0, horizon);
    s.groups[0].energy = Some(cfg.clone());
    let r = run(&s).expect("runs");
    check_conservation(&r);
    assert_eq!(r.summary.depleted, 0);
    // One transmission per report: each device's charge is exact.
    let used = r.devices.f64("energy_mah").expect("col");
    let reports = r.devices.u64("reports").expect("col");
    for (u, &k) in used.iter().zip(reports) {
        let expect = sleep + k as f64 * (per_report + per_tx);
        assert!((u - expect).abs() < 1e-9, "{u} vs {expect}");
    }
    // With losses and retries: the sleep of every device, a CPU pulse per report, a
    // radio pulse per transmission.
    s.gateways[0].link.loss = LossModel::Bernoulli { p: 0.3 };
    s.groups[0].retry = RetryPolicy {
        max_retries: 2,
        ..RetryPolicy::default()
    };
    let r = run(&s).expect("runs");
    check_conservation(&r);
    let sm = &r.summary;
    assert!(sm.transmissions > sm.reports + sm.reports / 5);
    let expect = 50.0 * sleep + sm.reports as f64 * per_report + sm.transmissions as f64 * per_tx;
    assert!(
        (sm.energy_mah - expect).abs() < 1e-9 * expect,
        "{} vs {expect}",
        sm.energy_mah
    );
    // The CPU's share is exactly reports x 5 mA x 0.2 s (the same random numbers).
    s.groups[0].energy = Some(EnergyConfig { cpu_ma: 0.0, ..cfg });
    let no_cpu = run(&s).expect("runs");
    assert_eq!(no_cpu.summary.transmissions, sm.transmissions);
    let cpu = sm.energy_mah - no_cpu.summary.energy_mah;
    assert!(
        (cpu - sm.reports as f64 * per_report).abs() < 1e-9,
        "CPU share {cpu}"
    );
}

/// A busy network: lossy, jittered, bandwidth-bound (so the queue drops), five drives on
/// different periods.
fn busy_network() -> SimNetwork {
    let link = LinkConfig {
        latency_s: 0.3,
        jitter_s: 0.2,
        bandwidth_bps: Some(2_000.0),
        queue_bytes: 400,
        loss: LossModel::GilbertElliott {
            p: 0.05,
            r: 0.3,
            k: 0.99,
            h: 0.2,
        },
    };
    let mut net = SimNetwork::new(link, 21).expect("valid link");
    for (i, period) in [0.5, 0.7, 1.0, 1.3, 2.0].into_iter().enumerate() {
        net.add_device(Box::new(ConveyorDrive::new(100 + i as u64)), period)
            .expect("device");
    }
    net
}

/// Drive a network from `from_s` on: advance, take part of what arrived, and send a
/// set-point now and then; return every sample taken.
fn drive(net: &mut SimNetwork, from_s: f64, steps: u32) -> twin::SampleBatch {
    let schema = ConveyorDrive::standard_schema();
    let cmd_id = schema.command_id("set_speed").expect("command");
    let mut gate = twin::CommandGate::new(&schema);
    let mut out = twin::SampleBatch::new();
    for k in 0..steps {
        let t = from_s + f64::from(k + 1) * 2.5;
        net.advance_to(t).expect("advance");
        net.poll(&mut out, 7).expect("poll");
        if k % 4 == 1 {
            let value = 1.0 + f64::from(k % 3) * 0.25;
            if let Ok(c) = gate.validate(&schema, cmd_id, value, twin::Timestamp::from_secs_f64(t))
            {
                net.send(&c).expect("send");
            }
        }
    }
    out
}

#[test]
fn a_network_taken_apart_and_rebuilt_from_its_state_continues_identically() {
    for save_at in [1u32, 9, 30] {
        let mut kept = busy_network();
        let mut saved = busy_network();
        drive(&mut kept, 0.0, save_at);
        drive(&mut saved, 0.0, save_at);
        let state = saved.state();
        let st = saved.stats();
        // Saved while things are under way: packets on the link, samples waiting, a
        // command on its way (sent at step 1, 5, 9, ... and 0.3 s in flight).
        assert!(st.in_flight > 0 && st.ready > 0, "{st:?}");
        assert_eq!(state.devices(), 5);
        // Both binary and JSON forms come back equal.
        let bytes = state.to_bytes().expect("bytes");
        let back = twin::sim::connection::NetworkState::from_bytes(&bytes).expect("load");
        assert_eq!(back, state);
        let json = serde_json::to_string(&state).expect("json");
        assert_eq!(
            serde_json::from_str::<twin::sim::connection::NetworkState>(&json).expect("json"),
            state
        );
        let mut restored =
            SimNetwork::from_state(back, saved.into_entities()).expect("a consistent state");
        assert_eq!(restored.stats(), kept.stats());
        assert_eq!(restored.state(), kept.state());
        let t0 = f64::from(save_at) * 2.5;
        let a = drive(&mut kept, t0, 40);
        let b = drive(&mut restored, t0, 40);
        assert!(a.len() > 100, "{}", a.len());
        assert_eq!(a, b);
        assert_eq!(restored.stats(), kept.stats());
        // The run carried commands and met the link's losses and drops.
        let st = kept.stats();
        assert!(
            st.commands_applied > 0 && st.lost > 0 && st.dropped > 0,
            "{st:?}"
        );
    }
}

#[test]
fn a_network_state_grows_with_what_is_under_way_not_with_time() {
    let mut net = busy_network();
    drive(&mut net, 0.0, 10);
    let mut taken = twin::SampleBatch::new();
    net.poll(&mut taken, usize::MAX).expect("poll");
    let early = net.state().to_bytes().expect("bytes").len();
    drive(&mut net, 25.0, 4_000);
    net.poll(&mut taken, usize::MAX).expect("poll");
    let late = net.state().to_bytes().expect("bytes").len();
    // 400 times as long a history, about the same state (the packets on the link vary).
    assert!(late < 2 * early, "{early} bytes early, {late} bytes late");
}

#[test]
fn a_damaged_network_state_is_refused_with_the_reason() {
    let mut net = busy_network();
    drive(&mut net, 0.0, 9);
    let good = serde_json::to_value(net.state()).expect("json");
    let entities = || -> Vec<Box<dyn twin::entity::PhysicalEntity + Send>> {
        (0..5)
            .map(|i| {
                Box::new(ConveyorDrive::new(i)) as Box<dyn twin::entity::PhysicalEntity + Send>
            })
            .collect()
    };
    let refuse = |edit: &dyn Fn(&mut serde_json::Value), expect: &str| {
        let mut v = good.clone();
        edit(&mut v);
        let state: twin::sim::connection::NetworkState =
            serde_json::from_value(v).expect("still well-formed");
        let e = SimNetwork::from_state(state, entities()).expect_err(expect);
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains(expect), "{e} lacks {expect:?}");
    };
    let arrival = good["events"]
        .as_array()
        .expect("events")
        .iter()
        .position(|e| e["kind"] == 1)
        .expect("a packet on the link");
    let sensing = good["events"]
        .as_array()
        .expect("events")
        .iter()
        .position(|e| e["kind"] == 0)
        .expect("a sensing event");
    refuse(
        &|v| v["events"][0]["device"] = 9.into(),
        "device 9 does not exist",
    );
    refuse(
        &|v| v["events"][arrival]["slot"] = 10_000.into(),
        "packet slot 10000 is invalid",
    );
    refuse(&|v| v["events"][0]["time"] = 0.into(), "is out of range");
    refuse(&|v| v["events"][0]["kind"] = 7.into(), "unknown kind 7");
    refuse(
        &|v| {
            v["events"].as_array_mut().expect("events").remove(sensing);
        },
        "has no sensing event",
    );
    refuse(
        &|v| {
            let e = v["events"][sensing].clone();
            v["events"].as_array_mut().expect("events").push(e);
        },
        "senses twice",
    );
    assert!(!good["free"].as_array().expect("free").is_empty());
    refuse(
        &|v| {
            v["free"].as_array_mut().expect("free").pop();
        },
        "neither on the link nor free",
    );
    refuse(&|v| v["stats"]["sensed"] = 1.into(), "do not reconcile");
    refuse(&|v| v["stats"]["in_flight"] = 0.into(), "do not reconcile");
    refuse(
        &|v| v["devices"][2]["period_ns"] = 0.into(),
        "device 2: period",
    );
    refuse(&|v| v["now_ns"] = u64::MAX.into(), "the clock");
    refuse(&|v| v["link"]["latency_s"] = (-1.0).into(), "latency");
    // Right state, wrong number of entities.
    let e = SimNetwork::from_state(net.state(), entities().into_iter().take(4).collect())
        .expect_err("4 entities for 5 devices");
    assert!(e.to_string().contains("5 devices but 4 entities"), "{e}");
    // Bytes that are not a state.
    let e = twin::sim::connection::NetworkState::from_bytes(b"not cbor").expect_err("garbage");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("not a saved state"), "{e}");
}
