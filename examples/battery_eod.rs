//! twin's side of the battery prognosis benchmark against NASA ProgPy
//! (`benches/estimate_vs_progpy.sh` runs both; `benches/peers/progpy_battery.py` is the
//! ProgPy side with the same settings).
//!
//! 1. Deterministic end of discharge (EOD) of a full cell at a constant 2 A, Euler steps of
//!    1 s, no noise.
//! 2. An unscented Kalman filter (α = 1, β = 0, κ = −1 as ProgPy's) tracks 600 noise-free
//!    1 Hz measurements of the cell at 2 A; the time per predict + update is measured.
//! 3. A 100-sample Monte Carlo prediction to EOD from the filter's estimate at 2 A, with
//!    process noise σ = 0.25 on every state and dt = 1 s, is timed.
//!
//! `cargo run --release --example battery_eod` prints a summary and, on the last line, the
//! figures as JSON.

use std::time::Instant;

use twin::analytics::estimate::{
    BatteryCircuit, ConstantInput, MonteCarlo, PredictorConfig, StateEstimator, StateSpaceModel,
    UkfConfig, UnscentedKalmanFilter,
};

const CURRENT: f64 = 2.0;
const DT: f64 = 1.0;
const STEPS: usize = 600;
const SAMPLES: usize = 100;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> twin::Result<()> {
    // 1. Deterministic EOD.
    let clean = BatteryCircuit::default();
    let u = [CURRENT];
    let mut x = clean.initial_state();
    let mut next = [0.0; 4];
    let mut t = 0.0;
    while clean.event_margin(&x, &u) > 0.0 {
        clean.step(&x, &u, DT, &mut next);
        clean.constrain(&mut next);
        x.copy_from_slice(&next);
        t += DT;
    }
    let eod_deterministic = t;

    // 2. Noise-free measurements at 1 Hz.
    let mut x = clean.initial_state();
    let mut measurements = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        clean.step(&x, &u, DT, &mut next);
        x.copy_from_slice(&next);
        let mut z = [0.0; 2];
        clean.output(&x, &u, &mut z);
        measurements.push(z);
    }

    // 3. UKF with ProgPy's sigma-point settings.
    let model = BatteryCircuit::default()
        .with_process_noise([0.25; 4])?
        .with_measurement_noise([2.0, 0.02])?;
    let x0 = model.initial_state();
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
    let fresh = UnscentedKalmanFilter::new(model.clone(), &x0, &p0, cfg)?;
    let mut runs = Vec::new();
    let mut ukf = fresh.clone();
    let deadline = Instant::now();
    while runs.len() < 20 || deadline.elapsed().as_secs_f64() < 1.0 {
        ukf = fresh.clone();
        let start = Instant::now();
        for z in &measurements {
            ukf.estimate(&u, DT, z)?;
        }
        runs.push(start.elapsed().as_secs_f64() / STEPS as f64);
    }
    let ukf_s = median(runs);

    // 4. Monte Carlo prediction to EOD (step-end times, as ProgPy reports them).
    let mc = MonteCarlo::new(PredictorConfig {
        samples: SAMPLES,
        dt: DT,
        horizon: 1e5,
        seed: 0,
        process_noise: true,
        interpolate: false,
    })?;
    let load = ConstantInput::new(vec![CURRENT]);
    let mut runs = Vec::new();
    let mut toe = mc.predict(&model, ukf.distribution(), &load)?;
    let deadline = Instant::now();
    while runs.len() < 5 || deadline.elapsed().as_secs_f64() < 1.0 {
        let start = Instant::now();
        toe = mc.predict(&model, ukf.distribution(), &load)?;
        runs.push(start.elapsed().as_secs_f64());
    }
    let mc_s = median(runs);

    let q = |p: f64| toe.percentile(p).unwrap_or(f64::NAN);
    let mean = toe.mean().unwrap_or(f64::NAN);
    println!("twin battery EOD (BatteryCircuit, 2 A, dt 1 s)");
    println!("  deterministic EOD from full:     {eod_deterministic:.1} s");
    println!("  UKF predict+update:              {:.2} µs", ukf_s * 1e6);
    println!("  UKF charge qb after 600 s:       {:.2} C", ukf.mean()[1]);
    println!(
        "  Monte Carlo, {SAMPLES} samples:        {:.2} ms",
        mc_s * 1e3
    );
    println!(
        "  EOD from t = 600 s: mean {mean:.2} s, 5% {:.1}, 50% {:.1}, 95% {:.1}",
        q(0.05),
        q(0.5),
        q(0.95)
    );
    println!(
        "{{\"tool\": \"twin {}\", \"eod_deterministic_s\": {eod_deterministic}, \"ukf_update_us\": {}, \"ukf_qb_after_600s\": {}, \"mc100_s\": {mc_s}, \"eod_mean_s\": {mean}, \"eod_p05_s\": {}, \"eod_p50_s\": {}, \"eod_p95_s\": {}, \"eod_reached\": {}}}",
        env!("CARGO_PKG_VERSION"),
        ukf_s * 1e6,
        ukf.mean()[1],
        q(0.05),
        q(0.5),
        q(0.95),
        toe.reached().len()
    );
    Ok(())
}
