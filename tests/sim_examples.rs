//! The headline numbers of the sim examples, checked.

#[path = "../examples/sim_smart_grid.rs"]
mod smart_grid;

use smart_grid::{compare, Strategy};

#[test]
fn smart_grid_demand_response_cuts_the_peak_on_paired_runs() {
    let r = compare(400, 7);
    let (base, shift, both) = (&r[0], &r[1], &r[2]);
    assert_eq!(base.strategy, Strategy::Baseline);
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
    let cut = (base.peak_kw - shift.peak_kw) / base.peak_kw;
    assert!(cut > 0.10, "peak reduction {cut}");
    // A setback lowers heating energy and costs some comfort.
    assert!(both.heating_kwh < base.heating_kwh);
    assert!(both.discomfort_deg_h >= base.discomfort_deg_h);
    // Energy is conserved across the demand intervals.
    let total: f64 = base
        .demand_kw
        .iter()
        .map(|kw| kw * smart_grid::STEP_S / 3600.0)
        .sum();
    let parts = base.heating_kwh + base.charging_kwh + base.base_kwh;
    assert!((total - parts).abs() < 1e-6 * parts);
}

#[path = "../examples/sim_building.rs"]
mod building;

#[test]
fn building_coverage_grows_and_delivery_falls_with_sensor_count() {
    let rows = building::study(&[10, 50, 200], 2).expect("runs");
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
}

#[path = "../examples/sim_traffic.rs"]
mod traffic;

#[test]
fn traffic_green_wave_beats_simultaneous_signals() {
    let [simultaneous, wave, wave60] = traffic::plans();
    let a = traffic::run(600, 3, simultaneous);
    let b = traffic::run(600, 3, wave);
    let c = traffic::run(600, 3, wave60);
    for r in [&a, &b, &c] {
        // Every vehicle drove through and reported at every signal.
        assert_eq!(r.vehicles, 600);
        assert_eq!(r.reports, 600 * traffic::INTERSECTIONS as u64);
        // Nobody beats free flow.
        let free = traffic::INTERSECTIONS as f64 * traffic::SPACING_M / traffic::SPEED_MS;
        assert!(r.mean_travel_s >= free - 1e-6);
    }
    // The green wave stops vehicles far less often and gets them through sooner.
    assert!(
        b.stops_per_vehicle < 0.5 * a.stops_per_vehicle,
        "{a:?} {b:?}"
    );
    assert!(b.mean_travel_s < a.mean_travel_s, "{a:?} {b:?}");
}
