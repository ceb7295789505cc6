//! Case study: a fleet of conveyors over a simulated year, maintained periodically or
//! predictively.
//!
//! Every unit's bearing wears by the conveyor's law at nominal duty, with the design's
//! unit-to-unit spread of the wear rate (log-normal, sigma 0.15), so lives scatter around
//! 30 days. The periodic policy replaces bearings at a fixed age, the interval chosen to
//! minimise the expected cost. The predictive policy is what the twin does: it measures
//! the wear once a day (noise 0.02), estimates the unit's own wear rate from the wear and
//! the age, predicts the remaining life with the physics model, and plans the replacement
//! when that falls below its lead time plus a day, the lead time chosen to minimise the
//! expected cost. A failure costs a repair, the spare and a day and a half of downtime (the
//! spare has to be fetched); a planned replacement costs less and stops the line for 4 h.
//!
//! The simulation is `twin::maintenance::cases::fleet_study` (also behind the Python
//! example `examples/python/case_conveyor_fleet.py`); this program prints its table.
//!
//! Run it with `cargo run --example case_conveyor_fleet`.

use twin::maintenance::cases::{fleet_study, policy_label, FleetStudyConfig};
use twin::Result;

fn main() -> Result<()> {
    let config = FleetStudyConfig::default();
    let s = fleet_study(&config)?;
    println!("Fleet of {} conveyors, one simulated year", config.units);
    println!(
        "{:<34} {:>9} {:>10} {:>12} {:>12} {:>10}",
        "policy", "failures", "planned", "downtime h", "cost", "avail %"
    );
    for r in s.reports() {
        println!(
            "{:<34} {:>9} {:>10} {:>12.0} {:>12.0} {:>10.3}",
            policy_label(&r.policy),
            r.failures,
            r.preventive,
            r.downtime_h,
            r.cost,
            100.0 * r.availability()
        );
    }
    println!(
        "\npredictive against periodic: downtime {:+.1}%, cost {:+.1}%",
        -100.0 * s.downtime_cut(),
        100.0 * (s.cost_ratio() - 1.0)
    );
    Ok(())
}
