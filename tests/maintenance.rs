//! Maintenance policies: simulated cost rates against the renewal-reward formula,
//! optimisation against brute force, set-points against the closed-form wear life, and
//! typed errors for infeasible or invalid requests.

use twin::analytics::reliability::Weibull;
use twin::entity::{ConveyorConfig, ConveyorDrive};
use twin::maintenance::{
    age_replacement_cost_rate, evaluate, optimise_age_replacement, optimise_policy, survive_window,
    Constraint, Costs, Degradation, Fleet, Policy, PolicyFamily, SurvivalQuery,
};
use twin::model::{ConveyorModel, ConveyorUncertainty, DigitalModel};
use twin::physics::{WindConfig, WindTurbine, WindTurbineModel};
use twin::whatif::Scenario;
use twin::ErrorKind;

const H: f64 = 3600.0;
const DAY: f64 = 86_400.0;

#[test]
fn simulated_age_replacement_matches_renewal_reward() {
    let (shape, scale) = (2.5, 1000.0 * H);
    let life = Degradation::Weibull { shape, scale };
    let costs = Costs::default();
    let fleet = Fleet {
        units: 400,
        horizon_s: 100_000.0 * H,
        seed: 9,
    };
    for t in [300.0 * H, 600.0 * H, 1200.0 * H, f64::INFINITY] {
        let policy = if t.is_finite() {
            Policy::Periodic { interval_s: t }
        } else {
            Policy::RunToFailure
        };
        let r = evaluate(&policy, &life, &costs, &fleet).expect("evaluate");
        let analytic = age_replacement_cost_rate(shape, scale, &costs, t).expect("formula");
        let rel = r.cost_rate() / analytic - 1.0;
        assert!(
            rel.abs() < 0.015,
            "T {t}: simulated {} vs {analytic}",
            r.cost_rate()
        );
        // Counts reconcile with the life distribution: failures per renewal = F(T).
        let renewals = (r.failures + r.preventive) as f64;
        let f = Weibull::new(shape, scale)
            .expect("w")
            .unreliability(t.min(1e300));
        assert!((r.failures as f64 / renewals - f).abs() < 0.01, "T {t}");
    }
}

#[test]
fn the_optimal_replacement_age_beats_a_fine_grid_and_simulation_agrees() {
    let (shape, scale) = (3.0, 1000.0 * H);
    let costs = Costs::default();
    let best = optimise_age_replacement(
        shape,
        scale,
        &costs,
        10.0 * H,
        3000.0 * H,
        Constraint::default(),
    )
    .expect("optimum");
    for i in 1..=3000 {
        let c = age_replacement_cost_rate(shape, scale, &costs, i as f64 * H).expect("c");
        assert!(
            best.cost_rate <= c * (1.0 + 1e-9),
            "grid {i} h beats the optimum"
        );
    }
    let t = best.parameter;
    assert!(t > 200.0 * H && t < 1000.0 * H, "optimum {} h", t / H);
    // Simulation with common random numbers ranks it below half and twice the interval.
    let life = Degradation::Weibull { shape, scale };
    let fleet = Fleet {
        units: 300,
        horizon_s: 50_000.0 * H,
        seed: 2,
    };
    let sim = |t: f64| {
        evaluate(&Policy::Periodic { interval_s: t }, &life, &costs, &fleet)
            .expect("evaluate")
            .cost_rate()
    };
    assert!(sim(t) < sim(0.5 * t) && sim(t) < sim(2.0 * t));
    // With a cap on the failure probability, the optimum moves to F(T) = cap.
    let cap = 0.01;
    let capped = optimise_age_replacement(
        shape,
        scale,
        &costs,
        10.0 * H,
        3000.0 * H,
        Constraint {
            max_failure_probability: Some(cap),
            ..Constraint::default()
        },
    )
    .expect("capped");
    let w = Weibull::new(shape, scale).expect("w");
    assert!(w.unreliability(capped.parameter) <= cap);
    assert!((capped.parameter / w.quantile(cap).expect("q") - 1.0).abs() < 0.01);
    // Exponential lives: replacing early never pays, the search runs to its upper bound.
    let exp = optimise_age_replacement(
        1.0,
        scale,
        &costs,
        10.0 * H,
        3000.0 * H,
        Constraint::default(),
    )
    .expect("exp");
    assert!(exp.parameter > 2990.0 * H);
}

#[test]
fn condition_and_rul_policies_on_conveyor_wear_beat_periodic_replacement() {
    let deg = Degradation::conveyor();
    let costs = Costs::default();
    let fleet = Fleet {
        units: 200,
        horizon_s: 365.0 * DAY,
        seed: 4,
    };
    let periodic = optimise_policy(
        PolicyFamily::Periodic,
        &deg,
        &costs,
        &fleet,
        5.0 * DAY,
        40.0 * DAY,
        Constraint::default(),
    )
    .expect("periodic");
    let cbm = optimise_policy(
        PolicyFamily::ConditionBased {
            inspection_interval_s: DAY,
        },
        &deg,
        &costs,
        &fleet,
        0.3,
        1.0,
        Constraint::default(),
    )
    .expect("cbm");
    let rul = optimise_policy(
        PolicyFamily::RulBased {
            inspection_interval_s: DAY,
        },
        &deg,
        &costs,
        &fleet,
        0.0,
        10.0 * DAY,
        Constraint::default(),
    )
    .expect("rul");
    let rtf = evaluate(&Policy::RunToFailure, &deg, &costs, &fleet).expect("rtf");
    assert!(periodic.cost_rate < rtf.cost_rate());
    assert!(
        cbm.cost_rate < periodic.cost_rate,
        "{} vs {}",
        cbm.cost_rate,
        periodic.cost_rate
    );
    assert!(
        rul.cost_rate < periodic.cost_rate,
        "{} vs {}",
        rul.cost_rate,
        periodic.cost_rate
    );
    // Each unit lives ln 3 / (2 r): a year of 200 units at about 30 days each is about
    // 2,400 lives; run-to-failure replaces every one of them after a failure.
    assert!((2000..2800).contains(&rtf.failures), "{}", rtf.failures);
    assert_eq!(rtf.preventive, 0);
    // An availability nobody can reach is infeasible.
    let e = optimise_policy(
        PolicyFamily::Periodic,
        &deg,
        &costs,
        &fleet,
        5.0 * DAY,
        40.0 * DAY,
        Constraint {
            min_availability: Some(0.9999),
            ..Constraint::default()
        },
    )
    .expect_err("infeasible");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("infeasible"), "{e}");
}

#[test]
fn bad_maintenance_requests_get_typed_errors() {
    let life = Degradation::Weibull {
        shape: 2.0,
        scale: 1000.0,
    };
    let fleet = Fleet {
        units: 10,
        horizon_s: 1e5,
        seed: 1,
    };
    let costs = Costs::default();
    let cases: Vec<twin::Result<_>> = vec![
        evaluate(
            &Policy::ConditionBased {
                threshold: 0.8,
                inspection_interval_s: 10.0,
            },
            &life,
            &costs,
            &fleet,
        ),
        evaluate(
            &Policy::Periodic { interval_s: -1.0 },
            &life,
            &costs,
            &fleet,
        ),
        evaluate(
            &Policy::RunToFailure,
            &life,
            &costs,
            &Fleet { units: 0, ..fleet },
        ),
        evaluate(
            &Policy::RunToFailure,
            &life,
            &Costs {
                spare: f64::NAN,
                ..Costs::default()
            },
            &fleet,
        ),
        evaluate(
            &Policy::RunToFailure,
            &Degradation::Weibull {
                shape: 0.0,
                scale: 1.0,
            },
            &costs,
            &fleet,
        ),
    ];
    // A degenerate interval is refused instead of simulated for ever.
    let no_downtime = Costs {
        preventive_downtime_h: 0.0,
        ..Costs::default()
    };
    let tiny = evaluate(
        &Policy::Periodic { interval_s: 1e-6 },
        &life,
        &no_downtime,
        &fleet,
    );
    assert_eq!(
        tiny.expect_err("degenerate").kind(),
        ErrorKind::InvalidInput
    );
    let tiny = evaluate(
        &Policy::ConditionBased {
            threshold: 0.9,
            inspection_interval_s: 1e-3,
        },
        &Degradation::conveyor(),
        &costs,
        &fleet,
    );
    assert_eq!(
        tiny.expect_err("degenerate").kind(),
        ErrorKind::InvalidInput
    );
    for r in cases {
        assert_eq!(r.expect_err("refused").kind(), ErrorKind::InvalidInput);
    }
    let e = optimise_age_replacement(2.0, 1000.0, &costs, 500.0, 100.0, Constraint::default())
        .expect_err("bounds");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn derating_a_conveyor_to_survive_the_window_matches_the_wear_law() {
    let schema = ConveyorDrive::standard_schema();
    let exact = ConveyorUncertainty {
        rate_spread: 0.0,
        wear_sd: 0.0,
        process_sd: 0.0,
    };
    let model = ConveyorModel::new(&schema, ConveyorConfig::default())
        .and_then(|m| m.with_uncertainty(exact))
        .expect("model");
    let fm = model.forward().expect("forward");
    let window = 45.0 * DAY;
    let q = SurvivalQuery {
        scenario: Scenario::new(window, 600.0).paths(1, 0),
        input: "speed_setpoint".into(),
        lo: 0.5,
        hi: 2.5,
        confidence: 0.5,
    };
    let a = survive_window(fm.as_ref(), &q).expect("advice");
    // A new bearing at nominal load lives ln 3 / (2 r (v / v0)²): the largest speed that
    // lasts the window is v0 sqrt(ln 3 / (2 r T)).
    let c = ConveyorConfig::default();
    let v_star = c.nominal_speed * (3f64.ln() / (2.0 * c.wear_rate * window)).sqrt();
    assert!(
        (a.value / v_star - 1.0).abs() < 0.005,
        "{} vs {v_star}",
        a.value
    );
    assert_eq!(a.survival, 1.0);
    assert_eq!(a.survival_at_hi, 0.0);
    // With the unit-to-unit spread, 90% confidence asks for a lower speed.
    let spread = ConveyorModel::new(&schema, c.clone())
        .expect("model")
        .forward()
        .expect("fm");
    let q90 = SurvivalQuery {
        scenario: Scenario::new(window, 3600.0).paths(400, 3),
        confidence: 0.9,
        ..q.clone()
    };
    let a90 = survive_window(spread.as_ref(), &q90).expect("advice");
    assert!(a90.value < v_star && a90.survival >= 0.9);
    // Asking for more than the slowest speed can give is infeasible; bad bounds refused.
    let e = survive_window(
        fm.as_ref(),
        &SurvivalQuery {
            lo: 2.2,
            ..q.clone()
        },
    )
    .expect_err("no");
    assert!(e.to_string().contains("infeasible"));
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = survive_window(
        fm.as_ref(),
        &SurvivalQuery {
            confidence: 1.0,
            ..q.clone()
        },
    )
    .expect_err("no");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = survive_window(
        fm.as_ref(),
        &SurvivalQuery {
            input: "rpm".into(),
            ..q
        },
    )
    .expect_err("no");
    assert_eq!(e.kind(), ErrorKind::UnknownSignal);
}

#[test]
fn derating_a_wind_turbine_stretches_blade_life_past_the_window() {
    let c = WindConfig {
        sn_spread: 0.0,
        ..WindConfig::default()
    };
    let model = WindTurbineModel::new(&WindTurbine::standard_schema(), c.clone()).expect("model");
    let fm = model.forward().expect("forward");
    // 25 years to the blade change: the design (20 years) does not make it at full power.
    let window = 25.0 * 365.25 * DAY;
    let q = SurvivalQuery {
        scenario: Scenario::new(window, 30.0 * DAY).paths(1, 0),
        input: "derate".into(),
        lo: 0.3,
        hi: 1.0,
        confidence: 0.5,
    };
    let a = survive_window(fm.as_ref(), &q).expect("advice");
    assert!(a.value < 1.0);
    // The expected damage rate at the chosen derate spends the whole life in the window.
    let life = 1.0 / c.expected_damage_rate(a.value);
    assert!((life / window - 1.0).abs() < 0.01, "{} vs {window}", life);
}
