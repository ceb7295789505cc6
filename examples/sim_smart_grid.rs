//! A smart grid of households with thermostatic loads (electric heaters under deadband
//! thermostats) and shiftable loads (electric-vehicle charging), simulated as discrete
//! events with twin's calendar queue and keyed random streams. Demand-response strategies
//! are compared against a paired baseline on the same random numbers (every house has the
//! same building, the same arrival time, the same base load in every run), and the table
//! gives the peak of the aggregate 15-minute demand and its reduction.
//!
//! `cargo run --example sim_smart_grid [houses] [seed]`

use twin::sim::kernel::{Event, EventQueue};
use twin::sim::rng::{self, StreamId};

/// Demand is metered over 15-minute intervals.
pub const STEP_S: f64 = 900.0;
/// Simulated time: from midnight to 08:00 the next day (the charging deadline).
pub const HORIZON_S: f64 = 32.0 * 3600.0;
/// Outdoor temperature, degrees C (constant: switching times stay in closed form).
pub const OUTDOOR_C: f64 = 5.0;
/// The evening peak window the utility asks to relieve.
pub const PEAK_START_S: f64 = 17.0 * 3600.0;
/// End of the peak window.
pub const PEAK_END_S: f64 = 21.0 * 3600.0;
/// Charging must be done by 07:00 the next day.
pub const DEADLINE_S: f64 = 31.0 * 3600.0;
const EV_KW: f64 = 3.7;

/// A demand-response strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Results of one strategy.
#[derive(Debug, Clone, PartialEq)]
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
    /// Aggregate demand per 15-minute interval, kW.
    pub demand_kw: Vec<f64>,
    /// Events processed.
    pub events: u64,
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

/// Simulate `houses` households for one strategy.
pub fn run(houses: u32, seed: u64, strategy: Strategy) -> GridResult {
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
        let h = &mut hs[i];
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
        let h = hs[i];
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

/// All three strategies on the same random numbers.
pub fn compare(houses: u32, seed: u64) -> Vec<GridResult> {
    [
        Strategy::Baseline,
        Strategy::ShiftCharging,
        Strategy::ShiftAndSetback,
    ]
    .iter()
    .map(|&s| run(houses, seed, s))
    .collect()
}

#[allow(dead_code)]
fn main() {
    let mut args = std::env::args().skip(1);
    let houses: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let results = compare(houses, seed);
    let base = results[0].peak_kw;
    println!("{houses} households, paired on seed {seed}; peak of 15-minute demand");
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
    for r in &results {
        println!(
            "{:<18} {:>10.0} {:>8.2} {:>9.1}% {:>12.0} {:>12.0} {:>14.1}",
            format!("{:?}", r.strategy),
            r.peak_kw,
            r.peak_at_h,
            100.0 * (base - r.peak_kw) / base,
            r.heating_kwh,
            r.charging_kwh,
            r.discomfort_deg_h
        );
    }
}
