//! Condition features from C: time-domain features of a block or of every full window of a
//! series, and `TwinBandEnergies` (spectral band energies of vibration frames).

use std::ffi::c_char;

use twin::analytics::detect::Persist;
use twin::analytics::features::{BandConfig, BandEnergies, ConditionFeatures, RollingFeatures};

use super::{json_out, put, put_handle, read_file, write_file};
use crate::result::{fail, OrFail, TwinResult};

/// Time-domain condition features of a block of values. `rms` is not centred, `std` is the
/// population standard deviation, `skewness` is `m3 / m2^1.5` and `kurtosis` Pearson's
/// `m4 / m2^2` (3 for a normal law, 1.5 for a sine); for a constant block `skewness` and
/// `kurtosis` are 0, and `crest_factor` is 0 for an all-zero block. Never NaN.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwinConditionFeatures {
    /// Number of values.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Root mean square.
    pub rms: f64,
    /// Population standard deviation.
    pub std_dev: f64,
    /// Largest absolute value.
    pub peak: f64,
    /// `peak / rms`.
    pub crest_factor: f64,
    /// Skewness.
    pub skewness: f64,
    /// Kurtosis (Pearson, not excess).
    pub kurtosis: f64,
}

impl From<ConditionFeatures> for TwinConditionFeatures {
    fn from(f: ConditionFeatures) -> Self {
        TwinConditionFeatures {
            count: f.count,
            mean: f.mean,
            rms: f.rms,
            std_dev: f.std,
            peak: f.peak,
            crest_factor: f.crest_factor,
            skewness: f.skewness,
            kurtosis: f.kurtosis,
        }
    }
}

/// The features of a block of `len` values (two-pass, exact up to rounding), into `*out`.
///
/// Errors (`*out` untouched): an empty block gives `TWIN_RESULT_INVALID_INPUT`, a NaN or
/// infinite value `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `values` must point to `len` readable doubles; `out` to a writable
/// `TwinConditionFeatures`.
#[no_mangle]
pub unsafe extern "C" fn twin_features_compute(
    values: *const f64,
    len: usize,
    out: *mut TwinConditionFeatures,
) -> TwinResult {
    ffi_boundary!("twin_features_compute", {
        let values = arg!(slice values, len);
        let out = arg!(out out);
        put(out, ConditionFeatures::from_slice(values).or_fail()?.into());
        Ok(())
    })
}

/// The features over a sliding window of `window` values at every position of a series of
/// `len` values: `out[k]` describes `values[k .. k + window]`, for the
/// `len - window + 1` full windows (none if `len < window`); `*out_len` gets their number.
/// Updated in O(1) per value.
///
/// Errors (nothing written): `window` 0 gives `TWIN_RESULT_INVALID_INPUT`, a NaN or
/// infinite value `TWIN_RESULT_NON_FINITE`, `out_cap` below the number of full windows
/// `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `values` must point to `len` readable doubles; `out` must be NULL (with `out_cap` 0) or
/// point to `out_cap` writable `TwinConditionFeatures`; `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_features_rolling(
    values: *const f64,
    len: usize,
    window: usize,
    out: *mut TwinConditionFeatures,
    out_cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_features_rolling", {
        let values = arg!(slice values, len);
        let out = arg!(out_slice out, out_cap);
        let out_len = arg!(out out_len);
        let mut rolling = RollingFeatures::new(window).or_fail()?;
        let n = (len + 1).saturating_sub(window);
        if n > out_cap {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("{n} windows do not fit a buffer of {out_cap}"),
            ));
        }
        let mut features = Vec::with_capacity(n);
        for &v in values {
            rolling.push(v).or_fail()?;
            if rolling.len() == window {
                if let Some(f) = rolling.features() {
                    features.push(TwinConditionFeatures::from(f));
                }
            }
        }
        super::copy_slice_out(&features, out, out_cap, out_len, "windows")
    })
}

/// Band energies of vibration frames (opaque): a Hann-windowed FFT planned once, each
/// one-sided bin's energy added to its band, scaled so the bands covering `[0, fs/2]` add
/// up to the frame's energy (Parseval). Made by `twin_band_energies_new` or loaded; freed
/// with `twin_band_energies_free`.
///
/// Computing uses scratch buffers inside the handle, so it is not safe for concurrent use:
/// calls on one handle must not overlap.
pub struct TwinBandEnergies {
    inner: BandEnergies,
}

/// Plan band energies for frames of `frame` values sampled at `sample_rate` Hz, with
/// `edges_len` band edges in Hz (strictly increasing, within `[0, sample_rate / 2]`; band
/// `i` is `[edges[i], edges[i + 1])`, the last band also holds its upper edge). If
/// `remove_mean` is non-zero, each frame's mean is subtracted first (no DC).
///
/// Errors (`*out` untouched): a frame outside `[8, 2^22]`, fewer than 2 edges, edges out of
/// order or range, a sample rate that is not positive give `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `edges` must point to `edges_len` readable doubles; `out` to a writable
/// `TwinBandEnergies *`.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_new(
    sample_rate: f64,
    frame: usize,
    edges: *const f64,
    edges_len: usize,
    remove_mean: u32,
    out: *mut *mut TwinBandEnergies,
) -> TwinResult {
    ffi_boundary!("twin_band_energies_new", {
        let edges = arg!(slice edges, edges_len);
        let out = arg!(out out);
        let mut config = BandConfig::new(sample_rate, frame, edges.to_vec());
        config.remove_mean = remove_mean != 0;
        let inner = BandEnergies::new(config).or_fail()?;
        put_handle(TwinBandEnergies { inner }, out);
        Ok(())
    })
}

/// Free band energies. `twin_band_energies_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the handle during or after this call.
///
/// # Safety
/// `bands` must be NULL or a handle from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_free(bands: *mut TwinBandEnergies) {
    let _ = ffi_boundary!("twin_band_energies_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(bands) };
        Ok(())
    });
}

/// The number of bands and the frame length, into `*out_bands` and `*out_frame`.
///
/// Thread safety: not safe for concurrent use of the same handle.
///
/// # Safety
/// `bands` must be live; the outputs must be writable `size_t`s.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_info(
    bands: *const TwinBandEnergies,
    out_bands: *mut usize,
    out_frame: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_band_energies_info", {
        let bands = arg!(ref bands);
        let out_bands = arg!(out out_bands);
        let out_frame = arg!(out out_frame);
        put(out_bands, bands.inner.bands());
        put(out_frame, bands.inner.config().frame);
        Ok(())
    })
}

/// The band energies of one frame of `len` values into `out[0 .. bands]`.
///
/// Errors (nothing written): `len` other than the frame length or `out_cap` other than the
/// number of bands gives `TWIN_RESULT_INVALID_INPUT`, a NaN or infinity
/// `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: not safe for concurrent use of the same handle.
///
/// # Safety
/// `bands` must be live; `frame` must point to `len` readable doubles and `out` to
/// `out_cap` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_compute(
    bands: *mut TwinBandEnergies,
    frame: *const f64,
    len: usize,
    out: *mut f64,
    out_cap: usize,
) -> TwinResult {
    ffi_boundary!("twin_band_energies_compute", {
        let bands = arg!(mut bands);
        let frame = arg!(slice frame, len);
        let out = arg!(out_slice out, out_cap);
        let out: &mut [f64] = if out_cap == 0 {
            &mut []
        } else {
            // SAFETY: `out` is non-NULL and aligned (checked) and the caller promises
            // `out_cap` writable doubles that nothing else uses during the call.
            unsafe { std::slice::from_raw_parts_mut(out, out_cap) }
        };
        // Writes `out` only once the frame and the lengths have been checked.
        bands.inner.compute_into(frame, out).or_fail()
    })
}

/// Save the band settings as JSON into `buf` (`"twin.features.band_energies"`,
/// versioned; size query and rules as the other `_to_json` functions).
///
/// Thread safety: not safe for concurrent use of the same handle.
///
/// # Safety
/// `bands` must be live; `buf` must be NULL or point to `cap` writable bytes; `out_len`
/// must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_to_json(
    bands: *const TwinBandEnergies,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_band_energies_to_json", {
        let bands = arg!(ref bands);
        json_out(bands.inner.to_json(), buf, cap, out_len)
    })
}

/// Load band energies from `len` bytes of JSON (`TWIN_RESULT_SERIALIZATION` if invalid;
/// `*out` then untouched).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinBandEnergies *`.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinBandEnergies,
) -> TwinResult {
    ffi_boundary!("twin_band_energies_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = BandEnergies::from_json(json).or_fail()?;
        put_handle(TwinBandEnergies { inner }, out);
        Ok(())
    })
}

/// Save the band settings to a file (`TWIN_RESULT_IO` if it cannot be written).
///
/// Thread safety: not safe for concurrent use of the same handle.
///
/// # Safety
/// `bands` must be live; `path` must point to `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_save(
    bands: *const TwinBandEnergies,
    path: *const c_char,
    path_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_band_energies_save", {
        let bands = arg!(ref bands);
        let path = arg!(str path, path_len);
        write_file(path, bands.inner.to_json())
    })
}

/// Load band energies from a file (`TWIN_RESULT_IO` if it cannot be read,
/// `TWIN_RESULT_SERIALIZATION` if it is not valid).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` to a writable
/// `TwinBandEnergies *`.
#[no_mangle]
pub unsafe extern "C" fn twin_band_energies_load(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut TwinBandEnergies,
) -> TwinResult {
    ffi_boundary!("twin_band_energies_load", {
        let path = arg!(str path, path_len);
        let out = arg!(out out);
        let inner = BandEnergies::from_json(&read_file(path)?).or_fail()?;
        put_handle(TwinBandEnergies { inner }, out);
        Ok(())
    })
}
