//! A smart grid of households with thermostatic loads (electric heaters under deadband
//! thermostats) and shiftable loads (electric-vehicle charging): demand-response
//! strategies compared against a paired baseline on the same random numbers. The model is
//! `twin::sim::cases::grid`; this prints its table.
//!
//! `cargo run --example sim_smart_grid [houses] [seed]`

use twin::sim::cases::grid::{compare, GridConfig};

fn main() -> Result<(), twin::Error> {
    let mut args = std::env::args().skip(1);
    let mut cfg = GridConfig::default();
    if let Some(h) = args.next().and_then(|a| a.parse().ok()) {
        cfg.houses = h;
    }
    if let Some(s) = args.next().and_then(|a| a.parse().ok()) {
        cfg.seed = s;
    }
    let results = compare(&cfg)?;
    println!(
        "{} households, paired on seed {}; peak of 15-minute demand",
        cfg.houses, cfg.seed
    );
    println!(
        "{:<18} {:>10} {:>8} {:>10} {:>12} {:>12} {:>14}",
        "strategy",
        "peak kW",
        "at h",
        "reduction",
        "heating kWh",
        "charging kWh",
        "below 18 C deg.h"
    );
    let Some(base) = results.first() else {
        return Ok(());
    };
    for r in &results {
        println!(
            "{:<18} {:>10.0} {:>8.2} {:>9.1}% {:>12.0} {:>12.0} {:>14.1}",
            format!("{:?}", r.strategy),
            r.peak_kw,
            r.peak_at_h,
            100.0 * r.peak_reduction_vs(base),
            r.heating_kwh,
            r.charging_kwh,
            r.discomfort_deg_h
        );
    }
    Ok(())
}
