//! Ridge regression on standardised inputs (the Cholesky solve is `analytics::linalg`'s).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Solve `A x = b` for a symmetric positive-definite `n × n` row-major `A` by Cholesky.
/// Returns `None` if `A` is not numerically positive definite.
pub(crate) fn solve_spd(a: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    if !crate::analytics::linalg::cholesky(a, n, &mut l) {
        return None;
    }
    let mut x = b[..n].to_vec();
    crate::analytics::linalg::chol_solve(&l, n, &mut x);
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// A fitted ridge regression on internally standardised inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Ridge {
    pub(crate) mean: Vec<f64>,
    pub(crate) scale: Vec<f64>,
    pub(crate) weights: Vec<f64>,
    pub(crate) intercept: f64,
}

impl Ridge {
    /// Fit `y ≈ w·x + b` with penalty `alpha · |w|²` on standardised columns of the
    /// row-major `rows × p` matrix `x`. Constant columns get weight zero.
    pub(crate) fn fit(x: &[f64], p: usize, y: &[f64], alpha: f64) -> Result<Ridge> {
        let rows = y.len();
        if rows < 2 || p == 0 || x.len() != rows * p {
            return Err(Error::InvalidInput(format!(
                "ridge regression needs at least 2 rows and 1 column, got {rows} x {p}"
            )));
        }
        if !y.iter().chain(x).all(|v| v.is_finite()) {
            return Err(Error::NonFinite("ridge regression data".into()));
        }
        let n = rows as f64;
        let mut mean = vec![0.0; p];
        for r in 0..rows {
            for j in 0..p {
                mean[j] += x[r * p + j];
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut scale = vec![0.0; p];
        for r in 0..rows {
            for j in 0..p {
                let d = x[r * p + j] - mean[j];
                scale[j] += d * d;
            }
        }
        for s in scale.iter_mut() {
            let v = (*s / n).sqrt();
            *s = if v > 1e-12 { v } else { 0.0 };
        }
        let ym = y.iter().sum::<f64>() / n;
        let mut a = vec![0.0; p * p];
        let mut b = vec![0.0; p];
        let mut z = vec![0.0; p];
        for r in 0..rows {
            for j in 0..p {
                z[j] = if scale[j] > 0.0 {
                    (x[r * p + j] - mean[j]) / scale[j]
                } else {
                    0.0
                };
            }
            let yr = y[r] - ym;
            for i in 0..p {
                if z[i] == 0.0 {
                    continue;
                }
                b[i] += z[i] * yr;
                for j in 0..=i {
                    a[i * p + j] += z[i] * z[j];
                }
            }
        }
        for i in 0..p {
            for j in 0..i {
                a[j * p + i] = a[i * p + j];
            }
            a[i * p + i] += if scale[i] > 0.0 {
                alpha.max(1e-10)
            } else {
                1.0
            };
        }
        let w = solve_spd(&a, &b, p).ok_or_else(|| {
            Error::InvalidInput("ridge regression: the normal equations are singular".into())
        })?;
        let weights: Vec<f64> = (0..p)
            .map(|j| if scale[j] > 0.0 { w[j] / scale[j] } else { 0.0 })
            .collect();
        let intercept = ym - weights.iter().zip(&mean).map(|(w, m)| w * m).sum::<f64>();
        Ok(Ridge {
            mean,
            scale,
            weights,
            intercept,
        })
    }

    pub(crate) fn predict(&self, x: &[f64]) -> f64 {
        self.intercept + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
    }

    pub(crate) fn validate(&self, p: usize) -> Result<()> {
        if self.weights.len() != p
            || self.mean.len() != p
            || self.scale.len() != p
            || !self.weights.iter().all(|w| w.is_finite())
            || !self.intercept.is_finite()
        {
            return Err(Error::Serialization(format!(
                "linear model is inconsistent: expected {p} finite weights"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_recovers_a_plane() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..50 {
            let a = i as f64;
            let b = ((i * 7) % 11) as f64;
            x.extend([a, b, 3.0]);
            y.push(2.0 * a - 0.5 * b + 4.0);
        }
        let r = Ridge::fit(&x, 3, &y, 1e-8).expect("fit");
        assert!((r.weights[0] - 2.0).abs() < 1e-6, "{:?}", r.weights);
        assert!((r.weights[1] + 0.5).abs() < 1e-6);
        assert_eq!(r.weights[2], 0.0);
        assert!((r.predict(&[1.0, 2.0, 3.0]) - 5.0).abs() < 1e-6);
    }
}
