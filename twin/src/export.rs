//! Columnar export for the data stack: histories, insights, command audit logs and
//! simulation results (a [`sim::Report`](crate::sim::Report)'s tables) as Arrow record
//! batches, written as Parquet or Arrow IPC files (feature `columnar`).
//!
//! Times are Arrow `Timestamp(Nanosecond)` columns, signals appear both as their dense id
//! and by name, so a file reads naturally in pandas, polars, DuckDB or Spark.

use std::io::{Read, Seek, Write};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
    UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema as ArrowSchema, TimeUnit};

use crate::analytics::Insight;
use crate::command::AuditEntry;
use crate::error::{Error, Result};
use crate::sample::{BatchRef, SampleBatch, SignalId, Timestamp};
use crate::schema::Schema;

fn arrow_err(e: impl std::fmt::Display) -> Error {
    Error::Serialization(format!("arrow: {e}"))
}

fn time_field() -> Field {
    Field::new(
        "time",
        DataType::Timestamp(TimeUnit::Nanosecond, None),
        false,
    )
}

fn names(schema: &Schema, ids: impl Iterator<Item = u32>) -> Result<Vec<String>> {
    ids.map(|i| Ok(schema.signal(SignalId(i))?.name.clone()))
        .collect()
}

/// A history of samples as a record batch: `time`, `signal_id`, `signal`, `value`.
///
/// ```
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let mut b = twin::SampleBatch::new();
/// b.push(twin::Timestamp(1), schema.signal_id("load")?, 0.7);
/// let rb = twin::export::history_batch(&schema, b.as_ref())?;
/// assert_eq!((rb.num_rows(), rb.num_columns()), (1, 4));
/// # Ok::<(), twin::Error>(())
/// ```
pub fn history_batch(schema: &Schema, samples: BatchRef<'_>) -> Result<RecordBatch> {
    let fields = vec![
        time_field(),
        Field::new("signal_id", DataType::UInt32, false),
        Field::new("signal", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from(samples.times().to_vec())),
        Arc::new(UInt32Array::from(samples.signals().to_vec())),
        Arc::new(StringArray::from(names(
            schema,
            samples.signals().iter().copied(),
        )?)),
        Arc::new(Float64Array::from(samples.values().to_vec())),
    ];
    RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns).map_err(arrow_err)
}

/// Read a history back from a record batch made by [`history_batch`] (by `signal_id`; the
/// `signal` names must agree with the schema).
pub fn history_from_batch(schema: &Schema, rb: &RecordBatch) -> Result<SampleBatch> {
    fn column<'a, T: 'static>(rb: &'a RecordBatch, name: &str) -> Result<&'a T> {
        rb.column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<T>())
            .ok_or_else(|| {
                Error::Serialization(format!("arrow: no column {name:?} of the expected type"))
            })
    }
    let t: &TimestampNanosecondArray = column(rb, "time")?;
    let ids: &UInt32Array = column(rb, "signal_id")?;
    let sig: &StringArray = column(rb, "signal")?;
    let v: &Float64Array = column(rb, "value")?;
    if t.null_count() + ids.null_count() + sig.null_count() + v.null_count() > 0 {
        return Err(Error::Serialization("arrow: a history has no nulls".into()));
    }
    let mut out = SampleBatch::with_capacity(rb.num_rows());
    for i in 0..rb.num_rows() {
        let id = SignalId(ids.value(i));
        let spec = schema.signal(id)?;
        if spec.name != sig.value(i) {
            return Err(Error::Serialization(format!(
                "arrow: row {i} names {:?} but id {} is {:?} in the schema",
                sig.value(i),
                id.0,
                spec.name
            )));
        }
        out.push(Timestamp(t.value(i)), id, v.value(i));
    }
    Ok(out)
}

/// Insights as a record batch: `time`, `signal_id`, `signal`, `kind`, `value`, `score`.
pub fn insights_batch(schema: &Schema, insights: &[Insight]) -> Result<RecordBatch> {
    let fields = vec![
        time_field(),
        Field::new("signal_id", DataType::UInt32, false),
        Field::new("signal", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
        Field::new("score", DataType::Float64, false),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from_iter_values(
            insights.iter().map(|i| i.time.0),
        )),
        Arc::new(UInt32Array::from_iter_values(
            insights.iter().map(|i| i.signal.0),
        )),
        Arc::new(StringArray::from(names(
            schema,
            insights.iter().map(|i| i.signal.0),
        )?)),
        Arc::new(StringArray::from_iter_values(
            insights.iter().map(|i| i.kind.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(
            insights.iter().map(|i| i.value),
        )),
        Arc::new(Float64Array::from_iter_values(
            insights.iter().map(|i| i.score),
        )),
    ];
    RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns).map_err(arrow_err)
}

/// A command audit log as a record batch: `time`, `command`, `value`, `source`, `outcome`,
/// and `reason` / `message` (null unless refused or failed).
pub fn audit_batch(entries: &[AuditEntry]) -> Result<RecordBatch> {
    let fields = vec![
        time_field(),
        Field::new("command", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("outcome", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, true),
        Field::new("message", DataType::Utf8, true),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from_iter_values(
            entries.iter().map(|e| e.time.0),
        )),
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|e| e.command.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(
            entries.iter().map(|e| e.value),
        )),
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|e| e.source.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|e| e.outcome.as_str()),
        )),
        Arc::new(StringArray::from_iter(
            entries
                .iter()
                .map(|e| e.outcome.failure().map(|(k, _)| k.as_str())),
        )),
        Arc::new(StringArray::from_iter(
            entries.iter().map(|e| e.outcome.failure().map(|(_, m)| m)),
        )),
    ];
    RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns).map_err(arrow_err)
}

/// Write a record batch as a Parquet file (Snappy-compressed).
pub fn write_parquet<W: Write + Send>(writer: W, rb: &RecordBatch) -> Result<()> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(writer, rb.schema(), Some(props)).map_err(arrow_err)?;
    w.write(rb).map_err(arrow_err)?;
    w.close().map_err(arrow_err)?;
    Ok(())
}

/// Read every record batch of a Parquet file.
pub fn read_parquet(file: std::fs::File) -> Result<Vec<RecordBatch>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(arrow_err)?
        .build()
        .map_err(arrow_err)?;
    reader.map(|b| b.map_err(arrow_err)).collect()
}

/// Write a record batch as an Arrow IPC file (Feather v2).
pub fn write_arrow_ipc<W: Write>(writer: W, rb: &RecordBatch) -> Result<()> {
    let mut w = arrow_ipc::writer::FileWriter::try_new(writer, &rb.schema()).map_err(arrow_err)?;
    w.write(rb).map_err(arrow_err)?;
    w.finish().map_err(arrow_err)?;
    Ok(())
}

/// Read every record batch of an Arrow IPC file.
pub fn read_arrow_ipc<R: Read + Seek>(reader: R) -> Result<Vec<RecordBatch>> {
    let r = arrow_ipc::reader::FileReader::try_new(reader, None).map_err(arrow_err)?;
    r.map(|b| b.map_err(arrow_err)).collect()
}

/// A simulation result table (see [`crate::sim::metrics::Table`]) as a record batch: one
/// Arrow column per table column, `Float64`, `Int64` or `UInt64` as stored (NaN stays NaN).
///
/// ```
/// let mut s = twin::sim::Scenario::single(20, 60.0, 600.0);
/// s.seed = 1;
/// let report = twin::sim::run(&s)?;
/// let rb = twin::export::sim_table_batch(&report.devices)?;
/// assert_eq!(rb.num_rows(), 20);
/// let back = twin::export::sim_table_from_batch(&rb)?;
/// assert_eq!(back.u64("reports")?, report.devices.u64("reports")?);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn sim_table_batch(table: &crate::sim::metrics::Table) -> Result<RecordBatch> {
    use crate::sim::metrics::Column;
    let mut fields = Vec::with_capacity(table.names.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(table.names.len());
    for (name, column) in table.names.iter().zip(&table.columns) {
        let (dt, array): (DataType, ArrayRef) = match column {
            Column::F64(v) => (DataType::Float64, Arc::new(Float64Array::from(v.clone()))),
            Column::I64(v) => (DataType::Int64, Arc::new(Int64Array::from(v.clone()))),
            Column::U64(v) => (DataType::UInt64, Arc::new(UInt64Array::from(v.clone()))),
        };
        fields.push(Field::new(name, dt, false));
        columns.push(array);
    }
    if columns.is_empty() {
        return RecordBatch::try_new_with_options(
            Arc::new(ArrowSchema::empty()),
            columns,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(0)),
        )
        .map_err(arrow_err);
    }
    RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns).map_err(arrow_err)
}

/// A simulation table back from a record batch made by [`sim_table_batch`] (or any batch
/// of non-null `Float64`, `Int64` and `UInt64` columns); other column types or nulls are
/// refused with [`Error::Serialization`].
pub fn sim_table_from_batch(rb: &RecordBatch) -> Result<crate::sim::metrics::Table> {
    use crate::sim::metrics::{Column, Table};
    let mut t = Table::default();
    for (field, array) in rb.schema().fields().iter().zip(rb.columns()) {
        if array.null_count() > 0 {
            return Err(Error::Serialization(format!(
                "column {} has nulls; a simulation table has none",
                field.name()
            )));
        }
        let any = array.as_any();
        let column = if let Some(a) = any.downcast_ref::<Float64Array>() {
            Column::F64(a.values().to_vec())
        } else if let Some(a) = any.downcast_ref::<Int64Array>() {
            Column::I64(a.values().to_vec())
        } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
            Column::U64(a.values().to_vec())
        } else {
            return Err(Error::Serialization(format!(
                "column {} is {}; a simulation table holds Float64, Int64 or UInt64",
                field.name(),
                field.data_type()
            )));
        };
        t.push(field.name(), column)?;
    }
    Ok(t)
}

/// Every table of a simulation report as named record batches: `summary` (one row, the
/// figures of [`sim::sweep::summary_table`](crate::sim::sweep::summary_table)), `devices`,
/// `gateways` and `timeline`.
pub fn sim_report_batches(report: &crate::sim::Report) -> Result<Vec<(&'static str, RecordBatch)>> {
    let summary = crate::sim::sweep::summary_table(std::slice::from_ref(report))?;
    Ok(vec![
        ("summary", sim_table_batch(&summary)?),
        ("devices", sim_table_batch(&report.devices)?),
        ("gateways", sim_table_batch(&report.gateways)?),
        ("timeline", sim_table_batch(&report.timeline)?),
    ])
}

/// Write a simulation report as Parquet files `summary.parquet`, `devices.parquet`,
/// `gateways.parquet` and `timeline.parquet` in `dir` (created if missing); returns the
/// paths written.
pub fn write_sim_report_parquet(
    dir: impl AsRef<std::path::Path>,
    report: &crate::sim::Report,
) -> Result<Vec<std::path::PathBuf>> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for (name, rb) in sim_report_batches(report)? {
        let path = dir.join(format!("{name}.parquet"));
        write_parquet(std::fs::File::create(&path)?, &rb)?;
        paths.push(path);
    }
    Ok(paths)
}
