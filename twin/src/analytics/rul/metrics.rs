//! Scores of RUL predictions: RMSE, the PHM08 challenge score and interval coverage.

/// Root-mean-square error of predictions against true values (NaN for no pair).
///
/// ```
/// use twin::analytics::rul::metrics::rmse;
/// assert_eq!(rmse(&[1.0, 3.0], &[2.0, 2.0]), 1.0);
/// ```
pub fn rmse(predicted: &[f64], truth: &[f64]) -> f64 {
    let n = predicted.len().min(truth.len());
    let se: f64 = predicted
        .iter()
        .zip(truth)
        .map(|(p, t)| (p - t) * (p - t))
        .sum();
    (se / n as f64).sqrt()
}

/// The PHM08 challenge score (Saxena et al. 2008): with `d = predicted − true`,
/// `Σ exp(−d/13) − 1` for early predictions (`d < 0`) and `Σ exp(d/10) − 1` for late
/// ones: late predictions cost more. Lower is better; 0 is perfect.
///
/// ```
/// use twin::analytics::rul::metrics::phm08_score;
/// let s = phm08_score(&[110.0, 90.0], &[100.0, 100.0]);
/// assert!((s - ((1.0f64).exp() - 1.0 + (10.0f64 / 13.0).exp() - 1.0)).abs() < 1e-12);
/// ```
pub fn phm08_score(predicted: &[f64], truth: &[f64]) -> f64 {
    predicted
        .iter()
        .zip(truth)
        .map(|(p, t)| {
            let d = p - t;
            if d < 0.0 {
                (-d / 13.0).exp() - 1.0
            } else {
                (d / 10.0).exp() - 1.0
            }
        })
        .sum()
}

/// Fraction of `(lower, upper)` intervals that contain the true value.
///
/// ```
/// use twin::analytics::rul::metrics::coverage;
/// assert_eq!(coverage(&[(0.0, 2.0), (5.0, 6.0)], &[1.0, 7.0]), 0.5);
/// ```
pub fn coverage(intervals: &[(f64, f64)], truth: &[f64]) -> f64 {
    let n = intervals.len().min(truth.len());
    let hit = intervals
        .iter()
        .zip(truth)
        .filter(|((lo, hi), t)| lo <= *t && *t <= hi)
        .count();
    hit as f64 / n as f64
}
