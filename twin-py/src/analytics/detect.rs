//! Streaming anomaly and drift detectors: `EwmaDetector`, `RobustZScore`, `Cusum`,
//! `PageHinkley`, `HalfSpaceTrees` and their fusion, `DetectorEnsemble`.
//!
//! Each class is built from keyword arguments that mirror the Rust configuration
//! (nested calibration settings flattened to `calibration_window` and
//! `calibration_min_scores`), scores values one at a time (`update`) or a numpy array at
//! a time with the GIL released (`score_many`, `detect_many`), saves and loads versioned
//! JSON and pickles through it.

use numpy::PyArray1;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use serde::{Deserialize, Serialize};
use twin::analytics::detect::{
    self as det, AnyDetector, CalibratorConfig, CusumConfig, EnsembleConfig, EwmaConfig, Fusion,
    HstConfig, PageHinkleyConfig, Persist, RobustConfig, StreamingDetector,
};

use super::arrays;
use super::params;
use crate::errors::to_py;

/// Values per batch at or above which `score_many` releases the GIL.
const DETACH_MIN: usize = 256;

/// Score a batch with the detector, releasing the GIL for long batches.
fn run_batch<D: StreamingDetector, R: Send>(
    py: Python<'_>,
    d: &mut D,
    xs: &[f64],
    mut f: impl FnMut(det::Detection) -> R + Send,
) -> Vec<R> {
    let mut work = move || xs.iter().map(|&x| f(d.update(x))).collect::<Vec<R>>();
    if xs.len() >= DETACH_MIN {
        py.detach(work)
    } else {
        work()
    }
}

fn detections<'py>(py: Python<'py>, out: Vec<det::Detection>) -> PyResult<Bound<'py, PyTuple>> {
    let n = out.len();
    let mut score = Vec::with_capacity(n);
    let mut like = Vec::with_capacity(n);
    let mut alarm = Vec::with_capacity(n);
    for d in out {
        score.push(d.score);
        like.push(d.likelihood);
        alarm.push(d.alarm);
    }
    PyTuple::new(
        py,
        [
            arrays::out1(py, score).into_any(),
            arrays::out1(py, like).into_any(),
            PyArray1::from_vec(py, alarm).into_any(),
        ],
    )
}

/// Calibration settings flattened into the parameters of a detector.
fn calibration(window: usize, min_scores: usize) -> CalibratorConfig {
    CalibratorConfig { window, min_scores }
}

/// Settings of `EwmaDetector` (see `twin::analytics::detect::EwmaConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EwmaParams {
    alpha: f64,
    clip: f64,
    warmup: u32,
    threshold: f64,
    calibration_window: usize,
    calibration_min_scores: usize,
}

impl From<&EwmaConfig> for EwmaParams {
    fn from(c: &EwmaConfig) -> Self {
        EwmaParams {
            alpha: c.alpha,
            clip: c.clip,
            warmup: c.warmup,
            threshold: c.threshold,
            calibration_window: c.calibration.window,
            calibration_min_scores: c.calibration.min_scores,
        }
    }
}

impl Default for EwmaParams {
    fn default() -> Self {
        (&EwmaConfig::default()).into()
    }
}

impl EwmaParams {
    fn build(&self) -> twin::Result<det::EwmaDetector> {
        det::EwmaDetector::new(EwmaConfig {
            alpha: self.alpha,
            clip: self.clip,
            warmup: self.warmup,
            threshold: self.threshold,
            calibration: calibration(self.calibration_window, self.calibration_min_scores),
        })
    }
}

/// Settings of `RobustZScore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RobustParams {
    window: usize,
    min_samples: usize,
    threshold: f64,
    calibration_window: usize,
    calibration_min_scores: usize,
}

impl From<&RobustConfig> for RobustParams {
    fn from(c: &RobustConfig) -> Self {
        RobustParams {
            window: c.window,
            min_samples: c.min_samples,
            threshold: c.threshold,
            calibration_window: c.calibration.window,
            calibration_min_scores: c.calibration.min_scores,
        }
    }
}

impl Default for RobustParams {
    fn default() -> Self {
        (&RobustConfig::default()).into()
    }
}

impl RobustParams {
    fn build(&self) -> twin::Result<det::RobustZScore> {
        det::RobustZScore::new(RobustConfig {
            window: self.window,
            min_samples: self.min_samples,
            threshold: self.threshold,
            calibration: calibration(self.calibration_window, self.calibration_min_scores),
        })
    }
}

/// Settings of `Cusum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CusumParams {
    k: f64,
    warmup: u32,
    threshold: f64,
}

impl From<&CusumConfig> for CusumParams {
    fn from(c: &CusumConfig) -> Self {
        CusumParams {
            k: c.k,
            warmup: c.warmup,
            threshold: c.threshold,
        }
    }
}

impl Default for CusumParams {
    fn default() -> Self {
        (&CusumConfig::default()).into()
    }
}

impl CusumParams {
    fn build(&self) -> twin::Result<det::Cusum> {
        det::Cusum::new(CusumConfig {
            k: self.k,
            warmup: self.warmup,
            threshold: self.threshold,
        })
    }
}

/// Settings of `PageHinkley`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageHinkleyParams {
    delta: f64,
    warmup: u32,
    threshold: f64,
}

impl From<&PageHinkleyConfig> for PageHinkleyParams {
    fn from(c: &PageHinkleyConfig) -> Self {
        PageHinkleyParams {
            delta: c.delta,
            warmup: c.warmup,
            threshold: c.threshold,
        }
    }
}

impl Default for PageHinkleyParams {
    fn default() -> Self {
        (&PageHinkleyConfig::default()).into()
    }
}

impl PageHinkleyParams {
    fn build(&self) -> twin::Result<det::PageHinkley> {
        det::PageHinkley::new(PageHinkleyConfig {
            delta: self.delta,
            warmup: self.warmup,
            threshold: self.threshold,
        })
    }
}

/// Settings of `HalfSpaceTrees`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HstParams {
    trees: usize,
    height: u32,
    window: usize,
    size_limit: f64,
    detrend: f64,
    seed: u64,
    threshold: f64,
    calibration_window: usize,
    calibration_min_scores: usize,
}

impl From<&HstConfig> for HstParams {
    fn from(c: &HstConfig) -> Self {
        HstParams {
            trees: c.trees,
            height: c.height,
            window: c.window,
            size_limit: c.size_limit,
            detrend: c.detrend,
            seed: c.seed,
            threshold: c.threshold,
            calibration_window: c.calibration.window,
            calibration_min_scores: c.calibration.min_scores,
        }
    }
}

impl Default for HstParams {
    fn default() -> Self {
        (&HstConfig::default()).into()
    }
}

impl HstParams {
    fn build(&self) -> twin::Result<det::HalfSpaceTrees> {
        det::HalfSpaceTrees::new(HstConfig {
            trees: self.trees,
            height: self.height,
            window: self.window,
            size_limit: self.size_limit,
            detrend: self.detrend,
            seed: self.seed,
            threshold: self.threshold,
            calibration: calibration(self.calibration_window, self.calibration_min_scores),
        })
    }
}

/// A univariate detector class: its Rust detector type and settings.
pub(crate) trait Univariate: Sized {
    /// The member of a `DetectorEnsemble` this detector becomes (state reset).
    fn member(&self) -> AnyDetector;
}

macro_rules! streaming_detector {
    (
        $py:ident, $pyname:literal, $rust:ty, $params:ty, $sig:tt, $doc:literal
    ) => {
        #[doc = $doc]
        #[pyclass(dict, name = $pyname, module = "twin")]
        pub struct $py {
            pub(crate) inner: $rust,
            params: $params,
            objects: Py<PyDict>,
        }

        impl $py {
            pub(crate) fn from_inner(py: Python<'_>, inner: $rust) -> PyResult<Self> {
                let params = <$params>::from(inner.config());
                let objects = params::dict_of(py, &params)?.unbind();
                Ok($py {
                    inner,
                    params,
                    objects,
                })
            }
        }

        impl Univariate for $py {
            fn member(&self) -> AnyDetector {
                let mut d = self.inner.clone();
                d.reset();
                d.into()
            }
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (**params), text_signature = $sig)]
            fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
                let (p, objects) = params::apply(py, $pyname, &<$params>::default(), None, params)?;
                let inner = p.build().map_err(to_py)?;
                Ok($py {
                    inner,
                    params: p,
                    objects: objects.unbind(),
                })
            }

            /// Score one value, then learn from it; returns the anomaly likelihood in
            /// [0, 1] (0 during warm-up; a NaN or infinite value, or one beyond 1e100 in
            /// magnitude, is skipped and scores 0).
            fn update(&mut self, x: f64) -> f64 {
                self.inner.update(x).likelihood
            }

            /// Score every value of a 1-D array in order (learning from each), with the GIL
            /// released; returns the likelihoods as a float64 array.
            fn score_many<'py>(
                &mut self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let ro = arrays::vector("x", x)?;
                let xs = arrays::slice("x", &ro)?;
                let out = run_batch(py, &mut self.inner, xs, |d| d.likelihood);
                Ok(arrays::out1(py, out))
            }

            /// Like :meth:`score_many`, returning ``(score, likelihood, alarm)``: the raw
            /// scores, the likelihoods and the boolean alarms.
            fn detect_many<'py>(
                &mut self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyTuple>> {
                let ro = arrays::vector("x", x)?;
                let xs = arrays::slice("x", &ro)?;
                let out = run_batch(py, &mut self.inner, xs, |d| d);
                detections(py, out)
            }

            /// Forget everything learned; keep the settings.
            fn reset(&mut self) {
                self.inner.reset();
            }

            /// Whether the warm-up is over (likelihoods are 0 until it is).
            #[getter]
            fn is_warm(&self) -> bool {
                self.inner.is_warm()
            }

            /// The likelihood at or above which a value is an alarm.
            #[getter]
            fn threshold(&self) -> f64 {
                self.inner.config().threshold
            }

            /// The constructor's keyword arguments (scikit-learn convention).
            #[pyo3(signature = (deep=true))]
            fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyDict>> {
                let _ = deep;
                self.objects.bind(py).copy()
            }

            /// Change settings by keyword; the detector restarts with them (its learned
            /// state is reset). Returns ``self``.
            #[pyo3(signature = (**params))]
            fn set_params<'py>(
                mut slf: PyRefMut<'py, Self>,
                params: Option<&Bound<'py, PyDict>>,
            ) -> PyResult<PyRefMut<'py, Self>> {
                let py = slf.py();
                let prev = slf.objects.bind(py).clone();
                let (p, objects) = params::apply(py, $pyname, &slf.params, Some(&prev), params)?;
                slf.inner = p.build().map_err(to_py)?;
                slf.params = p;
                slf.objects = objects.unbind();
                Ok(slf)
            }

            /// The detector, with everything it has learned, as versioned JSON.
            fn to_json(&self) -> PyResult<String> {
                self.inner.to_json().map_err(to_py)
            }

            /// Load a detector saved by :meth:`to_json` (``SerializationError`` if the text
            /// is not one, holds another detector or another format version).
            #[classmethod]
            fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<Self> {
                let inner = <$rust>::from_json(json).map_err(to_py)?;
                Self::from_inner(py, inner)
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
                let f = py.get_type::<$py>().getattr("from_json")?;
                Ok((f, PyTuple::new(py, [self.to_json()?])?))
            }

            fn __repr__(&self) -> String {
                format!(
                    "{}({}) <{}>",
                    $pyname,
                    params::repr_args(&self.params),
                    if self.inner.is_warm() {
                        "warm"
                    } else {
                        "warming up"
                    }
                )
            }
        }
    };
}

streaming_detector!(
    PyEwmaDetector,
    "EwmaDetector",
    det::EwmaDetector,
    EwmaParams,
    "(*, alpha=0.05, clip=4.0, warmup=30, threshold=0.999, calibration_window=2048, calibration_min_scores=128)",
    "Exponentially weighted z-score detector of one stream.\n\n\
     The score is ``|x - mean| / sd`` against an exponentially weighted mean and variance\n\
     (weight ``alpha``; values beyond ``clip`` sd update them winsorized); a tail fit of the\n\
     stream's own recent scores turns it into a likelihood in [0, 1], so no threshold needs\n\
     tuning per stream.\n\n\
     >>> import numpy as np, twin\n\
     >>> x = 20.0 + 0.1 * (np.arange(600) % 5)\n\
     >>> x[550] = 25.0\n\
     >>> d = twin.EwmaDetector()\n\
     >>> L = d.score_many(x)\n\
     >>> [int(i) for i in np.flatnonzero(L >= d.threshold)]\n\
     [550]"
);

streaming_detector!(
    PyRobustZScore,
    "RobustZScore",
    det::RobustZScore,
    RobustParams,
    "(*, window=64, min_samples=16, threshold=0.999, calibration_window=2048, calibration_min_scores=128)",
    "Robust z-score detector: distance from the median of the last ``window`` values in\n\
     units of their median absolute deviation; resists bursts of outliers.\n\n\
     >>> import numpy as np, twin\n\
     >>> x = 10.0 + (np.arange(2000) * 7919 % 101) / 100.0 - 0.5\n\
     >>> x[1500] = 25.0\n\
     >>> d = twin.RobustZScore()\n\
     >>> _, L, alarm = d.detect_many(x)\n\
     >>> [int(i) for i in np.flatnonzero(alarm)]\n\
     [1500]"
);

streaming_detector!(
    PyCusum,
    "Cusum",
    det::Cusum,
    CusumParams,
    "(*, k=0.5, warmup=128, threshold=0.99999)",
    "Two-sided CUSUM drift detector: finds lasting shifts of the mean of a stationary\n\
     signal. ``k`` is the allowance in standard deviations (half the smallest shift worth\n\
     finding quickly); the decision interval follows from ``threshold``. After a detected\n\
     change it re-learns the new level for ``warmup`` values.\n\n\
     >>> import numpy as np, twin\n\
     >>> rng = np.random.default_rng(1)\n\
     >>> x = 5.0 + 0.3 * rng.standard_normal(600)\n\
     >>> x[400:] += 0.6\n\
     >>> _, _, alarm = twin.Cusum().detect_many(x)\n\
     >>> 400 <= int(np.flatnonzero(alarm)[0]) < 420\n\
     True"
);

streaming_detector!(
    PyPageHinkley,
    "PageHinkley",
    det::PageHinkley,
    PageHinkleyParams,
    "(*, delta=0.5, warmup=128, threshold=0.99999)",
    "Two-sided Page-Hinkley drift detector: cumulative deviations from the running mean,\n\
     tolerating changes of ``delta`` standard deviations.\n\n\
     >>> import numpy as np, twin\n\
     >>> rng = np.random.default_rng(1)\n\
     >>> x = 5.0 + 0.3 * rng.standard_normal(600)\n\
     >>> x[400:] += 0.6\n\
     >>> _, _, alarm = twin.PageHinkley().detect_many(x)\n\
     >>> 400 <= int(np.flatnonzero(alarm)[0]) < 420\n\
     True"
);

streaming_detector!(
    PyHalfSpaceTrees,
    "HalfSpaceTrees",
    det::HalfSpaceTrees,
    HstParams,
    "(*, trees=10, height=8, window=250, size_limit=0.1, detrend=0.05, seed=42, threshold=0.995, calibration_window=4096, calibration_min_scores=128)",
    "Streaming Half-Space Trees (Tan, Ting and Liu 2011) on one stream: the mass of the\n\
     value's region in random half-space trees, against the previous window's profile.\n\
     ``detrend`` feeds the trees deviations from a moving level. Seeded: the same ``seed``\n\
     gives the same trees.\n\n\
     >>> import numpy as np, twin\n\
     >>> rng = np.random.default_rng(3)\n\
     >>> x = rng.normal(0.0, 1.0, 5000)\n\
     >>> x[4000] = 12.0\n\
     >>> L = twin.HalfSpaceTrees().score_many(x)\n\
     >>> bool(L[4000] >= 0.995)\n\
     True"
);

/// One member of an ensemble given from Python: a name or a detector object.
fn member(obj: &Bound<'_, PyAny>, i: usize) -> PyResult<AnyDetector> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(match s.to_cow()?.as_ref() {
            "ewma" => det::EwmaDetector::default().into(),
            "robust_z" => det::RobustZScore::default().into(),
            "cusum" => det::Cusum::default().into(),
            "page_hinkley" => det::PageHinkley::default().into(),
            "hst" => det::HalfSpaceTrees::default().into(),
            other => {
                return Err(crate::errors::invalid_input(format!(
                    "members[{i}]: unknown detector {other:?}; expected ewma, robust_z, cusum, page_hinkley or hst"
                )))
            }
        });
    }
    macro_rules! try_class {
        ($($c:ty),*) => {$(
            if let Ok(d) = obj.cast::<$c>() {
                return Ok(d.borrow().member());
            }
        )*};
    }
    try_class!(
        PyEwmaDetector,
        PyRobustZScore,
        PyCusum,
        PyPageHinkley,
        PyHalfSpaceTrees
    );
    Err(PyTypeError::new_err(format!(
        "members[{i}] must be a detector name or a univariate detector object, got {}",
        obj.get_type().name()?
    )))
}

/// A Python object (a detector class instance) for an ensemble member, for `get_params`
/// of a loaded ensemble.
fn member_object<'py>(py: Python<'py>, m: &AnyDetector) -> PyResult<Bound<'py, PyAny>> {
    let mut m = m.clone();
    m.reset();
    Ok(match m {
        AnyDetector::Ewma(d) => Bound::new(py, PyEwmaDetector::from_inner(py, d)?)?.into_any(),
        AnyDetector::RobustZ(d) => Bound::new(py, PyRobustZScore::from_inner(py, d)?)?.into_any(),
        AnyDetector::Cusum(d) => Bound::new(py, PyCusum::from_inner(py, d)?)?.into_any(),
        AnyDetector::PageHinkley(d) => {
            Bound::new(py, PyPageHinkley::from_inner(py, d)?)?.into_any()
        }
        AnyDetector::Hst(d) => Bound::new(py, PyHalfSpaceTrees::from_inner(py, *d)?)?.into_any(),
    })
}

/// Keyword arguments of an ensemble: `members`, and the others.
type Split<'py> = (Option<Bound<'py, PyAny>>, Option<Bound<'py, PyDict>>);

/// Settings of `DetectorEnsemble` besides its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FusionParams {
    fusion: Fusion,
    threshold: f64,
}

impl Default for FusionParams {
    fn default() -> Self {
        let c = EnsembleConfig::default();
        FusionParams {
            fusion: c.fusion,
            threshold: c.threshold,
        }
    }
}

/// Several univariate detectors on one stream, their likelihoods fused into one.
///
/// ``members`` are detector names (``"ewma"``, ``"robust_z"``, ``"cusum"``,
/// ``"page_hinkley"``, ``"hst"``, each with default settings) or detector objects (their
/// settings are used, their learned state is not). ``fusion`` is ``"max"`` (any member can
/// alarm), ``"mean"``, ``"noisy_or"`` or ``"bonferroni"`` (the largest likelihood corrected
/// for the number of members).
///
/// >>> import numpy as np, twin
/// >>> i = np.arange(3000)
/// >>> x = 5.0 + np.sin(i * 0.05) + (i * 31 % 17) * 0.01
/// >>> x[2500] += 4.0
/// >>> e = twin.DetectorEnsemble()
/// >>> L = e.score_many(x)
/// >>> [int(j) for j in np.flatnonzero(L >= e.threshold)]
/// [2500]
#[pyclass(dict, name = "DetectorEnsemble", module = "twin")]
pub struct PyDetectorEnsemble {
    inner: det::Ensemble,
    params: FusionParams,
    objects: Py<PyDict>,
}

impl PyDetectorEnsemble {
    fn build(
        py: Python<'_>,
        params: &FusionParams,
        members: &Bound<'_, PyAny>,
    ) -> PyResult<det::Ensemble> {
        let mut ms = Vec::new();
        if members.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "members must be a sequence of detector names or objects, not a str",
            ));
        }
        for (i, m) in members.try_iter()?.enumerate() {
            ms.push(member(&m?, i)?);
        }
        let _ = py;
        det::Ensemble::new(
            ms,
            EnsembleConfig {
                fusion: params.fusion,
                threshold: params.threshold,
            },
        )
        .map_err(to_py)
    }

    fn default_members(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
        PyTuple::new(py, ["ewma", "robust_z", "hst"])
    }

    fn from_inner(py: Python<'_>, inner: det::Ensemble) -> PyResult<Self> {
        let params = FusionParams {
            fusion: inner.config().fusion,
            threshold: inner.config().threshold,
        };
        let d = params::dict_of(py, &params)?;
        let members = inner
            .members()
            .iter()
            .map(|m| member_object(py, m))
            .collect::<PyResult<Vec<_>>>()?;
        let out = PyDict::new(py);
        out.set_item("members", PyTuple::new(py, members)?)?;
        for (k, v) in d.iter() {
            out.set_item(k, v)?;
        }
        Ok(PyDetectorEnsemble {
            inner,
            params,
            objects: out.unbind(),
        })
    }

    /// Split keyword arguments into `members` and the rest.
    fn split<'py>(py: Python<'py>, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<Split<'py>> {
        let Some(kw) = kwargs else {
            return Ok((None, None));
        };
        let rest = kw.copy()?;
        let members = rest.get_item("members")?;
        if members.is_some() {
            rest.del_item("members")?;
        }
        let _ = py;
        Ok((members, Some(rest)))
    }
}

#[pymethods]
impl PyDetectorEnsemble {
    #[new]
    #[pyo3(
        signature = (**params),
        text_signature = "(*, members=('ewma', 'robust_z', 'hst'), fusion='max', threshold=0.999)"
    )]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let (members, rest) = Self::split(py, params)?;
        let (p, objects) = params::apply(
            py,
            "DetectorEnsemble",
            &FusionParams::default(),
            None,
            rest.as_ref(),
        )?;
        let members = match members {
            Some(m) => m,
            None => Self::default_members(py)?.into_any(),
        };
        let inner = Self::build(py, &p, &members)?;
        let out = PyDict::new(py);
        out.set_item("members", members)?;
        for (k, v) in objects.iter() {
            out.set_item(k, v)?;
        }
        Ok(PyDetectorEnsemble {
            inner,
            params: p,
            objects: out.unbind(),
        })
    }

    /// Score one value with every member, then learn from it; returns the fused
    /// likelihood in [0, 1].
    fn update(&mut self, x: f64) -> f64 {
        self.inner.update(x).likelihood
    }

    /// Fused likelihoods of every value of a 1-D array, in order, with the GIL released.
    fn score_many<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let ro = arrays::vector("x", x)?;
        let xs = arrays::slice("x", &ro)?;
        let out = run_batch(py, &mut self.inner, xs, |d| d.likelihood);
        Ok(arrays::out1(py, out))
    }

    /// Like :meth:`score_many`, returning ``(score, likelihood, alarm)``.
    fn detect_many<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let ro = arrays::vector("x", x)?;
        let xs = arrays::slice("x", &ro)?;
        let out = run_batch(py, &mut self.inner, xs, |d| d);
        detections(py, out)
    }

    /// Each member's likelihood of the last value, in member order.
    fn member_likelihoods(&self) -> Vec<f64> {
        self.inner.last().iter().map(|d| d.likelihood).collect()
    }

    /// The members' names, in order.
    #[getter]
    fn member_names(&self) -> Vec<&'static str> {
        self.inner.members().iter().map(|m| m.name()).collect()
    }

    /// Forget everything learned; keep the settings.
    fn reset(&mut self) {
        self.inner.reset();
    }

    /// Whether every member's warm-up is over.
    #[getter]
    fn is_warm(&self) -> bool {
        self.inner.is_warm()
    }

    /// The fused likelihood at or above which a value is an alarm.
    #[getter]
    fn threshold(&self) -> f64 {
        self.inner.config().threshold
    }

    /// The constructor's keyword arguments (scikit-learn convention).
    #[pyo3(signature = (deep=true))]
    fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyDict>> {
        let _ = deep;
        self.objects.bind(py).copy()
    }

    /// Change settings by keyword; the ensemble restarts with them. Returns ``self``.
    #[pyo3(signature = (**params))]
    fn set_params<'py>(
        mut slf: PyRefMut<'py, Self>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let py = slf.py();
        let (members, rest) = Self::split(py, params)?;
        let prev = slf.objects.bind(py).clone();
        let (p, objects) = params::apply(
            py,
            "DetectorEnsemble",
            &slf.params,
            Some(&prev),
            rest.as_ref(),
        )?;
        let members = match members {
            Some(m) => m,
            None => prev
                .get_item("members")?
                .map_or_else(|| Self::default_members(py).map(|t| t.into_any()), Ok)?,
        };
        slf.inner = Self::build(py, &p, &members)?;
        let out = PyDict::new(py);
        out.set_item("members", members)?;
        for (k, v) in objects.iter() {
            out.set_item(k, v)?;
        }
        slf.params = p;
        slf.objects = out.unbind();
        Ok(slf)
    }

    /// The ensemble, with everything its members have learned, as versioned JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(to_py)
    }

    /// Load an ensemble saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<Self> {
        let inner = det::Ensemble::from_json(json).map_err(to_py)?;
        Self::from_inner(py, inner)
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyDetectorEnsemble>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "DetectorEnsemble(members={:?}, {})",
            self.member_names(),
            params::repr_args(&self.params)
        )
    }
}
