//! Energy: current drawn per radio and CPU state, batteries (linear, Peukert, kinetic
//! battery model) and solar harvesting, all in closed form so a device's charge is brought
//! up to date only at its own events, and its depletion is a scheduled event.
//!
//! Units: currents in mA, charge in mAh, time in hours inside the battery formulas.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A battery model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum Battery {
    /// An ideal charge bucket: a constant `I` empties it after `capacity_mah / I` hours.
    Linear {
        /// Capacity, mAh.
        capacity_mah: f64,
    },
    /// Peukert's law: at constant `I` the battery lasts `H·(C/(I·H))^k` hours, where `C`
    /// is the capacity rated at the `H`-hour discharge rate. Implemented as an effective
    /// current `I·(I/I_rated)^(k-1)` with `I_rated = C/H` drawn from a linear bucket.
    Peukert {
        /// Rated capacity `C`, mAh.
        capacity_mah: f64,
        /// Peukert exponent `k` (1 is ideal, lead-acid 1.1-1.3).
        exponent: f64,
        /// The rating's discharge time `H`, hours (often 20).
        rated_hours: f64,
    },
    /// The kinetic battery model (Manwell and McGowan 1993, in the form of Jongerden and
    /// Haverkort 2009): charge sits in an available well `y1` (share `c`) and a bound well
    /// `y2`, with heights `h1 = y1/c`, `h2 = y2/(1-c)`;
    /// `dy1/dt = -I + k·(h2 - h1)`, `dy2/dt = -k·(h2 - h1)`. The battery is empty when
    /// the available well is, so heavy loads leave charge stranded in the bound well and a
    /// rest recovers some of it.
    Kibam {
        /// Total capacity, mAh.
        capacity_mah: f64,
        /// Share of the capacity in the available well, `0 < c < 1`.
        c: f64,
        /// Rate constant `k`, per hour.
        k_per_h: f64,
    },
}

/// A battery's state: `(a, b)` = (remaining charge, unused) for linear and Peukert,
/// (available `y1`, bound `y2`) for KiBaM, in mAh.
pub type BatteryState = (f64, f64);

impl Battery {
    /// Nominal capacity, mAh.
    pub fn capacity_mah(&self) -> f64 {
        match *self {
            Battery::Linear { capacity_mah }
            | Battery::Peukert { capacity_mah, .. }
            | Battery::Kibam { capacity_mah, .. } => capacity_mah,
        }
    }

    /// Check the parameters.
    pub fn validate(&self, field: &str) -> Result<()> {
        let cap = self.capacity_mah();
        if !(cap.is_finite() && cap > 0.0) {
            return Err(Error::InvalidInput(format!(
                "{field}.capacity_mah must be positive, got {cap} (a battery with no capacity)"
            )));
        }
        match *self {
            Battery::Linear { .. } => Ok(()),
            Battery::Peukert {
                exponent,
                rated_hours,
                ..
            } => {
                if !(exponent.is_finite() && exponent >= 1.0) {
                    return Err(Error::InvalidInput(format!(
                        "{field}.exponent must be at least 1, got {exponent}"
                    )));
                }
                if !(rated_hours.is_finite() && rated_hours > 0.0) {
                    return Err(Error::InvalidInput(format!(
                        "{field}.rated_hours must be positive, got {rated_hours}"
                    )));
                }
                Ok(())
            }
            Battery::Kibam { c, k_per_h, .. } => {
                if !(c > 0.0 && c < 1.0) {
                    return Err(Error::InvalidInput(format!(
                        "{field}.c must lie in (0, 1), got {c}"
                    )));
                }
                if !(k_per_h.is_finite() && k_per_h > 0.0) {
                    return Err(Error::InvalidInput(format!(
                        "{field}.k_per_h must be positive, got {k_per_h}"
                    )));
                }
                Ok(())
            }
        }
    }

    /// A full battery.
    pub fn full(&self) -> BatteryState {
        match *self {
            Battery::Linear { capacity_mah } | Battery::Peukert { capacity_mah, .. } => {
                (capacity_mah, 0.0)
            }
            Battery::Kibam {
                capacity_mah, c, ..
            } => (c * capacity_mah, (1.0 - c) * capacity_mah),
        }
    }

    /// The current the battery really loses when `current_ma` is drawn (Peukert's
    /// effective current; the current itself otherwise).
    pub fn effective_ma(&self, current_ma: f64) -> f64 {
        match *self {
            Battery::Peukert {
                capacity_mah,
                exponent,
                rated_hours,
            } if current_ma > 0.0 => {
                let rated = capacity_mah / rated_hours;
                current_ma * (current_ma / rated).powf(exponent - 1.0)
            }
            _ => current_ma,
        }
    }

    /// Draw a constant `current_ma` (negative charges) for `dt_h` hours. A linear or
    /// Peukert battery is capped at its capacity when charging.
    pub fn drain(&self, s: &mut BatteryState, current_ma: f64, dt_h: f64) {
        match *self {
            Battery::Linear { capacity_mah } | Battery::Peukert { capacity_mah, .. } => {
                s.0 = (s.0 - self.effective_ma(current_ma) * dt_h).min(capacity_mah);
            }
            Battery::Kibam {
                capacity_mah,
                c,
                k_per_h,
            } => {
                *s = kibam_step(*s, c, k_per_h, current_ma, dt_h);
                if s.0 + s.1 > capacity_mah {
                    // Charged past full: back to a full battery at equilibrium.
                    *s = (c * capacity_mah, (1.0 - c) * capacity_mah);
                }
            }
        }
    }

    /// Remove a short pulse of `charge_mah` at once (from the available well for KiBaM).
    pub fn pulse(&self, s: &mut BatteryState, charge_mah: f64, current_ma: f64) {
        match *self {
            Battery::Peukert { .. } if current_ma > 0.0 => {
                s.0 -= charge_mah * self.effective_ma(current_ma) / current_ma;
            }
            _ => s.0 -= charge_mah,
        }
    }

    /// Whether the battery can no longer supply the device.
    pub fn is_empty(&self, s: &BatteryState) -> bool {
        s.0 <= 0.0
    }

    /// Hours until empty at a constant `current_ma` from state `s`, or `None` if it never
    /// empties (no positive drain).
    ///
    /// ```
    /// use twin::sim::energy::Battery;
    /// let b = Battery::Peukert { capacity_mah: 1000.0, exponent: 1.2, rated_hours: 20.0 };
    /// // H (C / (I H))^k at I = 100 mA: 20 * (1000 / 2000)^1.2.
    /// let t = b.time_to_empty_h(&b.full(), 100.0).unwrap();
    /// assert!((t - 20.0 * 0.5f64.powf(1.2)).abs() < 1e-9);
    /// ```
    pub fn time_to_empty_h(&self, s: &BatteryState, current_ma: f64) -> Option<f64> {
        if current_ma <= 0.0 {
            return if self.is_empty(s) { Some(0.0) } else { None };
        }
        if s.0 <= 0.0 {
            return Some(0.0);
        }
        match *self {
            Battery::Linear { .. } | Battery::Peukert { .. } => {
                Some(s.0 / self.effective_ma(current_ma))
            }
            Battery::Kibam { c, k_per_h, .. } => {
                let y1_at = |t: f64| kibam_step(*s, c, k_per_h, current_ma, t).0;
                // The available well empties no later than the total does, unless the
                // available well is over-full; extend the bracket until it changes sign.
                let mut hi = (s.0 + s.1) / current_ma;
                let mut guard = 0;
                while y1_at(hi) > 0.0 && guard < 64 {
                    hi *= 2.0;
                    guard += 1;
                }
                // The first zero: scan for the first sign change, then bisect.
                let steps = 64;
                let mut lo = 0.0;
                let mut found = hi;
                for i in 1..=steps {
                    let t = hi * i as f64 / steps as f64;
                    if y1_at(t) <= 0.0 {
                        found = t;
                        break;
                    }
                    lo = t;
                }
                let mut hi = found;
                for _ in 0..100 {
                    let mid = 0.5 * (lo + hi);
                    if y1_at(mid) > 0.0 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                Some(hi)
            }
        }
    }
}

/// One closed-form KiBaM step at constant current `i` (mA) for `t` hours.
///
/// With `δ = h2 - h1` and `k' = k / (c (1 - c))`: `δ(t) = δ0·e^(-k't) + I/(c·k')·(1 -
/// e^(-k't))`, the total falls as `y0 - I·t`, and `y1 = c·(y0 - I·t - (1 - c)·δ(t))`.
pub fn kibam_step(s: BatteryState, c: f64, k: f64, i: f64, t: f64) -> BatteryState {
    let (y1, y2) = s;
    let kp = k / (c * (1.0 - c));
    let d0 = y2 / (1.0 - c) - y1 / c;
    let e = (-kp * t).exp();
    let d = d0 * e + i / (c * kp) * (1.0 - e);
    let total = y1 + y2 - i * t;
    let n1 = c * (total - (1.0 - c) * d);
    (n1, total - n1)
}

/// Solar harvesting: `peak_ma · max(0, sin(2π (t - sunrise_s) / day_s))`, a half-sine of
/// daylight in each day (the mean is `peak_ma / π`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Solar {
    /// Charging current at noon, mA.
    pub peak_ma: f64,
    /// Length of a day, seconds.
    #[serde(default = "day")]
    pub day_s: f64,
    /// Time of sunrise within the day, seconds.
    #[serde(default = "six_am")]
    pub sunrise_s: f64,
}

fn day() -> f64 {
    86_400.0
}
fn six_am() -> f64 {
    21_600.0
}

impl Solar {
    /// Charge harvested from 0 to `t_s`, mAh (closed form).
    pub fn cumulative_mah(&self, t_s: f64) -> f64 {
        let w = std::f64::consts::TAU / self.day_s;
        let phase = w * (t_s - self.sunrise_s);
        let start = w * (-self.sunrise_s);
        let f = |p: f64| {
            let n = (p / std::f64::consts::TAU).floor();
            let rem = p - n * std::f64::consts::TAU;
            let part = if rem < std::f64::consts::PI {
                1.0 - rem.cos()
            } else {
                2.0
            };
            2.0 * n + part
        };
        self.peak_ma / w * (f(phase) - f(start)) / 3600.0
    }

    /// Mean charging current, mA.
    pub fn mean_ma(&self) -> f64 {
        self.peak_ma / std::f64::consts::PI
    }
}

/// What a device draws: a current per radio and CPU state, the time each report and each
/// transmission spends in them, its battery and optional harvesting.
///
/// Between events the device sleeps; a report costs `cpu_ma · cpu_s` and each transmission
/// (first try or retry) `tx_ma · tx_s + rx_ma · rx_s + idle_ma · idle_s` (the receive window
/// for the acknowledgement). For LoRa devices `tx_s` is the time on air unless given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyConfig {
    /// Sleep current, mA.
    pub sleep_ma: f64,
    /// Idle (radio on, waiting) current, mA.
    #[serde(default)]
    pub idle_ma: f64,
    /// Receive current, mA.
    #[serde(default)]
    pub rx_ma: f64,
    /// Transmit current, mA.
    pub tx_ma: f64,
    /// CPU active current, mA.
    #[serde(default)]
    pub cpu_ma: f64,
    /// CPU time per report, s.
    #[serde(default)]
    pub cpu_s: f64,
    /// Transmit time per transmission, s (LoRa: time on air when absent; otherwise 0).
    #[serde(default)]
    pub tx_s: Option<f64>,
    /// Receive time per transmission, s.
    #[serde(default)]
    pub rx_s: f64,
    /// Idle time per transmission, s.
    #[serde(default)]
    pub idle_s: f64,
    /// The battery.
    pub battery: Battery,
    /// Optional solar harvesting.
    #[serde(default)]
    pub harvest: Option<Solar>,
}

impl EnergyConfig {
    /// Check the parameters.
    pub fn validate(&self, field: &str) -> Result<()> {
        let vals = [
            ("sleep_ma", self.sleep_ma),
            ("idle_ma", self.idle_ma),
            ("rx_ma", self.rx_ma),
            ("tx_ma", self.tx_ma),
            ("cpu_ma", self.cpu_ma),
            ("cpu_s", self.cpu_s),
            ("tx_s", self.tx_s.unwrap_or(0.0)),
            ("rx_s", self.rx_s),
            ("idle_s", self.idle_s),
        ];
        for (name, v) in vals {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{field}.{name} must be finite and non-negative, got {v}"
                )));
            }
        }
        if let Some(h) = &self.harvest {
            if !(h.peak_ma.is_finite()
                && h.peak_ma >= 0.0
                && h.day_s > 0.0
                && h.sunrise_s.is_finite())
            {
                return Err(Error::InvalidInput(format!(
                    "{field}.harvest: peak_ma must be non-negative and day_s positive"
                )));
            }
        }
        self.battery.validate(&format!("{field}.battery"))
    }

    /// Charge of one report's CPU work, mAh.
    pub fn report_mah(&self) -> f64 {
        self.cpu_ma * self.cpu_s / 3600.0
    }

    /// Charge of one transmission with `tx_s` seconds on air, mAh.
    pub fn transmission_mah(&self, tx_s: f64) -> f64 {
        (self.tx_ma * tx_s + self.rx_ma * self.rx_s + self.idle_ma * self.idle_s) / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RK4 integration of the KiBaM equations.
    fn kibam_rk4(s: BatteryState, c: f64, k: f64, i: f64, t: f64, n: usize) -> BatteryState {
        let f = |y: (f64, f64)| {
            let flow = k * (y.1 / (1.0 - c) - y.0 / c);
            (-i + flow, -flow)
        };
        let h = t / n as f64;
        let mut y = s;
        for _ in 0..n {
            let k1 = f(y);
            let k2 = f((y.0 + 0.5 * h * k1.0, y.1 + 0.5 * h * k1.1));
            let k3 = f((y.0 + 0.5 * h * k2.0, y.1 + 0.5 * h * k2.1));
            let k4 = f((y.0 + h * k3.0, y.1 + h * k3.1));
            y.0 += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
            y.1 += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
        }
        y
    }

    #[test]
    fn kibam_closed_form_matches_the_ode() {
        let (c, k) = (0.4, 0.5);
        for (s, i, t) in [
            ((400.0, 600.0), 100.0, 2.0),
            ((50.0, 700.0), 0.0, 3.0),
            ((300.0, 100.0), 250.0, 0.7),
        ] {
            let a = kibam_step(s, c, k, i, t);
            let b = kibam_rk4(s, c, k, i, t, 20_000);
            assert!(
                (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6,
                "{a:?} vs {b:?}"
            );
            // Conservation: the total falls by exactly I t.
            assert!((a.0 + a.1 - (s.0 + s.1 - i * t)).abs() < 1e-9);
        }
    }

    #[test]
    fn kibam_rate_capacity_and_recovery() {
        let b = Battery::Kibam {
            capacity_mah: 1000.0,
            c: 0.3,
            k_per_h: 0.2,
        };
        // A tiny current uses (nearly) all the charge; a large one strands it.
        let slow = b.time_to_empty_h(&b.full(), 1.0).expect("some");
        assert!(slow > 0.97 * 1000.0 && slow <= 1000.0, "slow {slow}");
        let fast = b.time_to_empty_h(&b.full(), 1000.0).expect("some");
        assert!(fast < 0.5, "fast {fast}");
        // The available well really is empty then.
        let s = kibam_step(b.full(), 0.3, 0.2, 1000.0, fast);
        assert!(s.0.abs() < 1e-6 && s.1 > 500.0);
        // Resting lets bound charge flow back: after an hour's rest, y1 > 0 again.
        let mut r = s;
        b.drain(&mut r, 0.0, 1.0);
        assert!(r.0 > 10.0, "recovered {}", r.0);
    }

    #[test]
    fn linear_and_peukert_lifetimes() {
        let l = Battery::Linear {
            capacity_mah: 2400.0,
        };
        assert_eq!(l.time_to_empty_h(&l.full(), 12.0), Some(200.0));
        let p = Battery::Peukert {
            capacity_mah: 2400.0,
            exponent: 1.15,
            rated_hours: 20.0,
        };
        // At the rated current Peukert equals linear.
        let t = p.time_to_empty_h(&p.full(), 120.0).expect("some");
        assert!((t - 20.0).abs() < 1e-9);
        // At twice the rated current it lasts less than half as long.
        let t2 = p.time_to_empty_h(&p.full(), 240.0).expect("some");
        assert!((t2 - 20.0 * 0.5f64.powf(1.15)).abs() < 1e-9);
        let mut s = p.full();
        p.drain(&mut s, 240.0, t2);
        assert!(s.0.abs() < 1e-9);
        assert_eq!(l.time_to_empty_h(&l.full(), 0.0), None);
    }

    #[test]
    fn solar_integral() {
        let s = Solar {
            peak_ma: 10.0,
            day_s: 86_400.0,
            sunrise_s: 21_600.0,
        };
        // Nothing before sunrise; one full day gives peak * day / pi / 3600 mAh.
        assert!(s.cumulative_mah(21_000.0).abs() < 1e-12);
        let day = s.cumulative_mah(86_400.0);
        let expect = 10.0 * 86_400.0 / std::f64::consts::PI / 3600.0;
        assert!((day - expect).abs() < 1e-9, "{day} vs {expect}");
        // Sunrise to noon is half of it.
        assert!((s.cumulative_mah(43_200.0) - expect / 2.0).abs() < 1e-9);
        assert!((s.cumulative_mah(10.0 * 86_400.0) - 10.0 * expect).abs() < 1e-6);
    }

    #[test]
    fn no_capacity_is_refused() {
        let e = Battery::Linear { capacity_mah: 0.0 }
            .validate("groups[0].energy.battery")
            .expect_err("refused");
        assert!(e
            .to_string()
            .contains("groups[0].energy.battery.capacity_mah"));
        assert!(Battery::Kibam {
            capacity_mah: 10.0,
            c: 1.0,
            k_per_h: 1.0
        }
        .validate("b")
        .is_err());
    }
}
