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
//! The simulation is `twin::maintenance::cases::wind_farm_study` (also behind the Python
//! example `examples/python/case_wind_farm.py`); this program prints its table.
//!
//! Run it with `cargo run --example case_wind_farm`.

use twin::maintenance::cases::{wind_farm_study, WindFarmConfig};
use twin::Result;

fn main() -> Result<()> {
    let config = WindFarmConfig::default();
    let rows = wind_farm_study(&config)?;
    println!(
        "Wind farm: blade fatigue after {} years, blade change planned in year {}, confidence {}",
        config.advise_at_years, config.blade_change_years, config.confidence
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
