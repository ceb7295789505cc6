//! A smart grid of households with thermostatic loads (electric heaters under deadband
//! thermostats) and shiftable loads (electric-vehicle charging), simulated as discrete
//! events with the simulator's calendar queue and keyed random streams. Demand-response
//! strategies are compared against a paired baseline on the same random numbers (every
//! house has the same building, the same arrival time, the same base load in every run);
//! the results give the peak of the aggregate 15-minute demand, its time, the energy by
//! end use, the discomfort and the whole demand curve.
//!
//! A house's indoor temperature follows a first-order thermal model,
//! `T(t) = T_eq + (T0 - T_eq) e^(-t/tau)` with `T_eq = T_out + R P` while the heater is
//! on, so the next thermostat switch is computed in closed form and scheduled as an
//! event (no polling).
//!
//! ```
//! use twin::sim::cases::grid::{compare, GridConfig, Strategy};
//! let cfg = GridConfig { houses: 100, ..GridConfig::default() };
//! let r = compare(&cfg)?;
//! assert_eq!(r[0].strategy, Strategy::Baseline);
//! // Moving the charging out of the evening window lowers the evening peak.
//! assert!(r[1].peak_kw < r[0].peak_kw);
//! assert!(r[1].peak_reduction_vs(&r[0]) > 0.0);
//! # Ok::<(), twin::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use super::check;
use crate::error::Result;
use crate::sim::kernel::{Event, EventQueue};
use crate::sim::rng::{self, StreamId};

/// Demand is metered over 15-minute intervals, s.
pub const STEP_S: f64 = 900.0;
/// Simulated time: from midnight to 08:00 the next day, s.
pub const HORIZON_S: f64 = 32.0 * 3600.0;
/// Outdoor temperature, degrees C (constant: switching times stay in closed form).
pub const OUTDOOR_C: f64 = 5.0;
/// Start of the evening peak window the utility asks to relieve, s after midnight.
pub const PEAK_START_S: f64 = 17.0 * 3600.0;
/// End of the peak window, s after midnight.
pub const PEAK_END_S: f64 = 21.0 * 3600.0;
/// Charging must be done by 07:00 the next day, s after the first midnight.
pub const DEADLINE_S: f64 = 31.0 * 3600.0;
/// Charger power, kW.
pub const EV_KW: f64 = 3.7;
/// Most households one run accepts (the model keeps about 100 bytes per house).
pub const MAX_HOUSES: u32 = 10_000_000;

/// A demand-response strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Nobody is asked anything: cars charge on arrival, thermostats hold 20 degrees C.
    Baseline,
    /// Charging starts after the peak window, each car at a random time between its end
    /// and the latest start that still finishes by the deadline (valley filling).
    ShiftCharging,
    /// As `ShiftCharging`, and thermostats set back by 2 degrees C during the window,
    /// each returning at a random time in the two hours after it (to spread the rebound).
    ShiftAndSetback,
}

impl Strategy {
    /// Every strategy, the baseline first.
    pub const ALL: [Strategy; 3] = [
        Strategy::Baseline,
        Strategy::ShiftCharging,
        Strategy::ShiftAndSetback,
    ];

    /// The snake_case name (as in serde and the Python bindings).
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Baseline => "baseline",
            Strategy::ShiftCharging => "shift_charging",
            Strategy::ShiftAndSetback => "shift_and_setback",
        }
    }
}

/// Settings of the smart-grid study.
///
/// ```
/// use twin::sim::cases::grid::GridConfig;
/// let cfg: GridConfig = serde_json::from_str(r#"{"houses": 500}"#)?;
/// assert_eq!((cfg.houses, cfg.seed), (500, 7));
/// assert!(GridConfig { houses: 0, ..cfg }.validate().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridConfig {
    /// Households simulated (1 to [`MAX_HOUSES`]); default 2,000.
    pub houses: u32,
    /// Seed of the common random numbers; default 7.
    pub seed: u64,
    /// Strategies to run, in order (the first is the reference of
    /// [`GridResult::peak_reduction_vs`] in tables); default all three, baseline first.
    pub strategies: Vec<Strategy>,
}

impl Default for GridConfig {
    fn default() -> Self {
        GridConfig {
            houses: 2_000,
            seed: 7,
            strategies: Strategy::ALL.to_vec(),
        }
    }
}

impl GridConfig {
    /// Check the settings; the error names the field.
    pub fn validate(&self) -> Result<()> {
        check(
            (1..=MAX_HOUSES).contains(&self.houses),
            "grid.houses",
            &format!("must be between 1 and {MAX_HOUSES} (got {})", self.houses),
        )?;
        check(
            !self.strategies.is_empty(),
            "grid.strategies",
            "must name at least one strategy",
        )
    }
}

/// Results of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridResult {
    /// Which strategy.
    pub strategy: Strategy,
    /// Peak aggregate demand over 15-minute intervals, kW.
    pub peak_kw: f64,
    /// When the peak interval starts, hours after midnight.
    pub peak_at_h: f64,
    /// Energy of the heaters, kWh.
    pub heating_kwh: f64,
    /// Energy of the chargers, kWh.
    pub charging_kwh: f64,
    /// Energy of the base loads, kWh.
    pub base_kwh: f64,
    /// Degree-hours the houses spent below 18 degrees C.
    pub discomfort_deg_h: f64,
    /// Aggregate demand per 15-minute interval, kW (interval `b` starts at `b * STEP_S`).
    pub demand_kw: Vec<f64>,
    /// Events processed.
    pub events: u64,
}

impl GridResult {
    /// Relative peak reduction against `reference`: `(ref.peak - self.peak) / ref.peak`.
    pub fn peak_reduction_vs(&self, reference: &GridResult) -> f64 {
        (reference.peak_kw - self.peak_kw) / reference.peak_kw
    }

    /// Start of each demand interval, hours after midnight (parallel to `demand_kw`).
    pub fn interval_start_h(&self) -> Vec<f64> {
        (0..self.demand_kw.len())
            .map(|b| b as f64 * STEP_S / 3600.0)
            .collect()
    }
}

#[derive(Clone, Copy)]
struct House {
    r_c_per_kw: f64,
    tau_s: f64,
    heater_kw: f64,
    setpoint: f64,
    deadband: f64,
    temp: f64,
    on: bool,
    t_last: f64,
    version: u32,
}

const SWITCH: u8 = 0;
const SETBACK: u8 = 1;
const RESTORE: u8 = 2;

fn add_energy(buckets: &mut [f64], t0: f64, t1: f64, kw: f64) {
    let mut t = t0.max(0.0);
    let end = t1.min(HORIZON_S);
    while t < end {
        let b = (t / STEP_S) as usize;
        let b_end = ((b + 1) as f64 * STEP_S).min(end);
        if let Some(x) = buckets.get_mut(b) {
            *x += kw * (b_end - t) / 3600.0;
        }
        t = b_end;
    }
}

impl House {
    fn equilibrium(&self) -> f64 {
        OUTDOOR_C
            + if self.on {
                self.r_c_per_kw * self.heater_kw
            } else {
                0.0
            }
    }

    /// Temperature at `t` (closed form), integrating heater energy and discomfort.
    fn advance(&mut self, t: f64, heat: &mut [f64], discomfort: &mut f64) {
        let dt = t - self.t_last;
        if dt <= 0.0 {
            return;
        }
        let eq = self.equilibrium();
        let t0 = self.temp;
        if self.on {
            add_energy(heat, self.t_last, t, self.heater_kw);
        }
        // Degree-seconds below 18: integrate the exponential numerically (coarse).
        let n = 8;
        for i in 0..n {
            let s = dt * (i as f64 + 0.5) / n as f64;
            let temp = eq + (t0 - eq) * (-s / self.tau_s).exp();
            if temp < 18.0 {
                *discomfort += (18.0 - temp) * dt / n as f64 / 3600.0;
            }
        }
        self.temp = eq + (t0 - eq) * (-dt / self.tau_s).exp();
        self.t_last = t;
    }

    /// Time from now until the thermostat next switches.
    fn next_switch_in(&self) -> f64 {
        let eq = self.equilibrium();
        let target = if self.on {
            self.setpoint + self.deadband / 2.0
        } else {
            self.setpoint - self.deadband / 2.0
        };
        let crossed = if self.on {
            self.temp >= target
        } else {
            self.temp <= target
        };
        if crossed {
            return 0.0;
        }
        let ratio = (self.temp - eq) / (target - eq);
        if ratio <= 1.0 {
            return f64::INFINITY; // never reaches it
        }
        self.tau_s * ratio.ln()
    }
}

fn schedule(q: &mut EventQueue, h: &House, i: u32, now: f64) {
    let dt = h.next_switch_in();
    let t = now + dt;
    if t.is_finite() && t <= HORIZON_S {
        let mut e = Event::new((t * 1e9) as u64, i, SWITCH);
        e.tag = h.version;
        q.push(e);
    }
}

/// Simulate `config.houses` households under one strategy (`config.strategies` is not
/// used here).
pub fn run(config: &GridConfig, strategy: Strategy) -> Result<GridResult> {
    check(
        (1..=MAX_HOUSES).contains(&config.houses),
        "grid.houses",
        &format!("must be between 1 and {MAX_HOUSES} (got {})", config.houses),
    )?;
    Ok(simulate(config.houses, config.seed, strategy))
}

/// Every strategy of `config.strategies`, in order, on the same random numbers.
pub fn compare(config: &GridConfig) -> Result<Vec<GridResult>> {
    config.validate()?;
    Ok(config
        .strategies
        .iter()
        .map(|&s| simulate(config.houses, config.seed, s))
        .collect())
}

fn simulate(houses: u32, seed: u64, strategy: Strategy) -> GridResult {
    let nb = (HORIZON_S / STEP_S).ceil() as usize;
    let mut heat = vec![0.0; nb];
    let mut ev = vec![0.0; nb];
    let mut base = vec![0.0; nb];
    let mut discomfort = 0.0;
    let mut q = EventQueue::for_load(houses as usize * 2, 3_600_000_000_000);
    let mut hs = Vec::with_capacity(houses as usize);
    for i in 0..houses {
        let id = u64::from(i);
        // Fixed properties of the house: the same in every strategy (common random numbers).
        let u = |k: u64| rng::hash_uniform(seed, id, StreamId::Placement, k);
        let mut h = House {
            r_c_per_kw: 5.0 + 2.0 * u(1),
            tau_s: 3600.0 * (2.0 + 2.0 * u(2)),
            heater_kw: 3.0 + 2.0 * u(3),
            setpoint: 20.0,
            deadband: 1.0,
            temp: 19.5 + u(4),
            on: u(5) < 0.6,
            t_last: 0.0,
            version: 0,
        };
        if h.equilibrium() < h.setpoint && !h.on {
            h.on = true;
        }
        schedule(&mut q, &h, i, 0.0);
        if strategy == Strategy::ShiftAndSetback {
            q.push(Event::new((PEAK_START_S * 1e9) as u64, i, SETBACK));
            let back = PEAK_END_S + 7200.0 * u(6);
            q.push(Event::new((back * 1e9) as u64, i, RESTORE));
        }
        hs.push(h);
        // Base load: a morning and an evening bump, scaled per house.
        let scale = 0.7 + 0.6 * u(7);
        for (b, x) in base.iter_mut().enumerate() {
            let hour = ((b as f64 + 0.5) * STEP_S / 3600.0) % 24.0;
            let kw = 0.3
                + 0.9 * (-((hour - 19.0) / 2.0).powi(2)).exp()
                + 0.4 * (-((hour - 7.5) / 1.5).powi(2)).exp();
            *x += scale * kw * STEP_S / 3600.0;
        }
        // The car: arrives between 17:00 and 20:00 and needs 1.5 to 3.5 hours of charge.
        let arrive = 17.0 * 3600.0 + 3.0 * 3600.0 * u(8);
        let duration = 3600.0 * (1.5 + 2.0 * u(9));
        let start = match strategy {
            Strategy::Baseline => arrive,
            _ => {
                let latest = DEADLINE_S - duration;
                let shifted = PEAK_END_S + (latest - PEAK_END_S).max(0.0) * u(10);
                if shifted + duration <= DEADLINE_S {
                    shifted.max(arrive)
                } else {
                    arrive
                }
            }
        };
        add_energy(&mut ev, start, start + duration, EV_KW);
    }
    let mut events = 0u64;
    while let Some(e) = q.pop() {
        let t = e.time as f64 / 1e9;
        if t > HORIZON_S {
            break;
        }
        events += 1;
        let i = e.entity as usize;
        let Some(h) = hs.get_mut(i) else { continue };
        match e.kind {
            SWITCH => {
                if e.tag != h.version {
                    continue; // superseded by a set-point change
                }
                h.advance(t, &mut heat, &mut discomfort);
                h.on = !h.on;
            }
            SETBACK | RESTORE => {
                h.advance(t, &mut heat, &mut discomfort);
                h.setpoint = if e.kind == SETBACK { 18.0 } else { 20.0 };
                h.version += 1;
                // Switch at once if the new band says so.
                if h.on && h.temp >= h.setpoint + h.deadband / 2.0 {
                    h.on = false;
                } else if !h.on && h.temp <= h.setpoint - h.deadband / 2.0 {
                    h.on = true;
                }
            }
            _ => continue,
        }
        let h = *h;
        schedule(&mut q, &h, e.entity, t);
    }
    for h in &mut hs {
        h.advance(HORIZON_S, &mut heat, &mut discomfort);
    }
    let demand_kw: Vec<f64> = (0..nb)
        .map(|b| (heat[b] + ev[b] + base[b]) * 3600.0 / STEP_S)
        .collect();
    let (peak_b, peak_kw) = demand_kw
        .iter()
        .copied()
        .enumerate()
        .fold((0, f64::MIN), |a, (b, x)| if x > a.1 { (b, x) } else { a });
    GridResult {
        strategy,
        peak_kw,
        peak_at_h: peak_b as f64 * STEP_S / 3600.0,
        heating_kwh: heat.iter().sum(),
        charging_kwh: ev.iter().sum(),
        base_kwh: base.iter().sum(),
        discomfort_deg_h: discomfort,
        demand_kw,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_name_the_field() {
        let e = compare(&GridConfig {
            houses: 0,
            ..GridConfig::default()
        })
        .expect_err("refused");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("grid.houses"), "{e}");
        let e = GridConfig {
            strategies: vec![],
            ..GridConfig::default()
        }
        .validate()
        .expect_err("refused");
        assert!(e.to_string().contains("grid.strategies"), "{e}");
        assert!(serde_json::from_str::<GridConfig>(r#"{"homes": 3}"#).is_err());
    }
}
