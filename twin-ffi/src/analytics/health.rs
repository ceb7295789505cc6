//! `TwinHealthIndex`: one number from several condition features, 1 for a new asset and 0
//! for a failed one, fitted on run-to-failure histories or on healthy and failed examples.

use std::ffi::c_char;

use ndarray::Array2;
use twin::analytics::detect::Persist;
use twin::analytics::health::{FittedHealthIndex, HealthIndex};

use super::{check_matrix, json_out, matrix, put, put_handle, read_file, settings, write_file};
use crate::result::{fail, OrFail, TwinResult};

/// A fitted health index (opaque). Made by `twin_health_index_fit_runs` or
/// `twin_health_index_fit_labelled` (it exists only fitted) or loaded; freed with
/// `twin_health_index_free`.
///
/// A fitted index never changes: several threads may use it at once; it must not be freed
/// while another thread uses it.
pub struct TwinHealthIndex {
    inner: FittedHealthIndex,
}

/// Fit a health index on run-to-failure histories in long format: row `i` belongs to run
/// `run_ids[i]` and holds `cols` features `data[i * cols ..]` (row-major); each run's rows
/// are contiguous, in time order, and end at failure. Settings as JSON merged over the
/// defaults (`method` `{"regression": {"ridge": 1.0}}` or `"pca"`, `healthy_fraction` 0.1,
/// `failed_fraction` 0.05).
///
/// Errors (`*out` then untouched): `data_len != ids_len * cols`, a run with fewer than 4
/// rows, too few rows in all, non-contiguous runs or invalid settings give
/// `TWIN_RESULT_INVALID_INPUT`; a NaN or infinity `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `run_ids` must point to `ids_len` readable `uint64_t` and `data` to `data_len` readable
/// doubles; `config_json` to `config_len` bytes (or NULL if 0); `out` to a writable
/// `TwinHealthIndex *`.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_fit_runs(
    run_ids: *const u64,
    ids_len: usize,
    data: *const f64,
    data_len: usize,
    cols: usize,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut TwinHealthIndex,
) -> TwinResult {
    ffi_boundary!("twin_health_index_fit_runs", {
        let run_ids = arg!(slice run_ids, ids_len);
        let data = arg!(slice data, data_len);
        let config_json = arg!(str config_json, config_len);
        let out = arg!(out out);
        let config = settings::<HealthIndex>(config_json, "health index")?;
        let x = matrix(data, ids_len, cols, "data")?;
        let mut runs: Vec<Array2<f64>> = Vec::new();
        let mut seen: Vec<u64> = Vec::new();
        let mut start = 0;
        while start < ids_len {
            let id = run_ids[start];
            if seen.contains(&id) {
                return Err(fail(
                    TwinResult::InvalidInput,
                    format!("the rows of run {id} are not contiguous"),
                ));
            }
            seen.push(id);
            let mut end = start + 1;
            while end < ids_len && run_ids[end] == id {
                end += 1;
            }
            runs.push(x.slice(ndarray::s![start..end, ..]).to_owned());
            start = end;
        }
        let inner = config.fit_runs(&runs).or_fail()?;
        put_handle(TwinHealthIndex { inner }, out);
        Ok(())
    })
}

/// Fit a health index on examples: `healthy_rows` healthy and `failed_rows` failed
/// feature vectors of `cols` features each (row-major). Settings as for
/// `twin_health_index_fit_runs`.
///
/// Errors (`*out` then untouched): a buffer whose length is not its rows × `cols`, too few
/// rows, or invalid settings give `TWIN_RESULT_INVALID_INPUT`; a NaN or infinity
/// `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `healthy` must point to `healthy_len` and `failed` to `failed_len` readable doubles;
/// `config_json` to `config_len` bytes (or NULL if 0); `out` to a writable
/// `TwinHealthIndex *`.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_fit_labelled(
    healthy: *const f64,
    healthy_len: usize,
    healthy_rows: usize,
    failed: *const f64,
    failed_len: usize,
    failed_rows: usize,
    cols: usize,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut TwinHealthIndex,
) -> TwinResult {
    ffi_boundary!("twin_health_index_fit_labelled", {
        let healthy = arg!(slice healthy, healthy_len);
        let failed = arg!(slice failed, failed_len);
        let config_json = arg!(str config_json, config_len);
        let out = arg!(out out);
        let config = settings::<HealthIndex>(config_json, "health index")?;
        let h = matrix(healthy, healthy_rows, cols, "healthy")?;
        let f = matrix(failed, failed_rows, cols, "failed")?;
        let inner = config.fit_labelled(&h, &f).or_fail()?;
        put_handle(TwinHealthIndex { inner }, out);
        Ok(())
    })
}

/// Free a health index. `twin_health_index_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the index during or after this call.
///
/// # Safety
/// `index` must be NULL or an index from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_free(index: *mut TwinHealthIndex) {
    let _ = ffi_boundary!("twin_health_index_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(index) };
        Ok(())
    });
}

/// The number of features the index takes, into `*out_cols`.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same index.
///
/// # Safety
/// `index` must be a live index; `out_cols` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_cols(
    index: *const TwinHealthIndex,
    out_cols: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_health_index_cols", {
        let index = arg!(ref index);
        let out_cols = arg!(out out_cols);
        put(out_cols, index.inner.dim());
        Ok(())
    })
}

/// The health of `rows` feature vectors (`len` doubles, row-major, as many columns as the
/// index takes), each in [0, 1] (1 like new, 0 failed), into `out[0 .. rows]`.
///
/// Errors (nothing written): `len` not `rows` × the index's columns gives
/// `TWIN_RESULT_INVALID_INPUT`, a NaN or infinity `TWIN_RESULT_NON_FINITE`, `out_cap < rows`
/// `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same index.
///
/// # Safety
/// `index` must be a live index; `data` must point to `len` readable doubles and `out` to
/// `out_cap` writable doubles (each may be NULL if its length is 0).
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_predict(
    index: *const TwinHealthIndex,
    data: *const f64,
    len: usize,
    rows: usize,
    out: *mut f64,
    out_cap: usize,
) -> TwinResult {
    ffi_boundary!("twin_health_index_predict", {
        let index = arg!(ref index);
        let data = arg!(slice data, len);
        let out = arg!(out_slice out, out_cap);
        let cols = index.inner.dim();
        check_matrix(len, rows, cols, "data")?;
        if out_cap < rows {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("{rows} health values do not fit a buffer of {out_cap}"),
            ));
        }
        let health = data
            .chunks_exact(cols)
            .map(|row| index.inner.predict(row))
            .collect::<twin::Result<Vec<f64>>>()
            .or_fail()?;
        // SAFETY: `health.len() == rows <= out_cap`; `out` is non-NULL when `out_cap > 0`.
        unsafe { std::ptr::copy_nonoverlapping(health.as_ptr(), out, health.len()) };
        Ok(())
    })
}

/// Save the fitted index as JSON into `buf` (`"twin.health.fitted_health_index"`,
/// versioned); `buf = NULL, cap = 0` asks for the length, a buffer too small gives
/// `TWIN_RESULT_BUFFER_TOO_SMALL` and writes nothing.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same index.
///
/// # Safety
/// `index` must be a live index; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_to_json(
    index: *const TwinHealthIndex,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_health_index_to_json", {
        let index = arg!(ref index);
        json_out(index.inner.to_json(), buf, cap, out_len)
    })
}

/// Load a fitted index from `len` bytes of JSON. Corrupt JSON, another model, another
/// version or an inconsistent index give `TWIN_RESULT_SERIALIZATION`; `*out` is then
/// untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinHealthIndex *`.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinHealthIndex,
) -> TwinResult {
    ffi_boundary!("twin_health_index_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = FittedHealthIndex::from_json(json).or_fail()?;
        put_handle(TwinHealthIndex { inner }, out);
        Ok(())
    })
}

/// Save the fitted index to a file (`TWIN_RESULT_IO` if it cannot be written).
///
/// Thread safety: safe to call concurrently with other read-only calls on the same index.
///
/// # Safety
/// `index` must be a live index; `path` must point to `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_save(
    index: *const TwinHealthIndex,
    path: *const c_char,
    path_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_health_index_save", {
        let index = arg!(ref index);
        let path = arg!(str path, path_len);
        write_file(path, index.inner.to_json())
    })
}

/// Load a fitted index from a file (`TWIN_RESULT_IO` if it cannot be read,
/// `TWIN_RESULT_SERIALIZATION` if it is not a valid index).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` to a writable
/// `TwinHealthIndex *`.
#[no_mangle]
pub unsafe extern "C" fn twin_health_index_load(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut TwinHealthIndex,
) -> TwinResult {
    ffi_boundary!("twin_health_index_load", {
        let path = arg!(str path, path_len);
        let out = arg!(out out);
        let inner = FittedHealthIndex::from_json(&read_file(path)?).or_fail()?;
        put_handle(TwinHealthIndex { inner }, out);
        Ok(())
    })
}
