//! The digital side: the [`DigitalModel`] trait (the virtual replica that assimilates
//! observations and can be cloned and run forward) and built-in physics models.

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::entity::{ConveyorConfig, ConveyorIds};
use crate::error::{Error, Result};
use crate::sample::BatchRef;
use crate::schema::Schema;
use crate::whatif::ForwardModel;

pub use crate::physics::{BatteryModel, PumpModel, ThermalModel, WindTurbineModel};

/// A virtual replica of an asset.
///
/// It assimilates observations as they arrive, applies the commands sent to the asset, and
/// can be cloned and advanced without observations to answer "what happens next".
/// Its state is saved and restored as JSON for twin snapshots.
pub trait DigitalModel: Send {
    /// A stable name, checked when a snapshot is restored.
    fn name(&self) -> &str;
    /// Take in accepted observations (in time order per signal).
    fn assimilate(&mut self, batch: BatchRef<'_>);
    /// Apply a command sent to the asset (for example a new set-point).
    fn apply(&mut self, command: &Command);
    /// Run the model forward by `dt_s` seconds without observations.
    fn advance(&mut self, dt_s: f64);
    /// Named estimates of the model's state (for example `"wear"`).
    fn estimate(&self, name: &str) -> Option<f64>;
    /// Whether the modelled asset has reached its failure condition.
    fn failed(&self) -> bool;
    /// An independent copy for forward runs.
    fn clone_box(&self) -> Box<dyn DigitalModel>;
    /// The model's state as JSON.
    fn save(&self) -> Result<serde_json::Value>;
    /// Replace the model's state with a saved one.
    fn restore(&mut self, state: serde_json::Value) -> Result<()>;

    /// A copy of the model's current estimate that a what-if run can simulate
    /// ([`crate::whatif::run`]), or `None` (the default) if the model does not support it.
    fn forward(&self) -> Option<Box<dyn ForwardModel>> {
        None
    }

    /// Seconds until the model reaches failure when run forward from now in steps of
    /// `dt_s`, or `None` if it survives `horizon_s`. The live model is not touched.
    fn time_to_failure(&self, horizon_s: f64, dt_s: f64) -> Result<Option<f64>> {
        if !(dt_s.is_finite() && dt_s > 0.0 && horizon_s.is_finite() && horizon_s >= 0.0) {
            return Err(Error::InvalidInput(format!(
                "time_to_failure needs a positive step and a non-negative horizon, got dt {dt_s}, horizon {horizon_s}"
            )));
        }
        let mut m = self.clone_box();
        let mut t = 0.0;
        while !m.failed() {
            if t >= horizon_s {
                return Ok(None);
            }
            m.advance(dt_s);
            t += dt_s;
        }
        Ok(Some(t))
    }
}

impl Clone for Box<dyn DigitalModel> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The uncertainty of a [`ConveyorModel`]'s forward runs.
///
/// ```
/// use twin::model::ConveyorUncertainty;
/// let u = ConveyorUncertainty { wear_sd: 0.05, ..ConveyorUncertainty::default() };
/// assert!(u.validate().is_ok());
/// assert!(ConveyorUncertainty { process_sd: -1.0, ..u }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConveyorUncertainty {
    /// Log-normal sigma of the unit's wear rate around the design rate (the model does
    /// not learn the unit's own rate, so this is the design's unit-to-unit spread).
    pub rate_spread: f64,
    /// Standard deviation of the current wear estimate.
    pub wear_sd: f64,
    /// Wear-rate fluctuation: the increment over a step `dt` is `g dt (1 + process_sd
    /// sqrt(3600 / dt) z)`, kept non-negative, so the relative spread accumulated over one
    /// hour is `process_sd`.
    pub process_sd: f64,
}

impl Default for ConveyorUncertainty {
    fn default() -> Self {
        ConveyorUncertainty {
            rate_spread: ConveyorConfig::default().wear_rate_spread,
            wear_sd: 0.02,
            process_sd: 0.05,
        }
    }
}

impl ConveyorUncertainty {
    /// Check that every value is finite and non-negative.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("rate_spread", self.rate_spread),
            ("wear_sd", self.wear_sd),
            ("process_sd", self.process_sd),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "conveyor uncertainty {name} must be finite and non-negative, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// The conveyor's wear law as a [`ForwardModel`]: state `[wear]`, inputs
/// `[load, speed_setpoint]` (the belt follows its set-point), parameter `[wear_rate]`.
#[derive(Debug, Clone)]
pub struct ConveyorForward {
    config: ConveyorConfig,
    uncertainty: ConveyorUncertainty,
    wear: f64,
    load: f64,
    setpoint: f64,
}

impl ConveyorForward {
    /// A forward model from a design, an uncertainty, and a current estimate.
    pub fn new(
        config: ConveyorConfig,
        uncertainty: ConveyorUncertainty,
        wear: f64,
        load: f64,
        setpoint: f64,
    ) -> Self {
        ConveyorForward {
            config,
            uncertainty,
            wear,
            load,
            setpoint,
        }
    }
}

impl ForwardModel for ConveyorForward {
    fn name(&self) -> &str {
        "conveyor_model"
    }
    fn state_names(&self) -> &[&'static str] {
        &["wear"]
    }
    fn input_names(&self) -> &[&'static str] {
        &["load", "speed_setpoint"]
    }
    fn parameter_names(&self) -> &[&'static str] {
        &["wear_rate"]
    }
    fn initial_state(&self, x: &mut [f64]) {
        x[0] = self.wear;
    }
    fn current_inputs(&self, u: &mut [f64]) {
        u[0] = self.load;
        u[1] = self.setpoint;
    }
    fn parameters(&self, p: &mut [f64]) {
        p[0] = self.config.wear_rate;
    }
    fn uncertainty_dims(&self) -> usize {
        2
    }
    fn perturb(&self, z: &[f64], p: &mut [f64], x: &mut [f64]) {
        p[0] *= (self.uncertainty.rate_spread * z[0]).exp();
        x[0] = (x[0] + self.uncertainty.wear_sd * z[1]).clamp(0.0, 1.0);
    }
    fn noise_dims(&self) -> usize {
        1
    }
    fn step(&self, p: &[f64], x: &mut [f64], u: &[f64], dt_s: f64, z: &[f64], scale: f64) {
        let c = &self.config;
        let l = u[0].max(0.0) / c.nominal_load;
        let v = u[1].max(0.0) / c.nominal_speed;
        let g = p[0] * l * l.sqrt() * v * v * (1.0 + 2.0 * x[0]);
        let noise = 1.0 + self.uncertainty.process_sd * (3600.0 / dt_s).sqrt() * scale * z[0];
        x[0] = (x[0] + g * dt_s * noise.max(0.0)).min(1.0);
    }
    fn failed(&self, x: &[f64], _u: &[f64]) -> bool {
        x[0] >= 1.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ConveyorEstimate {
    /// Smoothed vibration normalised to nominal speed, mm/s.
    vib: Option<f64>,
    speed: f64,
    load: f64,
    setpoint: f64,
    wear: f64,
    /// Time of the last vibration and load observations, ns.
    vib_t: Option<i64>,
    load_t: Option<i64>,
}

/// Physics model of a conveyor drive: estimates bearing wear from vibration and runs the
/// wear law forward at the current set-point and mean load.
///
/// The estimate inverts the vibration law of [`ConveyorConfig`]: smoothed vibration at
/// nominal speed `V` gives `w = sqrt((V - base) / wear_vibration)`. Between observations it
/// integrates the wear law with the design wear rate.
///
/// ```
/// use twin::entity::{ConveyorDrive, PhysicalEntity};
/// use twin::model::{ConveyorModel, DigitalModel};
/// let mut drive = ConveyorDrive::new(3);
/// let mut model = ConveyorModel::new(&drive.schema().clone(), drive.config().clone())?;
/// let mut batch = twin::SampleBatch::new();
/// for _ in 0..100 {
///     drive.advance(60.0)?;
///     batch.clear();
///     drive.sense(&mut batch);
///     model.assimilate(batch.as_ref());
/// }
/// let ttf = model.time_to_failure(90.0 * 86_400.0, 3600.0)?.expect("fails within 90 days");
/// assert!(ttf > 10.0 * 86_400.0);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ConveyorModel {
    config: ConveyorConfig,
    ids: ConveyorIds,
    /// Smoothing time constant of the vibration estimate, s.
    smoothing_s: f64,
    uncertainty: ConveyorUncertainty,
    est: ConveyorEstimate,
}

impl ConveyorModel {
    /// A model for a conveyor with the given schema (which must have the conveyor's signals)
    /// and design parameters.
    pub fn new(schema: &Schema, config: ConveyorConfig) -> Result<Self> {
        let ids = ConveyorIds::resolve(schema)?;
        let est = ConveyorEstimate {
            vib: None,
            speed: config.nominal_speed,
            load: config.nominal_load,
            setpoint: config.nominal_speed,
            wear: 0.0,
            vib_t: None,
            load_t: None,
        };
        Ok(ConveyorModel {
            smoothing_s: 6.0 * 3600.0,
            uncertainty: ConveyorUncertainty {
                rate_spread: config.wear_rate_spread,
                ..ConveyorUncertainty::default()
            },
            config,
            ids,
            est,
        })
    }

    /// The same model with another uncertainty for its what-if runs.
    ///
    /// ```
    /// use twin::model::{ConveyorModel, ConveyorUncertainty};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let exact = ConveyorUncertainty { rate_spread: 0.0, wear_sd: 0.0, process_sd: 0.0 };
    /// let m = ConveyorModel::new(&schema, Default::default())?.with_uncertainty(exact)?;
    /// assert_eq!(m.uncertainty(), exact);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn with_uncertainty(mut self, uncertainty: ConveyorUncertainty) -> Result<Self> {
        uncertainty.validate()?;
        self.uncertainty = uncertainty;
        Ok(self)
    }

    /// The uncertainty of the model's what-if runs.
    pub fn uncertainty(&self) -> ConveyorUncertainty {
        self.uncertainty
    }

    /// The conveyor's design parameters.
    pub fn config(&self) -> &ConveyorConfig {
        &self.config
    }

    fn wear_from_vibration(&self, v_norm: f64) -> f64 {
        let c = &self.config;
        if c.wear_vibration <= 0.0 {
            return 0.0;
        }
        ((v_norm - c.base_vibration) / c.wear_vibration)
            .max(0.0)
            .sqrt()
            .min(1.0)
    }
}

impl DigitalModel for ConveyorModel {
    fn name(&self) -> &str {
        "conveyor_model"
    }

    fn assimilate(&mut self, batch: BatchRef<'_>) {
        let nominal = self.config.nominal_speed;
        let secs_since =
            |last: Option<i64>, now: i64| last.map_or(0.0, |t| (now - t).max(0) as f64 / 1e9);
        for s in batch.iter() {
            if s.signal == self.ids.belt_speed {
                self.est.speed = s.value;
            } else if s.signal == self.ids.load {
                let dt = secs_since(self.est.load_t, s.time.0);
                let a = if self.est.load_t.is_none() {
                    1.0
                } else {
                    1.0 - (-dt / 3600.0).exp()
                };
                self.est.load += a * (s.value - self.est.load);
                self.est.load_t = Some(s.time.0);
            } else if s.signal == self.ids.speed_setpoint {
                self.est.setpoint = s.value;
            } else if s.signal == self.ids.vibration && self.est.speed > 0.05 * nominal {
                let dt = secs_since(self.est.vib_t, s.time.0);
                self.est.vib_t = Some(s.time.0);
                let v_norm = s.value * nominal / self.est.speed;
                let vib = match self.est.vib {
                    None => v_norm,
                    Some(prev) => prev + (1.0 - (-dt / self.smoothing_s).exp()) * (v_norm - prev),
                };
                self.est.vib = Some(vib);
                // Wear never heals: keep the running maximum of the estimate.
                self.est.wear = self.est.wear.max(self.wear_from_vibration(vib));
            }
        }
    }

    fn apply(&mut self, command: &Command) {
        if command.name() == "set_speed" {
            self.est.setpoint = command.value();
        }
    }

    fn advance(&mut self, dt_s: f64) {
        if !(dt_s.is_finite() && dt_s > 0.0) || self.failed() {
            return;
        }
        self.est.speed = self.est.setpoint;
        let g = self.config.wear_growth(
            self.config.wear_rate,
            self.est.wear,
            self.est.speed,
            self.est.load,
        );
        self.est.wear = (self.est.wear + g * dt_s).min(1.0);
    }

    fn estimate(&self, name: &str) -> Option<f64> {
        match name {
            "wear" => Some(self.est.wear),
            "vibration" => self.est.vib,
            "speed" => Some(self.est.speed),
            "setpoint" => Some(self.est.setpoint),
            "load" => Some(self.est.load),
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
        Some(Box::new(ConveyorForward::new(
            self.config.clone(),
            self.uncertainty,
            self.est.wear,
            self.est.load,
            self.est.setpoint,
        )))
    }

    fn save(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.est)?)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        self.est = serde_json::from_value(state)?;
        Ok(())
    }
}
