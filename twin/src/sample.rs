//! Time, signal identity and samples: single [`Sample`]s and columnar batches.
//!
//! A batch is three parallel columns (times, signal ids, values). [`SampleBatch`] owns
//! them; [`BatchRef`] borrows them, so numpy arrays and C buffers pass through without
//! copying.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A point in time as integer nanoseconds since an epoch the user chooses (usually Unix).
///
/// ```
/// use twin::Timestamp;
/// let t = Timestamp::from_secs_f64(1.5);
/// assert_eq!(t.as_nanos(), 1_500_000_000);
/// assert_eq!(t.as_secs_f64(), 1.5);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Nanoseconds in one second.
    pub const NANOS_PER_SEC: i64 = 1_000_000_000;

    /// A timestamp from nanoseconds.
    pub const fn from_nanos(ns: i64) -> Self {
        Timestamp(ns)
    }

    /// A timestamp from (possibly fractional) seconds, rounded to the nearest nanosecond.
    pub fn from_secs_f64(s: f64) -> Self {
        Timestamp((s * Self::NANOS_PER_SEC as f64).round() as i64)
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::NANOS_PER_SEC as f64
    }

    /// Seconds elapsed from `earlier` to `self` (negative if `earlier` is later).
    ///
    /// ```
    /// use twin::Timestamp;
    /// assert_eq!(Timestamp(3_000_000_000).secs_since(Timestamp(1_000_000_000)), 2.0);
    /// ```
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / Self::NANOS_PER_SEC as f64
    }
}

/// A dense index of a signal (telemetry or property) in its [`Schema`](crate::Schema).
///
/// Names are resolved to ids once, with [`Schema::signal_id`](crate::Schema::signal_id);
/// the hot path works with ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignalId(pub u32);

impl SignalId {
    /// The id as an index into flat per-signal arrays.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// One observation: a value of one signal at one time.
///
/// ```
/// use twin::{Sample, SignalId, Timestamp};
/// let s = Sample::new(Timestamp(10), SignalId(0), 1.25);
/// assert_eq!(s.value, 1.25);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When it was observed.
    pub time: Timestamp,
    /// Which signal.
    pub signal: SignalId,
    /// The observed value, in the signal's unit.
    pub value: f64,
}

impl Sample {
    /// A sample from its parts.
    pub const fn new(time: Timestamp, signal: SignalId, value: f64) -> Self {
        Sample {
            time,
            signal,
            value,
        }
    }
}

/// A borrowed columnar batch: three slices of equal length.
///
/// ```
/// use twin::BatchRef;
/// let times = [0_i64, 1, 2];
/// let signals = [0_u32, 1, 0];
/// let values = [1.0, 2.0, 3.0];
/// let batch = BatchRef::new(&times, &signals, &values)?;
/// assert_eq!(batch.len(), 3);
/// assert_eq!(batch.get(1).value, 2.0);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BatchRef<'a> {
    times: &'a [i64],
    signals: &'a [u32],
    values: &'a [f64],
}

impl<'a> BatchRef<'a> {
    /// A batch over three columns; fails with [`Error::InvalidInput`] if their lengths differ.
    pub fn new(times: &'a [i64], signals: &'a [u32], values: &'a [f64]) -> Result<Self> {
        if times.len() != signals.len() || times.len() != values.len() {
            return Err(Error::InvalidInput(format!(
                "batch columns differ in length: times {}, signals {}, values {}",
                times.len(),
                signals.len(),
                values.len()
            )));
        }
        Ok(BatchRef {
            times,
            signals,
            values,
        })
    }

    /// A batch of one sample, borrowed without copying.
    pub fn from_sample(sample: &'a Sample) -> Self {
        BatchRef {
            times: std::slice::from_ref(&sample.time.0),
            signals: std::slice::from_ref(&sample.signal.0),
            values: std::slice::from_ref(&sample.value),
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The times column, in nanoseconds.
    pub fn times(&self) -> &'a [i64] {
        self.times
    }

    /// The signal-id column.
    pub fn signals(&self) -> &'a [u32] {
        self.signals
    }

    /// The values column.
    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    /// The sample at index `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn get(&self, i: usize) -> Sample {
        Sample::new(
            Timestamp(self.times[i]),
            SignalId(self.signals[i]),
            self.values[i],
        )
    }

    /// Iterate the samples in order.
    pub fn iter(&self) -> impl Iterator<Item = Sample> + 'a {
        let (t, s, v) = (self.times, self.signals, self.values);
        (0..t.len()).map(move |i| Sample::new(Timestamp(t[i]), SignalId(s[i]), v[i]))
    }
}

/// An owned columnar batch of samples; reusable (clear it, keep its capacity).
///
/// ```
/// use twin::{SampleBatch, SignalId, Timestamp};
/// let mut b = SampleBatch::with_capacity(4);
/// b.push(Timestamp(1), SignalId(0), 0.5);
/// b.push(Timestamp(2), SignalId(1), 0.7);
/// assert_eq!(b.len(), 2);
/// assert_eq!(b.as_ref().values(), &[0.5, 0.7]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleBatch {
    times: Vec<i64>,
    signals: Vec<u32>,
    values: Vec<f64>,
}

impl SampleBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `n` samples.
    pub fn with_capacity(n: usize) -> Self {
        SampleBatch {
            times: Vec::with_capacity(n),
            signals: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
        }
    }

    /// Append one sample.
    pub fn push(&mut self, time: Timestamp, signal: SignalId, value: f64) {
        self.times.push(time.0);
        self.signals.push(signal.0);
        self.values.push(value);
    }

    /// Append one [`Sample`].
    pub fn push_sample(&mut self, s: Sample) {
        self.push(s.time, s.signal, s.value);
    }

    /// Append every sample of a borrowed batch.
    ///
    /// ```
    /// let mut a = twin::SampleBatch::new();
    /// a.push(twin::Timestamp(1), twin::SignalId(0), 1.0);
    /// let b = a.clone();
    /// a.extend_from(b.as_ref());
    /// assert_eq!(a.len(), 2);
    /// ```
    pub fn extend_from(&mut self, other: BatchRef<'_>) {
        self.times.extend_from_slice(other.times());
        self.signals.extend_from_slice(other.signals());
        self.values.extend_from_slice(other.values());
    }

    /// Remove every sample, keeping the allocation.
    pub fn clear(&mut self) {
        self.times.clear();
        self.signals.clear();
        self.values.clear();
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Borrow the batch as columns.
    pub fn as_ref(&self) -> BatchRef<'_> {
        BatchRef {
            times: &self.times,
            signals: &self.signals,
            values: &self.values,
        }
    }

    /// Iterate the samples in order.
    pub fn iter(&self) -> impl Iterator<Item = Sample> + '_ {
        self.as_ref().iter()
    }
}

impl FromIterator<Sample> for SampleBatch {
    fn from_iter<I: IntoIterator<Item = Sample>>(iter: I) -> Self {
        let mut b = SampleBatch::new();
        for s in iter {
            b.push_sample(s);
        }
        b
    }
}
