//! The simulation of a [`Scenario`]: per-device state in struct-of-arrays, the event loop
//! and its handlers, and the assembly of the [`Report`].

use super::energy::{Battery, BatteryState, EnergyConfig};
use super::failure::{FailureModel, OutageKind, RetryPolicy};
use super::gateway::{Balancing, EdgeConfig};
use super::kernel::{Event, EventQueue};
use super::metrics::{Column, LatencyHistogram, Table};
use super::network::{LoRaConfig, LossModel};
use super::report::{Report, Summary};
use super::rng::{self, StreamId};
use super::scenario::{Placement, Radio, Scenario};
use super::signal::SignalModel;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Events between two cancellation checks of the event loop (a check is one relaxed load).
const CHECK_EVERY: u64 = 4096;

const NS: f64 = 1e9;
/// Multiplying by this is faster than dividing by `NS`.
const INV_NS: f64 = 1e-9;

// Event kinds.
const REPORT: u8 = 0;
const TX: u8 = 1;
const TX_END: u8 = 2;
const ARRIVE: u8 = 3;
const DEV_FAIL: u8 = 4;
const DEV_REPAIR: u8 = 5;
const GW_FAIL: u8 = 6;
const GW_REPAIR: u8 = 7;
const OUTAGE_START: u8 = 8;
const OUTAGE_END: u8 = 9;
const BATTERY: u8 = 10;

// Device flags.
const F_BAD: u8 = 1; // Gilbert-Elliott channel state
const F_FAILED: u8 = 2; // random failure
const F_DEAD: u8 = 4; // battery empty
const F_WAITING: u8 = 8; // no report scheduled (was down when one came due)
const F_OUTAGE: u8 = 16; // inside a scheduled group outage
const DOWN: u8 = F_FAILED | F_DEAD | F_OUTAGE;

/// Why a transmission failed.
#[derive(Clone, Copy)]
enum Cause {
    Channel,
    Queue,
    GatewayDown,
    Collision,
    OutOfRange,
}

/// The per-device fields every report reads or writes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Hot {
    pub latency_sum: f64,
    /// Slot number of the next report.
    pub slot: u32,
    pub reports: u32,
    pub delivered: u32,
    pub group: u16,
    pub cur_gw: u16,
    pub flags: u8,
    /// Consecutive failed transmissions (for failover).
    pub fails: u8,
}

/// Compact per-device state: a hot record per device plus one array per colder field.
#[derive(Debug, Default)]
pub(crate) struct Devices {
    /// The fields every report touches, together in one 32-byte record (one cache line
    /// access per event when a million devices do not fit in cache).
    pub hot: Vec<Hot>,
    pub s_sense: Vec<u64>,
    pub s_chan: Vec<u64>,
    pub s_fail: Vec<u64>,
    /// Earliest time the radio may transmit again (duty cycle), ns.
    pub next_tx: Vec<u64>,
    pub failed_tx: Vec<u32>,
    pub retries: Vec<u32>,
    pub undelivered: Vec<u32>,
    pub battery: Vec<BatteryState>,
    pub bat_t: Vec<u64>,
    pub used_mah: Vec<f64>,
    pub death_s: Vec<f64>,
    pub down_since: Vec<u64>,
    pub down_s: Vec<f64>,
    pub edge_last: Vec<f32>,
    pub edge_sum: Vec<f32>,
    pub edge_n: Vec<u16>,
    /// Keyed hash of (seed, device) that the report jitter of each slot is drawn from.
    pub sense_base: Vec<u64>,
    /// Report phase within the period, ns (fixed per device).
    pub phase: Vec<u64>,
    /// Sense time of the last report sent (slot `hot.slot - 1`), ns.
    pub sensed: Vec<u64>,
}

impl Devices {
    fn with_capacity(n: usize) -> Self {
        Devices {
            hot: Vec::with_capacity(n),
            s_sense: Vec::with_capacity(n),
            s_chan: Vec::with_capacity(n),
            s_fail: Vec::with_capacity(n),
            next_tx: Vec::with_capacity(n),
            failed_tx: Vec::with_capacity(n),
            retries: Vec::with_capacity(n),
            undelivered: Vec::with_capacity(n),
            battery: Vec::with_capacity(n),
            bat_t: Vec::with_capacity(n),
            used_mah: Vec::with_capacity(n),
            death_s: Vec::with_capacity(n),
            down_since: Vec::with_capacity(n),
            down_s: Vec::with_capacity(n),
            edge_last: Vec::with_capacity(n),
            edge_sum: Vec::with_capacity(n),
            edge_n: Vec::with_capacity(n),
            sense_base: Vec::with_capacity(n),
            phase: Vec::with_capacity(n),
            sensed: Vec::with_capacity(n),
        }
    }

    /// Bytes held by all the arrays (their capacities).
    pub fn heap_bytes(&self) -> usize {
        fn b<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        b(&self.hot)
            + b(&self.s_sense)
            + b(&self.s_chan)
            + b(&self.s_fail)
            + b(&self.next_tx)
            + b(&self.failed_tx)
            + b(&self.retries)
            + b(&self.undelivered)
            + b(&self.battery)
            + b(&self.bat_t)
            + b(&self.used_mah)
            + b(&self.death_s)
            + b(&self.down_since)
            + b(&self.down_s)
            + b(&self.edge_last)
            + b(&self.edge_sum)
            + b(&self.edge_n)
            + b(&self.sense_base)
            + b(&self.phase)
            + b(&self.sensed)
    }
}

/// Precomputed per-group parameters.
struct GroupRt<'a> {
    first: u32,
    /// `period_ns / count`: the width of a device's phase stratum.
    phase_step: f64,
    period_ns: u64,
    jitter_ns: u64,
    /// `jitter_ns` as a double.
    jitter_f: f64,
    payload: u32,
    gateways: Vec<u16>,
    balancing: Balancing,
    lora: Option<LoraRt>,
    placement: Placement,
    signal: &'a SignalModel,
    constant_signal: bool,
    energy: Option<EnergyRt>,
    failure: Option<FailureModel>,
    retry: RetryPolicy,
}

struct LoraRt {
    cfg: LoRaConfig,
    toa_ns: u64,
    /// Silence after a transmission (duty cycle), ns, including the time on air.
    cycle_ns: u64,
    sensitivity: f64,
    sf_index: usize,
}

struct EnergyRt {
    battery: Battery,
    sleep_ma: f64,
    report_mah: f64,
    tx_mah: f64,
    /// Effective current of a transmission pulse (for Peukert), mA.
    tx_pulse_ma: f64,
    /// Mean current at one transmission per report, mA (for depletion prediction).
    mean_ma: f64,
    harvest: Option<super::energy::Solar>,
}

struct GatewayRt {
    link_latency_ns: u64,
    link_jitter_ns: f64,
    /// ns per byte on the link; 0 means unlimited.
    ns_per_byte: f64,
    queue_bytes: u64,
    loss: LossModel,
    edge: EdgeConfig,
    failure: Option<FailureModel>,
    x: f64,
    y: f64,
    busy_until: u64,
    last_arrival: u64,
    stream: u64,
    down: u16,
    partitioned: u16,
    partition_end: u64,
    down_since: u64,
    // Counters.
    received: u64,
    forwarded: u64,
    suppressed: u64,
    filtered: u64,
    aggregated: u64,
    dropped_queue: u64,
    lost_down: u64,
    lost_channel: u64,
    held: u64,
    down_s: f64,
    peak_backlog: u64,
}

/// One on-air LoRa transmission.
#[derive(Clone, Copy)]
struct Air {
    /// When it starts on air, ns (later than when it was sent if the duty cycle deferred it).
    start: u64,
    end: u64,
    dev: u32,
    rssi: f32,
    /// Destroyed by an overlapping transmission.
    collided: bool,
}

/// Global counters.
#[derive(Default)]
struct Totals {
    events: u64,
    transmissions: u64,
    lost_channel: u64,
    dropped_queue: u64,
    gateway_down: u64,
    collisions: u64,
    out_of_range: u64,
    dc_deferred: u64,
    dc_skipped: u64,
    battery_events: u64,
    /// Reports whose packet or retry was still pending at the horizon.
    in_flight: u64,
}

pub(crate) struct Engine<'a> {
    sc: &'a Scenario,
    seed: u64,
    horizon_ns: u64,
    groups: Vec<GroupRt<'a>>,
    pub(crate) dev: Devices,
    gws: Vec<GatewayRt>,
    queue: EventQueue,
    air: Vec<Vec<Air>>,
    hist: LatencyHistogram,
    bucket_ns: u64,
    tl_cur: usize,
    /// Start and end of timeline bucket `tl_cur`, ns (the last bucket also takes all
    /// later times).
    tl_start: u64,
    tl_end: u64,
    sense_key: u64,
    tl_reports: Vec<u64>,
    tl_delivered: Vec<u64>,
    tl_failed: Vec<u64>,
    tl_latency: Vec<f64>,
    totals: Totals,
}

#[inline]
fn ns(s: f64) -> u64 {
    (s * NS).round().max(0.0) as u64
}

impl<'a> Engine<'a> {
    /// Set up a validated scenario (validates it again: cheap next to a run).
    pub(crate) fn new(sc: &'a Scenario) -> Result<Self> {
        sc.validate()?;
        let seed = sc.seed;
        let horizon_ns = ns(sc.horizon_s);
        let n = sc.device_count() as usize;
        let mut groups = Vec::with_capacity(sc.groups.len());
        let mut first = 0u32;
        for (gi, g) in sc.groups.iter().enumerate() {
            let slots = sc.horizon_s / g.period_s;
            if slots > f64::from(u32::MAX) - 2.0 {
                return Err(Error::InvalidInput(format!(
                    "groups[{gi}].period_s: {slots:.0} reports per device exceed the 2^32 limit"
                )));
            }
            let lora = match &g.radio {
                Radio::Ideal => None,
                Radio::Lora(cfg) => {
                    let toa = cfg.time_on_air_s(g.payload_bytes);
                    Some(LoraRt {
                        cfg: cfg.clone(),
                        toa_ns: ns(toa),
                        cycle_ns: ns(toa / cfg.duty_cycle),
                        sensitivity: cfg.sensitivity_dbm(),
                        sf_index: usize::from(cfg.spreading_factor - 7),
                    })
                }
            };
            let energy = g.energy.as_ref().map(|e: &EnergyConfig| {
                let tx_s = e
                    .tx_s
                    .unwrap_or_else(|| lora.as_ref().map_or(0.0, |l| l.toa_ns as f64 * INV_NS));
                let tx_mah = e.transmission_mah(tx_s);
                let report_mah = e.report_mah();
                let harvest_mean = e.harvest.map_or(0.0, |h| h.mean_ma());
                EnergyRt {
                    battery: e.battery,
                    sleep_ma: e.sleep_ma,
                    report_mah,
                    tx_mah,
                    tx_pulse_ma: e.tx_ma,
                    mean_ma: e.sleep_ma + (report_mah + tx_mah) * 3600.0 / g.period_s
                        - harvest_mean,
                    harvest: e.harvest,
                }
            });
            groups.push(GroupRt {
                first,
                phase_step: ns(g.period_s).max(1) as f64 / f64::from(g.count.max(1)),
                period_ns: ns(g.period_s).max(1),
                jitter_ns: ns(g.jitter_s),
                jitter_f: ns(g.jitter_s) as f64,
                payload: g.payload_bytes,
                gateways: g.gateways.iter().map(|&x| x as u16).collect(),
                balancing: g.balancing,
                lora,
                placement: g.placement,
                signal: &g.signal,
                constant_signal: g.signal.is_constant(),
                energy,
                failure: g.failure,
                retry: g.retry,
            });
            first += g.count;
        }
        let gws = sc
            .gateways
            .iter()
            .enumerate()
            .map(|(i, g)| GatewayRt {
                link_latency_ns: ns(g.link.latency_s),
                link_jitter_ns: g.link.jitter_s * NS,
                ns_per_byte: g.link.bandwidth_bps.map_or(0.0, |b| 8.0 * NS / b),
                queue_bytes: g.link.queue_bytes,
                loss: g.link.loss,
                edge: g.edge,
                failure: g.failure,
                x: g.x,
                y: g.y,
                busy_until: 0,
                last_arrival: 0,
                stream: rng::key(seed, i as u64, StreamId::Gateway),
                down: 0,
                partitioned: 0,
                partition_end: 0,
                down_since: 0,
                received: 0,
                forwarded: 0,
                suppressed: 0,
                filtered: 0,
                aggregated: 0,
                dropped_queue: 0,
                lost_down: 0,
                lost_channel: 0,
                held: 0,
                down_s: 0.0,
                peak_backlog: 0,
            })
            .collect();
        let min_period = groups.iter().map(|g| g.period_ns).min().unwrap_or(1);
        let buckets = (sc.horizon_s / sc.metrics.bucket_s).ceil() as usize + 1;
        let queue = EventQueue::for_load(n + 16, min_period);
        Ok(Engine {
            sc,
            seed,
            horizon_ns,
            groups,
            dev: Devices::with_capacity(n),
            gws,
            queue,
            air: (0..6 * 256).map(|_| Vec::new()).collect(),
            hist: LatencyHistogram::new(),
            bucket_ns: ns(sc.metrics.bucket_s).max(1),
            tl_cur: 0,
            tl_start: 0,
            tl_end: ns(sc.metrics.bucket_s).max(1),
            sense_key: rng::mix(seed ^ 0x0123_4567_89AB_CDEF),
            tl_reports: vec![0; buckets],
            tl_delivered: vec![0; buckets],
            tl_failed: vec![0; buckets],
            tl_latency: vec![0.0; buckets],
            totals: Totals::default(),
        })
    }

    /// The keyed hash of (seed, device) behind device `d`'s report times, and its phase
    /// within the period, ns. Phases are stratified: device j of a group of n starts at a
    /// uniform time in [j/n, (j+1)/n) of a period, so reports sweep the device arrays in
    /// order.
    fn sense_key_and_phase(sense_key: u64, d: u32, g: &GroupRt) -> (u64, u64) {
        let base = rng::mix(sense_key ^ u64::from(d).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let j = f64::from(d - g.first);
        let phase = ((j + rng::to_unit(rng::mix(base))) * g.phase_step) as u64;
        (base, phase)
    }

    /// Sense time of `slot` of device `d` (closed form: phase, period, jitter), ns. The
    /// jitter is a keyed hash of (seed, device, slot): one mix, no state.
    #[inline]
    fn sense_time(&self, d: u32, g: &GroupRt, slot: u32) -> u64 {
        let i = d as usize;
        let jitter = if g.jitter_ns > 0 {
            let h = rng::mix(
                self.dev.sense_base[i] ^ (u64::from(slot) + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
            );
            // In [0, jitter_ns): the signed conversion is exact and one instruction.
            (rng::to_unit(h) * g.jitter_f) as i64 as u64
        } else {
            0
        };
        self.dev.phase[i] + u64::from(slot) * g.period_ns + jitter
    }

    /// Timeline bucket of `t`; times only move forward, so this steps instead of dividing.
    #[inline]
    fn bucket(&mut self, t: u64) -> usize {
        if t < self.tl_end && t >= self.tl_start {
            return self.tl_cur;
        }
        self.bucket_slow(t)
    }

    #[inline(never)]
    fn bucket_slow(&mut self, t: u64) -> usize {
        let last = self.tl_reports.len() - 1;
        if t < self.tl_start {
            return ((t / self.bucket_ns) as usize).min(last);
        }
        while t >= self.tl_end && self.tl_cur < last {
            self.tl_cur += 1;
            self.tl_start = self.tl_end;
            self.tl_end += self.bucket_ns;
        }
        self.tl_cur
    }

    /// Allocate device state and schedule the first events.
    pub(crate) fn init(&mut self) {
        let seed = self.seed;
        for (gi, g) in self.groups.iter().enumerate() {
            let gcfg = &self.sc.groups[gi];
            for j in 0..gcfg.count {
                let d = g.first + j;
                let dd = u64::from(d);
                let (base, phase) = Self::sense_key_and_phase(self.sense_key, d, g);
                let dev = &mut self.dev;
                dev.sense_base.push(base);
                dev.phase.push(phase);
                let start_gw = match g.balancing {
                    Balancing::Spread => g.gateways[(j as usize) % g.gateways.len()],
                    _ => g.gateways[0],
                };
                dev.hot.push(Hot {
                    group: gi as u16,
                    cur_gw: start_gw,
                    ..Hot::default()
                });
                dev.s_sense.push(rng::key(seed, dd, StreamId::Sensing));
                dev.s_chan.push(rng::key(seed, dd, StreamId::Channel));
                dev.s_fail.push(rng::key(seed, dd, StreamId::Failure));
                dev.next_tx.push(0);
                dev.failed_tx.push(0);
                dev.retries.push(0);
                dev.undelivered.push(0);
                dev.battery
                    .push(g.energy.as_ref().map_or((0.0, 0.0), |e| e.battery.full()));
                dev.bat_t.push(0);
                dev.used_mah.push(0.0);
                dev.death_s.push(-1.0);
                dev.down_since.push(0);
                dev.down_s.push(0.0);
                dev.edge_last.push(f32::NAN);
                dev.edge_sum.push(0.0);
                dev.edge_n.push(0);
                dev.sensed.push(0);
            }
        }
        // First events.
        let n = self.dev.hot.len() as u32;
        for d in 0..n {
            let gi = usize::from(self.dev.hot[d as usize].group);
            let g = &self.groups[gi];
            let t = self.sense_time(d, g, 0);
            let failure = g.failure;
            let depletion = g
                .energy
                .as_ref()
                .and_then(|e| e.battery.time_to_empty_h(&e.battery.full(), e.mean_ma));
            self.queue.push(Event::new(t, d, REPORT));
            if let Some(f) = failure {
                let ttf = f.time_to_failure(&mut self.dev.s_fail[d as usize]);
                self.push_at(ns(ttf), d, DEV_FAIL);
            }
            if let Some(h) = depletion {
                self.push_at(ns(h * 3600.0), d, BATTERY);
            }
        }
        for gw in 0..self.gws.len() {
            if let Some(f) = self.gws[gw].failure {
                let ttf = f.time_to_failure(&mut self.gws[gw].stream);
                self.push_at(ns(ttf), gw as u32, GW_FAIL);
            }
        }
        for (i, o) in self.sc.outages.iter().enumerate() {
            self.push_at(ns(o.start_s), i as u32, OUTAGE_START);
            self.push_at(ns(o.start_s + o.duration_s), i as u32, OUTAGE_END);
        }
    }

    #[inline]
    fn push_at(&mut self, t: u64, entity: u32, kind: u8) {
        if t <= self.horizon_ns {
            self.queue.push(Event::new(t, entity, kind));
        }
    }

    /// Run the event loop to the horizon, checking `progress` for cancellation every
    /// [`CHECK_EVERY`] events; with `report_time` the progress counts per mille of the
    /// horizon simulated.
    pub(crate) fn run(&mut self, progress: &Progress, report_time: bool) -> Result<()> {
        progress.check()?;
        let horizon = self.horizon_ns.max(1) as f64;
        while let Some(e) = self.queue.pop() {
            if self.totals.events % CHECK_EVERY == 0 {
                progress.check()?;
                if report_time {
                    progress.set_done(((e.time as f64 / horizon) * 1000.0).min(999.0) as u64);
                }
            }
            if e.time > self.horizon_ns {
                // Reports still under way at the horizon: count them from what is left.
                let mut pending = e;
                loop {
                    if matches!(pending.kind, TX | TX_END | ARRIVE) {
                        self.totals.in_flight += 1;
                    }
                    match self.queue.pop() {
                        Some(next) => pending = next,
                        None => break,
                    }
                }
                break;
            }
            self.totals.events += 1;
            // The two kinds of almost every event first, then the rest.
            if e.kind == REPORT {
                self.on_report(e);
                continue;
            }
            if e.kind == ARRIVE {
                self.on_arrive(e);
                continue;
            }
            match e.kind {
                REPORT => self.on_report(e),
                TX => self.on_retry(e),
                TX_END => self.on_tx_end(e),
                ARRIVE => self.on_arrive(e),
                DEV_FAIL => self.on_dev_fail(e),
                DEV_REPAIR => self.on_dev_repair(e),
                GW_FAIL => self.on_gw_fail(e),
                GW_REPAIR => self.on_gw_repair(e),
                OUTAGE_START => self.on_outage(e, true),
                OUTAGE_END => self.on_outage(e, false),
                _ => self.on_battery(e),
            }
        }
        // Bring every live battery to the horizon: the sleep current drawn after a device's
        // last event is part of the run's energy (and may still empty the battery).
        let h = self.horizon_ns;
        for d in 0..self.dev.hot.len() {
            let gi = usize::from(self.dev.hot[d].group);
            if self.groups[gi].energy.is_some() && self.dev.hot[d].flags & F_DEAD == 0 {
                self.energy_to(d, gi, h, 0.0, 0.0);
            }
        }
        // Close open down periods at the horizon.
        for d in 0..self.dev.hot.len() {
            if self.dev.hot[d].flags & DOWN != 0 {
                self.dev.down_s[d] += (h - self.dev.down_since[d].min(h)) as f64 * INV_NS;
            }
        }
        for g in &mut self.gws {
            if g.down > 0 {
                g.down_s += (h - g.down_since.min(h)) as f64 * INV_NS;
            }
        }
        if report_time {
            progress.set_done(1000);
        }
        Ok(())
    }

    fn on_report(&mut self, e: Event) {
        let d = e.entity as usize;
        let h = &mut self.dev.hot[d];
        if e.tag != h.slot {
            return; // stale
        }
        if h.flags & DOWN != 0 {
            h.flags |= F_WAITING;
            return;
        }
        let gi = usize::from(h.group);
        let t = e.time;
        // Energy first: a device that dies now does not report.
        if self.groups[gi].energy.is_some() {
            let report_mah = self.groups[gi]
                .energy
                .as_ref()
                .map_or(0.0, |x| x.report_mah);
            if !self.energy_to(d, gi, t, report_mah, 0.0) {
                return;
            }
        }
        let g = &self.groups[gi];
        let value = if g.constant_signal {
            g.signal.level as f32
        } else {
            g.signal.sample(
                self.seed,
                d as u64,
                t as f64 * INV_NS,
                &mut self.dev.s_sense[d],
            ) as f32
        };
        let slot = e.tag;
        let next = slot + 1;
        let h = &mut self.dev.hot[d];
        h.slot = next;
        h.reports += 1;
        // A report event comes at its slot's sense time; kept for the packet's latency.
        debug_assert_eq!(t, self.sense_time(e.entity, g, slot));
        self.dev.sensed[d] = t;
        let nt = self.sense_time(e.entity, g, next);
        let b = self.bucket(t);
        self.tl_reports[b] += 1;
        if nt <= self.horizon_ns {
            let mut ne = Event::new(nt, e.entity, REPORT);
            ne.tag = next;
            self.queue.push(ne);
        }
        self.transmit(d, gi, t, value, slot, 0);
    }

    fn on_retry(&mut self, e: Event) {
        let d = e.entity as usize;
        let gi = usize::from(self.dev.hot[d].group);
        if self.dev.hot[d].flags & DOWN != 0 {
            self.dev.undelivered[d] += 1;
            return;
        }
        self.transmit(d, gi, e.time, e.value, e.tag, e.attempt);
    }

    /// Bring the battery to `t`, then take `pulse_mah` (plus `tx` transmissions). Returns
    /// false (and marks the device dead) if the battery is empty.
    fn energy_to(&mut self, d: usize, gi: usize, t: u64, pulse_mah: f64, pulse_ma: f64) -> bool {
        let Some(e) = self.groups[gi].energy.as_ref() else {
            return true;
        };
        let t0 = self.dev.bat_t[d];
        let mut s = self.dev.battery[d];
        let dt_h = (t.saturating_sub(t0)) as f64 * (INV_NS / 3600.0);
        let harvest_ma = match &e.harvest {
            Some(h) if dt_h > 0.0 => {
                (h.cumulative_mah(t as f64 * INV_NS) - h.cumulative_mah(t0 as f64 * INV_NS)) / dt_h
            }
            _ => 0.0,
        };
        let net = e.sleep_ma - harvest_ma;
        e.battery.drain(&mut s, net, dt_h);
        self.dev.used_mah[d] += e.sleep_ma * dt_h;
        self.dev.bat_t[d] = t;
        if e.battery.is_empty(&s) {
            // It emptied while sleeping: when, in closed form.
            let before = self.dev.battery[d];
            let death = e
                .battery
                .time_to_empty_h(&before, net)
                .map_or(t, |h| (t0 + ns(h * 3600.0)).min(t));
            self.dev.battery[d] = s;
            self.die(d, death);
            return false;
        }
        e.battery.pulse(&mut s, pulse_mah, pulse_ma);
        self.dev.used_mah[d] += pulse_mah;
        self.dev.battery[d] = s;
        if e.battery.is_empty(&s) {
            self.die(d, t);
            return false;
        }
        true
    }

    fn die(&mut self, d: usize, t: u64) {
        if self.dev.hot[d].flags & F_DEAD != 0 {
            return;
        }
        self.set_down(d, t, F_DEAD);
        self.dev.death_s[d] = t as f64 * INV_NS;
    }

    fn set_down(&mut self, d: usize, t: u64, flag: u8) {
        if self.dev.hot[d].flags & DOWN == 0 {
            self.dev.down_since[d] = t;
        }
        self.dev.hot[d].flags |= flag;
    }

    fn clear_down(&mut self, d: usize, t: u64, flag: u8) {
        let was = self.dev.hot[d].flags & DOWN != 0;
        self.dev.hot[d].flags &= !flag;
        if was && self.dev.hot[d].flags & DOWN == 0 {
            self.dev.down_s[d] += (t.saturating_sub(self.dev.down_since[d])) as f64 * INV_NS;
            if self.dev.hot[d].flags & F_WAITING != 0 {
                self.dev.hot[d].flags &= !F_WAITING;
                // Next nominal slot at or after now.
                let gi = usize::from(self.dev.hot[d].group);
                let g = &self.groups[gi];
                let since = t.saturating_sub(self.sense_time(d as u32, g, 0));
                let mut slot = self.dev.hot[d].slot.max((since / g.period_ns) as u32);
                while self.sense_time(d as u32, g, slot) < t {
                    slot += 1;
                }
                self.dev.hot[d].slot = slot;
                let nt = self.sense_time(d as u32, g, slot);
                if nt <= self.horizon_ns {
                    let mut ne = Event::new(nt, d as u32, REPORT);
                    ne.tag = slot;
                    self.queue.push(ne);
                }
            }
        }
    }

    /// Pick the gateway for a transmission: the device's current one unless the group
    /// balances load over several.
    #[inline]
    fn choose_gateway(&self, d: usize, gi: usize) -> u16 {
        let g = &self.groups[gi];
        if matches!(g.balancing, Balancing::LeastLoaded) && g.gateways.len() > 1 {
            self.least_loaded_gateway(d, gi)
        } else {
            self.dev.hot[d].cur_gw
        }
    }

    /// The least-loaded (LoRa: the strongest) gateway of the group that is up.
    #[inline(never)]
    fn least_loaded_gateway(&self, d: usize, gi: usize) -> u16 {
        let g = &self.groups[gi];
        match g.balancing {
            Balancing::LeastLoaded if g.gateways.len() > 1 => {
                if g.lora.is_some() {
                    let (x, y) = g.placement.position(self.seed, d as u64);
                    let mut best = (f64::NEG_INFINITY, g.gateways[0]);
                    for &gw in &g.gateways {
                        if self.gws[usize::from(gw)].down > 0 {
                            continue;
                        }
                        let r = self.rssi(d, gi, gw, x, y);
                        if r > best.0 {
                            best = (r, gw);
                        }
                    }
                    best.1
                } else {
                    let mut best = (u64::MAX, g.gateways[0]);
                    let now = self.queue.now();
                    for &gw in &g.gateways {
                        let r = &self.gws[usize::from(gw)];
                        if r.down > 0 {
                            continue;
                        }
                        let backlog = r.busy_until.saturating_sub(now);
                        if backlog < best.0 {
                            best = (backlog, gw);
                        }
                    }
                    best.1
                }
            }
            _ => self.dev.hot[d].cur_gw,
        }
    }

    /// Received power of device `d` at gateway `gw`, dBm.
    fn rssi(&self, d: usize, gi: usize, gw: u16, x: f64, y: f64) -> f64 {
        let Some(l) = self.groups[gi].lora.as_ref() else {
            return 0.0;
        };
        let g = &self.gws[usize::from(gw)];
        let dist = ((x - g.x).powi(2) + (y - g.y).powi(2)).sqrt();
        let shadow = if l.cfg.shadowing_sd_db > 0.0 {
            let mut s =
                rng::key(self.seed, d as u64, StreamId::Placement) ^ rng::mix(5000 + u64::from(gw));
            l.cfg.shadowing_sd_db * rng::normal(&mut s)
        } else {
            0.0
        };
        l.cfg.tx_power_dbm - l.cfg.path_loss_db(dist) - shadow
    }

    #[inline(always)]
    fn transmit(&mut self, d: usize, gi: usize, t: u64, value: f32, slot: u32, attempt: u8) {
        self.totals.transmissions += 1;
        let gw = self.choose_gateway(d, gi);
        if let Some(e) = self.groups[gi].energy.as_ref() {
            let (mah, ma) = (e.tx_mah, e.tx_pulse_ma);
            if !self.energy_to(d, gi, t, mah, ma) {
                self.dev.undelivered[d] += 1;
                return;
            }
        }
        let g = &self.groups[gi];
        if let Some(l) = g.lora.as_ref() {
            let start = t.max(self.dev.next_tx[d]);
            if start > t {
                if start - t > g.period_ns {
                    self.totals.dc_skipped += 1;
                    self.dev.undelivered[d] += 1;
                    return;
                }
                self.totals.dc_deferred += 1;
            }
            let end = start + l.toa_ns;
            self.dev.next_tx[d] = start + l.cycle_ns;
            let ch = (rng::next_u64(&mut self.dev.s_chan[d]) % u64::from(l.cfg.channels)) as usize;
            let (x, y) = g.placement.position(self.seed, d as u64);
            let rssi = self.rssi(d, gi, gw, x, y) as f32;
            let capture = l.cfg.capture_db.map(|c| c as f32);
            // The list holds every transmission not yet ended (its TX_END removes it),
            // including ones the duty cycle deferred to a later start: only those whose
            // time on air overlaps this one's collide with it.
            let list = &mut self.air[ch * 6 + l.sf_index];
            let mut me_collided = false;
            for a in list.iter_mut() {
                if a.start >= end || a.end <= start {
                    continue;
                }
                let (mine_survives, other_survives) = match capture {
                    Some(c) => (rssi >= a.rssi + c, a.rssi >= rssi + c),
                    None => (false, false),
                };
                if !mine_survives {
                    me_collided = true;
                }
                if !other_survives {
                    a.collided = true;
                }
            }
            list.push(Air {
                start,
                end,
                dev: d as u32,
                rssi,
                collided: me_collided,
            });
            let mut ev = Event::new(end, d as u32, TX_END);
            ev.tag = slot;
            ev.value = value;
            ev.attempt = attempt;
            ev.aux = gw;
            self.queue.push(ev);
            return;
        }
        self.onto_link(d, gi, gw, t, value, slot, attempt);
    }

    /// Take device `d`'s transmission ending at `end` off the air; returns whether it
    /// collided. (Each transmission has its own mark: a device's next, deferred packet may
    /// already be listed while this one is on air.)
    fn end_air(&mut self, d: usize, end: u64, gi: usize) -> bool {
        let Some(l) = self.groups[gi].lora.as_ref() else {
            return false;
        };
        let (sf, channels) = (l.sf_index, usize::from(l.cfg.channels));
        for ch in 0..channels {
            let list = &mut self.air[ch * 6 + sf];
            if let Some(i) = list.iter().position(|a| a.dev == d as u32 && a.end == end) {
                return list.swap_remove(i).collided;
            }
        }
        false
    }

    fn on_tx_end(&mut self, e: Event) {
        let d = e.entity as usize;
        let gi = usize::from(self.dev.hot[d].group);
        let collided = self.end_air(d, e.time, gi);
        if collided {
            self.fail(d, gi, e.time, e.value, e.tag, e.attempt, Cause::Collision);
            return;
        }
        let g = &self.groups[gi];
        let (x, y) = g.placement.position(self.seed, d as u64);
        let sens = g.lora.as_ref().map_or(f64::NEG_INFINITY, |l| l.sensitivity);
        if self.rssi(d, gi, e.aux, x, y) < sens {
            self.fail(d, gi, e.time, e.value, e.tag, e.attempt, Cause::OutOfRange);
            return;
        }
        self.onto_link(d, gi, e.aux, e.time, e.value, e.tag, e.attempt);
    }

    /// A packet reaches the gateway's ingress link at `t`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn onto_link(
        &mut self,
        d: usize,
        gi: usize,
        gw: u16,
        t: u64,
        value: f32,
        slot: u32,
        attempt: u8,
    ) {
        let payload = self.groups[gi].payload;
        let r = &mut self.gws[usize::from(gw)];
        if r.down > 0 {
            r.lost_down += 1;
            self.fail(d, gi, t, value, slot, attempt, Cause::GatewayDown);
            return;
        }
        let mut bad = self.dev.hot[d].flags & F_BAD != 0;
        let ok = r.loss.transmit(&mut bad, &mut self.dev.s_chan[d]);
        if bad {
            self.dev.hot[d].flags |= F_BAD;
        } else {
            self.dev.hot[d].flags &= !F_BAD;
        }
        if !ok {
            r.lost_channel += 1;
            self.fail(d, gi, t, value, slot, attempt, Cause::Channel);
            return;
        }
        let depart = if r.ns_per_byte > 0.0 {
            let backlog_ns = r.busy_until.saturating_sub(t);
            let backlog_bytes = (backlog_ns as f64 / r.ns_per_byte) as u64;
            if backlog_bytes.saturating_add(u64::from(payload)) > r.queue_bytes {
                r.dropped_queue += 1;
                self.fail(d, gi, t, value, slot, attempt, Cause::Queue);
                return;
            }
            r.peak_backlog = r.peak_backlog.max(backlog_bytes + u64::from(payload));
            let start = t.max(r.busy_until);
            r.busy_until = start + (f64::from(payload) * r.ns_per_byte) as u64;
            r.busy_until
        } else {
            t
        };
        let jitter = if r.link_jitter_ns > 0.0 {
            (rng::uniform(&mut r.stream) * r.link_jitter_ns) as u64
        } else {
            0
        };
        let arrival = (depart + r.link_latency_ns + jitter).max(r.last_arrival);
        r.last_arrival = arrival;
        let mut ev = Event::new(arrival, d as u32, ARRIVE);
        ev.tag = slot;
        ev.value = value;
        ev.attempt = attempt;
        ev.aux = gw;
        self.queue.push(ev);
    }

    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        d: usize,
        gi: usize,
        t: u64,
        value: f32,
        slot: u32,
        attempt: u8,
        cause: Cause,
    ) {
        match cause {
            Cause::Channel => self.totals.lost_channel += 1,
            Cause::Queue => self.totals.dropped_queue += 1,
            Cause::GatewayDown => self.totals.gateway_down += 1,
            Cause::Collision => self.totals.collisions += 1,
            Cause::OutOfRange => self.totals.out_of_range += 1,
        }
        self.dev.failed_tx[d] += 1;
        let b = self.bucket(t);
        self.tl_failed[b] += 1;
        let g = &self.groups[gi];
        let retry = g.retry;
        self.dev.hot[d].fails = self.dev.hot[d].fails.saturating_add(1);
        if retry.failover_after > 0
            && self.dev.hot[d].fails >= retry.failover_after
            && g.gateways.len() > 1
        {
            let cur = self.dev.hot[d].cur_gw;
            let pos = g.gateways.iter().position(|&x| x == cur).unwrap_or(0);
            self.dev.hot[d].cur_gw = g.gateways[(pos + 1) % g.gateways.len()];
            self.dev.hot[d].fails = 0;
        }
        if attempt < retry.max_retries {
            self.dev.retries[d] += 1;
            let delay = retry.delay_s(attempt, &mut self.dev.s_chan[d]);
            let nt = t + ns(delay);
            if nt <= self.horizon_ns {
                let mut ev = Event::new(nt, d as u32, TX);
                ev.tag = slot;
                ev.value = value;
                ev.attempt = attempt + 1;
                self.queue.push(ev);
            } else {
                // The retry would come after the horizon: the report is still under way.
                self.totals.in_flight += 1;
            }
        } else {
            self.dev.undelivered[d] += 1;
        }
    }

    fn on_arrive(&mut self, e: Event) {
        let d = e.entity as usize;
        let gi = usize::from(self.dev.hot[d].group);
        let gw = usize::from(e.aux);
        if self.gws[gw].down > 0 {
            // Went down while the packet was on the link.
            self.gws[gw].lost_down += 1;
            self.fail(d, gi, e.time, e.value, e.tag, e.attempt, Cause::GatewayDown);
            return;
        }
        let h = &mut self.dev.hot[d];
        h.fails = 0;
        h.delivered += 1;
        let current_slot = h.slot;
        let g = &self.groups[gi];
        // The packet of the last report sent (the usual case) or an older one (a retry that
        // arrives after the next report).
        let sensed = if current_slot == e.tag.wrapping_add(1) {
            self.dev.sensed[d]
        } else {
            self.sense_time(e.entity, g, e.tag)
        };
        debug_assert_eq!(sensed, self.sense_time(e.entity, g, e.tag));
        let b = self.bucket(e.time);
        let r = &mut self.gws[gw];
        r.received += 1;
        let cloud = if r.partitioned > 0 {
            r.held += 1;
            e.time.max(r.partition_end)
        } else {
            e.time
        };
        // Through i64 (one instruction): a latency is far below 2^63 ns.
        let lat = cloud.saturating_sub(sensed) as i64 as f64 * INV_NS;
        self.hist.record(lat);
        self.dev.hot[d].latency_sum += lat;
        self.tl_delivered[b] += 1;
        self.tl_latency[b] += lat;
        // Edge pre-processing.
        let edge = r.edge;
        let v = e.value;
        if let Some((lo, hi)) = edge.filter {
            if !(f64::from(v) >= lo && f64::from(v) <= hi) {
                r.filtered += 1;
                return;
            }
        }
        if let Some(db) = edge.deadband {
            let last = self.dev.edge_last[d];
            if !last.is_nan() && f64::from((v - last).abs()) < db {
                r.suppressed += 1;
                return;
            }
        }
        match edge.aggregate {
            Some(n) if n > 1 => {
                self.dev.edge_sum[d] += v;
                self.dev.edge_n[d] += 1;
                r.aggregated += 1;
                if self.dev.edge_n[d] >= n {
                    let mean = self.dev.edge_sum[d] / f32::from(self.dev.edge_n[d]);
                    self.dev.edge_sum[d] = 0.0;
                    self.dev.edge_n[d] = 0;
                    self.dev.edge_last[d] = mean;
                    r.forwarded += 1;
                }
            }
            _ => {
                self.dev.edge_last[d] = v;
                r.forwarded += 1;
            }
        }
    }

    fn on_dev_fail(&mut self, e: Event) {
        let d = e.entity as usize;
        let gi = usize::from(self.dev.hot[d].group);
        if self.dev.hot[d].flags & F_DEAD != 0 {
            return;
        }
        self.set_down(d, e.time, F_FAILED);
        if let Some(f) = self.groups[gi].failure {
            if let Some(ttr) = f.time_to_repair(&mut self.dev.s_fail[d]) {
                self.push_at(e.time + ns(ttr), e.entity, DEV_REPAIR);
            }
        }
    }

    fn on_dev_repair(&mut self, e: Event) {
        let d = e.entity as usize;
        let gi = usize::from(self.dev.hot[d].group);
        // Sleep drain while failed still counts: bring the battery up to date.
        if self.groups[gi].energy.is_some() && !self.energy_to(d, gi, e.time, 0.0, 0.0) {
            return;
        }
        self.clear_down(d, e.time, F_FAILED);
        if let Some(f) = self.groups[gi].failure {
            let ttf = f.time_to_failure(&mut self.dev.s_fail[d]);
            self.push_at(e.time + ns(ttf), e.entity, DEV_FAIL);
        }
    }

    fn gw_down(&mut self, gw: usize, t: u64) {
        let r = &mut self.gws[gw];
        if r.down == 0 {
            r.down_since = t;
        }
        r.down += 1;
    }

    fn gw_up(&mut self, gw: usize, t: u64) {
        let r = &mut self.gws[gw];
        r.down = r.down.saturating_sub(1);
        if r.down == 0 {
            r.down_s += (t.saturating_sub(r.down_since)) as f64 * INV_NS;
        }
    }

    fn on_gw_fail(&mut self, e: Event) {
        let gw = e.entity as usize;
        self.gw_down(gw, e.time);
        if let Some(f) = self.gws[gw].failure {
            if let Some(ttr) = f.time_to_repair(&mut self.gws[gw].stream) {
                self.push_at(e.time + ns(ttr), e.entity, GW_REPAIR);
            }
        }
    }

    fn on_gw_repair(&mut self, e: Event) {
        let gw = e.entity as usize;
        self.gw_up(gw, e.time);
        if let Some(f) = self.gws[gw].failure {
            let ttf = f.time_to_failure(&mut self.gws[gw].stream);
            self.push_at(e.time + ns(ttf), e.entity, GW_FAIL);
        }
    }

    fn on_outage(&mut self, e: Event, start: bool) {
        let o = &self.sc.outages[e.entity as usize];
        let end = ns(o.start_s + o.duration_s);
        for &gw in &o.gateways {
            match (o.kind, start) {
                (OutageKind::Down, true) => self.gw_down(gw, e.time),
                (OutageKind::Down, false) => self.gw_up(gw, e.time),
                (OutageKind::Partition, true) => {
                    let r = &mut self.gws[gw];
                    r.partitioned += 1;
                    r.partition_end = r.partition_end.max(end);
                }
                (OutageKind::Partition, false) => {
                    let r = &mut self.gws[gw];
                    r.partitioned = r.partitioned.saturating_sub(1);
                }
            }
        }
        for &gi in &o.groups {
            let g = &self.groups[gi];
            let (first, count) = (g.first as usize, self.sc.groups[gi].count as usize);
            for d in first..first + count {
                if start {
                    self.set_down(d, e.time, F_OUTAGE);
                } else {
                    self.clear_down(d, e.time, F_OUTAGE);
                }
            }
        }
    }

    fn on_battery(&mut self, e: Event) {
        let d = e.entity as usize;
        if self.dev.hot[d].flags & F_DEAD != 0 {
            return;
        }
        self.totals.battery_events += 1;
        let gi = usize::from(self.dev.hot[d].group);
        if !self.energy_to(d, gi, e.time, 0.0, 0.0) {
            return;
        }
        // Not empty yet (the prediction used the mean load): predict again.
        if let Some(en) = self.groups[gi].energy.as_ref() {
            if let Some(h) = en.battery.time_to_empty_h(&self.dev.battery[d], en.mean_ma) {
                let next = e.time + ns(h * 3600.0).max(1_000_000_000);
                self.push_at(next, e.entity, BATTERY);
            }
        }
    }

    /// Assemble the report.
    pub(crate) fn report(self) -> Result<Report> {
        let dev = &self.dev;
        let n = dev.hot.len();
        let horizon_s = self.sc.horizon_s;
        let reports: u64 = dev.hot.iter().map(|h| u64::from(h.reports)).sum();
        let delivered: u64 = dev.hot.iter().map(|h| u64::from(h.delivered)).sum();
        let undelivered: u64 = dev.undelivered.iter().map(|&x| u64::from(x)).sum();
        let retries: u64 = dev.retries.iter().map(|&x| u64::from(x)).sum();
        let failed_tx: u64 = dev.failed_tx.iter().map(|&x| u64::from(x)).sum();
        let energy_mah: f64 = dev.used_mah.iter().sum();
        let dead: Vec<f64> = dev.death_s.iter().copied().filter(|&x| x >= 0.0).collect();
        let down_total: f64 = dev.down_s.iter().sum();
        let summary = Summary {
            devices: n as u64,
            gateways: self.gws.len() as u64,
            horizon_s,
            events: self.totals.events,
            reports,
            transmissions: self.totals.transmissions,
            delivered,
            retries,
            failed_transmissions: failed_tx,
            undelivered,
            in_flight: self.totals.in_flight,
            lost_channel: self.totals.lost_channel,
            dropped_queue: self.totals.dropped_queue,
            gateway_down: self.totals.gateway_down,
            collisions: self.totals.collisions,
            out_of_range: self.totals.out_of_range,
            duty_cycle_deferred: self.totals.dc_deferred,
            duty_cycle_skipped: self.totals.dc_skipped,
            forwarded: self.gws.iter().map(|g| g.forwarded).sum(),
            delivery_ratio: if reports > 0 {
                delivered as f64 / reports as f64
            } else {
                0.0
            },
            latency_mean_s: self.hist.mean(),
            latency_p50_s: self.hist.percentile(0.5),
            latency_p95_s: self.hist.percentile(0.95),
            latency_p99_s: self.hist.percentile(0.99),
            latency_max_s: self.hist.max(),
            energy_mah,
            depleted: dead.len() as u64,
            first_depletion_s: dead.iter().copied().reduce(f64::min),
            mean_lifetime_s: if dead.is_empty() {
                None
            } else {
                Some(dead.iter().sum::<f64>() / dead.len() as f64)
            },
            availability: if n > 0 {
                1.0 - down_total / (n as f64 * horizon_s)
            } else {
                1.0
            },
        };
        let mut devices = Table::default();
        if self.sc.metrics.per_device {
            let u = |v: &Vec<u32>| Column::U64(v.iter().map(|&x| u64::from(x)).collect());
            devices.push("device", Column::U64((0..n as u64).collect()))?;
            devices.push(
                "group",
                Column::U64(dev.hot.iter().map(|h| u64::from(h.group)).collect()),
            )?;
            devices.push(
                "reports",
                Column::U64(dev.hot.iter().map(|h| u64::from(h.reports)).collect()),
            )?;
            devices.push(
                "delivered",
                Column::U64(dev.hot.iter().map(|h| u64::from(h.delivered)).collect()),
            )?;
            devices.push("failed_transmissions", u(&dev.failed_tx))?;
            devices.push("retries", u(&dev.retries))?;
            devices.push("undelivered", u(&dev.undelivered))?;
            devices.push(
                "latency_mean_s",
                Column::F64(
                    dev.hot
                        .iter()
                        .map(|h| {
                            if h.delivered > 0 {
                                h.latency_sum / f64::from(h.delivered)
                            } else {
                                f64::NAN
                            }
                        })
                        .collect(),
                ),
            )?;
            devices.push("energy_mah", Column::F64(dev.used_mah.clone()))?;
            devices.push(
                "lifetime_s",
                Column::F64(
                    dev.death_s
                        .iter()
                        .map(|&x| if x >= 0.0 { x } else { horizon_s })
                        .collect(),
                ),
            )?;
            devices.push(
                "depleted",
                Column::U64(dev.death_s.iter().map(|&x| u64::from(x >= 0.0)).collect()),
            )?;
            devices.push("down_s", Column::F64(dev.down_s.clone()))?;
            let mut xs = Vec::with_capacity(n);
            let mut ys = Vec::with_capacity(n);
            for d in 0..n {
                let gi = usize::from(dev.hot[d].group);
                let (x, y) = self.groups[gi].placement.position(self.seed, d as u64);
                xs.push(x);
                ys.push(y);
            }
            devices.push("x", Column::F64(xs))?;
            devices.push("y", Column::F64(ys))?;
        }
        let mut gateways = Table::default();
        let gcol = |f: &dyn Fn(&GatewayRt) -> u64| Column::U64(self.gws.iter().map(f).collect());
        gateways.push("gateway", Column::U64((0..self.gws.len() as u64).collect()))?;
        gateways.push("received", gcol(&|g| g.received))?;
        gateways.push("forwarded", gcol(&|g| g.forwarded))?;
        gateways.push("suppressed", gcol(&|g| g.suppressed))?;
        gateways.push("filtered", gcol(&|g| g.filtered))?;
        gateways.push("aggregated", gcol(&|g| g.aggregated))?;
        gateways.push("held", gcol(&|g| g.held))?;
        gateways.push("dropped_queue", gcol(&|g| g.dropped_queue))?;
        gateways.push("lost_channel", gcol(&|g| g.lost_channel))?;
        gateways.push("lost_down", gcol(&|g| g.lost_down))?;
        gateways.push("peak_backlog_bytes", gcol(&|g| g.peak_backlog))?;
        gateways.push(
            "load_per_s",
            Column::F64(
                self.gws
                    .iter()
                    .map(|g| g.received as f64 / horizon_s)
                    .collect(),
            ),
        )?;
        gateways.push(
            "down_s",
            Column::F64(self.gws.iter().map(|g| g.down_s).collect()),
        )?;
        let mut timeline = Table::default();
        let nb = self.tl_reports.len();
        let bs = self.sc.metrics.bucket_s;
        timeline.push("t_s", Column::F64((0..nb).map(|i| i as f64 * bs).collect()))?;
        timeline.push("reports", Column::U64(self.tl_reports.clone()))?;
        timeline.push("delivered", Column::U64(self.tl_delivered.clone()))?;
        timeline.push("failed_transmissions", Column::U64(self.tl_failed.clone()))?;
        timeline.push(
            "latency_mean_s",
            Column::F64(
                self.tl_latency
                    .iter()
                    .zip(&self.tl_delivered)
                    .map(|(&s, &k)| if k > 0 { s / k as f64 } else { f64::NAN })
                    .collect(),
            ),
        )?;
        Ok(Report {
            summary,
            devices,
            gateways,
            timeline,
            latency: self.hist,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LoRa at SF12 (1.32 s on air, then 131 s of duty-cycle silence), one channel, no
    /// capture. A packet the duty cycle defers collides only with what overlaps its real
    /// time on air, and each packet keeps its own collision mark.
    #[test]
    fn deferred_lora_packets_collide_only_where_they_overlap() {
        let mut sc = Scenario::single(6, 3_600.0, 3_600.0);
        sc.groups[0].radio = Radio::Lora(LoRaConfig {
            spreading_factor: 12,
            channels: 1,
            capture_db: None,
            ..LoRaConfig::default()
        });
        let mut e = Engine::new(&sc).expect("valid");
        e.init();
        let toa = e.groups[0].lora.as_ref().map_or(0, |l| l.toa_ns);
        let cycle = e.groups[0].lora.as_ref().map_or(0, |l| l.cycle_ns);
        assert!((toa as f64 - 1.318_912e9).abs() < 1e3, "{toa}");
        let at = |x: f64| ns(x);
        e.transmit(3, 0, at(59.5), 1.0, 0, 0);
        // Device 0 is silent until 132 s: its packet of 60 s goes on air at 132 s.
        e.dev.next_tx[0] = at(132.0);
        e.transmit(0, 0, at(60.0), 1.0, 0, 0);
        // Overlaps device 3's packet (which must still count although device 0's
        // deferred packet ends much later).
        e.transmit(4, 0, at(60.5), 1.0, 0, 0);
        e.transmit(1, 0, at(100.0), 1.0, 0, 0);
        e.transmit(5, 0, at(100.3), 1.0, 0, 0);
        // Device 1's next packet, deferred to 231.9 s while its first is still on air: clean,
        // and it must not wipe the first one's collision.
        e.transmit(1, 0, at(100.6), 1.0, 1, 0);
        // Overlaps device 0's deferred packet, not device 1's deferred one.
        e.transmit(2, 0, at(132.5), 1.0, 0, 0);
        assert_eq!(e.totals.dc_deferred, 2);
        let ends = [
            (3, 59.5, true),
            (4, 60.5, true),
            (1, 100.0, true),
            (5, 100.3, true),
            (0, 132.0, true),
            (2, 132.5, true),
        ];
        for (d, start, collided) in ends {
            assert_eq!(
                e.end_air(d, at(start) + toa, 0),
                collided,
                "device {d} at {start}"
            );
        }
        assert!(!e.end_air(1, at(100.0) + cycle + toa, 0));
        assert!(e.air.iter().all(Vec::is_empty));
    }

    #[test]
    fn idle_device_costs_at_most_200_bytes() {
        let sc = Scenario::single(100_000, 60.0, 60.0);
        let mut e = Engine::new(&sc).expect("valid");
        e.init();
        let per = e.dev.heap_bytes() as f64 / 100_000.0;
        assert!(per <= 200.0, "{per} bytes per device");
        assert!(
            per <= super::super::scenario::DEVICE_STATE_BYTES as f64,
            "{per} bytes per device above the estimate used to refuse big scenarios"
        );
        let queue = e.queue.heap_bytes() as f64 / 100_000.0;
        assert!(
            queue <= super::super::scenario::DEVICE_QUEUE_BYTES as f64,
            "{queue} queue bytes per device"
        );
    }
}
