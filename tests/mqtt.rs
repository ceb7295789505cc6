//! MQTT against a real Mosquitto broker on loopback: SenML in, commands out, nothing lost or
//! double-counted, and a clear error when the broker goes away.
//!
//! Needs the `mosquitto` binary (Debian: `apt-get install mosquitto`; scripts/test-all.sh
//! installs it). The test starts and stops its own broker on a free loopback port.

#[path = "../examples/mqtt_conveyor.rs"]
#[allow(dead_code)]
mod mqtt_conveyor;

use std::process::{Child, Command};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mqtt_conveyor::{run_device, MqttConnection};
use twin::codec::senml::Mapping;
use twin::entity::ConveyorDrive;
use twin::{ErrorKind, Timestamp, Twin};

fn mosquitto_binary() -> String {
    if let Ok(p) = std::env::var("MOSQUITTO") {
        return p;
    }
    for p in [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ] {
        if std::path::Path::new(p).exists() {
            return p.to_string();
        }
    }
    panic!("mosquitto is not installed: apt-get install mosquitto (scripts/test-all.sh does it)");
}

struct Broker {
    dir: std::path::PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Broker {
    fn start(dir: &std::path::Path, port: u16) -> Broker {
        std::fs::create_dir_all(dir).expect("dir");
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "user {user}\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nmax_queued_messages 100000\n",
                dir.display(),
                // Run as whoever runs the test, so the broker can write its database here
                // (as root, mosquitto would otherwise drop to the `mosquitto` user).
                user = std::env::var("USER").unwrap_or_else(|_| "root".into())
            ),
        )
        .expect("conf");
        let mut b = Broker {
            dir: dir.to_path_buf(),
            port,
            child: None,
        };
        b.restart();
        b
    }

    fn restart(&mut self) {
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not start listening"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop gracefully (SIGTERM): the broker saves its sessions and queued messages.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A broker on a free loopback port, and a twin subscribed to `plant/<tag>/senml` through
/// an `MqttConnection` with client id `client`.
struct Setup {
    broker: Broker,
    conn: MqttConnection,
    twin: Twin,
    port: u16,
}

fn setup(tag: &str, client: &str) -> Setup {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("twin-mqtt-{tag}-{}-{port}", std::process::id()));
    let broker = Broker::start(&dir, port);
    let schema = ConveyorDrive::standard_schema();
    let mapping = Mapping {
        strip_prefix: Some("conveyor/".into()),
    };
    let topic = format!("plant/{tag}/senml");
    let ctopic = format!("plant/{tag}/commands");
    let conn = MqttConnection::connect(
        "127.0.0.1",
        port,
        client,
        &topic,
        &ctopic,
        schema.clone(),
        mapping,
    )
    .expect("connect");
    conn.wait_subscribed(Duration::from_secs(10))
        .expect("subscribed");
    let twin = Twin::builder(schema).build().expect("twin");
    Setup {
        broker,
        conn,
        twin,
        port,
    }
}

#[test]
fn senml_over_mqtt_round_trip_and_a_clear_error_when_the_broker_goes() {
    let Setup {
        mut broker,
        mut conn,
        mut twin,
        port,
    } = setup("c1", "twin-test");
    let (topic, ctopic) = ("plant/c1/senml", "plant/c1/commands");

    let scans = 400;
    let device = std::thread::spawn(move || {
        run_device(
            "127.0.0.1",
            port,
            topic,
            ctopic,
            3,
            scans,
            Duration::from_millis(4),
        )
    });
    let start = Instant::now();
    let mut commanded = false;
    let mut idle_since = None;
    loop {
        let r = twin.step(&mut conn, 4096).expect("the broker stays up");
        if r.polled > 0 {
            idle_since = None;
        } else if device.is_finished() {
            let t = *idle_since.get_or_insert_with(Instant::now);
            if t.elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        if !commanded && twin.ingest_counters().accepted > 0 {
            twin.command("set_speed", 1.9, Timestamp(0))
                .expect("valid command");
            commanded = true;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run did not finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let report = device.join().expect("device thread").expect("device run");
    assert_eq!(report.published, scans);
    assert_eq!(
        report.acknowledged, scans,
        "every publication acknowledged in the end"
    );
    let c = twin.ingest_counters();
    // Every acknowledged scan arrived, each of its 5 samples counted exactly once; resent
    // copies, if any, are refused as duplicates, nothing else is refused.
    assert_eq!(c.accepted, scans * 5, "{c:?}");
    assert_eq!(c.rejected(), c.duplicate, "{c:?}");
    assert_eq!(conn.stats().bad_packs.load(Ordering::Relaxed), 0);
    assert_eq!(conn.stats().refused_records.load(Ordering::Relaxed), 0);
    assert_eq!(twin.command_counters().sent, 1);
    let got: Vec<(String, f64)> = report
        .commands
        .iter()
        .map(|c| (c.name().to_string(), c.value()))
        .collect();
    assert_eq!(
        got,
        vec![("set_speed".to_string(), 1.9)],
        "the command reached the device"
    );

    // The broker goes away: the twin is told, with a clear error, and the network thread
    // keeps trying to reconnect.
    broker.stop();
    let deadline = Instant::now() + Duration::from_secs(20);
    let err = loop {
        match twin.step(&mut conn, 64) {
            Err(e) => break e,
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "no error after the broker stopped"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    assert_eq!(err.kind(), ErrorKind::Disconnected);
    assert!(err.to_string().contains("mqtt connection"), "{err}");
    assert!(conn.stats().connection_errors.load(Ordering::Relaxed) >= 1);
}

#[test]
fn a_broker_restart_mid_stream_loses_and_double_counts_nothing() {
    let Setup {
        mut broker,
        mut conn,
        mut twin,
        port,
    } = setup("c2", "twin-restart");
    let (topic, ctopic) = ("plant/c2/senml", "plant/c2/commands");
    let scans = 400;
    let device = std::thread::spawn(move || {
        run_device(
            "127.0.0.1",
            port,
            topic,
            ctopic,
            4,
            scans,
            Duration::from_millis(4),
        )
    });
    let start = Instant::now();
    let (mut restarted, mut disconnects) = (false, 0);
    let mut idle_since = None;
    loop {
        match twin.step(&mut conn, 4096) {
            Ok(r) if r.polled > 0 => idle_since = None,
            Ok(_) => {
                if device.is_finished() {
                    let t = *idle_since.get_or_insert_with(Instant::now);
                    if t.elapsed() > Duration::from_secs(2) {
                        break;
                    }
                }
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Disconnected, "{e}");
                disconnects += 1;
            }
        }
        if !restarted && twin.ingest_counters().accepted >= 100 * 5 {
            broker.stop();
            std::thread::sleep(Duration::from_millis(300));
            broker.restart();
            restarted = true;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the run did not finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let report = device.join().expect("device thread").expect("device run");
    assert!(restarted);
    assert!(disconnects >= 1, "the twin was told the connection dropped");
    assert_eq!(report.published, scans);
    assert_eq!(
        report.acknowledged, scans,
        "every publication acknowledged in the end"
    );
    let c = twin.ingest_counters();
    // Every acknowledged sample arrived and counts once; copies resent after the restart
    // are refused: as duplicates, or as out of order when a later sample of the same
    // signal got through first. Nothing else is refused.
    assert_eq!(c.accepted, scans * 5, "{c:?}");
    assert_eq!(c.rejected(), c.duplicate + c.out_of_order, "{c:?}");
}
