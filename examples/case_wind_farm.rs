//! Case study: a wind farm whose twins predict blade fatigue and recommend derating.
//!
//! Six turbines of one design (20-year blade life on the design site) stand on sites of
//! different mean wind. Each has a twin that accumulates blade damage by Miner's rule from
//! its measured hourly winds. After two years every twin asks, by Monte Carlo over the
//! S-N scatter of blades, whether its blades will last to the planned blade change in year
//! 20; where the probability is below 90% it recommends the least derate that reaches it.
//! The recommendation goes through the twin's command gate to the turbine over the
//! in-process channel, and the third year shows what the turbine's blades then suffer.
//!
//! Run it with `cargo run --example case_wind_farm`.

use twin::connection::{channel, OverflowPolicy};
use twin::decision::advise_survival;
use twin::entity::PhysicalEntity;
use twin::maintenance::SurvivalQuery;
use twin::physics::{WindConfig, WindTurbine, WindTurbineModel};
use twin::whatif::Scenario;
use twin::{Result, SampleBatch, Twin};

const YEAR: f64 = 365.25 * 86_400.0;
/// Years of operation before the twins advise.
pub const ADVISE_AT_YEARS: f64 = 2.0;
/// Planned blade change, years from commissioning.
pub const BLADE_CHANGE_YEARS: f64 = 20.0;
/// Required probability that the blades last to the change.
pub const CONFIDENCE: f64 = 0.9;

/// One turbine's row of the study.
#[derive(Debug, Clone)]
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

/// Run the study: the farm's sites are given by their Weibull scales.
pub fn study(scales: &[f64], seed: u64) -> Result<Vec<TurbineRow>> {
    let mut rows = Vec::with_capacity(scales.len());
    for (i, &scale) in scales.iter().enumerate() {
        // Hourly mean winds keep the example quick; Miner's sum only needs their spread.
        let config = WindConfig {
            weibull_scale: scale,
            wind_period_s: 3600.0,
            ..WindConfig::default()
        };
        let mut turbine = WindTurbine::new(seed + i as u64, config.clone())?;
        let schema = WindTurbine::standard_schema();
        let mut twin = Twin::builder(schema.clone())
            .model(WindTurbineModel::new(&schema, config.clone())?)
            .build()?;
        let (device, mut conn) = channel(1024, OverflowPolicy::Reject)?;
        let mut scan = SampleBatch::with_capacity(4);
        let mut run_until =
            |years: f64, turbine: &mut WindTurbine, twin: &mut Twin| -> Result<()> {
                while turbine.now().as_secs_f64() < years * YEAR && !turbine.failed() {
                    turbine.advance(config.wind_period_s)?;
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
        run_until(ADVISE_AT_YEARS, &mut turbine, &mut twin)?;
        let damage_true = turbine.damage();
        let damage_twin = twin
            .model()
            .and_then(|m| m.estimate("damage"))
            .unwrap_or(f64::NAN);
        let query = SurvivalQuery {
            scenario: Scenario::new(
                (BLADE_CHANGE_YEARS - ADVISE_AT_YEARS) * YEAR,
                30.0 * 86_400.0,
            )
            .paths(300, seed),
            input: "derate".into(),
            lo: 0.3,
            hi: 1.0,
            confidence: CONFIDENCE,
        };
        let rec = advise_survival(&twin, &query, "set_derate")?;
        let advice = rec.advice.clone();
        let (survival_full, survival_derated) = advice
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |a| (a.survival_at_hi, a.survival));
        if rec.value < 1.0 {
            let now = twin.now().unwrap_or(twin::Timestamp(0));
            rec.submit(&mut twin, now)?;
        }
        run_until(ADVISE_AT_YEARS + 1.0, &mut turbine, &mut twin)?;
        let derate = turbine_derate(&twin);
        let full = config.expected_power(1.0, scale);
        rows.push(TurbineRow {
            wind_scale: scale,
            damage_twin,
            damage_true,
            survival_full,
            derate,
            survival_derated,
            energy_loss: 1.0 - config.expected_power(derate, scale) / full,
            damage_rate_before: damage_true / ADVISE_AT_YEARS,
            damage_rate_after: turbine.damage() - damage_true,
        });
    }
    Ok(rows)
}

fn turbine_derate(twin: &Twin) -> f64 {
    twin.model()
        .and_then(|m| m.estimate("derate"))
        .unwrap_or(1.0)
}

#[allow(dead_code)] // tests/maintenance_wind.rs includes this file for `study`
fn main() -> Result<()> {
    let scales = [7.0, 7.5, 8.0, 8.5, 9.0, 9.5];
    let rows = study(&scales, 11)?;
    println!(
        "Wind farm: blade fatigue after {ADVISE_AT_YEARS} years, blade change planned in year {BLADE_CHANGE_YEARS}, confidence {CONFIDENCE}"
    );
    println!(
        "{:>8} {:>9} {:>9} {:>10} {:>8} {:>10} {:>9} {:>10} {:>10}",
        "scale",
        "D twin",
        "D true",
        "P full",
        "derate",
        "P derated",
        "energy-",
        "dD/y before",
        "dD/y after"
    );
    for r in &rows {
        println!(
            "{:>8.1} {:>9.4} {:>9.4} {:>10.3} {:>8.3} {:>10.3} {:>8.1}% {:>10.4} {:>10.4}",
            r.wind_scale,
            r.damage_twin,
            r.damage_true,
            r.survival_full,
            r.derate,
            r.survival_derated,
            100.0 * r.energy_loss,
            r.damage_rate_before,
            r.damage_rate_after
        );
    }
    Ok(())
}
