//! The two case studies of the maintenance and decision-support work, as library functions
//! with serde configurations and owned serde results, so that the Rust examples, the Python
//! bindings and the tests run the very same code.
//!
//! - [`fleet_study`]: a fleet of conveyors over a simulated year, maintained by the
//!   cost-optimal periodic, condition-based or predictive (RUL-based) policy, against
//!   running to failure (`examples/case_conveyor_fleet.rs`).
//! - [`wind_farm_study`]: a wind farm whose twins estimate blade fatigue and recommend the
//!   least derate that reaches the blade change (`examples/case_wind_farm.rs`).

use serde::{Deserialize, Serialize};

use super::{
    evaluate, optimise_policy, Constraint, Costs, Degradation, Fleet, Policy, PolicyFamily,
    PolicyReport, SurvivalQuery,
};
use crate::connection::{channel, OverflowPolicy};
use crate::decision::advise_survival;
use crate::entity::PhysicalEntity;
use crate::error::{Error, Result};
use crate::physics::{WindConfig, WindTurbine, WindTurbineModel};
use crate::whatif::Scenario;
use crate::{SampleBatch, Twin};

const DAY: f64 = 86_400.0;
const YEAR: f64 = 365.25 * DAY;

/// Settings of the conveyor-fleet study; the defaults are the example's (100 units, one
/// year, seed 2026, default costs, the conveyor's wear law).
///
/// Every unit's bearing wears by the conveyor's law at nominal duty with the design's
/// unit-to-unit spread of the wear rate. The periodic policy's age is searched in 5 to 40
/// days, the condition threshold in 0.3 to 1 and the predictive lead time in 0 to 10 days,
/// with daily inspections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetStudyConfig {
    /// Number of conveyors, at least 1.
    pub units: usize,
    /// Simulated time, s.
    pub horizon_s: f64,
    /// Seed of the evaluation; the policies are tuned on `seed ^ 0x5eed`, so the figures
    /// are not fitted to the units they report.
    pub seed: u64,
    /// Costs of maintenance.
    pub costs: Costs,
    /// How the units degrade (must have an observable condition).
    pub degradation: Degradation,
}

impl Default for FleetStudyConfig {
    fn default() -> Self {
        FleetStudyConfig {
            units: 100,
            horizon_s: 365.0 * DAY,
            seed: 2026,
            costs: Costs::default(),
            degradation: Degradation::conveyor(),
        }
    }
}

/// The outcome of the fleet study: one report per policy, evaluated on the same units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetStudy {
    /// Run-to-failure (reference).
    pub run_to_failure: PolicyReport,
    /// Periodic replacement at the cost-optimal age.
    pub periodic: PolicyReport,
    /// Condition-based replacement at the cost-optimal wear threshold.
    pub condition: PolicyReport,
    /// RUL-based (predictive) replacement at the cost-optimal lead time.
    pub predictive: PolicyReport,
}

impl FleetStudy {
    /// The four reports in table order: run-to-failure, periodic, condition, predictive.
    pub fn reports(&self) -> [&PolicyReport; 4] {
        [
            &self.run_to_failure,
            &self.periodic,
            &self.condition,
            &self.predictive,
        ]
    }

    /// Fractional cut in downtime of the predictive policy against periodic.
    pub fn downtime_cut(&self) -> f64 {
        1.0 - self.predictive.downtime_h / self.periodic.downtime_h
    }

    /// Predictive cost relative to periodic (below 1: cheaper).
    pub fn cost_ratio(&self) -> f64 {
        self.predictive.cost / self.periodic.cost
    }
}

/// Run the conveyor-fleet study: tune each policy family on one seed, evaluate the optima
/// and run-to-failure on another.
///
/// Errors: those of [`evaluate`] and [`optimise_policy`] (invalid costs, fleet or
/// degradation; a Weibull life, which has no condition for the condition-based and
/// predictive policies).
///
/// ```
/// use twin::maintenance::cases::{fleet_study, FleetStudyConfig};
/// let s = fleet_study(&FleetStudyConfig { units: 10, ..FleetStudyConfig::default() })?;
/// assert!(s.periodic.cost < s.run_to_failure.cost);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn fleet_study(config: &FleetStudyConfig) -> Result<FleetStudy> {
    let deg = &config.degradation;
    let costs = &config.costs;
    let tune = Fleet {
        units: config.units,
        horizon_s: config.horizon_s,
        seed: config.seed ^ 0x5eed,
    };
    let test = Fleet {
        seed: config.seed,
        ..tune
    };
    let none = Constraint::default();
    let periodic = optimise_policy(
        PolicyFamily::Periodic,
        deg,
        costs,
        &tune,
        5.0 * DAY,
        40.0 * DAY,
        none,
    )?;
    let inspection = PolicyFamily::ConditionBased {
        inspection_interval_s: DAY,
    };
    let condition = optimise_policy(inspection, deg, costs, &tune, 0.3, 1.0, none)?;
    let predictive = optimise_policy(
        PolicyFamily::RulBased {
            inspection_interval_s: DAY,
        },
        deg,
        costs,
        &tune,
        0.0,
        10.0 * DAY,
        none,
    )?;
    Ok(FleetStudy {
        run_to_failure: evaluate(&Policy::RunToFailure, deg, costs, &test)?,
        periodic: evaluate(&periodic.policy, deg, costs, &test)?,
        condition: evaluate(&condition.policy, deg, costs, &test)?,
        predictive: evaluate(&predictive.policy, deg, costs, &test)?,
    })
}

/// A policy in words, as the case study's table labels it.
///
/// ```
/// use twin::maintenance::{cases::policy_label, Policy};
/// assert_eq!(policy_label(&Policy::Periodic { interval_s: 86_400.0 * 12.5 }), "periodic, every 12.5 d");
/// ```
pub fn policy_label(p: &Policy) -> String {
    match p {
        Policy::RunToFailure => "run to failure".into(),
        Policy::Periodic { interval_s } => format!("periodic, every {:.1} d", interval_s / DAY),
        Policy::ConditionBased { threshold, .. } => format!("condition, wear >= {threshold:.2}"),
        Policy::RulBased { lead_time_s, .. } => {
            format!("predictive, RUL <= {:.1} d + 1 d", lead_time_s / DAY)
        }
    }
}

/// Settings of the wind-farm study; the defaults are the example's (six sites of Weibull
/// scale 7 to 9.5 m/s, seed 11, advice after 2 years, blade change in year 20, 90%
/// confidence, 300 Monte Carlo paths, hourly winds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WindFarmConfig {
    /// Weibull scale of each site's wind, m/s (one turbine per site).
    pub scales: Vec<f64>,
    /// Seed: turbine `i` uses `seed + i`, the survival search `seed`.
    pub seed: u64,
    /// Years of operation before the twins advise.
    pub advise_at_years: f64,
    /// Planned blade change, years from commissioning.
    pub blade_change_years: f64,
    /// Required probability that the blades last to the change.
    pub confidence: f64,
    /// Monte Carlo paths of each survival search.
    pub paths: usize,
    /// Period of the measured mean winds, s (hourly keeps the study quick; Miner's sum
    /// only needs their spread).
    pub wind_period_s: f64,
    /// The lowest derate the advisor may choose.
    pub min_derate: f64,
}

impl Default for WindFarmConfig {
    fn default() -> Self {
        WindFarmConfig {
            scales: vec![7.0, 7.5, 8.0, 8.5, 9.0, 9.5],
            seed: 11,
            advise_at_years: 2.0,
            blade_change_years: 20.0,
            confidence: 0.9,
            paths: 300,
            wind_period_s: 3600.0,
            min_derate: 0.3,
        }
    }
}

impl WindFarmConfig {
    fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: f64| {
            Err(Error::InvalidInput(format!(
                "wind farm study: {what} is invalid, got {v}"
            )))
        };
        if self.scales.is_empty() {
            return Err(Error::InvalidInput(
                "wind farm study: scales must name at least one site".into(),
            ));
        }
        if let Some(&s) = self.scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return bad("scales (each finite and positive)", s);
        }
        if !(self.advise_at_years.is_finite() && self.advise_at_years > 0.0) {
            return bad("advise_at_years (positive)", self.advise_at_years);
        }
        if !(self.blade_change_years.is_finite() && self.blade_change_years > self.advise_at_years)
        {
            return bad(
                "blade_change_years (after advise_at_years)",
                self.blade_change_years,
            );
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return bad("confidence (in (0, 1))", self.confidence);
        }
        if !(self.wind_period_s.is_finite() && self.wind_period_s > 0.0) {
            return bad("wind_period_s (positive)", self.wind_period_s);
        }
        if !(self.min_derate > 0.0 && self.min_derate < 1.0) {
            return bad("min_derate (in (0, 1))", self.min_derate);
        }
        Ok(())
    }
}

/// One turbine's row of the wind-farm study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurbineRow {
    /// Weibull scale of the site's wind, m/s.
    pub wind_scale: f64,
    /// The twin's damage estimate at the advice.
    pub damage_twin: f64,
    /// The blades' true damage at the advice (unknown to the twin: the unit's S-N life
    /// differs from the design's).
    pub damage_true: f64,
    /// Probability of lasting to the blade change at full power.
    pub survival_full: f64,
    /// The derate applied after the advice (1: none).
    pub derate: f64,
    /// Probability of lasting to the blade change at that derate.
    pub survival_derated: f64,
    /// Expected energy lost to the derate, fraction of the site's annual energy.
    pub energy_loss: f64,
    /// True damage per year before the advice.
    pub damage_rate_before: f64,
    /// True damage in the year after the advice.
    pub damage_rate_after: f64,
}

/// Run the wind-farm study: each turbine streams its hourly scans to its twin over the
/// in-process channel; at `advise_at_years` the twin asks by Monte Carlo over the blades'
/// S-N scatter whether they last to the blade change, recommends the least derate that
/// does with `confidence` (none where full power already does), submits it through its
/// command gate, and one more year shows what the blades then suffer.
///
/// Errors: invalid settings ([`Error::InvalidInput`] naming the field), and those of the
/// turbine, the twin and [`advise_survival`].
pub fn wind_farm_study(config: &WindFarmConfig) -> Result<Vec<TurbineRow>> {
    config.validate()?;
    let mut rows = Vec::with_capacity(config.scales.len());
    for (i, &scale) in config.scales.iter().enumerate() {
        let wind = WindConfig {
            weibull_scale: scale,
            wind_period_s: config.wind_period_s,
            ..WindConfig::default()
        };
        let mut turbine = WindTurbine::new(config.seed + i as u64, wind.clone())?;
        let schema = WindTurbine::standard_schema();
        let mut twin = Twin::builder(schema.clone())
            .model(WindTurbineModel::new(&schema, wind.clone())?)
            .build()?;
        let (device, mut conn) = channel(1024, OverflowPolicy::Reject)?;
        let mut scan = SampleBatch::with_capacity(4);
        let mut run_until =
            |years: f64, turbine: &mut WindTurbine, twin: &mut Twin| -> Result<()> {
                while turbine.now().as_secs_f64() < years * YEAR && !turbine.failed() {
                    turbine.advance(wind.wind_period_s)?;
                    scan.clear();
                    turbine.sense(&mut scan);
                    device.publish_batch(scan.as_ref()).map_err(|(_, e)| e)?;
                    twin.step(&mut conn, 1024)?;
                    for cmd in device.try_recv_commands() {
                        turbine.actuate(&cmd)?;
                    }
                }
                Ok(())
            };
        run_until(config.advise_at_years, &mut turbine, &mut twin)?;
        let damage_true = turbine.damage();
        let damage_twin = twin
            .model()
            .and_then(|m| m.estimate("damage"))
            .unwrap_or(f64::NAN);
        let query = SurvivalQuery {
            scenario: Scenario::new(
                (config.blade_change_years - config.advise_at_years) * YEAR,
                30.0 * DAY,
            )
            .paths(config.paths, config.seed),
            input: "derate".into(),
            lo: config.min_derate,
            hi: 1.0,
            confidence: config.confidence,
        };
        let rec = advise_survival(&twin, &query, "set_derate")?;
        let (survival_full, survival_derated) = rec
            .advice
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |a| (a.survival_at_hi, a.survival));
        if rec.value < 1.0 {
            let now = twin.now().unwrap_or(crate::Timestamp(0));
            rec.submit(&mut twin, now)?;
        }
        run_until(config.advise_at_years + 1.0, &mut turbine, &mut twin)?;
        let derate = twin
            .model()
            .and_then(|m| m.estimate("derate"))
            .unwrap_or(1.0);
        let full = wind.expected_power(1.0, scale);
        rows.push(TurbineRow {
            wind_scale: scale,
            damage_twin,
            damage_true,
            survival_full,
            derate,
            survival_derated,
            energy_loss: 1.0 - wind.expected_power(derate, scale) / full,
            damage_rate_before: damage_true / config.advise_at_years,
            damage_rate_after: turbine.damage() - damage_true,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn bad_study_settings_get_typed_errors_naming_the_field() {
        let bad = [
            WindFarmConfig {
                scales: vec![],
                ..WindFarmConfig::default()
            },
            WindFarmConfig {
                scales: vec![8.0, -1.0],
                ..WindFarmConfig::default()
            },
            WindFarmConfig {
                blade_change_years: 1.0,
                ..WindFarmConfig::default()
            },
            WindFarmConfig {
                confidence: 1.0,
                ..WindFarmConfig::default()
            },
            WindFarmConfig {
                min_derate: 0.0,
                ..WindFarmConfig::default()
            },
        ];
        for (cfg, field) in bad.iter().zip([
            "scales",
            "scales",
            "blade_change_years",
            "confidence",
            "min_derate",
        ]) {
            let e = wind_farm_study(cfg).expect_err("refused");
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.to_string().contains(field), "{e}");
        }
        // A Weibull life has no condition for the condition-based and predictive policies.
        let weibull = FleetStudyConfig {
            units: 5,
            degradation: Degradation::Weibull {
                shape: 2.0,
                scale: 30.0 * DAY,
            },
            ..FleetStudyConfig::default()
        };
        assert_eq!(
            fleet_study(&weibull).expect_err("refused").kind(),
            ErrorKind::InvalidInput
        );
        let empty = FleetStudyConfig {
            units: 0,
            ..FleetStudyConfig::default()
        };
        assert_eq!(
            fleet_study(&empty).expect_err("refused").kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn configs_round_trip_through_json_with_the_examples_defaults() {
        let f: FleetStudyConfig = serde_json::from_str("{}").expect("defaults");
        assert_eq!(f, FleetStudyConfig::default());
        assert_eq!((f.units, f.seed, f.horizon_s), (100, 2026, 365.0 * DAY));
        let w: WindFarmConfig =
            serde_json::from_str(r#"{"scales": [7.0, 9.5], "seed": 3}"#).expect("partial");
        assert_eq!(w.scales, vec![7.0, 9.5]);
        assert_eq!((w.paths, w.confidence), (300, 0.9));
    }
}
