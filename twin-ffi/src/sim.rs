//! Simulation scenarios (the Virtual IoT Model of `twin::sim`) from C: validate and run a
//! scenario given as JSON text, run replications and paired comparisons, and read the
//! result's summary and its tables as named columns.
//!
//! A `TwinSimReport` holds one or more runs: one for `twin_sim_run`, `n` for
//! `twin_sim_replicate`, `2 n` for `twin_sim_paired` (the `n` baseline runs, then the `n`
//! variant runs on the same seeds), `values × replications` for `twin_sim_sweep`. Run `i`'s
//! tables are `"devices"`, `"gateways"` and `"timeline"` (see the Rust `twin::sim::Report`);
//! the table `"runs"` has one row per run with the main summary figures (the columns of
//! `twin::sim::sweep::summary_table` after `run` and `variant`, or for a sweep after
//! `value` and `replication`).
//!
//! The simulated network as a live connection for a real twin (`TwinSimNetwork`) is in
//! [`crate::simnet`].

use std::ffi::c_char;

use twin::sim::sweep::{paired, replicate, summary_table, sweep, SweepResult};
use twin::sim::{Column, Report, Scenario, Summary, Table};

use crate::analytics::{copy_slice_out, drop_handle, json_out, put, put_handle};
use crate::result::{fail, OrFail, TwinResult};

/// The scalar results of one simulation run. Counts reconcile: `reports == delivered +
/// undelivered + in_flight`, and `failed_transmissions == lost_channel + dropped_queue +
/// gateway_down + collisions + out_of_range`. Figures that do not exist (a latency when
/// nothing was delivered, a lifetime when no battery ran out) are NaN; test with `isnan`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinSimSummary {
    /// Devices simulated.
    pub devices: u64,
    /// Gateways simulated.
    pub gateways: u64,
    /// Simulated time, s.
    pub horizon_s: f64,
    /// Events processed.
    pub events: u64,
    /// Readings taken (one per report).
    pub reports: u64,
    /// Transmissions (first tries and retries).
    pub transmissions: u64,
    /// Reports that reached a gateway.
    pub delivered: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Transmissions that failed.
    pub failed_transmissions: u64,
    /// Reports given up.
    pub undelivered: u64,
    /// Reports still under way at the horizon.
    pub in_flight: u64,
    /// Transmissions lost on the channel.
    pub lost_channel: u64,
    /// Transmissions dropped by a full gateway queue.
    pub dropped_queue: u64,
    /// Transmissions sent to a gateway that was down.
    pub gateway_down: u64,
    /// LoRa transmissions destroyed by a collision.
    pub collisions: u64,
    /// LoRa transmissions below the gateway's sensitivity.
    pub out_of_range: u64,
    /// LoRa transmissions delayed by the duty cycle.
    pub duty_cycle_deferred: u64,
    /// LoRa reports dropped because the duty cycle delayed them by more than a period.
    pub duty_cycle_skipped: u64,
    /// Readings the gateways forwarded after edge pre-processing.
    pub forwarded: u64,
    /// `delivered / reports`.
    pub delivery_ratio: f64,
    /// Mean end-to-end latency, s (NaN if nothing was delivered).
    pub latency_mean_s: f64,
    /// Median latency, s (histogram bin, within 4.4 %; NaN if nothing was delivered).
    pub latency_p50_s: f64,
    /// 95th percentile latency, s (NaN if nothing was delivered).
    pub latency_p95_s: f64,
    /// 99th percentile latency, s (NaN if nothing was delivered).
    pub latency_p99_s: f64,
    /// Largest latency, s (NaN if nothing was delivered).
    pub latency_max_s: f64,
    /// Charge drawn by all devices, mAh.
    pub energy_mah: f64,
    /// Devices whose battery ran out.
    pub depleted: u64,
    /// Earliest battery depletion, s (NaN if none ran out).
    pub first_depletion_s: f64,
    /// Mean lifetime of the depleted devices, s (NaN if none ran out).
    pub mean_lifetime_s: f64,
    /// Share of device-time the devices were up.
    pub availability: f64,
}

impl From<&Summary> for TwinSimSummary {
    fn from(s: &Summary) -> Self {
        let o = |v: Option<f64>| v.unwrap_or(f64::NAN);
        TwinSimSummary {
            devices: s.devices,
            gateways: s.gateways,
            horizon_s: s.horizon_s,
            events: s.events,
            reports: s.reports,
            transmissions: s.transmissions,
            delivered: s.delivered,
            retries: s.retries,
            failed_transmissions: s.failed_transmissions,
            undelivered: s.undelivered,
            in_flight: s.in_flight,
            lost_channel: s.lost_channel,
            dropped_queue: s.dropped_queue,
            gateway_down: s.gateway_down,
            collisions: s.collisions,
            out_of_range: s.out_of_range,
            duty_cycle_deferred: s.duty_cycle_deferred,
            duty_cycle_skipped: s.duty_cycle_skipped,
            forwarded: s.forwarded,
            delivery_ratio: s.delivery_ratio,
            latency_mean_s: o(s.latency_mean_s),
            latency_p50_s: o(s.latency_p50_s),
            latency_p95_s: o(s.latency_p95_s),
            latency_p99_s: o(s.latency_p99_s),
            latency_max_s: o(s.latency_max_s),
            energy_mah: s.energy_mah,
            depleted: s.depleted,
            first_depletion_s: o(s.first_depletion_s),
            mean_lifetime_s: o(s.mean_lifetime_s),
            availability: s.availability,
        }
    }
}

/// The results of one or more simulation runs (opaque). Made by `twin_sim_run`,
/// `twin_sim_replicate`, `twin_sim_paired` or `twin_sim_sweep`, freed with
/// `twin_sim_report_free`.
///
/// A report never changes: several threads may read it at once; it must not be freed
/// while another thread uses it.
pub struct TwinSimReport {
    runs: Vec<Report>,
    /// One row per run: `run`, `variant` and the summary figures.
    table: Table,
}

impl TwinSimReport {
    fn new(runs: Vec<Report>, baseline: usize) -> twin::Result<Self> {
        let summary = summary_table(&runs)?;
        let mut table = Table::default();
        table.push("run", Column::U64((0..runs.len() as u64).collect()))?;
        table.push(
            "variant",
            Column::U64((0..runs.len()).map(|i| u64::from(i >= baseline)).collect()),
        )?;
        for (name, column) in summary.names.into_iter().zip(summary.columns) {
            table.push(&name, column)?;
        }
        Ok(TwinSimReport { runs, table })
    }

    /// A sweep's reports, with its table (`value`, `replication`, then the summary
    /// columns) as the `"runs"` table.
    fn from_sweep(result: SweepResult) -> Self {
        TwinSimReport {
            runs: result.reports,
            table: result.table,
        }
    }

    fn run(&self, run: usize) -> Result<&Report, TwinResult> {
        self.runs.get(run).ok_or_else(|| {
            fail(
                TwinResult::InvalidInput,
                format!(
                    "run {run} is out of range: the report holds {}",
                    self.runs.len()
                ),
            )
        })
    }

    fn table(&self, run: usize, name: &str) -> Result<&Table, TwinResult> {
        if name == "runs" {
            return Ok(&self.table);
        }
        let r = self.run(run)?;
        match name {
            "devices" => Ok(&r.devices),
            "gateways" => Ok(&r.gateways),
            "timeline" => Ok(&r.timeline),
            _ => Err(fail(
                TwinResult::InvalidInput,
                format!(
                    "unknown table `{name}` (the tables are devices, gateways, timeline and runs)"
                ),
            )),
        }
    }
}

/// A scenario from JSON text, validated.
fn scenario(json: &str, what: &str) -> Result<Scenario, TwinResult> {
    let s = Scenario::from_json(json)
        .map_err(|e| fail(TwinResult::from_kind(e.kind()), format!("{what}: {e}")))?;
    s.validate()
        .map_err(|e| fail(TwinResult::from_kind(e.kind()), format!("{what}: {e}")))?;
    Ok(s)
}

/// Check a scenario given as `len` bytes of JSON (`twin::sim::Scenario`): parse it and
/// validate every field, without running it.
///
/// Errors: text that is not a scenario (bad JSON, a missing or unknown field) gives
/// `TWIN_RESULT_SERIALIZATION`; an invalid value gives `TWIN_RESULT_INVALID_INPUT` with the
/// offending field named in `twin_last_error_message` (for example `groups[0].period_s`).
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `json` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_validate(json: *const c_char, len: usize) -> TwinResult {
    ffi_boundary!("twin_sim_validate", {
        let json = arg!(str json, len);
        scenario(json, "scenario")?;
        Ok(())
    })
}

/// Validate and run a scenario given as `len` bytes of JSON; on success `*out` receives a
/// report of one run, freed with `twin_sim_report_free`.
///
/// Errors (`*out` then untouched): those of `twin_sim_validate`, and
/// `TWIN_RESULT_INVALID_INPUT` when the scenario's estimated memory exceeds its
/// `limits.max_memory_bytes`.
///
/// Thread safety: may be called from any thread; runs on the calling thread.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinSimReport *`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_run(
    json: *const c_char,
    len: usize,
    out: *mut *mut TwinSimReport,
) -> TwinResult {
    ffi_boundary!("twin_sim_run", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let s = scenario(json, "scenario")?;
        let report = twin::sim::run(&s).or_fail()?;
        let report = TwinSimReport::new(vec![report], 1).or_fail()?;
        put_handle(report, out);
        Ok(())
    })
}

/// Run `n` (at least 1) independent replications of a scenario (seeds derived from its
/// seed and the replication index), `threads` at a time (0: the machine's parallelism);
/// the results do not depend on `threads`. `*out` receives a report of `n` runs.
///
/// Errors (`*out` then untouched): those of `twin_sim_run`; `n == 0` gives
/// `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: may be called from any thread; starts up to `threads` threads of its
/// own and joins them before returning.
///
/// # Safety
/// `json` must point to `len` readable bytes; `out` to a writable `TwinSimReport *`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_replicate(
    json: *const c_char,
    len: usize,
    n: usize,
    threads: usize,
    out: *mut *mut TwinSimReport,
) -> TwinResult {
    ffi_boundary!("twin_sim_replicate", {
        let json = arg!(str json, len);
        let out = arg!(out out);
        let s = scenario(json, "scenario")?;
        if n == 0 {
            return Err(fail(TwinResult::InvalidInput, "n must be at least 1"));
        }
        let reports = replicate(&s, n, threads).or_fail()?;
        let report = TwinSimReport::new(reports, n).or_fail()?;
        put_handle(report, out);
        Ok(())
    })
}

/// Run a baseline and a variant scenario for `n` (at least 1) replications each on common
/// random numbers (replication `i` of both uses the same seed, derived from the
/// baseline's). `*out` receives a report of `2 n` runs: runs `0 .. n` are the baseline,
/// runs `n .. 2 n` the variant (column `variant` of the `"runs"` table is 0 or 1).
///
/// Errors (`*out` then untouched): those of `twin_sim_run` for either scenario (the message
/// says which); `n == 0` gives `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: as `twin_sim_replicate`.
///
/// # Safety
/// `baseline_json` must point to `baseline_len` and `variant_json` to `variant_len`
/// readable bytes; `out` to a writable `TwinSimReport *`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_paired(
    baseline_json: *const c_char,
    baseline_len: usize,
    variant_json: *const c_char,
    variant_len: usize,
    n: usize,
    threads: usize,
    out: *mut *mut TwinSimReport,
) -> TwinResult {
    ffi_boundary!("twin_sim_paired", {
        let baseline_json = arg!(str baseline_json, baseline_len);
        let variant_json = arg!(str variant_json, variant_len);
        let out = arg!(out out);
        let b = scenario(baseline_json, "baseline scenario")?;
        let v = scenario(variant_json, "variant scenario")?;
        if n == 0 {
            return Err(fail(TwinResult::InvalidInput, "n must be at least 1"));
        }
        let p = paired(&b, &v, n, threads).or_fail()?;
        let mut runs = p.baseline;
        runs.extend(p.variant);
        let report = TwinSimReport::new(runs, n).or_fail()?;
        put_handle(report, out);
        Ok(())
    })
}

/// Sweep one numeric field of a scenario (given as `len` bytes of JSON) over `n_values`
/// values, `replications_per_value` (at least 1) runs each, `threads` at a time (0: the
/// machine's parallelism), as the Rust `twin::sim::sweep::sweep`. `path` (`path_len`
/// bytes) names the field with dots, e.g. `groups.0.period_s` or
/// `gateways.0.link.loss.p`. Replication `i` of every value runs on the same seed (derived
/// from the scenario's seed and `i`, as replication `i` of `twin_sim_replicate`), so the
/// values are compared on common random numbers.
///
/// `*out` receives a report of `n_values × replications_per_value` runs, value by value
/// (run `v × replications_per_value + i` is replication `i` of `values[v]`); its `"runs"`
/// table has the columns `value`, `replication`, then the summary columns.
///
/// Errors (`*out` then untouched): those of `twin_sim_run`; `n_values == 0`,
/// `replications_per_value == 0` or a NaN or infinite value give
/// `TWIN_RESULT_INVALID_INPUT`; so does a path that names no numeric field (the message
/// names the path), a value that makes the scenario invalid (the message names the run and
/// the field), and a batch whose memory would exceed the scenario's
/// `limits.max_memory_bytes` (checked before anything runs).
///
/// Thread safety: as `twin_sim_replicate`.
///
/// # Safety
/// `json` must point to `len` and `path` to `path_len` readable bytes; `values` to
/// `n_values` readable doubles; `out` to a writable `TwinSimReport *`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_sweep(
    json: *const c_char,
    len: usize,
    path: *const c_char,
    path_len: usize,
    values: *const f64,
    n_values: usize,
    replications_per_value: usize,
    threads: usize,
    out: *mut *mut TwinSimReport,
) -> TwinResult {
    ffi_boundary!("twin_sim_sweep", {
        let json = arg!(str json, len);
        let path = arg!(str path, path_len);
        let values = arg!(slice values, n_values);
        let out = arg!(out out);
        let s = scenario(json, "scenario")?;
        if values.is_empty() {
            return Err(fail(
                TwinResult::InvalidInput,
                "n_values must be at least 1",
            ));
        }
        if replications_per_value == 0 {
            return Err(fail(
                TwinResult::InvalidInput,
                "replications_per_value must be at least 1",
            ));
        }
        if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("values[{i}] is {v}; every swept value must be finite"),
            ));
        }
        let result = sweep(&s, path, values, replications_per_value, threads).or_fail()?;
        put_handle(TwinSimReport::from_sweep(result), out);
        Ok(())
    })
}

/// Free a report. `twin_sim_report_free(NULL)` does nothing.
///
/// Thread safety: no other thread may use the report during or after this call.
///
/// # Safety
/// `report` must be NULL or a report from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_free(report: *mut TwinSimReport) {
    let _ = ffi_boundary!("twin_sim_report_free", {
        // SAFETY: forwarded from the caller.
        unsafe { drop_handle(report) };
        Ok(())
    });
}

/// The number of runs the report holds, into `*out_runs`.
///
/// Thread safety: safe to call concurrently with other calls on the same report.
///
/// # Safety
/// `report` must be a live report; `out_runs` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_run_count(
    report: *const TwinSimReport,
    out_runs: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_report_run_count", {
        let report = arg!(ref report);
        let out_runs = arg!(out out_runs);
        put(out_runs, report.runs.len());
        Ok(())
    })
}

/// The summary of run `run` (0 for a single run), into `*out`.
///
/// Errors (`*out` then untouched): `run` not below the run count gives
/// `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: safe to call concurrently with other calls on the same report.
///
/// # Safety
/// `report` must be a live report; `out` must point to a writable `TwinSimSummary`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_summary(
    report: *const TwinSimReport,
    run: usize,
    out: *mut TwinSimSummary,
) -> TwinResult {
    ffi_boundary!("twin_sim_report_summary", {
        let report = arg!(ref report);
        let out = arg!(out out);
        let r = report.run(run)?;
        put(out, TwinSimSummary::from(&r.summary));
        Ok(())
    })
}

/// The number of rows of table `table` (`"devices"`, `"gateways"`, `"timeline"`, or
/// `"runs"`, `table_len` bytes) of run `run`, into `*out_rows`. The `"runs"` table belongs
/// to the whole report (`run` must still be a valid run).
///
/// Errors (`*out_rows` then untouched): an unknown table or a run out of range give
/// `TWIN_RESULT_INVALID_INPUT`.
///
/// Thread safety: safe to call concurrently with other calls on the same report.
///
/// # Safety
/// `report` must be a live report; `table` must point to `table_len` readable bytes;
/// `out_rows` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_table_rows(
    report: *const TwinSimReport,
    run: usize,
    table: *const c_char,
    table_len: usize,
    out_rows: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_report_table_rows", {
        let report = arg!(ref report);
        let table = arg!(str table, table_len);
        let out_rows = arg!(out out_rows);
        let t = report.table(run, table)?;
        put(out_rows, t.rows());
        Ok(())
    })
}

/// The number of columns of a table (as `twin_sim_report_table_rows`), into `*out_cols`.
///
/// Thread safety: safe to call concurrently with other calls on the same report.
///
/// # Safety
/// As `twin_sim_report_table_rows`, with `out_cols` a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_column_count(
    report: *const TwinSimReport,
    run: usize,
    table: *const c_char,
    table_len: usize,
    out_cols: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_report_column_count", {
        let report = arg!(ref report);
        let table = arg!(str table, table_len);
        let out_cols = arg!(out out_cols);
        let t = report.table(run, table)?;
        put(out_cols, t.names.len());
        Ok(())
    })
}

/// The name of column `index` of a table, copied NUL-terminated into `buf` (`buf = NULL,
/// cap = 0` asks for the length; `*out_len` gets the length without the NUL).
///
/// Errors (nothing written): an unknown table, a run or an index out of range give
/// `TWIN_RESULT_INVALID_INPUT`; a buffer too small `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other calls on the same report.
///
/// # Safety
/// As `twin_sim_report_table_rows`; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_column_name(
    report: *const TwinSimReport,
    run: usize,
    table: *const c_char,
    table_len: usize,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_report_column_name", {
        let report = arg!(ref report);
        let table = arg!(str table, table_len);
        let t = report.table(run, table)?;
        let name = t.names.get(index).ok_or_else(|| {
            fail(
                TwinResult::InvalidInput,
                format!(
                    "column {index} is out of range: table `{table}` has {} columns",
                    t.names.len()
                ),
            )
        })?;
        crate::result::copy_str_out(name, buf, cap, out_len)
    })
}

/// Copy column `name` (`name_len` bytes) of a table into `out[0 .. rows]` as doubles
/// (counts are exact below 2^53); `*out_len` gets the number of rows. Size `out` with
/// `twin_sim_report_table_rows`.
///
/// Errors (nothing written): an unknown table or column, or a run out of range give
/// `TWIN_RESULT_INVALID_INPUT` (the message names the column); `cap` below the row count
/// `TWIN_RESULT_BUFFER_TOO_SMALL`.
///
/// Thread safety: safe to call concurrently with other calls on the same report.
///
/// # Safety
/// As `twin_sim_report_table_rows`; `name` must point to `name_len` readable bytes, `out`
/// to `cap` writable doubles (NULL if `cap` is 0) and `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_column(
    report: *const TwinSimReport,
    run: usize,
    table: *const c_char,
    table_len: usize,
    name: *const c_char,
    name_len: usize,
    out: *mut f64,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_report_column", {
        let report = arg!(ref report);
        let table = arg!(str table, table_len);
        let name = arg!(str name, name_len);
        let out = arg!(out_slice out, cap);
        let out_len = arg!(out out_len);
        let t = report.table(run, table)?;
        let values: Vec<f64> = match t.column(name) {
            Ok(Column::F64(v)) => v.clone(),
            Ok(Column::U64(v)) => v.iter().map(|&x| x as f64).collect(),
            Ok(Column::I64(v)) => v.iter().map(|&x| x as f64).collect(),
            Err(_) => {
                return Err(fail(
                    TwinResult::InvalidInput,
                    format!(
                        "table `{table}` has no column `{name}` (it has {})",
                        t.names.join(", ")
                    ),
                ))
            }
        };
        copy_slice_out(&values, out, cap, out_len, "rows")
    })
}

/// Run `run` of the report (its summary, tables and latency histogram, the Rust
/// `twin::sim::Report`) as JSON into `buf`; `buf = NULL, cap = 0` asks for the length, a
/// buffer too small gives `TWIN_RESULT_BUFFER_TOO_SMALL` and writes nothing. Absent
/// figures and NaN table entries are written as `null`.
///
/// Thread safety: safe to call concurrently with other calls on the same report.
///
/// # Safety
/// `report` must be a live report; `buf` must be NULL or point to `cap` writable bytes;
/// `out_len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_sim_report_to_json(
    report: *const TwinSimReport,
    run: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!("twin_sim_report_to_json", {
        let report = arg!(ref report);
        let r = report.run(run)?;
        json_out(
            serde_json::to_string(r).map_err(twin::Error::from),
            buf,
            cap,
            out_len,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::twin_last_error_message;
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    /// Four devices reporting every minute for ten minutes over a lossy link: 40 reports.
    const SCENARIO: &str = r#"{"seed": 3, "horizon_s": 600,
        "gateways": [{"name": "gw0", "link": {"latency_s": 0.05,
            "loss": {"model": "bernoulli", "p": 0.3}}}],
        "groups": [{"count": 4, "period_s": 60, "gateways": [0]}]}"#;

    fn c(s: &str) -> *const c_char {
        s.as_ptr().cast()
    }

    fn last_error() -> String {
        let mut buf = [0 as c_char; 512];
        let mut len = 0;
        // SAFETY: valid buffer and length pointer.
        let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    fn run(json: &str) -> *mut TwinSimReport {
        let mut out = null_mut();
        // SAFETY: valid text and out pointer.
        let r = unsafe { twin_sim_run(c(json), json.len(), &mut out) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        out
    }

    fn column(report: *const TwinSimReport, run: usize, table: &str, name: &str) -> Vec<f64> {
        let mut rows = 0;
        // SAFETY: live report, valid strings and outputs.
        let r =
            unsafe { twin_sim_report_table_rows(report, run, c(table), table.len(), &mut rows) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let mut v = vec![f64::NAN; rows];
        let mut len = usize::MAX;
        // SAFETY: as above; `v` holds `rows` doubles.
        let r = unsafe {
            twin_sim_report_column(
                report,
                run,
                c(table),
                table.len(),
                c(name),
                name.len(),
                v.as_mut_ptr(),
                v.len(),
                &mut len,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        assert_eq!(len, rows);
        v
    }

    fn summary(report: *const TwinSimReport, run: usize) -> TwinSimSummary {
        let mut s = std::mem::MaybeUninit::<TwinSimSummary>::zeroed();
        // SAFETY: live report, writable summary.
        let r = unsafe { twin_sim_report_summary(report, run, s.as_mut_ptr()) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        // SAFETY: written on success.
        unsafe { s.assume_init() }
    }

    #[test]
    fn a_run_matches_rust_and_its_counts_reconcile() {
        let report = run(SCENARIO);
        let s = summary(report, 0);
        assert_eq!((s.devices, s.gateways, s.reports), (4, 1, 40));
        assert_eq!(s.reports, s.delivered + s.undelivered + s.in_flight);
        assert_eq!(
            s.failed_transmissions,
            s.lost_channel + s.dropped_queue + s.gateway_down + s.collisions + s.out_of_range
        );
        assert!(s.lost_channel > 0 && s.delivered > 0, "{s:?}");
        assert_eq!(s.delivery_ratio, s.delivered as f64 / s.reports as f64);
        // The per-device columns add up to the summary.
        let sum = |name: &str| column(report, 0, "devices", name).iter().sum::<f64>();
        assert_eq!(sum("reports"), 40.0);
        assert_eq!(sum("delivered"), s.delivered as f64);
        assert_eq!(sum("undelivered"), s.undelivered as f64);
        assert_eq!(sum("failed_transmissions"), s.failed_transmissions as f64);
        assert_eq!(
            column(report, 0, "gateways", "received")[0],
            s.delivered as f64
        );
        // The same run in Rust gives the same report, to the byte.
        let rust = twin::sim::run(&Scenario::from_json(SCENARIO).expect("scenario")).expect("run");
        assert_eq!(TwinSimSummary::from(&rust.summary).reports, s.reports);
        assert_eq!(rust.summary.delivered, s.delivered);
        let mut len = 0;
        // SAFETY: size query.
        let r = unsafe { twin_sim_report_to_json(report, 0, null_mut(), 0, &mut len) };
        assert_eq!(r, TwinResult::Ok);
        let mut buf = vec![0 as c_char; len + 1];
        // SAFETY: buffer of len + 1 bytes.
        let r =
            unsafe { twin_sim_report_to_json(report, 0, buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        let json = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .expect("utf8");
        assert_eq!(json, serde_json::to_string(&rust).expect("json"));
        // Column names: the first device column is `device`.
        let mut n = 0;
        // SAFETY: live report, valid outputs.
        let r = unsafe { twin_sim_report_column_count(report, 0, c("devices"), 7, &mut n) };
        assert_eq!((r, n), (TwinResult::Ok, rust.devices.names.len()));
        let mut name = [0 as c_char; 32];
        // SAFETY: valid buffer.
        let r = unsafe {
            twin_sim_report_column_name(
                report,
                0,
                c("devices"),
                7,
                0,
                name.as_mut_ptr(),
                32,
                &mut len,
            )
        };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        assert_eq!(
            unsafe { CStr::from_ptr(name.as_ptr()) }.to_str(),
            Ok("device")
        );
        // SAFETY: report from twin_sim_run.
        unsafe { twin_sim_report_free(report) };
    }

    #[test]
    fn replications_and_paired_runs() {
        let mut reps = null_mut();
        // SAFETY: valid text and out pointer.
        let r = unsafe { twin_sim_replicate(c(SCENARIO), SCENARIO.len(), 3, 2, &mut reps) };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let mut runs = 0;
        // SAFETY: live report.
        assert_eq!(
            unsafe { twin_sim_report_run_count(reps, &mut runs) },
            TwinResult::Ok
        );
        assert_eq!(runs, 3);
        let delivered = column(reps, 0, "runs", "delivered");
        let reports = column(reps, 0, "runs", "reports");
        for i in 0..3 {
            let s = summary(reps, i);
            assert_eq!(delivered[i], s.delivered as f64);
            assert_eq!(reports[i], 40.0);
            assert_eq!(s.reports, s.delivered + s.undelivered + s.in_flight);
        }
        // Same seeds whatever the threads.
        let rust =
            twin::sim::sweep::replicate(&Scenario::from_json(SCENARIO).expect("scenario"), 3, 1)
                .expect("replicate");
        for (i, r) in rust.iter().enumerate() {
            assert_eq!(summary(reps, i).delivered, r.summary.delivered);
        }
        // Paired: a lossless variant delivers at least as much on every replication.
        let lossless = SCENARIO.replace("\"p\": 0.3", "\"p\": 0.0");
        let mut p = null_mut();
        // SAFETY: valid texts and out pointer.
        let r = unsafe {
            twin_sim_paired(
                c(SCENARIO),
                SCENARIO.len(),
                c(&lossless),
                lossless.len(),
                2,
                1,
                &mut p,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        // SAFETY: live report.
        assert_eq!(
            unsafe { twin_sim_report_run_count(p, &mut runs) },
            TwinResult::Ok
        );
        assert_eq!(runs, 4);
        assert_eq!(column(p, 0, "runs", "variant"), vec![0.0, 0.0, 1.0, 1.0]);
        for i in 0..2 {
            let (b, v) = (summary(p, i), summary(p, i + 2));
            assert_eq!(v.lost_channel, 0);
            assert_eq!(v.delivered + v.in_flight, 40);
            assert!(v.delivered >= b.delivered);
        }
        // SAFETY: reports from this library.
        unsafe {
            twin_sim_report_free(reps);
            twin_sim_report_free(p);
        }
    }

    #[test]
    fn a_sweep_matches_rust_and_refuses_bad_input() {
        let path = "gateways.0.link.loss.p";
        let values = [0.0, 0.3, 0.6];
        let mut out = null_mut();
        // SAFETY: valid texts, values and out pointer.
        let r = unsafe {
            twin_sim_sweep(
                c(SCENARIO),
                SCENARIO.len(),
                c(path),
                path.len(),
                values.as_ptr(),
                3,
                2,
                2,
                &mut out,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let mut runs = 0;
        // SAFETY: live report.
        assert_eq!(
            unsafe { twin_sim_report_run_count(out, &mut runs) },
            TwinResult::Ok
        );
        assert_eq!(runs, 6);
        assert_eq!(
            column(out, 0, "runs", "value"),
            vec![0.0, 0.0, 0.3, 0.3, 0.6, 0.6]
        );
        assert_eq!(
            column(out, 0, "runs", "replication"),
            vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
        );
        let scenario = Scenario::from_json(SCENARIO).expect("scenario");
        let rust = sweep(&scenario, path, &values, 2, 1).expect("sweep");
        let delivered = column(out, 0, "runs", "delivered");
        for (i, r) in rust.reports.iter().enumerate() {
            assert_eq!(summary(out, i).delivered, r.summary.delivered);
            assert_eq!(delivered[i], r.summary.delivered as f64);
        }
        // Replication i of the swept value 0.3 is replication i of the scenario itself.
        let reps = replicate(&scenario, 2, 1).expect("replicate");
        for (i, r) in reps.iter().enumerate() {
            assert_eq!(summary(out, 2 + i).delivered, r.summary.delivered);
        }
        // SAFETY: report from this library.
        unsafe { twin_sim_report_free(out) };
        let sentinel = std::ptr::dangling_mut::<TwinSimReport>();
        let mut out = sentinel;
        let call = |path: &str, values: &[f64], reps: usize, out: &mut *mut TwinSimReport| {
            // SAFETY: valid texts and values; `out` is writable.
            unsafe {
                twin_sim_sweep(
                    c(SCENARIO),
                    SCENARIO.len(),
                    c(path),
                    path.len(),
                    values.as_ptr(),
                    values.len(),
                    reps,
                    1,
                    out,
                )
            }
        };
        assert_eq!(
            call("groups.0.nope", &[1.0], 1, &mut out),
            TwinResult::InvalidInput
        );
        assert!(last_error().contains("groups.0.nope"), "{}", last_error());
        assert_eq!(call(path, &[], 1, &mut out), TwinResult::InvalidInput);
        assert_eq!(call(path, &[0.1], 0, &mut out), TwinResult::InvalidInput);
        assert_eq!(
            call(path, &[f64::NAN], 1, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(call(path, &[1.5], 1, &mut out), TwinResult::InvalidInput);
        assert_eq!(
            call(path, &[0.1, 0.2], 1_000_000_000_000, &mut out),
            TwinResult::InvalidInput
        );
        assert!(
            last_error().contains("limits.max_memory_bytes"),
            "{}",
            last_error()
        );
        assert_eq!(out, sentinel);
        // SAFETY: NULL pointers, which the function checks.
        unsafe {
            assert_eq!(
                twin_sim_sweep(
                    c(SCENARIO),
                    SCENARIO.len(),
                    c(path),
                    path.len(),
                    [0.1].as_ptr(),
                    1,
                    1,
                    1,
                    null_mut()
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_sweep(
                    c(SCENARIO),
                    SCENARIO.len(),
                    null(),
                    4,
                    [0.1].as_ptr(),
                    1,
                    1,
                    1,
                    &mut out
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_sweep(
                    c(SCENARIO),
                    SCENARIO.len(),
                    c(path),
                    path.len(),
                    null(),
                    1,
                    1,
                    1,
                    &mut out
                ),
                TwinResult::NullParameter
            );
        }
        assert_eq!(out, sentinel);
    }

    #[test]
    fn bad_scenarios_name_the_field_and_leave_out_untouched() {
        let bad = SCENARIO.replace("\"period_s\": 60", "\"period_s\": -1");
        // SAFETY: valid text.
        let r = unsafe { twin_sim_validate(c(&bad), bad.len()) };
        assert_eq!(r, TwinResult::InvalidInput);
        assert!(
            last_error().contains("groups[0].period_s"),
            "{}",
            last_error()
        );
        let sentinel = std::ptr::dangling_mut::<TwinSimReport>();
        let mut out = sentinel;
        // SAFETY: valid text and out pointer.
        let r = unsafe { twin_sim_run(c(&bad), bad.len(), &mut out) };
        assert_eq!((r, out), (TwinResult::InvalidInput, sentinel));
        // SAFETY: valid text and out pointer.
        let r = unsafe { twin_sim_replicate(c(&bad), bad.len(), 2, 1, &mut out) };
        assert_eq!((r, out), (TwinResult::InvalidInput, sentinel));
        // SAFETY: valid texts and out pointer.
        let r = unsafe {
            twin_sim_paired(
                c(SCENARIO),
                SCENARIO.len(),
                c(&bad),
                bad.len(),
                1,
                1,
                &mut out,
            )
        };
        assert_eq!((r, out), (TwinResult::InvalidInput, sentinel));
        assert!(
            last_error().contains("variant scenario"),
            "{}",
            last_error()
        );
        // Negative horizon, an unknown field, not JSON, invalid UTF-8, n == 0.
        let neg = SCENARIO.replace("\"horizon_s\": 600", "\"horizon_s\": -600");
        // SAFETY: valid text.
        assert_eq!(
            unsafe { twin_sim_validate(c(&neg), neg.len()) },
            TwinResult::InvalidInput
        );
        assert!(last_error().contains("horizon_s"));
        let unknown = SCENARIO.replace("\"seed\"", "\"sede\"");
        // SAFETY: valid text.
        let r = unsafe { twin_sim_validate(c(&unknown), unknown.len()) };
        assert_eq!(r, TwinResult::Serialization);
        assert!(last_error().contains("sede"), "{}", last_error());
        // SAFETY: valid text.
        assert_eq!(
            unsafe { twin_sim_validate(c("{"), 1) },
            TwinResult::Serialization
        );
        let invalid = [0xffu8, 0xfe];
        // SAFETY: two readable bytes.
        let r = unsafe { twin_sim_validate(invalid.as_ptr().cast(), 2) };
        assert_eq!(r, TwinResult::InvalidUtf8);
        // SAFETY: valid text and out pointer.
        let r = unsafe { twin_sim_replicate(c(SCENARIO), SCENARIO.len(), 0, 1, &mut out) };
        assert_eq!((r, out), (TwinResult::InvalidInput, sentinel));
        // SAFETY: valid text and out pointer.
        let r = unsafe {
            twin_sim_paired(
                c(SCENARIO),
                SCENARIO.len(),
                c(SCENARIO),
                SCENARIO.len(),
                0,
                1,
                &mut out,
            )
        };
        assert_eq!((r, out), (TwinResult::InvalidInput, sentinel));
        assert_eq!(TwinResult::Ok, {
            // SAFETY: valid text.
            unsafe { twin_sim_validate(c(SCENARIO), SCENARIO.len()) }
        });
    }

    #[test]
    fn null_and_invalid_arguments_are_refused() {
        let n = SCENARIO.len();
        let mut out = null_mut();
        // SAFETY: every pointer is NULL or valid; the functions check.
        unsafe {
            assert_eq!(twin_sim_validate(null(), n), TwinResult::NullParameter);
            assert_eq!(twin_sim_run(null(), n, &mut out), TwinResult::NullParameter);
            assert_eq!(
                twin_sim_run(c(SCENARIO), n, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_replicate(null(), n, 1, 1, &mut out),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_replicate(c(SCENARIO), n, 1, 1, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_paired(null(), n, c(SCENARIO), n, 1, 1, &mut out),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_paired(c(SCENARIO), n, null(), n, 1, 1, &mut out),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_paired(c(SCENARIO), n, c(SCENARIO), n, 1, 1, null_mut()),
                TwinResult::NullParameter
            );
            assert!(out.is_null());
            twin_sim_report_free(null_mut());
        }
        let report = run(SCENARIO);
        let mut x = 7usize;
        let mut s = summary(report, 0);
        let before = s;
        let mut col = [-1.0f64; 4];
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                twin_sim_report_run_count(null(), &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_run_count(report, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_summary(null(), 0, &mut s),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_summary(report, 0, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_summary(report, 1, &mut s),
                TwinResult::InvalidInput
            );
            assert!(last_error().contains("run 1 is out of range"));
            assert_eq!(
                twin_sim_report_table_rows(null(), 0, c("devices"), 7, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_table_rows(report, 0, null(), 7, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_table_rows(report, 0, c("devices"), 7, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_table_rows(report, 0, c("nodes"), 5, &mut x),
                TwinResult::InvalidInput
            );
            assert!(last_error().contains("unknown table `nodes`"));
            assert_eq!(
                twin_sim_report_table_rows(report, 2, c("devices"), 7, &mut x),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_sim_report_column_count(report, 0, c("nodes"), 5, &mut x),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_sim_report_column_count(null(), 0, c("devices"), 7, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_column_count(report, 0, c("devices"), 7, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_column_name(report, 0, c("devices"), 7, 99, null_mut(), 0, &mut x),
                TwinResult::InvalidInput
            );
            assert_eq!(
                twin_sim_report_column_name(null(), 0, c("devices"), 7, 0, null_mut(), 0, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_column_name(
                    report,
                    0,
                    c("devices"),
                    7,
                    0,
                    null_mut(),
                    0,
                    null_mut()
                ),
                TwinResult::NullParameter
            );
            // A buffer too small, an unknown column, NULL buffers: nothing written.
            assert_eq!(
                twin_sim_report_column(
                    report,
                    0,
                    c("devices"),
                    7,
                    c("delivered"),
                    9,
                    col.as_mut_ptr(),
                    3,
                    &mut x
                ),
                TwinResult::BufferTooSmall
            );
            assert_eq!(
                twin_sim_report_column(
                    report,
                    0,
                    c("devices"),
                    7,
                    c("nope"),
                    4,
                    col.as_mut_ptr(),
                    4,
                    &mut x
                ),
                TwinResult::InvalidInput
            );
            assert!(last_error().contains("no column `nope`"));
            assert_eq!(
                twin_sim_report_column(
                    report,
                    0,
                    c("devices"),
                    7,
                    c("delivered"),
                    9,
                    null_mut(),
                    4,
                    &mut x
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_column(
                    report,
                    0,
                    c("devices"),
                    7,
                    null(),
                    9,
                    col.as_mut_ptr(),
                    4,
                    &mut x
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_column(
                    null(),
                    0,
                    c("devices"),
                    7,
                    c("delivered"),
                    9,
                    col.as_mut_ptr(),
                    4,
                    &mut x
                ),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_column(
                    report,
                    0,
                    c("devices"),
                    7,
                    c("delivered"),
                    9,
                    col.as_mut_ptr(),
                    4,
                    null_mut()
                ),
                TwinResult::NullParameter
            );
            assert_eq!(col, [-1.0; 4]);
            assert_eq!(
                twin_sim_report_to_json(null(), 0, null_mut(), 0, &mut x),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_to_json(report, 0, null_mut(), 0, null_mut()),
                TwinResult::NullParameter
            );
            assert_eq!(
                twin_sim_report_to_json(report, 5, null_mut(), 0, &mut x),
                TwinResult::InvalidInput
            );
            let mut small = [b'x' as c_char; 8];
            assert_eq!(
                twin_sim_report_to_json(report, 0, small.as_mut_ptr(), 8, &mut x),
                TwinResult::BufferTooSmall
            );
            assert!(small.iter().all(|&b| b == b'x' as c_char));
            twin_sim_report_free(report);
        }
        assert_eq!(x, 7);
        assert_eq!(s.reports, before.reports);
    }
}
