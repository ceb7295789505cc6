//! `twin.Fleet` and `twin.FleetReport`: many twins keyed by a device id, fed by one
//! columnar numpy batch (the Rust [`twin::fleet::Fleet`]).
//!
//! A Python [`PyTwin`] owns its Rust twin behind a lock, so [`PyFleet::insert`] copies the
//! twin in through its snapshot (everything it has learnt, its pending insights, audit and
//! outbox included) and rebuilds it with the same monitor settings and model; the Python
//! twin stays usable and independent. [`PyFleet::remove`] moves the fleet's twin out
//! without a copy. The fleet remembers each twin's monitor settings and model object (its
//! "recipe") so that snapshots restore and pickles round-trip twin by twin.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, TryLockError};

use numpy::{IntoPyArray, PyArray1, PyArrayDescrMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};
use serde::{Deserialize, Serialize};
use twin::analytics::detect::MonitorConfig;
use twin::fleet::{Fleet, FleetBatchRef, FleetRejection, FleetSnapshot};
use twin::{ErrorKind, TwinSnapshot};

use crate::columns::{self, Column, Extracted};
use crate::digital_twin::{builder, MonitorArg, PyTwin, DETACH_MIN_SAMPLES};
use crate::engines::Parts;
use crate::errors::{invalid_input, to_py, twin_error};
use crate::physics::{model_spec, ModelSpec};
use crate::results::PyInsight;

/// The refusal reasons a fleet batch can give, in the order of [`PyFleetReport::to_dict`]'s
/// columns.
const SAMPLE_KINDS: [ErrorKind; 7] = [
    ErrorKind::NonFinite,
    ErrorKind::UnknownSignal,
    ErrorKind::OutOfOrder,
    ErrorKind::Duplicate,
    ErrorKind::TimestampConflict,
    ErrorKind::OutOfRange,
    ErrorKind::UnknownTwin,
];

/// What rebuilds one twin of the fleet from its snapshot.
struct Recipe {
    monitor: Option<MonitorConfig>,
    spec: Option<ModelSpec>,
    /// The model object the twin was built with (for pickling and `remove`).
    model: Option<Py<PyAny>>,
    /// The engines and rules the twin was built with.
    parts: Parts,
}

impl Recipe {
    fn new(
        py: Python<'_>,
        monitor: Option<MonitorConfig>,
        model: Option<Py<PyAny>>,
        parts: Parts,
    ) -> PyResult<Recipe> {
        let spec = model
            .as_ref()
            .map(|m| model_spec("model", m.bind(py)))
            .transpose()?;
        Ok(Recipe {
            monitor,
            spec,
            model,
            parts,
        })
    }

    /// A twin restored from `snap` with this recipe's monitor, model, engines and rules.
    fn rebuild(&self, snap: TwinSnapshot) -> twin::Result<twin::Twin> {
        let schema = snap.schema().clone();
        let b = builder(schema.clone(), self.monitor.as_ref())?;
        let b = match &self.spec {
            Some(spec) => spec.attach(b, &schema)?,
            None => b,
        };
        self.parts.attach(b)?.restore(snap)
    }
}

struct Inner {
    fleet: Fleet,
    recipes: HashMap<u64, Arc<Recipe>>,
}

fn poisoned() -> PyErr {
    twin_error("this fleet is unusable: an earlier call panicked while changing it")
}

/// A twin id argument: an int in `[0, 2**64)`.
fn twin_id(arg: &str, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    obj.extract::<u64>()
        .map_err(|_| invalid_input(format!("{arg} must be an int in [0, 2**64), got {obj}")))
}

/// The `twins` column: unsigned twin ids. `uint64` arrays are borrowed; other unsigned
/// ints are converted; signed ints are converted if none is negative.
fn twin_column<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Extracted<'py, u64>> {
    if let Some(ro) = columns::borrow::<u64>(obj)? {
        return Ok(Extracted {
            column: Column::Borrowed(ro),
            copied: false,
        });
    }
    let arr = columns::as_1d("twins", obj)?;
    if arr.is_empty() {
        return Ok(Extracted {
            column: Column::Owned(Vec::new()),
            copied: false,
        });
    }
    let dt = arr.dtype();
    let column = match dt.kind() {
        b'u' => Column::Borrowed(columns::convert::<u64>(&arr)?),
        b'i' => {
            let wide = columns::convert::<i64>(&arr)?;
            let wide = wide.as_array();
            let mut ids = Vec::with_capacity(wide.len());
            for (i, &x) in wide.iter().enumerate() {
                let id = u64::try_from(x).map_err(|_| {
                    invalid_input(format!(
                        "twins holds the negative id {x} at index {i}; twin ids are in [0, 2**64)"
                    ))
                })?;
                ids.push(id);
            }
            Column::Owned(ids)
        }
        _ => {
            return Err(columns::refuse(
                "twins",
                &arr,
                "integer twin ids (uint64)",
                "",
            ))
        }
    };
    Ok(Extracted {
        column,
        copied: true,
    })
}

/// Many twins keyed by a device id, fed by one columnar batch and processed on threads.
///
/// ``Fleet(threads=0)`` holds twins under int ids; ``threads=0`` uses every core.
/// :meth:`insert` copies a :class:`Twin` in (through its snapshot: the Python twin stays
/// usable and independent of the fleet's copy), :meth:`remove` takes it out again.
/// :meth:`ingest_batch` takes four numpy columns (twin id, time, signal, value), hands each
/// twin its samples in batch order and runs the twins in parallel with the GIL released;
/// the outcome does not depend on the number of threads.
///
/// >>> import numpy as np, twin
/// >>> schema = twin.Schema("pump", telemetry=[{"name": "flow", "unit": "m3/h", "min": 0.0, "max": 500.0}])
/// >>> fleet = twin.Fleet(threads=2)
/// >>> for device in (10, 11, 12):
/// ...     fleet.insert(device, twin.Twin(schema))
/// >>> r = fleet.ingest_batch(
/// ...     np.array([10, 11, 99, 12, 10], dtype=np.uint64),
/// ...     np.array([0, 0, 0, 0, 1_000_000_000]),
/// ...     np.array([0, 0, 0, 0, 0], dtype=np.uint32),
/// ...     np.array([100.0, 200.0, 5.0, 900.0, 110.0]),
/// ... )
/// >>> r.accepted, r.rejections
/// (3, [(2, 99, 'unknown_twin'), (3, 12, 'out_of_range')])
/// >>> fleet.get(10).reported("flow")
/// 110.0
#[pyclass(frozen, name = "Fleet", module = "twin")]
pub struct PyFleet {
    inner: Mutex<Inner>,
}

impl PyFleet {
    fn with_threads(threads: usize) -> PyResult<PyFleet> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        Ok(PyFleet {
            inner: Mutex::new(Inner {
                fleet: Fleet::new(threads).map_err(to_py)?,
                recipes: HashMap::new(),
            }),
        })
    }

    /// Run `f` on the fleet under its lock, with the GIL released if `detach` is true (the
    /// same discipline as [`PyTwin::with_twin`]: `f` cannot touch Python objects).
    fn with_fleet<R, F>(&self, py: Python<'_>, detach: bool, f: F) -> PyResult<R>
    where
        F: FnOnce(&mut Inner) -> R + Send,
        R: Send,
    {
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

    /// Insert a built twin with its recipe.
    fn insert_twin(
        &self,
        py: Python<'_>,
        id: u64,
        twin: twin::Twin,
        recipe: Recipe,
    ) -> PyResult<()> {
        let recipe = Arc::new(recipe);
        self.with_fleet(py, false, move |inner| {
            inner.fleet.insert(id, twin)?;
            inner.recipes.insert(id, recipe);
            Ok(())
        })?
        .map_err(to_py)
    }

    /// Replace the contents with the twins of `snapshot`, each rebuilt by `recipe(id)`.
    fn load(
        &self,
        py: Python<'_>,
        snapshot: FleetSnapshot,
        mut recipe: impl FnMut(u64) -> PyResult<Recipe>,
    ) -> PyResult<()> {
        let mut twins = Vec::with_capacity(snapshot.twins.len());
        for (id, snap) in snapshot.twins {
            let r = recipe(id)?;
            let t = r.rebuild(snap).map_err(to_py)?;
            twins.push((id, t, Arc::new(r)));
        }
        self.with_fleet(py, false, move |inner| {
            let mut fleet = Fleet::new(inner.fleet.threads())?;
            let mut recipes = HashMap::with_capacity(twins.len());
            for (id, t, r) in twins {
                fleet.insert(id, t)?;
                recipes.insert(id, r);
            }
            inner.fleet = fleet;
            inner.recipes = recipes;
            Ok(())
        })?
        .map_err(to_py)
    }

    fn insight_pairs(&self, py: Python<'_>, drain: bool) -> PyResult<Vec<(u64, PyInsight)>> {
        self.with_fleet(py, false, move |inner| {
            let fleet = &mut inner.fleet;
            if drain {
                let raw = fleet.drain_insights();
                raw.iter()
                    .filter_map(|(id, i)| {
                        fleet.get(*id).map(|t| (*id, PyInsight::new(t.schema(), i)))
                    })
                    .collect()
            } else {
                let mut out = Vec::new();
                for id in fleet.ids() {
                    if let Some(t) = fleet.get(id) {
                        out.extend(t.insights().map(|i| (id, PyInsight::new(t.schema(), i))));
                    }
                }
                out
            }
        })
    }
}

#[pymethods]
impl PyFleet {
    #[new]
    #[pyo3(signature = (threads = 0), text_signature = "(threads=0)")]
    fn new(threads: usize) -> PyResult<Self> {
        PyFleet::with_threads(threads)
    }

    /// Rebuild a fleet from :meth:`snapshot` JSON; ``monitor``, ``model``, ``engines`` and
    /// ``rules`` are given to every twin and must match the twins that were saved (as in
    /// :meth:`Twin.from_snapshot`). Raises :class:`SerializationError` if the snapshot does
    /// not fit. (Pickling keeps each twin's own monitor, model, engines and rules.)
    #[staticmethod]
    #[pyo3(signature = (json, threads = 0, monitor = MonitorArg::Flag(true), model = None, engines = None, rules = None), text_signature = "(json, threads=0, monitor=True, model=None, engines=(), rules=())")]
    fn from_snapshot(
        py: Python<'_>,
        json: &str,
        threads: usize,
        monitor: MonitorArg<'_>,
        model: Option<Bound<'_, PyAny>>,
        engines: Option<Bound<'_, PyAny>>,
        rules: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let monitor = monitor.config()?;
        let model = model.map(Bound::unbind);
        let parts = Parts::from_args(engines.as_ref(), rules.as_ref())?;
        let snapshot = FleetSnapshot::from_json(json).map_err(to_py)?;
        let fleet = PyFleet::with_threads(threads)?;
        fleet.load(py, snapshot, |_| {
            Recipe::new(
                py,
                monitor.clone(),
                model.as_ref().map(|m| m.clone_ref(py)),
                parts.clone_ref(py),
            )
        })?;
        Ok(fleet)
    }

    /// Join fleet snapshots of disjoint sets of twins (for example the partitions of a
    /// :class:`twin.dask.DaskFleet`) into one, ascending by id: the same JSON a single fleet
    /// holding all the twins gives. A twin in two parts raises :class:`SerializationError`.
    #[staticmethod]
    fn merge_snapshots(py: Python<'_>, parts: Vec<String>) -> PyResult<String> {
        py.detach(move || {
            let mut twins = Vec::new();
            for p in &parts {
                twins.extend(FleetSnapshot::from_json(p)?.twins);
            }
            twins.sort_by_key(|(id, _)| *id);
            if let Some(w) = twins.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(twin::Error::Serialization(format!(
                    "twin {} is in two of the snapshots",
                    w[0].0
                )));
            }
            FleetSnapshot { twins }.to_json()
        })
        .map_err(to_py)
    }

    /// Threads used per batch.
    #[getter]
    fn threads(&self, py: Python<'_>) -> PyResult<usize> {
        self.with_fleet(py, false, |inner| inner.fleet.threads())
    }

    /// Add a copy of ``twin`` under ``id`` (an int in ``[0, 2**64)``).
    ///
    /// The copy is made from the twin's snapshot, so it carries everything the twin has
    /// learnt (state, counters, detector state, pending insights, audit log and outbox)
    /// and the same monitor settings and model; later changes to either do not reach the
    /// other. A taken id raises :class:`InvalidInputError`.
    fn insert(
        &self,
        py: Python<'_>,
        id: &Bound<'_, PyAny>,
        twin: PyRef<'_, PyTwin>,
    ) -> PyResult<()> {
        let id = twin_id("id", id)?;
        let (monitor, model, parts) = twin.recipe(py);
        let recipe = Recipe::new(py, monitor, model, parts)?;
        let snap = twin
            .with_twin(py, true, |tw| tw.snapshot())?
            .map_err(to_py)?;
        let copy = recipe.rebuild(snap).map_err(to_py)?;
        self.insert_twin(py, id, copy, recipe)
    }

    /// Take the twin ``id`` out of the fleet and return it (moved, not copied). An id the
    /// fleet does not hold raises :class:`UnknownTwinError`.
    fn remove(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<PyTwin> {
        let id = twin_id("id", id)?;
        let (t, recipe) = self
            .with_fleet(py, false, move |inner| {
                let t = inner.fleet.remove(id)?;
                Ok((t, inner.recipes.remove(&id)))
            })?
            .map_err(to_py)?;
        let (monitor, model, parts) = match recipe {
            Some(r) => (
                r.monitor.clone(),
                r.model.as_ref().map(|m| m.clone_ref(py)),
                r.parts.clone_ref(py),
            ),
            None => (None, None, Parts::default()),
        };
        PyTwin::from_parts(py, t, monitor, model, parts)
    }

    /// A copy of the twin ``id`` (made from its snapshot; the fleet's twin is not
    /// touched). An id the fleet does not hold raises :class:`UnknownTwinError`.
    fn get(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<PyTwin> {
        let id = twin_id("id", id)?;
        let (snap, recipe) = self
            .with_fleet(py, false, move |inner| {
                let t = inner.fleet.get(id).ok_or(twin::Error::UnknownTwin(id))?;
                let r = inner.recipes.get(&id).cloned();
                Ok((t.snapshot()?, r))
            })?
            .map_err(to_py)?;
        let recipe = recipe.ok_or_else(|| twin_error(format!("twin {id} has no recipe")))?;
        let t = recipe.rebuild(snap).map_err(to_py)?;
        PyTwin::from_parts(
            py,
            t,
            recipe.monitor.clone(),
            recipe.model.as_ref().map(|m| m.clone_ref(py)),
            recipe.parts.clone_ref(py),
        )
    }

    /// The twin ids, ascending.
    fn ids(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        self.with_fleet(py, false, |inner| inner.fleet.ids())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.with_fleet(py, false, |inner| inner.fleet.len())
    }

    fn __contains__(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(id) = id.extract::<u64>() else {
            return Ok(false);
        };
        self.with_fleet(py, false, move |inner| inner.fleet.get(id).is_some())
    }

    /// Ingest a fleet batch: ``twins`` (uint64 twin ids), ``times`` (int64 ns),
    /// ``signals`` (uint32 ids) and ``values`` (float64), one-dimensional and of equal
    /// length.
    ///
    /// Columns of exactly these dtypes that are C-contiguous are read in place, without a
    /// copy, and batches of at least ``DETACH_MIN_SAMPLES`` run with the GIL released (do
    /// not write to the arrays meanwhile). Other integer/float dtypes and non-contiguous
    /// views are converted (see ``FleetReport.copied``); other dtypes raise ``TypeError``,
    /// a negative twin id or mismatched lengths :class:`InvalidInputError`, naming the
    /// argument. Each sample goes to its twin in batch order and is accepted or refused
    /// there; samples for ids the fleet does not hold are refused as ``unknown_twin``.
    /// Nothing is lost: the report accounts for every sample.
    fn ingest_batch<'py>(
        &self,
        py: Python<'py>,
        twins: &Bound<'py, PyAny>,
        times: &Bound<'py, PyAny>,
        signals: &Bound<'py, PyAny>,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<PyFleetReport> {
        let w = twin_column(twins)?;
        let t = columns::times(times)?;
        let s = columns::signals(signals)?;
        let v = columns::values(values)?;
        let (ws, ts, ss, vs) = (
            w.column.as_slice()?,
            t.column.as_slice()?,
            s.column.as_slice()?,
            v.column.as_slice()?,
        );
        for (name, len) in [
            ("times", ts.len()),
            ("signals", ss.len()),
            ("values", vs.len()),
        ] {
            if len != ws.len() {
                return Err(invalid_input(format!(
                    "{name} has {len} elements but twins has {}; the columns must have equal length",
                    ws.len()
                )));
            }
        }
        let detach = ws.len() >= DETACH_MIN_SAMPLES;
        let (report, per_twin) = self
            .with_fleet(py, detach, move |inner| {
                let batch = FleetBatchRef::new(ws, ts, ss, vs)?;
                let report = inner.fleet.ingest_batch(batch);
                // Samples per twin, counted by runs of one id (gateways send a twin's
                // signals together) to spare a hash look-up per sample.
                let mut counts: HashMap<u64, usize> = HashMap::new();
                let mut run: Option<(u64, usize)> = None;
                for &id in ws {
                    run = match run {
                        Some((cur, k)) if cur == id => Some((cur, k + 1)),
                        Some((cur, k)) => {
                            *counts.entry(cur).or_insert(0) += k;
                            Some((id, 1))
                        }
                        None => Some((id, 1)),
                    };
                }
                if let Some((cur, k)) = run {
                    *counts.entry(cur).or_insert(0) += k;
                }
                let mut per_twin: Vec<(u64, usize)> = counts.into_iter().collect();
                per_twin.sort_unstable();
                Ok::<_, twin::Error>((report, per_twin))
            })?
            .map_err(to_py)?;
        let copied = [
            ("twins", w.copied),
            ("times", t.copied),
            ("signals", s.copied),
            ("values", v.copied),
        ]
        .into_iter()
        .filter(|(_, c)| *c)
        .map(|(name, _)| name.to_string())
        .collect();
        Ok(PyFleetReport {
            data: ReportData {
                accepted: report.accepted,
                rejections: report.rejections,
                per_twin,
                copied,
            },
        })
    }

    /// Every twin's pending insights as ``(twin_id, Insight)``, by twin id then time order
    /// (they stay pending).
    fn insights(&self, py: Python<'_>) -> PyResult<Vec<(u64, PyInsight)>> {
        self.insight_pairs(py, false)
    }

    /// Take every twin's pending insights, as ``(twin_id, Insight)`` by twin id then time.
    fn drain_insights(&self, py: Python<'_>) -> PyResult<Vec<(u64, PyInsight)>> {
        self.insight_pairs(py, true)
    }

    /// Pending insights as numpy columns: ``twin`` (uint64), then as
    /// :meth:`Twin.insight_columns`: ``time`` (int64), ``signal`` (uint32), ``kind``
    /// (object array of str), ``value`` and ``score`` (float64). ``pandas.DataFrame`` takes
    /// the dict as it is. With ``drain=True`` they are taken.
    #[pyo3(signature = (drain = false))]
    fn insight_columns<'py>(&self, py: Python<'py>, drain: bool) -> PyResult<Bound<'py, PyDict>> {
        let pairs = self.insight_pairs(py, drain)?;
        let n = pairs.len();
        let mut twin = Vec::with_capacity(n);
        let mut time = Vec::with_capacity(n);
        let mut signal = Vec::with_capacity(n);
        let mut value = Vec::with_capacity(n);
        let mut score = Vec::with_capacity(n);
        let mut kind: Vec<Py<PyAny>> = Vec::with_capacity(n);
        for (id, i) in &pairs {
            twin.push(*id);
            time.push(i.time);
            signal.push(i.signal);
            value.push(i.value);
            score.push(i.score);
            kind.push(PyString::intern(py, i.kind).clone().into_any().unbind());
        }
        let d = PyDict::new(py);
        d.set_item("twin", twin.into_pyarray(py))?;
        d.set_item("time", time.into_pyarray(py))?;
        d.set_item("signal", signal.into_pyarray(py))?;
        d.set_item("kind", PyArray1::from_vec(py, kind))?;
        d.set_item("value", value.into_pyarray(py))?;
        d.set_item("score", score.into_pyarray(py))?;
        Ok(d)
    }

    /// Snapshots of every twin, ascending by id, as JSON; :meth:`from_snapshot` restores
    /// it.
    fn snapshot(&self, py: Python<'_>) -> PyResult<String> {
        self.with_fleet(py, true, |inner| {
            inner.fleet.snapshot().and_then(|s| s.to_json())
        })?
        .map_err(to_py)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        let json = this.snapshot(py)?;
        let (threads, recipes) = this.with_fleet(py, false, |inner| {
            let mut r: Vec<(u64, Arc<Recipe>)> = inner
                .recipes
                .iter()
                .map(|(id, r)| (*id, r.clone()))
                .collect();
            r.sort_unstable_by_key(|(id, _)| *id);
            (inner.fleet.threads(), r)
        })?;
        let list = PyList::empty(py);
        for (id, r) in recipes {
            let model = match &r.model {
                Some(m) => m.bind(py).clone(),
                None => py.None().into_bound(py),
            };
            let monitor = PyTwin::monitor_arg_of(py, r.monitor.as_ref())?;
            if r.parts.is_empty() {
                list.append((id, monitor, model))?;
            } else {
                list.append((id, monitor, model, r.parts.engines(py)?, r.parts.rules(py)?))?;
            }
        }
        let args = PyTuple::new(py, [threads])?;
        let state = PyTuple::new(py, [json.into_pyobject(py)?.into_any(), list.into_any()])?;
        Ok((py.get_type::<PyFleet>().into_any(), args, state))
    }

    fn __setstate__(&self, py: Python<'_>, state: &Bound<'_, PyTuple>) -> PyResult<()> {
        let (json, recipes): PickledFleet<'_> = state.extract()?;
        let snapshot = FleetSnapshot::from_json(&json).map_err(to_py)?;
        let mut by_id = HashMap::with_capacity(recipes.len());
        for entry in recipes {
            // (id, monitor, model) or, for twins with engines or rules,
            // (id, monitor, model, engines, rules).
            let (id, monitor, model, parts) = match entry.len() {
                3 => {
                    let (id, monitor, model): PickledTwin<'_> = entry.extract()?;
                    (id, monitor, model, Parts::default())
                }
                _ => {
                    let (id, monitor, model, engines, rules): PickledTwinParts<'_> =
                        entry.extract()?;
                    (
                        id,
                        monitor,
                        model,
                        Parts::from_args(Some(&engines), Some(&rules))?,
                    )
                }
            };
            let monitor = monitor.extract::<MonitorArg<'_>>()?.config()?;
            by_id.insert(
                id,
                Recipe::new(py, monitor, model.map(Bound::unbind), parts)?,
            );
        }
        self.load(py, snapshot, |id| {
            by_id.remove(&id).ok_or_else(|| {
                to_py(twin::Error::Serialization(format!(
                    "pickled fleet has no recipe for twin {id}"
                )))
            })
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (n, threads) = self.with_fleet(py, false, |inner| {
            (inner.fleet.len(), inner.fleet.threads())
        })?;
        Ok(format!("<Fleet: {n} twins, {threads} threads>"))
    }
}

/// A pickled fleet's state: snapshot JSON and `(id, monitor, model)` per twin.
type PickledFleet<'py> = (String, Vec<Bound<'py, PyTuple>>);

/// One twin's recipe in a pickled fleet: `(id, monitor, model)`.
type PickledTwin<'py> = (u64, Bound<'py, PyAny>, Option<Bound<'py, PyAny>>);

/// One twin's recipe with engines and rules: `(id, monitor, model, engines, rules)`.
type PickledTwinParts<'py> = (
    u64,
    Bound<'py, PyAny>,
    Option<Bound<'py, PyAny>>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
);

/// The data of a fleet report, as saved by `FleetReport.to_json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReportData {
    accepted: usize,
    rejections: Vec<FleetRejection>,
    /// Samples per twin id in the batch, ascending by id.
    per_twin: Vec<(u64, usize)>,
    /// Input columns that were converted rather than borrowed.
    copied: Vec<String>,
}

/// Add a part's per-twin counts and copied-column names to a merge's totals.
fn merge_counts(part: &ReportData, per_twin: &mut BTreeMap<u64, usize>, copied: &mut Vec<String>) {
    for &(id, n) in &part.per_twin {
        *per_twin.entry(id).or_insert(0) += n;
    }
    for c in &part.copied {
        if !copied.contains(c) {
            copied.push(c.clone());
        }
    }
}

/// What became of one fleet batch: ``accepted + rejected == total``.
///
/// ``rejections`` lists ``(index, twin_id, reason)`` for every refused sample in batch
/// order (``reason`` is an error-kind name such as ``"non_finite"`` or
/// ``"unknown_twin"``); :attr:`per_twin` and :meth:`to_dict` count them per twin. Two
/// reports are equal when they account for the samples in the same way. Reports pickle.
///
/// >>> import numpy as np, twin
/// >>> fleet = twin.Fleet(threads=1)
/// >>> fleet.insert(1, twin.Twin(twin.Schema.conveyor()))
/// >>> fleet.insert(2, twin.Twin(twin.Schema.conveyor()))
/// >>> r = fleet.ingest_batch(np.array([1, 2, 9], dtype=np.uint64), np.zeros(3, dtype=np.int64),
/// ...                        np.full(3, 3, dtype=np.uint32), np.array([0.5, 0.6, 0.7]))
/// >>> r.accepted, r.rejections
/// (2, [(2, 9, 'unknown_twin')])
#[pyclass(frozen, name = "FleetReport", module = "twin")]
#[derive(Debug, Clone)]
pub struct PyFleetReport {
    data: ReportData,
}

impl PyFleetReport {
    /// Per twin: (id, samples, rejected per kind).
    fn table(&self) -> Vec<(u64, usize, BTreeMap<&'static str, usize>)> {
        let mut rej: HashMap<u64, BTreeMap<&'static str, usize>> = HashMap::new();
        for r in &self.data.rejections {
            *rej.entry(r.twin)
                .or_default()
                .entry(r.kind.as_str())
                .or_insert(0) += 1;
        }
        self.data
            .per_twin
            .iter()
            .map(|&(id, n)| (id, n, rej.remove(&id).unwrap_or_default()))
            .collect()
    }

    fn reasons_map(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for r in &self.data.rejections {
            *m.entry(r.kind.as_str()).or_insert(0) += 1;
        }
        m
    }
}

#[pymethods]
impl PyFleetReport {
    /// Samples taken into some twin's state.
    #[getter]
    fn accepted(&self) -> usize {
        self.data.accepted
    }

    /// Samples refused.
    #[getter]
    fn rejected(&self) -> usize {
        self.data.rejections.len()
    }

    /// Samples in the batch.
    #[getter]
    fn total(&self) -> usize {
        self.data.accepted + self.data.rejections.len()
    }

    /// ``(index, twin_id, reason)`` of every refused sample, in batch order.
    #[getter]
    fn rejections(&self) -> Vec<(usize, u64, &'static str)> {
        self.data
            .rejections
            .iter()
            .map(|r| (r.index, r.twin, r.kind.as_str()))
            .collect()
    }

    /// Indices of the refused samples as an int64 numpy array (for masking the input).
    #[getter]
    fn rejected_indices<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.data
            .rejections
            .iter()
            .map(|r| r.index as i64)
            .collect::<Vec<_>>()
            .into_pyarray(py)
    }

    /// Number of refused samples per reason.
    #[getter]
    fn reasons(&self) -> BTreeMap<&'static str, usize> {
        self.reasons_map()
    }

    /// Per twin id in the batch (ascending): ``{"accepted": n, "rejected": n}`` plus a
    /// count for each reason it had.
    #[getter]
    fn per_twin<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (id, n, kinds) in self.table() {
            let rejected: usize = kinds.values().sum();
            let d = PyDict::new(py);
            d.set_item("accepted", n - rejected)?;
            d.set_item("rejected", rejected)?;
            for (k, c) in kinds {
                d.set_item(k, c)?;
            }
            out.set_item(id, d)?;
        }
        Ok(out)
    }

    /// Names of the input columns that were converted or copied rather than borrowed.
    #[getter]
    fn copied(&self) -> Vec<String> {
        self.data.copied.clone()
    }

    /// The per-twin counts as columns of equal length, one row per twin id in the batch
    /// (ascending): ``twin``, ``accepted``, ``rejected`` and one column per refusal reason
    /// (``non_finite``, ``unknown_signal``, ``out_of_order``, ``duplicate``,
    /// ``timestamp_conflict``, ``out_of_range``, ``unknown_twin``).
    /// ``pandas.DataFrame(report.to_dict())`` makes a table of it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let table = self.table();
        let mut kinds: Vec<ErrorKind> = SAMPLE_KINDS.to_vec();
        for r in &self.data.rejections {
            if !kinds.contains(&r.kind) {
                kinds.push(r.kind);
            }
        }
        let d = PyDict::new(py);
        let ids: Vec<u64> = table.iter().map(|(id, ..)| *id).collect();
        let rejected: Vec<usize> = table.iter().map(|(_, _, k)| k.values().sum()).collect();
        let accepted: Vec<usize> = table
            .iter()
            .zip(&rejected)
            .map(|((_, n, _), r)| n - r)
            .collect();
        d.set_item("twin", ids)?;
        d.set_item("accepted", accepted)?;
        d.set_item("rejected", rejected)?;
        for k in kinds {
            let col: Vec<usize> = table
                .iter()
                .map(|(_, _, m)| m.get(k.as_str()).copied().unwrap_or(0))
                .collect();
            d.set_item(k.as_str(), col)?;
        }
        Ok(d)
    }

    /// The report as JSON; :meth:`from_json` reads it back.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.data).map_err(|e| to_py(e.into()))
    }

    /// A report from :meth:`to_json`'s JSON; :class:`SerializationError` if it is not one.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        let data: ReportData = serde_json::from_str(json)
            .map_err(|e| to_py(twin::Error::Serialization(format!("fleet report: {e}"))))?;
        Ok(PyFleetReport { data })
    }

    /// One report from the reports of parts of a batch: ``parts`` is a list of
    /// ``(report, indices)`` where ``indices[i]`` is the position in the whole batch of
    /// sample ``i`` of the part, or ``indices`` is an int ``start`` when the part is the
    /// contiguous run of positions ``start, start + 1, ...`` (no index array is needed). The parts must cover disjoint sets of twin ids (as the
    /// partitions of a :class:`twin.dask.DaskFleet` do); the result is the report a single
    /// fleet gives for the whole batch. Raises :class:`InvalidInputError` if an
    /// ``indices`` array does not match its report's length.
    #[staticmethod]
    fn merge(parts: Vec<(PyRef<'_, PyFleetReport>, Bound<'_, PyAny>)>) -> PyResult<Self> {
        let mut accepted = 0;
        let mut rejections = Vec::new();
        let mut per_twin: BTreeMap<u64, usize> = BTreeMap::new();
        let mut copied: Vec<String> = Vec::new();
        for (k, (report, indices)) in parts.iter().enumerate() {
            if indices.is_instance_of::<PyInt>() && !indices.is_instance_of::<PyBool>() {
                let start: u64 = indices.extract().map_err(|_| {
                    invalid_input(format!(
                        "parts[{k}]: a start position must be an int in [0, 2**64), got {indices}"
                    ))
                })?;
                let start = usize::try_from(start).map_err(|_| {
                    invalid_input(format!("parts[{k}]: start position {start} is too large"))
                })?;
                accepted += report.data.accepted;
                for r in &report.data.rejections {
                    let index = start.checked_add(r.index).ok_or_else(|| {
                        invalid_input(format!("parts[{k}]: start position {start} is too large"))
                    })?;
                    rejections.push(FleetRejection { index, ..*r });
                }
                merge_counts(&report.data, &mut per_twin, &mut copied);
                continue;
            }
            let borrowed = columns::borrow::<i64>(indices)?;
            let owned: Vec<i64>;
            let ix: &[i64] = match &borrowed {
                Some(ro) => ro.as_slice()?,
                None => {
                    owned = indices.extract().map_err(|_| {
                        invalid_input(format!(
                            "parts[{k}]: indices must be a sequence of int positions (int64)"
                        ))
                    })?;
                    &owned
                }
            };
            let total = report.total();
            if ix.len() != total {
                return Err(invalid_input(format!(
                    "parts[{k}]: indices has {} elements for a report of {total} samples",
                    ix.len()
                )));
            }
            accepted += report.data.accepted;
            for r in &report.data.rejections {
                let at = ix.get(r.index).copied().unwrap_or(-1);
                let index = usize::try_from(at).map_err(|_| {
                    invalid_input(format!("parts[{k}]: indices holds the negative index {at}"))
                })?;
                rejections.push(FleetRejection { index, ..*r });
            }
            merge_counts(&report.data, &mut per_twin, &mut copied);
        }
        rejections.sort_unstable_by_key(|r| r.index);
        Ok(PyFleetReport {
            data: ReportData {
                accepted,
                rejections,
                per_twin: per_twin.into_iter().collect(),
                copied,
            },
        })
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyFleetReport>().is_ok_and(|o| {
            let o = &o.get().data;
            o.accepted == self.data.accepted
                && o.rejections == self.data.rejections
                && o.per_twin == self.data.per_twin
        })
    }

    fn __len__(&self) -> usize {
        self.total()
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let restore = py.get_type::<PyFleetReport>().getattr("from_json")?;
        let args = PyTuple::new(py, [self.to_json()?])?;
        Ok((restore, args))
    }

    fn __repr__(&self) -> String {
        let reasons: Vec<String> = self
            .reasons_map()
            .into_iter()
            .map(|(k, n)| format!("'{k}': {n}"))
            .collect();
        format!(
            "FleetReport(accepted={}, rejected={}, twins={}, reasons={{{}}})",
            self.data.accepted,
            self.data.rejections.len(),
            self.data.per_twin.len(),
            reasons.join(", ")
        )
    }
}
