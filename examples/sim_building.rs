//! Sensor placement in a smart building: how many LoRa sensors does a 60 m x 40 m floor
//! need? A parameter sweep over the sensor count reports coverage and delivery. The model
//! is `twin::sim::cases::building`; this prints its table.
//!
//! `cargo run --example sim_building`

use twin::sim::cases::building::{study, BuildingConfig};

fn main() -> Result<(), twin::Error> {
    let rows = study(&BuildingConfig::default())?;
    println!("60 m x 40 m floor, LoRa SF7, one gateway, a reading a minute for an hour");
    println!(
        "{:>8} {:>10} {:>10} {:>11}",
        "sensors", "coverage", "delivery", "collisions"
    );
    for r in rows {
        println!(
            "{:>8} {:>9.1}% {:>9.1}% {:>11}",
            r.sensors,
            100.0 * r.coverage,
            100.0 * r.delivery,
            r.collisions
        );
    }
    Ok(())
}
