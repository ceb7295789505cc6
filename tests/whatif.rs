//! What-if runs from a twin's live state: the twin is untouched, deterministic runs match
//! the closed-form wear law, Monte Carlo matches the log-normal spread of the wear rate,
//! and bad scenarios are refused with typed errors.

use twin::entity::{ConveyorConfig, ConveyorDrive, PhysicalEntity};
use twin::model::{ConveyorModel, ConveyorUncertainty, DigitalModel};
use twin::whatif::{run, FaultEffect, Profile, Scenario};
use twin::{ErrorKind, SampleBatch, Twin};

const DAY: f64 = 86_400.0;

fn exact() -> ConveyorUncertainty {
    ConveyorUncertainty {
        rate_spread: 0.0,
        wear_sd: 0.0,
        process_sd: 0.0,
    }
}

/// A twin that has mirrored a drive for `days`.
fn mirrored_twin(days: f64, uncertainty: ConveyorUncertainty) -> Twin {
    let mut drive = ConveyorDrive::new(11);
    let schema = ConveyorDrive::standard_schema();
    let model = ConveyorModel::new(&schema, drive.config().clone())
        .and_then(|m| m.with_uncertainty(uncertainty))
        .expect("model");
    let mut twin = Twin::builder(schema).model(model).build().expect("twin");
    let mut batch = SampleBatch::new();
    while drive.now().as_secs_f64() < days * DAY {
        drive.advance(300.0).expect("advance");
        batch.clear();
        drive.sense(&mut batch);
        twin.ingest_batch(batch.as_ref());
    }
    twin
}

fn estimate(twin: &Twin, name: &str) -> f64 {
    twin.model()
        .and_then(|m| m.estimate(name))
        .expect("estimate")
}

#[test]
fn a_what_if_leaves_the_twin_byte_identical() {
    let twin = mirrored_twin(10.0, ConveyorUncertainty::default());
    let before = twin.snapshot().and_then(|s| s.to_json()).expect("snapshot");
    let counters = (twin.ingest_counters(), twin.command_counters());
    let scenario = Scenario::new(30.0 * DAY, 600.0)
        .input("speed_setpoint", Profile::Constant { value: 2.5 })
        .fault(
            DAY,
            FaultEffect::AddState {
                state: "wear".into(),
                value: 0.2,
            },
        )
        .paths(100, 3);
    let r = twin.what_if(&scenario).expect("what-if");
    assert!(r.failure.failed > 0);
    let after = twin.snapshot().and_then(|s| s.to_json()).expect("snapshot");
    assert_eq!(before, after);
    assert_eq!(counters, (twin.ingest_counters(), twin.command_counters()));
}

#[test]
fn a_deterministic_run_follows_the_discrete_wear_law_and_matches_time_to_failure() {
    let twin = mirrored_twin(5.0, exact());
    let w0 = estimate(&twin, "wear");
    assert!(w0 > 0.0 && w0 < 0.5, "wear after 5 days {w0}");
    let cfg = ConveyorConfig::default();
    let (load, speed, dt) = (0.8, 1.8, 600.0);
    let scenario = Scenario::new(60.0 * DAY, dt)
        .input("load", Profile::Constant { value: load })
        .input("speed_setpoint", Profile::Constant { value: speed })
        .paths(3, 0);
    let r = twin.what_if(&scenario).expect("what-if");
    let wear = r.trajectory("wear").expect("wear");
    // Euler on dw/dt = a (1 + 2w): 1 + 2 w_k = (1 + 2 w0) (1 + 2 a dt)^k exactly.
    let a =
        cfg.wear_rate * (load / cfg.nominal_load).powf(1.5) * (speed / cfg.nominal_speed).powi(2);
    for k in [0usize, 1, 100, 1000, 2000] {
        let expect =
            (((1.0 + 2.0 * w0) * (1.0 + 2.0 * a * dt).powi(k as i32) - 1.0) / 2.0).min(1.0);
        let q50 = wear.quantile(0.5).expect("p50")[k];
        assert!(
            (q50 - expect).abs() < 1e-9 * (1.0 + expect),
            "step {k}: {q50} vs {expect}"
        );
        assert_eq!(
            wear.quantile(0.05).expect("p5")[k],
            q50,
            "one path repeated"
        );
    }
    // The closed form of the continuous law gives the failure time within one step.
    let t_fail = ((3.0 / (1.0 + 2.0 * w0)).ln()) / (2.0 * a);
    assert_eq!(r.failure.failed, 3);
    let t = r.failure.times_s[0];
    assert!(
        (t - t_fail).abs() <= 2.0 * dt + 1e-3 * t_fail,
        "{t} vs {t_fail}"
    );
    // ...and the model's own time_to_failure at the same duty agrees to the step.
    let mut m = twin.model().expect("model").clone_box();
    let mut b = SampleBatch::new();
    let sp_id = twin.schema().signal_id("speed_setpoint").expect("sp");
    let now = twin.now().expect("time");
    b.push(twin::Timestamp(now.0 + 1), sp_id, speed);
    m.assimilate(b.as_ref());
    let m_load = m.estimate("load").expect("load");
    // time_to_failure runs at the model's smoothed load: compare with a run at that load.
    let r2 = twin
        .what_if(
            &Scenario::new(90.0 * DAY, dt)
                .input("load", Profile::Constant { value: m_load })
                .input("speed_setpoint", Profile::Constant { value: speed })
                .paths(1, 0),
        )
        .expect("what-if");
    let ttf = m
        .time_to_failure(90.0 * DAY, dt)
        .expect("ttf")
        .expect("fails");
    assert!(
        (r2.failure.times_s[0] - ttf).abs() <= dt,
        "{} vs {ttf}",
        r2.failure.times_s[0]
    );
}

/// The inverse of the standard normal CDF at 0.05 / 0.95.
const Z95: f64 = 1.644_853_626_951_472_2;

#[test]
fn monte_carlo_over_the_wear_rate_matches_the_log_normal_quantiles() {
    let sigma = 0.2;
    let schema = ConveyorDrive::standard_schema();
    let model = ConveyorModel::new(&schema, ConveyorConfig::default())
        .and_then(|m| {
            m.with_uncertainty(ConveyorUncertainty {
                rate_spread: sigma,
                ..exact()
            })
        })
        .expect("model");
    let fm = model.forward().expect("forward");
    let cfg = ConveyorConfig::default();
    let (load, speed) = (cfg.nominal_load, cfg.nominal_speed);
    let scenario = Scenario::new(120.0 * DAY, 3600.0)
        .input("load", Profile::Constant { value: load })
        .input("speed_setpoint", Profile::Constant { value: speed })
        .paths(2000, 42);
    let r = run(fm.as_ref(), &scenario).expect("run");
    assert_eq!(r.failure.failed, 2000);
    // A new bearing at nominal duty fails at ln(3) / (2 r), r log-normal with sigma.
    let t_med = 3f64.ln() / (2.0 * cfg.wear_rate);
    for (q, z) in [(0.05, -Z95), (0.5, 0.0), (0.95, Z95)] {
        let expect = t_med * (sigma * z).exp();
        let got = r.failure.quantile(q).expect("quantile");
        assert!((got / expect - 1.0).abs() < 0.02, "q{q}: {got} vs {expect}");
    }
    // Percentile bands are ordered and widen with time.
    let wear = r.trajectory("wear").expect("wear");
    let (p5, p50, p95) = (
        wear.quantile(0.05).expect("p5"),
        wear.quantile(0.5).expect("p50"),
        wear.quantile(0.95).expect("p95"),
    );
    for k in 0..p50.len() {
        assert!(p5[k] <= p50[k] && p50[k] <= p95[k]);
    }
    let k10 = (10.0 * DAY / 3600.0) as usize;
    let k20 = 2 * k10;
    assert!(p95[k20] - p5[k20] > p95[k10] - p5[k10]);
    assert_eq!(r.times_s.len(), p50.len());
    assert_eq!(*r.times_s.last().expect("times"), 120.0 * DAY);
    // Same seed, same answer; another seed, another sample.
    let again = run(fm.as_ref(), &scenario).expect("run");
    assert_eq!(r, again);
    let other = run(fm.as_ref(), &scenario.clone().paths(2000, 43)).expect("run");
    assert_ne!(r.failure.times_s, other.failure.times_s);
}

#[test]
fn process_noise_spreads_paths_around_the_deterministic_one() {
    let schema = ConveyorDrive::standard_schema();
    let model = ConveyorModel::new(&schema, ConveyorConfig::default())
        .and_then(|m| {
            m.with_uncertainty(ConveyorUncertainty {
                process_sd: 0.2,
                ..exact()
            })
        })
        .expect("model");
    let fm = model.forward().expect("forward");
    let base = Scenario::new(20.0 * DAY, 600.0).paths(400, 5);
    let det = run(fm.as_ref(), &base.clone().uncertainty(0.0, 0.0)).expect("run");
    let noisy = run(fm.as_ref(), &base).expect("run");
    let k = det.times_s.len() - 1;
    let d = det.trajectory("wear").expect("w").mean[k];
    let n = noisy.trajectory("wear").expect("w");
    // The noise is mean-zero on the rate: the mean stays within 1% of the deterministic
    // path while the band has width.
    assert!((n.mean[k] / d - 1.0).abs() < 0.01, "{} vs {d}", n.mean[k]);
    let band = n.quantile(0.95).expect("p95")[k] - n.quantile(0.05).expect("p5")[k];
    assert!(band > 0.01 * d, "band {band}");
}

#[test]
fn inputs_and_faults_change_the_outcome_as_the_law_says() {
    let schema = ConveyorDrive::standard_schema();
    let model = ConveyorModel::new(&schema, ConveyorConfig::default())
        .and_then(|m| m.with_uncertainty(exact()))
        .expect("model");
    let fm = model.forward().expect("forward");
    let dt = 600.0;
    let base = Scenario::new(90.0 * DAY, dt).paths(1, 0);
    let nominal = run(fm.as_ref(), &base).expect("run").failure.times_s[0];
    // Stopping the belt after 5 days stops the wear: the unit survives the horizon.
    let stopped = base.clone().input(
        "speed_setpoint",
        Profile::Step {
            before: 2.0,
            after: 0.0,
            at_s: 5.0 * DAY,
        },
    );
    let r = run(fm.as_ref(), &stopped).expect("run");
    assert_eq!(r.failure.failed, 0);
    let w = &r.trajectory("wear").expect("w").mean;
    let k5 = (5.0 * DAY / dt) as usize;
    assert_eq!(w[k5 + 1], *w.last().expect("w"));
    // Doubling the wear rate from the start halves the life.
    let doubled = base.clone().fault(
        0.0,
        FaultEffect::ScaleParameter {
            parameter: "wear_rate".into(),
            factor: 2.0,
        },
    );
    let t2 = run(fm.as_ref(), &doubled).expect("run").failure.times_s[0];
    assert!((t2 / nominal - 0.5).abs() < 0.01, "{t2} vs {nominal}");
    // A chunk of wear at day 10 ends the life at the closed-form time from there.
    let chunk = base.clone().fault(
        10.0 * DAY,
        FaultEffect::AddState {
            state: "wear".into(),
            value: 0.3,
        },
    );
    let r = run(fm.as_ref(), &chunk).expect("run");
    let a = ConveyorConfig::default().wear_rate;
    let w10 = ((2.0 * a * 10.0 * DAY).exp() - 1.0) / 2.0 + 0.3;
    let expect = 10.0 * DAY + (3.0 / (1.0 + 2.0 * w10)).ln() / (2.0 * a);
    let t = r.failure.times_s[0];
    assert!((t - expect).abs() < 0.005 * expect, "{t} vs {expect}");
}

#[test]
fn bad_scenarios_get_typed_errors() {
    let twin = mirrored_twin(1.0, ConveyorUncertainty::default());
    let ok = Scenario::new(DAY, 60.0).paths(10, 1);
    assert!(twin.what_if(&ok).is_ok());
    let cases: Vec<(Scenario, ErrorKind)> = vec![
        (
            ok.clone()
                .input("ambient", Profile::Constant { value: 30.0 }),
            ErrorKind::UnknownSignal,
        ),
        (
            Scenario {
                horizon_s: -1.0,
                ..ok.clone()
            },
            ErrorKind::InvalidInput,
        ),
        (
            Scenario {
                horizon_s: 0.0,
                ..ok.clone()
            },
            ErrorKind::InvalidInput,
        ),
        (
            Scenario {
                step_s: 0.0,
                ..ok.clone()
            },
            ErrorKind::InvalidInput,
        ),
        (
            Scenario {
                step_s: f64::NAN,
                ..ok.clone()
            },
            ErrorKind::InvalidInput,
        ),
        (ok.clone().paths(0, 1), ErrorKind::InvalidInput),
        (ok.clone().uncertainty(-1.0, 1.0), ErrorKind::InvalidInput),
        (
            ok.clone().input(
                "load",
                Profile::Piecewise {
                    points: vec![(1.0, 0.5), (0.5, 0.7)],
                },
            ),
            ErrorKind::InvalidInput,
        ),
        (
            ok.clone()
                .input("load", Profile::Constant { value: f64::NAN }),
            ErrorKind::InvalidInput,
        ),
        (
            ok.clone().fault(
                10.0,
                FaultEffect::SetState {
                    state: "rpm".into(),
                    value: 1.0,
                },
            ),
            ErrorKind::UnknownSignal,
        ),
        (
            ok.clone().fault(
                10.0,
                FaultEffect::ScaleParameter {
                    parameter: "x".into(),
                    factor: 2.0,
                },
            ),
            ErrorKind::UnknownSignal,
        ),
        (
            ok.clone().fault(
                2.0 * DAY,
                FaultEffect::AddState {
                    state: "wear".into(),
                    value: 0.1,
                },
            ),
            ErrorKind::InvalidInput,
        ),
    ];
    for (s, kind) in cases {
        let e = twin.what_if(&s).expect_err("refused");
        assert_eq!(e.kind(), kind, "{e}");
    }
    let negative = ok.clone().fault(
        10.0,
        FaultEffect::ScaleParameter {
            parameter: "wear_rate".into(),
            factor: -1.0,
        },
    );
    assert_eq!(
        twin.what_if(&negative).expect_err("refused").kind(),
        ErrorKind::InvalidInput
    );
    let mut q = ok.clone();
    q.monte_carlo.quantiles = vec![0.5, 1.5];
    assert_eq!(
        twin.what_if(&q).expect_err("refused").kind(),
        ErrorKind::InvalidInput
    );
    // A twin without a model has nothing to run.
    let bare = Twin::builder(ConveyorDrive::standard_schema())
        .build()
        .expect("twin");
    assert_eq!(
        bare.what_if(&ok).expect_err("no model").kind(),
        ErrorKind::InvalidInput
    );
    // Scenarios are plain serde data.
    let json = serde_json::to_string(&ok).expect("json");
    let back: Scenario = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, ok);
}
