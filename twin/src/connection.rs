//! The network layer: the [`DataConnection`] trait that moves samples in and commands out,
//! and built-ins: a bounded in-process [`channel`] with an explicit [`OverflowPolicy`], and
//! a [`ReplayConnection`] that plays back recorded samples from CSV.
//!
//! Transports over MQTT, CoAP or OPC UA are the host's business: implement
//! [`DataConnection`] with your own runtime.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::error::{Error, Result};
use crate::sample::{BatchRef, Sample, SampleBatch, Timestamp};
use crate::schema::Schema;

/// Moves samples from the asset to the twin and commands from the twin to the asset.
pub trait DataConnection {
    /// Append up to `max` available samples to `out` without blocking; return how many.
    fn poll(&mut self, out: &mut SampleBatch, max: usize) -> Result<usize>;
    /// Send a validated command towards the asset.
    fn send(&mut self, command: &Command) -> Result<()>;
}

/// What a bounded channel does when it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverflowPolicy {
    /// The producer waits for room.
    Block,
    /// The producer gets [`Error::ChannelFull`] and the sample is not enqueued.
    Reject,
    /// The oldest queued sample is discarded (and counted) to make room.
    DropOldest,
}

/// Counts of what a channel did; `sent == delivered + dropped + queued` at any time, and
/// `refused` counts samples the producer was told were not enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChannelStats {
    /// Samples enqueued.
    pub sent: u64,
    /// Samples refused under [`OverflowPolicy::Reject`].
    pub refused: u64,
    /// Samples discarded under [`OverflowPolicy::DropOldest`].
    pub dropped: u64,
    /// Samples handed to the twin.
    pub delivered: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    refused: AtomicU64,
    dropped: AtomicU64,
    delivered: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ChannelStats {
        ChannelStats {
            sent: self.sent.load(Ordering::Acquire),
            refused: self.refused.load(Ordering::Acquire),
            dropped: self.dropped.load(Ordering::Acquire),
            delivered: self.delivered.load(Ordering::Acquire),
        }
    }
}

/// The asset's end of an in-process channel: publishes samples, receives commands.
/// Cloneable, so several producer threads can share one channel.
#[derive(Debug, Clone)]
pub struct DeviceEnd {
    samples: Sender<Sample>,
    // Used only to discard the oldest sample under DropOldest.
    oldest: Receiver<Sample>,
    commands: Receiver<Command>,
    policy: OverflowPolicy,
    capacity: usize,
    counters: Arc<Counters>,
}

/// The twin's end of an in-process channel: a [`DataConnection`].
#[derive(Debug)]
pub struct TwinEnd {
    samples: Receiver<Sample>,
    commands: Sender<Command>,
    command_capacity: usize,
    counters: Arc<Counters>,
}

/// A bounded in-process channel of `capacity` samples (and as many commands) with an
/// overflow policy. Nothing is lost silently: every sample is delivered, refused to the
/// producer with an error, or counted as dropped. Commands are never dropped: when the
/// command queue is full, [`DataConnection::send`] fails with [`Error::ChannelFull`] and the
/// twin records the failure in its audit log.
///
/// Once every [`DeviceEnd`] is dropped and the queue is drained, `poll` reports
/// [`Error::Disconnected`].
///
/// ```
/// use twin::connection::{channel, DataConnection, OverflowPolicy};
/// use twin::{Sample, SampleBatch, SignalId, Timestamp};
/// let (device, mut conn) = channel(2, OverflowPolicy::DropOldest)?;
/// for t in 0..5 {
///     device.publish(Sample::new(Timestamp(t), SignalId(0), t as f64))?;
/// }
/// let mut batch = SampleBatch::new();
/// assert_eq!(conn.poll(&mut batch, 100)?, 2);
/// assert_eq!(batch.as_ref().times(), &[3, 4]);
/// let stats = device.stats();
/// assert_eq!((stats.sent, stats.dropped, stats.delivered), (5, 3, 2));
/// # Ok::<(), twin::Error>(())
/// ```
pub fn channel(capacity: usize, policy: OverflowPolicy) -> Result<(DeviceEnd, TwinEnd)> {
    if capacity == 0 {
        return Err(Error::InvalidInput(
            "channel capacity must be at least 1".into(),
        ));
    }
    let (stx, srx) = crossbeam_channel::bounded(capacity);
    let (ctx, crx) = crossbeam_channel::bounded(capacity);
    let counters = Arc::new(Counters::default());
    Ok((
        DeviceEnd {
            samples: stx,
            oldest: srx.clone(),
            commands: crx,
            policy,
            capacity,
            counters: counters.clone(),
        },
        TwinEnd {
            samples: srx,
            commands: ctx,
            command_capacity: capacity,
            counters,
        },
    ))
}

impl DeviceEnd {
    /// Publish one sample under the channel's overflow policy.
    ///
    /// Errors: [`Error::ChannelFull`] under [`OverflowPolicy::Reject`] when full (the sample
    /// is counted as refused); [`Error::Disconnected`] if the twin's end is gone.
    pub fn publish(&self, sample: Sample) -> Result<()> {
        let gone = || Error::Disconnected("the twin's end of the channel was dropped".into());
        match self.policy {
            OverflowPolicy::Block => self.samples.send(sample).map_err(|_| gone())?,
            OverflowPolicy::Reject => match self.samples.try_send(sample) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    self.counters.refused.fetch_add(1, Ordering::AcqRel);
                    return Err(Error::ChannelFull {
                        capacity: self.capacity,
                    });
                }
                Err(TrySendError::Disconnected(_)) => return Err(gone()),
            },
            OverflowPolicy::DropOldest => {
                let mut s = sample;
                loop {
                    match self.samples.try_send(s) {
                        Ok(()) => break,
                        Err(TrySendError::Full(back)) => {
                            s = back;
                            if self.oldest.try_recv().is_ok() {
                                self.counters.dropped.fetch_add(1, Ordering::AcqRel);
                            }
                        }
                        Err(TrySendError::Disconnected(_)) => return Err(gone()),
                    }
                }
            }
        }
        self.counters.sent.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Publish every sample of a batch; stops at the first error and returns how many
    /// were enqueued before it along with the error.
    pub fn publish_batch(&self, batch: BatchRef<'_>) -> std::result::Result<usize, (usize, Error)> {
        for (i, s) in batch.iter().enumerate() {
            self.publish(s).map_err(|e| (i, e))?;
        }
        Ok(batch.len())
    }

    /// Commands that have arrived, without blocking.
    pub fn try_recv_commands(&self) -> Vec<Command> {
        self.commands.try_iter().collect()
    }

    /// What the channel has done so far.
    pub fn stats(&self) -> ChannelStats {
        self.counters.snapshot()
    }
}

impl TwinEnd {
    /// What the channel has done so far.
    pub fn stats(&self) -> ChannelStats {
        self.counters.snapshot()
    }
}

impl DataConnection for TwinEnd {
    fn poll(&mut self, out: &mut SampleBatch, max: usize) -> Result<usize> {
        let mut n = 0;
        let mut gone = false;
        while n < max {
            match self.samples.try_recv() {
                Ok(s) => {
                    out.push_sample(s);
                    n += 1;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    gone = true;
                    break;
                }
            }
        }
        self.counters
            .delivered
            .fetch_add(n as u64, Ordering::AcqRel);
        if gone && n == 0 {
            return Err(Error::Disconnected(
                "every device end of the channel was dropped and nothing is queued".into(),
            ));
        }
        Ok(n)
    }

    fn send(&mut self, command: &Command) -> Result<()> {
        match self.commands.try_send(command.clone()) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(Error::ChannelFull {
                capacity: self.command_capacity,
            }),
            Err(TrySendError::Disconnected(_)) => Err(Error::Disconnected(
                "the device's end of the channel was dropped".into(),
            )),
        }
    }
}

/// Plays back recorded samples, for example a history exported as CSV, and keeps the
/// commands the twin sends so they can be inspected.
///
/// The CSV has a header `time_ns,signal,value` and one sample a line, the signal by name.
///
/// ```
/// use twin::connection::{DataConnection, ReplayConnection};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let csv = "time_ns,signal,value\n0,vibration,1.2\n60000000000,vibration,1.3\n";
/// let mut replay = ReplayConnection::from_csv(csv.as_bytes(), &schema)?;
/// let mut batch = twin::SampleBatch::new();
/// assert_eq!(replay.poll(&mut batch, 10)?, 2);
/// assert!(replay.is_finished());
/// assert!(ReplayConnection::from_csv("time_ns,signal,value\n0,rpm,1\n".as_bytes(), &schema).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReplayConnection {
    samples: SampleBatch,
    cursor: usize,
    sent: Vec<Command>,
}

impl ReplayConnection {
    /// Replay the samples of a batch, in order.
    pub fn new(samples: SampleBatch) -> Self {
        ReplayConnection {
            samples,
            cursor: 0,
            sent: Vec::new(),
        }
    }

    /// Read a CSV recording; any malformed line or unknown signal is an error naming the line.
    pub fn from_csv<R: BufRead>(reader: R, schema: &Schema) -> Result<Self> {
        Ok(Self::new(read_csv(reader, schema)?))
    }

    /// Whether every sample has been delivered.
    pub fn is_finished(&self) -> bool {
        self.cursor >= self.samples.len()
    }

    /// Samples not yet delivered.
    pub fn remaining(&self) -> usize {
        self.samples.len() - self.cursor
    }

    /// Commands the twin sent during the replay.
    pub fn sent_commands(&self) -> &[Command] {
        &self.sent
    }
}

impl DataConnection for ReplayConnection {
    fn poll(&mut self, out: &mut SampleBatch, max: usize) -> Result<usize> {
        let end = self.cursor.saturating_add(max).min(self.samples.len());
        let b = self.samples.as_ref();
        for i in self.cursor..end {
            out.push_sample(b.get(i));
        }
        let n = end - self.cursor;
        self.cursor = end;
        Ok(n)
    }

    fn send(&mut self, command: &Command) -> Result<()> {
        self.sent.push(command.clone());
        Ok(())
    }
}

/// The CSV header written and expected by [`write_csv`] and [`read_csv`].
pub const CSV_HEADER: &str = "time_ns,signal,value";

/// Write samples as CSV (`time_ns,signal,value`, signals by name).
///
/// ```
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let mut b = twin::SampleBatch::new();
/// b.push(twin::Timestamp(5), schema.signal_id("load")?, 0.75);
/// let mut out = Vec::new();
/// twin::connection::write_csv(&mut out, &schema, b.as_ref())?;
/// assert_eq!(String::from_utf8(out).unwrap(), "time_ns,signal,value\n5,load,0.75\n");
/// # Ok::<(), twin::Error>(())
/// ```
pub fn write_csv<W: Write>(mut w: W, schema: &Schema, batch: BatchRef<'_>) -> Result<()> {
    writeln!(w, "{CSV_HEADER}")?;
    for s in batch.iter() {
        let name = schema.signal(s.signal)?.name.as_str();
        writeln!(w, "{},{},{}", s.time.0, name, s.value)?;
    }
    Ok(())
}

/// Read samples from CSV written by [`write_csv`].
pub fn read_csv<R: BufRead>(reader: R, schema: &Schema) -> Result<SampleBatch> {
    let mut out = SampleBatch::new();
    let mut lines = reader.lines();
    let header = lines.next().transpose()?;
    match header {
        Some(h) if h.trim() == CSV_HEADER => {}
        _ => {
            return Err(Error::InvalidInput(format!(
                "line 1: expected the header {CSV_HEADER:?}"
            )))
        }
    }
    for (i, line) in lines.enumerate() {
        let line = line?;
        let n = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split(',');
        let (Some(t), Some(name), Some(v), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::InvalidInput(format!("line {n}: expected 3 fields")));
        };
        let t: i64 = t
            .trim()
            .parse()
            .map_err(|e| Error::InvalidInput(format!("line {n}: bad time {t:?}: {e}")))?;
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|e| Error::InvalidInput(format!("line {n}: bad value {v:?}: {e}")))?;
        let id = schema
            .signal_id(name.trim())
            .map_err(|_| Error::UnknownSignal(format!("{} (line {n})", name.trim())))?;
        out.push(Timestamp(t), id, v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::SignalId;
    use crate::ErrorKind;

    fn s(t: i64) -> Sample {
        Sample::new(Timestamp(t), SignalId(0), t as f64)
    }

    #[test]
    fn replay_polls_with_any_max_without_overflow() {
        let mut b = SampleBatch::new();
        for t in 0..5 {
            b.push_sample(s(t));
        }
        let mut conn = ReplayConnection::new(b);
        let mut out = SampleBatch::new();
        assert_eq!(conn.poll(&mut out, 2).expect("poll"), 2);
        assert_eq!(conn.poll(&mut out, usize::MAX).expect("poll"), 3);
        assert_eq!(out.as_ref().times(), &[0, 1, 2, 3, 4]);
        assert_eq!(conn.poll(&mut out, usize::MAX).expect("poll"), 0);
    }

    #[test]
    fn reject_policy_refuses_and_counts() {
        let (dev, mut conn) = channel(3, OverflowPolicy::Reject).expect("channel");
        let mut refused = 0;
        for t in 0..10 {
            if let Err(e) = dev.publish(s(t)) {
                assert_eq!(e.kind(), ErrorKind::ChannelFull);
                refused += 1;
            }
        }
        assert_eq!(refused, 7);
        let mut b = SampleBatch::new();
        assert_eq!(conn.poll(&mut b, 100).expect("poll"), 3);
        assert_eq!(b.as_ref().times(), &[0, 1, 2]);
        let st = conn.stats();
        assert_eq!(
            (st.sent, st.refused, st.dropped, st.delivered),
            (3, 7, 0, 3)
        );
    }

    #[test]
    fn block_policy_loses_nothing_across_threads() {
        let (dev, mut conn) = channel(8, OverflowPolicy::Block).expect("channel");
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let d = dev.clone();
                std::thread::spawn(move || {
                    for t in 0..1000 {
                        d.publish(s(p * 1000 + t)).expect("publish");
                    }
                })
            })
            .collect();
        drop(dev);
        let mut b = SampleBatch::new();
        while b.len() < 4000 {
            conn.poll(&mut b, 64).expect("poll");
            std::thread::yield_now();
        }
        for p in producers {
            p.join().expect("join");
        }
        let mut times: Vec<i64> = b.as_ref().times().to_vec();
        times.sort_unstable();
        assert_eq!(times, (0..4000).collect::<Vec<_>>());
        assert_eq!(conn.stats().delivered, 4000);
    }

    #[test]
    fn csv_round_trip_and_errors() {
        let schema = crate::entity::ConveyorDrive::standard_schema();
        let mut b = SampleBatch::new();
        b.push(Timestamp(1), SignalId(1), 0.1 + 0.2);
        b.push(Timestamp(2), SignalId(3), -1e-300);
        let mut out = Vec::new();
        write_csv(&mut out, &schema, b.as_ref()).expect("write");
        assert_eq!(read_csv(out.as_slice(), &schema).expect("read"), b);
        for (bad, needle) in [
            ("time,signal\n", "line 1"),
            ("time_ns,signal,value\n0,load\n", "line 2"),
            (
                "time_ns,signal,value\n0,load,1\nx,load,1\n",
                "line 3: bad time",
            ),
            ("time_ns,signal,value\n0,load,abc\n", "bad value"),
        ] {
            let e = read_csv(bad.as_bytes(), &schema).expect_err(bad);
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }
}
