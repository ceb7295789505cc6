//! Sensor placement in a smart building: how many LoRa sensors does a 60 m x 40 m floor
//! need? More sensors cover more of the floor, but they share the air: collisions grow with
//! their number. A parameter sweep over the sensor count (in parallel, same seeds) reports
//! the share of the floor within sensing range of a sensor that gets its readings through,
//! and the delivery ratio.
//!
//! `cargo run --example sim_building`

use twin::sim::gateway::GatewayConfig;
use twin::sim::network::LoRaConfig;
use twin::sim::{sweep, DeviceGroup, Placement, Radio, Scenario};

/// Floor size, m.
pub const WIDTH_M: f64 = 60.0;
/// Floor size, m.
pub const DEPTH_M: f64 = 40.0;
/// A sensor sees this far (temperature, occupancy), m.
pub const SENSING_RADIUS_M: f64 = 6.0;
/// A sensor counts as working if at least this share of its readings arrive.
pub const WORKING_DELIVERY: f64 = 0.75;

/// One row of the study.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementRow {
    /// Sensors on the floor.
    pub sensors: u32,
    /// Share of the floor within sensing range of a working sensor.
    pub coverage: f64,
    /// Share of all readings delivered.
    pub delivery: f64,
    /// Transmissions lost to collisions.
    pub collisions: u64,
}

/// The floor: one gateway in the middle, sensors placed uniformly at random, reporting
/// once a minute (at a uniform time within it) over LoRa SF7 with an indoor path-loss
/// exponent and shadowing.
pub fn scenario(sensors: u32) -> Scenario {
    let lora = LoRaConfig {
        path_loss_exponent: 3.0,
        shadowing_sd_db: 4.0,
        ..LoRaConfig::default()
    };
    let mut group = DeviceGroup::periodic(sensors, 60.0);
    group.jitter_s = 59.0;
    group.radio = Radio::Lora(lora);
    group.placement = Placement::Rect {
        x0: 0.0,
        y0: 0.0,
        width: WIDTH_M,
        height: DEPTH_M,
    };
    let mut s = Scenario::single(sensors, 60.0, 3_600.0);
    s.seed = 2024;
    s.gateways = vec![GatewayConfig {
        name: "gw".into(),
        x: WIDTH_M / 2.0,
        y: DEPTH_M / 2.0,
        ..GatewayConfig::default()
    }];
    s.groups = vec![group];
    s
}

/// Run the sweep over `counts` sensors on `threads` threads.
pub fn study(counts: &[u32], threads: usize) -> Result<Vec<PlacementRow>, twin::Error> {
    let values: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
    let sw = sweep::sweep(&scenario(counts[0]), "groups.0.count", &values, 1, threads)?;
    let mut rows = Vec::new();
    for (r, &n) in sw.reports.iter().zip(counts) {
        let xs = r.devices.f64("x")?;
        let ys = r.devices.f64("y")?;
        let sent = r.devices.u64("reports")?;
        let got = r.devices.u64("delivered")?;
        let working: Vec<(f64, f64)> = (0..xs.len())
            .filter(|&i| sent[i] > 0 && got[i] as f64 / sent[i] as f64 >= WORKING_DELIVERY)
            .map(|i| (xs[i], ys[i]))
            .collect();
        // Coverage on a 0.5 m grid.
        let (mut covered, mut total) = (0u64, 0u64);
        let step = 0.5;
        let mut y = step / 2.0;
        while y < DEPTH_M {
            let mut x = step / 2.0;
            while x < WIDTH_M {
                total += 1;
                if working.iter().any(|&(sx, sy)| {
                    (sx - x).powi(2) + (sy - y).powi(2) <= SENSING_RADIUS_M.powi(2)
                }) {
                    covered += 1;
                }
                x += step;
            }
            y += step;
        }
        rows.push(PlacementRow {
            sensors: n,
            coverage: covered as f64 / total as f64,
            delivery: r.summary.delivery_ratio,
            collisions: r.summary.collisions,
        });
    }
    Ok(rows)
}

#[allow(dead_code)]
fn main() -> Result<(), twin::Error> {
    let rows = study(&[10, 25, 50, 100, 200, 400], 0)?;
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
