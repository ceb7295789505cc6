//! State estimation and prognosis: filters against closed forms and against each other,
//! tracking of NASA's battery model, Monte Carlo times of event against analytic
//! distributions and against ProgPy, and bad input.

use twin::analytics::estimate::{
    BatteryCircuit, ConstantInput, Dims, KalmanFilter, LinearModel, MonteCarlo, ParticleConfig,
    ParticleFilter, PredictorConfig, StateDistribution, StateEstimator, StateSpaceModel,
    TimeOfEvent, UkfConfig, UnscentedKalmanFilter,
};
use twin::ErrorKind;

/// SplitMix64 with Box-Muller normals: fixed pseudo-random data for the simulations.
struct Noise {
    state: u64,
    spare: Option<f64>,
}

impl Noise {
    fn new(seed: u64) -> Self {
        Noise {
            state: seed,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let a = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * a.sin());
        r * a.cos()
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Constant velocity with a discrete white-noise acceleration (DWPA) of std `sa`, position
/// measured with std `sv`, period `t`.
fn dwpa(t: f64, sa: f64, sv: f64) -> LinearModel {
    let q = sa * sa;
    LinearModel::builder(2, 1)
        .discrete(&[1.0, t, 0.0, 1.0], t)
        .observation(&[1.0, 0.0])
        .process_noise(&[
            q * t.powi(4) / 4.0,
            q * t.powi(3) / 2.0,
            q * t.powi(3) / 2.0,
            q * t * t,
        ])
        .measurement_noise(&[sv * sv])
        .build()
        .expect("model")
}

#[test]
fn kalman_gain_and_covariance_reach_the_alpha_beta_closed_form() {
    // Kalata's tracking index Λ = σa T² / σv gives the steady-state α-β gains of the DWPA
    // model: α = −(Λ² + 8Λ − (Λ + 4)√(Λ² + 8Λ)) / 8, β = (Λ² + 4Λ − Λ√(Λ² + 8Λ)) / 4,
    // K = [α, β/T], and the updated covariance σv² [α, β/T; β/T, β(α − β/2)/((1 − α)T²)].
    for (t, sa, sv) in [(1.0, 0.5, 2.0), (0.1, 3.0, 0.5), (2.0, 0.05, 1.0)] {
        let lam: f64 = sa * t * t / sv;
        let root = (lam * lam + 8.0 * lam).sqrt();
        let alpha = -(lam * lam + 8.0 * lam - (lam + 4.0) * root) / 8.0;
        let beta = (lam * lam + 4.0 * lam - lam * root) / 4.0;
        let mut kf =
            KalmanFilter::new(dwpa(t, sa, sv), &[0.0, 0.0], &[100.0, 0.0, 0.0, 100.0]).expect("kf");
        for _ in 0..2000 {
            kf.estimate(&[], t, &[0.0]).expect("step");
        }
        let k = kf.gain();
        assert!(close(k[0], alpha, 1e-9), "T {t}: α {} vs {alpha}", k[0]);
        assert!(
            close(k[1], beta / t, 1e-9),
            "T {t}: β/T {} vs {}",
            k[1],
            beta / t
        );
        let p = kf.covariance();
        let v = sv * sv;
        assert!(close(p[0], alpha * v, 1e-9));
        assert!(close(p[1], beta / t * v, 1e-9));
        let p22 = beta * (alpha - beta / 2.0) / ((1.0 - alpha) * t * t) * v;
        assert!(close(p[3], p22, 1e-9), "{} vs {p22}", p[3]);
    }
}

#[test]
fn kalman_converges_to_the_truth_within_its_covariance() {
    let (t, sa, sv) = (1.0, 0.5, 2.0);
    let model = dwpa(t, sa, sv);
    let mut kf = KalmanFilter::new(model, &[0.0, 0.0], &[100.0, 0.0, 0.0, 100.0]).expect("kf");
    let mut noise = Noise::new(1);
    let mut x = [10.0, -1.0];
    let (mut se_pos, mut se_vel, mut se_raw, mut n) = (0.0, 0.0, 0.0, 0.0);
    for k in 0..20_000 {
        let a = sa * noise.normal();
        x = [x[0] + t * x[1] + a * t * t / 2.0, x[1] + a * t];
        let z = x[0] + sv * noise.normal();
        kf.estimate(&[], t, &[z]).expect("step");
        if k >= 200 {
            se_pos += (kf.mean()[0] - x[0]).powi(2);
            se_vel += (kf.mean()[1] - x[1]).powi(2);
            se_raw += (z - x[0]).powi(2);
            n += 1.0;
        }
    }
    let p = kf.covariance();
    // the errors have the variance the filter claims, and beat the raw measurements
    let pos = se_pos / n / p[0];
    let vel = se_vel / n / p[3];
    assert!(
        (0.9..1.1).contains(&pos),
        "position error variance ratio {pos}"
    );
    assert!(
        (0.9..1.1).contains(&vel),
        "velocity error variance ratio {vel}"
    );
    // (by the factor α ≈ 0.505 of the closed form)
    assert!(se_pos < 0.6 * se_raw, "{se_pos} vs raw {se_raw}");
}

#[test]
fn random_walk_gain_matches_the_riccati_root() {
    // x' = x + w, w ~ N(0, q dt) (continuous model), z = x + v: P⁻ = (q + √(q² + 4qr)) / 2
    let (q, r) = (0.3, 2.0);
    let walk = LinearModel::builder(1, 1)
        .continuous(&[0.0])
        .observation(&[1.0])
        .process_noise(&[q])
        .measurement_noise(&[r])
        .build()
        .expect("model");
    let mut kf = KalmanFilter::new(walk, &[0.0], &[1.0]).expect("kf");
    for _ in 0..200 {
        kf.estimate(&[], 1.0, &[0.0]).expect("step");
    }
    let prior = (q + (q * q + 4.0 * q * r).sqrt()) / 2.0;
    assert!(close(kf.gain()[0], prior / (prior + r), 1e-12));
}

#[test]
fn ukf_equals_kf_on_a_linear_model() {
    // continuous constant velocity driven by a known acceleration input, with white
    // acceleration noise; exact discretisation for each (varying) step
    let model = LinearModel::builder(2, 1)
        .continuous(&[0.0, 1.0, 0.0, 0.0])
        .input(1, &[0.0, 1.0], &[0.5])
        .observation(&[1.0, 0.0])
        .process_noise(&[0.0, 0.0, 0.0, 0.2])
        .measurement_noise(&[0.7])
        .build()
        .expect("model");
    let x0 = [1.0, 0.5];
    let p0 = [4.0, 0.3, 0.3, 2.0];
    for cfg in [
        UkfConfig::default(),
        UkfConfig {
            alpha: 0.3,
            beta: 2.0,
            kappa: 1.0,
        },
    ] {
        let mut kf = KalmanFilter::new(model.clone(), &x0, &p0).expect("kf");
        let mut ukf = UnscentedKalmanFilter::new(model.clone(), &x0, &p0, cfg).expect("ukf");
        let mut noise = Noise::new(2);
        for k in 0..100 {
            let dt = 0.5 + 0.5 * (k % 3) as f64;
            let u = [(k as f64 * 0.1).sin()];
            let z = [k as f64 * 0.8 + noise.normal()];
            kf.estimate(&u, dt, &z).expect("kf step");
            ukf.estimate(&u, dt, &z).expect("ukf step");
            for (a, b) in kf.mean().iter().zip(ukf.mean()) {
                assert!(close(*a, *b, 1e-9), "step {k}: {a} vs {b}");
            }
            for (a, b) in kf.covariance().iter().zip(ukf.covariance()) {
                assert!(close(*a, *b, 1e-9), "step {k}: {a} vs {b}");
            }
        }
    }
}

fn noisy_battery() -> BatteryCircuit {
    BatteryCircuit::default()
        .with_process_noise([0.01, 0.5, 0.05, 0.05])
        .and_then(|b| b.with_measurement_noise([0.5, 0.01]))
        .expect("battery")
}

/// A battery drawing a varying current, simulated with its process and measurement noise:
/// `(true states, inputs, measurements)` at 1 Hz.
type Run = (Vec<[f64; 4]>, Vec<f64>, Vec<[f64; 2]>);

fn simulate_battery(b: &BatteryCircuit, seconds: usize, seed: u64) -> Run {
    let sp = [0.01, 0.5, 0.05, 0.05];
    let sm = [0.5, 0.01];
    let mut noise = Noise::new(seed);
    let mut x: [f64; 4] = b.initial_state().try_into().expect("4 states");
    let (mut xs, mut us, mut zs) = (Vec::new(), Vec::new(), Vec::new());
    let mut next = [0.0; 4];
    for k in 0..seconds {
        let i = if (k / 300) % 2 == 0 { 2.0 } else { 3.5 };
        b.step(&x, &[i], 1.0, &mut next);
        for (v, s) in next.iter_mut().zip(sp) {
            *v += s * noise.normal();
        }
        b.constrain(&mut next);
        x = next;
        let mut z = [0.0; 2];
        b.output(&x, &[i], &mut z);
        z[0] += sm[0] * noise.normal();
        z[1] += sm[1] * noise.normal();
        xs.push(x);
        us.push(i);
        zs.push(z);
    }
    (xs, us, zs)
}

/// Track the simulated battery from a start 150 C off its charge; returns the normalised
/// charge errors over the last 600 s and the final absolute error.
fn track<F: StateEstimator>(f: &mut F, run: &Run) -> (f64, f64) {
    let (xs, us, zs) = run;
    let mut nees = 0.0;
    let mut n = 0.0;
    let mut last = 0.0;
    for k in 0..xs.len() {
        f.estimate(&[us[k]], 1.0, &zs[k]).expect("estimate");
        let err = f.mean()[1] - xs[k][1];
        let var = f.covariance()[5];
        if k + 600 >= xs.len() {
            nees += err * err / var;
            n += 1.0;
        }
        last = err.abs();
    }
    (nees / n, last)
}

fn battery_start(b: &BatteryCircuit) -> (Vec<f64>, [f64; 16]) {
    let mut x0 = b.initial_state();
    x0[1] -= 150.0;
    let p0 = [
        1.0,
        0.0,
        0.0,
        0.0, //
        0.0,
        200.0 * 200.0,
        0.0,
        0.0, //
        0.0,
        0.0,
        1.0,
        0.0, //
        0.0,
        0.0,
        0.0,
        1.0,
    ];
    (x0, p0)
}

#[test]
fn ukf_and_ekf_track_the_battery() {
    let b = noisy_battery();
    let run = simulate_battery(&b, 1800, 7);
    let (x0, p0) = battery_start(&b);
    let mut ukf =
        UnscentedKalmanFilter::new(b.clone(), &x0, &p0, UkfConfig::default()).expect("ukf");
    let (nees, err) = track(&mut ukf, &run);
    // the charge estimate is within a few coulombs (of ~7800) and consistent with its variance
    assert!(err < 25.0, "UKF charge error {err} C");
    assert!(
        (0.2..3.0).contains(&nees),
        "UKF normalised charge error {nees}"
    );
    // the temperature too (measured with σ = 0.5 K)
    let tb = run.0[run.0.len() - 1][0];
    assert!((ukf.mean()[0] - tb).abs() < 1.0);

    let mut ekf = KalmanFilter::new(b.clone(), &x0, &p0).expect("ekf");
    let (nees, err) = track(&mut ekf, &run);
    assert!(err < 25.0, "EKF charge error {err} C");
    assert!(
        (0.2..3.0).contains(&nees),
        "EKF normalised charge error {nees}"
    );
}

#[test]
fn particle_filter_tracks_the_battery_and_is_reproducible() {
    let b = noisy_battery();
    let run = simulate_battery(&b, 900, 8);
    let (x0, p0) = battery_start(&b);
    let cfg = ParticleConfig {
        particles: 300,
        seed: 11,
        ..ParticleConfig::default()
    };
    let mut pf = ParticleFilter::new(b.clone(), &x0, &p0, cfg).expect("pf");
    let (_, err) = track(&mut pf, &run);
    assert!(err < 30.0, "PF charge error {err} C");
    assert!(pf.resample_count() > 0);
    let ess = pf.effective_sample_size();
    assert!(ess > 1.0 && ess <= 300.0 + 1e-9);
    let total: f64 = pf.weights().iter().sum();
    assert!((total - 1.0).abs() < 1e-12);

    // same seed and data: the same estimate, bit for bit; another seed: a different one
    let cfg = ParticleConfig {
        particles: 100,
        ..cfg
    };
    let mut one = ParticleFilter::new(b.clone(), &x0, &p0, cfg).expect("pf");
    let mut again = ParticleFilter::new(b.clone(), &x0, &p0, cfg).expect("pf");
    let mut other =
        ParticleFilter::new(b, &x0, &p0, ParticleConfig { seed: 12, ..cfg }).expect("pf");
    for f in [&mut one, &mut again, &mut other] {
        for k in 0..100 {
            f.estimate(&[run.1[k]], 1.0, &run.2[k]).expect("estimate");
        }
    }
    assert_eq!(one.mean(), again.mean());
    assert_eq!(one.particles(), again.particles());
    assert_ne!(one.mean(), other.mean());
}

/// `wear' = rate`, event when the wear reaches 1; `x = [wear, rate]`.
fn degradation() -> LinearModel {
    LinearModel::builder(2, 1)
        .continuous(&[0.0, 1.0, 0.0, 0.0])
        .observation(&[1.0, 0.0])
        .measurement_noise(&[1e-4])
        .event(&[1.0, 0.0], 1.0)
        .build()
        .expect("model")
}

#[test]
fn deterministic_degradation_reaches_the_threshold_at_the_analytic_time() {
    let model = degradation();
    let none = ConstantInput::new(vec![]);
    let x0 = [0.1, 0.003]; // crossing at (1 − 0.1) / 0.003 = 300
    let cfg = PredictorConfig {
        samples: 3,
        dt: 0.7,
        horizon: 1000.0,
        ..PredictorConfig::default()
    };
    let toe = MonteCarlo::new(cfg)
        .expect("mc")
        .predict(&model, StateDistribution::Point(&x0), &none)
        .expect("prediction");
    for s in toe.samples() {
        let t = s.expect("reached");
        assert!((t - 300.0).abs() < 1e-9, "{t}");
    }
    // without interpolation: the end of the step that crosses, ⌈300 / 0.7⌉ · 0.7
    let toe = MonteCarlo::new(PredictorConfig {
        interpolate: false,
        ..cfg
    })
    .expect("mc")
    .predict(&model, StateDistribution::Point(&x0), &none)
    .expect("prediction");
    let t = toe.median().expect("reached");
    assert!((t - 429.0 * 0.7).abs() < 1e-9, "{t}");
    // beyond the horizon: not reached
    let short = MonteCarlo::new(PredictorConfig {
        horizon: 200.0,
        ..cfg
    })
    .expect("mc")
    .predict(&model, StateDistribution::Point(&x0), &none)
    .expect("prediction");
    assert_eq!(short.fraction_reached(), 0.0);
    assert_eq!(short.median(), None);
}

#[test]
fn gaussian_rate_gives_the_analytic_spread() {
    // T = 1 / rate with rate ~ N(μ, σ²): P(T ≤ t) = P(rate ≥ 1/t), so the q-quantile of T
    // is 1 / (μ + z₁₋q σ), and the 10–90% spread is 1/(μ − 1.2816σ) − 1/(μ + 1.2816σ).
    let model = degradation();
    let (mu, sigma) = (0.01, 0.001);
    let mean = [0.0, mu];
    let cov = [0.0, 0.0, 0.0, sigma * sigma];
    let cfg = PredictorConfig {
        samples: 4000,
        dt: 2.0,
        horizon: 1000.0,
        seed: 3,
        ..PredictorConfig::default()
    };
    let mc = MonteCarlo::new(cfg).expect("mc");
    let dist = StateDistribution::Gaussian {
        mean: &mean,
        covariance: &cov,
    };
    let toe = mc
        .predict(&model, dist, &ConstantInput::new(vec![]))
        .expect("prediction");
    assert_eq!(toe.fraction_reached(), 1.0);
    let z90 = 1.281_551_565_544_600_5;
    let q = |p: f64| toe.percentile(p).expect("reached");
    let (p10, p50, p90) = (1.0 / (mu + z90 * sigma), 1.0 / mu, 1.0 / (mu - z90 * sigma));
    assert!((q(0.1) / p10 - 1.0).abs() < 0.01, "{} vs {p10}", q(0.1));
    assert!((q(0.5) / p50 - 1.0).abs() < 0.01, "{} vs {p50}", q(0.5));
    assert!((q(0.9) / p90 - 1.0).abs() < 0.01, "{} vs {p90}", q(0.9));
    let spread = q(0.9) - q(0.1);
    assert!(
        (spread / (p90 - p10) - 1.0).abs() < 0.05,
        "{spread} vs {}",
        p90 - p10
    );
    // the delta method: sd(T) ≈ σ/μ² (1 + 3σ²/μ²...) ≈ 10.3 h here
    let sd = toe.std_dev().expect("sd");
    assert!((9.5..11.5).contains(&sd), "{sd}");

    // reproducible: same seed, same samples; sample i does not depend on the count
    let again = mc
        .predict(&model, dist, &ConstantInput::new(vec![]))
        .expect("prediction");
    assert_eq!(again, toe);
    let fewer = MonteCarlo::new(PredictorConfig { samples: 10, ..cfg })
        .expect("mc")
        .predict(&model, dist, &ConstantInput::new(vec![]))
        .expect("prediction");
    assert_eq!(fewer.samples(), &toe.samples()[..10]);
    let other = MonteCarlo::new(PredictorConfig { seed: 4, ..cfg })
        .expect("mc")
        .predict(&model, dist, &ConstantInput::new(vec![]))
        .expect("prediction");
    assert_ne!(other.samples(), toe.samples());
}

#[test]
fn process_noise_gives_the_inverse_gaussian_first_passage() {
    // dx = μ dt + σ dW from 0 to the level D: T ~ inverse Gaussian, mean D/μ, variance
    // D σ² / μ³ (continuous model with input μ and noise density σ²)
    let (mu, sigma, level) = (1.0, 1.0, 50.0);
    let model = LinearModel::builder(1, 1)
        .continuous(&[0.0])
        .input(1, &[1.0], &[])
        .observation(&[1.0])
        .process_noise(&[sigma * sigma])
        .measurement_noise(&[1.0])
        .event(&[1.0], level)
        .build()
        .expect("model");
    let cfg = PredictorConfig {
        samples: 2000,
        dt: 0.1,
        horizon: 500.0,
        seed: 9,
        ..PredictorConfig::default()
    };
    let toe = MonteCarlo::new(cfg)
        .expect("mc")
        .predict(
            &model,
            StateDistribution::Point(&[0.0]),
            &ConstantInput::new(vec![mu]),
        )
        .expect("prediction");
    let mean = toe.mean().expect("mean");
    let sd = toe.std_dev().expect("sd");
    let want_sd = (level * sigma * sigma / mu.powi(3)).sqrt();
    assert!((mean / (level / mu) - 1.0).abs() < 0.015, "mean {mean}");
    assert!((sd / want_sd - 1.0).abs() < 0.06, "sd {sd} vs {want_sd}");
    // without process noise, no spread at all
    let still = MonteCarlo::new(PredictorConfig {
        process_noise: false,
        samples: 5,
        ..cfg
    })
    .expect("mc")
    .predict(
        &model,
        StateDistribution::Point(&[0.0]),
        &ConstantInput::new(vec![mu]),
    )
    .expect("prediction");
    for s in still.samples() {
        assert!((s.expect("reached") - 50.0).abs() < 1e-6);
    }
}

// Reference figures measured with NASA ProgPy 1.9.0 (PyPI) by benches/peers/progpy_battery.py
// (run by benches/estimate_vs_progpy.sh): BatteryCircuit with its default parameters, a
// constant 2 A, Euler steps of 1 s.
/// `simulate_to_threshold` from a full cell, no noise: EOD at 3803.0 s.
const PROGPY_EOD_FULL_S: f64 = 3803.0;
/// UnscentedKalmanFilter (α 1, β 0, κ −1; Q = diag(0.0625), R = diag(4, 4e-4),
/// P0 = diag(0.01, 1, 0.01, 0.01)) after 600 noise-free 1 Hz measurements: the mean.
const PROGPY_UKF_MEAN: [f64; 4] = [
    295.545_783_479_235_8,
    6_656.093_185_600_735,
    2.068_923_057_020_360_3,
    25.268_251_979_600_57,
];
/// ... and its covariance diagonal.
const PROGPY_UKF_VAR: [f64; 4] = [
    0.467_666_917_795_046_9,
    34.623_820_517_977_194,
    0.036_826_164_152_508_62,
    0.385_707_205_140_532_86,
];
/// MonteCarlo, 100 samples from that estimate, process noise 0.25 on every state, dt 1 s:
/// mean time to EOD from t = 600 s.
const PROGPY_MC_EOD_MEAN_S: f64 = 3200.19;

#[test]
fn battery_end_of_discharge_matches_progpy() {
    let clean = BatteryCircuit::default();
    let full = clean.initial_state();
    let load = ConstantInput::new(vec![2.0]);
    let cfg = PredictorConfig {
        samples: 2,
        dt: 1.0,
        horizon: 10_000.0,
        process_noise: false,
        interpolate: false,
        ..PredictorConfig::default()
    };
    let toe = MonteCarlo::new(cfg)
        .expect("mc")
        .predict(&clean, StateDistribution::Point(&full), &load)
        .expect("prediction");
    assert_eq!(toe.median(), Some(PROGPY_EOD_FULL_S));
    // interpolated: within the last step
    let toe = MonteCarlo::new(PredictorConfig {
        interpolate: true,
        ..cfg
    })
    .expect("mc")
    .predict(&clean, StateDistribution::Point(&full), &load)
    .expect("prediction");
    let t = toe.median().expect("reached");
    assert!(t > PROGPY_EOD_FULL_S - 1.0 && t <= PROGPY_EOD_FULL_S, "{t}");
}

#[test]
fn battery_ukf_and_prediction_match_progpy() {
    let clean = BatteryCircuit::default();
    let mut x = clean.initial_state();
    let mut next = [0.0; 4];
    let model = BatteryCircuit::default()
        .with_process_noise([0.25; 4])
        .and_then(|b| b.with_measurement_noise([2.0, 0.02]))
        .expect("battery");
    let p0 = [
        0.01, 0.0, 0.0, 0.0, //
        0.0, 1.0, 0.0, 0.0, //
        0.0, 0.0, 0.01, 0.0, //
        0.0, 0.0, 0.0, 0.01,
    ];
    let cfg = UkfConfig {
        alpha: 1.0,
        beta: 0.0,
        kappa: -1.0,
    };
    let mut ukf = UnscentedKalmanFilter::new(model.clone(), &x, &p0, cfg).expect("ukf");
    for _ in 0..600 {
        clean.step(&x, &[2.0], 1.0, &mut next);
        x.copy_from_slice(&next);
        let mut z = [0.0; 2];
        clean.output(&x, &[2.0], &mut z);
        ukf.estimate(&[2.0], 1.0, &z).expect("estimate");
    }
    for i in 0..4 {
        let (m, v) = (ukf.mean()[i], ukf.covariance()[i * 5]);
        assert!(close(m, PROGPY_UKF_MEAN[i], 1e-9), "mean {i}: {m}");
        assert!(close(v, PROGPY_UKF_VAR[i], 1e-7), "variance {i}: {v}");
    }
    let mc = MonteCarlo::new(PredictorConfig {
        samples: 100,
        dt: 1.0,
        horizon: 10_000.0,
        seed: 0,
        process_noise: true,
        interpolate: false,
    })
    .expect("mc");
    let toe = mc
        .predict(&model, ukf.distribution(), &ConstantInput::new(vec![2.0]))
        .expect("prediction");
    let mean = toe.mean().expect("reached");
    assert!(
        (mean / PROGPY_MC_EOD_MEAN_S - 1.0).abs() < 0.005,
        "EOD mean {mean} vs ProgPy {PROGPY_MC_EOD_MEAN_S}"
    );
    // process noise on the charge alone spreads EOD by ≈ 0.25 √3200 / 2 A ≈ 7 s
    let sd = toe.std_dev().expect("sd");
    assert!((4.0..14.0).contains(&sd), "{sd}");
}

/// A model that blows up once its state passes 10.
#[derive(Debug)]
struct Fragile;

impl StateSpaceModel for Fragile {
    fn dims(&self) -> Dims {
        Dims {
            states: 1,
            inputs: 1,
            outputs: 1,
        }
    }
    fn step(&self, x: &[f64], u: &[f64], dt: f64, next: &mut [f64]) {
        next[0] = if x[0] > 10.0 {
            f64::NAN
        } else {
            x[0] + u[0] * dt
        };
    }
    fn output(&self, x: &[f64], _u: &[f64], z: &mut [f64]) {
        z[0] = x[0];
    }
    fn process_noise(&self, _dt: f64, q: &mut [f64]) {
        q[0] = 0.01;
    }
    fn measurement_noise(&self, r: &mut [f64]) {
        r[0] = 1.0;
    }
    fn event_margin(&self, x: &[f64], _u: &[f64]) -> f64 {
        100.0 - x[0]
    }
}

#[test]
fn bad_input_gives_typed_errors_and_leaves_the_estimate_alone() {
    let b = noisy_battery();
    let x0 = b.initial_state();
    let p0 = battery_start(&b).1;
    let mut ukf =
        UnscentedKalmanFilter::new(b.clone(), &x0, &p0, UkfConfig::default()).expect("ukf");
    ukf.estimate(&[2.0], 1.0, &[292.2, 4.1]).expect("estimate");
    let (mean, cov) = (ukf.mean().to_vec(), ukf.covariance().to_vec());
    let kind = |r: twin::Result<()>| r.expect_err("refused").kind();
    assert_eq!(kind(ukf.update(&[f64::NAN, 4.0])), ErrorKind::NonFinite);
    assert_eq!(kind(ukf.update(&[292.0])), ErrorKind::InvalidInput);
    assert_eq!(kind(ukf.predict(&[2.0], 0.0)), ErrorKind::InvalidInput);
    assert_eq!(kind(ukf.predict(&[2.0], -1.0)), ErrorKind::InvalidInput);
    assert_eq!(kind(ukf.predict(&[2.0], f64::NAN)), ErrorKind::InvalidInput);
    assert_eq!(
        kind(ukf.predict(&[f64::INFINITY], 1.0)),
        ErrorKind::NonFinite
    );
    assert_eq!(kind(ukf.predict(&[], 1.0)), ErrorKind::InvalidInput);
    assert_eq!(ukf.mean(), &mean[..]);
    assert_eq!(ukf.covariance(), &cov[..]);

    // construction
    let not_pd = [1.0; 16];
    let new_err =
        |r: twin::Result<UnscentedKalmanFilter<BatteryCircuit>>| r.expect_err("refused").kind();
    assert_eq!(
        new_err(UnscentedKalmanFilter::new(
            b.clone(),
            &x0,
            &not_pd,
            UkfConfig::default()
        )),
        ErrorKind::InvalidInput
    );
    let mut asym = p0;
    asym[1] = 0.5;
    assert_eq!(
        new_err(UnscentedKalmanFilter::new(
            b.clone(),
            &x0,
            &asym,
            UkfConfig::default()
        )),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        new_err(UnscentedKalmanFilter::new(
            b.clone(),
            &x0[..3],
            &p0,
            UkfConfig::default()
        )),
        ErrorKind::InvalidInput
    );
    let bad_cfg = UkfConfig {
        alpha: 0.0,
        ..UkfConfig::default()
    };
    assert_eq!(
        new_err(UnscentedKalmanFilter::new(b.clone(), &x0, &p0, bad_cfg)),
        ErrorKind::InvalidInput
    );
    // the default battery has no measurement noise: R is not positive definite
    assert_eq!(
        new_err(UnscentedKalmanFilter::new(
            BatteryCircuit::default(),
            &x0,
            &p0,
            UkfConfig::default()
        )),
        ErrorKind::InvalidInput
    );
    // the Kalman filter needs Jacobians
    let e = KalmanFilter::new(Fragile, &[0.0], &[1.0]).expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("Jacobian"), "{e}");
    let pf_cfg = ParticleConfig {
        particles: 1,
        ..ParticleConfig::default()
    };
    assert_eq!(
        ParticleFilter::new(b.clone(), &x0, &p0, pf_cfg)
            .expect_err("refused")
            .kind(),
        ErrorKind::InvalidInput
    );

    // a model that produces NaN: an error, and the particle filter keeps its particles
    let mut pf = ParticleFilter::new(
        Fragile,
        &[9.0],
        &[0.01],
        ParticleConfig {
            particles: 50,
            ..ParticleConfig::default()
        },
    )
    .expect("pf");
    pf.predict(&[1.5], 1.0).expect("first step stays finite");
    let before = pf.particles().to_vec();
    assert_eq!(kind(pf.predict(&[1.5], 1.0)), ErrorKind::NonFinite);
    assert_eq!(pf.particles(), &before[..]);
    let mut ukf =
        UnscentedKalmanFilter::new(Fragile, &[10.5], &[0.01], UkfConfig::default()).expect("ukf");
    assert_eq!(kind(ukf.predict(&[1.0], 1.0)), ErrorKind::NonFinite);
    assert_eq!(ukf.mean(), &[10.5]);

    // prediction
    let mc = MonteCarlo::new(PredictorConfig::default()).expect("mc");
    let load = ConstantInput::new(vec![2.0]);
    let pred_err = |r: twin::Result<TimeOfEvent>| r.expect_err("refused").kind();
    assert_eq!(
        pred_err(mc.predict(&b, StateDistribution::Point(&x0[..2]), &load)),
        ErrorKind::InvalidInput
    );
    let indefinite = [
        1.0, 2.0, 0.0, 0.0, //
        2.0, 1.0, 0.0, 0.0, //
        0.0, 0.0, 1.0, 0.0, //
        0.0, 0.0, 0.0, 1.0,
    ];
    let dist = StateDistribution::Gaussian {
        mean: &x0,
        covariance: &indefinite,
    };
    assert_eq!(
        pred_err(mc.predict(&b, dist, &load)),
        ErrorKind::InvalidInput
    );
    let nan_state = [f64::NAN, 1.0, 0.0, 0.0];
    assert_eq!(
        pred_err(mc.predict(&b, StateDistribution::Point(&nan_state), &load)),
        ErrorKind::NonFinite
    );
    let weights = [0.5, -0.5];
    let particles = [x0.clone(), x0.clone()].concat();
    let dist = StateDistribution::Weighted {
        particles: &particles,
        weights: &weights,
    };
    assert_eq!(
        pred_err(mc.predict(&b, dist, &load)),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        pred_err(mc.predict(
            &b,
            StateDistribution::Point(&x0),
            &ConstantInput::new(vec![1.0, 2.0])
        )),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        pred_err(mc.predict(
            &b,
            StateDistribution::Point(&x0),
            &ConstantInput::new(vec![f64::NAN])
        )),
        ErrorKind::NonFinite
    );
    assert_eq!(
        pred_err(mc.predict(
            &Fragile,
            StateDistribution::Point(&[0.0]),
            &ConstantInput::new(vec![1.0])
        )),
        ErrorKind::NonFinite
    );
    for bad in [
        PredictorConfig {
            samples: 0,
            ..PredictorConfig::default()
        },
        PredictorConfig {
            dt: -1.0,
            ..PredictorConfig::default()
        },
        PredictorConfig {
            horizon: f64::INFINITY,
            ..PredictorConfig::default()
        },
        PredictorConfig {
            dt: 1e-6,
            horizon: 1e9,
            ..PredictorConfig::default()
        },
    ] {
        assert_eq!(
            MonteCarlo::new(bad).expect_err("refused").kind(),
            ErrorKind::InvalidInput
        );
    }
    // a discrete model refuses a step other than its period
    let walk = LinearModel::builder(1, 1)
        .discrete(&[1.0], 1.0)
        .observation(&[1.0])
        .measurement_noise(&[1.0])
        .build()
        .expect("model");
    let mut kf = KalmanFilter::new(walk, &[0.0], &[1.0]).expect("kf");
    assert_eq!(kind(kf.predict(&[], 0.5)), ErrorKind::InvalidInput);
}

#[test]
fn filters_save_and_load_and_continue_identically() {
    let b = noisy_battery();
    let run = simulate_battery(&b, 60, 5);
    let (x0, p0) = battery_start(&b);
    let mut ukf =
        UnscentedKalmanFilter::new(b.clone(), &x0, &p0, UkfConfig::default()).expect("ukf");
    let cfg = ParticleConfig {
        particles: 100,
        seed: 2,
        ..ParticleConfig::default()
    };
    let mut pf = ParticleFilter::new(b.clone(), &x0, &p0, cfg).expect("pf");
    for k in 0..30 {
        ukf.estimate(&[run.1[k]], 1.0, &run.2[k]).expect("ukf");
        pf.estimate(&[run.1[k]], 1.0, &run.2[k]).expect("pf");
    }
    let ukf_json = ukf.to_json().expect("json");
    let pf_json = pf.to_json().expect("json");
    let mut ukf2 = UnscentedKalmanFilter::<BatteryCircuit>::from_json(&ukf_json).expect("load");
    let mut pf2 = ParticleFilter::<BatteryCircuit>::from_json(&pf_json).expect("load");
    for k in 30..60 {
        ukf.estimate(&[run.1[k]], 1.0, &run.2[k]).expect("ukf");
        ukf2.estimate(&[run.1[k]], 1.0, &run.2[k]).expect("ukf");
        pf.estimate(&[run.1[k]], 1.0, &run.2[k]).expect("pf");
        pf2.estimate(&[run.1[k]], 1.0, &run.2[k]).expect("pf");
    }
    assert_eq!(ukf.mean(), ukf2.mean());
    assert_eq!(ukf.covariance(), ukf2.covariance());
    assert_eq!(pf.mean(), pf2.mean());

    let ukf_err =
        |s: &str| UnscentedKalmanFilter::<BatteryCircuit>::from_json(s).expect_err("refused");
    assert_eq!(ukf_err(&ukf_json[..40]).kind(), ErrorKind::Serialization);
    let e = ukf_err(&ukf_json.replace("\"version\":1", "\"version\":2"));
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert!(e.to_string().contains("version 2"), "{e}");
    assert_eq!(ukf_err(&pf_json).kind(), ErrorKind::Serialization);
    // a saved covariance that is not positive definite is refused on load
    let bad = ukf_json.replacen("\"p\":[", "\"p\":[-", 1);
    assert_eq!(ukf_err(&bad).kind(), ErrorKind::Serialization);
    let bm = b.to_json().expect("json");
    assert_eq!(BatteryCircuit::from_json(&bm).expect("load"), b);
    assert_eq!(
        BatteryCircuit::from_json(&bm.replace("\"rs\":0.0538926", "\"rs\":-1.0"))
            .expect_err("refused")
            .kind(),
        ErrorKind::Serialization
    );
}

#[test]
fn direct_deserialization_is_checked_too() {
    // embedded in a larger document, a model is still validated as it is read
    let ok = r#"{"dims":{"states":1,"inputs":0,"outputs":1},"time":{"discrete":{"period":1.0}},
        "a":[1.0],"b":[],"h":[1.0],"d":[],"q":[0.1],"r":[1.0],"event":null}"#;
    let m: LinearModel = serde_json::from_str(ok).expect("valid model");
    assert_eq!(m.period(), Some(1.0));
    let short = ok.replace("\"a\":[1.0]", "\"a\":[]");
    assert!(serde_json::from_str::<LinearModel>(&short).is_err());
    let not_pd = ok.replace("\"r\":[1.0]", "\"r\":[0.0]");
    assert!(serde_json::from_str::<LinearModel>(&not_pd).is_err());
    let cfg = r#"{"samples":10,"dt":0.0,"horizon":10.0,"seed":0,"process_noise":true,"interpolate":true}"#;
    assert!(serde_json::from_str::<MonteCarlo>(cfg).is_err());
    assert!(serde_json::from_str::<TimeOfEvent>(r#"{"samples":[],"horizon":1.0}"#).is_err());
}

#[test]
fn filters_accept_boxed_models() {
    let b = noisy_battery();
    let x0 = b.initial_state();
    let p0 = battery_start(&b).1;
    let boxed: Box<dyn StateSpaceModel + Send> = Box::new(b.clone());
    let mut dynamic =
        UnscentedKalmanFilter::new(boxed, &x0, &p0, UkfConfig::default()).expect("ukf");
    let mut concrete = UnscentedKalmanFilter::new(b, &x0, &p0, UkfConfig::default()).expect("ukf");
    dynamic
        .estimate(&[2.0], 1.0, &[292.3, 4.15])
        .expect("estimate");
    concrete
        .estimate(&[2.0], 1.0, &[292.3, 4.15])
        .expect("estimate");
    assert_eq!(dynamic.mean(), concrete.mean());
}
