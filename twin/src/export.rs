//! Columnar export for the data stack: histories, insights and command audit logs as Arrow
//! record batches, written as Parquet or Arrow IPC files (feature `columnar`).
//!
//! Times are Arrow `Timestamp(Nanosecond)` columns, signals appear both as their dense id
//! and by name, so a file reads naturally in pandas, polars, DuckDB or Spark.

use std::io::{Read, Seek, Write};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt32Array,
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
