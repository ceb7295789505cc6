//! Choosing intervals, thresholds and lead times that minimise the expected cost rate.

use serde::{Deserialize, Serialize};

use super::{evaluate_inner, Costs, Degradation, Fleet, Policy, PolicyReport};
use crate::analytics::reliability::Weibull;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Composite Simpson points for `∫ R(t) dt`.
const SIMPSON_N: usize = 2000;

/// The long-run cost per second of replacing a unit at age `interval_s` (or at failure,
/// whichever comes first) when lives are Weibull, by the renewal-reward theorem:
///
/// `C(T) = (Cp R(T) + Cf F(T)) / (∫₀ᵀ R(t) dt + dp R(T) + df F(T))`
///
/// with `Cp`, `Cf` the total costs of a planned and of a corrective replacement
/// ([`Costs::preventive_total`], [`Costs::corrective_total`]) and `dp`, `df` their
/// downtimes. An infinite interval is run-to-failure: `Cf / (MTTF + df)`.
///
/// ```
/// use twin::maintenance::{age_replacement_cost_rate, Costs};
/// let c = Costs::default();
/// // Exponential lives (shape 1): replacing early never pays.
/// let early = age_replacement_cost_rate(1.0, 1e7, &c, 1e6)?;
/// let never = age_replacement_cost_rate(1.0, 1e7, &c, f64::INFINITY)?;
/// assert!(early > never);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn age_replacement_cost_rate(
    shape: f64,
    scale: f64,
    costs: &Costs,
    interval_s: f64,
) -> Result<f64> {
    costs.validate()?;
    let w = Weibull::new(shape, scale)?;
    if interval_s.is_nan() || interval_s <= 0.0 {
        return Err(Error::InvalidInput(format!(
            "replacement interval must be positive, got {interval_s}"
        )));
    }
    let (cp, cf) = (costs.preventive_total(), costs.corrective_total());
    let (dp, df) = (costs.preventive_downtime_s(), costs.corrective_downtime_s());
    if interval_s.is_infinite() {
        return Ok(cf / (w.mtbf() + df));
    }
    let n = SIMPSON_N;
    let h = interval_s / n as f64;
    let mut up = w.reliability(0.0) + w.reliability(interval_s);
    for i in 1..n {
        up += w.reliability(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    up *= h / 3.0;
    let r = w.reliability(interval_s);
    let f = 1.0 - r;
    Ok((cp * r + cf * f) / (up + dp * r + df * f))
}

/// Limits an optimum must respect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    /// Largest acceptable probability that a unit fails before its planned replacement
    /// (age replacement only).
    pub max_failure_probability: Option<f64>,
    /// Smallest acceptable fleet availability (simulated policies only).
    pub min_availability: Option<f64>,
}

/// The best parameter found and its cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimum {
    /// The interval (s), threshold or lead time (s) chosen.
    pub parameter: f64,
    /// The policy with that parameter.
    pub policy: Policy,
    /// Its cost per unit per second.
    pub cost_rate: f64,
    /// The simulation of the policy at the optimum (for simulated optimisations).
    pub report: Option<PolicyReport>,
}

/// Which parameter of a policy to optimise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyFamily {
    /// The replacement age of [`Policy::Periodic`], s.
    Periodic,
    /// The wear threshold of [`Policy::ConditionBased`].
    ConditionBased {
        /// Time between inspections, s.
        inspection_interval_s: f64,
    },
    /// The lead time of [`Policy::RulBased`], s.
    RulBased {
        /// Time between inspections, s.
        inspection_interval_s: f64,
    },
}

impl PolicyFamily {
    /// The policy with parameter `x`.
    pub fn policy(&self, x: f64) -> Policy {
        match *self {
            PolicyFamily::Periodic => Policy::Periodic { interval_s: x },
            PolicyFamily::ConditionBased {
                inspection_interval_s,
            } => Policy::ConditionBased {
                threshold: x,
                inspection_interval_s,
            },
            PolicyFamily::RulBased {
                inspection_interval_s,
            } => Policy::RulBased {
                lead_time_s: x,
                inspection_interval_s,
            },
        }
    }
}

const GOLDEN: f64 = 0.618_033_988_749_894_8;

fn check_bounds(lo: f64, hi: f64) -> Result<()> {
    if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo < hi) {
        return Err(Error::InvalidInput(format!(
            "search bounds must be finite with 0 <= lo < hi, got [{lo}, {hi}]"
        )));
    }
    Ok(())
}

/// Minimise `f` (which returns `None` where infeasible) over `[lo, hi]`: a grid of
/// `grid` points, then golden-section search between the best point's neighbours.
fn minimise(
    lo: f64,
    hi: f64,
    grid: usize,
    iterations: usize,
    mut f: impl FnMut(f64) -> Result<Option<f64>>,
) -> Result<Option<(f64, f64)>> {
    let xs: Vec<f64> = (0..grid)
        .map(|i| lo + (hi - lo) * i as f64 / (grid - 1) as f64)
        .collect();
    let mut best: Option<(usize, f64)> = None;
    for (i, &x) in xs.iter().enumerate() {
        if let Some(v) = f(x)? {
            if best.is_none_or(|(_, b)| v < b) {
                best = Some((i, v));
            }
        }
    }
    let Some((i, v)) = best else {
        return Ok(None);
    };
    let (mut a, mut b) = (xs[i.saturating_sub(1)], xs[(i + 1).min(grid - 1)]);
    let mut best = (xs[i], v);
    let eval = |x: f64, f: &mut dyn FnMut(f64) -> Result<Option<f64>>| -> Result<f64> {
        Ok(f(x)?.unwrap_or(f64::INFINITY))
    };
    let mut c = b - GOLDEN * (b - a);
    let mut d = a + GOLDEN * (b - a);
    let (mut fc, mut fd) = (eval(c, &mut f)?, eval(d, &mut f)?);
    for _ in 0..iterations {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - GOLDEN * (b - a);
            fc = eval(c, &mut f)?;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + GOLDEN * (b - a);
            fd = eval(d, &mut f)?;
        }
    }
    for (x, v) in [(c, fc), (d, fd)] {
        if v < best.1 {
            best = (x, v);
        }
    }
    Ok(Some(best))
}

/// The replacement age in `[lo_s, hi_s]` that minimises the renewal-reward cost rate of
/// age replacement under a Weibull life (grid of 200 points refined by golden-section
/// search), subject to `constraint.max_failure_probability`.
///
/// Errors: invalid bounds, costs or Weibull parameters ([`Error::InvalidInput`]); no
/// interval in the bounds meets the constraint ([`Error::InvalidInput`], "infeasible").
///
/// ```
/// use twin::maintenance::{optimise_age_replacement, Constraint, Costs};
/// let h = 3600.0; // lives of about 1000 hours
/// let best = optimise_age_replacement(3.0, 1000.0 * h, &Costs::default(), 10.0 * h, 3000.0 * h, Constraint::default())?;
/// assert!(best.parameter > 100.0 * h && best.parameter < 1000.0 * h);
/// let tight = Constraint { max_failure_probability: Some(1e-9), ..Constraint::default() };
/// let e = optimise_age_replacement(3.0, 1000.0 * h, &Costs::default(), 10.0 * h, 3000.0 * h, tight).unwrap_err();
/// assert_eq!(e.kind(), twin::ErrorKind::InvalidInput);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn optimise_age_replacement(
    shape: f64,
    scale: f64,
    costs: &Costs,
    lo_s: f64,
    hi_s: f64,
    constraint: Constraint,
) -> Result<Optimum> {
    check_bounds(lo_s, hi_s)?;
    let lo = lo_s.max(hi_s * 1e-9);
    let w = Weibull::new(shape, scale)?;
    let p_max = constraint.max_failure_probability.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&p_max) {
        return Err(Error::InvalidInput(format!(
            "max_failure_probability must be in [0, 1], got {p_max}"
        )));
    }
    let found = minimise(lo, hi_s, 200, 60, |t| {
        if w.unreliability(t) > p_max {
            return Ok(None);
        }
        age_replacement_cost_rate(shape, scale, costs, t).map(Some)
    })?;
    let Some((t, c)) = found else {
        return Err(Error::InvalidInput(format!(
            "infeasible: no replacement age in [{lo_s}, {hi_s}] s keeps the failure probability at or below {p_max}"
        )));
    };
    Ok(Optimum {
        parameter: t,
        policy: Policy::Periodic { interval_s: t },
        cost_rate: c,
        report: None,
    })
}

/// The parameter of a policy family in `[lo, hi]` that minimises the simulated cost rate
/// over a fleet (the same seed for every candidate, so candidates meet the same units),
/// subject to `constraint.min_availability`: a grid of 16 points refined by 12
/// golden-section steps.
///
/// Errors: those of [`evaluate`](super::evaluate), invalid bounds, and no feasible candidate
/// ([`Error::InvalidInput`], "infeasible").
pub fn optimise_policy(
    family: PolicyFamily,
    degradation: &Degradation,
    costs: &Costs,
    fleet: &Fleet,
    lo: f64,
    hi: f64,
    constraint: Constraint,
) -> Result<Optimum> {
    optimise_policy_with(
        family,
        degradation,
        costs,
        fleet,
        lo,
        hi,
        constraint,
        &Progress::new(),
    )
}

/// Fleet evaluations [`optimise_policy`] makes: the grid, the two first golden-section
/// points, one per golden-section step and the final report.
pub const OPTIMISE_POLICY_EVALUATIONS: u64 = 16 + 2 + 12 + 1;

/// [`optimise_policy`] with a progress and cancellation hook: progress counts fleet
/// evaluations (total [`OPTIMISE_POLICY_EVALUATIONS`]); cancellation is checked before
/// every simulated unit and a cancelled run returns [`Error::Cancelled`].
#[allow(clippy::too_many_arguments)]
pub fn optimise_policy_with(
    family: PolicyFamily,
    degradation: &Degradation,
    costs: &Costs,
    fleet: &Fleet,
    lo: f64,
    hi: f64,
    constraint: Constraint,
    progress: &Progress,
) -> Result<Optimum> {
    progress.start(OPTIMISE_POLICY_EVALUATIONS);
    let evaluate = |policy: &Policy| -> Result<PolicyReport> {
        let r = evaluate_inner(policy, degradation, costs, fleet, progress, false)?;
        progress.advance(1);
        Ok(r)
    };
    check_bounds(lo, hi)?;
    let lo = if matches!(family, PolicyFamily::Periodic) {
        lo.max(hi * 1e-6)
    } else {
        lo
    };
    let min_avail = constraint.min_availability.unwrap_or(0.0);
    let found = minimise(lo, hi, 16, 12, |x| {
        let r = evaluate(&family.policy(x))?;
        Ok((r.availability() >= min_avail).then(|| r.cost_rate()))
    })?;
    let Some((x, c)) = found else {
        return Err(Error::InvalidInput(format!(
            "infeasible: no parameter in [{lo}, {hi}] reaches availability {min_avail}"
        )));
    };
    let policy = family.policy(x);
    let report = evaluate(&policy)?;
    Ok(Optimum {
        parameter: x,
        policy,
        cost_rate: c,
        report: Some(report),
    })
}
