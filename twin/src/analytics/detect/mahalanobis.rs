//! Mahalanobis-distance detection with a shrunk (well-conditioned) covariance.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::multivariate::{check_point, check_training, Standardizer};
use super::stats::hotelling_sf;
use super::{check_threshold, persist, MultivariateScore, MultivariateScorer, DEFAULT_THRESHOLD};
use crate::error::{Error, Result};

/// How a [`MahalanobisDetector`] shrinks the sample covariance towards a multiple of the
/// identity: `(1 - s) S + s (tr(S) / d) I`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shrinkage {
    /// The Ledoit-Wolf (2004) estimate of the optimal intensity `s`.
    LedoitWolf,
    /// A fixed intensity in [0, 1].
    Fixed(f64),
}

/// An unfitted Mahalanobis detector: its settings. [`MahalanobisDetector::fit`] learns a
/// [`FittedMahalanobis`] from healthy data.
///
/// ```
/// use ndarray::Array2;
/// use twin::analytics::detect::MahalanobisDetector;
/// let mut data = Array2::from_shape_fn((50, 2), |(i, j)| (i * (j + 1)) as f64);
/// data[[7, 1]] = f64::NAN;
/// let e = MahalanobisDetector::default().fit(&data).unwrap_err();
/// assert_eq!(e.kind(), twin::ErrorKind::NonFinite);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MahalanobisDetector {
    /// Covariance shrinkage.
    pub shrinkage: Shrinkage,
    /// Likelihood at or above which an observation is an alarm, in (0, 1).
    pub threshold: f64,
}

impl Default for MahalanobisDetector {
    fn default() -> Self {
        MahalanobisDetector {
            shrinkage: Shrinkage::LedoitWolf,
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

persist!(
    MahalanobisDetector,
    "twin.detect.mahalanobis_detector",
    1,
    |d: &MahalanobisDetector| d.validate()
);

/// The result of a [`FittedMahalanobis`] on one observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MahalanobisScore {
    /// The squared Mahalanobis distance D² from the healthy mean.
    pub distance_sq: f64,
    /// Likelihood of `distance_sq` under Hotelling's law for a new observation, in [0, 1].
    pub likelihood: f64,
    /// Whether `likelihood` reached the threshold.
    pub alarm: bool,
}

impl MahalanobisDetector {
    /// Check the settings.
    pub fn validate(&self) -> Result<()> {
        if let Shrinkage::Fixed(s) = self.shrinkage {
            if !(0.0..=1.0).contains(&s) {
                return Err(Error::InvalidInput(format!(
                    "shrinkage must be in [0, 1], got {s}"
                )));
            }
        }
        check_threshold(self.threshold)
    }

    /// Fit on healthy data: one row per observation, one column per variable.
    ///
    /// Columns are standardized, the covariance of the standardized data is shrunk (which
    /// keeps it invertible with few rows or collinear columns) and factorized once.
    /// Needs at least `max(10, columns + 2)` rows of finite values.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use twin::analytics::detect::MahalanobisDetector;
    /// let data = Array2::from_shape_fn((400, 2), |(i, j)| {
    ///     let a = ((i * 7919) % 401) as f64 / 400.0 - 0.5;
    ///     let b = ((i * 104_729) % 397) as f64 / 396.0 - 0.5;
    ///     if j == 0 { a } else { a + 0.1 * b }
    /// });
    /// let m = MahalanobisDetector::default().fit(&data)?;
    /// // Along the correlation: close. Across it: far, though nearer in plain distance.
    /// let along = m.score(&[0.4, 0.4])?;
    /// let across = m.score(&[0.1, -0.1])?;
    /// assert!(across.distance_sq > 10.0 * along.distance_sq);
    /// assert!(across.alarm && !along.alarm);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit(&self, data: &Array2<f64>) -> Result<FittedMahalanobis> {
        self.validate()?;
        let (n, d) = data.dim();
        check_training(data, (d + 2).max(10), "mahalanobis")?;
        let standardizer = Standardizer::fit(data);
        let z = standardizer.apply(data);
        let nf = n as f64;
        // Sample covariance with the 1/n normalisation of Ledoit and Wolf.
        let s = z.t().dot(&z) / nf;
        let m = s.diag().sum() / d as f64;
        let intensity = match self.shrinkage {
            Shrinkage::Fixed(v) => v,
            Shrinkage::LedoitWolf => ledoit_wolf(&z, &s, m),
        };
        let mut cov = s * (1.0 - intensity);
        // A tiny ridge keeps an all-constant matrix factorizable.
        let ridge = intensity * m + 1e-10 * m.max(1e-2);
        for i in 0..d {
            cov[[i, i]] += ridge;
        }
        // Back to the unbiased 1/(n - 1) scale.
        cov *= nf / (nf - 1.0);
        let l = cholesky(&cov).ok_or_else(|| {
            Error::InvalidInput("mahalanobis: covariance is not positive definite".into())
        })?;
        let inv_l = invert_lower(&l, d);
        if inv_l.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite("mahalanobis inverse covariance".into()));
        }
        Ok(FittedMahalanobis {
            config: *self,
            standardizer,
            n_train: n,
            shrinkage: intensity,
            inv_chol: inv_l,
        })
    }
}

/// The Ledoit-Wolf shrinkage intensity for standardized data `z` (n × d), its 1/n
/// covariance `s` and `m = tr(s) / d`.
fn ledoit_wolf(z: &Array2<f64>, s: &Array2<f64>, m: f64) -> f64 {
    let (n, d) = z.dim();
    let df = d as f64;
    // Norms are the paper's: ||A||² = tr(A Aᵀ) / d.
    let mut d2 = 0.0;
    for ((i, j), v) in s.indexed_iter() {
        let t = if i == j { v - m } else { *v };
        d2 += t * t;
    }
    d2 /= df;
    if d2 <= 0.0 {
        return 1.0;
    }
    let s_fro2: f64 = s.iter().map(|v| v * v).sum();
    let mut b2 = 0.0;
    for row in z.rows() {
        // ||x xᵀ - S||²_F = ||x||⁴ - 2 xᵀ S x + ||S||²_F
        let x2: f64 = row.iter().map(|v| v * v).sum();
        let sx = s.dot(&row);
        let xsx: f64 = row.iter().zip(sx.iter()).map(|(a, b)| a * b).sum();
        b2 += x2 * x2 - 2.0 * xsx + s_fro2;
    }
    b2 /= df * (n as f64) * (n as f64);
    (b2.min(d2) / d2).clamp(0.0, 1.0)
}

/// The lower Cholesky factor of a symmetric positive-definite matrix (row-major d × d),
/// or None if it is not positive definite.
fn cholesky(a: &Array2<f64>) -> Option<Vec<f64>> {
    let d = a.nrows();
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut sum = a[[i, j]];
            for k in 0..j {
                sum -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if !(sum > 0.0 && sum.is_finite()) {
                    return None;
                }
                l[i * d + i] = sum.sqrt();
            } else {
                l[i * d + j] = sum / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// The inverse of a lower-triangular matrix (row-major d × d), itself lower triangular.
fn invert_lower(l: &[f64], d: usize) -> Vec<f64> {
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0 / l[i * d + i];
        for j in 0..i {
            let mut sum = 0.0;
            for k in j..i {
                sum += l[i * d + k] * inv[k * d + j];
            }
            inv[i * d + j] = -sum / l[i * d + i];
        }
    }
    inv
}

/// A Mahalanobis model fit on healthy data.
///
/// `D² = zᵀ Σ⁻¹ z` for the standardized observation `z`, computed as `|L⁻¹ z|²` with the
/// inverse Cholesky factor kept from the fit (O(d²), no allocation). For Gaussian data
/// `D²` follows Hotelling's T² law for a new observation (nearly chi-squared with `d`
/// degrees of freedom when there are many training rows); the likelihood uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedMahalanobis {
    config: MahalanobisDetector,
    standardizer: Standardizer,
    n_train: usize,
    shrinkage: f64,
    /// Row-major lower-triangular inverse of the Cholesky factor of the covariance.
    inv_chol: Vec<f64>,
}

persist!(
    FittedMahalanobis,
    "twin.detect.fitted_mahalanobis",
    1,
    |m: &FittedMahalanobis| -> Result<()> {
        m.config.validate()?;
        m.standardizer.check()?;
        let d = m.standardizer.dim();
        let ok = m.inv_chol.len() == d * d
            && m.inv_chol.iter().all(|v| v.is_finite())
            && m.n_train > d
            && (0.0..=1.0).contains(&m.shrinkage);
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization(
                "inconsistent mahalanobis model".into(),
            ))
        }
    }
);

impl FittedMahalanobis {
    /// The settings it was fit with.
    pub fn config(&self) -> &MahalanobisDetector {
        &self.config
    }

    /// The number of variables.
    pub fn dim(&self) -> usize {
        self.standardizer.dim()
    }

    /// The shrinkage intensity used, in [0, 1].
    pub fn shrinkage(&self) -> f64 {
        self.shrinkage
    }

    /// Score one observation. Fails with [`Error::InvalidInput`] for a wrong length and
    /// [`Error::NonFinite`] for a NaN or infinite value. Does not allocate.
    pub fn score(&self, x: &[f64]) -> Result<MahalanobisScore> {
        let d = self.dim();
        check_point(x, d, "mahalanobis")?;
        let mut d2 = 0.0;
        for (i, row) in self.inv_chol.chunks_exact(d).enumerate() {
            let y: f64 = row[..=i]
                .iter()
                .zip(x)
                .enumerate()
                .map(|(j, (m, &v))| m * self.standardizer.z(j, v))
                .sum();
            d2 += y * y;
        }
        let p = hotelling_sf(d2, d, self.n_train);
        let likelihood = if p.is_nan() {
            0.0
        } else {
            (1.0 - p).clamp(0.0, 1.0)
        };
        Ok(MahalanobisScore {
            distance_sq: d2,
            likelihood,
            alarm: likelihood >= self.config.threshold,
        })
    }

    /// Score every row of a matrix.
    pub fn score_rows(&self, data: &Array2<f64>) -> Result<Vec<MahalanobisScore>> {
        data.rows()
            .into_iter()
            .map(|r| match r.as_slice() {
                Some(s) => self.score(s),
                None => self.score(&r.to_vec()),
            })
            .collect()
    }

    /// Each variable's contribution `z_j (Σ⁻¹ z)_j` to D² (they sum to D²).
    pub fn contributions(&self, x: &[f64]) -> Result<Vec<f64>> {
        let d = self.dim();
        check_point(x, d, "mahalanobis")?;
        let z: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| self.standardizer.z(j, v))
            .collect();
        // y = L⁻¹ z, then Σ⁻¹ z = L⁻ᵀ y.
        let y: Vec<f64> = self
            .inv_chol
            .chunks_exact(d)
            .enumerate()
            .map(|(i, row)| row[..=i].iter().zip(&z).map(|(m, v)| m * v).sum())
            .collect();
        let mut w = vec![0.0; d];
        for (i, row) in self.inv_chol.chunks_exact(d).enumerate() {
            for (j, m) in row[..=i].iter().enumerate() {
                w[j] += m * y[i];
            }
        }
        Ok(z.iter().zip(&w).map(|(a, b)| a * b).collect())
    }
}

impl MultivariateScorer for FittedMahalanobis {
    fn name(&self) -> &'static str {
        "mahalanobis"
    }

    fn dim(&self) -> usize {
        FittedMahalanobis::dim(self)
    }

    fn score_point(&self, x: &[f64]) -> Result<MultivariateScore> {
        let s = self.score(x)?;
        Ok(MultivariateScore {
            statistic: s.distance_sq,
            likelihood: s.likelihood,
            alarm: s.alarm,
        })
    }

    fn top_contributor(&self, x: &[f64]) -> Result<usize> {
        let c = self.contributions(x)?;
        Ok((0..c.len())
            .max_by(|&a, &b| c[a].total_cmp(&c[b]))
            .unwrap_or(0))
    }
}
