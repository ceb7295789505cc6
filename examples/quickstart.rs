//! Quickstart: a simulated conveyor drive runs until its bearing would fail; a twin mirrors
//! it through an in-process channel, warns before the failure, derates the belt, and the
//! run prints a short timeline.
//!
//! Run it with `cargo run --release --example quickstart`.

use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::analytics::InsightKind;
use twin::connection::{channel, OverflowPolicy};
use twin::decision::{DerateConfig, DerateRule};
use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::model::ConveyorModel;
use twin::{Result, SampleBatch, Twin, TwinBuilder};

/// Seconds between scans.
pub const SCAN_S: f64 = 60.0;
/// Longest simulated run.
pub const HORIZON_DAYS: f64 = 365.0;
const DAY: f64 = 86_400.0;

/// What happened in one mirrored run, in days since start.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// When the same unit fails if nobody acts (same seed, no commands).
    pub baseline_failure: Option<f64>,
    /// First anomaly on vibration.
    pub first_anomaly: Option<f64>,
    /// First vibration alarm.
    pub first_alarm: Option<f64>,
    /// The warning: the first time the twin acted (a derate command went back).
    pub warning: Option<f64>,
    /// The model's predicted time to failure at the warning, days.
    pub predicted_ttf_at_warning: Option<f64>,
    /// Commands that went back: (day, command, value).
    pub commands: Vec<(f64, String, f64)>,
    /// When the mirrored unit failed, if within the horizon.
    pub failure: Option<f64>,
    /// Samples accepted / refused by the twin.
    pub accepted: u64,
    /// Samples refused by the twin.
    pub refused: u64,
}

/// The parts of the conveyor twin: its physics model, the EWMA limit monitor and the
/// derate rule (build it, or restore a snapshot into it).
pub fn conveyor_builder(drive: &ConveyorDrive) -> Result<TwinBuilder> {
    let schema = ConveyorDrive::standard_schema();
    Ok(Twin::builder(schema.clone())
        .model(ConveyorModel::new(&schema, drive.config().clone())?)
        .engine(EwmaMonitor::new(&schema, MonitorConfig::default())?)
        .rule(DerateRule::new(&schema, DerateConfig::conveyor())?))
}

/// The conveyor twin.
pub fn conveyor_twin(drive: &ConveyorDrive) -> Result<Twin> {
    conveyor_builder(drive)?.build()
}

fn baseline_failure(seed: u64) -> Result<Option<f64>> {
    let mut drive = ConveyorDrive::new(seed);
    let mut sink = SampleBatch::new();
    while drive.now().as_secs_f64() < HORIZON_DAYS * DAY {
        drive.advance(SCAN_S)?;
        sink.clear();
        drive.sense(&mut sink); // same random stream as the mirrored run
        if drive.failed() {
            return Ok(Some(drive.now().as_secs_f64() / DAY));
        }
    }
    Ok(None)
}

/// Run the scenario for one seed.
pub fn run(seed: u64) -> Result<Timeline> {
    let mut tl = Timeline {
        baseline_failure: baseline_failure(seed)?,
        ..Timeline::default()
    };
    let mut drive = ConveyorDrive::new(seed);
    let vibration = drive.ids().vibration;
    let mut twin = conveyor_twin(&drive)?;
    let (device, mut conn) = channel(4096, OverflowPolicy::Reject)?;
    let mut scan = SampleBatch::with_capacity(8);
    while drive.now().as_secs_f64() < HORIZON_DAYS * DAY {
        // Physical layer: time passes, sensors are read and published.
        drive.advance(SCAN_S)?;
        scan.clear();
        drive.sense(&mut scan);
        device.publish_batch(scan.as_ref()).map_err(|(_, e)| e)?;
        // Digital layer: the twin takes what arrived and sends commands back.
        twin.step(&mut conn, 4096)?;
        let day = drive.now().as_secs_f64() / DAY;
        for ins in twin.drain_insights() {
            if ins.signal != vibration {
                continue;
            }
            match ins.kind {
                InsightKind::Anomaly => {
                    tl.first_anomaly.get_or_insert(day);
                }
                InsightKind::AlarmHigh => {
                    tl.first_alarm.get_or_insert(day);
                }
                _ => {}
            }
        }
        // Physical layer again: actuators carry out the commands.
        for cmd in device.try_recv_commands() {
            drive.actuate(&cmd)?;
            if tl.warning.is_none() {
                tl.warning = Some(day);
                if let Some(model) = twin.model() {
                    tl.predicted_ttf_at_warning = model
                        .time_to_failure(HORIZON_DAYS * DAY, 3600.0)?
                        .map(|s| s / DAY);
                }
            }
            tl.commands.push((day, cmd.name().to_string(), cmd.value()));
        }
        if drive.failed() {
            tl.failure = Some(day);
            break;
        }
    }
    let c = twin.ingest_counters();
    tl.accepted = c.accepted;
    tl.refused = c.rejected();
    Ok(tl)
}

fn fmt_day(d: Option<f64>) -> String {
    d.map_or_else(|| "never".to_string(), |d| format!("day {d:6.2}"))
}

#[allow(dead_code)] // the integration test includes this file for `run`
fn main() -> Result<()> {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let tl = run(seed)?;
    println!(
        "twin quickstart: simulated conveyor drive (seed {seed}), one scan every {SCAN_S} s\n"
    );
    let mut events: Vec<(f64, String)> =
        vec![(0.0, "start at 2.00 m/s; the twin mirrors the drive".into())];
    if let Some(d) = tl.first_anomaly {
        events.push((d, "first vibration anomaly (EWMA z-score above 4)".into()));
    }
    if let Some(d) = tl.first_alarm {
        events.push((d, "first vibration alarm (above 4.5 mm/s)".into()));
    }
    for (i, (day, name, value)) in tl.commands.iter().enumerate() {
        let what = if i == 0 {
            "WARNING: persistent vibration anomaly; "
        } else {
            ""
        };
        events.push((
            *day,
            format!("{what}command {name} = {value:.2} m/s sent back"),
        ));
    }
    if let Some(d) = tl.baseline_failure {
        events.push((
            d,
            "(without the twin, the drive would have failed here)".into(),
        ));
    }
    if let Some(d) = tl.failure {
        events.push((d, "the mirrored drive fails".into()));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (day, what) in &events {
        println!("  {:<12} {what}", fmt_day(Some(*day)));
    }
    println!();
    match (tl.warning, tl.baseline_failure) {
        (Some(w), Some(b)) => {
            println!("lead time: the warning came {:.1} days before the failure the drive would have had without the twin (day {b:.2})", b - w);
            if let Some(ttf) = tl.predicted_ttf_at_warning {
                println!("the model predicted, at the warning, a failure {ttf:.1} days ahead at the derated speed");
            }
            match tl.failure {
                Some(f) => println!(
                    "derating extended the drive's life by {:.1} days (to day {f:.2})",
                    f - b
                ),
                None => println!(
                    "derating kept the drive running to the end of the {HORIZON_DAYS}-day horizon"
                ),
            }
        }
        (None, _) => println!("the twin gave no warning"),
        (Some(_), None) => println!("the drive would not have failed within the horizon"),
    }
    println!("samples: {} accepted, {} refused", tl.accepted, tl.refused);
    Ok(())
}
