//! The conveyor-fleet case study's headline, checked on the library code the example prints: the
//! predictive policy cuts downtime against cost-optimal periodic maintenance by at least
//! 20% at no higher cost.

use twin::maintenance::cases::{fleet_study, FleetStudyConfig};

#[test]
fn predictive_maintenance_cuts_downtime_by_a_fifth_at_no_higher_cost() {
    for seed in [2026, 7] {
        let s = fleet_study(&FleetStudyConfig {
            units: 100,
            seed,
            ..FleetStudyConfig::default()
        })
        .expect("study");
        assert!(
            s.downtime_cut() >= 0.20,
            "seed {seed}: downtime cut {}",
            s.downtime_cut()
        );
        assert!(
            s.cost_ratio() <= 1.0,
            "seed {seed}: cost ratio {}",
            s.cost_ratio()
        );
        // Fewer failures and fewer replacements: the predictive policy uses more of each
        // bearing's life than a fixed interval can.
        assert!(s.predictive.failures < s.periodic.failures);
        assert!(s.predictive.spares() < s.periodic.spares());
        // Every policy beats running to failure.
        for r in [&s.periodic, &s.condition, &s.predictive] {
            assert!(r.cost < s.run_to_failure.cost && r.downtime_h < s.run_to_failure.downtime_h);
        }
    }
}
