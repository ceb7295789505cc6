//! Long runs from Python: the work runs on a worker thread while the calling thread, with
//! the GIL released, waits in short slices; between slices it checks for signals (so
//! Ctrl-C raises `KeyboardInterrupt` within a slice or two) and reports progress to a
//! callback or a tqdm bar.
//!
//! On an interrupt (or an exception raised by the callback) the run's
//! [`twin::progress::Progress`] is cancelled and the caller waits, GIL released, until the
//! worker has stopped, so nothing is left running when the exception reaches Python.

use std::thread;
use std::time::Duration;

use pyo3::exceptions::{PyImportError, PyTypeError};
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};
use twin::progress::Progress;

use crate::errors::to_py;

/// How long the caller waits between two signal checks.
const SLICE: Duration = Duration::from_millis(20);

/// Where progress goes: nowhere, a `progress(done, total)` callable, or a tqdm bar.
enum Reporter<'py> {
    Quiet,
    Callback(Bound<'py, PyAny>),
    /// tqdm's class, the bar once the total is known, and the count it shows.
    Bar {
        class: Bound<'py, PyAny>,
        desc: &'static str,
        bar: Option<Bound<'py, PyAny>>,
        shown: u64,
    },
}

impl<'py> Reporter<'py> {
    /// The reporter for a `progress=` argument: `None`/`False` quiet, `True` a tqdm bar
    /// (quiet when tqdm is not installed), a callable called as `progress(done, total)`.
    fn new(
        py: Python<'py>,
        progress: Option<&Bound<'py, PyAny>>,
        desc: &'static str,
    ) -> PyResult<Self> {
        let Some(p) = progress.filter(|p| !p.is_none()) else {
            return Ok(Reporter::Quiet);
        };
        if let Ok(b) = p.cast::<PyBool>() {
            if !b.is_true() {
                return Ok(Reporter::Quiet);
            }
            return match py.import("tqdm.auto") {
                Ok(m) => Ok(Reporter::Bar {
                    class: m.getattr("tqdm")?,
                    desc,
                    bar: None,
                    shown: 0,
                }),
                Err(e) if e.is_instance_of::<PyImportError>(py) => Ok(Reporter::Quiet),
                Err(e) => Err(e),
            };
        }
        if p.is_callable() {
            return Ok(Reporter::Callback(p.clone()));
        }
        Err(PyTypeError::new_err(format!(
            "progress must be a callable progress(done, total), True (a tqdm bar), False or \
             None, not {}",
            p.get_type().name()?
        )))
    }

    fn update(&mut self, done: u64, total: u64) -> PyResult<()> {
        match self {
            Reporter::Quiet => Ok(()),
            Reporter::Callback(f) => f.call1((done, total)).map(|_| ()),
            Reporter::Bar {
                class,
                desc,
                bar,
                shown,
            } => {
                if bar.is_none() {
                    let kw = PyDict::new(class.py());
                    kw.set_item("total", total)?;
                    kw.set_item("desc", *desc)?;
                    *bar = Some(class.call((), Some(&kw))?);
                    *shown = 0;
                }
                if let Some(b) = bar {
                    if b.getattr("total")?.extract::<Option<u64>>()? != Some(total) {
                        b.setattr("total", total)?;
                    }
                    if done > *shown {
                        b.call_method1("update", (done - *shown,))?;
                        *shown = done;
                    }
                }
                Ok(())
            }
        }
    }

    fn close(&mut self) -> PyResult<()> {
        if let Reporter::Bar { bar: Some(b), .. } = self {
            b.call_method0("close")?;
        }
        Ok(())
    }
}

/// Run `work` on a worker thread with progress reporting and Ctrl-C (see the module
/// docs). `desc` labels a tqdm bar.
pub(crate) fn run_long<'py, T, F>(
    py: Python<'py>,
    progress: Option<&Bound<'py, PyAny>>,
    desc: &'static str,
    work: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Progress) -> twin::Result<T> + Send,
{
    let mut reporter = Reporter::new(py, progress, desc)?;
    let hook = Progress::new();
    let mut last = (u64::MAX, u64::MAX);
    let caller = thread::current();
    let outcome = thread::scope(|scope| {
        let hook = &hook;
        let caller = &caller;
        let last = &mut last;
        let handle = scope.spawn(move || {
            let r = work(hook);
            caller.unpark();
            r
        });
        let stop: Option<PyErr> = loop {
            py.detach(|| {
                if !handle.is_finished() {
                    thread::park_timeout(SLICE);
                }
            });
            if handle.is_finished() {
                break None;
            }
            if let Err(e) = py.check_signals() {
                break Some(e);
            }
            let now = (hook.done(), hook.total());
            if now != *last && now.1 > 0 {
                *last = now;
                if let Err(e) = reporter.update(now.0, now.1) {
                    break Some(e);
                }
            }
        };
        if stop.is_some() {
            hook.cancel();
        }
        let joined = py.detach(move || handle.join());
        (stop, joined)
    });
    let (stop, joined) = outcome;
    let ok = stop.is_none() && matches!(joined, Ok(Ok(_)));
    let closed = reporter_final(&mut reporter, &hook, ok, last);
    if let Some(e) = stop {
        return Err(e);
    }
    let result = joined.map_err(|_| PanicException::new_err("the run panicked (a bug in twin)"))?;
    let value = result.map_err(to_py)?;
    closed?;
    Ok(value)
}

/// Report the final counts (on success) and close a tqdm bar.
fn reporter_final(
    reporter: &mut Reporter<'_>,
    hook: &Progress,
    ok: bool,
    last: (u64, u64),
) -> PyResult<()> {
    let r = if ok && hook.total() > 0 && (hook.done(), hook.total()) != last {
        reporter.update(hook.done(), hook.total())
    } else {
        Ok(())
    };
    let c = reporter.close();
    r.and(c)
}
