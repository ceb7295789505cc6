//! `TwinRulModel`: remaining useful life with a calibrated prediction interval, fitted from
//! a fleet's run-to-failure histories (exponential degradation, similarity, regression on
//! window features, or their stacked ensemble).

use std::ffi::c_char;

use twin::analytics::rul::ensemble::{EnsembleConfig, FittedRulEnsemble, RulEnsemble};
use twin::analytics::rul::exponential::{
    ExponentialRul, ExponentialRulConfig, FittedExponentialRul,
};
use twin::analytics::rul::regression::{FittedRegressionRul, RegressionConfig, RegressionRul};
use twin::analytics::rul::similarity::{FittedSimilarityRul, SimilarityConfig, SimilarityRul};
use twin::analytics::rul::{Fleet, RulPrediction, UnitSeries};

use super::{
    check_matrix, format_of, json_out, put, put_handle, read_file, settings, write_file,
    wrong_format,
};
use crate::result::{fail, OrFail, TwinResult};

/// The kinds of remaining-useful-life model. Codes are append-only.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwinRulKind {
    /// Exponential degradation of a fused indicator with a Bayesian update per unit
    /// (settings: `indicator`, `onset`, `model`, `calibration`).
    Exponential = 0,
    /// Similarity of the unit's recent indicator trajectory to the fleet's
    /// (settings: `indicator`, `window`, `neighbours`, `bandwidth`, `calibration`).
    Similarity = 1,
    /// Gradient-boosted trees (or ridge) on window features (settings: `features`,
    /// `learner`, `cap`, `calibration`).
    Regression = 2,
    /// The three stacked with weights fitted on held-out predictions (settings:
    /// `components`, `cap`, `grid`, `calibration`).
    Ensemble = 3,
}

/// A remaining-useful-life prediction: a point and a calibrated interval, with
/// `0 <= lower <= rul <= upper`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwinRulPrediction {
    /// The point prediction, in the unit of the cycles.
    pub rul: f64,
    /// Lower end of the prediction interval.
    pub lower: f64,
    /// Upper end of the prediction interval.
    pub upper: f64,
    /// Nominal coverage of the interval (for example 0.9), set by conformal calibration on
    /// held-out training units.
    pub level: f64,
}

impl From<RulPrediction> for TwinRulPrediction {
    fn from(p: RulPrediction) -> Self {
        TwinRulPrediction {
            rul: p.rul,
            lower: p.lower,
            upper: p.upper,
            level: p.level,
        }
    }
}

/// How well a RUL model predicted the training units it had not seen, during fitting
/// (the out-of-fold predictions that calibrate its interval).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwinRulHeldOut {
    /// Number of held-out predictions.
    pub points: usize,
    /// Root mean square error against the capped target (the training objective).
    pub rmse_capped: f64,
    /// Root mean square error against the true remaining life.
    pub rmse: f64,
}

const EXPONENTIAL: &str = "twin.rul.exponential";
const SIMILARITY: &str = "twin.rul.similarity";
const REGRESSION: &str = "twin.rul.regression";
const ENSEMBLE: &str = "twin.rul.ensemble";

#[derive(Debug, Clone)]
enum Rul {
    Exponential(FittedExponentialRul),
    Similarity(FittedSimilarityRul),
    Regression(FittedRegressionRul),
    Ensemble(Box<FittedRulEnsemble>),
}

impl Rul {
    fn kind(&self) -> TwinRulKind {
        match self {
            Rul::Exponential(_) => TwinRulKind::Exponential,
            Rul::Similarity(_) => TwinRulKind::Similarity,
            Rul::Regression(_) => TwinRulKind::Regression,
            Rul::Ensemble(_) => TwinRulKind::Ensemble,
        }
    }

    fn predict(&self, unit: &UnitSeries) -> twin::Result<RulPrediction> {
        match self {
            Rul::Exponential(m) => m.predict(unit),
            Rul::Similarity(m) => m.predict(unit),
            Rul::Regression(m) => m.predict(unit),
            Rul::Ensemble(m) => m.predict(unit),
        }
    }

    fn held_out(&self) -> TwinRulHeldOut {
        let h = match self {
            Rul::Exponential(m) => m.held_out(),
            Rul::Similarity(m) => m.held_out(),
            Rul::Regression(m) => m.held_out(),
            Rul::Ensemble(m) => m.held_out(),
        };
        TwinRulHeldOut {
            points: h.points,
            rmse_capped: h.rmse_capped,
            rmse: h.rmse,
        }
    }

    fn to_json(&self) -> twin::Result<String> {
        match self {
            Rul::Exponential(m) => m.to_json(),
            Rul::Similarity(m) => m.to_json(),
            Rul::Regression(m) => m.to_json(),
            Rul::Ensemble(m) => m.to_json(),
        }
    }

    fn from_json(json: &str) -> Result<Rul, TwinResult> {
        let format = format_of(json, "RUL model")?;
        Ok(match format.as_str() {
            EXPONENTIAL => Rul::Exponential(FittedExponentialRul::from_json(json).or_fail()?),
            SIMILARITY => Rul::Similarity(FittedSimilarityRul::from_json(json).or_fail()?),
            REGRESSION => Rul::Regression(FittedRegressionRul::from_json(json).or_fail()?),
            ENSEMBLE => Rul::Ensemble(Box::new(FittedRulEnsemble::from_json(json).or_fail()?)),
            other => return Err(wrong_format(other, "RUL model")),
        })
    }
}

/// A fitted remaining-useful-life model (opaque). Made by `twin_rul_fit` (it exists only
/// fitted) or loaded; freed with `twin_rul_free`.
///
/// A fitted model never changes: several threads may predict with it at once; it must not
/// be freed while another thread uses it.
pub struct TwinRulModel {
    inner: Rul,
}

/// A fleet from long-format columns, with the lengths checked.
fn fleet(
    ids: &[u64],
    cycles: &[f64],
    values: &[f64],
    n_signals: usize,
) -> Result<Fleet, TwinResult> {
    if ids.len() != cycles.len() {
        return Err(fail(
            TwinResult::InvalidInput,
            format!(
                "{} unit ids but {} cycles: one of each per row",
                ids.len(),
                cycles.len()
            ),
        ));
    }
    check_matrix(values.len(), ids.len(), n_signals, "values")?;
    Fleet::from_long_row_major(ids, cycles, values, n_signals).or_fail()
}

/// Fit a RUL model of `kind` (a `TwinRulKind`) on run-to-failure histories in long format:
/// row `i` is unit `unit_ids[i]` at cycle (time) `cycles[i]` with `n_signals` values
/// `values[i * n_signals ..]` (row-major). Each unit's rows are contiguous, in increasing
/// cycle order, and end at its failure. Settings as JSON merged over the kind's defaults
/// (`NULL, 0`: defaults; for example `{"calibration": {"folds": 3}}`).
///
/// Intervals are calibrated by split conformal prediction on held-out training units, so
/// a 90% interval covers about 90% of true remaining lives. Fitting may use several
/// threads (setting `calibration.threads`, 0 = all cores).
///
/// Errors (`*out` then untouched): lengths that disagree (`ids_len != cycles_len`,
/// `values_len != ids_len * n_signals`), too few units (at least 3 and as many as
/// calibration folds) or cycles, non-contiguous units, non-increasing cycles, or invalid
/// settings give `TWIN_RESULT_INVALID_INPUT`; a NaN or infinity `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `unit_ids` must point to `ids_len` readable `uint64_t`, `cycles` to `cycles_len` and
/// `values` to `values_len` readable doubles; `config_json` to `config_len` bytes (or NULL
/// if 0); `out` to a writable `TwinRulModel *`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_fit(
    kind: u32,
    unit_ids: *const u64,
    ids_len: usize,
    cycles: *const f64,
    cycles_len: usize,
    values: *const f64,
    values_len: usize,
    n_signals: usize,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut TwinRulModel,
) -> TwinResult {
    ffi_boundary!("twin_rul_fit", {
        let unit_ids = arg!(slice unit_ids, ids_len);
        let cycles = arg!(slice cycles, cycles_len);
        let values = arg!(slice values, values_len);
        let config_json = arg!(str config_json, config_len);
        let out = arg!(out out);
        let kind = kind_of(kind)?;
        // Settings first: a typo is reported before any data is looked at.
        let inner = match kind {
            TwinRulKind::Exponential => {
                let cfg = settings::<ExponentialRulConfig>(config_json, "exponential RUL")?;
                let model = ExponentialRul::new(cfg).or_fail()?;
                Rul::Exponential(
                    model
                        .fit(&fleet(unit_ids, cycles, values, n_signals)?)
                        .or_fail()?,
                )
            }
            TwinRulKind::Similarity => {
                let cfg = settings::<SimilarityConfig>(config_json, "similarity RUL")?;
                let model = SimilarityRul::new(cfg).or_fail()?;
                Rul::Similarity(
                    model
                        .fit(&fleet(unit_ids, cycles, values, n_signals)?)
                        .or_fail()?,
                )
            }
            TwinRulKind::Regression => {
                let cfg = settings::<RegressionConfig>(config_json, "regression RUL")?;
                let model = RegressionRul::new(cfg).or_fail()?;
                Rul::Regression(
                    model
                        .fit(&fleet(unit_ids, cycles, values, n_signals)?)
                        .or_fail()?,
                )
            }
            TwinRulKind::Ensemble => {
                let cfg = settings::<EnsembleConfig>(config_json, "RUL ensemble")?;
                let model = RulEnsemble::new(cfg).or_fail()?;
                let fitted = model
                    .fit(&fleet(unit_ids, cycles, values, n_signals)?)
                    .or_fail()?;
                Rul::Ensemble(Box::new(fitted))
            }
        };
        put_handle(TwinRulModel { inner }, out);
        Ok(())
    })
}

/// The complete default settings of a RUL model `kind` as JSON, into `buf` (NUL-terminated;
/// `*out_len` gets the length without the NUL; `buf = NULL, cap = 0` asks for the length, a
/// buffer too small gives `TWIN_RESULT_BUFFER_TOO_SMALL`). Settings passed to
/// `twin_rul_fit` merge over these; arrays (the ensemble's `components`) are replaced
/// whole, so start from this text to change one component.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes; `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_default_settings(
    kind: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_rul_default_settings", {
        let json = match kind_of(kind)? {
            TwinRulKind::Exponential => serde_json::to_string(&ExponentialRulConfig::default()),
            TwinRulKind::Similarity => serde_json::to_string(&SimilarityConfig::default()),
            TwinRulKind::Regression => serde_json::to_string(&RegressionConfig::default()),
            TwinRulKind::Ensemble => serde_json::to_string(&EnsembleConfig::default()),
        }
        .map_err(|e| {
            fail(
                TwinResult::Other,
                format!("cannot encode the settings: {e}"),
            )
        })?;
        crate::result::copy_str_out(&json, buf, cap, out_len)
    })
}

fn kind_of(kind: u32) -> Result<TwinRulKind, TwinResult> {
    Ok(match kind {
        0 => TwinRulKind::Exponential,
        1 => TwinRulKind::Similarity,
        2 => TwinRulKind::Regression,
        3 => TwinRulKind::Ensemble,
        _ => {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("{kind} is not a TwinRulKind"),
            ))
        }
    })
}

/// Free a RUL model. `twin_rul_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the model during or after this call.
///
/// # Safety
/// `model` must be NULL or a model from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_free(model: *mut TwinRulModel) {
    let _ = ffi_boundary!("twin_rul_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(model) };
        Ok(())
    });
}

/// The kind of a fitted RUL model, into `*out_kind`.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; `out_kind` must point to a writable `TwinRulKind`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_kind(
    model: *const TwinRulModel,
    out_kind: *mut TwinRulKind,
) -> TwinResult {
    ffi_boundary!("twin_rul_kind", {
        let model = arg!(ref model);
        let out_kind = arg!(out out_kind);
        put(out_kind, model.inner.kind());
        Ok(())
    })
}

/// The scores of the model's held-out predictions during fitting, into `*out`.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; `out` must point to a writable `TwinRulHeldOut`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_held_out(
    model: *const TwinRulModel,
    out: *mut TwinRulHeldOut,
) -> TwinResult {
    ffi_boundary!("twin_rul_held_out", {
        let model = arg!(ref model);
        let out = arg!(out out);
        put(out, model.inner.held_out());
        Ok(())
    })
}

/// Predict the remaining useful life of one unit after the last of its `cycles_len`
/// observed cycles: `cycles` increasing, `values` row-major `cycles_len × n_signals` with
/// the signals of the training fleet in the same order. The prediction and its interval go
/// to `*out`.
///
/// Errors (`*out` then untouched): `values_len != cycles_len * n_signals`, no cycles,
/// non-increasing cycles, or a signal count other than the training fleet's give
/// `TWIN_RESULT_INVALID_INPUT`; a NaN or infinity `TWIN_RESULT_NON_FINITE`.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; `cycles` must point to `cycles_len` and `values` to
/// `values_len` readable doubles; `out` to a writable `TwinRulPrediction`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_predict(
    model: *const TwinRulModel,
    cycles: *const f64,
    cycles_len: usize,
    values: *const f64,
    values_len: usize,
    n_signals: usize,
    out: *mut TwinRulPrediction,
) -> TwinResult {
    ffi_boundary!("twin_rul_predict", {
        let model = arg!(ref model);
        let cycles = arg!(slice cycles, cycles_len);
        let values = arg!(slice values, values_len);
        let out = arg!(out out);
        check_matrix(values_len, cycles_len, n_signals, "values")?;
        let unit =
            UnitSeries::from_row_major(0, cycles.to_vec(), values.to_vec(), n_signals).or_fail()?;
        put(out, model.inner.predict(&unit).or_fail()?.into());
        Ok(())
    })
}

/// Predict every unit of a fleet in long format (as `twin_rul_fit` takes it) after its
/// last observed cycle; prediction `k` (units in order of appearance) goes to `out[k]` and
/// `*out_len` gets the number of units.
///
/// Errors as `twin_rul_predict`; `out_cap` smaller than the number of units gives
/// `TWIN_RESULT_BUFFER_TOO_SMALL`. On failure nothing is written.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// As `twin_rul_fit` for the inputs; `out` must be NULL (with `out_cap` 0) or point to
/// `out_cap` writable `TwinRulPrediction`s; `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_predict_fleet(
    model: *const TwinRulModel,
    unit_ids: *const u64,
    ids_len: usize,
    cycles: *const f64,
    cycles_len: usize,
    values: *const f64,
    values_len: usize,
    n_signals: usize,
    out: *mut TwinRulPrediction,
    out_cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_rul_predict_fleet", {
        let model = arg!(ref model);
        let unit_ids = arg!(slice unit_ids, ids_len);
        let cycles = arg!(slice cycles, cycles_len);
        let values = arg!(slice values, values_len);
        let out = arg!(out_slice out, out_cap);
        let out_len = arg!(out out_len);
        let fleet = fleet(unit_ids, cycles, values, n_signals)?;
        let preds = fleet
            .units()
            .iter()
            .map(|u| model.inner.predict(u).map(TwinRulPrediction::from))
            .collect::<twin::Result<Vec<_>>>()
            .or_fail()?;
        super::copy_slice_out(&preds, out, out_cap, out_len, "predictions")
    })
}

/// Save the fitted model as JSON into `buf` (the Rust crate's `twin.rul.*` document,
/// versioned); `buf = NULL, cap = 0` asks for the length, a buffer too small gives
/// `TWIN_RESULT_BUFFER_TOO_SMALL` and writes nothing.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_to_json(
    model: *const TwinRulModel,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_rul_to_json", {
        let model = arg!(ref model);
        json_out(model.inner.to_json(), buf, cap, out_len)
    })
}

/// Load a fitted RUL model from `len` bytes of JSON (the kind is read from the document).
/// Corrupt JSON, another model, another format version or an inconsistent model give
/// `TWIN_RESULT_SERIALIZATION`; `*out` is then untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinRulModel *`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinRulModel,
) -> TwinResult {
    ffi_boundary!("twin_rul_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = Rul::from_json(json)?;
        put_handle(TwinRulModel { inner }, out);
        Ok(())
    })
}

/// Save the fitted model to a file (`TWIN_RESULT_IO` if it cannot be written).
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; `path` must point to `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_save(
    model: *const TwinRulModel,
    path: *const c_char,
    path_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_rul_save", {
        let model = arg!(ref model);
        let path = arg!(str path, path_len);
        write_file(path, model.inner.to_json())
    })
}

/// Load a fitted RUL model from a file (`TWIN_RESULT_IO` if it cannot be read,
/// `TWIN_RESULT_SERIALIZATION` if it is not a valid model).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` to a writable `TwinRulModel *`.
#[no_mangle]
pub unsafe extern "C" fn twin_rul_load(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut TwinRulModel,
) -> TwinResult {
    ffi_boundary!("twin_rul_load", {
        let path = arg!(str path, path_len);
        let out = arg!(out out);
        let inner = Rul::from_json(&read_file(path)?)?;
        put_handle(TwinRulModel { inner }, out);
        Ok(())
    })
}
