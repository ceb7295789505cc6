//! Physics models against analytic results: the thermal mass's exponential response, the
//! battery circuit's end of discharge, the pump's affinity laws and curves, and the wind
//! turbine's fatigue rate against closed-form and numerical integrals of the wind
//! distribution.

use twin::entity::PhysicalEntity;
use twin::model::DigitalModel;
use twin::physics::{
    BatteryCell, BatteryModel, PumpConfig, PumpDrive, PumpModel, ThermalConfig, ThermalMass,
    ThermalModel, WindConfig, WindTurbine, WindTurbineModel,
};
use twin::whatif::{run, Profile, Scenario};
use twin::SampleBatch;

const DAY: f64 = 86_400.0;

fn feed(entity: &mut dyn PhysicalEntity, model: &mut dyn DigitalModel, dt: f64, steps: usize) {
    let mut b = SampleBatch::new();
    for _ in 0..steps {
        entity.advance(dt).expect("advance");
        b.clear();
        entity.sense(&mut b);
        model.assimilate(b.as_ref());
    }
}

#[test]
fn thermal_mass_follows_the_exact_exponential() {
    let c = ThermalConfig::default();
    let (p, ta, tau) = (800.0, 25.0, c.time_constant_s());
    let mut m = ThermalMass::new(1, c.clone()).expect("mass");
    m.set_power(p);
    let mut t = 0.0;
    for dt in [10.0, 90.0, 400.0, 500.0, 1000.0, 3000.0] {
        m.advance(dt).expect("advance");
        t += dt;
        let expect = ta + p * c.resistance * (1.0 - (-t / tau).exp());
        assert!(
            (m.temperature() - expect).abs() < 1e-9,
            "t {t}: {} vs {expect}",
            m.temperature()
        );
    }
    // 63.2% of the rise after one time constant, from any start.
    let t1 = c.step(40.0, p, ta, tau);
    assert!(((t1 - 40.0) / (65.0 - 40.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
}

#[test]
fn thermal_what_if_reaches_the_limit_when_the_formula_says() {
    let schema = ThermalMass::standard_schema();
    let mut mass = ThermalMass::new(2, ThermalConfig::default()).expect("mass");
    let mut model = ThermalModel::new(&schema, ThermalConfig::default()).expect("model");
    mass.set_power(500.0);
    feed(&mut mass, &mut model, 60.0, 100);
    let t0 = model.estimate("temperature").expect("t");
    assert!(
        (t0 - mass.temperature()).abs() < 1.0,
        "{t0} vs {}",
        mass.temperature()
    );
    // Ambient rises to 45 °C at the start, power to 1.2 kW: steady 105 °C, limit 90 °C.
    let fm = model.forward().expect("forward");
    let s = Scenario::new(20_000.0, 1.0)
        .input("power", Profile::Constant { value: 1200.0 })
        .input("ambient", Profile::Constant { value: 45.0 })
        .paths(1, 0)
        .uncertainty(0.0, 0.0);
    let r = run(fm.as_ref(), &s).expect("run");
    let expect = -1000.0 * ((90.0 - 105.0) / (t0 - 105.0)).ln();
    assert!(
        (r.failure.times_s[0] - expect).abs() <= 1.0,
        "{} vs {expect}",
        r.failure.times_s[0]
    );
    // With uncertainty the median failure time stays near the formula's.
    let r = run(fm.as_ref(), &s.clone().paths(400, 3).uncertainty(1.0, 1.0)).expect("run");
    let med = r.failure.quantile(0.5).expect("median");
    assert!((med / expect - 1.0).abs() < 0.1, "{med} vs {expect}");
}

#[test]
fn battery_reaches_end_of_discharge_at_progpys_time_in_every_form() {
    let schema = BatteryCell::standard_schema();
    let mut cell = BatteryCell::new(1, Default::default()).expect("cell");
    let mut model = BatteryModel::new(&schema, Default::default()).expect("model");
    cell.set_current(2.0);
    // The model learns the current from the first reading, then tracks the cell exactly.
    let mut b = SampleBatch::new();
    cell.sense(&mut b);
    model.assimilate(b.as_ref());
    feed(&mut cell, &mut model, 10.0, 100);
    let q_cell = cell.state()[1];
    let q_model = model.estimate("charge").expect("charge");
    assert!((q_cell - q_model).abs() < 1e-9, "{q_cell} vs {q_model}");
    // Coulomb counting: 1000 s at 2 A take 2000 C, plus the leak through Rp (< 4.2 V / 1e4 Ω).
    let drawn = twin::analytics::estimate::BatteryCircuitParams::default().q_max - q_cell;
    assert!(
        (2000.0..=2000.0 + 1000.0 * 4.2e-4).contains(&drawn),
        "{drawn}"
    );
    // What-if from the live state at 2 A in 1 s steps: ProgPy's 3803 s in total.
    let fm = model.forward().expect("forward");
    let s = Scenario::new(4000.0, 1.0).paths(1, 0).uncertainty(0.0, 0.0);
    let r = run(fm.as_ref(), &s).expect("run");
    assert_eq!(r.failure.times_s, vec![2803.0]);
    // A heavier load ends it sooner; the charge trajectory falls by the current drawn.
    let heavy = s.clone().input("current", Profile::Constant { value: 3.0 });
    let r3 = run(fm.as_ref(), &heavy).expect("run");
    assert!(r3.failure.times_s[0] < 2803.0 * 2.0 / 3.0 + 50.0);
    let qb = &r.trajectory("qb").expect("qb").mean;
    assert!(((qb[0] - qb[100]) - 200.0).abs() < 0.1);
}

#[test]
fn pump_obeys_the_affinity_laws_and_its_curves() {
    let c = PumpConfig {
        static_head: 0.0,
        ..PumpConfig::default()
    };
    let base = c.operating_point(1450.0, 0.0);
    for ratio in [0.5, 0.8, 1.1] {
        let p = c.operating_point(1450.0 * ratio, 0.0);
        assert!((p.flow / base.flow - ratio).abs() < 1e-12);
        assert!((p.head / base.head - ratio * ratio).abs() < 1e-12);
        assert!((p.power / base.power - ratio.powi(3)).abs() < 1e-12);
        assert!((p.efficiency - base.efficiency).abs() < 1e-12);
    }
    // With static head: the point lies on both the pump's and the system's curve.
    let c = PumpConfig::default();
    let p = c.operating_point(1450.0, 0.3);
    assert!((p.head - c.head(p.flow, 1450.0, 0.3)).abs() < 1e-9);
    assert!((p.head - (c.static_head + c.system_coefficient * p.flow * p.flow)).abs() < 1e-9);
    // Peak efficiency at the best-efficiency flow; wear lowers head and efficiency.
    assert!((c.efficiency(c.bep_flow, 1450.0, 0.0) - c.peak_efficiency).abs() < 1e-12);
    let q = 0.1;
    let drop = c.head(q, 1450.0, 0.0) - c.head(q, 1450.0, 0.5);
    assert!((drop - c.shutoff_head * c.head_loss * 0.5).abs() < 1e-12);
    let eff = c.efficiency(q, 1450.0, 0.5) / c.efficiency(q, 1450.0, 0.0);
    assert!((eff - (1.0 - 0.5 * c.efficiency_loss)).abs() < 1e-12);
    // P = ρ g Q H / η.
    assert!((p.power - 1000.0 * 9.806_65 * p.flow * p.head / p.efficiency).abs() < 1e-6);
}

#[test]
fn pump_twin_estimates_wear_and_predicts_the_linear_wear_life() {
    let schema = PumpDrive::standard_schema();
    let mut pump = PumpDrive::new(4, PumpConfig::default()).expect("pump");
    let mut model = PumpModel::new(&schema, PumpConfig::default()).expect("model");
    feed(&mut pump, &mut model, 3600.0, 120 * 24);
    let (w, w_true) = (model.estimate("wear").expect("wear"), pump.wear());
    assert!((w - w_true).abs() < 0.03, "{w} vs {w_true}");
    // Deterministic forward run: wear grows at rate s³, so life = (1 − w) / (rate s³).
    let fm = model.forward().expect("forward");
    let c = PumpConfig::default();
    let s = Scenario::new(3.0 * 365.0 * DAY, 3600.0)
        .input("speed_setpoint", Profile::Constant { value: 1160.0 })
        .paths(1, 0)
        .uncertainty(0.0, 0.0);
    let r = run(fm.as_ref(), &s).expect("run");
    let expect = (1.0 - w) / (c.wear_rate * 0.8f64.powi(3));
    assert!(
        (r.failure.times_s[0] - expect).abs() <= 3600.0,
        "{} vs {expect}",
        r.failure.times_s[0]
    );
}

/// `∫ u^m e^-u du` from `a` to `b`, integer `m`, in closed form.
fn lower_gamma_diff(m: u32, a: f64, b: f64) -> f64 {
    let tail = |x: f64| {
        let (mut term, mut sum) = (1.0, 1.0);
        for j in 1..=m {
            term *= x / j as f64;
            sum += term;
        }
        (-x).exp() * sum
    };
    let fact: f64 = (1..=m).map(|j| j as f64).product();
    fact * (tail(a) - tail(b))
}

#[test]
fn fatigue_rate_under_rayleigh_wind_matches_the_closed_form() {
    let c = WindConfig::default();
    let (lam, vr, m) = (c.weibull_scale, c.rated_speed, 10u32);
    for d in [1.0, 0.8, 0.5] {
        let vd = c.derated_speed(d);
        // S/Sr = (v/vr)² below vd: with u = (v/λ)², E[(v/vr)^2m] = (λ/vr)^2m ∫ u^m e^-u du.
        let below = (lam / vr).powi(2 * m as i32)
            * lower_gamma_diff(m, (c.cut_in / lam).powi(2), (vd / lam).powi(2));
        let above = (vd / vr).powi(2 * m as i32)
            * ((-(vd / lam).powi(2)).exp() - (-(c.cut_out / lam).powi(2)).exp());
        let expect = c.cycle_rate * (below + above) / c.sn_cycles;
        let got = c.expected_damage_rate(d);
        assert!(
            (got / expect - 1.0).abs() < 1e-6,
            "d {d}: {got} vs {expect}"
        );
    }
}

#[test]
fn fatigue_rate_under_weibull_wind_matches_numerical_integration() {
    let c = WindConfig {
        weibull_shape: 2.4,
        weibull_scale: 9.0,
        ..WindConfig::default()
    };
    // Independent midpoint rule over the whole operating range, 200,000 cells.
    let n = 200_000;
    let h = (c.cut_out - c.cut_in) / n as f64;
    for d in [1.0, 0.6] {
        let integral: f64 = (0..n)
            .map(|i| {
                let v = c.cut_in + (i as f64 + 0.5) * h;
                c.damage_per_second(v, d, c.sn_cycles) * c.wind_pdf(v, c.weibull_scale)
            })
            .sum::<f64>()
            * h;
        let got = c.expected_damage_rate(d);
        assert!(
            (got / integral - 1.0).abs() < 1e-5,
            "d {d}: {got} vs {integral}"
        );
    }
}

#[test]
fn simulated_turbine_damage_converges_to_the_expected_rate_and_the_twin_tracks_it() {
    let c = WindConfig {
        sn_spread: 0.0,
        ..WindConfig::default()
    };
    let schema = WindTurbine::standard_schema();
    let mut wt = WindTurbine::new(9, c.clone()).expect("turbine");
    let mut model = WindTurbineModel::new(&schema, c.clone()).expect("model");
    let mut b = SampleBatch::new();
    wt.sense(&mut b);
    model.assimilate(b.as_ref());
    let steps = 200_000;
    feed(&mut wt, &mut model, 600.0, steps);
    // The twin's Miner sum from the measured wind equals the blade's.
    let (dm, dt) = (model.estimate("damage").expect("d"), wt.damage());
    assert!((dm / dt - 1.0).abs() < 1e-9, "{dm} vs {dt}");
    // Law of large numbers: the rate converges to the integral, within 4 standard errors.
    let (m1, m2) = c.damage_moments(1.0, c.weibull_scale);
    let cv = (m2 / (m1 * m1) - 1.0).sqrt();
    let rate = dt / (steps as f64 * 600.0);
    let expect = c.expected_damage_rate(1.0);
    let tol = 4.0 * cv / (steps as f64).sqrt();
    assert!(
        (rate / expect - 1.0).abs() < tol,
        "{rate} vs {expect} (tol {tol})"
    );
    // The forward model: deterministic life = remaining damage / rate; with process noise
    // the mean damage over paths stays on the expected line.
    let fm = model.forward().expect("forward");
    let s = Scenario::new(30.0 * 365.0 * DAY, DAY)
        .paths(1, 0)
        .uncertainty(0.0, 0.0);
    let r = run(fm.as_ref(), &s).expect("run");
    let life = (1.0 - dm) / expect;
    assert!(
        (r.failure.times_s[0] - life).abs() <= DAY,
        "{} vs {life}",
        r.failure.times_s[0]
    );
    let short = Scenario::new(365.0 * DAY, DAY)
        .paths(2000, 5)
        .uncertainty(0.0, 1.0);
    let r = run(fm.as_ref(), &short).expect("run");
    let mean = r.trajectory("damage").expect("damage").mean[365] - dm;
    assert!((mean / (expect * 365.0 * DAY) - 1.0).abs() < 0.02, "{mean}");
    // Derating to 70% cuts the damage rate by more than half.
    assert!(c.expected_damage_rate(0.7) < 0.5 * expect);
}
