//! `TwinDetector` (the univariate streaming detectors and their ensemble) and
//! `TwinMultivariate` (PCA T²/SPE and Mahalanobis detectors fit on healthy data).

use std::ffi::c_char;

use twin::analytics::detect::{
    AnyDetector, Cusum, CusumConfig, Detection, Ensemble, EnsembleConfig, EwmaConfig, EwmaDetector,
    FittedMahalanobis, FittedPca, HalfSpaceTrees, HstConfig, MahalanobisDetector, PageHinkley,
    PageHinkleyConfig, PcaDetector, Persist, RobustConfig, RobustZScore, StreamingDetector,
};

use super::{
    check_matrix, format_of, json_out, matrix, put, put_handle, read_file, settings, write_file,
    wrong_format,
};
use crate::result::{fail, OrFail, TwinResult};

/// The kinds of univariate streaming detector. Codes are append-only.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwinDetectorKind {
    /// Exponentially weighted z-score (settings: `alpha`, `warmup`, `threshold`, ...).
    Ewma = 0,
    /// Median / MAD z-score over a window (settings: `window`, `warmup`, `threshold`).
    RobustZ = 1,
    /// CUSUM mean-shift drift detector (settings: `k`, `h`, `warmup`, ...).
    Cusum = 2,
    /// Page-Hinkley mean-shift drift detector.
    PageHinkley = 3,
    /// Streaming Half-Space Trees (settings: `trees`, `height`, `window`, `seed`, ...,
    /// and `dim`, the number of coordinates of a point, 1 by default; score points with
    /// `twin_detector_update_vector`).
    Hst = 4,
    /// Several detectors on one stream fused by likelihood (settings: `fusion` `"max"`,
    /// `"mean"`, `"noisy_or"` or `"bonferroni"`, `threshold`, and `members`, a list of
    /// kinds with their default settings, by default `["ewma", "robust_z", "hst"]`; add
    /// `"cusum"` or `"page_hinkley"` to catch slow shifts too).
    Ensemble = 5,
}

impl TwinDetectorKind {
    fn from_u32(kind: u32) -> Result<Self, TwinResult> {
        Ok(match kind {
            0 => Self::Ewma,
            1 => Self::RobustZ,
            2 => Self::Cusum,
            3 => Self::PageHinkley,
            4 => Self::Hst,
            5 => Self::Ensemble,
            _ => {
                return Err(fail(
                    TwinResult::InvalidInput,
                    format!("{kind} is not a TwinDetectorKind"),
                ))
            }
        })
    }
}

/// What a detector says about one value.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwinDetection {
    /// The raw score, larger when more unusual (its scale depends on the detector).
    pub score: f64,
    /// The anomaly likelihood in [0, 1]; 0 during warm-up. Never NaN.
    pub likelihood: f64,
    /// 1 if the detector raises an alarm on this value (its likelihood reached the
    /// detector's threshold; for drift detectors: a change was detected), else 0.
    pub alarm: u32,
}

impl From<Detection> for TwinDetection {
    fn from(d: Detection) -> Self {
        TwinDetection {
            score: d.score,
            likelihood: d.likelihood,
            alarm: u32::from(d.alarm),
        }
    }
}

#[derive(Debug, Clone)]
enum Det {
    Ewma(EwmaDetector),
    RobustZ(RobustZScore),
    Cusum(Cusum),
    PageHinkley(PageHinkley),
    Hst(Box<HalfSpaceTrees>),
    Ensemble(Ensemble),
}

macro_rules! each_det {
    ($self:expr, $d:ident => $e:expr) => {
        match $self {
            Det::Ewma($d) => $e,
            Det::RobustZ($d) => $e,
            Det::Cusum($d) => $e,
            Det::PageHinkley($d) => $e,
            Det::Hst($d) => $e,
            Det::Ensemble($d) => $e,
        }
    };
}

impl Det {
    fn kind(&self) -> TwinDetectorKind {
        match self {
            Det::Ewma(_) => TwinDetectorKind::Ewma,
            Det::RobustZ(_) => TwinDetectorKind::RobustZ,
            Det::Cusum(_) => TwinDetectorKind::Cusum,
            Det::PageHinkley(_) => TwinDetectorKind::PageHinkley,
            Det::Hst(_) => TwinDetectorKind::Hst,
            Det::Ensemble(_) => TwinDetectorKind::Ensemble,
        }
    }

    fn dim(&self) -> usize {
        match self {
            Det::Hst(d) => d.dim(),
            _ => 1,
        }
    }

    /// Score one value of a univariate detector.
    fn update(&mut self, x: f64) -> Result<Detection, TwinResult> {
        if self.dim() != 1 {
            return Err(fail(
                TwinResult::InvalidInput,
                format!(
                    "the detector scores points of {} coordinates: use twin_detector_update_vector",
                    self.dim()
                ),
            ));
        }
        Ok(each_det!(self, d => d.update(x)))
    }

    /// Score one point of `dim()` coordinates.
    fn update_vector(&mut self, x: &[f64]) -> Result<Detection, TwinResult> {
        match self {
            Det::Hst(d) => d.update_vector(x).or_fail(),
            _ => match x {
                [v] => self.update(*v),
                _ => Err(fail(
                    TwinResult::InvalidInput,
                    format!(
                        "the detector is univariate; the point has {} coordinates",
                        x.len()
                    ),
                )),
            },
        }
    }

    fn to_json(&self) -> twin::Result<String> {
        match self {
            Det::Hst(d) => d.as_ref().to_json(),
            Det::Ewma(d) => d.to_json(),
            Det::RobustZ(d) => d.to_json(),
            Det::Cusum(d) => d.to_json(),
            Det::PageHinkley(d) => d.to_json(),
            Det::Ensemble(d) => d.to_json(),
        }
    }

    fn from_json(json: &str) -> Result<Det, TwinResult> {
        let format = format_of(json, "detector")?;
        Ok(match format.as_str() {
            f if f == <EwmaDetector as Persist>::FORMAT => {
                Det::Ewma(EwmaDetector::from_json(json).or_fail()?)
            }
            f if f == <RobustZScore as Persist>::FORMAT => {
                Det::RobustZ(RobustZScore::from_json(json).or_fail()?)
            }
            f if f == <Cusum as Persist>::FORMAT => Det::Cusum(Cusum::from_json(json).or_fail()?),
            f if f == <PageHinkley as Persist>::FORMAT => {
                Det::PageHinkley(PageHinkley::from_json(json).or_fail()?)
            }
            f if f == <HalfSpaceTrees as Persist>::FORMAT => {
                Det::Hst(Box::new(HalfSpaceTrees::from_json(json).or_fail()?))
            }
            f if f == <Ensemble as Persist>::FORMAT => {
                Det::Ensemble(Ensemble::from_json(json).or_fail()?)
            }
            other => return Err(wrong_format(other, "detector")),
        })
    }
}

/// Remove `key` from a settings object and parse it (or give `default`); the rest of the
/// settings as text.
fn take_key<T: serde::de::DeserializeOwned>(
    json: &str,
    key: &str,
    default: T,
) -> Result<(T, String), TwinResult> {
    if json.trim().is_empty() {
        return Ok((default, String::new()));
    }
    let invalid = |detail: String| fail(TwinResult::InvalidInput, detail);
    let mut doc: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| invalid(format!("settings are not valid JSON: {e}")))?;
    match doc.as_object_mut().and_then(|o| o.remove(key)) {
        Some(v) => {
            let value = serde_json::from_value(v)
                .map_err(|e| invalid(format!("invalid setting `{key}`: {e}")))?;
            Ok((value, doc.to_string()))
        }
        None => Ok((default, json.to_string())),
    }
}

/// The ensemble's settings: `EnsembleConfig` plus an optional `members` list of kind names.
fn ensemble_settings(json: &str) -> Result<(EnsembleConfig, Vec<AnyDetector>), TwinResult> {
    let invalid = |detail: String| fail(TwinResult::InvalidInput, detail);
    let default = vec![
        "ewma".to_string(),
        "robust_z".to_string(),
        "hst".to_string(),
    ];
    let (names, rest) = take_key::<Vec<String>>(json, "members", default)?;
    let config = settings::<EnsembleConfig>(&rest, "ensemble")?;
    let members = names
        .iter()
        .map(|n| {
            Ok(match n.as_str() {
                "ewma" => EwmaDetector::default().into(),
                "robust_z" => RobustZScore::default().into(),
                "cusum" => Cusum::default().into(),
                "page_hinkley" => PageHinkley::default().into(),
                "hst" => HalfSpaceTrees::default().into(),
                other => {
                    return Err(invalid(format!(
                        "unknown ensemble member `{other}`: use ewma, robust_z, cusum, page_hinkley or hst"
                    )))
                }
            })
        })
        .collect::<Result<Vec<AnyDetector>, TwinResult>>()?;
    Ok((config, members))
}

/// A streaming anomaly or drift detector (opaque): online, bounded in memory,
/// self-calibrating; univariate, except Half-Space Trees made with a `dim` setting. Create with `twin_detector_new` or load with `twin_detector_from_json`
/// / `twin_detector_load`; free with `twin_detector_free`.
///
/// A detector learns from every value it scores, so it is not safe for concurrent use:
/// calls on one detector must not overlap. Distinct detectors are independent.
pub struct TwinDetector {
    inner: Det,
}

/// Create a streaming detector of `kind` (a `TwinDetectorKind`) with settings given as
/// `config_len` bytes of JSON merged over the kind's defaults (`NULL, 0` for the defaults).
///
/// An unknown kind, malformed JSON, an unknown setting or an invalid value (for example a
/// threshold outside (0, 1)) gives `TWIN_RESULT_INVALID_INPUT`; on failure `*out` is left
/// untouched. On success `*out` receives a detector freed with `twin_detector_free`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `config_json` must point to `config_len` readable bytes (or be NULL if `config_len` is
/// 0); `out` must point to a writable `TwinDetector *`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_new(
    kind: u32,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut TwinDetector,
) -> TwinResult {
    ffi_boundary!("twin_detector_new", {
        let config_json = arg!(str config_json, config_len);
        let out = arg!(out out);
        let inner = match TwinDetectorKind::from_u32(kind)? {
            TwinDetectorKind::Ewma => Det::Ewma(
                EwmaDetector::new(settings::<EwmaConfig>(config_json, "EWMA")?).or_fail()?,
            ),
            TwinDetectorKind::RobustZ => Det::RobustZ(
                RobustZScore::new(settings::<RobustConfig>(config_json, "robust z-score")?)
                    .or_fail()?,
            ),
            TwinDetectorKind::Cusum => {
                Det::Cusum(Cusum::new(settings::<CusumConfig>(config_json, "CUSUM")?).or_fail()?)
            }
            TwinDetectorKind::PageHinkley => Det::PageHinkley(
                PageHinkley::new(settings::<PageHinkleyConfig>(config_json, "Page-Hinkley")?)
                    .or_fail()?,
            ),
            TwinDetectorKind::Hst => {
                let (dim, rest) = take_key::<usize>(config_json, "dim", 1)?;
                let config = settings::<HstConfig>(&rest, "Half-Space Trees")?;
                Det::Hst(Box::new(HalfSpaceTrees::with_dim(dim, config).or_fail()?))
            }
            TwinDetectorKind::Ensemble => {
                let (config, members) = ensemble_settings(config_json)?;
                Det::Ensemble(Ensemble::new(members, config).or_fail()?)
            }
        };
        put_handle(TwinDetector { inner }, out);
        Ok(())
    })
}

/// Free a detector. `twin_detector_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the detector during or after this call.
///
/// # Safety
/// `detector` must be NULL or a detector from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_free(detector: *mut TwinDetector) {
    let _ = ffi_boundary!("twin_detector_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(detector) };
        Ok(())
    });
}

/// The kind of a detector, into `*out_kind`.
///
/// Thread safety: not safe for concurrent use of the same detector.
///
/// # Safety
/// `detector` must be a live detector; `out_kind` must point to a writable
/// `TwinDetectorKind`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_kind(
    detector: *const TwinDetector,
    out_kind: *mut TwinDetectorKind,
) -> TwinResult {
    ffi_boundary!("twin_detector_kind", {
        let detector = arg!(ref detector);
        let out_kind = arg!(out out_kind);
        put(out_kind, detector.inner.kind());
        Ok(())
    })
}

/// Score one value, then learn from it; the detection goes to `*out`.
///
/// A NaN or infinite value, or one beyond 1e100 in magnitude, is skipped, as in the Rust
/// API: the detection is all zeros and the detector's state is unchanged. A multivariate detector gives
/// `TWIN_RESULT_INVALID_INPUT` (use `twin_detector_update_vector`).
///
/// Thread safety: not safe for concurrent use of the same detector.
///
/// # Safety
/// `detector` must be a live detector; `out` must point to a writable `TwinDetection`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_update(
    detector: *mut TwinDetector,
    value: f64,
    out: *mut TwinDetection,
) -> TwinResult {
    ffi_boundary!("twin_detector_update", {
        let detector = arg!(mut detector);
        let out = arg!(out out);
        put(out, detector.inner.update(value)?.into());
        Ok(())
    })
}

/// Score and learn `len` values in order; detection `i` goes to `out[i]`.
///
/// `out_cap` must be at least `len`, else `TWIN_RESULT_BUFFER_TOO_SMALL` and nothing is
/// scored or written; a multivariate detector gives `TWIN_RESULT_INVALID_INPUT`.
/// Non-finite values are skipped as by `twin_detector_update`.
///
/// Thread safety: not safe for concurrent use of the same detector.
///
/// # Safety
/// `detector` must be a live detector; `values` must point to `len` readable doubles and
/// `out` to `out_cap` writable `TwinDetection`s (each may be NULL if its length is 0).
#[no_mangle]
pub unsafe extern "C" fn twin_detector_update_batch(
    detector: *mut TwinDetector,
    values: *const f64,
    len: usize,
    out: *mut TwinDetection,
    out_cap: usize,
) -> TwinResult {
    ffi_boundary!("twin_detector_update_batch", {
        let detector = arg!(mut detector);
        let values = arg!(slice values, len);
        let out = arg!(out_slice out, out_cap);
        if out_cap < len {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("{len} detections do not fit a buffer of {out_cap}"),
            ));
        }
        if detector.inner.dim() != 1 {
            return Err(fail(
                TwinResult::InvalidInput,
                "a multivariate detector scores points: use twin_detector_update_vector",
            ));
        }
        for (i, &v) in values.iter().enumerate() {
            let d = detector.inner.update(v)?;
            // SAFETY: `i < len <= out_cap` and `out` is non-NULL when `out_cap > 0`.
            unsafe { out.add(i).write(d.into()) };
        }
        Ok(())
    })
}

/// Score one point of `len` coordinates, then learn from it; the detection goes to `*out`.
/// `len` must be the detector's dimension (`twin_detector_dim`): 1 for every kind except
/// Half-Space Trees made with a `dim` setting. A point with a NaN or infinite coordinate
/// (or one beyond 1e100 in magnitude) is skipped (all-zero detection, state unchanged).
///
/// Errors (`*out` untouched): a wrong `len` gives `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: not safe for concurrent use of the same detector.
///
/// # Safety
/// `detector` must be a live detector; `point` must point to `len` readable doubles; `out`
/// to a writable `TwinDetection`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_update_vector(
    detector: *mut TwinDetector,
    point: *const f64,
    len: usize,
    out: *mut TwinDetection,
) -> TwinResult {
    ffi_boundary!("twin_detector_update_vector", {
        let detector = arg!(mut detector);
        let point = arg!(slice point, len);
        let out = arg!(out out);
        put(out, detector.inner.update_vector(point)?.into());
        Ok(())
    })
}

/// The number of coordinates of the points the detector scores, into `*out_dim` (1 for a
/// univariate detector).
///
/// Thread safety: not safe for concurrent use of the same detector.
///
/// # Safety
/// `detector` must be a live detector; `out_dim` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_dim(
    detector: *const TwinDetector,
    out_dim: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_detector_dim", {
        let detector = arg!(ref detector);
        let out_dim = arg!(out out_dim);
        put(out_dim, detector.inner.dim());
        Ok(())
    })
}

/// Save the detector (settings and everything it has learnt) as JSON into `buf`
/// (NUL-terminated); `*out_len` gets the length without the NUL. `buf = NULL, cap = 0`
/// asks for the length; a buffer too small gives `TWIN_RESULT_BUFFER_TOO_SMALL` and
/// writes nothing. The document is the Rust crate's (`twin.detect.*`, versioned).
///
/// Thread safety: not safe for concurrent use of the same detector.
///
/// # Safety
/// `detector` must be a live detector; `buf` must be NULL or point to `cap` writable
/// bytes; `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_to_json(
    detector: *const TwinDetector,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_detector_to_json", {
        let detector = arg!(ref detector);
        json_out(detector.inner.to_json(), buf, cap, out_len)
    })
}

/// Load a detector saved by `twin_detector_to_json` (or by the Rust or Python API) from
/// `len` bytes of JSON; the kind is read from the document.
///
/// Corrupt JSON, a document of another model, another format version, or a model that
/// breaks its invariants gives `TWIN_RESULT_SERIALIZATION`; `*out` is then untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes (or be NULL if `len` is 0); `out` must point
/// to a writable `TwinDetector *`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinDetector,
) -> TwinResult {
    ffi_boundary!("twin_detector_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = Det::from_json(json)?;
        put_handle(TwinDetector { inner }, out);
        Ok(())
    })
}

/// Save the detector as JSON to the file at `path` (`path_len` bytes of UTF-8), replacing
/// it. A file that cannot be written gives `TWIN_RESULT_IO`.
///
/// Thread safety: not safe for concurrent use of the same detector.
///
/// # Safety
/// `detector` must be a live detector; `path` must point to `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_save(
    detector: *const TwinDetector,
    path: *const c_char,
    path_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_detector_save", {
        let detector = arg!(ref detector);
        let path = arg!(str path, path_len);
        write_file(path, detector.inner.to_json())
    })
}

/// Load a detector from a file written by `twin_detector_save`. A file that cannot be read
/// gives `TWIN_RESULT_IO`, one that does not hold a valid detector
/// `TWIN_RESULT_SERIALIZATION`; `*out` is then untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` must point to a writable
/// `TwinDetector *`.
#[no_mangle]
pub unsafe extern "C" fn twin_detector_load(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut TwinDetector,
) -> TwinResult {
    ffi_boundary!("twin_detector_load", {
        let path = arg!(str path, path_len);
        let out = arg!(out out);
        let inner = Det::from_json(&read_file(path)?)?;
        put_handle(TwinDetector { inner }, out);
        Ok(())
    })
}

// ---------- multivariate ----------

/// The kinds of multivariate detector. Codes are append-only.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwinMultivariateKind {
    /// PCA on standardized data: Hotelling's T² in the principal subspace and the squared
    /// prediction error off it (settings: `components` `{"variance": 0.9}` or
    /// `{"fixed": k}`, `threshold`).
    Pca = 0,
    /// Mahalanobis distance with a shrunk covariance (settings: `shrinkage`
    /// `"ledoit_wolf"` or `{"fixed": s}`, `threshold`).
    Mahalanobis = 1,
}

/// What a multivariate detector says about one observation.
///
/// For PCA, `t2`/`spe` are Hotelling's T² and the squared prediction error with their own
/// likelihoods, `statistic` is whichever of the two is more unusual and `likelihood` the
/// two combined (Bonferroni). For Mahalanobis, `t2` is the squared distance D²
/// (= `statistic`), `t2_likelihood` = `likelihood`, and `spe`, `spe_likelihood` are 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwinMultivariateScore {
    /// The model's main statistic.
    pub statistic: f64,
    /// Anomaly likelihood in [0, 1].
    pub likelihood: f64,
    /// Hotelling's T² (PCA) or D² (Mahalanobis).
    pub t2: f64,
    /// Squared prediction error (PCA; 0 for Mahalanobis).
    pub spe: f64,
    /// Likelihood of `t2`.
    pub t2_likelihood: f64,
    /// Likelihood of `spe` (PCA; 0 for Mahalanobis).
    pub spe_likelihood: f64,
    /// 1 if `likelihood` reached the model's threshold, else 0.
    pub alarm: u32,
}

#[derive(Debug, Clone)]
enum Mv {
    Pca(FittedPca),
    Mahalanobis(FittedMahalanobis),
}

impl Mv {
    fn dim(&self) -> usize {
        match self {
            Mv::Pca(m) => m.dim(),
            Mv::Mahalanobis(m) => m.dim(),
        }
    }

    fn score(&self, x: &[f64]) -> twin::Result<TwinMultivariateScore> {
        Ok(match self {
            Mv::Pca(m) => {
                let s = m.score(x)?;
                let statistic = if s.t2_likelihood >= s.spe_likelihood {
                    s.t2
                } else {
                    s.spe
                };
                TwinMultivariateScore {
                    statistic,
                    likelihood: s.likelihood,
                    t2: s.t2,
                    spe: s.spe,
                    t2_likelihood: s.t2_likelihood,
                    spe_likelihood: s.spe_likelihood,
                    alarm: u32::from(s.alarm),
                }
            }
            Mv::Mahalanobis(m) => {
                let s = m.score(x)?;
                TwinMultivariateScore {
                    statistic: s.distance_sq,
                    likelihood: s.likelihood,
                    t2: s.distance_sq,
                    spe: 0.0,
                    t2_likelihood: s.likelihood,
                    spe_likelihood: 0.0,
                    alarm: u32::from(s.alarm),
                }
            }
        })
    }

    fn to_json(&self) -> twin::Result<String> {
        match self {
            Mv::Pca(m) => m.to_json(),
            Mv::Mahalanobis(m) => m.to_json(),
        }
    }

    fn from_json(json: &str) -> Result<Mv, TwinResult> {
        let format = format_of(json, "multivariate detector")?;
        Ok(match format.as_str() {
            f if f == <FittedPca as Persist>::FORMAT => {
                Mv::Pca(FittedPca::from_json(json).or_fail()?)
            }
            f if f == <FittedMahalanobis as Persist>::FORMAT => {
                Mv::Mahalanobis(FittedMahalanobis::from_json(json).or_fail()?)
            }
            other => return Err(wrong_format(other, "multivariate detector")),
        })
    }
}

/// A multivariate detector fit on healthy data (opaque): PCA (T² and SPE) or Mahalanobis.
/// Made by `twin_multivariate_fit` (it exists only fitted) or loaded; freed with
/// `twin_multivariate_free`.
///
/// A fitted model never changes: it may be read (scored, saved) by several threads at
/// once, but must not be freed while another thread uses it.
pub struct TwinMultivariate {
    inner: Mv,
}

/// Fit a multivariate detector of `kind` (a `TwinMultivariateKind`) on healthy data: `len`
/// doubles, `rows` observations × `cols` variables, row-major. Settings as JSON merged over
/// the defaults (`NULL, 0`: defaults).
///
/// Errors: `len != rows * cols`, too few rows (at least `max(10, cols + 2)`) or invalid
/// settings give `TWIN_RESULT_INVALID_INPUT`; a NaN or infinity in the data
/// `TWIN_RESULT_NON_FINITE`. On failure `*out` is untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `data` must point to `len` readable doubles; `config_json` to `config_len` bytes (or
/// NULL if 0); `out` to a writable `TwinMultivariate *`.
#[no_mangle]
pub unsafe extern "C" fn twin_multivariate_fit(
    kind: u32,
    data: *const f64,
    len: usize,
    rows: usize,
    cols: usize,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut TwinMultivariate,
) -> TwinResult {
    ffi_boundary!("twin_multivariate_fit", {
        let data = arg!(slice data, len);
        let config_json = arg!(str config_json, config_len);
        let out = arg!(out out);
        let inner = match kind {
            k if k == TwinMultivariateKind::Pca as u32 => {
                let cfg = settings::<PcaDetector>(config_json, "PCA")?;
                Mv::Pca(cfg.fit(&matrix(data, rows, cols, "data")?).or_fail()?)
            }
            k if k == TwinMultivariateKind::Mahalanobis as u32 => {
                let cfg = settings::<MahalanobisDetector>(config_json, "Mahalanobis")?;
                Mv::Mahalanobis(cfg.fit(&matrix(data, rows, cols, "data")?).or_fail()?)
            }
            _ => {
                return Err(fail(
                    TwinResult::InvalidInput,
                    format!("{kind} is not a TwinMultivariateKind"),
                ))
            }
        };
        put_handle(TwinMultivariate { inner }, out);
        Ok(())
    })
}

/// Free a multivariate detector. `twin_multivariate_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the model during or after this call.
///
/// # Safety
/// `model` must be NULL or a model from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_multivariate_free(model: *mut TwinMultivariate) {
    let _ = ffi_boundary!("twin_multivariate_free", {
        // SAFETY: forwarded from the caller.
        unsafe { super::drop_handle(model) };
        Ok(())
    });
}

/// The kind and the number of variables of a fitted model, into `*out_kind` and
/// `*out_cols`.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; the outputs must be writable.
#[no_mangle]
pub unsafe extern "C" fn twin_multivariate_info(
    model: *const TwinMultivariate,
    out_kind: *mut TwinMultivariateKind,
    out_cols: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_multivariate_info", {
        let model = arg!(ref model);
        let out_kind = arg!(out out_kind);
        let out_cols = arg!(out out_cols);
        let kind = match model.inner {
            Mv::Pca(_) => TwinMultivariateKind::Pca,
            Mv::Mahalanobis(_) => TwinMultivariateKind::Mahalanobis,
        };
        put(out_kind, kind);
        put(out_cols, model.inner.dim());
        Ok(())
    })
}

/// Score `rows` observations (`len` doubles, row-major, as many columns as the model was
/// fit on); score `i` goes to `out[i]`.
///
/// Errors: `len` not `rows` × the model's columns gives `TWIN_RESULT_INVALID_INPUT`, a
/// NaN or infinity `TWIN_RESULT_NON_FINITE`, `out_cap < rows`
/// `TWIN_RESULT_BUFFER_TOO_SMALL`; on failure nothing is written.
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; `data` must point to `len` readable doubles and `out` to
/// `out_cap` writable `TwinMultivariateScore`s (each may be NULL if its length is 0).
#[no_mangle]
pub unsafe extern "C" fn twin_multivariate_score(
    model: *const TwinMultivariate,
    data: *const f64,
    len: usize,
    rows: usize,
    out: *mut TwinMultivariateScore,
    out_cap: usize,
) -> TwinResult {
    ffi_boundary!("twin_multivariate_score", {
        let model = arg!(ref model);
        let data = arg!(slice data, len);
        let out = arg!(out_slice out, out_cap);
        let cols = model.inner.dim();
        check_matrix(len, rows, cols, "data")?;
        if out_cap < rows {
            return Err(fail(
                TwinResult::BufferTooSmall,
                format!("{rows} scores do not fit a buffer of {out_cap}"),
            ));
        }
        let scores = data
            .chunks_exact(cols)
            .map(|row| model.inner.score(row))
            .collect::<twin::Result<Vec<_>>>()
            .or_fail()?;
        // SAFETY: `scores.len() == rows <= out_cap`; `out` is non-NULL when `out_cap > 0`.
        unsafe { std::ptr::copy_nonoverlapping(scores.as_ptr(), out, scores.len()) };
        Ok(())
    })
}

/// Save the fitted model as JSON into `buf` (size query and rules as
/// `twin_detector_to_json`).
///
/// Thread safety: safe to call concurrently with other read-only calls on the same model.
///
/// # Safety
/// `model` must be a live model; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_multivariate_to_json(
    model: *const TwinMultivariate,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_multivariate_to_json", {
        let model = arg!(ref model);
        json_out(model.inner.to_json(), buf, cap, out_len)
    })
}

/// Load a fitted multivariate model from `len` bytes of JSON (the kind is read from the
/// document). Invalid documents give `TWIN_RESULT_SERIALIZATION`; `*out` is then
/// untouched.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinMultivariate *`.
#[no_mangle]
pub unsafe extern "C" fn twin_multivariate_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinMultivariate,
) -> TwinResult {
    ffi_boundary!("twin_multivariate_from_json", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let inner = Mv::from_json(json)?;
        put_handle(TwinMultivariate { inner }, out);
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
pub unsafe extern "C" fn twin_multivariate_save(
    model: *const TwinMultivariate,
    path: *const c_char,
    path_len: usize,
) -> TwinResult {
    ffi_boundary!("twin_multivariate_save", {
        let model = arg!(ref model);
        let path = arg!(str path, path_len);
        write_file(path, model.inner.to_json())
    })
}

/// Load a fitted multivariate model from a file (`TWIN_RESULT_IO` if it cannot be read,
/// `TWIN_RESULT_SERIALIZATION` if it is not a valid model).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` to a writable
/// `TwinMultivariate *`.
#[no_mangle]
pub unsafe extern "C" fn twin_multivariate_load(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut TwinMultivariate,
) -> TwinResult {
    ffi_boundary!("twin_multivariate_load", {
        let path = arg!(str path, path_len);
        let out = arg!(out out);
        let inner = Mv::from_json(&read_file(path)?)?;
        put_handle(TwinMultivariate { inner }, out);
        Ok(())
    })
}
