//! A smart-traffic corridor: hundreds of connected vehicles drive through a line of
//! signalised intersections; each vehicle reports to the signal's roadside unit as it
//! reaches the stop line, so the corridor knows every queue. Signal timings are compared
//! on the same arrivals (common random numbers): all signals switching together, and a
//! green wave whose offsets follow the travel time between intersections.
//!
//! Discrete events on twin's calendar queue, no polling: a vehicle's arrival at the next
//! stop line is computed in closed form (free-flow travel), and its departure is the
//! first moment the signal is green and the queue ahead has discharged (one vehicle per
//! saturation headway).
//!
//! `cargo run --example sim_traffic [vehicles] [seed]`

use twin::sim::kernel::{Event, EventQueue};
use twin::sim::rng::{self, StreamId};

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

/// A signal timing plan for the whole corridor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// A name for the table.
    pub name: &'static str,
    /// Cycle length, s.
    pub cycle_s: f64,
    /// Green time for the corridor direction, s.
    pub green_s: f64,
    /// Offset between consecutive signals, s (0: all switch together).
    pub offset_step_s: f64,
}

/// What one timing plan gives.
#[derive(Debug, Clone, PartialEq)]
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
}

/// The plans compared.
pub fn plans() -> [Timing; 3] {
    let travel = SPACING_M / SPEED_MS;
    [
        Timing {
            name: "simultaneous 90 s",
            cycle_s: 90.0,
            green_s: 50.0,
            offset_step_s: 0.0,
        },
        Timing {
            name: "green wave 90 s",
            cycle_s: 90.0,
            green_s: 50.0,
            offset_step_s: travel,
        },
        Timing {
            name: "green wave 60 s",
            cycle_s: 60.0,
            green_s: 33.0,
            offset_step_s: travel,
        },
    ]
}

const ARRIVE: u8 = 0;

/// Drive `vehicles` vehicles through the corridor under `timing`.
pub fn run(vehicles: u32, seed: u64, timing: Timing) -> TrafficResult {
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
    let mut queues: Vec<std::collections::VecDeque<f64>> =
        (0..INTERSECTIONS).map(|_| Default::default()).collect();
    let mut stops = vec![0u32; vehicles as usize];
    let mut travel_times = Vec::with_capacity(vehicles as usize);
    let (mut max_queue, mut reports) = (0u64, 0u64);
    while let Some(e) = q.pop() {
        let now = e.time as f64 / 1e9;
        let v = e.entity as usize;
        let i = e.attempt as usize; // intersection index
        reports += 1;
        let qi = &mut queues[i];
        while qi.front().is_some_and(|&d| d <= now) {
            qi.pop_front();
        }
        let ready = now.max(free_at[i]);
        let depart = timing.next_green(i, ready);
        // Stopped if it could not roll straight through.
        if depart > now + 1e-9 {
            stops[v] += 1;
        }
        free_at[i] = depart + HEADWAY_S;
        qi.push_back(depart);
        max_queue = max_queue.max(qi.len() as u64);
        if i + 1 < INTERSECTIONS {
            let mut next = Event::new(((depart + travel) * 1e9) as u64, e.entity, ARRIVE);
            next.attempt = (i + 1) as u8;
            q.push(next);
        } else {
            travel_times.push(depart + travel - entry[v]);
        }
    }
    travel_times.sort_by(f64::total_cmp);
    let n = travel_times.len();
    TrafficResult {
        timing,
        vehicles: n as u64,
        mean_travel_s: travel_times.iter().sum::<f64>() / n.max(1) as f64,
        p95_travel_s: travel_times
            .get((0.95 * n as f64) as usize)
            .copied()
            .unwrap_or(0.0),
        stops_per_vehicle: stops.iter().map(|&x| f64::from(x)).sum::<f64>() / n.max(1) as f64,
        max_queue,
        reports,
    }
}

#[allow(dead_code)]
fn main() {
    let mut args = std::env::args().skip(1);
    let vehicles: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(600);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let free = (INTERSECTIONS as f64) * SPACING_M / SPEED_MS;
    println!(
        "{vehicles} vehicles, {INTERSECTIONS} signals {SPACING_M} m apart; free-flow time {free:.0} s"
    );
    println!(
        "{:<20} {:>12} {:>12} {:>10} {:>10}",
        "timing", "mean s", "p95 s", "stops/veh", "max queue"
    );
    for p in plans() {
        let r = run(vehicles, seed, p);
        println!(
            "{:<20} {:>12.1} {:>12.1} {:>10.2} {:>10}",
            p.name, r.mean_travel_s, r.p95_travel_s, r.stops_per_vehicle, r.max_queue
        );
    }
}
