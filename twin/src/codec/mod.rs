//! Payload codecs: SenML (RFC 8428) in JSON and CBOR, and plain JSON objects, to and from
//! samples. CSV history import and export lives in [`crate::connection`]
//! ([`read_csv`](crate::connection::read_csv), [`write_csv`](crate::connection::write_csv)).
//!
//! Decoders never lose a record silently: each becomes a sample or a refusal with its index
//! and reason.

pub mod senml;

use crate::error::{Error, ErrorKind, Result};
use crate::sample::{SampleBatch, Timestamp};
use crate::schema::Schema;
use crate::state::TwinState;

pub use senml::{Decoded, Refusal};

/// Decode a flat JSON object of signal names to numbers, all observed at `time`:
/// `{"vibration": 1.2, "load": 0.7}`. Unknown names and non-numeric values are refused one
/// by one; anything but a JSON object is an error.
///
/// ```
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let d = twin::codec::decode_object(br#"{"load": 0.7, "rpm": 3, "vibration": "high"}"#,
///                                    &schema, twin::Timestamp(5))?;
/// assert_eq!(d.batch.len(), 1);
/// assert_eq!(d.refused.len(), 2);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn decode_object(bytes: &[u8], schema: &Schema, time: Timestamp) -> Result<Decoded> {
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidInput(format!("payload is not valid JSON: {e}")))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| Error::InvalidInput("payload must be a JSON object".into()))?;
    let mut out = Decoded {
        batch: SampleBatch::with_capacity(obj.len()),
        refused: Vec::new(),
    };
    for (index, (name, v)) in obj.iter().enumerate() {
        let refusal = |kind, message| Refusal {
            index,
            kind,
            message,
        };
        match (schema.signal_id(name), v.as_f64()) {
            (Err(_), _) => out.refused.push(refusal(
                ErrorKind::UnknownSignal,
                format!("{name:?} is not in the schema"),
            )),
            (Ok(_), None) => out.refused.push(refusal(
                ErrorKind::InvalidInput,
                format!("{name}: {v} is not a number"),
            )),
            (Ok(id), Some(x)) => out.batch.push(time, id, x),
        }
    }
    Ok(out)
}

/// Encode the reported state as a flat JSON object of signal names to last values (signals
/// never reported are left out).
///
/// ```
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let mut twin = twin::Twin::builder(schema.clone()).build()?;
/// twin.ingest(twin::Sample::new(twin::Timestamp(1), schema.signal_id("load")?, 0.5))?;
/// let json = twin::codec::encode_object(&schema, twin.state())?;
/// assert_eq!(json, br#"{"load":0.5}"#);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn encode_object(schema: &Schema, state: &TwinState) -> Result<Vec<u8>> {
    let mut m = serde_json::Map::new();
    for i in 0..schema.signal_count() {
        let id = crate::sample::SignalId(i as u32);
        if let Some(v) = state.reported(id) {
            m.insert(schema.signal(id)?.name.clone(), v.into());
        }
    }
    Ok(serde_json::to_vec(&serde_json::Value::Object(m))?)
}
