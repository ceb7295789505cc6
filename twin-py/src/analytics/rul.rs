//! Remaining useful life from numpy: `RegressionRul` (gradient-boosted trees or ridge on
//! window features), `SimilarityRul`, `ExponentialRul` (exponential degradation with a
//! Bayesian update) and `RulEnsemble`, each with a conformally calibrated interval.
//!
//! Data are long tables: a feature matrix `X` (one row per observation), a unit id per row
//! (`units`, each unit's rows contiguous and in time order) and optionally the time of
//! each row (`cycles`, default 1, 2, … within each unit). Fitting takes run-to-failure
//! histories (each unit's last row is its failure); predicting gives each unit's RUL at its
//! last row, units in order of first appearance.
//!
//! The Rust settings are nested; the constructors take the commonly tuned ones as flat
//! keyword arguments, each mapped to one place in the Rust configuration (the table of
//! each model below), the rest at their defaults.

use ndarray::ArrayView2;
use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use twin::analytics::rul::ensemble::{EnsembleConfig, FittedRulEnsemble, RulEnsemble};
use twin::analytics::rul::exponential::{
    ExponentialRul, ExponentialRulConfig, FittedExponentialRul,
};
use twin::analytics::rul::regression::{FittedRegressionRul, RegressionConfig, RegressionRul};
use twin::analytics::rul::similarity::{FittedSimilarityRul, SimilarityConfig, SimilarityRul};
use twin::analytics::rul::{Fleet, HeldOutScores, RulPrediction};

use twin::progress::Progress;

use super::arrays;
use super::model::sklearn_tags;
use super::params;
use crate::errors::{invalid_input, to_py};
use crate::progress::run_long;

/// Calibration settings shared by every model: Python name and JSON pointer.
const CALIBRATION: [(&str, &str); 9] = [
    ("level", "/calibration/conformal/level"),
    ("bins", "/calibration/conformal/bins"),
    ("min_per_bin", "/calibration/conformal/min_per_bin"),
    ("folds", "/calibration/folds"),
    ("stride", "/calibration/stride"),
    ("min_history", "/calibration/min_history"),
    ("per_unit", "/calibration/per_unit"),
    ("seed", "/calibration/seed"),
    ("threads", "/calibration/threads"),
];

/// One RUL model kind: its Rust types and how its flat parameters map to its settings.
pub(crate) trait RulKind {
    const CLASS: &'static str;
    type Config: Serialize + DeserializeOwned + Default + Clone + Send + Sync;
    type Fitted: Send + Sync;
    /// Flat parameters besides the calibration ones.
    const TABLE: &'static [(&'static str, &'static str)];
    /// Parameters that no single JSON place holds (derived from and applied to the
    /// whole configuration).
    fn extra_flat(_config: &Value, _flat: &mut Map<String, Value>) {}
    fn prepare(_flat: &Map<String, Value>, _config: &mut Value) -> PyResult<()> {
        Ok(())
    }
    fn validate(c: &Self::Config) -> twin::Result<()>;
    /// Fit with progress and cancellation (the model's `fit_with`).
    fn fit(c: &Self::Config, fleet: &Fleet, progress: &Progress) -> twin::Result<Self::Fitted>;
    fn predict(f: &Self::Fitted, fleet: &Fleet) -> twin::Result<Vec<RulPrediction>>;
    fn config(f: &Self::Fitted) -> &Self::Config;
    fn held_out(f: &Self::Fitted) -> HeldOutScores;
    fn to_json(f: &Self::Fitted) -> twin::Result<String>;
    fn from_json(s: &str) -> twin::Result<Self::Fitted>;
}

fn to_value<T: Serialize>(c: &T) -> PyResult<Value> {
    serde_json::to_value(c).map_err(|e| invalid_input(format!("settings: {e}")))
}

/// The flat parameters of a configuration.
fn flat_of<K: RulKind>(c: &K::Config) -> PyResult<Map<String, Value>> {
    let v = to_value(c)?;
    let mut flat = Map::new();
    for (name, ptr) in K::TABLE.iter().chain(CALIBRATION.iter()) {
        if let Some(x) = v.pointer(ptr) {
            flat.insert((*name).to_owned(), x.clone());
        }
    }
    K::extra_flat(&v, &mut flat);
    // Parameters whose place is absent in this configuration (the ridge penalty of a
    // boosted model, say) keep their default value.
    if let Ok(d) = to_value(&K::Config::default()) {
        for (name, ptr) in K::TABLE {
            if !flat.contains_key(*name) {
                let x = d.pointer(ptr).cloned().unwrap_or(Value::Null);
                flat.insert((*name).to_owned(), x);
            }
        }
    }
    Ok(flat)
}

/// The configuration of flat parameters, validated; errors name the parameter.
fn config_of<K: RulKind>(flat: &Map<String, Value>) -> PyResult<K::Config> {
    let base = to_value(&K::Config::default())?;
    let mut v = base.clone();
    K::prepare(flat, &mut v)?;
    let build = |v: &Value| serde_json::from_value::<K::Config>(v.clone());
    for (name, ptr) in K::TABLE.iter().chain(CALIBRATION.iter()) {
        let Some(x) = flat.get(*name) else { continue };
        if let Some(slot) = v.pointer_mut(ptr) {
            *slot = x.clone();
            if let Err(e) = build(&v) {
                return Err(PyTypeError::new_err(format!(
                    "{}: parameter {name} has the wrong type ({e}); got {x}",
                    K::CLASS
                )));
            }
        }
    }
    let c = build(&v).map_err(|e| invalid_input(format!("{}: {e}", K::CLASS)))?;
    K::validate(&c).map_err(to_py)?;
    Ok(c)
}

/// A long table as a fleet: `X`, a unit id per row and optional times.
fn fleet(
    x: &Bound<'_, PyAny>,
    units: &Bound<'_, PyAny>,
    cycles: Option<&Bound<'_, PyAny>>,
) -> PyResult<Fleet> {
    let ro: PyReadonlyArray2<'_, f64> = arrays::matrix("X", x)?;
    let view: ArrayView2<'_, f64> = ro.as_array();
    let ids = arrays::ids("units", units)?;
    if ids.len() != view.nrows() {
        return Err(invalid_input(format!(
            "units has {} ids for {} rows of X",
            ids.len(),
            view.nrows()
        )));
    }
    if let Some(((r, c), v)) = view.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(to_py(twin::Error::NonFinite(format!(
            "X at row {r}, column {c} ({v}; unit {})",
            ids[r]
        ))));
    }
    let time: Vec<f64> = match cycles {
        Some(c) => {
            let cro = arrays::vector("cycles", c)?;
            let t = arrays::slice("cycles", &cro)?;
            if let Some(i) = t.iter().position(|v| !v.is_finite()) {
                return Err(to_py(twin::Error::NonFinite(format!(
                    "cycles at position {i} ({})",
                    t[i]
                ))));
            }
            if t.len() != ids.len() {
                return Err(invalid_input(format!(
                    "cycles has {} values for {} rows of X",
                    t.len(),
                    ids.len()
                )));
            }
            t.to_vec()
        }
        None => {
            let mut t = Vec::with_capacity(ids.len());
            let mut k = 0.0;
            for (i, id) in ids.iter().enumerate() {
                k = if i > 0 && ids[i - 1] == *id {
                    k + 1.0
                } else {
                    1.0
                };
                t.push(k);
            }
            t
        }
    };
    Fleet::from_long(&ids, &time, view).map_err(to_py)
}

/// A RUL model: settings (flat parameters and the Python objects given) and, once fit,
/// the Rust model.
pub(crate) struct Rul<K: RulKind> {
    flat: Map<String, Value>,
    objects: Py<PyDict>,
    fitted: Option<K::Fitted>,
}

impl<K: RulKind> Rul<K> {
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let base = flat_of::<K>(&K::Config::default())?;
        let (flat, objects) = params::apply(py, K::CLASS, &base, None, kwargs)?;
        config_of::<K>(&flat)?;
        Ok(Rul {
            flat,
            objects: objects.unbind(),
            fitted: None,
        })
    }

    fn with(py: Python<'_>, flat: Map<String, Value>, fitted: Option<K::Fitted>) -> PyResult<Self> {
        let objects = params::dict_of(py, &flat)?.unbind();
        Ok(Rul {
            flat,
            objects,
            fitted,
        })
    }

    fn set_params(&mut self, py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let prev = self.objects.bind(py).clone();
        let (flat, objects) = params::apply(py, K::CLASS, &self.flat, Some(&prev), kwargs)?;
        config_of::<K>(&flat)?;
        self.flat = flat;
        self.objects = objects.unbind();
        Ok(())
    }

    fn fitted(&self) -> PyResult<&K::Fitted> {
        self.fitted.as_ref().ok_or_else(|| {
            invalid_input(format!(
                "this {} is not fitted yet: call fit first",
                K::CLASS
            ))
        })
    }

    /// Fit on a worker thread with the GIL released, reporting to `progress` (see
    /// [`run_long`]); the fitted model replaces the old one only on success, so an
    /// interrupted or failed fit leaves the model as it was.
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        fl: Fleet,
        progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        let c = config_of::<K>(&self.flat)?;
        let f = run_long(py, progress, K::CLASS, move |p| K::fit(&c, &fl, p))?;
        self.fitted = Some(f);
        Ok(())
    }

    fn predict(&self, py: Python<'_>, fl: Fleet) -> PyResult<Vec<RulPrediction>> {
        let m = self.fitted()?;
        py.detach(move || K::predict(m, &fl)).map_err(to_py)
    }

    fn from_fitted(py: Python<'_>, f: K::Fitted) -> PyResult<Self> {
        let flat = flat_of::<K>(K::config(&f))?;
        Self::with(py, flat, Some(f))
    }

    fn reduce_args<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let flat = serde_json::to_string(&self.flat)
            .map_err(|e| to_py(twin::Error::Serialization(e.to_string())))?;
        let fitted = self
            .fitted
            .as_ref()
            .map(K::to_json)
            .transpose()
            .map_err(to_py)?;
        PyTuple::new(
            py,
            [
                flat.into_pyobject(py)?.into_any(),
                fitted.into_pyobject(py)?.into_any(),
            ],
        )
    }

    fn restore(py: Python<'_>, flat: &str, fitted: Option<&str>) -> PyResult<Self> {
        let flat: Map<String, Value> = serde_json::from_str(flat).map_err(|e| {
            to_py(twin::Error::Serialization(format!(
                "{} settings: {e}",
                K::CLASS
            )))
        })?;
        let f = fitted.map(K::from_json).transpose().map_err(to_py)?;
        Self::with(py, flat, f)
    }

    fn repr(&self) -> String {
        let default = flat_of::<K>(&K::Config::default()).unwrap_or_default();
        let mut args: Vec<String> = Vec::new();
        for (k, v) in &self.flat {
            if default.get(k) != Some(v) {
                args.push(format!("{k}={v}"));
            }
        }
        let state = match &self.fitted {
            Some(f) => {
                let h = K::held_out(f);
                format!(
                    " <fitted, held-out RMSE {:.2} over {} points>",
                    h.rmse, h.points
                )
            }
            None => " <not fitted>".into(),
        };
        format!("{}({}){state}", K::CLASS, args.join(", "))
    }
}

fn predictions<'py>(py: Python<'py>, p: &[RulPrediction]) -> PyResult<Bound<'py, PyTuple>> {
    let col = |f: fn(&RulPrediction) -> f64| arrays::out1(py, p.iter().map(f).collect());
    PyTuple::new(py, [col(|r| r.rul), col(|r| r.lower), col(|r| r.upper)])
}

macro_rules! rul_class {
    ($py:ident, $kind:ty, { $($extra:tt)* }) => {
        #[pymethods]
        impl $py {
            /// Fit on run-to-failure histories (each unit's last row is its failure), with
            /// the GIL released: cross-fitted held-out predictions calibrate the interval,
            /// then the model is refitted on every unit. Returns ``self``.
            ///
            /// ``progress``: ``None`` (quiet), a callable called as
            /// ``progress(done, total)`` while the fit runs, or ``True`` for a tqdm bar
            /// (when tqdm is installed). The work units are boosting rounds of every fold
            /// fit and the final fit (one per fit for the other learners), one per held-out
            /// unit, and one for the calibration. Ctrl-C stops the fit within a fraction of
            /// a second and raises ``KeyboardInterrupt``; the model is left as it was.
            #[pyo3(signature = (x, units, cycles=None, *, progress=None))]
            fn fit<'py>(
                mut slf: PyRefMut<'py, Self>,
                x: &Bound<'py, PyAny>,
                units: &Bound<'py, PyAny>,
                cycles: Option<&Bound<'py, PyAny>>,
                progress: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<PyRefMut<'py, Self>> {
                let py = slf.py();
                let fl = fleet(x, units, cycles)?;
                slf.rul.fit(py, fl, progress)?;
                Ok(slf)
            }

            /// The RUL of each unit at its last row (units in order of first appearance).
            #[pyo3(signature = (x, units, cycles=None))]
            fn predict<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
                units: &Bound<'py, PyAny>,
                cycles: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
                let p = self.rul.predict(py, fleet(x, units, cycles)?)?;
                Ok(arrays::out1(py, p.iter().map(|r| r.rul).collect()))
            }

            /// ``(rul, lower, upper)``: each unit's point prediction and its calibrated
            /// interval (nominal coverage :attr:`level`), as three float64 arrays.
            #[pyo3(signature = (x, units, cycles=None))]
            fn predict_interval<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
                units: &Bound<'py, PyAny>,
                cycles: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, PyTuple>> {
                let p = self.rul.predict(py, fleet(x, units, cycles)?)?;
                predictions(py, &p)
            }

            /// Scores of the held-out predictions made while fitting: a dict with
            /// ``points``, ``rmse_capped`` (against the capped target) and ``rmse``.
            #[getter]
            fn held_out_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let h = <$kind as RulKind>::held_out(self.rul.fitted()?);
                let d = PyDict::new(py);
                d.set_item("points", h.points)?;
                d.set_item("rmse_capped", h.rmse_capped)?;
                d.set_item("rmse", h.rmse)?;
                Ok(d)
            }

            /// The constructor's keyword arguments (scikit-learn convention).
            #[pyo3(signature = (deep=true))]
            fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyDict>> {
                let _ = deep;
                self.rul.objects.bind(py).copy()
            }

            /// The fitted model as versioned JSON.
            fn to_json(&self) -> PyResult<String> {
                <$kind as RulKind>::to_json(self.rul.fitted()?).map_err(to_py)
            }

            /// Load a fitted model saved by :meth:`to_json`.
            #[classmethod]
            fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<Self> {
                let f = <$kind as RulKind>::from_json(json).map_err(to_py)?;
                Self::wrap(py, Rul::from_fitted(py, f)?)
            }

            #[classmethod]
            #[pyo3(signature = (params, fitted=None))]
            fn _restore(
                _cls: &Bound<'_, PyType>,
                py: Python<'_>,
                params: &str,
                fitted: Option<&str>,
            ) -> PyResult<Self> {
                Self::wrap(py, Rul::restore(py, params, fitted)?)
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
                let f = py.get_type::<$py>().getattr("_restore")?;
                Ok((f, self.rul.reduce_args(py)?))
            }

            fn __repr__(&self) -> String {
                self.rul.repr()
            }

            fn __sklearn_tags__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                sklearn_tags(py, Some("regressor"), false)
            }

            /// Whether ``fit`` has run (scikit-learn's ``check_is_fitted`` asks this).
            fn __sklearn_is_fitted__(&self) -> bool {
                self.rul.fitted().is_ok()
            }

            $($extra)*
        }
    };
}

/// Parameters of every single model: `(name, pointer)` besides the calibration ones.
const REGRESSION_TABLE: &[(&str, &str)] = &[
    ("cap", "/cap"),
    ("window", "/features/window"),
    ("smoothing", "/features/smoothing"),
    ("recent", "/features/recent"),
    ("spread", "/features/spread"),
    ("history", "/features/history"),
    ("age", "/features/age"),
    ("n_trees", "/learner/Boosting/n_trees"),
    ("learning_rate", "/learner/Boosting/learning_rate"),
    ("max_depth", "/learner/Boosting/max_depth"),
    ("min_samples_leaf", "/learner/Boosting/min_samples_leaf"),
    ("subsample", "/learner/Boosting/subsample"),
    ("colsample", "/learner/Boosting/colsample"),
    ("max_bins", "/learner/Boosting/max_bins"),
    ("tree_seed", "/learner/Boosting/seed"),
    ("alpha", "/learner/Ridge/alpha"),
];

/// `RegressionRul`.
pub(crate) struct RegressionKind;

impl RulKind for RegressionKind {
    const CLASS: &'static str = "RegressionRul";
    type Config = RegressionConfig;
    type Fitted = FittedRegressionRul;
    const TABLE: &'static [(&'static str, &'static str)] = REGRESSION_TABLE;

    fn extra_flat(config: &Value, flat: &mut Map<String, Value>) {
        let ridge = config.pointer("/learner/Ridge").is_some();
        flat.insert(
            "learner".into(),
            Value::String(if ridge { "ridge" } else { "boosting" }.into()),
        );
        if !ridge {
            flat.insert("alpha".into(), Value::from(1.0));
        }
    }

    fn prepare(flat: &Map<String, Value>, config: &mut Value) -> PyResult<()> {
        let learner = flat
            .get("learner")
            .and_then(Value::as_str)
            .unwrap_or("boosting");
        match learner {
            "boosting" => Ok(()),
            "ridge" => {
                if let Some(slot) = config.pointer_mut("/learner") {
                    *slot = serde_json::json!({"Ridge": {"alpha": 1.0}});
                }
                Ok(())
            }
            other => Err(invalid_input(format!(
                "RegressionRul: learner must be \"boosting\" or \"ridge\", got {other:?}"
            ))),
        }
    }

    fn validate(c: &Self::Config) -> twin::Result<()> {
        c.validate()
    }
    fn fit(c: &Self::Config, fleet: &Fleet, progress: &Progress) -> twin::Result<Self::Fitted> {
        RegressionRul::new(c.clone())?.fit_with(fleet, progress)
    }
    fn predict(f: &Self::Fitted, fleet: &Fleet) -> twin::Result<Vec<RulPrediction>> {
        f.predict_fleet(fleet)
    }
    fn config(f: &Self::Fitted) -> &Self::Config {
        f.config()
    }
    fn held_out(f: &Self::Fitted) -> HeldOutScores {
        f.held_out()
    }
    fn to_json(f: &Self::Fitted) -> twin::Result<String> {
        f.to_json()
    }
    fn from_json(s: &str) -> twin::Result<Self::Fitted> {
        FittedRegressionRul::from_json(s)
    }
}

/// RUL by regression on window features of each signal (smoothed level, mean and slope
/// over the last ``window`` rows, the unit's age, …), trained on targets capped at ``cap``
/// (the piecewise-linear target), with gradient-boosted trees (``learner="boosting"``:
/// ``n_trees``, ``learning_rate``, ``max_depth``, …) or ridge regression
/// (``learner="ridge"``, penalty ``alpha``). The interval is calibrated by split
/// conformal prediction over ``folds`` folds of training units at nominal coverage
/// ``level``.
///
/// >>> import numpy as np, twin
/// >>> ids, X = [], []
/// >>> for u in range(12):
/// ...     life = 60 + 7 * u
/// ...     rul = life - 1 - np.arange(life)
/// ...     X.append(np.exp(-rul / 20.0)[:, None] + 0.01 * ((np.arange(life) * 7 + u) % 5)[:, None])
/// ...     ids.append(np.full(life, u))
/// >>> X, ids = np.vstack(X), np.concatenate(ids)
/// >>> m = twin.RegressionRul(cap=50.0, folds=3).fit(X, ids)
/// >>> rul, lower, upper = m.predict_interval(X[:41], ids[:41])   # unit 0, 19 cycles left
/// >>> bool(lower[0] <= rul[0] <= upper[0] and abs(rul[0] - 19.0) < 8.0)
/// True
#[pyclass(dict, name = "RegressionRul", module = "twin")]
pub struct PyRegressionRul {
    rul: Rul<RegressionKind>,
}

impl PyRegressionRul {
    fn wrap(_py: Python<'_>, rul: Rul<RegressionKind>) -> PyResult<Self> {
        Ok(PyRegressionRul { rul })
    }
}

rul_class!(PyRegressionRul, RegressionKind, {
    #[new]
    #[pyo3(
        signature = (**params),
        text_signature = "(*, learner='boosting', cap=125.0, window=30, smoothing=0.1, recent=0, spread=False, history=False, age=True, n_trees=300, learning_rate=0.05, max_depth=5, min_samples_leaf=20, subsample=0.8, colsample=0.8, max_bins=64, tree_seed=0, alpha=1.0, level=0.9, bins=4, min_per_bin=40, folds=5, stride=1, min_history=10, per_unit=True, seed=0, threads=0)"
    )]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(PyRegressionRul {
            rul: Rul::new(py, params)?,
        })
    }

    /// Change settings by keyword (used by the next ``fit``). Returns ``self``.
    #[pyo3(signature = (**params))]
    fn set_params<'py>(
        mut slf: PyRefMut<'py, Self>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let py = slf.py();
        slf.rul.set_params(py, params)?;
        Ok(slf)
    }

    /// Columns of ``X`` dropped as constant in the training data.
    #[getter]
    fn dropped_signals_(&self) -> PyResult<Vec<usize>> {
        Ok(self.rul.fitted()?.dropped_signals())
    }
});

const INDICATOR_TABLE: [(&str, &str); 3] = [
    ("cap", "/indicator/cap"),
    ("smoothing", "/indicator/smoothing"),
    ("indicator_alpha", "/indicator/alpha"),
];

/// `SimilarityRul`.
pub(crate) struct SimilarityKind;

impl RulKind for SimilarityKind {
    const CLASS: &'static str = "SimilarityRul";
    type Config = SimilarityConfig;
    type Fitted = FittedSimilarityRul;
    const TABLE: &'static [(&'static str, &'static str)] = &[
        INDICATOR_TABLE[0],
        INDICATOR_TABLE[1],
        INDICATOR_TABLE[2],
        ("window", "/window"),
        ("neighbours", "/neighbours"),
        ("bandwidth", "/bandwidth"),
    ];
    fn validate(c: &Self::Config) -> twin::Result<()> {
        c.validate()
    }
    fn fit(c: &Self::Config, fleet: &Fleet, progress: &Progress) -> twin::Result<Self::Fitted> {
        SimilarityRul::new(c.clone())?.fit_with(fleet, progress)
    }
    fn predict(f: &Self::Fitted, fleet: &Fleet) -> twin::Result<Vec<RulPrediction>> {
        f.predict_fleet(fleet)
    }
    fn config(f: &Self::Fitted) -> &Self::Config {
        f.config()
    }
    fn held_out(f: &Self::Fitted) -> HeldOutScores {
        f.held_out()
    }
    fn to_json(f: &Self::Fitted) -> twin::Result<String> {
        f.to_json()
    }
    fn from_json(s: &str) -> twin::Result<Self::Fitted> {
        FittedSimilarityRul::from_json(s)
    }
}

/// Similarity-based RUL (Wang et al. 2008): the unit's recent degradation-indicator
/// trajectory (the last ``window`` rows) is matched against every library unit's; the RUL
/// is the kernel-weighted distribution (bandwidth ``bandwidth``) of the ``neighbours``
/// best matches' remaining lives, with a conformal interval.
///
/// >>> import numpy as np, twin
/// >>> rng = np.random.default_rng(0)
/// >>> lives = rng.integers(80, 160, 20)
/// >>> ids = np.repeat(np.arange(20), lives)
/// >>> rul = np.concatenate([np.arange(n)[::-1] for n in lives])
/// >>> X = np.c_[np.exp(-rul / 30.0), 2 * np.exp(-rul / 30.0)] + 0.02 * rng.standard_normal((len(ids), 2))
/// >>> m = twin.SimilarityRul(cap=60.0, folds=3, window=15).fit(X, ids)
/// >>> r, lo, hi = m.predict_interval(X[ids == 0][:-40], ids[ids == 0][:-40])   # 40 cycles left
/// >>> bool(lo[0] <= r[0] <= hi[0] and abs(r[0] - 40.0) < 20.0)
/// True
#[pyclass(dict, name = "SimilarityRul", module = "twin")]
pub struct PySimilarityRul {
    rul: Rul<SimilarityKind>,
}

impl PySimilarityRul {
    fn wrap(_py: Python<'_>, rul: Rul<SimilarityKind>) -> PyResult<Self> {
        Ok(PySimilarityRul { rul })
    }
}

rul_class!(PySimilarityRul, SimilarityKind, {
    #[new]
    #[pyo3(
        signature = (**params),
        text_signature = "(*, cap=125.0, smoothing=0.1, indicator_alpha=1.0, window=30, neighbours=10, bandwidth=1.0, level=0.9, bins=4, min_per_bin=40, folds=5, stride=1, min_history=10, per_unit=True, seed=0, threads=0)"
    )]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(PySimilarityRul {
            rul: Rul::new(py, params)?,
        })
    }

    /// Change settings by keyword (used by the next ``fit``). Returns ``self``.
    #[pyo3(signature = (**params))]
    fn set_params<'py>(
        mut slf: PyRefMut<'py, Self>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let py = slf.py();
        slf.rul.set_params(py, params)?;
        Ok(slf)
    }
});

/// `ExponentialRul`.
pub(crate) struct ExponentialKind;

impl RulKind for ExponentialKind {
    const CLASS: &'static str = "ExponentialRul";
    type Config = ExponentialRulConfig;
    type Fitted = FittedExponentialRul;
    const TABLE: &'static [(&'static str, &'static str)] = &[
        INDICATOR_TABLE[0],
        INDICATOR_TABLE[1],
        INDICATOR_TABLE[2],
        ("onset", "/onset"),
        ("phi", "/model/phi"),
        ("threshold", "/model/threshold"),
        ("horizon", "/model/horizon"),
    ];
    fn validate(c: &Self::Config) -> twin::Result<()> {
        c.validate()
    }
    fn fit(c: &Self::Config, fleet: &Fleet, progress: &Progress) -> twin::Result<Self::Fitted> {
        ExponentialRul::new(c.clone())?.fit_with(fleet, progress)
    }
    fn predict(f: &Self::Fitted, fleet: &Fleet) -> twin::Result<Vec<RulPrediction>> {
        f.predict_fleet(fleet)
    }
    fn config(f: &Self::Fitted) -> &Self::Config {
        f.config()
    }
    fn held_out(f: &Self::Fitted) -> HeldOutScores {
        f.held_out()
    }
    fn to_json(f: &Self::Fitted) -> twin::Result<String> {
        f.to_json()
    }
    fn from_json(s: &str) -> twin::Result<Self::Fitted> {
        FittedExponentialRul::from_json(s)
    }
}

/// RUL from an exponential degradation model with a Bayesian update (Gebraeel et al.
/// 2005) on a degradation indicator fused from the signals: the prior of the model's
/// parameters is learnt from the fleet, each unit's posterior is updated from its own
/// history, and the RUL is the predictive time to the failure threshold (``phi``,
/// ``threshold`` and ``horizon`` are estimated from the fleet when ``None``), with a
/// conformal interval.
///
/// >>> import numpy as np, twin
/// >>> rng = np.random.default_rng(0)
/// >>> lives = rng.integers(80, 160, 20)
/// >>> ids = np.repeat(np.arange(20), lives)
/// >>> rul = np.concatenate([np.arange(n)[::-1] for n in lives])
/// >>> X = np.c_[np.exp(-rul / 30.0), 2 * np.exp(-rul / 30.0)] + 0.02 * rng.standard_normal((len(ids), 2))
/// >>> m = twin.ExponentialRul(cap=60.0, folds=3).fit(X, ids)
/// >>> r, lo, hi = m.predict_interval(X[ids == 0][:-40], ids[ids == 0][:-40])   # 40 cycles left
/// >>> bool(lo[0] <= r[0] <= hi[0] and abs(r[0] - 40.0) < 20.0)
/// True
#[pyclass(dict, name = "ExponentialRul", module = "twin")]
pub struct PyExponentialRul {
    rul: Rul<ExponentialKind>,
}

impl PyExponentialRul {
    fn wrap(_py: Python<'_>, rul: Rul<ExponentialKind>) -> PyResult<Self> {
        Ok(PyExponentialRul { rul })
    }
}

rul_class!(PyExponentialRul, ExponentialKind, {
    #[new]
    #[pyo3(
        signature = (**params),
        text_signature = "(*, cap=125.0, smoothing=0.1, indicator_alpha=1.0, onset=0.1, phi=None, threshold=None, horizon=None, level=0.9, bins=4, min_per_bin=40, folds=5, stride=1, min_history=10, per_unit=True, seed=0, threads=0)"
    )]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(PyExponentialRul {
            rul: Rul::new(py, params)?,
        })
    }

    /// Change settings by keyword (used by the next ``fit``). Returns ``self``.
    #[pyo3(signature = (**params))]
    fn set_params<'py>(
        mut slf: PyRefMut<'py, Self>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let py = slf.py();
        slf.rul.set_params(py, params)?;
        Ok(slf)
    }
});

/// `RulEnsemble`: its members are held as JSON components in the flat map.
pub(crate) struct EnsembleKind;

impl RulKind for EnsembleKind {
    const CLASS: &'static str = "RulEnsemble";
    type Config = EnsembleConfig;
    type Fitted = FittedRulEnsemble;
    const TABLE: &'static [(&'static str, &'static str)] = &[
        ("cap", "/cap"),
        ("grid", "/grid"),
        ("members", "/components"),
    ];
    fn validate(c: &Self::Config) -> twin::Result<()> {
        c.validate()
    }
    fn fit(c: &Self::Config, fleet: &Fleet, progress: &Progress) -> twin::Result<Self::Fitted> {
        RulEnsemble::new(c.clone())?.fit_with(fleet, progress)
    }
    fn predict(f: &Self::Fitted, fleet: &Fleet) -> twin::Result<Vec<RulPrediction>> {
        f.predict_fleet(fleet)
    }
    fn config(f: &Self::Fitted) -> &Self::Config {
        f.config()
    }
    fn held_out(f: &Self::Fitted) -> HeldOutScores {
        f.held_out()
    }
    fn to_json(f: &Self::Fitted) -> twin::Result<String> {
        f.to_json()
    }
    fn from_json(s: &str) -> twin::Result<Self::Fitted> {
        FittedRulEnsemble::from_json(s)
    }
}

/// The JSON component of a member given by name or as a model object.
fn component(obj: &Bound<'_, PyAny>, i: usize) -> PyResult<Value> {
    if let Ok(s) = obj.cast::<PyString>() {
        let mut c = to_value(&RegressionConfig::default())?;
        return Ok(match s.to_cow()?.as_ref() {
            "boosting" => serde_json::json!({ "Regression": c }),
            "ridge" => {
                if let Some(slot) = c.pointer_mut("/learner") {
                    *slot = serde_json::json!({"Ridge": {"alpha": 1.0}});
                }
                serde_json::json!({ "Regression": c })
            }
            "similarity" => serde_json::json!({ "Similarity": to_value(&SimilarityConfig::default())? }),
            "exponential" => {
                serde_json::json!({ "Exponential": to_value(&ExponentialRulConfig::default())? })
            }
            other => {
                return Err(invalid_input(format!(
                    "members[{i}]: unknown model {other:?}; expected boosting, ridge, similarity or exponential"
                )))
            }
        });
    }
    if let Ok(m) = obj.cast::<PyRegressionRul>() {
        let c = config_of::<RegressionKind>(&m.borrow().rul.flat)?;
        return Ok(serde_json::json!({ "Regression": to_value(&c)? }));
    }
    if let Ok(m) = obj.cast::<PySimilarityRul>() {
        let c = config_of::<SimilarityKind>(&m.borrow().rul.flat)?;
        return Ok(serde_json::json!({ "Similarity": to_value(&c)? }));
    }
    if let Ok(m) = obj.cast::<PyExponentialRul>() {
        let c = config_of::<ExponentialKind>(&m.borrow().rul.flat)?;
        return Ok(serde_json::json!({ "Exponential": to_value(&c)? }));
    }
    Err(PyTypeError::new_err(format!(
        "members[{i}] must be a model name or a RegressionRul, SimilarityRul or ExponentialRul, got {}",
        obj.get_type().name()?
    )))
}

/// The members of a `RulEnsemble` given from Python, as JSON components.
fn components(members: &Bound<'_, PyAny>) -> PyResult<Value> {
    if members.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "members must be a sequence of model names or objects, not a str",
        ));
    }
    let mut out = Vec::new();
    for (i, m) in members.try_iter()?.enumerate() {
        out.push(component(&m?, i)?);
    }
    Ok(Value::Array(out))
}

/// A Python model object for a JSON component (for `get_params` of a loaded ensemble).
fn member_object<'py>(py: Python<'py>, c: &Value) -> PyResult<Bound<'py, PyAny>> {
    let (kind, cfg) = match c.as_object().and_then(|o| o.iter().next()) {
        Some((k, v)) => (k.as_str(), v.clone()),
        None => return Err(invalid_input("an ensemble member is not a component")),
    };
    let bad = |e: serde_json::Error| invalid_input(format!("ensemble member: {e}"));
    Ok(match kind {
        "Regression" => {
            let c: RegressionConfig = serde_json::from_value(cfg).map_err(bad)?;
            let rul = Rul::with(py, flat_of::<RegressionKind>(&c)?, None)?;
            Bound::new(py, PyRegressionRul { rul })?.into_any()
        }
        "Similarity" => {
            let c: SimilarityConfig = serde_json::from_value(cfg).map_err(bad)?;
            let rul = Rul::with(py, flat_of::<SimilarityKind>(&c)?, None)?;
            Bound::new(py, PySimilarityRul { rul })?.into_any()
        }
        _ => {
            let c: ExponentialRulConfig = serde_json::from_value(cfg).map_err(bad)?;
            let rul = Rul::with(py, flat_of::<ExponentialKind>(&c)?, None)?;
            Bound::new(py, PyExponentialRul { rul })?.into_any()
        }
    })
}

/// Replace `members` in keyword arguments by their JSON components, keeping the objects
/// given for `get_params`.
type Members<'py> = (Option<Bound<'py, PyDict>>, Option<Bound<'py, PyAny>>);

fn split_members<'py>(kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<Members<'py>> {
    let Some(kw) = kwargs else {
        return Ok((None, None));
    };
    let rest = kw.copy()?;
    let members = rest.get_item("members")?;
    if let Some(m) = &members {
        let json = components(m)?;
        rest.set_item("members", params::to_py(kw.py(), &json)?)?;
    }
    Ok((Some(rest), members))
}

/// Stacked RUL models, their weights chosen on out-of-fold predictions (a grid of
/// multiples of ``1/grid`` minimising the capped RMSE), with one conformal interval for
/// the stacked prediction. ``members`` are model names (``"boosting"``, ``"ridge"``,
/// ``"similarity"``, ``"exponential"``, each with default settings) or model objects
/// (their settings are used).
///
/// >>> import numpy as np, twin
/// >>> rng = np.random.default_rng(0)
/// >>> lives = rng.integers(80, 160, 20)
/// >>> ids = np.repeat(np.arange(20), lives)
/// >>> rul = np.concatenate([np.arange(n)[::-1] for n in lives])
/// >>> X = np.c_[np.exp(-rul / 30.0), 2 * np.exp(-rul / 30.0)] + 0.02 * rng.standard_normal((len(ids), 2))
/// >>> m = twin.RulEnsemble(members=['ridge', 'similarity'], cap=60.0, folds=3).fit(X, ids)
/// >>> r, lo, hi = m.predict_interval(X[ids == 0][:-40], ids[ids == 0][:-40])   # 40 cycles left
/// >>> bool(lo[0] <= r[0] <= hi[0] and abs(r[0] - 40.0) < 20.0)
/// True
#[pyclass(dict, name = "RulEnsemble", module = "twin")]
pub struct PyRulEnsemble {
    rul: Rul<EnsembleKind>,
}

impl PyRulEnsemble {
    fn wrap(py: Python<'_>, rul: Rul<EnsembleKind>) -> PyResult<Self> {
        // Members as model objects rather than JSON components.
        let objects = rul.objects.bind(py);
        if let Some(Value::Array(ms)) = rul.flat.get("members") {
            let objs = ms
                .iter()
                .map(|c| member_object(py, c))
                .collect::<PyResult<Vec<_>>>()?;
            objects.set_item("members", PyTuple::new(py, objs)?)?;
        }
        Ok(PyRulEnsemble { rul })
    }
}

rul_class!(PyRulEnsemble, EnsembleKind, {
    #[new]
    #[pyo3(
        signature = (**params),
        text_signature = "(*, members=('boosting', 'ridge', 'similarity', 'exponential'), cap=125.0, grid=20, level=0.9, bins=4, min_per_bin=40, folds=5, stride=1, min_history=10, per_unit=True, seed=0, threads=0)"
    )]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let (rest, members) = split_members(params)?;
        let rul = Rul::<EnsembleKind>::new(py, rest.as_ref())?;
        let objects = rul.objects.bind(py);
        match members {
            Some(m) => objects.set_item("members", m)?,
            None => objects.set_item(
                "members",
                PyTuple::new(py, ["boosting", "ridge", "similarity", "exponential"])?,
            )?,
        }
        Ok(PyRulEnsemble { rul })
    }

    /// Change settings by keyword (used by the next ``fit``). Returns ``self``.
    #[pyo3(signature = (**params))]
    fn set_params<'py>(
        mut slf: PyRefMut<'py, Self>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let py = slf.py();
        let (rest, members) = split_members(params)?;
        let prev_members = slf.rul.objects.bind(py).get_item("members")?;
        slf.rul.set_params(py, rest.as_ref())?;
        let objects = slf.rul.objects.bind(py).clone();
        if let Some(m) = members.or(prev_members) {
            objects.set_item("members", m)?;
        }
        Ok(slf)
    }

    /// The stacking weights of the members, in order (they add up to 1).
    #[getter]
    fn weights_(&self) -> PyResult<Vec<f64>> {
        Ok(self.rul.fitted()?.weights().to_vec())
    }
});
