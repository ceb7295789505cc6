//! Condition features against closed forms (sine RMS, crest factor and kurtosis; Parseval)
//! and the health index on a simulated conveyor drive run to failure.

use ndarray::Array2;
use twin::analytics::detect::Persist;
use twin::analytics::features::{BandConfig, BandEnergies, ConditionFeatures, RollingFeatures};
use twin::analytics::health::{FittedHealthIndex, HealthIndex, HealthMethod};
use twin::entity::{ConveyorDrive, PhysicalEntity};
use twin::{ErrorKind, SampleBatch};

/// SplitMix64 with Box-Muller normals.
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

fn sine(amplitude: f64, cycles_per_sample: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| amplitude * (std::f64::consts::TAU * cycles_per_sample * i as f64).sin())
        .collect()
}

#[test]
fn rolling_features_of_a_sine_match_closed_forms() {
    // Amplitude 3, period 100 samples, window of 10 whole periods: RMS = A / sqrt 2,
    // peak = A, crest factor = sqrt 2, kurtosis = (3/8) / (1/2)² = 1.5, skewness = 0.
    let a = 3.0;
    let mut r = RollingFeatures::new(1_000).expect("window");
    for (i, x) in sine(a, 0.01, 5_321).into_iter().enumerate() {
        r.push(x + if i < 100 { 50.0 } else { 0.0 })
            .expect("finite");
    }
    let f = r.features().expect("full");
    assert_eq!(f.count, 1_000);
    assert!((f.rms - a / 2f64.sqrt()).abs() < 1e-9, "rms {}", f.rms);
    assert!((f.peak - a).abs() < 1e-9, "peak {}", f.peak);
    assert!(
        (f.crest_factor - 2f64.sqrt()).abs() < 1e-9,
        "crest {}",
        f.crest_factor
    );
    assert!((f.kurtosis - 1.5).abs() < 1e-9, "kurtosis {}", f.kurtosis);
    assert!(f.skewness.abs() < 1e-9, "skewness {}", f.skewness);
    assert!(f.mean.abs() < 1e-9 && (f.std - f.rms).abs() < 1e-9);
}

#[test]
fn rolling_features_match_a_two_pass_computation_far_from_zero() {
    // A large offset and a skewed, heavy-tailed noise, over many refreshes of the sums.
    let mut rng = Rng(1);
    let xs: Vec<f64> = (0..50_000)
        .map(|_| {
            let e = rng.normal();
            1e6 + e * e * e + 0.1 * rng.normal()
        })
        .collect();
    let w = 777;
    let mut r = RollingFeatures::new(w).expect("window");
    for (i, &x) in xs.iter().enumerate() {
        r.push(x).expect("finite");
        if i % 4_999 == 0 || i == xs.len() - 1 {
            let got = r.features().expect("some");
            let want =
                ConditionFeatures::from_slice(&xs[(i + 1).saturating_sub(w)..=i]).expect("batch");
            let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs().max(1.0);
            assert_eq!(got.count, want.count);
            assert!(close(got.mean, want.mean, 1e-12), "mean at {i}");
            assert!(close(got.rms, want.rms, 1e-12), "rms at {i}");
            assert!(
                close(got.std, want.std, 1e-6),
                "std at {i}: {} vs {}",
                got.std,
                want.std
            );
            assert!(close(got.skewness, want.skewness, 1e-4), "skew at {i}");
            assert!(close(got.kurtosis, want.kurtosis, 1e-4), "kurt at {i}");
            assert_eq!(got.peak, want.peak, "peak at {i}");
        }
    }
}

#[test]
fn gaussian_noise_has_kurtosis_three_and_no_skew() {
    let mut rng = Rng(2);
    let mut r = RollingFeatures::new(20_000).expect("window");
    for _ in 0..20_000 {
        r.push(5.0 + 2.0 * rng.normal()).expect("finite");
    }
    let f = r.features().expect("full");
    // Standard errors: sqrt(24 / n) = 0.035 for kurtosis, sqrt(6 / n) = 0.017 for skewness.
    assert!((f.kurtosis - 3.0).abs() < 0.12, "kurtosis {}", f.kurtosis);
    assert!(f.skewness.abs() < 0.06, "skewness {}", f.skewness);
    assert!((f.std - 2.0).abs() < 0.05, "std {}", f.std);
    assert!(
        (f.rms - (25.0f64 + 4.0).sqrt()).abs() < 0.05,
        "rms {}",
        f.rms
    );
}

#[test]
fn constant_and_bad_inputs_never_give_nan() {
    let mut r = RollingFeatures::new(16).expect("window");
    assert!(r.features().is_none());
    for _ in 0..40 {
        r.push(4.0).expect("finite");
    }
    let f = r.features().expect("some");
    assert_eq!(
        (f.rms, f.std, f.skewness, f.kurtosis, f.crest_factor),
        (4.0, 0.0, 0.0, 0.0, 1.0)
    );
    let z = ConditionFeatures::from_slice(&[0.0; 8]).expect("zeros");
    assert_eq!((z.crest_factor, z.kurtosis), (0.0, 0.0));
    assert_eq!(
        r.push(f64::NAN).expect_err("an error").kind(),
        ErrorKind::NonFinite
    );
    assert_eq!(r.features().expect("unchanged"), f);
    assert_eq!(
        RollingFeatures::new(0).expect_err("an error").kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        ConditionFeatures::from_slice(&[1.0, f64::INFINITY])
            .expect_err("an error")
            .kind(),
        ErrorKind::NonFinite
    );
    // A saved window restores to the same features.
    let back = RollingFeatures::from_json(&r.to_json().expect("save")).expect("load");
    assert_eq!(back.features(), r.features());
}

#[test]
fn band_energies_of_a_tone_land_in_its_band_and_sum_to_the_signal_energy() {
    let fs = 2_048.0;
    let n = 2_048;
    let edges = vec![0.0, 50.0, 100.0, 200.0, 400.0, 1_024.0];
    let mut bands = BandEnergies::new(BandConfig::new(fs, n, edges)).expect("bands");
    // 120 Hz (a whole number of cycles in the frame), amplitude 1.5.
    let x = sine(1.5, 120.0 / fs, n);
    let energy: f64 = x.iter().map(|v| v * v).sum();
    assert!((energy - n as f64 * 1.5 * 1.5 / 2.0).abs() < 1e-6);
    let e = bands.compute(&x).expect("frame");
    assert!(
        (e[2] - energy).abs() < 1e-9 * energy,
        "band 100-200 Hz: {} vs {energy}",
        e[2]
    );
    let total: f64 = e.iter().sum();
    assert!(
        (total - energy).abs() < 1e-9 * energy,
        "Parseval: {total} vs {energy}"
    );
    for (i, v) in e.iter().enumerate() {
        if i != 2 {
            assert!(*v < 1e-12 * energy, "band {i} holds {v}");
        }
    }

    // A tone between bins (123.4 Hz) leaks a little into neighbouring bins, but its band
    // still holds nearly all of it, and the total is the energy within a percent.
    let x = sine(1.5, 123.4 / fs, n);
    let energy: f64 = x.iter().map(|v| v * v).sum();
    let e = bands.compute(&x).expect("frame");
    assert!(e[2] > 0.999 * e.iter().sum::<f64>(), "{e:?}");
    assert!((e.iter().sum::<f64>() / energy - 1.0).abs() < 0.01);

    // Two tones plus an offset: each in its own band, the DC in the lowest.
    let x: Vec<f64> = sine(1.0, 30.0 / fs, n)
        .iter()
        .zip(sine(2.0, 600.0 / fs, n))
        .map(|(a, b)| 0.5 + a + b)
        .collect();
    let energy: f64 = x.iter().map(|v| v * v).sum();
    let e = bands.compute(&x).expect("frame");
    let expected_low = n as f64 * (0.25 + 0.5);
    assert!((e[0] - expected_low).abs() < 1e-6 * energy, "{e:?}");
    assert!((e[4] - n as f64 * 2.0).abs() < 1e-6 * energy, "{e:?}");
    assert!((e.iter().sum::<f64>() - energy).abs() < 1e-9 * energy);
}

#[test]
fn white_noise_energy_spreads_in_proportion_to_bandwidth() {
    let fs = 1_000.0;
    let n = 4_096;
    let mut bands =
        BandEnergies::new(BandConfig::new(fs, n, vec![0.0, 100.0, 300.0, 500.0])).expect("b");
    let mut rng = Rng(3);
    let mut acc = [0.0; 3];
    let mut energy = 0.0;
    let mut out = [0.0; 3];
    for _ in 0..50 {
        let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        energy += x.iter().map(|v| v * v).sum::<f64>();
        bands.compute_into(&x, &mut out).expect("frame");
        for (a, o) in acc.iter_mut().zip(out) {
            *a += o;
        }
    }
    let total: f64 = acc.iter().sum();
    assert!(
        (total / energy - 1.0).abs() < 0.02,
        "total {total} vs {energy}"
    );
    for (a, share) in acc.iter().zip([0.2, 0.4, 0.4]) {
        assert!((a / total - share).abs() < 0.02, "{acc:?}");
    }
}

#[test]
fn band_energies_check_their_inputs() {
    let cfg = BandConfig::new(1_000.0, 64, vec![0.0, 100.0, 500.0]);
    let mut b = BandEnergies::new(cfg.clone()).expect("valid");
    assert_eq!(
        b.compute(&[0.0; 63]).expect_err("an error").kind(),
        ErrorKind::InvalidInput
    );
    let mut frame = vec![0.0; 64];
    frame[9] = f64::NAN;
    assert_eq!(
        b.compute(&frame).expect_err("an error").kind(),
        ErrorKind::NonFinite
    );
    let mut out = [7.0; 2];
    assert!(b.compute_into(&frame, &mut out).is_err());
    assert_eq!(out, [7.0; 2], "outputs are written only on success");
    assert!(b.compute_into(&[0.0; 64], &mut [0.0; 3]).is_err());
    for bad in [
        BandConfig::new(0.0, 64, vec![0.0, 1.0]),
        BandConfig::new(1_000.0, 4, vec![0.0, 1.0]),
        BandConfig::new(1_000.0, 64, vec![0.0]),
        BandConfig::new(1_000.0, 64, vec![0.0, 501.0]),
        BandConfig::new(1_000.0, 64, vec![0.0, f64::NAN]),
    ] {
        assert_eq!(
            BandEnergies::new(bad).expect_err("an error").kind(),
            ErrorKind::InvalidInput
        );
    }
    // Saved as its settings, reloaded with the transform re-planned.
    let back = BandEnergies::from_json(&b.to_json().expect("save")).expect("load");
    assert_eq!(back.config(), &cfg);
}

/// Hourly condition features of one conveyor drive run to failure (ten-minute scans):
/// vibration RMS and peak, mean motor temperature and mean load over the last six hours.
fn run_to_failure(seed: u64) -> Array2<f64> {
    let mut drive = ConveyorDrive::new(seed);
    let ids = drive.ids();
    let mut vib = RollingFeatures::new(36).expect("window");
    let mut temp = RollingFeatures::new(36).expect("window");
    let mut load = RollingFeatures::new(36).expect("window");
    let mut rows = Vec::new();
    let mut batch = SampleBatch::new();
    let mut scan = 0usize;
    while !drive.failed() {
        drive.advance(600.0).expect("advance");
        batch.clear();
        drive.sense(&mut batch);
        for s in batch.iter() {
            let target = if s.signal == ids.vibration {
                &mut vib
            } else if s.signal == ids.motor_temp {
                &mut temp
            } else if s.signal == ids.load {
                &mut load
            } else {
                continue;
            };
            target.push(s.value).expect("finite");
        }
        scan += 1;
        if scan % 6 == 0 && scan >= 36 {
            let (v, t, l) = (
                vib.features().expect("v"),
                temp.features().expect("t"),
                load.features().expect("l"),
            );
            rows.extend([v.rms, v.peak, t.mean, l.mean]);
        }
    }
    Array2::from_shape_vec((rows.len() / 4, 4), rows).expect("shape")
}

fn spearman_with_time(h: &[f64]) -> f64 {
    let n = h.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| h[a].total_cmp(&h[b]));
    let mut rank = vec![0.0; n];
    for (r, &i) in idx.iter().enumerate() {
        rank[i] = r as f64;
    }
    let mean = (n - 1) as f64 / 2.0;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, r) in rank.iter().enumerate() {
        num += (i as f64 - mean) * (r - mean);
        den += (i as f64 - mean).powi(2);
    }
    num / den
}

#[test]
fn health_index_falls_from_one_to_zero_over_a_conveyor_life() {
    let train: Vec<Array2<f64>> = (1..=4).map(run_to_failure).collect();
    let test = run_to_failure(99);
    assert!(
        test.nrows() > 400,
        "about a month of hourly rows: {}",
        test.nrows()
    );
    for method in [HealthMethod::Regression { ridge: 1.0 }, HealthMethod::Pca] {
        let cfg = HealthIndex {
            method,
            ..HealthIndex::default()
        };
        let hi = cfg.fit_runs(&train).expect("fit");
        let h = hi.predict_rows(&test).expect("predict");
        assert!(h.iter().all(|v| (0.0..=1.0).contains(v)));
        let n = h.len();
        let head = h[..n / 10].iter().sum::<f64>() / (n / 10) as f64;
        let tail = h[n - n / 20..].iter().sum::<f64>() / (n / 20) as f64;
        assert!(
            head > 0.85,
            "{method:?}: mean index over the first tenth {head}"
        );
        assert!(
            tail < 0.15,
            "{method:?}: mean index over the last twentieth {tail}"
        );
        // Monotone-ish: the daily means fall, and the rank correlation with time is
        // strongly negative.
        let rho = spearman_with_time(&h);
        assert!(rho < -0.8, "{method:?}: Spearman rho {rho}");
        let daily: Vec<f64> = h
            .chunks(24)
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .collect();
        let rises = daily.windows(2).filter(|w| w[1] > w[0] + 0.05).count();
        assert!(
            rises <= daily.len() / 10,
            "{method:?}: {rises} daily rises of more than 0.05"
        );
    }
}

#[test]
fn health_index_fit_refuses_bad_data_and_round_trips() {
    let good = run_to_failure(7);
    let cfg = HealthIndex::default();
    assert_eq!(
        cfg.fit_runs(&[]).expect_err("an error").kind(),
        ErrorKind::InvalidInput
    );
    let short = good.slice(ndarray::s![..3, ..]).to_owned();
    assert_eq!(
        cfg.fit_runs(&[short]).expect_err("an error").kind(),
        ErrorKind::InvalidInput
    );
    let mut nan = good.clone();
    nan[[5, 2]] = f64::NAN;
    assert_eq!(
        cfg.fit_runs(&[nan]).expect_err("an error").kind(),
        ErrorKind::NonFinite
    );
    let narrow = good.slice(ndarray::s![.., ..3]).to_owned();
    assert_eq!(
        cfg.fit_runs(&[good.clone(), narrow])
            .expect_err("an error")
            .kind(),
        ErrorKind::InvalidInput
    );
    let flat = Array2::from_elem((50, 3), 2.0);
    assert_eq!(
        cfg.fit_runs(&[flat]).expect_err("an error").kind(),
        ErrorKind::InvalidInput
    );
    // A constant column is ignored rather than fatal.
    let mut with_const = good.clone();
    with_const.column_mut(3).fill(0.7);
    let hi = cfg.fit_runs(&[with_const.clone()]).expect("fit");
    let row = with_const.row(0).to_vec();
    let v = hi.predict(&row).expect("predict");
    assert!(v.is_finite());

    let json = hi.to_json().expect("save");
    let back = FittedHealthIndex::from_json(&json).expect("load");
    assert_eq!(back.predict(&row).expect("p"), v);
    let e = FittedHealthIndex::from_json(&json.replace(r#""version":1"#, r#""version":7"#))
        .expect_err("an error");
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert_eq!(
        hi.predict(&[1.0]).expect_err("an error").kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        hi.predict(&[1.0, f64::NAN, 1.0, 1.0])
            .expect_err("an error")
            .kind(),
        ErrorKind::NonFinite
    );
}
