//! `twin.Schema`, `twin.SignalSpec` and `twin.CommandSpec`.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::errors::to_py;
use crate::repr::{float, opt_float, opt_quote, quote};

fn schema_err(message: String) -> PyErr {
    to_py(twin::Error::Schema(message))
}

/// One telemetry signal or property of a schema: name, unit, valid range, alarm limits.
///
/// The valid range ``[min, max]`` is physical plausibility: a sample outside it is refused.
/// Alarm limits are operating limits: a sample beyond them is accepted and the monitor
/// reports it. The spec is checked when it is put into a :class:`Schema`.
///
/// >>> import twin
/// >>> v = twin.SignalSpec("vibration", "mm/s", min=0.0, max=50.0, alarm_high=4.5)
/// >>> v.to_dict()
/// {'name': 'vibration', 'unit': 'mm/s', 'min': 0.0, 'max': 50.0, 'alarm_high': 4.5}
#[pyclass(frozen, eq, name = "SignalSpec", module = "twin")]
#[derive(Debug, Clone, PartialEq)]
pub struct PySignalSpec {
    pub(crate) inner: twin::SignalSpec,
}

#[pymethods]
impl PySignalSpec {
    #[new]
    #[pyo3(
        signature = (name, unit = String::new(), *, min = None, max = None, alarm_low = None, alarm_high = None),
        text_signature = "(name, unit='', *, min=None, max=None, alarm_low=None, alarm_high=None)"
    )]
    fn new(
        name: String,
        unit: String,
        min: Option<f64>,
        max: Option<f64>,
        alarm_low: Option<f64>,
        alarm_high: Option<f64>,
    ) -> Self {
        PySignalSpec {
            inner: twin::SignalSpec {
                name,
                unit,
                min,
                max,
                alarm_low,
                alarm_high,
            },
        }
    }

    /// Unique name within the schema.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// Unit of measure (free text).
    #[getter]
    fn unit(&self) -> &str {
        &self.inner.unit
    }

    /// Lowest valid value, or None if unbounded.
    #[getter]
    fn min(&self) -> Option<f64> {
        self.inner.min
    }

    /// Highest valid value, or None if unbounded.
    #[getter]
    fn max(&self) -> Option<f64> {
        self.inner.max
    }

    /// Low alarm limit, or None.
    #[getter]
    fn alarm_low(&self) -> Option<f64> {
        self.inner.alarm_low
    }

    /// High alarm limit, or None.
    #[getter]
    fn alarm_high(&self) -> Option<f64> {
        self.inner.alarm_high
    }

    /// The spec as a dict (the shape `Schema(...)` and the JSON schema accept).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let s = &self.inner;
        d.set_item("name", &s.name)?;
        d.set_item("unit", &s.unit)?;
        for (k, v) in [
            ("min", s.min),
            ("max", s.max),
            ("alarm_low", s.alarm_low),
            ("alarm_high", s.alarm_high),
        ] {
            if v.is_some() {
                d.set_item(k, v)?;
            }
        }
        Ok(d)
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let s = &self.inner;
        let kwargs = PyDict::new(py);
        kwargs.set_item("min", s.min)?;
        kwargs.set_item("max", s.max)?;
        kwargs.set_item("alarm_low", s.alarm_low)?;
        kwargs.set_item("alarm_high", s.alarm_high)?;
        reduce_new::<PySignalSpec>(py, (s.name.clone(), s.unit.clone()), kwargs)
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "SignalSpec({}, {}, min={}, max={}, alarm_low={}, alarm_high={})",
            quote(&s.name),
            quote(&s.unit),
            opt_float(s.min),
            opt_float(s.max),
            opt_float(s.alarm_low),
            opt_float(s.alarm_high)
        )
    }
}

/// One command the twin may send to the asset, with its safety limits.
///
/// ``min``/``max`` bound the commanded value; ``max_rate`` limits the change per second
/// between consecutive commands; ``min_interval_s`` is the shortest time between them;
/// ``property`` names the property whose desired value the command sets.
///
/// >>> import twin
/// >>> c = twin.CommandSpec("set_flow", "m3/h", min=0.0, max=400.0, max_rate=10.0)
/// >>> c.max_rate, c.min_interval_s, c.property
/// (10.0, None, None)
#[pyclass(frozen, eq, name = "CommandSpec", module = "twin")]
#[derive(Debug, Clone, PartialEq)]
pub struct PyCommandSpec {
    pub(crate) inner: twin::CommandSpec,
}

#[pymethods]
impl PyCommandSpec {
    #[new]
    #[pyo3(
        signature = (name, unit = String::new(), *, min, max, max_rate = None, min_interval_s = None, property = None),
        text_signature = "(name, unit='', *, min, max, max_rate=None, min_interval_s=None, property=None)"
    )]
    fn new(
        name: String,
        unit: String,
        min: f64,
        max: f64,
        max_rate: Option<f64>,
        min_interval_s: Option<f64>,
        property: Option<String>,
    ) -> Self {
        PyCommandSpec {
            inner: twin::CommandSpec {
                name,
                unit,
                min,
                max,
                max_rate,
                min_interval_s,
                property,
            },
        }
    }

    /// Unique command name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// Unit of the command's argument.
    #[getter]
    fn unit(&self) -> &str {
        &self.inner.unit
    }

    /// Lowest value the actuator may be commanded to.
    #[getter]
    fn min(&self) -> f64 {
        self.inner.min
    }

    /// Highest value the actuator may be commanded to.
    #[getter]
    fn max(&self) -> f64 {
        self.inner.max
    }

    /// Largest change per second between consecutive commands, or None.
    #[getter]
    fn max_rate(&self) -> Option<f64> {
        self.inner.max_rate
    }

    /// Shortest time in seconds between consecutive commands, or None.
    #[getter]
    fn min_interval_s(&self) -> Option<f64> {
        self.inner.min_interval_s
    }

    /// The property this command sets, or None.
    #[getter]
    fn property(&self) -> Option<&str> {
        self.inner.property.as_deref()
    }

    /// The spec as a dict (the shape `Schema(...)` and the JSON schema accept).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let c = &self.inner;
        d.set_item("name", &c.name)?;
        d.set_item("unit", &c.unit)?;
        d.set_item("min", c.min)?;
        d.set_item("max", c.max)?;
        if c.max_rate.is_some() {
            d.set_item("max_rate", c.max_rate)?;
        }
        if c.min_interval_s.is_some() {
            d.set_item("min_interval_s", c.min_interval_s)?;
        }
        if let Some(p) = &c.property {
            d.set_item("property", p)?;
        }
        Ok(d)
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let c = &self.inner;
        let kwargs = PyDict::new(py);
        kwargs.set_item("min", c.min)?;
        kwargs.set_item("max", c.max)?;
        kwargs.set_item("max_rate", c.max_rate)?;
        kwargs.set_item("min_interval_s", c.min_interval_s)?;
        kwargs.set_item("property", c.property.as_deref())?;
        reduce_new::<PyCommandSpec>(py, (c.name.clone(), c.unit.clone()), kwargs)
    }

    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "CommandSpec({}, {}, min={}, max={}, max_rate={}, min_interval_s={}, property={})",
            quote(&c.name),
            quote(&c.unit),
            float(c.min),
            float(c.max),
            opt_float(c.max_rate),
            opt_float(c.min_interval_s),
            opt_quote(c.property.as_deref())
        )
    }
}

/// `copyreg.__newobj_ex__(cls, args, kwargs)`: pickling a spec calls its constructor
/// with its keyword-only fields.
fn reduce_new<'py, T: pyo3::PyTypeInfo>(
    py: Python<'py>,
    args: (String, String),
    kwargs: Bound<'py, PyDict>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
    let newobj = py.import("copyreg")?.getattr("__newobj_ex__")?;
    let cls = py.get_type::<T>().into_any();
    let args = PyTuple::new(py, [args.0, args.1])?.into_any();
    Ok((newobj, PyTuple::new(py, [cls, args, kwargs.into_any()])?))
}

/// Read one dict entry as a string.
fn dict_str(path: &str, key: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    v.extract::<String>().map_err(|_| {
        schema_err(format!(
            "{path}.{key}: expected a str, got {}",
            type_name(v)
        ))
    })
}

/// Read one dict entry as a float.
fn dict_f64(path: &str, key: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if v.is_instance_of::<PyString>() {
        return Err(schema_err(format!(
            "{path}.{key}: expected a number, got str"
        )));
    }
    v.extract::<f64>().map_err(|_| {
        schema_err(format!(
            "{path}.{key}: expected a number, got {}",
            type_name(v)
        ))
    })
}

/// Read one dict entry as an optional float (None allowed).
fn dict_opt_f64(path: &str, key: &str, v: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    if v.is_none() {
        Ok(None)
    } else {
        dict_f64(path, key, v).map(Some)
    }
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A signal spec from a `SignalSpec` or a dict; `path` names it in messages.
fn signal_from_py(item: &Bound<'_, PyAny>, path: &str) -> PyResult<twin::SignalSpec> {
    if let Ok(spec) = item.cast::<PySignalSpec>() {
        return Ok(spec.get().inner.clone());
    }
    let Ok(d) = item.cast::<PyDict>() else {
        return Err(PyTypeError::new_err(format!(
            "{path}: expected a SignalSpec or a dict, got {}",
            type_name(item)
        )));
    };
    let mut spec = twin::SignalSpec::new(String::new(), String::new());
    let mut named = false;
    for (k, v) in d.iter() {
        let key = k
            .extract::<String>()
            .map_err(|_| schema_err(format!("{path}: keys must be str")))?;
        match key.as_str() {
            "name" => {
                spec.name = dict_str(path, &key, &v)?;
                named = true;
            }
            "unit" => spec.unit = dict_str(path, &key, &v)?,
            "min" => spec.min = dict_opt_f64(path, &key, &v)?,
            "max" => spec.max = dict_opt_f64(path, &key, &v)?,
            "alarm_low" => spec.alarm_low = dict_opt_f64(path, &key, &v)?,
            "alarm_high" => spec.alarm_high = dict_opt_f64(path, &key, &v)?,
            _ => {
                return Err(schema_err(format!(
                    "{path}: unknown field {key:?}, expected one of name, unit, min, max, alarm_low, alarm_high"
                )))
            }
        }
    }
    if !named {
        return Err(schema_err(format!("{path}: missing field \"name\"")));
    }
    Ok(spec)
}

/// A command spec from a `CommandSpec` or a dict; `path` names it in messages.
fn command_from_py(item: &Bound<'_, PyAny>, path: &str) -> PyResult<twin::CommandSpec> {
    if let Ok(spec) = item.cast::<PyCommandSpec>() {
        return Ok(spec.get().inner.clone());
    }
    let Ok(d) = item.cast::<PyDict>() else {
        return Err(PyTypeError::new_err(format!(
            "{path}: expected a CommandSpec or a dict, got {}",
            type_name(item)
        )));
    };
    let (mut name, mut min, mut max) = (None, None, None);
    let mut spec = twin::CommandSpec::new(String::new(), String::new(), 0.0, 0.0);
    for (k, v) in d.iter() {
        let key = k
            .extract::<String>()
            .map_err(|_| schema_err(format!("{path}: keys must be str")))?;
        match key.as_str() {
            "name" => name = Some(dict_str(path, &key, &v)?),
            "unit" => spec.unit = dict_str(path, &key, &v)?,
            "min" => min = Some(dict_f64(path, &key, &v)?),
            "max" => max = Some(dict_f64(path, &key, &v)?),
            "max_rate" => spec.max_rate = dict_opt_f64(path, &key, &v)?,
            "min_interval_s" => spec.min_interval_s = dict_opt_f64(path, &key, &v)?,
            "property" => {
                spec.property = if v.is_none() {
                    None
                } else {
                    Some(dict_str(path, &key, &v)?)
                }
            }
            _ => {
                return Err(schema_err(format!(
                    "{path}: unknown field {key:?}, expected one of name, unit, min, max, \
                     max_rate, min_interval_s, property"
                )))
            }
        }
    }
    for (field, v) in [
        ("name", name.is_some()),
        ("min", min.is_some()),
        ("max", max.is_some()),
    ] {
        if !v {
            return Err(schema_err(format!("{path}: missing field {field:?}")));
        }
    }
    spec.name = name.unwrap_or_default();
    spec.min = min.unwrap_or_default();
    spec.max = max.unwrap_or_default();
    Ok(spec)
}

/// Collect the items of an optional iterable with a converter.
fn collect<T>(
    what: &str,
    items: Option<&Bound<'_, PyAny>>,
    convert: impl Fn(&Bound<'_, PyAny>, &str) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let Some(items) = items else {
        return Ok(Vec::new());
    };
    if items.is_instance_of::<PyString>() || items.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a list of specs, got {}",
            type_name(items)
        )));
    }
    let mut out = Vec::new();
    for (i, item) in items.try_iter()?.enumerate() {
        out.push(convert(&item?, &format!("{what}[{i}]"))?);
    }
    Ok(out)
}

/// A validated twin schema: telemetry signals, properties and commands, with names
/// resolved to dense integer ids.
///
/// Telemetry signals take the ids ``0..T`` and properties ``T..T+P``, in the order given.
/// Build one in code (each spec a :class:`SignalSpec` / :class:`CommandSpec` or a dict of
/// the same fields), load one with :meth:`Schema.from_json`, or take the conveyor's with
/// :meth:`Schema.conveyor`. Every validation failure raises :class:`SchemaError`.
/// :meth:`Schema.from_dtdl` and :meth:`Schema.from_wot` import DTDL interfaces and WoT
/// Thing Descriptions.
///
/// >>> import twin
/// >>> s = twin.Schema(
/// ...     "pump",
/// ...     telemetry=[twin.SignalSpec("flow", "m3/h", min=0.0, max=500.0)],
/// ...     properties=[{"name": "flow_setpoint", "unit": "m3/h", "min": 0.0, "max": 400.0}],
/// ...     commands=[twin.CommandSpec("set_flow", "m3/h", min=0.0, max=400.0, property="flow_setpoint")],
/// ... )
/// >>> s.signal_names, s.signal_id("flow_setpoint"), s.is_property(1)
/// (['flow', 'flow_setpoint'], 1, True)
/// >>> twin.Schema.from_json(s.to_json()) == s
/// True
#[pyclass(frozen, eq, name = "Schema", module = "twin")]
#[derive(Debug, Clone)]
pub struct PySchema {
    pub(crate) inner: Arc<twin::Schema>,
}

impl PartialEq for PySchema {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl PySchema {
    pub(crate) fn from_schema(schema: twin::Schema) -> Self {
        PySchema {
            inner: Arc::new(schema),
        }
    }
}

#[pymethods]
impl PySchema {
    #[new]
    #[pyo3(signature = (name, telemetry = None, properties = None, commands = None))]
    fn new(
        name: String,
        telemetry: Option<&Bound<'_, PyAny>>,
        properties: Option<&Bound<'_, PyAny>>,
        commands: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut b = twin::Schema::builder(name);
        for s in collect("telemetry", telemetry, signal_from_py)? {
            b = b.telemetry(s);
        }
        for s in collect("properties", properties, signal_from_py)? {
            b = b.property(s);
        }
        for c in collect("commands", commands, command_from_py)? {
            b = b.command(c);
        }
        b.build().map(Self::from_schema).map_err(to_py)
    }

    /// Parse and validate a schema from JSON; any failure raises :class:`SchemaError`.
    ///
    /// The keyword arguments cap its size (each defaults to the engine's default: 65 536
    /// signals, 4 096 commands, 16 MiB of JSON, names of 256 bytes); a document beyond one
    /// raises :class:`LimitExceededError` naming the cap.
    #[staticmethod]
    #[pyo3(signature = (json, *, max_signals = None, max_commands = None, max_json_bytes = None, max_name_bytes = None))]
    fn from_json(
        json: &str,
        max_signals: Option<usize>,
        max_commands: Option<usize>,
        max_json_bytes: Option<usize>,
        max_name_bytes: Option<usize>,
    ) -> PyResult<Self> {
        let limits =
            crate::formats::limits(max_signals, max_commands, max_json_bytes, max_name_bytes);
        twin::Schema::from_json_with_limits(json, &limits)
            .map(Self::from_schema)
            .map_err(to_py)
    }

    /// Import a DTDL v3 (or v2) interface: a :class:`SchemaImport` with the schema, the
    /// interface's relationships and any skipped elements.
    ///
    /// Numeric telemetry and read-only properties become telemetry, writable properties
    /// become properties, commands become commands (DTDL has no limits: a numeric request
    /// is bounded only by the largest finite numbers, so tighten them before commanding an
    /// actuator), components are included with ``component/`` name prefixes. Unsupported
    /// elements (string telemetry, maps, ...) raise :class:`SchemaError` naming the
    /// element, or with ``skip_unsupported=True`` are listed in ``skipped``. The size caps
    /// are those of :meth:`from_json`.
    #[staticmethod]
    #[pyo3(signature = (json, *, skip_unsupported = false, max_signals = None, max_commands = None, max_json_bytes = None, max_name_bytes = None))]
    fn from_dtdl(
        json: &str,
        skip_unsupported: bool,
        max_signals: Option<usize>,
        max_commands: Option<usize>,
        max_json_bytes: Option<usize>,
        max_name_bytes: Option<usize>,
    ) -> PyResult<crate::formats::PySchemaImport> {
        let opts = twin::schema::dtdl::DtdlOptions {
            skip_unsupported,
            limits: crate::formats::limits(
                max_signals,
                max_commands,
                max_json_bytes,
                max_name_bytes,
            ),
        };
        twin::schema::dtdl::import(json, opts)
            .map(crate::formats::PySchemaImport::dtdl)
            .map_err(|e| to_py(crate::formats::named("json", e)))
    }

    /// Import a W3C Web of Things Thing Description (TD 1.0 / 1.1): a
    /// :class:`SchemaImport` with the schema and any skipped affordances (its
    /// ``relationships`` are empty).
    ///
    /// Read-only numeric or boolean properties become telemetry, writable ones properties
    /// (``minimum``/``maximum`` give the range, ``unit`` the unit); actions with numeric
    /// input become commands limited by the input's range; numeric events become
    /// telemetry. Other data types raise :class:`SchemaError` naming the affordance, or
    /// with ``skip_unsupported=True`` are listed in ``skipped``. The size caps are those of
    /// :meth:`from_json`.
    #[staticmethod]
    #[pyo3(signature = (json, *, skip_unsupported = false, max_signals = None, max_commands = None, max_json_bytes = None, max_name_bytes = None))]
    fn from_wot(
        json: &str,
        skip_unsupported: bool,
        max_signals: Option<usize>,
        max_commands: Option<usize>,
        max_json_bytes: Option<usize>,
        max_name_bytes: Option<usize>,
    ) -> PyResult<crate::formats::PySchemaImport> {
        let opts = twin::schema::wot::WotOptions {
            skip_unsupported,
            limits: crate::formats::limits(
                max_signals,
                max_commands,
                max_json_bytes,
                max_name_bytes,
            ),
        };
        twin::schema::wot::import(json, opts)
            .map(crate::formats::PySchemaImport::wot)
            .map_err(|e| to_py(crate::formats::named("json", e)))
    }

    /// The standard schema of the simulated conveyor drive (4 telemetry signals,
    /// 1 property, 1 command).
    #[staticmethod]
    fn conveyor() -> Self {
        Self::from_schema(twin::entity::ConveyorDrive::standard_schema())
    }

    /// The schema as pretty JSON (which :meth:`from_json` reads back).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The schema's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Names of all signals in id order: telemetry first, then properties.
    #[getter]
    fn signal_names(&self) -> Vec<&str> {
        self.inner
            .telemetry()
            .iter()
            .chain(self.inner.properties())
            .map(|s| s.name.as_str())
            .collect()
    }

    /// Names of all commands in id order.
    #[getter]
    fn command_names(&self) -> Vec<&str> {
        self.inner
            .commands()
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The telemetry signals, in id order.
    #[getter]
    fn telemetry(&self) -> Vec<PySignalSpec> {
        self.inner
            .telemetry()
            .iter()
            .map(|s| PySignalSpec { inner: s.clone() })
            .collect()
    }

    /// The properties, in id order (their ids follow the telemetry).
    #[getter]
    fn properties(&self) -> Vec<PySignalSpec> {
        self.inner
            .properties()
            .iter()
            .map(|s| PySignalSpec { inner: s.clone() })
            .collect()
    }

    /// The commands, in id order.
    #[getter]
    fn commands(&self) -> Vec<PyCommandSpec> {
        self.inner
            .commands()
            .iter()
            .map(|c| PyCommandSpec { inner: c.clone() })
            .collect()
    }

    /// Number of signals (telemetry and properties).
    #[getter]
    fn signal_count(&self) -> usize {
        self.inner.signal_count()
    }

    /// The id of a signal (telemetry or property); raises :class:`UnknownSignalError`.
    fn signal_id(&self, name: &str) -> PyResult<u32> {
        self.inner.signal_id(name).map(|id| id.0).map_err(to_py)
    }

    /// The name of a signal id; raises :class:`UnknownSignalError` for an id out of range.
    fn signal_name(&self, id: i64) -> PyResult<String> {
        let bad = || to_py(twin::Error::UnknownSignal(format!("signal id {id}")));
        let id = u32::try_from(id).map_err(|_| bad())?;
        self.inner
            .signal(twin::SignalId(id))
            .map(|s| s.name.clone())
            .map_err(|_| bad())
    }

    /// Whether a signal id is a property (rather than telemetry).
    fn is_property(&self, id: i64) -> bool {
        u32::try_from(id).is_ok_and(|id| self.inner.is_property(twin::SignalId(id)))
    }

    fn __contains__(&self, name: &str) -> bool {
        self.inner.signal_id(name).is_ok() || self.inner.command_id(name).is_ok()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Schema {}: {} telemetry, {} properties, {} commands>",
            quote(self.inner.name()),
            self.inner.telemetry().len(),
            self.inner.properties().len(),
            self.inner.commands().len()
        )
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let from_json = py.get_type::<PySchema>().getattr("from_json")?;
        Ok((from_json, PyTuple::new(py, [self.inner.to_json()])?))
    }
}
