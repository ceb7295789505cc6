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
