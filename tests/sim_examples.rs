//! The headline numbers of the sim examples, checked through the library cases
//! (`twin::sim::cases`) that the examples print.

use twin::sim::cases::{building, grid, traffic};

#[test]
fn smart_grid_demand_response_cuts_the_peak_on_paired_runs() {
    let cfg = grid::GridConfig {
        houses: 400,
        seed: 7,
        ..grid::GridConfig::default()
    };
    let r = grid::compare(&cfg).expect("runs");
    let (base, shift, both) = (&r[0], &r[1], &r[2]);
    assert_eq!(base.strategy, grid::Strategy::Baseline);
    // Paired on common random numbers: the same base load and the same charging energy.
    assert_eq!(base.base_kwh, shift.base_kwh);
    assert_eq!(base.base_kwh, both.base_kwh);
    assert!((base.charging_kwh - shift.charging_kwh).abs() < 1e-6);
    assert!((base.charging_kwh - both.charging_kwh).abs() < 1e-6);
    // Shifting charging alone leaves heating untouched, event for event.
    assert_eq!(base.heating_kwh, shift.heating_kwh);
    assert_eq!(base.events, shift.events);
    // The baseline peaks in the evening window; shifting charging cuts that peak.
    assert!(
        (17.0..21.0).contains(&base.peak_at_h),
        "baseline peak at {} h",
        base.peak_at_h
    );
    let cut = shift.peak_reduction_vs(base);
    assert!(cut > 0.10, "peak reduction {cut}");
    assert_eq!(cut, (base.peak_kw - shift.peak_kw) / base.peak_kw);
    // A setback lowers heating energy and costs some comfort.
    assert!(both.heating_kwh < base.heating_kwh);
    assert!(both.discomfort_deg_h >= base.discomfort_deg_h);
    // Energy is conserved across the demand intervals.
    let total: f64 = base
        .demand_kw
        .iter()
        .map(|kw| kw * grid::STEP_S / 3600.0)
        .sum();
    let parts = base.heating_kwh + base.charging_kwh + base.base_kwh;
    assert!((total - parts).abs() < 1e-6 * parts);
    // The demand curve spans the horizon; the peak is its maximum, at the reported time.
    assert_eq!(base.demand_kw.len() as f64, grid::HORIZON_S / grid::STEP_S);
    let at = base.interval_start_h();
    let top = base
        .demand_kw
        .iter()
        .position(|&x| x == base.peak_kw)
        .expect("peak is in the curve");
    assert_eq!(at[top], base.peak_at_h);
    // One strategy on its own gives the same result as inside the comparison.
    let alone = grid::run(&cfg, grid::Strategy::ShiftCharging).expect("runs");
    assert_eq!(&alone, shift);
}

#[test]
fn smart_grid_results_round_trip_through_json() {
    let cfg = grid::GridConfig {
        houses: 50,
        ..grid::GridConfig::default()
    };
    let r = grid::compare(&cfg).expect("runs");
    let back: Vec<grid::GridResult> =
        serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parses");
    assert_eq!(back, r);
}

#[test]
fn building_coverage_grows_and_delivery_falls_with_sensor_count() {
    let cfg = building::BuildingConfig {
        counts: vec![10, 50, 200],
        threads: 2,
        ..building::BuildingConfig::default()
    };
    let rows = building::study(&cfg).expect("runs");
    assert_eq!(rows.len(), 3);
    // More sensors cover more floor...
    assert!(rows[0].coverage < rows[1].coverage && rows[1].coverage < rows[2].coverage);
    assert!(rows[2].coverage > 0.8, "{rows:?}");
    // ...but collide more: delivery falls and collisions rise.
    assert!(rows[0].delivery > rows[2].delivery, "{rows:?}");
    assert!(rows[0].collisions < rows[2].collisions);
    // Collisions dominate the losses: delivery is near pure ALOHA's e^(-2G) for 200
    // sensors on 3 channels sending 56.6 ms a minute.
    let g = 200.0 * 0.056576 / 60.0 / 3.0;
    assert!(
        (rows[2].delivery - (-2.0_f64 * g).exp()).abs() < 0.05,
        "{rows:?}"
    );
    // Working sensors never outnumber the sensors.
    assert!(rows.iter().all(|r| r.working <= r.sensors && r.working > 0));
}

#[test]
fn traffic_green_wave_beats_simultaneous_signals() {
    let r = traffic::run(&traffic::TrafficConfig::default()).expect("runs");
    let (a, b) = (&r[0], &r[1]);
    assert_eq!(r.len(), 3);
    for r in &r {
        // Every vehicle drove through and reported at every signal.
        assert_eq!(r.vehicles, 600);
        assert_eq!(r.reports, 600 * traffic::INTERSECTIONS as u64);
        assert_eq!(r.travel_times_s.len(), 600);
        // Nobody beats free flow.
        let free = traffic::free_flow_s();
        assert!(r.mean_travel_s >= free - 1e-6);
        assert!(r.travel_times_s[0] >= free - 1e-6);
        let mean = r.travel_times_s.iter().sum::<f64>() / 600.0;
        assert!((mean - r.mean_travel_s).abs() < 1e-9);
    }
    // The green wave stops vehicles far less often and gets them through sooner.
    assert!(
        b.stops_per_vehicle < 0.5 * a.stops_per_vehicle,
        "{a:?} {b:?}"
    );
    assert!(b.mean_travel_s < a.mean_travel_s, "{a:?} {b:?}");
    // One plan on its own gives the same result as inside the comparison.
    let alone = traffic::run_plan(600, 3, &traffic::plans()[1]).expect("runs");
    assert_eq!(&alone, b);
}

/// Share of cars charging at `t` hours: arrival uniform on [17, 20) h, duration uniform on
/// [1.5, 3.5) h, so P(arrival <= t < arrival + duration).
fn charging_share(t: f64) -> f64 {
    let n = 2_000;
    let mut p = 0.0;
    for i in 0..n {
        let a = 17.0 + 3.0 * (i as f64 + 0.5) / n as f64;
        let g = t - a;
        p += if g < 0.0 {
            0.0
        } else if g < 1.5 {
            1.0
        } else {
            ((3.5 - g) / 2.0).clamp(0.0, 1.0)
        };
    }
    p / n as f64
}

#[test]
fn smart_grid_peak_cut_is_explained_by_its_charging_share_and_participation() {
    // The example's headline: 2,000 houses on seed 7 cut the peak by 37.4 % where the
    // source study's city case reports about 15 %.
    let cfg = grid::GridConfig {
        houses: 2_000,
        seed: 7,
        strategies: vec![grid::Strategy::Baseline, grid::Strategy::ShiftCharging],
    };
    let r = grid::compare(&cfg).expect("runs");
    let (base, shift) = (&r[0], &r[1]);
    let cut = shift.peak_reduction_vs(base);
    assert!((100.0 * cut - 37.4).abs() < 0.05, "cut {cut}");
    assert_eq!(base.peak_at_h, 19.75);
    // At the baseline's peak interval the paired curves differ by the charging only; its
    // closed form is 3.7 kW x the mean share of cars charging over the interval (0.80),
    // with a sampling sd of 3.7 sqrt(0.8 x 0.2 / 2000) = 0.033 kW per house.
    let b = (base.peak_at_h * 4.0) as usize;
    let ev_per_house = (base.demand_kw[b] - shift.demand_kw[b]) / 2_000.0;
    let steps = 100;
    let share = (0..steps)
        .map(|i| charging_share(base.peak_at_h + 0.25 * (i as f64 + 0.5) / steps as f64))
        .sum::<f64>()
        / steps as f64;
    assert!((share - 0.80).abs() < 0.01, "share {share}");
    assert!(
        (ev_per_house - grid::EV_KW * share).abs() < 0.12,
        "{ev_per_house} kW per house vs {}",
        grid::EV_KW * share
    );
    // Charging is close to half the peak: what makes the cut so large.
    let ev_share = ev_per_house * 2_000.0 / base.peak_kw;
    assert!(
        (0.42..0.50).contains(&ev_share),
        "charging share of the peak {ev_share}"
    );
    // Partial participation: a share p shifting gives the expected demand
    // (1 - p) baseline + p shifted: the full cut at p = 1, 15 % near a third of the
    // households.
    let reduction_at = |p: f64| {
        let peak = base
            .demand_kw
            .iter()
            .zip(&shift.demand_kw)
            .map(|(x, y)| (1.0 - p) * x + p * y)
            .fold(f64::MIN, f64::max);
        (base.peak_kw - peak) / base.peak_kw
    };
    assert!((reduction_at(1.0) - cut).abs() < 1e-12);
    assert_eq!(reduction_at(0.0), 0.0);
    // Up to 90 % the evening falls; beyond, the night's valley filling is the new peak,
    // so full participation (37.4 %) does a little worse than 90 % (38.9 %).
    let by_p: Vec<f64> = (0..=20).map(|k| reduction_at(k as f64 / 20.0)).collect();
    assert!(by_p[..=18].windows(2).all(|w| w[1] > w[0]), "{by_p:?}");
    assert!(by_p[18] > by_p[19] && by_p[19] > by_p[20], "{by_p:?}");
    assert!((by_p[18] - 0.389).abs() < 0.001, "{by_p:?}");
    let need = (1..=100)
        .map(|k| k as f64 / 100.0)
        .find(|&p| reduction_at(p) >= 0.15)
        .expect("reachable");
    assert!((0.30..=0.40).contains(&need), "15 % needs p = {need}");
    // While the baseline's peak interval stays the peak, the cut is p x charging share.
    assert!((reduction_at(0.1) - 0.1 * ev_share).abs() < 1e-9);
}
