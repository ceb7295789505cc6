//! What-if from Python: `WhatIfScenario` (keyword arguments, or a dict / JSON in the
//! crate's serde form), `WhatIfResult` (trajectories and percentiles as numpy arrays,
//! time-to-failure samples and a summary), and the serde bridge the what-if, physics and
//! maintenance bindings share (Python objects ⇄ serde through JSON, errors naming the
//! argument).

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde::Serialize;
use twin::whatif::{MonteCarlo, Scenario, WhatIfResult};

use crate::errors::{invalid_input, to_py};

// ---- the serde bridge -------------------------------------------------------------------

/// A serde value as a plain Python object (dicts, lists, floats, ints, str, None).
pub(crate) fn to_python<'py>(py: Python<'py>, v: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(v).map_err(|e| to_py(e.into()))?;
    py.import("json")?.getattr("loads")?.call1((json,))
}

/// A Python object (a JSON string, or dicts/lists/numbers) as serde data `T`; a mismatch
/// is an `InvalidInputError` naming `arg`.
pub(crate) fn from_python<T: DeserializeOwned>(arg: &str, obj: &Bound<'_, PyAny>) -> PyResult<T> {
    let json: String = if let Ok(s) = obj.cast::<PyString>() {
        s.extract::<String>()?
    } else {
        let dumps = obj.py().import("json")?.getattr("dumps")?;
        dumps
            .call1((obj,))
            .map_err(|e| invalid_input(format!("{arg}: not JSON-like data: {e}")))?
            .extract()?
    };
    serde_json::from_str(&json).map_err(|e| invalid_input(format!("{arg}: {e}")))
}

/// `T::default()` with the keys of `config` (a dict or JSON) and then of `kwargs` set over
/// it; a key the settings do not have is an `InvalidInputError` naming it.
pub(crate) fn merge_config<T: Serialize + DeserializeOwned + Default>(
    arg: &str,
    config: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let mut base = serde_json::to_value(T::default()).map_err(|e| to_py(e.into()))?;
    let Some(obj) = base.as_object_mut() else {
        return Err(invalid_input(format!("{arg}: settings are not a mapping")));
    };
    let mut set = |src: serde_json::Value| -> PyResult<()> {
        let serde_json::Value::Object(m) = src else {
            return Err(invalid_input(format!("{arg} must be a dict of settings")));
        };
        for (k, v) in m {
            if !obj.contains_key(&k) {
                let known: Vec<&String> = obj.keys().collect();
                return Err(invalid_input(format!(
                    "unknown {arg} setting {k:?}; expected one of {known:?}"
                )));
            }
            obj.insert(k, v);
        }
        Ok(())
    };
    if let Some(c) = config {
        if !c.is_none() {
            set(from_python(arg, c)?)?;
        }
    }
    if let Some(k) = kwargs {
        set(from_python(arg, k.as_any())?)?;
    }
    serde_json::from_value(base).map_err(|e| invalid_input(format!("{arg}: {e}")))
}

// ---- scenarios --------------------------------------------------------------------------

/// A what-if scenario: how far to run (``horizon_s``) in steps of ``step_s`` seconds,
/// input profiles by the model's input names, injected faults, and Monte Carlo settings.
///
/// ``inputs`` maps an input name to a number (held constant) or a profile dict:
/// ``{"kind": "step", "before": 2.0, "after": 1.6, "at_s": 3600}``, ``{"kind": "ramp",
/// "from": .., "to": .., "start_s": .., "end_s": ..}``, ``{"kind": "piecewise",
/// "points": [[t, v], ...]}``. ``faults`` is a list of ``{"at_s": t, "effect": {"kind":
/// "add_state" | "set_state", "state": name, "value": v}}`` or ``{"kind":
/// "scale_parameter", "parameter": name, "factor": f}``. ``parameter_uncertainty`` and
/// ``process_noise`` scale the model's own uncertainty (0 switches it off).
///
/// >>> import twin
/// >>> s = twin.WhatIfScenario(86400.0, 60.0, inputs={"speed_setpoint": 1.6}, paths=50, seed=7)
/// >>> s.steps
/// 1440
/// >>> twin.WhatIfScenario.from_json(s.to_json()) == s
/// True
#[pyclass(frozen, eq, name = "WhatIfScenario", module = "twin")]
#[derive(Clone, PartialEq)]
pub struct PyWhatIfScenario {
    pub(crate) inner: Scenario,
}

#[pymethods]
impl PyWhatIfScenario {
    #[new]
    #[pyo3(signature = (horizon_s, step_s, *, inputs=None, faults=None, paths=200, seed=0,
                        parameter_uncertainty=1.0, process_noise=1.0, quantiles=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        horizon_s: f64,
        step_s: f64,
        inputs: Option<&Bound<'_, PyDict>>,
        faults: Option<&Bound<'_, PyAny>>,
        paths: usize,
        seed: u64,
        parameter_uncertainty: f64,
        process_noise: f64,
        quantiles: Option<Vec<f64>>,
    ) -> PyResult<Self> {
        let mut s = Scenario::new(horizon_s, step_s);
        if let Some(d) = inputs {
            for (k, v) in d.iter() {
                let name: String = k
                    .extract()
                    .map_err(|_| invalid_input("inputs: keys must be input names (str)"))?;
                let profile = if let Ok(x) = v.extract::<f64>() {
                    twin::whatif::Profile::Constant { value: x }
                } else {
                    from_python(&format!("inputs[{name:?}]"), &v)?
                };
                s.inputs.insert(name, profile);
            }
        }
        if let Some(f) = faults {
            s.faults = from_python("faults", f)?;
        }
        s.monte_carlo = MonteCarlo {
            paths,
            seed,
            parameter_uncertainty,
            process_noise,
            quantiles: quantiles.unwrap_or_else(|| MonteCarlo::default().quantiles),
        };
        s.validate().map_err(to_py)?;
        Ok(PyWhatIfScenario { inner: s })
    }

    /// The scenario from its JSON (or dict) form, as :meth:`to_json` writes it.
    #[staticmethod]
    fn from_json(json: &Bound<'_, PyAny>) -> PyResult<Self> {
        let s: Scenario = from_python("scenario", json)?;
        s.validate().map_err(to_py)?;
        Ok(PyWhatIfScenario { inner: s })
    }

    /// The scenario as JSON (the Rust `twin::whatif::Scenario` serde form).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| to_py(e.into()))
    }

    /// The scenario as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner)
    }

    /// Number of time steps.
    #[getter]
    fn steps(&self) -> PyResult<usize> {
        self.inner.steps().map_err(to_py)
    }

    /// Horizon, s.
    #[getter]
    fn horizon_s(&self) -> f64 {
        self.inner.horizon_s
    }

    /// Step, s.
    #[getter]
    fn step_s(&self) -> f64 {
        self.inner.step_s
    }

    /// Number of Monte Carlo paths.
    #[getter]
    fn paths(&self) -> usize {
        self.inner.monte_carlo.paths
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyWhatIfScenario>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "WhatIfScenario(horizon_s={}, step_s={}, inputs={:?}, faults={}, paths={}, seed={})",
            self.inner.horizon_s,
            self.inner.step_s,
            self.inner.inputs.keys().collect::<Vec<_>>(),
            self.inner.faults.len(),
            self.inner.monte_carlo.paths,
            self.inner.monte_carlo.seed
        )
    }
}

/// A scenario argument: a `WhatIfScenario`, a dict or a JSON string.
pub(crate) fn scenario_arg(obj: &Bound<'_, PyAny>) -> PyResult<Scenario> {
    if let Ok(s) = obj.cast::<PyWhatIfScenario>() {
        return Ok(s.get().inner.clone());
    }
    let s: Scenario = from_python("scenario", obj)?;
    s.validate().map_err(to_py)?;
    Ok(s)
}

// ---- results ----------------------------------------------------------------------------

/// The outcome of a what-if run.
///
/// Arrays are ``steps × variables`` with the variables in :attr:`names` (the model's
/// state variables): :attr:`mean`, and :meth:`quantile` for each level in :attr:`levels`
/// (all at once in :attr:`percentiles`, ``levels × steps × variables``).
/// :attr:`failure_times` holds the failure times (s) of the paths that failed, sorted;
/// :attr:`summary` the failure probability and time-to-failure quantiles.
///
/// >>> import twin
/// >>> r = twin.ConveyorModel().what_if(twin.WhatIfScenario(
/// ...     90 * 86400.0, 3600.0, paths=1, seed=0, parameter_uncertainty=0.0, process_noise=0.0))
/// >>> r.names, r.mean.shape, r.summary["failed"]
/// (['wear'], (2161, 1), 1)
#[pyclass(frozen, name = "WhatIfResult", module = "twin")]
pub struct PyWhatIfResult {
    pub(crate) inner: WhatIfResult,
}

impl PyWhatIfResult {
    fn steps(&self) -> usize {
        self.inner.times_s.len()
    }

    fn matrix<'py>(
        &self,
        py: Python<'py>,
        f: impl Fn(&twin::whatif::Trajectory) -> Option<&[f64]>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (n, m) = (self.steps(), self.inner.trajectories.len());
        let mut out = vec![0.0; n * m];
        for (j, t) in self.inner.trajectories.iter().enumerate() {
            let col = f(t).ok_or_else(|| invalid_input("level not in the scenario's quantiles"))?;
            for (k, v) in col.iter().enumerate().take(n) {
                out[k * m + j] = *v;
            }
        }
        let a = ndarray::Array2::from_shape_vec((n, m), out)
            .map_err(|e| invalid_input(format!("result shape: {e}")))?;
        Ok(a.into_pyarray(py))
    }
}

#[pymethods]
impl PyWhatIfResult {
    /// The model's name.
    #[getter]
    fn model(&self) -> &str {
        &self.inner.model
    }

    /// Times of the steps, s from the start.
    #[getter]
    fn times_s<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.times_s.clone().into_pyarray(py)
    }

    /// The variables (columns of the arrays), in order.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.inner
            .trajectories
            .iter()
            .map(|t| t.name.clone())
            .collect()
    }

    /// The quantile levels reported.
    #[getter]
    fn levels(&self) -> Vec<f64> {
        self.inner
            .trajectories
            .first()
            .map(|t| t.levels.clone())
            .unwrap_or_default()
    }

    /// Mean over paths, ``steps × variables``.
    #[getter]
    fn mean<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.matrix(py, |t| Some(&t.mean))
    }

    /// Quantile ``level`` (one of :attr:`levels`) over paths, ``steps × variables``;
    /// another level raises :class:`InvalidInputError`.
    fn quantile<'py>(&self, py: Python<'py>, level: f64) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.matrix(py, |t| t.quantile(level))
            .map_err(|_| invalid_input(format!("level: {level} is not one of {:?}", self.levels())))
    }

    /// Every quantile, ``levels × steps × variables``.
    #[getter]
    fn percentiles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        let (l, n, m) = (
            self.levels().len(),
            self.steps(),
            self.inner.trajectories.len(),
        );
        let mut out = vec![0.0; l * n * m];
        for (j, t) in self.inner.trajectories.iter().enumerate() {
            for (i, col) in t.values.iter().enumerate().take(l) {
                for (k, v) in col.iter().enumerate().take(n) {
                    out[(i * n + k) * m + j] = *v;
                }
            }
        }
        let a = ndarray::Array3::from_shape_vec((l, n, m), out)
            .map_err(|e| invalid_input(format!("result shape: {e}")))?;
        Ok(a.into_pyarray(py))
    }

    /// One variable: a dict with ``mean`` and each level's values (1-D arrays over the
    /// steps). An unknown name raises :class:`UnknownSignalError`.
    fn trajectory<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyDict>> {
        let t = self.inner.trajectory(name).ok_or_else(|| {
            to_py(twin::Error::UnknownSignal(format!(
                "{name} is not a variable of the what-if result; have {:?}",
                self.names()
            )))
        })?;
        let d = PyDict::new(py);
        d.set_item("mean", t.mean.clone().into_pyarray(py))?;
        for (l, v) in t.levels.iter().zip(&t.values) {
            d.set_item(*l, v.clone().into_pyarray(py))?;
        }
        Ok(d)
    }

    /// The trajectories as a long pandas DataFrame: one row per (time, variable) with
    /// ``time_s``, ``variable``, ``mean`` and one column per level (``q0.05``, ...).
    /// Raises ``ImportError`` without pandas.
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        crate::digital_twin::frames(slf.py())?.call_method1("what_if_frame", (slf,))
    }

    /// Failure times of the paths that failed within the horizon, s, sorted.
    #[getter]
    fn failure_times<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.failure.times_s.clone().into_pyarray(py)
    }

    /// Fraction of paths that failed within the horizon.
    #[getter]
    fn failure_probability(&self) -> f64 {
        self.inner.failure.probability
    }

    /// ``paths``, ``failed``, ``probability``, ``mean_failed`` (mean failure time of the
    /// failed paths, s, or None) and ``quantiles`` (level → time-to-failure, s, or None
    /// when fewer paths failed).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let f = &self.inner.failure;
        let d = PyDict::new(py);
        d.set_item("paths", f.paths)?;
        d.set_item("failed", f.failed)?;
        d.set_item("probability", f.probability)?;
        d.set_item("mean_failed", f.mean_failed())?;
        let q = PyDict::new(py);
        for (l, v) in &f.quantiles {
            q.set_item(*l, *v)?;
        }
        d.set_item("quantiles", q)?;
        Ok(d)
    }

    /// Probability of surviving to ``t_s`` seconds (1 before the first failure).
    fn survival(&self, t_s: f64) -> f64 {
        self.inner.failure.survival(t_s)
    }

    /// The result as JSON; :meth:`from_json` reads it back.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(to_py)
    }

    /// A result from :meth:`to_json`.
    #[staticmethod]
    fn from_json(json: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyWhatIfResult {
            inner: from_python("json", json)?,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyWhatIfResult>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "WhatIfResult(model={:?}, steps={}, variables={:?}, paths={}, failure_probability={:.4})",
            self.inner.model,
            self.steps(),
            self.names(),
            self.inner.failure.paths,
            self.inner.failure.probability
        )
    }
}

/// Run a forward model under a scenario on a worker thread (GIL released), with
/// progress (time steps) and Ctrl-C as in [`crate::progress::run_long`].
pub(crate) fn run_forward<'py>(
    py: Python<'py>,
    fm: &dyn twin::whatif::ForwardModel,
    scenario: &Scenario,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<PyWhatIfResult> {
    let r = crate::progress::run_long(py, progress, "what_if", |p| {
        twin::whatif::run_with(fm, scenario, p)
    })?;
    Ok(PyWhatIfResult { inner: r })
}
