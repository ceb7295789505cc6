//! Remaining useful life: known analytic cases, synthetic fleets with known lives,
//! conformal coverage over many draws, the NASA C-MAPSS FD001 benchmark data, and bad
//! input.

use std::path::PathBuf;

use twin::analytics::rul::cmapss::{self, FD001_SENSORS};
use twin::analytics::rul::conformal::{Conformal, ConformalConfig};
use twin::analytics::rul::ensemble::{Component, EnsembleConfig, RulEnsemble};
use twin::analytics::rul::exponential::{
    ExponentialConfig, ExponentialDegradation, ExponentialRul, ExponentialRulConfig, Trajectory,
};
use twin::analytics::rul::features::WindowConfig;
use twin::analytics::rul::gbdt::GbdtConfig;
use twin::analytics::rul::metrics::{coverage, phm08_score, rmse};
use twin::analytics::rul::regression::{
    FittedRegressionRul, Learner, RegressionConfig, RegressionRul,
};
use twin::analytics::rul::similarity::{SimilarityConfig, SimilarityRul};
use twin::analytics::rul::{CalibrationConfig, Fleet, UnitSeries};
use twin::ErrorKind;

/// SplitMix64 with Box-Muller normals: the tests' own seeded generator.
struct Rng(u64);

impl Rng {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        ((self.u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

// ---------- exponential degradation (Gebraeel) ----------

const PHI: f64 = 1.0;
const THRESHOLD: f64 = 20.0;

/// A unit drawn from the model: ln(S − φ) = a + b t + ε, observed until S crosses D.
fn model_unit(rng: &mut Rng, a: f64, b: f64, sigma: f64) -> Trajectory {
    let mut t = Vec::new();
    let mut s = Vec::new();
    for i in 0..2000 {
        let ti = f64::from(i);
        let v = PHI + (a + b * ti + sigma * rng.normal()).exp();
        t.push(ti);
        s.push(v);
        if v >= THRESHOLD {
            break;
        }
    }
    Trajectory::new(t, s).expect("trajectory")
}

fn model_fleet(rng: &mut Rng, n: usize) -> Vec<Trajectory> {
    (0..n)
        .map(|_| {
            let a = -2.0 + 0.3 * rng.normal();
            let b = 0.05 + 0.005 * rng.normal();
            model_unit(rng, a, b, 0.05)
        })
        .collect()
}

#[test]
fn exponential_prior_recovers_the_generating_parameters() {
    let mut rng = Rng(1);
    let fleet = model_fleet(&mut rng, 60);
    let cfg = ExponentialConfig {
        phi: Some(PHI),
        threshold: Some(THRESHOLD),
        horizon: None,
    };
    let m = ExponentialDegradation::new(cfg)
        .expect("config")
        .fit(&fleet)
        .expect("fit");
    let (mean, cov) = m.prior();
    // population means: ln θ = −2, β = 0.05; standard errors with 60 units ≈ 0.04, 0.0007
    assert!((mean[0] + 2.0).abs() < 0.12, "ln θ mean {}", mean[0]);
    assert!((mean[1] - 0.05).abs() < 0.002, "β mean {}", mean[1]);
    // population spreads: 0.3 and 0.005 (estimation noise subtracted)
    let (sa, sb) = (cov[0][0].sqrt(), cov[1][1].sqrt());
    assert!((0.22..0.40).contains(&sa), "sd ln θ {sa}");
    assert!((0.0035..0.0065).contains(&sb), "sd β {sb}");
    // noise σ² = 0.0025
    assert!(
        (m.noise_var() - 0.0025).abs() < 0.0003,
        "σ² {}",
        m.noise_var()
    );
}

#[test]
fn exponential_phi_by_profile_likelihood() {
    let mut rng = Rng(2);
    let fleet = model_fleet(&mut rng, 40);
    let m = ExponentialDegradation::new(ExponentialConfig::default())
        .expect("config")
        .fit(&fleet)
        .expect("fit");
    // S − φ starts near e^−2 ≈ 0.135; φ = 1 must be found to well within that
    assert!((m.phi() - PHI).abs() < 0.05, "phi {}", m.phi());
    // the learnt threshold distribution sits near ln(20 − 1) (first crossing overshoots)
    let (lt, _) = m.log_threshold();
    assert!((lt - 19f64.ln()).abs() < 0.15, "log threshold {lt}");
}

#[test]
fn exponential_posterior_narrows_and_finds_the_unit() {
    let mut rng = Rng(3);
    let fleet = model_fleet(&mut rng, 40);
    let cfg = ExponentialConfig {
        phi: Some(PHI),
        threshold: Some(THRESHOLD),
        horizon: None,
    };
    let m = ExponentialDegradation::new(cfg)
        .expect("config")
        .fit(&fleet)
        .expect("fit");
    // a unit well off the population mean: slow, late starter
    let (a, b) = (-2.4, 0.042);
    let unit = model_unit(&mut rng, a, b, 0.05);
    let failure = ((THRESHOLD - PHI).ln() - a) / b; // ≈ 127
    let mut last_sd = f64::INFINITY;
    let mut last_width = f64::INFINITY;
    for n in [10usize, 30, 60, 100] {
        let post = m
            .posterior(&unit.time()[..n], &unit.signal()[..n])
            .expect("posterior");
        let (mb, sb) = post.beta();
        assert!(sb < last_sd, "β sd must shrink: {sb} after {n} points");
        last_sd = sb;
        assert!((mb - b).abs() < 3.5 * sb + 1e-4, "β {mb} ± {sb} vs {b}");
        let true_rul = failure - post.now();
        let (q05, q95) = (post.rul_quantile(0.05), post.rul_quantile(0.95));
        assert!(q95 - q05 < last_width, "interval must narrow");
        last_width = q95 - q05;
        assert!(
            q05 <= true_rul && true_rul <= q95,
            "n={n}: true {true_rul} not in [{q05}, {q95}]"
        );
    }
    // with 100 of ~127 cycles seen the median is within a few cycles
    let post = m
        .posterior(&unit.time()[..100], &unit.signal()[..100])
        .expect("posterior");
    assert!(
        (post.rul_median() - (failure - 99.0)).abs() < 4.0,
        "median {}",
        post.rul_median()
    );
}

#[test]
fn exponential_refuses_too_few_histories_and_constant_signals() {
    let mut rng = Rng(4);
    let two = model_fleet(&mut rng, 2);
    let e = ExponentialDegradation::new(ExponentialConfig::default())
        .expect("config")
        .fit(&two)
        .expect_err("two histories");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let flat: Vec<Trajectory> = (0..4)
        .map(|_| Trajectory::new(vec![0.0, 1.0, 2.0], vec![3.0; 3]).expect("t"))
        .collect();
    let e = ExponentialDegradation::new(ExponentialConfig::default())
        .expect("config")
        .fit(&flat)
        .expect_err("constant");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let bad = ExponentialConfig {
        phi: Some(5.0),
        threshold: Some(20.0),
        horizon: None,
    };
    let e = ExponentialDegradation::new(bad)
        .expect("config")
        .fit(&model_fleet(&mut rng, 5))
        .expect_err("values below phi");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

// ---------- synthetic fleets with known lives ----------

/// A fleet whose units wear as `exp(−RUL/30)` in two sensors (plus noise), with a
/// constant sensor and a pure-noise sensor. Lives are `120 + 10·i`.
fn wear_fleet(rng: &mut Rng, n: usize, noise: f64) -> Fleet {
    let units = (0..n)
        .map(|i| {
            let life = 120 + 10 * (i % 12);
            let time: Vec<f64> = (1..=life).map(|t| t as f64).collect();
            let mut v = Vec::with_capacity(life * 4);
            for r in 0..life {
                let rul = (life - 1 - r) as f64;
                let wear = (-rul / 30.0).exp();
                v.push(10.0 + 2.0 * wear + noise * rng.normal());
                v.push(5.0 - 1.0 * wear + noise * rng.normal());
                v.push(7.0); // constant: must be dropped
                v.push(rng.normal());
            }
            UnitSeries::from_row_major(i as u64, time, v, 4)
        })
        .collect::<Result<Vec<_>, _>>()
        .expect("units");
    Fleet::new(units).expect("fleet")
}

fn quick_calibration() -> CalibrationConfig {
    CalibrationConfig {
        folds: 3,
        stride: 4,
        min_history: 20,
        seed: 1,
        threads: 2,
        ..CalibrationConfig::default()
    }
}

#[test]
fn similarity_matches_units_of_a_known_library() {
    let mut rng = Rng(5);
    let library = wear_fleet(&mut rng, 24, 0.02);
    let cfg = SimilarityConfig {
        window: 40,
        neighbours: 5,
        calibration: quick_calibration(),
        indicator: twin::analytics::rul::indicator::IndicatorConfig {
            cap: 100.0,
            ..Default::default()
        },
        ..SimilarityConfig::default()
    };
    let model = SimilarityRul::new(cfg)
        .expect("config")
        .fit(&library)
        .expect("fit");
    // fresh units of the same kind, cut at known remaining lives
    let fresh = wear_fleet(&mut Rng(99), 12, 0.02);
    let mut errors = Vec::new();
    for (i, u) in fresh.units().iter().enumerate() {
        let true_rul = [10.0, 25.0, 40.0, 60.0][i % 4];
        let keep = u.len() - true_rul as usize;
        let part = u.truncated(keep).expect("truncate");
        let p = model.predict(&part).expect("predict");
        errors.push(p.rul - (true_rul - 1.0));
        let m = model.matches(&part).expect("matches");
        assert_eq!(m.len(), 5);
        let total: f64 = m.iter().map(|m| m.weight).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(m.windows(2).all(|w| w[0].distance <= w[1].distance));
    }
    let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / errors.len() as f64;
    assert!(
        mae < 6.0,
        "similarity mean absolute error {mae}: {errors:?}"
    );
}

#[test]
fn regression_on_a_synthetic_fleet_drops_constant_signals_and_round_trips() {
    let mut rng = Rng(6);
    let fleet = wear_fleet(&mut rng, 24, 0.05);
    let cfg = RegressionConfig {
        features: WindowConfig {
            window: 20,
            ..WindowConfig::default()
        },
        learner: Learner::Boosting(GbdtConfig {
            n_trees: 60,
            max_depth: 3,
            learning_rate: 0.15,
            ..GbdtConfig::default()
        }),
        cap: 100.0,
        calibration: quick_calibration(),
    };
    let model = RegressionRul::new(cfg)
        .expect("config")
        .fit(&fleet)
        .expect("fit");
    assert_eq!(model.dropped_signals(), vec![2]);
    let fresh = wear_fleet(&mut Rng(7), 8, 0.05);
    let mut pred = Vec::new();
    let mut truth = Vec::new();
    for u in fresh.units() {
        let part = u.truncated(u.len() - 30).expect("truncate");
        let p = model.predict(&part).expect("predict");
        assert!(p.rul.is_finite() && p.lower <= p.rul && p.rul <= p.upper);
        pred.push(p.rul);
        truth.push(30.0 - 1.0);
    }
    let e = rmse(&pred, &truth);
    assert!(e < 8.0, "rmse {e}: {pred:?}");
    // JSON round trip predicts identically
    let json = model.to_json().expect("json");
    let back = FittedRegressionRul::from_json(&json).expect("load");
    let u = &fresh.units()[0];
    assert_eq!(
        model.predict(u).expect("a"),
        back.predict(u).expect("b"),
        "loaded model must predict the same"
    );
    let path = std::env::temp_dir().join(format!("twin-rul-{}.json", std::process::id()));
    model.save(&path).expect("save");
    let loaded = FittedRegressionRul::load(&path).expect("load file");
    let _ = std::fs::remove_file(&path);
    assert_eq!(loaded, model);
}

#[test]
fn ensemble_weights_are_convex_and_intervals_cover_held_out_units() {
    let mut rng = Rng(8);
    let fleet = wear_fleet(&mut rng, 24, 0.05);
    let quick_trees = RegressionConfig {
        features: WindowConfig {
            window: 20,
            ..WindowConfig::default()
        },
        learner: Learner::Boosting(GbdtConfig {
            n_trees: 40,
            max_depth: 3,
            learning_rate: 0.2,
            ..GbdtConfig::default()
        }),
        cap: 100.0,
        ..RegressionConfig::default()
    };
    let cfg = EnsembleConfig {
        components: vec![
            Component::Regression(quick_trees),
            Component::Regression(RegressionConfig {
                learner: Learner::Ridge { alpha: 1.0 },
                cap: 100.0,
                ..RegressionConfig::default()
            }),
            Component::Exponential(ExponentialRulConfig {
                indicator: twin::analytics::rul::indicator::IndicatorConfig {
                    cap: 100.0,
                    ..Default::default()
                },
                ..ExponentialRulConfig::default()
            }),
        ],
        cap: 100.0,
        calibration: quick_calibration(),
        ..EnsembleConfig::default()
    };
    let model = RulEnsemble::new(cfg)
        .expect("config")
        .fit(&fleet)
        .expect("fit");
    let w = model.weights();
    assert_eq!(w.len(), 3);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9 && w.iter().all(|w| *w >= 0.0));
    // the blend is no worse on held-out data than its best member
    let best = model
        .members()
        .iter()
        .map(|m| m.held_out.rmse_capped)
        .fold(f64::INFINITY, f64::min);
    assert!(model.held_out().rmse_capped <= best + 1e-9);
    // fresh units at random points of their lives: coverage near 90%
    let fresh = wear_fleet(&mut Rng(9), 48, 0.05);
    let mut rng = Rng(10);
    let (mut iv, mut truth) = (Vec::new(), Vec::new());
    for u in fresh.units() {
        for _ in 0..5 {
            let keep = 20 + (rng.uniform() * (u.len() - 20) as f64) as usize;
            let p = model
                .predict(&u.truncated(keep.min(u.len())).expect("cut"))
                .expect("predict");
            iv.push((p.lower, p.upper));
            truth.push(u.remaining_life(keep.min(u.len()) - 1));
        }
    }
    let c = coverage(&iv, &truth);
    assert!((0.82..=0.98).contains(&c), "coverage {c}");
}

// ---------- conformal calibration ----------

#[test]
fn conformal_coverage_is_nominal_over_many_draws() {
    // y = x + noise whose scale grows with x; the "model" predicts x
    let mut rng = Rng(11);
    let cfg = ConformalConfig {
        level: 0.9,
        bins: 4,
        min_per_bin: 40,
    };
    let draws = 300;
    let mut total = 0.0;
    let mut below = 0;
    for _ in 0..draws {
        let sample = |rng: &mut Rng, n: usize| -> (Vec<f64>, Vec<f64>) {
            let x: Vec<f64> = (0..n).map(|_| 100.0 * rng.uniform()).collect();
            let y = x
                .iter()
                .map(|x| x + (1.0 + 0.1 * x) * rng.normal())
                .collect();
            (x, y)
        };
        let (xc, yc) = sample(&mut rng, 400);
        let cal = Conformal::fit(&cfg, &xc, &yc).expect("fit");
        let (xt, yt) = sample(&mut rng, 400);
        let iv: Vec<(f64, f64)> = xt.iter().map(|x| cal.interval(*x)).collect();
        let c = coverage(&iv, &yt);
        total += c;
        if c < 0.85 {
            below += 1;
        }
    }
    let mean = total / f64::from(draws);
    // finite-sample guarantee: at least 0.9; with 100 points a bin, at most ~0.92
    assert!((0.895..0.925).contains(&mean), "mean coverage {mean}");
    assert!(below < draws / 20, "{below} draws under 85%");
    // heteroscedastic noise: the top bin's interval is wider than the bottom one's
    let (x, y): (Vec<f64>, Vec<f64>) = (0..2000)
        .map(|i| {
            let x = f64::from(i % 100);
            (x, x + (1.0 + 0.1 * x) * rng.normal())
        })
        .unzip();
    let cal = Conformal::fit(&cfg, &x, &y).expect("fit");
    let w = |p: f64| {
        let (lo, hi) = cal.interval(p);
        hi - lo
    };
    assert!(w(95.0) > 2.0 * w(5.0), "{} vs {}", w(95.0), w(5.0));
}

// ---------- NASA C-MAPSS FD001 ----------

fn cmapss_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/data/cmapss")
}

#[test]
fn cmapss_loader_reads_fd001() {
    let train = cmapss::load(cmapss_dir().join("train_FD001.txt")).expect("train");
    assert_eq!(train.len(), 100);
    assert_eq!(train.n_rows(), 20631);
    assert_eq!(train.n_signals(), 24);
    assert_eq!(train.units()[0].len(), 192);
    let test = cmapss::load(cmapss_dir().join("test_FD001.txt")).expect("test");
    assert_eq!((test.len(), test.n_rows()), (100, 13096));
    let rul = cmapss::load_rul(cmapss_dir().join("RUL_FD001.txt")).expect("rul");
    assert_eq!(rul.len(), 100);
    assert_eq!(rul[0], 112.0);
    // the constant columns of FD001 are found and dropped by the scaler
    let scaler = twin::analytics::rul::SignalScaler::fit(&train).expect("scaler");
    let dropped: Vec<&str> = scaler
        .dropped()
        .iter()
        .map(|&c| cmapss::COLUMNS[c])
        .collect();
    for c in ["setting3", "s1", "s10", "s18", "s19"] {
        assert!(dropped.contains(&c), "{c} not dropped: {dropped:?}");
    }
}

/// The standard protocol with a quick configuration (few trees, so it runs in debug
/// builds): train on train_FD001 with targets capped at 125, score the last cycle of
/// each test unit against the true, uncapped RUL. The example `cmapss` runs the full
/// configuration.
#[test]
fn cmapss_fd001_quick_boosting_meets_its_bounds() {
    let dir = cmapss_dir();
    let train = cmapss::load(dir.join("train_FD001.txt"))
        .and_then(|f| f.select_signals(&FD001_SENSORS))
        .expect("train");
    let test = cmapss::load(dir.join("test_FD001.txt"))
        .and_then(|f| f.select_signals(&FD001_SENSORS))
        .expect("test");
    let truth = cmapss::load_rul(dir.join("RUL_FD001.txt")).expect("rul");
    let cfg = RegressionConfig {
        features: WindowConfig {
            window: 200,
            smoothing: 0.2,
            recent: 20,
            ..WindowConfig::default()
        },
        learner: Learner::Boosting(GbdtConfig {
            n_trees: 60,
            learning_rate: 0.15,
            max_depth: 4,
            colsample: 0.5,
            ..GbdtConfig::default()
        }),
        cap: 125.0,
        calibration: CalibrationConfig {
            folds: 3,
            stride: 3,
            min_history: 31,
            seed: 7,
            threads: 2,
            ..CalibrationConfig::default()
        },
    };
    let model = RegressionRul::new(cfg)
        .expect("config")
        .fit(&train)
        .expect("fit");
    let preds = model.predict_fleet(&test).expect("predict");
    let p: Vec<f64> = preds.iter().map(|p| p.rul).collect();
    let iv: Vec<(f64, f64)> = preds.iter().map(|p| (p.lower, p.upper)).collect();
    let (e, s, c) = (
        rmse(&p, &truth),
        phm08_score(&p, &truth),
        coverage(&iv, &truth),
    );
    eprintln!("FD001 quick boosting: RMSE {e:.2}, PHM08 {s:.1}, coverage {c:.2}");
    assert!(e < 13.0, "RMSE {e}"); // scikit-learn random forest: 13.07
    assert!(s < 400.0, "PHM08 {s}");
    assert!(c >= 0.85, "coverage {c}");
    // the ridge baseline is clearly worse: the boosting bound is not a trivial one
    assert!(model.held_out().rmse_capped < 11.0);
}

// ---------- bad input ----------

#[test]
fn bad_input_gives_typed_errors() {
    let mut rng = Rng(12);
    let fleet = wear_fleet(&mut rng, 6, 0.05);
    let ridge = || RegressionConfig {
        learner: Learner::Ridge { alpha: 1.0 },
        calibration: CalibrationConfig {
            folds: 2,
            threads: 1,
            ..CalibrationConfig::default()
        },
        ..RegressionConfig::default()
    };
    // too few units
    let two = fleet.subset(&[0, 1]).expect("subset");
    let e = RegressionRul::new(ridge())
        .expect("cfg")
        .fit(&two)
        .expect_err("2 units");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // more folds than units
    let mut many = ridge();
    many.calibration.folds = 10;
    let e = RegressionRul::new(many)
        .expect("cfg")
        .fit(&fleet)
        .expect_err("folds");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // too few cycles
    let short: Vec<UnitSeries> = fleet
        .units()
        .iter()
        .map(|u| u.truncated(2).expect("cut"))
        .collect();
    let e = RegressionRul::new(ridge())
        .expect("cfg")
        .fit(&Fleet::new(short).expect("fleet"))
        .expect_err("2 cycles");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // NaN in training data is refused where the data comes in
    let ids = [1u64, 1, 1];
    let time = [1.0, 2.0, 3.0];
    let values = [1.0, f64::NAN, 3.0];
    let e = Fleet::from_long_row_major(&ids, &time, &values, 1).expect_err("NaN");
    assert_eq!(e.kind(), ErrorKind::NonFinite);
    // ... and through serde too
    let json = r#"{"id":1,"time":[1.0,2.0],"values":{"v":1,"dim":[2,1],"data":[1.0,null]}}"#;
    assert!(serde_json::from_str::<UnitSeries>(json).is_err());
    // every signal constant
    let flat: Vec<UnitSeries> = (0..4)
        .map(|i| UnitSeries::from_row_major(i, vec![1.0, 2.0, 3.0, 4.0], vec![3.0; 8], 2))
        .collect::<Result<_, _>>()
        .expect("units");
    let e = RegressionRul::new(ridge())
        .expect("cfg")
        .fit(&Fleet::new(flat).expect("fleet"))
        .expect_err("constant");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // invalid settings
    let e = RegressionRul::new(RegressionConfig {
        cap: 0.0,
        ..ridge()
    })
    .expect_err("cap");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // predicting with the wrong number of signals
    let model = RegressionRul::new(ridge())
        .expect("cfg")
        .fit(&fleet)
        .expect("fit");
    let wrong = UnitSeries::from_row_major(9, vec![1.0, 2.0], vec![0.0; 6], 3).expect("u");
    let e = model.predict(&wrong).expect_err("3 signals");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // a constant signal in the training fleet is dropped, not turned into NaN
    let p = model.predict(&fleet.units()[0]).expect("predict");
    assert!(p.rul.is_finite() && p.lower.is_finite() && p.upper.is_finite());
    assert_eq!(model.dropped_signals(), vec![2]);
    // corrupt, foreign and version-mismatched files
    let json = model.to_json().expect("json");
    for (bad, why) in [
        (json[..json.len() / 2].to_string(), "truncated"),
        ("not json".to_string(), "garbage"),
        (json.replace("\"version\":1", "\"version\":99"), "version"),
        (
            json.replace("twin.rul.regression", "twin.rul.similarity"),
            "format",
        ),
        (
            json.replace("\"cap\":125.0", "\"cap\":-1.0"),
            "inconsistent",
        ),
    ] {
        let e = FittedRegressionRul::from_json(&bad).expect_err(why);
        assert_eq!(e.kind(), ErrorKind::Serialization, "{why}: {e}");
    }
    let e = FittedRegressionRul::from_json(&json.replace("\"version\":1", "\"version\":99"))
        .expect_err("version");
    assert!(e.to_string().contains("version 99"), "{e}");
}

#[test]
fn tampered_trees_are_refused_on_load() {
    let mut rng = Rng(13);
    let fleet = wear_fleet(&mut rng, 6, 0.05);
    let cfg = RegressionConfig {
        learner: Learner::Boosting(GbdtConfig {
            n_trees: 3,
            max_depth: 2,
            min_samples_leaf: 5,
            ..GbdtConfig::default()
        }),
        calibration: CalibrationConfig {
            folds: 2,
            threads: 1,
            ..CalibrationConfig::default()
        },
        ..RegressionConfig::default()
    };
    let model = RegressionRul::new(cfg)
        .expect("cfg")
        .fit(&fleet)
        .expect("fit");
    let json = model.to_json().expect("json");
    // point the first split's left child back at the root: a cycle
    let tampered = json.replacen("\"left\":1", "\"left\":0", 1);
    assert_ne!(tampered, json);
    let e = FittedRegressionRul::from_json(&tampered).expect_err("cycle");
    assert_eq!(e.kind(), ErrorKind::Serialization);
    let tampered = json.replacen("\"feature\":", "\"feature\":9999", 1);
    let e = FittedRegressionRul::from_json(&tampered).expect_err("feature index");
    assert_eq!(e.kind(), ErrorKind::Serialization);
}

#[test]
fn exponential_fleet_model_predicts_and_reports_its_posterior() {
    let mut rng = Rng(14);
    let fleet = wear_fleet(&mut rng, 12, 0.02);
    let cfg = ExponentialRulConfig {
        indicator: twin::analytics::rul::indicator::IndicatorConfig {
            cap: 100.0,
            ..Default::default()
        },
        calibration: quick_calibration(),
        ..ExponentialRulConfig::default()
    };
    let model = ExponentialRul::new(cfg)
        .expect("cfg")
        .fit(&fleet)
        .expect("fit");
    let u = &fleet.units()[3];
    // near the end of life the posterior exists and its median is close to the truth
    let part = u.truncated(u.len() - 15).expect("cut");
    let post = model
        .posterior(&part)
        .expect("posterior")
        .expect("past onset");
    let med = post.rul_median();
    assert!((med - 14.0).abs() < 10.0, "median {med}");
    let p = model.predict(&part).expect("predict");
    assert!((p.rul - med).abs() < 1e-9);
    // early in life (no onset yet) it predicts the fleet's typical degradation time
    let early = u.truncated(10).expect("cut");
    assert!(model.posterior(&early).expect("posterior").is_none());
    let p = model.predict(&early).expect("predict");
    assert!(p.rul > 30.0 && p.rul <= 100.0, "{p:?}");
}
