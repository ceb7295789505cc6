//! Weibull reliability: maximum-likelihood fits with right censoring against known
//! parameters, closed forms and an independent reference; reliability identities; bad input.

use twin::analytics::reliability::{Weibull, WeibullFit};
use twin::ErrorKind;

/// SplitMix64: a small deterministic generator, so the simulated data are fixed.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// `n` Weibull(k, λ) lifetimes, right-censored at independent Uniform(0, c_max) times.
fn censored_sample(k: f64, lambda: f64, c_max: f64, n: usize, seed: u64) -> (Vec<f64>, Vec<bool>) {
    let mut rng = SplitMix(seed);
    let mut times = Vec::with_capacity(n);
    let mut failed = Vec::with_capacity(n);
    for _ in 0..n {
        let life = lambda * (-rng.uniform().ln()).powf(1.0 / k);
        let censor = c_max * rng.uniform();
        times.push(life.min(censor));
        failed.push(life <= censor);
    }
    (times, failed)
}

fn log_likelihood(times: &[f64], failed: &[bool], k: f64, lambda: f64) -> f64 {
    times
        .iter()
        .zip(failed)
        .map(|(&t, &f)| {
            let z = (t / lambda).powf(k);
            if f {
                k.ln() - lambda.ln() + (k - 1.0) * (t / lambda).ln() - z
            } else {
                -z
            }
        })
        .sum()
}

#[test]
fn mle_recovers_known_parameters_from_a_censored_sample() {
    let (k, lambda) = (1.8, 1200.0);
    let (times, failed) = censored_sample(k, lambda, 3000.0, 10_000, 11);
    let r = failed.iter().filter(|f| **f).count();
    // about 40% of units are suspended: the censoring matters
    assert!((5_000..7_000).contains(&r), "{r} failures");
    let w = WeibullFit::default().fit(&times, &failed).expect("fit");
    assert!((w.shape() / k - 1.0).abs() < 0.03, "shape {}", w.shape());
    assert!(
        (w.scale() / lambda - 1.0).abs() < 0.03,
        "scale {}",
        w.scale()
    );
    let s = w.fit_summary().expect("summary");
    assert_eq!((s.failures, s.suspensions), (r, 10_000 - r));
    // 90% bounds a few percent wide around the estimate
    assert!(s.shape_bounds.0 < w.shape() && w.shape() < s.shape_bounds.1);
    assert!(
        s.shape_bounds.1 / s.shape_bounds.0 < 1.06,
        "{:?}",
        s.shape_bounds
    );
    assert!(
        s.scale_bounds.1 / s.scale_bounds.0 < 1.04,
        "{:?}",
        s.scale_bounds
    );

    // Ignoring the suspensions (treating them as failures) biases the fit badly: the
    // censoring is really being used.
    let naive = WeibullFit::default().fit_failures(&times).expect("fit");
    assert!(
        naive.scale() < 0.8 * lambda,
        "naive scale {}",
        naive.scale()
    );
}

#[test]
fn fisher_bounds_cover_the_truth_at_their_level() {
    // 400 censored samples of 150 units: the 90% bounds should hold the truth in about 90%
    let (k, lambda) = (2.5, 300.0);
    let (mut k_in, mut l_in) = (0, 0);
    let reps = 400;
    for seed in 0..reps {
        let (times, failed) = censored_sample(k, lambda, 500.0, 150, 1000 + seed);
        let w = WeibullFit::default().fit(&times, &failed).expect("fit");
        let s = w.fit_summary().expect("summary");
        k_in += usize::from(s.shape_bounds.0 < k && k < s.shape_bounds.1);
        l_in += usize::from(s.scale_bounds.0 < lambda && lambda < s.scale_bounds.1);
    }
    let (kc, lc) = (k_in as f64 / reps as f64, l_in as f64 / reps as f64);
    assert!((0.85..=0.95).contains(&kc), "shape coverage {kc}");
    assert!((0.85..=0.95).contains(&lc), "scale coverage {lc}");
}

#[test]
fn mle_is_the_maximum_of_the_likelihood() {
    let (times, failed) = censored_sample(0.7, 50.0, 120.0, 400, 3);
    let w = WeibullFit::default().fit(&times, &failed).expect("fit");
    let best = log_likelihood(&times, &failed, w.shape(), w.scale());
    let s = w.fit_summary().expect("summary");
    assert!((s.log_likelihood - best).abs() < 1e-8 * best.abs());
    for (dk, dl) in [
        (1.01, 1.0),
        (0.99, 1.0),
        (1.0, 1.01),
        (1.0, 0.99),
        (1.01, 1.01),
    ] {
        let other = log_likelihood(&times, &failed, w.shape() * dk, w.scale() * dl);
        assert!(other < best, "({dk}, {dl}): {other} >= {best}");
    }
}

#[test]
fn mle_matches_an_independent_reference() {
    // Reference: scipy 1.17.1, stats.weibull_min.fit(CensoredData(uncensored=.., right=..),
    // floc=0) -> k 1.9219984967645658, λ 3600.6172221338 (optimizer tolerance about 1e-8);
    // the profile equation solved with brentq(xtol=1e-14) gives k 1.9219984887992516,
    // λ 3600.617182068179.
    let times = [
        1500.0, 2100.0, 2400.0, 3000.0, 3300.0, 4000.0, 4000.0, 4000.0, 850.0, 2750.0, 3600.0,
        1200.0,
    ];
    let failed = [
        true, true, true, true, true, false, false, false, true, true, false, true,
    ];
    let w = WeibullFit::default().fit(&times, &failed).expect("fit");
    assert!(
        (w.shape() - 1.921_998_488_799_251_6).abs() < 1e-9,
        "{}",
        w.shape()
    );
    assert!(
        (w.scale() - 3_600.617_182_068_179).abs() < 1e-6,
        "{}",
        w.scale()
    );

    // complete data: scipy weibull_min.fit(t, floc=0) -> k 1.5004157327348966, λ 529.446355749101
    let w = WeibullFit::default()
        .fit_failures(&[120.0, 340.0, 410.0, 560.0, 800.0, 95.0, 1020.0])
        .expect("fit");
    assert!(
        (w.shape() - 1.500_415_732_734_896_6).abs() < 1e-6,
        "{}",
        w.shape()
    );
    assert!(
        (w.scale() - 529.446_355_749_101).abs() < 1e-4,
        "{}",
        w.scale()
    );
}

#[test]
fn exponential_case_is_total_time_over_failures() {
    let (times, failed) = censored_sample(1.0, 500.0, 900.0, 300, 5);
    let r = failed.iter().filter(|f| **f).count() as f64;
    let total: f64 = times.iter().sum();
    let fit = WeibullFit {
        fixed_shape: Some(1.0),
        ..WeibullFit::default()
    };
    let w = fit.fit(&times, &failed).expect("fit");
    assert_eq!(w.shape(), 1.0);
    assert!((w.scale() - total / r).abs() < 1e-9 * w.scale());
    assert!((w.mtbf() - total / r).abs() < 1e-9 * w.scale());
    // Fisher bounds of the exponential mean: λ exp(±z / √r), z = 1.6449 at 90%
    let s = w.fit_summary().expect("summary");
    let width = (1.644_853_626_951_472_7 / r.sqrt()).exp();
    assert!((s.scale_bounds.0 - w.scale() / width).abs() < 1e-6 * w.scale());
    assert!((s.scale_bounds.1 - w.scale() * width).abs() < 1e-6 * w.scale());
    // and the free-shape fit of exponential data finds k near 1
    let free = WeibullFit::default().fit(&times, &failed).expect("fit");
    assert!((free.shape() - 1.0).abs() < 0.15, "{}", free.shape());
}

#[test]
fn mtbf_is_scale_times_gamma() {
    // Γ(1 + 1/k): k = 1 -> 1, k = 2 -> √π/2, k = 0.5 -> Γ(3) = 2, k = 3 -> Γ(4/3)
    let cases = [
        (1.0, 1.0),
        (2.0, std::f64::consts::PI.sqrt() / 2.0),
        (0.5, 2.0),
        (3.0, 0.892_979_511_569_249_2),
    ];
    for (k, g) in cases {
        let w = Weibull::new(k, 250.0).expect("weibull");
        assert!(
            (w.mtbf() - 250.0 * g).abs() < 1e-10 * 250.0,
            "k {k}: {}",
            w.mtbf()
        );
        // and it is the integral of R(t): trapezoid rule in log t, from 1e-9 λ to where
        // (t/λ)^k = 60
        let (y0, y1) = ((250.0f64 * 1e-9).ln(), (250.0 * 60f64.powf(1.0 / k)).ln());
        let n = 200_000;
        let h = (y1 - y0) / n as f64;
        let f = |y: f64| w.reliability(y.exp()) * y.exp();
        let mut integral = 0.5 * h * (f(y0) + f(y1));
        for i in 1..n {
            integral += h * f(y0 + i as f64 * h);
        }
        assert!(
            (integral / w.mtbf() - 1.0).abs() < 1e-6,
            "k {k}: {integral}"
        );
    }
}

#[test]
fn conditional_reliability_identities() {
    let w = Weibull::new(2.3, 800.0).expect("weibull");
    for (t, x, y) in [
        (0.0, 100.0, 50.0),
        (300.0, 200.0, 400.0),
        (1500.0, 10.0, 90.0),
    ] {
        let c = w.conditional_reliability(t, x).expect("ok");
        // R(t + x | t) R(t) = R(t + x)
        assert!((c * w.reliability(t) - w.reliability(t + x)).abs() < 1e-14);
        // chain rule: R(x + y | t) = R(x | t) R(y | t + x)
        let chained = c * w.conditional_reliability(t + x, y).expect("ok");
        let direct = w.conditional_reliability(t, x + y).expect("ok");
        assert!((chained - direct).abs() < 1e-14 * direct.max(1e-300));
        assert!(c <= 1.0 && c > 0.0);
    }
    assert_eq!(
        w.conditional_reliability(0.0, 123.0).expect("ok"),
        w.reliability(123.0)
    );
    // wear-out: an older unit is less likely to survive the next 100 h
    let young = w.conditional_reliability(100.0, 100.0).expect("ok");
    let old = w.conditional_reliability(1000.0, 100.0).expect("ok");
    assert!(old < young);
    // the exponential is memoryless
    let e = Weibull::new(1.0, 800.0).expect("weibull");
    let a = e.conditional_reliability(5000.0, 100.0).expect("ok");
    assert!((a - e.reliability(100.0)).abs() < 1e-14);
    // far in the tail R(t) underflows but the conditional form stays finite
    let far = w.conditional_reliability(40_000.0, 1.0).expect("ok");
    assert!(far.is_finite() && far > 0.0 && far < 1.0);
}

#[test]
fn b_lives_and_densities_are_consistent() {
    let w = Weibull::new(1.5, 2000.0).expect("weibull");
    let b10 = w.b10();
    assert!((w.unreliability(b10) - 0.1).abs() < 1e-14);
    assert!((w.quantile(0.1).expect("ok") - b10).abs() < 1e-9);
    // characteristic life: 63.2% have failed at λ
    assert!((w.unreliability(2000.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-15);
    // pdf = h R, and the pdf integrates to the cdf
    let t = 900.0;
    assert!((w.pdf(t) - w.hazard(t) * w.reliability(t)).abs() < 1e-18);
    let (a, b) = (500.0, 700.0);
    let n = 2000;
    let h = (b - a) / n as f64;
    let mut s = w.pdf(a) + w.pdf(b);
    for i in 1..n {
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * w.pdf(a + i as f64 * h);
    }
    let integral = s * h / 3.0;
    assert!((integral - (w.unreliability(b) - w.unreliability(a))).abs() < 1e-12);
    assert_eq!(w.reliability(-5.0), 1.0);
}

#[test]
fn bad_input_gives_typed_errors() {
    let fit = WeibullFit::default();
    let kind = |r: twin::Result<Weibull>| r.expect_err("refused").kind();
    // too few failures
    assert_eq!(
        kind(fit.fit(&[10.0, 20.0, 30.0], &[true, false, false])),
        ErrorKind::InvalidInput
    );
    assert_eq!(kind(fit.fit(&[], &[])), ErrorKind::InvalidInput);
    // NaN and infinite times
    assert_eq!(
        kind(fit.fit(&[10.0, f64::NAN, 30.0], &[true; 3])),
        ErrorKind::NonFinite
    );
    assert_eq!(
        kind(fit.fit(&[10.0, f64::INFINITY], &[true; 2])),
        ErrorKind::NonFinite
    );
    // negative and zero times
    assert_eq!(
        kind(fit.fit(&[10.0, -1.0, 30.0], &[true; 3])),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(fit.fit(&[10.0, 0.0, 30.0], &[true; 3])),
        ErrorKind::InvalidInput
    );
    // mismatched lengths
    assert_eq!(
        kind(fit.fit(&[10.0, 20.0], &[true])),
        ErrorKind::InvalidInput
    );
    // simultaneous failures: the shape is unbounded
    assert_eq!(
        kind(fit.fit(&[50.0, 50.0, 50.0], &[true; 3])),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(fit.fit(&[50.0, 50.0, 20.0], &[true, true, false])),
        ErrorKind::InvalidInput
    );
    // bad settings
    let bad = WeibullFit {
        confidence: 1.0,
        ..WeibullFit::default()
    };
    assert_eq!(
        kind(bad.fit(&[10.0, 20.0], &[true; 2])),
        ErrorKind::InvalidInput
    );
    let bad = WeibullFit {
        fixed_shape: Some(-1.0),
        ..WeibullFit::default()
    };
    assert_eq!(
        kind(bad.fit(&[10.0, 20.0], &[true; 2])),
        ErrorKind::InvalidInput
    );
    // bad queries
    let w = Weibull::new(2.0, 10.0).expect("weibull");
    assert_eq!(
        w.quantile(0.0).expect_err("refused").kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        w.quantile(f64::NAN).expect_err("refused").kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        w.conditional_reliability(f64::NAN, 1.0)
            .expect_err("refused")
            .kind(),
        ErrorKind::NonFinite
    );
    assert_eq!(kind(Weibull::new(-2.0, 10.0)), ErrorKind::InvalidInput);
}

#[test]
fn saved_models_round_trip_and_bad_documents_are_refused() {
    let (times, failed) = censored_sample(2.0, 100.0, 150.0, 200, 9);
    let w = WeibullFit::default().fit(&times, &failed).expect("fit");
    let json = w.to_json().expect("json");
    assert_eq!(Weibull::from_json(&json).expect("load"), w);

    let kind = |s: &str| Weibull::from_json(s).expect_err("refused").kind();
    assert_eq!(kind("not json"), ErrorKind::Serialization);
    assert_eq!(kind(&json[..json.len() / 2]), ErrorKind::Serialization);
    assert_eq!(
        kind(&json.replace("\"version\":1", "\"version\":7")),
        ErrorKind::Serialization
    );
    assert_eq!(
        kind(&json.replace("twin.weibull", "twin.battery_circuit")),
        ErrorKind::Serialization
    );
    // a document whose parameters are impossible
    let neg =
        r#"{"format":"twin.weibull","version":1,"model":{"shape":-1.0,"scale":5.0,"fit":null}}"#;
    let e = Weibull::from_json(neg).expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert!(e.to_string().contains("shape"), "{e}");
    let msg = Weibull::from_json(&json.replace("\"version\":1", "\"version\":7"))
        .expect_err("refused")
        .to_string();
    assert!(msg.contains("version 7"), "{msg}");
}
