//! Sensor placement in a smart building: how many LoRa sensors does a floor need? More
//! sensors cover more of the floor, but they share the air: collisions grow with their
//! number. A parameter sweep over the sensor count (in parallel, common random numbers)
//! reports the share of the floor within sensing range of a sensor that gets its
//! readings through, and the delivery ratio.
//!
//! ```
//! use twin::sim::cases::building::{study, BuildingConfig};
//! let cfg = BuildingConfig { counts: vec![5, 40], threads: 1, ..BuildingConfig::default() };
//! let rows = study(&cfg)?;
//! assert_eq!(rows[1].sensors, 40);
//! assert!(rows[0].coverage < rows[1].coverage);
//! # Ok::<(), twin::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use super::check;
use crate::error::Result;
use crate::sim::gateway::GatewayConfig;
use crate::sim::network::LoRaConfig;
use crate::sim::{sweep, DeviceGroup, Placement, Radio, Scenario};

/// Floor width, m.
pub const WIDTH_M: f64 = 60.0;
/// Floor depth, m.
pub const DEPTH_M: f64 = 40.0;
/// A sensor sees this far (temperature, occupancy), m.
pub const SENSING_RADIUS_M: f64 = 6.0;
/// A sensor counts as working if at least this share of its readings arrive.
pub const WORKING_DELIVERY: f64 = 0.75;
/// Side of the grid cells on which coverage is counted, m.
pub const COVERAGE_GRID_M: f64 = 0.5;
/// Most sensors one study row accepts.
pub const MAX_SENSORS: u32 = 100_000;

/// Settings of the placement study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildingConfig {
    /// Sensor counts compared, one row each (1 to [`MAX_SENSORS`] each); default
    /// 10, 25, 50, 100, 200, 400.
    pub counts: Vec<u32>,
    /// Seed of the scenario; default 2024.
    pub seed: u64,
    /// Reporting period of every sensor, s; default 60.
    pub period_s: f64,
    /// Simulated time, s; default 3,600.
    pub horizon_s: f64,
    /// Threads for the sweep (0: the machine's parallelism; results do not depend on
    /// it); default 0.
    pub threads: usize,
}

impl Default for BuildingConfig {
    fn default() -> Self {
        BuildingConfig {
            counts: vec![10, 25, 50, 100, 200, 400],
            seed: 2024,
            period_s: 60.0,
            horizon_s: 3_600.0,
            threads: 0,
        }
    }
}

impl BuildingConfig {
    /// Check the settings; the error names the field (the scenario's own checks follow
    /// in [`study`]).
    pub fn validate(&self) -> Result<()> {
        check(
            !self.counts.is_empty(),
            "building.counts",
            "must hold at least one sensor count",
        )?;
        for (i, &c) in self.counts.iter().enumerate() {
            check(
                (1..=MAX_SENSORS).contains(&c),
                &format!("building.counts.{i}"),
                &format!("must be between 1 and {MAX_SENSORS} (got {c})"),
            )?;
        }
        check(
            self.period_s.is_finite() && self.period_s > 0.0,
            "building.period_s",
            &format!("must be finite and positive (got {})", self.period_s),
        )?;
        check(
            self.horizon_s.is_finite() && self.horizon_s > 0.0,
            "building.horizon_s",
            &format!("must be finite and positive (got {})", self.horizon_s),
        )
    }

    /// The floor with `sensors` sensors: one gateway in the middle, sensors placed
    /// uniformly at random, reporting once a period (at a uniform time within its first 59/60) over
    /// LoRa SF7 with an indoor path-loss exponent of 3 and 4 dB shadowing.
    pub fn scenario(&self, sensors: u32) -> Scenario {
        let lora = LoRaConfig {
            path_loss_exponent: 3.0,
            shadowing_sd_db: 4.0,
            ..LoRaConfig::default()
        };
        let mut group = DeviceGroup::periodic(sensors, self.period_s);
        // Spread over 59/60 of a period (59 s of a minute).
        group.jitter_s = self.period_s * 59.0 / 60.0;
        group.radio = Radio::Lora(lora);
        group.placement = Placement::Rect {
            x0: 0.0,
            y0: 0.0,
            width: WIDTH_M,
            height: DEPTH_M,
        };
        let mut s = Scenario::single(sensors, self.period_s, self.horizon_s);
        s.seed = self.seed;
        s.gateways = vec![GatewayConfig {
            name: "gw".into(),
            x: WIDTH_M / 2.0,
            y: DEPTH_M / 2.0,
            ..GatewayConfig::default()
        }];
        s.groups = vec![group];
        s
    }
}

/// One row of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementRow {
    /// Sensors on the floor.
    pub sensors: u32,
    /// Share of the floor within sensing range of a working sensor.
    pub coverage: f64,
    /// Share of all readings delivered.
    pub delivery: f64,
    /// Transmissions lost to collisions.
    pub collisions: u64,
    /// Sensors that delivered at least [`WORKING_DELIVERY`] of their readings.
    pub working: u32,
}

/// Run the sweep over `config.counts` sensors.
pub fn study(config: &BuildingConfig) -> Result<Vec<PlacementRow>> {
    config.validate()?;
    let values: Vec<f64> = config.counts.iter().map(|&c| f64::from(c)).collect();
    let first = config.counts.first().copied().unwrap_or(1);
    let sw = sweep::sweep(
        &config.scenario(first),
        "groups.0.count",
        &values,
        1,
        config.threads,
    )?;
    let mut rows = Vec::new();
    for (r, &n) in sw.reports.iter().zip(&config.counts) {
        let xs = r.devices.f64("x")?;
        let ys = r.devices.f64("y")?;
        let sent = r.devices.u64("reports")?;
        let got = r.devices.u64("delivered")?;
        let working: Vec<(f64, f64)> = xs
            .iter()
            .zip(ys)
            .zip(sent.iter().zip(got))
            .filter(|&(_, (&s, &g))| s > 0 && g as f64 / s as f64 >= WORKING_DELIVERY)
            .map(|((&x, &y), _)| (x, y))
            .collect();
        let (mut covered, mut total) = (0u64, 0u64);
        let step = COVERAGE_GRID_M;
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
            working: working.len() as u32,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_name_the_field() {
        let cfg = BuildingConfig {
            counts: vec![10, 0],
            ..BuildingConfig::default()
        };
        let e = study(&cfg).expect_err("refused");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("building.counts.1"), "{e}");
        let cfg = BuildingConfig {
            period_s: -1.0,
            ..BuildingConfig::default()
        };
        assert!(cfg
            .validate()
            .expect_err("refused")
            .to_string()
            .contains("period_s"));
    }
}
