//! Virtual IoT Models: a discrete-event simulator for whole IoT deployments (many devices,
//! the network between them, their energy and failures) to try a deployment before
//! building it.
//!
//! A [`Scenario`] is plain serde data: gateways, groups of identical devices (reporting
//! period and jitter, [`Radio`], signal, energy, failures, retry policy), scheduled
//! outages, metrics options and resource limits. [`run`] validates it (every error names
//! the offending field), refuses it if its estimated memory exceeds
//! `limits.max_memory_bytes`, simulates it and returns a [`Report`]: a [`Summary`] and
//! columnar tables per device, gateway and time bucket. [`sweep`] runs replications,
//! parameter sweeps and paired comparisons in parallel.
//!
//! The pieces, one concept per module:
//! - [`kernel`]: the calendar event queue of 24-byte events,
//! - [`rng`]: random streams keyed by `(seed, entity, stream)`,
//! - [`signal`]: synthetic signals with faults, or replayed history,
//! - [`network`]: links, Gilbert-Elliott loss, the LoRa preset,
//! - [`gateway`]: gateways, edge pre-processing, load balancing,
//! - [`energy`]: currents per state, linear / Peukert / KiBaM batteries, solar harvest,
//! - [`failure`]: MTBF/MTTR and Weibull failures, outages, partitions, retry and failover,
//! - [`scenario`], [`report`], [`metrics`], [`sweep`],
//! - [`connection`]: a simulated network that is a [`crate::connection::DataConnection`],
//!   so real `Twin`s can be fed by virtual devices built from any
//!   [`crate::entity::PhysicalEntity`].
//!
//! ```
//! use twin::sim::{run, Scenario};
//! let mut s = Scenario::single(1_000, 60.0, 3_600.0);
//! s.gateways[0].link.latency_s = 0.02;
//! let r = run(&s)?;
//! assert_eq!(r.summary.reports, 60_000);
//! // Reports sensed in the last 20 ms are still on the link at the horizon.
//! assert_eq!(r.summary.delivered + r.summary.in_flight, 60_000);
//! assert!(r.summary.delivery_ratio > 0.999);
//! assert!((r.summary.latency_p50_s.unwrap() - 0.02).abs() < 0.001);
//! # Ok::<(), twin::Error>(())
//! ```

pub mod cases;
pub mod connection;
pub mod energy;
mod engine;
pub mod failure;
pub mod gateway;
pub mod kernel;
pub mod metrics;
pub mod network;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod signal;
pub mod sweep;

pub use self::metrics::{Column, Table};
pub use self::report::{Report, Summary};
pub use self::scenario::{DeviceGroup, Placement, Radio, Scenario};

use crate::error::Result;
use crate::progress::Progress;

/// Validate and simulate a scenario.
pub fn run(scenario: &Scenario) -> Result<Report> {
    run_with(scenario, &Progress::new())
}

/// [`run`] with a progress and cancellation hook: progress counts per mille of the
/// horizon simulated (total 1000); the event loop checks for cancellation every few
/// thousand events and a cancelled run returns [`crate::Error::Cancelled`].
///
/// ```
/// use twin::{progress::Progress, sim::{run_with, Scenario}};
/// let p = Progress::new();
/// let r = run_with(&Scenario::single(100, 60.0, 3_600.0), &p)?;
/// assert_eq!(r.summary.reports, 6_000);
/// assert_eq!((p.done(), p.total()), (1000, 1000));
/// # Ok::<(), twin::Error>(())
/// ```
pub fn run_with(scenario: &Scenario, progress: &Progress) -> Result<Report> {
    progress.start(1000);
    simulate(scenario, progress, true)
}

/// Simulate a scenario, checking `progress` for cancellation; with `report_time` it
/// also counts per mille of the horizon (otherwise the caller counts whole runs).
pub(crate) fn simulate(
    scenario: &Scenario,
    progress: &Progress,
    report_time: bool,
) -> Result<Report> {
    let mut e = engine::Engine::new(scenario)?;
    e.init();
    e.run(progress, report_time)?;
    e.report()
}

/// Bytes of per-device state a run of `scenario` allocates, divided by its device count
/// (measured from the real array capacities after set-up).
///
/// ```
/// let s = twin::sim::Scenario::single(10_000, 60.0, 60.0);
/// assert!(twin::sim::bytes_per_device(&s)? <= 200.0);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn bytes_per_device(scenario: &Scenario) -> Result<f64> {
    let mut e = engine::Engine::new(scenario)?;
    e.init();
    Ok(e.dev.heap_bytes() as f64 / scenario.device_count() as f64)
}
