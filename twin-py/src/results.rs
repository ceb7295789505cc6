//! Values the twin hands back: `IngestReport`, `Insight`, `Command`.

use std::collections::BTreeMap;

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde::{Deserialize, Serialize};

use crate::errors::to_py;
use crate::repr::{float, quote};

fn ser_err(e: impl std::fmt::Display) -> PyErr {
    to_py(twin::Error::Serialization(e.to_string()))
}

/// `(cls.from_json, (json,))`: how every record here pickles.
fn reduce_json<'py, T: pyo3::PyTypeInfo>(
    py: Python<'py>,
    json: String,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
    let restore = py.get_type::<T>().getattr("from_json")?;
    Ok((restore, PyTuple::new(py, [json])?))
}

/// The serde form of an [`PyIngestReport`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestRecord {
    accepted: usize,
    rejections: Vec<twin::Rejection>,
    copied: Vec<String>,
}

/// The serde form of a [`PyInsight`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InsightRecord {
    time: i64,
    signal: u32,
    signal_name: String,
    kind: twin::analytics::InsightKind,
    value: f64,
    score: f64,
}

/// What became of one ingested batch: ``accepted + rejected == total``.
///
/// ``rejections`` lists ``(index, reason)`` for every refused sample in input order, where
/// ``reason`` is the stable error-kind name (``"non_finite"``, ``"unknown_signal"``,
/// ``"out_of_order"``, ``"duplicate"``, ``"timestamp_conflict"``, ``"out_of_range"``, or
/// ``"limit_exceeded"`` for every sample of a batch longer than the twin's
/// ``max_batch_samples``).
/// ``copied`` names the input columns that had to be converted or copied (empty when all
/// three were borrowed from numpy without a copy). Reports pickle.
///
/// >>> import numpy as np, twin
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> r = t.ingest_batch(np.array([0, 1, 2], dtype=np.int64), np.array([3, 3, 9], dtype=np.uint32),
/// ...                    np.array([0.5, float("nan"), 1.0]))
/// >>> r.accepted, r.rejections, r.reasons
/// (1, [(1, 'non_finite'), (2, 'unknown_signal')], {'non_finite': 1, 'unknown_signal': 1})
#[pyclass(frozen, name = "IngestReport", module = "twin")]
#[derive(Debug, Clone)]
pub struct PyIngestReport {
    pub(crate) accepted: usize,
    pub(crate) rejections: Vec<twin::Rejection>,
    pub(crate) copied: Vec<&'static str>,
}

impl PyIngestReport {
    fn reasons_map(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for r in &self.rejections {
            *m.entry(r.kind.as_str()).or_insert(0) += 1;
        }
        m
    }
}

#[pymethods]
impl PyIngestReport {
    /// Samples taken into the state.
    #[getter]
    fn accepted(&self) -> usize {
        self.accepted
    }

    /// Samples refused.
    #[getter]
    fn rejected(&self) -> usize {
        self.rejections.len()
    }

    /// Samples in the batch.
    #[getter]
    fn total(&self) -> usize {
        self.accepted + self.rejections.len()
    }

    /// ``(index, reason)`` of every refused sample, in input order.
    #[getter]
    fn rejections(&self) -> Vec<(usize, &'static str)> {
        self.rejections
            .iter()
            .map(|r| (r.index, r.kind.as_str()))
            .collect()
    }

    /// Indices of the refused samples as an int64 numpy array (for masking the input).
    #[getter]
    fn rejected_indices<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.rejections
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

    /// Names of the input columns that were converted or copied rather than borrowed.
    #[getter]
    fn copied(&self) -> Vec<&'static str> {
        self.copied.clone()
    }

    fn __len__(&self) -> usize {
        self.total()
    }

    /// The report as JSON (accepted count, every rejection, copied columns), which
    /// :meth:`from_json` reads back; pickling uses it.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&IngestRecord {
            accepted: self.accepted,
            rejections: self.rejections.clone(),
            copied: self.copied.iter().map(|c| c.to_string()).collect(),
        })
        .map_err(ser_err)
    }

    /// A report from :meth:`to_json`; malformed JSON raises :class:`SerializationError`.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        let r: IngestRecord = serde_json::from_str(json).map_err(ser_err)?;
        let mut copied = Vec::with_capacity(r.copied.len());
        for c in &r.copied {
            copied.push(match c.as_str() {
                "times" => "times",
                "signals" => "signals",
                "values" => "values",
                other => {
                    return Err(ser_err(format!(
                        "copied: unknown column {other:?}, expected times, signals or values"
                    )))
                }
            });
        }
        Ok(PyIngestReport {
            accepted: r.accepted,
            rejections: r.rejections,
            copied,
        })
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyIngestReport>().is_ok_and(|o| {
            let o = o.get();
            o.accepted == self.accepted
                && o.rejections == self.rejections
                && o.copied == self.copied
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        reduce_json::<PyIngestReport>(py, self.to_json()?)
    }

    fn __repr__(&self) -> String {
        let reasons: Vec<String> = self
            .reasons_map()
            .into_iter()
            .map(|(k, n)| format!("'{k}': {n}"))
            .collect();
        format!(
            "IngestReport(accepted={}, rejected={}, reasons={{{}}})",
            self.accepted,
            self.rejections.len(),
            reasons.join(", ")
        )
    }
}

/// A finding about one signal at one time.
///
/// ``kind`` is ``"anomaly"``, ``"drift"``, ``"alarm_high"``, ``"alarm_low"`` or ``"alarm_cleared"``;
/// ``score`` is the z-score for an anomaly and the crossed limit for an alarm.
///
/// >>> import twin
/// >>> t = twin.Twin(twin.Schema("m", telemetry=[twin.SignalSpec("y", "degC", alarm_high=50.0)]))
/// >>> t.ingest(0, "y", 61.5)
/// >>> [(i.signal_name, i.kind, i.value, i.score) for i in t.insights()]
/// [('y', 'alarm_high', 61.5, 50.0)]
#[pyclass(frozen, eq, name = "Insight", module = "twin")]
#[derive(Debug, Clone, PartialEq)]
pub struct PyInsight {
    /// When the triggering sample was observed, in nanoseconds.
    #[pyo3(get)]
    pub(crate) time: i64,
    /// The signal's id.
    #[pyo3(get)]
    pub(crate) signal: u32,
    /// The signal's name.
    #[pyo3(get)]
    pub(crate) signal_name: String,
    /// What was found.
    #[pyo3(get)]
    pub(crate) kind: &'static str,
    /// The triggering value.
    #[pyo3(get)]
    pub(crate) value: f64,
    /// Kind-dependent score.
    #[pyo3(get)]
    pub(crate) score: f64,
}

impl PyInsight {
    pub(crate) fn new(schema: &twin::Schema, i: &twin::analytics::Insight) -> Self {
        PyInsight {
            time: i.time.0,
            signal: i.signal.0,
            signal_name: schema.signal_name(i.signal).to_string(),
            kind: i.kind.as_str(),
            value: i.value,
            score: i.score,
        }
    }
}

#[pymethods]
impl PyInsight {
    /// The insight as JSON, which :meth:`from_json` reads back; pickling uses it.
    fn to_json(&self) -> PyResult<String> {
        let kind = match self.kind {
            "alarm_high" => twin::analytics::InsightKind::AlarmHigh,
            "alarm_low" => twin::analytics::InsightKind::AlarmLow,
            "alarm_cleared" => twin::analytics::InsightKind::AlarmCleared,
            "anomaly" => twin::analytics::InsightKind::Anomaly,
            "drift" => twin::analytics::InsightKind::Drift,
            "rul" => twin::analytics::InsightKind::Rul,
            other => return Err(ser_err(format!("unknown insight kind {other:?}"))),
        };
        serde_json::to_string(&InsightRecord {
            time: self.time,
            signal: self.signal,
            signal_name: self.signal_name.clone(),
            kind,
            value: self.value,
            score: self.score,
        })
        .map_err(ser_err)
    }

    /// An insight from :meth:`to_json`; malformed JSON raises :class:`SerializationError`.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        let r: InsightRecord = serde_json::from_str(json).map_err(ser_err)?;
        Ok(PyInsight {
            time: r.time,
            signal: r.signal,
            signal_name: r.signal_name,
            kind: r.kind.as_str(),
            value: r.value,
            score: r.score,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        reduce_json::<PyInsight>(py, self.to_json()?)
    }

    fn __repr__(&self) -> String {
        format!(
            "Insight(time={}, signal={}, kind={}, value={}, score={})",
            self.time,
            quote(&self.signal_name),
            quote(self.kind),
            float(self.value),
            float(self.score)
        )
    }
}

/// A validated command: within its limits and rate limits when it left the twin.
///
/// Only :meth:`Twin.command` makes one (after the schema's checks); pickling restores the
/// record of one.
///
/// >>> import twin
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> cmd = t.command("set_speed", 1.2, 0)
/// >>> cmd.name, cmd.value, cmd.seq
/// ('set_speed', 1.2, 1)
/// >>> t.take_commands() == [cmd]
/// True
#[pyclass(frozen, eq, name = "Command", module = "twin")]
#[derive(Debug, Clone, PartialEq)]
pub struct PyCommand {
    /// The command's name.
    #[pyo3(get)]
    pub(crate) name: String,
    /// The command's id in its schema.
    #[pyo3(get)]
    pub(crate) id: u32,
    /// The commanded value.
    #[pyo3(get)]
    pub(crate) value: f64,
    /// When the twin issued it, in nanoseconds.
    #[pyo3(get)]
    pub(crate) time: i64,
    /// Sequence number among the commands the twin let through (from 1).
    #[pyo3(get)]
    pub(crate) seq: u64,
    /// The validated Rust command this record mirrors (its serde form is the pickle).
    pub(crate) inner: twin::Command,
}

impl From<&twin::Command> for PyCommand {
    fn from(c: &twin::Command) -> Self {
        PyCommand {
            name: c.name().to_string(),
            id: c.id().0,
            value: c.value(),
            time: c.time().0,
            seq: c.seq(),
            inner: c.clone(),
        }
    }
}

#[pymethods]
impl PyCommand {
    /// The command as JSON (the Rust ``twin::Command`` serde form), which
    /// :meth:`from_json` reads back; pickling uses it.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(ser_err)
    }

    /// The record of an already validated command, from :meth:`to_json`.
    ///
    /// This does not validate a new command (only ``Twin.command`` does that, against
    /// the schema's limits and rate limits); it restores the record of one that was.
    /// Malformed JSON, an empty name or a sequence number of 0 (the gate numbers from 1)
    /// raise :class:`SerializationError`.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        let c: twin::Command = serde_json::from_str(json).map_err(ser_err)?;
        if c.name().is_empty() {
            return Err(ser_err("command record: empty name"));
        }
        if c.seq() == 0 {
            return Err(ser_err(
                "command record: seq is 0, but validated commands are numbered from 1",
            ));
        }
        Ok(PyCommand::from(&c))
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        reduce_json::<PyCommand>(py, self.to_json()?)
    }

    fn __repr__(&self) -> String {
        format!(
            "Command({}, value={}, time={}, seq={})",
            quote(&self.name),
            float(self.value),
            self.time,
            self.seq
        )
    }
}
