//! What a run returns: a [`Summary`] of scalar figures and columnar tables per device,
//! per gateway and per time bucket.

use serde::{Deserialize, Serialize};

use super::metrics::{LatencyHistogram, Table};

/// Scalar results of one run. Counts reconcile: every report is `delivered`,
/// `undelivered` (its last attempt failed, or the device died or went down with it pending)
/// or `in_flight` at the horizon; every failed transmission has one cause
/// (`failed_transmissions = lost_channel + dropped_queue + gateway_down + collisions +
/// out_of_range`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Devices simulated.
    pub devices: u64,
    /// Gateways simulated.
    pub gateways: u64,
    /// Simulated time, s.
    pub horizon_s: f64,
    /// Events processed.
    pub events: u64,
    /// Readings taken (one per report).
    pub reports: u64,
    /// Transmissions (first tries and retries).
    pub transmissions: u64,
    /// Reports that reached a gateway.
    pub delivered: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Transmissions that failed.
    pub failed_transmissions: u64,
    /// Reports given up.
    pub undelivered: u64,
    /// Reports still under way at the horizon.
    pub in_flight: u64,
    /// Transmissions lost on the channel.
    pub lost_channel: u64,
    /// Transmissions dropped by a full gateway queue.
    pub dropped_queue: u64,
    /// Transmissions sent to a gateway that was down.
    pub gateway_down: u64,
    /// LoRa transmissions destroyed by a collision.
    pub collisions: u64,
    /// LoRa transmissions below the gateway's sensitivity.
    pub out_of_range: u64,
    /// LoRa transmissions delayed by the duty cycle.
    pub duty_cycle_deferred: u64,
    /// LoRa reports dropped because the duty cycle delayed them by more than a period.
    pub duty_cycle_skipped: u64,
    /// Readings the gateways forwarded after edge pre-processing.
    pub forwarded: u64,
    /// `delivered / reports`.
    pub delivery_ratio: f64,
    /// Mean end-to-end latency (sensing to back end), s; `None` if nothing was delivered.
    pub latency_mean_s: Option<f64>,
    /// Median latency, s (histogram bin, within 4.4 %).
    pub latency_p50_s: Option<f64>,
    /// 95th percentile latency, s.
    pub latency_p95_s: Option<f64>,
    /// 99th percentile latency, s.
    pub latency_p99_s: Option<f64>,
    /// Largest latency, s.
    pub latency_max_s: Option<f64>,
    /// Charge drawn by all devices, mAh (sleep included up to the horizon, or up to a
    /// device's depletion).
    pub energy_mah: f64,
    /// Devices whose battery ran out.
    pub depleted: u64,
    /// Earliest battery depletion, s.
    pub first_depletion_s: Option<f64>,
    /// Mean lifetime of the depleted devices, s.
    pub mean_lifetime_s: Option<f64>,
    /// Share of device-time the devices were up.
    pub availability: f64,
}

/// Everything a run produces. `Send`, owned, serde: ready for threads and bindings.
///
/// Tables (see [`Table`]):
/// - `devices` (one row per device): `device`, `group`, `reports`, `delivered`,
///   `failed_transmissions`, `retries`, `undelivered` (u64); `latency_mean_s` (NaN where
///   nothing was delivered), `energy_mah`, `lifetime_s` (the horizon for devices that did
///   not run out), `depleted` (u64 0/1), `down_s`, `x`, `y` (f64). Empty when
///   `metrics.per_device` is off.
/// - `gateways` (one row per gateway): `gateway`, `received`, `forwarded`, `suppressed`,
///   `filtered`, `aggregated`, `held`, `dropped_queue`, `lost_channel`, `lost_down`,
///   `peak_backlog_bytes` (u64); `load_per_s`, `down_s` (f64).
/// - `timeline` (one row per `metrics.bucket_s`): `t_s` (f64), `reports` (by sensing
///   time), `delivered` (by arrival), `failed_transmissions` (u64), `latency_mean_s` (f64,
///   NaN where nothing arrived).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Scalar figures.
    pub summary: Summary,
    /// One row per device.
    pub devices: Table,
    /// One row per gateway.
    pub gateways: Table,
    /// One row per time bucket.
    pub timeline: Table,
    /// The latency distribution.
    pub latency: LatencyHistogram,
}
