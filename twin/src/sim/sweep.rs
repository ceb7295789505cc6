//! Many runs at once: independent replications, parameter sweeps and paired what-if
//! comparisons on common random numbers, in parallel on `std::thread::scope`.
//!
//! Each run is single-threaded and its random numbers depend only on `(seed, entity,
//! stream)`, so results are identical whatever the number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::metrics::{Column, Table};
use super::report::{Report, Summary};
use super::rng::derive_seed;
use super::scenario::Scenario;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Run every scenario (all validated first), `threads` at a time (0: the machine's
/// parallelism); results in input order.
pub fn run_many(scenarios: &[Scenario], threads: usize) -> Result<Vec<Report>> {
    run_many_with(scenarios, threads, &Progress::new())
}

/// [`run_many`] with a progress and cancellation hook: progress counts finished runs
/// (total: the number of scenarios); once cancelled, no new run starts, the runs under
/// way stop at their next check and the result is [`Error::Cancelled`].
pub fn run_many_with(
    scenarios: &[Scenario],
    threads: usize,
    progress: &Progress,
) -> Result<Vec<Report>> {
    validate_all(scenarios, progress)?;
    if let Some(big) = scenarios.iter().max_by_key(|s| s.estimated_bytes()) {
        // The largest scenario stands for all: the runs under way and the kept reports.
        check_batch(big, scenarios.len(), threads, "runs")?;
    }
    run_pool(scenarios, threads, progress)
}

/// Start the progress (total: the number of scenarios) and validate every scenario.
fn validate_all(scenarios: &[Scenario], progress: &Progress) -> Result<()> {
    progress.start(scenarios.len() as u64);
    for (i, s) in scenarios.iter().enumerate() {
        s.validate()
            .map_err(|e| Error::InvalidInput(format!("scenario {i}: {e}")))?;
    }
    Ok(())
}

/// [`validate_all`] then [`run_pool`]: for batches whose size [`check_batch`] already
/// passed before their scenarios were built.
fn run_checked(scenarios: &[Scenario], threads: usize, progress: &Progress) -> Result<Vec<Report>> {
    validate_all(scenarios, progress)?;
    run_pool(scenarios, threads, progress)
}

/// The thread count for `threads` (0: the machine's parallelism).
fn worker_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

/// Run validated scenarios, `threads` at a time; results in input order.
fn run_pool(scenarios: &[Scenario], threads: usize, progress: &Progress) -> Result<Vec<Report>> {
    let threads = worker_threads(threads).min(scenarios.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Report>>>> =
        scenarios.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= scenarios.len() || progress.is_cancelled() {
                    break;
                }
                let r = super::simulate(&scenarios[i], progress, false);
                if r.is_ok() {
                    progress.advance(1);
                }
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    progress.check()?;
    slots
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(Error::InvalidInput(format!("run {i} did not complete"))))
        })
        .collect()
}

/// `n` independent replications of `scenario` (seeds derived from its seed and the
/// replication index).
///
/// ```
/// use twin::sim::{sweep, Scenario};
/// let s = Scenario::single(50, 60.0, 600.0);
/// let reps = sweep::replicate(&s, 3, 2)?;
/// assert_eq!(reps.len(), 3);
/// let table = sweep::summary_table(&reps)?;
/// assert_eq!(table.rows(), 3);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn replicate(scenario: &Scenario, n: usize, threads: usize) -> Result<Vec<Report>> {
    replicate_with(scenario, n, threads, &Progress::new())
}

/// [`replicate`] with a progress and cancellation hook (see [`run_many_with`]).
pub fn replicate_with(
    scenario: &Scenario,
    n: usize,
    threads: usize,
    progress: &Progress,
) -> Result<Vec<Report>> {
    check_batch(scenario, n, threads, "replications")?;
    run_checked(&replications(scenario, n), threads, progress)
}

/// Refuse, before anything is built, a batch of `runs` runs of `scenario` (`threads` at a
/// time) whose memory would exceed the scenario's `limits.max_memory_bytes`: the runs
/// under way at once, plus every finished run's report and its copy of the scenario.
/// `what` names the request in the error, e.g. `"replications"`.
pub fn check_batch(scenario: &Scenario, runs: usize, threads: usize, what: &str) -> Result<()> {
    let at_once = worker_threads(threads).min(runs) as u64;
    let per_copy = std::mem::size_of::<Scenario>() as u64
        + scenario.groups.len() as u64 * 512
        + scenario.gateways.len() as u64 * 512
        + scenario.outages.len() as u64 * 256;
    let runs64 = runs as u64;
    let need = at_once
        .saturating_mul(scenario.estimated_bytes())
        .saturating_add(runs64.saturating_mul(scenario.estimated_report_bytes() + per_copy));
    let limit = scenario.limits.max_memory_bytes;
    if need > limit {
        return Err(Error::InvalidInput(format!(
            "{what}: {runs} runs of this scenario need about {} MiB ({at_once} under way at once and \
             every finished run's report kept), above limits.max_memory_bytes = {} MiB",
            need >> 20,
            limit >> 20
        )));
    }
    Ok(())
}

fn replications(scenario: &Scenario, n: usize) -> Vec<Scenario> {
    (0..n)
        .map(|i| {
            let mut s = scenario.clone();
            s.seed = derive_seed(scenario.seed, i as u64);
            s
        })
        .collect()
}

/// Set a numeric field of a scenario by a dotted path, e.g. `groups.0.period_s` or
/// `gateways.1.link.loss.p`.
///
/// ```
/// use twin::sim::{sweep, Scenario};
/// let s = Scenario::single(10, 60.0, 600.0);
/// let t = sweep::with_value(&s, "groups.0.period_s", 30.0)?;
/// assert_eq!(t.groups[0].period_s, 30.0);
/// assert!(sweep::with_value(&s, "groups.0.nope", 1.0).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
pub fn with_value(scenario: &Scenario, path: &str, value: f64) -> Result<Scenario> {
    let mut v = serde_json::to_value(scenario)?;
    let mut cur = &mut v;
    for part in path.split('.') {
        cur = match cur {
            serde_json::Value::Object(m) => m.get_mut(part),
            serde_json::Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| Error::InvalidInput(format!("sweep path {path}: no field {part}")))?;
    }
    if !cur.is_number() {
        return Err(Error::InvalidInput(format!(
            "sweep path {path} is not a number (it is {cur})"
        )));
    }
    *cur = if value.fract() == 0.0 && cur.is_u64() && value >= 0.0 {
        serde_json::Value::from(value as u64)
    } else {
        serde_json::Value::from(value)
    };
    Ok(serde_json::from_value(v)?)
}

/// A parameter sweep: the path, and for each row the value, the replication and its
/// summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// The swept field.
    pub path: String,
    /// One row per (value, replication): `value`, `replication` and the summary columns
    /// of [`summary_table`].
    pub table: Table,
    /// The reports, in row order.
    pub reports: Vec<Report>,
}

/// Sweep `path` over `values`, `replications` runs each. Replication `i` of every value
/// uses the same seed, so values are compared on common random numbers.
pub fn sweep(
    scenario: &Scenario,
    path: &str,
    values: &[f64],
    replications_per_value: usize,
    threads: usize,
) -> Result<SweepResult> {
    sweep_with(
        scenario,
        path,
        values,
        replications_per_value,
        threads,
        &Progress::new(),
    )
}

/// [`sweep()`] with a progress and cancellation hook: progress counts finished runs
/// (total: values × replications), see [`run_many_with`].
pub fn sweep_with(
    scenario: &Scenario,
    path: &str,
    values: &[f64],
    replications_per_value: usize,
    threads: usize,
    progress: &Progress,
) -> Result<SweepResult> {
    let runs = values.len().saturating_mul(replications_per_value);
    check_batch(scenario, runs, threads, "sweep")?;
    let mut all = Vec::new();
    let mut vcol = Vec::new();
    let mut rcol = Vec::new();
    for &x in values {
        let s = with_value(scenario, path, x)?;
        for (i, r) in replications(&s, replications_per_value)
            .into_iter()
            .enumerate()
        {
            all.push(r);
            vcol.push(x);
            rcol.push(i as u64);
        }
    }
    let reports = run_checked(&all, threads, progress)?;
    let mut table = Table::default();
    table.push("value", Column::F64(vcol))?;
    table.push("replication", Column::U64(rcol))?;
    let summary = summary_table(&reports)?;
    for (n, c) in summary.names.into_iter().zip(summary.columns) {
        table.push(&n, c)?;
    }
    Ok(SweepResult {
        path: path.to_string(),
        table,
        reports,
    })
}

/// A paired what-if comparison: `baseline` and `variant` run on the same seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// Baseline reports, one per replication.
    pub baseline: Vec<Report>,
    /// Variant reports, one per replication, same seeds.
    pub variant: Vec<Report>,
}

impl Paired {
    /// Per-replication differences `variant - baseline` of a summary figure.
    pub fn differences(&self, f: impl Fn(&Summary) -> f64) -> Vec<f64> {
        self.baseline
            .iter()
            .zip(&self.variant)
            .map(|(b, v)| f(&v.summary) - f(&b.summary))
            .collect()
    }
}

/// Run `baseline` and `variant` for `n` replications each on common random numbers
/// (replication `i` of both uses the same derived seed).
pub fn paired(baseline: &Scenario, variant: &Scenario, n: usize, threads: usize) -> Result<Paired> {
    paired_with(baseline, variant, n, threads, &Progress::new())
}

/// [`paired`] with a progress and cancellation hook: progress counts finished runs
/// (total `2 n`), see [`run_many_with`].
pub fn paired_with(
    baseline: &Scenario,
    variant: &Scenario,
    n: usize,
    threads: usize,
    progress: &Progress,
) -> Result<Paired> {
    // 2 n runs: both sides' reports are kept.
    check_batch(baseline, n.saturating_mul(2), threads, "paired baseline")?;
    check_batch(variant, n.saturating_mul(2), threads, "paired variant")?;
    let mut all = replications(baseline, n);
    let mut v = variant.clone();
    v.seed = baseline.seed;
    all.extend(replications(&v, n));
    let mut reports = run_checked(&all, threads, progress)?;
    let variant = reports.split_off(n);
    Ok(Paired {
        baseline: reports,
        variant,
    })
}

/// One row per report of the main summary figures (absent latencies as NaN).
pub fn summary_table(reports: &[Report]) -> Result<Table> {
    let mut t = Table::default();
    let u =
        |f: &dyn Fn(&Summary) -> u64| Column::U64(reports.iter().map(|r| f(&r.summary)).collect());
    let x =
        |f: &dyn Fn(&Summary) -> f64| Column::F64(reports.iter().map(|r| f(&r.summary)).collect());
    let nan = f64::NAN;
    t.push("reports", u(&|s| s.reports))?;
    t.push("delivered", u(&|s| s.delivered))?;
    t.push("undelivered", u(&|s| s.undelivered))?;
    t.push("retries", u(&|s| s.retries))?;
    t.push("delivery_ratio", x(&|s| s.delivery_ratio))?;
    t.push("latency_p50_s", x(&|s| s.latency_p50_s.unwrap_or(nan)))?;
    t.push("latency_p95_s", x(&|s| s.latency_p95_s.unwrap_or(nan)))?;
    t.push("latency_p99_s", x(&|s| s.latency_p99_s.unwrap_or(nan)))?;
    t.push("energy_mah", x(&|s| s.energy_mah))?;
    t.push("depleted", u(&|s| s.depleted))?;
    t.push("mean_lifetime_s", x(&|s| s.mean_lifetime_s.unwrap_or(nan)))?;
    t.push("availability", x(&|s| s.availability))?;
    t.push("events", u(&|s| s.events))?;
    Ok(t)
}
