//! Soak: hours of simulated data through one live twin with every bound on, watched by a
//! counting allocator that tracks live heap bytes.
//!
//! A simulated conveyor drive (4 telemetry signals and its speed set-point) plus 3
//! auxiliary sensors — 8 signals at 10 Hz — publishes into a bounded in-process channel;
//! the twin polls it once a simulated second, runs an EWMA monitor, a CUSUM detector
//! engine and the conveyor's derate rule, keeps a history ring, and sends its commands
//! back through the channel to the drive, which carries them out. An operator nudges the
//! set-point every simulated minute (so commands and the audit log keep flowing) and
//! insights are drained every minute.
//!
//! After a warm-up (the first half, in which every ring fills), live heap bytes at each
//! checkpoint of the second half stay within [`GROWTH_BOUND`] of each other, and every
//! counter reconciles: samples published = delivered + dropped + queued, received =
//! accepted + rejected, accepted = history kept + history dropped, commands sent = commands
//! the drive received.
//!
//! The length is `SOAK_HOURS` simulated hours (default: 24 in a debug build, about 15 s on
//! the shared 2-core box; 72 in release); `scripts/soak.sh [hours]` runs a longer one in
//! release (default a simulated week).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use twin::analytics::detect::{Cusum, DetectorEngine, EngineConfig, EwmaMonitor, MonitorConfig};
use twin::connection::{channel, OverflowPolicy};
use twin::decision::{DerateConfig, DerateRule};
use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::{SampleBatch, Schema, SignalId, SignalSpec, Timestamp, Twin, TwinLimits};

/// Counts live heap bytes and their peak.
struct Tracking;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Largest change of live heap bytes allowed between checkpoints of the second half.
const GROWTH_BOUND: isize = 64 * 1024;
/// Scans per simulated second.
const HZ: u64 = 10;
/// Checkpoints per run.
const CHECKPOINTS: u64 = 24;

const LIMITS: TwinLimits = TwinLimits {
    max_pending_insights: 4_096,
    max_audit_entries: 256,
    max_history_samples: 60_000,
    max_batch_samples: 4_096,
};

fn hours() -> u64 {
    std::env::var("SOAK_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 24 } else { 72 })
}

/// The conveyor's standard schema plus three auxiliary sensors.
fn schema() -> Schema {
    let std = ConveyorDrive::standard_schema();
    let mut b = Schema::builder("conveyor_soak");
    for s in std.telemetry() {
        b = b.telemetry(s.clone());
    }
    b = b
        .telemetry(SignalSpec::new("motor_current", "A").range(0.0, 200.0))
        .telemetry(SignalSpec::new("ambient_temp", "degC").range(-40.0, 80.0))
        .telemetry(SignalSpec::new("belt_tension", "kN").range(0.0, 50.0));
    for s in std.properties() {
        b = b.property(s.clone());
    }
    for c in std.commands() {
        b = b.command(c.clone());
    }
    b.build().expect("schema")
}

/// Small deterministic noise in [-0.5, 0.5) (xorshift).
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

#[derive(Debug, Default)]
struct Checkpoint {
    hour: f64,
    live: isize,
    accepted: u64,
}

#[test]
fn hours_of_data_in_bounded_memory() {
    let hours = hours();
    let seconds = hours * 3600;
    let schema = schema();
    // Drive ids -> soak-schema ids, by name.
    let mut drive = ConveyorDrive::new(7);
    let map: Vec<u32> = {
        let ds = drive.schema();
        (0..ds.signal_count() as u32)
            .map(|i| {
                schema
                    .signal_id(ds.signal_name(SignalId(i)))
                    .expect("same names")
                    .0
            })
            .collect()
    };
    let aux: Vec<u32> = ["motor_current", "ambient_temp", "belt_tension"]
        .iter()
        .map(|n| schema.signal_id(n).expect("aux").0)
        .collect();
    let monitor = EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
    let cusum =
        DetectorEngine::new(&schema, Cusum::default(), EngineConfig::default()).expect("cusum");
    let rule = DerateRule::new(&schema, DerateConfig::conveyor()).expect("rule");
    let mut twin = Twin::builder(schema.clone())
        .engine(monitor)
        .engine(cusum)
        .rule(rule)
        .limits(LIMITS)
        .build()
        .expect("twin");
    let (device, mut conn) = channel(1_024, OverflowPolicy::DropOldest).expect("channel");

    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let mut scan = SampleBatch::with_capacity(8);
    let (mut insights, mut commands_received, mut nudges) = (0u64, 0u64, 0u64);
    let mut last_command: Option<f64> = None;
    let mut polled = 0u64;
    let mut points: Vec<Checkpoint> = Vec::with_capacity(CHECKPOINTS as usize + 1);
    let every = (seconds / CHECKPOINTS).max(1);
    let dt = 1.0 / HZ as f64;
    for sec in 0..seconds {
        for _ in 0..HZ {
            drive.advance(dt).expect("advance");
            scan.clear();
            drive.sense(&mut scan);
            let t = drive.now();
            for s in scan.iter() {
                let s = twin::Sample::new(s.time, SignalId(map[s.signal.index()]), s.value);
                device.publish(s).expect("publish");
            }
            let x = [
                40.0 + 2.0 * noise.next(),
                21.0 + 0.5 * noise.next(),
                12.0 + 0.2 * noise.next(),
            ];
            for (&id, &v) in aux.iter().zip(&x) {
                device
                    .publish(twin::Sample::new(t, SignalId(id), v))
                    .expect("publish");
            }
        }
        // Once a simulated second: the twin polls, ingests and sends its commands back.
        let r = twin.step(&mut conn, 4_096).expect("step");
        polled += r.polled as u64;
        assert_eq!(r.ingest.rejected(), 0, "clean data at second {sec}");
        for cmd in device.try_recv_commands() {
            commands_received += 1;
            drive
                .actuate(&cmd)
                .expect("the drive takes a validated command");
            last_command = Some(cmd.value());
        }
        if sec % 60 == 59 {
            // An operator nudge within the rate limit, and the insights drained.
            let target = if (sec / 60) % 2 == 0 { 1.55 } else { 1.6 };
            let now = twin.now().unwrap_or(Timestamp(0));
            // A nudge in the same second as a derate is refused by the command's minimum
            // interval; it is counted as refused and audited like any other.
            let _ = twin.command("set_speed", target, now);
            nudges += 1;
            insights += twin.drain_insights().len() as u64;
        }
        if (sec + 1) % every == 0 {
            points.push(Checkpoint {
                hour: (sec + 1) as f64 / 3600.0,
                live: LIVE.load(Ordering::Relaxed),
                accepted: twin.ingest_counters().accepted,
            });
        }
    }
    let c = twin.ingest_counters();
    let cc = twin.command_counters();
    let stats = device.stats();
    let n = seconds * HZ * 8;
    // Every sample published and delivered, none refused or dropped (the twin keeps up).
    assert_eq!(stats.sent, n);
    assert_eq!((stats.delivered, stats.dropped, stats.refused), (n, 0, 0));
    assert_eq!(stats.delivered, polled);
    assert_eq!(c.received, polled);
    assert_eq!(c.accepted + c.rejected(), c.received);
    assert_eq!(c.accepted, n);
    // The history ring is full and accounts for every accepted sample.
    assert_eq!(twin.history_len(), LIMITS.max_history_samples);
    assert_eq!(c.history_dropped + twin.history_len() as u64, c.accepted);
    let h = twin.history();
    assert!(h.as_ref().times().windows(2).all(|w| w[0] <= w[1]));
    // Commands: every validated one went through the channel to the drive.
    // Every nudge was decided (accepted or refused); the rule may have added derates.
    assert_eq!(nudges, hours * 60);
    assert!(cc.accepted + cc.refused >= nudges, "{cc:?}");
    assert!(cc.accepted >= nudges / 2, "{cc:?}");
    // The last nudge is still in the outbox; every earlier validated command went through
    // the channel to the drive, which now runs at the last one it received.
    assert_eq!(twin.pending_commands().len() as u64, cc.accepted - cc.sent);
    assert!(cc.accepted - cc.sent <= 1);
    assert_eq!(cc.send_failed, 0);
    assert_eq!(commands_received, cc.sent);
    assert_eq!(Some(drive.setpoint()), last_command);
    // The audit log is at its bound and the overflow counted.
    assert_eq!(twin.audit_log().count(), LIMITS.max_audit_entries);
    assert_eq!(
        cc.audit_dropped + LIMITS.max_audit_entries as u64,
        cc.accepted + cc.refused + cc.sent + cc.send_failed
    );

    // Memory: no growth across the second half.
    let half: Vec<&Checkpoint> = points
        .iter()
        .filter(|p| p.hour > hours as f64 / 2.0)
        .collect();
    assert!(half.len() >= 2, "{points:?}");
    let lo = half.iter().map(|p| p.live).min().unwrap_or(0);
    let hi = half.iter().map(|p| p.live).max().unwrap_or(0);
    let peak = PEAK.load(Ordering::Relaxed);
    println!(
        "soak: {hours} h simulated, {n} samples, {insights} insights drained ({} dropped), \
         {} commands accepted, {} refused; live heap over the second half {lo}..{hi} bytes \
         (spread {}), peak {peak} bytes, {} allocations",
        cc.insights_dropped,
        cc.accepted,
        cc.refused,
        hi - lo,
        ALLOCS.load(Ordering::Relaxed)
    );
    for p in &points {
        println!(
            "  {:6.2} h: live {:>9} bytes, {:>10} samples",
            p.hour, p.live, p.accepted
        );
    }
    assert!(
        hi - lo <= GROWTH_BOUND,
        "live heap moved by {} bytes across the second half: {points:?}",
        hi - lo
    );
    // And the whole working set is small: history ring, channel, rings and detectors.
    assert!(hi < 16 << 20, "live heap {hi} bytes");
}
