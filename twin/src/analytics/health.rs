//! Health index: one number from several condition signals, 1 for a new asset and 0 for a
//! failed one.
//!
//! A [`HealthIndex`] (the settings) is fit on run-to-failure histories
//! ([`HealthIndex::fit_runs`]) or on healthy and failed examples
//! ([`HealthIndex::fit_labelled`]) into a [`FittedHealthIndex`], which maps a feature
//! vector to its index. Two fusions are offered:
//!
//! - [`HealthMethod::Regression`]: ridge regression (linfa-linear least squares on an
//!   augmented system) of a target on the standardized features: the remaining life
//!   fraction along each run, or 1 / 0 for healthy / failed examples.
//! - [`HealthMethod::Pca`]: the first principal component of the standardized
//!   training data (linfa-reduction), the direction along which the fleet varies most.
//!
//! Either raw score is then scaled so that the mean over the healthy examples (the first
//! `healthy_fraction` of each run) is 1 and the mean over the failed ones (the last
//! `failed_fraction`) is 0, and clamped to [0, 1].
//!
//! ```
//! use ndarray::Array2;
//! use twin::analytics::health::HealthIndex;
//! // Two runs to failure of one feature that grows with wear, one that does not.
//! let run = |len: usize, seed: usize| {
//!     Array2::from_shape_fn((len, 2), |(i, j)| {
//!         let life = i as f64 / (len - 1) as f64;
//!         let noise = (((i * 7 + seed * 13 + j * 5) % 11) as f64 - 5.0) * 0.01;
//!         if j == 0 { 1.0 + 3.0 * life * life + noise } else { 0.5 + noise }
//!     })
//! };
//! let hi = HealthIndex::default().fit_runs(&[run(200, 1), run(260, 2)])?;
//! assert!(hi.predict(&[1.0, 0.5])? > 0.95); // like new
//! assert!(hi.predict(&[4.0, 0.5])? < 0.05); // worn out
//! assert!(hi.predict(&[100.0, 0.5])? == 0.0); // clamped
//! # Ok::<(), twin::Error>(())
//! ```

use linfa::traits::Fit;
use linfa::{Dataset, DatasetBase};
use linfa_linear::LinearRegression;
use linfa_reduction::Pca;
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::analytics::detect::persist;
use crate::error::{Error, Result};

/// How a [`HealthIndex`] fuses the features into one raw score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthMethod {
    /// Ridge regression of the health target on standardized features, with this penalty
    /// (non-negative; a small one keeps collinear features well posed).
    Regression {
        /// The ridge penalty.
        ridge: f64,
    },
    /// The first principal component of the standardized features.
    Pca,
}

/// The settings of a health index: [`HealthIndex::fit_runs`] or
/// [`HealthIndex::fit_labelled`] learn a [`FittedHealthIndex`] from them.
///
/// ```
/// use twin::analytics::health::{HealthIndex, HealthMethod};
/// let cfg = HealthIndex { method: HealthMethod::Pca, ..HealthIndex::default() };
/// assert!(cfg.validate().is_ok());
/// assert!(HealthIndex { healthy_fraction: 0.0, ..cfg }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthIndex {
    /// How features are fused.
    pub method: HealthMethod,
    /// The leading fraction of each run taken as healthy (index 1), in (0, 0.5].
    pub healthy_fraction: f64,
    /// The trailing fraction of each run taken as failed (index 0), in (0, 0.5].
    pub failed_fraction: f64,
}

impl Default for HealthIndex {
    fn default() -> Self {
        HealthIndex {
            method: HealthMethod::Regression { ridge: 1.0 },
            healthy_fraction: 0.1,
            failed_fraction: 0.05,
        }
    }
}

persist!(
    HealthIndex,
    "twin.health.health_index",
    1,
    |h: &HealthIndex| h.validate()
);

/// Column centering and scaling; constant columns are marked and left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Scaling {
    mean: Vec<f64>,
    scale: Vec<f64>,
    active: Vec<bool>,
}

impl Scaling {
    fn fit(x: &Array2<f64>) -> Self {
        let n = x.nrows() as f64;
        let (mut mean, mut scale, mut active) = (Vec::new(), Vec::new(), Vec::new());
        for col in x.columns() {
            let m = col.sum() / n;
            let sd = (col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
            let on = sd > 1e-12 * m.abs().max(1.0);
            mean.push(m);
            scale.push(if on { sd } else { 1.0 });
            active.push(on);
        }
        Scaling {
            mean,
            scale,
            active,
        }
    }

    fn z(&self, j: usize, v: f64) -> f64 {
        if self.active[j] {
            (v - self.mean[j]) / self.scale[j]
        } else {
            0.0
        }
    }

    fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut z = x.clone();
        for (j, mut col) in z.columns_mut().into_iter().enumerate() {
            col.mapv_inplace(|v| self.z(j, v));
        }
        z
    }
}

impl HealthIndex {
    /// Check the settings.
    pub fn validate(&self) -> Result<()> {
        if let HealthMethod::Regression { ridge } = self.method {
            if !(ridge.is_finite() && ridge >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "ridge must be finite and non-negative, got {ridge}"
                )));
            }
        }
        for (name, f) in [
            ("healthy_fraction", self.healthy_fraction),
            ("failed_fraction", self.failed_fraction),
        ] {
            if !(f > 0.0 && f <= 0.5) {
                return Err(Error::InvalidInput(format!(
                    "{name} must be in (0, 0.5], got {f}"
                )));
            }
        }
        Ok(())
    }

    /// Fit on run-to-failure histories: each run's rows are feature vectors in time
    /// order, the last one at failure.
    ///
    /// For [`HealthMethod::Regression`] the target of row `i` of a run of `n` rows is its
    /// remaining life fraction `1 - i / (n - 1)`. Each run needs at least 4 rows and all
    /// runs the same columns; together at least `max(10, columns + 2)` rows of finite
    /// values ([`Error::InvalidInput`] / [`Error::NonFinite`] otherwise).
    pub fn fit_runs(&self, runs: &[Array2<f64>]) -> Result<FittedHealthIndex> {
        self.validate()?;
        let Some(first) = runs.first() else {
            return Err(Error::InvalidInput(
                "no runs to fit a health index on".into(),
            ));
        };
        let d = first.ncols();
        let mut rows = Vec::new();
        let mut target = Vec::new();
        let mut healthy = Vec::new();
        let mut failed = Vec::new();
        for (r, run) in runs.iter().enumerate() {
            let n = run.nrows();
            if run.ncols() != d {
                return Err(Error::InvalidInput(format!(
                    "run {r} has {} columns, run 0 has {d}",
                    run.ncols()
                )));
            }
            if n < 4 {
                return Err(Error::InvalidInput(format!(
                    "run {r} has {n} rows; a run needs at least 4"
                )));
            }
            let h = ((n as f64 * self.healthy_fraction).ceil() as usize).clamp(1, n / 2);
            let f = ((n as f64 * self.failed_fraction).ceil() as usize).clamp(1, n / 2);
            for (i, row) in run.rows().into_iter().enumerate() {
                let idx = rows.len() / d.max(1);
                rows.extend(row.iter().copied());
                target.push(1.0 - i as f64 / (n - 1) as f64);
                if i < h {
                    healthy.push(idx);
                }
                if i >= n - f {
                    failed.push(idx);
                }
            }
        }
        let x = Array2::from_shape_vec((target.len(), d), rows)
            .map_err(|e| Error::InvalidInput(format!("health index data: {e}")))?;
        self.fit_inner(&x, Array1::from(target), &healthy, &failed)
    }

    /// Fit on examples of healthy and of failed assets (same columns).
    ///
    /// ```
    /// use ndarray::array;
    /// use twin::analytics::health::{HealthIndex, HealthMethod};
    /// let healthy = array![[1.0, 10.0], [1.1, 10.2], [0.9, 9.9], [1.0, 10.1], [1.05, 10.0], [0.95, 9.8]];
    /// let failed = array![[3.0, 10.1], [3.2, 9.9], [2.9, 10.0], [3.1, 10.2], [3.0, 9.8], [2.8, 10.0]];
    /// let hi = HealthIndex { method: HealthMethod::Pca, ..HealthIndex::default() }
    ///     .fit_labelled(&healthy, &failed)?;
    /// let mid = hi.predict(&[2.0, 10.0])?;
    /// assert!((mid - 0.5).abs() < 0.1, "{mid}");
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit_labelled(
        &self,
        healthy: &Array2<f64>,
        failed: &Array2<f64>,
    ) -> Result<FittedHealthIndex> {
        self.validate()?;
        if healthy.ncols() != failed.ncols() {
            return Err(Error::InvalidInput(format!(
                "healthy data has {} columns, failed data {}",
                healthy.ncols(),
                failed.ncols()
            )));
        }
        if healthy.nrows() == 0 || failed.nrows() == 0 {
            return Err(Error::InvalidInput(
                "both healthy and failed examples are needed".into(),
            ));
        }
        let x = ndarray::concatenate(Axis(0), &[healthy.view(), failed.view()])
            .map_err(|e| Error::InvalidInput(format!("health index data: {e}")))?;
        let nh = healthy.nrows();
        let target = Array1::from_shape_fn(x.nrows(), |i| if i < nh { 1.0 } else { 0.0 });
        let healthy_idx: Vec<usize> = (0..nh).collect();
        let failed_idx: Vec<usize> = (nh..x.nrows()).collect();
        self.fit_inner(&x, target, &healthy_idx, &failed_idx)
    }

    /// Fit on rows with a known health target in [0, 1] (1 like new, 0 failed), such as
    /// a remaining-life fraction: the regression learns the targets, and the rows at 1
    /// and at 0 anchor the scale (both must be present). Labels of only 0 and 1 make it
    /// [`fit_labelled`](Self::fit_labelled) on the same rows.
    ///
    /// ```
    /// use ndarray::array;
    /// use twin::analytics::health::HealthIndex;
    /// let x = array![[1.0], [1.2], [1.5], [2.0], [2.4], [3.0], [1.1], [1.6], [2.5], [2.9], [1.0], [3.1]];
    /// let y = [1.0, 0.9, 0.75, 0.5, 0.3, 0.0, 0.95, 0.7, 0.25, 0.05, 1.0, 0.0];
    /// let hi = HealthIndex::default().fit_targets(&x, &y)?;
    /// assert!((hi.predict(&[2.0])? - 0.5).abs() < 0.05);
    /// assert!(HealthIndex::default().fit_targets(&x, &[0.5; 12]).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit_targets(&self, x: &Array2<f64>, health: &[f64]) -> Result<FittedHealthIndex> {
        self.validate()?;
        if health.len() != x.nrows() {
            return Err(Error::InvalidInput(format!(
                "{} health targets for {} rows",
                health.len(),
                x.nrows()
            )));
        }
        if let Some((i, v)) = health.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite(format!("health target {i} ({v})")));
        }
        if let Some((i, v)) = health
            .iter()
            .enumerate()
            .find(|(_, v)| !(0.0..=1.0).contains(*v))
        {
            return Err(Error::InvalidInput(format!(
                "health target {i} is {v}, outside [0, 1]"
            )));
        }
        let healthy: Vec<usize> = (0..health.len()).filter(|&i| health[i] == 1.0).collect();
        let failed: Vec<usize> = (0..health.len()).filter(|&i| health[i] == 0.0).collect();
        if healthy.is_empty() || failed.is_empty() {
            return Err(Error::InvalidInput(
                "health targets need rows at 1 (healthy) and rows at 0 (failed)".into(),
            ));
        }
        self.fit_inner(x, Array1::from(health.to_vec()), &healthy, &failed)
    }

    fn fit_inner(
        &self,
        x: &Array2<f64>,
        target: Array1<f64>,
        healthy: &[usize],
        failed: &[usize],
    ) -> Result<FittedHealthIndex> {
        let (n, d) = x.dim();
        if d == 0 {
            return Err(Error::InvalidInput(
                "health index data has no columns".into(),
            ));
        }
        let min_rows = (d + 2).max(10);
        if n < min_rows {
            return Err(Error::InvalidInput(format!(
                "{n} rows are too few for a health index of {d} features (need at least {min_rows})"
            )));
        }
        if let Some(((r, c), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite(format!(
                "health index data at row {r}, column {c} ({v})"
            )));
        }
        let scaling = Scaling::fit(x);
        if !scaling.active.iter().any(|&a| a) {
            return Err(Error::InvalidInput(
                "every feature is constant: nothing to build a health index from".into(),
            ));
        }
        let z = scaling.apply(x);
        let weights: Vec<f64> = match self.method {
            HealthMethod::Regression { ridge } => {
                // Ridge on centered data via the augmented system [Z; sqrt(λ) I] w = [y - ȳ; 0].
                let y_mean = target.mean().unwrap_or(0.0);
                let mut za = Array2::zeros((n + d, d));
                za.slice_mut(ndarray::s![..n, ..]).assign(&z);
                let mut ya = Array1::zeros(n + d);
                ya.slice_mut(ndarray::s![..n]).assign(&(&target - y_mean));
                for j in 0..d {
                    za[[n + j, j]] = ridge.sqrt();
                }
                let model = LinearRegression::new()
                    .with_intercept(false)
                    .fit(&Dataset::new(za, ya))
                    .map_err(|e| {
                        Error::InvalidInput(format!("health index regression failed: {e}"))
                    })?;
                model.params().to_vec()
            }
            HealthMethod::Pca => {
                let pca = Pca::params(1)
                    .fit(&DatasetBase::from(z.clone()))
                    .map_err(|e| Error::InvalidInput(format!("health index pca failed: {e}")))?;
                pca.components().row(0).to_vec()
            }
        };
        if weights.iter().any(|w| !w.is_finite()) {
            return Err(Error::NonFinite("health index weights".into()));
        }
        let raw = z.dot(&Array1::from(weights.clone()));
        let mean_of = |idx: &[usize]| idx.iter().map(|&i| raw[i]).sum::<f64>() / idx.len() as f64;
        let (at_healthy, at_failed) = (mean_of(healthy), mean_of(failed));
        let spread = raw.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let gap = (at_healthy - at_failed).abs();
        if gap.is_nan() || gap <= 1e-9 * spread.max(1e-300) {
            return Err(Error::InvalidInput(
                "the features do not separate healthy from failed examples".into(),
            ));
        }
        Ok(FittedHealthIndex {
            config: *self,
            scaling,
            weights,
            at_healthy,
            at_failed,
        })
    }
}

/// A fitted health index: feature vector in, health in [0, 1] out (1 = like new,
/// 0 = failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedHealthIndex {
    config: HealthIndex,
    scaling: Scaling,
    weights: Vec<f64>,
    /// Mean raw score of the healthy examples (maps to 1).
    at_healthy: f64,
    /// Mean raw score of the failed examples (maps to 0).
    at_failed: f64,
}

persist!(
    FittedHealthIndex,
    "twin.health.fitted_health_index",
    1,
    |m: &FittedHealthIndex| -> Result<()> {
        m.config.validate()?;
        let d = m.weights.len();
        let s = &m.scaling;
        let ok = d >= 1
            && s.mean.len() == d
            && s.scale.len() == d
            && s.active.len() == d
            && s.scale.iter().all(|v| v.is_finite() && *v > 0.0)
            && s.mean.iter().chain(&m.weights).all(|v| v.is_finite())
            && m.at_healthy.is_finite()
            && m.at_failed.is_finite()
            && m.at_healthy != m.at_failed;
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization("inconsistent health index".into()))
        }
    }
);

impl FittedHealthIndex {
    /// The settings it was fit with.
    pub fn config(&self) -> &HealthIndex {
        &self.config
    }

    /// The number of features.
    pub fn dim(&self) -> usize {
        self.weights.len()
    }

    /// The unclamped index: 1 at the healthy examples' mean, 0 at the failed ones'.
    /// Fails for a wrong length or a non-finite value.
    pub fn predict_unclamped(&self, x: &[f64]) -> Result<f64> {
        let d = self.dim();
        if x.len() != d {
            return Err(Error::InvalidInput(format!(
                "feature vector has {} values, the health index {d}",
                x.len()
            )));
        }
        if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite(format!("health index feature {i} ({v})")));
        }
        let raw: f64 = x
            .iter()
            .enumerate()
            .map(|(j, &v)| self.weights[j] * self.scaling.z(j, v))
            .sum();
        Ok((raw - self.at_failed) / (self.at_healthy - self.at_failed))
    }

    /// The health index of one feature vector, in [0, 1].
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        Ok(self.predict_unclamped(x)?.clamp(0.0, 1.0))
    }

    /// The health index of every row.
    pub fn predict_rows(&self, x: &Array2<f64>) -> Result<Vec<f64>> {
        x.rows()
            .into_iter()
            .map(|r| match r.as_slice() {
                Some(s) => self.predict(s),
                None => self.predict(&r.to_vec()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six standardized columns driven by one factor with known loadings plus small
    /// independent noise: the first principal direction is (up to sign) the normalized
    /// loading vector, and the other five directions carry only the noise.
    #[test]
    fn pca_weights_follow_the_dominant_direction() {
        let loadings = [1.0, -0.8, 0.6, 0.9, -0.4, 0.7];
        let n = 2000;
        let x = Array2::from_shape_fn((n, 6), |(i, j)| {
            let t = i as f64 / n as f64;
            let factor = (t * 37.0).sin() + 2.0 * t;
            // A deterministic, decorrelated noise per cell.
            let h = ((i as u64 * 2_654_435_761 + j as u64 * 40_503) % 10_007) as f64;
            let noise = (h / 10_007.0 - 0.5) * 0.05;
            loadings[j] * factor + noise
        });
        let fitted = HealthIndex {
            method: HealthMethod::Pca,
            ..HealthIndex::default()
        }
        .fit_runs(std::slice::from_ref(&x))
        .expect("fit");
        // In standardized space the loadings become the correlations' leading
        // eigenvector, which for one factor with negligible noise is sign(l_j)/sqrt(6).
        let w = &fitted.weights;
        let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-9, "unit weights, got norm {norm}");
        let expect: Vec<f64> = loadings
            .iter()
            .map(|l: &f64| l.signum() / 6f64.sqrt())
            .collect();
        let cos: f64 = w.iter().zip(&expect).map(|(a, b)| a * b).sum();
        assert!(cos.abs() > 0.999, "weights {w:?} vs {expect:?}: cos {cos}");
        // The health of the first rows is near 1 and of the last rows near 0.
        let first = fitted.predict(&x.row(0).to_vec()).expect("predict");
        let last = fitted.predict(&x.row(n - 1).to_vec()).expect("predict");
        assert!(first > 0.8 && last < 0.2, "first {first}, last {last}");
    }

    /// Two nearly independent factors: one shared by columns 0-2 (almost noiseless), one
    /// by columns 3-5 (with heavy noise, so its correlation block is weaker). The leading
    /// direction is the first block's; numpy's `eigh` of the same correlation matrix gives
    /// eigenvalues 3.005 and 2.712 and the eigenvector
    /// ±(0.5720, 0.5721, 0.5722, 0.0772, 0.0790, 0.0766).
    #[test]
    fn pca_picks_the_larger_of_two_factors() {
        let n = 3000;
        let x = Array2::from_shape_fn((n, 6), |(i, j)| {
            let t = i as f64 / n as f64;
            let strong = 2.0 * t + 0.1 * (t * 91.0).sin();
            let weak = (t * 53.0).cos();
            let h = ((i as u64 * 2_654_435_761 + j as u64 * 40_503) % 10_007) as f64;
            let noise = (h / 10_007.0 - 0.5) * 2.0;
            if j < 3 {
                strong + 0.01 * noise
            } else {
                weak + noise
            }
        });
        let fitted = HealthIndex {
            method: HealthMethod::Pca,
            ..HealthIndex::default()
        }
        .fit_runs(&[x])
        .expect("fit");
        let w = &fitted.weights;
        let reference = [0.5720, 0.5721, 0.5722, 0.0772, 0.0790, 0.0766];
        let sign = w[0].signum();
        for (got, want) in w.iter().zip(reference) {
            assert!(
                (sign * got - want).abs() < 1e-3,
                "weights {w:?} vs {reference:?}"
            );
        }
    }
}
