//! A first-order thermal mass: `dT/dt = (P − (T − Ta) / R) / C`.
//!
//! With power `P` and ambient `Ta` held over a step, the exact solution is
//! `T(t) = Ta + P R + (T0 − Ta − P R) exp(−t / (R C))`, which both the entity and the
//! model use, so their answers do not depend on the step size.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{literal, non_negative, normal, positive};
use crate::command::Command;
use crate::entity::PhysicalEntity;
use crate::error::{Error, Result};
use crate::model::DigitalModel;
use crate::sample::{BatchRef, SampleBatch, SignalId, Timestamp};
use crate::schema::{CommandSpec, Schema, SignalSpec};
use crate::whatif::ForwardModel;

/// Parameters of a thermal mass (a motor winding, a transformer, a heated tank).
///
/// ```
/// let c = twin::physics::ThermalConfig::default();
/// assert_eq!(c.time_constant_s(), 1000.0);
/// assert_eq!(c.steady_state(1000.0, 25.0), 75.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThermalConfig {
    /// Thermal resistance to ambient, K/W.
    pub resistance: f64,
    /// Heat capacity, J/K.
    pub capacitance: f64,
    /// Ambient temperature, °C.
    pub ambient: f64,
    /// Temperature at which the asset fails (insulation limit), °C.
    pub max_temp: f64,
    /// Standard deviation of the temperature sensor, K.
    pub sensor_noise: f64,
    /// Log-normal sigma of the resistance in forward runs.
    pub resistance_spread: f64,
    /// Standard deviation of the temperature estimate in forward runs, K.
    pub temp_sd: f64,
    /// Random-walk disturbance in forward runs, K per square root of an hour.
    pub process_sd: f64,
}

impl Default for ThermalConfig {
    fn default() -> Self {
        ThermalConfig {
            resistance: 0.05,
            capacitance: 20_000.0,
            ambient: 25.0,
            max_temp: 90.0,
            sensor_noise: 0.2,
            resistance_spread: 0.05,
            temp_sd: 0.5,
            process_sd: 0.5,
        }
    }
}

impl ThermalConfig {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        positive(&[
            ("resistance", self.resistance),
            ("capacitance", self.capacitance),
        ])?;
        non_negative(&[
            ("sensor_noise", self.sensor_noise),
            ("resistance_spread", self.resistance_spread),
            ("temp_sd", self.temp_sd),
            ("process_sd", self.process_sd),
        ])?;
        if !(self.ambient.is_finite() && self.max_temp.is_finite()) {
            return Err(Error::NonFinite("thermal temperatures".into()));
        }
        Ok(())
    }

    /// `R C`, s.
    pub fn time_constant_s(&self) -> f64 {
        self.resistance * self.capacitance
    }

    /// The temperature the mass settles at under power `p` and ambient `ta`.
    pub fn steady_state(&self, p: f64, ta: f64) -> f64 {
        ta + p * self.resistance
    }

    /// The exact temperature after `dt_s` from `t0` under constant `p` and `ta`.
    ///
    /// ```
    /// let c = twin::physics::ThermalConfig::default();
    /// let one = c.step(25.0, 1000.0, 25.0, 2000.0);
    /// let two = c.step(c.step(25.0, 1000.0, 25.0, 1000.0), 1000.0, 25.0, 1000.0);
    /// assert!((one - two).abs() < 1e-12);
    /// assert!((one - (75.0 - 50.0 * (-2.0f64).exp())).abs() < 1e-12);
    /// ```
    pub fn step(&self, t0: f64, p: f64, ta: f64, dt_s: f64) -> f64 {
        step(t0, p, ta, self.resistance, self.capacitance, dt_s)
    }
}

fn step(t0: f64, p: f64, ta: f64, r: f64, c: f64, dt: f64) -> f64 {
    let ss = ta + p * r;
    ss + (t0 - ss) * (-dt / (r * c)).exp()
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Ids {
    temperature: SignalId,
    ambient: SignalId,
    power: SignalId,
    power_setpoint: SignalId,
}

/// The ids of [`ThermalMass::standard_schema`] (a restored entity's).
fn standard_ids() -> Ids {
    match Ids::resolve(&ThermalMass::standard_schema()) {
        Ok(ids) => ids,
        Err(e) => unreachable!("the standard schema lacks a signal: {e}"),
    }
}

impl Ids {
    fn resolve(schema: &Schema) -> Result<Self> {
        Ok(Ids {
            temperature: schema.signal_id("temperature")?,
            ambient: schema.signal_id("ambient")?,
            power: schema.signal_id("power")?,
            power_setpoint: schema.signal_id("power_setpoint")?,
        })
    }
}

/// A simulated thermal mass: temperature, ambient and power sensors, a power set-point.
///
/// ```
/// use twin::entity::PhysicalEntity;
/// use twin::physics::ThermalMass;
/// let mut m = ThermalMass::new(1, Default::default())?;
/// m.set_power(1000.0);
/// m.advance(5000.0)?; // five time constants
/// assert!((m.temperature() - 75.0).abs() < 0.5);
/// # Ok::<(), twin::Error>(())
/// ```
///
/// It serializes with serde (JSON) to its full state, including the noise generator's
/// position, so a restored entity continues with exactly the same samples; the schema
/// and ids are the standard ones and are not stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThermalMass {
    config: ThermalConfig,
    #[serde(skip, default = "ThermalMass::standard_schema")]
    schema: Schema,
    #[serde(skip, default = "standard_ids")]
    ids: Ids,
    #[serde(with = "crate::entity::rng_serde")]
    rng: ChaCha8Rng,
    time_s: f64,
    temp: f64,
    power: f64,
    ambient: f64,
}

impl ThermalMass {
    /// The thermal mass's standard schema: `temperature`, `ambient` and `power`
    /// telemetry, the `power_setpoint` property and the `set_power` command (0 to 2 kW,
    /// at most 100 W/s).
    pub fn standard_schema() -> Schema {
        literal(
            Schema::builder("thermal_mass")
                .telemetry(
                    SignalSpec::new("temperature", "degC")
                        .range(-50.0, 400.0)
                        .alarm_high(80.0),
                )
                .telemetry(SignalSpec::new("ambient", "degC").range(-50.0, 80.0))
                .telemetry(SignalSpec::new("power", "W").range(0.0, 10_000.0))
                .property(SignalSpec::new("power_setpoint", "W").range(0.0, 10_000.0))
                .command(
                    CommandSpec::new("set_power", "W", 0.0, 2_000.0)
                        .max_rate(100.0)
                        .property("power_setpoint"),
                )
                .build(),
        )
    }

    /// A thermal mass at ambient temperature with no power.
    pub fn new(seed: u64, config: ThermalConfig) -> Result<Self> {
        config.validate()?;
        let schema = Self::standard_schema();
        Ok(ThermalMass {
            ids: Ids::resolve(&schema)?,
            schema,
            rng: ChaCha8Rng::seed_from_u64(seed),
            time_s: 0.0,
            temp: config.ambient,
            power: 0.0,
            ambient: config.ambient,
            config,
        })
    }

    /// The thermal mass's configuration.
    pub fn config(&self) -> &ThermalConfig {
        &self.config
    }

    /// The true temperature, °C.
    pub fn temperature(&self) -> f64 {
        self.temp
    }

    /// Set the heating power directly (the simulation's hand on the switch), W.
    pub fn set_power(&mut self, watts: f64) {
        self.power = watts.max(0.0);
    }

    /// Set the ambient temperature, °C.
    pub fn set_ambient(&mut self, celsius: f64) {
        self.ambient = celsius;
    }
}

impl PhysicalEntity for ThermalMass {
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
        self.temp = self.config.step(self.temp, self.power, self.ambient, dt_s);
        self.time_s += dt_s;
        Ok(())
    }
    fn sense(&mut self, out: &mut SampleBatch) {
        let t = self.now();
        let n = normal(&mut self.rng);
        let temp = (self.temp + self.config.sensor_noise * n).clamp(-50.0, 400.0);
        out.push(t, self.ids.temperature, temp);
        out.push(t, self.ids.ambient, self.ambient.clamp(-50.0, 80.0));
        out.push(t, self.ids.power, self.power.min(10_000.0));
        out.push(t, self.ids.power_setpoint, self.power.min(10_000.0));
    }
    fn actuate(&mut self, command: &Command) -> Result<()> {
        if command.name() != "set_power" {
            return Err(Error::UnknownSignal(format!("command {}", command.name())));
        }
        let v = command.value();
        if !(v.is_finite() && (0.0..=2_000.0).contains(&v)) {
            return Err(Error::OutOfRange {
                name: "set_power".into(),
                value: v,
                min: 0.0,
                max: 2_000.0,
            });
        }
        self.power = v;
        Ok(())
    }
    fn failed(&self) -> bool {
        self.temp >= self.config.max_temp
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ThermalEstimate {
    temp: f64,
    power: f64,
    ambient: f64,
}

/// The twin's thermal model: takes the measured temperature, power and ambient, and runs
/// the exact solution forward between observations.
///
/// ```
/// use twin::model::DigitalModel;
/// use twin::physics::{ThermalMass, ThermalModel};
/// let mut m = ThermalModel::new(&ThermalMass::standard_schema(), Default::default())?;
/// // From ambient under 2 kW (steady state 125 °C), the 90 °C limit is reached at
/// // t = −RC ln((125 − 90) / (125 − 25)).
/// let mut fm = m.forward().expect("forward");
/// let expect = -1000.0 * (35.0f64 / 100.0).ln();
/// let s = twin::whatif::Scenario::new(5000.0, 1.0)
///     .input("power", twin::whatif::Profile::Constant { value: 2000.0 })
///     .paths(1, 0)
///     .uncertainty(0.0, 0.0);
/// let r = twin::whatif::run(fm.as_ref(), &s)?;
/// assert!((r.failure.times_s[0] - expect).abs() <= 1.0);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ThermalModel {
    config: ThermalConfig,
    ids: Ids,
    est: ThermalEstimate,
}

impl ThermalModel {
    /// A model for a schema with the thermal mass's signals.
    pub fn new(schema: &Schema, config: ThermalConfig) -> Result<Self> {
        config.validate()?;
        Ok(ThermalModel {
            ids: Ids::resolve(schema)?,
            est: ThermalEstimate {
                temp: config.ambient,
                power: 0.0,
                ambient: config.ambient,
            },
            config,
        })
    }
}

impl DigitalModel for ThermalModel {
    fn name(&self) -> &str {
        "thermal_model"
    }
    fn assimilate(&mut self, batch: BatchRef<'_>) {
        for s in batch.iter() {
            if s.signal == self.ids.temperature {
                self.est.temp = s.value;
            } else if s.signal == self.ids.ambient {
                self.est.ambient = s.value;
            } else if s.signal == self.ids.power || s.signal == self.ids.power_setpoint {
                self.est.power = s.value;
            }
        }
    }
    fn apply(&mut self, command: &Command) {
        if command.name() == "set_power" {
            self.est.power = command.value();
        }
    }
    fn advance(&mut self, dt_s: f64) {
        if dt_s.is_finite() && dt_s > 0.0 {
            self.est.temp = self
                .config
                .step(self.est.temp, self.est.power, self.est.ambient, dt_s);
        }
    }
    fn estimate(&self, name: &str) -> Option<f64> {
        match name {
            "temperature" => Some(self.est.temp),
            "power" => Some(self.est.power),
            "ambient" => Some(self.est.ambient),
            "steady_state" => Some(self.config.steady_state(self.est.power, self.est.ambient)),
            _ => None,
        }
    }
    fn failed(&self) -> bool {
        self.est.temp >= self.config.max_temp
    }
    fn clone_box(&self) -> Box<dyn DigitalModel> {
        Box::new(self.clone())
    }
    fn forward(&self) -> Option<Box<dyn ForwardModel>> {
        Some(Box::new(ThermalForward {
            config: self.config.clone(),
            temp: self.est.temp,
            power: self.est.power,
            ambient: self.est.ambient,
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

/// The thermal mass as a [`ForwardModel`]: state `[temperature]`, inputs
/// `[power, ambient]`, parameters `[resistance, capacitance]`. Steps are exact; the
/// process noise is a random walk of `process_sd` K per square root of an hour.
#[derive(Debug, Clone)]
pub struct ThermalForward {
    config: ThermalConfig,
    temp: f64,
    power: f64,
    ambient: f64,
}

impl ForwardModel for ThermalForward {
    fn name(&self) -> &str {
        "thermal_model"
    }
    fn state_names(&self) -> &[&'static str] {
        &["temperature"]
    }
    fn input_names(&self) -> &[&'static str] {
        &["power", "ambient"]
    }
    fn parameter_names(&self) -> &[&'static str] {
        &["resistance", "capacitance"]
    }
    fn initial_state(&self, x: &mut [f64]) {
        x[0] = self.temp;
    }
    fn current_inputs(&self, u: &mut [f64]) {
        u[0] = self.power;
        u[1] = self.ambient;
    }
    fn parameters(&self, p: &mut [f64]) {
        p[0] = self.config.resistance;
        p[1] = self.config.capacitance;
    }
    fn uncertainty_dims(&self) -> usize {
        2
    }
    fn perturb(&self, z: &[f64], p: &mut [f64], x: &mut [f64]) {
        p[0] *= (self.config.resistance_spread * z[0]).exp();
        x[0] += self.config.temp_sd * z[1];
    }
    fn noise_dims(&self) -> usize {
        1
    }
    fn step(&self, p: &[f64], x: &mut [f64], u: &[f64], dt_s: f64, z: &[f64], scale: f64) {
        x[0] = step(x[0], u[0], u[1], p[0], p[1], dt_s)
            + self.config.process_sd * (dt_s / 3600.0).sqrt() * scale * z[0];
    }
    fn failed(&self, x: &[f64], _u: &[f64]) -> bool {
        x[0] >= self.config.max_temp
    }
}
