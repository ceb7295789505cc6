//! The physical side: the [`PhysicalEntity`] trait (sensors and actuators) and built-in
//! simulated entities for tests and examples, starting with a [`ConveyorDrive`].

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};
use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::error::{Error, Result};
use crate::sample::{SampleBatch, SignalId, Timestamp};
use crate::schema::{CommandSpec, Schema, SignalSpec};

pub use crate::physics::{BatteryCell, PumpDrive, ThermalMass, WindTurbine};

/// A physical asset, real or simulated: it moves through time, its sensors produce samples
/// and its actuators take commands.
///
/// A driver for real hardware implements this over its fieldbus; the built-in simulated
/// entities implement it with physics and seeded noise.
pub trait PhysicalEntity {
    /// The schema its samples and commands follow.
    fn schema(&self) -> &Schema;
    /// The entity's current time.
    fn now(&self) -> Timestamp;
    /// Let `dt_s` seconds of physical time pass.
    fn advance(&mut self, dt_s: f64) -> Result<()>;
    /// Read every sensor at the current time, appending the samples to `out`.
    fn sense(&mut self, out: &mut SampleBatch);
    /// Carry out a command on an actuator.
    fn actuate(&mut self, command: &Command) -> Result<()>;
    /// Whether the entity has failed (stopped working).
    fn failed(&self) -> bool;
}

/// Serde form of a seeded ChaCha generator: its seed, stream and word position, so a
/// restored entity (or particle filter) continues exactly the same random sequence.
pub(crate) mod rng_serde {
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RngState {
        seed: Vec<u8>,
        stream: u64,
        word_pos_hi: u64,
        word_pos_lo: u64,
    }

    /// Write the generator's position.
    pub(crate) fn serialize<S: Serializer>(
        rng: &ChaCha8Rng,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let pos = rng.get_word_pos();
        RngState {
            seed: rng.get_seed().to_vec(),
            stream: rng.get_stream(),
            word_pos_hi: (pos >> 64) as u64,
            word_pos_lo: pos as u64,
        }
        .serialize(s)
    }

    /// Rebuild a generator at the saved position.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<ChaCha8Rng, D::Error> {
        let st = RngState::deserialize(d)?;
        let seed: [u8; 32] = st.seed.as_slice().try_into().map_err(|_| {
            serde::de::Error::custom("the random generator seed must have 32 bytes")
        })?;
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(st.stream);
        rng.set_word_pos(((st.word_pos_hi as u128) << 64) | st.word_pos_lo as u128);
        Ok(rng)
    }
}

/// Design parameters of a simulated [`ConveyorDrive`].
///
/// Bearing wear `w` grows from 0 (new) to 1 (failed) as
/// `dw/dt = wear_rate * (load / nominal_load)^1.5 * (speed / nominal_speed)^2 * (1 + 2w)`,
/// so it accelerates as the bearing degrades and slows when the belt is derated.
/// Vibration (RMS velocity) is `(base_vibration + wear_vibration * w^2) * speed / nominal_speed`
/// plus noise, with bearing-defect impacts whose rate grows with `w^3`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConveyorConfig {
    /// Nominal belt speed in m/s.
    pub nominal_speed: f64,
    /// Nominal load as a fraction of rated load.
    pub nominal_load: f64,
    /// Amplitude of the daily load cycle (fraction of rated load).
    pub load_swing: f64,
    /// Wear per second at nominal speed and load with a new bearing.
    pub wear_rate: f64,
    /// Spread of the unit's wear rate: log-normal sigma drawn once per seed.
    pub wear_rate_spread: f64,
    /// Vibration of a healthy drive at nominal speed, mm/s.
    pub base_vibration: f64,
    /// Extra vibration at full wear, mm/s.
    pub wear_vibration: f64,
    /// Standard deviation of vibration noise, mm/s.
    pub vibration_noise: f64,
    /// Ambient temperature, degrees Celsius.
    pub ambient_temp: f64,
    /// Time constant of the belt speed following its set-point, s.
    pub speed_tau_s: f64,
    /// Thermal time constant of the motor, s.
    pub thermal_tau_s: f64,
}

impl Default for ConveyorConfig {
    fn default() -> Self {
        // ln(3) / (2 * 30 days): a unit at nominal duty fails after about 30 days.
        ConveyorConfig {
            nominal_speed: 2.0,
            nominal_load: 0.7,
            load_swing: 0.15,
            wear_rate: 3f64.ln() / (2.0 * 30.0 * 86_400.0),
            wear_rate_spread: 0.15,
            base_vibration: 1.2,
            wear_vibration: 6.0,
            vibration_noise: 0.1,
            ambient_temp: 25.0,
            speed_tau_s: 5.0,
            thermal_tau_s: 600.0,
        }
    }
}

impl ConveyorConfig {
    fn validate(&self) -> Result<()> {
        let positive = [
            ("nominal_speed", self.nominal_speed),
            ("nominal_load", self.nominal_load),
            ("wear_rate", self.wear_rate),
            ("speed_tau_s", self.speed_tau_s),
            ("thermal_tau_s", self.thermal_tau_s),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{name} must be finite and positive, got {v}"
                )));
            }
        }
        let non_negative = [
            ("load_swing", self.load_swing),
            ("wear_rate_spread", self.wear_rate_spread),
            ("base_vibration", self.base_vibration),
            ("wear_vibration", self.wear_vibration),
            ("vibration_noise", self.vibration_noise),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{name} must be finite and non-negative, got {v}"
                )));
            }
        }
        if !self.ambient_temp.is_finite() {
            return Err(Error::InvalidInput("ambient_temp must be finite".into()));
        }
        Ok(())
    }

    /// Wear growth per second at wear `w`, speed `v` and load `l`.
    pub fn wear_growth(&self, rate: f64, w: f64, v: f64, l: f64) -> f64 {
        let ls = (l.max(0.0) / self.nominal_load).powf(1.5);
        let vs = (v.max(0.0) / self.nominal_speed).powi(2);
        rate * ls * vs * (1.0 + 2.0 * w)
    }

    /// Mean vibration (without noise and impacts) at wear `w` and speed `v`.
    pub fn vibration(&self, w: f64, v: f64) -> f64 {
        (self.base_vibration + self.wear_vibration * w * w) * v.max(0.0) / self.nominal_speed
    }

    /// Mean daily load cycle at time `t_s` seconds.
    pub fn load_at(&self, t_s: f64) -> f64 {
        let day = 86_400.0;
        self.nominal_load + self.load_swing * (std::f64::consts::TAU * t_s / day).sin()
    }
}

/// A simulated conveyor drive: belt speed, vibration, motor temperature and load sensors,
/// a speed set-point actuator, and a bearing that wears with load and speed until it fails.
///
/// Deterministic for a seed: two drives with the same seed and the same commands produce
/// the same samples.
///
/// ```
/// use twin::entity::{ConveyorDrive, PhysicalEntity};
/// let mut a = ConveyorDrive::new(7);
/// let mut b = ConveyorDrive::new(7);
/// let (mut sa, mut sb) = (twin::SampleBatch::new(), twin::SampleBatch::new());
/// for _ in 0..10 {
///     a.advance(60.0)?;
///     b.advance(60.0)?;
///     a.sense(&mut sa);
///     b.sense(&mut sb);
/// }
/// assert_eq!(sa, sb);
/// # Ok::<(), twin::Error>(())
/// ```
///
/// It serializes with serde (JSON) to its full state (wear, unit variation, set-point,
/// time and the noise generator's position), so a restored drive continues with exactly
/// the same samples. The schema and ids are the standard ones and are not stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConveyorDrive {
    config: ConveyorConfig,
    #[serde(skip, default = "ConveyorDrive::standard_schema")]
    schema: Schema,
    #[serde(skip, default = "standard_conveyor_ids")]
    ids: ConveyorIds,
    #[serde(with = "rng_serde")]
    rng: ChaCha8Rng,
    time_s: f64,
    unit_wear_rate: f64,
    wear: f64,
    speed: f64,
    setpoint: f64,
    load: f64,
    motor_temp: f64,
}

/// The dense ids of the conveyor's standard schema, resolved once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConveyorIds {
    /// Belt speed, m/s.
    pub belt_speed: SignalId,
    /// Vibration RMS velocity, mm/s.
    pub vibration: SignalId,
    /// Motor winding temperature, degrees Celsius.
    pub motor_temp: SignalId,
    /// Load as a fraction of rated load.
    pub load: SignalId,
    /// The speed set-point property.
    pub speed_setpoint: SignalId,
}

/// The ids of [`ConveyorDrive::standard_schema`] (a restored drive's).
fn standard_conveyor_ids() -> ConveyorIds {
    match ConveyorIds::resolve(&ConveyorDrive::standard_schema()) {
        Ok(ids) => ids,
        Err(e) => unreachable!("the conveyor's standard schema lacks a signal: {e}"),
    }
}

impl ConveyorIds {
    /// Resolve the ids from a schema that has the conveyor's signals.
    pub fn resolve(schema: &Schema) -> Result<Self> {
        Ok(ConveyorIds {
            belt_speed: schema.signal_id("belt_speed")?,
            vibration: schema.signal_id("vibration")?,
            motor_temp: schema.signal_id("motor_temp")?,
            load: schema.signal_id("load")?,
            speed_setpoint: schema.signal_id("speed_setpoint")?,
        })
    }
}

impl ConveyorDrive {
    /// The conveyor's standard schema.
    ///
    /// Vibration's high alarm of 4.5 mm/s is the zone C/D boundary of ISO 10816-3 for
    /// medium machines on rigid foundations.
    pub fn standard_schema() -> Schema {
        let built = Schema::builder("conveyor_drive")
            .telemetry(
                SignalSpec::new("belt_speed", "m/s")
                    .range(0.0, 5.0)
                    .alarm_low(0.2),
            )
            .telemetry(
                SignalSpec::new("vibration", "mm/s")
                    .range(0.0, 100.0)
                    .alarm_high(4.5),
            )
            .telemetry(
                SignalSpec::new("motor_temp", "degC")
                    .range(-40.0, 200.0)
                    .alarm_high(90.0),
            )
            .telemetry(SignalSpec::new("load", "1").range(0.0, 2.0).alarm_high(1.2))
            .property(SignalSpec::new("speed_setpoint", "m/s").range(0.0, 3.0))
            .command(
                CommandSpec::new("set_speed", "m/s", 0.0, 2.5)
                    .max_rate(0.05)
                    .min_interval(1.0)
                    .property("speed_setpoint"),
            )
            .build();
        match built {
            Ok(s) => s,
            // The literal schema above is valid; a failure here is a bug in this crate.
            Err(e) => unreachable!("the conveyor's standard schema is invalid: {e}"),
        }
    }

    /// A drive with the default configuration and a seed for its noise and unit variation.
    pub fn new(seed: u64) -> Self {
        match Self::with_config(seed, ConveyorConfig::default()) {
            Ok(d) => d,
            Err(e) => unreachable!("the default conveyor configuration is invalid: {e}"),
        }
    }

    /// A drive with a given configuration; fails if a parameter is invalid.
    ///
    /// ```
    /// use twin::entity::{ConveyorConfig, ConveyorDrive};
    /// let cfg = ConveyorConfig { wear_rate: -1.0, ..ConveyorConfig::default() };
    /// assert!(ConveyorDrive::with_config(1, cfg).is_err());
    /// ```
    pub fn with_config(seed: u64, config: ConveyorConfig) -> Result<Self> {
        config.validate()?;
        let schema = Self::standard_schema();
        let ids = ConveyorIds::resolve(&schema)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let z: f64 = StandardNormal.sample(&mut rng);
        let unit_wear_rate = config.wear_rate * (config.wear_rate_spread * z).exp();
        let speed = config.nominal_speed;
        let load = config.load_at(0.0);
        let motor_temp = config.ambient_temp + 30.0 * load;
        Ok(ConveyorDrive {
            config,
            schema,
            ids,
            rng,
            time_s: 0.0,
            unit_wear_rate,
            wear: 0.0,
            speed,
            setpoint: speed,
            load,
            motor_temp,
        })
    }

    /// The drive's configuration.
    pub fn config(&self) -> &ConveyorConfig {
        &self.config
    }

    /// The resolved ids of the drive's signals.
    pub fn ids(&self) -> ConveyorIds {
        self.ids
    }

    /// True bearing wear, from 0 (new) to 1 (failed). A real asset hides this; the
    /// simulation shows it so tests can check what the twin estimates.
    pub fn wear(&self) -> f64 {
        self.wear
    }

    /// The current speed set-point, m/s.
    pub fn setpoint(&self) -> f64 {
        self.setpoint
    }

    fn normal(&mut self) -> f64 {
        StandardNormal.sample(&mut self.rng)
    }
}

impl PhysicalEntity for ConveyorDrive {
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
        let noise = self.normal();
        let c = &self.config;
        let target = if self.wear >= 1.0 { 0.0 } else { self.setpoint };
        // Exact first-order responses over the step.
        self.speed += (target - self.speed) * (1.0 - (-dt_s / c.speed_tau_s).exp());
        self.load = (c.load_at(self.time_s + dt_s) + 0.03 * noise).clamp(0.0, 2.0);
        let heat = 30.0 * self.load * self.speed / c.nominal_speed + 15.0 * self.wear;
        let t_target = c.ambient_temp + heat;
        self.motor_temp += (t_target - self.motor_temp) * (1.0 - (-dt_s / c.thermal_tau_s).exp());
        if self.wear < 1.0 {
            let g = c.wear_growth(self.unit_wear_rate, self.wear, self.speed, self.load);
            self.wear = (self.wear + g * dt_s).min(1.0);
        }
        self.time_s += dt_s;
        Ok(())
    }

    fn sense(&mut self, out: &mut SampleBatch) {
        let t = self.now();
        let (n1, n2, n3, n4) = (self.normal(), self.normal(), self.normal(), self.normal());
        let c = &self.config;
        let mut vib = c.vibration(self.wear, self.speed) + c.vibration_noise * n2;
        // Bearing-defect impacts: rare while new, frequent when worn.
        let impact_p = 0.3 * self.wear.powi(3);
        let u: f64 = StandardUniform.sample(&mut self.rng);
        if u < impact_p {
            vib += (1.5 + 0.5 * n4.abs()) * self.speed / c.nominal_speed;
        }
        out.push(
            t,
            self.ids.belt_speed,
            (self.speed + 0.005 * n1).clamp(0.0, 5.0),
        );
        out.push(t, self.ids.vibration, vib.clamp(0.0, 100.0));
        out.push(t, self.ids.motor_temp, self.motor_temp + 0.3 * n3);
        out.push(t, self.ids.load, self.load);
        out.push(t, self.ids.speed_setpoint, self.setpoint);
    }

    fn actuate(&mut self, command: &Command) -> Result<()> {
        if command.name() != "set_speed" {
            return Err(Error::UnknownSignal(format!("command {}", command.name())));
        }
        let v = command.value();
        if !(v.is_finite() && (0.0..=3.0).contains(&v)) {
            return Err(Error::OutOfRange {
                name: "set_speed".into(),
                value: v,
                min: 0.0,
                max: 3.0,
            });
        }
        self.setpoint = v;
        Ok(())
    }

    fn failed(&self) -> bool {
        self.wear >= 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_drive_continues_with_the_same_samples() {
        let mut a = ConveyorDrive::new(11);
        let mut scan = SampleBatch::new();
        for _ in 0..50 {
            a.advance(600.0).expect("advance");
            a.sense(&mut scan);
        }
        let json = serde_json::to_string(&a).expect("serialize");
        let mut b: ConveyorDrive = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(b.wear(), a.wear());
        let (mut sa, mut sb) = (SampleBatch::new(), SampleBatch::new());
        for _ in 0..50 {
            a.advance(600.0).expect("advance");
            b.advance(600.0).expect("advance");
            a.sense(&mut sa);
            b.sense(&mut sb);
        }
        assert!(!sa.is_empty());
        assert_eq!(sa, sb);
        assert_eq!(a.now(), b.now());
    }

    fn run_to_failure(seed: u64, speed: f64) -> f64 {
        let cfg = ConveyorConfig {
            nominal_speed: speed,
            ..ConveyorConfig::default()
        };
        let mut d = ConveyorDrive::with_config(seed, cfg).expect("valid");
        d.setpoint = 2.0;
        d.speed = 2.0;
        while !d.failed() {
            d.advance(600.0).expect("advance");
        }
        d.time_s
    }

    #[test]
    fn default_unit_lives_about_thirty_days() {
        // Closed form with constant duty: t = ln(3) / (2 * rate); the load cycle and unit
        // spread move it by a few days at most.
        let days: Vec<f64> = (0..20).map(|s| run_to_failure(s, 2.0) / 86_400.0).collect();
        let mean = days.iter().sum::<f64>() / days.len() as f64;
        assert!((25.0..36.0).contains(&mean), "mean life {mean} days");
        assert!(
            days.iter().any(|&d| (d - mean).abs() > 0.5),
            "units vary: {days:?}"
        );
    }

    #[test]
    fn derating_extends_life() {
        // nominal_speed 2.5 makes 2.0 m/s a derated duty of 0.8^2 = 0.64 of the wear rate.
        let nominal = run_to_failure(3, 2.0);
        let derated = run_to_failure(3, 2.5);
        let ratio = derated / nominal;
        assert!((1.45..1.7).contains(&ratio), "life ratio {ratio}");
    }

    #[test]
    fn sensors_follow_the_schema() {
        let mut d = ConveyorDrive::new(1);
        let mut b = SampleBatch::new();
        d.advance(60.0).expect("advance");
        d.sense(&mut b);
        assert_eq!(b.len(), 5);
        let s = d.schema().clone();
        for x in b.iter() {
            let spec = s.signal(x.signal).expect("known");
            assert!(
                x.value >= spec.min.unwrap_or(f64::MIN) && x.value <= spec.max.unwrap_or(f64::MAX)
            );
        }
    }
}
