//! Constructor keyword arguments as scikit-learn parameters.
//!
//! Every analytics class keeps its settings as a flat serde struct (one field per keyword
//! argument of its constructor) and the Python objects it was given, so that
//! `get_params()` returns exactly those objects (what `sklearn.base.clone` checks) and
//! `set_params(**params)` changes them. Keyword arguments are converted to JSON and
//! deserialized into the settings struct: an unknown keyword is a `TypeError`, a value of
//! the wrong type a `TypeError` naming it, and a value the model's own validation refuses
//! an `InvalidInputError` (a `ValueError`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::errors::invalid_input;

/// A Python value as JSON, for the settings structs. `what` names it in errors.
pub(crate) fn to_json(what: &str, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyFloat>() {
        let x: f64 = obj.extract()?;
        return serde_json::Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| invalid_input(format!("{what} must be finite, got {x}")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(i) = obj.extract::<u64>() {
        return Ok(Value::from(i));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            out.push(to_json(&format!("{what}[{i}]"), &item?)?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut out = Map::new();
        for (k, v) in d.iter() {
            let key: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("{what}: keys must be str")))?;
            let value = to_json(&format!("{what}[{key:?}]"), &v)?;
            out.insert(key, value);
        }
        return Ok(Value::Object(out));
    }
    // numpy scalars of float type that are not Python floats (float32), and the like.
    if let Ok(x) = obj.extract::<f64>() {
        return serde_json::Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| invalid_input(format!("{what} must be finite, got {x}")));
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be a number, bool, str, None, list or dict; got {}",
        obj.get_type().name()?
    )))
}

/// JSON as a Python value (numbers that are integers become `int`).
pub(crate) fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

fn as_object<P: Serialize>(p: &P) -> PyResult<Map<String, Value>> {
    match serde_json::to_value(p) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid_input("settings are not a JSON object")),
        Err(e) => Err(invalid_input(format!("settings: {e}"))),
    }
}

/// The settings of a class as a dict of Python values (for `get_params` after loading).
pub(crate) fn dict_of<'py, P: Serialize>(py: Python<'py>, p: &P) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in as_object(p)? {
        d.set_item(k, to_py(py, &v)?)?;
    }
    Ok(d)
}

/// Settings `base` with the keyword arguments `kwargs` applied, and the dict of Python
/// objects that `get_params` returns: the given objects for given keywords, and the
/// entries of `previous` (or new objects made from `base`) for the others.
pub(crate) fn apply<'py, P: Serialize + DeserializeOwned>(
    py: Python<'py>,
    class: &str,
    base: &P,
    previous: Option<&Bound<'py, PyDict>>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<(P, Bound<'py, PyDict>)> {
    let mut json = as_object(base)?;
    let objects = PyDict::new(py);
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let key: String = k.extract()?;
            if !json.contains_key(&key) {
                let mut names: Vec<&str> = json.keys().map(String::as_str).collect();
                names.sort_unstable();
                return Err(PyTypeError::new_err(format!(
                    "{class}() got an unexpected keyword argument {}; its parameters are {}",
                    crate::repr::quote(&key),
                    names.join(", ")
                )));
            }
            let value = to_json(&key, &v)?;
            // Try this one keyword alone over the base, so a type error names it.
            let mut single = as_object(base)?;
            single.insert(key.clone(), value.clone());
            if let Err(e) = serde_json::from_value::<P>(Value::Object(single)) {
                return Err(PyTypeError::new_err(format!(
                    "{class}: parameter {key} has the wrong type or value ({e}); got {}",
                    v.repr()?
                )));
            }
            json.insert(key.clone(), value);
            objects.set_item(key, v)?;
        }
    }
    for (k, v) in &json {
        if objects.contains(k)? {
            continue;
        }
        match previous.map(|p| p.get_item(k)).transpose()?.flatten() {
            Some(obj) => objects.set_item(k, obj)?,
            None => objects.set_item(k, to_py(py, v)?)?,
        }
    }
    let settings = serde_json::from_value::<P>(Value::Object(json))
        .map_err(|e| invalid_input(format!("{class}: {e}")))?;
    // Keep the dict in the settings' field order, like a signature.
    let ordered = PyDict::new(py);
    for k in as_object(&settings)?.keys() {
        if let Some(obj) = objects.get_item(k)? {
            ordered.set_item(k, obj)?;
        }
    }
    Ok((settings, ordered))
}

/// `k=v, …` of the non-default settings, for `__repr__`.
pub(crate) fn repr_args<P: Serialize + Default>(p: &P) -> String {
    let (Ok(now), Ok(default)) = (as_object(p), as_object(&P::default())) else {
        return String::new();
    };
    now.iter()
        .filter(|(k, v)| default.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}={}", json_repr(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn json_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => crate::repr::float(f),
            _ => n.to_string(),
        },
        Value::String(s) => crate::repr::quote(s),
        Value::Array(a) => format!(
            "({}{})",
            a.iter().map(json_repr).collect::<Vec<_>>().join(", "),
            if a.len() == 1 { "," } else { "" }
        ),
        Value::Object(_) => v.to_string(),
    }
}
