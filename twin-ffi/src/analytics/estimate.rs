//! State estimation and prognosis from C: `TwinStateModel` (the built-in linear
//! state-space model and NASA's battery equivalent circuit) and `TwinEstimator` (Kalman,
//! unscented Kalman and particle filters behind one interface, with a Monte Carlo
//! time-of-event prediction).

use std::ffi::c_char;

use serde::{Deserialize, Serialize};
use twin::analytics::detect::Persist;
use twin::analytics::estimate::{
    BatteryCircuit, BatteryCircuitParams, ConstantInput, Dims, KalmanFilter, LinearModel,
    MonteCarlo, ParticleConfig, ParticleFilter, PredictorConfig, StateEstimator, StateSpaceModel,
    UkfConfig, UnscentedKalmanFilter,
};

use super::{check_matrix, json_out, put, put_handle, read_file, settings, write_file};
use crate::result::{fail, OrFail, TwinResult};

/// The state-space models a `TwinStateModel` can hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AnyModel {
    Linear(LinearModel),
    Battery(BatteryCircuit),
}

macro_rules! each_model {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            AnyModel::Linear($m) => $e,
            AnyModel::Battery($m) => $e,
        }
    };
}

impl StateSpaceModel for AnyModel {
    fn dims(&self) -> Dims {
        each_model!(self, m => m.dims())
    }
    fn step(&self, x: &[f64], u: &[f64], dt: f64, next: &mut [f64]) {
        each_model!(self, m => m.step(x, u, dt, next))
    }
    fn output(&self, x: &[f64], u: &[f64], z: &mut [f64]) {
        each_model!(self, m => m.output(x, u, z))
    }
    fn process_noise(&self, dt: f64, q: &mut [f64]) {
        each_model!(self, m => m.process_noise(dt, q))
    }
    fn measurement_noise(&self, r: &mut [f64]) {
        each_model!(self, m => m.measurement_noise(r))
    }
    fn state_jacobian(&self, x: &[f64], u: &[f64], dt: f64, f: &mut [f64]) -> bool {
        each_model!(self, m => m.state_jacobian(x, u, dt, f))
    }
    fn output_jacobian(&self, x: &[f64], u: &[f64], h: &mut [f64]) -> bool {
        each_model!(self, m => m.output_jacobian(x, u, h))
    }
    fn event_margin(&self, x: &[f64], u: &[f64]) -> f64 {
        each_model!(self, m => m.event_margin(x, u))
    }
    fn constrain(&self, x: &mut [f64]) {
        each_model!(self, m => m.constrain(x))
    }
    fn check_step(&self, dt: f64) -> twin::Result<()> {
        each_model!(self, m => m.check_step(dt))
    }
}

/// A state-space model (opaque): the built-in linear model or the battery equivalent
/// circuit. Made by `twin_state_model_linear_new` or `twin_state_model_battery_new`, freed
/// with `twin_state_model_free`. Estimators keep their own copy.
///
/// A model never changes after it is made, but it keeps an internal cache of its
/// discretisation, so calls on one model must not overlap. Distinct models are independent.
pub struct TwinStateModel {
    inner: AnyModel,
}

/// How the dynamics matrix of a linear model is read. Codes are append-only.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwinTimeDomain {
    /// `x' = F x + B u` over a fixed sample `period` (steps of any other length are
    /// refused).
    Discrete = 0,
    /// `dx/dt = A x + B u`, discretised exactly for each step; `q` is then a spectral
    /// density.
    Continuous = 1,
}

/// Make a linear state-space model with `states` states, `outputs` outputs and `inputs`
/// inputs:
///
/// - `time_domain` (a `TwinTimeDomain`) and `period` (used only when discrete);
/// - `a`: `F` (discrete) or `A` (continuous), states × states, row-major;
/// - `b`: states × inputs and `d`: outputs × inputs (`NULL, 0` for none);
/// - `h`: the observation matrix, outputs × states;
/// - `q`: process noise covariance per period (discrete) or spectral density
///   (continuous), states × states (`NULL, 0` for none);
/// - `r`: measurement noise covariance, outputs × outputs, positive definite;
/// - `event_weights` (states values, `NULL, 0` for no event) and `event_level`: the event
///   is reached when `event_weights · x >= event_level` (for the time-of-event prediction).
///
/// Any matrix of the wrong size, not symmetric where it must be, or not positive
/// (semi-)definite gives `TWIN_RESULT_INVALID_INPUT`, a NaN or infinity
/// `TWIN_RESULT_NON_FINITE`; `*out` is then untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// Each matrix pointer must point to its length of readable doubles (or be NULL if the
/// length is 0); `out` must point to a writable `TwinStateModel *`.
#[no_mangle]
pub unsafe extern "C" fn twin_state_model_linear_new(
    states: usize,
    outputs: usize,
    inputs: usize,
    time_domain: u32,
    period: f64,
    a: *const f64,
    a_len: usize,
    b: *const f64,
    b_len: usize,
    h: *const f64,
    h_len: usize,
    d: *const f64,
    d_len: usize,
    q: *const f64,
    q_len: usize,
    r: *const f64,
    r_len: usize,
    event_weights: *const f64,
    event_weights_len: usize,
    event_level: f64,
    out: *mut *mut TwinStateModel,
) -> TwinResult {
    ffi_boundary!("twin_state_model_linear_new", {
        let a = arg!(slice a, a_len);
        let b = arg!(slice b, b_len);
        let h = arg!(slice h, h_len);
        let d = arg!(slice d, d_len);
        let q = arg!(slice q, q_len);
        let r = arg!(slice r, r_len);
        let event_weights = arg!(slice event_weights, event_weights_len);
        let out = arg!(out out);
        // Sizes first, with checked products: a wrong length is a clear error, never an
        // overflow.
        check_matrix(a_len, states, states, "a")?;
        check_matrix(h_len, outputs, states, "h")?;
        check_matrix(r_len, outputs, outputs, "r")?;
        if !q.is_empty() {
            check_matrix(q_len, states, states, "q")?;
        }
        if inputs > 0 {
            check_matrix(b_len, states, inputs, "b")?;
            if !d.is_empty() {
                check_matrix(d_len, outputs, inputs, "d")?;
            }
        } else if !b.is_empty() || !d.is_empty() {
            return Err(fail(
                TwinResult::InvalidInput,
                "`b` and `d` must be empty for a model without inputs",
            ));
        }
        if !event_weights.is_empty() && event_weights_len != states {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("`event_weights` must have {states} values, got {event_weights_len}"),
            ));
        }
        let mut builder = LinearModel::builder(states, outputs);
        builder = match time_domain {
            t if t == TwinTimeDomain::Discrete as u32 => builder.discrete(a, period),
            t if t == TwinTimeDomain::Continuous as u32 => builder.continuous(a),
            _ => {
                return Err(fail(
                    TwinResult::InvalidInput,
                    format!("{time_domain} is not a TwinTimeDomain"),
                ))
            }
        };
        builder = builder.observation(h).measurement_noise(r);
        if inputs > 0 {
            builder = builder.input(inputs, b, d);
        }
        if !q.is_empty() {
            builder = builder.process_noise(q);
        }
        if !event_weights.is_empty() {
            builder = builder.event(event_weights, event_level);
        }
        let model = builder.build().or_fail()?;
        put_handle(
            TwinStateModel {
                inner: AnyModel::Linear(model),
            },
            out,
        );
        Ok(())
    })
}

/// Make NASA's lithium-ion battery equivalent circuit (the model of ProgPy's
/// `BatteryCircuit`): states `[tb, qb, qcp, qcs]` (temperature K, charges C), input the
/// current in A, outputs `[t, v]` (temperature K, voltage V), event end of discharge.
///
/// `params_json` holds parameters merged over the published defaults (`NULL, 0` for the
/// defaults; for example `{"ta": 273.15}`). `process_noise_std` (4 values, per unit of
/// time) and `measurement_noise_std` (2 values) are standard deviations; `NULL, 0` keeps
/// the defaults, which are zero: a filter needs measurement noise (for example
/// `{2.0, 0.02}`), a noise-free model still steps and predicts.
///
/// Errors (`*out` untouched): invalid parameters or noise, or noise arrays of another
/// length, give `TWIN_RESULT_INVALID_INPUT` (`TWIN_RESULT_NON_FINITE` for NaN).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `params_json` must point to `params_len` bytes (or be NULL if 0); the noise pointers to
/// their lengths of readable doubles; `out` to a writable `TwinStateModel *`.
#[no_mangle]
pub unsafe extern "C" fn twin_state_model_battery_new(
    params_json: *const c_char,
    params_len: usize,
    process_noise_std: *const f64,
    process_noise_len: usize,
    measurement_noise_std: *const f64,
    measurement_noise_len: usize,
    out: *mut *mut TwinStateModel,
) -> TwinResult {
    ffi_boundary!("twin_state_model_battery_new", {
        let params_json = arg!(str params_json, params_len);
        let process = arg!(slice process_noise_std, process_noise_len);
        let measurement = arg!(slice measurement_noise_std, measurement_noise_len);
        let out = arg!(out out);
        let params = settings::<BatteryCircuitParams>(params_json, "battery")?;
        let mut model = BatteryCircuit::new(params).or_fail()?;
        if !process.is_empty() {
            let std: [f64; 4] = process.try_into().map_err(|_| {
                fail(
                    TwinResult::InvalidInput,
                    format!(
                        "process noise needs 4 standard deviations, got {}",
                        process.len()
                    ),
                )
            })?;
            model = model.with_process_noise(std).or_fail()?;
        }
        if !measurement.is_empty() {
            let std: [f64; 2] = measurement.try_into().map_err(|_| {
                fail(
                    TwinResult::InvalidInput,
                    format!(
                        "measurement noise needs 2 standard deviations, got {}",
                        measurement.len()
                    ),
                )
            })?;
            model = model.with_measurement_noise(std).or_fail()?;
        }
        put_handle(
            TwinStateModel {
                inner: AnyModel::Battery(model),
            },
            out,
        );
        Ok(())
    })
}

/// Free a state-space model. `twin_state_model_free(NULL)` does nothing. Estimators made
/// from it stay valid.
///
/// Thread safety: no other thread may use the model during or after this call.
///
/// # Safety
/// `model` must be NULL or a model from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_state_model_free(model: *mut TwinStateModel) {
    let _ = ffi_boundary!("twin_state_model_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(model) };
        Ok(())
    });
}

/// The model's sizes: states, inputs and outputs.
///
/// Thread safety: not safe for concurrent use of the same model.
///
/// # Safety
/// `model` must be live; the outputs must be writable `size_t`s.
#[no_mangle]
pub unsafe extern "C" fn twin_state_model_dims(
    model: *const TwinStateModel,
    out_states: *mut usize,
    out_inputs: *mut usize,
    out_outputs: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_state_model_dims", {
        let model = arg!(ref model);
        let out_states = arg!(out out_states);
        let out_inputs = arg!(out out_inputs);
        let out_outputs = arg!(out out_outputs);
        let d = model.inner.dims();
        put(out_states, d.states);
        put(out_inputs, d.inputs);
        put(out_outputs, d.outputs);
        Ok(())
    })
}

/// The battery's initial state (full, at rest, at ambient temperature: `[Ta, qMax, 0, 0]`)
/// into `out[0 .. 4]`; `*out_len` gets 4. A linear model has no built-in initial state:
/// `TWIN_RESULT_NOT_FOUND`. `out_cap < 4` gives `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: not safe for concurrent use of the same model.
///
/// # Safety
/// `model` must be live; `out` must point to `out_cap` writable doubles; `out_len` to a
/// writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_state_model_initial_state(
    model: *const TwinStateModel,
    out: *mut f64,
    out_cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_state_model_initial_state", {
        let model = arg!(ref model);
        let out = arg!(out_slice out, out_cap);
        let out_len = arg!(out out_len);
        match &model.inner {
            AnyModel::Battery(b) => {
                super::copy_slice_out(&b.initial_state(), out, out_cap, out_len, "states")
            }
            AnyModel::Linear(_) => Err(fail(
                TwinResult::NotFound,
                "a linear model has no built-in initial state",
            )),
        }
    })
}

/// The most particles or Monte Carlo samples the C interface accepts: beyond this the
/// memory needed is a caller's mistake rather than a plan.
const MAX_COUNT: usize = 10_000_000;

fn check_count(n: usize, name: &str) -> Result<(), TwinResult> {
    if n > MAX_COUNT {
        return Err(fail(
            TwinResult::InvalidInput,
            format!("{n} {name} is more than the {MAX_COUNT} this interface accepts"),
        ));
    }
    Ok(())
}

/// Check a vector's length and values.
fn check_vec(v: &[f64], len: usize, name: &str) -> Result<(), TwinResult> {
    if v.len() != len {
        return Err(fail(
            TwinResult::InvalidInput,
            format!("`{name}` must have {len} values, got {}", v.len()),
        ));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(fail(
            TwinResult::NonFinite,
            format!("`{name}`[{i}] is {}", v[i]),
        ));
    }
    Ok(())
}

/// Advance a state by the noise-free dynamics: `next = f(x, u, dt)` into `out[0 .. states]`
/// (for example to simulate a known truth). Wrong lengths or a step the model refuses give
/// `TWIN_RESULT_INVALID_INPUT`, NaN input or a non-finite result `TWIN_RESULT_NON_FINITE`;
/// nothing is written then.
///
/// Thread safety: not safe for concurrent use of the same model.
///
/// # Safety
/// `model` must be live; `x`, `u` must point to their lengths of readable doubles and
/// `out` to `out_cap` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn twin_state_model_step(
    model: *const TwinStateModel,
    x: *const f64,
    x_len: usize,
    u: *const f64,
    u_len: usize,
    dt: f64,
    out: *mut f64,
    out_cap: usize,
) -> TwinResult {
    ffi_boundary!("twin_state_model_step", {
        let model = arg!(ref model);
        let x = arg!(slice x, x_len);
        let u = arg!(slice u, u_len);
        let out = arg!(out_slice out, out_cap);
        let d = model.inner.dims();
        check_vec(x, d.states, "x")?;
        check_vec(u, d.inputs, "u")?;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("dt must be finite and positive, got {dt}"),
            ));
        }
        model.inner.check_step(dt).or_fail()?;
        let mut next = vec![0.0; d.states];
        model.inner.step(x, u, dt, &mut next);
        model.inner.constrain(&mut next);
        check_vec(&next, d.states, "the next state")?;
        let mut n = 0;
        super::copy_slice_out(&next, out, out_cap, &mut n, "states")
    })
}

/// The noise-free output `z = h(x, u)` into `out[0 .. outputs]`. Wrong lengths give
/// `TWIN_RESULT_INVALID_INPUT` (`TWIN_RESULT_BUFFER_TOO_SMALL` for `out_cap`), NaN
/// `TWIN_RESULT_NON_FINITE`; nothing is written then.
///
/// Thread safety: not safe for concurrent use of the same model.
///
/// # Safety
/// `model` must be live; `x`, `u` must point to their lengths of readable doubles and
/// `out` to `out_cap` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn twin_state_model_output(
    model: *const TwinStateModel,
    x: *const f64,
    x_len: usize,
    u: *const f64,
    u_len: usize,
    out: *mut f64,
    out_cap: usize,
) -> TwinResult {
    ffi_boundary!("twin_state_model_output", {
        let model = arg!(ref model);
        let x = arg!(slice x, x_len);
        let u = arg!(slice u, u_len);
        let out = arg!(out_slice out, out_cap);
        let d = model.inner.dims();
        check_vec(x, d.states, "x")?;
        check_vec(u, d.inputs, "u")?;
        let mut z = vec![0.0; d.outputs];
        model.inner.output(x, u, &mut z);
        check_vec(&z, d.outputs, "the output")?;
        let mut n = 0;
        super::copy_slice_out(&z, out, out_cap, &mut n, "outputs")
    })
}

// ---------- estimators ----------

/// The kinds of state estimator. Codes are append-only.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwinFilterKind {
    /// The (extended) Kalman filter; the model must have Jacobians (both built-ins do). No
    /// settings.
    Kalman = 0,
    /// The unscented Kalman filter (settings: `alpha`, `beta`, `kappa`).
    Unscented = 1,
    /// The particle filter with systematic resampling (settings: `particles`,
    /// `resample_threshold`, `seed`).
    Particle = 2,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Filter {
    Kalman(KalmanFilter<AnyModel>),
    Unscented(UnscentedKalmanFilter<AnyModel>),
    Particle(ParticleFilter<AnyModel>),
}

impl Persist for Filter {
    const FORMAT: &'static str = "twin.ffi.estimator";
    const VERSION: u32 = 1;
}

impl Filter {
    fn kind(&self) -> TwinFilterKind {
        match self {
            Filter::Kalman(_) => TwinFilterKind::Kalman,
            Filter::Unscented(_) => TwinFilterKind::Unscented,
            Filter::Particle(_) => TwinFilterKind::Particle,
        }
    }

    fn est(&self) -> &dyn StateEstimator {
        match self {
            Filter::Kalman(f) => f,
            Filter::Unscented(f) => f,
            Filter::Particle(f) => f,
        }
    }

    fn est_mut(&mut self) -> &mut dyn StateEstimator {
        match self {
            Filter::Kalman(f) => f,
            Filter::Unscented(f) => f,
            Filter::Particle(f) => f,
        }
    }

    fn model(&self) -> &AnyModel {
        match self {
            Filter::Kalman(f) => f.model(),
            Filter::Unscented(f) => f.model(),
            Filter::Particle(f) => f.model(),
        }
    }
}

/// A recursive state estimator (opaque) over a `TwinStateModel`: Kalman, unscented Kalman
/// or particle filter. Made by `twin_estimator_new` or loaded; freed with
/// `twin_estimator_free`.
///
/// An estimator is not safe for concurrent use: calls on one estimator must not overlap.
/// Distinct estimators are independent and may move between threads.
pub struct TwinEstimator {
    inner: Filter,
}

/// Make an estimator of `kind` (a `TwinFilterKind`) for a copy of `model`, starting from
/// the estimate `x0` (states values) with covariance `p0` (states × states, row-major,
/// symmetric positive definite). Settings as JSON merged over the kind's defaults
/// (`NULL, 0`: defaults; the Kalman filter has none, so they must be empty; at most 10^7
/// particles).
///
/// Errors (`*out` untouched): wrong lengths, a `p0` that is not symmetric positive
/// definite, invalid settings or an unknown kind give `TWIN_RESULT_INVALID_INPUT`, NaN
/// `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: may be called from any thread, but `model` must not be in use by another
/// thread during the call.
///
/// # Safety
/// `model` must be live; `x0`, `p0` must point to their lengths of readable doubles;
/// `config_json` to `config_len` bytes (or NULL if 0); `out` to a writable
/// `TwinEstimator *`.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_new(
    model: *const TwinStateModel,
    kind: u32,
    x0: *const f64,
    x0_len: usize,
    p0: *const f64,
    p0_len: usize,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut TwinEstimator,
) -> TwinResult {
    ffi_boundary!("twin_estimator_new", {
        let model = arg!(ref model);
        let x0 = arg!(slice x0, x0_len);
        let p0 = arg!(slice p0, p0_len);
        let config_json = arg!(str config_json, config_len);
        let out = arg!(out out);
        let m = model.inner.clone();
        let inner = match kind {
            k if k == TwinFilterKind::Kalman as u32 => {
                if !config_json.trim().is_empty() && config_json.trim() != "{}" {
                    return Err(fail(
                        TwinResult::InvalidInput,
                        "the Kalman filter has no settings",
                    ));
                }
                Filter::Kalman(KalmanFilter::new(m, x0, p0).or_fail()?)
            }
            k if k == TwinFilterKind::Unscented as u32 => {
                let cfg = settings::<UkfConfig>(config_json, "unscented Kalman filter")?;
                Filter::Unscented(UnscentedKalmanFilter::new(m, x0, p0, cfg).or_fail()?)
            }
            k if k == TwinFilterKind::Particle as u32 => {
                let cfg = settings::<ParticleConfig>(config_json, "particle filter")?;
                check_count(cfg.particles, "particles")?;
                Filter::Particle(ParticleFilter::new(m, x0, p0, cfg).or_fail()?)
            }
            _ => {
                return Err(fail(
                    TwinResult::InvalidInput,
                    format!("{kind} is not a TwinFilterKind"),
                ))
            }
        };
        put_handle(TwinEstimator { inner }, out);
        Ok(())
    })
}

/// Free an estimator. `twin_estimator_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the estimator during or after this call.
///
/// # Safety
/// `estimator` must be NULL or an estimator from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_free(estimator: *mut TwinEstimator) {
    let _ = ffi_boundary!("twin_estimator_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(estimator) };
        Ok(())
    });
}

/// The estimator's kind and its model's sizes.
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; the outputs must be writable.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_info(
    estimator: *const TwinEstimator,
    out_kind: *mut TwinFilterKind,
    out_states: *mut usize,
    out_inputs: *mut usize,
    out_outputs: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_estimator_info", {
        let estimator = arg!(ref estimator);
        let out_kind = arg!(out out_kind);
        let out_states = arg!(out out_states);
        let out_inputs = arg!(out out_inputs);
        let out_outputs = arg!(out out_outputs);
        let d = estimator.inner.est().dims();
        put(out_kind, estimator.inner.kind());
        put(out_states, d.states);
        put(out_inputs, d.inputs);
        put(out_outputs, d.outputs);
        Ok(())
    })
}

/// Advance the estimate by `dt` under input `u` (`u_len` = the model's inputs; `NULL, 0`
/// for none). The input is kept for the following updates.
///
/// Errors leave the estimate as it was: wrong lengths, a `dt` that is not positive or that
/// the model refuses give `TWIN_RESULT_INVALID_INPUT`, NaN input or a non-finite result
/// `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; `u` must point to `u_len` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_predict(
    estimator: *mut TwinEstimator,
    u: *const f64,
    u_len: usize,
    dt: f64,
) -> TwinResult {
    ffi_boundary!("twin_estimator_predict", {
        let estimator = arg!(mut estimator);
        let u = arg!(slice u, u_len);
        estimator.inner.est_mut().predict(u, dt).or_fail()
    })
}

/// Correct the estimate with a measurement `z` (`z_len` = the model's outputs).
///
/// Errors leave the estimate as it was: a wrong length gives `TWIN_RESULT_INVALID_INPUT`,
/// NaN `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; `z` must point to `z_len` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_update(
    estimator: *mut TwinEstimator,
    z: *const f64,
    z_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_estimator_update", {
        let estimator = arg!(mut estimator);
        let z = arg!(slice z, z_len);
        estimator.inner.est_mut().update(z).or_fail()
    })
}

/// Copy the state estimate (the posterior mean, `states` values) into `out`; `*out_len`
/// gets `states`. `out_cap < states` gives `TWIN_RESULT_BUFFER_TOO_SMALL` and writes
/// nothing.
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; `out` must point to `out_cap` writable doubles; `out_len` to
/// a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_mean(
    estimator: *const TwinEstimator,
    out: *mut f64,
    out_cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_estimator_mean", {
        let estimator = arg!(ref estimator);
        let out = arg!(out_slice out, out_cap);
        let out_len = arg!(out out_len);
        super::copy_slice_out(
            estimator.inner.est().mean(),
            out,
            out_cap,
            out_len,
            "states",
        )
    })
}

/// Copy the covariance of the estimate (states × states, row-major) into `out`; `*out_len`
/// gets `states * states`. A buffer too small gives `TWIN_RESULT_BUFFER_TOO_SMALL` and
/// writes nothing.
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; `out` must point to `out_cap` writable doubles; `out_len` to
/// a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_covariance(
    estimator: *const TwinEstimator,
    out: *mut f64,
    out_cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_estimator_covariance", {
        let estimator = arg!(ref estimator);
        let out = arg!(out_slice out, out_cap);
        let out_len = arg!(out out_len);
        let cov = estimator.inner.est().covariance();
        super::copy_slice_out(cov, out, out_cap, out_len, "covariance entries")
    })
}

/// A summary of a predicted time-of-event distribution. Times count from the start of the
/// prediction; quantities that are undefined (no sample reached the event, or a quantile
/// lies beyond the horizon) are `+INFINITY`, never NaN.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwinTimeOfEvent {
    /// Number of Monte Carlo samples.
    pub samples: usize,
    /// How many reached the event within the horizon.
    pub reached: usize,
    /// `reached / samples`.
    pub fraction_reached: f64,
    /// Mean time over the samples that reached the event.
    pub mean: f64,
    /// Sample standard deviation over those (needs two).
    pub std_dev: f64,
    /// Median time over all samples (unreached ones count as later than every time).
    pub median: f64,
    /// 5th percentile.
    pub p05: f64,
    /// 95th percentile.
    pub p95: f64,
    /// The horizon of the prediction.
    pub horizon: f64,
}

/// Predict the time of the model's event (end of discharge for the battery; the linear
/// model's event level) by Monte Carlo: samples of the current estimate (and of the process
/// noise) are run forward under the constant input `u` until the event or the horizon.
/// Settings as JSON merged over the defaults (`samples` 100, `dt` 1, `horizon` 1e7,
/// `seed` 0, `process_noise` true, `interpolate` true; at most 10^7 samples).
///
/// Sample `i`'s time goes to `samples_out[i]`, `+INFINITY` if it did not reach the event
/// within the horizon; pass `samples_out = NULL, samples_cap = 0` to get only the summary.
/// The summary goes to `*out_summary`. The estimate is not changed.
///
/// Errors (nothing written): `samples_cap` non-zero but below the number of samples gives
/// `TWIN_RESULT_BUFFER_TOO_SMALL` (checked before running); wrong input length, invalid
/// settings, or a model without an event give `TWIN_RESULT_INVALID_INPUT`; a sample whose
/// state becomes non-finite `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; `u` must point to `u_len` readable doubles; `config_json` to
/// `config_len` bytes (or NULL if 0); `samples_out` to `samples_cap` writable doubles (or
/// NULL if 0); `out_summary` to a writable `TwinTimeOfEvent`.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_time_of_event(
    estimator: *const TwinEstimator,
    u: *const f64,
    u_len: usize,
    config_json: *const c_char,
    config_len: usize,
    samples_out: *mut f64,
    samples_cap: usize,
    out_summary: *mut TwinTimeOfEvent,
) -> TwinResult {
    ffi_boundary!("twin_estimator_time_of_event", {
        let estimator = arg!(ref estimator);
        let u = arg!(slice u, u_len);
        let config_json = arg!(str config_json, config_len);
        let samples_out = arg!(out_slice samples_out, samples_cap);
        let out_summary = arg!(out out_summary);
        let config = settings::<PredictorConfig>(config_json, "time-of-event")?;
        check_count(config.samples, "samples")?;
        if samples_cap != 0 && samples_cap < config.samples {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!(
                    "{} samples do not fit a buffer of {samples_cap}",
                    config.samples
                ),
            ));
        }
        let model = estimator.inner.model();
        let d = model.dims();
        check_vec(u, d.inputs, "u")?;
        if model.event_margin(estimator.inner.est().mean(), u) == f64::INFINITY {
            return Err(fail(
                TwinResult::InvalidInput,
                "the model has no event to predict the time of",
            ));
        }
        let mc = MonteCarlo::new(config).or_fail()?;
        let toe = mc
            .predict(
                model,
                estimator.inner.est().distribution(),
                &ConstantInput::new(u.to_vec()),
            )
            .or_fail()?;
        let inf = f64::INFINITY;
        let summary = TwinTimeOfEvent {
            samples: toe.samples().len(),
            reached: toe.samples().iter().flatten().count(),
            fraction_reached: toe.fraction_reached(),
            mean: toe.mean().unwrap_or(inf),
            std_dev: toe.std_dev().unwrap_or(inf),
            median: toe.median().unwrap_or(inf),
            p05: toe.percentile(0.05).unwrap_or(inf),
            p95: toe.percentile(0.95).unwrap_or(inf),
            horizon: toe.horizon(),
        };
        if samples_cap != 0 {
            for (i, s) in toe.samples().iter().enumerate() {
                // SAFETY: `i < config.samples <= samples_cap`; `samples_out` is non-NULL
                // because `samples_cap > 0`.
                unsafe { samples_out.add(i).write(s.unwrap_or(inf)) };
            }
        }
        put(out_summary, summary);
        Ok(())
    })
}

/// Save the estimator (model, filter settings and current estimate; for the particle
/// filter its particles and random state) as JSON into `buf` (`"twin.ffi.estimator"`,
/// versioned): a loaded estimator continues exactly as this one would. `buf = NULL,
/// cap = 0` asks for the length; a buffer too small gives `TWIN_RESULT_BUFFER_TOO_SMALL`
/// and writes nothing.
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_to_json(
    estimator: *const TwinEstimator,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_estimator_to_json", {
        let estimator = arg!(ref estimator);
        json_out(estimator.inner.to_json(), buf, cap, out_len)
    })
}

/// Load an estimator saved by `twin_estimator_to_json` from `len` bytes of JSON. Corrupt
/// JSON, another model, another format version or an invalid estimate give
/// `TWIN_RESULT_SERIALIZATION`; `*out` is then untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinEstimator *`.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinEstimator,
) -> TwinResult {
    ffi_boundary!("twin_estimator_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = Filter::from_json(json).or_fail()?;
        put_handle(TwinEstimator { inner }, out);
        Ok(())
    })
}

/// Save the estimator to a file (`TWIN_RESULT_IO` if it cannot be written).
///
/// Thread safety: not safe for concurrent use of the same estimator.
///
/// # Safety
/// `estimator` must be live; `path` must point to `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_save(
    estimator: *const TwinEstimator,
    path: *const c_char,
    path_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_estimator_save", {
        let estimator = arg!(ref estimator);
        let path = arg!(str path, path_len);
        write_file(path, estimator.inner.to_json())
    })
}

/// Load an estimator from a file (`TWIN_RESULT_IO` if it cannot be read,
/// `TWIN_RESULT_SERIALIZATION` if it is not a valid saved estimator).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` to a writable `TwinEstimator *`.
#[no_mangle]
pub unsafe extern "C" fn twin_estimator_load(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut TwinEstimator,
) -> TwinResult {
    ffi_boundary!("twin_estimator_load", {
        let path = arg!(str path, path_len);
        let out = arg!(out out);
        let inner = Filter::from_json(&read_file(path)?).or_fail()?;
        put_handle(TwinEstimator { inner }, out);
        Ok(())
    })
}
