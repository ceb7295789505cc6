//! Decision support end to end over the in-process channel: the twin's what-if advisor
//! recommends a derate that lets the conveyor reach its maintenance window; the
//! recommendation passes the command gate, goes through the DataConnection to the drive,
//! and is in the audit log; unsafe recommendations are refused and never sent.

use twin::command::Outcome;
use twin::connection::{channel, DeviceEnd, OverflowPolicy, TwinEnd};
use twin::decision::{advise_survival, Recommendation};
use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::maintenance::SurvivalQuery;
use twin::model::ConveyorModel;
use twin::whatif::Scenario;
use twin::{ErrorKind, SampleBatch, Timestamp, Twin};

const DAY: f64 = 86_400.0;

fn mirror(
    drive: &mut ConveyorDrive,
    twin: &mut Twin,
    device: &DeviceEnd,
    conn: &mut TwinEnd,
    until_day: f64,
) -> Vec<twin::Command> {
    let mut scan = SampleBatch::new();
    let mut received = Vec::new();
    while drive.now().as_secs_f64() < until_day * DAY && !drive.failed() {
        drive.advance(300.0).expect("advance");
        scan.clear();
        drive.sense(&mut scan);
        device
            .publish_batch(scan.as_ref())
            .map_err(|(_, e)| e)
            .expect("publish");
        twin.step(conn, 4096).expect("step");
        for cmd in device.try_recv_commands() {
            drive.actuate(&cmd).expect("actuate");
            received.push(cmd);
        }
    }
    received
}

fn life_days(seed: u64) -> f64 {
    let mut d = ConveyorDrive::new(seed);
    let mut sink = SampleBatch::new();
    while !d.failed() {
        d.advance(300.0).expect("advance");
        sink.clear();
        d.sense(&mut sink);
    }
    d.now().as_secs_f64() / DAY
}

#[test]
fn an_advised_derate_is_gated_sent_audited_and_keeps_the_drive_alive_to_the_window() {
    let seed = 21;
    let nominal_life = life_days(seed);
    let mut drive = ConveyorDrive::new(seed);
    let schema = ConveyorDrive::standard_schema();
    let model = ConveyorModel::new(&schema, drive.config().clone()).expect("model");
    let mut twin = Twin::builder(schema).model(model).build().expect("twin");
    let (device, mut conn) = channel(4096, OverflowPolicy::Reject).expect("channel");
    // Mirror half the unit's life; the window is later than it would last at full speed.
    let now_day = (nominal_life * 0.5).floor();
    assert!(mirror(&mut drive, &mut twin, &device, &mut conn, now_day).is_empty());
    let window_day = nominal_life + 5.0;
    let query = SurvivalQuery {
        scenario: Scenario::new((window_day - now_day) * DAY, 3600.0).paths(300, 8),
        input: "speed_setpoint".into(),
        lo: 0.5,
        hi: 2.0,
        confidence: 0.9,
    };
    let before = twin.snapshot().and_then(|s| s.to_json()).expect("snapshot");
    let rec = advise_survival(&twin, &query, "set_speed").expect("advice");
    assert_eq!(
        before,
        twin.snapshot().and_then(|s| s.to_json()).expect("snapshot")
    );
    let advice = rec.advice.clone().expect("advice");
    assert!(
        rec.value < 2.0 && advice.survival >= 0.9 && advice.survival_at_hi < 0.9,
        "{rec:?}"
    );
    // An unsafe variant (over the command's 2.5 m/s limit) is refused with a typed error,
    // logged, and never queued.
    let t0 = twin.now().expect("time");
    let unsafe_rec = Recommendation {
        value: 3.0,
        ..rec.clone()
    };
    let e = unsafe_rec
        .submit(&mut twin, t0)
        .expect_err("over the limit");
    assert_eq!(e.kind(), ErrorKind::OutOfRange);
    assert!(twin.pending_commands().is_empty());
    // The advised one passes and goes out on the next step.
    let cmd = rec.submit(&mut twin, t0).expect("accepted");
    assert_eq!(cmd.value(), rec.value);
    // A second, large change a second later breaks the rate limit: refused.
    let t1 = Timestamp(t0.0 + 1_000_000_000);
    let jump = Recommendation {
        value: 0.5,
        ..rec.clone()
    };
    assert_eq!(
        jump.submit(&mut twin, t1).expect_err("too fast").kind(),
        ErrorKind::RateLimited
    );
    let received = mirror(&mut drive, &mut twin, &device, &mut conn, window_day);
    assert_eq!(
        received.len(),
        1,
        "exactly the accepted command reached the drive"
    );
    assert_eq!(received[0].value(), rec.value);
    assert_eq!(drive.setpoint(), rec.value);
    // The drive, which would have failed on day ~nominal_life, reaches the window.
    assert!(
        !drive.failed(),
        "failed before the window; wear {}",
        drive.wear()
    );
    assert!(drive.now().as_secs_f64() >= window_day * DAY);
    // The audit log: refused, accepted, refused (rate), then sent — with the advisor as source.
    let log: Vec<(String, &str)> = twin
        .audit_log()
        .map(|e| (e.source.clone(), e.outcome.as_str()))
        .collect();
    let src = rec.source.clone();
    assert_eq!(
        log,
        vec![
            (src.clone(), "refused"),
            (src.clone(), "accepted"),
            (src, "refused"),
            ("outbox".to_string(), "sent"),
        ]
    );
    let refused: Vec<ErrorKind> = twin
        .audit_log()
        .filter_map(|e| match &e.outcome {
            Outcome::Refused { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(refused, vec![ErrorKind::OutOfRange, ErrorKind::RateLimited]);
    let c = twin.command_counters();
    assert_eq!((c.accepted, c.refused, c.sent), (1, 2, 1));
}

#[test]
fn advice_needs_a_model_and_a_known_command() {
    let schema = ConveyorDrive::standard_schema();
    let q = SurvivalQuery {
        scenario: Scenario::new(10.0 * DAY, 3600.0).paths(10, 1),
        input: "speed_setpoint".into(),
        lo: 0.5,
        hi: 2.0,
        confidence: 0.9,
    };
    let bare = Twin::builder(schema.clone()).build().expect("twin");
    assert_eq!(
        advise_survival(&bare, &q, "set_speed")
            .expect_err("no model")
            .kind(),
        ErrorKind::InvalidInput
    );
    let model = ConveyorModel::new(&schema, Default::default()).expect("model");
    let twin = Twin::builder(schema).model(model).build().expect("twin");
    assert_eq!(
        advise_survival(&twin, &q, "set_rpm")
            .expect_err("no command")
            .kind(),
        ErrorKind::UnknownSignal
    );
    // A new bearing lasts 10 days at full speed: keep it.
    let rec = advise_survival(&twin, &q, "set_speed").expect("advice");
    assert_eq!(rec.value, 2.0);
}
