//! A smart-traffic corridor: connected vehicles through a line of signalised
//! intersections, signal timings compared on the same arrivals. The model is
//! `twin::sim::cases::traffic`; this prints its table.
//!
//! `cargo run --example sim_traffic [vehicles] [seed]`

use twin::sim::cases::traffic::{free_flow_s, run, TrafficConfig, INTERSECTIONS, SPACING_M};

fn main() -> Result<(), twin::Error> {
    let mut args = std::env::args().skip(1);
    let mut cfg = TrafficConfig::default();
    if let Some(v) = args.next().and_then(|a| a.parse().ok()) {
        cfg.vehicles = v;
    }
    if let Some(s) = args.next().and_then(|a| a.parse().ok()) {
        cfg.seed = s;
    }
    println!(
        "{} vehicles, {INTERSECTIONS} signals {SPACING_M} m apart; free-flow time {:.0} s",
        cfg.vehicles,
        free_flow_s()
    );
    println!(
        "{:<20} {:>12} {:>12} {:>10} {:>10}",
        "timing", "mean s", "p95 s", "stops/veh", "max queue"
    );
    for r in run(&cfg)? {
        println!(
            "{:<20} {:>12.1} {:>12.1} {:>10.2} {:>10}",
            r.timing.name, r.mean_travel_s, r.p95_travel_s, r.stops_per_vehicle, r.max_queue
        );
    }
    Ok(())
}
