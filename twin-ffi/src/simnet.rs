//! The simulated network of `twin::sim::connection::SimNetwork` from C: a virtual
//! deployment of built-in entities (conveyor drive, centrifugal pump, wind turbine,
//! battery cell) whose samples cross a simulated link (latency, jitter, bandwidth, bounded
//! queue, loss) and feed a real `TwinTwin` through `twin_twin_step_sim`; the twin's
//! commands travel back over the link and are carried out by the simulated devices.
//!
//! A C program drives it in turns: `twin_sim_network_advance_to` moves simulated time on,
//! `twin_twin_step_sim` hands the arrived samples to the twin and the twin's pending
//! commands to the network. Arrived samples wait in the network until polled; one advance
//! may produce at most `TWIN_SIM_NETWORK_MAX_PENDING` samples waiting or on the link, so
//! a long simulated span is advanced in steps with the twin stepped between them.

use std::ffi::c_char;

use twin::analytics::estimate::BatteryCircuit;
use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::physics::{BatteryCell, PumpConfig, PumpDrive, WindConfig, WindTurbine};
use twin::sim::connection::{NetworkStats, SimNetwork};
use twin::sim::network::LinkConfig;

use crate::analytics::{drop_handle, put, put_handle, settings};
use crate::connection::{TwinStepReport, TWIN_MAX_STEP_SAMPLES};
use crate::handle::TwinTwin;
use crate::result::{fail, OrFail, TwinResult};
use crate::types::TwinRejection;

/// The most samples a simulated network may hold (waiting for a poll plus on the link)
/// after one `twin_sim_network_advance_to`: about 400 MB of samples. An advance that could
/// go beyond it is refused before it starts.
pub const TWIN_SIM_NETWORK_MAX_PENDING: u64 = 16_777_216;

/// The longest simulated span, s (about 31.7 years): a network's time and a device's
/// reporting period are both at most this, so event times in nanoseconds stay far from
/// overflow.
pub const TWIN_SIM_NETWORK_MAX_TIME_S: f64 = 1e9;
// The header needs the literal; the bound itself is the Rust network's.
const _: () = assert!(TWIN_SIM_NETWORK_MAX_TIME_S == twin::sim::connection::MAX_TIME_S);

/// What a simulated network has done, in samples (the Rust
/// `twin::sim::connection::NetworkStats`). At any time
/// `sensed == lost + dropped + delivered + in_flight` and `delivered == polled + ready`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TwinSimNetworkStats {
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
    /// Samples handed to a twin by `twin_twin_step_sim`.
    pub polled: u64,
    /// Samples arrived and waiting to be polled.
    pub ready: u64,
    /// Commands carried out by the devices (one per device that has the command).
    pub commands_applied: u64,
    /// Commands a device refused.
    pub commands_refused: u64,
}

impl From<NetworkStats> for TwinSimNetworkStats {
    fn from(s: NetworkStats) -> Self {
        TwinSimNetworkStats {
            sensed: s.sensed,
            lost: s.lost,
            dropped: s.dropped,
            delivered: s.delivered,
            in_flight: s.in_flight,
            polled: s.polled,
            ready: s.ready,
            commands_applied: s.commands_applied,
            commands_refused: s.commands_refused,
        }
    }
}

/// A simulated network of virtual devices (opaque). Create with `twin_sim_network_new`,
/// free with `twin_sim_network_free`.
///
/// Not safe for concurrent use: calls on one network must not overlap; it may move
/// between threads between calls.
pub struct TwinSimNetwork {
    inner: SimNetwork,
    /// Per device: reporting period (s) and samples per reading, to bound an advance.
    devices: Vec<(f64, u64)>,
}

impl TwinSimNetwork {
    /// Refuse an advance to `t_s` that could leave more than the pending bound of samples
    /// waiting or on the link (a reading every period from now, plus one, per device).
    fn check_advance(&self, t_s: f64) -> Result<(), TwinResult> {
        let now = self.inner.now_s();
        if !t_s.is_finite() || t_s < now || t_s > TWIN_SIM_NETWORK_MAX_TIME_S {
            return Err(fail(
                TwinResult::InvalidInput,
                format!(
                    "t_s is {t_s}; it must be finite, not before the network's time {now} s \
                     and at most TWIN_SIM_NETWORK_MAX_TIME_S = {TWIN_SIM_NETWORK_MAX_TIME_S} s"
                ),
            ));
        }
        let s = self.inner.stats();
        let mut bound = s.ready.saturating_add(s.in_flight) as f64;
        for &(period_s, per_reading) in &self.devices {
            bound += (((t_s - now) / period_s).floor() + 1.0) * per_reading as f64;
        }
        if bound > TWIN_SIM_NETWORK_MAX_PENDING as f64 {
            return Err(fail(
                TwinResult::InvalidInput,
                format!(
                    "advancing from {now} s to {t_s} s could leave about {bound:.0} samples \
                     waiting, above TWIN_SIM_NETWORK_MAX_PENDING = {TWIN_SIM_NETWORK_MAX_PENDING}; \
                     advance in shorter steps and step the twin between them"
                ),
            ));
        }
        Ok(())
    }

    fn add(
        &mut self,
        entity: Box<dyn PhysicalEntity + Send>,
        period_s: f64,
    ) -> Result<usize, TwinResult> {
        let per_reading = entity.schema().signal_count() as u64;
        let i = self.inner.add_device(entity, period_s).or_fail()?;
        self.devices.push((period_s, per_reading));
        Ok(i)
    }
}

/// Create a simulated network with one shared link. `link_json` (`link_len` bytes) is the
/// link (`twin::sim::network::LinkConfig`: `latency_s`, `jitter_s`, `bandwidth_bps`,
/// `queue_bytes`, `loss`, e.g. `{"latency_s": 0.05, "loss": {"model": "bernoulli", "p":
/// 0.2}}`) merged over the defaults (no delay, unlimited bandwidth, no loss); `NULL, 0`
/// gives the defaults. `seed` fixes every random draw: the same seed and calls give the
/// same samples. On success `*out` receives the network, at time 0 with no devices.
///
/// Errors (`*out` then untouched): text that is not JSON, an unknown setting or an invalid
/// value (a negative latency, a loss probability above 1, ...) give
/// `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `link_json` must point to `link_len` readable bytes (or be NULL if `link_len` is 0);
/// `out` to a writable `TwinSimNetwork *`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_new(
    link_json: *const c_char,
    link_len: usize,
    seed: u64,
    out: *mut *mut TwinSimNetwork,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_new", {
        let link_json = arg!(str link_json, link_len);
        let out = arg!(out out);
        let link = settings::<LinkConfig>(link_json, "link")?;
        let inner = SimNetwork::new(link, seed).or_fail()?;
        put_handle(
            TwinSimNetwork {
                inner,
                devices: Vec::new(),
            },
            out,
        );
        Ok(())
    })
}

/// Free a simulated network. `twin_sim_network_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the network during or after this call.
///
/// # Safety
/// `net` must be NULL or a network from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_free(net: *mut TwinSimNetwork) {
    let _ = ffi_boundary!("twin_sim_network_free", {
        // SAFETY: forwarded from the caller.
        unsafe { drop_handle(net) };
        Ok(())
    });
}

/// The shared body of the `twin_sim_network_add_*` functions.
fn add_device(
    net: &mut TwinSimNetwork,
    period_s: f64,
    out_index: *mut usize,
    make: impl FnOnce() -> twin::Result<Box<dyn PhysicalEntity + Send>>,
) -> Result<(), TwinResult> {
    if !(period_s.is_finite() && (1e-6..=TWIN_SIM_NETWORK_MAX_TIME_S).contains(&period_s)) {
        return Err(fail(
            TwinResult::InvalidInput,
            format!(
                "period_s is {period_s}; it must be between 1e-6 s and \
                 TWIN_SIM_NETWORK_MAX_TIME_S = {TWIN_SIM_NETWORK_MAX_TIME_S} s"
            ),
        ));
    }
    let entity = make().or_fail()?;
    let i = net.add(entity, period_s)?;
    put(out_index, i);
    Ok(())
}

/// Add a conveyor drive (`twin::entity::ConveyorDrive` with the default design: signals
/// `belt_speed`, `vibration`, `motor_temp`, `load`; command `set_speed`), seeded with
/// `seed` for its noise and unit variation, that reads every sensor every `period_s`
/// seconds from the network's current time on. `*out_index` receives its device index.
///
/// Errors (nothing added, `*out_index` untouched): a `period_s` that is not finite, below
/// 1e-6 s or above `TWIN_SIM_NETWORK_MAX_TIME_S` gives `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: not safe for concurrent use of the same network.
///
/// # Safety
/// `net` must be a live network; `out_index` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_add_conveyor(
    net: *mut TwinSimNetwork,
    seed: u64,
    period_s: f64,
    out_index: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_add_conveyor", {
        let net = arg!(mut net);
        let out_index = arg!(out out_index);
        add_device(net, period_s, out_index, || {
            Ok(Box::new(ConveyorDrive::new(seed)))
        })
    })
}

/// Add a centrifugal pump (`twin::physics::PumpDrive`, default design), as
/// `twin_sim_network_add_conveyor`.
///
/// # Safety
/// As `twin_sim_network_add_conveyor`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_add_pump(
    net: *mut TwinSimNetwork,
    seed: u64,
    period_s: f64,
    out_index: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_add_pump", {
        let net = arg!(mut net);
        let out_index = arg!(out out_index);
        add_device(net, period_s, out_index, || {
            Ok(Box::new(PumpDrive::new(seed, PumpConfig::default())?))
        })
    })
}

/// Add a wind turbine (`twin::physics::WindTurbine`, default design), as
/// `twin_sim_network_add_conveyor`.
///
/// # Safety
/// As `twin_sim_network_add_conveyor`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_add_wind_turbine(
    net: *mut TwinSimNetwork,
    seed: u64,
    period_s: f64,
    out_index: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_add_wind_turbine", {
        let net = arg!(mut net);
        let out_index = arg!(out out_index);
        add_device(net, period_s, out_index, || {
            Ok(Box::new(WindTurbine::new(seed, WindConfig::default())?))
        })
    })
}

/// Add a battery cell (`twin::physics::BatteryCell` with the default circuit, full and at
/// rest; command `set_current` draws current), as `twin_sim_network_add_conveyor`.
///
/// # Safety
/// As `twin_sim_network_add_conveyor`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_add_battery(
    net: *mut TwinSimNetwork,
    seed: u64,
    period_s: f64,
    out_index: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_add_battery", {
        let net = arg!(mut net);
        let out_index = arg!(out out_index);
        add_device(net, period_s, out_index, || {
            Ok(Box::new(BatteryCell::new(seed, BatteryCircuit::default())?))
        })
    })
}

/// Simulate up to `t_s` seconds: devices take readings, packets cross the link, arrived
/// samples wait for `twin_twin_step_sim`, commands due by then are carried out.
///
/// Errors (the network unchanged): a `t_s` that is not finite, before the network's time
/// or above `TWIN_SIM_NETWORK_MAX_TIME_S`, or an advance that could leave more than
/// `TWIN_SIM_NETWORK_MAX_PENDING` samples waiting or on the link, give
/// `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: not safe for concurrent use of the same network.
///
/// # Safety
/// `net` must be a live network.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_advance_to(
    net: *mut TwinSimNetwork,
    t_s: f64,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_advance_to", {
        let net = arg!(mut net);
        net.check_advance(t_s)?;
        net.inner.advance_to(t_s).or_fail()
    })
}

/// The network's simulated time, s, into `*out_t_s`.
///
/// Thread safety: not safe for concurrent use of the same network.
///
/// # Safety
/// `net` must be a live network; `out_t_s` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_now(
    net: *const TwinSimNetwork,
    out_t_s: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_now", {
        let net = arg!(ref net);
        let out_t_s = arg!(out out_t_s);
        put(out_t_s, net.inner.now_s());
        Ok(())
    })
}

/// What the network has done so far, into `*out`.
///
/// Thread safety: not safe for concurrent use of the same network.
///
/// # Safety
/// `net` must be a live network; `out` must point to a writable `TwinSimNetworkStats`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_network_stats(
    net: *const TwinSimNetwork,
    out: *mut TwinSimNetworkStats,
) -> TwinResult {
    ffi_boundary!("twin_sim_network_stats", {
        let net = arg!(ref net);
        let out = arg!(out out);
        put(out, TwinSimNetworkStats::from(net.inner.stats()));
        Ok(())
    })
}

/// One turn of a scan loop against a simulated network, as `twin_twin_step` with a C
/// connection: take up to `max_samples` of the samples that have arrived, ingest them
/// (each accepted or refused; the rejections are kept for `twin_twin_last_rejections`),
/// then send every pending command over the link, to be carried out after the link's
/// latency by every device whose schema has that command (at a later
/// `twin_sim_network_advance_to`). On success `*out_report` gets the counts.
///
/// Errors (`*out_report` untouched): `max_samples` above `TWIN_MAX_STEP_SAMPLES` gives
/// `TWIN_RESULT_INVALID_INPUT`, before anything is polled.
///
/// Thread safety: not safe for concurrent use of the same twin or the same network.
///
/// # Safety
/// `twin` must be a live twin, `net` a live network; `out_report` must point to a
/// writable `TwinStepReport`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_step_sim(
    twin: *mut TwinTwin,
    net: *mut TwinSimNetwork,
    max_samples: usize,
    out_report: *mut TwinStepReport,
) -> TwinResult {
    ffi_boundary!("twin_twin_step_sim", {
        let twin = arg!(mut twin);
        let net = arg!(mut net);
        let out_report = arg!(out out_report);
        if max_samples > TWIN_MAX_STEP_SAMPLES {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("max_samples is {max_samples}; at most {TWIN_MAX_STEP_SAMPLES} per step"),
            ));
        }
        let (inner, _, rejections) = twin.parts();
        let report = inner.step(&mut net.inner, max_samples).or_fail()?;
        rejections.clear();
        rejections.extend(report.ingest.rejections.iter().map(|r| TwinRejection {
            index: r.index,
            reason: TwinResult::from_kind(r.kind),
        }));
        put(
            out_report,
            TwinStepReport {
                polled: report.polled,
                accepted: report.ingest.accepted,
                rejected: report.ingest.rejected(),
                sent: report.sent,
                send_failed: report.send_failed,
            },
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::twin_twin_new_conveyor;
    use std::ptr::null_mut;

    fn network(json: &str, seed: u64) -> *mut TwinSimNetwork {
        let mut net = null_mut();
        // SAFETY: valid text and out pointer.
        let r = unsafe { twin_sim_network_new(json.as_ptr().cast(), json.len(), seed, &mut net) };
        assert_eq!(r, TwinResult::Ok);
        net
    }

    fn stats(net: *const TwinSimNetwork) -> TwinSimNetworkStats {
        let mut s = TwinSimNetworkStats::default();
        // SAFETY: live network, writable stats.
        assert_eq!(
            unsafe { twin_sim_network_stats(net, &mut s) },
            TwinResult::Ok
        );
        s
    }

    #[test]
    fn a_twin_fed_by_a_lossy_link_reconciles_with_the_rust_network() {
        let link = r#"{"latency_s": 0.05, "loss": {"model": "bernoulli", "p": 0.25}}"#;
        let net = network(link, 9);
        let mut twin = null_mut();
        // SAFETY: defaults, writable out pointer.
        let r =
            unsafe { twin_twin_new_conveyor(std::ptr::null(), 0, std::ptr::null(), 0, &mut twin) };
        assert_eq!(r, TwinResult::Ok);
        let mut idx = usize::MAX;
        // SAFETY: live network, writable index.
        assert_eq!(
            unsafe { twin_sim_network_add_conveyor(net, 1, 10.0, &mut idx) },
            TwinResult::Ok
        );
        assert_eq!(idx, 0);
        let mut accepted = 0;
        for k in 1..=6 {
            let mut rep = TwinStepReport::default();
            // SAFETY: live handles, writable report.
            unsafe {
                assert_eq!(
                    twin_sim_network_advance_to(net, 100.0 * k as f64),
                    TwinResult::Ok
                );
                assert_eq!(
                    twin_twin_step_sim(twin, net, 10_000, &mut rep),
                    TwinResult::Ok
                );
            }
            assert_eq!(rep.polled, rep.accepted + rep.rejected);
            accepted += rep.accepted as u64;
        }
        let s = stats(net);
        // 61 readings (t = 0, 10, ..., 600) of 5 signals (4 sensors and the set-point).
        assert_eq!(s.sensed, 61 * 5);
        assert_eq!(s.sensed, s.lost + s.dropped + s.delivered + s.in_flight);
        assert_eq!(s.delivered, s.polled + s.ready);
        assert!(s.lost > 0 && s.delivered > 0, "{s:?}");
        assert_eq!(accepted, s.polled);
        // The same calls in Rust give the same counts.
        let mut rust = SimNetwork::new(
            twin::sim::network::LinkConfig {
                latency_s: 0.05,
                loss: serde_json::from_str(r#"{"model": "bernoulli", "p": 0.25}"#).expect("loss"),
                ..Default::default()
            },
            9,
        )
        .expect("network");
        rust.add_device(Box::new(ConveyorDrive::new(1)), 10.0)
            .expect("device");
        rust.advance_to(600.0).expect("advance");
        assert_eq!(rust.stats().lost, s.lost);
        assert_eq!(rust.stats().delivered, s.delivered);
        // SAFETY: handles from this library.
        unsafe {
            twin_sim_network_free(net);
            crate::handle::twin_twin_free(twin);
        }
    }

    #[test]
    fn bad_arguments_are_refused_and_leave_outputs_alone() {
        let mut net = null_mut();
        // SAFETY: every pointer is NULL or valid; the functions check.
        unsafe {
            let bad = r#"{"latency_s": -1}"#;
            assert_eq!(
                twin_sim_network_new(bad.as_ptr().cast(), bad.len(), 1, &mut net),
                TwinResult::InvalidInput
            );
            let unknown = r#"{"latency": 1}"#;
            assert_eq!(
                twin_sim_network_new(unknown.as_ptr().cast(), unknown.len(), 1, &mut net),
                TwinResult::InvalidInput
            );
            assert!(net.is_null());
            assert_eq!(
                twin_sim_network_new(std::ptr::null(), 0, 1, null_mut()),
                TwinResult::NullParameter
            );
        }
        let net = network("", 1);
        let mut idx = 77usize;
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                twin_sim_network_add_conveyor(net, 1, 0.0, &mut idx),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_sim_network_add_pump(net, 1, f64::NAN, &mut idx),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_sim_network_add_battery(null_mut(), 1, 1.0, &mut idx),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_network_add_wind_turbine(net, 1, 1.0, null_mut()),
                TwinResult::NullParameter
            );
            // A period beyond the longest span (event times would overflow): refused.
            assert_eq!(
                twin_sim_network_add_conveyor(net, 1, 1e12, &mut idx),
                TwinResult::InvalidInput
            );
            assert_eq!(idx, 77);
            assert_eq!(
                twin_sim_network_advance_to(net, 1e30),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_sim_network_add_conveyor(net, 1, 1.0, &mut idx),
                TwinResult::Ok
            );
            assert_eq!(idx, 0);
            // A year at one reading a second would pile up 126 M samples: refused.
            assert_eq!(
                twin_sim_network_advance_to(net, 3.15e7),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_sim_network_advance_to(net, f64::INFINITY),
                TwinResult::InvalidInput
            );
            assert_eq!(twin_sim_network_advance_to(net, 5.0), TwinResult::Ok);
            assert_eq!(
                twin_sim_network_advance_to(net, 4.0),
                TwinResult::InvalidInput
            );
            let mut t = -1.0;
            assert_eq!(twin_sim_network_now(net, &mut t), TwinResult::Ok);
            assert_eq!(t, 5.0);
            assert_eq!(stats(net).sensed, 6 * 5);
            let mut rep = TwinStepReport {
                polled: 99,
                ..Default::default()
            };
            assert_eq!(
                twin_twin_step_sim(null_mut(), net, 10, &mut rep),
                TwinResult::NullParameter
            );
            assert_eq!(rep.polled, 99);
            twin_sim_network_free(net);
            twin_sim_network_free(null_mut());
        }
    }
}
