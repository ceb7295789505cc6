//! Record a run to CSV, replay it through a `ReplayConnection`, and end in the same state as
//! a twin fed directly.

#[path = "../examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

use twin::connection::{write_csv, ReplayConnection};
use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::SampleBatch;

#[test]
fn replayed_history_reproduces_the_live_twin() {
    let mut drive = ConveyorDrive::new(9);
    let mut live = quickstart::conveyor_twin(&drive).expect("twin");
    let mut history = SampleBatch::new();
    let mut scan = SampleBatch::new();
    for _ in 0..3000 {
        drive.advance(60.0).expect("advance");
        scan.clear();
        drive.sense(&mut scan);
        live.ingest_batch(scan.as_ref());
        for s in scan.iter() {
            history.push_sample(s);
        }
    }
    let mut csv = Vec::new();
    write_csv(&mut csv, drive.schema(), history.as_ref()).expect("write");
    let mut replay = ReplayConnection::from_csv(csv.as_slice(), drive.schema()).expect("read");
    assert_eq!(replay.remaining(), 15_000);
    let mut twin = quickstart::conveyor_twin(&drive).expect("twin");
    let mut steps = 0;
    while !replay.is_finished() {
        let r = twin.step(&mut replay, 777).expect("step");
        assert_eq!(r.ingest.total(), r.polled);
        steps += 1;
    }
    assert_eq!(steps, 15_000_usize.div_ceil(777));
    assert_eq!(twin.state(), live.state());
    assert_eq!(twin.ingest_counters(), live.ingest_counters());
    assert_eq!(twin.drain_insights(), live.drain_insights());
}
