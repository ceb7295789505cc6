//! Condition features: `RollingFeatures` (RMS, peak, crest factor, mean, standard
//! deviation, skewness, kurtosis over a sliding window), `condition_features` of a block,
//! and `BandEnergies` (spectral band energies of vibration frames).

use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use serde::{Deserialize, Serialize};
use twin::analytics::detect::Persist;
use twin::analytics::features::{self as feat, BandConfig, ConditionFeatures};

use super::arrays;
use super::model::maybe_detach;
use super::params;
use crate::errors::{invalid_input, to_py};

/// The feature columns, in order.
pub(crate) const COLUMNS: [&str; 7] = [
    "mean",
    "rms",
    "std",
    "peak",
    "crest_factor",
    "skewness",
    "kurtosis",
];

fn row(f: &ConditionFeatures) -> [f64; 7] {
    [
        f.mean,
        f.rms,
        f.std,
        f.peak,
        f.crest_factor,
        f.skewness,
        f.kurtosis,
    ]
}

fn as_dict<'py>(py: Python<'py>, f: &ConditionFeatures) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("count", f.count)?;
    for (k, v) in COLUMNS.iter().zip(row(f)) {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// Condition features of a whole block of values (two-pass, exact up to rounding): a dict
/// with ``count``, ``mean``, ``rms``, ``std`` (population), ``peak`` (largest absolute
/// value), ``crest_factor`` (peak / rms), ``skewness`` and ``kurtosis`` (Pearson's, 3 for a
/// normal law). Undefined moments of a constant block are 0, never NaN.
///
/// >>> import numpy as np, twin
/// >>> f = twin.condition_features(2.0 * np.sin(np.arange(400) * 2 * np.pi / 100))
/// >>> round(f["rms"], 12), round(f["crest_factor"] ** 2, 12), round(f["kurtosis"], 12)
/// (1.414213562373, 2.0, 1.5)
#[pyfunction]
pub fn condition_features<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let ro = arrays::vector("x", x)?;
    let f = ConditionFeatures::from_slice(arrays::slice("x", &ro)?).map_err(to_py)?;
    as_dict(py, &f)
}

/// Settings of `RollingFeatures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollingParams {
    window: usize,
    step: usize,
}

impl Default for RollingParams {
    fn default() -> Self {
        RollingParams {
            window: 64,
            step: 1,
        }
    }
}

/// Saved form of a `RollingFeatures`: the Rust state and the emission phase.
#[derive(Serialize, Deserialize)]
struct RollingState {
    step: usize,
    since: usize,
    state: String,
}

/// Condition features over a sliding window of the last ``window`` values, updated in
/// O(1) per value.
///
/// :meth:`update_many` pushes a signal (in as many pieces as you like: the window carries
/// over between calls) and returns one row of features every ``step`` values once the
/// window is full: a float64 array with the columns of :attr:`columns`, or a dict of
/// arrays with ``as_dict=True``.
///
/// >>> import numpy as np, twin
/// >>> r = twin.RollingFeatures(window=100, step=50)
/// >>> F = r.update_many(3.0 * np.sin(np.arange(1000) * 2 * np.pi / 50))
/// >>> F.shape, r.columns[1]
/// ((19, 7), 'rms')
/// >>> bool(np.allclose(F[:, 1], 3.0 / np.sqrt(2))) and bool(np.allclose(F[:, 6], 1.5))
/// True
#[pyclass(dict, name = "RollingFeatures", module = "twin")]
pub struct PyRollingFeatures {
    inner: feat::RollingFeatures,
    params: RollingParams,
    objects: Py<PyDict>,
    /// Values pushed since the last emitted row (or since the start).
    since: usize,
}

impl PyRollingFeatures {
    fn make(params: &RollingParams) -> PyResult<feat::RollingFeatures> {
        if params.step == 0 {
            return Err(invalid_input("step must be at least 1"));
        }
        feat::RollingFeatures::new(params.window).map_err(to_py)
    }
}

#[pymethods]
impl PyRollingFeatures {
    #[new]
    #[pyo3(signature = (**params), text_signature = "(*, window=64, step=1)")]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let (p, objects) = params::apply(
            py,
            "RollingFeatures",
            &RollingParams::default(),
            None,
            params,
        )?;
        Ok(PyRollingFeatures {
            inner: Self::make(&p)?,
            params: p,
            objects: objects.unbind(),
            since: 0,
        })
    }

    /// The names of the feature columns.
    #[getter]
    fn columns(&self) -> Vec<&'static str> {
        COLUMNS.to_vec()
    }

    /// Add one value; NaN or infinity raises ``NonFiniteError`` and leaves the window as
    /// it was.
    fn update(&mut self, x: f64) -> PyResult<()> {
        self.inner.push(x).map_err(to_py)?;
        self.since += 1;
        Ok(())
    }

    /// Push every value of ``x`` and return the features at every ``step``-th value
    /// once the window is full (GIL released for long signals). A NaN or infinity
    /// raises ``NonFiniteError`` naming its position; values before it stay pushed.
    #[pyo3(signature = (x, as_dict=false))]
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        as_dict: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ro = arrays::vector("x", x)?;
        let xs = arrays::slice("x", &ro)?;
        let (window, step) = (self.params.window, self.params.step);
        let inner = &mut self.inner;
        let since = &mut self.since;
        let out = maybe_detach(py, xs.len() >= 4096, move || {
            let mut out = Vec::new();
            for (i, &v) in xs.iter().enumerate() {
                inner
                    .push(v)
                    .map_err(|e| twin::Error::NonFinite(format!("x[{i}]: {e}")))?;
                *since += 1;
                if inner.len() == window && *since >= step {
                    *since = 0;
                    if let Some(f) = inner.features() {
                        out.extend(row(&f));
                    }
                }
            }
            Ok::<_, twin::Error>(out)
        })
        .map_err(to_py)?;
        let rows = out.len() / COLUMNS.len();
        if as_dict {
            let d = PyDict::new(py);
            for (j, k) in COLUMNS.iter().enumerate() {
                let col: Vec<f64> = out.iter().skip(j).step_by(COLUMNS.len()).copied().collect();
                d.set_item(k, arrays::out1(py, col))?;
            }
            Ok(d.into_any())
        } else {
            Ok(arrays::out2(py, out, rows, COLUMNS.len())?.into_any())
        }
    }

    /// The features of the current window as a dict (``None`` before the first value).
    fn features<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner.features().map(|f| as_dict(py, &f)).transpose()
    }

    /// Values in the window now.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Forget every value.
    fn reset(&mut self) {
        self.inner.clear();
        self.since = 0;
    }

    /// The constructor's keyword arguments (scikit-learn convention).
    #[pyo3(signature = (deep=true))]
    fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyDict>> {
        let _ = deep;
        self.objects.bind(py).copy()
    }

    /// Change settings; the window is emptied. Returns ``self``.
    #[pyo3(signature = (**params))]
    fn set_params<'py>(
        mut slf: PyRefMut<'py, Self>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let py = slf.py();
        let prev = slf.objects.bind(py).clone();
        let (p, objects) = params::apply(py, "RollingFeatures", &slf.params, Some(&prev), params)?;
        slf.inner = Self::make(&p)?;
        slf.params = p;
        slf.objects = objects.unbind();
        slf.since = 0;
        Ok(slf)
    }

    /// The window and settings as JSON.
    fn to_json(&self) -> PyResult<String> {
        let state = RollingState {
            step: self.params.step,
            since: self.since,
            state: self.inner.to_json().map_err(to_py)?,
        };
        serde_json::to_string(&state)
            .map_err(|e| to_py(twin::Error::Serialization(format!("rolling features: {e}"))))
    }

    /// Load what :meth:`to_json` saved.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<Self> {
        let s: RollingState = serde_json::from_str(json).map_err(|e| {
            to_py(twin::Error::Serialization(format!(
                "cannot load rolling features: {e}"
            )))
        })?;
        let inner = feat::RollingFeatures::from_json(&s.state).map_err(to_py)?;
        if s.step == 0 {
            return Err(to_py(twin::Error::Serialization(
                "cannot load rolling features: step 0".into(),
            )));
        }
        let params = RollingParams {
            window: inner.window(),
            step: s.step,
        };
        Ok(PyRollingFeatures {
            objects: params::dict_of(py, &params)?.unbind(),
            inner,
            params,
            since: s.since,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyRollingFeatures>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "RollingFeatures(window={}, step={}) <{} values>",
            self.params.window,
            self.params.step,
            self.inner.len()
        )
    }
}

/// Energies of vibration frames in frequency bands: Hann window, FFT, each one-sided
/// bin's share added to its band, scaled so the bands covering [0, sample_rate / 2] add
/// up to the frame's energy (Parseval). ``edges`` are the band edges in Hz, strictly
/// increasing; band ``i`` is ``[edges[i], edges[i + 1])``.
///
/// >>> import numpy as np, twin
/// >>> b = twin.BandEnergies(1000.0, 1000, [0.0, 40.0, 60.0, 500.0])
/// >>> e = b.compute(2.0 * np.sin(2 * np.pi * 50.0 * np.arange(1000) / 1000.0))
/// >>> [round(float(v), 6) for v in e]
/// [0.0, 2000.0, 0.0]
#[pyclass(dict, name = "BandEnergies", module = "twin")]
pub struct PyBandEnergies {
    inner: feat::BandEnergies,
    objects: Py<PyDict>,
}

#[pymethods]
impl PyBandEnergies {
    #[new]
    #[pyo3(
        signature = (sample_rate, frame, edges, remove_mean=None),
        text_signature = "(sample_rate, frame, edges, remove_mean=False)"
    )]
    fn new(
        py: Python<'_>,
        sample_rate: &Bound<'_, PyAny>,
        frame: &Bound<'_, PyAny>,
        edges: &Bound<'_, PyAny>,
        remove_mean: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let no = pyo3::types::PyBool::new(py, false).to_owned().into_any();
        let remove_mean = remove_mean.unwrap_or(&no);
        let bad = |name: &str, what: &str| {
            pyo3::exceptions::PyTypeError::new_err(format!("{name} must be {what}"))
        };
        let rate: f64 = sample_rate
            .extract()
            .map_err(|_| bad("sample_rate", "a number"))?;
        let n: usize = frame
            .extract()
            .map_err(|_| bad("frame", "a positive int"))?;
        let e = arrays::vector("edges", edges)?;
        let rm: bool = remove_mean
            .extract()
            .map_err(|_| bad("remove_mean", "a bool"))?;
        let inner = feat::BandEnergies::new(BandConfig {
            sample_rate: rate,
            frame: n,
            edges: arrays::slice("edges", &e)?.to_vec(),
            remove_mean: rm,
        })
        .map_err(to_py)?;
        let objects = PyDict::new(py);
        objects.set_item("sample_rate", sample_rate)?;
        objects.set_item("frame", frame)?;
        objects.set_item("edges", edges)?;
        objects.set_item("remove_mean", remove_mean)?;
        Ok(PyBandEnergies {
            inner,
            objects: objects.unbind(),
        })
    }

    /// The number of bands.
    #[getter]
    fn bands(&self) -> usize {
        self.inner.bands()
    }

    /// The band energies of one frame of exactly ``frame`` values.
    fn compute<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let ro = arrays::vector("x", x)?;
        let e = self
            .inner
            .compute(arrays::slice("x", &ro)?)
            .map_err(to_py)?;
        Ok(arrays::out1(py, e))
    }

    /// Band energies of consecutive frames of a long signal, one row per frame, starting
    /// every ``hop`` values (default: ``frame``, no overlap); a trailing partial frame is
    /// left out. GIL released.
    #[pyo3(signature = (x, hop=None))]
    fn compute_many<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        hop: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let ro = arrays::vector("x", x)?;
        let xs = arrays::slice("x", &ro)?;
        let n = self.inner.config().frame;
        let hop = hop.unwrap_or(n);
        if hop == 0 {
            return Err(invalid_input("hop must be at least 1"));
        }
        let frames = if xs.len() >= n {
            (xs.len() - n) / hop + 1
        } else {
            0
        };
        let bands = self.inner.bands();
        let inner = &mut self.inner;
        let out = maybe_detach(py, frames >= 4, move || {
            let mut out = vec![0.0; frames * bands];
            for (f, o) in out.chunks_exact_mut(bands.max(1)).enumerate() {
                inner.compute_into(&xs[f * hop..f * hop + n], o)?;
            }
            Ok::<_, twin::Error>(out)
        })
        .map_err(to_py)?;
        arrays::out2(py, out, frames, bands)
    }

    /// The constructor's arguments (scikit-learn convention).
    #[pyo3(signature = (deep=true))]
    fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyDict>> {
        let _ = deep;
        self.objects.bind(py).copy()
    }

    /// The settings as versioned JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(to_py)
    }

    /// Load settings saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<Self> {
        let inner = feat::BandEnergies::from_json(json).map_err(to_py)?;
        let c = inner.config().clone();
        let objects = PyDict::new(py);
        objects.set_item("sample_rate", c.sample_rate)?;
        objects.set_item("frame", c.frame)?;
        objects.set_item("edges", c.edges)?;
        objects.set_item("remove_mean", c.remove_mean)?;
        Ok(PyBandEnergies {
            inner,
            objects: objects.unbind(),
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyBandEnergies>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "BandEnergies(sample_rate={}, frame={}, edges={:?}, remove_mean={})",
            crate::repr::float(c.sample_rate),
            c.frame,
            c.edges,
            if c.remove_mean { "True" } else { "False" }
        )
    }
}
