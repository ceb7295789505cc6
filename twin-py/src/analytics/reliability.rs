//! `Weibull`: the two-parameter Weibull life distribution, fit by maximum likelihood with
//! right-censored data; reliability, MTBF, conditional reliability, B-lives.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyTuple, PyType};
use twin::analytics::reliability::{Weibull, WeibullFit};

use super::arrays;
use crate::errors::{invalid_input, to_py};

/// `f` of a float, or of every element of an array (an array comes back).
fn map_t<'py>(
    py: Python<'py>,
    arg: &str,
    t: &Bound<'py, PyAny>,
    f: impl Fn(f64) -> f64,
) -> PyResult<Bound<'py, PyAny>> {
    if t.is_instance_of::<PyFloat>() || t.is_instance_of::<PyInt>() {
        let v: f64 = t.extract()?;
        return Ok(PyFloat::new(py, f(v)).into_any());
    }
    let ro = arrays::vector(arg, t)?;
    let out: Vec<f64> = arrays::slice(arg, &ro)?.iter().map(|&v| f(v)).collect();
    Ok(arrays::out1(py, out).into_any())
}

/// A Weibull life distribution, ``R(t) = exp(-(t / scale) ** shape)``.
///
/// Build one from known parameters, or fit one by maximum likelihood with
/// :meth:`fit` from failure and suspension (right-censored) times.
///
/// >>> import twin
/// >>> w = twin.Weibull.fit([120.0, 340.0, 410.0, 560.0, 800.0, 900.0], censored=[0, 0, 0, 0, 0, 1])
/// >>> w.fit_summary["failures"], w.fit_summary["suspensions"]
/// (5, 1)
/// >>> e = twin.Weibull(1.0, 800.0)   # the exponential law is memoryless
/// >>> abs(e.conditional_reliability(5000.0, 100.0) - e.reliability(100.0)) < 1e-14
/// True
#[pyclass(name = "Weibull", module = "twin", frozen)]
pub struct PyWeibull {
    inner: Weibull,
}

#[pymethods]
impl PyWeibull {
    #[new]
    fn new(shape: f64, scale: f64) -> PyResult<Self> {
        Ok(PyWeibull {
            inner: Weibull::new(shape, scale).map_err(to_py)?,
        })
    }

    /// Fit by maximum likelihood to ``times`` (positive); ``censored[i]`` true means unit
    /// ``i`` was still running at ``times[i]`` (a suspension), false that it failed then
    /// (default: every unit failed). ``confidence`` is the two-sided level of the
    /// parameter bounds in :attr:`fit_summary`; ``fixed_shape`` fixes the shape and fits
    /// the scale only (1.0: the exponential law, scale = total time on test / failures).
    #[classmethod]
    #[pyo3(signature = (times, censored=None, *, confidence=0.9, min_failures=2, fixed_shape=None))]
    fn fit(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        times: &Bound<'_, PyAny>,
        censored: Option<&Bound<'_, PyAny>>,
        confidence: f64,
        min_failures: usize,
        fixed_shape: Option<f64>,
    ) -> PyResult<Self> {
        let ro = arrays::vector("times", times)?;
        let t = arrays::slice("times", &ro)?;
        let failed: Vec<bool> = match censored {
            None => vec![true; t.len()],
            Some(c) => {
                let c = arrays::flags("censored", c)?;
                if c.len() != t.len() {
                    return Err(invalid_input(format!(
                        "censored has {} flags for {} times",
                        c.len(),
                        t.len()
                    )));
                }
                c.into_iter().map(|s| !s).collect()
            }
        };
        let cfg = WeibullFit {
            confidence,
            min_failures,
            fixed_shape,
        };
        let w = py.detach(|| cfg.fit(t, &failed)).map_err(to_py)?;
        Ok(PyWeibull { inner: w })
    }

    /// The shape ``k`` (below 1: infant mortality; 1: random failures; above 1: wear-out).
    #[getter]
    fn shape(&self) -> f64 {
        self.inner.shape()
    }

    /// The scale ``λ``: the time by which 63.2% have failed.
    #[getter]
    fn scale(&self) -> f64 {
        self.inner.scale()
    }

    /// Mean time between (to) failures, ``λ Γ(1 + 1/k)``.
    #[getter]
    fn mtbf(&self) -> f64 {
        self.inner.mtbf()
    }

    /// The B10 life: the time by which 10% have failed.
    #[getter]
    fn b10(&self) -> f64 {
        self.inner.b10()
    }

    /// How the fit went, or ``None`` for a distribution built from parameters: a dict with
    /// ``failures``, ``suspensions``, ``log_likelihood``, ``covariance`` (of shape and
    /// scale, row-major), ``confidence``, ``shape_bounds`` and ``scale_bounds``.
    #[getter]
    fn fit_summary<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(s) = self.inner.fit_summary() else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("failures", s.failures)?;
        d.set_item("suspensions", s.suspensions)?;
        d.set_item("log_likelihood", s.log_likelihood)?;
        d.set_item("covariance", s.covariance.to_vec())?;
        d.set_item("confidence", s.confidence)?;
        d.set_item("shape_bounds", s.shape_bounds)?;
        d.set_item("scale_bounds", s.scale_bounds)?;
        Ok(Some(d))
    }

    /// ``R(t)``, the probability of surviving to ``t`` (a float, or an array for an array).
    fn reliability<'py>(
        &self,
        py: Python<'py>,
        t: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        map_t(py, "t", t, |v| self.inner.reliability(v))
    }

    /// ``F(t) = 1 - R(t)``, the probability of failing by ``t``.
    fn unreliability<'py>(
        &self,
        py: Python<'py>,
        t: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        map_t(py, "t", t, |v| self.inner.unreliability(v))
    }

    /// The probability density at ``t``.
    fn pdf<'py>(&self, py: Python<'py>, t: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        map_t(py, "t", t, |v| self.inner.pdf(v))
    }

    /// The hazard (instantaneous failure rate) at ``t``.
    fn hazard<'py>(&self, py: Python<'py>, t: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        map_t(py, "t", t, |v| self.inner.hazard(v))
    }

    /// The probability of surviving ``x`` more, given survival to age ``t``.
    fn conditional_reliability(&self, t: f64, x: f64) -> PyResult<f64> {
        self.inner.conditional_reliability(t, x).map_err(to_py)
    }

    /// The time by which a fraction ``p`` in (0, 1) has failed.
    fn quantile(&self, p: f64) -> PyResult<f64> {
        self.inner.quantile(p).map_err(to_py)
    }

    /// The distribution (and its fit summary) as versioned JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(to_py)
    }

    /// Load a distribution saved by :meth:`to_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        Ok(PyWeibull {
            inner: Weibull::from_json(json).map_err(to_py)?,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let f = py.get_type::<PyWeibull>().getattr("from_json")?;
        Ok((f, PyTuple::new(py, [self.to_json()?])?))
    }

    fn __repr__(&self) -> String {
        let fit = match self.inner.fit_summary() {
            Some(s) => format!(
                ", fitted on {} failures and {} suspensions",
                s.failures, s.suspensions
            ),
            None => String::new(),
        };
        format!(
            "Weibull(shape={}, scale={}{fit})",
            crate::repr::float(self.inner.shape()),
            crate::repr::float(self.inner.scale())
        )
    }
}
