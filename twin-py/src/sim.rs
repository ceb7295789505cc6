//! The discrete-event simulator `twin::sim` from Python: scenarios as dicts or JSON
//! strings, runs, replications, sweeps and paired comparisons with the GIL released, a
//! `SimReport` whose tables are dicts of numpy arrays, and the three worked studies of
//! `twin::sim::cases` (smart grid, building sensor placement, traffic corridor).

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use twin::sim::cases::{building, grid, traffic};
use twin::sim::metrics::{Column, Table};
use twin::sim::{sweep, Report, Scenario};

use crate::analytics::arrays::out2;
use crate::errors::{invalid_input, to_py};
use crate::progress::run_long;

/// A scenario given as a JSON string or as plain Python data (turned into JSON with
/// `json.dumps`, so any dict / list / number / string / bool / None nesting works).
fn json_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = obj.extract::<String>() {
        return Ok(s);
    }
    let py = obj.py();
    py.import("json")?
        .getattr("dumps")?
        .call1((obj,))
        .and_then(|s| s.extract::<String>())
        .map_err(|e| invalid_input(format!("{what} is not JSON data: {e}")))
}

/// Parse (but do not validate) a scenario; a malformed one is an `InvalidInputError`
/// whose message names the field.
fn scenario_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Scenario> {
    let json = json_of(obj, what)?;
    serde_json::from_str(&json).map_err(|e| invalid_input(format!("{what}: {e}")))
}

/// Parse and validate.
fn checked_scenario(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Scenario> {
    let s = scenario_of(obj, what)?;
    s.validate().map_err(to_py)?;
    Ok(s)
}

/// A column as a 1-D numpy array (float64, int64 or uint64).
fn column_array<'py>(py: Python<'py>, c: &Column) -> Bound<'py, PyAny> {
    match c {
        Column::F64(v) => PyArray1::from_slice(py, v).into_any(),
        Column::I64(v) => PyArray1::from_slice(py, v).into_any(),
        Column::U64(v) => PyArray1::from_slice(py, v).into_any(),
    }
}

/// A table as `{column name: 1-D numpy array}`, in column order.
fn table_dict<'py>(py: Python<'py>, t: &Table) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (n, c) in t.names.iter().zip(&t.columns) {
        d.set_item(n, column_array(py, c))?;
    }
    Ok(d)
}

/// JSON of a report that keeps NaN: serde_json writes a NaN float as `null`, which would
/// not read back into an `f64` column, so NaN cells of float columns are listed apart.
fn report_to_json(r: &Report) -> PyResult<String> {
    let mut nans = serde_json::Map::new();
    for (name, t) in [
        ("devices", &r.devices),
        ("gateways", &r.gateways),
        ("timeline", &r.timeline),
    ] {
        let mut cols = serde_json::Map::new();
        for (n, c) in t.names.iter().zip(&t.columns) {
            if let Column::F64(v) = c {
                let at: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_nan()).collect();
                if !at.is_empty() {
                    cols.insert(n.clone(), at.into());
                }
            }
        }
        nans.insert(name.to_string(), cols.into());
    }
    let v = serde_json::json!({
        "format": "twin.sim.report",
        "version": 1,
        "report": r,
        "nan": nans,
    });
    serde_json::to_string(&v).map_err(|e| to_py(e.into()))
}

/// Read [`report_to_json`] back.
fn report_from_json(json: &str) -> PyResult<Report> {
    let bad = |m: String| to_py(twin::Error::Serialization(format!("SimReport: {m}")));
    let mut v: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    if v.get("format").and_then(|f| f.as_str()) != Some("twin.sim.report")
        || v.get("version").and_then(|f| f.as_u64()) != Some(1)
    {
        return Err(bad("not a version-1 twin.sim.report document".into()));
    }
    let nan = v.get("nan").cloned().unwrap_or(serde_json::Value::Null);
    // Put a number where each NaN was, parse, then restore the NaNs.
    let tables = ["devices", "gateways", "timeline"];
    let at = |table: &str, col: &str| -> Vec<usize> {
        nan.get(table)
            .and_then(|t| t.get(col))
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.as_u64())
                    .map(|i| i as usize)
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(rep) = v.get_mut("report") {
        for table in tables {
            let Some(t) = rep.get_mut(table) else {
                continue;
            };
            let names: Vec<String> = t
                .get("names")
                .and_then(|n| n.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let Some(cols) = t.get_mut("columns").and_then(|c| c.as_array_mut()) else {
                continue;
            };
            for (name, c) in names.iter().zip(cols.iter_mut()) {
                if let Some(vals) = c.get_mut("values").and_then(|x| x.as_array_mut()) {
                    for i in at(table, name) {
                        if let Some(x) = vals.get_mut(i) {
                            *x = serde_json::Value::from(0.0);
                        }
                    }
                }
            }
        }
    }
    let rep = v
        .get_mut("report")
        .map(serde_json::Value::take)
        .ok_or_else(|| bad("no report".into()))?;
    let mut r: Report = serde_json::from_value(rep).map_err(|e| bad(e.to_string()))?;
    for (table, t) in [
        ("devices", &mut r.devices),
        ("gateways", &mut r.gateways),
        ("timeline", &mut r.timeline),
    ] {
        for (n, c) in t.names.iter().zip(t.columns.iter_mut()) {
            if let Column::F64(vals) = c {
                for i in at(table, n) {
                    if let Some(x) = vals.get_mut(i) {
                        *x = f64::NAN;
                    }
                }
            }
        }
    }
    Ok(r)
}

/// What one simulation run produced.
///
/// ``summary`` is a dict of the scalar figures (counts reconcile: ``reports ==
/// delivered + undelivered + in_flight``); ``devices``, ``gateways`` and ``timeline`` are
/// tables as dicts of column name → 1-D numpy array (see the Rust ``twin::sim::Report``
/// for the columns). Pickles through its JSON.
///
/// >>> import twin
/// >>> r = twin.sim_run({"seed": 1, "horizon_s": 600.0,
/// ...                   "gateways": [{"name": "gw", "link": {"latency_s": 0.02}}],
/// ...                   "groups": [{"count": 10, "period_s": 60.0, "gateways": [0]}]})
/// >>> s = r.summary
/// >>> s["devices"], s["reports"] == s["delivered"] + s["undelivered"] + s["in_flight"]
/// (10, True)
#[pyclass(frozen, name = "SimReport", module = "twin")]
#[derive(Debug, Clone)]
pub struct PySimReport {
    report: Report,
}

impl PySimReport {
    fn table(&self, name: &str) -> PyResult<&Table> {
        match name {
            "devices" => Ok(&self.report.devices),
            "gateways" => Ok(&self.report.gateways),
            "timeline" => Ok(&self.report.timeline),
            other => Err(invalid_input(format!(
                "table must be 'devices', 'gateways' or 'timeline', not {other:?}"
            ))),
        }
    }
}

#[pymethods]
impl PySimReport {
    /// The scalar figures as a dict (latencies and lifetimes are None when undefined).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = serde_json::to_string(&self.report.summary).map_err(|e| to_py(e.into()))?;
        py.import("json")?.getattr("loads")?.call1((json,))
    }

    /// One row per device: dict of column name → numpy array.
    #[getter]
    fn devices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        table_dict(py, &self.report.devices)
    }

    /// One row per gateway: dict of column name → numpy array.
    #[getter]
    fn gateways<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        table_dict(py, &self.report.gateways)
    }

    /// One row per time bucket: dict of column name → numpy array.
    #[getter]
    fn timeline<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        table_dict(py, &self.report.timeline)
    }

    /// A table (``"devices"``, ``"gateways"`` or ``"timeline"``) as a pandas DataFrame
    /// (pandas is imported only here).
    fn to_pandas<'py>(&self, py: Python<'py>, table: &str) -> PyResult<Bound<'py, PyAny>> {
        let t = table_dict(py, self.table(table)?)?;
        py.import("pandas")?.getattr("DataFrame")?.call1((t,))
    }

    /// The report as JSON (NaN cells kept), readable by :meth:`from_json`.
    fn to_json(&self) -> PyResult<String> {
        report_to_json(&self.report)
    }

    /// A report from :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        Ok(PySimReport {
            report: report_from_json(json)?,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PySimReport>().getattr("from_json")?;
        let args = PyTuple::new(py, [self.to_json()?])?;
        Ok((f, args))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PySimReport>().is_ok_and(|o| {
            report_to_json(&o.get().report).ok() == report_to_json(&self.report).ok()
        })
    }

    fn __repr__(&self) -> String {
        let s = &self.report.summary;
        format!(
            "SimReport(devices={}, reports={}, delivered={}, delivery_ratio={:.4}, events={})",
            s.devices, s.reports, s.delivered, s.delivery_ratio, s.events
        )
    }
}

fn reports_list(py: Python<'_>, reports: Vec<Report>) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, reports.into_iter().map(|report| PySimReport { report }))
}

/// Validate a scenario (dict or JSON string); raises ``InvalidInputError`` naming the
/// offending field, returns None if it is sound.
#[pyfunction]
pub fn sim_validate(scenario: &Bound<'_, PyAny>) -> PyResult<()> {
    checked_scenario(scenario, "scenario").map(|_| ())
}

/// Validate and run a scenario (dict or JSON string) with the GIL released.
///
/// ``progress``: a callable ``progress(done, total)`` (per mille of the horizon,
/// ``total`` 1000) or ``True`` for a tqdm bar when tqdm is installed. Ctrl-C stops the
/// run within a fraction of a second and raises ``KeyboardInterrupt``.
#[pyfunction]
#[pyo3(signature = (scenario, *, progress=None))]
pub fn sim_run<'py>(
    py: Python<'py>,
    scenario: &Bound<'py, PyAny>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<PySimReport> {
    let s = scenario_of(scenario, "scenario")?;
    let report = run_long(py, progress, "sim_run", move |p| twin::sim::run_with(&s, p))?;
    Ok(PySimReport { report })
}

/// ``n`` independent replications (seeds derived from the scenario's seed), ``threads``
/// at a time (0: all cores); results do not depend on ``threads``.
///
/// ``progress``: a callable ``progress(done, total)`` (finished runs of ``n``) or
/// ``True`` for a tqdm bar. Ctrl-C stops every run and raises ``KeyboardInterrupt``.
#[pyfunction]
#[pyo3(signature = (scenario, n, threads=0, *, progress=None))]
pub fn sim_replicate<'py>(
    py: Python<'py>,
    scenario: &Bound<'py, PyAny>,
    n: usize,
    threads: usize,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let s = scenario_of(scenario, "scenario")?;
    let reports = run_long(py, progress, "sim_replicate", move |p| {
        sweep::replicate_with(&s, n, threads, p)
    })?;
    reports_list(py, reports)
}

/// Sweep the numeric field at dotted ``path`` (e.g. ``"groups.0.period_s"``) over
/// ``values``, ``replications`` runs each on common random numbers. Returns a dict:
/// ``path``, ``table`` (``value``, ``replication`` and the summary columns, as numpy
/// arrays) and ``reports`` (SimReports in row order). ``progress`` as for
/// :func:`sim_replicate` (finished runs of ``len(values) * replications``).
#[pyfunction]
#[pyo3(signature = (scenario, path, values, replications=1, threads=0, *, progress=None))]
pub fn sim_sweep<'py>(
    py: Python<'py>,
    scenario: &Bound<'py, PyAny>,
    path: &str,
    values: Vec<f64>,
    replications: usize,
    threads: usize,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let s = scenario_of(scenario, "scenario")?;
    let path = path.to_string();
    let r = run_long(py, progress, "sim_sweep", move |p| {
        sweep::sweep_with(&s, &path, &values, replications, threads, p)
    })?;
    let d = PyDict::new(py);
    d.set_item("path", &r.path)?;
    d.set_item("table", table_dict(py, &r.table)?)?;
    d.set_item("reports", reports_list(py, r.reports)?)?;
    Ok(d)
}

/// A paired what-if comparison: ``baseline`` and ``variant`` run ``n`` replications each
/// on the same seeds. Returns a dict: ``baseline`` and ``variant`` (lists of SimReports)
/// and ``differences`` (summary column → numpy array of ``variant - baseline`` per
/// replication, as float64). ``progress`` as for :func:`sim_replicate` (finished runs
/// of ``2 * n``).
#[pyfunction]
#[pyo3(signature = (baseline, variant, n, threads=0, *, progress=None))]
pub fn sim_paired<'py>(
    py: Python<'py>,
    baseline: &Bound<'py, PyAny>,
    variant: &Bound<'py, PyAny>,
    n: usize,
    threads: usize,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let b = scenario_of(baseline, "baseline")?;
    let v = scenario_of(variant, "variant")?;
    let (p, tb, tv) = run_long(py, progress, "sim_paired", move |hook| {
        let p = sweep::paired_with(&b, &v, n, threads, hook)?;
        let tb = sweep::summary_table(&p.baseline)?;
        let tv = sweep::summary_table(&p.variant)?;
        Ok::<_, twin::Error>((p, tb, tv))
    })?;
    let diffs = PyDict::new(py);
    for ((name, cb), cv) in tb.names.iter().zip(&tb.columns).zip(&tv.columns) {
        let as_f64 = |c: &Column| -> Vec<f64> {
            match c {
                Column::F64(x) => x.clone(),
                Column::I64(x) => x.iter().map(|&y| y as f64).collect(),
                Column::U64(x) => x.iter().map(|&y| y as f64).collect(),
            }
        };
        let d: Vec<f64> = as_f64(cv)
            .iter()
            .zip(as_f64(cb))
            .map(|(v, b)| v - b)
            .collect();
        diffs.set_item(name, d.into_pyarray(py))?;
    }
    let out = PyDict::new(py);
    out.set_item("baseline", reports_list(py, p.baseline)?)?;
    out.set_item("variant", reports_list(py, p.variant)?)?;
    out.set_item("differences", diffs)?;
    Ok(out)
}

/// Parse a case's config from keyword arguments with serde (unknown or ill-typed
/// settings raise ``InvalidInputError`` naming them).
fn config_of<T: serde::de::DeserializeOwned>(
    kwargs: Option<&Bound<'_, PyDict>>,
    what: &str,
) -> PyResult<T> {
    let json = match kwargs {
        Some(k) => json_of(k.as_any(), what)?,
        None => "{}".to_string(),
    };
    serde_json::from_str(&json).map_err(|e| invalid_input(format!("{what}: {e}")))
}

fn f64s<'py, T>(py: Python<'py>, xs: &[T], f: impl Fn(&T) -> f64) -> Bound<'py, PyArray1<f64>> {
    xs.iter().map(f).collect::<Vec<_>>().into_pyarray(py)
}

fn u64s<'py, T>(py: Python<'py>, xs: &[T], f: impl Fn(&T) -> u64) -> Bound<'py, PyArray1<u64>> {
    xs.iter().map(f).collect::<Vec<_>>().into_pyarray(py)
}

/// The smart-grid study: households with thermostatic heaters and electric-vehicle
/// charging, demand-response strategies against a paired baseline.
///
/// Settings (keywords): ``houses`` (2000), ``seed`` (7), ``strategies`` (list of
/// ``"baseline"``, ``"shift_charging"``, ``"shift_and_setback"``; default all three).
/// Returns a dict with one entry per strategy in each array: ``strategy`` (list of
/// names), ``peak_kw``, ``peak_at_h``, ``peak_reduction`` (against the first strategy),
/// ``heating_kwh``, ``charging_kwh``, ``base_kwh``, ``discomfort_deg_h``, ``events``;
/// ``t_h`` (start of each 15-minute interval, hours after midnight), ``demand_kw`` (2-D:
/// strategy × interval), and ``peak_start_h`` / ``peak_end_h`` (the peak window).
#[pyfunction]
#[pyo3(signature = (**config))]
pub fn smart_grid<'py>(
    py: Python<'py>,
    config: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg: grid::GridConfig = config_of(config, "smart_grid")?;
    let rs = py.detach(move || grid::compare(&cfg)).map_err(to_py)?;
    let d = PyDict::new(py);
    let Some(first) = rs.first() else {
        return Err(invalid_input("smart_grid: no strategy"));
    };
    d.set_item(
        "strategy",
        rs.iter().map(|r| r.strategy.as_str()).collect::<Vec<_>>(),
    )?;
    d.set_item("peak_kw", f64s(py, &rs, |r| r.peak_kw))?;
    d.set_item("peak_at_h", f64s(py, &rs, |r| r.peak_at_h))?;
    d.set_item(
        "peak_reduction",
        f64s(py, &rs, |r| r.peak_reduction_vs(first)),
    )?;
    d.set_item("heating_kwh", f64s(py, &rs, |r| r.heating_kwh))?;
    d.set_item("charging_kwh", f64s(py, &rs, |r| r.charging_kwh))?;
    d.set_item("base_kwh", f64s(py, &rs, |r| r.base_kwh))?;
    d.set_item("discomfort_deg_h", f64s(py, &rs, |r| r.discomfort_deg_h))?;
    d.set_item("events", u64s(py, &rs, |r| r.events))?;
    let t_h = first.interval_start_h();
    let cols = t_h.len();
    d.set_item("t_h", t_h.into_pyarray(py))?;
    let flat: Vec<f64> = rs
        .iter()
        .flat_map(|r| r.demand_kw.iter().copied())
        .collect();
    d.set_item("demand_kw", out2(py, flat, rs.len(), cols)?)?;
    d.set_item("peak_start_h", grid::PEAK_START_S / 3600.0)?;
    d.set_item("peak_end_h", grid::PEAK_END_S / 3600.0)?;
    Ok(d)
}

/// The building sensor-placement study: a sweep over the number of LoRa sensors on a
/// 60 m × 40 m floor with one gateway.
///
/// Settings (keywords): ``counts`` ([10, 25, 50, 100, 200, 400]), ``seed`` (2024),
/// ``period_s`` (60), ``horizon_s`` (3600), ``threads`` (0: all cores). Returns a dict of
/// arrays, one entry per count: ``sensors``, ``coverage`` (share of the floor within
/// 6 m of a working sensor), ``delivery``, ``collisions``, ``working``.
#[pyfunction]
#[pyo3(signature = (**config))]
pub fn building_placement<'py>(
    py: Python<'py>,
    config: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg: building::BuildingConfig = config_of(config, "building_placement")?;
    let rows = py.detach(move || building::study(&cfg)).map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("sensors", u64s(py, &rows, |r| u64::from(r.sensors)))?;
    d.set_item("coverage", f64s(py, &rows, |r| r.coverage))?;
    d.set_item("delivery", f64s(py, &rows, |r| r.delivery))?;
    d.set_item("collisions", u64s(py, &rows, |r| r.collisions))?;
    d.set_item("working", u64s(py, &rows, |r| u64::from(r.working)))?;
    Ok(d)
}

/// The smart-traffic corridor study: connected vehicles through 8 signals, timing plans
/// compared on the same arrivals.
///
/// Settings (keywords): ``vehicles`` (600), ``seed`` (3), ``plans`` (list of dicts with
/// ``name``, ``cycle_s``, ``green_s``, ``offset_step_s``; default: simultaneous 90 s,
/// green wave 90 s, green wave 60 s). Returns a dict, one entry per plan: ``plan``
/// (names), ``cycle_s``, ``green_s``, ``offset_step_s``, ``vehicles``, ``mean_travel_s``,
/// ``p95_travel_s``, ``stops_per_vehicle``, ``max_queue``, ``reports``,
/// ``travel_times_s`` (list of sorted arrays) and ``free_flow_s``.
#[pyfunction]
#[pyo3(signature = (**config))]
pub fn traffic_corridor<'py>(
    py: Python<'py>,
    config: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg: traffic::TrafficConfig = config_of(config, "traffic_corridor")?;
    let rs = py.detach(move || traffic::run(&cfg)).map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item(
        "plan",
        rs.iter().map(|r| r.timing.name.clone()).collect::<Vec<_>>(),
    )?;
    d.set_item("cycle_s", f64s(py, &rs, |r| r.timing.cycle_s))?;
    d.set_item("green_s", f64s(py, &rs, |r| r.timing.green_s))?;
    d.set_item("offset_step_s", f64s(py, &rs, |r| r.timing.offset_step_s))?;
    d.set_item("vehicles", u64s(py, &rs, |r| r.vehicles))?;
    d.set_item("mean_travel_s", f64s(py, &rs, |r| r.mean_travel_s))?;
    d.set_item("p95_travel_s", f64s(py, &rs, |r| r.p95_travel_s))?;
    d.set_item("stops_per_vehicle", f64s(py, &rs, |r| r.stops_per_vehicle))?;
    d.set_item("max_queue", u64s(py, &rs, |r| r.max_queue))?;
    d.set_item("reports", u64s(py, &rs, |r| r.reports))?;
    let times = PyList::new(
        py,
        rs.iter()
            .map(|r| PyArray1::from_slice(py, &r.travel_times_s)),
    )?;
    d.set_item("travel_times_s", times)?;
    d.set_item("free_flow_s", traffic::free_flow_s())?;
    Ok(d)
}
