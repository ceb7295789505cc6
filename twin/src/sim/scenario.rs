//! Scenarios: a whole virtual deployment as plain serde data (JSON here, Python dicts
//! through the bindings), checked by [`Scenario::validate`] before any run.

use serde::{Deserialize, Serialize};

use super::energy::EnergyConfig;
use super::failure::{FailureModel, Outage, RetryPolicy};
use super::gateway::{Balancing, GatewayConfig};
use super::network::LoRaConfig;
use super::rng::{self, StreamId};
use super::signal::SignalModel;
use crate::error::{Error, Result};

/// Where a group's devices are (used by LoRa path loss and by coverage studies). Positions
/// are a fixed function of the seed and the device, so they cost no storage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum Placement {
    /// All at one point.
    Point {
        /// m.
        x: f64,
        /// m.
        y: f64,
    },
    /// Uniformly in a disc.
    Disc {
        /// Centre, m.
        x: f64,
        /// Centre, m.
        y: f64,
        /// Radius, m.
        radius: f64,
    },
    /// Uniformly in an axis-aligned rectangle.
    Rect {
        /// Lower-left corner, m.
        x0: f64,
        /// Lower-left corner, m.
        y0: f64,
        /// Width, m.
        width: f64,
        /// Height, m.
        height: f64,
    },
}

impl Default for Placement {
    fn default() -> Self {
        Placement::Point { x: 0.0, y: 0.0 }
    }
}

impl Placement {
    /// The position of device `device` (a global index) under `seed`.
    pub fn position(&self, seed: u64, device: u64) -> (f64, f64) {
        match *self {
            Placement::Point { x, y } => (x, y),
            Placement::Disc { x, y, radius } => {
                let r = radius * rng::hash_uniform(seed, device, StreamId::Placement, 1).sqrt();
                let a =
                    std::f64::consts::TAU * rng::hash_uniform(seed, device, StreamId::Placement, 2);
                (x + r * a.cos(), y + r * a.sin())
            }
            Placement::Rect {
                x0,
                y0,
                width,
                height,
            } => (
                x0 + width * rng::hash_uniform(seed, device, StreamId::Placement, 1),
                y0 + height * rng::hash_uniform(seed, device, StreamId::Placement, 2),
            ),
        }
    }

    fn validate(&self, field: &str) -> Result<()> {
        let ok = match *self {
            Placement::Point { x, y } => x.is_finite() && y.is_finite(),
            Placement::Disc { x, y, radius } => {
                x.is_finite() && y.is_finite() && radius.is_finite() && radius >= 0.0
            }
            Placement::Rect {
                x0,
                y0,
                width,
                height,
            } => {
                [x0, y0, width, height].iter().all(|v| v.is_finite())
                    && width >= 0.0
                    && height >= 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidInput(format!(
                "{field} must have finite coordinates and non-negative sizes"
            )))
        }
    }
}

/// The radio between a device and its gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Radio {
    /// A radio hop with no air-time model: packets go straight onto the gateway's link
    /// (whose loss model applies).
    #[default]
    Ideal,
    /// LoRa: time on air, path loss against sensitivity, collisions and duty cycle.
    Lora(LoRaConfig),
}

/// A group of identical devices (they share configuration; each has its own state and
/// random streams).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceGroup {
    /// A name for tables and messages.
    #[serde(default)]
    pub name: String,
    /// Number of devices.
    pub count: u32,
    /// Reporting period, s.
    pub period_s: f64,
    /// Each report happens at a uniform random time in `[0, jitter_s)` after its nominal
    /// slot (`phase + k · period_s`; the phase of device `j` of `n` is uniform in
    /// `[j/n, (j+1)/n)` of a period, so the group is spread evenly); `jitter_s` must be
    /// below `period_s`.
    #[serde(default)]
    pub jitter_s: f64,
    /// Payload size, bytes.
    #[serde(default = "twenty")]
    pub payload_bytes: u32,
    /// Indices of the gateways the devices may use, in order of preference.
    pub gateways: Vec<usize>,
    /// How devices spread over those gateways.
    #[serde(default)]
    pub balancing: Balancing,
    /// The radio.
    #[serde(default)]
    pub radio: Radio,
    /// Where the devices are.
    #[serde(default)]
    pub placement: Placement,
    /// What they measure.
    #[serde(default)]
    pub signal: SignalModel,
    /// Energy model; absent: mains powered.
    #[serde(default)]
    pub energy: Option<EnergyConfig>,
    /// Random failures.
    #[serde(default)]
    pub failure: Option<FailureModel>,
    /// Retries and failover.
    #[serde(default)]
    pub retry: RetryPolicy,
}

fn twenty() -> u32 {
    20
}

impl DeviceGroup {
    /// A group of `count` devices reporting every `period_s` seconds to gateway 0, with
    /// defaults for everything else.
    pub fn periodic(count: u32, period_s: f64) -> Self {
        DeviceGroup {
            name: String::new(),
            count,
            period_s,
            jitter_s: 0.0,
            payload_bytes: 20,
            gateways: vec![0],
            balancing: Balancing::First,
            radio: Radio::Ideal,
            placement: Placement::default(),
            signal: SignalModel::default(),
            energy: None,
            failure: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Time-bucket width of the timeline table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Width of a timeline bucket, s.
    pub bucket_s: f64,
    /// Whether to produce the per-device table.
    pub per_device: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            bucket_s: 60.0,
            per_device: true,
        }
    }
}

/// Resource caps checked before a run starts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Refuse scenarios whose estimated memory exceeds this many bytes (default 4 GiB).
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory_bytes: 4 << 30,
        }
    }
}

/// A whole virtual deployment.
///
/// ```
/// use twin::sim::{run, Scenario};
/// let json = r#"{
///   "seed": 7, "horizon_s": 3600,
///   "gateways": [{"name": "gw0", "link": {"latency_s": 0.05}}],
///   "groups": [{"count": 100, "period_s": 60, "gateways": [0]}]
/// }"#;
/// let scenario = Scenario::from_json(json)?;
/// let report = run(&scenario)?;
/// assert_eq!(report.summary.reports, 6_000);
/// assert_eq!(report.summary.delivered + report.summary.in_flight, 6_000);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of every random stream.
    #[serde(default)]
    pub seed: u64,
    /// Simulated time, s.
    pub horizon_s: f64,
    /// Gateways.
    pub gateways: Vec<GatewayConfig>,
    /// Device groups.
    pub groups: Vec<DeviceGroup>,
    /// Scheduled correlated outages and partitions.
    #[serde(default)]
    pub outages: Vec<Outage>,
    /// Output options.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Resource caps.
    #[serde(default)]
    pub limits: Limits,
}

/// Bytes of per-device state (struct-of-arrays) the engine allocates; checked against the
/// real capacities in the engine's tests.
pub const DEVICE_STATE_BYTES: usize = 168;
/// Bytes per device of the per-device output table.
pub const DEVICE_TABLE_BYTES: usize = 13 * 8;
/// Queue bytes per device: the calendar's reserved bucket room (up to about 5 slots of 24
/// bytes per pending event, see [`crate::sim::kernel::EventQueue::for_load`]) with margin.
pub const DEVICE_QUEUE_BYTES: usize = 6 * 24;

impl Scenario {
    /// Parse a scenario from JSON (it is not validated yet: [`crate::sim::run`] does that).
    pub fn from_json(json: &str) -> Result<Self> {
        Ok(serde_json::from_str(json)?)
    }

    /// The scenario as JSON.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Total number of devices.
    pub fn device_count(&self) -> u64 {
        self.groups.iter().map(|g| u64::from(g.count)).sum()
    }

    /// An upper estimate of the memory a run needs, bytes.
    pub fn estimated_bytes(&self) -> u64 {
        let n = self.device_count();
        n.saturating_mul((DEVICE_STATE_BYTES + DEVICE_QUEUE_BYTES) as u64)
            .saturating_add(self.output_bytes())
            .saturating_add(1 << 20)
    }

    /// Bytes of a run's outputs: the per-device table (when `metrics.per_device`), the
    /// timeline buckets and the per-gateway figures.
    fn output_bytes(&self) -> u64 {
        let table = if self.metrics.per_device {
            self.device_count()
                .saturating_mul(DEVICE_TABLE_BYTES as u64)
        } else {
            0
        };
        let buckets = if self.metrics.bucket_s > 0.0 && self.horizon_s.is_finite() {
            (self.horizon_s / self.metrics.bucket_s).ceil().min(1e15) as u64 + 1
        } else {
            0
        };
        table
            .saturating_add(buckets.saturating_mul(6 * 8))
            .saturating_add(self.gateways.len() as u64 * 256)
    }

    /// An upper estimate of the memory one finished run's [`crate::sim::Report`] keeps,
    /// bytes: the per-device table (when `metrics.per_device`), the timeline and the
    /// per-gateway figures. Kept for every run of a sweep or of replications.
    pub fn estimated_report_bytes(&self) -> u64 {
        self.output_bytes().saturating_add(4096)
    }

    /// Check the whole scenario; errors name the offending field, e.g.
    /// `groups[1].period_s`.
    ///
    /// ```
    /// use twin::sim::{DeviceGroup, Scenario};
    /// let mut s = Scenario::single(10, 60.0, 3600.0);
    /// s.groups[0].gateways = vec![];
    /// let e = s.validate().unwrap_err();
    /// assert!(e.to_string().contains("groups[0].gateways"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(self.horizon_s.is_finite() && self.horizon_s > 0.0) {
            return Err(Error::InvalidInput(format!(
                "horizon_s must be positive and finite, got {}",
                self.horizon_s
            )));
        }
        if self.horizon_s > 1e9 {
            return Err(Error::InvalidInput(format!(
                "horizon_s must be at most 1e9 s (about 31 years), got {}",
                self.horizon_s
            )));
        }
        if self.gateways.is_empty() {
            return Err(Error::InvalidInput(
                "gateways: at least one gateway is needed".into(),
            ));
        }
        if self.gateways.len() > usize::from(u16::MAX) {
            return Err(Error::InvalidInput(format!(
                "gateways: at most {} gateways, got {}",
                u16::MAX,
                self.gateways.len()
            )));
        }
        if self.groups.is_empty() {
            return Err(Error::InvalidInput(
                "groups: at least one device group is needed".into(),
            ));
        }
        if self.groups.len() > usize::from(u16::MAX) {
            return Err(Error::InvalidInput("groups: at most 65535 groups".into()));
        }
        for (i, g) in self.gateways.iter().enumerate() {
            let f = format!("gateways[{i}]");
            if !(g.x.is_finite() && g.y.is_finite()) {
                return Err(Error::NonFinite(format!("{f}.x / {f}.y")));
            }
            g.link.validate(&format!("{f}.link"))?;
            g.edge.validate(&format!("{f}.edge"))?;
            if let Some(m) = &g.failure {
                m.validate(&format!("{f}.failure"))?;
            }
        }
        let n = self.device_count();
        if n == 0 {
            return Err(Error::InvalidInput(
                "groups: the scenario has no devices".into(),
            ));
        }
        if n > u64::from(u32::MAX) {
            return Err(Error::InvalidInput(format!(
                "groups: at most {} devices in all, got {n}",
                u32::MAX
            )));
        }
        for (i, g) in self.groups.iter().enumerate() {
            let f = format!("groups[{i}]");
            if !(g.period_s.is_finite() && g.period_s > 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{f}.period_s must be positive, got {}",
                    g.period_s
                )));
            }
            if g.period_s < 1e-6 {
                return Err(Error::InvalidInput(format!(
                    "{f}.period_s must be at least 1 µs, got {}",
                    g.period_s
                )));
            }
            if !(g.jitter_s.is_finite() && g.jitter_s >= 0.0 && g.jitter_s < g.period_s) {
                return Err(Error::InvalidInput(format!(
                    "{f}.jitter_s must be non-negative and below period_s, got {}",
                    g.jitter_s
                )));
            }
            if g.gateways.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "{f}.gateways: the devices are attached to no gateway"
                )));
            }
            if let Some(&bad) = g.gateways.iter().find(|&&x| x >= self.gateways.len()) {
                return Err(Error::InvalidInput(format!(
                    "{f}.gateways: gateway {bad} does not exist (there are {})",
                    self.gateways.len()
                )));
            }
            if let Radio::Lora(l) = &g.radio {
                l.validate(&format!("{f}.radio"))?;
            }
            g.placement.validate(&format!("{f}.placement"))?;
            g.signal.validate(&format!("{f}.signal"))?;
            if let Some(e) = &g.energy {
                e.validate(&format!("{f}.energy"))?;
            }
            if let Some(m) = &g.failure {
                m.validate(&format!("{f}.failure"))?;
            }
            g.retry.validate(&format!("{f}.retry"))?;
        }
        for (i, o) in self.outages.iter().enumerate() {
            let f = format!("outages[{i}]");
            if !(o.start_s.is_finite()
                && o.duration_s.is_finite()
                && o.duration_s >= 0.0
                && o.start_s >= 0.0)
            {
                return Err(Error::InvalidInput(format!(
                    "{f}: start_s and duration_s must be finite and non-negative"
                )));
            }
            if let Some(&bad) = o.gateways.iter().find(|&&x| x >= self.gateways.len()) {
                return Err(Error::InvalidInput(format!(
                    "{f}.gateways: gateway {bad} does not exist"
                )));
            }
            if let Some(&bad) = o.groups.iter().find(|&&x| x >= self.groups.len()) {
                return Err(Error::InvalidInput(format!(
                    "{f}.groups: group {bad} does not exist"
                )));
            }
        }
        if !(self.metrics.bucket_s.is_finite() && self.metrics.bucket_s > 0.0) {
            return Err(Error::InvalidInput(format!(
                "metrics.bucket_s must be positive, got {}",
                self.metrics.bucket_s
            )));
        }
        if self.horizon_s / self.metrics.bucket_s > 1e7 {
            return Err(Error::InvalidInput(
                "metrics.bucket_s: more than 10 million timeline buckets".into(),
            ));
        }
        let est = self.estimated_bytes();
        if est > self.limits.max_memory_bytes {
            return Err(Error::InvalidInput(format!(
                "the scenario needs about {} MiB ({n} devices), above limits.max_memory_bytes = {} MiB",
                est >> 20,
                self.limits.max_memory_bytes >> 20
            )));
        }
        Ok(())
    }

    /// One group of `devices` devices reporting every `period_s` to one gateway with no
    /// latency, for `horizon_s` seconds: the periodic-sensor model of the benchmarks.
    pub fn single(devices: u32, period_s: f64, horizon_s: f64) -> Self {
        Scenario {
            seed: 0,
            horizon_s,
            gateways: vec![GatewayConfig::default()],
            groups: vec![DeviceGroup::periodic(devices, period_s)],
            outages: Vec::new(),
            metrics: MetricsConfig::default(),
            limits: Limits::default(),
        }
    }
}
