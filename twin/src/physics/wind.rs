//! A wind turbine: power curve with cut-in, rated and cut-out speeds, and blade-root
//! fatigue by Miner's rule with an S-N curve under a Weibull wind-speed distribution.
//!
//! Power is `P = Pr min((v³ − vci³) / (vr³ − vci³), d)` for `vci ≤ v < vco` and 0
//! otherwise, where `d` in (0, 1] is the derate (the power cap as a fraction of rated).
//! The flapwise stress range follows thrust, `S ∝ v²`, until the power cap is reached at
//! `vd = (vci³ + d (vr³ − vci³))^(1/3)`, after which pitch control holds it:
//! `S / Sr = (min(v, vd) / vr)²`, with `Sr` the stress range at rated wind. A parked or
//! idling rotor (outside `[vci, vco)`) is taken to add no fatigue. With the S-N curve
//! `N(S) = Nr (S / Sr)^(−m)` and `f` stress cycles a second, Miner's rule gives the
//! damage rate at wind `v`: `f (S / Sr)^m / Nr`; the blade fails when the damage reaches
//! one. The expected rate under the Weibull wind distribution `p(v)` is
//! `f / Nr ∫ (S(v) / Sr)^m p(v) dv`, computed by composite Simpson quadrature on both
//! sides of `vd`.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};
use serde::{Deserialize, Serialize};

use super::{literal, non_negative, positive, secs_since};
use crate::command::Command;
use crate::entity::PhysicalEntity;
use crate::error::{Error, Result};
use crate::model::DigitalModel;
use crate::sample::{BatchRef, SampleBatch, SignalId, Timestamp};
use crate::schema::{CommandSpec, Schema, SignalSpec};
use crate::whatif::ForwardModel;

/// Design and site of a wind turbine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindConfig {
    /// Cut-in wind speed, m/s.
    pub cut_in: f64,
    /// Rated wind speed, m/s.
    pub rated_speed: f64,
    /// Cut-out wind speed, m/s.
    pub cut_out: f64,
    /// Rated power, W.
    pub rated_power: f64,
    /// Weibull shape `k` of the site's wind (2: Rayleigh).
    pub weibull_shape: f64,
    /// Weibull scale `λ` of the site's wind, m/s.
    pub weibull_scale: f64,
    /// S-N exponent `m` (about 10 for glass-fibre composites).
    pub sn_exponent: f64,
    /// Cycles to failure at the rated stress range `Nr`.
    pub sn_cycles: f64,
    /// Log-normal sigma of `Nr` (the S-N scatter between blades).
    pub sn_spread: f64,
    /// Stress cycles per second `f` (about once a rotor revolution).
    pub cycle_rate: f64,
    /// Seconds a simulated wind speed holds (the usual 10-minute mean).
    pub wind_period_s: f64,
}

impl Default for WindConfig {
    fn default() -> Self {
        // Nr puts the design life near 20 years on the default Rayleigh site.
        WindConfig {
            cut_in: 3.0,
            rated_speed: 12.0,
            cut_out: 25.0,
            rated_power: 2.0e6,
            weibull_shape: 2.0,
            weibull_scale: 8.0,
            sn_exponent: 10.0,
            sn_cycles: 2.5e7,
            sn_spread: 0.3,
            cycle_rate: 0.3,
            wind_period_s: 600.0,
        }
    }
}

/// Points per side of the kink in the Simpson quadrature (even).
const QUAD_POINTS: usize = 400;

fn simpson(a: f64, b: f64, n: usize, f: impl Fn(f64) -> f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

impl WindConfig {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        positive(&[
            ("cut_in", self.cut_in),
            ("rated_speed", self.rated_speed),
            ("cut_out", self.cut_out),
            ("rated_power", self.rated_power),
            ("weibull_shape", self.weibull_shape),
            ("weibull_scale", self.weibull_scale),
            ("sn_exponent", self.sn_exponent),
            ("sn_cycles", self.sn_cycles),
            ("cycle_rate", self.cycle_rate),
            ("wind_period_s", self.wind_period_s),
        ])?;
        non_negative(&[("sn_spread", self.sn_spread)])?;
        if !(self.cut_in < self.rated_speed && self.rated_speed < self.cut_out) {
            return Err(Error::InvalidInput(
                "wind speeds must satisfy cut_in < rated_speed < cut_out".into(),
            ));
        }
        Ok(())
    }

    /// The wind speed at which derate `d` caps the power, m/s.
    pub fn derated_speed(&self, d: f64) -> f64 {
        let (ci3, r3) = (self.cut_in.powi(3), self.rated_speed.powi(3));
        (ci3 + d.clamp(0.0, 1.0) * (r3 - ci3)).cbrt()
    }

    /// Electrical power at wind `v` and derate `d`, W.
    ///
    /// ```
    /// let c = twin::physics::WindConfig::default();
    /// assert_eq!(c.power(2.0, 1.0), 0.0);
    /// assert_eq!(c.power(15.0, 1.0), 2.0e6);
    /// assert_eq!(c.power(15.0, 0.5), 1.0e6);
    /// assert_eq!(c.power(26.0, 1.0), 0.0);
    /// ```
    pub fn power(&self, v: f64, d: f64) -> f64 {
        if !(v >= self.cut_in && v < self.cut_out) {
            return 0.0;
        }
        let (ci3, r3) = (self.cut_in.powi(3), self.rated_speed.powi(3));
        self.rated_power * ((v.powi(3) - ci3) / (r3 - ci3)).min(d.clamp(0.0, 1.0))
    }

    /// Stress range relative to rated, `S / Sr`, at wind `v` and derate `d`.
    pub fn stress_ratio(&self, v: f64, d: f64) -> f64 {
        if !(v >= self.cut_in && v < self.cut_out) {
            return 0.0;
        }
        let r = v.min(self.derated_speed(d)) / self.rated_speed;
        r * r
    }

    /// Miner damage per second at wind `v` and derate `d` with `Nr` cycles.
    pub fn damage_per_second(&self, v: f64, d: f64, sn_cycles: f64) -> f64 {
        self.cycle_rate * self.stress_ratio(v, d).powf(self.sn_exponent) / sn_cycles
    }

    /// Weibull density of wind speed `v` with scale `scale`.
    pub fn wind_pdf(&self, v: f64, scale: f64) -> f64 {
        if v <= 0.0 {
            return 0.0;
        }
        let k = self.weibull_shape;
        let x = v / scale;
        k / scale * x.powf(k - 1.0) * (-x.powf(k)).exp()
    }

    /// `f E[(S/Sr)^(j m)]` for `j = 1, 2` under the Weibull wind with scale `scale` and
    /// derate `d`: the first two moments of the damage per second, times `Nr` and `Nr²`.
    pub fn damage_moments(&self, d: f64, scale: f64) -> (f64, f64) {
        let vd = self.derated_speed(d).min(self.cut_out);
        let m = self.sn_exponent;
        let moment = |j: f64| {
            let g = |v: f64| self.stress_ratio(v, d).powf(j * m) * self.wind_pdf(v, scale);
            // Constant stress above vd: integrate the density there in closed form.
            let k = self.weibull_shape;
            let cdf = |v: f64| 1.0 - (-(v / scale).powf(k)).exp();
            let capped = self.stress_ratio(vd, d).powf(j * m) * (cdf(self.cut_out) - cdf(vd));
            simpson(self.cut_in, vd, QUAD_POINTS, g) + capped
        };
        (
            self.cycle_rate * moment(1.0),
            self.cycle_rate * self.cycle_rate * moment(2.0),
        )
    }

    /// Expected damage per second at derate `d` on the site's wind.
    ///
    /// ```
    /// let c = twin::physics::WindConfig::default();
    /// let life_years = 1.0 / c.expected_damage_rate(1.0) / (365.25 * 86_400.0);
    /// assert!((life_years - 20.0).abs() < 0.5);
    /// assert!(c.expected_damage_rate(0.7) < 0.5 * c.expected_damage_rate(1.0));
    /// ```
    pub fn expected_damage_rate(&self, d: f64) -> f64 {
        self.damage_moments(d, self.weibull_scale).0 / self.sn_cycles
    }

    /// Mean electrical power at derate `d` under the Weibull wind with scale `scale`, W.
    ///
    /// ```
    /// let c = twin::physics::WindConfig::default();
    /// let full = c.expected_power(1.0, c.weibull_scale);
    /// assert!(full > 0.3 * c.rated_power && full < 0.5 * c.rated_power);
    /// assert!(c.expected_power(0.7, c.weibull_scale) < full);
    /// ```
    pub fn expected_power(&self, d: f64, scale: f64) -> f64 {
        let vd = self.derated_speed(d).min(self.cut_out);
        let k = self.weibull_shape;
        let cdf = |v: f64| 1.0 - (-(v / scale).powf(k)).exp();
        let capped = self.power(vd, d) * (cdf(self.cut_out) - cdf(vd));
        simpson(self.cut_in, vd, QUAD_POINTS, |v| {
            self.power(v, d) * self.wind_pdf(v, scale)
        }) + capped
    }

    /// A wind speed drawn from the site's Weibull distribution with scale `scale`, from a
    /// uniform `u` in [0, 1).
    pub fn wind_from_uniform(&self, u: f64, scale: f64) -> f64 {
        scale * (-(1.0 - u).ln()).powf(1.0 / self.weibull_shape)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Ids {
    wind_speed: SignalId,
    power: SignalId,
    derate: SignalId,
}

/// The ids of [`WindTurbine::standard_schema`] (a restored entity's).
fn standard_ids() -> Ids {
    match Ids::resolve(&WindTurbine::standard_schema()) {
        Ok(ids) => ids,
        Err(e) => unreachable!("the standard schema lacks a signal: {e}"),
    }
}

impl Ids {
    fn resolve(schema: &Schema) -> Result<Self> {
        Ok(Ids {
            wind_speed: schema.signal_id("wind_speed")?,
            power: schema.signal_id("power")?,
            derate: schema.signal_id("derate")?,
        })
    }
}

/// A simulated wind turbine: each advance draws a fresh wind speed from the site's
/// Weibull distribution (10-minute means are taken as independent) and accumulates blade
/// damage by Miner's rule at that wind. The anemometer reports the wind of the last step.
///
/// It serializes with serde (JSON) to its full state, including the noise generator's
/// position, so a restored entity continues with exactly the same samples; the schema
/// and ids are the standard ones and are not stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindTurbine {
    config: WindConfig,
    #[serde(skip, default = "WindTurbine::standard_schema")]
    schema: Schema,
    #[serde(skip, default = "standard_ids")]
    ids: Ids,
    #[serde(with = "crate::entity::rng_serde")]
    rng: ChaCha8Rng,
    time_s: f64,
    unit_cycles: f64,
    wind: f64,
    derate: f64,
    damage: f64,
}

impl WindTurbine {
    /// The turbine's standard schema: `wind_speed` (m/s) and `power` (W) telemetry, the
    /// `derate` property and the `set_derate` command (0.3 to 1, at most 0.01 a second,
    /// at least a minute apart).
    pub fn standard_schema() -> Schema {
        literal(
            Schema::builder("wind_turbine")
                .telemetry(SignalSpec::new("wind_speed", "m/s").range(0.0, 80.0))
                .telemetry(SignalSpec::new("power", "W").range(0.0, 2.0e7))
                .property(SignalSpec::new("derate", "1").range(0.0, 1.0))
                .command(
                    CommandSpec::new("set_derate", "1", 0.3, 1.0)
                        .max_rate(0.01)
                        .min_interval(60.0)
                        .property("derate"),
                )
                .build(),
        )
    }

    /// A new turbine at full power; the seed draws its blades' S-N life and the wind.
    pub fn new(seed: u64, config: WindConfig) -> Result<Self> {
        config.validate()?;
        let schema = Self::standard_schema();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let z: f64 = StandardNormal.sample(&mut rng);
        Ok(WindTurbine {
            ids: Ids::resolve(&schema)?,
            schema,
            rng,
            time_s: 0.0,
            unit_cycles: config.sn_cycles * (config.sn_spread * z).exp(),
            wind: 0.0,
            derate: 1.0,
            damage: 0.0,
            config,
        })
    }

    /// True accumulated blade damage (Miner sum).
    pub fn damage(&self) -> f64 {
        self.damage
    }

    /// The unit's own cycles to failure at rated stress.
    pub fn unit_cycles(&self) -> f64 {
        self.unit_cycles
    }

    /// The design and site.
    pub fn config(&self) -> &WindConfig {
        &self.config
    }
}

impl PhysicalEntity for WindTurbine {
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
        let u: f64 = StandardUniform.sample(&mut self.rng);
        self.wind = self
            .config
            .wind_from_uniform(u, self.config.weibull_scale)
            .min(80.0);
        self.damage += dt_s
            * self
                .config
                .damage_per_second(self.wind, self.derate, self.unit_cycles);
        self.time_s += dt_s;
        Ok(())
    }
    fn sense(&mut self, out: &mut SampleBatch) {
        let t = self.now();
        out.push(t, self.ids.wind_speed, self.wind);
        out.push(t, self.ids.power, self.config.power(self.wind, self.derate));
        out.push(t, self.ids.derate, self.derate);
    }
    fn actuate(&mut self, command: &Command) -> Result<()> {
        if command.name() != "set_derate" {
            return Err(Error::UnknownSignal(format!("command {}", command.name())));
        }
        let v = command.value();
        if !(v.is_finite() && (0.3..=1.0).contains(&v)) {
            return Err(Error::OutOfRange {
                name: "set_derate".into(),
                value: v,
                min: 0.3,
                max: 1.0,
            });
        }
        self.derate = v;
        Ok(())
    }
    fn failed(&self) -> bool {
        self.damage >= 1.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WindEstimate {
    damage: f64,
    derate: f64,
    last: Option<i64>,
}

/// The twin's blade-fatigue model: accumulates Miner damage from the measured wind (each
/// reading stands for the interval since the previous one) with the design S-N curve,
/// and runs forward at the expected damage rate of the site's wind distribution.
#[derive(Debug, Clone)]
pub struct WindTurbineModel {
    config: WindConfig,
    ids: Ids,
    est: WindEstimate,
}

impl WindTurbineModel {
    /// A model of a new turbine for a schema with the turbine's signals.
    pub fn new(schema: &Schema, config: WindConfig) -> Result<Self> {
        config.validate()?;
        Ok(WindTurbineModel {
            ids: Ids::resolve(schema)?,
            est: WindEstimate {
                damage: 0.0,
                derate: 1.0,
                last: None,
            },
            config,
        })
    }
}

impl DigitalModel for WindTurbineModel {
    fn name(&self) -> &str {
        "wind_turbine_model"
    }
    fn assimilate(&mut self, batch: BatchRef<'_>) {
        for s in batch.iter() {
            if s.signal == self.ids.derate {
                self.est.derate = s.value;
            } else if s.signal == self.ids.wind_speed {
                let dt = secs_since(self.est.last, s.time.0);
                self.est.last = Some(s.time.0);
                self.est.damage += dt
                    * self.config.damage_per_second(
                        s.value,
                        self.est.derate,
                        self.config.sn_cycles,
                    );
            }
        }
    }
    fn apply(&mut self, command: &Command) {
        if command.name() == "set_derate" {
            self.est.derate = command.value();
        }
    }
    fn advance(&mut self, dt_s: f64) {
        if dt_s.is_finite() && dt_s > 0.0 {
            self.est.damage += dt_s * self.config.expected_damage_rate(self.est.derate);
        }
    }
    fn estimate(&self, name: &str) -> Option<f64> {
        match name {
            "damage" => Some(self.est.damage),
            "derate" => Some(self.est.derate),
            "damage_rate" => Some(self.config.expected_damage_rate(self.est.derate)),
            _ => None,
        }
    }
    fn failed(&self) -> bool {
        self.est.damage >= 1.0
    }
    fn clone_box(&self) -> Box<dyn DigitalModel> {
        Box::new(self.clone())
    }
    fn forward(&self) -> Option<Box<dyn ForwardModel>> {
        Some(Box::new(WindForward {
            config: self.config.clone(),
            damage: self.est.damage,
            derate: self.est.derate,
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

/// Blade fatigue as a [`ForwardModel`]: state `[damage]`, inputs `[derate, wind_scale]`
/// (the Weibull scale, so a scenario can try a windier season), parameter `[sn_cycles]`
/// (log-normal with the S-N scatter; a path's damage so far is rescaled to its own S-N
/// life). The damage of a step has the mean and variance of
/// the sum of its independent 10-minute winds, drawn as a log-normal; with no process
/// noise a step adds exactly the expected damage.
#[derive(Debug, Clone)]
pub struct WindForward {
    config: WindConfig,
    damage: f64,
    derate: f64,
}

impl ForwardModel for WindForward {
    fn name(&self) -> &str {
        "wind_turbine_model"
    }
    fn state_names(&self) -> &[&'static str] {
        &["damage"]
    }
    fn input_names(&self) -> &[&'static str] {
        &["derate", "wind_scale"]
    }
    fn parameter_names(&self) -> &[&'static str] {
        &["sn_cycles"]
    }
    fn initial_state(&self, x: &mut [f64]) {
        x[0] = self.damage;
    }
    fn current_inputs(&self, u: &mut [f64]) {
        u[0] = self.derate;
        u[1] = self.config.weibull_scale;
    }
    fn parameters(&self, p: &mut [f64]) {
        p[0] = self.config.sn_cycles;
    }
    fn uncertainty_dims(&self) -> usize {
        1
    }
    fn perturb(&self, z: &[f64], p: &mut [f64], x: &mut [f64]) {
        // A blade with another S-N life has also taken another share of its life so far:
        // the damage counted with the design's Nr scales by Nr / N.
        let f = (self.config.sn_spread * z[0]).exp();
        p[0] *= f;
        x[0] /= f;
    }
    fn aux_dims(&self) -> usize {
        2
    }
    fn prepare(&self, u: &mut [f64]) {
        let scale = if u[1] > 0.0 { u[1] } else { f64::NAN };
        let (m1, m2) = self.config.damage_moments(u[0], scale);
        u[2] = m1;
        u[3] = m2;
    }
    fn noise_dims(&self) -> usize {
        1
    }
    fn step(&self, p: &[f64], x: &mut [f64], u: &[f64], dt_s: f64, z: &[f64], scale: f64) {
        let (m1, m2) = (u[2], u[3]);
        if m1 <= 0.0 {
            return;
        }
        let mean = m1 * dt_s / p[0];
        let periods = (dt_s / self.config.wind_period_s).max(1.0);
        let cv2 = ((m2 / (m1 * m1) - 1.0).max(0.0) / periods) * scale * scale;
        let s2 = cv2.ln_1p();
        x[0] += mean * (s2.sqrt() * z[0] - 0.5 * s2).exp();
    }
    fn failed(&self, x: &[f64], _u: &[f64]) -> bool {
        x[0] >= 1.0
    }
}
