//! Schema JSON: any text either fails with an error or gives a schema that survives a JSON
//! round trip and drives a twin (ingest and a command) without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin::{BatchRef, Schema, SignalId, Timestamp, Twin};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schema) = Schema::from_json(text) else {
        return;
    };
    let again = serde_json::to_string(&schema).expect("a parsed schema serializes");
    let back = Schema::from_json(&again).expect("a serialized schema parses");
    assert_eq!(back, schema);
    let Ok(mut twin) = Twin::builder(schema.clone()).build() else {
        return;
    };
    let n = schema.signal_count();
    let times: Vec<i64> = (0..n as i64).collect();
    let signals: Vec<u32> = (0..n as u32).collect();
    let values: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let report = twin.ingest_batch(BatchRef::new(&times, &signals, &values).expect("batch"));
    assert_eq!(report.accepted + report.rejected(), n);
    for i in 0..n as u32 {
        let _ = twin.state().reported(SignalId(i));
    }
    for c in schema.commands() {
        let _ = twin.command(&c.name, (c.min + c.max) / 2.0, Timestamp(1));
    }
    let _ = twin.take_commands();
});
