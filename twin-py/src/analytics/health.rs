//! `HealthIndex`: several condition features fused into one health value, 1 (like new)
//! to 0 (failed).

use ndarray::Array2;
use numpy::prelude::*;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use serde::{Deserialize, Serialize};
use twin::analytics::detect::Persist;
use twin::analytics::health::{FittedHealthIndex, HealthIndex, HealthMethod};

use super::arrays;
use super::model::{sklearn_tags, Model};
use super::multivariate::{owned, per_row, rows};
use crate::errors::{invalid_input, to_py};

/// Settings of `HealthIndex`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthParams {
    method: String,
    ridge: f64,
    healthy_fraction: f64,
    failed_fraction: f64,
}

impl From<&HealthIndex> for HealthParams {
    fn from(c: &HealthIndex) -> Self {
        let (method, ridge) = match c.method {
            HealthMethod::Regression { ridge } => ("regression", ridge),
            HealthMethod::Pca => ("pca", 1.0),
        };
        HealthParams {
            method: method.into(),
            ridge,
            healthy_fraction: c.healthy_fraction,
            failed_fraction: c.failed_fraction,
        }
    }
}

impl Default for HealthParams {
    fn default() -> Self {
        (&HealthIndex::default()).into()
    }
}

impl HealthParams {
    fn config(&self) -> twin::Result<HealthIndex> {
        let method = match self.method.as_str() {
            "regression" => HealthMethod::Regression { ridge: self.ridge },
            "pca" => HealthMethod::Pca,
            other => {
                return Err(twin::Error::InvalidInput(format!(
                    "method must be \"regression\" or \"pca\", got {other:?}"
                )))
            }
        };
        let c = HealthIndex {
            method,
            healthy_fraction: self.healthy_fraction,
            failed_fraction: self.failed_fraction,
        };
        c.validate()?;
        Ok(c)
    }
}

/// Runs of a long table split by contiguous group labels.
fn split_runs(x: &Array2<f64>, groups: &[f64]) -> PyResult<Vec<Array2<f64>>> {
    if groups.len() != x.nrows() {
        return Err(invalid_input(format!(
            "groups has {} labels for {} rows of X",
            groups.len(),
            x.nrows()
        )));
    }
    let mut runs = Vec::new();
    let mut seen: Vec<f64> = Vec::new();
    let mut start = 0;
    while start < groups.len() {
        let g = groups[start];
        if !g.is_finite() {
            return Err(invalid_input(format!("groups[{start}] is {g}")));
        }
        let mut end = start + 1;
        while end < groups.len() && groups[end] == g {
            end += 1;
        }
        if seen.contains(&g) {
            return Err(invalid_input(format!(
                "the rows of group {g} are not contiguous (runs must be contiguous and in time order)"
            )));
        }
        seen.push(g);
        runs.push(x.slice(ndarray::s![start..end, ..]).to_owned());
        start = end;
    }
    Ok(runs)
}

/// A health index fused from condition features, normalised from 1 (new) to 0 (failed).
///
/// ``method="regression"`` fits a ridge regression (penalty ``ridge``) of the health target
/// on the standardized features; ``method="pca"`` takes their first principal component.
/// Either way the raw score is rescaled so the healthy rows map to 1 and the failed rows
/// to 0, and clamped to [0, 1].
///
/// Fit on run-to-failure histories (``fit(X, groups=run_ids)``, each run's rows
/// contiguous and in time order, the last at failure: the first ``healthy_fraction`` of a
/// run is taken as healthy, the last ``failed_fraction`` as failed), or on rows with a
/// known health target (``fit(X, y)``, ``y`` in [0, 1]: 1 healthy, 0 failed, values
/// between, such as a remaining-life fraction, learnt by the regression; rows at 1 and at
/// 0 must both be present). Without ``groups`` or ``y``, ``X`` is one run. With ``y`` it
/// is a scikit-learn regressor: ``cross_val_score(HealthIndex(), X, y)`` scores R².
///
/// >>> import numpy as np, twin
/// >>> healthy = [[1.0, 10.0], [1.1, 10.2], [0.9, 9.9], [1.0, 10.1], [1.05, 10.0], [0.95, 9.8]]
/// >>> failed = [[3.0, 10.1], [3.2, 9.9], [2.9, 10.0], [3.1, 10.2], [3.0, 9.8], [2.8, 10.0]]
/// >>> hi = twin.HealthIndex(method="pca").fit(healthy + failed, [1] * 6 + [0] * 6)
/// >>> round(float(hi.predict([[2.0, 10.0]])[0]), 1)
/// 0.5
#[pyclass(dict, name = "HealthIndex", module = "twin")]
pub struct PyHealthIndex {
    model: Model<HealthParams, FittedHealthIndex>,
}

#[pymethods]
impl PyHealthIndex {
    #[new]
    #[pyo3(
        signature = (**params),
        text_signature = "(*, method='regression', ridge=1.0, healthy_fraction=0.1, failed_fraction=0.05)"
    )]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let model = Model::<HealthParams, _>::new(py, "HealthIndex", params)?;
        model.params.config().map_err(to_py)?;
        Ok(PyHealthIndex { model })
    }

    /// Fit on run-to-failure histories (``groups``: a run id per row) or rows with health
    /// targets (``y`` in [0, 1]), with the GIL released. Returns ``self``.
    #[pyo3(signature = (x, y=None, *, groups=None))]
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
        groups: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let py = slf.py();
        let config = slf.model.params.config().map_err(to_py)?;
        let ro = arrays::matrix("X", x)?;
        let data = owned(&ro);
        let fitted = match (y, groups) {
            (Some(_), Some(_)) => {
                return Err(invalid_input(
                    "give either y (labels) or groups (runs), not both",
                ))
            }
            (Some(y), None) => {
                let yro = arrays::vector("y", y)?;
                let target = arrays::slice("y", &yro)?.to_vec();
                py.detach(move || config.fit_targets(&data, &target))
            }
            (None, g) => {
                let runs = match g {
                    Some(g) => {
                        let gro = arrays::vector("groups", g)?;
                        split_runs(&data, arrays::slice("groups", &gro)?)?
                    }
                    None => vec![data],
                };
                py.detach(move || config.fit_runs(&runs))
            }
        }
        .map_err(to_py)?;
        slf.model.fitted = Some(fitted);
        Ok(slf)
    }

    /// Health of every row of ``X``, in [0, 1].
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.model.fitted()?;
        let ro = arrays::matrix("X", x)?;
        let (data, d) = rows(&ro, Some(m.dim()))?;
        Ok(arrays::out1(py, per_row(py, data, d, |r| m.predict(r))?))
    }

    /// Health of every row before clamping to [0, 1] (below 0 past the failed examples,
    /// above 1 healthier than the healthy ones).
    fn predict_unclamped<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.model.fitted()?;
        let ro = arrays::matrix("X", x)?;
        let (data, d) = rows(&ro, Some(m.dim()))?;
        Ok(arrays::out1(
            py,
            per_row(py, data, d, |r| m.predict_unclamped(r))?,
        ))
    }

    /// The coefficient of determination R² of :meth:`predict` against ``y`` (scikit-learn's
    /// regressor score).
    fn score(&self, py: Python<'_>, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
        let p = self.predict(py, x)?;
        let p = p.readonly();
        let pred = p.as_slice().map_err(|e| invalid_input(e.to_string()))?;
        let yro = arrays::vector("y", y)?;
        let truth = arrays::slice("y", &yro)?;
        if truth.len() != pred.len() || truth.is_empty() {
            return Err(invalid_input(format!(
                "y has {} values for {} rows of X",
                truth.len(),
                pred.len()
            )));
        }
        let mean = truth.iter().sum::<f64>() / truth.len() as f64;
        let ss_res: f64 = truth.iter().zip(pred).map(|(t, p)| (t - p).powi(2)).sum();
        let ss_tot: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
        if ss_tot == 0.0 {
            return Err(invalid_input("y is constant: R² is undefined"));
        }
        Ok(1.0 - ss_res / ss_tot)
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

    /// The fitted index as versioned JSON.
    fn to_json(&self) -> PyResult<String> {
        self.model.fitted()?.to_json().map_err(to_py)
    }

    /// Load a fitted index saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<Self> {
        let fitted = FittedHealthIndex::from_json(json).map_err(to_py)?;
        let params = HealthParams::from(fitted.config());
        Ok(PyHealthIndex {
            model: Model::with(py, "HealthIndex", params, Some(fitted))?,
        })
    }

    #[classmethod]
    #[pyo3(signature = (params, fitted=None))]
    fn _restore(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        params: &str,
        fitted: Option<&str>,
    ) -> PyResult<Self> {
        let p = Model::<HealthParams, FittedHealthIndex>::params_from_json("HealthIndex", params)?;
        let f = fitted
            .map(FittedHealthIndex::from_json)
            .transpose()
            .map_err(to_py)?;
        Ok(PyHealthIndex {
            model: Model::with(py, "HealthIndex", p, f)?,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyHealthIndex>().getattr("_restore")?;
        let fitted = self
            .model
            .fitted
            .as_ref()
            .map(|m| m.to_json())
            .transpose()
            .map_err(to_py)?;
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
        sklearn_tags(py, Some("regressor"), false)
    }

    /// Whether ``fit`` has run (scikit-learn's ``check_is_fitted`` asks this).
    fn __sklearn_is_fitted__(&self) -> bool {
        self.model.fitted().is_ok()
    }
}
