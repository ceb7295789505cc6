//! What every fit/predict class shares: its settings (scikit-learn parameters), the
//! fitted Rust model once `fit` has run, and pickling through serde JSON.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::params;
use crate::errors::{invalid_input, to_py};

/// Settings `P` and, after `fit`, the fitted model `F`.
pub(crate) struct Model<P, F> {
    pub(crate) class: &'static str,
    pub(crate) params: P,
    objects: Py<PyDict>,
    pub(crate) fitted: Option<F>,
}

impl<P: Serialize + DeserializeOwned + Default, F> Model<P, F> {
    /// Settings from constructor keyword arguments, unfitted.
    pub(crate) fn new(
        py: Python<'_>,
        class: &'static str,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let (params, objects) = params::apply(py, class, &P::default(), None, kwargs)?;
        Ok(Model {
            class,
            params,
            objects: objects.unbind(),
            fitted: None,
        })
    }

    /// Settings as loaded (a pickle, or a fitted model's own configuration).
    pub(crate) fn with(
        py: Python<'_>,
        class: &'static str,
        params: P,
        fitted: Option<F>,
    ) -> PyResult<Self> {
        let objects = params::dict_of(py, &params)?.unbind();
        Ok(Model {
            class,
            params,
            objects,
            fitted,
        })
    }

    /// `get_params()`: the constructor's keyword arguments, as given.
    pub(crate) fn get_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.objects.bind(py).copy()
    }

    /// `set_params(**params)`: new settings for the next `fit`; a fitted model is kept
    /// until then.
    pub(crate) fn set_params(
        &mut self,
        py: Python<'_>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let prev = self.objects.bind(py).clone();
        let (p, objects) = params::apply(py, self.class, &self.params, Some(&prev), kwargs)?;
        self.params = p;
        self.objects = objects.unbind();
        Ok(())
    }

    /// The fitted model, or a clear error if `fit` has not run.
    pub(crate) fn fitted(&self) -> PyResult<&F> {
        self.fitted.as_ref().ok_or_else(|| {
            invalid_input(format!(
                "this {} is not fitted yet: call fit first",
                self.class
            ))
        })
    }

    /// The settings as JSON (for pickling).
    pub(crate) fn params_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.params)
            .map_err(|e| to_py(twin::Error::Serialization(format!("{}: {e}", self.class))))
    }

    /// Settings from JSON written by [`Model::params_json`].
    pub(crate) fn params_from_json(class: &str, json: &str) -> PyResult<P> {
        serde_json::from_str(json)
            .map_err(|e| to_py(twin::Error::Serialization(format!("{class} settings: {e}"))))
    }

    /// `k=v, …` of the settings that differ from the defaults, and whether it is fitted.
    pub(crate) fn repr(&self) -> String {
        format!(
            "{}({}){}",
            self.class,
            params::repr_args(&self.params),
            if self.fitted.is_some() {
                " <fitted>"
            } else {
                " <not fitted>"
            }
        )
    }
}

/// Run `f` with the GIL released when `big`.
pub(crate) fn maybe_detach<T: Send>(py: Python<'_>, big: bool, f: impl FnOnce() -> T + Send) -> T {
    if big {
        py.detach(f)
    } else {
        f()
    }
}

/// `__sklearn_tags__()`: scikit-learn's tags for an estimator, made by the pure-Python
/// helper `twin._sklearn` (which imports scikit-learn only when called).
pub(crate) fn sklearn_tags<'py>(
    py: Python<'py>,
    estimator_type: Option<&str>,
    requires_y: bool,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("twin._sklearn")?
        .getattr("tags")?
        .call1((estimator_type, requires_y))
}
