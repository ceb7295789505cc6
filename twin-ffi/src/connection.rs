//! A `DataConnection` implemented in C: a table of callbacks plus user data, so a C
//! program feeds a twin from its own fieldbus and receives the twin's commands.

use std::ffi::c_void;

use twin::connection::DataConnection;
use twin::{BatchRef, Command, Error, SampleBatch};

use crate::handle::TwinTwin;
use crate::result::{fail, OrFail, TwinResult};
use crate::types::{TwinCommand, TwinRejection};

/// Reads up to `capacity` samples into the three caller-owned arrays (`times_ns[i]`,
/// `signals[i]`, `values[i]`) and stores how many it wrote in `*written`. Returns
/// `TWIN_RESULT_OK` (0), or a nonzero code when the source failed:
/// `TWIN_RESULT_DISCONNECTED` when it is gone for good, any other nonzero code for a
/// transient I/O failure.
pub type TwinPollFn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        times_ns: *mut i64,
        signals: *mut u32,
        values: *mut f64,
        capacity: usize,
        written: *mut usize,
    ) -> u32,
>;

/// Delivers one validated command to the asset. Returns `TWIN_RESULT_OK` (0) when it was
/// handed over, nonzero when it could not be (the twin counts it as failed and keeps it
/// in its audit log).
pub type TwinSendFn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, command: *const TwinCommand) -> u32>;

/// A connection written in C. The library never frees `user_data` and never keeps the
/// table beyond the call it is passed to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TwinConnection {
    /// Passed unchanged as the first argument of both callbacks.
    pub user_data: *mut c_void,
    /// Fetches samples (required).
    pub poll: TwinPollFn,
    /// Delivers commands (required).
    pub send: TwinSendFn,
}

/// What one `twin_twin_step` did.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TwinStepReport {
    /// Samples the poll callback delivered.
    pub polled: usize,
    /// Of those, samples taken into the state.
    pub accepted: usize,
    /// Of those, samples refused (`polled == accepted + rejected`); see
    /// `twin_twin_last_rejections`.
    pub rejected: usize,
    /// Commands the send callback accepted.
    pub sent: usize,
    /// Commands the send callback refused.
    pub send_failed: usize,
}

/// The most samples one `twin_twin_step` asks for (the poll buffers are sized by it).
pub const TWIN_MAX_STEP_SAMPLES: usize = 1_048_576;
const MAX_STEP_SAMPLES: usize = TWIN_MAX_STEP_SAMPLES;

/// The Rust side of a C connection: reusable buffers the poll callback writes into.
struct CConnection<'a> {
    table: &'a TwinConnection,
    scratch: &'a mut PollScratch,
}

/// Buffers kept on the twin handle so that stepping does not allocate once warm.
#[derive(Debug, Default)]
pub(crate) struct PollScratch {
    times: Vec<i64>,
    signals: Vec<u32>,
    values: Vec<f64>,
}

fn callback_error(what: &str, code: u32) -> Error {
    if code == TwinResult::Disconnected as u32 {
        Error::Disconnected(format!("the {what} callback reported the source gone"))
    } else {
        Error::Io(std::io::Error::other(format!(
            "the {what} callback returned {code}"
        )))
    }
}

impl DataConnection for CConnection<'_> {
    fn poll(&mut self, out: &mut SampleBatch, max: usize) -> twin::Result<usize> {
        let poll = self
            .table
            .poll
            .ok_or_else(|| Error::InvalidInput("the connection has no poll callback".into()))?;
        let s = &mut *self.scratch;
        s.times.resize(max, 0);
        s.signals.resize(max, 0);
        s.values.resize(max, 0.0);
        let mut written = 0usize;
        // SAFETY: the three buffers hold `max` elements each and live for the call; the
        // caller of `twin_twin_step` promises the callback honours the contract.
        let code = unsafe {
            poll(
                self.table.user_data,
                s.times.as_mut_ptr(),
                s.signals.as_mut_ptr(),
                s.values.as_mut_ptr(),
                max,
                &mut written,
            )
        };
        if code != 0 {
            return Err(callback_error("poll", code));
        }
        if written > max {
            return Err(Error::InvalidInput(format!(
                "the poll callback wrote {written} samples into room for {max}"
            )));
        }
        out.extend_from(BatchRef::new(
            &s.times[..written],
            &s.signals[..written],
            &s.values[..written],
        )?);
        Ok(written)
    }

    fn send(&mut self, command: &Command) -> twin::Result<()> {
        let send = self
            .table
            .send
            .ok_or_else(|| Error::InvalidInput("the connection has no send callback".into()))?;
        let c = TwinCommand::from(command);
        // SAFETY: `c` lives for the call; the callback only reads it.
        let code = unsafe { send(self.table.user_data, &c) };
        if code == 0 {
            Ok(())
        } else {
            Err(callback_error("send", code))
        }
    }
}

/// One turn of a scan loop: ask `connection->poll` for up to `max_samples` samples,
/// ingest them (each accepted or refused, as `twin_twin_ingest_batch`; the rejections are
/// kept for `twin_twin_last_rejections`), then hand every pending command to
/// `connection->send`, each one recorded in the audit log as sent or failed.
///
/// `max_samples` may be at most `TWIN_MAX_STEP_SAMPLES` (`TWIN_RESULT_INVALID_INPUT`
/// otherwise). On success `*out_report` gets the counts. If the poll callback fails, the result is
/// `TWIN_RESULT_DISCONNECTED` (the callback returned that code) or `TWIN_RESULT_IO` (any
/// other nonzero code), nothing is ingested or sent, and `*out_report` is untouched; the
/// same if it claims to have written more than `max_samples` (`TWIN_RESULT_INVALID_INPUT`).
/// A refused command does not fail the step: it is counted in `send_failed`.
///
/// Thread safety: not safe for concurrent use of the same twin. The callbacks run on the
/// calling thread, inside this call, and must not call any function on this twin.
///
/// # Safety
/// `twin` must be a live twin; `connection` must point to a `TwinConnection` whose
/// callbacks follow their contracts; `out_report` must point to a writable
/// `TwinStepReport`.
#[no_mangle]
pub unsafe extern "C" fn twin_twin_step(
    twin: *mut TwinTwin,
    connection: *const TwinConnection,
    max_samples: usize,
    out_report: *mut TwinStepReport,
) -> TwinResult {
    ffi_boundary!("twin_twin_step", {
        let twin = arg!(mut twin);
        let connection = arg!(ref connection);
        let out_report = arg!(out out_report);
        if max_samples > MAX_STEP_SAMPLES {
            return Err(fail(
                TwinResult::InvalidInput,
                format!("max_samples is {max_samples}; at most {MAX_STEP_SAMPLES} per step"),
            ));
        }
        if connection.poll.is_none() || connection.send.is_none() {
            return Err(fail(
                TwinResult::NullParameter,
                "connection->poll and connection->send must both be set",
            ));
        }
        let (inner, scratch, rejections) = twin.parts();
        let mut conn = CConnection {
            table: connection,
            scratch,
        };
        let report = inner.step(&mut conn, max_samples).or_fail()?;
        rejections.clear();
        rejections.extend(report.ingest.rejections.iter().map(|r| TwinRejection {
            index: r.index,
            reason: TwinResult::from_kind(r.kind),
        }));
        let counts = TwinStepReport {
            polled: report.polled,
            accepted: report.ingest.accepted,
            rejected: report.ingest.rejected(),
            sent: report.sent,
            send_failed: report.send_failed,
        };
        // SAFETY: `out_report` is checked non-NULL and aligned.
        unsafe { out_report.write(counts) };
        Ok(())
    })
}
