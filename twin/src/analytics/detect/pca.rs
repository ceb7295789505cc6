//! PCA-based detection: Hotelling's T² in the principal subspace and the squared
//! prediction error (SPE, Q statistic) off it.

use linfa_linalg::eigh::EighInto;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::multivariate::{check_point, check_training, Standardizer};
use super::stats::{chi2_sf, hotelling_sf};
use super::{check_threshold, persist, MultivariateScore, MultivariateScorer, DEFAULT_THRESHOLD};
use crate::error::{Error, Result};

/// How many principal components a [`PcaDetector`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcaComponents {
    /// Exactly this many (at least 1, at most the number of columns).
    Fixed(usize),
    /// The fewest that explain at least this fraction of the standardized variance, in
    /// (0, 1].
    Variance(f64),
}

/// An unfitted PCA detector: its settings. [`PcaDetector::fit`] learns a [`FittedPca`]
/// from healthy data; only the fitted model can score.
///
/// ```
/// use ndarray::Array2;
/// use twin::analytics::detect::PcaDetector;
/// let too_small = Array2::<f64>::zeros((3, 4));
/// let e = PcaDetector::default().fit(&too_small).unwrap_err();
/// assert_eq!(e.kind(), twin::ErrorKind::InvalidInput);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcaDetector {
    /// How many components to keep.
    pub components: PcaComponents,
    /// Likelihood at or above which an observation is an alarm, in (0, 1).
    pub threshold: f64,
}

impl Default for PcaDetector {
    fn default() -> Self {
        PcaDetector {
            components: PcaComponents::Variance(0.9),
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

persist!(
    PcaDetector,
    "twin.detect.pca_detector",
    1,
    |d: &PcaDetector| d.validate()
);

/// The result of a [`FittedPca`] on one observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PcaScore {
    /// Hotelling's T²: squared distance within the principal subspace, in units of each
    /// component's variance.
    pub t2: f64,
    /// Squared prediction error: squared distance of the standardized observation from
    /// the principal subspace.
    pub spe: f64,
    /// Likelihood of `t2` under the healthy data's law (Hotelling's T² distribution).
    pub t2_likelihood: f64,
    /// Likelihood of `spe` under the healthy data's law (Box's scaled chi-squared
    /// approximation).
    pub spe_likelihood: f64,
    /// The two combined: `1 - min(1, 2 * min(1 - t2_likelihood, 1 - spe_likelihood))`
    /// (Bonferroni), in [0, 1].
    pub likelihood: f64,
    /// Whether `likelihood` reached the threshold.
    pub alarm: bool,
}

impl PcaDetector {
    /// Check the settings.
    pub fn validate(&self) -> Result<()> {
        match self.components {
            PcaComponents::Fixed(0) => {
                return Err(Error::InvalidInput("components must be at least 1".into()))
            }
            PcaComponents::Variance(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(Error::InvalidInput(format!(
                    "variance fraction must be in (0, 1], got {f}"
                )))
            }
            _ => {}
        }
        check_threshold(self.threshold)
    }

    /// Fit on healthy data: one row per observation, one column per variable.
    ///
    /// Columns are standardized first (so variables in different units weigh alike); the
    /// principal components are the eigenvectors of the resulting correlation matrix.
    /// Needs at least `max(10, columns + 2)` rows of finite values: fewer rows give
    /// [`Error::InvalidInput`], a NaN or infinity [`Error::NonFinite`]. Constant columns are
    /// allowed: any later departure from their constant value raises the SPE.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use twin::analytics::detect::{PcaComponents, PcaDetector};
    /// // Three variables driven by one factor, plus a little noise.
    /// let data = Array2::from_shape_fn((500, 3), |(i, j)| {
    ///     let f = (i as f64 * 0.1).sin();
    ///     let noise = (((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5) * 0.02;
    ///     [1.0, 2.0, -1.0][j] * f + noise
    /// });
    /// let pca = PcaDetector::default().fit(&data)?;
    /// assert_eq!(pca.n_components(), 1);
    /// assert!(pca.explained_variance_ratio()[0] > 0.99);
    /// // On the factor's line: normal. Off it: a large SPE.
    /// assert!(!pca.score(&[0.5, 1.0, -0.5])?.alarm);
    /// let off = pca.score(&[0.5, -1.0, -0.5])?;
    /// assert!(off.alarm && off.spe_likelihood > 0.999);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit(&self, data: &Array2<f64>) -> Result<FittedPca> {
        self.validate()?;
        let (n, d) = data.dim();
        check_training(data, (d + 2).max(10), "pca")?;
        let standardizer = Standardizer::fit(data);
        let z = standardizer.apply(data);
        let cov = z.t().dot(&z) / (n as f64 - 1.0);
        let (vals, vecs) = cov
            .eigh_into()
            .map_err(|e| Error::InvalidInput(format!("pca: eigendecomposition failed: {e}")))?;
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
        let eig: Vec<f64> = order.iter().map(|&i| vals[i].max(0.0)).collect();
        if eig.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite("pca eigenvalues".into()));
        }
        let total: f64 = eig.iter().sum();
        let k = match self.components {
            PcaComponents::Fixed(k) => {
                if k > d {
                    return Err(Error::InvalidInput(format!(
                        "pca: {k} components asked of {d} columns"
                    )));
                }
                k
            }
            PcaComponents::Variance(f) => {
                let mut cum = 0.0;
                let mut k = d;
                for (i, v) in eig.iter().enumerate() {
                    cum += v;
                    if cum >= f * total * (1.0 - 1e-12) {
                        k = i + 1;
                        break;
                    }
                }
                k.max(1)
            }
        };
        let floor = 1e-12 * total.max(1.0);
        let mut loadings = Vec::with_capacity(k * d);
        for &col in order.iter().take(k) {
            loadings.extend(vecs.column(col).iter().copied());
        }
        let kept: Vec<f64> = eig[..k].iter().map(|v| v.max(floor)).collect();
        // Residual eigenvalue sums for the SPE law.
        let theta1: f64 = eig[k..].iter().sum();
        let theta2: f64 = eig[k..].iter().map(|v| v * v).sum();
        let dof_cap = (d - k).max(1) as f64;
        let theta1 = theta1.max(floor);
        let theta2 = theta2.max(theta1 * theta1 / dof_cap);
        Ok(FittedPca {
            config: *self,
            standardizer,
            n_train: n,
            loadings,
            eigenvalues: kept,
            total_variance: total,
            spe_g: theta2 / theta1,
            spe_h: theta1 * theta1 / theta2,
        })
    }
}

/// A PCA model fit on healthy data: it scores observations by T² and SPE.
///
/// T² measures unusual combinations *within* the normal correlation structure (too far
/// along the principal directions), SPE measures departures *from* it (a correlation that
/// broke). T² is calibrated by Hotelling's law for a new observation,
/// `T² ~ k (n + 1)(n - 1) / (n (n - k)) F(k, n - k)`, and SPE by Box's approximation
/// `SPE ~ g chi²(h)` with `g = θ2 / θ1`, `h = θ1² / θ2` from the residual eigenvalues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPca {
    config: PcaDetector,
    standardizer: Standardizer,
    n_train: usize,
    /// Row-major k × d: each row a unit principal direction in standardized space.
    loadings: Vec<f64>,
    eigenvalues: Vec<f64>,
    total_variance: f64,
    spe_g: f64,
    spe_h: f64,
}

persist!(
    FittedPca,
    "twin.detect.fitted_pca",
    1,
    |m: &FittedPca| -> Result<()> {
        m.config.validate()?;
        m.standardizer.check()?;
        let d = m.standardizer.dim();
        let k = m.eigenvalues.len();
        let ok = k >= 1
            && k <= d
            && m.loadings.len() == k * d
            && m.n_train > d
            && m.loadings.iter().all(|v| v.is_finite())
            && m.eigenvalues.iter().all(|v| v.is_finite() && *v > 0.0)
            && m.total_variance.is_finite()
            && m.spe_g.is_finite()
            && m.spe_g > 0.0
            && m.spe_h.is_finite()
            && m.spe_h > 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization("inconsistent pca model".into()))
        }
    }
);

impl FittedPca {
    /// The settings it was fit with.
    pub fn config(&self) -> &PcaDetector {
        &self.config
    }

    /// The number of variables.
    pub fn dim(&self) -> usize {
        self.standardizer.dim()
    }

    /// The number of principal components kept.
    pub fn n_components(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The variance of each kept component (eigenvalues of the correlation matrix).
    pub fn explained_variance(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// The fraction of the standardized variance each kept component explains.
    pub fn explained_variance_ratio(&self) -> Vec<f64> {
        let t = self.total_variance.max(f64::MIN_POSITIVE);
        self.eigenvalues.iter().map(|v| v / t).collect()
    }

    /// The principal direction `i` in standardized coordinates (unit length).
    pub fn component(&self, i: usize) -> Option<&[f64]> {
        let d = self.dim();
        self.loadings.get(i * d..(i + 1) * d)
    }

    /// Score one observation (its values in the training columns' order).
    ///
    /// Fails with [`Error::InvalidInput`] for a wrong length and [`Error::NonFinite`] for
    /// a NaN or infinite value. Does not allocate.
    pub fn score(&self, x: &[f64]) -> Result<PcaScore> {
        let d = self.dim();
        check_point(x, d, "pca")?;
        let sd = &self.standardizer;
        let mut norm2 = 0.0;
        for (j, &v) in x.iter().enumerate() {
            norm2 += sd.z(j, v).powi(2);
        }
        let mut t2 = 0.0;
        let mut proj2 = 0.0;
        for (row, lambda) in self.loadings.chunks_exact(d).zip(&self.eigenvalues) {
            let t: f64 = row
                .iter()
                .zip(x)
                .enumerate()
                .map(|(j, (p, &v))| p * sd.z(j, v))
                .sum();
            t2 += t * t / lambda;
            proj2 += t * t;
        }
        let spe = (norm2 - proj2).max(0.0);
        let k = self.n_components();
        let p_t2 = hotelling_sf(t2, k, self.n_train);
        let p_spe = if k == d {
            1.0
        } else {
            chi2_sf(spe / self.spe_g, self.spe_h)
        };
        let likelihood = 1.0 - (2.0 * p_t2.min(p_spe)).min(1.0);
        let clean = |v: f64| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        let likelihood = clean(likelihood);
        Ok(PcaScore {
            t2,
            spe,
            t2_likelihood: clean(1.0 - p_t2),
            spe_likelihood: clean(1.0 - p_spe),
            likelihood,
            alarm: likelihood >= self.config.threshold,
        })
    }

    /// Score every row of a matrix.
    pub fn score_rows(&self, data: &Array2<f64>) -> Result<Vec<PcaScore>> {
        data.rows()
            .into_iter()
            .map(|r| match r.as_slice() {
                Some(s) => self.score(s),
                None => self.score(&r.to_vec()),
            })
            .collect()
    }

    /// Each variable's share of the SPE: its squared residual in standardized units
    /// (they sum to the SPE). The largest points at the variable that broke the
    /// correlation structure.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use twin::analytics::detect::PcaDetector;
    /// let data = Array2::from_shape_fn((300, 3), |(i, j)| {
    ///     let f = (i as f64 * 0.1).sin();
    ///     f * [1.0, 1.0, 1.0][j] + (((i * 7 + j * 3) % 13) as f64 - 6.0) * 0.003
    /// });
    /// let pca = PcaDetector::default().fit(&data)?;
    /// let c = pca.spe_contributions(&[0.3, 0.3, -0.6])?;
    /// let top = (0..3).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap();
    /// assert_eq!(top, 2);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn spe_contributions(&self, x: &[f64]) -> Result<Vec<f64>> {
        let d = self.dim();
        check_point(x, d, "pca")?;
        let z: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| self.standardizer.z(j, v))
            .collect();
        let mut resid = z.clone();
        for row in self.loadings.chunks_exact(d) {
            let t: f64 = row.iter().zip(&z).map(|(p, v)| p * v).sum();
            for (r, p) in resid.iter_mut().zip(row) {
                *r -= t * p;
            }
        }
        Ok(resid.into_iter().map(|r| r * r).collect())
    }

    /// Each variable's contribution to T²: `z_j * sum_i p_ij t_i / lambda_i` (they sum to
    /// T²; a single one may be negative).
    pub fn t2_contributions(&self, x: &[f64]) -> Result<Vec<f64>> {
        let d = self.dim();
        check_point(x, d, "pca")?;
        let z: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| self.standardizer.z(j, v))
            .collect();
        let mut c = vec![0.0; d];
        for (row, lambda) in self.loadings.chunks_exact(d).zip(&self.eigenvalues) {
            let t: f64 = row.iter().zip(&z).map(|(p, v)| p * v).sum();
            for ((cj, p), zj) in c.iter_mut().zip(row).zip(&z) {
                *cj += zj * p * t / lambda;
            }
        }
        Ok(c)
    }
}

impl MultivariateScorer for FittedPca {
    fn name(&self) -> &'static str {
        "pca"
    }

    fn dim(&self) -> usize {
        FittedPca::dim(self)
    }

    fn score_point(&self, x: &[f64]) -> Result<MultivariateScore> {
        let s = self.score(x)?;
        let statistic = if s.spe_likelihood >= s.t2_likelihood {
            s.spe
        } else {
            s.t2
        };
        Ok(MultivariateScore {
            statistic,
            likelihood: s.likelihood,
            alarm: s.alarm,
        })
    }

    fn top_contributor(&self, x: &[f64]) -> Result<usize> {
        let s = self.score(x)?;
        let c = if s.spe_likelihood >= s.t2_likelihood {
            self.spe_contributions(x)?
        } else {
            self.t2_contributions(x)?
        };
        Ok((0..c.len())
            .max_by(|&a, &b| c[a].total_cmp(&c[b]))
            .unwrap_or(0))
    }
}
