//! What-if runs and maintenance optimisation from C.
//!
//! - `twin_twin_new_conveyor` makes a twin with the built-in conveyor model (its design and
//!   uncertainty as JSON merged over the defaults), so that `twin_twin_what_if` can branch
//!   its current estimate and run it forward under a scenario (`twin::whatif::Scenario`
//!   as JSON) without disturbing the twin. The result, a `TwinWhatIf`, gives the recorded
//!   times, each state variable's mean and quantile trajectories, and the time-to-failure
//!   distribution over the Monte Carlo paths.
//! - `twin_maintenance_*` evaluate a maintenance policy over a simulated fleet, give the
//!   renewal-reward cost rate of age replacement under a Weibull life, and choose the
//!   replacement age or policy parameter of least expected cost. An infeasible
//!   optimisation gives `TWIN_RESULT_INVALID_INPUT` with a message saying why.

use std::ffi::c_char;

use serde::Deserialize;
use serde_json::Value;
use twin::analytics::estimate::BatteryCircuit;
use twin::decision::advise_survival;
use twin::entity::{ConveyorConfig, ConveyorDrive};
use twin::maintenance::{
    age_replacement_cost_rate, evaluate, optimise_age_replacement, optimise_policy, survive_window,
    Constraint, Costs, Degradation, Fleet, Optimum, Policy, PolicyFamily, PolicyReport,
    SurvivalQuery,
};
use twin::model::DigitalModel;
use twin::model::{ConveyorModel, ConveyorUncertainty};
use twin::physics::{
    BatteryCell, BatteryModel, PumpConfig, PumpDrive, PumpModel, ThermalConfig, ThermalMass,
    ThermalModel, WindConfig, WindTurbine, WindTurbineModel,
};
use twin::whatif::{Scenario, WhatIfResult};
use twin::{Schema, Timestamp, Twin, TwinBuilder};

use crate::analytics::{copy_slice_out, drop_handle, json_out, put, put_handle, settings};
use crate::handle::{builder, TwinTwin};
use crate::result::{copy_str_out, fail, OrFail, TwinResult};

/// Create a twin of the conveyor drive (the schema of `twin::entity::ConveyorDrive`:
/// signals `belt_speed`, `motor_current`, `vibration`, `motor_temp`, `load`,
/// `speed_setpoint`, ...) with the built-in EWMA monitor and the conveyor's digital model,
/// so that `twin_twin_what_if` can run it forward.
///
/// `config_json` is the design (`twin::entity::ConveyorConfig`: `nominal_speed` 2 m/s,
/// `nominal_load` 0.7, `wear_rate` ln 3 / 60 days per s, ...) and `uncertainty_json` the
/// model's what-if uncertainty (`rate_spread` 0.15, `wear_sd` 0.02, `process_sd` 0.1),
/// each JSON merged over the defaults; `NULL, 0` gives the defaults.
///
/// Errors (`*out` then untouched): invalid JSON, an unknown setting or an invalid value
/// (for example a non-positive `nominal_speed`) give `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `config_json` must point to `config_len` and `uncertainty_json` to `uncertainty_len`
/// readable bytes (each may be NULL if its length is 0); `out` to a writable `TwinTwin *`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_new_conveyor(
    config_json: *const c_char,
    config_len: usize,
    uncertainty_json: *const c_char,
    uncertainty_len: usize,
    out: *mut *mut TwinTwin,
) -> TwinResult {
    ffi_boundary!("twin_twin_new_conveyor", {
        let config_json = arg!(str config_json, config_len);
        let uncertainty_json = arg!(str uncertainty_json, uncertainty_len);
        let out = arg!(out out);
        let config = settings::<ConveyorConfig>(config_json, "conveyor design")?;
        let uncertainty = if uncertainty_json.trim().is_empty() {
            ConveyorUncertainty {
                rate_spread: config.wear_rate_spread,
                ..ConveyorUncertainty::default()
            }
        } else {
            settings::<ConveyorUncertainty>(uncertainty_json, "conveyor uncertainty")?
        };
        // The drive validates the design (every rate and time constant finite and positive).
        ConveyorDrive::with_config(0, config.clone()).or_fail()?;
        let schema = ConveyorDrive::standard_schema();
        let model = ConveyorModel::new(&schema, config)
            .and_then(|m| m.with_uncertainty(uncertainty))
            .or_fail()?;
        let inner = builder(&schema)
            .map(|b| b.model(model))
            .and_then(TwinBuilder::build)
            .or_fail()?;
        put_handle(TwinTwin::with_twin(inner), out);
        Ok(())
    })
}

/// Create a twin of one of the built-in physics models by name, with the model's design
/// as JSON merged over its defaults (`NULL, 0` for the defaults), so that
/// `twin_twin_what_if` can run it forward. The twin has the model's standard schema and
/// the built-in EWMA monitor.
///
/// `kind` (`kind_len` bytes) is one of:
/// - `"conveyor"`: `twin::entity::ConveyorConfig` (state `wear`; inputs `load`,
///   `speed_setpoint`), as `twin_twin_new_conveyor` with the default uncertainty;
/// - `"thermal"`: `twin::physics::ThermalConfig` (`resistance` 0.05 K/W, `capacitance`
///   20000 J/K, `ambient` 25 °C, `max_temp` 90 °C, ...; state `temperature`; inputs `power`,
///   `ambient`);
/// - `"pump"`: `twin::physics::PumpConfig`;
/// - `"wind_turbine"`: `twin::physics::WindConfig`;
/// - `"battery"`: `twin::analytics::estimate::BatteryCircuit`.
///
/// Errors (`*out` then untouched): an unknown kind, invalid JSON, an unknown setting or an
/// invalid value give `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `kind` must point to `kind_len` and `params_json` to `params_len` readable bytes
/// (`params_json` may be NULL if its length is 0); `out` to a writable `TwinTwin *`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_new_model(
    kind: *const c_char,
    kind_len: usize,
    params_json: *const c_char,
    params_len: usize,
    out: *mut *mut TwinTwin,
) -> TwinResult {
    ffi_boundary!("twin_twin_new_model", {
        let kind = arg!(str kind, kind_len);
        let params_json = arg!(str params_json, params_len);
        let out = arg!(out out);
        fn build(
            schema: Schema,
            model: twin::Result<impl DigitalModel + 'static>,
        ) -> twin::Result<Twin> {
            let model = model?;
            builder(&schema)
                .map(|b| b.model(model))
                .and_then(TwinBuilder::build)
        }
        let inner = match kind {
            "conveyor" => {
                let config = settings::<ConveyorConfig>(params_json, "conveyor design")?;
                ConveyorDrive::with_config(0, config.clone()).or_fail()?;
                let schema = ConveyorDrive::standard_schema();
                let model = ConveyorModel::new(&schema, config);
                build(schema, model)
            }
            "thermal" => {
                let config = settings::<ThermalConfig>(params_json, "thermal design")?;
                let schema = ThermalMass::standard_schema();
                let model = ThermalModel::new(&schema, config);
                build(schema, model)
            }
            "pump" => {
                let config = settings::<PumpConfig>(params_json, "pump design")?;
                let schema = PumpDrive::standard_schema();
                let model = PumpModel::new(&schema, config);
                build(schema, model)
            }
            "wind_turbine" => {
                let config = settings::<WindConfig>(params_json, "wind turbine design")?;
                let schema = WindTurbine::standard_schema();
                let model = WindTurbineModel::new(&schema, config);
                build(schema, model)
            }
            "battery" => {
                let circuit = settings::<BatteryCircuit>(params_json, "battery circuit")?;
                let schema = BatteryCell::standard_schema();
                let model = BatteryModel::new(&schema, circuit);
                build(schema, model)
            }
            _ => {
                return Err(fail(
                    TwinResult::InvalidInput,
                    format!(
                        "unknown model `{kind}` (the models are conveyor, thermal, pump, wind_turbine and battery)"
                    ),
                ))
            }
        }
        .or_fail()?;
        put_handle(TwinTwin::with_twin(inner), out);
        Ok(())
    })
}

/// The result of a what-if run (opaque), made by `twin_twin_what_if` and freed with
/// `twin_what_if_free`.
///
/// A result never changes: several threads may read it at once; it must not be freed
/// while another thread uses it.
pub struct TwinWhatIf {
    inner: WhatIfResult,
}

impl TwinWhatIf {
    fn trajectory(&self, name: &str) -> Result<&twin::whatif::Trajectory, TwinResult> {
        self.inner.trajectory(name).ok_or_else(|| {
            let names: Vec<&str> = self
                .inner
                .trajectories
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            fail(
                TwinResult::UnknownSignal,
                format!(
                    "no state variable `{name}` in this result (it has {})",
                    names.join(", ")
                ),
            )
        })
    }
}

/// The time-to-failure distribution of a what-if run.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinWhatIfFailure {
    /// Paths simulated.
    pub paths: usize,
    /// Paths that failed within the horizon.
    pub failed: usize,
    /// `failed / paths`.
    pub probability: f64,
    /// Earliest failure time, s (NaN if no path failed).
    pub first_s: f64,
    /// Mean failure time of the failed paths, s (NaN if no path failed).
    pub mean_failed_s: f64,
}

/// Branch the twin's current estimate and run its digital model forward under a scenario
/// (`twin::whatif::Scenario` as `len` bytes of JSON: `horizon_s`, `step_s`, `inputs` by
/// name, `faults`, `monte_carlo` with `paths`, `seed`, `parameter_uncertainty`,
/// `process_noise`, `quantiles`). The twin is not changed. On success `*out` receives the
/// result, freed with `twin_what_if_free`.
///
/// Errors (`*out` then untouched): text that is not a scenario gives
/// `TWIN_RESULT_SERIALIZATION`; a twin without a model able to run forward (one made by
/// `twin_twin_new`), a negative or zero horizon or step, or a bad Monte Carlo setting
/// `TWIN_RESULT_INVALID_INPUT`; an input or fault naming no input, state or parameter of
/// the model `TWIN_RESULT_UNKNOWN_SIGNAL`. The message names the field.
///
/// Thread safety: the twin must not be used by another thread during the call.
///
/// # Safety
/// `twin` must be a live twin; `scenario_json` must point to `len` readable bytes; `out`
/// to a writable `TwinWhatIf *`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_what_if(
    twin: *const TwinTwin,
    scenario_json: *const c_char,
    len: usize,
    out: *mut *mut TwinWhatIf,
) -> TwinResult {
    ffi_boundary!("twin_twin_what_if", {
        let twin = arg!(ref twin);
        let scenario_json = arg!(str scenario_json, len);
        let out = arg!(out out);
        let scenario: Scenario = serde_json::from_str(scenario_json).map_err(|e| {
            fail(
                TwinResult::Serialization,
                format!("not a what-if scenario: {e}"),
            )
        })?;
        let inner = twin.twin().what_if(&scenario).or_fail()?;
        put_handle(TwinWhatIf { inner }, out);
        Ok(())
    })
}

/// The set-point chosen by `twin_twin_survive_window`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinSetpointAdvice {
    /// The largest value found whose survival probability meets the confidence.
    pub value: f64,
    /// Its simulated probability of surviving to the window.
    pub survival: f64,
    /// The survival probability at `hi` (no derate).
    pub survival_at_hi: f64,
    /// What-if runs made.
    pub runs: usize,
}

/// Choose the largest value of one model input, held constant until a maintenance window,
/// at which the twin's model survives to the window with a given probability: the query is
/// JSON (`twin::maintenance::SurvivalQuery`): `scenario` (a what-if scenario whose horizon
/// is the time to the window), `input` (for example `"speed_setpoint"`), `lo`, `hi` and
/// `confidence` in (0, 1). The twin is not changed.
///
/// Errors (`*out` then untouched): text that is not a query gives
/// `TWIN_RESULT_SERIALIZATION`; a twin without a model able to run forward, invalid bounds
/// or confidence, and an infeasible query (even `lo` does not survive; the message says
/// "infeasible") `TWIN_RESULT_INVALID_INPUT`; an unknown input
/// `TWIN_RESULT_UNKNOWN_SIGNAL`.
///
/// Thread safety: the twin must not be used by another thread during the call.
///
/// # Safety
/// `twin` must be a live twin; `query_json` must point to `len` readable bytes; `out` to a
/// writable `TwinSetpointAdvice`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_survive_window(
    twin: *const TwinTwin,
    query_json: *const c_char,
    len: usize,
    out: *mut TwinSetpointAdvice,
) -> TwinResult {
    ffi_boundary!("twin_twin_survive_window", {
        let twin = arg!(ref twin);
        let query_json = arg!(str query_json, len);
        let out = arg!(out out);
        let query: SurvivalQuery = serde_json::from_str(query_json).map_err(|e| {
            fail(
                TwinResult::Serialization,
                format!("not a survival query: {e}"),
            )
        })?;
        let forward = twin.twin().forward_model().or_fail()?;
        let advice = survive_window(forward.as_ref(), &query).or_fail()?;
        put(
            out,
            TwinSetpointAdvice {
                value: advice.value,
                survival: advice.survival,
                survival_at_hi: advice.survival_at_hi,
                runs: advice.runs,
            },
        );
        Ok(())
    })
}

/// Advise and act: choose the set-point as `twin_twin_survive_window` does and submit it as
/// command `command` (`command_len` bytes) at `time_ns`, through the same safety gate as
/// `twin_twin_command` (the schema's limits and rate limits). A command the gate accepts is
/// queued for sending (take it with `twin_twin_take_commands`, or let `twin_twin_step`
/// send it) and logged in the twin's audit log with the source `advisor:survive_window`;
/// a refused one is logged and never sent. `*out` receives the advice only if the command
/// was accepted.
///
/// Errors (`*out` then untouched): those of `twin_twin_survive_window`; an unknown command
/// gives `TWIN_RESULT_UNKNOWN_SIGNAL`; a value outside the command's limits
/// `TWIN_RESULT_OUT_OF_RANGE`; too fast a change `TWIN_RESULT_RATE_LIMITED`.
///
/// Thread safety: not safe for concurrent use of the same twin.
///
/// # Safety
/// `twin` must be a live twin; `query_json` must point to `len` and `command` to
/// `command_len` readable bytes; `out` to a writable `TwinSetpointAdvice`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_advise_survival(
    twin: *mut TwinTwin,
    query_json: *const c_char,
    len: usize,
    command: *const c_char,
    command_len: usize,
    time_ns: i64,
    out: *mut TwinSetpointAdvice,
) -> TwinResult {
    ffi_boundary!("twin_twin_advise_survival", {
        let twin = arg!(mut twin);
        let query_json = arg!(str query_json, len);
        let command = arg!(str command, command_len);
        let out = arg!(out out);
        let query: SurvivalQuery = serde_json::from_str(query_json).map_err(|e| {
            fail(
                TwinResult::Serialization,
                format!("not a survival query: {e}"),
            )
        })?;
        let (inner, _, _) = twin.parts();
        let rec = advise_survival(inner, &query, command).or_fail()?;
        let advice = rec
            .advice
            .clone()
            .ok_or_else(|| fail(TwinResult::Other, "the recommendation carries no advice"))?;
        rec.submit(inner, Timestamp(time_ns)).or_fail()?;
        put(
            out,
            TwinSetpointAdvice {
                value: advice.value,
                survival: advice.survival,
                survival_at_hi: advice.survival_at_hi,
                runs: advice.runs,
            },
        );
        Ok(())
    })
}

/// Free a what-if result. `twin_what_if_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the result during or after this call.
///
/// # Safety
/// `result` must be NULL or a result from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_free(result: *mut TwinWhatIf) {
    let _ = ffi_boundary!("twin_what_if_free", {
        // SAFETY: forwarded from the caller.
        unsafe { drop_handle(result) };
        Ok(())
    });
}

/// The number of recorded points (the steps plus the start), into `*out_points`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `out_points` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_points(
    result: *const TwinWhatIf,
    out_points: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_points", {
        let result = arg!(ref result);
        let out_points = arg!(out out_points);
        put(out_points, result.inner.times_s.len());
        Ok(())
    })
}

/// Copy the recorded times (s from the start: 0, step, 2 step, ..., horizon) into
/// `out[0 .. points]`; `*out_len` gets the number of points.
///
/// Errors (nothing written): `cap` below the number of points gives
/// `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `out` must point to `cap` writable doubles (NULL if
/// `cap` is 0); `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_times(
    result: *const TwinWhatIf,
    out: *mut f64,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_times", {
        let result = arg!(ref result);
        let out = arg!(out_slice out, cap);
        let out_len = arg!(out out_len);
        copy_slice_out(&result.inner.times_s, out, cap, out_len, "times")
    })
}

/// The number of state variables (trajectories), into `*out_count`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `out_count` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_variable_count(
    result: *const TwinWhatIf,
    out_count: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_variable_count", {
        let result = arg!(ref result);
        let out_count = arg!(out out_count);
        put(out_count, result.inner.trajectories.len());
        Ok(())
    })
}

/// The name of state variable `index`, copied NUL-terminated into `buf` (`buf = NULL,
/// cap = 0` asks for the length; `*out_len` gets the length without the NUL).
///
/// Errors (nothing written): `index` out of range gives `TWIN_RESULT_INVALID_INPUT`, a
/// buffer too small `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_variable_name(
    result: *const TwinWhatIf,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_variable_name", {
        let result = arg!(ref result);
        let t = result.inner.trajectories.get(index).ok_or_else(|| {
            fail(
                TwinResult::InvalidInput,
                format!(
                    "variable {index} is out of range: the result has {}",
                    result.inner.trajectories.len()
                ),
            )
        })?;
        copy_str_out(&t.name, buf, cap, out_len)
    })
}

/// Copy the mean over paths of state variable `name` (`name_len` bytes) at every recorded
/// point into `out[0 .. points]`; `*out_len` gets the number of points.
///
/// Errors (nothing written): an unknown variable gives `TWIN_RESULT_UNKNOWN_SIGNAL`; `cap`
/// below the number of points `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `name` must point to `name_len` readable bytes; `out`
/// to `cap` writable doubles (NULL if `cap` is 0); `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_mean(
    result: *const TwinWhatIf,
    name: *const c_char,
    name_len: usize,
    out: *mut f64,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_mean", {
        let result = arg!(ref result);
        let name = arg!(str name, name_len);
        let out = arg!(out_slice out, cap);
        let out_len = arg!(out out_len);
        let t = result.trajectory(name)?;
        copy_slice_out(&t.mean, out, cap, out_len, "points")
    })
}

/// Copy quantile `level` over paths of state variable `name` at every recorded point into
/// `out[0 .. points]`; `*out_len` gets the number of points. `level` must be one of the
/// scenario's `monte_carlo.quantiles` (by default 0.05, 0.5 and 0.95).
///
/// Errors (nothing written): an unknown variable gives `TWIN_RESULT_UNKNOWN_SIGNAL`; a
/// level the scenario did not ask for `TWIN_RESULT_NOT_FOUND`; `cap` below the number of
/// points `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// As `twin_what_if_mean`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_quantile(
    result: *const TwinWhatIf,
    name: *const c_char,
    name_len: usize,
    level: f64,
    out: *mut f64,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_quantile", {
        let result = arg!(ref result);
        let name = arg!(str name, name_len);
        let out = arg!(out_slice out, cap);
        let out_len = arg!(out out_len);
        let t = result.trajectory(name)?;
        let series = t.quantile(level).ok_or_else(|| {
            fail(
                TwinResult::NotFound,
                format!(
                    "quantile {level} of `{name}` was not asked for (the scenario asked for {:?})",
                    t.levels
                ),
            )
        })?;
        copy_slice_out(series, out, cap, out_len, "points")
    })
}

/// The time-to-failure summary of the run, into `*out`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `out` must point to a writable `TwinWhatIfFailure`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_failure(
    result: *const TwinWhatIf,
    out: *mut TwinWhatIfFailure,
) -> TwinResult {
    ffi_boundary!("twin_what_if_failure", {
        let result = arg!(ref result);
        let out = arg!(out out);
        let f = &result.inner.failure;
        put(
            out,
            TwinWhatIfFailure {
                paths: f.paths,
                failed: f.failed,
                probability: f.probability,
                first_s: f.times_s.first().copied().unwrap_or(f64::NAN),
                mean_failed_s: f.mean_failed().unwrap_or(f64::NAN),
            },
        );
        Ok(())
    })
}

/// The time by which a fraction `level` (in (0, 1)) of all paths has failed, into `*out_s`
/// (paths that survive the horizon count as failing after it).
///
/// Errors (`*out_s` then untouched): `level` outside (0, 1) gives
/// `TWIN_RESULT_INVALID_INPUT`; a fraction not reached within the horizon
/// `TWIN_RESULT_NOT_FOUND`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `out_s` must point to a writable double.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_failure_quantile(
    result: *const TwinWhatIf,
    level: f64,
    out_s: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_what_if_failure_quantile", {
        let result = arg!(ref result);
        let out_s = arg!(out out_s);
        if !(level > 0.0 && level < 1.0) {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("level must be in (0, 1), got {level}"),
            ));
        }
        let f = &result.inner.failure;
        let t = f.quantile(level).ok_or_else(|| {
            fail(
                TwinResult::NotFound,
                format!(
                    "only {} of {} paths failed within the horizon: quantile {level} is not reached",
                    f.failed, f.paths
                ),
            )
        })?;
        put(out_s, t);
        Ok(())
    })
}

/// Copy the failure times of the failed paths (s, ascending) into `out[0 .. failed]`;
/// `*out_len` gets the number of failed paths.
///
/// Errors (nothing written): `cap` below the number of failed paths gives
/// `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `out` must point to `cap` writable doubles (NULL if
/// `cap` is 0); `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_failure_times(
    result: *const TwinWhatIf,
    out: *mut f64,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_failure_times", {
        let result = arg!(ref result);
        let out = arg!(out_slice out, cap);
        let out_len = arg!(out out_len);
        copy_slice_out(
            &result.inner.failure.times_s,
            out,
            cap,
            out_len,
            "failure times",
        )
    })
}

/// The whole result (`twin::whatif::WhatIfResult`) as JSON into `buf`; `buf = NULL,
/// cap = 0` asks for the length, a buffer too small gives `TWIN_RESULT_BUFFER_TOO_SMALL`
/// and writes nothing.
///
/// Thread safety: safe to call concurrently with other calls on the same result.
///
/// # Safety
/// `result` must be a live result; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_what_if_to_json(
    result: *const TwinWhatIf,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_what_if_to_json", {
        let result = arg!(ref result);
        json_out(result.inner.to_json(), buf, cap, out_len)
    })
}

/// The outcome of a maintenance policy over a simulated fleet.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinMaintenanceReport {
    /// Units in the fleet.
    pub units: usize,
    /// Simulated time per unit, s.
    pub horizon_s: f64,
    /// Corrective replacements (after a failure).
    pub failures: u64,
    /// Planned replacements.
    pub preventive: u64,
    /// Inspections made.
    pub inspections: u64,
    /// Spares used (`failures + preventive`).
    pub spares: u64,
    /// Downtime over the fleet, h.
    pub downtime_h: f64,
    /// Total cost over the fleet.
    pub cost: f64,
    /// Cost per unit per second: `cost / (units * horizon_s)`.
    pub cost_rate: f64,
    /// Fraction of unit-time the fleet was up.
    pub availability: f64,
}

impl From<&PolicyReport> for TwinMaintenanceReport {
    fn from(r: &PolicyReport) -> Self {
        TwinMaintenanceReport {
            units: r.units,
            horizon_s: r.horizon_s,
            failures: r.failures,
            preventive: r.preventive,
            inspections: r.inspections,
            spares: r.spares(),
            downtime_h: r.downtime_h,
            cost: r.cost,
            cost_rate: r.cost_rate(),
            availability: r.availability(),
        }
    }
}

/// The result of a maintenance optimisation.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinMaintenanceOptimum {
    /// The chosen parameter: a replacement age (s), a wear threshold or a lead time (s).
    pub parameter: f64,
    /// The expected cost per unit per second at that parameter.
    pub cost_rate: f64,
}

impl From<&Optimum> for TwinMaintenanceOptimum {
    fn from(o: &Optimum) -> Self {
        TwinMaintenanceOptimum {
            parameter: o.parameter,
            cost_rate: o.cost_rate,
        }
    }
}

/// A policy evaluation request: costs are merged over the defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateRequest {
    policy: Policy,
    degradation: Degradation,
    fleet: Fleet,
    #[serde(default)]
    costs: Option<Value>,
}

/// A policy optimisation request: costs are merged over the defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptimiseRequest {
    family: PolicyFamily,
    degradation: Degradation,
    fleet: Fleet,
    lo: f64,
    hi: f64,
    #[serde(default)]
    constraint: Constraint,
    #[serde(default)]
    costs: Option<Value>,
}

fn request<T: for<'de> Deserialize<'de>>(json: &str, what: &str) -> Result<T, TwinResult> {
    serde_json::from_str(json)
        .map_err(|e| fail(TwinResult::InvalidInput, format!("invalid {what}: {e}")))
}

fn costs(v: Option<&Value>) -> Result<Costs, TwinResult> {
    match v {
        None => Ok(Costs::default()),
        Some(v) => settings::<Costs>(&v.to_string(), "costs"),
    }
}

/// Simulate a maintenance policy over a fleet. The request is JSON: `policy`
/// (`{"kind": "run_to_failure"}`, `{"kind": "periodic", "interval_s": ..}`,
/// `{"kind": "condition_based", "threshold": .., "inspection_interval_s": ..}` or
/// `{"kind": "rul_based", "lead_time_s": .., "inspection_interval_s": ..}`), `degradation`
/// (`{"kind": "weibull", "shape": .., "scale": ..}` or `{"kind": "conveyor", "config":
/// {..}, "duty": .., "measurement_sd": ..}`), `fleet` (`units`, `horizon_s`, `seed`) and
/// optional `costs` merged over the defaults (`preventive` 500, `corrective` 2000, `spare`
/// 800, `downtime_per_hour` 250, ...).
///
/// Errors (`*out` then untouched): a malformed request, invalid costs, policy, degradation
/// or fleet, or a condition-based policy on a Weibull life give
/// `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinMaintenanceReport`.
#[no_mangle]
pub unsafe extern "C" fn twin_maintenance_evaluate(
    json: *const c_char,
    len: usize,
    out: *mut TwinMaintenanceReport,
) -> TwinResult {
    ffi_boundary!("twin_maintenance_evaluate", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let req: EvaluateRequest = request(json, "maintenance evaluation request")?;
        let c = costs(req.costs.as_ref())?;
        let r = evaluate(&req.policy, &req.degradation, &c, &req.fleet).or_fail()?;
        put(out, TwinMaintenanceReport::from(&r));
        Ok(())
    })
}

/// The long-run cost per unit per second of replacing a unit at age `interval_s` or at
/// failure, lives Weibull(`shape`, `scale` s), by the renewal-reward theorem; an infinite
/// `interval_s` is run-to-failure. `costs_json` is merged over the default costs (`NULL, 0`
/// for the defaults).
///
/// Errors (`*out` then untouched): invalid costs, Weibull parameters or a non-positive
/// interval give `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `costs_json` must point to `costs_len` readable bytes (NULL if 0); `out` to a writable
/// double.
#[no_mangle]
pub unsafe extern "C" fn twin_maintenance_age_replacement_cost_rate(
    shape: f64,
    scale: f64,
    costs_json: *const c_char,
    costs_len: usize,
    interval_s: f64,
    out: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_maintenance_age_replacement_cost_rate", {
        let costs_json = arg!(str costs_json, costs_len);
        let out = arg!(out out);
        let c = settings::<Costs>(costs_json, "costs")?;
        let rate = age_replacement_cost_rate(shape, scale, &c, interval_s).or_fail()?;
        put(out, rate);
        Ok(())
    })
}

/// The replacement age in `[lo_s, hi_s]` that minimises the renewal-reward cost rate of
/// age replacement under a Weibull(`shape`, `scale` s) life, among the ages whose failure
/// probability before replacement is at most `max_failure_probability` (pass 1 for no
/// limit). Costs as for `twin_maintenance_age_replacement_cost_rate`.
///
/// Errors (`*out` then untouched): invalid bounds, costs or Weibull parameters, a limit
/// outside [0, 1], and an infeasible limit (no age in the bounds meets it) give
/// `TWIN_RESULT_INVALID_INPUT`; the message says "infeasible" for the last.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `costs_json` must point to `costs_len` readable bytes (NULL if 0); `out` to a writable
/// `TwinMaintenanceOptimum`.
#[no_mangle]
pub unsafe extern "C" fn twin_maintenance_optimise_age_replacement(
    shape: f64,
    scale: f64,
    costs_json: *const c_char,
    costs_len: usize,
    lo_s: f64,
    hi_s: f64,
    max_failure_probability: f64,
    out: *mut TwinMaintenanceOptimum,
) -> TwinResult {
    ffi_boundary!("twin_maintenance_optimise_age_replacement", {
        let costs_json = arg!(str costs_json, costs_len);
        let out = arg!(out out);
        let c = settings::<Costs>(costs_json, "costs")?;
        if max_failure_probability.is_nan() {
            return Err(fail(
                TwinResult::NonFinite,
                "max_failure_probability is NaN (pass 1 for no limit)",
            ));
        }
        let constraint = Constraint {
            max_failure_probability: Some(max_failure_probability),
            ..Constraint::default()
        };
        let best = optimise_age_replacement(shape, scale, &c, lo_s, hi_s, constraint).or_fail()?;
        put(out, TwinMaintenanceOptimum::from(&best));
        Ok(())
    })
}

/// The parameter of a policy family that minimises the simulated cost rate over a fleet.
/// The request is JSON: `family` (`{"kind": "periodic"}`, `{"kind": "condition_based",
/// "inspection_interval_s": ..}` or `{"kind": "rul_based", "inspection_interval_s": ..}`),
/// `degradation`, `fleet` and optional `costs` as for `twin_maintenance_evaluate`, the
/// bounds `lo` and `hi` of the parameter, and an optional `constraint`
/// (`{"min_availability": 0.99}`). `*out` receives the optimum and `*out_report` the
/// fleet simulated at it.
///
/// Errors (nothing written): those of `twin_maintenance_evaluate`, invalid bounds, and an
/// infeasible constraint give `TWIN_RESULT_INVALID_INPUT` (the message says "infeasible"
/// for the last).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable
/// `TwinMaintenanceOptimum` and `out_report` to a writable `TwinMaintenanceReport`.
#[no_mangle]
pub unsafe extern "C" fn twin_maintenance_optimise_policy(
    json: *const c_char,
    len: usize,
    out: *mut TwinMaintenanceOptimum,
    out_report: *mut TwinMaintenanceReport,
) -> TwinResult {
    ffi_boundary!("twin_maintenance_optimise_policy", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let out_report = arg!(out out_report);
        let req: OptimiseRequest = request(json, "maintenance optimisation request")?;
        let c = costs(req.costs.as_ref())?;
        let best = optimise_policy(
            req.family,
            &req.degradation,
            &c,
            &req.fleet,
            req.lo,
            req.hi,
            req.constraint,
        )
        .or_fail()?;
        let report = best.report.as_ref().ok_or_else(|| {
            fail(
                TwinResult::Other,
                "the optimisation returned no fleet report",
            )
        })?;
        put(out_report, TwinMaintenanceReport::from(report));
        put(out, TwinMaintenanceOptimum::from(&best));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::{twin_twin_free, twin_twin_new};
    use crate::result::twin_last_error_message;
    use crate::schema::{twin_schema_free, twin_schema_from_json, TwinSchema};
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    const DAY: f64 = 86_400.0;
    /// No uncertainty: every path is the deterministic one.
    const EXACT: &str = r#"{"rate_spread": 0, "wear_sd": 0, "process_sd": 0}"#;
    /// 40 days in steps of a day, 3 paths, the default quantiles.
    const SCENARIO: &str =
        r#"{"horizon_s": 3456000, "step_s": 86400, "monte_carlo": {"paths": 3, "seed": 1}}"#;

    fn c(s: &str) -> *const c_char {
        s.as_ptr().cast()
    }

    fn last_error() -> String {
        let mut buf = [0 as c_char; 512];
        let mut len = 0;
        // SAFETY: valid buffer and length pointer.
        let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    fn conveyor(uncertainty: &str) -> *mut TwinTwin {
        let mut t = null_mut();
        // SAFETY: valid texts and out pointer.
        let r =
            unsafe { twin_twin_new_conveyor(null(), 0, c(uncertainty), uncertainty.len(), &mut t) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        t
    }

    fn what_if(t: *const TwinTwin, json: &str) -> Result<*mut TwinWhatIf, TwinResult> {
        let mut out = null_mut();
        // SAFETY: live twin, valid text and out pointer.
        let r = unsafe { twin_twin_what_if(t, c(json), json.len(), &mut out) };
        if r == TwinResult::Ok {
            Ok(out)
        } else {
            Err(r)
        }
    }

    #[test]
    fn a_deterministic_what_if_equals_rust_and_the_discrete_wear_law() {
        let t = conveyor(EXACT);
        let w = what_if(t, SCENARIO).expect("what-if");
        // The same run in Rust, on a twin built the same way.
        let schema = ConveyorDrive::standard_schema();
        let exact: ConveyorUncertainty = serde_json::from_str(EXACT).expect("uncertainty");
        let model = ConveyorModel::new(&schema, ConveyorConfig::default())
            .and_then(|m| m.with_uncertainty(exact))
            .expect("model");
        let rust_twin = twin::Twin::builder(schema)
            .model(model)
            .build()
            .expect("twin");
        let scenario: Scenario = serde_json::from_str(SCENARIO).expect("scenario");
        let rust = rust_twin.what_if(&scenario).expect("what-if");
        // SAFETY: live result.
        let ours = unsafe { &(*w).inner };
        if cfg!(miri) {
            // Miri perturbs the last bits of libm results (exp, ln) on purpose, so two runs
            // agree to rounding only; natively they are identical.
            assert_eq!(
                (&ours.times_s, &ours.failure),
                (&rust.times_s, &rust.failure)
            );
            let (a, b) = (&ours.trajectories[0], &rust.trajectories[0]);
            for (x, y) in a
                .mean
                .iter()
                .zip(&b.mean)
                .chain(a.values.iter().flatten().zip(b.values.iter().flatten()))
            {
                assert!((x - y).abs() <= 1e-12, "{x} vs {y}");
            }
        } else {
            assert_eq!(ours, &rust);
        }
        // Euler on dw/dt = a (1 + 2 w) from w = 0: 1 + 2 w_k = (1 + 2 a dt)^k, failure at
        // the first k with w_k >= 1.
        let a = ConveyorConfig::default().wear_rate;
        let k = (3f64.ln() / (2.0 * a * DAY).ln_1p()).ceil();
        assert_eq!(k, 31.0);
        let mut f = TwinWhatIfFailure {
            paths: 0,
            failed: 0,
            probability: 0.0,
            first_s: 0.0,
            mean_failed_s: 0.0,
        };
        // SAFETY: live result, writable summary.
        assert_eq!(unsafe { twin_what_if_failure(w, &mut f) }, TwinResult::Ok);
        assert_eq!((f.paths, f.failed, f.probability), (3, 3, 1.0));
        assert!((f.first_s - k * DAY).abs() < 1e-6, "{}", f.first_s);
        assert!((f.mean_failed_s - k * DAY).abs() < 1e-6);
        let mut q = 0.0;
        // SAFETY: live result, writable double.
        assert_eq!(
            unsafe { twin_what_if_failure_quantile(w, 0.5, &mut q) },
            TwinResult::Ok
        );
        assert!((q - k * DAY).abs() < 1e-6);
        let mut times = [0.0; 3];
        let mut len = 0;
        // SAFETY: buffer of 3.
        let r = unsafe { twin_what_if_failure_times(w, times.as_mut_ptr(), 3, &mut len) };
        assert_eq!((r, len), (TwinResult::Ok, 3));
        assert_eq!(times.to_vec(), rust.failure.times_s);
        // Trajectories: 41 points, the median of `wear` follows the law.
        let mut points = 0;
        // SAFETY: live result.
        assert_eq!(
            unsafe { twin_what_if_points(w, &mut points) },
            TwinResult::Ok
        );
        assert_eq!(points, 41);
        let mut p50 = vec![0.0; points];
        // SAFETY: buffer of `points`.
        let r = unsafe {
            twin_what_if_quantile(w, c("wear"), 4, 0.5, p50.as_mut_ptr(), points, &mut len)
        };
        assert_eq!((r, len), (TwinResult::Ok, points));
        for (i, &x) in p50.iter().enumerate().take(31) {
            let expect = ((1.0 + 2.0 * a * DAY).powi(i as i32) - 1.0) / 2.0;
            assert!((x - expect).abs() < 1e-12, "{i}: {x} vs {expect}");
        }
        assert_eq!(p50[40], 1.0);
        let mut mean = vec![0.0; points];
        // SAFETY: buffer of `points`.
        let r = unsafe { twin_what_if_mean(w, c("wear"), 4, mean.as_mut_ptr(), points, &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // The mean of three equal paths: equal to the median up to rounding.
        for (m, q) in mean.iter().zip(&p50) {
            assert!((m - q).abs() <= 1e-15, "{m} vs {q}");
        }
        let mut ts = vec![0.0; points];
        // SAFETY: buffer of `points`.
        let r = unsafe { twin_what_if_times(w, ts.as_mut_ptr(), points, &mut len) };
        assert_eq!(r, TwinResult::Ok);
        assert_eq!((ts[1], ts[40]), (DAY, 40.0 * DAY));
        let mut n = 0;
        // SAFETY: live result.
        assert_eq!(
            unsafe { twin_what_if_variable_count(w, &mut n) },
            TwinResult::Ok
        );
        assert_eq!(n, 1);
        let mut name = [0 as c_char; 8];
        // SAFETY: buffer of 8.
        let r = unsafe { twin_what_if_variable_name(w, 0, name.as_mut_ptr(), 8, &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        assert_eq!(
            unsafe { CStr::from_ptr(name.as_ptr()) }.to_str(),
            Ok("wear")
        );
        // JSON: the Rust result's own document.
        // SAFETY: size query.
        assert_eq!(
            unsafe { twin_what_if_to_json(w, null_mut(), 0, &mut len) },
            TwinResult::Ok
        );
        let mut buf = vec![0 as c_char; len + 1];
        // SAFETY: buffer of len + 1.
        let r = unsafe { twin_what_if_to_json(w, buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        let json = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .expect("utf8");
        assert_eq!(json, ours.to_json().expect("json"));
        let back: WhatIfResult = serde_json::from_str(json).expect("result JSON");
        assert_eq!(&back, ours);
        // SAFETY: handles from this library.
        unsafe {
            twin_what_if_free(w);
            twin_twin_free(t);
        }
    }

    #[test]
    fn bad_scenarios_and_twins_without_a_model_are_refused() {
        let t = conveyor("");
        let bad = |json: &str, code: TwinResult, needle: &str| {
            let e = what_if(t, json).expect_err(json);
            assert_eq!(e, code, "{json}: {}", last_error());
            assert!(last_error().contains(needle), "{}", last_error());
        };
        bad(
            r#"{"horizon_s": -10, "step_s": 1}"#,
            TwinResult::InvalidInput,
            "horizon",
        );
        bad(
            r#"{"horizon_s": 100, "step_s": 10, "inputs": {"torque": {"kind": "constant", "value": 1}}}"#,
            TwinResult::UnknownSignal,
            "torque",
        );
        bad(r#"{"horizon_s": 100}"#, TwinResult::Serialization, "step_s");
        bad(
            r#"{"horizon_s": 100, "step_s": 10, "monte_carlo": {"paths": 0}}"#,
            TwinResult::InvalidInput,
            "path",
        );
        // A twin made by twin_twin_new has no model to run forward.
        let schema_json = ConveyorDrive::standard_schema().to_json();
        let mut schema: *mut TwinSchema = null_mut();
        // SAFETY: valid text and out pointer.
        let r = unsafe { twin_schema_from_json(c(&schema_json), schema_json.len(), &mut schema) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let mut plain = null_mut();
        // SAFETY: live schema.
        assert_eq!(unsafe { twin_twin_new(schema, &mut plain) }, TwinResult::Ok);
        let sentinel = std::ptr::dangling_mut::<TwinWhatIf>();
        let mut out = sentinel;
        // SAFETY: live twin, valid text.
        let r = unsafe { twin_twin_what_if(plain, c(SCENARIO), SCENARIO.len(), &mut out) };
        assert_eq!((r, out), (TwinResult::InvalidInput, sentinel));
        assert!(
            last_error().contains("no digital model"),
            "{}",
            last_error()
        );
        // Bad designs and uncertainties.
        let mut t2 = std::ptr::dangling_mut::<TwinTwin>();
        let before = t2;
        for (cfg, unc, needle) in [
            (r#"{"nominal_speed": 0}"#, "", "nominal_speed"),
            (r#"{"nominal_sped": 2}"#, "", "nominal_sped"),
            ("", r#"{"wear_sd": -1}"#, "wear_sd"),
            ("[1]", "", "object"),
        ] {
            // SAFETY: valid texts and out pointer.
            let r =
                unsafe { twin_twin_new_conveyor(c(cfg), cfg.len(), c(unc), unc.len(), &mut t2) };
            assert_eq!((r, t2), (TwinResult::InvalidInput, before), "{cfg} {unc}");
            assert!(last_error().contains(needle), "{}", last_error());
        }
        // SAFETY: handles from this library.
        unsafe {
            twin_twin_free(plain);
            twin_schema_free(schema);
            twin_twin_free(t);
        }
    }

    #[test]
    fn null_and_invalid_arguments_of_what_if_results() {
        let t = conveyor(EXACT);
        let n = SCENARIO.len();
        let mut out = null_mut();
        let mut x = 7usize;
        let mut d = -1.0f64;
        let mut buf = [-1.0f64; 4];
        // SAFETY: every pointer is NULL or valid; the functions check.
        unsafe {
            assert_eq!(
                twin_twin_new_conveyor(null(), 3, null(), 0, &mut null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_new_conveyor(null(), 0, null(), 0, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_what_if(null(), c(SCENARIO), n, &mut out),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_what_if(t, null(), n, &mut out),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_what_if(t, c(SCENARIO), n, null_mut()),
                TwinResult::NullParameter
            );
            assert!(out.is_null());
            twin_what_if_free(null_mut());
        }
        let w = what_if(t, SCENARIO).expect("what-if");
        let mut f = TwinWhatIfFailure {
            paths: 9,
            failed: 9,
            probability: 9.0,
            first_s: 9.0,
            mean_failed_s: 9.0,
        };
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                twin_what_if_points(null(), &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_points(w, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_variable_count(null(), &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_variable_count(w, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_variable_name(null(), 0, null_mut(), 0, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_variable_name(w, 0, null_mut(), 0, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_variable_name(w, 1, null_mut(), 0, &mut x),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_what_if_times(null(), buf.as_mut_ptr(), 4, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_times(w, null_mut(), 4, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_times(w, buf.as_mut_ptr(), 4, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_times(w, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::BufferTooSmall
            );
            assert_eq!(
                twin_what_if_mean(null(), c("wear"), 4, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_mean(w, null(), 4, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_mean(w, c("wear"), 4, buf.as_mut_ptr(), 4, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_mean(w, c("heat"), 4, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::UnknownSignal
            );
            assert!(last_error().contains("wear"));
            assert_eq!(
                twin_what_if_mean(w, c("wear"), 4, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::BufferTooSmall
            );
            assert_eq!(
                twin_what_if_quantile(null(), c("wear"), 4, 0.5, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_quantile(w, c("wear"), 4, 0.5, buf.as_mut_ptr(), 4, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_quantile(w, c("wear"), 4, 0.25, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::NotFound
            );
            assert_eq!(
                twin_what_if_quantile(w, c("heat"), 4, 0.5, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::UnknownSignal
            );
            assert_eq!(
                twin_what_if_quantile(w, c("wear"), 4, 0.5, buf.as_mut_ptr(), 4, &mut x),
                TwinResult::BufferTooSmall
            );
            assert_eq!(
                twin_what_if_failure(null(), &mut f),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_failure(w, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_failure_quantile(null(), 0.5, &mut d),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_failure_quantile(w, 0.5, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_failure_quantile(w, 1.0, &mut d),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_what_if_failure_quantile(w, f64::NAN, &mut d),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_what_if_failure_times(null(), buf.as_mut_ptr(), 4, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_failure_times(w, buf.as_mut_ptr(), 2, &mut x),
                TwinResult::BufferTooSmall
            );
            assert_eq!(
                twin_what_if_failure_times(w, buf.as_mut_ptr(), 4, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_to_json(null(), null_mut(), 0, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_what_if_to_json(w, null_mut(), 0, null_mut()),
                TwinResult::NullParameter
            );
        }
        assert_eq!((x, d, buf), (7, -1.0, [-1.0; 4]));
        assert_eq!(f.paths, 9);
        // A run where no path fails: the failure quantile does not exist.
        let short = r#"{"horizon_s": 864000, "step_s": 86400, "monte_carlo": {"paths": 2}}"#;
        let s = what_if(t, short).expect("what-if");
        // SAFETY: live result.
        assert_eq!(
            unsafe { twin_what_if_failure_quantile(s, 0.5, &mut d) },
            TwinResult::NotFound
        );
        // SAFETY: live result.
        assert_eq!(unsafe { twin_what_if_failure(s, &mut f) }, TwinResult::Ok);
        assert_eq!((f.paths, f.failed), (2, 0));
        assert!(f.first_s.is_nan() && f.mean_failed_s.is_nan());
        // SAFETY: handles from this library.
        unsafe {
            twin_what_if_free(s);
            twin_what_if_free(w);
            twin_twin_free(t);
        }
    }

    #[test]
    fn physics_models_by_name_run_forward() {
        // A thermal mass (R = 0.05 K/W, C = 20000 J/K, 25 °C) heated with 2 kW: the exact
        // step T(t) = 125 - 100 exp(-t / 1000 s) reaches the 90 °C limit at
        // t = 1000 ln(1 / 0.35) = 1049.8 s, so a 10 s step fails at 1050 s.
        let mut t = null_mut();
        // SAFETY: valid texts and out pointer.
        let r = unsafe { twin_twin_new_model(c("thermal"), 7, null(), 0, &mut t) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let json = r#"{"horizon_s": 2000, "step_s": 10,
            "inputs": {"power": {"kind": "constant", "value": 2000}},
            "monte_carlo": {"paths": 2, "parameter_uncertainty": 0, "process_noise": 0}}"#;
        let w = what_if(t, json).expect("what-if");
        // SAFETY: live result.
        let f = unsafe { &(*w).inner.failure };
        assert_eq!(f.failed, 2);
        assert!((f.times_s[0] - 1050.0).abs() < 1e-6, "{}", f.times_s[0]);
        // SAFETY: live result.
        let temp = unsafe { (*w).inner.trajectory("temperature") }.expect("temperature");
        let expect = 125.0 - 100.0 * (-500.0f64 / 1000.0).exp();
        assert!((temp.mean[50] - expect).abs() < 1e-9, "{}", temp.mean[50]);
        // SAFETY: handles from this library.
        unsafe {
            twin_what_if_free(w);
            twin_twin_free(t);
        }
        // Every model builds with its defaults and runs a short what-if.
        for kind in ["conveyor", "thermal", "pump", "wind_turbine", "battery"] {
            let mut t = null_mut();
            // SAFETY: valid texts and out pointer.
            let r = unsafe { twin_twin_new_model(c(kind), kind.len(), null(), 0, &mut t) };
            assert_eq!(r, TwinResult::Ok, "{kind}: {}", last_error());
            let w = what_if(
                t,
                r#"{"horizon_s": 600, "step_s": 60, "monte_carlo": {"paths": 4}}"#,
            )
            .unwrap_or_else(|e| panic!("{kind}: {e:?} {}", last_error()));
            let mut points = 0;
            // SAFETY: live result.
            assert_eq!(
                unsafe { twin_what_if_points(w, &mut points) },
                TwinResult::Ok
            );
            assert_eq!(points, 11, "{kind}");
            // SAFETY: handles from this library.
            unsafe {
                twin_what_if_free(w);
                twin_twin_free(t);
            }
        }
        // Unknown kinds and bad designs: refused, nothing written.
        let sentinel = std::ptr::dangling_mut::<TwinTwin>();
        let mut t = sentinel;
        for (kind, params, needle) in [
            ("boiler", "", "unknown model `boiler`"),
            ("thermal", r#"{"resistance": -1}"#, "resistance"),
            ("thermal", r#"{"resistanse": 1}"#, "resistanse"),
            ("pump", "[]", "object"),
            ("conveyor", r#"{"wear_rate": 0}"#, "wear_rate"),
        ] {
            // SAFETY: valid texts and out pointer.
            let r = unsafe {
                twin_twin_new_model(c(kind), kind.len(), c(params), params.len(), &mut t)
            };
            assert_eq!(
                (r, t),
                (TwinResult::InvalidInput, sentinel),
                "{kind} {params}"
            );
            assert!(last_error().contains(needle), "{}", last_error());
        }
        // SAFETY: NULL checks.
        unsafe {
            assert_eq!(
                twin_twin_new_model(null(), 7, null(), 0, &mut t),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_new_model(c("thermal"), 7, null(), 2, &mut t),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_new_model(c("thermal"), 7, null(), 0, null_mut()),
                TwinResult::NullParameter
            );
        }
        assert_eq!(t, sentinel);
    }

    #[test]
    fn a_derated_set_point_survives_to_the_window() {
        // A new bearing at 2 m/s lasts about 30 days; to reach a window 40 days away with no
        // uncertainty the speed must satisfy ln 3 / (2 a (v / 2)^2) >= 40 days, that is
        // v <= 2 sqrt(30 / 40) = 1.732 m/s (to the one-day step of the run).
        let t = conveyor(EXACT);
        let q = r#"{"scenario": {"horizon_s": 3456000, "step_s": 86400,
            "monte_carlo": {"paths": 1}}, "input": "speed_setpoint", "lo": 0.5, "hi": 2.0,
            "confidence": 0.9}"#;
        let mut a = TwinSetpointAdvice {
            value: -1.0,
            survival: -1.0,
            survival_at_hi: -1.0,
            runs: 0,
        };
        // SAFETY: live twin, valid text and output.
        let r = unsafe { twin_twin_survive_window(t, c(q), q.len(), &mut a) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        assert_eq!((a.survival, a.survival_at_hi), (1.0, 0.0));
        let bound = 2.0 * (30.0f64 / 40.0).sqrt();
        assert!(
            a.value <= bound * 1.02 && a.value >= bound * 0.97,
            "{}",
            a.value
        );
        assert!(a.runs > 2);
        // The same query in Rust.
        let query: SurvivalQuery = serde_json::from_str(q).expect("query");
        let fm = ConveyorModel::new(&ConveyorDrive::standard_schema(), ConveyorConfig::default())
            .and_then(|m| m.with_uncertainty(serde_json::from_str(EXACT).expect("exact")))
            .expect("model");
        let rust = survive_window(
            twin::model::DigitalModel::forward(&fm)
                .expect("forward")
                .as_ref(),
            &query,
        )
        .expect("advice");
        assert!((rust.value - a.value).abs() <= 1e-9 * a.value);
        // Infeasible (a window no speed reaches), unknown input, bad text: refused.
        let before = a;
        for (json, code, needle) in [
            (
                q.replace("3456000", "345600000")
                    .replace("86400,", "864000,"),
                TwinResult::InvalidInput,
                "infeasible",
            ),
            (
                q.replace("speed_setpoint", "torque"),
                TwinResult::UnknownSignal,
                "torque",
            ),
            (
                q.replace("\"lo\"", "\"low\""),
                TwinResult::Serialization,
                "survival query",
            ),
            (
                q.replace("0.9}", "1.5}"),
                TwinResult::InvalidInput,
                "confidence",
            ),
        ] {
            // SAFETY: live twin, valid text and output.
            let r = unsafe { twin_twin_survive_window(t, c(&json), json.len(), &mut a) };
            assert_eq!((r, a), (code, before), "{json}: {}", last_error());
            assert!(last_error().contains(needle), "{}", last_error());
        }
        // SAFETY: NULL checks.
        unsafe {
            assert_eq!(
                twin_twin_survive_window(null(), c(q), q.len(), &mut a),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_survive_window(t, null(), q.len(), &mut a),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_survive_window(t, c(q), q.len(), null_mut()),
                TwinResult::NullParameter
            );
            twin_twin_free(t);
        }
        assert_eq!(a, before);
    }

    #[test]
    fn advice_becomes_a_checked_command() {
        let t = conveyor(EXACT);
        let q = r#"{"scenario": {"horizon_s": 3456000, "step_s": 86400,
            "monte_carlo": {"paths": 1}}, "input": "speed_setpoint", "lo": 0.5, "hi": 2.0,
            "confidence": 0.9}"#;
        let mut a = TwinSetpointAdvice {
            value: -1.0,
            survival: -1.0,
            survival_at_hi: -1.0,
            runs: 0,
        };
        // SAFETY: live twin, valid texts and output.
        let r =
            unsafe { twin_twin_advise_survival(t, c(q), q.len(), c("set_speed"), 9, 0, &mut a) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        assert!(a.value < 2.0 && a.survival == 1.0);
        // SAFETY: live twin.
        let inner = unsafe { (*t).twin() };
        let pending = inner.pending_commands();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].value(), a.value);
        let sources: Vec<String> = inner.audit_log().map(|e| format!("{e:?}")).collect();
        assert!(
            sources.iter().any(|s| s.contains("advisor:survive_window")),
            "{sources:?}"
        );
        // A second advice 0.1 s later changes nothing but is too soon for the command's
        // 1 s minimum interval: refused by the gate, never queued, nothing written.
        let before = a;
        // SAFETY: as above.
        let r = unsafe {
            twin_twin_advise_survival(t, c(q), q.len(), c("set_speed"), 9, 100_000_000, &mut a)
        };
        assert_eq!(
            (r, a),
            (TwinResult::RateLimited, before),
            "{}",
            last_error()
        );
        // SAFETY: live twin.
        assert_eq!(unsafe { (*t).twin() }.pending_commands().len(), 1);
        // An unknown command, NULL arguments.
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                twin_twin_advise_survival(
                    t,
                    c(q),
                    q.len(),
                    c("set_torque"),
                    10,
                    5_000_000_000,
                    &mut a
                ),
                TwinResult::UnknownSignal
            );
            assert_eq!(
                twin_twin_advise_survival(null_mut(), c(q), q.len(), c("set_speed"), 9, 0, &mut a),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_advise_survival(t, null(), q.len(), c("set_speed"), 9, 0, &mut a),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_advise_survival(t, c(q), q.len(), null(), 9, 0, &mut a),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_twin_advise_survival(t, c(q), q.len(), c("set_speed"), 9, 0, null_mut()),
                TwinResult::NullParameter
            );
            twin_twin_free(t);
        }
        assert_eq!(a, before);
    }

    const H: f64 = 3600.0;

    #[test]
    fn maintenance_under_miri() {
        // Run-to-failure under exponential lives, in closed form; a two-unit fleet; the
        // argument checks of every maintenance function.
        let costs = Costs::default();
        let mut rate = -1.0;
        // SAFETY: valid output.
        let r = unsafe {
            twin_maintenance_age_replacement_cost_rate(
                1.0,
                1000.0 * H,
                null(),
                0,
                f64::INFINITY,
                &mut rate,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let expect = costs.corrective_total() / (1000.0 * H + costs.corrective_downtime_s());
        assert!((rate / expect - 1.0).abs() < 1e-12);
        let json = r#"{"policy": {"kind": "run_to_failure"},
            "degradation": {"kind": "weibull", "shape": 1, "scale": 3600},
            "fleet": {"units": 2, "horizon_s": 36000, "seed": 4}}"#;
        let mut out = TwinMaintenanceReport {
            units: 0,
            horizon_s: 0.0,
            failures: 0,
            preventive: 0,
            inspections: 0,
            spares: 0,
            downtime_h: 0.0,
            cost: 0.0,
            cost_rate: 0.0,
            availability: 0.0,
        };
        // SAFETY: valid text and output.
        let r = unsafe { twin_maintenance_evaluate(c(json), json.len(), &mut out) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        assert_eq!((out.units, out.preventive), (2, 0));
        assert!(out.failures > 0 && out.spares == out.failures);
        let before = out;
        let mut best = TwinMaintenanceOptimum {
            parameter: -1.0,
            cost_rate: -1.0,
        };
        let mut rep = out;
        // SAFETY: NULL pointers and invalid values; the functions check.
        unsafe {
            assert_eq!(
                twin_maintenance_evaluate(null(), 3, &mut out),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_evaluate(c(json), json.len(), null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_evaluate(c("{}"), 2, &mut out),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_maintenance_optimise_policy(null(), 3, &mut best, &mut rep),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_policy(c("{}"), 2, null_mut(), &mut rep),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_policy(c("{}"), 2, &mut best, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_policy(c("{}"), 2, &mut best, &mut rep),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    3.0,
                    H,
                    null(),
                    0,
                    10.0,
                    100.0,
                    1.0,
                    null_mut()
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    3.0,
                    H,
                    null(),
                    0,
                    100.0,
                    10.0,
                    1.0,
                    &mut best
                ),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    3.0,
                    H,
                    null(),
                    0,
                    10.0,
                    100.0,
                    f64::NAN,
                    &mut best
                ),
                TwinResult::NonFinite
            );
            assert_eq!(
                twin_maintenance_age_replacement_cost_rate(1.0, H, null(), 0, 1.0, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_age_replacement_cost_rate(1.0, H, null(), 0, 0.0, &mut rate),
                TwinResult::InvalidInput
            );
        }
        assert_eq!((out, rep, best.parameter), (before, before, -1.0));
        assert!((rate / expect - 1.0).abs() < 1e-12);
    }

    #[test]
    // Hundreds of cost-rate integrals and fleet simulations: minutes under miri; the
    // miri-sized checks of these functions are in `maintenance_under_miri`.
    #[cfg_attr(miri, ignore)]
    fn the_renewal_reward_cost_rate_and_its_optimum() {
        let costs = Costs::default();
        let mut rate = 0.0;
        // Exponential lives: run-to-failure costs Cf / (MTTF + df).
        // SAFETY: valid output.
        let r = unsafe {
            twin_maintenance_age_replacement_cost_rate(
                1.0,
                1000.0 * H,
                null(),
                0,
                f64::INFINITY,
                &mut rate,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let expect = costs.corrective_total() / (1000.0 * H + costs.corrective_downtime_s());
        assert!((rate / expect - 1.0).abs() < 1e-12, "{rate} vs {expect}");
        // Costs merged over the defaults change the rate as the formula says.
        let cj = r#"{"corrective": 0, "spare": 0, "downtime_per_hour": 0}"#;
        // SAFETY: valid text and output.
        let r = unsafe {
            twin_maintenance_age_replacement_cost_rate(
                1.0,
                1000.0 * H,
                c(cj),
                cj.len(),
                f64::INFINITY,
                &mut rate,
            )
        };
        assert_eq!((r, rate), (TwinResult::Ok, 0.0));
        // The optimum of a wear-out life lies inside the bounds and matches Rust.
        let mut best = TwinMaintenanceOptimum {
            parameter: -1.0,
            cost_rate: -1.0,
        };
        // SAFETY: valid output.
        let r = unsafe {
            twin_maintenance_optimise_age_replacement(
                3.0,
                1000.0 * H,
                null(),
                0,
                10.0 * H,
                3000.0 * H,
                1.0,
                &mut best,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let rust = optimise_age_replacement(
            3.0,
            1000.0 * H,
            &costs,
            10.0 * H,
            3000.0 * H,
            Constraint::default(),
        )
        .expect("optimum");
        assert_eq!(
            (best.parameter, best.cost_rate),
            (rust.parameter, rust.cost_rate)
        );
        assert!(best.parameter > 100.0 * H && best.parameter < 1000.0 * H);
        let at = age_replacement_cost_rate(3.0, 1000.0 * H, &costs, best.parameter).expect("rate");
        assert_eq!(at, best.cost_rate);
        let run_to_failure =
            age_replacement_cost_rate(3.0, 1000.0 * H, &costs, f64::INFINITY).expect("rate");
        assert!(best.cost_rate < run_to_failure);
        // Infeasible: nothing written, the message says so.
        let before = best;
        // SAFETY: valid output.
        let r = unsafe {
            twin_maintenance_optimise_age_replacement(
                3.0,
                1000.0 * H,
                null(),
                0,
                10.0 * H,
                3000.0 * H,
                1e-12,
                &mut best,
            )
        };
        assert_eq!((r, best), (TwinResult::InvalidInput, before));
        assert!(last_error().contains("infeasible"), "{}", last_error());
        // Invalid arguments.
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    3.0,
                    1000.0 * H,
                    null(),
                    0,
                    10.0 * H,
                    3000.0 * H,
                    f64::NAN,
                    &mut best
                ),
                TwinResult::NonFinite
            );
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    3.0,
                    1000.0 * H,
                    null(),
                    0,
                    3000.0 * H,
                    10.0 * H,
                    1.0,
                    &mut best
                ),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    -3.0,
                    1000.0 * H,
                    null(),
                    0,
                    10.0 * H,
                    3000.0 * H,
                    1.0,
                    &mut best
                ),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    3.0,
                    1000.0 * H,
                    null(),
                    0,
                    10.0 * H,
                    3000.0 * H,
                    1.0,
                    null_mut()
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_age_replacement(
                    3.0,
                    1000.0 * H,
                    null(),
                    5,
                    10.0 * H,
                    3000.0 * H,
                    1.0,
                    &mut best
                ),
                TwinResult::NullParameter
            );
            let bad = r#"{"spare": -1}"#;
            assert_eq!(
                twin_maintenance_age_replacement_cost_rate(
                    3.0,
                    1000.0 * H,
                    c(bad),
                    bad.len(),
                    100.0 * H,
                    &mut rate
                ),
                TwinResult::InvalidInput
            );
            let unknown = r#"{"spares": 1}"#;
            assert_eq!(
                twin_maintenance_age_replacement_cost_rate(
                    3.0,
                    1000.0 * H,
                    c(unknown),
                    unknown.len(),
                    100.0 * H,
                    &mut rate
                ),
                TwinResult::InvalidInput
            );
            assert!(last_error().contains("spares"));
            assert_eq!(
                twin_maintenance_age_replacement_cost_rate(
                    3.0,
                    1000.0 * H,
                    null(),
                    0,
                    -1.0,
                    &mut rate
                ),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_maintenance_age_replacement_cost_rate(
                    3.0,
                    1000.0 * H,
                    null(),
                    0,
                    1.0,
                    null_mut()
                ),
                TwinResult::NullParameter
            );
        }
        assert_eq!(rate, 0.0);
        assert_eq!(best, before);
    }

    #[test]
    // Hundreds of cost-rate integrals and fleet simulations: minutes under miri; the
    // miri-sized checks of these functions are in `maintenance_under_miri`.
    #[cfg_attr(miri, ignore)]
    fn policies_evaluated_and_optimised_over_a_fleet() {
        let eval = |json: &str| {
            let mut r = std::mem::MaybeUninit::<TwinMaintenanceReport>::zeroed();
            // SAFETY: valid text and output.
            let code = unsafe { twin_maintenance_evaluate(c(json), json.len(), r.as_mut_ptr()) };
            assert_eq!(code, TwinResult::Ok, "{}", last_error());
            // SAFETY: written on success.
            unsafe { r.assume_init() }
        };
        let life = r#""degradation": {"kind": "weibull", "shape": 3, "scale": 3600000}, "fleet": {"units": 20, "horizon_s": 36000000, "seed": 1}"#;
        let rtf = eval(&format!(
            r#"{{"policy": {{"kind": "run_to_failure"}}, {life}}}"#
        ));
        let pm = eval(&format!(
            r#"{{"policy": {{"kind": "periodic", "interval_s": 1800000}}, {life}}}"#
        ));
        // Ten lives per unit: failures happen, and replacing at half the scale prevents most.
        assert!(rtf.failures > 100 && rtf.preventive == 0, "{rtf:?}");
        assert!(
            pm.failures < rtf.failures / 2 && pm.preventive > 0,
            "{pm:?}"
        );
        assert!(pm.cost < rtf.cost);
        for r in [rtf, pm] {
            assert_eq!(r.spares, r.failures + r.preventive);
            assert_eq!(r.cost_rate, r.cost / (20.0 * 36_000_000.0));
            assert_eq!(
                r.availability,
                1.0 - r.downtime_h * 3600.0 / (20.0 * 36_000_000.0)
            );
        }
        // The same in Rust.
        let rust = evaluate(
            &Policy::Periodic {
                interval_s: 1_800_000.0,
            },
            &Degradation::Weibull {
                shape: 3.0,
                scale: 3_600_000.0,
            },
            &Costs::default(),
            &Fleet {
                units: 20,
                horizon_s: 36_000_000.0,
                seed: 1,
            },
        )
        .expect("evaluate");
        assert_eq!(TwinMaintenanceReport::from(&rust), pm);
        // Optimise the replacement age by simulation.
        let req =
            format!(r#"{{"family": {{"kind": "periodic"}}, {life}, "lo": 360000, "hi": 7200000}}"#);
        let mut best = TwinMaintenanceOptimum {
            parameter: -1.0,
            cost_rate: -1.0,
        };
        let mut rep = rtf;
        // SAFETY: valid text and outputs.
        let r =
            unsafe { twin_maintenance_optimise_policy(c(&req), req.len(), &mut best, &mut rep) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        assert!(best.parameter >= 360_000.0 && best.parameter <= 7_200_000.0);
        assert!(best.cost_rate <= rtf.cost_rate && best.cost_rate <= pm.cost_rate * 1.0001);
        assert_eq!(rep.cost_rate, best.cost_rate);
        // Infeasible availability, a condition-based policy on a Weibull life, bad JSON:
        // refused, nothing written.
        let (b0, r0) = (best, rep);
        let infeasible = format!(
            r#"{{"family": {{"kind": "periodic"}}, {life}, "lo": 360000, "hi": 7200000, "constraint": {{"min_availability": 1.0}}}}"#
        );
        // SAFETY: valid text and outputs.
        let r = unsafe {
            twin_maintenance_optimise_policy(c(&infeasible), infeasible.len(), &mut best, &mut rep)
        };
        assert_eq!((r, best, rep), (TwinResult::InvalidInput, b0, r0));
        assert!(last_error().contains("infeasible"), "{}", last_error());
        let mut out = rtf;
        for json in [
            format!(
                r#"{{"policy": {{"kind": "condition_based", "threshold": 0.8, "inspection_interval_s": 3600}}, {life}}}"#
            ),
            format!(r#"{{"policy": {{"kind": "periodic", "interval_s": -1}}, {life}}}"#),
            format!(r#"{{"policy": {{"kind": "run_to_failure"}}, {life}, "extra": 1}}"#),
            format!(
                r#"{{"policy": {{"kind": "run_to_failure"}}, {life}, "costs": {{"spare": -5}}}}"#
            ),
            r#"{"policy": {"kind": "run_to_failure"}}"#.to_string(),
        ] {
            // SAFETY: valid text and output.
            let r = unsafe { twin_maintenance_evaluate(c(&json), json.len(), &mut out) };
            assert_eq!((r, out), (TwinResult::InvalidInput, rtf), "{json}");
        }
        // SAFETY: NULL checks.
        unsafe {
            assert_eq!(
                twin_maintenance_evaluate(null(), 3, &mut out),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_evaluate(c("{}"), 2, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_policy(null(), 3, &mut best, &mut rep),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_policy(c(&req), req.len(), null_mut(), &mut rep),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_maintenance_optimise_policy(c(&req), req.len(), &mut best, null_mut()),
                TwinResult::NullParameter
            );
        }
        assert_eq!((best, rep), (b0, r0));
    }
}
