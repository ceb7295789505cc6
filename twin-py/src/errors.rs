//! Python exception classes: one base, `twin.TwinError`, and one subclass per
//! [`twin::ErrorKind`], chosen from [`twin::Error::kind`] and never from message text.
//!
//! The classes are made at module initialisation with Python's `type()`, because some
//! need two bases (`TwinError` and `ValueError` or `OSError`), which
//! `pyo3::create_exception!` cannot express. Each class carries a `kind` attribute with
//! the stable [`twin::ErrorKind::as_str`] name.

use pyo3::exceptions::{PyException, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use twin::ErrorKind;

/// Which standard exception a class derives from besides `TwinError`.
#[derive(Clone, Copy)]
enum Extra {
    /// `TwinError` only.
    None,
    /// Also `ValueError`: the caller passed a bad value.
    Value,
    /// Also `OSError`: an I/O failure.
    Os,
}

/// Every kind with its Python class name, extra base and docstring.
const TABLE: [(ErrorKind, &str, Extra, &str); 17] = [
    (
        ErrorKind::InvalidInput,
        "InvalidInputError",
        Extra::Value,
        "An argument or configuration value is invalid.",
    ),
    (
        ErrorKind::NonFinite,
        "NonFiniteError",
        Extra::Value,
        "A value is NaN or infinite.",
    ),
    (
        ErrorKind::UnknownSignal,
        "UnknownSignalError",
        Extra::Value,
        "A signal, property or command name (or id) is not in the schema.",
    ),
    (
        ErrorKind::OutOfOrder,
        "OutOfOrderError",
        Extra::Value,
        "A sample is older than the last accepted sample of its signal.",
    ),
    (
        ErrorKind::Duplicate,
        "DuplicateError",
        Extra::Value,
        "A sample repeats the time and value of the last accepted sample of its signal.",
    ),
    (
        ErrorKind::TimestampConflict,
        "TimestampConflictError",
        Extra::Value,
        "A sample has the time of the last accepted sample of its signal but another value.",
    ),
    (
        ErrorKind::OutOfRange,
        "OutOfRangeError",
        Extra::Value,
        "A value lies outside the valid range (or command limits) the schema gives for it.",
    ),
    (
        ErrorKind::Schema,
        "SchemaError",
        Extra::Value,
        "A schema could not be parsed or is inconsistent.",
    ),
    (
        ErrorKind::RateLimited,
        "RateLimitedError",
        Extra::None,
        "A command would move faster (or sooner) than its rate limit allows.",
    ),
    (
        ErrorKind::VersionConflict,
        "VersionConflictError",
        Extra::None,
        "An optimistic-concurrency check failed: the state version has moved on.",
    ),
    (
        ErrorKind::ChannelFull,
        "ChannelFullError",
        Extra::None,
        "A bounded channel is full and its policy is to refuse.",
    ),
    (
        ErrorKind::Disconnected,
        "DisconnectedError",
        Extra::None,
        "The other end of a connection has gone away.",
    ),
    (
        ErrorKind::Io,
        "IoError",
        Extra::Os,
        "Reading or writing a file or stream failed.",
    ),
    (
        ErrorKind::Serialization,
        "SerializationError",
        Extra::Value,
        "Saved data (a snapshot, a model) could not be encoded or decoded.",
    ),
    (
        ErrorKind::UnknownTwin,
        "UnknownTwinError",
        Extra::Value,
        "A twin id is not in the fleet.",
    ),
    (
        ErrorKind::LimitExceeded,
        "LimitExceededError",
        Extra::Value,
        "A configured resource limit (history length, schema size, batch size, number of twins) would be exceeded.",
    ),
    (
        ErrorKind::Cancelled,
        "CancelledError",
        Extra::None,
        "A long run was cancelled before it finished (from Python, Ctrl-C raises KeyboardInterrupt instead).",
    ),
];

/// The base class's docstring.
const BASE_DOC: &str = "Base class of every error raised by twin.\n\n\
    Each subclass has a class attribute ``kind``, the stable name of the error kind \
    (for example ``\"out_of_order\"``).";

/// The exception classes, made once per process.
struct Classes {
    base: Py<PyType>,
    by_kind: Vec<(ErrorKind, Py<PyType>)>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// Make one class with `type(name, bases, namespace)`.
fn make_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: Bound<'py, PyTuple>,
    doc: &str,
    kind: Option<&str>,
) -> PyResult<Py<PyType>> {
    let ns = PyDict::new(py);
    ns.set_item("__module__", "twin")?;
    ns.set_item("__doc__", doc)?;
    ns.set_item("kind", kind)?;
    let cls = py.get_type::<PyType>().call1((name, bases, ns))?;
    Ok(cls.cast_into::<PyType>()?.unbind())
}

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let base = make_class(
            py,
            "TwinError",
            PyTuple::new(py, [py.get_type::<PyException>()])?,
            BASE_DOC,
            None,
        )?;
        let mut by_kind = Vec::with_capacity(TABLE.len());
        for (kind, name, extra, doc) in TABLE {
            let b = base.bind(py).clone();
            let bases = match extra {
                Extra::None => PyTuple::new(py, [b])?,
                Extra::Value => PyTuple::new(py, [b, py.get_type::<PyValueError>()])?,
                Extra::Os => PyTuple::new(py, [b, py.get_type::<PyOSError>()])?,
            };
            by_kind.push((kind, make_class(py, name, bases, doc, Some(kind.as_str()))?));
        }
        Ok(Classes { base, by_kind })
    })
}

/// Add `TwinError` and every subclass to a module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    m.add("TwinError", c.base.bind(py))?;
    for ((_, name, _, _), (_, cls)) in TABLE.iter().zip(&c.by_kind) {
        m.add(*name, cls.bind(py))?;
    }
    Ok(())
}

/// The Python exception for a [`twin::Error`], classified by its [`twin::Error::kind`].
pub(crate) fn to_py(e: twin::Error) -> PyErr {
    Python::attach(|py| {
        let kind = e.kind();
        let message = e.to_string();
        match classes(py) {
            Ok(c) => {
                let cls = c
                    .by_kind
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, cls)| cls)
                    // A kind newer than this binding: the base class still catches it.
                    .unwrap_or(&c.base);
                PyErr::from_type(cls.bind(py).clone(), message)
            }
            Err(err) => err,
        }
    })
}

/// `twin::Error::InvalidInput` as a Python exception (an `InvalidInputError`).
pub(crate) fn invalid_input(message: impl Into<String>) -> PyErr {
    to_py(twin::Error::InvalidInput(message.into()))
}

/// The base `TwinError` with a message, for failures that have no kind of their own.
pub(crate) fn twin_error(message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| match classes(py) {
        Ok(c) => PyErr::from_type(c.base.bind(py).clone(), message),
        Err(err) => err,
    })
}

/// Lock `m`, or say why the `what` it guards is unusable (an earlier call panicked while
/// holding it). A plain message, for paths that run without the GIL.
pub(crate) fn lock_or_message<'a, T>(
    m: &'a std::sync::Mutex<T>,
    what: &str,
) -> Result<std::sync::MutexGuard<'a, T>, String> {
    m.lock()
        .map_err(|_| format!("this {what} is unusable: an earlier call panicked"))
}

/// [`lock_or_message`] with the message as a `TwinError`.
pub(crate) fn lock_or_raise<'a, T>(
    m: &'a std::sync::Mutex<T>,
    what: &str,
) -> PyResult<std::sync::MutexGuard<'a, T>> {
    lock_or_message(m, what).map_err(twin_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_class_of_its_own() {
        for kind in ErrorKind::ALL {
            assert_eq!(
                TABLE.iter().filter(|(k, ..)| *k == kind).count(),
                1,
                "{kind}"
            );
        }
        assert_eq!(TABLE.len(), ErrorKind::ALL.len());
        let mut names: Vec<&str> = TABLE.iter().map(|(_, n, ..)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }
}
