//! Progress and cancellation of long runs (simulations, what-if Monte Carlo, maintenance
//! policy evaluation and optimisation).
//!
//! A [`Progress`] is shared between the thread doing the work and any thread watching it:
//! the worker sets the total, counts work units as they finish and checks the cancel flag
//! at natural boundaries (every few thousand simulation events, every what-if step, every
//! simulated unit); a watcher reads [`done`](Progress::done) and
//! [`total`](Progress::total) and may call [`cancel`](Progress::cancel). A cancelled run
//! stops at its next check and returns [`Error::Cancelled`]; nothing it computed so far
//! is returned. Everything is atomics, so a check costs a relaxed load.
//!
//! ```
//! use std::sync::Arc;
//! use twin::progress::Progress;
//! use twin::sim::{sweep, Scenario};
//!
//! let s = Scenario::single(20, 60.0, 600.0);
//! let p = Progress::new();
//! let reps = sweep::replicate_with(&s, 4, 2, &p)?;
//! assert_eq!(reps.len(), 4);
//! assert_eq!((p.done(), p.total()), (4, 4));
//!
//! // Cancelled before it starts: the run refuses at its first check.
//! let p = Arc::new(Progress::new());
//! p.cancel();
//! let e = sweep::replicate_with(&s, 4, 2, &p).unwrap_err();
//! assert_eq!(e.kind(), twin::ErrorKind::Cancelled);
//! # Ok::<(), twin::Error>(())
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A cancel flag and done/total counters shared by a long run and its watchers.
///
/// `Progress` is `Sync`: share it by reference (or in an `Arc`) between the worker and
/// the watcher. The counters are in the run's own units (runs of a replication, steps of
/// a what-if, units of a fleet, per mille of a simulation's horizon), documented by each
/// `*_with` function.
#[derive(Debug, Default)]
pub struct Progress {
    cancelled: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// A fresh hook: not cancelled, nothing done, total 0 (not yet known).
    ///
    /// ```
    /// let p = twin::progress::Progress::new();
    /// assert!(!p.is_cancelled());
    /// assert_eq!((p.done(), p.total()), (0, 0));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the run to stop at its next check.
    ///
    /// ```
    /// let p = twin::progress::Progress::new();
    /// p.cancel();
    /// assert!(p.is_cancelled());
    /// assert_eq!(p.check().unwrap_err().kind(), twin::ErrorKind::Cancelled);
    /// ```
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) has been called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Error::Cancelled)` once the run has been cancelled, `Ok(())` before.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Work units finished so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Work units in the whole run (0 until the run has said).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Start counting a run of `total` units: done goes back to 0.
    ///
    /// ```
    /// let p = twin::progress::Progress::new();
    /// p.start(10);
    /// p.advance(3);
    /// p.advance(2);
    /// assert_eq!((p.done(), p.total()), (5, 10));
    /// p.set_done(10);
    /// assert_eq!(p.done(), 10);
    /// ```
    pub fn start(&self, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    /// Count `n` more finished units.
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Set the finished units (for runs that measure progress rather than count it); never
    /// moves the count backwards.
    pub fn set_done(&self, done: u64) {
        self.done.fetch_max(done, Ordering::Relaxed);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::maintenance::{self, Costs, Degradation, Fleet, Policy, PolicyFamily};
    use crate::sim::{self, sweep, Scenario};
    use std::time::{Duration, Instant};

    /// Run `work` while a watcher cancels it once `done` reaches `at`; the watcher's
    /// record of the counts it saw (monotone) and the work's result.
    pub(crate) fn cancel_at<T: Send>(
        at: u64,
        work: impl FnOnce(&Progress) -> Result<T> + Send,
    ) -> (Result<T>, Vec<u64>) {
        let p = Progress::new();
        std::thread::scope(|scope| {
            let h = scope.spawn(|| work(&p));
            let mut seen = Vec::new();
            while !h.is_finished() {
                seen.push(p.done());
                if p.done() >= at {
                    p.cancel();
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            (h.join().expect("the worker does not panic"), seen)
        })
    }

    #[test]
    fn counters_and_flag() {
        let p = Progress::new();
        p.start(3);
        p.advance(1);
        p.set_done(0); // never backwards
        assert_eq!(p.done(), 1);
        assert!(p.check().is_ok());
        p.cancel();
        assert!(matches!(p.check(), Err(Error::Cancelled)));
        p.start(5);
        assert_eq!((p.done(), p.total()), (0, 5));
    }

    #[test]
    fn replicate_counts_runs_to_the_total() {
        let s = Scenario::single(50, 60.0, 3_600.0);
        let p = Progress::new();
        let reps = sweep::replicate_with(&s, 6, 2, &p).expect("runs");
        assert_eq!(reps.len(), 6);
        assert_eq!((p.done(), p.total()), (6, 6));
        let p = Progress::new();
        let sw = sweep::sweep_with(&s, "groups.0.period_s", &[30.0, 60.0], 2, 2, &p).expect("runs");
        assert_eq!(sw.reports.len(), 4);
        assert_eq!((p.done(), p.total()), (4, 4));
        let p = Progress::new();
        let pr = sweep::paired_with(&s, &s, 3, 2, &p).expect("runs");
        assert_eq!(pr.variant.len(), 3);
        assert_eq!((p.done(), p.total()), (6, 6));
    }

    #[test]
    fn a_cancelled_replication_stops_early() {
        // 400 runs of 60,000 reports each: far longer than it takes to cancel.
        let s = Scenario::single(1_000, 60.0, 3_600.0);
        let t0 = Instant::now();
        let (r, seen) = cancel_at(1, |p| sweep::replicate_with(&s, 400, 2, p));
        assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        let done = *seen.last().unwrap_or(&0);
        assert!((1..400).contains(&done), "done {done}");
        assert!(t0.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn a_cancelled_single_run_stops_inside_its_event_loop() {
        // 5 million reports: the loop is cancelled at 5 % of the horizon.
        let s = Scenario::single(5_000, 60.0, 60_000.0);
        let (r, seen) = cancel_at(50, |p| sim::run_with(&s, p));
        assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
        let done = *seen.last().unwrap_or(&0);
        assert!((50..1000).contains(&done), "done {done}");
        // Not cancelled: the per-mille count ends at 1000.
        let p = Progress::new();
        sim::run_with(&Scenario::single(10, 60.0, 600.0), &p).expect("runs");
        assert_eq!((p.done(), p.total()), (1000, 1000));
    }

    #[test]
    fn maintenance_counts_units_and_evaluations_and_stops_when_cancelled() {
        let fleet = Fleet {
            units: 40,
            horizon_s: 5.0 * 365.0 * 86_400.0,
            seed: 3,
        };
        let deg = Degradation::conveyor();
        let costs = Costs::default();
        let policy = Policy::Periodic {
            interval_s: 90.0 * 86_400.0,
        };
        let p = Progress::new();
        let r = maintenance::evaluate_with(&policy, &deg, &costs, &fleet, &p).expect("runs");
        assert_eq!(
            r,
            maintenance::evaluate(&policy, &deg, &costs, &fleet).expect("runs")
        );
        assert_eq!((p.done(), p.total()), (40, 40));
        p.cancel();
        let e =
            maintenance::evaluate_with(&policy, &deg, &costs, &fleet, &p).expect_err("cancelled");
        assert!(matches!(e, Error::Cancelled));
        assert_eq!(p.done(), 0);

        let p = Progress::new();
        let lo = 10.0 * 86_400.0;
        let hi = 400.0 * 86_400.0;
        let fam = PolicyFamily::Periodic;
        let c = maintenance::Constraint::default();
        let o = maintenance::optimise_policy_with(fam, &deg, &costs, &fleet, lo, hi, c, &p)
            .expect("optimises");
        assert_eq!(
            o.parameter,
            maintenance::optimise_policy(fam, &deg, &costs, &fleet, lo, hi, c)
                .expect("optimises")
                .parameter
        );
        assert_eq!(p.total(), maintenance::OPTIMISE_POLICY_EVALUATIONS);
        assert_eq!(p.done(), p.total());
    }
}
