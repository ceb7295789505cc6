//! A simulated network that is a [`DataConnection`]: virtual devices built from any
//! [`PhysicalEntity`] sample on a schedule, their packets cross a simulated link (latency,
//! jitter, bandwidth, bounded queue, Gilbert-Elliott loss) and arrive at a real
//! [`Twin`](crate::Twin) through [`DataConnection::poll`], so the same twin code runs
//! against a virtual deployment. Commands the twin sends travel back over the link's
//! latency and are carried out by every entity whose schema has them.

use std::collections::VecDeque;

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
