//! Analytics engines and decision rules for Python twins: `twin.DetectorEngine`,
//! `twin.MultivariateEngine`, `twin.RulEngine` and `twin.DerateRule`, given to
//! `Twin(schema, engines=[...], rules=[...])`.
//!
//! Each wrapper takes a copy of the Python analytics object when it is made (its versioned
//! JSON, read through the object's own `to_json`), so later changes to that object never
//! reach a twin. The copy is immutable: every twin built from the wrapper (including the
//! rebuilds behind `Twin.from_snapshot`, pickling and `Fleet.insert`) starts from the same
//! saved model, and a snapshot then restores what the engine has learnt since.
//!
//! The Rust engines are the crate's own: [`DetectorEngine`] (one detector copy per watched
//! signal), [`MultivariateEngine`] and [`RulEngine`].

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};
use twin::analytics::detect::{
    self as det, DetectorEngine, EngineConfig, FittedMahalanobis, FittedPca, MultivariateEngine,
    Persist, StreamingDetector,
};
use twin::analytics::rul::engine::{RowClock, RulEngine, RulEngineConfig, RulPredictor};
use twin::analytics::rul::ensemble::FittedRulEnsemble;
use twin::analytics::rul::exponential::FittedExponentialRul;
use twin::analytics::rul::regression::FittedRegressionRul;
use twin::analytics::rul::similarity::FittedSimilarityRul;
use twin::analytics::{AnalyticsEngine, Insight};
use twin::decision::{DerateConfig, DerateRule};
use twin::{BatchRef, Schema, TwinBuilder};

use crate::errors::{invalid_input, to_py};
use crate::repr::quote;

// ---- the Rust side: what builds each engine and rule ----

/// An engine under another name (so that two engines of one kind can share a twin).
struct Named<E> {
    name: String,
    inner: E,
}

impl<E: AnalyticsEngine> AnalyticsEngine for Named<E> {
    fn name(&self) -> &str {
        &self.name
    }
    fn observe(&mut self, schema: &Schema, batch: BatchRef<'_>, out: &mut Vec<Insight>) {
        self.inner.observe(schema, batch, out);
    }
    fn save(&self) -> twin::Result<serde_json::Value> {
        self.inner.save()
    }
    fn restore(&mut self, state: serde_json::Value) -> twin::Result<()> {
        self.inner.restore(state)
    }
}

/// Add `engine` to `b`, under `name` if one was given.
fn add_engine<E: AnalyticsEngine + 'static>(
    b: TwinBuilder,
    engine: E,
    name: Option<&str>,
) -> TwinBuilder {
    match name {
        Some(n) => b.engine(Named {
            name: n.to_string(),
            inner: engine,
        }),
        None => b.engine(engine),
    }
}

/// The streaming detector classes a `DetectorEngine` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DetectorClass {
    Ewma,
    RobustZ,
    Cusum,
    PageHinkley,
    Hst,
    Ensemble,
}

const DETECTOR_CLASSES: [(&str, DetectorClass); 6] = [
    ("EwmaDetector", DetectorClass::Ewma),
    ("RobustZScore", DetectorClass::RobustZ),
    ("Cusum", DetectorClass::Cusum),
    ("PageHinkley", DetectorClass::PageHinkley),
    ("HalfSpaceTrees", DetectorClass::Hst),
    ("DetectorEnsemble", DetectorClass::Ensemble),
];

/// The multivariate detector classes a `MultivariateEngine` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MultivariateClass {
    Pca,
    Mahalanobis,
}

const MULTIVARIATE_CLASSES: [(&str, MultivariateClass); 2] = [
    ("PcaDetector", MultivariateClass::Pca),
    ("MahalanobisDetector", MultivariateClass::Mahalanobis),
];

/// The RUL model classes a `RulEngine` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RulClass {
    Regression,
    Similarity,
    Exponential,
    Ensemble,
}

const RUL_CLASSES: [(&str, RulClass); 4] = [
    ("RegressionRul", RulClass::Regression),
    ("SimilarityRul", RulClass::Similarity),
    ("ExponentialRul", RulClass::Exponential),
    ("RulEnsemble", RulClass::Ensemble),
];

/// What builds one analytics engine: the copied model (versioned JSON) and its settings.
#[derive(Debug, Clone)]
enum EngineSpec {
    /// A streaming detector on chosen signals.
    Detector {
        class: DetectorClass,
        json: String,
        signals: Option<Vec<String>>,
        include_properties: bool,
        name: String,
    },
    /// A fitted multivariate detector over named signals.
    Multivariate {
        class: MultivariateClass,
        json: String,
        signals: Vec<String>,
        name: Option<String>,
    },
    /// A fitted RUL model over named signals.
    Rul {
        class: RulClass,
        json: String,
        signals: Vec<String>,
        every: usize,
        max_rows: usize,
        clock: RowClock,
        unit: u64,
        name: Option<String>,
    },
}

fn watch<D: StreamingDetector + Persist + Clone + 'static>(
    b: TwinBuilder,
    json: &str,
    signals: Option<&[String]>,
    include_properties: bool,
    name: &str,
) -> twin::Result<TwinBuilder> {
    let d = D::from_json(json)?;
    let schema = b.schema();
    let e = match signals {
        Some(names) => {
            let ids = names
                .iter()
                .map(|s| schema.signal_id(s))
                .collect::<twin::Result<Vec<_>>>()?;
            DetectorEngine::on_signals(schema, d, &ids)?
        }
        None => DetectorEngine::new(schema, d, EngineConfig { include_properties })?,
    };
    if e.signals().next().is_none() {
        return Err(twin::Error::InvalidInput(
            "the engine watches no signal".into(),
        ));
    }
    Ok(b.engine(e.named(name)))
}

fn rul<M: RulPredictor + 'static>(
    b: TwinBuilder,
    model: M,
    config: RulEngineConfig,
    name: Option<&str>,
) -> twin::Result<TwinBuilder> {
    let e = RulEngine::new(model, config)?;
    Ok(add_engine(b, e, name))
}

impl EngineSpec {
    /// Add the engine to a twin builder (resolving its signals against the builder's
    /// schema).
    fn attach(&self, b: TwinBuilder) -> twin::Result<TwinBuilder> {
        match self {
            EngineSpec::Detector {
                class,
                json,
                signals,
                include_properties,
                name,
            } => {
                let (s, p) = (signals.as_deref(), *include_properties);
                match class {
                    DetectorClass::Ewma => watch::<det::EwmaDetector>(b, json, s, p, name),
                    DetectorClass::RobustZ => watch::<det::RobustZScore>(b, json, s, p, name),
                    DetectorClass::Cusum => watch::<det::Cusum>(b, json, s, p, name),
                    DetectorClass::PageHinkley => watch::<det::PageHinkley>(b, json, s, p, name),
                    DetectorClass::Hst => watch::<det::HalfSpaceTrees>(b, json, s, p, name),
                    DetectorClass::Ensemble => watch::<det::Ensemble>(b, json, s, p, name),
                }
            }
            EngineSpec::Multivariate {
                class,
                json,
                signals,
                name,
            } => {
                let names: Vec<&str> = signals.iter().map(String::as_str).collect();
                match class {
                    MultivariateClass::Pca => {
                        let e = MultivariateEngine::new(
                            b.schema(),
                            FittedPca::from_json(json)?,
                            &names,
                        )?;
                        Ok(add_engine(b, e, name.as_deref()))
                    }
                    MultivariateClass::Mahalanobis => {
                        let m = FittedMahalanobis::from_json(json)?;
                        let e = MultivariateEngine::new(b.schema(), m, &names)?;
                        Ok(add_engine(b, e, name.as_deref()))
                    }
                }
            }
            EngineSpec::Rul {
                class,
                json,
                signals,
                every,
                max_rows,
                clock,
                unit,
                name,
            } => {
                let ids = signals
                    .iter()
                    .map(|s| b.schema().signal_id(s))
                    .collect::<twin::Result<Vec<_>>>()?;
                let config = RulEngineConfig {
                    signals: ids,
                    every: *every,
                    max_rows: *max_rows,
                    clock: *clock,
                    unit: *unit,
                };
                let n = name.as_deref();
                match class {
                    RulClass::Regression => {
                        rul(b, FittedRegressionRul::from_json(json)?, config, n)
                    }
                    RulClass::Similarity => {
                        rul(b, FittedSimilarityRul::from_json(json)?, config, n)
                    }
                    RulClass::Exponential => {
                        rul(b, FittedExponentialRul::from_json(json)?, config, n)
                    }
                    RulClass::Ensemble => rul(b, FittedRulEnsemble::from_json(json)?, config, n),
                }
            }
        }
    }
}

/// What builds one decision rule.
#[derive(Debug, Clone)]
enum RuleSpec {
    /// A [`DerateRule`].
    Derate(DerateConfig),
}

impl RuleSpec {
    fn attach(&self, b: TwinBuilder) -> twin::Result<TwinBuilder> {
        match self {
            RuleSpec::Derate(c) => {
                let r = DerateRule::new(b.schema(), c.clone())?;
                Ok(b.rule(r))
            }
        }
    }
}

/// One engine or rule of a twin: the Python wrapper (for pickling, the repr and the
/// `engines`/`rules` properties) and what builds its Rust part.
struct Part<S> {
    obj: Py<PyAny>,
    spec: Arc<S>,
}

/// The engines and rules a twin was built with, in order.
#[derive(Default)]
pub(crate) struct Parts {
    engines: Vec<Part<EngineSpec>>,
    rules: Vec<Part<RuleSpec>>,
}

/// `err` with its message prefixed by the argument it is about, same exception class.
pub(crate) fn at_arg(py: Python<'_>, arg: &str, err: PyErr) -> PyErr {
    let msg = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    PyErr::from_type(err.get_type(py), format!("{arg}: {msg}"))
}

impl Parts {
    /// Read the `engines` and `rules` arguments of `Twin`: sequences of wrapper objects.
    /// A wrong type raises `TypeError` naming the position (`engines[1]`).
    pub(crate) fn from_args(
        engines: Option<&Bound<'_, PyAny>>,
        rules: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Parts> {
        let mut parts = Parts::default();
        for (i, obj) in sequence("engines", engines)?.into_iter().enumerate() {
            let spec = if let Ok(e) = obj.cast::<PyDetectorEngine>() {
                e.get().spec.clone()
            } else if let Ok(e) = obj.cast::<PyMultivariateEngine>() {
                e.get().spec.clone()
            } else if let Ok(e) = obj.cast::<PyRulEngine>() {
                e.get().spec.clone()
            } else {
                return Err(PyTypeError::new_err(format!(
                    "engines[{i}]: expected a twin.DetectorEngine, twin.MultivariateEngine or twin.RulEngine, got {}{}",
                    type_name(&obj),
                    hint(&obj)
                )));
            };
            parts.engines.push(Part {
                obj: obj.unbind(),
                spec,
            });
        }
        for (i, obj) in sequence("rules", rules)?.into_iter().enumerate() {
            let Ok(r) = obj.cast::<PyDerateRule>() else {
                return Err(PyTypeError::new_err(format!(
                    "rules[{i}]: expected a twin.DerateRule, got {}",
                    type_name(&obj)
                )));
            };
            let spec = r.get().spec.clone();
            parts.rules.push(Part {
                obj: obj.unbind(),
                spec,
            });
        }
        Ok(parts)
    }

    /// Add every engine, then every rule, to `b`; an error says which argument failed
    /// (`"engines[0]"`, `"rules[2]"`).
    pub(crate) fn attach_named(
        &self,
        mut b: TwinBuilder,
    ) -> Result<TwinBuilder, (String, twin::Error)> {
        for (i, p) in self.engines.iter().enumerate() {
            b = p.spec.attach(b).map_err(|e| (format!("engines[{i}]"), e))?;
        }
        for (i, p) in self.rules.iter().enumerate() {
            b = p.spec.attach(b).map_err(|e| (format!("rules[{i}]"), e))?;
        }
        Ok(b)
    }

    /// Add every engine, then every rule, to `b`.
    pub(crate) fn attach(&self, b: TwinBuilder) -> twin::Result<TwinBuilder> {
        self.attach_named(b).map_err(|(_, e)| e)
    }

    /// [`Parts::attach`] with a Python error naming the failing argument.
    pub(crate) fn attach_py(&self, py: Python<'_>, b: TwinBuilder) -> PyResult<TwinBuilder> {
        self.attach_named(b)
            .map_err(|(arg, e)| at_arg(py, &arg, to_py(e)))
    }

    /// Another handle on the same parts.
    pub(crate) fn clone_ref(&self, py: Python<'_>) -> Parts {
        let copy = |p: &Part<EngineSpec>| Part {
            obj: p.obj.clone_ref(py),
            spec: p.spec.clone(),
        };
        Parts {
            engines: self.engines.iter().map(copy).collect(),
            rules: self
                .rules
                .iter()
                .map(|p| Part {
                    obj: p.obj.clone_ref(py),
                    spec: p.spec.clone(),
                })
                .collect(),
        }
    }

    /// The rules' names, in order.
    pub(crate) fn rule_names(&self) -> Vec<&'static str> {
        self.rules
            .iter()
            .map(|p| match &*p.spec {
                RuleSpec::Derate(_) => "derate_on_persistent_anomaly",
            })
            .collect()
    }

    /// Whether there is no engine and no rule.
    pub(crate) fn is_empty(&self) -> bool {
        self.engines.is_empty() && self.rules.is_empty()
    }

    /// The engine wrappers, as a tuple.
    pub(crate) fn engines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.engines.iter().map(|p| p.obj.bind(py)))
    }

    /// The rule wrappers, as a tuple.
    pub(crate) fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.rules.iter().map(|p| p.obj.bind(py)))
    }
}

/// The items of a sequence argument (`None` is empty; a str is refused).
fn sequence<'py>(arg: &str, obj: Option<&Bound<'py, PyAny>>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let Some(obj) = obj else {
        return Ok(Vec::new());
    };
    if obj.is_none() {
        return Ok(Vec::new());
    }
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a sequence, not a str"
        )));
    }
    let iter = obj.try_iter().map_err(|_| {
        PyTypeError::new_err(format!("{arg} must be a sequence, got {}", type_name(obj)))
    })?;
    iter.collect()
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// What to wrap a bare analytics object in.
fn hint(obj: &Bound<'_, PyAny>) -> &'static str {
    let n = type_name(obj);
    if DETECTOR_CLASSES.iter().any(|(c, _)| *c == n) {
        " (wrap it: twin.DetectorEngine(detector, signals=...))"
    } else if MULTIVARIATE_CLASSES.iter().any(|(c, _)| *c == n) {
        " (wrap it: twin.MultivariateEngine(model, signals=[...]))"
    } else if RUL_CLASSES.iter().any(|(c, _)| *c == n) {
        " (wrap it: twin.RulEngine(model, signals=[...]))"
    } else {
        ""
    }
}

/// The class of a twin analytics object among `table`, and a copy of it as JSON (read
/// through its `to_json`: an unfitted model raises its own "not fitted" error).
fn copy_of<C: Copy>(
    arg: &str,
    obj: &Bound<'_, PyAny>,
    table: &[(&str, C)],
    expected: &str,
) -> PyResult<(C, String)> {
    let py = obj.py();
    let n = type_name(obj);
    let module = py.import("twin._twin")?;
    let class = table.iter().find_map(|(name, c)| {
        let cls = module.getattr(*name).ok()?;
        obj.get_type().is(&cls).then_some(*c)
    });
    let Some(class) = class else {
        return Err(PyTypeError::new_err(format!(
            "{arg}: expected {expected}, got {n}"
        )));
    };
    let json: String = obj
        .call_method0("to_json")
        .and_then(|j| j.extract())
        .map_err(|e| at_arg(py, arg, e))?;
    Ok((class, json))
}

/// The `signals` argument: a name or a sequence of names.
fn signal_names(arg: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = arg.extract::<String>() {
        return Ok(vec![s]);
    }
    let names: Vec<String> = arg.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "signals must be a signal name or a sequence of names, got {}",
            type_name(arg)
        ))
    })?;
    if names.is_empty() {
        return Err(invalid_input("signals: at least one signal is needed"));
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(invalid_input(format!("signals: {n:?} is listed twice")));
        }
    }
    Ok(names)
}

fn names_repr(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| quote(n)).collect();
    format!("[{}]", q.join(", "))
}

/// A fresh Python object of `class` (by its name in `twin._twin`) from saved JSON.
fn object_from_json<'py>(py: Python<'py>, class: &str, json: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("twin._twin")?
        .getattr(class)?
        .call_method1("from_json", (json,))
}

fn class_name<C: Copy + PartialEq>(table: &[(&'static str, C)], c: C) -> &'static str {
    table
        .iter()
        .find_map(|(n, x)| (*x == c).then_some(*n))
        .unwrap_or("?")
}

// ---- the Python classes ----

/// A streaming detector watching signals of a twin, for ``Twin(engines=[...])``.
///
/// ``detector`` is an :class:`EwmaDetector`, :class:`RobustZScore`, :class:`Cusum`,
/// :class:`PageHinkley`, :class:`HalfSpaceTrees` or :class:`DetectorEnsemble`; the engine
/// keeps a copy of it as it is now (what it has learnt included), one copy per watched
/// signal. ``signals`` is a signal name or a list of names; ``None`` watches every
/// telemetry signal (and the properties too with ``include_properties=True``). Each alarm
/// becomes an :class:`Insight` (``"anomaly"``, or ``"drift"`` for CUSUM and Page-Hinkley)
/// whose score is the likelihood. ``name`` is the engine's name in the twin (default
/// ``"<detector>_detector"``, with the signals in brackets when they are chosen).
///
/// >>> import twin
/// >>> e = twin.DetectorEngine(twin.Cusum(warmup=50), signals="vibration")
/// >>> e.name
/// 'cusum_detector[vibration]'
/// >>> t = twin.Twin(twin.Schema.conveyor(), monitor=False, engines=[e])
/// >>> t.engine_names
/// ['cusum_detector[vibration]']
#[pyclass(frozen, name = "DetectorEngine", module = "twin")]
pub struct PyDetectorEngine {
    spec: Arc<EngineSpec>,
}

#[pymethods]
impl PyDetectorEngine {
    #[new]
    #[pyo3(signature = (detector, signals = None, include_properties = false, name = None))]
    fn new(
        detector: &Bound<'_, PyAny>,
        signals: Option<&Bound<'_, PyAny>>,
        include_properties: bool,
        name: Option<String>,
    ) -> PyResult<Self> {
        let (class, json) = copy_of(
            "detector",
            detector,
            &DETECTOR_CLASSES,
            "a streaming detector (EwmaDetector, RobustZScore, Cusum, PageHinkley, HalfSpaceTrees or DetectorEnsemble)",
        )?;
        let signals = signals
            .filter(|s| !s.is_none())
            .map(signal_names)
            .transpose()?;
        let kind = detector_name(class, &json)?;
        let name = match name {
            Some(n) if n.is_empty() => return Err(invalid_input("name must not be empty")),
            Some(n) => n,
            None => match &signals {
                Some(s) => format!("{kind}_detector[{}]", s.join(",")),
                None => format!("{kind}_detector"),
            },
        };
        Ok(PyDetectorEngine {
            spec: Arc::new(EngineSpec::Detector {
                class,
                json,
                signals,
                include_properties,
                name,
            }),
        })
    }

    /// The engine's name in the twin (as in :attr:`Twin.engine_names`).
    #[getter]
    fn name(&self) -> String {
        match &*self.spec {
            EngineSpec::Detector { name, .. } => name.clone(),
            _ => String::new(),
        }
    }

    /// The watched signal names, or ``None`` for every telemetry signal.
    #[getter]
    fn signals(&self) -> Option<Vec<String>> {
        match &*self.spec {
            EngineSpec::Detector { signals, .. } => signals.clone(),
            _ => None,
        }
    }

    /// Whether properties are watched too (when ``signals`` is ``None``).
    #[getter]
    fn include_properties(&self) -> bool {
        matches!(
            &*self.spec,
            EngineSpec::Detector {
                include_properties: true,
                ..
            }
        )
    }

    /// A new copy of the detector as the engine took it.
    #[getter]
    fn detector<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &*self.spec {
            EngineSpec::Detector { class, json, .. } => {
                object_from_json(py, class_name(&DETECTOR_CLASSES, *class), json)
            }
            _ => Err(invalid_input("not a detector engine")),
        }
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        let args = PyTuple::new(
            py,
            [
                this.detector(py)?,
                this.signals().into_pyobject(py)?.into_any(),
                this.include_properties()
                    .into_pyobject(py)?
                    .to_owned()
                    .into_any(),
                this.name().into_pyobject(py)?.into_any(),
            ],
        )?;
        Ok((py.get_type::<PyDetectorEngine>(), args))
    }

    fn __repr__(&self) -> String {
        match &*self.spec {
            EngineSpec::Detector {
                class,
                signals,
                include_properties,
                name,
                ..
            } => {
                let on = match signals {
                    Some(s) => format!("signals={}", names_repr(s)),
                    None if *include_properties => "every signal".into(),
                    None => "every telemetry signal".into(),
                };
                format!(
                    "DetectorEngine({}, {on}, name={})",
                    class_name(&DETECTOR_CLASSES, *class),
                    quote(name)
                )
            }
            _ => "DetectorEngine(?)".into(),
        }
    }
}

/// The short name of a detector saved as `json` (`"cusum"`, `"hst"`, ...).
fn detector_name(class: DetectorClass, json: &str) -> PyResult<&'static str> {
    fn name<D: StreamingDetector + Persist>(json: &str) -> PyResult<&'static str> {
        D::from_json(json).map(|d| d.name()).map_err(to_py)
    }
    match class {
        DetectorClass::Ewma => name::<det::EwmaDetector>(json),
        DetectorClass::RobustZ => name::<det::RobustZScore>(json),
        DetectorClass::Cusum => name::<det::Cusum>(json),
        DetectorClass::PageHinkley => name::<det::PageHinkley>(json),
        DetectorClass::Hst => name::<det::HalfSpaceTrees>(json),
        DetectorClass::Ensemble => name::<det::Ensemble>(json),
    }
}

/// A fitted multivariate detector scoring named signals of a twin together, for
/// ``Twin(engines=[...])``.
///
/// ``model`` is a fitted :class:`PcaDetector` or :class:`MahalanobisDetector` (copied);
/// ``signals`` names the twin's signals in the model's column order. The engine keeps the
/// latest value of each and scores the vector once per scan (when a later time arrives,
/// and at the end of each batch, once every signal has reported); an alarm becomes an
/// ``"anomaly"`` insight on the signal that contributes most. ``name`` replaces the
/// default engine name (``"pca_multivariate"``, ``"mahalanobis_multivariate"``).
///
/// >>> import numpy as np, twin
/// >>> rng = np.random.default_rng(0)
/// >>> s = rng.normal(1.5, 0.1, 500)
/// >>> X = np.column_stack([s, 2.0 * s + rng.normal(0.0, 0.02, 500)])
/// >>> e = twin.MultivariateEngine(twin.MahalanobisDetector().fit(X), ["belt_speed", "vibration"])
/// >>> t = twin.Twin(twin.Schema.conveyor(), monitor=False, engines=[e])
/// >>> t.ingest_batch([0, 0, 1, 1], [0, 1, 0, 1], [1.5, 3.0, 1.5, 1.0]).accepted
/// 4
/// >>> [(i.time, i.kind) for i in t.drain_insights()]
/// [(1, 'anomaly')]
#[pyclass(frozen, name = "MultivariateEngine", module = "twin")]
pub struct PyMultivariateEngine {
    spec: Arc<EngineSpec>,
}

#[pymethods]
impl PyMultivariateEngine {
    #[new]
    #[pyo3(signature = (model, signals, name = None))]
    fn new(
        model: &Bound<'_, PyAny>,
        signals: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let (class, json) = copy_of(
            "model",
            model,
            &MULTIVARIATE_CLASSES,
            "a fitted PcaDetector or MahalanobisDetector",
        )?;
        let signals = signal_names(signals)?;
        let dim = match class {
            MultivariateClass::Pca => FittedPca::from_json(&json).map(|m| m.dim()),
            MultivariateClass::Mahalanobis => FittedMahalanobis::from_json(&json).map(|m| m.dim()),
        }
        .map_err(to_py)?;
        if dim != signals.len() {
            return Err(invalid_input(format!(
                "signals: {} names given for a model of {dim} variables",
                signals.len()
            )));
        }
        if name.as_deref() == Some("") {
            return Err(invalid_input("name must not be empty"));
        }
        Ok(PyMultivariateEngine {
            spec: Arc::new(EngineSpec::Multivariate {
                class,
                json,
                signals,
                name,
            }),
        })
    }

    /// The engine's name in the twin (as in :attr:`Twin.engine_names`).
    #[getter]
    fn name(&self) -> String {
        match &*self.spec {
            EngineSpec::Multivariate { name: Some(n), .. } => n.clone(),
            EngineSpec::Multivariate {
                class: MultivariateClass::Pca,
                ..
            } => "pca_multivariate".into(),
            _ => "mahalanobis_multivariate".into(),
        }
    }

    /// The signal names, in the model's column order.
    #[getter]
    fn signals(&self) -> Vec<String> {
        match &*self.spec {
            EngineSpec::Multivariate { signals, .. } => signals.clone(),
            _ => Vec::new(),
        }
    }

    /// A new copy of the fitted model.
    #[getter]
    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &*self.spec {
            EngineSpec::Multivariate { class, json, .. } => {
                object_from_json(py, class_name(&MULTIVARIATE_CLASSES, *class), json)
            }
            _ => Err(invalid_input("not a multivariate engine")),
        }
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        let name = match &*this.spec {
            EngineSpec::Multivariate { name, .. } => name.clone(),
            _ => None,
        };
        let args = PyTuple::new(
            py,
            [
                this.model(py)?,
                this.signals().into_pyobject(py)?.into_any(),
                name.into_pyobject(py)?.into_any(),
            ],
        )?;
        Ok((py.get_type::<PyMultivariateEngine>(), args))
    }

    fn __repr__(&self) -> String {
        match &*self.spec {
            EngineSpec::Multivariate { class, signals, .. } => format!(
                "MultivariateEngine({}, signals={}, name={})",
                class_name(&MULTIVARIATE_CLASSES, *class),
                names_repr(signals),
                quote(&self.name())
            ),
            _ => "MultivariateEngine(?)".into(),
        }
    }
}

/// A fitted RUL model running on a twin's live data, for ``Twin(engines=[...])``.
///
/// ``model`` is a fitted :class:`RegressionRul`, :class:`SimilarityRul`,
/// :class:`ExponentialRul` or :class:`RulEnsemble` (copied); ``signals`` names the twin's
/// signals in the model's column order. A row is complete once every signal has reported
/// since the previous row; after every ``every`` rows the model predicts from the rows so
/// far (at most ``max_rows`` kept) and the prediction becomes an ``"rul"`` insight whose
/// ``value`` is the point RUL and ``score`` the lower end of its interval. ``clock`` is
/// ``"cycles"`` (rows numbered 1, 2, 3, ...) or ``"seconds"`` (the rows' sample times, in
/// s): train the model on the same clock. ``unit`` is the unit id passed to the model.
/// ``name`` replaces the default engine name ``"rul"``.
///
/// >>> import twin
/// >>> twin.RulEngine(twin.ExponentialRul(), "vibration")
/// Traceback (most recent call last):
///     ...
/// twin.InvalidInputError: model: invalid input: this ExponentialRul is not fitted yet: call fit first
///
/// Fitted, it runs on the twin's stream: ``twin.Twin(schema, engines=[twin.RulEngine(model,
/// ["vibration"])])`` (see ``tests/python/test_engines.py`` for a degrading conveyor).
#[pyclass(frozen, name = "RulEngine", module = "twin")]
pub struct PyRulEngine {
    spec: Arc<EngineSpec>,
}

fn clock_name(c: RowClock) -> &'static str {
    match c {
        RowClock::Cycles => "cycles",
        RowClock::Seconds => "seconds",
    }
}

#[pymethods]
impl PyRulEngine {
    #[new]
    #[pyo3(signature = (model, signals, every = 1, max_rows = 1000, clock = "cycles", unit = 0, name = None))]
    fn new(
        model: &Bound<'_, PyAny>,
        signals: &Bound<'_, PyAny>,
        every: usize,
        max_rows: usize,
        clock: &str,
        unit: u64,
        name: Option<String>,
    ) -> PyResult<Self> {
        let (class, json) = copy_of(
            "model",
            model,
            &RUL_CLASSES,
            "a fitted RegressionRul, SimilarityRul, ExponentialRul or RulEnsemble",
        )?;
        let signals = signal_names(signals)?;
        let clock = match clock {
            "cycles" => RowClock::Cycles,
            "seconds" => RowClock::Seconds,
            other => {
                return Err(invalid_input(format!(
                    "clock must be \"cycles\" or \"seconds\", got {other:?}"
                )))
            }
        };
        if name.as_deref() == Some("") {
            return Err(invalid_input("name must not be empty"));
        }
        let spec = EngineSpec::Rul {
            class,
            json,
            signals,
            every,
            max_rows,
            clock,
            unit,
            name,
        };
        // Check the settings and the model's width now, on a schema of just these signals.
        let mut sb = twin::Schema::builder("rul_engine_check");
        if let EngineSpec::Rul { signals, .. } = &spec {
            for s in signals {
                sb = sb.telemetry(twin::SignalSpec::new(s.as_str(), ""));
            }
        }
        let schema = sb.build().map_err(to_py)?;
        spec.attach(twin::Twin::builder(schema)).map_err(to_py)?;
        Ok(PyRulEngine {
            spec: Arc::new(spec),
        })
    }

    /// The engine's name in the twin (as in :attr:`Twin.engine_names`).
    #[getter]
    fn name(&self) -> String {
        match &*self.spec {
            EngineSpec::Rul { name: Some(n), .. } => n.clone(),
            _ => "rul".into(),
        }
    }

    /// The signal names, in the model's column order.
    #[getter]
    fn signals(&self) -> Vec<String> {
        match &*self.spec {
            EngineSpec::Rul { signals, .. } => signals.clone(),
            _ => Vec::new(),
        }
    }

    /// A new copy of the fitted model.
    #[getter]
    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &*self.spec {
            EngineSpec::Rul { class, json, .. } => {
                object_from_json(py, class_name(&RUL_CLASSES, *class), json)
            }
            _ => Err(invalid_input("not a RUL engine")),
        }
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        let EngineSpec::Rul {
            every,
            max_rows,
            clock,
            unit,
            name,
            ..
        } = &*this.spec
        else {
            return Err(invalid_input("not a RUL engine"));
        };
        let args = PyTuple::new(
            py,
            [
                this.model(py)?,
                this.signals().into_pyobject(py)?.into_any(),
                every.into_pyobject(py)?.into_any(),
                max_rows.into_pyobject(py)?.into_any(),
                clock_name(*clock).into_pyobject(py)?.into_any(),
                unit.into_pyobject(py)?.into_any(),
                name.clone().into_pyobject(py)?.into_any(),
            ],
        )?;
        Ok((py.get_type::<PyRulEngine>(), args))
    }

    fn __repr__(&self) -> String {
        match &*self.spec {
            EngineSpec::Rul {
                class,
                signals,
                every,
                clock,
                ..
            } => format!(
                "RulEngine({}, signals={}, every={every}, clock={}, name={})",
                class_name(&RUL_CLASSES, *class),
                names_repr(signals),
                quote(clock_name(*clock)),
                quote(&self.name())
            ),
            _ => "RulEngine(?)".into(),
        }
    }
}

/// A decision rule that derates a set-point when abnormal insights on a signal persist,
/// for ``Twin(rules=[...])``.
///
/// When at least ``min_events`` abnormal insights (anomalies, drifts, alarms) on
/// ``signal`` fall within ``window_s`` seconds, the rule requests ``command`` at the
/// property's current value (desired, else reported) times ``factor``, never below
/// ``floor``, then waits ``cooldown_s`` seconds before acting again. The request goes
/// through the twin's command gate (limits, rate limits) like :meth:`Twin.command`: an
/// accepted one waits in :meth:`Twin.pending_commands`; either way it is in
/// :meth:`Twin.audit_log` with the rule's name as its source. The defaults are the
/// conveyor's: three vibration events in six hours cut ``set_speed`` by 20%, at most once
/// a day, never below 1 m/s.
///
/// >>> import twin
/// >>> r = twin.DerateRule(min_events=2)
/// >>> r
/// DerateRule(signal='vibration', command='set_speed', min_events=2, window_s=21600.0, factor=0.8, floor=1.0, cooldown_s=86400.0)
/// >>> twin.Twin(twin.Schema.conveyor(), rules=[r]).rules == (r,)
/// True
#[pyclass(frozen, name = "DerateRule", module = "twin")]
pub struct PyDerateRule {
    spec: Arc<RuleSpec>,
}

impl PyDerateRule {
    fn config(&self) -> &DerateConfig {
        match &*self.spec {
            RuleSpec::Derate(c) => c,
        }
    }
}

#[pymethods]
impl PyDerateRule {
    #[new]
    #[pyo3(signature = (signal = "vibration".to_string(), command = "set_speed".to_string(), min_events = 3, window_s = 21600.0, factor = 0.8, floor = 1.0, cooldown_s = 86400.0), text_signature = "(signal='vibration', command='set_speed', min_events=3, window_s=21600.0, factor=0.8, floor=1.0, cooldown_s=86400.0)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        signal: String,
        command: String,
        min_events: usize,
        window_s: f64,
        factor: f64,
        floor: f64,
        cooldown_s: f64,
    ) -> PyResult<Self> {
        let config = DerateConfig {
            signal,
            command,
            min_events,
            window_s,
            factor,
            floor,
            cooldown_s,
        };
        // Check the numbers now, on a schema of just this signal and command.
        let check = twin::Schema::builder("derate_rule_check")
            .telemetry(twin::SignalSpec::new(config.signal.as_str(), ""))
            .property(twin::SignalSpec::new("__derate_setpoint", ""))
            .command(
                twin::CommandSpec::new(config.command.as_str(), "", -1e12, 1e12)
                    .property("__derate_setpoint"),
            )
            .build()
            .map_err(to_py)?;
        DerateRule::new(&check, config.clone()).map_err(to_py)?;
        Ok(PyDerateRule {
            spec: Arc::new(RuleSpec::Derate(config)),
        })
    }

    /// The watched signal.
    #[getter]
    fn signal(&self) -> String {
        self.config().signal.clone()
    }
    /// The command that sets the derated value.
    #[getter]
    fn command(&self) -> String {
        self.config().command.clone()
    }
    /// Abnormal insights needed within the window to act.
    #[getter]
    fn min_events(&self) -> usize {
        self.config().min_events
    }
    /// The window, s.
    #[getter]
    fn window_s(&self) -> f64 {
        self.config().window_s
    }
    /// Each derate multiplies the set-point by this factor, in (0, 1).
    #[getter]
    fn factor(&self) -> f64 {
        self.config().factor
    }
    /// The set-point is never derated below this.
    #[getter]
    fn floor(&self) -> f64 {
        self.config().floor
    }
    /// Time after a derate before the rule may act again, s.
    #[getter]
    fn cooldown_s(&self) -> f64 {
        self.config().cooldown_s
    }
    /// The rule's name in the twin (the ``source`` of its commands in the audit log).
    #[getter]
    fn name(&self) -> &'static str {
        "derate_on_persistent_anomaly"
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyDerateRule>()
            .is_ok_and(|o| o.get().config() == self.config())
    }

    fn __hash__(&self) -> u64 {
        let c = self.config();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in format!("{c:?}").bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let c = slf.get().config().clone();
        let args = (
            c.signal,
            c.command,
            c.min_events,
            c.window_s,
            c.factor,
            c.floor,
            c.cooldown_s,
        )
            .into_pyobject(py)?;
        Ok((py.get_type::<PyDerateRule>(), args))
    }

    fn __repr__(&self) -> String {
        let c = self.config();
        format!(
            "DerateRule(signal={}, command={}, min_events={}, window_s={:?}, factor={:?}, floor={:?}, cooldown_s={:?})",
            quote(&c.signal),
            quote(&c.command),
            c.min_events,
            c.window_s,
            c.factor,
            c.floor,
            c.cooldown_s
        )
    }
}
