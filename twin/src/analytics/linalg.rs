//! Small dense linear algebra on row-major slices, for the filters, the predictor and the
//! RUL models' ridge solves.
//!
//! Hand-written rather than taken from a general crate: state dimensions here are small
//! (a handful, rarely more than ten) and fixed when a filter is built, so plain loops over
//! buffers allocated once beat a general library's per-call allocation and shape checks,
//! and no LAPACK build is pulled in. Every matrix is a row-major `&[f64]` of `rows * cols`.

// Index loops read closest to the textbook formulas they implement.
#![allow(clippy::needless_range_loop)]

/// Lower-triangular Cholesky factor `l` of the symmetric positive definite `a` (n×n).
///
/// Returns `false` when `a` is not positive definite (a pivot at or below a relative
/// tolerance, or non-finite). Only the lower triangle of `a` is read.
pub(crate) fn cholesky(a: &[f64], n: usize, l: &mut [f64]) -> bool {
    l[..n * n].fill(0.0);
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if !(d.is_finite() && d > a[j * n + j].abs() * 1e-13 && d > 0.0) {
            return false;
        }
        let ljj = d.sqrt();
        l[j * n + j] = ljj;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = s / ljj;
        }
    }
    true
}

/// A lower-triangular square root `l` (with `l lᵀ = a`) of the symmetric positive
/// semi-definite `a`: a Cholesky factorisation that accepts zero pivots (their column is
/// zero), so singular covariances such as a noise that drives only some states factor.
///
/// Returns `false` when `a` has a clearly negative pivot, a zero pivot whose column is not
/// zero (so `a` is indefinite), or a non-finite entry.
pub(crate) fn cholesky_psd(a: &[f64], n: usize, l: &mut [f64]) -> bool {
    l[..n * n].fill(0.0);
    let mut scale = 0.0f64;
    for i in 0..n {
        let d = a[i * n + i];
        if !d.is_finite() {
            return false;
        }
        scale = scale.max(d.abs());
    }
    if scale == 0.0 {
        // Only the zero matrix is PSD with a zero diagonal.
        return a[..n * n].iter().all(|&v| v == 0.0);
    }
    let tol = scale * 1e-12;
    let off_tol = (tol * scale).sqrt() * 10.0;
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if !d.is_finite() || d < -tol {
            return false;
        }
        if d <= tol {
            // Zero pivot: the rest of the column must vanish too.
            for i in j + 1..n {
                let mut s = a[i * n + j];
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                if s.is_nan() || s.abs() > off_tol {
                    return false;
                }
            }
            continue;
        }
        let ljj = d.sqrt();
        l[j * n + j] = ljj;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = s / ljj;
        }
    }
    true
}

/// Solve `l lᵀ x = b` in place, given the Cholesky factor `l` (n×n) of a positive
/// definite matrix.
pub(crate) fn chol_solve(l: &[f64], n: usize, b: &mut [f64]) {
    forward_substitute(l, n, b);
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Solve `l y = b` in place for lower-triangular `l` (n×n) with a non-zero diagonal.
pub(crate) fn forward_substitute(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// `c = a b` with `a` n×k and `b` k×m.
pub(crate) fn matmul(a: &[f64], b: &[f64], c: &mut [f64], n: usize, k: usize, m: usize) {
    for i in 0..n {
        for j in 0..m {
            let mut s = 0.0;
            for p in 0..k {
                s += a[i * k + p] * b[p * m + j];
            }
            c[i * m + j] = s;
        }
    }
}

/// `c = a bᵀ` with `a` n×k and `b` m×k.
pub(crate) fn matmul_bt(a: &[f64], b: &[f64], c: &mut [f64], n: usize, k: usize, m: usize) {
    for i in 0..n {
        for j in 0..m {
            let mut s = 0.0;
            for p in 0..k {
                s += a[i * k + p] * b[j * k + p];
            }
            c[i * m + j] = s;
        }
    }
}

/// `y = a x` with `a` n×k.
pub(crate) fn matvec(a: &[f64], x: &[f64], y: &mut [f64], n: usize, k: usize) {
    for i in 0..n {
        let mut s = 0.0;
        for p in 0..k {
            s += a[i * k + p] * x[p];
        }
        y[i] = s;
    }
}

/// Replace `a` (n×n) by `(a + aᵀ) / 2`.
pub(crate) fn symmetrize(a: &mut [f64], n: usize) {
    for i in 0..n {
        for j in i + 1..n {
            let s = 0.5 * (a[i * n + j] + a[j * n + i]);
            a[i * n + j] = s;
            a[j * n + i] = s;
        }
    }
}

/// Whether `a` (n×n) is finite and symmetric to a relative tolerance.
pub(crate) fn is_symmetric(a: &[f64], n: usize) -> bool {
    let scale = a[..n * n].iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if !scale.is_finite() {
        return false;
    }
    let tol = scale * 1e-9;
    for i in 0..n {
        for j in i + 1..n {
            if (a[i * n + j] - a[j * n + i]).abs() > tol {
                return false;
            }
        }
    }
    true
}

/// The matrix exponential of `a` (n×n) by scaling and squaring with a Taylor series.
///
/// The scaled matrix has 1-norm at most 1/2, where 18 Taylor terms are exact to machine
/// precision. Used only when a linear model is discretised (once per step size).
pub(crate) fn expm(a: &[f64], n: usize) -> Vec<f64> {
    let norm = (0..n)
        .map(|j| (0..n).map(|i| a[i * n + j].abs()).sum::<f64>())
        .fold(0.0f64, f64::max);
    let mut s = 0i32;
    if norm > 0.5 {
        s = (norm / 0.5).log2().ceil() as i32;
    }
    let scale = 0.5f64.powi(s);
    let x: Vec<f64> = a[..n * n].iter().map(|v| v * scale).collect();
    let mut result = vec![0.0; n * n];
    let mut term = vec![0.0; n * n];
    for i in 0..n {
        result[i * n + i] = 1.0;
        term[i * n + i] = 1.0;
    }
    let mut next = vec![0.0; n * n];
    for k in 1..=18 {
        matmul(&term, &x, &mut next, n, n, n);
        let inv = 1.0 / k as f64;
        for (t, v) in term.iter_mut().zip(&next) {
            *t = v * inv;
        }
        for (r, t) in result.iter_mut().zip(&term) {
            *r += t;
        }
    }
    for _ in 0..s {
        matmul(&result, &result, &mut next, n, n, n);
        std::mem::swap(&mut result, &mut next);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reconstructs_and_solves() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let mut l = [0.0; 9];
        assert!(cholesky(&a, 3, &mut l));
        let mut back = [0.0; 9];
        matmul_bt(&l, &l, &mut back, 3, 3, 3);
        for (x, y) in a.iter().zip(&back) {
            assert!((x - y).abs() < 1e-12);
        }
        let mut b = [1.0, 2.0, 3.0];
        chol_solve(&l, 3, &mut b);
        let mut ab = [0.0; 3];
        matvec(&a, &b, &mut ab, 3, 3);
        for (x, y) in ab.iter().zip(&[1.0, 2.0, 3.0]) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn cholesky_refuses_singular_and_indefinite() {
        let mut l = [0.0; 4];
        assert!(!cholesky(&[1.0, 1.0, 1.0, 1.0], 2, &mut l));
        assert!(!cholesky(&[1.0, 2.0, 2.0, 1.0], 2, &mut l));
        assert!(!cholesky(&[f64::NAN, 0.0, 0.0, 1.0], 2, &mut l));
    }

    #[test]
    fn psd_factor_accepts_singular_refuses_indefinite() {
        let mut l = [0.0; 4];
        // rank one: [1 2; 2 4]
        assert!(cholesky_psd(&[1.0, 2.0, 2.0, 4.0], 2, &mut l));
        let mut back = [0.0; 4];
        matmul_bt(&l, &l, &mut back, 2, 2, 2);
        assert!((back[3] - 4.0).abs() < 1e-12 && (back[1] - 2.0).abs() < 1e-12);
        assert!(cholesky_psd(&[0.0; 4], 2, &mut l));
        assert!(!cholesky_psd(&[0.0, 1.0, 1.0, 0.0], 2, &mut l));
        assert!(!cholesky_psd(&[1.0, 2.0, 2.0, 1.0], 2, &mut l));
    }

    #[test]
    fn expm_of_rotation_and_nilpotent() {
        // exp([[0, t], [-t, 0]]) = [[cos t, sin t], [-sin t, cos t]]
        let t = 2.5f64;
        let e = expm(&[0.0, t, -t, 0.0], 2);
        assert!((e[0] - t.cos()).abs() < 1e-13 && (e[1] - t.sin()).abs() < 1e-13);
        assert!((e[2] + t.sin()).abs() < 1e-13 && (e[3] - t.cos()).abs() < 1e-13);
        let e = expm(&[0.0, 3.0, 0.0, 0.0], 2);
        assert_eq!(e, vec![1.0, 3.0, 0.0, 1.0]);
    }
}
