//! MQTT: a simulated conveyor publishes SenML over a real broker, a twin subscribes through
//! an `MqttConnection` (a `DataConnection` written over the `rumqttc` client, which is a
//! dependency of this example only, not of `twin`), and commands go back on a command topic.
//!
//! Start a broker and run it:
//!
//! ```sh
//! mosquitto -p 1883 &              # Debian: apt-get install mosquitto
//! cargo run --example mqtt_conveyor -- 127.0.0.1 1883
//! ```
//!
//! Delivery is QoS 1 on persistent sessions both ways, so a broker that goes away mid-stream
//! loses nothing it acknowledged: the clients reconnect, the broker and the clients resend
//! what was not acknowledged, and the twin counts a resent sample once (a repeat of a
//! sample it has is a `Duplicate`, never a second reading).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use twin::codec::senml::{self, Mapping};
use twin::connection::DataConnection;
use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::{Command, Error, Result, Sample, SampleBatch, Schema, Timestamp};

/// Counters shared with the connection's network thread.
#[derive(Debug, Default)]
pub struct MqttStats {
    /// SenML packs received.
    pub packs: AtomicU64,
    /// Packs refused whole (malformed SenML).
    pub bad_packs: AtomicU64,
    /// Records refused one by one (unknown names, units, non-numeric values).
    pub refused_records: AtomicU64,
    /// Connection errors seen (each followed by a reconnect attempt).
    pub connection_errors: AtomicU64,
    /// Subscriptions the broker confirmed (SUBACK), counting re-subscriptions.
    pub subscribed: AtomicU64,
}

/// A `DataConnection` over MQTT: SenML packs in on `telemetry_topic`, commands out as JSON
/// on `command_topic`, QoS 1 on a persistent session.
pub struct MqttConnection {
    client: Client,
    samples: Receiver<Sample>,
    errors: Receiver<String>,
    command_topic: String,
    stats: Arc<MqttStats>,
}

impl MqttConnection {
    /// Connect as `client_id` and subscribe to `telemetry_topic`. Records map onto `schema`
    /// after removing `mapping.strip_prefix` from their names.
    pub fn connect(
        host: &str,
        port: u16,
        client_id: &str,
        telemetry_topic: &str,
        command_topic: &str,
        schema: Schema,
        mapping: Mapping,
    ) -> Result<Self> {
        let mut opts = MqttOptions::new(client_id, host, port);
        opts.set_keep_alive(Duration::from_secs(5));
        opts.set_clean_session(false);
        let (client, mut connection) = Client::new(opts, 256);
        client
            .subscribe(telemetry_topic, QoS::AtLeastOnce)
            .map_err(|e| Error::Disconnected(format!("mqtt subscribe: {e}")))?;
        // Bounded: when the twin falls behind, the network thread waits, and so does the
        // acknowledgement to the broker, which keeps the messages.
        let (tx, samples) = mpsc::sync_channel::<Sample>(65_536);
        let (etx, errors) = mpsc::sync_channel::<String>(16);
        let stats = Arc::new(MqttStats::default());
        let st = stats.clone();
        // The network thread ends once the client is dropped (its request channel closes).
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if !forward(&p.payload, &schema, &mapping, &tx, &st) {
                            return; // the twin's end is gone
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        st.subscribed.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        st.connection_errors.fetch_add(1, Ordering::Relaxed);
                        let _ = etx.try_send(format!("mqtt connection: {e}"));
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        });
        Ok(MqttConnection {
            client,
            samples,
            errors,
            command_topic: command_topic.to_string(),
            stats,
        })
    }

    /// What the network thread has counted.
    pub fn stats(&self) -> &MqttStats {
        &self.stats
    }

    /// Wait (at most `timeout`) until the broker has confirmed the subscription.
    pub fn wait_subscribed(&self, timeout: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        while self.stats.subscribed.load(Ordering::Relaxed) == 0 {
            if std::time::Instant::now() > deadline {
                return Err(Error::Disconnected(
                    "mqtt: no subscription acknowledgement".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

/// Decode one pack and hand its samples to the twin's end; false if that end is gone.
fn forward(
    payload: &[u8],
    schema: &Schema,
    mapping: &Mapping,
    tx: &SyncSender<Sample>,
    st: &MqttStats,
) -> bool {
    st.packs.fetch_add(1, Ordering::Relaxed);
    let now = Timestamp(0); // the publisher sends absolute times
    match senml::decode_json(payload, schema, mapping, now) {
        Ok(decoded) => {
            st.refused_records
                .fetch_add(decoded.refused.len() as u64, Ordering::Relaxed);
            decoded.batch.iter().all(|s| tx.send(s).is_ok())
        }
        Err(_) => {
            st.bad_packs.fetch_add(1, Ordering::Relaxed);
            true
        }
    }
}

impl DataConnection for MqttConnection {
    fn poll(&mut self, out: &mut SampleBatch, max: usize) -> Result<usize> {
        let mut n = 0;
        while n < max {
            match self.samples.try_recv() {
                Ok(s) => {
                    out.push_sample(s);
                    n += 1;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    return Err(Error::Disconnected(
                        "the mqtt network thread stopped".into(),
                    ))
                }
            }
        }
        // Report a connection problem when there is nothing else to hand over; the network
        // thread keeps reconnecting meanwhile.
        if n == 0 {
            if let Ok(msg) = self.errors.try_recv() {
                return Err(Error::Disconnected(msg));
            }
        }
        Ok(n)
    }

    fn send(&mut self, command: &Command) -> Result<()> {
        let payload = serde_json::to_vec(command)?;
        self.client
            .try_publish(
                self.command_topic.as_str(),
                QoS::AtLeastOnce,
                false,
                payload,
            )
            .map_err(|e| Error::Disconnected(format!("mqtt publish: {e}")))
    }
}

impl Drop for MqttConnection {
    fn drop(&mut self) {
        // Not joined: a broker that is down would keep the network thread reconnecting until
        // the client (and with it the request channel) is gone.
        let _ = self.client.try_disconnect();
    }
}

/// What the simulated device did.
#[derive(Debug, Default, Clone)]
pub struct DeviceReport {
    /// Scans published (each a SenML pack of all sensors).
    pub published: u64,
    /// Publications the broker acknowledged (PUBACK).
    pub acknowledged: u64,
    /// Commands received and carried out.
    pub commands: Vec<Command>,
}

/// Run a simulated conveyor for `scans` one-minute scans, publishing one SenML pack per scan
/// on `topic` (times start at `start`), carrying out commands from `command_topic`, and
/// waiting for every publication to be acknowledged. `pause` paces the scans.
pub fn run_device(
    host: &str,
    port: u16,
    topic: &str,
    command_topic: &str,
    seed: u64,
    scans: u64,
    pause: Duration,
) -> Result<DeviceReport> {
    let mut opts = MqttOptions::new(format!("conveyor-{seed}"), host, port);
    opts.set_keep_alive(Duration::from_secs(5));
    opts.set_clean_session(false);
    let (client, mut connection) = Client::new(opts, 256);
    let net = |e: rumqttc::ClientError| Error::Disconnected(format!("mqtt: {e}"));
    client
        .subscribe(command_topic, QoS::AtLeastOnce)
        .map_err(net)?;
    let acked = Arc::new(AtomicU64::new(0));
    let (ctx, commands) = mpsc::channel::<Command>();
    let ack = acked.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::spawn(move || {
        for event in connection.iter() {
            if stopped.load(Ordering::Relaxed) {
                break;
            }
            match event {
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    ack.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if let Ok(cmd) = serde_json::from_slice::<Command>(&p.payload) {
                        let _ = ctx.send(cmd);
                    }
                }
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    let mut drive = ConveyorDrive::new(seed);
    let schema = drive.schema().clone();
    let mut report = DeviceReport::default();
    let mut scan = SampleBatch::new();
    for _ in 0..scans {
        drive.advance(60.0)?;
        scan.clear();
        drive.sense(&mut scan);
        let pack = senml::encode_json(&schema, scan.as_ref(), "conveyor/")?;
        client
            .publish(topic, QoS::AtLeastOnce, false, pack)
            .map_err(net)?;
        report.published += 1;
        for cmd in commands.try_iter() {
            drive.actuate(&cmd)?;
            report.commands.push(cmd);
        }
        std::thread::sleep(pause);
    }
    // Wait (bounded) until the broker has acknowledged every publication.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while acked.load(Ordering::Relaxed) < report.published && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    report.acknowledged = acked.load(Ordering::Relaxed);
    let _ = client.disconnect();
    // Not joined: the network thread stops at its next event once `stop` is set (the event
    // loop may already be reconnecting, so it is not waited for).
    stop.store(true, Ordering::Relaxed);
    report.commands.extend(commands.try_iter());
    Ok(report)
}

#[allow(dead_code)] // the integration test includes this file for its parts
fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(1883);
    let schema = ConveyorDrive::standard_schema();
    let mapping = Mapping {
        strip_prefix: Some("conveyor/".into()),
    };
    let mut conn = MqttConnection::connect(
        &host,
        port,
        "twin-example",
        "plant/conveyor-1/senml",
        "plant/conveyor-1/commands",
        schema.clone(),
        mapping,
    )?;
    conn.wait_subscribed(Duration::from_secs(5))?;
    let mut twin = twin::Twin::builder(schema).build()?;
    let (h, p) = (host.clone(), port);
    let device = std::thread::spawn(move || {
        run_device(
            &h,
            p,
            "plant/conveyor-1/senml",
            "plant/conveyor-1/commands",
            1,
            200,
            Duration::from_millis(2),
        )
    });
    // Ask for a lower speed once: the command goes back to the device over MQTT.
    twin.command("set_speed", 1.8, Timestamp(0))?;
    let mut idle = 0;
    while idle < 50 {
        match twin.step(&mut conn, 1024) {
            Ok(r) if r.polled == 0 => idle += 1,
            Ok(_) => idle = 0,
            Err(e) => eprintln!("connection: {e} (retrying)"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = device
        .join()
        .map_err(|_| Error::InvalidInput("device thread panicked".into()))??;
    let c = twin.ingest_counters();
    println!(
        "device: {} scans published, {} acknowledged by the broker",
        report.published, report.acknowledged
    );
    println!(
        "twin:   {} samples accepted, {} refused ({} duplicates)",
        c.accepted,
        c.rejected(),
        c.duplicate
    );
    println!(
        "commands carried out by the device: {:?}",
        report
            .commands
            .iter()
            .map(|c| (c.name(), c.value()))
            .collect::<Vec<_>>()
    );
    Ok(())
}
