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
    // A future format and truncated JSON give clear errors.
    let json = snap
        .to_json()
        .expect("json")
        .replacen("\"format\":1", "\"format\":99", 1);
    let e = TwinSnapshot::from_json(&json).expect_err("future format");
    assert!(e.to_string().contains("format 99"), "{e}");
    let full = snap.to_json().expect("json");
    let e = TwinSnapshot::from_json(&full[..full.len() / 2]).expect_err("truncated");
    assert_eq!(e.kind(), ErrorKind::Serialization);
}
