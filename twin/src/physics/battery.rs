//! A Li-ion cell with the equivalent-circuit equations of
//! [`BatteryCircuit`] (NASA's model, as in ProgPy): one set of equations, used here as a
//! simulated cell, a twin's model, and a what-if forward model.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{literal, non_negative, normal, secs_since};
use crate::analytics::estimate::{BatteryCircuit, StateSpaceModel};
use crate::command::Command;
use crate::entity::PhysicalEntity;
use crate::error::{Error, Result};
use crate::model::DigitalModel;
use crate::sample::{BatchRef, SampleBatch, SignalId, Timestamp};
use crate::schema::{CommandSpec, Schema, SignalSpec};
use crate::whatif::ForwardModel;

/// The largest integration step, s: the circuit's polarisation pair has a time constant
/// of about 1 s, so longer steps are split (explicit Euler, as the circuit steps).
pub const MAX_SUBSTEP_S: f64 = 1.0;

/// Integrate the circuit over `dt_s` at constant current in sub-steps of at most
/// [`MAX_SUBSTEP_S`].
fn integrate(b: &BatteryCircuit, x: &mut [f64; 4], current: f64, dt_s: f64) {
    if !(dt_s.is_finite() && dt_s > 0.0) {
        return;
    }
    let n = (dt_s / MAX_SUBSTEP_S - 1e-9).ceil().max(1.0) as usize;
    let h = dt_s / n as f64;
    let mut next = [0.0; 4];
    for _ in 0..n {
        b.step(&x[..], &[current], h, &mut next);
        *x = next;
    }
}

fn voltage(b: &BatteryCircuit, x: &[f64; 4], current: f64) -> (f64, f64) {
    let mut z = [0.0; 2];
    b.output(&x[..], &[current], &mut z);
    (z[0], z[1])
}

fn full(b: &BatteryCircuit) -> [f64; 4] {
    let p = b.params();
    [p.ta, p.q_max, 0.0, 0.0]
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Ids {
    voltage: SignalId,
    temperature: SignalId,
    current: SignalId,
    current_setpoint: SignalId,
}

/// The ids of [`BatteryCell::standard_schema`] (a restored entity's).
fn standard_ids() -> Ids {
    match Ids::resolve(&BatteryCell::standard_schema()) {
        Ok(ids) => ids,
        Err(e) => unreachable!("the standard schema lacks a signal: {e}"),
    }
}

impl Ids {
    fn resolve(schema: &Schema) -> Result<Self> {
        Ok(Ids {
            voltage: schema.signal_id("voltage")?,
            temperature: schema.signal_id("temperature")?,
            current: schema.signal_id("current")?,
            current_setpoint: schema.signal_id("current_setpoint")?,
        })
    }
}

/// A simulated Li-ion cell discharged at a commanded current.
///
/// ```
/// use twin::entity::PhysicalEntity;
/// use twin::physics::BatteryCell;
/// let mut cell = BatteryCell::new(1, Default::default())?;
/// cell.set_current(2.0);
/// while !cell.failed() {
///     cell.advance(1.0)?;
/// }
/// // ProgPy 1.9's simulate_to_threshold gives 3803 s at 2 A.
/// assert_eq!(cell.now().as_secs_f64(), 3803.0);
/// # Ok::<(), twin::Error>(())
/// ```
///
/// It serializes with serde (JSON) to its full state, including the noise generator's
/// position, so a restored entity continues with exactly the same samples; the schema
/// and ids are the standard ones and are not stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatteryCell {
    circuit: BatteryCircuit,
    #[serde(skip, default = "BatteryCell::standard_schema")]
    schema: Schema,
    #[serde(skip, default = "standard_ids")]
    ids: Ids,
    #[serde(with = "crate::entity::rng_serde")]
    rng: ChaCha8Rng,
    time_s: f64,
    x: [f64; 4],
    current: f64,
}

impl BatteryCell {
    /// The cell's standard schema: `voltage` (V), `temperature` (K) and `current` (A)
    /// telemetry, the `current_setpoint` property and the `set_current` command (0 to
    /// 8 A, at most 1 A/s).
    pub fn standard_schema() -> Schema {
        literal(
            Schema::builder("battery_cell")
                .telemetry(
                    SignalSpec::new("voltage", "V")
                        .range(0.0, 5.0)
                        .alarm_low(3.2),
                )
                .telemetry(SignalSpec::new("temperature", "K").range(200.0, 400.0))
                .telemetry(SignalSpec::new("current", "A").range(0.0, 20.0))
                .property(SignalSpec::new("current_setpoint", "A").range(0.0, 20.0))
                .command(
                    CommandSpec::new("set_current", "A", 0.0, 8.0)
                        .max_rate(1.0)
                        .property("current_setpoint"),
                )
                .build(),
        )
    }

    /// A full cell at rest.
    pub fn new(seed: u64, circuit: BatteryCircuit) -> Result<Self> {
        let schema = Self::standard_schema();
        Ok(BatteryCell {
            ids: Ids::resolve(&schema)?,
            schema,
            rng: ChaCha8Rng::seed_from_u64(seed),
            time_s: 0.0,
            x: full(&circuit),
            current: 0.0,
            circuit,
        })
    }

    /// The cell's equivalent-circuit parameters.
    pub fn circuit(&self) -> &BatteryCircuit {
        &self.circuit
    }

    /// Set the current drawn, A.
    pub fn set_current(&mut self, amps: f64) {
        self.current = amps;
    }

    /// The circuit state `[tb, qb, qcp, qcs]`.
    pub fn state(&self) -> [f64; 4] {
        self.x
    }

    /// Terminal voltage without noise, V.
    pub fn voltage(&self) -> f64 {
        voltage(&self.circuit, &self.x, self.current).1
    }
}

impl PhysicalEntity for BatteryCell {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn now(&self) -> Timestamp {
        Timestamp::from_secs_f64(self.time_s)
    }
    fn advance(&mut self, dt_s: f64) -> Result<()> {
        if !(dt_s.is_finite() && dt_s >= 0.0) {
            return Err(Error::InvalidInput(format!(
                "dt_s must be finite and non-negative, got {dt_s}"
            )));
        }
        integrate(&self.circuit, &mut self.x, self.current, dt_s);
        self.time_s += dt_s;
        Ok(())
    }
    fn sense(&mut self, out: &mut SampleBatch) {
        let t = self.now();
        let (temp, v) = voltage(&self.circuit, &self.x, self.current);
        let (n1, n2) = (normal(&mut self.rng), normal(&mut self.rng));
        out.push(t, self.ids.voltage, (v + 0.002 * n1).clamp(0.0, 5.0));
        out.push(
            t,
            self.ids.temperature,
            (temp + 0.05 * n2).clamp(200.0, 400.0),
        );
        out.push(t, self.ids.current, self.current.clamp(0.0, 20.0));
        out.push(t, self.ids.current_setpoint, self.current.clamp(0.0, 20.0));
    }
    fn actuate(&mut self, command: &Command) -> Result<()> {
        if command.name() != "set_current" {
            return Err(Error::UnknownSignal(format!("command {}", command.name())));
        }
        let v = command.value();
        if !(v.is_finite() && (0.0..=8.0).contains(&v)) {
            return Err(Error::OutOfRange {
                name: "set_current".into(),
                value: v,
                min: 0.0,
                max: 8.0,
            });
        }
        self.current = v;
        Ok(())
    }
    fn failed(&self) -> bool {
        self.circuit.event_margin(&self.x[..], &[self.current]) <= 0.0
    }
}

/// The uncertainty of a [`BatteryModel`]'s forward runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatteryUncertainty {
    /// Standard deviation of the bulk charge estimate `qb`, C.
    pub charge_sd: f64,
    /// Standard deviation of the current drawn, relative, drawn once per path.
    pub current_spread: f64,
}

impl Default for BatteryUncertainty {
    fn default() -> Self {
        BatteryUncertainty {
            charge_sd: 50.0,
            current_spread: 0.05,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BatteryEstimate {
    x: [f64; 4],
    current: f64,
    last: Option<i64>,
}

/// The twin's battery model: integrates the circuit with the measured current
/// (open loop: for a voltage-corrected estimate run one of
/// [`crate::analytics::estimate`]'s filters on the same [`BatteryCircuit`]).
///
/// ```
/// use twin::model::DigitalModel;
/// use twin::physics::{BatteryCell, BatteryModel};
/// let mut m = BatteryModel::new(&BatteryCell::standard_schema(), Default::default())?;
/// assert!((m.estimate("soc").expect("soc") - 1.0).abs() < 1e-12);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatteryModel {
    circuit: BatteryCircuit,
    uncertainty: BatteryUncertainty,
    ids: Ids,
    est: BatteryEstimate,
}

impl BatteryModel {
    /// A model of a full cell for a schema with the cell's signals.
    pub fn new(schema: &Schema, circuit: BatteryCircuit) -> Result<Self> {
        Ok(BatteryModel {
            ids: Ids::resolve(schema)?,
            est: BatteryEstimate {
                x: full(&circuit),
                current: 0.0,
                last: None,
            },
            circuit,
            uncertainty: BatteryUncertainty::default(),
        })
    }

    /// The same model with another uncertainty for its forward runs.
    pub fn with_uncertainty(mut self, uncertainty: BatteryUncertainty) -> Result<Self> {
        non_negative(&[
            ("charge_sd", uncertainty.charge_sd),
            ("current_spread", uncertainty.current_spread),
        ])?;
        self.uncertainty = uncertainty;
        Ok(self)
    }
}

impl DigitalModel for BatteryModel {
    fn name(&self) -> &str {
        "battery_model"
    }
    fn assimilate(&mut self, batch: BatchRef<'_>) {
        for s in batch.iter() {
            if s.signal == self.ids.current {
                let dt = secs_since(self.est.last, s.time.0);
                integrate(&self.circuit, &mut self.est.x, self.est.current, dt);
                self.est.current = s.value;
                self.est.last = Some(s.time.0);
            }
        }
    }
    fn apply(&mut self, command: &Command) {
        if command.name() == "set_current" {
            self.est.current = command.value();
        }
    }
    fn advance(&mut self, dt_s: f64) {
        integrate(&self.circuit, &mut self.est.x, self.est.current, dt_s);
    }
    fn estimate(&self, name: &str) -> Option<f64> {
        let (temp, v) = voltage(&self.circuit, &self.est.x, self.est.current);
        match name {
            "soc" => Some(self.circuit.state_of_charge(&self.est.x[..])),
            "voltage" => Some(v),
            "temperature" => Some(temp),
            "charge" => Some(self.est.x[1]),
            "current" => Some(self.est.current),
            _ => None,
        }
    }
    fn failed(&self) -> bool {
        self.circuit
            .event_margin(&self.est.x[..], &[self.est.current])
            <= 0.0
    }
    fn clone_box(&self) -> Box<dyn DigitalModel> {
        Box::new(self.clone())
    }
    fn forward(&self) -> Option<Box<dyn ForwardModel>> {
        Some(Box::new(BatteryForward {
            circuit: self.circuit.clone(),
            uncertainty: self.uncertainty,
            x: self.est.x,
            current: self.est.current,
        }))
    }
    fn save(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.est)?)
    }
    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        self.est = serde_json::from_value(state)?;
        Ok(())
    }
}

/// The cell as a [`ForwardModel`]: states `[tb, qb, qcp, qcs]`, input `[current]`,
/// parameter `[current_scale]` (a per-path factor on the drawn current). Process noise
/// follows the circuit's own (ProgPy's convention, `σᵢ dt` per step); failure is end of
/// discharge.
#[derive(Debug, Clone)]
pub struct BatteryForward {
    circuit: BatteryCircuit,
    uncertainty: BatteryUncertainty,
    x: [f64; 4],
    current: f64,
}

impl ForwardModel for BatteryForward {
    fn name(&self) -> &str {
        "battery_model"
    }
    fn state_names(&self) -> &[&'static str] {
        &["tb", "qb", "qcp", "qcs"]
    }
    fn input_names(&self) -> &[&'static str] {
        &["current"]
    }
    fn parameter_names(&self) -> &[&'static str] {
        &["current_scale"]
    }
    fn initial_state(&self, x: &mut [f64]) {
        x.copy_from_slice(&self.x);
    }
    fn current_inputs(&self, u: &mut [f64]) {
        u[0] = self.current;
    }
    fn parameters(&self, p: &mut [f64]) {
        p[0] = 1.0;
    }
    fn uncertainty_dims(&self) -> usize {
        2
    }
    fn perturb(&self, z: &[f64], p: &mut [f64], x: &mut [f64]) {
        x[1] += self.uncertainty.charge_sd * z[0];
        p[0] = (1.0 + self.uncertainty.current_spread * z[1]).max(0.0);
    }
    fn noise_dims(&self) -> usize {
        4
    }
    fn step(&self, p: &[f64], x: &mut [f64], u: &[f64], dt_s: f64, z: &[f64], scale: f64) {
        let mut s = [x[0], x[1], x[2], x[3]];
        integrate(&self.circuit, &mut s, u[0] * p[0], dt_s);
        let mut q = [0.0; 16];
        self.circuit.process_noise(dt_s, &mut q);
        for i in 0..4 {
            x[i] = s[i] + q[i * 5].sqrt() * scale * z[i];
        }
    }
    fn failed(&self, x: &[f64], u: &[f64]) -> bool {
        self.circuit.event_margin(x, &u[..1]) <= 0.0
    }
}
