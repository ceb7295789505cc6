//! `twin.SimNetwork`: the simulator's network of virtual devices ([`SimNetwork`]) from
//! Python, as a connection that `Twin.step` runs natively (no Python call per step).
//!
//! Devices are Python entity objects (the built-in `ConveyorDrive`, `PumpDrive`, ... or
//! any object with `schema`, `now`, `advance(dt_s)`, `sense()`, `actuate(command, value)`
//! and `failed`), driven through [`PyEntity`], a [`PhysicalEntity`] adaptor that takes the
//! GIL for each call. Only `advance_to` calls them; `poll` and `send` are pure Rust.
//!
//! Pickling: the network's own state ([`NetworkState`]: clock, pending events, packets on
//! the link, samples waiting, commands on their way, random streams, counts) goes through
//! serde as exact CBOR bytes, and the device entity objects are pickled by Python next to
//! it, in their current state. Its size follows what is under way, not how long the
//! network has run.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use twin::connection::DataConnection;
use twin::entity::PhysicalEntity;
use twin::sim::connection::{NetworkState, NetworkStats, SimNetwork};
use twin::sim::network::LinkConfig;
use twin::{Command, SampleBatch, Schema, Timestamp};

use crate::connection::{columns_tuple, command_arg, max_arg, NativeConnection, Reentry};
use crate::errors::{invalid_input, lock_or_message, to_py, twin_error};
use crate::results::PyCommand;
use crate::schema::PySchema;
use crate::whatif::{from_python, to_python};

thread_local! {
    /// Networks whose lock this thread holds while it runs entity callbacks.
    static ADVANCING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Where an entity callback's exception waits until `advance_to` returns.
type ErrorSlot = Arc<Mutex<Option<PyErr>>>;

fn keep_error(slot: &ErrorSlot, e: PyErr) {
    if let Ok(mut s) = slot.lock() {
        if s.is_none() {
            *s = Some(e);
        }
    }
}

/// A Python entity object as a Rust [`PhysicalEntity`].
struct PyEntity {
    obj: Py<PyAny>,
    schema: Schema,
    error: ErrorSlot,
}

impl PyEntity {
    fn call<T>(&self, f: impl FnOnce(Python<'_>, &Bound<'_, PyAny>) -> PyResult<T>) -> Option<T> {
        Python::attach(|py| match f(py, self.obj.bind(py)) {
            Ok(v) => Some(v),
            Err(e) => {
                keep_error(&self.error, e);
                None
            }
        })
    }

    fn failed_error() -> twin::Error {
        twin::Error::InvalidInput("a device's entity raised an exception".into())
    }
}

impl PhysicalEntity for PyEntity {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn now(&self) -> Timestamp {
        // On an error the clock reads "far future", so nothing advances; the error is
        // raised when advance_to returns.
        self.call(|_, o| o.getattr("now")?.extract::<i64>())
            .map_or(Timestamp(i64::MAX), Timestamp)
    }

    fn advance(&mut self, dt_s: f64) -> twin::Result<()> {
        if dt_s <= 0.0 {
            return Ok(());
        }
        self.call(|_, o| o.call_method1("advance", (dt_s,)).map(drop))
            .ok_or_else(Self::failed_error)
    }

    fn sense(&mut self, out: &mut SampleBatch) {
        let schema = &self.schema;
        let error = &self.error;
        let _ = Python::attach(|py| -> PyResult<()> {
            let o = self.obj.bind(py);
            let r = (|| -> PyResult<()> {
                let t = Timestamp(o.getattr("now")?.extract::<i64>()?);
                let d = o.call_method0("sense")?;
                let d = d.cast::<PyDict>().map_err(|_| {
                    PyTypeError::new_err("an entity's sense() must return a dict of name to value")
                })?;
                for (k, v) in d.iter() {
                    let name: String = k.extract()?;
                    let id = schema.signal_id(&name).map_err(to_py)?;
                    out.push(t, id, v.extract::<f64>()?);
                }
                Ok(())
            })();
            if let Err(e) = r {
                keep_error(error, e);
            }
            Ok(())
        });
    }

    fn actuate(&mut self, command: &Command) -> twin::Result<()> {
        Python::attach(|py| {
            self.obj
                .bind(py)
                .call_method1("actuate", (command.name(), command.value()))
                .map(drop)
                .map_err(|e| {
                    twin::Error::InvalidInput(format!("the entity refused: {}", e.value(py)))
                })
        })
    }

    fn failed(&self) -> bool {
        self.call(|_, o| o.getattr("failed")?.extract::<bool>())
            .unwrap_or(true)
    }
}

struct NetState {
    net: SimNetwork,
    devices: Vec<Py<PyAny>>,
    /// Why the network is unusable, after an entity raised in the middle of an event.
    broken: Option<String>,
}

/// A simulated deployment as a connection: virtual devices sample their entities on a
/// schedule, the packets cross a lossy link, and a twin takes what arrived with
/// :meth:`Twin.step`; the commands it sends travel back over the link's latency and are
/// carried out by every device whose schema has them, at the next :meth:`advance_to`.
///
/// ``link`` (a dict, all optional): ``latency_s``, ``jitter_s``, ``bandwidth_bps``,
/// ``queue_bytes`` and ``loss`` (``{"model": "bernoulli", "p": 0.1}`` or
/// ``{"model": "gilbert_elliott", "p": .., "r": .., "k": .., "h": ..}``). ``seed`` makes
/// the run reproducible. The network drives the entity objects given to
/// :meth:`add_device` themselves (pass ``copy.deepcopy(e)`` to keep yours apart).
///
/// >>> import twin
/// >>> net = twin.SimNetwork({"latency_s": 0.05, "loss": {"model": "bernoulli", "p": 0.2}}, seed=7)
/// >>> net.add_device(twin.ConveyorDrive(seed=1), 10.0)
/// 0
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> net.advance_to(600.0)
/// >>> r = t.step(net)
/// >>> s = net.stats
/// >>> r.accepted == r.polled == s["polled"] and s["sensed"] == s["lost"] + s["delivered"] + s["in_flight"]
/// True
#[pyclass(frozen, name = "SimNetwork", module = "twin")]
pub struct PySimNetwork {
    state: Mutex<NetState>,
    error: ErrorSlot,
}

impl PySimNetwork {
    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// The state under its lock: directly if free, else waiting with the GIL released.
    /// A call from one of this network's own entity callbacks is an error, not a deadlock.
    fn lock<'a>(&'a self, py: Python<'_>) -> PyResult<MutexGuard<'a, NetState>> {
        let poisoned = || twin_error("this network is unusable: an earlier call panicked");
        match self.state.try_lock() {
            Ok(g) => return Ok(g),
            Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
            Err(TryLockError::WouldBlock) => {}
        }
        if Reentry::active(&ADVANCING, self.addr()) {
            return Err(twin_error(
                "a device's entity called back into the network that is advancing it",
            ));
        }
        let st = &self.state;
        // Send the guard out of the detached closure as a raw result: MutexGuard is not Send.
        py.detach(|| st.lock().map(drop).map_err(drop))
            .map_err(|()| poisoned())?;
        // Now free of contention or taken again by another thread: lock under the GIL
        // only through try_lock loops, never blocking while holding it.
        loop {
            match self.state.try_lock() {
                Ok(g) => return Ok(g),
                Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
                Err(TryLockError::WouldBlock) => py.detach(std::thread::yield_now),
            }
        }
    }

    fn usable(st: &NetState) -> PyResult<()> {
        match &st.broken {
            Some(why) => Err(twin_error(format!("this network is unusable: {why}"))),
            None => Ok(()),
        }
    }

    fn take_entity_error(&self) -> Option<PyErr> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }

    /// An entity object as a device (its errors kept in `error`), after checking that it
    /// has what a device needs.
    fn adaptor(entity: &Bound<'_, PyAny>, error: &ErrorSlot) -> PyResult<PyEntity> {
        for m in ["advance", "sense", "actuate"] {
            if !entity.hasattr(m)? {
                return Err(PyTypeError::new_err(format!(
                    "entity must be a simulated entity (ConveyorDrive, PumpDrive, ...) or an \
                     object with schema, now, failed, advance(), sense() and actuate(); {} has \
                     no {m}()",
                    entity.get_type().name()?
                )));
            }
        }
        let schema = entity.getattr("schema")?;
        let schema = schema
            .cast::<PySchema>()
            .map_err(|_| PyTypeError::new_err("entity.schema must be a twin.Schema"))?;
        let schema = (*schema.get().inner).clone();
        entity
            .getattr("now")?
            .extract::<i64>()
            .map_err(|_| PyTypeError::new_err("entity.now must be an int (nanoseconds)"))?;
        Ok(PyEntity {
            obj: entity.clone().unbind(),
            schema,
            error: error.clone(),
        })
    }

    /// Advance; an entity's exception breaks the network and is raised.
    fn advance(&self, st: &mut NetState, t_s: f64) -> PyResult<()> {
        let r = {
            let _g = Reentry::enter(&ADVANCING, self.addr());
            st.net.advance_to(t_s)
        };
        if let Some(e) = self.take_entity_error() {
            st.broken = Some("a device's entity raised during advance_to".into());
            return Err(e);
        }
        r.map_err(to_py)
    }

    fn stats_dict<'py>(py: Python<'py>, s: &NetworkStats) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in [
            ("sensed", s.sensed),
            ("lost", s.lost),
            ("dropped", s.dropped),
            ("delivered", s.delivered),
            ("in_flight", s.in_flight),
            ("polled", s.polled),
            ("ready", s.ready),
            ("commands_applied", s.commands_applied),
            ("commands_refused", s.commands_refused),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    fn wrap(net: SimNetwork, devices: Vec<Py<PyAny>>, error: ErrorSlot) -> Self {
        PySimNetwork {
            state: Mutex::new(NetState {
                net,
                devices,
                broken: None,
            }),
            error,
        }
    }
}

impl NativeConnection for PySimNetwork {
    fn with_connection(&self, f: &mut dyn FnMut(&mut dyn DataConnection)) -> Result<(), String> {
        if Reentry::active(&ADVANCING, self.addr()) {
            return Err(
                "a device's entity called back into the network that is advancing it".into(),
            );
        }
        let mut st = lock_or_message(&self.state, "network")?;
        if let Some(why) = &st.broken {
            return Err(format!("this network is unusable: {why}"));
        }
        f(&mut st.net);
        Ok(())
    }
}

#[pymethods]
impl PySimNetwork {
    #[new]
    #[pyo3(signature = (link = None, seed = 0))]
    fn new(link: Option<&Bound<'_, PyAny>>, seed: u64) -> PyResult<Self> {
        let link: LinkConfig = match link {
            None => LinkConfig::default(),
            Some(l) if l.is_none() => LinkConfig::default(),
            Some(l) => from_python("link", l)?,
        };
        let net = SimNetwork::new(link, seed).map_err(to_py)?;
        Ok(Self::wrap(net, Vec::new(), Arc::new(Mutex::new(None))))
    }

    /// Add a device that reads every sensor of ``entity`` every ``period_s`` seconds from
    /// the network's current time on; returns its index. ``entity`` is a simulated entity
    /// (``ConveyorDrive``, ``PumpDrive``, ``WindTurbine``, ``BatteryCell``,
    /// ``ThermalMass``) or any object with the same members; the network drives it.
    fn add_device(
        &self,
        py: Python<'_>,
        entity: &Bound<'_, PyAny>,
        period_s: f64,
    ) -> PyResult<usize> {
        if !(period_s.is_finite() && period_s >= 1e-6) {
            return Err(invalid_input(format!(
                "period_s must be a finite number of seconds >= 1e-6, got {period_s}"
            )));
        }
        let adaptor = Self::adaptor(entity, &self.error)?;
        let mut st = self.lock(py)?;
        Self::usable(&st)?;
        let i = st
            .net
            .add_device(Box::new(adaptor), period_s)
            .map_err(to_py)?;
        st.devices.push(entity.clone().unbind());
        Ok(i)
    }

    /// Simulate up to ``t_s`` seconds: devices sample, packets cross the link, commands
    /// arrive; what arrived waits for :meth:`poll` / :meth:`Twin.step`. ``t_s`` must be
    /// finite and not before :attr:`now_s`.
    fn advance_to(&self, py: Python<'_>, t_s: f64) -> PyResult<()> {
        let mut st = self.lock(py)?;
        Self::usable(&st)?;
        if !t_s.is_finite() || t_s < st.net.now_s() {
            return Err(invalid_input(format!(
                "t_s must be finite and not before now_s={}, got {t_s}",
                st.net.now_s()
            )));
        }
        self.advance(&mut st, t_s)
    }

    /// The simulated time, s.
    #[getter]
    fn now_s(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.lock(py)?.net.now_s())
    }

    /// Counts of what the network did, in samples: ``sensed``, ``lost``, ``dropped``,
    /// ``delivered``, ``in_flight``, ``polled``, ``ready``, ``commands_applied``,
    /// ``commands_refused``. ``sensed == lost + dropped + delivered + in_flight`` and
    /// ``delivered == polled + ready`` at any time.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.lock(py)?.net.stats();
        Self::stats_dict(py, &s)
    }

    /// The entity objects of the devices, by index.
    #[getter]
    fn devices(&self, py: Python<'_>) -> PyResult<Vec<Py<PyAny>>> {
        Ok(self
            .lock(py)?
            .devices
            .iter()
            .map(|d| d.clone_ref(py))
            .collect())
    }

    /// The link settings, as a dict.
    #[getter]
    fn link<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let link = self.lock(py)?.net.link().clone();
        to_python(py, &link)
    }

    /// The seed.
    #[getter]
    fn seed(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.lock(py)?.net.seed())
    }

    /// Take up to ``max_samples`` arrived samples: ``(times, signals, values)`` as int64,
    /// uint32 and float64 numpy arrays (the connection protocol).
    #[pyo3(signature = (max_samples = 10_000))]
    fn poll<'py>(&self, py: Python<'py>, max_samples: i64) -> PyResult<Bound<'py, PyTuple>> {
        let max = max_arg(max_samples)?;
        let mut out = SampleBatch::new();
        {
            let mut st = self.lock(py)?;
            Self::usable(&st)?;
            st.net.poll(&mut out, max).map_err(to_py)?;
        }
        columns_tuple(py, &out)
    }

    /// Send a command (a :class:`Command` from a twin) towards the devices: it arrives
    /// after the link's latency and is carried out by every device whose schema has it.
    fn send(&self, py: Python<'_>, command: &Bound<'_, PyAny>) -> PyResult<()> {
        let cmd = command_arg(command)?;
        let mut st = self.lock(py)?;
        Self::usable(&st)?;
        st.net.send(&cmd).map_err(to_py)
    }

    /// Rebuild a network from its saved state (what pickling uses): ``state`` the bytes
    /// of the network's own state, ``devices`` the device entity objects in device order,
    /// in the state they had when it was saved. A damaged state, or a list of the wrong
    /// length, raises :class:`InvalidInputError` with the reason.
    #[staticmethod]
    fn restore(state: &[u8], devices: &Bound<'_, PyList>) -> PyResult<Self> {
        let state = NetworkState::from_bytes(state).map_err(to_py)?;
        let error: ErrorSlot = Arc::new(Mutex::new(None));
        let mut entities: Vec<Box<dyn PhysicalEntity + Send>> = Vec::new();
        let mut objects = Vec::new();
        for d in devices.iter() {
            entities.push(Box::new(Self::adaptor(&d, &error)?));
            objects.push(d.unbind());
        }
        let net = SimNetwork::from_state(state, entities).map_err(to_py)?;
        Ok(Self::wrap(net, objects, error))
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let st = self.lock(py)?;
        Self::usable(&st)?;
        let state = st.net.state().to_bytes().map_err(to_py)?;
        let devices = PyList::new(py, st.devices.iter().map(|d| d.clone_ref(py)))?;
        drop(st);
        let f = py.get_type::<PySimNetwork>().getattr("restore")?;
        let args = PyTuple::new(
            py,
            [PyBytes::new(py, &state).into_any(), devices.into_any()],
        )?;
        Ok((f, args))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let st = self.lock(py)?;
        let s = st.net.stats();
        Ok(format!(
            "<SimNetwork: {} devices, now_s={}, sensed={}, lost={}, dropped={}, polled={}, ready={}>",
            st.devices.len(),
            st.net.now_s(),
            s.sensed,
            s.lost,
            s.dropped,
            s.polled,
            s.ready
        ))
    }
}

/// The Rust command a Python `Command` records.
impl PyCommand {
    pub(crate) fn to_command(&self) -> PyResult<Command> {
        let v = serde_json::json!({
            "id": self.id,
            "name": self.name,
            "value": self.value,
            "time": self.time,
            "seq": self.seq,
        });
        serde_json::from_value(v).map_err(|e| invalid_input(format!("command: {e}")))
    }
}
