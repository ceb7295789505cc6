//! Connections from Python: `Twin.step` / `Twin.flush` over any object that follows the
//! connection protocol, and the `StepReport` they return.
//!
//! A connection is any Python object with
//! - `poll(max_samples: int)` returning the three columns `(times, signals, values)`
//!   (int64 ns, uint32 ids, float64; a tuple of array-likes, the primary form) or a dict
//!   with the keys `"time"`, `"signal"`, `"value"`, at most `max_samples` long, and
//! - `send(command: twin.Command) -> None`, which raises if the command could not be sent.
//!
//! The object is wrapped in [`PyConnection`], a Rust [`DataConnection`], so the twin runs
//! exactly the code of [`twin::Twin::step`]: the twin's lock is held for the whole step
//! and the adaptor takes the GIL for each Python call. A connection that calls back into
//! the twin it is stepping gets a `TwinError` (see [`stepping`]) instead of a deadlock.

use std::cell::RefCell;
use std::thread::LocalKey;

use pyo3::exceptions::{PyConnectionError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use twin::connection::DataConnection;
use twin::{Command, SampleBatch, SignalId, Timestamp};

use crate::columns;
use crate::digital_twin::PyTwin;
use crate::errors::{invalid_input, lock_or_message, lock_or_raise, to_py, twin_error};
use crate::results::{PyCommand, PyIngestReport};

thread_local! {
    /// Addresses of the twins this thread is stepping while it runs a connection's Python
    /// code: a call back into one of them must not wait for the lock this thread holds.
    static STEPPING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Whether this thread is inside a connection callback of the twin at `addr`.
pub(crate) fn stepping(addr: usize) -> bool {
    Reentry::active(&STEPPING, addr)
}

/// The error a connection callback gets when it calls back into the twin being stepped.
pub(crate) fn reentry_error() -> PyErr {
    twin_error(
        "a connection's poll or send called back into the twin that is stepping it; \
         read the twin after step/flush returns",
    )
}

/// A thread-local list of the objects (by address) whose lock this thread holds while it
/// runs Python callbacks: [`Reentry::enter`] marks one until the guard is dropped, and
/// [`Reentry::active`] tells a callback that calls back into it, which must not wait for
/// that lock.
pub(crate) struct Reentry {
    list: &'static LocalKey<RefCell<Vec<usize>>>,
    addr: usize,
}

impl Reentry {
    /// Mark `addr` in `list` until the guard is dropped.
    pub(crate) fn enter(list: &'static LocalKey<RefCell<Vec<usize>>>, addr: usize) -> Self {
        list.with(|v| v.borrow_mut().push(addr));
        Reentry { list, addr }
    }

    /// Whether `addr` is marked in `list` on this thread.
    pub(crate) fn active(list: &'static LocalKey<RefCell<Vec<usize>>>, addr: usize) -> bool {
        list.with(|v| v.borrow().contains(&addr))
    }
}

impl Drop for Reentry {
    fn drop(&mut self) {
        let addr = self.addr;
        self.list.with(|v| {
            let mut v = v.borrow_mut();
            if let Some(i) = v.iter().rposition(|&a| a == addr) {
                v.remove(i);
            }
        });
    }
}

/// Polled samples as the connection protocol's `(times, signals, values)` numpy columns.
pub(crate) fn columns_tuple<'py>(
    py: Python<'py>,
    batch: &SampleBatch,
) -> PyResult<Bound<'py, PyTuple>> {
    use numpy::IntoPyArray;
    let b = batch.as_ref();
    PyTuple::new(
        py,
        [
            b.times().to_vec().into_pyarray(py).into_any(),
            b.signals().to_vec().into_pyarray(py).into_any(),
            b.values().to_vec().into_pyarray(py).into_any(),
        ],
    )
}

/// The `command` argument of a connection's `send`: a `twin.Command`.
pub(crate) fn command_arg(command: &Bound<'_, PyAny>) -> PyResult<Command> {
    let c = command.cast::<PyCommand>().map_err(|_| {
        PyTypeError::new_err(format!(
            "command must be a twin.Command, not {}",
            command
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    c.get().to_command()
}

/// A Python object that follows the connection protocol, as a Rust [`DataConnection`].
///
/// An exception raised by `poll` is kept and re-raised by the caller once the step is
/// over; an exception raised by `send` is the failure of that one command (recorded in the
/// twin's audit log as Rust does).
pub(crate) struct PyConnection {
    obj: Py<PyAny>,
    poll_error: Option<PyErr>,
    /// A `BaseException` that is not an `Exception` (KeyboardInterrupt, SystemExit) raised
    /// by `send`: the command fails, and the exception is raised when the step is over.
    interrupt: Option<PyErr>,
}

impl PyConnection {
    /// Check that `obj` has `poll` and `send`, and wrap it.
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        for m in ["poll", "send"] {
            let ok = obj.getattr(m).map(|a| a.is_callable()).unwrap_or(false);
            if !ok {
                return Err(PyTypeError::new_err(format!(
                    "conn must be a connection: an object with poll(max_samples) and \
                     send(command) methods (a SimNetwork, CsvReplay, channel end or your own \
                     class); {} has no {m}()",
                    obj.get_type().name()?
                )));
            }
        }
        Ok(PyConnection {
            obj: obj.clone().unbind(),
            poll_error: None,
            interrupt: None,
        })
    }

    /// The exception `poll` raised, if it did.
    pub(crate) fn take_poll_error(&mut self) -> Option<PyErr> {
        self.poll_error.take().or_else(|| self.interrupt.take())
    }
}

/// A new exception of the same class as `e` with `prefix` before its message (or `e`
/// itself if that class cannot be made from one message).
fn with_context(py: Python<'_>, e: PyErr, prefix: &str) -> PyErr {
    let msg = format!("{prefix}{}", e.value(py));
    match e.get_type(py).call1((msg,)) {
        Ok(v) => {
            let new = PyErr::from_value(v);
            new.set_cause(py, Some(e));
            new
        }
        Err(_) => e,
    }
}

/// The columns a `poll` returned, appended to `out`; returns how many samples.
pub(crate) fn append_columns(
    py: Python<'_>,
    what: &str,
    ret: &Bound<'_, PyAny>,
    max: usize,
    out: &mut SampleBatch,
) -> PyResult<usize> {
    let (t, s, v) = if let Ok(d) = ret.cast::<PyDict>() {
        let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
            d.get_item(k)?.ok_or_else(|| {
                invalid_input(format!(
                    "{what} returned a dict without the key {k:?}; expected \"time\", \"signal\", \"value\""
                ))
            })
        };
        (get("time")?, get("signal")?, get("value")?)
    } else if let Ok(tup) = ret.cast::<PyTuple>() {
        if tup.len() != 3 {
            return Err(invalid_input(format!(
                "{what} returned a tuple of {} items; expected (times, signals, values)",
                tup.len()
            )));
        }
        (tup.get_item(0)?, tup.get_item(1)?, tup.get_item(2)?)
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must return a tuple (times, signals, values) or a dict with \"time\", \
             \"signal\", \"value\"; got {}",
            ret.get_type().name()?
        )));
    };
    let prefix = format!("{what}: ");
    let t = columns::times(&t).map_err(|e| with_context(py, e, &prefix))?;
    let s = columns::signals(&s).map_err(|e| with_context(py, e, &prefix))?;
    let v = columns::values(&v).map_err(|e| with_context(py, e, &prefix))?;
    let (ts, ss, vs) = (
        t.column.as_slice()?,
        s.column.as_slice()?,
        v.column.as_slice()?,
    );
    if ss.len() != ts.len() || vs.len() != ts.len() {
        return Err(invalid_input(format!(
            "{what} returned columns of different lengths: times {}, signals {}, values {}",
            ts.len(),
            ss.len(),
            vs.len()
        )));
    }
    if ts.len() > max {
        return Err(invalid_input(format!(
            "{what} returned {} samples, more than max_samples={max}",
            ts.len()
        )));
    }
    for i in 0..ts.len() {
        out.push(Timestamp(ts[i]), SignalId(ss[i]), vs[i]);
    }
    Ok(ts.len())
}

/// The Rust error recorded for a command whose `send` raised `e`.
fn send_error(py: Python<'_>, e: &PyErr) -> twin::Error {
    let ty = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "exception".into());
    let msg = format!("send raised {ty}: {}", e.value(py));
    if e.is_instance_of::<PyConnectionError>(py) || ty == "DisconnectedError" {
        twin::Error::Disconnected(msg)
    } else {
        twin::Error::Io(std::io::Error::other(msg))
    }
}

impl DataConnection for PyConnection {
    fn poll(&mut self, out: &mut SampleBatch, max: usize) -> twin::Result<usize> {
        Python::attach(|py| {
            let r = self
                .obj
                .bind(py)
                .call_method1("poll", (max,))
                .and_then(|ret| append_columns(py, "poll()", &ret, max, out));
            match r {
                Ok(n) => Ok(n),
                Err(e) => {
                    self.poll_error = Some(e);
                    Err(twin::Error::InvalidInput(
                        "the connection's poll raised".into(),
                    ))
                }
            }
        })
    }

    fn send(&mut self, command: &Command) -> twin::Result<()> {
        Python::attach(|py| {
            let r = Py::new(py, PyCommand::from(command))
                .and_then(|c| self.obj.bind(py).call_method1("send", (c,)));
            match r {
                Ok(_) => Ok(()),
                Err(e) => {
                    let err = send_error(py, &e);
                    if !e.is_instance_of::<pyo3::exceptions::PyException>(py)
                        && self.interrupt.is_none()
                    {
                        self.interrupt = Some(e);
                    }
                    Err(err)
                }
            }
        })
    }
}

/// What one :meth:`Twin.step` did: samples ``polled`` from the connection, how many were
/// ``accepted`` / ``rejected`` (``ingest`` has the details), and commands ``sent`` or
/// ``failed`` (a failed send is in the audit log). ``accepted + rejected == polled``.
///
/// >>> import twin
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> class Conn:
/// ...     def poll(self, max_samples): return ([0, 1], [0, 0], [1.0, float("nan")])
/// ...     def send(self, command): pass
/// >>> t.step(Conn())
/// StepReport(polled=2, accepted=1, rejected=1, sent=0, failed=0)
#[pyclass(frozen, eq, name = "StepReport", module = "twin")]
#[derive(Debug, Clone, PartialEq)]
pub struct PyStepReport {
    pub(crate) inner: twin::StepReport,
}

#[pymethods]
impl PyStepReport {
    /// Samples taken from the connection.
    #[getter]
    fn polled(&self) -> usize {
        self.inner.polled
    }

    /// Samples taken into the state.
    #[getter]
    fn accepted(&self) -> usize {
        self.inner.ingest.accepted
    }

    /// Samples refused (see ``ingest.rejections``).
    #[getter]
    fn rejected(&self) -> usize {
        self.inner.ingest.rejected()
    }

    /// Commands handed to the connection.
    #[getter]
    fn sent(&self) -> usize {
        self.inner.sent
    }

    /// Commands whose send failed (recorded in the audit log, not retried).
    #[getter]
    fn failed(&self) -> usize {
        self.inner.send_failed
    }

    /// The :class:`IngestReport` of the polled samples.
    #[getter]
    fn ingest(&self) -> PyIngestReport {
        PyIngestReport {
            accepted: self.inner.ingest.accepted,
            rejections: self.inner.ingest.rejections.clone(),
            copied: Vec::new(),
        }
    }

    /// Rebuild a report from its JSON (what pickling uses).
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        serde_json::from_str(json)
            .map(|inner| PyStepReport { inner })
            .map_err(|e| to_py(e.into()))
    }

    /// The report as JSON.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| to_py(e.into()))
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyStepReport>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "StepReport(polled={}, accepted={}, rejected={}, sent={}, failed={})",
            self.inner.polled,
            self.inner.ingest.accepted,
            self.inner.ingest.rejected(),
            self.inner.sent,
            self.inner.send_failed
        )
    }
}

/// The `max_samples` argument.
pub(crate) fn max_arg(max_samples: i64) -> PyResult<usize> {
    usize::try_from(max_samples)
        .map_err(|_| invalid_input(format!("max_samples must be >= 0, got {max_samples}")))
}

/// A connection implemented in Rust behind a Python object (a `SimNetwork`, a
/// `CsvReplay`, a channel end): `Twin.step` runs it directly, with no Python call.
pub(crate) trait NativeConnection: Sync {
    /// Run `f` on the connection under its lock; an error message if it is unusable.
    fn with_connection(&self, f: &mut dyn FnMut(&mut dyn DataConnection)) -> Result<(), String>;
}

/// The Rust connection behind `conn`, if it is one of the built-in connection classes.
fn native_of<'a>(conn: &'a Bound<'_, PyAny>) -> Option<&'a dyn NativeConnection> {
    if let Ok(n) = conn.cast::<crate::simnet::PySimNetwork>() {
        return Some(n.get());
    }
    if let Ok(n) = conn.cast::<PyCsvReplay>() {
        return Some(n.get());
    }
    if let Ok(n) = conn.cast::<PyTwinEnd>() {
        return Some(n.get());
    }
    None
}

/// Run `f` on the twin and the native connection `nc`: the twin's lock first, then the
/// connection's, with the GIL released.
fn run_native<R: Send>(
    tw: &PyTwin,
    py: Python<'_>,
    nc: &dyn NativeConnection,
    f: impl FnOnce(&mut twin::Twin, &mut dyn DataConnection) -> R + Send,
) -> PyResult<R> {
    let (ok, out) = tw.with_twin(py, true, move |t| {
        let mut f = Some(f);
        let mut out = None;
        let ok = nc.with_connection(&mut |c| {
            if let Some(f) = f.take() {
                out = Some(f(&mut *t, c));
            }
        });
        (ok, out)
    })?;
    ok.map_err(twin_error)?;
    out.ok_or_else(|| twin_error("the connection was not run"))
}

/// `Twin.step(conn, max_samples)`.
pub(crate) fn step(
    tw: &PyTwin,
    py: Python<'_>,
    conn: &Bound<'_, PyAny>,
    max_samples: i64,
) -> PyResult<PyStepReport> {
    let max = max_arg(max_samples)?;
    if let Some(nc) = native_of(conn) {
        return run_native(tw, py, nc, move |t, c| t.step(c, max))?
            .map(|inner| PyStepReport { inner })
            .map_err(to_py);
    }
    let mut pc = PyConnection::new(conn)?;
    let addr = tw as *const PyTwin as usize;
    let r = tw.with_twin(py, false, |t| {
        let _g = Reentry::enter(&STEPPING, addr);
        t.step(&mut pc, max)
    })?;
    if let Some(e) = pc.take_poll_error() {
        return Err(e);
    }
    r.map(|inner| PyStepReport { inner }).map_err(to_py)
}

/// `Twin.flush(conn)`.
pub(crate) fn flush(
    tw: &PyTwin,
    py: Python<'_>,
    conn: &Bound<'_, PyAny>,
) -> PyResult<(usize, usize)> {
    if let Some(nc) = native_of(conn) {
        return run_native(tw, py, nc, |t, c| t.flush(c));
    }
    let mut pc = PyConnection::new(conn)?;
    let addr = tw as *const PyTwin as usize;
    let r = tw.with_twin(py, false, |t| {
        let _g = Reentry::enter(&STEPPING, addr);
        t.flush(&mut pc)
    })?;
    match pc.take_poll_error() {
        Some(e) => Err(e),
        None => Ok(r),
    }
}

// ---- CSV replay and export ----

/// Parse a CSV recording (`time_ns,signal,value`, signals by name). Strict: the first
/// malformed line is an error naming it (as [`twin::connection::read_csv`]). Lenient:
/// malformed lines are skipped and returned as `(line number, reason)`.
fn parse_csv(
    text: &str,
    schema: &twin::Schema,
    strict: bool,
) -> twin::Result<(SampleBatch, Vec<(usize, String)>)> {
    use twin::connection::CSV_HEADER;
    if strict {
        return Ok((
            twin::connection::read_csv(text.as_bytes(), schema)?,
            Vec::new(),
        ));
    }
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h.trim() == CSV_HEADER => {}
        _ => {
            return Err(twin::Error::InvalidInput(format!(
                "line 1: expected the header {CSV_HEADER:?}"
            )))
        }
    }
    let mut out = SampleBatch::new();
    let mut bad = Vec::new();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = (|| -> Result<(i64, SignalId, f64), String> {
            let mut parts = line.split(',');
            let (Some(t), Some(name), Some(v), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err("expected 3 fields".into());
            };
            let t: i64 = t
                .trim()
                .parse()
                .map_err(|e| format!("bad time {t:?}: {e}"))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|e| format!("bad value {v:?}: {e}"))?;
            let id = schema
                .signal_id(name.trim())
                .map_err(|_| format!("unknown signal {:?}", name.trim()))?;
            Ok((t, id, v))
        })();
        match parsed {
            Ok((t, id, v)) => out.push(Timestamp(t), id, v),
            Err(why) => bad.push((n, why)),
        }
    }
    Ok((out, bad))
}

struct Replay {
    conn: twin::connection::ReplayConnection,
    total: usize,
}

/// Plays back a CSV recording (header ``time_ns,signal,value``, one sample a line, signals
/// by name, as written by :func:`write_csv`) as a connection for :meth:`Twin.step`, and
/// keeps the commands the twin sends (:attr:`sent_commands`).
///
/// With ``strict=True`` (the default) a malformed line or an unknown signal raises
/// :class:`InvalidInputError` / :class:`UnknownSignalError` naming the line; with
/// ``strict=False`` such lines are skipped and listed in :attr:`bad_rows` as
/// ``(line, reason)``. Values the twin refuses (NaN, out of range) are replayed and
/// counted by the twin. ``source`` is a path or, with ``text=True``, the CSV itself.
///
/// >>> import twin
/// >>> csv = "time_ns,signal,value\n0,load,0.5\n1000000000,load,oops\n2000000000,load,0.6\n"
/// >>> r = twin.CsvReplay(csv, twin.Schema.conveyor(), strict=False, text=True)
/// >>> r.bad_rows
/// [(3, 'bad value "oops": invalid float literal')]
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> t.step(r).accepted, r.finished
/// (2, True)
#[pyclass(frozen, name = "CsvReplay", module = "twin")]
pub struct PyCsvReplay {
    state: std::sync::Mutex<Replay>,
    bad_rows: Vec<(usize, String)>,
}

impl PyCsvReplay {
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, Replay>> {
        lock_or_raise(&self.state, "replay")
    }
}

impl NativeConnection for PyCsvReplay {
    fn with_connection(&self, f: &mut dyn FnMut(&mut dyn DataConnection)) -> Result<(), String> {
        let mut st = lock_or_message(&self.state, "replay")?;
        f(&mut st.conn);
        Ok(())
    }
}

#[pymethods]
impl PyCsvReplay {
    #[new]
    #[pyo3(signature = (source, schema, strict = true, text = false))]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        schema: &Bound<'_, crate::schema::PySchema>,
        strict: bool,
        text: bool,
    ) -> PyResult<Self> {
        let content: String = if text {
            source
                .extract()
                .map_err(|_| PyTypeError::new_err("source must be a str when text=True"))?
        } else {
            let path = py
                .import("os")?
                .call_method1("fspath", (source,))
                .map_err(|_| PyTypeError::new_err("source must be a path (str or os.PathLike)"))?
                .extract::<String>()?;
            std::fs::read_to_string(&path).map_err(|e| {
                to_py(twin::Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("{path}: {e}"),
                )))
            })?
        };
        let schema = schema.get().inner.clone();
        let (batch, bad_rows) = py
            .detach(|| parse_csv(&content, &schema, strict))
            .map_err(to_py)?;
        let total = batch.len();
        Ok(PyCsvReplay {
            state: std::sync::Mutex::new(Replay {
                conn: twin::connection::ReplayConnection::new(batch),
                total,
            }),
            bad_rows,
        })
    }

    /// Up to ``max_samples`` samples not yet replayed: ``(times, signals, values)`` as
    /// int64, uint32 and float64 numpy arrays (the connection protocol).
    #[pyo3(signature = (max_samples = 10_000))]
    fn poll<'py>(&self, py: Python<'py>, max_samples: i64) -> PyResult<Bound<'py, PyTuple>> {
        let max = max_arg(max_samples)?;
        let mut out = SampleBatch::new();
        self.lock()?.conn.poll(&mut out, max).map_err(to_py)?;
        columns_tuple(py, &out)
    }

    /// Keep a command the twin sent (see :attr:`sent_commands`).
    fn send(&self, command: &Bound<'_, PyAny>) -> PyResult<()> {
        let cmd = command_arg(command)?;
        self.lock()?.conn.send(&cmd).map_err(to_py)
    }

    /// Samples in the recording (bad rows not counted).
    #[getter]
    fn total(&self) -> PyResult<usize> {
        Ok(self.lock()?.total)
    }

    /// Samples not yet replayed.
    #[getter]
    fn remaining(&self) -> PyResult<usize> {
        Ok(self.lock()?.conn.remaining())
    }

    /// Whether every sample has been replayed.
    #[getter]
    fn finished(&self) -> PyResult<bool> {
        Ok(self.lock()?.conn.is_finished())
    }

    /// Lines skipped by a lenient read: ``(line number, reason)``.
    #[getter]
    fn bad_rows(&self) -> Vec<(usize, String)> {
        self.bad_rows.clone()
    }

    /// The commands the twin sent during the replay, in order.
    #[getter]
    fn sent_commands(&self) -> PyResult<Vec<PyCommand>> {
        Ok(self
            .lock()?
            .conn
            .sent_commands()
            .iter()
            .map(PyCommand::from)
            .collect())
    }

    /// The replay's state as JSON (what pickling uses).
    fn to_json(&self) -> PyResult<String> {
        let st = self.lock()?;
        let mut all = st.conn.clone();
        let mut rest = SampleBatch::new();
        let n = all.remaining();
        all.poll(&mut rest, n).map_err(to_py)?;
        let b = rest.as_ref();
        // Values as their IEEE-754 bits: a recording may hold NaN, which JSON cannot.
        let bits: Vec<u64> = b.values().iter().map(|v| v.to_bits()).collect();
        let v = serde_json::json!({
            "total": st.total,
            "times": b.times(),
            "signals": b.signals(),
            "value_bits": bits,
            "sent": st.conn.sent_commands(),
            "bad_rows": self.bad_rows,
        });
        Ok(v.to_string())
    }

    /// Rebuild a replay from :meth:`to_json`: the samples not yet replayed, the commands
    /// kept and the bad rows.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Saved {
            total: usize,
            times: Vec<i64>,
            signals: Vec<u32>,
            value_bits: Vec<u64>,
            sent: Vec<Command>,
            bad_rows: Vec<(usize, String)>,
        }
        let s: Saved = serde_json::from_str(json)
            .map_err(|e| to_py(twin::Error::Serialization(format!("CsvReplay: {e}"))))?;
        let values: Vec<f64> = s.value_bits.iter().map(|&b| f64::from_bits(b)).collect();
        let mut remaining = SampleBatch::new();
        remaining.extend_from(twin::BatchRef::new(&s.times, &s.signals, &values).map_err(to_py)?);
        let mut conn = twin::connection::ReplayConnection::new(remaining);
        for c in &s.sent {
            conn.send(c).map_err(to_py)?;
        }
        Ok(PyCsvReplay {
            state: std::sync::Mutex::new(Replay {
                conn,
                total: s.total,
            }),
            bad_rows: s.bad_rows,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyCsvReplay>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> PyResult<String> {
        let st = self.lock()?;
        Ok(format!(
            "<CsvReplay: {} samples, {} remaining, {} bad rows, {} commands sent>",
            st.total,
            st.conn.remaining(),
            self.bad_rows.len(),
            st.conn.sent_commands().len()
        ))
    }
}

/// Write samples to ``path`` as CSV (``time_ns,signal,value``, signals by name from
/// ``schema``), the format :class:`CsvReplay` reads; returns how many were written. An id
/// not in the schema raises :class:`UnknownSignalError` and nothing is written.
///
/// >>> import os, tempfile, twin
/// >>> p = os.path.join(tempfile.mkdtemp(), "h.csv")
/// >>> s = twin.Schema.conveyor()
/// >>> load = s.signal_id("load")
/// >>> twin.write_csv(p, s, [0, 5], [load, load], [0.5, 0.75])
/// 2
/// >>> open(p).read()
/// 'time_ns,signal,value\n0,load,0.5\n5,load,0.75\n'
#[pyfunction]
pub fn write_csv(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    schema: &Bound<'_, crate::schema::PySchema>,
    times: &Bound<'_, PyAny>,
    signals: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let columns = columns::Batch::extract(times, signals, values)?;
    let batch = columns.as_ref()?;
    let schema = schema.get().inner.clone();
    let path = py
        .import("os")?
        .call_method1("fspath", (path,))
        .map_err(|_| PyTypeError::new_err("path must be a str or os.PathLike"))?
        .extract::<String>()?;
    write_batch(py, &path, &schema, batch)
}

fn write_batch(
    py: Python<'_>,
    path: &str,
    schema: &twin::Schema,
    batch: twin::BatchRef<'_>,
) -> PyResult<usize> {
    use std::io::Write;
    // Check every id first, so a bad one leaves no half-written file.
    for &id in batch.signals() {
        schema.signal(SignalId(id)).map_err(to_py)?;
    }
    let n = batch.len();
    py.detach(|| -> twin::Result<()> {
        let f = std::fs::File::create(path)
            .map_err(|e| twin::Error::Io(std::io::Error::new(e.kind(), format!("{path}: {e}"))))?;
        let mut w = std::io::BufWriter::new(f);
        twin::connection::write_csv(&mut w, schema, batch)?;
        w.flush()?;
        Ok(())
    })
    .map_err(to_py)?;
    Ok(n)
}

/// Write a twin's history (:meth:`Twin.history`, kept when the twin has
/// ``limits={"max_history_samples": n}``) to ``path`` as CSV; returns how many samples.
#[pyfunction]
pub fn export_history_csv(
    py: Python<'_>,
    twin: &Bound<'_, PyTwin>,
    path: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let tw = twin.get();
    let h = tw.with_twin(py, false, |t| t.history())?;
    let schema = twin.getattr("schema")?;
    let schema = schema.cast::<crate::schema::PySchema>()?;
    let path = py
        .import("os")?
        .call_method1("fspath", (path,))
        .map_err(|_| PyTypeError::new_err("path must be a str or os.PathLike"))?
        .extract::<String>()?;
    write_batch(py, &path, &schema.get().inner, h.as_ref())
}

// ---- in-process channel ----

fn channel_stats<'py>(
    py: Python<'py>,
    s: twin::connection::ChannelStats,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("sent", s.sent)?;
    d.set_item("refused", s.refused)?;
    d.set_item("dropped", s.dropped)?;
    d.set_item("delivered", s.delivered)?;
    d.set_item("queued", s.sent - s.dropped - s.delivered)?;
    Ok(d)
}

fn not_picklable(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "cannot pickle a {what}: it is one end of a live in-process queue shared with another \
         object; make a new twin.channel in the other process"
    ))
}

/// The asset's end of a :func:`channel`: publishes samples (from any thread; a blocking
/// publish releases the GIL), receives the twin's commands. :meth:`close` (or dropping
/// it) disconnects it: the twin's end then reports :class:`DisconnectedError` once the
/// queue is drained.
#[pyclass(frozen, name = "DeviceEnd", module = "twin")]
pub struct PyDeviceEnd {
    inner: std::sync::Mutex<Option<twin::connection::DeviceEnd>>,
    /// The twin's end, for the counts once this end is closed.
    twin_end: std::sync::Weak<std::sync::Mutex<twin::connection::TwinEnd>>,
    /// The counts when this end was closed, if the twin's end is gone too.
    at_close: std::sync::Mutex<twin::connection::ChannelStats>,
}

impl PyDeviceEnd {
    fn end(&self) -> PyResult<twin::connection::DeviceEnd> {
        let g = lock_or_raise(&self.inner, "channel end")?;
        g.clone().ok_or_else(|| {
            to_py(twin::Error::Disconnected(
                "this device end was closed".into(),
            ))
        })
    }

    fn counts(&self) -> PyResult<twin::connection::ChannelStats> {
        if let Some(d) = lock_or_raise(&self.inner, "channel end")?.as_ref() {
            return Ok(d.stats());
        }
        if let Some(t) = self.twin_end.upgrade() {
            return Ok(lock_or_raise(&t, "channel end")?.stats());
        }
        Ok(*lock_or_raise(&self.at_close, "channel end")?)
    }
}

#[pymethods]
impl PyDeviceEnd {
    /// Publish one sample (``time`` ns, ``signal`` id, ``value``) under the channel's
    /// policy: ``"block"`` waits for room (with the GIL released), ``"reject"`` raises
    /// :class:`ChannelFullError` when full (counted in ``stats["refused"]``),
    /// ``"drop_oldest"`` discards the oldest queued sample (counted in ``stats["dropped"]``).
    ///
    /// A signal id outside ``[0, 2**32)`` is published as an id no schema has, so the twin
    /// refuses it as ``"unknown_signal"`` (as :meth:`Twin.ingest_batch` does).
    fn publish(&self, py: Python<'_>, time: i64, signal: i64, value: f64) -> PyResult<()> {
        let signal = u32::try_from(signal).unwrap_or(u32::MAX);
        let dev = self.end()?;
        py.detach(move || dev.publish(twin::Sample::new(Timestamp(time), SignalId(signal), value)))
            .map_err(to_py)
    }

    /// Publish columns (``times`` int64 ns, ``signals`` uint32 ids, ``values`` float64)
    /// sample by sample, with the GIL released; returns how many were enqueued (all of
    /// them, or an exception). Under ``"reject"`` a full queue stops it with
    /// :class:`ChannelFullError`, whose ``enqueued`` attribute says how many went in first.
    fn publish_batch(
        &self,
        py: Python<'_>,
        times: &Bound<'_, PyAny>,
        signals: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let columns = columns::Batch::extract(times, signals, values)?;
        let batch = columns.as_ref()?;
        let dev = self.end()?;
        match py.detach(move || dev.publish_batch(batch)) {
            Ok(n) => Ok(n),
            Err((i, e)) => {
                let err = to_py(e);
                err.value(py).setattr("enqueued", i)?;
                Err(err)
            }
        }
    }

    /// The commands that have arrived from the twin, oldest first, without blocking.
    fn try_recv_commands(&self) -> PyResult<Vec<PyCommand>> {
        Ok(self
            .end()?
            .try_recv_commands()
            .iter()
            .map(PyCommand::from)
            .collect())
    }

    /// Counts: ``sent`` (enqueued), ``refused``, ``dropped``, ``delivered`` (to the twin)
    /// and ``queued``; ``sent == delivered + dropped + queued`` at any time.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        channel_stats(py, self.counts()?)
    }

    /// Disconnect this end: publishing raises :class:`DisconnectedError`, and the twin's
    /// end reports it once the queue is drained. Idempotent.
    fn close(&self) -> PyResult<()> {
        let mut g = lock_or_raise(&self.inner, "channel end")?;
        if let Some(d) = g.take() {
            if let Ok(mut a) = self.at_close.lock() {
                *a = d.stats();
            }
        }
        Ok(())
    }

    /// Whether :meth:`close` was called.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        Ok(lock_or_raise(&self.inner, "channel end")?.is_none())
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(not_picklable("DeviceEnd"))
    }

    fn __repr__(&self) -> PyResult<String> {
        let s = self.counts()?;
        Ok(format!(
            "<DeviceEnd: sent={}, refused={}, dropped={}, delivered={}{}>",
            s.sent,
            s.refused,
            s.dropped,
            s.delivered,
            if self.closed()? { ", closed" } else { "" }
        ))
    }
}

/// The twin's end of a :func:`channel`: a connection for :meth:`Twin.step` (run natively).
#[pyclass(frozen, name = "TwinEnd", module = "twin")]
pub struct PyTwinEnd {
    inner: std::sync::Arc<std::sync::Mutex<twin::connection::TwinEnd>>,
}

impl PyTwinEnd {
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, twin::connection::TwinEnd>> {
        lock_or_raise(&self.inner, "channel end")
    }
}

impl NativeConnection for PyTwinEnd {
    fn with_connection(&self, f: &mut dyn FnMut(&mut dyn DataConnection)) -> Result<(), String> {
        let mut g = lock_or_message(&self.inner, "channel end")?;
        f(&mut *g);
        Ok(())
    }
}

#[pymethods]
impl PyTwinEnd {
    /// Take up to ``max_samples`` queued samples without blocking: ``(times, signals,
    /// values)`` numpy arrays. Raises :class:`DisconnectedError` once the device end is
    /// closed and the queue is empty.
    #[pyo3(signature = (max_samples = 10_000))]
    fn poll<'py>(&self, py: Python<'py>, max_samples: i64) -> PyResult<Bound<'py, PyTuple>> {
        let max = max_arg(max_samples)?;
        let mut out = SampleBatch::new();
        self.lock()?.poll(&mut out, max).map_err(to_py)?;
        columns_tuple(py, &out)
    }

    /// Send a command to the device end; :class:`ChannelFullError` if its command queue
    /// is full, :class:`DisconnectedError` if it was closed.
    fn send(&self, command: &Bound<'_, PyAny>) -> PyResult<()> {
        let cmd = command_arg(command)?;
        self.lock()?.send(&cmd).map_err(to_py)
    }

    /// The channel's counts (see :attr:`DeviceEnd.stats`).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.lock()?.stats();
        channel_stats(py, s)
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(not_picklable("TwinEnd"))
    }

    fn __repr__(&self) -> PyResult<String> {
        let s = self.lock()?.stats();
        Ok(format!(
            "<TwinEnd: sent={}, delivered={}, queued={}>",
            s.sent,
            s.delivered,
            s.sent - s.dropped - s.delivered
        ))
    }
}

/// A bounded in-process channel of ``capacity`` samples (and as many commands):
/// ``(device_end, twin_end)``. ``policy`` says what a full queue does: ``"block"`` (the
/// publisher waits, GIL released), ``"reject"`` (:class:`ChannelFullError`) or
/// ``"drop_oldest"``. Nothing is lost silently: ``sent == delivered + dropped + queued``.
///
/// >>> import twin
/// >>> dev, conn = twin.channel(2, "drop_oldest")
/// >>> for k in range(5):
/// ...     dev.publish(k, 0, float(k))
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> t.step(conn).polled, t.reported(0)
/// (2, 4.0)
/// >>> dev.stats
/// {'sent': 5, 'refused': 0, 'dropped': 3, 'delivered': 2, 'queued': 0}
#[pyfunction]
#[pyo3(signature = (capacity, policy = "block"))]
pub fn channel(capacity: i64, policy: &str) -> PyResult<(PyDeviceEnd, PyTwinEnd)> {
    use twin::connection::OverflowPolicy;
    let capacity = usize::try_from(capacity)
        .ok()
        .filter(|&c| c >= 1)
        .ok_or_else(|| invalid_input(format!("capacity must be at least 1, got {capacity}")))?;
    let policy = match policy {
        "block" => OverflowPolicy::Block,
        "reject" => OverflowPolicy::Reject,
        "drop_oldest" => OverflowPolicy::DropOldest,
        other => {
            return Err(invalid_input(format!(
                "policy must be \"block\", \"reject\" or \"drop_oldest\", not {other:?}"
            )))
        }
    };
    let (dev, conn) = twin::connection::channel(capacity, policy).map_err(to_py)?;
    let conn = std::sync::Arc::new(std::sync::Mutex::new(conn));
    Ok((
        PyDeviceEnd {
            inner: std::sync::Mutex::new(Some(dev)),
            twin_end: std::sync::Arc::downgrade(&conn),
            at_close: std::sync::Mutex::new(Default::default()),
        },
        PyTwinEnd { inner: conn },
    ))
}
