//! A centrifugal pump on a system curve, with impeller wear.
//!
//! At speed ratio `s = n / n0` and wear `w` (0 new, 1 worn out) the pump's head curve is
//! `H = H0 s² (1 − a w) − k Q²` (the affinity laws scale shut-off head with `s²`), the
//! system's is `H = Hs + Ks Q²`, so the operating flow is
//! `Q = sqrt(max(0, H0 s² (1 − a w) − Hs) / (k + Ks))`. Efficiency follows a parabola
//! around the best-efficiency flow, which scales with speed:
//! `η = ηmax (1 − b w) (1 − ((Q − s Qbep) / (s Qbep))²)`, and the shaft power is
//! `P = ρ g Q H / η`. With no static head (`Hs = 0`) the operating point obeys the
//! affinity laws exactly: `Q ∝ n`, `H ∝ n²`, `P ∝ n³`. Wear grows as
//! `dw/dt = rate s³` (erosion rises with the cube of the flow velocity).

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::{literal, non_negative, normal, positive, secs_since};
use crate::command::Command;
use crate::entity::PhysicalEntity;
use crate::error::{Error, Result};
use crate::model::DigitalModel;
use crate::sample::{BatchRef, SampleBatch, SignalId, Timestamp};
use crate::schema::{CommandSpec, Schema, SignalSpec};
use crate::whatif::ForwardModel;

const G: f64 = 9.806_65;

/// Design parameters of a centrifugal pump and its system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PumpConfig {
    /// Rated speed `n0`, rpm.
    pub rated_speed: f64,
    /// Shut-off head at rated speed `H0`, m.
    pub shutoff_head: f64,
    /// Head-curve coefficient `k`, m per (m³/s)².
    pub head_coefficient: f64,
    /// Best-efficiency flow at rated speed `Qbep`, m³/s.
    pub bep_flow: f64,
    /// Peak efficiency `ηmax`, in (0, 1].
    pub peak_efficiency: f64,
    /// Static head of the system `Hs`, m.
    pub static_head: f64,
    /// System friction coefficient `Ks`, m per (m³/s)².
    pub system_coefficient: f64,
    /// Fluid density, kg/m³.
    pub density: f64,
    /// Wear per second at rated speed.
    pub wear_rate: f64,
    /// Log-normal sigma of a unit's wear rate around the design rate.
    pub wear_rate_spread: f64,
    /// Fraction of shut-off head lost at full wear `a`, in [0, 1).
    pub head_loss: f64,
    /// Fraction of peak efficiency lost at full wear `b`, in [0, 1).
    pub efficiency_loss: f64,
    /// Relative noise of the flow, head and power sensors.
    pub sensor_noise: f64,
}

impl Default for PumpConfig {
    fn default() -> Self {
        PumpConfig {
            rated_speed: 1450.0,
            shutoff_head: 50.0,
            head_coefficient: 2000.0,
            bep_flow: 0.1,
            peak_efficiency: 0.8,
            static_head: 10.0,
            system_coefficient: 1000.0,
            density: 1000.0,
            wear_rate: 1.0 / (365.0 * 86_400.0),
            wear_rate_spread: 0.2,
            head_loss: 0.2,
            efficiency_loss: 0.3,
            sensor_noise: 0.005,
        }
    }
}

/// One operating point of a pump.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PumpPoint {
    /// Flow, m³/s.
    pub flow: f64,
    /// Head, m.
    pub head: f64,
    /// Efficiency, in (0, 1].
    pub efficiency: f64,
    /// Shaft power, W.
    pub power: f64,
}

impl PumpConfig {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        positive(&[
            ("rated_speed", self.rated_speed),
            ("shutoff_head", self.shutoff_head),
            ("head_coefficient", self.head_coefficient),
            ("bep_flow", self.bep_flow),
            ("peak_efficiency", self.peak_efficiency),
            ("density", self.density),
            ("wear_rate", self.wear_rate),
        ])?;
        non_negative(&[
            ("static_head", self.static_head),
            ("system_coefficient", self.system_coefficient),
            ("wear_rate_spread", self.wear_rate_spread),
            ("head_loss", self.head_loss),
            ("efficiency_loss", self.efficiency_loss),
            ("sensor_noise", self.sensor_noise),
        ])?;
        if self.peak_efficiency > 1.0 || self.head_loss >= 1.0 || self.efficiency_loss >= 1.0 {
            return Err(Error::InvalidInput(
                "peak_efficiency must be at most 1 and the wear losses below 1".into(),
            ));
        }
        Ok(())
    }

    /// Pump head at flow `q`, speed `n` (rpm) and wear `w`: `H0 s² (1 − a w) − k q²`.
    pub fn head(&self, q: f64, n: f64, w: f64) -> f64 {
        let s = n / self.rated_speed;
        self.shutoff_head * s * s * (1.0 - self.head_loss * w) - self.head_coefficient * q * q
    }

    /// Efficiency at flow `q`, speed `n` and wear `w` (at least 1%).
    pub fn efficiency(&self, q: f64, n: f64, w: f64) -> f64 {
        let qb = self.bep_flow * n / self.rated_speed;
        if qb <= 0.0 {
            return 0.01;
        }
        let r = (q - qb) / qb;
        (self.peak_efficiency * (1.0 - self.efficiency_loss * w) * (1.0 - r * r)).max(0.01)
    }

    /// The operating point on the system curve at speed `n` (rpm) and wear `w`.
    ///
    /// ```
    /// let c = twin::physics::PumpConfig { static_head: 0.0, ..Default::default() };
    /// let a = c.operating_point(1450.0, 0.0);
    /// let b = c.operating_point(1160.0, 0.0); // 80% speed
    /// assert!((b.flow / a.flow - 0.8).abs() < 1e-12);
    /// assert!((b.head / a.head - 0.64).abs() < 1e-12);
    /// assert!((b.power / a.power - 0.512).abs() < 1e-12);
    /// ```
    pub fn operating_point(&self, n: f64, w: f64) -> PumpPoint {
        let s = n.max(0.0) / self.rated_speed;
        let h_shut = self.shutoff_head * s * s * (1.0 - self.head_loss * w.clamp(0.0, 1.0));
        let q = ((h_shut - self.static_head).max(0.0)
            / (self.head_coefficient + self.system_coefficient))
            .sqrt();
        let head = h_shut - self.head_coefficient * q * q;
        let efficiency = self.efficiency(q, n.max(0.0), w.clamp(0.0, 1.0));
        PumpPoint {
            flow: q,
            head,
            efficiency,
            power: self.density * G * q * head / efficiency,
        }
    }

    /// Wear growth per second at speed `n` with a unit wear rate `rate`.
    pub fn wear_growth(&self, rate: f64, n: f64) -> f64 {
        let s = n.max(0.0) / self.rated_speed;
        rate * s * s * s
    }

    /// Wear that explains a measured head `h` at flow `q` and speed `n` (inverting the
    /// head curve), or `None` at standstill.
    pub fn wear_from_head(&self, h: f64, q: f64, n: f64) -> Option<f64> {
        let s = n / self.rated_speed;
        if s < 0.2 || self.head_loss <= 0.0 {
            return None;
        }
        let shut = (h + self.head_coefficient * q * q) / (self.shutoff_head * s * s);
        Some(((1.0 - shut) / self.head_loss).clamp(0.0, 1.0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Ids {
    speed: SignalId,
    flow: SignalId,
    head: SignalId,
    power: SignalId,
    speed_setpoint: SignalId,
}

/// The ids of [`PumpDrive::standard_schema`] (a restored entity's).
fn standard_ids() -> Ids {
    match Ids::resolve(&PumpDrive::standard_schema()) {
        Ok(ids) => ids,
        Err(e) => unreachable!("the standard schema lacks a signal: {e}"),
    }
}

impl Ids {
    fn resolve(schema: &Schema) -> Result<Self> {
        Ok(Ids {
            speed: schema.signal_id("speed")?,
            flow: schema.signal_id("flow")?,
            head: schema.signal_id("head")?,
            power: schema.signal_id("power")?,
            speed_setpoint: schema.signal_id("speed_setpoint")?,
        })
    }
}

/// A simulated centrifugal pump with a variable-speed drive.
///
/// ```
/// use twin::entity::PhysicalEntity;
/// use twin::physics::PumpDrive;
/// let mut p = PumpDrive::new(1, Default::default())?;
/// p.advance(100.0 * 86_400.0)?;
/// let worn = p.point();
/// assert!(p.wear() > 0.2 && worn.head < p.config().operating_point(1450.0, 0.0).head);
/// # Ok::<(), twin::Error>(())
/// ```
///
/// It serializes with serde (JSON) to its full state, including the noise generator's
/// position, so a restored entity continues with exactly the same samples; the schema
/// and ids are the standard ones and are not stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PumpDrive {
    config: PumpConfig,
    #[serde(skip, default = "PumpDrive::standard_schema")]
    schema: Schema,
    #[serde(skip, default = "standard_ids")]
    ids: Ids,
    #[serde(with = "crate::entity::rng_serde")]
    rng: ChaCha8Rng,
    time_s: f64,
    unit_rate: f64,
    wear: f64,
    speed: f64,
}

impl PumpDrive {
    /// The pump's standard schema: `speed` (rpm), `flow` (m³/s), `head` (m) and `power`
    /// (W) telemetry, the `speed_setpoint` property and the `set_speed` command (0 to
    /// 1600 rpm, at most 50 rpm/s).
    pub fn standard_schema() -> Schema {
        literal(
            Schema::builder("centrifugal_pump")
                .telemetry(SignalSpec::new("speed", "rpm").range(0.0, 2000.0))
                .telemetry(SignalSpec::new("flow", "m3/s").range(0.0, 1.0))
                .telemetry(SignalSpec::new("head", "m").range(0.0, 200.0))
                .telemetry(SignalSpec::new("power", "W").range(0.0, 1e6))
                .property(SignalSpec::new("speed_setpoint", "rpm").range(0.0, 2000.0))
                .command(
                    CommandSpec::new("set_speed", "rpm", 0.0, 1600.0)
                        .max_rate(50.0)
                        .property("speed_setpoint"),
                )
                .build(),
        )
    }

    /// A new pump at rated speed; the seed draws the unit's wear rate and the noise.
    pub fn new(seed: u64, config: PumpConfig) -> Result<Self> {
        config.validate()?;
        let schema = Self::standard_schema();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let z: f64 = StandardNormal.sample(&mut rng);
        Ok(PumpDrive {
            ids: Ids::resolve(&schema)?,
            schema,
            rng,
            time_s: 0.0,
            unit_rate: config.wear_rate * (config.wear_rate_spread * z).exp(),
            wear: 0.0,
            speed: config.rated_speed,
            config,
        })
    }

    /// The design.
    pub fn config(&self) -> &PumpConfig {
        &self.config
    }

    /// True impeller wear, 0 to 1.
    pub fn wear(&self) -> f64 {
        self.wear
    }

    /// The unit's own wear rate at rated speed, per second.
    pub fn unit_wear_rate(&self) -> f64 {
        self.unit_rate
    }

    /// The true operating point.
    pub fn point(&self) -> PumpPoint {
        self.config.operating_point(self.speed, self.wear)
    }
}

impl PhysicalEntity for PumpDrive {
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
        // Wear grows linearly at constant speed: exact for any step.
        self.wear =
            (self.wear + self.config.wear_growth(self.unit_rate, self.speed) * dt_s).min(1.0);
        self.time_s += dt_s;
        Ok(())
    }
    fn sense(&mut self, out: &mut SampleBatch) {
        let t = self.now();
        let p = self.point();
        let e = self.config.sensor_noise;
        let n: [f64; 3] = [
            normal(&mut self.rng),
            normal(&mut self.rng),
            normal(&mut self.rng),
        ];
        out.push(t, self.ids.speed, self.speed.clamp(0.0, 2000.0));
        out.push(
            t,
            self.ids.flow,
            (p.flow * (1.0 + e * n[0])).clamp(0.0, 1.0),
        );
        out.push(
            t,
            self.ids.head,
            (p.head * (1.0 + e * n[1])).clamp(0.0, 200.0),
        );
        out.push(
            t,
            self.ids.power,
            (p.power * (1.0 + e * n[2])).clamp(0.0, 1e6),
        );
        out.push(t, self.ids.speed_setpoint, self.speed.clamp(0.0, 2000.0));
    }
    fn actuate(&mut self, command: &Command) -> Result<()> {
        if command.name() != "set_speed" {
            return Err(Error::UnknownSignal(format!("command {}", command.name())));
        }
        let v = command.value();
        if !(v.is_finite() && (0.0..=1600.0).contains(&v)) {
            return Err(Error::OutOfRange {
                name: "set_speed".into(),
                value: v,
                min: 0.0,
                max: 1600.0,
            });
        }
        self.speed = v;
        Ok(())
    }
    fn failed(&self) -> bool {
        self.wear >= 1.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PumpEstimate {
    wear: f64,
    smoothed: Option<f64>,
    speed: f64,
    flow: Option<f64>,
    last: Option<i64>,
}

/// The twin's pump model: estimates impeller wear by inverting the head curve from the
/// measured speed, flow and head (smoothed over a day, never decreasing), and runs the
/// wear law forward at the current speed.
#[derive(Debug, Clone)]
pub struct PumpModel {
    config: PumpConfig,
    ids: Ids,
    est: PumpEstimate,
}

impl PumpModel {
    /// Smoothing time constant of the wear estimate, s.
    pub const SMOOTHING_S: f64 = 86_400.0;

    /// A model of a new pump for a schema with the pump's signals.
    pub fn new(schema: &Schema, config: PumpConfig) -> Result<Self> {
        config.validate()?;
        Ok(PumpModel {
            ids: Ids::resolve(schema)?,
            est: PumpEstimate {
                wear: 0.0,
                smoothed: None,
                speed: config.rated_speed,
                flow: None,
                last: None,
            },
            config,
        })
    }
}

impl DigitalModel for PumpModel {
    fn name(&self) -> &str {
        "pump_model"
    }
    fn assimilate(&mut self, batch: BatchRef<'_>) {
        for s in batch.iter() {
            if s.signal == self.ids.speed {
                self.est.speed = s.value;
            } else if s.signal == self.ids.flow {
                self.est.flow = Some(s.value);
            } else if s.signal == self.ids.head {
                let Some(q) = self.est.flow else { continue };
                let Some(w) = self.config.wear_from_head(s.value, q, self.est.speed) else {
                    continue;
                };
                let dt = secs_since(self.est.last, s.time.0);
                self.est.last = Some(s.time.0);
                let sm = match self.est.smoothed {
                    None => w,
                    Some(prev) => prev + (1.0 - (-dt / Self::SMOOTHING_S).exp()) * (w - prev),
                };
                self.est.smoothed = Some(sm);
                self.est.wear = self.est.wear.max(sm);
            }
        }
    }
    fn apply(&mut self, command: &Command) {
        if command.name() == "set_speed" {
            self.est.speed = command.value();
        }
    }
    fn advance(&mut self, dt_s: f64) {
        if dt_s.is_finite() && dt_s > 0.0 {
            let g = self
                .config
                .wear_growth(self.config.wear_rate, self.est.speed);
            self.est.wear = (self.est.wear + g * dt_s).min(1.0);
        }
    }
    fn estimate(&self, name: &str) -> Option<f64> {
        let p = self.config.operating_point(self.est.speed, self.est.wear);
        match name {
            "wear" => Some(self.est.wear),
            "speed" => Some(self.est.speed),
            "flow" => Some(p.flow),
            "head" => Some(p.head),
            "efficiency" => Some(p.efficiency),
            "power" => Some(p.power),
            _ => None,
        }
    }
    fn failed(&self) -> bool {
        self.est.wear >= 1.0
    }
    fn clone_box(&self) -> Box<dyn DigitalModel> {
        Box::new(self.clone())
    }
    fn forward(&self) -> Option<Box<dyn ForwardModel>> {
        Some(Box::new(PumpForward {
            config: self.config.clone(),
            wear: self.est.wear,
            speed: self.est.speed,
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

/// The pump as a [`ForwardModel`]: state `[wear]`, input `[speed_setpoint]`, parameter
/// `[wear_rate]` (log-normal with the design's spread); the estimate's uncertainty is
/// 0.02 and the wear rate fluctuates by 5% over an hour.
#[derive(Debug, Clone)]
pub struct PumpForward {
    config: PumpConfig,
    wear: f64,
    speed: f64,
}

impl ForwardModel for PumpForward {
    fn name(&self) -> &str {
        "pump_model"
    }
    fn state_names(&self) -> &[&'static str] {
        &["wear"]
    }
    fn input_names(&self) -> &[&'static str] {
        &["speed_setpoint"]
    }
    fn parameter_names(&self) -> &[&'static str] {
        &["wear_rate"]
    }
    fn initial_state(&self, x: &mut [f64]) {
        x[0] = self.wear;
    }
    fn current_inputs(&self, u: &mut [f64]) {
        u[0] = self.speed;
    }
    fn parameters(&self, p: &mut [f64]) {
        p[0] = self.config.wear_rate;
    }
    fn uncertainty_dims(&self) -> usize {
        2
    }
    fn perturb(&self, z: &[f64], p: &mut [f64], x: &mut [f64]) {
        p[0] *= (self.config.wear_rate_spread * z[0]).exp();
        x[0] = (x[0] + 0.02 * z[1]).clamp(0.0, 1.0);
    }
    fn noise_dims(&self) -> usize {
        1
    }
    fn step(&self, p: &[f64], x: &mut [f64], u: &[f64], dt_s: f64, z: &[f64], scale: f64) {
        let g = self.config.wear_growth(p[0], u[0]);
        let noise = (1.0 + 0.05 * (3600.0 / dt_s).sqrt() * scale * z[0]).max(0.0);
        x[0] = (x[0] + g * dt_s * noise).min(1.0);
    }
    fn failed(&self, x: &[f64], _u: &[f64]) -> bool {
        x[0] >= 1.0
    }
}
