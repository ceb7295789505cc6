//! A [`Fleet`]: many twins, keyed by a device id, fed by one columnar batch and processed
//! in parallel across threads.
//!
//! Each sample of a fleet batch names the twin it is for. The fleet groups the samples by
//! twin (keeping their order), hands each twin its own contiguous sub-batch, and runs the
//! twins on up to `threads` scoped threads at once. Twins are independent, so the outcome
//! (every twin's state, insights, counters, and the report) is identical whatever the
//! number of threads; the tests check it. Samples for an id the fleet does not hold are
//! refused with [`ErrorKind::UnknownTwin`] and counted, like any other refusal.
//!
//! ```
//! use twin::fleet::{Fleet, FleetBatchRef};
//! use twin::{Schema, SignalSpec, Twin};
//! let schema = Schema::builder("pump")
//!     .telemetry(SignalSpec::new("flow", "m3/h").range(0.0, 500.0))
//!     .build()?;
//! let mut fleet = Fleet::new(2)?;
//! for id in [10, 11, 12] {
//!     fleet.insert(id, Twin::builder(schema.clone()).build()?)?;
//! }
//! let report = fleet.ingest_batch(FleetBatchRef::new(
//!     &[10, 11, 99, 12, 10],
//!     &[0, 0, 0, 0, 1_000_000_000],
//!     &[0, 0, 0, 0, 0],
//!     &[100.0, 200.0, 5.0, 900.0, 110.0],
//! )?);
//! assert_eq!(report.accepted, 3);
//! assert_eq!(report.rejections.len(), 2); // an unknown twin and an out-of-range value
//! assert_eq!(fleet.get(10).and_then(|t| t.state().reported(twin::SignalId(0))), Some(110.0));
//! # Ok::<(), twin::Error>(())
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analytics::Insight;
use crate::error::{Error, ErrorKind, Result};
use crate::sample::BatchRef;
use crate::twin::{Twin, TwinBuilder, TwinSnapshot};

/// The most twins a fleet holds unless configured otherwise (see [`Fleet::with_limit`]).
pub const DEFAULT_MAX_TWINS: usize = 1 << 22;

/// The longest fleet batch taken unless configured otherwise (see
/// [`Fleet::with_max_batch_samples`]): 2^24 samples.
pub const DEFAULT_MAX_FLEET_BATCH_SAMPLES: usize = 1 << 24;

/// A borrowed columnar fleet batch: `twins[i]` is the id of the twin sample `i` is for.
#[derive(Debug, Clone, Copy)]
pub struct FleetBatchRef<'a> {
    twins: &'a [u64],
    batch: BatchRef<'a>,
}

impl<'a> FleetBatchRef<'a> {
    /// Four columns of one length (twin id, time in ns, signal id, value);
    /// [`Error::InvalidInput`] when the lengths differ.
    pub fn new(
        twins: &'a [u64],
        times: &'a [i64],
        signals: &'a [u32],
        values: &'a [f64],
    ) -> Result<Self> {
        let batch = BatchRef::new(times, signals, values)?;
        if twins.len() != batch.len() {
            return Err(Error::InvalidInput(format!(
                "fleet batch columns differ in length: {} twin ids for {} samples",
                twins.len(),
                batch.len()
            )));
        }
        Ok(FleetBatchRef { twins, batch })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.twins.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.twins.is_empty()
    }
}

/// One refused sample of a fleet batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetRejection {
    /// Index of the sample in the fleet batch.
    pub index: usize,
    /// The twin it was for.
    pub twin: u64,
    /// Why it was refused.
    pub kind: ErrorKind,
}

/// What became of one fleet batch: `accepted + rejections.len()` equals its length, and
/// the rejections are in batch order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetReport {
    /// Samples taken into some twin's state.
    pub accepted: usize,
    /// Samples refused, with the reason.
    pub rejections: Vec<FleetRejection>,
}

impl FleetReport {
    /// Number of refused samples.
    pub fn rejected(&self) -> usize {
        self.rejections.len()
    }

    /// Refusals of one kind.
    pub fn count(&self, kind: ErrorKind) -> usize {
        self.rejections.iter().filter(|r| r.kind == kind).count()
    }
}

/// Many twins keyed by id, processed in parallel; see the [module docs](self).
pub struct Fleet {
    /// Twins in insertion order (removal swaps the last into the hole).
    twins: Vec<(u64, Twin)>,
    index: HashMap<u64, usize>,
    threads: usize,
    max_twins: usize,
    max_batch_samples: usize,
    // Scratch reused between batches: per-twin counts/offsets and the grouped columns.
    offsets: Vec<usize>,
    order: Vec<usize>,
    pos: Vec<usize>,
    times: Vec<i64>,
    signals: Vec<u32>,
    values: Vec<f64>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("twins", &self.twins.len())
            .field("threads", &self.threads)
            .field("max_twins", &self.max_twins)
            .field("max_batch_samples", &self.max_batch_samples)
            .finish()
    }
}

impl Fleet {
    /// An empty fleet that processes batches on up to `threads` threads (at least 1).
    pub fn new(threads: usize) -> Result<Fleet> {
        if threads == 0 {
            return Err(Error::InvalidInput(
                "a fleet needs at least one thread".into(),
            ));
        }
        Ok(Fleet {
            twins: Vec::new(),
            index: HashMap::new(),
            threads,
            max_twins: DEFAULT_MAX_TWINS,
            max_batch_samples: DEFAULT_MAX_FLEET_BATCH_SAMPLES,
            offsets: Vec::new(),
            order: Vec::new(),
            pos: Vec::new(),
            times: Vec::new(),
            signals: Vec::new(),
            values: Vec::new(),
        })
    }

    /// Cap the number of twins (default [`DEFAULT_MAX_TWINS`]): inserting beyond it is
    /// refused with [`Error::LimitExceeded`] naming `max_twins`.
    ///
    /// ```
    /// use twin::{ErrorKind, Twin};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let mut fleet = twin::fleet::Fleet::new(1)?.with_limit(1);
    /// fleet.insert(1, Twin::builder(schema.clone()).build()?)?;
    /// let e = fleet.insert(2, Twin::builder(schema).build()?).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    /// assert_eq!(e.to_string(), "limit exceeded: max_twins is 1, got 2");
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn with_limit(mut self, max_twins: usize) -> Fleet {
        self.max_twins = max_twins;
        self
    }

    /// Cap the length of a fleet batch (default [`DEFAULT_MAX_FLEET_BATCH_SAMPLES`]; at
    /// least 1, else [`Error::InvalidInput`]). A longer batch is refused whole: every
    /// sample is a rejection of kind [`ErrorKind::LimitExceeded`] and no twin sees any.
    /// Each twin's own [`crate::TwinLimits::max_batch_samples`] still applies to its part.
    ///
    /// ```
    /// use twin::fleet::{Fleet, FleetBatchRef};
    /// let mut fleet = Fleet::new(1)?.with_max_batch_samples(2)?;
    /// let r = fleet.ingest_batch(FleetBatchRef::new(&[1, 1, 1], &[0, 1, 2], &[0; 3], &[0.0; 3])?);
    /// assert_eq!(r.count(twin::ErrorKind::LimitExceeded), 3);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn with_max_batch_samples(mut self, max_batch_samples: usize) -> Result<Fleet> {
        if max_batch_samples == 0 {
            return Err(Error::InvalidInput(
                "fleet limit max_batch_samples must be at least 1".into(),
            ));
        }
        self.max_batch_samples = max_batch_samples;
        Ok(self)
    }

    /// Change both caps of a live fleet: [`with_limit`](Self::with_limit) and
    /// [`with_max_batch_samples`](Self::with_max_batch_samples). Lowering `max_twins` below
    /// the current number of twins removes none; it stops further inserts.
    /// [`Error::InvalidInput`] (and no change) if `max_batch_samples` is 0.
    ///
    /// ```
    /// let mut fleet = twin::fleet::Fleet::new(1)?;
    /// fleet.set_limits(10, 1000)?;
    /// assert_eq!((fleet.max_twins(), fleet.max_batch_samples()), (10, 1000));
    /// assert!(fleet.set_limits(10, 0).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn set_limits(&mut self, max_twins: usize, max_batch_samples: usize) -> Result<()> {
        if max_batch_samples == 0 {
            return Err(Error::InvalidInput(
                "fleet limit max_batch_samples must be at least 1".into(),
            ));
        }
        self.max_twins = max_twins;
        self.max_batch_samples = max_batch_samples;
        Ok(())
    }

    /// The most twins this fleet holds.
    pub fn max_twins(&self) -> usize {
        self.max_twins
    }

    /// The longest batch this fleet takes.
    pub fn max_batch_samples(&self) -> usize {
        self.max_batch_samples
    }

    /// [`Error::LimitExceeded`] naming `max_batch_samples` if a fleet batch of `len`
    /// samples is longer than this fleet takes.
    pub fn check_batch(&self, len: usize) -> Result<()> {
        if len > self.max_batch_samples {
            return Err(Error::LimitExceeded {
                limit: "max_batch_samples".into(),
                max: self.max_batch_samples as u64,
                value: len as u64,
            });
        }
        Ok(())
    }

    /// Threads used per batch.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Change the number of threads (at least 1).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        if threads == 0 {
            return Err(Error::InvalidInput(
                "a fleet needs at least one thread".into(),
            ));
        }
        self.threads = threads;
        Ok(())
    }

    /// Number of twins.
    pub fn len(&self) -> usize {
        self.twins.len()
    }

    /// Whether the fleet holds no twin.
    pub fn is_empty(&self) -> bool {
        self.twins.is_empty()
    }

    /// Add a twin under `id`; [`Error::InvalidInput`] if the id is taken,
    /// [`Error::LimitExceeded`] if the fleet already holds [`max_twins`](Self::max_twins).
    pub fn insert(&mut self, id: u64, twin: Twin) -> Result<()> {
        if self.index.contains_key(&id) {
            return Err(Error::InvalidInput(format!(
                "the fleet already has twin {id}"
            )));
        }
        if self.twins.len() >= self.max_twins {
            return Err(Error::LimitExceeded {
                limit: "max_twins".into(),
                max: self.max_twins as u64,
                value: self.twins.len() as u64 + 1,
            });
        }
        self.index.insert(id, self.twins.len());
        self.twins.push((id, twin));
        Ok(())
    }

    /// Take a twin out; [`Error::UnknownTwin`] if there is none with this id.
    pub fn remove(&mut self, id: u64) -> Result<Twin> {
        let slot = self.index.remove(&id).ok_or(Error::UnknownTwin(id))?;
        let (_, twin) = self.twins.swap_remove(slot);
        if let Some((moved, _)) = self.twins.get(slot) {
            self.index.insert(*moved, slot);
        }
        Ok(twin)
    }

    /// The twin with this id.
    pub fn get(&self, id: u64) -> Option<&Twin> {
        self.index.get(&id).map(|&i| &self.twins[i].1)
    }

    /// The twin with this id, mutably (to command it, set desired values, ...).
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Twin> {
        self.index.get(&id).map(|&i| &mut self.twins[i].1)
    }

    /// The ids, in ascending order.
    pub fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.twins.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids
    }

    /// Ingest a fleet batch: every sample goes to its twin, in batch order per twin, and is
    /// accepted or refused there; samples for unknown ids are refused with
    /// [`ErrorKind::UnknownTwin`]. Twins run in parallel on up to [`threads`](Self::threads)
    /// threads; the result does not depend on the number of threads. A batch longer than
    /// [`max_batch_samples`](Self::max_batch_samples) is refused whole with
    /// [`ErrorKind::LimitExceeded`].
    pub fn ingest_batch(&mut self, batch: FleetBatchRef<'_>) -> FleetReport {
        let n = batch.len();
        let m = self.twins.len();
        let mut report = FleetReport::default();
        if n > self.max_batch_samples {
            report.rejections = batch
                .twins
                .iter()
                .enumerate()
                .map(|(index, &twin)| FleetRejection {
                    index,
                    twin,
                    kind: ErrorKind::LimitExceeded,
                })
                .collect();
            return report;
        }
        // Where each sample goes: a twin slot, or m for "unknown".
        self.order.clear();
        self.order.reserve(n);
        self.offsets.clear();
        self.offsets.resize(m + 3, 0);
        for &id in batch.twins {
            let slot = self.index.get(&id).copied().unwrap_or(m);
            self.order.push(slot);
            self.offsets[slot + 2] += 1;
        }
        // Prefix sums: offsets[s + 1] is where slot s starts once shifted below.
        for s in 2..m + 3 {
            self.offsets[s] += self.offsets[s - 1];
        }
        // Counting sort into grouped columns; `pos` maps grouped position -> batch index.
        let (times, signals, values) = (
            batch.batch.times(),
            batch.batch.signals(),
            batch.batch.values(),
        );
        self.times.resize(n, 0);
        self.signals.resize(n, 0);
        self.values.resize(n, 0.0);
        self.pos.resize(n, 0);
        let pos = &mut self.pos;
        for i in 0..n {
            let s = self.order[i];
            let at = self.offsets[s + 1];
            self.offsets[s + 1] += 1;
            self.times[at] = times[i];
            self.signals[at] = signals[i];
            self.values[at] = values[i];
            pos[at] = i;
        }
        // offsets[s] .. offsets[s + 1] is now slot s's range (offsets[0] == 0).
        let ranges: Vec<(usize, usize)> = (0..m)
            .map(|s| (self.offsets[s], self.offsets[s + 1]))
            .collect();
        let (t_all, s_all, v_all) = (&self.times, &self.signals, &self.values);
        let per_twin: Vec<(usize, Vec<(usize, ErrorKind)>)> = {
            let threads = self.threads.min(m.max(1));
            let chunk = m.div_ceil(threads).max(1);
            let work = |twins: &mut [(u64, Twin)], first: usize| {
                twins
                    .iter_mut()
                    .enumerate()
                    .map(|(k, (_, twin))| {
                        let (a, b) = ranges[first + k];
                        if a == b {
                            return (0, Vec::new());
                        }
                        let sub = BatchRef::new(&t_all[a..b], &s_all[a..b], &v_all[a..b]);
                        match sub {
                            Ok(sub) => {
                                let r = twin.ingest_batch(sub);
                                let rej =
                                    r.rejections.iter().map(|x| (a + x.index, x.kind)).collect();
                                (r.accepted, rej)
                            }
                            Err(e) => (0, (a..b).map(|i| (i, e.kind())).collect()),
                        }
                    })
                    .collect::<Vec<_>>()
            };
            if threads <= 1 {
                work(&mut self.twins, 0)
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = self
                        .twins
                        .chunks_mut(chunk)
                        .enumerate()
                        .map(|(c, twins)| {
                            let work = &work;
                            scope.spawn(move || work(twins, c * chunk))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .flat_map(|h| match h.join() {
                            Ok(v) => v,
                            Err(panic) => std::panic::resume_unwind(panic),
                        })
                        .collect()
                })
            }
        };
        for (s, (accepted, rejections)) in per_twin.into_iter().enumerate() {
            report.accepted += accepted;
            let id = self.twins[s].0;
            report
                .rejections
                .extend(rejections.into_iter().map(|(at, kind)| FleetRejection {
                    index: self.pos[at],
                    twin: id,
                    kind,
                }));
        }
        for (i, &slot) in self.order.iter().enumerate() {
            if slot == m {
                report.rejections.push(FleetRejection {
                    index: i,
                    twin: batch.twins[i],
                    kind: ErrorKind::UnknownTwin,
                });
            }
        }
        report.rejections.sort_unstable_by_key(|r| r.index);
        report
    }

    /// Every twin's pending insights, by twin id then time order.
    pub fn drain_insights(&mut self) -> Vec<(u64, Insight)> {
        let mut out: Vec<(u64, Insight)> = Vec::new();
        for (id, twin) in self.twins.iter_mut() {
            out.extend(twin.drain_insights().into_iter().map(|i| (*id, i)));
        }
        out.sort_by_key(|(id, _)| *id);
        out
    }

    /// Snapshots of every twin, by id.
    pub fn snapshot(&self) -> Result<FleetSnapshot> {
        let mut twins = self
            .twins
            .iter()
            .map(|(id, t)| Ok((*id, t.snapshot()?)))
            .collect::<Result<Vec<_>>>()?;
        twins.sort_by_key(|(id, _)| *id);
        Ok(FleetSnapshot { twins })
    }

    /// Rebuild a fleet from a snapshot; `builder(id)` gives a builder of the same shape as
    /// the twin that was saved under `id` (schema, model, engines and rules).
    pub fn restore(
        threads: usize,
        snapshot: FleetSnapshot,
        mut builder: impl FnMut(u64) -> Result<TwinBuilder>,
    ) -> Result<Fleet> {
        let mut fleet = Fleet::new(threads)?;
        for (id, snap) in snapshot.twins {
            fleet.insert(id, builder(id)?.restore(snap)?)?;
        }
        Ok(fleet)
    }
}

/// Every twin of a fleet, saved: restore with [`Fleet::restore`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetSnapshot {
    /// Twin ids and their snapshots, ascending by id.
    pub twins: Vec<(u64, TwinSnapshot)>,
}

impl FleetSnapshot {
    /// As JSON text.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    /// From JSON text made by [`to_json`](Self::to_json); [`Error::Serialization`] when it
    /// is not a fleet snapshot or two entries share an id.
    pub fn from_json(json: &str) -> Result<FleetSnapshot> {
        let snap: FleetSnapshot = serde_json::from_str(json)
            .map_err(|e| Error::Serialization(format!("fleet snapshot: {e}")))?;
        let mut ids: Vec<u64> = snap.twins.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::Serialization(format!(
                "fleet snapshot lists twin {} twice",
                w[0]
            )));
        }
        Ok(snap)
    }
}
