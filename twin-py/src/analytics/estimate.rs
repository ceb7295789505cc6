//! State estimation and prognosis from Python: the built-in `LinearModel` (matrices from
//! numpy) and `BatteryCircuit`, user-defined models as Python callables (`StateModel`),
//! the `KalmanFilter`, `UnscentedKalmanFilter` and `ParticleFilter`, and Monte Carlo
//! time-of-event prediction (`predict_event`).

use std::sync::Mutex;

use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use twin::analytics::estimate::{
    BatteryCircuit, BatteryCircuitParams, ConstantInput, Dims, KalmanFilter, LinearModel,
    MonteCarlo, ParticleConfig, ParticleFilter, PredictorConfig, StateEstimator, StateSpaceModel,
    UkfConfig, UnscentedKalmanFilter,
};

use super::arrays;
use super::model::maybe_detach;
use crate::errors::{invalid_input, to_py};

/// A vector argument as an owned `Vec<f64>` (`None` → empty).
fn vec_of(arg: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<f64>> {
    match obj {
        None => Ok(Vec::new()),
        Some(o) if o.is_none() => Ok(Vec::new()),
        Some(o) => {
            let ro = arrays::vector(arg, o)?;
            Ok(arrays::slice(arg, &ro)?.to_vec())
        }
    }
}

/// A matrix argument as a row-major `Vec<f64>` with its shape, `None` → `None`.
fn mat_of(arg: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<(Vec<f64>, usize, usize)>> {
    let Some(o) = obj else { return Ok(None) };
    if o.is_none() {
        return Ok(None);
    }
    let ro = arrays::matrix(arg, o)?;
    let a = ro.as_array();
    let (r, c) = a.dim();
    Ok(Some((a.iter().copied().collect(), r, c)))
}

fn square(arg: &str, m: &Option<(Vec<f64>, usize, usize)>, n: usize) -> PyResult<()> {
    if let Some((_, r, c)) = m {
        if (*r, *c) != (n, n) {
            return Err(invalid_input(format!(
                "{arg} must be {n} × {n}, got {r} × {c}"
            )));
        }
    }
    Ok(())
}

/// A linear Gaussian state-space model: ``x' = F x + B u + w`` (discrete, one step per
/// ``period``) or ``dx/dt = A x + B u`` (continuous, discretised exactly for each step),
/// ``z = H x + D u + v``, with process noise covariance ``process_noise`` (per step for a
/// discrete model; the continuous white-noise intensity for a continuous one) and
/// measurement noise covariance ``measurement_noise``. ``event_weights`` and
/// ``event_level`` define an event (``weights · x`` reaching ``level``) for
/// :meth:`UnscentedKalmanFilter.predict_event`.
///
/// >>> import numpy as np, twin
/// >>> m = twin.LinearModel(observation=[[1.0, 0.0]], dynamics=[[0.0, 1.0], [0.0, 0.0]],
/// ...                      process_noise=np.zeros((2, 2)), measurement_noise=[[1e-4]],
/// ...                      event_weights=[1.0, 0.0], event_level=1.0)
/// >>> kf = twin.KalmanFilter(m, [0.1, 0.003], np.diag([1e-20, 1e-20]))
/// >>> round(kf.predict_event([], samples=3, dt=0.7, horizon=1000.0)["median"], 3)   # 0.9 / 0.003
/// 300.0
#[pyclass(name = "LinearModel", module = "twin", frozen)]
pub struct PyLinearModel {
    inner: LinearModel,
}

#[pymethods]
impl PyLinearModel {
    #[new]
    #[pyo3(signature = (*, observation, process_noise, measurement_noise, transition=None, period=1.0, dynamics=None, input_matrix=None, feedthrough=None, event_weights=None, event_level=0.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        observation: &Bound<'_, PyAny>,
        process_noise: &Bound<'_, PyAny>,
        measurement_noise: &Bound<'_, PyAny>,
        transition: Option<&Bound<'_, PyAny>>,
        period: f64,
        dynamics: Option<&Bound<'_, PyAny>>,
        input_matrix: Option<&Bound<'_, PyAny>>,
        feedthrough: Option<&Bound<'_, PyAny>>,
        event_weights: Option<&Bound<'_, PyAny>>,
        event_level: f64,
    ) -> PyResult<Self> {
        let (h, outputs, states) = mat_of("observation", Some(observation))?
            .ok_or_else(|| invalid_input("observation is required"))?;
        let f = mat_of("transition", transition)?;
        let a = mat_of("dynamics", dynamics)?;
        square("transition", &f, states)?;
        square("dynamics", &a, states)?;
        let q = mat_of("process_noise", Some(process_noise))?;
        square("process_noise", &q, states)?;
        let r = mat_of("measurement_noise", Some(measurement_noise))?;
        square("measurement_noise", &r, outputs)?;
        let mut b = LinearModel::builder(states, outputs);
        b = match (f, a) {
            (Some((f, ..)), None) => b.discrete(&f, period),
            (None, Some((a, ..))) => b.continuous(&a),
            _ => {
                return Err(invalid_input(
                    "give exactly one of transition (discrete) and dynamics (continuous)",
                ))
            }
        };
        b = b.observation(&h);
        if let Some((bm, r_, inputs)) = mat_of("input_matrix", input_matrix)? {
            if r_ != states {
                return Err(invalid_input(format!(
                    "input_matrix must have {states} rows, got {r_}"
                )));
            }
            let d = mat_of("feedthrough", feedthrough)?
                .map(|m| m.0)
                .unwrap_or_default();
            b = b.input(inputs, &bm, &d);
        } else if feedthrough.is_some_and(|f| !f.is_none()) {
            return Err(invalid_input("feedthrough needs input_matrix"));
        }
        if let Some((q, ..)) = q {
            b = b.process_noise(&q);
        }
        if let Some((r, ..)) = r {
            b = b.measurement_noise(&r);
        }
        if event_weights.is_some_and(|e| !e.is_none()) {
            b = b.event(&vec_of("event_weights", event_weights)?, event_level);
        }
        Ok(PyLinearModel {
            inner: b.build().map_err(to_py)?,
        })
    }

    /// ``(states, inputs, outputs)``.
    #[getter]
    fn dims(&self) -> (usize, usize, usize) {
        let d = self.inner.dims();
        (d.states, d.inputs, d.outputs)
    }

    /// The model as versioned JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(to_py)
    }

    /// Load a model saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        Ok(PyLinearModel {
            inner: LinearModel::from_json(json).map_err(to_py)?,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyLinearModel>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        let d = self.inner.dims();
        format!(
            "LinearModel(states={}, inputs={}, outputs={})",
            d.states, d.inputs, d.outputs
        )
    }
}

/// NASA's equivalent-circuit battery (the model of ProgPy's ``BatteryCircuit``): states
/// ``[tb, qb, qcp, qcs]`` (temperature, charges), input ``[i]`` (current, A), outputs
/// ``[t, v]`` (temperature, voltage); the event is the end of discharge. ``params`` (a dict
/// of the Rust ``BatteryCircuitParams`` fields) overrides the published parameters;
/// ``process_noise`` (4 standard deviations per second) and ``measurement_noise`` (2)
/// set the noise.
///
/// >>> import twin
/// >>> import numpy as np, twin
/// >>> b = twin.BatteryCircuit(measurement_noise=[2.0, 0.02])
/// >>> x = b.initial_state()
/// >>> b.state_of_charge(x)
/// 1.0
/// >>> ukf = twin.UnscentedKalmanFilter(b, x, np.diag([1e-12] * 4))
/// >>> toe = ukf.predict_event([2.0], samples=2, horizon=10000.0, process_noise=False, interpolate=False)
/// >>> toe["median"]   # ProgPy's simulate_to_threshold: 3803 s at 2 A
/// 3803.0
#[pyclass(name = "BatteryCircuit", module = "twin", frozen)]
pub struct PyBatteryCircuit {
    inner: BatteryCircuit,
}

#[pymethods]
impl PyBatteryCircuit {
    #[new]
    #[pyo3(signature = (*, params=None, process_noise=None, measurement_noise=None))]
    fn new(
        params: Option<&Bound<'_, PyDict>>,
        process_noise: Option<[f64; 4]>,
        measurement_noise: Option<[f64; 2]>,
    ) -> PyResult<Self> {
        let mut b = match params {
            None => BatteryCircuit::default(),
            Some(d) => {
                let mut base = serde_json::to_value(BatteryCircuitParams::default())
                    .map_err(|e| invalid_input(e.to_string()))?;
                if let (serde_json::Value::Object(m), serde_json::Value::Object(given)) =
                    (&mut base, super::params::to_json("params", d.as_any())?)
                {
                    for (k, v) in given {
                        if !m.contains_key(&k) {
                            return Err(PyTypeError::new_err(format!(
                                "params: unknown battery parameter {}",
                                crate::repr::quote(&k)
                            )));
                        }
                        m.insert(k, v);
                    }
                }
                let p: BatteryCircuitParams = serde_json::from_value(base)
                    .map_err(|e| PyTypeError::new_err(format!("params: {e}")))?;
                BatteryCircuit::new(p).map_err(to_py)?
            }
        };
        if let Some(q) = process_noise {
            b = b.with_process_noise(q).map_err(to_py)?;
        }
        if let Some(r) = measurement_noise {
            b = b.with_measurement_noise(r).map_err(to_py)?;
        }
        Ok(PyBatteryCircuit { inner: b })
    }

    /// A full battery at ambient temperature, at rest.
    fn initial_state<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        arrays::out1(py, self.inner.initial_state())
    }

    /// The state of charge of a state, 1 full.
    fn state_of_charge(&self, x: [f64; 4]) -> f64 {
        self.inner.state_of_charge(&x)
    }

    /// ProgPy's event state: 1 full, 0 discharged.
    fn event_state(&self, x: [f64; 4]) -> f64 {
        self.inner.event_state(&x)
    }

    /// The state after ``dt`` seconds at current ``u`` (no noise).
    fn step<'py>(
        &self,
        py: Python<'py>,
        x: [f64; 4],
        u: [f64; 1],
        dt: f64,
    ) -> Bound<'py, PyArray1<f64>> {
        let mut next = vec![0.0; 4];
        self.inner.step(&x, &u, dt, &mut next);
        arrays::out1(py, next)
    }

    /// The outputs ``[t, v]`` of a state (no noise).
    fn output<'py>(&self, py: Python<'py>, x: [f64; 4], u: [f64; 1]) -> Bound<'py, PyArray1<f64>> {
        let mut z = vec![0.0; 2];
        self.inner.output(&x, &u, &mut z);
        arrays::out1(py, z)
    }

    /// The model as versioned JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(to_py)
    }

    /// Load a model saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        Ok(PyBatteryCircuit {
            inner: BatteryCircuit::from_json(json).map_err(to_py)?,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyBatteryCircuit>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        "BatteryCircuit(states=[tb, qb, qcp, qcs], inputs=[i], outputs=[t, v])".into()
    }
}

/// A state-space model whose step and output are Python callables.
pub(crate) struct CallableModel {
    f: Py<PyAny>,
    h: Py<PyAny>,
    event: Option<Py<PyAny>>,
    dims: Dims,
    q: Vec<f64>,
    r: Vec<f64>,
    /// The first error a callable raised, re-raised after the filter call.
    error: Mutex<Option<PyErr>>,
}

impl CallableModel {
    fn call(
        &self,
        what: &str,
        f: &Py<PyAny>,
        args: impl FnOnce(Python<'_>) -> PyResult<Bound<'_, PyTuple>>,
        out: &mut [f64],
    ) {
        let r = Python::attach(|py| -> PyResult<()> {
            let a = args(py)?;
            let v = f.bind(py).call1(a)?;
            if out.len() == 1 {
                if let Ok(x) = v.extract::<f64>() {
                    out[0] = x;
                    return Ok(());
                }
            }
            let ro = arrays::vector(what, &v)?;
            let s = arrays::slice(what, &ro)?;
            if s.len() != out.len() {
                return Err(invalid_input(format!(
                    "{what} returned {} values, the model has {}",
                    s.len(),
                    out.len()
                )));
            }
            out.copy_from_slice(s);
            Ok(())
        });
        if let Err(e) = r {
            out.fill(f64::NAN);
            if let Ok(mut slot) = self.error.lock() {
                slot.get_or_insert(e);
            }
        }
    }

    /// The error a callable raised during the last filter call, if any.
    fn take_error(&self) -> Option<PyErr> {
        self.error.lock().ok().and_then(|mut s| s.take())
    }
}

impl StateSpaceModel for CallableModel {
    fn dims(&self) -> Dims {
        self.dims
    }
    fn step(&self, x: &[f64], u: &[f64], dt: f64, next: &mut [f64]) {
        self.call(
            "f(x, u, dt)",
            &self.f,
            |py| {
                PyTuple::new(
                    py,
                    [
                        PyArray1::from_slice(py, x).into_any(),
                        PyArray1::from_slice(py, u).into_any(),
                        dt.into_pyobject(py)?.into_any(),
                    ],
                )
            },
            next,
        );
    }
    fn output(&self, x: &[f64], u: &[f64], z: &mut [f64]) {
        self.call(
            "h(x, u)",
            &self.h,
            |py| {
                PyTuple::new(
                    py,
                    [
                        PyArray1::from_slice(py, x).into_any(),
                        PyArray1::from_slice(py, u).into_any(),
                    ],
                )
            },
            z,
        );
    }
    fn process_noise(&self, dt: f64, q: &mut [f64]) {
        for (o, v) in q.iter_mut().zip(&self.q) {
            *o = v * dt;
        }
    }
    fn measurement_noise(&self, r: &mut [f64]) {
        r.copy_from_slice(&self.r);
    }
    fn event_margin(&self, x: &[f64], u: &[f64]) -> f64 {
        let Some(e) = &self.event else {
            return f64::INFINITY;
        };
        let mut out = [0.0];
        self.call(
            "event(x, u)",
            e,
            |py| {
                PyTuple::new(
                    py,
                    [
                        PyArray1::from_slice(py, x).into_any(),
                        PyArray1::from_slice(py, u).into_any(),
                    ],
                )
            },
            &mut out,
        );
        out[0]
    }
}

/// A user-defined state-space model: ``f(x, u, dt) -> x'`` and ``h(x, u) -> z`` are Python
/// callables taking and returning 1-D float arrays, ``process_noise`` is the covariance
/// added per unit of time (``Q(dt) = process_noise * dt``), ``measurement_noise`` the
/// output noise covariance, and the optional ``event(x, u) -> float`` a margin that
/// reaches 0 at the event (for :meth:`UnscentedKalmanFilter.predict_event`).
///
/// For the unscented Kalman and particle filters. Every step calls back into Python (a
/// UKF update of ``n`` states calls ``f`` and ``h`` ``2n + 1`` times; a particle filter
/// once per particle), so it is much slower than the built-in models, and the GIL is held
/// throughout. An exception raised by a callable is re-raised by the filter call.
///
/// >>> import numpy as np, twin
/// >>> walk = twin.StateModel(lambda x, u, dt: x, lambda x, u: x, states=1, outputs=1,
/// ...                        process_noise=[[0.1]], measurement_noise=[[1.0]])
/// >>> ukf = twin.UnscentedKalmanFilter(walk, [0.0], [[1.0]])
/// >>> ukf.estimate([], 1.0, [2.0])
/// >>> round(float(ukf.mean[0]), 6)   # (1 + 0.1) / (1 + 0.1 + 1) * 2
/// 1.047619
#[pyclass(name = "StateModel", module = "twin", frozen)]
pub struct PyStateModel {
    f: Py<PyAny>,
    h: Py<PyAny>,
    event: Option<Py<PyAny>>,
    dims: Dims,
    q: Vec<f64>,
    r: Vec<f64>,
}

impl PyStateModel {
    fn model(&self, py: Python<'_>) -> CallableModel {
        CallableModel {
            f: self.f.clone_ref(py),
            h: self.h.clone_ref(py),
            event: self.event.as_ref().map(|e| e.clone_ref(py)),
            dims: self.dims,
            q: self.q.clone(),
            r: self.r.clone(),
            error: Mutex::new(None),
        }
    }
}

#[pymethods]
impl PyStateModel {
    #[new]
    #[pyo3(signature = (f, h, *, states, outputs, process_noise, measurement_noise, inputs=0, event=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        f: &Bound<'_, PyAny>,
        h: &Bound<'_, PyAny>,
        states: usize,
        outputs: usize,
        process_noise: &Bound<'_, PyAny>,
        measurement_noise: &Bound<'_, PyAny>,
        inputs: usize,
        event: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        for (name, c) in [("f", f), ("h", h)] {
            if !c.is_callable() {
                return Err(PyTypeError::new_err(format!("{name} must be callable")));
            }
        }
        if event.is_some_and(|e| !e.is_none() && !e.is_callable()) {
            return Err(PyTypeError::new_err("event must be callable or None"));
        }
        if states == 0 || outputs == 0 {
            return Err(invalid_input(
                "a model needs at least one state and one output",
            ));
        }
        let q = mat_of("process_noise", Some(process_noise))?;
        square("process_noise", &q, states)?;
        let r = mat_of("measurement_noise", Some(measurement_noise))?;
        square("measurement_noise", &r, outputs)?;
        let finite = |m: &[f64], name: &str| {
            if m.iter().all(|v| v.is_finite()) {
                Ok(())
            } else {
                Err(to_py(twin::Error::NonFinite(name.into())))
            }
        };
        let q = q.map(|m| m.0).unwrap_or_default();
        let r = r.map(|m| m.0).unwrap_or_default();
        finite(&q, "process_noise")?;
        finite(&r, "measurement_noise")?;
        Ok(PyStateModel {
            f: f.clone().unbind(),
            h: h.clone().unbind(),
            event: event.filter(|e| !e.is_none()).map(|e| e.clone().unbind()),
            dims: Dims {
                states,
                inputs,
                outputs,
            },
            q,
            r,
        })
    }

    /// ``(states, inputs, outputs)``.
    #[getter]
    fn dims(&self) -> (usize, usize, usize) {
        (self.dims.states, self.dims.inputs, self.dims.outputs)
    }

    /// A StateModel holds arbitrary Python callables (lambdas, closures, bound methods)
    /// that need not pickle, so it refuses with a clear ``TypeError``; rebuild it from
    /// its functions, or use a ``LinearModel`` or ``BatteryCircuit``, which pickle.
    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "a StateModel holds Python callables and cannot be pickled: rebuild it from its \
             functions where it is needed, or use a LinearModel or BatteryCircuit",
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "StateModel(states={}, inputs={}, outputs={})",
            self.dims.states, self.dims.inputs, self.dims.outputs
        )
    }
}

/// Every filter over every model.
enum AnyFilter {
    KfLinear(KalmanFilter<LinearModel>),
    KfBattery(KalmanFilter<BatteryCircuit>),
    UkfLinear(UnscentedKalmanFilter<LinearModel>),
    UkfBattery(UnscentedKalmanFilter<BatteryCircuit>),
    UkfPy(UnscentedKalmanFilter<CallableModel>),
    PfLinear(ParticleFilter<LinearModel>),
    PfBattery(ParticleFilter<BatteryCircuit>),
    PfPy(ParticleFilter<CallableModel>),
}

macro_rules! each {
    ($self:expr, $f:ident => $e:expr) => {
        match $self {
            AnyFilter::KfLinear($f) => $e,
            AnyFilter::KfBattery($f) => $e,
            AnyFilter::UkfLinear($f) => $e,
            AnyFilter::UkfBattery($f) => $e,
            AnyFilter::UkfPy($f) => $e,
            AnyFilter::PfLinear($f) => $e,
            AnyFilter::PfBattery($f) => $e,
            AnyFilter::PfPy($f) => $e,
        }
    };
}

impl AnyFilter {
    fn est(&mut self) -> &mut dyn StateEstimator {
        each!(self, f => f)
    }
    fn est_ref(&self) -> &dyn StateEstimator {
        each!(self, f => f)
    }
    /// The Python callables' model, whose errors take precedence.
    fn callable(&self) -> Option<&CallableModel> {
        match self {
            AnyFilter::UkfPy(f) => Some(f.model()),
            AnyFilter::PfPy(f) => Some(f.model()),
            _ => None,
        }
    }
    fn is_native(&self) -> bool {
        self.callable().is_none()
    }
    fn to_json(&self) -> PyResult<String> {
        match self {
            AnyFilter::KfLinear(f) => f.to_json(),
            AnyFilter::KfBattery(f) => f.to_json(),
            AnyFilter::UkfLinear(f) => f.to_json(),
            AnyFilter::UkfBattery(f) => f.to_json(),
            AnyFilter::PfLinear(f) => f.to_json(),
            AnyFilter::PfBattery(f) => f.to_json(),
            AnyFilter::UkfPy(_) | AnyFilter::PfPy(_) => {
                return Err(PyTypeError::new_err(
                    "a filter of a StateModel (Python callables) cannot be saved or pickled",
                ))
            }
        }
        .map_err(to_py)
    }
    fn predict_event(
        &self,
        mc: &MonteCarlo,
        u: &ConstantInput,
    ) -> twin::Result<twin::analytics::estimate::TimeOfEvent> {
        match self {
            AnyFilter::KfLinear(f) => mc.predict(f.model(), f.distribution(), u),
            AnyFilter::KfBattery(f) => mc.predict(f.model(), f.distribution(), u),
            AnyFilter::UkfLinear(f) => mc.predict(f.model(), f.distribution(), u),
            AnyFilter::UkfBattery(f) => mc.predict(f.model(), f.distribution(), u),
            AnyFilter::UkfPy(f) => mc.predict(f.model(), f.distribution(), u),
            AnyFilter::PfLinear(f) => mc.predict(f.model(), f.distribution(), u),
            AnyFilter::PfBattery(f) => mc.predict(f.model(), f.distribution(), u),
            AnyFilter::PfPy(f) => mc.predict(f.model(), f.distribution(), u),
        }
    }
}

/// A twin error, or the Python exception a model callable raised meanwhile.
fn fail(filter: &AnyFilter, e: twin::Error) -> PyErr {
    filter
        .callable()
        .and_then(CallableModel::take_error)
        .unwrap_or_else(|| to_py(e))
}

/// The model argument of a filter.
enum ModelArg {
    Linear(LinearModel),
    Battery(BatteryCircuit),
    Callable(CallableModel),
}

fn model_arg(py: Python<'_>, m: &Bound<'_, PyAny>) -> PyResult<ModelArg> {
    if let Ok(l) = m.cast::<PyLinearModel>() {
        return Ok(ModelArg::Linear(l.get().inner.clone()));
    }
    if let Ok(b) = m.cast::<PyBatteryCircuit>() {
        return Ok(ModelArg::Battery(b.get().inner.clone()));
    }
    if let Ok(s) = m.cast::<PyStateModel>() {
        return Ok(ModelArg::Callable(s.get().model(py)));
    }
    Err(PyTypeError::new_err(format!(
        "model must be a LinearModel, BatteryCircuit or StateModel, got {}",
        m.get_type().name()?
    )))
}

/// Whether a saved filter holds a `BatteryCircuit` (whose saved form has `params`) rather
/// than a `LinearModel`.
fn holds_battery(json: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .is_some_and(|v| v.pointer("/model/model/params").is_some())
}

/// The initial state and covariance arguments.
fn initial(x0: &Bound<'_, PyAny>, p0: &Bound<'_, PyAny>) -> PyResult<(Vec<f64>, Vec<f64>)> {
    let x = vec_of("x0", Some(x0))?;
    let p = mat_of("p0", Some(p0))?.map(|m| m.0).unwrap_or_default();
    Ok((x, p))
}

/// What every filter class shares.
pub struct Filter {
    inner: AnyFilter,
    name: &'static str,
}

impl Filter {
    fn check(&self, r: twin::Result<()>) -> PyResult<()> {
        match (r, self.inner.callable().and_then(CallableModel::take_error)) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(to_py(e)),
            (Ok(()), None) => Ok(()),
        }
    }

    fn predict(&mut self, u: &Bound<'_, PyAny>, dt: f64) -> PyResult<()> {
        let u = vec_of("u", Some(u))?;
        let r = self.inner.est().predict(&u, dt);
        self.check(r)
    }

    fn update(&mut self, z: &Bound<'_, PyAny>) -> PyResult<()> {
        let z = vec_of("z", Some(z))?;
        let r = self.inner.est().update(&z);
        self.check(r)
    }

    fn estimate(&mut self, u: &Bound<'_, PyAny>, dt: f64, z: &Bound<'_, PyAny>) -> PyResult<()> {
        let u = vec_of("u", Some(u))?;
        let z = vec_of("z", Some(z))?;
        let r = self.inner.est().estimate(&u, dt, &z);
        self.check(r)
    }

    /// Predict and update along rows of inputs and measurements; the means after each.
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        u: &Bound<'py, PyAny>,
        dt: f64,
        z: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let d = self.inner.est_ref().dims();
        let zr = arrays::matrix("z", z)?;
        let (zs, n) = {
            let a = zr.as_array();
            if a.ncols() != d.outputs {
                return Err(invalid_input(format!(
                    "z has {} columns, the model {} outputs",
                    a.ncols(),
                    d.outputs
                )));
            }
            (
                zr.as_slice().map_err(|e| invalid_input(e.to_string()))?,
                a.nrows(),
            )
        };
        // Inputs: a row per step, or one row used at every step.
        let ur = arrays::matrix("u", u)?;
        let (us, urows) = {
            let a = ur.as_array();
            if a.ncols() != d.inputs {
                return Err(invalid_input(format!(
                    "u has {} columns, the model {} inputs",
                    a.ncols(),
                    d.inputs
                )));
            }
            if a.nrows() != n && a.nrows() != 1 {
                return Err(invalid_input(format!(
                    "u has {} rows for {n} measurements (give one row per step, or one row)",
                    a.nrows()
                )));
            }
            (
                ur.as_slice().map_err(|e| invalid_input(e.to_string()))?,
                a.nrows(),
            )
        };
        let native = self.inner.is_native();
        let inner = &mut self.inner;
        let out = maybe_detach(py, native && n >= 64, move || {
            let est = inner.est();
            let mut out = Vec::with_capacity(n * d.states);
            for k in 0..n {
                let row = if urows == 1 { 0 } else { k };
                let uk = &us[row * d.inputs..(row + 1) * d.inputs];
                let zk = &zs[k * d.outputs..(k + 1) * d.outputs];
                est.estimate(uk, dt, zk)
                    .map_err(|e| twin::Error::InvalidInput(format!("step {k}: {e}")).kind_of(e))?;
                out.extend_from_slice(est.mean());
            }
            Ok::<_, twin::Error>(out)
        });
        let out = out.map_err(|e| fail(&self.inner, e))?;
        if let Some(e) = self.inner.callable().and_then(CallableModel::take_error) {
            return Err(e);
        }
        arrays::out2(py, out, n, d.states)
    }

    fn mean<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        arrays::out1(py, self.inner.est_ref().mean().to_vec())
    }

    fn covariance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let n = self.inner.est_ref().dims().states;
        arrays::out2(py, self.inner.est_ref().covariance().to_vec(), n, n)
    }

    #[allow(clippy::too_many_arguments)]
    fn predict_event<'py>(
        &self,
        py: Python<'py>,
        u: &Bound<'py, PyAny>,
        samples: usize,
        dt: f64,
        horizon: f64,
        seed: u64,
        process_noise: bool,
        interpolate: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mc = MonteCarlo::new(PredictorConfig {
            samples,
            dt,
            horizon,
            seed,
            process_noise,
            interpolate,
        })
        .map_err(to_py)?;
        let u = ConstantInput::new(vec_of("u", Some(u))?);
        let inner = &self.inner;
        let toe = maybe_detach(py, inner.is_native(), || inner.predict_event(&mc, &u))
            .map_err(|e| fail(inner, e))?;
        if let Some(e) = inner.callable().and_then(CallableModel::take_error) {
            return Err(e);
        }
        let d = PyDict::new(py);
        let times: Vec<f64> = toe
            .samples()
            .iter()
            .map(|s| s.unwrap_or(f64::INFINITY))
            .collect();
        d.set_item("samples", arrays::out1(py, times))?;
        d.set_item("fraction_reached", toe.fraction_reached())?;
        d.set_item("mean", toe.mean())?;
        d.set_item("median", toe.median())?;
        d.set_item("std", toe.std_dev())?;
        d.set_item("p05", toe.percentile(0.05))?;
        d.set_item("p95", toe.percentile(0.95))?;
        d.set_item("horizon", toe.horizon())?;
        Ok(d)
    }

    fn repr(&self) -> String {
        let d = self.inner.est_ref().dims();
        let mean: Vec<String> = self
            .inner
            .est_ref()
            .mean()
            .iter()
            .map(|v| format!("{v:.6}"))
            .collect();
        format!(
            "<{} of {} states, {} inputs, {} outputs; mean [{}]>",
            self.name,
            d.states,
            d.inputs,
            d.outputs,
            mean.join(", ")
        )
    }
}

/// Extension: keep an error's kind while rewording it.
trait KindOf {
    fn kind_of(self, original: twin::Error) -> twin::Error;
}

impl KindOf for twin::Error {
    fn kind_of(self, original: twin::Error) -> twin::Error {
        let msg = self.to_string();
        match original {
            twin::Error::NonFinite(_) => twin::Error::NonFinite(msg),
            twin::Error::InvalidInput(_) => twin::Error::InvalidInput(msg),
            other => other,
        }
    }
}

macro_rules! filter_class {
    ($py:ident, $pyname:literal, { $($extra:tt)* }) => {
        #[pymethods]
        impl $py {
            /// Propagate the estimate ``dt`` ahead under inputs ``u``.
            fn predict(&mut self, u: &Bound<'_, PyAny>, dt: f64) -> PyResult<()> {
                self.filter.predict(u, dt)
            }

            /// Correct the estimate with measurements ``z``.
            fn update(&mut self, z: &Bound<'_, PyAny>) -> PyResult<()> {
                self.filter.update(z)
            }

            /// :meth:`predict` then :meth:`update`.
            fn estimate(&mut self, u: &Bound<'_, PyAny>, dt: f64, z: &Bound<'_, PyAny>) -> PyResult<()> {
                self.filter.estimate(u, dt, z)
            }

            /// Filter a whole record: ``z`` has a row of measurements per step, ``u`` a row
            /// of inputs per step (or a single row for constant inputs); steps are ``dt``
            /// apart. Returns the mean after each step (rows) as a 2-D array. Built-in
            /// models run with the GIL released.
            fn run<'py>(
                &mut self,
                py: Python<'py>,
                u: &Bound<'py, PyAny>,
                dt: f64,
                z: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray2<f64>>> {
                self.filter.run(py, u, dt, z)
            }

            /// The state estimate.
            #[getter]
            fn mean<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
                self.filter.mean(py)
            }

            /// Its covariance (states × states).
            #[getter]
            fn covariance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
                self.filter.covariance(py)
            }

            /// Monte Carlo time-of-event prediction from the current estimate: ``samples``
            /// draws of the state (and of the process noise at every step of ``dt``, if
            /// ``process_noise``) are run forward under the constant inputs ``u`` until the
            /// model's event or ``horizon``. Returns a dict: ``samples`` (the event time of
            /// each draw, ``inf`` for a draw that did not reach it within the horizon),
            /// ``fraction_reached``, and over the draws that reached it ``mean``, ``median``,
            /// ``std``, ``p05``, ``p95`` (``None`` if none did), and ``horizon``. Seeded.
            #[pyo3(signature = (u, *, samples=100, dt=1.0, horizon=1e7, seed=0, process_noise=true, interpolate=true))]
            #[allow(clippy::too_many_arguments)]
            fn predict_event<'py>(
                &self,
                py: Python<'py>,
                u: &Bound<'py, PyAny>,
                samples: usize,
                dt: f64,
                horizon: f64,
                seed: u64,
                process_noise: bool,
                interpolate: bool,
            ) -> PyResult<Bound<'py, PyDict>> {
                self.filter
                    .predict_event(py, u, samples, dt, horizon, seed, process_noise, interpolate)
            }

            /// The filter (model and estimate) as versioned JSON; built-in models only.
            fn to_json(&self) -> PyResult<String> {
                self.filter.inner.to_json()
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
                let f = py.get_type::<$py>().getattr("from_json")?;
                Ok((f, PyTuple::new(py, [self.to_json()?])?))
            }

            fn __repr__(&self) -> String {
                self.filter.repr()
            }

            $($extra)*
        }
    };
}

/// The (extended) Kalman filter, for a ``LinearModel`` or the ``BatteryCircuit`` (whose
/// Jacobians it uses).
///
/// >>> import twin
/// >>> walk = twin.LinearModel(transition=[[1.0]], observation=[[1.0]],
/// ...                         process_noise=[[0.1]], measurement_noise=[[1.0]])
/// >>> kf = twin.KalmanFilter(walk, [0.0], [[1.0]])
/// >>> kf.estimate([], 1.0, [2.0])
/// >>> round(float(kf.mean[0]), 6)
/// 1.047619
#[pyclass(dict, name = "KalmanFilter", module = "twin")]
pub struct PyKalmanFilter {
    filter: Filter,
}

filter_class!(PyKalmanFilter, "KalmanFilter", {
    #[new]
    fn new(
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
        x0: &Bound<'_, PyAny>,
        p0: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let (x, p) = initial(x0, p0)?;
        let inner = match model_arg(py, model)? {
            ModelArg::Linear(m) => AnyFilter::KfLinear(KalmanFilter::new(m, &x, &p).map_err(to_py)?),
            ModelArg::Battery(m) => AnyFilter::KfBattery(KalmanFilter::new(m, &x, &p).map_err(to_py)?),
            ModelArg::Callable(_) => {
                return Err(PyTypeError::new_err(
                    "KalmanFilter needs Jacobians: use a LinearModel or BatteryCircuit, or an UnscentedKalmanFilter or ParticleFilter for a StateModel",
                ))
            }
        };
        Ok(PyKalmanFilter {
            filter: Filter {
                inner,
                name: "KalmanFilter",
            },
        })
    }

    /// Load a filter saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        let inner = if holds_battery(json) {
            AnyFilter::KfBattery(KalmanFilter::<BatteryCircuit>::from_json(json).map_err(to_py)?)
        } else {
            AnyFilter::KfLinear(KalmanFilter::<LinearModel>::from_json(json).map_err(to_py)?)
        };
        Ok(PyKalmanFilter {
            filter: Filter {
                inner,
                name: "KalmanFilter",
            },
        })
    }
});

/// The unscented Kalman filter (scaled sigma points, ``alpha``, ``beta``, ``kappa``), for a
/// ``LinearModel``, the ``BatteryCircuit`` or a ``StateModel`` of Python callables.
///
/// >>> import numpy as np, twin
/// >>> b = twin.BatteryCircuit(process_noise=[0.25] * 4, measurement_noise=[2.0, 0.02])
/// >>> clean, x, z = twin.BatteryCircuit(), b.initial_state(), []
/// >>> for _ in range(100):
/// ...     x = clean.step(x, [2.0], 1.0)
/// ...     z.append(clean.output(x, [2.0]))
/// >>> ukf = twin.UnscentedKalmanFilter(b, b.initial_state(), np.diag([0.01, 1.0, 0.01, 0.01]))
/// >>> means = ukf.run([[2.0]], 1.0, np.array(z))   # one row of inputs: constant 2 A
/// >>> means.shape, bool(abs(ukf.mean[1] - x[1]) < 5.0)   # the charge qb, in coulombs
/// ((100, 4), True)
#[pyclass(dict, name = "UnscentedKalmanFilter", module = "twin")]
pub struct PyUnscentedKalmanFilter {
    filter: Filter,
}

filter_class!(PyUnscentedKalmanFilter, "UnscentedKalmanFilter", {
    #[new]
    #[pyo3(signature = (model, x0, p0, *, alpha=1.0, beta=2.0, kappa=0.0))]
    fn new(
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
        x0: &Bound<'_, PyAny>,
        p0: &Bound<'_, PyAny>,
        alpha: f64,
        beta: f64,
        kappa: f64,
    ) -> PyResult<Self> {
        let (x, p) = initial(x0, p0)?;
        let cfg = UkfConfig { alpha, beta, kappa };
        let inner = match model_arg(py, model)? {
            ModelArg::Linear(m) => {
                AnyFilter::UkfLinear(UnscentedKalmanFilter::new(m, &x, &p, cfg).map_err(to_py)?)
            }
            ModelArg::Battery(m) => {
                AnyFilter::UkfBattery(UnscentedKalmanFilter::new(m, &x, &p, cfg).map_err(to_py)?)
            }
            ModelArg::Callable(m) => {
                AnyFilter::UkfPy(UnscentedKalmanFilter::new(m, &x, &p, cfg).map_err(to_py)?)
            }
        };
        Ok(PyUnscentedKalmanFilter {
            filter: Filter {
                inner,
                name: "UnscentedKalmanFilter",
            },
        })
    }

    /// Load a filter saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        let inner = if holds_battery(json) {
            AnyFilter::UkfBattery(
                UnscentedKalmanFilter::<BatteryCircuit>::from_json(json).map_err(to_py)?,
            )
        } else {
            AnyFilter::UkfLinear(
                UnscentedKalmanFilter::<LinearModel>::from_json(json).map_err(to_py)?,
            )
        };
        Ok(PyUnscentedKalmanFilter {
            filter: Filter {
                inner,
                name: "UnscentedKalmanFilter",
            },
        })
    }
});

/// The particle filter (systematic resampling when the effective sample size falls below
/// ``resample_threshold`` × ``particles``; seeded), for a ``LinearModel``, the
/// ``BatteryCircuit`` or a ``StateModel`` of Python callables.
///
/// >>> import numpy as np, twin
/// >>> walk = twin.LinearModel(transition=[[1.0]], observation=[[1.0]],
/// ...                         process_noise=[[0.01]], measurement_noise=[[0.25]])
/// >>> pf = twin.ParticleFilter(walk, [0.0], [[4.0]], particles=2000, seed=1)
/// >>> _ = pf.run(np.zeros((1, 0)), 1.0, np.full((50, 1), 3.0))
/// >>> bool(abs(pf.mean[0] - 3.0) < 0.1)
/// True
#[pyclass(dict, name = "ParticleFilter", module = "twin")]
pub struct PyParticleFilter {
    filter: Filter,
}

filter_class!(PyParticleFilter, "ParticleFilter", {
    #[new]
    #[pyo3(signature = (model, x0, p0, *, particles=1000, resample_threshold=0.5, seed=0))]
    fn new(
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
        x0: &Bound<'_, PyAny>,
        p0: &Bound<'_, PyAny>,
        particles: usize,
        resample_threshold: f64,
        seed: u64,
    ) -> PyResult<Self> {
        let (x, p) = initial(x0, p0)?;
        let cfg = ParticleConfig {
            particles,
            resample_threshold,
            seed,
        };
        let inner = match model_arg(py, model)? {
            ModelArg::Linear(m) => {
                AnyFilter::PfLinear(ParticleFilter::new(m, &x, &p, cfg).map_err(to_py)?)
            }
            ModelArg::Battery(m) => {
                AnyFilter::PfBattery(ParticleFilter::new(m, &x, &p, cfg).map_err(to_py)?)
            }
            ModelArg::Callable(m) => {
                AnyFilter::PfPy(ParticleFilter::new(m, &x, &p, cfg).map_err(to_py)?)
            }
        };
        Ok(PyParticleFilter {
            filter: Filter {
                inner,
                name: "ParticleFilter",
            },
        })
    }

    /// The effective sample size of the weights.
    #[getter]
    fn effective_sample_size(&self) -> PyResult<f64> {
        match &self.filter.inner {
            AnyFilter::PfLinear(f) => Ok(f.effective_sample_size()),
            AnyFilter::PfBattery(f) => Ok(f.effective_sample_size()),
            AnyFilter::PfPy(f) => Ok(f.effective_sample_size()),
            _ => Err(crate::errors::twin_error("not a particle filter")),
        }
    }

    /// Load a filter saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        let inner = if holds_battery(json) {
            AnyFilter::PfBattery(ParticleFilter::<BatteryCircuit>::from_json(json).map_err(to_py)?)
        } else {
            AnyFilter::PfLinear(ParticleFilter::<LinearModel>::from_json(json).map_err(to_py)?)
        };
        Ok(PyParticleFilter {
            filter: Filter {
                inner,
                name: "ParticleFilter",
            },
        })
    }
});
