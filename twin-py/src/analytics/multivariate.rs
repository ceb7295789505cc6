//! Multivariate detectors fit on healthy data: `PcaDetector` (Hotelling's T² and the
//! squared prediction error) and `MahalanobisDetector`.
//!
//! scikit-learn style: `fit(X)` returns the detector, `predict(X)` gives 1 for an anomaly
//! and 0 for a normal row at the calibrated threshold, `decision_function(X)` is
//! `threshold - likelihood` (negative for anomalies, as scikit-learn's outlier detectors),
//! `statistics(X)` the per-row statistics and likelihoods as a dict of arrays.

use ndarray::Array2;
use numpy::{PyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use serde::{Deserialize, Serialize};
use twin::analytics::detect::{
    FittedMahalanobis, FittedPca, MahalanobisDetector, PcaComponents, PcaDetector, Persist,
    Shrinkage,
};

use super::arrays;
use super::model::{maybe_detach, Model};
use crate::errors::{invalid_input, to_py};

/// Rows at or above which scoring releases the GIL.
const DETACH_ROWS: usize = 512;

/// The rows of a 2-D input with its column count checked against the model's.
pub(crate) fn rows<'a>(
    x: &'a PyReadonlyArray2<'_, f64>,
    dim: Option<usize>,
) -> PyResult<(&'a [f64], usize)> {
    let d = x.as_array().ncols();
    if let Some(want) = dim {
        if d != want {
            return Err(invalid_input(format!(
                "X has {d} columns but the model was fit on {want}"
            )));
        }
    }
    if d == 0 {
        return Err(invalid_input("X has no columns"));
    }
    let s = x
        .as_slice()
        .map_err(|e| invalid_input(format!("X is not contiguous: {e}")))?;
    if let Some(i) = s.iter().position(|v| !v.is_finite()) {
        return Err(to_py(twin::Error::NonFinite(format!(
            "X at row {}, column {} ({})",
            i / d,
            i % d,
            s[i]
        ))));
    }
    Ok((s, d))
}

/// Apply `f` to every row, with the GIL released for many rows.
pub(crate) fn per_row<S: Send>(
    py: Python<'_>,
    data: &[f64],
    d: usize,
    f: impl Fn(&[f64]) -> twin::Result<S> + Send + Sync,
) -> PyResult<Vec<S>> {
    let n = data.len() / d;
    maybe_detach(py, n >= DETACH_ROWS, || {
        data.chunks_exact(d)
            .map(&f)
            .collect::<twin::Result<Vec<S>>>()
    })
    .map_err(to_py)
}

/// A 2-D input as an owned matrix, for the Rust fits that take one.
pub(crate) fn owned(x: &PyReadonlyArray2<'_, f64>) -> Array2<f64> {
    x.as_array().to_owned()
}

/// How many principal components: an int, or a float in (0, 1] (the explained fraction).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum NComponents {
    Fixed(usize),
    Variance(f64),
}

/// Settings of `PcaDetector`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PcaParams {
    n_components: NComponents,
    threshold: f64,
}

impl From<&PcaDetector> for PcaParams {
    fn from(c: &PcaDetector) -> Self {
        PcaParams {
            n_components: match c.components {
                PcaComponents::Fixed(k) => NComponents::Fixed(k),
                PcaComponents::Variance(f) => NComponents::Variance(f),
            },
            threshold: c.threshold,
        }
    }
}

impl Default for PcaParams {
    fn default() -> Self {
        (&PcaDetector::default()).into()
    }
}

impl PcaParams {
    fn config(&self) -> PcaDetector {
        PcaDetector {
            components: match self.n_components {
                NComponents::Fixed(k) => PcaComponents::Fixed(k),
                NComponents::Variance(f) => PcaComponents::Variance(f),
            },
            threshold: self.threshold,
        }
    }
}

/// Covariance shrinkage: ``"ledoit_wolf"`` or a fixed intensity in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum ShrinkageParam {
    Named(String),
    Fixed(f64),
}

/// Settings of `MahalanobisDetector`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MahalanobisParams {
    shrinkage: ShrinkageParam,
    threshold: f64,
}

impl From<&MahalanobisDetector> for MahalanobisParams {
    fn from(c: &MahalanobisDetector) -> Self {
        MahalanobisParams {
            shrinkage: match c.shrinkage {
                Shrinkage::LedoitWolf => ShrinkageParam::Named("ledoit_wolf".into()),
                Shrinkage::Fixed(s) => ShrinkageParam::Fixed(s),
            },
            threshold: c.threshold,
        }
    }
}

impl Default for MahalanobisParams {
    fn default() -> Self {
        (&MahalanobisDetector::default()).into()
    }
}

impl MahalanobisParams {
    fn config(&self) -> twin::Result<MahalanobisDetector> {
        let shrinkage = match &self.shrinkage {
            ShrinkageParam::Named(n) if n == "ledoit_wolf" => Shrinkage::LedoitWolf,
            ShrinkageParam::Named(n) => {
                return Err(twin::Error::InvalidInput(format!(
                    "shrinkage must be \"ledoit_wolf\" or a number in [0, 1], got {n:?}"
                )))
            }
            ShrinkageParam::Fixed(s) => Shrinkage::Fixed(*s),
        };
        Ok(MahalanobisDetector {
            shrinkage,
            threshold: self.threshold,
        })
    }
}

/// Likelihood and alarm of one row, whatever the detector.
trait RowScore {
    fn likelihood(&self) -> f64;
    fn alarm(&self) -> bool;
}

impl RowScore for twin::analytics::detect::PcaScore {
    fn likelihood(&self) -> f64 {
        self.likelihood
    }
    fn alarm(&self) -> bool {
        self.alarm
    }
}

impl RowScore for twin::analytics::detect::MahalanobisScore {
    fn likelihood(&self) -> f64 {
        self.likelihood
    }
    fn alarm(&self) -> bool {
        self.alarm
    }
}

macro_rules! fit_predict_detector {
    ($py:ident, $pyname:literal, $params:ty, $fitted:ty, $config:expr, $threshold:expr, { $($extra:tt)* }) => {
        impl $py {
            fn scores<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
            ) -> PyResult<Vec<<$fitted as ScoreOf>::Score>> {
                let m = self.model.fitted()?;
                let ro = arrays::matrix("X", x)?;
                let (data, d) = rows(&ro, Some(m.dim()))?;
                per_row(py, data, d, |r| m.score(r))
            }
        }

        #[pymethods]
        impl $py {
            /// Learn the healthy state from ``X`` (rows are observations, columns
            /// variables), with the GIL released; ``y`` is ignored. Returns ``self``.
            #[pyo3(signature = (x, y=None))]
            fn fit<'py>(
                mut slf: PyRefMut<'py, Self>,
                x: &Bound<'py, PyAny>,
                y: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<PyRefMut<'py, Self>> {
                let _ = y;
                let py = slf.py();
                let ro = arrays::matrix("X", x)?;
                rows(&ro, None)?;
                let data = owned(&ro);
                let config = ($config)(&slf.model.params).map_err(to_py)?;
                let fitted = py.detach(move || config.fit(&data)).map_err(to_py)?;
                slf.model.fitted = Some(fitted);
                Ok(slf)
            }

            /// 1 where a row is an anomaly (its likelihood reached ``threshold``), else 0.
            fn predict<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray1<i64>>> {
                let s = self.scores(py, x)?;
                Ok(PyArray1::from_vec(py, s.iter().map(|r| i64::from(r.alarm())).collect()))
            }

            /// ``threshold - likelihood`` per row: negative for anomalies.
            fn decision_function<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let t = ($threshold)(self.model.fitted()?);
                let s = self.scores(py, x)?;
                Ok(arrays::out1(py, s.iter().map(|r| t - r.likelihood()).collect()))
            }

            /// The anomaly likelihood of every row, in [0, 1].
            fn likelihood<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let s = self.scores(py, x)?;
                Ok(arrays::out1(py, s.iter().map(|r| r.likelihood()).collect()))
            }

            /// A single number for model selection (``cross_val_score``): with ``y`` (1 for
            /// anomalies, 0 for normal rows) the accuracy of :meth:`predict`; without, the
            /// share of rows predicted normal (on healthy data, one minus the false-alarm
            /// rate).
            #[pyo3(signature = (x, y=None))]
            fn score<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
                y: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<f64> {
                let s = self.scores(py, x)?;
                if s.is_empty() {
                    return Err(invalid_input("X has no rows to score"));
                }
                let n = s.len() as f64;
                match y {
                    None => Ok(s.iter().filter(|r| !r.alarm()).count() as f64 / n),
                    Some(y) => {
                        let labels = arrays::flags("y", y)?;
                        if labels.len() != s.len() {
                            return Err(invalid_input(format!(
                                "y has {} labels for {} rows",
                                labels.len(),
                                s.len()
                            )));
                        }
                        let right = s.iter().zip(&labels).filter(|(r, &l)| r.alarm() == l).count();
                        Ok(right as f64 / n)
                    }
                }
            }

            /// Number of columns seen in ``fit``.
            #[getter]
            fn n_features_in_(&self) -> PyResult<usize> {
                Ok(self.model.fitted()?.dim())
            }

            /// The constructor's keyword arguments (scikit-learn convention).
            #[pyo3(signature = (deep=true))]
            fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyDict>> {
                let _ = deep;
                self.model.get_params(py)
            }

            /// Change settings by keyword (used by the next ``fit``). Returns ``self``.
            #[pyo3(signature = (**params))]
            fn set_params<'py>(
                mut slf: PyRefMut<'py, Self>,
                params: Option<&Bound<'py, PyDict>>,
            ) -> PyResult<PyRefMut<'py, Self>> {
                let py = slf.py();
                slf.model.set_params(py, params)?;
                Ok(slf)
            }

            /// The fitted model as versioned JSON.
            fn to_json(&self) -> PyResult<String> {
                self.model.fitted()?.to_json().map_err(to_py)
            }

            /// Load a fitted model saved by :meth:`to_json`.
            #[classmethod]
            fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<Self> {
                let fitted = <$fitted>::from_json(json).map_err(to_py)?;
                let params = <$params>::from(fitted.config());
                Ok($py { model: Model::with(py, $pyname, params, Some(fitted))? })
            }

            #[classmethod]
            #[pyo3(signature = (params, fitted=None))]
            fn _restore(
                _cls: &Bound<'_, PyType>,
                py: Python<'_>,
                params: &str,
                fitted: Option<&str>,
            ) -> PyResult<Self> {
                let p = Model::<$params, $fitted>::params_from_json($pyname, params)?;
                let f = fitted.map(<$fitted>::from_json).transpose().map_err(to_py)?;
                Ok($py { model: Model::with(py, $pyname, p, f)? })
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
                let f = py.get_type::<$py>().getattr("_restore")?;
                let fitted = self.model.fitted.as_ref().map(|m| m.to_json()).transpose().map_err(to_py)?;
                let args = PyTuple::new(
                    py,
                    [
                        self.model.params_json()?.into_pyobject(py)?.into_any(),
                        fitted.into_pyobject(py)?.into_any(),
                    ],
                )?;
                Ok((f, args))
            }

            fn __repr__(&self) -> String {
                self.model.repr()
            }

            fn __sklearn_tags__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                super::model::sklearn_tags(py, Some("outlier_detector"), false)
            }

            /// Whether ``fit`` has run (scikit-learn's ``check_is_fitted`` asks this).
            fn __sklearn_is_fitted__(&self) -> bool {
                self.model.fitted().is_ok()
            }

            $($extra)*
        }
    };
}

/// The score type of a fitted multivariate model.
trait ScoreOf {
    type Score: RowScore + Send;
}

impl ScoreOf for FittedPca {
    type Score = twin::analytics::detect::PcaScore;
}

impl ScoreOf for FittedMahalanobis {
    type Score = twin::analytics::detect::MahalanobisScore;
}

/// Principal-component detector fit on healthy data: Hotelling's T² inside the principal
/// subspace and the squared prediction error (SPE) outside it, each turned into a
/// likelihood by its law under the healthy data, combined with a Bonferroni correction.
///
/// ``n_components`` is an int (exactly that many) or a float in (0, 1] (the fewest
/// components explaining that share of the standardized variance).
///
/// >>> import numpy as np, twin
/// >>> rng = np.random.default_rng(0)
/// >>> f = rng.standard_normal((2000, 1))
/// >>> X = f @ [[1.0, 2.0, -1.0]] + 0.01 * rng.standard_normal((2000, 3))
/// >>> pca = twin.PcaDetector().fit(X)
/// >>> pca.n_components_
/// 1
/// >>> pca.predict([[0.5, 1.0, -0.5], [0.5, -1.0, -0.5]]).tolist()
/// [0, 1]
#[pyclass(dict, name = "PcaDetector", module = "twin")]
pub struct PyPcaDetector {
    model: Model<PcaParams, FittedPca>,
}

fn pca_config(p: &PcaParams) -> twin::Result<PcaDetector> {
    let c = p.config();
    c.validate()?;
    Ok(c)
}

fit_predict_detector!(
    PyPcaDetector,
    "PcaDetector",
    PcaParams,
    FittedPca,
    pca_config,
    |m: &FittedPca| m.config().threshold,
    {
        #[new]
        #[pyo3(signature = (**params), text_signature = "(*, n_components=0.9, threshold=0.999)")]
        fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let model = Model::new(py, "PcaDetector", params)?;
            pca_config(&model.params).map_err(to_py)?;
            Ok(PyPcaDetector { model })
        }

        /// Per-row statistics as a dict of float64 arrays: ``t2``, ``spe``,
        /// ``t2_likelihood``, ``spe_likelihood``, ``likelihood`` (and the boolean ``alarm``).
        fn statistics<'py>(
            &self,
            py: Python<'py>,
            x: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyDict>> {
            let s = self.scores(py, x)?;
            let d = PyDict::new(py);
            let col = |f: fn(&twin::analytics::detect::PcaScore) -> f64| {
                arrays::out1(py, s.iter().map(f).collect())
            };
            d.set_item("t2", col(|r| r.t2))?;
            d.set_item("spe", col(|r| r.spe))?;
            d.set_item("t2_likelihood", col(|r| r.t2_likelihood))?;
            d.set_item("spe_likelihood", col(|r| r.spe_likelihood))?;
            d.set_item("likelihood", col(|r| r.likelihood))?;
            d.set_item(
                "alarm",
                PyArray1::from_vec(py, s.iter().map(|r| r.alarm).collect()),
            )?;
            Ok(d)
        }

        /// Number of principal components kept.
        #[getter]
        fn n_components_(&self) -> PyResult<usize> {
            Ok(self.model.fitted()?.n_components())
        }

        /// Share of the standardized variance each kept component explains.
        #[getter]
        fn explained_variance_ratio_<'py>(
            &self,
            py: Python<'py>,
        ) -> PyResult<Bound<'py, PyArray1<f64>>> {
            Ok(arrays::out1(
                py,
                self.model.fitted()?.explained_variance_ratio(),
            ))
        }

        /// Each variable's share of the SPE of one observation (which variable broke the
        /// correlation).
        fn spe_contributions<'py>(
            &self,
            py: Python<'py>,
            x: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyArray1<f64>>> {
            let ro = arrays::vector("x", x)?;
            let c = self
                .model
                .fitted()?
                .spe_contributions(arrays::slice("x", &ro)?)
                .map_err(to_py)?;
            Ok(arrays::out1(py, c))
        }
    }
);

/// Mahalanobis-distance detector fit on healthy data, with the covariance shrunk towards
/// a multiple of the identity (``shrinkage="ledoit_wolf"`` estimates the intensity, a
/// number fixes it). The likelihood follows Hotelling's law for a new observation.
///
/// >>> import numpy as np, twin
/// >>> rng = np.random.default_rng(1)
/// >>> X = rng.multivariate_normal([0, 0], [[1.0, 0.9], [0.9, 1.0]], 5000)
/// >>> m = twin.MahalanobisDetector().fit(X)
/// >>> m.predict([[1.0, 1.0], [1.5, -1.5]]).tolist()
/// [0, 1]
#[pyclass(dict, name = "MahalanobisDetector", module = "twin")]
pub struct PyMahalanobisDetector {
    model: Model<MahalanobisParams, FittedMahalanobis>,
}

fn mahalanobis_config(p: &MahalanobisParams) -> twin::Result<MahalanobisDetector> {
    let c = p.config()?;
    c.validate()?;
    Ok(c)
}

fit_predict_detector!(
    PyMahalanobisDetector,
    "MahalanobisDetector",
    MahalanobisParams,
    FittedMahalanobis,
    mahalanobis_config,
    |m: &FittedMahalanobis| m.config().threshold,
    {
        #[new]
        #[pyo3(
        signature = (**params),
        text_signature = "(*, shrinkage='ledoit_wolf', threshold=0.999)"
    )]
        fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let model = Model::new(py, "MahalanobisDetector", params)?;
            mahalanobis_config(&model.params).map_err(to_py)?;
            Ok(PyMahalanobisDetector { model })
        }

        /// Per-row statistics as a dict: ``distance_sq`` (squared Mahalanobis distance),
        /// ``likelihood`` and the boolean ``alarm``.
        fn statistics<'py>(
            &self,
            py: Python<'py>,
            x: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyDict>> {
            let s = self.scores(py, x)?;
            let d = PyDict::new(py);
            d.set_item(
                "distance_sq",
                arrays::out1(py, s.iter().map(|r| r.distance_sq).collect()),
            )?;
            d.set_item(
                "likelihood",
                arrays::out1(py, s.iter().map(|r| r.likelihood).collect()),
            )?;
            d.set_item(
                "alarm",
                PyArray1::from_vec(py, s.iter().map(|r| r.alarm).collect()),
            )?;
            Ok(d)
        }

        /// The shrinkage intensity used in the fit, in [0, 1].
        #[getter]
        fn shrinkage_(&self) -> PyResult<f64> {
            Ok(self.model.fitted()?.shrinkage())
        }
    }
);
