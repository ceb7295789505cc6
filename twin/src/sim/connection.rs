//! A simulated network that is a [`DataConnection`]: virtual devices built from any
//! [`PhysicalEntity`] sample on a schedule, their packets cross a simulated link (latency,
//! jitter, bandwidth, bounded queue, Gilbert-Elliott loss) and arrive at a real
//! [`Twin`](crate::Twin) through [`DataConnection::poll`], so the same twin code runs
//! against a virtual deployment. Commands the twin sends travel back over the link's
//! latency and are carried out by every entity whose schema has them.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::kernel::{Event, EventQueue};
use super::network::LinkConfig;
use super::rng::{self, StreamId};
use crate::command::Command;
use crate::connection::DataConnection;
use crate::entity::PhysicalEntity;
use crate::error::{Error, Result};
use crate::sample::{Sample, SampleBatch};

const SENSE: u8 = 0;
const ARRIVE: u8 = 1;

/// Counts of what the simulated network did, in samples. At any time
/// `sensed == lost + dropped + delivered + in_flight`, and `delivered == polled + ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NetworkStats {
    /// Samples the devices produced.
    pub sensed: u64,
    /// Samples lost on the channel.
    pub lost: u64,
    /// Samples dropped by the full link queue.
    pub dropped: u64,
    /// Samples that arrived at the twin's end.
    pub delivered: u64,
    /// Samples on the link.
    pub in_flight: u64,
    /// Samples handed out by `poll`.
    pub polled: u64,
    /// Samples arrived and waiting for `poll`.
    pub ready: u64,
    /// Commands carried out by entities.
    pub commands_applied: u64,
    /// Commands an entity refused.
    pub commands_refused: u64,
}

struct VirtualDevice {
    entity: Box<dyn PhysicalEntity + Send>,
    period_ns: u64,
    bad: bool,
    chan: u64,
}

/// The longest period and the latest time a [`SimNetwork`] accepts, s (about 31.7 years):
/// event times are kept in nanoseconds, so later ones would overflow.
///
/// ```
/// use twin::entity::ConveyorDrive;
/// use twin::sim::connection::SimNetwork;
/// use twin::sim::network::LinkConfig;
/// use twin::ErrorKind;
/// let mut net = SimNetwork::new(LinkConfig::default(), 1)?;
/// let e = net.add_device(Box::new(ConveyorDrive::new(1)), 1e12).unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::InvalidInput);
/// assert!(e.to_string().contains("period_s"));
/// net.add_device(Box::new(ConveyorDrive::new(1)), 1e9)?;
/// assert!(net.advance_to(2e9).is_err());
/// net.advance_to(5.0)?;
/// assert_eq!(net.stats().polled, 0);
/// # Ok::<(), twin::Error>(())
/// ```
pub const MAX_TIME_S: f64 = 1e9;

/// [`MAX_TIME_S`] in nanoseconds.
const MAX_TIME_NS: u64 = 1_000_000_000_000_000_000;
const _: () = assert!(MAX_TIME_S as u64 * 1_000_000_000 == MAX_TIME_NS);

/// The latest event or link time a saved state may hold, ns: a sensing event lies at most
/// one period (at most [`MAX_TIME_S`]) after the clock, and a packet's arrival a backlog
/// and a latency after that; four times the clock's bound leaves room and cannot overflow.
const MAX_STATE_NS: u64 = 4 * MAX_TIME_NS;

/// A device's network-side state: its period and its loss channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DeviceState {
    period_ns: u64,
    bad: bool,
    chan: u64,
}

/// A pending event: when, which device, which packet slot, sensing or arrival.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct PendingEvent {
    time: u64,
    device: u32,
    slot: u32,
    kind: u8,
}

/// Everything a [`SimNetwork`] holds apart from its entities: the link, the seed, the
/// clock, each device's period and loss channel, the pending events, the packets on the
/// link, the samples waiting for `poll`, the commands on their way, the random streams
/// and the counts. Its size follows what is under way, not how long the network has run.
///
/// [`SimNetwork::state`] takes it and [`SimNetwork::from_state`] rebuilds the network
/// around the entities (saved by the caller, in their current state), after which both
/// continue identically. It is serde data; [`NetworkState::to_bytes`] gives an exact
/// binary form (CBOR), which also keeps non-finite sample values that JSON cannot hold.
/// A state is checked when it is loaded, so a damaged one is refused with an error.
///
/// ```
/// use twin::connection::DataConnection;
/// use twin::entity::ConveyorDrive;
/// use twin::sim::connection::{NetworkState, SimNetwork};
/// use twin::sim::network::LinkConfig;
/// use twin::SampleBatch;
///
/// let make = || -> twin::Result<SimNetwork> {
///     let link = LinkConfig { latency_s: 0.5, ..LinkConfig::default() };
///     let mut net = SimNetwork::new(link, 3)?;
///     net.add_device(Box::new(ConveyorDrive::new(1)), 1.0)?;
///     Ok(net)
/// };
/// let (mut kept, mut saved) = (make()?, make()?);
/// kept.advance_to(10.25)?;
/// saved.advance_to(10.25)?;
/// // Take one apart (state as bytes, entities) and put it back together.
/// let bytes = saved.state().to_bytes()?;
/// let entities = saved.into_entities();
/// let mut restored = SimNetwork::from_state(NetworkState::from_bytes(&bytes)?, entities)?;
/// let (mut a, mut b) = (SampleBatch::new(), SampleBatch::new());
/// for t in [20.0, 30.0] {
///     kept.advance_to(t)?;
///     restored.advance_to(t)?;
///     kept.poll(&mut a, usize::MAX)?;
///     restored.poll(&mut b, usize::MAX)?;
/// }
/// assert_eq!(a, b);
/// assert_eq!(kept.stats(), restored.stats());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkState {
    link: LinkConfig,
    seed: u64,
    now_ns: u64,
    devices: Vec<DeviceState>,
    events: Vec<PendingEvent>,
    slots: Vec<Vec<Sample>>,
    free: Vec<u32>,
    ready: Vec<Sample>,
    commands: Vec<(u64, Command)>,
    busy_until: u64,
    last_arrival: u64,
    link_stream: u64,
    stats: NetworkStats,
}

impl NetworkState {
    /// The number of devices (entities [`SimNetwork::from_state`] needs).
    pub fn devices(&self) -> usize {
        self.devices.len()
    }

    /// The state as CBOR bytes (exact, non-finite values included).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        ciborium::into_writer(self, &mut out)
            .map_err(|e| Error::InvalidInput(format!("network state: {e}")))?;
        Ok(out)
    }

    /// A state from [`to_bytes`](Self::to_bytes)' output; an error names what is wrong.
    /// The state's consistency is checked by [`SimNetwork::from_state`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        ciborium::from_reader(bytes)
            .map_err(|e| Error::InvalidInput(format!("network state: not a saved state: {e}")))
    }

    /// Refuse a state that the network could not run on: wrong references between events,
    /// slots and devices, counts that do not reconcile, times out of range.
    fn check(&self) -> Result<()> {
        let bad = |why: String| Err(Error::InvalidInput(format!("network state: {why}")));
        self.link.validate("link")?;
        let n = self.devices.len();
        if n >= u32::MAX as usize {
            return bad("too many devices".into());
        }
        if self.now_ns > MAX_TIME_NS {
            return bad(format!(
                "the clock {} ns is past {MAX_TIME_S} s",
                self.now_ns
            ));
        }
        for (i, d) in self.devices.iter().enumerate() {
            if !(1_000..=MAX_TIME_NS).contains(&d.period_ns) {
                return bad(format!(
                    "device {i}: period {} ns is outside 1 µs to {MAX_TIME_S} s",
                    d.period_ns
                ));
            }
        }
        if self.busy_until > MAX_STATE_NS || self.last_arrival > MAX_STATE_NS {
            return bad("link times out of range".into());
        }
        // Every device has exactly one sensing event; every packet on the link one
        // arrival, in a slot of its own; the other slots are free and empty.
        let mut sensing = vec![false; n];
        let mut slot_used = vec![false; self.slots.len()];
        let mut in_flight = 0u64;
        for (k, e) in self.events.iter().enumerate() {
            if e.time < self.now_ns || e.time > MAX_STATE_NS {
                return bad(format!("event {k}: time {} ns is out of range", e.time));
            }
            let d = e.device as usize;
            if d >= n {
                return bad(format!("event {k}: device {d} does not exist"));
            }
            match e.kind {
                SENSE if !std::mem::replace(&mut sensing[d], true) => {}
                SENSE => return bad(format!("event {k}: device {d} senses twice")),
                ARRIVE => {
                    let s = e.slot as usize;
                    match slot_used.get_mut(s) {
                        Some(u) if !*u => *u = true,
                        _ => return bad(format!("event {k}: packet slot {s} is invalid")),
                    }
                    in_flight += self.slots[s].len() as u64;
                }
                other => return bad(format!("event {k}: unknown kind {other}")),
            }
        }
        if let Some(d) = sensing.iter().position(|s| !s) {
            return bad(format!("device {d} has no sensing event"));
        }
        for &f in &self.free {
            match slot_used.get_mut(f as usize) {
                Some(u) if !*u && self.slots[f as usize].is_empty() => *u = true,
                _ => return bad(format!("free slot {f} is invalid")),
            }
        }
        if let Some(s) = slot_used.iter().position(|u| !u) {
            return bad(format!("packet slot {s} is neither on the link nor free"));
        }
        if self.commands.windows(2).any(|w| w[1].0 < w[0].0) {
            return bad("the commands on their way are out of order".into());
        }
        let st = &self.stats;
        let ready = self.ready.len() as u64;
        let total = [st.lost, st.dropped, st.delivered, in_flight]
            .iter()
            .try_fold(0u64, |a, &b| a.checked_add(b));
        if st.in_flight != in_flight
            || total != Some(st.sensed)
            || st.polled.checked_add(ready) != Some(st.delivered)
            || st.ready != ready
        {
            return bad(format!(
                "the counts do not reconcile with the packets ({in_flight} samples on the link, \
                 {ready} ready): {st:?}"
            ));
        }
        Ok(())
    }
}

/// A virtual deployment feeding twins; see the module documentation.
///
/// ```
/// use twin::connection::DataConnection;
/// use twin::entity::ConveyorDrive;
/// use twin::sim::connection::SimNetwork;
/// use twin::sim::network::LinkConfig;
/// use twin::{SampleBatch, Twin};
///
/// let link = LinkConfig { latency_s: 0.05, ..LinkConfig::default() };
/// let mut net = SimNetwork::new(link, 7)?;
/// net.add_device(Box::new(ConveyorDrive::new(1)), 10.0)?;
/// let mut twin = Twin::builder(ConveyorDrive::standard_schema()).build()?;
/// net.advance_to(600.0)?;
/// twin.step(&mut net, 10_000)?;
/// assert_eq!(twin.ingest_counters().accepted, net.stats().polled);
/// # Ok::<(), twin::Error>(())
/// ```
pub struct SimNetwork {
    link: LinkConfig,
    seed: u64,
    devices: Vec<VirtualDevice>,
    queue: EventQueue,
    /// Packets on the link: their samples, by slot.
    slots: Vec<Vec<Sample>>,
    free: Vec<u32>,
    ready: VecDeque<Sample>,
    commands: VecDeque<(u64, Command)>,
    busy_until: u64,
    last_arrival: u64,
    link_stream: u64,
    now: u64,
    stats: NetworkStats,
    scratch: SampleBatch,
}

impl std::fmt::Debug for SimNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNetwork")
            .field("devices", &self.devices.len())
            .field("now_ns", &self.now)
            .field("stats", &self.stats)
            .finish()
    }
}

impl SimNetwork {
    /// A network with one shared link; fails if the link's parameters are invalid.
    pub fn new(link: LinkConfig, seed: u64) -> Result<Self> {
        link.validate("link")?;
        Ok(SimNetwork {
            link,
            seed,
            devices: Vec::new(),
            queue: EventQueue::new(1_000_000, 1024),
            slots: Vec::new(),
            free: Vec::new(),
            ready: VecDeque::new(),
            commands: VecDeque::new(),
            busy_until: 0,
            last_arrival: 0,
            link_stream: rng::key(seed, u64::MAX, StreamId::Gateway),
            now: 0,
            stats: NetworkStats::default(),
            scratch: SampleBatch::new(),
        })
    }

    /// Add a device that reads every sensor of `entity` every `period_s` seconds from the
    /// network's current time on. Returns its index.
    pub fn add_device(
        &mut self,
        entity: Box<dyn PhysicalEntity + Send>,
        period_s: f64,
    ) -> Result<usize> {
        if !(period_s.is_finite() && (1e-6..=MAX_TIME_S).contains(&period_s)) {
            return Err(Error::InvalidInput(format!(
                "period_s must be between 1 µs and {MAX_TIME_S} s, got {period_s}"
            )));
        }
        let i = self.devices.len();
        if i >= u32::MAX as usize {
            return Err(Error::InvalidInput("too many devices".into()));
        }
        let period_ns = (period_s * 1e9).round() as u64;
        self.devices.push(VirtualDevice {
            entity,
            period_ns,
            bad: false,
            chan: rng::key(self.seed, i as u64, StreamId::Channel),
        });
        self.queue.push(Event::new(self.now, i as u32, SENSE));
        Ok(i)
    }

    /// The network's state apart from its entities; see [`NetworkState`].
    pub fn state(&self) -> NetworkState {
        let mut events: Vec<PendingEvent> = self
            .queue
            .pending()
            .map(|e| PendingEvent {
                time: e.time,
                device: e.entity,
                slot: e.tag,
                kind: e.kind,
            })
            .collect();
        events.sort_unstable_by_key(|e| (e.time, e.device, e.kind, e.slot));
        NetworkState {
            link: self.link.clone(),
            seed: self.seed,
            now_ns: self.now,
            devices: self
                .devices
                .iter()
                .map(|d| DeviceState {
                    period_ns: d.period_ns,
                    bad: d.bad,
                    chan: d.chan,
                })
                .collect(),
            events,
            slots: self.slots.clone(),
            free: self.free.clone(),
            ready: self.ready.iter().copied().collect(),
            commands: self.commands.iter().cloned().collect(),
            busy_until: self.busy_until,
            last_arrival: self.last_arrival,
            link_stream: self.link_stream,
            stats: self.stats(),
        }
    }

    /// Rebuild a network from its [`state`](Self::state) and its devices' entities (in
    /// device order, in the state they had when the network's state was taken). Fails,
    /// with the reason, if the state is inconsistent or the number of entities differs.
    pub fn from_state(
        state: NetworkState,
        entities: Vec<Box<dyn PhysicalEntity + Send>>,
    ) -> Result<Self> {
        state.check()?;
        if entities.len() != state.devices.len() {
            return Err(Error::InvalidInput(format!(
                "network state: {} devices but {} entities",
                state.devices.len(),
                entities.len()
            )));
        }
        let mut queue = EventQueue::new(1_000_000, 1024);
        for e in &state.events {
            let mut ev = Event::new(e.time, e.device, e.kind);
            ev.tag = e.slot;
            queue.push(ev);
        }
        let mut stats = state.stats;
        stats.ready = 0;
        Ok(SimNetwork {
            link: state.link,
            seed: state.seed,
            devices: state
                .devices
                .into_iter()
                .zip(entities)
                .map(|(d, entity)| VirtualDevice {
                    entity,
                    period_ns: d.period_ns,
                    bad: d.bad,
                    chan: d.chan,
                })
                .collect(),
            queue,
            slots: state.slots,
            free: state.free,
            ready: state.ready.into(),
            commands: state.commands.into(),
            busy_until: state.busy_until,
            last_arrival: state.last_arrival,
            link_stream: state.link_stream,
            now: state.now_ns,
            stats,
            scratch: SampleBatch::new(),
        })
    }

    /// The devices' entities, in device order, taking the network apart (with
    /// [`state`](Self::state) taken first, [`from_state`](Self::from_state) puts it back
    /// together).
    pub fn into_entities(self) -> Vec<Box<dyn PhysicalEntity + Send>> {
        self.devices.into_iter().map(|d| d.entity).collect()
    }

    /// The link's settings.
    pub fn link(&self) -> &LinkConfig {
        &self.link
    }

    /// The network's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The simulated time, s.
    pub fn now_s(&self) -> f64 {
        self.now as f64 / 1e9
    }

    /// What the network has done so far.
    pub fn stats(&self) -> NetworkStats {
        let mut s = self.stats;
        s.ready = self.ready.len() as u64;
        s
    }

    /// The entity of device `i`.
    pub fn entity(&self, i: usize) -> Option<&(dyn PhysicalEntity + Send)> {
        self.devices.get(i).map(|d| d.entity.as_ref())
    }

    /// Simulate up to `t_s` seconds: devices sample, packets cross the link, arrived
    /// samples wait for [`DataConnection::poll`].
    pub fn advance_to(&mut self, t_s: f64) -> Result<()> {
        if !t_s.is_finite() || t_s < self.now_s() || t_s > MAX_TIME_S {
            return Err(Error::InvalidInput(format!(
                "advance_to({t_s}): time must be finite, not before {} and at most {MAX_TIME_S} s",
                self.now_s()
            )));
        }
        let until = (t_s * 1e9).round() as u64;
        while let Some(e) = self.queue.pop() {
            if e.time > until {
                self.queue.push(e);
                break;
            }
            self.apply_commands(e.time)?;
            self.now = e.time;
            match e.kind {
                SENSE => self.on_sense(e)?,
                _ => self.on_arrive(e),
            }
        }
        self.apply_commands(until)?;
        self.now = until;
        Ok(())
    }

    fn apply_commands(&mut self, t: u64) -> Result<()> {
        while let Some((at, _)) = self.commands.front() {
            if *at > t {
                break;
            }
            let Some((at, cmd)) = self.commands.pop_front() else {
                break;
            };
            for d in &mut self.devices {
                if d.entity.schema().command_id(cmd.name()).is_err() {
                    continue;
                }
                let dt = (at as f64 / 1e9 - d.entity.now().as_secs_f64()).max(0.0);
                d.entity.advance(dt)?;
                match d.entity.actuate(&cmd) {
                    Ok(()) => self.stats.commands_applied += 1,
                    Err(_) => self.stats.commands_refused += 1,
                }
            }
        }
        Ok(())
    }

    fn on_sense(&mut self, e: Event) -> Result<()> {
        let i = e.entity as usize;
        let d = &mut self.devices[i];
        let dt = (e.time as f64 / 1e9 - d.entity.now().as_secs_f64()).max(0.0);
        d.entity.advance(dt)?;
        self.scratch.clear();
        d.entity.sense(&mut self.scratch);
        let n = self.scratch.len() as u64;
        self.stats.sensed += n;
        self.queue.push(Event::new(
            e.time.saturating_add(d.period_ns),
            e.entity,
            SENSE,
        ));
        // One packet per reading: 8 bytes of header plus 12 per sample.
        let bytes = 8 + 12 * n;
        if !self.link.loss.transmit(&mut d.bad, &mut d.chan) {
            self.stats.lost += n;
            return Ok(());
        }
        let depart = match self.link.bandwidth_bps {
            Some(bps) => {
                let ns_per_byte = 8e9 / bps;
                let backlog = (self.busy_until.saturating_sub(e.time) as f64 / ns_per_byte) as u64;
                if backlog.saturating_add(bytes) > self.link.queue_bytes {
                    self.stats.dropped += n;
                    return Ok(());
                }
                self.busy_until = e.time.max(self.busy_until) + (bytes as f64 * ns_per_byte) as u64;
                self.busy_until
            }
            None => e.time,
        };
        let jitter = (rng::uniform(&mut self.link_stream) * self.link.jitter_s * 1e9) as u64;
        let arrival =
            (depart + (self.link.latency_s * 1e9).round() as u64 + jitter).max(self.last_arrival);
        self.last_arrival = arrival;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Vec::new());
                (self.slots.len() - 1) as u32
            }
        };
        let buf = &mut self.slots[slot as usize];
        buf.clear();
        buf.extend(self.scratch.iter());
        self.stats.in_flight += n;
        let mut ev = Event::new(arrival, e.entity, ARRIVE);
        ev.tag = slot;
        self.queue.push(ev);
        Ok(())
    }

    fn on_arrive(&mut self, e: Event) {
        let buf = &mut self.slots[e.tag as usize];
        let n = buf.len() as u64;
        self.ready.extend(buf.drain(..));
        self.free.push(e.tag);
        self.stats.in_flight -= n;
        self.stats.delivered += n;
    }
}

impl DataConnection for SimNetwork {
    fn poll(&mut self, out: &mut SampleBatch, max: usize) -> Result<usize> {
        let n = max.min(self.ready.len());
        for s in self.ready.drain(..n) {
            out.push_sample(s);
        }
        self.stats.polled += n as u64;
        Ok(n)
    }

    fn send(&mut self, command: &Command) -> Result<()> {
        let lat = (self.link.latency_s * 1e9).round() as u64;
        self.commands.push_back((self.now + lat, command.clone()));
        Ok(())
    }
}
