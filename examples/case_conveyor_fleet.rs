//! Case study: a fleet of conveyors over a simulated year, maintained periodically or
//! predictively.
//!
//! Every unit's bearing wears by the conveyor's law at nominal duty, with the design's
//! unit-to-unit spread of the wear rate (log-normal, sigma 0.15), so lives scatter around
//! 30 days. The periodic policy replaces bearings at a fixed age, the interval chosen to
//! minimise the expected cost. The predictive policy is what the twin does: it measures
//! the wear once a day (noise 0.02), estimates the unit's own wear rate from the wear and
//! the age, predicts the remaining life with the physics model, and plans the replacement
//! when that falls below its lead time plus a day, the lead time chosen to minimise the
//! expected cost. A failure costs a repair, the spare and a day and a half of downtime (the
//! spare has to be fetched); a planned replacement costs less and stops the line for 4 h.
//!
//! Run it with `cargo run --example case_conveyor_fleet`.

use twin::maintenance::{
    evaluate, optimise_policy, Constraint, Costs, Degradation, Fleet, Policy, PolicyFamily,
    PolicyReport,
};
use twin::Result;

const DAY: f64 = 86_400.0;

/// The outcome of the study: one report per policy and the headline comparison.
#[derive(Debug, Clone)]
pub struct Study {
    /// Run-to-failure (reference).
    pub run_to_failure: PolicyReport,
    /// Periodic replacement at the cost-optimal age.
    pub periodic: PolicyReport,
    /// Condition-based replacement at the cost-optimal wear threshold.
    pub condition: PolicyReport,
    /// RUL-based (predictive) replacement at the cost-optimal lead time.
    pub predictive: PolicyReport,
}

impl Study {
    /// Fractional cut in downtime of the predictive policy against periodic.
    pub fn downtime_cut(&self) -> f64 {
        1.0 - self.predictive.downtime_h / self.periodic.downtime_h
    }

    /// Predictive cost relative to periodic (below 1: cheaper).
    pub fn cost_ratio(&self) -> f64 {
        self.predictive.cost / self.periodic.cost
    }
}

/// Run the study for a fleet of `units` conveyors over a year. Policies are tuned on one
/// seed and evaluated on another, so the figures are not fitted to the units they report.
pub fn study(units: usize, seed: u64) -> Result<Study> {
    let deg = Degradation::conveyor();
    let costs = Costs::default();
    let tune = Fleet {
        units,
        horizon_s: 365.0 * DAY,
        seed: seed ^ 0x5eed,
    };
    let test = Fleet { seed, ..tune };
    let none = Constraint::default();
    let periodic = optimise_policy(
        PolicyFamily::Periodic,
        &deg,
        &costs,
        &tune,
        5.0 * DAY,
        40.0 * DAY,
        none,
    )?;
    let condition = optimise_policy(
        PolicyFamily::ConditionBased {
            inspection_interval_s: DAY,
        },
        &deg,
        &costs,
        &tune,
        0.3,
        1.0,
        none,
    )?;
    let predictive = optimise_policy(
        PolicyFamily::RulBased {
            inspection_interval_s: DAY,
        },
        &deg,
        &costs,
        &tune,
        0.0,
        10.0 * DAY,
        none,
    )?;
    Ok(Study {
        run_to_failure: evaluate(&Policy::RunToFailure, &deg, &costs, &test)?,
        periodic: evaluate(&periodic.policy, &deg, &costs, &test)?,
        condition: evaluate(&condition.policy, &deg, &costs, &test)?,
        predictive: evaluate(&predictive.policy, &deg, &costs, &test)?,
    })
}

fn describe(p: &Policy) -> String {
    match p {
        Policy::RunToFailure => "run to failure".into(),
        Policy::Periodic { interval_s } => format!("periodic, every {:.1} d", interval_s / DAY),
        Policy::ConditionBased { threshold, .. } => format!("condition, wear >= {threshold:.2}"),
        Policy::RulBased { lead_time_s, .. } => {
            format!("predictive, RUL <= {:.1} d + 1 d", lead_time_s / DAY)
        }
    }
}

#[allow(dead_code)] // tests/maintenance_case.rs includes this file for `study`
fn main() -> Result<()> {
    let units = 100;
    let s = study(units, 2026)?;
    println!("Fleet of {units} conveyors, one simulated year");
    println!(
        "{:<34} {:>9} {:>10} {:>12} {:>12} {:>10}",
        "policy", "failures", "planned", "downtime h", "cost", "avail %"
    );
    for r in [&s.run_to_failure, &s.periodic, &s.condition, &s.predictive] {
        println!(
            "{:<34} {:>9} {:>10} {:>12.0} {:>12.0} {:>10.3}",
            describe(&r.policy),
            r.failures,
            r.preventive,
            r.downtime_h,
            r.cost,
            100.0 * r.availability()
        );
    }
    println!(
        "\npredictive against periodic: downtime {:+.1}%, cost {:+.1}%",
        -100.0 * s.downtime_cut(),
        100.0 * (s.cost_ratio() - 1.0)
    );
    Ok(())
}
