//! A smart-traffic corridor: connected vehicles drive through a line of signalised
//! intersections; each vehicle reports to the signal's roadside unit as it reaches the
//! stop line, so the corridor knows every queue. Signal timings are compared on the same
//! arrivals (common random numbers): for example all signals switching together against
//! a green wave whose offsets follow the travel time between intersections.
//!
//! Discrete events on the simulator's calendar queue, no polling: a vehicle's arrival at
//! the next stop line is computed in closed form (free-flow travel), and its departure is
//! the first moment the signal is green and the queue ahead has discharged (one vehicle
//! per saturation headway).
//!
//! ```
//! use twin::sim::cases::traffic::{run, TrafficConfig, INTERSECTIONS};
//! let cfg = TrafficConfig { vehicles: 100, ..TrafficConfig::default() };
//! let r = run(&cfg)?;
//! assert_eq!(r.len(), 3); // the three default plans
//! assert_eq!(r[0].reports, 100 * INTERSECTIONS as u64);
//! // The green wave stops vehicles less often than simultaneous signals.
//! assert!(r[1].stops_per_vehicle < r[0].stops_per_vehicle);
//! # Ok::<(), twin::Error>(())
//! ```

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::check;
use crate::error::Result;
use crate::sim::kernel::{Event, EventQueue};
use crate::sim::rng::{self, StreamId};

/// Intersections along the corridor.
pub const INTERSECTIONS: usize = 8;
/// Distance between intersections, m.
pub const SPACING_M: f64 = 400.0;
/// Free-flow speed, m/s (50 km/h).
pub const SPEED_MS: f64 = 13.9;
/// Saturation headway: one vehicle leaves a queue every this many seconds.
pub const HEADWAY_S: f64 = 2.0;
/// Mean gap between vehicles entering the corridor, s (720 vehicles an hour).
pub const MEAN_GAP_S: f64 = 5.0;
/// Most vehicles one run accepts.
pub const MAX_VEHICLES: u32 = 10_000_000;

/// Free-flow time through the whole corridor, s.
pub fn free_flow_s() -> f64 {
    INTERSECTIONS as f64 * SPACING_M / SPEED_MS
}

/// A signal timing plan for the whole corridor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// A name for tables and plots.
    pub name: String,
    /// Cycle length, s.
    pub cycle_s: f64,
    /// Green time for the corridor direction, s (0 < green <= cycle).
    pub green_s: f64,
    /// Offset between consecutive signals, s (0: all switch together).
    pub offset_step_s: f64,
}

impl Timing {
    /// Start of the first green at or after `t` for signal `i`.
    fn next_green(&self, i: usize, t: f64) -> f64 {
        let offset = self.offset_step_s * i as f64;
        let phase = (t - offset).rem_euclid(self.cycle_s);
        if phase < self.green_s {
            t
        } else {
            t + (self.cycle_s - phase)
        }
    }

    /// Check the plan; `field` prefixes the error (e.g. `traffic.plans.1`).
    pub fn validate(&self, field: &str) -> Result<()> {
        check(
            self.cycle_s.is_finite() && self.cycle_s > 0.0,
            &format!("{field}.cycle_s"),
            &format!("must be finite and positive (got {})", self.cycle_s),
        )?;
        check(
            self.green_s.is_finite() && self.green_s > 0.0 && self.green_s <= self.cycle_s,
            &format!("{field}.green_s"),
            &format!(
                "must be positive and at most the cycle {} (got {})",
                self.cycle_s, self.green_s
            ),
        )?;
        check(
            self.offset_step_s.is_finite(),
            &format!("{field}.offset_step_s"),
            &format!("must be finite (got {})", self.offset_step_s),
        )
    }
}

/// The standard plans: signals switching together on a 90 s cycle, a green wave on a
/// 90 s cycle (offsets = travel time between signals) and a green wave on a 60 s cycle.
pub fn plans() -> Vec<Timing> {
    let travel = SPACING_M / SPEED_MS;
    vec![
        Timing {
            name: "simultaneous 90 s".into(),
            cycle_s: 90.0,
            green_s: 50.0,
            offset_step_s: 0.0,
        },
        Timing {
            name: "green wave 90 s".into(),
            cycle_s: 90.0,
            green_s: 50.0,
            offset_step_s: travel,
        },
        Timing {
            name: "green wave 60 s".into(),
            cycle_s: 60.0,
            green_s: 33.0,
            offset_step_s: travel,
        },
    ]
}

/// Settings of the corridor study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrafficConfig {
    /// Vehicles driven through (1 to [`MAX_VEHICLES`]); default 600.
    pub vehicles: u32,
    /// Seed of the arrival stream (the same for every plan); default 3.
    pub seed: u64,
    /// The timing plans compared; default [`plans`].
    pub plans: Vec<Timing>,
}

impl Default for TrafficConfig {
    fn default() -> Self {
        TrafficConfig {
            vehicles: 600,
            seed: 3,
            plans: plans(),
        }
    }
}

impl TrafficConfig {
    /// Check the settings; the error names the field.
    pub fn validate(&self) -> Result<()> {
        check(
            (1..=MAX_VEHICLES).contains(&self.vehicles),
            "traffic.vehicles",
            &format!(
                "must be between 1 and {MAX_VEHICLES} (got {})",
                self.vehicles
            ),
        )?;
        check(
            !self.plans.is_empty(),
            "traffic.plans",
            "must hold at least one timing plan",
        )?;
        for (i, p) in self.plans.iter().enumerate() {
            p.validate(&format!("traffic.plans.{i}"))?;
        }
        Ok(())
    }
}

/// What one timing plan gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficResult {
    /// The plan.
    pub timing: Timing,
    /// Vehicles that drove through.
    pub vehicles: u64,
    /// Mean travel time through the corridor, s.
    pub mean_travel_s: f64,
    /// 95th percentile travel time, s.
    pub p95_travel_s: f64,
    /// Mean number of stops per vehicle.
    pub stops_per_vehicle: f64,
    /// Longest queue seen at any stop line, vehicles.
    pub max_queue: u64,
    /// Reports the roadside units received (one per vehicle per intersection).
    pub reports: u64,
    /// Every vehicle's travel time through the corridor, s, sorted ascending (for a
    /// distribution plot).
    pub travel_times_s: Vec<f64>,
}

/// Every plan of `config`, in order, on the same arrivals.
pub fn run(config: &TrafficConfig) -> Result<Vec<TrafficResult>> {
    config.validate()?;
    Ok(config
        .plans
        .iter()
        .map(|p| simulate(config.vehicles, config.seed, p))
        .collect())
}

/// Drive `vehicles` vehicles through the corridor under one `timing`.
pub fn run_plan(vehicles: u32, seed: u64, timing: &Timing) -> Result<TrafficResult> {
    check(
        (1..=MAX_VEHICLES).contains(&vehicles),
        "traffic.vehicles",
        &format!("must be between 1 and {MAX_VEHICLES} (got {vehicles})"),
    )?;
    timing.validate("timing")?;
    Ok(simulate(vehicles, seed, timing))
}

const ARRIVE: u8 = 0;

fn simulate(vehicles: u32, seed: u64, timing: &Timing) -> TrafficResult {
    let travel = SPACING_M / SPEED_MS;
    let mut q = EventQueue::for_load(vehicles as usize, 60_000_000_000);
    // Entry times: a Poisson stream, the same for every plan.
    let mut s = rng::key(seed, 0, StreamId::Sensing);
    let mut t = 0.0;
    let mut entry = Vec::with_capacity(vehicles as usize);
    for v in 0..vehicles {
        t += rng::exponential(&mut s, MEAN_GAP_S);
        entry.push(t);
        q.push(Event::new((t * 1e9) as u64, v, ARRIVE));
    }
    // Per signal: when the stop line is next free, and the departure times still ahead
    // (the queue, for the roadside unit's count).
    let mut free_at = [0.0f64; INTERSECTIONS];
    let mut queues: Vec<VecDeque<f64>> = (0..INTERSECTIONS).map(|_| VecDeque::new()).collect();
    let mut stops = vec![0u32; vehicles as usize];
    let mut travel_times = Vec::with_capacity(vehicles as usize);
    let (mut max_queue, mut reports) = (0u64, 0u64);
    while let Some(e) = q.pop() {
        let now = e.time as f64 / 1e9;
        let v = e.entity as usize;
        let i = e.attempt as usize; // intersection index
        let (Some(qi), Some(free)) = (queues.get_mut(i), free_at.get_mut(i)) else {
            continue;
        };
        reports += 1;
        while qi.front().is_some_and(|&d| d <= now) {
            qi.pop_front();
        }
        let ready = now.max(*free);
        let depart = timing.next_green(i, ready);
        // Stopped if it could not roll straight through.
        if depart > now + 1e-9 {
            if let Some(n) = stops.get_mut(v) {
                *n += 1;
            }
        }
        *free = depart + HEADWAY_S;
        qi.push_back(depart);
        max_queue = max_queue.max(qi.len() as u64);
        if i + 1 < INTERSECTIONS {
            let mut next = Event::new(((depart + travel) * 1e9) as u64, e.entity, ARRIVE);
            next.attempt = (i + 1) as u8;
            q.push(next);
        } else if let Some(&t0) = entry.get(v) {
            travel_times.push(depart + travel - t0);
        }
    }
    travel_times.sort_by(f64::total_cmp);
    let n = travel_times.len();
    TrafficResult {
        timing: timing.clone(),
        vehicles: n as u64,
        mean_travel_s: travel_times.iter().sum::<f64>() / n.max(1) as f64,
        p95_travel_s: travel_times
            .get((0.95 * n as f64) as usize)
            .copied()
            .unwrap_or(0.0),
        stops_per_vehicle: stops.iter().map(|&x| f64::from(x)).sum::<f64>() / n.max(1) as f64,
        max_queue,
        reports,
        travel_times_s: travel_times,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_name_the_field() {
        let mut cfg = TrafficConfig::default();
        cfg.plans[1].green_s = 120.0;
        let e = run(&cfg).expect_err("refused");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("traffic.plans.1.green_s"), "{e}");
        let e = run_plan(0, 1, &plans()[0]).expect_err("refused");
        assert!(e.to_string().contains("traffic.vehicles"), "{e}");
        cfg = TrafficConfig::default();
        cfg.plans[0].cycle_s = f64::NAN;
        assert!(cfg
            .validate()
            .expect_err("refused")
            .to_string()
            .contains("cycle_s"));
    }
}
