//! Streaming and multivariate anomaly detectors on data with known answers: mean shifts of
//! known size, spikes in seasonal noise, correlation breaks, Gaussian distances, hostile
//! inputs, saved and restored state.

use ndarray::Array2;
use twin::analytics::detect::{
    AnyDetector, Cusum, DetectorEngine, EngineConfig, Ensemble, EwmaDetector, FittedMahalanobis,
    FittedPca, HalfSpaceTrees, MahalanobisDetector, PageHinkley, PcaDetector, Persist,
    RobustZScore, StreamingDetector,
};
use twin::analytics::InsightKind;
use twin::{ErrorKind, SampleBatch, Schema, SignalId, SignalSpec, Timestamp, Twin};

/// SplitMix64 with Box-Muller normals: deterministic noise without extra dependencies.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn all_detectors() -> Vec<AnyDetector> {
    vec![
        EwmaDetector::default().into(),
        RobustZScore::default().into(),
        Cusum::default().into(),
        PageHinkley::default().into(),
        HalfSpaceTrees::default().into(),
    ]
}

fn percentile(v: &mut [usize], p: f64) -> usize {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn cusum_and_page_hinkley_find_a_two_sigma_shift_within_the_expected_delay() {
    // Defaults: allowance k = 0.5 sd, decision interval h = -ln(1e-5) / (2k) = 11.5 sd.
    // Siegmund's approximation of the delay for a shift of d = 2 sd is
    // (h + 1.166) / (d - k) = 8.5 samples.
    let (trials, at) = (50, 400);
    for (name, make) in [
        ("cusum", (|| Cusum::default().into()) as fn() -> AnyDetector),
        ("page_hinkley", || PageHinkley::default().into()),
    ] {
        let mut delays = Vec::new();
        for seed in 0..trials {
            let mut rng = Rng(1000 + seed);
            let mut d = make();
            let mut delay = None;
            for i in 0..at + 200 {
                let x = 5.0 + 0.3 * rng.normal() + if i >= at { 0.6 } else { 0.0 };
                let det = d.update(x);
                assert!((0.0..=1.0).contains(&det.likelihood));
                if det.alarm && i >= at && delay.is_none() {
                    delay = Some(i - at);
                }
            }
            delays.push(delay.unwrap_or(usize::MAX));
            assert_eq!(d.kind(), InsightKind::Drift);
        }
        let median = percentile(&mut delays, 0.5);
        let p90 = percentile(&mut delays, 0.9);
        assert!((3..=12).contains(&median), "{name}: median delay {median}");
        assert!(p90 <= 20, "{name}: 90th percentile delay {p90}");
    }
}

#[test]
fn drift_detectors_stay_quiet_on_stationary_noise() {
    // 10 streams of 5,000 samples: with an in-control run length near 10⁵ samples the
    // expected number of false alarms is about 0.5 for CUSUM and 0.2 for Page-Hinkley.
    let mut alarms = [0usize; 2];
    for seed in 0..10 {
        let mut rng = Rng(77 + seed);
        let mut c = Cusum::default();
        let mut p = PageHinkley::default();
        for _ in 0..5_000 {
            let x = -3.0 + 2.0 * rng.normal();
            alarms[0] += usize::from(c.update(x).alarm);
            alarms[1] += usize::from(p.update(x).alarm);
        }
    }
    assert!(alarms[0] <= 2 && alarms[1] <= 2, "false alarms {alarms:?}");
}

/// A daily cycle (1,440 one-minute samples a day) with noise, and spikes that leave the
/// normal range; returns the series and the spike positions.
fn seasonal_with_spikes(seed: u64, n: usize) -> (Vec<f64>, Vec<usize>) {
    let mut rng = Rng(seed);
    let mut x: Vec<f64> = (0..n)
        .map(|i| {
            10.0 + 2.0 * (std::f64::consts::TAU * i as f64 / 1440.0).sin() + 0.2 * rng.normal()
        })
        .collect();
    let mut spikes = Vec::new();
    let mut i = 1_500;
    while i < n {
        // Outward from the daily mean, by 5 (25 noise sd, 2.5 seasonal amplitudes).
        let dir = if x[i] >= 10.0 { 1.0 } else { -1.0 };
        x[i] += dir * (5.0 + rng.uniform());
        spikes.push(i);
        i += 300 + (rng.next_u64() % 400) as usize;
    }
    (x, spikes)
}

/// Recall over the spikes and false-positive rate over the other samples after `skip`.
fn recall_and_fpr(
    d: &mut dyn StreamingDetector,
    x: &[f64],
    spikes: &[usize],
    skip: usize,
) -> (f64, f64) {
    let (mut hits, mut false_alarms, mut negatives) = (0, 0, 0);
    for (i, &v) in x.iter().enumerate() {
        let det = d.update(v);
        assert!(
            (0.0..=1.0).contains(&det.likelihood),
            "likelihood {}",
            det.likelihood
        );
        if i < skip {
            continue;
        }
        if spikes.binary_search(&i).is_ok() {
            hits += usize::from(det.alarm);
        } else {
            negatives += 1;
            false_alarms += usize::from(det.alarm);
        }
    }
    (
        hits as f64 / spikes.len() as f64,
        false_alarms as f64 / negatives as f64,
    )
}

#[test]
fn hst_robust_z_and_ensemble_flag_spikes_in_noisy_seasonal_data() {
    let (x, spikes) = seasonal_with_spikes(2024, 20_000);
    assert!(spikes.len() > 30);
    let detectors: Vec<(&str, Box<dyn StreamingDetector>)> = vec![
        ("hst", Box::new(HalfSpaceTrees::default())),
        ("robust_z", Box::new(RobustZScore::default())),
        ("ewma", Box::new(EwmaDetector::default())),
        ("ensemble", Box::new(Ensemble::default())),
    ];
    for (name, mut d) in detectors {
        let (recall, fpr) = recall_and_fpr(d.as_mut(), &x, &spikes, 1_000);
        assert!(recall >= 0.9, "{name}: recall {recall}");
        assert!(fpr <= 0.01, "{name}: false-positive rate {fpr}");
    }
}

#[test]
fn likelihoods_stay_in_the_unit_interval_on_hostile_streams() {
    let n = 3_000;
    let mut rng = Rng(5);
    let streams: Vec<(&str, Vec<f64>)> = vec![
        ("zeros", vec![0.0; n]),
        ("constant", vec![1e9; n]),
        ("tiny", (0..n).map(|i| 1e-300 * (i % 3) as f64).collect()),
        (
            "huge",
            (0..n)
                .map(|i| if i % 2 == 0 { 1e300 } else { -1e300 })
                .collect(),
        ),
        (
            "step",
            (0..n).map(|i| if i < n / 2 { 0.0 } else { 1e6 }).collect(),
        ),
        ("ramp", (0..n).map(|i| i as f64).collect()),
        (
            "counts",
            (0..n).map(|_| (rng.uniform() * 3.0).floor()).collect(),
        ),
        (
            "non-finite",
            (0..n)
                .map(|i| match i % 7 {
                    0 => f64::NAN,
                    3 => f64::INFINITY,
                    5 => f64::NEG_INFINITY,
                    _ => rng.normal(),
                })
                .collect(),
        ),
    ];
    for (stream, xs) in &streams {
        let mut dets = all_detectors();
        let mut ensemble = Ensemble::default();
        for &x in xs {
            for d in dets.iter_mut() {
                let det = d.update(x);
                assert!(
                    (0.0..=1.0).contains(&det.likelihood) && !det.score.is_nan(),
                    "{} on {stream}: {det:?}",
                    d.name()
                );
                if matches!(*stream, "zeros" | "constant") {
                    assert_eq!(det.likelihood, 0.0, "{} on {stream}", d.name());
                }
            }
            let det = ensemble.update(x);
            assert!(
                (0.0..=1.0).contains(&det.likelihood),
                "ensemble on {stream}"
            );
        }
    }
}

/// Five variables driven by two latent factors plus small noise.
fn two_factor_data(rng: &mut Rng, n: usize) -> Array2<f64> {
    let load = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.7, 0.7], [0.5, -0.5]];
    let mut x = Array2::zeros((n, 5));
    for i in 0..n {
        let f = [rng.normal(), rng.normal()];
        for j in 0..5 {
            x[[i, j]] =
                3.0 * j as f64 + load[j][0] * f[0] + load[j][1] * f[1] + 0.05 * rng.normal();
        }
    }
    x
}

#[test]
fn pca_flags_a_broken_correlation_but_not_healthy_samples() {
    let mut rng = Rng(42);
    let train = two_factor_data(&mut rng, 2_000);
    let pca: FittedPca = PcaDetector::default().fit(&train).expect("fit");
    assert_eq!(pca.n_components(), 2);
    let ratio: f64 = pca.explained_variance_ratio().iter().sum();
    assert!(ratio > 0.99, "explained {ratio}");

    let fresh = two_factor_data(&mut rng, 2_000);
    let scores = pca.score_rows(&fresh).expect("scores");
    let alarms = scores.iter().filter(|s| s.alarm).count();
    assert!(alarms <= 20, "{alarms} alarms on 2,000 healthy samples");
    let t2_mean = scores.iter().map(|s| s.t2).sum::<f64>() / scores.len() as f64;
    // T² of a new observation has mean k (n - 1) / (n - k - 2) ≈ 2.
    assert!((t2_mean - 2.0).abs() < 0.15, "mean T² {t2_mean}");

    // Break the correlation: variable 2 moves by 0.5 (10 noise sd, a quarter of its
    // own spread) while the others stay put.
    let mut broken = fresh.row(0).to_vec();
    broken[2] += 0.5;
    let s = pca.score(&broken).expect("score");
    assert!(s.alarm && s.spe_likelihood > 0.999, "{s:?}");
    let c = pca.spe_contributions(&broken).expect("contributions");
    let top = (0..5).max_by(|&a, &b| c[a].total_cmp(&c[b])).expect("five");
    assert_eq!(top, 2, "{c:?}");

    // Within the structure but far out: T² flags it, SPE does not.
    let far: Vec<f64> = (0..5)
        .map(|j| {
            let load = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.7, 0.7], [0.5, -0.5]];
            3.0 * j as f64 + 6.0 * load[j][0] + 6.0 * load[j][1]
        })
        .collect();
    let s = pca.score(&far).expect("score");
    assert!(s.t2_likelihood > 0.9999 && s.spe_likelihood < 0.99, "{s:?}");
}

#[test]
fn mahalanobis_distances_of_gaussian_data_are_chi_squared() {
    // x = mu + L z with a known lower-triangular L: covariance L Lᵀ, strongly correlated.
    let l = [
        [2.0, 0.0, 0.0, 0.0],
        [1.5, 0.5, 0.0, 0.0],
        [-1.0, 0.3, 0.8, 0.0],
        [0.2, 0.2, 0.2, 0.1],
    ];
    let mu = [10.0, -5.0, 0.0, 100.0];
    let draw = |rng: &mut Rng, n: usize| {
        let mut x = Array2::zeros((n, 4));
        for i in 0..n {
            let z = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
            for r in 0..4 {
                x[[i, r]] = mu[r] + (0..4).map(|c| l[r][c] * z[c]).sum::<f64>();
            }
        }
        x
    };
    let mut rng = Rng(9);
    let model: FittedMahalanobis = MahalanobisDetector::default()
        .fit(&draw(&mut rng, 5_000))
        .expect("fit");
    assert!(model.shrinkage() < 0.05, "shrinkage {}", model.shrinkage());
    let scores = model.score_rows(&draw(&mut rng, 20_000)).expect("scores");
    let d2: Vec<f64> = scores.iter().map(|s| s.distance_sq).collect();
    let mean = d2.iter().sum::<f64>() / d2.len() as f64;
    let var = d2.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d2.len() as f64;
    // chi²(4): mean 4, variance 8; 1% of values above 13.277.
    assert!((mean - 4.0).abs() < 0.15, "mean {mean}");
    assert!((var - 8.0).abs() < 0.8, "variance {var}");
    let tail = d2.iter().filter(|&&v| v > 13.277).count() as f64 / d2.len() as f64;
    assert!((0.006..0.015).contains(&tail), "tail share {tail}");
    // And the likelihood is the matching CDF: about 1% at or above 0.99.
    let over = scores.iter().filter(|s| s.likelihood >= 0.99).count() as f64 / d2.len() as f64;
    assert!(
        (0.006..0.015).contains(&over),
        "likelihood >= 0.99 share {over}"
    );
}

#[test]
fn multivariate_fits_refuse_bad_data_with_typed_errors() {
    let mut rng = Rng(3);
    let good = two_factor_data(&mut rng, 100);
    let few = good.slice(ndarray::s![..5, ..]).to_owned();
    assert_eq!(
        PcaDetector::default()
            .fit(&few)
            .expect_err("an error")
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        MahalanobisDetector::default()
            .fit(&few)
            .expect_err("an error")
            .kind(),
        ErrorKind::InvalidInput
    );
    for bad in [f64::NAN, f64::INFINITY] {
        let mut x = good.clone();
        x[[17, 3]] = bad;
        assert_eq!(
            PcaDetector::default().fit(&x).expect_err("an error").kind(),
            ErrorKind::NonFinite
        );
        assert_eq!(
            MahalanobisDetector::default()
                .fit(&x)
                .expect_err("an error")
                .kind(),
            ErrorKind::NonFinite
        );
    }
    assert_eq!(
        PcaDetector::default()
            .fit(&Array2::zeros((50, 0)))
            .expect_err("an error")
            .kind(),
        ErrorKind::InvalidInput
    );

    // A constant column is allowed: healthy rows score finite and quiet, a departure in
    // the constant column is flagged.
    let mut with_const = good.clone();
    with_const.column_mut(4).fill(7.0);
    let pca = PcaDetector::default().fit(&with_const).expect("pca");
    let maha = MahalanobisDetector::default()
        .fit(&with_const)
        .expect("mahalanobis");
    let row = with_const.row(10).to_vec();
    let (p, m) = (pca.score(&row).expect("p"), maha.score(&row).expect("m"));
    assert!(p.t2.is_finite() && p.spe.is_finite() && !p.alarm, "{p:?}");
    assert!(m.distance_sq.is_finite() && !m.alarm, "{m:?}");
    let mut moved = row.clone();
    moved[4] = 7.5;
    assert!(pca.score(&moved).expect("p").alarm);
    assert!(maha.score(&moved).expect("m").alarm);
    // Entirely constant data fits too, and never yields NaN.
    let flat = Array2::from_elem((20, 3), 1.5);
    let pca = PcaDetector::default().fit(&flat).expect("flat pca");
    let s = pca.score(&[1.5, 1.5, 1.5]).expect("score");
    assert!(!s.likelihood.is_nan() && !s.alarm, "{s:?}");
    assert!(pca.score(&[1.5, 2.0, 1.5]).expect("score").alarm);

    // Scoring checks its input.
    let pca = PcaDetector::default().fit(&good).expect("pca");
    assert_eq!(
        pca.score(&[1.0; 4]).expect_err("an error").kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        pca.score(&[1.0, 2.0, f64::NAN, 4.0, 5.0])
            .expect_err("an error")
            .kind(),
        ErrorKind::NonFinite
    );
}

fn roundtrip_continues_identically<D>(mut d: D, xs: &[f64])
where
    D: StreamingDetector + Persist,
{
    let (head, tail) = xs.split_at(xs.len() / 2);
    for &x in head {
        d.update(x);
    }
    let json = d.to_json().expect("save");
    let mut back = D::from_json(&json).expect("load");
    for &x in tail {
        assert_eq!(
            d.update(x),
            back.update(x),
            "{} diverged after reload",
            d.name()
        );
    }
}

#[test]
fn detectors_and_models_round_trip_through_versioned_json() {
    let (x, _) = seasonal_with_spikes(8, 6_000);
    roundtrip_continues_identically(EwmaDetector::default(), &x);
    roundtrip_continues_identically(RobustZScore::default(), &x);
    roundtrip_continues_identically(Cusum::default(), &x);
    roundtrip_continues_identically(PageHinkley::default(), &x);
    roundtrip_continues_identically(HalfSpaceTrees::default(), &x);
    roundtrip_continues_identically(Ensemble::default(), &x);

    let mut rng = Rng(11);
    let train = two_factor_data(&mut rng, 500);
    let probe = two_factor_data(&mut rng, 50);
    let pca = PcaDetector::default().fit(&train).expect("pca");
    let back = FittedPca::from_json(&pca.to_json().expect("save")).expect("load");
    assert_eq!(
        pca.score_rows(&probe).expect("a"),
        back.score_rows(&probe).expect("b")
    );
    let maha = MahalanobisDetector::default().fit(&train).expect("maha");
    let back = FittedMahalanobis::from_json(&maha.to_json().expect("save")).expect("load");
    assert_eq!(
        maha.score_rows(&probe).expect("a"),
        back.score_rows(&probe).expect("b")
    );

    // Corrupt, mismatched or tampered files are serialization errors that say why.
    let json = pca.to_json().expect("save");
    let cases = [
        (json[..json.len() / 2].to_string(), "truncated"),
        ("[1, 2, 3]".to_string(), "not a saved twin document"),
        (
            json.replace(r#""version":1"#, r#""version":2"#),
            "version 2",
        ),
        (
            json.replace("twin.detect.fitted_pca", "twin.detect.fitted_mahalanobis"),
            "holds a twin.detect.fitted_mahalanobis",
        ),
        (
            json.replace(r#""n_train":500"#, r#""n_train":"many""#),
            "cannot load",
        ),
        // A changed byte breaks the checksum; without a checksum (a document from before
        // checksums) the structural checks still catch the inconsistency.
        (
            json.replace(r#""n_train":500"#, r#""n_train":2"#),
            "checksum mismatch",
        ),
        (
            strip_checksum(&json).replace(r#""n_train":500"#, r#""n_train":2"#),
            "inconsistent",
        ),
    ];
    for (text, needle) in cases {
        let e = FittedPca::from_json(&text).expect_err("an error");
        assert_eq!(e.kind(), ErrorKind::Serialization, "{needle}: {e}");
        assert!(e.to_string().contains(needle), "{needle}: {e}");
    }
    assert!(FittedMahalanobis::from_json(&json).is_err());
}

#[test]
fn detector_engines_report_anomalies_and_drift_per_signal_and_survive_a_snapshot() {
    let schema = Schema::builder("plant")
        .telemetry(SignalSpec::new("a", ""))
        .telemetry(SignalSpec::new("b", ""))
        .build()
        .expect("schema");
    let build = || {
        Twin::builder(schema.clone())
            .engine(
                DetectorEngine::new(&schema, Ensemble::default(), EngineConfig::default())
                    .expect("ensemble engine"),
            )
            .engine(
                DetectorEngine::new(&schema, Cusum::default(), EngineConfig::default())
                    .expect("cusum engine"),
            )
            .build()
            .expect("twin")
    };
    let mut rng = Rng(21);
    let scans: Vec<SampleBatch> = (0..4_000_i64)
        .map(|i| {
            let mut b = SampleBatch::new();
            let t = Timestamp(i * 1_000_000_000);
            let a = 1.0 + 0.1 * rng.normal() + if i == 3_000 { 2.0 } else { 0.0 };
            let b_val = 20.0 + rng.normal() + if i >= 2_500 { 3.0 } else { 0.0 };
            b.push(t, SignalId(0), a);
            b.push(t, SignalId(1), b_val);
            b
        })
        .collect();
    let mut whole = build();
    let mut insights = Vec::new();
    // Insights are drained after every scan in all three twins, so their snapshots compare.
    for s in &scans {
        whole.ingest_batch(s.as_ref());
        insights.extend(whole.drain_insights());
    }
    let second = |i: &twin::analytics::Insight| i.time.as_nanos() / 1_000_000_000;
    assert!(insights.iter().any(|i| {
        i.kind == InsightKind::Anomaly && i.signal == SignalId(0) && second(i) == 3_000
    }));
    let drift: Vec<i64> = insights
        .iter()
        .filter(|i| i.kind == InsightKind::Drift && i.signal == SignalId(1))
        .map(second)
        .collect();
    assert!(
        drift.iter().any(|&t| (2_500..2_520).contains(&t)),
        "drift insights at {drift:?}"
    );
    assert!(insights.iter().all(|i| (0.0..=1.0).contains(&i.score)));

    // Snapshot half-way, restore, feed the rest: the same final state as never stopping.
    let mut first = build();
    for s in &scans[..1_700] {
        first.ingest_batch(s.as_ref());
        first.drain_insights();
    }
    let snap = first.snapshot().expect("snapshot").to_json().expect("json");
    let mut restored = Twin::builder(schema.clone())
        .engine(
            DetectorEngine::new(&schema, Ensemble::default(), EngineConfig::default()).expect("e"),
        )
        .engine(DetectorEngine::new(&schema, Cusum::default(), EngineConfig::default()).expect("c"))
        .restore(twin::TwinSnapshot::from_json(&snap).expect("parse"))
        .expect("restore");
    for s in &scans[1_700..] {
        restored.ingest_batch(s.as_ref());
        restored.drain_insights();
    }
    let (a, b) = (
        restored.snapshot().expect("a").to_json().expect("a"),
        whole.snapshot().expect("b").to_json().expect("b"),
    );
    if a != b {
        let at = a
            .bytes()
            .zip(b.bytes())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        let lo = at.saturating_sub(200);
        panic!(
            "restored state differs at byte {at}:\n{}\nvs\n{}",
            &a[lo..(at + 100).min(a.len())],
            &b[lo..(at + 100).min(b.len())]
        );
    }
}

/// The document without its `"checksum":"crc32:........",` field.
fn strip_checksum(json: &str) -> String {
    let start = json.find(r#""checksum":""#).expect("a checksum");
    let end = start + json[start..].find(',').expect("a comma") + 1;
    format!("{}{}", &json[..start], &json[end..])
}
