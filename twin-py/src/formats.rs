//! Schema formats and payload codecs from Python: what `Schema.from_dtdl` /
//! `Schema.from_wot` return (`SchemaImport`), SenML JSON / CBOR and flat JSON object
//! payloads to and from numpy columns (`senml_decode`, `senml_encode`, `object_decode`,
//! `object_encode`, all returning or taking the columns of `Twin.ingest_batch`), and
//! `history_frame`, a twin's history as a pandas table with signal names.

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use twin::codec::senml::{self, Mapping};
use twin::codec::Decoded;
use twin::schema::SchemaLimits;
use twin::Timestamp;

use crate::columns;
use crate::digital_twin::PyTwin;
use crate::errors::{invalid_input, to_py};
use crate::repr::quote;
use crate::schema::PySchema;

/// `e` with the argument it concerns named at the front of its message (same kind).
pub(crate) fn named(arg: &str, e: twin::Error) -> twin::Error {
    match e {
        twin::Error::InvalidInput(m) => twin::Error::InvalidInput(format!("{arg}: {m}")),
        twin::Error::Schema(m) => twin::Error::Schema(format!("{arg}: {m}")),
        twin::Error::NonFinite(m) => twin::Error::NonFinite(format!("{arg}: {m}")),
        twin::Error::Serialization(m) => twin::Error::Serialization(format!("{arg}: {m}")),
        other => other,
    }
}

/// Schema size caps from keyword arguments, each defaulting to [`SchemaLimits::default`].
pub(crate) fn limits(
    max_signals: Option<usize>,
    max_commands: Option<usize>,
    max_json_bytes: Option<usize>,
    max_name_bytes: Option<usize>,
) -> SchemaLimits {
    let d = SchemaLimits::default();
    SchemaLimits {
        max_signals: max_signals.unwrap_or(d.max_signals),
        max_commands: max_commands.unwrap_or(d.max_commands),
        max_json_bytes: max_json_bytes.unwrap_or(d.max_json_bytes),
        max_name_bytes: max_name_bytes.unwrap_or(d.max_name_bytes),
    }
}

/// A document argument: `str` (JSON) or `bytes`-like (JSON as UTF-8, or CBOR).
fn document_bytes(arg: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    obj.extract::<Vec<u8>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{arg} must be str or bytes, not {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into())
        ))
    })
}

/// What a DTDL or WoT import produced: the schema, the relationships the document declares
/// (DTDL only; WoT has none) and the unsupported elements skipped, each with why (only with
/// ``skip_unsupported=True``; otherwise they raise :class:`SchemaError`).
///
/// >>> import twin
/// >>> dtdl = '''{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:example:Fan;1",
/// ...   "@type": "Interface", "displayName": "Fan", "contents": [
/// ...     {"@type": "Telemetry", "name": "speed", "schema": "double"},
/// ...     {"@type": "Relationship", "name": "feeds", "target": "dtmi:example:Duct;1"}]}'''
/// >>> imp = twin.Schema.from_dtdl(dtdl)
/// >>> imp.schema.signal_names, imp.relationships, imp.skipped
/// (['speed'], [('feeds', 'dtmi:example:Duct;1')], [])
#[pyclass(frozen, eq, name = "SchemaImport", module = "twin")]
#[derive(Debug, Clone, PartialEq)]
pub struct PySchemaImport {
    schema: PySchema,
    relationships: Vec<(String, Option<String>)>,
    skipped: Vec<String>,
}

impl PySchemaImport {
    pub(crate) fn dtdl(i: twin::schema::dtdl::DtdlImport) -> Self {
        PySchemaImport {
            schema: PySchema::from_schema(i.schema),
            relationships: i
                .relationships
                .into_iter()
                .map(|r| (r.name, r.target))
                .collect(),
            skipped: i.skipped,
        }
    }

    pub(crate) fn wot(i: twin::schema::wot::WotImport) -> Self {
        PySchemaImport {
            schema: PySchema::from_schema(i.schema),
            relationships: Vec::new(),
            skipped: i.skipped,
        }
    }
}

#[pymethods]
impl PySchemaImport {
    #[new]
    #[pyo3(signature = (schema, relationships = Vec::new(), skipped = Vec::new()))]
    fn new(
        schema: PyRef<'_, PySchema>,
        relationships: Vec<(String, Option<String>)>,
        skipped: Vec<String>,
    ) -> Self {
        PySchemaImport {
            schema: schema.clone(),
            relationships,
            skipped,
        }
    }

    /// The imported schema.
    #[getter]
    fn schema(&self) -> PySchema {
        self.schema.clone()
    }

    /// ``(name, target)`` of each relationship (``target`` None when it names none).
    #[getter]
    fn relationships(&self) -> Vec<(String, Option<String>)> {
        self.relationships.clone()
    }

    /// The unsupported elements skipped, each with why.
    #[getter]
    fn skipped(&self) -> Vec<String> {
        self.skipped.clone()
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let cls = py.get_type::<PySchemaImport>().into_any();
        let args = (
            self.schema.clone(),
            self.relationships.clone(),
            self.skipped.clone(),
        )
            .into_pyobject(py)?;
        Ok((cls, args))
    }

    fn __repr__(&self) -> String {
        format!(
            "SchemaImport(schema={}, relationships={}, skipped={})",
            quote(self.schema.inner.name()),
            self.relationships.len(),
            self.skipped.len()
        )
    }
}

/// Samples decoded from a payload, as the three columns :meth:`Twin.ingest_batch` takes,
/// and the records refused, each with its index, reason kind and message:
/// ``len(decoded) + refused_count`` is the number of records with a value.
///
/// >>> import twin
/// >>> d = twin.object_decode('{"load": 0.7, "rpm": 3}', twin.Schema.conveyor(), time=5)
/// >>> d.values.tolist(), d.refused_count, d.reasons
/// ([0.7], 1, {'unknown_signal': 1})
#[pyclass(frozen, name = "Decoded", module = "twin")]
#[derive(Debug, Clone)]
pub struct PyDecoded {
    inner: Decoded,
}

#[pymethods]
impl PyDecoded {
    /// Times of the accepted samples, ns (int64).
    #[getter]
    fn times<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.inner.batch.as_ref().times().to_vec().into_pyarray(py)
    }

    /// Signal ids of the accepted samples (uint32).
    #[getter]
    fn signals<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        self.inner
            .batch
            .as_ref()
            .signals()
            .to_vec()
            .into_pyarray(py)
    }

    /// Values of the accepted samples (float64).
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.batch.as_ref().values().to_vec().into_pyarray(py)
    }

    /// ``(index, kind, message)`` of each refused record, in payload order.
    #[getter]
    fn refused(&self) -> Vec<(usize, &'static str, String)> {
        self.inner
            .refused
            .iter()
            .map(|r| (r.index, r.kind.as_str(), r.message.clone()))
            .collect()
    }

    /// Number of refused records.
    #[getter]
    fn refused_count(&self) -> usize {
        self.inner.refused.len()
    }

    /// Number of refused records per reason kind.
    #[getter]
    fn reasons(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut m = std::collections::BTreeMap::new();
        for r in &self.inner.refused {
            *m.entry(r.kind.as_str()).or_insert(0) += 1;
        }
        m
    }

    /// The decoded samples and refusals as JSON, which :meth:`from_json` reads back.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner)
            .map_err(|e| to_py(twin::Error::Serialization(e.to_string())))
    }

    /// A :class:`Decoded` from :meth:`to_json`; malformed JSON raises
    /// :class:`SerializationError`.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        let inner: Decoded = serde_json::from_str(json)
            .map_err(|e| to_py(twin::Error::Serialization(e.to_string())))?;
        Ok(PyDecoded { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.batch.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyDecoded>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let restore = py.get_type::<PyDecoded>().getattr("from_json")?;
        Ok((restore, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "Decoded(samples={}, refused={})",
            self.inner.batch.len(),
            self.inner.refused.len()
        )
    }
}

/// The codec of a ``format`` argument.
#[derive(Clone, Copy)]
enum Format {
    Json,
    Cbor,
}

fn format_arg(format: &str) -> PyResult<Format> {
    match format {
        "json" => Ok(Format::Json),
        "cbor" => Ok(Format::Cbor),
        other => Err(invalid_input(format!(
            "format must be 'json' or 'cbor', got {other:?}"
        ))),
    }
}

/// Decode a SenML pack (RFC 8428) onto ``schema``'s signals.
///
/// ``data`` is the pack as ``bytes`` or, for JSON, ``str``; ``format`` is ``"json"`` or
/// ``"cbor"`` (integer labels). ``strip_prefix`` is removed from record names (after the
/// base name is applied) before they are looked up in the schema. ``now`` (ns) resolves
/// relative times (resolved times below 2**28 s) as RFC 8428 says: they count from the
/// receiver's current time, which is the system clock unless ``now`` is given (give it for
/// reproducible results; absolute times do not depend on it). Each record with a value
/// becomes a sample or a refusal (unknown name, non-numeric value, unit other than the
/// schema's); a structural fault (not JSON/CBOR, not an array, a record without a name)
/// refuses the whole pack with :class:`InvalidInputError` naming ``data``.
///
/// >>> import twin
/// >>> pack = b'[{"bn": "belt/", "bt": 1.7e9, "n": "load", "v": 0.75}, {"n": "rpm", "v": 3}]'
/// >>> d = twin.senml_decode(pack, twin.Schema.conveyor(), strip_prefix="belt/")
/// >>> d.times.tolist(), d.values.tolist(), d.refused
/// ([1700000000000000000], [0.75], [(1, 'unknown_signal', '"rpm" is not in the schema')])
#[pyfunction]
#[pyo3(signature = (data, schema, *, format = "json", strip_prefix = None, now = None))]
pub fn senml_decode(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    schema: PyRef<'_, PySchema>,
    format: &str,
    strip_prefix: Option<String>,
    now: Option<i64>,
) -> PyResult<PyDecoded> {
    let fmt = format_arg(format)?;
    let now = match now {
        Some(n) => n,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .ok_or_else(|| invalid_input("now: the system clock is not between 1970 and 2262"))?,
    };
    let bytes = document_bytes("data", data)?;
    let schema = schema.inner.clone();
    let mapping = Mapping { strip_prefix };
    let decoded = py.detach(move || match fmt {
        Format::Json => senml::decode_json(&bytes, &schema, &mapping, Timestamp(now)),
        Format::Cbor => senml::decode_cbor(&bytes, &schema, &mapping, Timestamp(now)),
    });
    decoded
        .map(|inner| PyDecoded { inner })
        .map_err(|e| to_py(named("data", e)))
}

/// Encode samples as a SenML pack: ``bytes`` of JSON or CBOR (integer labels), with base
/// name ``base_name`` and a base time at the first sample.
///
/// ``times`` (ns), ``signals`` (ids of ``schema``) and ``values`` are the columns of
/// :meth:`Twin.ingest_batch`. Each record carries the signal's schema name and unit. A
/// signal id not in the schema raises :class:`UnknownSignalError`, a NaN or infinite value
/// :class:`NonFiniteError` naming ``values`` and the signal, mismatched lengths
/// :class:`InvalidInputError`.
///
/// >>> import twin
/// >>> s = twin.Schema.conveyor()
/// >>> twin.senml_encode(s, [1_700_000_000_000_000_000], [s.signal_id("load")], [0.75], base_name="belt/")
/// b'[{"bn":"belt/","bt":1700000000.0,"n":"load","u":"1","v":0.75}]'
#[pyfunction]
#[pyo3(signature = (schema, times, signals, values, *, base_name = "", format = "json"))]
pub fn senml_encode<'py>(
    py: Python<'py>,
    schema: PyRef<'_, PySchema>,
    times: &Bound<'py, PyAny>,
    signals: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    base_name: &str,
    format: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let fmt = format_arg(format)?;
    let columns = columns::Batch::extract(times, signals, values)?;
    let batch = columns.as_ref()?;
    let out = match fmt {
        Format::Json => senml::encode_json(&schema.inner, batch, base_name),
        Format::Cbor => senml::encode_cbor(&schema.inner, batch, base_name),
    }
    .map_err(|e| to_py(named("values", e)))?;
    Ok(PyBytes::new(py, &out))
}

/// Decode a flat JSON object of signal names to numbers, all observed at ``time`` (ns):
/// ``{"vibration": 1.2, "load": 0.7}``. Unknown names and non-numeric values are refused
/// one by one; anything but a JSON object raises :class:`InvalidInputError` naming
/// ``data``.
///
/// >>> import twin
/// >>> d = twin.object_decode(b'{"vibration": 1.5, "load": "high"}', twin.Schema.conveyor(), time=10)
/// >>> d.signals.tolist(), d.times.tolist(), d.reasons
/// ([1], [10], {'invalid_input': 1})
#[pyfunction]
#[pyo3(signature = (data, schema, *, time))]
pub fn object_decode(
    data: &Bound<'_, PyAny>,
    schema: PyRef<'_, PySchema>,
    time: i64,
) -> PyResult<PyDecoded> {
    let bytes = document_bytes("data", data)?;
    twin::codec::decode_object(&bytes, &schema.inner, Timestamp(time))
        .map(|inner| PyDecoded { inner })
        .map_err(|e| to_py(named("data", e)))
}

/// The twin's reported state as a flat JSON object of signal names to last values
/// (``bytes``; signals never reported are left out).
///
/// >>> import twin
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> t.ingest(1, "load", 0.5)
/// >>> twin.object_encode(t)
/// b'{"load":0.5}'
#[pyfunction]
pub fn object_encode<'py>(
    py: Python<'py>,
    twin: PyRef<'_, PyTwin>,
) -> PyResult<Bound<'py, PyBytes>> {
    let out = twin
        .with_twin(py, false, |tw| {
            twin::codec::encode_object(tw.schema(), tw.state())
        })?
        .map_err(to_py)?;
    Ok(PyBytes::new(py, &out))
}

/// The twin's recent accepted samples (:meth:`Twin.history`) as a pandas ``DataFrame``
/// with signal names (empty unless the twin keeps history:
/// ``limits={"max_history_samples": n}``).
///
/// Long form (default): one row per sample in order of acceptance, columns ``time``
/// (int64 ns), ``signal`` (name), ``signal_id`` and ``value``. ``wide=True``: one row per
/// time (the index, ascending), one column per signal that has history (in id order,
/// named), NaN where a signal did not report at that time. ``datetime=True`` gives times
/// as UTC ``datetime64[ns]`` instead of integer nanoseconds. pandas is optional: without
/// it this raises ``ImportError`` saying how to install it.
///
/// >>> import twin
/// >>> t = twin.Twin(twin.Schema.conveyor(), monitor=False, limits={"max_history_samples": 10})
/// >>> t.ingest(0, "load", 0.5); t.ingest(0, "vibration", 1.5); t.ingest(60, "load", 0.6)
/// >>> twin.history_frame(t)["signal"].tolist()
/// ['load', 'vibration', 'load']
/// >>> twin.history_frame(t, wide=True)["load"].tolist()
/// [0.5, 0.6]
#[pyfunction]
#[pyo3(signature = (twin, *, wide = false, datetime = false))]
pub fn history_frame<'py>(
    twin: &Bound<'py, PyTwin>,
    wide: bool,
    datetime: bool,
) -> PyResult<Bound<'py, PyAny>> {
    crate::digital_twin::frames(twin.py())?.call_method1("history_frame", (twin, wide, datetime))
}
