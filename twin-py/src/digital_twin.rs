//! `twin.Twin`: a digital twin of one asset, with an optional anomaly/alarm monitor.
//!
//! The Rust [`twin::Twin`] is `Send` but not `Sync`, so it lives behind a [`Mutex`]; the
//! Python class is `frozen` and every method takes `&self`. The lock is only ever held
//! by closures that are `Send` (so they cannot touch Python objects); long work runs with
//! the GIL released. See [`PyTwin::with_twin`].

use std::sync::{Mutex, TryLockError};

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{Sample, SignalId, Timestamp};

use crate::columns;
use crate::engines::Parts;
use crate::errors::{invalid_input, to_py, twin_error};
use crate::repr::quote;
use crate::results::{PyCommand, PyIngestReport, PyInsight};
use crate::schema::PySchema;

/// Batches at least this long are ingested with the GIL released; for shorter ones the
/// cost of releasing and re-taking it is larger than the work.
pub(crate) const DETACH_MIN_SAMPLES: usize = 512;

/// The `monitor` argument: a flag, or the monitor's settings as a dict.
#[derive(FromPyObject)]
pub(crate) enum MonitorArg<'py> {
    /// `True` for the default monitor, `False` for none.
    Flag(bool),
    /// Settings: any of `alpha`, `threshold`, `warmup`, `include_properties`.
    Config(Bound<'py, PyDict>),
}

impl MonitorArg<'_> {
    pub(crate) fn config(&self) -> PyResult<Option<MonitorConfig>> {
        let d = match self {
            MonitorArg::Flag(false) => return Ok(None),
            MonitorArg::Flag(true) => return Ok(Some(MonitorConfig::default())),
            MonitorArg::Config(d) => d,
        };
        let mut c = MonitorConfig::default();
        for (k, v) in d.iter() {
            let key: String = k
                .extract()
                .map_err(|_| invalid_input("monitor settings: keys must be str"))?;
            let bad = |what: &str| invalid_input(format!("monitor setting {key:?} must be {what}"));
            match key.as_str() {
                "alpha" => c.alpha = v.extract().map_err(|_| bad("a number"))?,
                "threshold" => c.threshold = v.extract().map_err(|_| bad("a number"))?,
                "warmup" => c.warmup = v.extract().map_err(|_| bad("an int in [0, 2**32)"))?,
                "include_properties" => c.include_properties = v.extract().map_err(|_| bad("a bool"))?,
                _ => {
                    return Err(invalid_input(format!(
                        "unknown monitor setting {key:?}; expected alpha, threshold, warmup, include_properties"
                    )))
                }
            }
        }
        c.validate().map_err(to_py)?;
        Ok(Some(c))
    }
}

/// A signal given by id or by name.
#[derive(FromPyObject)]
pub(crate) enum SignalArg {
    /// A signal id.
    Id(i64),
    /// A signal name.
    Name(String),
}

impl SignalArg {
    fn resolve(&self, schema: &twin::Schema) -> twin::Result<SignalId> {
        match self {
            SignalArg::Name(n) => schema.signal_id(n),
            SignalArg::Id(id) => u32::try_from(*id)
                .map(SignalId)
                .map_err(|_| twin::Error::UnknownSignal(format!("signal id {id}"))),
        }
    }
}

/// A twin builder for a schema, with the monitor if it is configured.
pub(crate) fn builder(
    schema: twin::Schema,
    monitor: Option<&MonitorConfig>,
) -> twin::Result<twin::TwinBuilder> {
    let engine = monitor
        .map(|cfg| EwmaMonitor::new(&schema, cfg.clone()))
        .transpose()?;
    let b = twin::Twin::builder(schema);
    Ok(match engine {
        Some(m) => b.engine(m),
        None => b,
    })
}

/// The `limits` argument: a dict with any of `max_pending_insights`, `max_audit_entries`,
/// `max_history_samples`, `max_batch_samples`; missing keys keep their defaults.
fn limits_from(d: Option<&Bound<'_, PyDict>>) -> PyResult<twin::TwinLimits> {
    let mut l = twin::TwinLimits::default();
    let Some(d) = d else { return Ok(l) };
    for (k, v) in d.iter() {
        let key: String = k
            .extract()
            .map_err(|_| invalid_input("limits: keys must be str"))?;
        let n: usize = v
            .extract()
            .map_err(|_| invalid_input(format!("limit {key:?} must be an int >= 0")))?;
        match key.as_str() {
            "max_pending_insights" => l.max_pending_insights = n,
            "max_audit_entries" => l.max_audit_entries = n,
            "max_history_samples" => l.max_history_samples = n,
            "max_batch_samples" => l.max_batch_samples = n,
            _ => {
                return Err(invalid_input(format!(
                    "unknown limit {key:?}; expected max_pending_insights, max_audit_entries, max_history_samples, max_batch_samples"
                )))
            }
        }
    }
    l.validate().map_err(to_py)?;
    Ok(l)
}

fn limits_dict<'py>(py: Python<'py>, l: &twin::TwinLimits) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("max_pending_insights", l.max_pending_insights)?;
    d.set_item("max_audit_entries", l.max_audit_entries)?;
    d.set_item("max_history_samples", l.max_history_samples)?;
    d.set_item("max_batch_samples", l.max_batch_samples)?;
    Ok(d)
}

fn poisoned() -> PyErr {
    twin_error("this twin is unusable: an earlier call panicked while changing it")
}

/// A digital twin of one asset.
///
/// ``Twin(schema, monitor=True)`` mirrors the asset from its samples. With ``monitor``
/// true (or a dict of settings: ``alpha``, ``threshold``, ``warmup``,
/// ``include_properties``) an EWMA monitor checks alarm limits and flags anomalies; its
/// findings are read with :meth:`insights` / :meth:`drain_insights`.
///
/// ``model`` (a :class:`ConveyorModel`, :class:`ThermalModel`, :class:`BatteryModel`,
/// :class:`PumpModel` or :class:`WindTurbineModel`) gives the twin a digital model that
/// assimilates the samples and runs forward in :meth:`what_if`.
///
/// ``limits`` (a dict with any of ``max_pending_insights`` (default 65536),
/// ``max_audit_entries`` (10000), ``max_history_samples`` (0: no history) and
/// ``max_batch_samples`` (16777216)) bounds what the twin keeps and takes: with a history
/// the newest accepted samples are kept for :meth:`history`; a batch longer than
/// ``max_batch_samples`` is refused whole, every sample a ``"limit_exceeded"`` rejection.
///
/// Times are integer nanoseconds. Methods are thread-safe; batch ingest releases the GIL.
#[pyclass(frozen, name = "Twin", module = "twin")]
pub struct PyTwin {
    inner: Mutex<twin::Twin>,
    schema: Py<PySchema>,
    monitor: Option<MonitorConfig>,
    /// The model object given as `model=` (what-if bindings), kept for pickling.
    model: Option<Py<PyAny>>,
    /// The engines and rules given as `engines=` / `rules=`, kept for rebuilding.
    parts: Parts,
}

impl PyTwin {
    /// Run `f` on the twin under its lock, with the GIL released if `detach` is true.
    ///
    /// `f` and its result are `Send`, so `f` cannot use Python objects: the lock is never
    /// held while waiting for the GIL, which rules out lock-order deadlocks. Without
    /// `detach` an uncontended lock is taken directly; if another thread holds it, the
    /// GIL is released while waiting.
    pub(crate) fn with_twin<R, F>(&self, py: Python<'_>, detach: bool, f: F) -> PyResult<R>
    where
        F: FnOnce(&mut twin::Twin) -> R + Send,
        R: Send,
    {
        if crate::connection::stepping(self as *const Self as usize) {
            return Err(crate::connection::reentry_error());
        }
        if !detach {
            match self.inner.try_lock() {
                Ok(mut guard) => return Ok(f(&mut guard)),
                Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let inner = &self.inner;
        py.detach(move || inner.lock().map(|mut guard| f(&mut guard)).map_err(|_| ()))
            .map_err(|()| poisoned())
    }

    fn schema(&self) -> &twin::Schema {
        &self.schema.get().inner
    }

    fn insight_list(&self, py: Python<'_>, drain: bool) -> PyResult<Vec<PyInsight>> {
        let raw = self.with_twin(py, false, |tw| {
            if drain {
                tw.drain_insights()
            } else {
                tw.insights().copied().collect()
            }
        })?;
        let schema = self.schema();
        Ok(raw.iter().map(|i| PyInsight::new(schema, i)).collect())
    }

    fn monitor_arg<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.monitor {
            None => Ok(false.into_pyobject(py)?.to_owned().into_any()),
            Some(c) => {
                let d = PyDict::new(py);
                d.set_item("alpha", c.alpha)?;
                d.set_item("threshold", c.threshold)?;
                d.set_item("warmup", c.warmup)?;
                d.set_item("include_properties", c.include_properties)?;
                Ok(d.into_any())
            }
        }
    }
}

#[pymethods]
impl PyTwin {
    #[new]
    #[pyo3(signature = (schema, monitor = MonitorArg::Flag(true), model = None, limits = None, engines = None, rules = None), text_signature = "(schema, monitor=True, model=None, limits=None, engines=(), rules=())")]
    fn new(
        py: Python<'_>,
        schema: Bound<'_, PySchema>,
        monitor: MonitorArg<'_>,
        model: Option<Bound<'_, PyAny>>,
        limits: Option<Bound<'_, PyDict>>,
        engines: Option<Bound<'_, PyAny>>,
        rules: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let monitor = monitor.config()?;
        let limits = limits_from(limits.as_ref())?;
        let parts = Parts::from_args(engines.as_ref(), rules.as_ref())?;
        let s = (*schema.get().inner).clone();
        let spec = model
            .as_ref()
            .map(|m| crate::physics::model_spec("model", m))
            .transpose()?;
        let b = builder(s.clone(), monitor.as_ref())
            .and_then(|b| match &spec {
                Some(spec) => spec.attach(b, &s),
                None => Ok(b),
            })
            .map_err(to_py)?;
        let twin = parts
            .attach_py(py, b)?
            .limits(limits)
            .build()
            .map_err(to_py)?;
        Ok(PyTwin {
            inner: Mutex::new(twin),
            schema: schema.unbind(),
            monitor,
            model: model.map(Bound::unbind),
            parts,
        })
    }

    /// The analytics engines given as ``engines`` (:class:`DetectorEngine`,
    /// :class:`MultivariateEngine`, :class:`RulEngine`), in order, as a tuple.
    #[getter]
    fn engines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.parts.engines(py)
    }

    /// The decision rules given as ``rules`` (:class:`DerateRule`), in order, as a tuple.
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.parts.rules(py)
    }

    /// Rebuild a twin from :meth:`snapshot` JSON; ``monitor``, ``model``, ``engines`` and
    /// ``rules`` must match the twin that was saved (the engines' and rules' learnt state
    /// comes from the snapshot). Raises :class:`SerializationError` if the snapshot does
    /// not fit. ``limits`` as for ``Twin``; the saved history is kept up to
    /// ``max_history_samples`` (newest).
    #[staticmethod]
    #[pyo3(signature = (json, monitor = MonitorArg::Flag(true), model = None, limits = None, engines = None, rules = None), text_signature = "(json, monitor=True, model=None, limits=None, engines=(), rules=())")]
    fn from_snapshot(
        py: Python<'_>,
        json: &str,
        monitor: MonitorArg<'_>,
        model: Option<Bound<'_, PyAny>>,
        limits: Option<Bound<'_, PyDict>>,
        engines: Option<Bound<'_, PyAny>>,
        rules: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let monitor = monitor.config()?;
        let limits = limits_from(limits.as_ref())?;
        let parts = Parts::from_args(engines.as_ref(), rules.as_ref())?;
        let snap = twin::TwinSnapshot::from_json(json).map_err(to_py)?;
        let schema = snap.schema().clone();
        let spec = model
            .as_ref()
            .map(|m| crate::physics::model_spec("model", m))
            .transpose()?;
        let b = builder(schema.clone(), monitor.as_ref())
            .and_then(|b| match &spec {
                Some(spec) => spec.attach(b, &schema),
                None => Ok(b),
            })
            .map_err(to_py)?;
        let twin = parts
            .attach_py(py, b)?
            .limits(limits)
            .restore(snap)
            .map_err(to_py)?;
        Ok(PyTwin {
            inner: Mutex::new(twin),
            schema: Py::new(py, PySchema::from_schema(schema))?,
            monitor,
            model: model.map(Bound::unbind),
            parts,
        })
    }

    /// The twin's bounds, as a dict (the ``limits`` argument of ``Twin``, defaults filled
    /// in).
    #[getter]
    fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let l = self.with_twin(py, false, |tw| *tw.limits())?;
        limits_dict(py, &l)
    }

    /// The recent accepted samples, oldest first in order of acceptance, as numpy columns:
    /// ``time`` (int64 ns), ``signal`` (uint32 id) and ``value`` (float64). At most
    /// ``limits["max_history_samples"]`` of them; empty when the twin keeps no history.
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let h = self.with_twin(py, false, |tw| tw.history())?;
        let b = h.as_ref();
        let d = PyDict::new(py);
        d.set_item("time", b.times().to_vec().into_pyarray(py))?;
        d.set_item("signal", b.signals().to_vec().into_pyarray(py))?;
        d.set_item("value", b.values().to_vec().into_pyarray(py))?;
        Ok(d)
    }

    /// The twin's schema.
    #[getter(schema)]
    fn py_schema(&self, py: Python<'_>) -> Py<PySchema> {
        self.schema.clone_ref(py)
    }

    /// Names of the analytics engines, in order (``["ewma_monitor"]`` with the monitor).
    #[getter]
    fn engine_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with_twin(py, false, |tw| {
            tw.engine_names().into_iter().map(String::from).collect()
        })
    }

    /// Ingest one sample; ``signal`` is an id or a name. A refused sample raises the
    /// error that says why (:class:`OutOfOrderError`, :class:`NonFiniteError`, ...).
    /// A name not in the schema, or an id that no schema can have (negative, or 2**32 and
    /// above), raises :class:`UnknownSignalError` before the sample reaches the twin, so it
    /// is not counted in :attr:`counters`.
    fn ingest(&self, py: Python<'_>, time: i64, signal: SignalArg, value: f64) -> PyResult<()> {
        let id = signal.resolve(self.schema()).map_err(to_py)?;
        self.with_twin(py, false, |tw| {
            tw.ingest(Sample::new(Timestamp(time), id, value))
        })?
        .map_err(to_py)
    }

    /// Ingest a columnar batch: ``times`` (int64 ns), ``signals`` (uint32 ids) and
    /// ``values`` (float64), all one-dimensional and of equal length.
    ///
    /// Arrays of exactly these dtypes that are C-contiguous are read in place, without a
    /// copy; batches of at least ``DETACH_MIN_SAMPLES`` are processed with the GIL
    /// released (other threads must not write to the arrays meanwhile). Other integer/float
    /// dtypes, non-contiguous views and sequences are converted first (a copy; see
    /// ``IngestReport.copied``); dtypes that cannot be converted without changing meaning
    /// raise ``TypeError``. Each sample is accepted or refused on its own; the report says
    /// which and why. Mismatched lengths raise :class:`InvalidInputError`.
    fn ingest_batch<'py>(
        &self,
        py: Python<'py>,
        times: &Bound<'py, PyAny>,
        signals: &Bound<'py, PyAny>,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<PyIngestReport> {
        let columns = columns::Batch::extract(times, signals, values)?;
        let batch = columns.as_ref()?;
        let detach = batch.len() >= DETACH_MIN_SAMPLES;
        let report = self.with_twin(py, detach, move |tw| tw.ingest_batch(batch))?;
        let copied = [
            ("times", columns.times.copied),
            ("signals", columns.signals.copied),
            ("values", columns.values.copied),
        ]
        .into_iter()
        .filter_map(|(name, c)| c.then_some(name))
        .collect();
        Ok(PyIngestReport {
            accepted: report.accepted,
            rejections: report.rejections,
            copied,
        })
    }

    /// Insights waiting to be read, oldest first (they stay pending).
    fn insights(&self, py: Python<'_>) -> PyResult<Vec<PyInsight>> {
        self.insight_list(py, false)
    }

    /// Take every pending insight, oldest first.
    fn drain_insights(&self, py: Python<'_>) -> PyResult<Vec<PyInsight>> {
        self.insight_list(py, true)
    }

    /// Pending insights as numpy columns: ``time`` (int64), ``signal`` (uint32), ``kind``
    /// (object array of str), ``value`` and ``score`` (float64). With ``drain=True`` they
    /// are taken, as by :meth:`drain_insights`.
    #[pyo3(signature = (drain = false))]
    fn insight_columns<'py>(&self, py: Python<'py>, drain: bool) -> PyResult<Bound<'py, PyDict>> {
        let raw = self.with_twin(py, false, |tw| {
            if drain {
                tw.drain_insights()
            } else {
                tw.insights().copied().collect()
            }
        })?;
        let n = raw.len();
        let (mut time, mut signal, mut value, mut score) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut kind: Vec<Py<PyAny>> = Vec::with_capacity(n);
        for i in &raw {
            time.push(i.time.0);
            signal.push(i.signal.0);
            value.push(i.value);
            score.push(i.score);
            kind.push(
                PyString::intern(py, i.kind.as_str())
                    .clone()
                    .into_any()
                    .unbind(),
            );
        }
        let d = PyDict::new(py);
        d.set_item("time", time.into_pyarray(py))?;
        d.set_item("signal", signal.into_pyarray(py))?;
        d.set_item("kind", PyArray1::from_vec(py, kind))?;
        d.set_item("value", value.into_pyarray(py))?;
        d.set_item("score", score.into_pyarray(py))?;
        Ok(d)
    }

    /// The last reported value of a signal (by name or id), or None if never reported.
    fn reported(&self, py: Python<'_>, signal: SignalArg) -> PyResult<Option<f64>> {
        let id = signal.resolve(self.schema()).map_err(to_py)?;
        self.with_twin(py, false, |tw| tw.state().reported(id))
    }

    /// When a signal (by name or id) was last reported, in nanoseconds, or None.
    fn reported_time(&self, py: Python<'_>, signal: SignalArg) -> PyResult<Option<i64>> {
        let id = signal.resolve(self.schema()).map_err(to_py)?;
        self.with_twin(py, false, |tw| tw.state().reported_time(id).map(|t| t.0))
    }

    /// The desired value of a property, or None if unset.
    fn desired(&self, py: Python<'_>, signal: SignalArg) -> PyResult<Option<f64>> {
        let id = signal.resolve(self.schema()).map_err(to_py)?;
        self.with_twin(py, false, |tw| tw.state().desired(id))
    }

    /// Set the desired value of a property. With ``expected_version`` the write succeeds
    /// only if the state is still at that version (else :class:`VersionConflictError`).
    /// Returns the new version.
    #[pyo3(signature = (name, value, time, expected_version = None))]
    fn set_desired(
        &self,
        py: Python<'_>,
        name: &str,
        value: f64,
        time: i64,
        expected_version: Option<u64>,
    ) -> PyResult<u64> {
        self.with_twin(py, false, |tw| {
            tw.set_desired(name, value, Timestamp(time), expected_version)
        })?
        .map_err(to_py)
    }

    /// The version of the desired state (it counts changes to desired values).
    #[getter]
    fn version(&self, py: Python<'_>) -> PyResult<u64> {
        self.with_twin(py, false, |tw| tw.state().version())
    }

    /// The latest accepted sample time in nanoseconds, or None before any sample.
    #[getter]
    fn now(&self, py: Python<'_>) -> PyResult<Option<i64>> {
        self.with_twin(py, false, |tw| tw.now().map(|t| t.0))
    }

    /// Running totals of ingested samples: ``received``, ``accepted``, ``rejected``, one
    /// count per refusal reason (``limit_exceeded`` among them) and ``history_dropped``
    /// (accepted samples that left the history ring). ``accepted + rejected == received``.
    #[getter]
    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.with_twin(py, false, |tw| tw.ingest_counters())?;
        let d = PyDict::new(py);
        for (k, v) in [
            ("received", c.received),
            ("accepted", c.accepted),
            ("rejected", c.rejected()),
            ("non_finite", c.non_finite),
            ("unknown_signal", c.unknown_signal),
            ("out_of_order", c.out_of_order),
            ("duplicate", c.duplicate),
            ("timestamp_conflict", c.timestamp_conflict),
            ("out_of_range", c.out_of_range),
            ("limit_exceeded", c.limit_exceeded),
            ("history_dropped", c.history_dropped),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Running totals of commands: ``accepted``, ``refused``, ``sent``, ``send_failed``,
    /// and the insights and audit entries dropped for lack of room.
    #[getter]
    fn command_counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.with_twin(py, false, |tw| tw.command_counters())?;
        let d = PyDict::new(py);
        for (k, v) in [
            ("accepted", c.accepted),
            ("refused", c.refused),
            ("sent", c.sent),
            ("send_failed", c.send_failed),
            ("insights_dropped", c.insights_dropped),
            ("audit_dropped", c.audit_dropped),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Request a command at ``time`` (ns). It is checked against the schema's limits and
    /// rate limits: out of limits raises :class:`OutOfRangeError`, too fast
    /// :class:`RateLimitedError`, an unknown name :class:`UnknownSignalError`. A valid
    /// command sets its property's desired value and waits in the outbox
    /// (:meth:`take_commands`). Either way it is recorded in the audit log.
    fn command(&self, py: Python<'_>, name: &str, value: f64, time: i64) -> PyResult<PyCommand> {
        self.with_twin(py, false, |tw| tw.command(name, value, Timestamp(time)))?
            .map(|c| PyCommand::from(&c))
            .map_err(to_py)
    }

    // ---- connections (bindings in crate::connection) ----

    /// Poll up to ``max_samples`` samples from ``conn``, ingest them (refusals counted as
    /// by :meth:`ingest_batch`), then send the pending commands through ``conn``; returns
    /// a :class:`StepReport`.
    ///
    /// ``conn`` is a :class:`SimNetwork` (run natively, the GIL released) or any object
    /// with ``poll(max_samples)`` returning ``(times, signals, values)`` (or a dict with
    /// ``"time"``, ``"signal"``, ``"value"``) and ``send(command)``. An exception raised by
    /// ``poll`` propagates (nothing is ingested); one raised by ``send`` fails that
    /// command, which the audit log records (``"send_failed"``) and which is not retried.
    ///
    /// >>> import twin
    /// >>> class Conn:
    /// ...     def __init__(self): self.sent = []
    /// ...     def poll(self, max_samples): return ([0], [1], [0.5])
    /// ...     def send(self, command): self.sent.append(command)
    /// >>> t, c = twin.Twin(twin.Schema.conveyor()), Conn()
    /// >>> _ = t.command("set_speed", 1.5, 0)
    /// >>> t.step(c)
    /// StepReport(polled=1, accepted=1, rejected=0, sent=1, failed=0)
    /// >>> c.sent[0].name, c.sent[0].value
    /// ('set_speed', 1.5)
    #[pyo3(signature = (conn, max_samples = 10_000))]
    fn step(
        &self,
        py: Python<'_>,
        conn: &Bound<'_, PyAny>,
        max_samples: i64,
    ) -> PyResult<crate::connection::PyStepReport> {
        crate::connection::step(self, py, conn, max_samples)
    }

    /// Send every pending command through ``conn`` (see :meth:`step`); returns
    /// ``(sent, failed)``. A failed command is recorded in the audit log and not retried.
    fn flush(&self, py: Python<'_>, conn: &Bound<'_, PyAny>) -> PyResult<(usize, usize)> {
        crate::connection::flush(self, py, conn)
    }

    /// :meth:`command` on behalf of ``source`` (for example ``"advisor"``), which the audit
    /// log records as the requester.
    fn command_as(
        &self,
        py: Python<'_>,
        name: &str,
        value: f64,
        time: i64,
        source: &str,
    ) -> PyResult<PyCommand> {
        self.with_twin(py, false, |tw| {
            tw.command_as(name, value, Timestamp(time), source)
        })?
        .map(|c| PyCommand::from(&c))
        .map_err(to_py)
    }

    // ---- end connections ----

    /// Validated commands waiting to be sent (they stay pending).
    fn pending_commands(&self, py: Python<'_>) -> PyResult<Vec<PyCommand>> {
        self.with_twin(py, false, |tw| {
            tw.pending_commands().iter().map(PyCommand::from).collect()
        })
    }

    /// Take the validated commands waiting to be sent, for the host to deliver; they are
    /// logged as sent.
    fn take_commands(&self, py: Python<'_>) -> PyResult<Vec<PyCommand>> {
        self.with_twin(py, false, |tw| {
            tw.take_commands().iter().map(PyCommand::from).collect()
        })
    }

    /// The command audit log, oldest first: dicts with ``time``, ``command``, ``value``,
    /// ``source`` (``"user"``, a rule's name or ``"outbox"``), ``outcome`` (``"accepted"``,
    /// ``"sent"``, ``"refused"``, ``"send_failed"``), and for failures ``reason`` (an
    /// error-kind name) and ``message``.
    fn audit_log<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let entries =
            self.with_twin(py, false, |tw| tw.audit_log().cloned().collect::<Vec<_>>())?;
        let list = PyList::empty(py);
        for e in entries {
            let d = PyDict::new(py);
            d.set_item("time", e.time.0)?;
            d.set_item("command", e.command)?;
            d.set_item("value", e.value)?;
            d.set_item("source", e.source)?;
            let outcome = e.outcome.as_str();
            let failure = e.outcome.failure();
            d.set_item("outcome", outcome)?;
            d.set_item("reason", failure.as_ref().map(|(k, _)| k.as_str()))?;
            d.set_item("message", failure.map(|(_, m)| m.to_string()))?;
            list.append(d)?;
        }
        Ok(list)
    }

    // ---- pandas tables (implemented in twin/_frames.py; pandas is optional) ----

    /// Pending insights as a pandas DataFrame: ``time`` (int64 ns), ``signal`` (name),
    /// ``signal_id``, ``kind``, ``value`` and ``score``, oldest first. With ``drain=True``
    /// they are taken, as by :meth:`drain_insights`. Raises ``ImportError`` without pandas.
    #[pyo3(signature = (drain = false))]
    fn insights_frame<'py>(slf: &Bound<'py, Self>, drain: bool) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py())?.call_method1("insights_frame", (slf, drain))
    }

    /// The command audit log (see :meth:`audit_log`) as a pandas DataFrame with columns
    /// ``time``, ``command``, ``value``, ``source``, ``outcome``, ``reason``, ``message``.
    fn audit_frame<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py())?.call_method1("audit_frame", (slf,))
    }

    /// Ingest a pandas DataFrame, long or wide, and return the :class:`IngestReport`.
    ///
    /// Long: columns ``time``, ``signal`` (names or ids) and ``value``, one sample a row.
    /// Wide: one column per signal name, times in the ``time`` column or the index; a NaN
    /// cell is a signal that did not report then. Times are integer nanoseconds or
    /// datetimes (naive ones read as UTC). Column names are keyword arguments.
    ///
    /// >>> import pandas as pd, twin
    /// >>> t = twin.Twin(twin.Schema.conveyor())
    /// >>> df = pd.DataFrame({"time": [0, 10**9], "belt_speed": [1.0, 1.1], "vibration": [2.0, float("nan")]})
    /// >>> t.ingest_frame(df).accepted
    /// 3
    #[pyo3(signature = (df, *, time = "time", signal = "signal", value = "value"))]
    fn ingest_frame<'py>(
        slf: &Bound<'py, Self>,
        df: &Bound<'py, PyAny>,
        time: &str,
        signal: &str,
        value: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py())?.call_method1("ingest_frame", (slf, df, time, signal, value))
    }

    // ---- end pandas tables ----

    // ---- what-if (bindings in crate::whatif) ----

    /// Run the twin's digital model forward from its current estimate under ``scenario``
    /// (a :class:`WhatIfScenario`, a dict or JSON), with Monte Carlo over the model's
    /// uncertainty and the GIL released; the twin itself is not touched. A twin without a
    /// model raises :class:`InvalidInputError`, an unknown input :class:`UnknownSignalError`.
    ///
    /// >>> import twin
    /// >>> t = twin.Twin(twin.Schema.conveyor(), model=twin.ConveyorModel())
    /// >>> r = t.what_if(twin.WhatIfScenario(45 * 86400.0, 3600.0, inputs={"speed_setpoint": 1.5}, paths=300, seed=1))
    /// >>> r.failure_probability < 0.5
    /// True
    #[pyo3(signature = (scenario, *, progress=None))]
    fn what_if<'py>(
        &self,
        py: Python<'py>,
        scenario: &Bound<'py, PyAny>,
        progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<crate::whatif::PyWhatIfResult> {
        let s = crate::whatif::scenario_arg(scenario)?;
        // The forward model is a copy taken under the lock; the run itself does not hold
        // the twin, so ingest may go on meanwhile.
        let fm = self
            .with_twin(py, false, |tw| tw.forward_model())?
            .map_err(to_py)?;
        crate::whatif::run_forward(py, fm.as_ref(), &s, progress)
    }

    /// The model object the twin was built with (``None`` without one).
    #[getter]
    fn model(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.model.as_ref().map(|m| m.clone_ref(py))
    }

    /// The model's current estimate of ``name`` (a state variable or set-point), or
    /// ``None`` without a model or for a name the model does not estimate.
    fn estimate(&self, py: Python<'_>, name: &str) -> PyResult<Option<f64>> {
        self.with_twin(py, false, |tw| tw.model().and_then(|m| m.estimate(name)))
    }

    /// Everything the twin has learnt, as JSON; :meth:`from_snapshot` restores it.
    fn snapshot(&self, py: Python<'_>) -> PyResult<String> {
        self.with_twin(py, true, |tw| tw.snapshot().and_then(|s| s.to_json()))?
            .map_err(to_py)
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let json = self.snapshot(py)?;
        let l = self.with_twin(py, false, |tw| *tw.limits())?;
        let restore = py.get_type::<PyTwin>().getattr("from_snapshot")?;
        let model = match &self.model {
            Some(m) => m.bind(py).clone(),
            None => py.None().into_bound(py),
        };
        let args = PyTuple::new(
            py,
            [
                json.into_pyobject(py)?.into_any(),
                self.monitor_arg(py)?,
                model,
                limits_dict(py, &l)?.into_any(),
                self.parts.engines(py)?.into_any(),
                self.parts.rules(py)?.into_any(),
            ],
        )?;
        Ok((restore, args))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (c, pending, names) = self.with_twin(py, false, |tw| {
            (
                tw.ingest_counters(),
                tw.insights().count(),
                tw.engine_names().into_iter().map(quote).collect::<Vec<_>>(),
            )
        })?;
        let rules: Vec<String> = self.parts.rule_names().iter().map(|n| quote(n)).collect();
        Ok(format!(
            "<Twin {}: engines [{}], rules [{}], {} samples accepted, {} rejected, {} insights pending>",
            quote(self.schema().name()),
            names.join(", "),
            rules.join(", "),
            c.accepted,
            c.rejected(),
            pending
        ))
    }
}

// ---- fleet (issue 7): moving twins into and out of a `Fleet` ----
impl PyTwin {
    /// The monitor settings, the model object and the engines and rules this twin was
    /// built with: what rebuilds it from a snapshot.
    pub(crate) fn recipe(
        &self,
        py: Python<'_>,
    ) -> (Option<MonitorConfig>, Option<Py<PyAny>>, Parts) {
        (
            self.monitor.clone(),
            self.model.as_ref().map(|m| m.clone_ref(py)),
            self.parts.clone_ref(py),
        )
    }

    /// A Python twin around a Rust twin built with `monitor`, `model` and `parts`.
    pub(crate) fn from_parts(
        py: Python<'_>,
        twin: twin::Twin,
        monitor: Option<MonitorConfig>,
        model: Option<Py<PyAny>>,
        parts: Parts,
    ) -> PyResult<Self> {
        let schema = Py::new(py, PySchema::from_schema(twin.schema().clone()))?;
        Ok(PyTwin {
            inner: Mutex::new(twin),
            schema,
            monitor,
            model,
            parts,
        })
    }

    /// A Python dict (or bool) of monitor settings, as `Twin(monitor=...)` takes them.
    pub(crate) fn monitor_arg_of<'py>(
        py: Python<'py>,
        monitor: Option<&MonitorConfig>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match monitor {
            None => Ok(false.into_pyobject(py)?.to_owned().into_any()),
            Some(c) => {
                let d = PyDict::new(py);
                d.set_item("alpha", c.alpha)?;
                d.set_item("threshold", c.threshold)?;
                d.set_item("warmup", c.warmup)?;
                d.set_item("include_properties", c.include_properties)?;
                Ok(d.into_any())
            }
        }
    }
}

/// The pure-Python module with the pandas conversions.
pub(crate) fn frames(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("twin._frames")
}
