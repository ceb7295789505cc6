//! The wind-farm case study, checked on the library code the example prints: a calm site keeps full
//! power, a windy one is derated just enough to reach the blade change with 90%
//! confidence, the derate reaches the turbine and its blades then wear more slowly.

use twin::maintenance::cases::{wind_farm_study, WindFarmConfig};

#[test]
fn windy_sites_are_derated_to_reach_the_blade_change_and_calm_ones_are_not() {
    let rows = wind_farm_study(&WindFarmConfig {
        scales: vec![7.0, 9.5],
        seed: 3,
        ..WindFarmConfig::default()
    })
    .expect("study");
    let (calm, windy) = (&rows[0], &rows[1]);
    assert_eq!(calm.derate, 1.0);
    assert!(calm.survival_full >= WindFarmConfig::default().confidence);
    assert_eq!(calm.energy_loss, 0.0);
    assert!(windy.survival_full < WindFarmConfig::default().confidence);
    assert!(
        windy.derate < 1.0 && windy.derate >= 0.3,
        "{}",
        windy.derate
    );
    assert!(windy.survival_derated >= WindFarmConfig::default().confidence);
    assert!(
        windy.energy_loss > 0.0 && windy.energy_loss < 0.2,
        "{}",
        windy.energy_loss
    );
    // The windy turbine's blades wore faster before the derate than after it.
    assert!(windy.damage_rate_after < 0.7 * windy.damage_rate_before);
}
