//! numpy arrays in and out of the analytics classes.
//!
//! Inputs are read through read-only views: a float64 array that is C-contiguous and
//! aligned is borrowed without a copy; anything else numeric (other float or integer
//! dtypes, non-contiguous views such as ``a[:, ::2]``, lists) is converted once with
//! ``numpy.ascontiguousarray(x, dtype=float64)``. Complex, string, boolean and object
//! arrays are refused with a ``TypeError`` naming the argument, and an array of the wrong
//! number of dimensions with an ``InvalidInputError`` (a ``ValueError``) naming it.
//! Outputs are handed to numpy without copying (`into_pyarray`).

use numpy::prelude::*;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArray};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::errors::invalid_input;

static ASARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static ASCONTIGUOUSARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

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

/// `numpy.asarray(obj)` checked to hold real numbers in `ndim` dimensions, converted to a
/// C-contiguous float64 array (a no-op when it already is one).
fn float_array<'py>(
    arg: &str,
    obj: &Bound<'py, PyAny>,
    ndim: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let arr = numpy_fn(py, &ASARRAY, "asarray")?
        .call1((obj,))
        .map_err(|e| {
            PyTypeError::new_err(format!("{arg} must be an array of real numbers: {e}"))
        })?;
    let arr = arr.cast_into::<PyUntypedArray>()?;
    if arr.ndim() != ndim {
        let what = if ndim == 1 { "one" } else { "two" };
        return Err(invalid_input(format!(
            "{arg} must be {what}-dimensional, got an array of {} dimensions with shape {:?}",
            arr.ndim(),
            arr.shape()
        )));
    }
    let dt = arr.dtype();
    if !matches!(dt.kind(), b'f' | b'i' | b'u') || dt.itemsize() > 8 {
        return Err(PyTypeError::new_err(format!(
            "{arg} must hold real numbers (float64); got dtype {dt}"
        )));
    }
    numpy_fn(py, &ASCONTIGUOUSARRAY, "ascontiguousarray")?.call1((arr, numpy::dtype::<f64>(py)))
}

/// A one-dimensional float64 input, borrowed when possible (see the module docs).
pub(crate) fn vector<'py>(
    arg: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray1<'py, f64>> {
    if let Ok(a) = obj.cast::<PyArray1<f64>>() {
        if let Ok(ro) = a.try_readonly() {
            if ro.as_slice().is_ok() {
                return Ok(ro);
            }
        }
    }
    let a = float_array(arg, obj, 1)?.cast_into::<PyArray1<f64>>()?;
    a.try_readonly()
        .map_err(|e| invalid_input(format!("cannot read {arg}: {e}")))
}

/// A two-dimensional float64 input (rows are observations), borrowed when possible.
pub(crate) fn matrix<'py>(
    arg: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray2<'py, f64>> {
    if let Ok(a) = obj.cast::<PyArray2<f64>>() {
        if let Ok(ro) = a.try_readonly() {
            // Row-major only: a Fortran-ordered array is contiguous too, but column-major.
            if a.is_c_contiguous() && ro.as_slice().is_ok() {
                return Ok(ro);
            }
        }
    }
    let a = float_array(arg, obj, 2)?.cast_into::<PyArray2<f64>>()?;
    a.try_readonly()
        .map_err(|e| invalid_input(format!("cannot read {arg}: {e}")))
}

/// The values of a contiguous read-only vector.
pub(crate) fn slice<'a>(arg: &str, a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|e| invalid_input(format!("{arg} is not contiguous: {e}")))
}

/// A one-dimensional integer input (unit ids), as `u64`; floats with integral values are
/// accepted, negative or fractional ids are refused.
pub(crate) fn ids(arg: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    let ro = vector(arg, obj)?;
    slice(arg, &ro)?
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 {
                Ok(v as u64)
            } else {
                Err(invalid_input(format!(
                    "{arg}[{i}] = {v} is not a non-negative integer id"
                )))
            }
        })
        .collect()
}

/// A one-dimensional boolean input (flags); numbers are read as `!= 0`.
pub(crate) fn flags(arg: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<bool>> {
    let py = obj.py();
    let arr = numpy_fn(py, &ASARRAY, "asarray")?.call1((obj,))?;
    let arr = arr.cast_into::<PyUntypedArray>()?;
    if arr.ndim() != 1 {
        return Err(invalid_input(format!(
            "{arg} must be one-dimensional, got {} dimensions",
            arr.ndim()
        )));
    }
    if arr.dtype().kind() == b'b' {
        let a = numpy_fn(py, &ASCONTIGUOUSARRAY, "ascontiguousarray")?
            .call1((arr,))?
            .cast_into::<PyArray1<bool>>()?;
        let ro = a.try_readonly().map_err(|e| invalid_input(e.to_string()))?;
        return Ok(ro.as_array().to_vec());
    }
    let ro = vector(arg, arr.as_any())?;
    let s = slice(arg, &ro)?;
    if let Some((i, v)) = s.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(invalid_input(format!("{arg}[{i}] = {v} is not a flag")));
    }
    Ok(s.iter().map(|&v| v != 0.0).collect())
}

/// A vector handed to numpy without a copy.
pub(crate) fn out1(py: Python<'_>, v: Vec<f64>) -> Bound<'_, PyArray1<f64>> {
    v.into_pyarray(py)
}

/// A row-major `rows × cols` buffer handed to numpy as a 2-D array without a copy.
pub(crate) fn out2(
    py: Python<'_>,
    v: Vec<f64>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'_, PyArray2<f64>>> {
    let a = ndarray::Array2::from_shape_vec((rows, cols), v)
        .map_err(|e| invalid_input(format!("output shape: {e}")))?;
    Ok(a.into_pyarray(py))
}
