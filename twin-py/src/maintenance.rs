//! Maintenance optimisation and decision support from Python: evaluate and optimise
//! policies over a simulated fleet, the renewal-reward cost rate of age replacement, the
//! set-point that survives to a maintenance window, recommendations submitted through a
//! twin's command gate, and the two case studies of `twin::maintenance::cases`.
//!
//! Policies, degradation laws and costs are the Rust serde forms as dicts (costs merged
//! over the defaults). Simulations run with the GIL released.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use twin::decision::Recommendation;
use twin::maintenance::cases::{self, FleetStudyConfig, WindFarmConfig};
use twin::maintenance::{
    Constraint, Costs, Degradation, Fleet, Policy, PolicyFamily, PolicyReport, SurvivalQuery,
};
use twin::Timestamp;

use crate::digital_twin::PyTwin;
use crate::errors::{invalid_input, to_py};
use crate::physics::model_spec;
use crate::progress::run_long;
use crate::results::PyCommand;
use crate::whatif::{from_python, merge_config, scenario_arg, to_python};

fn costs_arg(costs: Option<&Bound<'_, PyAny>>) -> PyResult<Costs> {
    let c: Costs = merge_config("costs", costs, None)?;
    c.validate().map_err(to_py)?;
    Ok(c)
}

fn degradation_arg(d: Option<&Bound<'_, PyAny>>) -> PyResult<Degradation> {
    match d {
        None => Ok(Degradation::conveyor()),
        Some(o) if o.is_none() => Ok(Degradation::conveyor()),
        Some(o) => from_python("degradation", o),
    }
}

fn report_dict<'py>(py: Python<'py>, r: &PolicyReport) -> PyResult<Bound<'py, PyAny>> {
    let d = to_python(py, r)?;
    d.set_item("label", cases::policy_label(&r.policy))?;
    d.set_item("availability", r.availability())?;
    d.set_item("cost_rate", r.cost_rate())?;
    d.set_item("spares", r.spares())?;
    Ok(d)
}

/// Simulate a maintenance ``policy`` over a fleet of ``units`` for ``horizon_s`` seconds
/// (GIL released) and report failures, planned replacements, inspections, downtime (h),
/// cost, availability, cost rate and spares as a dict.
///
/// ``policy``: ``{"kind": "run_to_failure"}``, ``{"kind": "periodic", "interval_s": t}``,
/// ``{"kind": "condition_based", "threshold": w, "inspection_interval_s": t}`` or
/// ``{"kind": "rul_based", "lead_time_s": t, "inspection_interval_s": t}``.
/// ``degradation``: ``None`` (the conveyor's wear law), or ``{"kind": "weibull", "shape":
/// b, "scale": s}``. ``costs``: a dict of :func:`twin.maintenance_costs` fields to change.
///
/// >>> import twin
/// >>> life = {"kind": "weibull", "shape": 3.0, "scale": 1000.0 * 3600}
/// >>> rtf = twin.maintenance_evaluate({"kind": "run_to_failure"}, life, units=50, horizon_s=2e4 * 3600, seed=1)
/// >>> pm = twin.maintenance_evaluate({"kind": "periodic", "interval_s": 500.0 * 3600}, life, units=50, horizon_s=2e4 * 3600, seed=1)
/// >>> pm["failures"] < rtf["failures"] and pm["cost"] < rtf["cost"]
/// True
#[pyfunction]
#[pyo3(signature = (policy, degradation=None, costs=None, *, units=100, horizon_s=31_536_000.0, seed=0, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn maintenance_evaluate<'py>(
    py: Python<'py>,
    policy: &Bound<'py, PyAny>,
    degradation: Option<&Bound<'py, PyAny>>,
    costs: Option<&Bound<'py, PyAny>>,
    units: usize,
    horizon_s: f64,
    seed: u64,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let policy: Policy = from_python("policy", policy)?;
    let deg = degradation_arg(degradation)?;
    let costs = costs_arg(costs)?;
    let fleet = Fleet {
        units,
        horizon_s,
        seed,
    };
    let r = run_long(py, progress, "maintenance_evaluate", |p| {
        twin::maintenance::evaluate_with(&policy, &deg, &costs, &fleet, p)
    })?;
    report_dict(py, &r)
}

/// The default maintenance costs as a dict (pass a dict of changed fields as ``costs``).
#[pyfunction]
pub fn maintenance_costs(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_python(py, &Costs::default())
}

/// Long-run cost per unit time of replacing at age ``interval_s`` (``inf``: run to
/// failure) under a Weibull life, by the renewal-reward theorem:
/// ``(C_p R(T) + C_f F(T)) / (∫_0^T R + d_p R(T) + d_f F(T))``.
///
/// >>> import twin, math
/// >>> c = twin.age_replacement_cost_rate(1.0, 1e7, math.inf)   # exponential lives
/// >>> costs = twin.maintenance_costs()
/// >>> cf = costs["corrective"] + costs["spare"] + costs["downtime_per_hour"] * (costs["corrective_downtime_h"] + costs["spare_lead_time_h"])
/// >>> abs(c - cf / (1e7 + 3600 * (costs["corrective_downtime_h"] + costs["spare_lead_time_h"]))) < 1e-12
/// True
#[pyfunction]
#[pyo3(signature = (shape, scale, interval_s, costs=None))]
pub fn age_replacement_cost_rate(
    shape: f64,
    scale: f64,
    interval_s: f64,
    costs: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let c = costs_arg(costs)?;
    twin::maintenance::age_replacement_cost_rate(shape, scale, &c, interval_s).map_err(to_py)
}

fn optimum_dict<'py>(
    py: Python<'py>,
    o: &twin::maintenance::Optimum,
) -> PyResult<Bound<'py, PyAny>> {
    let d = PyDict::new(py);
    d.set_item("parameter", o.parameter)?;
    d.set_item("policy", to_python(py, &o.policy)?)?;
    d.set_item("label", cases::policy_label(&o.policy))?;
    d.set_item("cost_rate", o.cost_rate)?;
    match &o.report {
        Some(r) => d.set_item("report", report_dict(py, r)?)?,
        None => d.set_item("report", py.None())?,
    }
    Ok(d.into_any())
}

/// The replacement age in ``[lo_s, hi_s]`` that minimises
/// :func:`age_replacement_cost_rate`, optionally keeping the probability of failing before
/// it at most ``max_failure_probability``. Returns ``parameter`` (the age, s), ``policy``,
/// ``cost_rate``. No feasible age raises :class:`InvalidInputError` ("infeasible").
///
/// >>> import twin
/// >>> h = 3600.0
/// >>> best = twin.optimise_age_replacement(3.0, 1000 * h, 10 * h, 3000 * h)
/// >>> 100 * h < best["parameter"] < 1000 * h
/// True
#[pyfunction]
#[pyo3(signature = (shape, scale, lo_s, hi_s, *, costs=None, max_failure_probability=None))]
pub fn optimise_age_replacement<'py>(
    py: Python<'py>,
    shape: f64,
    scale: f64,
    lo_s: f64,
    hi_s: f64,
    costs: Option<&Bound<'py, PyAny>>,
    max_failure_probability: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let c = costs_arg(costs)?;
    let constraint = Constraint {
        max_failure_probability,
        min_availability: None,
    };
    let o = py
        .detach(|| {
            twin::maintenance::optimise_age_replacement(shape, scale, &c, lo_s, hi_s, constraint)
        })
        .map_err(to_py)?;
    optimum_dict(py, &o)
}

/// The parameter in ``[lo, hi]`` of a policy ``family`` (``"periodic"``: the age, s;
/// ``"condition_based"``: the wear threshold; ``"rul_based"``: the lead time, s) that
/// minimises the simulated cost rate over a fleet (GIL released), optionally with
/// availability at least ``min_availability``. Returns ``parameter``, ``policy``,
/// ``cost_rate`` and the optimum's ``report``; no feasible candidate raises
/// :class:`InvalidInputError`.
///
/// >>> import twin
/// >>> o = twin.optimise_policy("periodic", 5 * 86400.0, 40 * 86400.0, units=20, seed=1)
/// >>> 5 * 86400.0 <= o["parameter"] <= 40 * 86400.0
/// True
#[pyfunction]
#[pyo3(signature = (family, lo, hi, *, degradation=None, costs=None, units=100,
                    horizon_s=31_536_000.0, seed=0, inspection_interval_s=86_400.0, min_availability=None,
                    progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn optimise_policy<'py>(
    py: Python<'py>,
    family: &str,
    lo: f64,
    hi: f64,
    degradation: Option<&Bound<'py, PyAny>>,
    costs: Option<&Bound<'py, PyAny>>,
    units: usize,
    horizon_s: f64,
    seed: u64,
    inspection_interval_s: f64,
    min_availability: Option<f64>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let fam = match family {
        "periodic" => PolicyFamily::Periodic,
        "condition_based" => PolicyFamily::ConditionBased {
            inspection_interval_s,
        },
        "rul_based" => PolicyFamily::RulBased {
            inspection_interval_s,
        },
        other => {
            return Err(invalid_input(format!(
                "family must be \"periodic\", \"condition_based\" or \"rul_based\", not {other:?}"
            )))
        }
    };
    let deg = degradation_arg(degradation)?;
    let c = costs_arg(costs)?;
    let fleet = Fleet {
        units,
        horizon_s,
        seed,
    };
    let constraint = Constraint {
        max_failure_probability: None,
        min_availability,
    };
    let o = run_long(py, progress, "optimise_policy", |p| {
        twin::maintenance::optimise_policy_with(fam, &deg, &c, &fleet, lo, hi, constraint, p)
    })?;
    optimum_dict(py, &o)
}

/// The forward model of a model object, or of a twin's model at its current estimate.
fn forward_of(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
) -> PyResult<Box<dyn twin::whatif::ForwardModel>> {
    if let Ok(t) = model.cast::<PyTwin>() {
        let fm = t
            .get()
            .with_twin(py, false, |tw| tw.model().map(|m| m.forward()))?;
        return match fm {
            None => Err(invalid_input("model: the twin has no digital model")),
            Some(None) => Err(invalid_input("model: the twin's model cannot run forward")),
            Some(Some(f)) => Ok(f),
        };
    }
    let spec = model_spec("model", model)?;
    let m = spec.build(&spec.standard_schema()).map_err(to_py)?;
    m.forward()
        .ok_or_else(|| invalid_input("model: this model cannot run forward"))
}

/// The largest value of ``input`` in ``[lo, hi]`` at which at least ``confidence`` of the
/// Monte Carlo paths of ``scenario`` survive its horizon (bisection, GIL released).
/// ``model`` is a model object (from a new asset) or a :class:`Twin` (from its current
/// estimate, untouched). Returns ``value``, ``survival`` (at that value),
/// ``survival_at_hi`` and ``runs``; if even ``lo`` does not survive it raises
/// :class:`InvalidInputError` ("infeasible").
///
/// >>> import twin
/// >>> s = twin.WhatIfScenario(40 * 86400.0, 3600.0, paths=200, seed=1)
/// >>> a = twin.survive_window(twin.ConveyorModel(), s, "speed_setpoint", 0.5, 2.0)
/// >>> a["value"] < 2.0 and a["survival"] >= 0.9 > a["survival_at_hi"]
/// True
#[pyfunction]
#[pyo3(signature = (model, scenario, input, lo, hi, confidence=0.9))]
pub fn survive_window<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    scenario: &Bound<'py, PyAny>,
    input: String,
    lo: f64,
    hi: f64,
    confidence: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let query = SurvivalQuery {
        scenario: scenario_arg(scenario)?,
        input,
        lo,
        hi,
        confidence,
    };
    let fm = forward_of(py, model)?;
    let a = py
        .detach(|| twin::maintenance::survive_window(fm.as_ref(), &query))
        .map_err(to_py)?;
    to_python(py, &a)
}

/// Advice from a twin: :func:`survive_window` on its model at its current estimate, as a
/// recommendation (a dict: ``command``, ``value``, ``source``, ``reason``, ``advice``) to
/// send ``command``. It is not sent: :func:`submit_recommendation` does that through the
/// twin's command gate.
#[pyfunction]
#[pyo3(signature = (twin, scenario, input, command, lo, hi, confidence=0.9))]
#[allow(clippy::too_many_arguments)]
pub fn advise_survival<'py>(
    py: Python<'py>,
    twin: &Bound<'py, PyTwin>,
    scenario: &Bound<'py, PyAny>,
    input: String,
    command: &str,
    lo: f64,
    hi: f64,
    confidence: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let query = SurvivalQuery {
        scenario: scenario_arg(scenario)?,
        input,
        lo,
        hi,
        confidence,
    };
    let rec = twin
        .get()
        .with_twin(py, true, |tw| {
            twin::decision::advise_survival(tw, &query, command)
        })?
        .map_err(to_py)?;
    to_python(py, &rec)
}

/// Submit a recommendation (a dict with ``command`` and ``value``, optionally ``source``
/// and ``reason``, as :func:`advise_survival` returns) to ``twin`` at ``time`` (ns): it
/// passes the schema's limits and rate limits and is queued for sending and logged with
/// its source, or is refused with the mapped exception (:class:`OutOfRangeError`,
/// :class:`RateLimitedError`, ...), logged as refused and never sent.
///
/// >>> import twin
/// >>> t = twin.Twin(twin.Schema.conveyor())
/// >>> try:
/// ...     twin.submit_recommendation(t, {"command": "set_speed", "value": 4.0}, 0)
/// ... except twin.OutOfRangeError:
/// ...     print("refused")
/// refused
/// >>> t.pending_commands()
/// []
#[pyfunction]
pub fn submit_recommendation(
    py: Python<'_>,
    twin: &Bound<'_, PyTwin>,
    recommendation: &Bound<'_, PyAny>,
    time: i64,
) -> PyResult<PyCommand> {
    let get = |k: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        recommendation.get_item(k).map(Some).or_else(|e| {
            if e.is_instance_of::<pyo3::exceptions::PyKeyError>(py) {
                Ok(None)
            } else {
                Err(e)
            }
        })
    };
    let command: String = get("command")?
        .ok_or_else(|| invalid_input("recommendation: needs a \"command\""))?
        .extract()
        .map_err(|_| invalid_input("recommendation[\"command\"] must be a str"))?;
    let value: f64 = get("value")?
        .ok_or_else(|| invalid_input("recommendation: needs a \"value\""))?
        .extract()
        .map_err(|_| invalid_input("recommendation[\"value\"] must be a number"))?;
    let text = |k: &str, default: &str| -> PyResult<String> {
        match get(k)? {
            None => Ok(default.to_string()),
            Some(v) => v
                .extract()
                .map_err(|_| invalid_input(format!("recommendation[{k:?}] must be a str"))),
        }
    };
    let rec = Recommendation {
        command,
        value,
        source: text("source", "advisor")?,
        reason: text("reason", "")?,
        advice: None,
    };
    twin.get()
        .with_twin(py, false, |tw| rec.submit(tw, Timestamp(time)))?
        .map(|c| PyCommand::from(&c))
        .map_err(to_py)
}

/// The conveyor-fleet case study (``twin::maintenance::cases::fleet_study``): tune the
/// periodic, condition-based and predictive policies on one seed and evaluate them and
/// running to failure on another (GIL released). Settings as keyword arguments (``units``
/// = 100, ``horizon_s`` = one year, ``seed`` = 2026, ``costs``, ``degradation``). Returns
/// ``reports`` (a list of the four policy reports in table order), each also by name
/// (``run_to_failure``, ``periodic``, ``condition``, ``predictive``), ``downtime_cut`` and
/// ``cost_ratio`` (predictive against periodic).
#[pyfunction]
#[pyo3(signature = (**kwargs))]
pub fn conveyor_fleet_study<'py>(
    py: Python<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg: FleetStudyConfig = merge_config("conveyor_fleet_study", None, kwargs)?;
    let s = py.detach(|| cases::fleet_study(&cfg)).map_err(to_py)?;
    let d = PyDict::new(py);
    let reports = pyo3::types::PyList::empty(py);
    for (name, r) in ["run_to_failure", "periodic", "condition", "predictive"]
        .iter()
        .zip(s.reports())
    {
        let rd = report_dict(py, r)?;
        d.set_item(*name, &rd)?;
        reports.append(rd)?;
    }
    d.set_item("reports", reports)?;
    d.set_item("units", cfg.units)?;
    d.set_item("downtime_cut", s.downtime_cut())?;
    d.set_item("cost_ratio", s.cost_ratio())?;
    Ok(d)
}

/// The wind-farm case study (``twin::maintenance::cases::wind_farm_study``): one turbine
/// and its twin per site, advice on blade fatigue after ``advise_at_years``, the derate
/// submitted through each twin's command gate, one more year run (GIL released).
/// Settings as keyword arguments (``scales`` = [7, 7.5, 8, 8.5, 9, 9.5], ``seed`` = 11,
/// ``advise_at_years`` = 2, ``blade_change_years`` = 20, ``confidence`` = 0.9, ``paths`` =
/// 300, ``wind_period_s`` = 3600, ``min_derate`` = 0.3). Returns a list of dicts, one per
/// turbine: ``wind_scale``, ``damage_twin``, ``damage_true``, ``survival_full``,
/// ``derate``, ``survival_derated``, ``energy_loss``, ``damage_rate_before``,
/// ``damage_rate_after``.
#[pyfunction]
#[pyo3(signature = (**kwargs))]
pub fn wind_farm_study<'py>(
    py: Python<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cfg: WindFarmConfig = merge_config("wind_farm_study", None, kwargs)?;
    let rows = py.detach(|| cases::wind_farm_study(&cfg)).map_err(to_py)?;
    to_python(py, &rows)
}
