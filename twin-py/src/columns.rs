//! Batch columns from numpy arrays (or anything `numpy.asarray` accepts).
//!
//! A 1-d array of exactly the right dtype (native byte order), C-contiguous and aligned,
//! is borrowed read-only through [`PyReadonlyArray1`]: no copy. Everything else that can be
//! converted without losing meaning is converted with `numpy.ascontiguousarray` (a copy)
//! and the column is reported as copied:
//!
//! | column    | borrowed    | converted (copied)                                        | refused (`TypeError`)         |
//! |-----------|-------------|-----------------------------------------------------------|-------------------------------|
//! | `times`   | `int64`     | other signed ints, `uint8/16/32`                          | floats, `uint64`, datetimes, str, bool, object |
//! | `signals` | `uint32`    | `uint8/16`; any other int, where ids outside `[0, 2**32)` become unknown ids | floats, str, bool, object |
//! | `values`  | `float64`   | other floats, ints                                        | complex, str, bool, object    |
//!
//! Non-contiguous views of the right dtype (`a[::2]`) are copied too. Empty inputs of any
//! dtype are accepted.

use numpy::prelude::*;
use numpy::{Element, PyArray1, PyReadonlyArray1, PyUntypedArray};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::errors::invalid_input;

/// One batch column: borrowed from a numpy array, or owned after a conversion.
pub(crate) enum Column<'py, T: Element> {
    /// A read-only borrow of a contiguous, aligned array of the right dtype.
    Borrowed(PyReadonlyArray1<'py, T>),
    /// Values made by a conversion that numpy could not do for us.
    Owned(Vec<T>),
}

impl<T: Element> Column<'_, T> {
    /// The column's values.
    pub(crate) fn as_slice(&self) -> PyResult<&[T]> {
        match self {
            // Only contiguous, aligned arrays are ever stored, so this does not fail.
            Column::Borrowed(a) => a
                .as_slice()
                .map_err(|e| invalid_input(format!("array is not contiguous: {e}"))),
            Column::Owned(v) => Ok(v),
        }
    }
}

/// A column and whether making it copied the caller's data.
pub(crate) struct Extracted<'py, T: Element> {
    pub(crate) column: Column<'py, T>,
    pub(crate) copied: bool,
}

static ASCONTIGUOUSARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static ASARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn numpy_fn<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("numpy")?.getattr(name)?.unbind())
    })
    .map(|f| f.bind(py).clone())
}

/// Try to borrow `obj` as a contiguous, aligned 1-d array of `T` without copying.
pub(crate) fn borrow<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
) -> PyResult<Option<PyReadonlyArray1<'py, T>>> {
    let Ok(arr) = obj.cast::<PyArray1<T>>() else {
        return Ok(None);
    };
    let ro = arr.try_readonly().map_err(|e| {
        invalid_input(format!(
            "cannot read the array: {e} (is it being written by another thread?)"
        ))
    })?;
    Ok(ro.as_slice().is_ok().then_some(ro))
}

/// `numpy.asarray(obj)`, required to be one-dimensional.
pub(crate) fn as_1d<'py>(
    arg: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let py = obj.py();
    let arr = numpy_fn(py, &ASARRAY, "asarray")?.call1((obj,))?;
    let arr = arr.cast_into::<PyUntypedArray>()?;
    if arr.ndim() != 1 {
        return Err(invalid_input(format!(
            "{arg} must be one-dimensional, got an array of {} dimensions",
            arr.ndim()
        )));
    }
    Ok(arr)
}

/// A contiguous, aligned, read-only copy of `arr` as dtype `T`.
pub(crate) fn convert<'py, T: Element>(
    arr: &Bound<'py, PyUntypedArray>,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    let py = arr.py();
    let target = numpy::dtype::<T>(py);
    let mut out = numpy_fn(py, &ASCONTIGUOUSARRAY, "ascontiguousarray")?
        .call1((arr, &target))?
        .cast_into::<PyArray1<T>>()?;
    // `ascontiguousarray` hands back a contiguous but misaligned array (one unpickled from
    // an out-of-band buffer, or made by `frombuffer` at an odd offset) as it is; copy
    // such an array into fresh, aligned memory.
    if !out.is_aligned() {
        out = out.call_method0("copy")?.cast_into::<PyArray1<T>>()?;
    }
    out.try_readonly().map_err(|e| invalid_input(e.to_string()))
}

pub(crate) fn refuse(
    arg: &str,
    arr: &Bound<'_, PyUntypedArray>,
    expected: &str,
    hint: &str,
) -> PyErr {
    PyTypeError::new_err(format!(
        "{arg} must hold {expected}; got dtype {}{hint}",
        arr.dtype()
    ))
}

/// The `times` column: integer nanoseconds.
pub(crate) fn times<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Extracted<'py, i64>> {
    if let Some(ro) = borrow::<i64>(obj)? {
        return Ok(Extracted {
            column: Column::Borrowed(ro),
            copied: false,
        });
    }
    let arr = as_1d("times", obj)?;
    if arr.is_empty() {
        return Ok(Extracted {
            column: Column::Owned(Vec::new()),
            copied: false,
        });
    }
    let dt = arr.dtype();
    match (dt.kind(), dt.itemsize()) {
        (b'i', _) | (b'u', 1..=4) => {}
        (b'M', _) => {
            return Err(refuse(
                "times",
                &arr,
                "integer nanoseconds (int64)",
                "; convert datetimes with .astype('datetime64[ns]').view('int64')",
            ))
        }
        _ => return Err(refuse("times", &arr, "integer nanoseconds (int64)", "")),
    }
    Ok(Extracted {
        column: Column::Borrowed(convert::<i64>(&arr)?),
        copied: true,
    })
}

/// The `values` column: floats.
pub(crate) fn values<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Extracted<'py, f64>> {
    if let Some(ro) = borrow::<f64>(obj)? {
        return Ok(Extracted {
            column: Column::Borrowed(ro),
            copied: false,
        });
    }
    let arr = as_1d("values", obj)?;
    if arr.is_empty() {
        return Ok(Extracted {
            column: Column::Owned(Vec::new()),
            copied: false,
        });
    }
    if !matches!(arr.dtype().kind(), b'f' | b'i' | b'u') {
        return Err(refuse("values", &arr, "real numbers (float64)", ""));
    }
    Ok(Extracted {
        column: Column::Borrowed(convert::<f64>(&arr)?),
        copied: true,
    })
}

/// The `signals` column: signal ids. Integers outside `[0, 2**32)` cannot be ids of any
/// schema; they become `u32::MAX`, which no schema has, so the sample is refused as an
/// unknown signal like any other id the schema lacks.
pub(crate) fn signals<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Extracted<'py, u32>> {
    if let Some(ro) = borrow::<u32>(obj)? {
        return Ok(Extracted {
            column: Column::Borrowed(ro),
            copied: false,
        });
    }
    let arr = as_1d("signals", obj)?;
    if arr.is_empty() {
        return Ok(Extracted {
            column: Column::Owned(Vec::new()),
            copied: false,
        });
    }
    let dt = arr.dtype();
    let column = match (dt.kind(), dt.itemsize()) {
        (b'u', 1..=4) => Column::Borrowed(convert::<u32>(&arr)?),
        (b'i', _) => {
            let wide = convert::<i64>(&arr)?;
            let ids = wide
                .as_array()
                .iter()
                .map(|&x| u32::try_from(x).unwrap_or(u32::MAX))
                .collect();
            Column::Owned(ids)
        }
        (b'u', _) => {
            let wide = convert::<u64>(&arr)?;
            let ids = wide
                .as_array()
                .iter()
                .map(|&x| u32::try_from(x).unwrap_or(u32::MAX))
                .collect();
            Column::Owned(ids)
        }
        _ => return Err(refuse("signals", &arr, "integer signal ids (uint32)", "")),
    };
    Ok(Extracted {
        column,
        copied: true,
    })
}

/// The three columns of a batch (`times`, `signals`, `values`), extracted as above.
pub(crate) struct Batch<'py> {
    pub(crate) times: Extracted<'py, i64>,
    pub(crate) signals: Extracted<'py, u32>,
    pub(crate) values: Extracted<'py, f64>,
}

impl<'py> Batch<'py> {
    /// Extract the three columns (each borrowed or converted).
    pub(crate) fn extract(
        times: &Bound<'py, PyAny>,
        signals: &Bound<'py, PyAny>,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<Self> {
        Ok(Batch {
            times: self::times(times)?,
            signals: self::signals(signals)?,
            values: self::values(values)?,
        })
    }

    /// The columns as a borrowed batch; columns of different lengths raise
    /// `InvalidInputError` naming the one that differs from `times`.
    pub(crate) fn as_ref(&self) -> PyResult<twin::BatchRef<'_>> {
        let (ts, ss, vs) = (
            self.times.column.as_slice()?,
            self.signals.column.as_slice()?,
            self.values.column.as_slice()?,
        );
        for (name, len) in [("signals", ss.len()), ("values", vs.len())] {
            if len != ts.len() {
                return Err(invalid_input(format!(
                    "{name} has {len} elements but times has {}; the columns must have equal length",
                    ts.len()
                )));
            }
        }
        twin::BatchRef::new(ts, ss, vs).map_err(crate::errors::to_py)
    }
}
