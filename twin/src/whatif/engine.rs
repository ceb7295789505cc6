//! The Monte Carlo engine: all paths in one preallocated state matrix, stepped one time
//! step at a time and reduced to quantiles per step.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::result::{FailureSummary, Trajectory, WhatIfResult};
use super::scenario::{FaultEffect, Scenario};
use super::ForwardModel;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// A fault resolved to indices.
#[derive(Debug, Clone, Copy)]
enum Resolved {
    AddState(usize, f64),
    SetState(usize, f64),
    ScaleParameter(usize, f64),
}

fn position(names: &[&str], name: &str, what: &str, model: &str) -> Result<usize> {
    names.iter().position(|n| *n == name).ok_or_else(|| {
        Error::UnknownSignal(format!(
            "{what} {name:?}: model {model} has {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
    })
}

/// Order statistics `ks` (sorted, unique, in range) of `buf`, placed at their indices.
fn select_many(buf: &mut [f64], ks: &[usize], offset: usize) {
    if ks.is_empty() {
        return;
    }
    let mid = ks.len() / 2;
    let k = ks[mid] - offset;
    buf.select_nth_unstable_by(k, f64::total_cmp);
    let (left, rest) = buf.split_at_mut(k);
    select_many(left, &ks[..mid], offset);
    select_many(&mut rest[1..], &ks[mid + 1..], offset + k + 1);
}

/// Per-quantile interpolation plan over `n` paths: (lower index, fraction).
fn plan(levels: &[f64], n: usize) -> (Vec<(usize, f64)>, Vec<usize>) {
    let mut ks = Vec::new();
    let at: Vec<(usize, f64)> = levels
        .iter()
        .map(|q| {
            let h = (n - 1) as f64 * q;
            let lo = (h.floor() as usize).min(n - 1);
            let frac = if lo + 1 < n { h - lo as f64 } else { 0.0 };
            ks.push(lo);
            if frac > 0.0 {
                ks.push(lo + 1);
            }
            (lo, frac)
        })
        .collect();
    ks.sort_unstable();
    ks.dedup();
    (at, ks)
}

/// Run a forward model under a scenario: Monte Carlo over its uncertainty, reduced to
/// per-step quantiles of each state variable and the time-to-failure distribution.
///
/// Each path has its own random stream (the scenario's seed, stream = path index), so a
/// path sees the same draws whatever the other paths do, and two runs that differ only in
/// their inputs compare like with like (common random numbers).
///
/// Errors: an invalid horizon, step, path count, quantile or profile
/// ([`Error::InvalidInput`]); an input, state or parameter name the model does not have
/// ([`Error::UnknownSignal`]); a state that becomes NaN or infinite ([`Error::NonFinite`]).
///
/// ```
/// use twin::whatif::{run, FaultEffect, Scenario};
/// use twin::ErrorKind;
/// use twin::model::{ConveyorModel, DigitalModel};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let model = ConveyorModel::new(&schema, Default::default())?;
/// let fm = model.forward().expect("the conveyor runs forward");
/// let bad = Scenario::new(-1.0, 1.0);
/// assert_eq!(run(fm.as_ref(), &bad).unwrap_err().kind(), ErrorKind::InvalidInput);
/// let bad = Scenario::new(10.0, 1.0).fault(1.0, FaultEffect::AddState { state: "rpm".into(), value: 1.0 });
/// assert_eq!(run(fm.as_ref(), &bad).unwrap_err().kind(), ErrorKind::UnknownSignal);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn run(model: &dyn ForwardModel, scenario: &Scenario) -> Result<WhatIfResult> {
    run_with(model, scenario, &Progress::new())
}

/// [`run`] with a progress and cancellation hook: progress counts time steps (total: the
/// scenario's steps), cancellation is checked before every step and a cancelled run
/// returns [`Error::Cancelled`].
///
/// ```
/// use twin::model::{ConveyorModel, DigitalModel};
/// use twin::{progress::Progress, whatif::{run_with, Scenario}};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let model = ConveyorModel::new(&schema, Default::default())?;
/// let fm = model.forward().expect("the conveyor runs forward");
/// let p = Progress::new();
/// let r = run_with(fm.as_ref(), &Scenario::new(10.0, 1.0), &p)?;
/// assert_eq!((p.done(), p.total()), (10, 10));
/// assert_eq!(r.times_s.len(), 11);
/// p.cancel();
/// let e = run_with(fm.as_ref(), &Scenario::new(10.0, 1.0), &p).unwrap_err();
/// assert_eq!(e.kind(), twin::ErrorKind::Cancelled);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn run_with(
    model: &dyn ForwardModel,
    scenario: &Scenario,
    progress: &Progress,
) -> Result<WhatIfResult> {
    let n_steps = scenario.validate()?;
    progress.start(n_steps as u64);
    progress.check()?;
    let mc = &scenario.monte_carlo;
    let (states, inputs, params) = (
        model.state_names(),
        model.input_names(),
        model.parameter_names(),
    );
    let (ns, nu, np) = (states.len(), inputs.len(), params.len());
    let dt = scenario.step_s;
    let horizon = scenario.horizon_s;
    let time_of = |k: usize| (k as f64 * dt).min(horizon);

    // Inputs for every step, evaluated once: row k holds the inputs over [t_k, t_k+1).
    let naux = model.aux_dims();
    let width = nu + naux;
    let mut u0 = vec![0.0; width];
    model.current_inputs(&mut u0[..nu]);
    let mut profiles = Vec::with_capacity(scenario.inputs.len());
    for (name, profile) in &scenario.inputs {
        profiles.push((position(inputs, name, "input", model.name())?, profile));
    }
    let mut u_all = Vec::with_capacity(n_steps.max(1) * width);
    for k in 0..n_steps {
        let t = time_of(k);
        let row = u_all.len();
        u_all.extend_from_slice(&u0);
        for (j, profile) in &profiles {
            u_all[row + j] = profile.value_at(t);
        }
        if naux > 0 && row >= width && u_all[row - width..row - naux] == u_all[row..row + nu] {
            u_all.copy_within(row - naux..row, row + nu);
        } else {
            model.prepare(&mut u_all[row..row + width]);
        }
    }
    if let Some(v) = u_all.iter().find(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("scenario input value {v}")));
    }

    // Faults by the step before which they apply.
    let mut faults: Vec<(usize, Resolved)> = Vec::with_capacity(scenario.faults.len());
    for f in &scenario.faults {
        if f.at_s >= horizon {
            return Err(Error::InvalidInput(format!(
                "fault at {} s is not before the horizon {horizon} s",
                f.at_s
            )));
        }
        let k = ((f.at_s / dt) - 1e-9).ceil().max(0.0) as usize;
        let r = match &f.effect {
            FaultEffect::AddState { state, value } => {
                Resolved::AddState(position(states, state, "state", model.name())?, *value)
            }
            FaultEffect::SetState { state, value } => {
                Resolved::SetState(position(states, state, "state", model.name())?, *value)
            }
            FaultEffect::ScaleParameter { parameter, factor } => Resolved::ScaleParameter(
                position(params, parameter, "parameter", model.name())?,
                *factor,
            ),
        };
        faults.push((k.min(n_steps - 1), r));
    }
    faults.sort_by_key(|f| f.0);

    let paths = mc.paths;
    let mut x = vec![0.0; paths * ns];
    let mut p = vec![0.0; paths * np];
    let mut ttf = vec![f64::INFINITY; paths];
    let mut alive = vec![true; paths];
    let mut rngs = Vec::with_capacity(paths);
    let (nz0, nz) = (model.uncertainty_dims(), model.noise_dims());
    let mut z0 = vec![0.0; nz0];
    let mut z = vec![0.0; nz];
    let mut x_init = vec![0.0; ns];
    let mut p_init = vec![0.0; np];
    model.initial_state(&mut x_init);
    model.parameters(&mut p_init);
    let first_u = &u_all[..width];
    let mut n_alive = 0;
    for i in 0..paths {
        let mut rng = ChaCha8Rng::seed_from_u64(mc.seed);
        rng.set_stream(i as u64);
        let (xi, pi) = (&mut x[i * ns..(i + 1) * ns], &mut p[i * np..(i + 1) * np]);
        xi.copy_from_slice(&x_init);
        pi.copy_from_slice(&p_init);
        for v in z0.iter_mut() {
            let d: f64 = StandardNormal.sample(&mut rng);
            *v = d * mc.parameter_uncertainty;
        }
        model.perturb(&z0, pi, xi);
        if model.failed(xi, first_u) {
            ttf[i] = 0.0;
            alive[i] = false;
        } else {
            n_alive += 1;
        }
        rngs.push(rng);
    }

    let levels = mc.quantiles.clone();
    let (at, ks) = plan(&levels, paths);
    let mut trajectories: Vec<Trajectory> = states
        .iter()
        .map(|name| Trajectory {
            name: name.to_string(),
            mean: Vec::with_capacity(n_steps + 1),
            levels: levels.clone(),
            // One preallocated series per level (cloning an empty Vec would drop capacity).
            values: levels
                .iter()
                .map(|_| Vec::with_capacity(n_steps + 1))
                .collect(),
        })
        .collect();
    let mut column = vec![0.0; paths];
    let mut record = |x: &[f64], k: usize, trajectories: &mut [Trajectory]| -> Result<()> {
        for (s, tr) in trajectories.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (c, xi) in column.iter_mut().zip(x.chunks_exact(ns)) {
                *c = xi[s];
                sum += xi[s];
            }
            if !sum.is_finite() {
                return Err(Error::NonFinite(format!(
                    "what-if state {} of model {} at step {k}",
                    tr.name,
                    model.name()
                )));
            }
            tr.mean.push(sum / paths as f64);
            select_many(&mut column, &ks, 0);
            for (series, &(lo, frac)) in tr.values.iter_mut().zip(&at) {
                let a = column[lo];
                series.push(if frac > 0.0 {
                    a + frac * (column[lo + 1] - a)
                } else {
                    a
                });
            }
        }
        Ok(())
    };
    record(&x, 0, &mut trajectories)?;

    let mut next_fault = 0;
    let process = mc.process_noise;
    for k in 0..n_steps {
        progress.check()?;
        let u = &u_all[k * width..(k + 1) * width];
        while next_fault < faults.len() && faults[next_fault].0 == k {
            let f = faults[next_fault].1;
            next_fault += 1;
            for i in (0..paths).filter(|&i| alive[i]) {
                match f {
                    Resolved::AddState(s, v) => x[i * ns + s] += v,
                    Resolved::SetState(s, v) => x[i * ns + s] = v,
                    Resolved::ScaleParameter(j, f) => p[i * np + j] *= f,
                }
            }
        }
        if n_alive > 0 {
            let t_end = time_of(k + 1);
            let step_dt = t_end - time_of(k);
            for i in 0..paths {
                if !alive[i] {
                    continue;
                }
                if process > 0.0 {
                    let rng = &mut rngs[i];
                    for v in z.iter_mut() {
                        *v = StandardNormal.sample(rng);
                    }
                }
                let xi = &mut x[i * ns..(i + 1) * ns];
                model.step(&p[i * np..(i + 1) * np], xi, u, step_dt, &z, process);
                if model.failed(xi, u) {
                    ttf[i] = t_end;
                    alive[i] = false;
                    n_alive -= 1;
                }
            }
        }
        record(&x, k + 1, &mut trajectories)?;
        progress.advance(1);
    }

    let mut times = Vec::with_capacity(ttf.iter().filter(|t| t.is_finite()).count());
    times.extend(ttf.iter().copied().filter(|t| t.is_finite()));
    times.sort_unstable_by(f64::total_cmp);
    let failed = times.len();
    let mut failure = FailureSummary {
        paths,
        failed,
        probability: failed as f64 / paths as f64,
        times_s: times,
        quantiles: Vec::new(),
    };
    failure.quantiles = levels.iter().map(|&q| (q, failure.quantile(q))).collect();
    Ok(WhatIfResult {
        model: model.name().to_string(),
        times_s: (0..=n_steps).map(time_of).collect(),
        trajectories,
        failure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::quantile_of_sorted;

    #[test]
    fn multi_select_matches_sorting() {
        let mut data: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.5)
            .collect();
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        let levels = [0.05, 0.25, 0.5, 0.95, 0.999];
        let (at, ks) = plan(&levels, data.len());
        select_many(&mut data, &ks, 0);
        for (q, (lo, frac)) in levels.iter().zip(at) {
            let a = data[lo];
            let got = if frac > 0.0 {
                a + frac * (data[lo + 1] - a)
            } else {
                a
            };
            assert_eq!(Some(got), quantile_of_sorted(&sorted, *q), "level {q}");
        }
    }
}
