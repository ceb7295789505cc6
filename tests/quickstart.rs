//! The quickstart scenario, checked: the twin warns before the failure the drive would have
//! had, every command it sends stays within the schema's limits, and derating helps.

#[path = "../examples/quickstart.rs"]
mod quickstart;

use twin::entity::ConveyorDrive;

#[test]
fn warns_with_positive_lead_time_and_derates_within_limits() {
    let schema = ConveyorDrive::standard_schema();
    let spec = schema
        .command(schema.command_id("set_speed").expect("id"))
        .expect("spec")
        .clone();
    for seed in [42, 7] {
        let tl = quickstart::run(seed).expect("scenario runs");
        let baseline = tl
            .baseline_failure
            .expect("the unit fails within a year when nobody acts");
        let warning = tl.warning.expect("the twin warns");
        let lead = baseline - warning;
        // At least a day of warning; the spread of bearing-impact onset keeps it well above.
        assert!(lead > 1.0, "seed {seed}: lead time {lead} days");
        assert!(!tl.commands.is_empty());
        let mut last: Option<(f64, f64)> = None;
        for (day, name, value) in &tl.commands {
            assert_eq!(name, "set_speed");
            assert!(
                *value >= spec.min && *value <= spec.max,
                "seed {seed}: {value} outside limits"
            );
            if let Some((d0, v0)) = last {
                let dt_s = (day - d0) * 86_400.0;
                assert!((v0 - value).abs() <= spec.max_rate.expect("rate") * dt_s + 1e-9);
                assert!(value < &v0, "derating only lowers the speed");
            }
            last = Some((*day, *value));
        }
        let failure = tl.failure.unwrap_or(quickstart::HORIZON_DAYS);
        assert!(
            failure > baseline,
            "seed {seed}: derating extends life ({failure} vs {baseline})"
        );
        assert_eq!(
            tl.refused, 0,
            "a clean simulated drive sends no bad samples"
        );
        assert!(tl.accepted > 0);
    }
}
