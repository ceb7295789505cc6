//! Snapshot and restore: a restored twin fed the remaining samples ends in exactly the state
//! of one that never stopped.

#[path = "../examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::{ErrorKind, SampleBatch, Twin, TwinSnapshot};

/// Scans of a conveyor, one batch per scan, with commands from a reference twin applied so
/// that the recording includes the derated phase.
fn recording(seed: u64, scans: usize) -> Vec<SampleBatch> {
    let mut drive = ConveyorDrive::new(seed);
    let mut reference = quickstart::conveyor_twin(&drive).expect("twin");
    let mut out = Vec::with_capacity(scans);
    for _ in 0..scans {
        drive.advance(60.0).expect("advance");
        let mut b = SampleBatch::new();
        drive.sense(&mut b);
        reference.ingest_batch(b.as_ref());
        for cmd in reference.take_commands() {
            drive.actuate(&cmd).expect("actuate");
        }
        out.push(b);
    }
    out
}

fn feed(twin: &mut Twin, batches: &[SampleBatch]) -> Vec<twin::Command> {
    let mut sent = Vec::new();
    for b in batches {
        twin.ingest_batch(b.as_ref());
        sent.extend(twin.take_commands());
    }
    sent
}

#[test]
fn restored_twin_ends_in_the_same_state_as_an_uninterrupted_one() {
    let drive = ConveyorDrive::new(42);
    // 14 days of one-minute scans: spans the first derate commands.
    let data = recording(42, 14 * 1440);
    let mut whole = quickstart::conveyor_twin(&drive).expect("twin");
    let all_commands = feed(&mut whole, &data);
    assert!(
        !all_commands.is_empty(),
        "the recording must exercise the decision rule"
    );
    let final_whole = whole.snapshot().expect("snapshot").to_json().expect("json");

    for cut in [1, 500, 9 * 1440 + 333, 13 * 1440] {
        let mut first = quickstart::conveyor_twin(&drive).expect("twin");
        let mut cmds = feed(&mut first, &data[..cut]);
        let json = first.snapshot().expect("snapshot").to_json().expect("json");
        drop(first);
        let snap = TwinSnapshot::from_json(&json).expect("parse");
        let mut restored = quickstart::conveyor_builder(&drive)
            .expect("builder")
            .restore(snap)
            .expect("restore");
        cmds.extend(feed(&mut restored, &data[cut..]));
        let final_restored = restored
            .snapshot()
            .expect("snapshot")
            .to_json()
            .expect("json");
        assert_eq!(cmds, all_commands, "cut at {cut}: same commands");
        assert!(
            final_restored == final_whole,
            "cut at {cut}: final states differ"
        );
    }
}

#[test]
fn snapshots_refuse_mismatches_and_other_formats() {
    let drive = ConveyorDrive::new(1);
    let twin = quickstart::conveyor_twin(&drive).expect("twin");
    let snap = twin.snapshot().expect("snapshot");
    // Restoring into a twin without the same parts is refused.
    let bare = Twin::builder(ConveyorDrive::standard_schema());
    assert_eq!(
        bare.restore(snap.clone()).expect_err("parts differ").kind(),
        ErrorKind::Serialization
    );
    // Another schema is refused.
    let other = twin::Schema::builder("other")
        .telemetry(twin::SignalSpec::new("x", ""))
        .build()
        .expect("s");
    assert!(Twin::builder(other).restore(snap.clone()).is_err());
    // A future version, truncated text and a corrupted byte give clear errors.
    let full = snap.to_json().expect("json");
    assert!(full.starts_with(r#"{"format":"twin.snapshot","version":2,"checksum":"crc32:"#));
    let refusal = |text: &str| {
        let e = TwinSnapshot::from_json(text).expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Serialization);
        e.to_string()
    };
    let future = full.replacen("\"version\":2", "\"version\":99", 1);
    assert!(refusal(&future).contains("version 99 was written by a newer release"));
    assert!(refusal(&full[..full.len() / 2]).contains("truncated"));
    let corrupted = full.replacen("\"setpoint\":2.0", "\"setpoint\":2.5", 1);
    assert_ne!(corrupted, full);
    assert!(refusal(&corrupted).contains("checksum mismatch"));
    assert!(refusal("{\"format\": 7}").contains("format 7"));
    // A format 1 snapshot (plain JSON, before checksums) is migrated and restores.
    let body_start = full.find("\"snapshot\":").expect("body") + "\"snapshot\":".len();
    let legacy = full[body_start..full.len() - 1].replacen("\"format\":2", "\"format\":1", 1);
    let migrated = TwinSnapshot::from_json(&legacy).expect("format 1 migrates");
    assert_eq!(migrated, snap);
    let builder = quickstart::conveyor_builder(&drive).expect("builder");
    assert!(builder.restore(migrated).is_ok());
}
