//! Columnar export: a conveyor's history, insights and audit log through Parquet and Arrow
//! IPC files, read back unchanged.

#[path = "../examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::export::{
    audit_batch, history_batch, history_from_batch, insights_batch, read_arrow_ipc, read_parquet,
    write_arrow_ipc, write_parquet,
};
use twin::{ErrorKind, SampleBatch, Timestamp};

#[test]
fn history_insights_and_audit_round_trip_through_files() {
    let mut drive = ConveyorDrive::new(5);
    let mut twin = quickstart::conveyor_twin(&drive).expect("twin");
    let mut history = SampleBatch::new();
    let mut scan = SampleBatch::new();
    for _ in 0..14 * 1440 {
        drive.advance(60.0).expect("advance");
        scan.clear();
        drive.sense(&mut scan);
        twin.ingest_batch(scan.as_ref());
        for cmd in twin.take_commands() {
            drive.actuate(&cmd).expect("actuate");
        }
        history.extend_from(scan.as_ref());
    }
    let schema = drive.schema().clone();
    let dir = std::env::temp_dir().join(format!("twin-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");

    // History: Parquet there and back, sample for sample.
    let path = dir.join("history.parquet");
    let rb = history_batch(&schema, history.as_ref()).expect("batch");
    write_parquet(std::fs::File::create(&path).expect("create"), &rb).expect("write");
    let back = read_parquet(std::fs::File::open(&path).expect("open")).expect("read");
    let mut restored = SampleBatch::new();
    for b in &back {
        restored.extend_from(history_from_batch(&schema, b).expect("history").as_ref());
    }
    assert_eq!(restored, history);
    let size = std::fs::metadata(&path).expect("size").len();
    // The raw columns take 20 bytes a sample (time 8, id 4, value 8) besides the names;
    // dictionary and run-length encoding of times, ids and names keep the file below that.
    assert!(
        size < history.len() as u64 * 20,
        "{size} bytes for {} samples",
        history.len()
    );

    // Insights: Arrow IPC, same rows and kinds.
    let insights = twin.drain_insights();
    assert!(!insights.is_empty());
    let rb = insights_batch(&schema, &insights).expect("insights");
    let mut buf = Vec::new();
    write_arrow_ipc(&mut buf, &rb).expect("ipc");
    let back = read_arrow_ipc(std::io::Cursor::new(buf)).expect("read ipc");
    assert_eq!(
        back.iter().map(|b| b.num_rows()).sum::<usize>(),
        insights.len()
    );
    assert_eq!(back[0], rb);

    // The audit log, with the commands the derate rule sent.
    let audit: Vec<_> = twin.audit_log().cloned().collect();
    assert!(audit.iter().any(|e| e.command == "set_speed"));
    let rb = audit_batch(&audit).expect("audit");
    assert_eq!(rb.num_rows(), audit.len());
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn foreign_or_inconsistent_tables_are_refused() {
    let schema = ConveyorDrive::standard_schema();
    let mut b = SampleBatch::new();
    b.push(Timestamp(1), schema.signal_id("load").expect("id"), 0.5);
    let rb = history_batch(&schema, b.as_ref()).expect("batch");
    // Another schema, where id 3 is not "load".
    let other = twin::Schema::builder("o")
        .telemetry(twin::SignalSpec::new("a", ""))
        .telemetry(twin::SignalSpec::new("b", ""))
        .telemetry(twin::SignalSpec::new("c", ""))
        .telemetry(twin::SignalSpec::new("d", ""))
        .build()
        .expect("schema");
    let e = history_from_batch(&other, &rb).expect_err("names differ");
    assert_eq!(e.kind(), ErrorKind::Serialization);
    // Unknown ids cannot be exported; a table without the columns cannot be imported.
    let mut bad = SampleBatch::new();
    bad.push(Timestamp(1), twin::SignalId(99), 1.0);
    assert_eq!(
        history_batch(&schema, bad.as_ref()).expect_err("id").kind(),
        ErrorKind::UnknownSignal
    );
    let audit = audit_batch(&[]).expect("empty");
    assert!(history_from_batch(&schema, &audit).is_err());
    assert!(read_arrow_ipc(std::io::Cursor::new(b"not arrow".to_vec())).is_err());
}

/// 300 periodic sensors behind one gateway for an hour: tables of counts, latencies and
/// fractions.
fn sim_report() -> twin::sim::Report {
    let mut s = twin::sim::Scenario::single(300, 60.0, 3_600.0);
    s.seed = 7;
    s.gateways[0].link.latency_s = 0.02;
    twin::sim::run(&s).expect("run")
}

/// Tables equal bit for bit (NaN equals NaN), compared through their JSON.
fn same(a: &twin::sim::metrics::Table, b: &twin::sim::metrics::Table) {
    assert_eq!(a.names, b.names);
    assert_eq!(
        serde_json::to_string(a).expect("json"),
        serde_json::to_string(b).expect("json")
    );
}

#[test]
fn simulation_results_round_trip_through_parquet_and_arrow_ipc() {
    use twin::export::{sim_report_batches, sim_table_from_batch, write_sim_report_parquet};
    let report = sim_report();
    assert_eq!(report.devices.rows(), 300);
    let dir = std::env::temp_dir().join(format!("twin-sim-export-{}", std::process::id()));
    let paths = write_sim_report_parquet(&dir, &report).expect("write");
    assert_eq!(paths.len(), 4);
    let tables = [
        ("devices", &report.devices),
        ("gateways", &report.gateways),
        ("timeline", &report.timeline),
    ];
    for (name, table) in tables {
        let file = std::fs::File::open(dir.join(format!("{name}.parquet"))).expect("open");
        let batches = read_parquet(file).expect("read");
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, table.rows(), "{name}");
        let back = sim_table_from_batch(&batches[0]).expect("table");
        if batches.len() == 1 {
            same(&back, table);
        }
    }
    let summary = std::fs::File::open(dir.join("summary.parquet")).expect("open");
    let back = sim_table_from_batch(&read_parquet(summary).expect("read")[0]).expect("table");
    assert_eq!(back.rows(), 1);
    assert_eq!(
        back.u64("delivered").expect("col"),
        &[report.summary.delivered]
    );
    assert_eq!(
        back.f64("delivery_ratio").expect("col"),
        &[report.summary.delivery_ratio]
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
    // Arrow IPC in memory, every table.
    for (name, rb) in sim_report_batches(&report).expect("batches") {
        let mut buf = Vec::new();
        write_arrow_ipc(&mut buf, &rb).expect("ipc");
        let back = read_arrow_ipc(std::io::Cursor::new(buf)).expect("read");
        let t = sim_table_from_batch(&back[0]).expect("table");
        assert_eq!(t.rows(), rb.num_rows(), "{name}");
        assert_eq!(t.names.len(), rb.num_columns(), "{name}");
    }
    same(
        &sim_table_from_batch(&sim_report_batches(&report).expect("b")[1].1).expect("t"),
        &report.devices,
    );
}

#[test]
fn foreign_tables_are_not_simulation_tables() {
    use twin::export::sim_table_from_batch;
    let audit = audit_batch(&[]).expect("empty");
    let e = sim_table_from_batch(&audit).expect_err("strings and timestamps");
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert!(e.to_string().contains("Float64, Int64 or UInt64"), "{e}");
}
