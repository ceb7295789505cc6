//! `TwinWeibull`: the two-parameter Weibull life distribution, fit by maximum likelihood to
//! failure times with right-censored units; reliability, conditional reliability, MTBF.

use std::ffi::c_char;

use twin::analytics::reliability::{Weibull, WeibullFit};

use super::{json_out, put, put_handle, read_file, write_file};
use crate::result::{fail, OrFail, TwinResult};

/// A Weibull distribution (opaque), fitted by `twin_weibull_fit`, given by `twin_weibull_new`
/// or loaded; freed with `twin_weibull_free`.
///
/// It never changes after it is made: several threads may read it at once; it must not be
/// freed while another thread uses it.
pub struct TwinWeibull {
    inner: Weibull,
}

/// The parameters of a Weibull distribution, what follows from them, and how it was fitted.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwinWeibullParams {
    /// The shape `k` (< 1 infant mortality, 1 random failures, > 1 wear-out).
    pub shape: f64,
    /// The scale `λ`, the characteristic life (63.2% have failed by then).
    pub scale: f64,
    /// Mean time between (to) failures, `λ Γ(1 + 1/k)`.
    pub mtbf: f64,
    /// The B10 life: the time by which 10% have failed.
    pub b10: f64,
    /// 1 if the distribution was fitted to data (the fields below are then set), 0 if it
    /// was given (they are then 0).
    pub fitted: u32,
    /// Number of failures in the data.
    pub failures: usize,
    /// Number of right-censored units (suspensions) in the data.
    pub suspensions: usize,
    /// Log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Two-sided confidence level of the bounds.
    pub confidence: f64,
    /// Lower confidence bound on the shape.
    pub shape_lower: f64,
    /// Upper confidence bound on the shape.
    pub shape_upper: f64,
    /// Lower confidence bound on the scale.
    pub scale_lower: f64,
    /// Upper confidence bound on the scale.
    pub scale_upper: f64,
}

/// Fit a Weibull distribution by maximum likelihood to `len` unit times: `times[i]` (> 0)
/// is when unit `i` failed if `failed[i]` is non-zero, or when it was removed still running
/// (a right-censored suspension) if `failed[i]` is 0. Settings as JSON merged over the
/// defaults (`confidence` 0.9, `min_failures` 2, `fixed_shape` null).
///
/// Errors: `times_len != failed_len`, a time that is not positive, fewer failures than
/// `min_failures`, or failures all at the largest time give `TWIN_RESULT_INVALID_INPUT`;
/// a NaN or infinite time `TWIN_RESULT_NON_FINITE`. On failure `*out` is untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `times` must point to `times_len` readable doubles, `failed` to `failed_len` readable
/// bytes, `config_json` to `config_len` bytes (or NULL if 0); `out` to a writable
/// `TwinWeibull *`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_fit(
    times: *const f64,
    times_len: usize,
    failed: *const u8,
    failed_len: usize,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut TwinWeibull,
) -> TwinResult {
    ffi_boundary!("twin_weibull_fit", {
        let times = arg!(slice times, times_len);
        let failed = arg!(slice failed, failed_len);
        let config_json = arg!(str config_json, config_len);
        let out = arg!(out out);
        let config = super::settings::<WeibullFit>(config_json, "Weibull fit")?;
        let flags: Vec<bool> = failed.iter().map(|&f| f != 0).collect();
        let inner = config.fit(times, &flags).or_fail()?;
        put_handle(TwinWeibull { inner }, out);
        Ok(())
    })
}

/// A Weibull distribution with known `shape` and `scale` (both finite and positive; else
/// `TWIN_RESULT_INVALID_INPUT` or `TWIN_RESULT_NON_FINITE`).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `out` must point to a writable `TwinWeibull *`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_new(
    shape: f64,
    scale: f64,
    out: *mut *mut TwinWeibull,
) -> TwinResult {
    ffi_boundary!("twin_weibull_new", {
        let out = arg!(out out);
        let inner = Weibull::new(shape, scale).or_fail()?;
        put_handle(TwinWeibull { inner }, out);
        Ok(())
    })
}

/// Free a Weibull distribution. `twin_weibull_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use it during or after this call.
///
/// # Safety
/// `weibull` must be NULL or a distribution from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_free(weibull: *mut TwinWeibull) {
    let _ = ffi_boundary!("twin_weibull_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(weibull) };
        Ok(())
    });
}

/// The parameters, MTBF, B10 life and fit summary, into `*out`.
///
/// Thread safety: safe to call concurrently with other read-only calls.
///
/// # Safety
/// `weibull` must be live; `out` must point to a writable `TwinWeibullParams`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_params(
    weibull: *const TwinWeibull,
    out: *mut TwinWeibullParams,
) -> TwinResult {
    ffi_boundary!("twin_weibull_params", {
        let w = &arg!(ref weibull).inner;
        let out = arg!(out out);
        let mut p = TwinWeibullParams {
            shape: w.shape(),
            scale: w.scale(),
            mtbf: w.mtbf(),
            b10: w.b10(),
            ..TwinWeibullParams::default()
        };
        if let Some(s) = w.fit_summary() {
            p.fitted = 1;
            p.failures = s.failures;
            p.suspensions = s.suspensions;
            p.log_likelihood = s.log_likelihood;
            p.confidence = s.confidence;
            (p.shape_lower, p.shape_upper) = s.shape_bounds;
            (p.scale_lower, p.scale_upper) = s.scale_bounds;
        }
        put(out, p);
        Ok(())
    })
}

fn check_time(t: f64, name: &str) -> Result<(), TwinResult> {
    if t.is_finite() {
        Ok(())
    } else {
        Err(fail(
            TwinResult::NonFinite,
            format!("{name} is {t}; a finite time is needed"),
        ))
    }
}

/// The reliability (survival probability) `R(t) = exp(-(t/λ)^k)` into `*out` (1 for
/// `t <= 0`). A NaN or infinite `t` gives `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: safe to call concurrently with other read-only calls.
///
/// # Safety
/// `weibull` must be live; `out` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_reliability(
    weibull: *const TwinWeibull,
    t: f64,
    out: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_weibull_reliability", {
        let w = &arg!(ref weibull).inner;
        let out = arg!(out out);
        check_time(t, "t")?;
        put(out, w.reliability(t));
        Ok(())
    })
}

/// The hazard rate `h(t) = (k/λ) (t/λ)^(k-1)` into `*out`. A NaN or infinite `t` gives
/// `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: safe to call concurrently with other read-only calls.
///
/// # Safety
/// `weibull` must be live; `out` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_hazard(
    weibull: *const TwinWeibull,
    t: f64,
    out: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_weibull_hazard", {
        let w = &arg!(ref weibull).inner;
        let out = arg!(out out);
        check_time(t, "t")?;
        put(out, w.hazard(t));
        Ok(())
    })
}

/// The probability of surviving `x` more given survival to age `t`, `R(t + x) / R(t)`,
/// into `*out`. Negative `t` or `x` gives `TWIN_RESULT_INVALID_INPUT`, non-finite ones
/// `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: safe to call concurrently with other read-only calls.
///
/// # Safety
/// `weibull` must be live; `out` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_conditional_reliability(
    weibull: *const TwinWeibull,
    t: f64,
    x: f64,
    out: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_weibull_conditional_reliability", {
        let w = &arg!(ref weibull).inner;
        let out = arg!(out out);
        put(out, w.conditional_reliability(t, x).or_fail()?);
        Ok(())
    })
}

/// The time by which a fraction `p` in (0, 1) has failed, `λ (-ln(1 - p))^(1/k)`, into
/// `*out`; `p` outside (0, 1) gives `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: safe to call concurrently with other read-only calls.
///
/// # Safety
/// `weibull` must be live; `out` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_quantile(
    weibull: *const TwinWeibull,
    p: f64,
    out: *mut f64,
) -> TwinResult {
    ffi_boundary!("twin_weibull_quantile", {
        let w = &arg!(ref weibull).inner;
        let out = arg!(out out);
        put(out, w.quantile(p).or_fail()?);
        Ok(())
    })
}

/// Save the distribution (and its fit summary) as JSON into `buf` (`"twin.weibull"`,
/// versioned); `buf = NULL, cap = 0` asks for the length, a buffer too small gives
/// `TWIN_RESULT_BUFFER_TOO_SMALL` and writes nothing.
///
/// Thread safety: safe to call concurrently with other read-only calls.
///
/// # Safety
/// `weibull` must be live; `buf` must be NULL or point to `cap` writable bytes; `out_len`
/// must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_to_json(
    weibull: *const TwinWeibull,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_weibull_to_json", {
        let w = arg!(ref weibull);
        json_out(w.inner.to_json(), buf, cap, out_len)
    })
}

/// Load a distribution saved by `twin_weibull_to_json` from `len` bytes of JSON. Corrupt
/// JSON, another model, another version or invalid parameters give
/// `TWIN_RESULT_SERIALIZATION`; `*out` is then untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinWeibull *`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinWeibull,
) -> TwinResult {
    ffi_boundary!("twin_weibull_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = Weibull::from_json(json).or_fail()?;
        put_handle(TwinWeibull { inner }, out);
        Ok(())
    })
}

/// Save the distribution to a file (`TWIN_RESULT_IO` if it cannot be written).
///
/// Thread safety: safe to call concurrently with other read-only calls.
///
/// # Safety
/// `weibull` must be live; `path` must point to `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_save(
    weibull: *const TwinWeibull,
    path: *const c_char,
    path_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_weibull_save", {
        let w = arg!(ref weibull);
        let path = arg!(str path, path_len);
        write_file(path, w.inner.to_json())
    })
}

/// Load a distribution from a file (`TWIN_RESULT_IO` if it cannot be read,
/// `TWIN_RESULT_SERIALIZATION` if it is not a valid saved Weibull).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` to a writable `TwinWeibull *`.
#[no_mangle]
pub unsafe extern "C" fn twin_weibull_load(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut TwinWeibull,
) -> TwinResult {
    ffi_boundary!("twin_weibull_load", {
        let path = arg!(str path, path_len);
        let out = arg!(out out);
        let inner = Weibull::from_json(&read_file(path)?).or_fail()?;
        put_handle(TwinWeibull { inner }, out);
        Ok(())
    })
}
