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
//! Only finding each sample's twin is serial (one id look-up per run of samples for the
//! same twin); copying the samples into their twins' sub-batches is shared by the threads,
//! each thread filling the sub-batches of the twins it runs.
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
        // Pass 1 (serial): the twin slot of every sample, or m for "unknown", and the
        // samples per slot. Consecutive samples usually belong to one twin (a gateway sends
        // a device's signals together), so the last look-up is remembered.
        self.order.clear();
        self.order.reserve(n);
        self.offsets.clear();
        self.offsets.resize(m + 2, 0);
        let mut unknown: Vec<usize> = Vec::new();
        let mut last: Option<(u64, usize)> = None;
        for (i, &id) in batch.twins.iter().enumerate() {
            let slot = match last {
                Some((l, slot)) if l == id => slot,
                _ => {
                    let slot = self.index.get(&id).copied().unwrap_or(m);
                    last = Some((id, slot));
                    slot
                }
            };
            if slot == m {
                unknown.push(i);
            }
            self.order.push(slot);
            self.offsets[slot + 1] += 1;
        }
        // Prefix sums: slot s's samples go to offsets[s] .. offsets[s + 1] of the grouped
        // columns (the unknown slot m last; its samples are not copied).
        for s in 1..m + 2 {
            self.offsets[s] += self.offsets[s - 1];
        }
        let known = self.offsets[m];
        self.times.resize(known, 0);
        self.signals.resize(known, 0);
        self.values.resize(known, 0.0);
        self.pos.resize(known, 0);
        // Pass 2 (parallel): each thread takes a run of twin slots, whose grouped samples
        // form one contiguous region, copies its own samples there in batch order (every
        // thread reads the slot column; each writes only its region) and runs its twins on
        // them. The result does not depend on how the slots are cut.
        let threads = self.threads.min(m.max(1));
        let chunk = m.div_ceil(threads).max(1);
        let src = (
            batch.twins.len(),
            batch.batch.times(),
            batch.batch.signals(),
            batch.batch.values(),
        );
        let order = &self.order;
        let offsets = &self.offsets;
        let work = |twins: &mut [(u64, Twin)],
                    first: usize,
                    times: &mut [i64],
                    signals: &mut [u32],
                    values: &mut [f64],
                    pos: &mut [usize]|
         -> Vec<(usize, Vec<(usize, ErrorKind)>)> {
            let (len, t_in, s_in, v_in) = src;
            let end = first + twins.len();
            let base = offsets[first];
            // Scatter this run's samples into its region.
            let mut cursor: Vec<usize> = offsets[first..end].iter().map(|o| o - base).collect();
            for (i, &slot) in order.iter().enumerate().take(len) {
                if slot >= first && slot < end {
                    let c = &mut cursor[slot - first];
                    times[*c] = t_in[i];
                    signals[*c] = s_in[i];
                    values[*c] = v_in[i];
                    pos[*c] = i;
                    *c += 1;
                }
            }
            twins
                .iter_mut()
                .enumerate()
                .map(|(k, (_, twin))| {
                    let (a, b) = (offsets[first + k] - base, offsets[first + k + 1] - base);
                    if a == b {
                        return (0, Vec::new());
                    }
                    match BatchRef::new(&times[a..b], &signals[a..b], &values[a..b]) {
                        Ok(sub) => {
                            let r = twin.ingest_batch(sub);
                            let rej = r
                                .rejections
                                .iter()
                                .map(|x| (pos[a + x.index], x.kind))
                                .collect();
                            (r.accepted, rej)
                        }
                        Err(e) => (0, pos[a..b].iter().map(|&i| (i, e.kind())).collect()),
                    }
                })
                .collect()
        };
        let per_twin: Vec<(usize, Vec<(usize, ErrorKind)>)> = if threads <= 1 {
            work(
                &mut self.twins,
                0,
                &mut self.times,
                &mut self.signals,
                &mut self.values,
                &mut self.pos,
            )
        } else {
            // Cut the grouped columns at the chunk boundaries.
            let mut parts = Vec::with_capacity(threads);
            let (mut t, mut s, mut v, mut p) = (
                &mut self.times[..],
                &mut self.signals[..],
                &mut self.values[..],
                &mut self.pos[..],
            );
            let mut taken = 0;
            for (c, twins) in self.twins.chunks_mut(chunk).enumerate() {
                let first = c * chunk;
                let size = offsets[first + twins.len()] - offsets[first];
                let (t0, t1) = std::mem::take(&mut t).split_at_mut(size);
                let (s0, s1) = std::mem::take(&mut s).split_at_mut(size);
                let (v0, v1) = std::mem::take(&mut v).split_at_mut(size);
                let (p0, p1) = std::mem::take(&mut p).split_at_mut(size);
                (t, s, v, p) = (t1, s1, v1, p1);
                taken += size;
                parts.push((twins, first, t0, s0, v0, p0));
            }
            debug_assert_eq!(taken, known);
            std::thread::scope(|scope| {
                let handles: Vec<_> = parts
                    .into_iter()
                    .map(|(twins, first, t, s, v, p)| {
                        let work = &work;
                        scope.spawn(move || work(twins, first, t, s, v, p))
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
        };
        for (s, (accepted, rejections)) in per_twin.into_iter().enumerate() {
            report.accepted += accepted;
            let id = self.twins[s].0;
            report
                .rejections
                .extend(rejections.into_iter().map(|(index, kind)| FleetRejection {
                    index,
                    twin: id,
                    kind,
                }));
        }
        report
            .rejections
            .extend(unknown.into_iter().map(|index| FleetRejection {
                index,
                twin: batch.twins[index],
                kind: ErrorKind::UnknownTwin,
            }));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::detect::{EwmaMonitor, MonitorConfig};
    use crate::{Schema, SignalSpec};

    fn twin() -> Twin {
        let schema = Schema::builder("pump")
            .telemetry(
                SignalSpec::new("flow", "m3/h")
                    .range(0.0, 500.0)
                    .alarm_high(420.0),
            )
            .build()
            .expect("schema");
        let monitor = EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
        Twin::builder(schema).engine(monitor).build().expect("twin")
    }

    fn fleet(ids: &[u64], threads: usize) -> Fleet {
        let mut f = Fleet::new(threads).expect("fleet");
        for &id in ids {
            f.insert(id, twin()).expect("insert");
        }
        f
    }

    /// A batch whose twin id changes at every sample (the remembered look-up never hits),
    /// with unknown ids between known ones, runs of one id broken by another, refusals
    /// (NaN, out of range, out of order) and an alarm, and each twin fed its samples on
    /// its own as the reference.
    #[test]
    fn ids_that_change_at_every_sample_give_the_same_outcome() {
        let known = [7u64, 3, 1 << 40, 12, 5];
        let mut w = Vec::new();
        let mut t = Vec::new();
        let mut v = Vec::new();
        for k in 0..400i64 {
            // 7, 3, 2^40, 12, 5 in turn, an unknown id every 7th sample, and now and then a
            // short run (7, 7, 3) to hit and then miss the remembered look-up.
            let id = if k % 7 == 6 {
                1_000 + (k as u64 % 3)
            } else if k % 50 < 3 {
                known[(k % 50 == 2) as usize]
            } else {
                known[(k as usize) % known.len()]
            };
            w.push(id);
            t.push(if k == 200 { 0 } else { k * 1_000_000 });
            v.push(match k {
                22 => f64::NAN,
                43 => 600.0,
                90..=99 => 450.0,
                _ => 100.0 + (k % 13) as f64,
            });
        }
        let s = vec![0u32; w.len()];
        let batch = FleetBatchRef::new(&w, &t, &s, &v).expect("batch");
        type Outcome = (FleetReport, String, Vec<(u64, Insight)>);
        let mut reference: Option<Outcome> = None;
        for threads in [1, 2, 3, 8] {
            let mut f = fleet(&known, threads);
            let r = f.ingest_batch(batch);
            assert_eq!(
                r.accepted + r.rejections.len(),
                w.len(),
                "every sample counted"
            );
            let unknown: Vec<usize> = (0..w.len()).filter(|&i| !known.contains(&w[i])).collect();
            let seen: Vec<usize> = r
                .rejections
                .iter()
                .filter(|x| x.kind == ErrorKind::UnknownTwin)
                .map(|x| x.index)
                .collect();
            assert_eq!(seen, unknown);
            let snap = f.snapshot().and_then(|s| s.to_json()).expect("snapshot");
            let ins = f.drain_insights();
            match &reference {
                None => reference = Some((r, snap, ins)),
                Some((r1, s1, i1)) => {
                    assert_eq!(&r, r1, "{threads} threads");
                    assert_eq!(&snap, s1, "{threads} threads");
                    assert_eq!(&ins, i1, "{threads} threads");
                }
            }
        }
        let Some((report, _, insights)) = reference else {
            panic!("no run")
        };
        assert!(insights.iter().any(|(id, _)| known.contains(id)));
        // Each twin on its own, with its samples in batch order.
        let mut alone_accepted = 0;
        for &id in &known {
            let idx: Vec<usize> = (0..w.len()).filter(|&i| w[i] == id).collect();
            let (tt, ss, vv): (Vec<i64>, Vec<u32>, Vec<f64>) = (
                idx.iter().map(|&i| t[i]).collect(),
                idx.iter().map(|&i| s[i]).collect(),
                idx.iter().map(|&i| v[i]).collect(),
            );
            let mut one = twin();
            let r = one.ingest_batch(BatchRef::new(&tt, &ss, &vv).expect("batch"));
            alone_accepted += r.accepted;
            let mine: Vec<(usize, ErrorKind)> = r
                .rejections
                .iter()
                .map(|x| (idx[x.index], x.kind))
                .collect();
            let fleet_side: Vec<(usize, ErrorKind)> = report
                .rejections
                .iter()
                .filter(|x| x.twin == id)
                .map(|x| (x.index, x.kind))
                .collect();
            assert_eq!(mine, fleet_side, "twin {id}");
        }
        assert_eq!(alone_accepted, report.accepted);
        for kind in [
            ErrorKind::NonFinite,
            ErrorKind::OutOfRange,
            ErrorKind::OutOfOrder,
        ] {
            assert!(report.count(kind) >= 1, "{kind:?}");
        }
    }

    /// Unknown ids only, in runs and alone, and an empty fleet: all refused in place.
    #[test]
    fn unknown_ids_in_runs_are_all_refused() {
        let w = [9u64, 9, 9, 4, 9, 4, 4];
        let t = [0i64; 7];
        let s = [0u32; 7];
        let v = [1.0; 7];
        for threads in [1, 2] {
            let mut f = fleet(&[1, 2, 3], threads);
            let r = f.ingest_batch(FleetBatchRef::new(&w, &t, &s, &v).expect("batch"));
            assert_eq!(r.accepted, 0);
            let got: Vec<(usize, u64)> = r.rejections.iter().map(|x| (x.index, x.twin)).collect();
            assert_eq!(got, w.iter().copied().enumerate().collect::<Vec<_>>());
            assert_eq!(r.count(ErrorKind::UnknownTwin), 7);
        }
        let mut empty = Fleet::new(2).expect("fleet");
        let r = empty.ingest_batch(FleetBatchRef::new(&w, &t, &s, &v).expect("batch"));
        assert_eq!(r.count(ErrorKind::UnknownTwin), 7);
    }
}
