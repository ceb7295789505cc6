//! The network between devices and gateways: a gateway's ingress [`LinkConfig`] (latency,
//! jitter, bandwidth, bounded queue, loss), the Gilbert-Elliott burst-loss channel
//! ([`LossModel`]) and the LoRa radio preset ([`LoRaConfig`]).

use serde::{Deserialize, Serialize};

use super::rng;
use crate::error::{Error, Result};

/// Packet loss on a device's channel to its gateway. The channel state lives per device, so
/// bursts hit devices independently.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum LossModel {
    /// No loss.
    #[default]
    None,
    /// Each packet is lost independently with probability `p`.
    Bernoulli {
        /// Loss probability.
        p: f64,
    },
    /// Gilbert-Elliott: a two-state Markov chain stepped once per packet. From Good the
    /// channel turns Bad with probability `p`, from Bad it recovers with probability `r`; a
    /// packet gets through with probability `k` in Good and `h` in Bad. The long-run loss
    /// rate is `p/(p+r)·(1-h) + r/(p+r)·(1-k)` and a Bad spell lasts `1/r` packets on
    /// average (Gilbert 1960, Elliott 1963).
    GilbertElliott {
        /// P(Good -> Bad) per packet.
        p: f64,
        /// P(Bad -> Good) per packet.
        r: f64,
        /// P(delivered | Good).
        k: f64,
        /// P(delivered | Bad).
        h: f64,
    },
}

impl LossModel {
    /// Check the probabilities.
    pub fn validate(&self, field: &str) -> Result<()> {
        let probs: Vec<f64> = match *self {
            LossModel::None => Vec::new(),
            LossModel::Bernoulli { p } => vec![p],
            LossModel::GilbertElliott { p, r, k, h } => vec![p, r, k, h],
        };
        if probs.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return Err(Error::InvalidInput(format!(
                "{field}: loss probabilities must lie in [0, 1], got {probs:?}"
            )));
        }
        if let LossModel::GilbertElliott { p, r, .. } = self {
            if *p + *r <= 0.0 {
                return Err(Error::InvalidInput(format!(
                    "{field}: Gilbert-Elliott needs p + r > 0"
                )));
            }
        }
        Ok(())
    }

    /// The long-run loss rate.
    ///
    /// ```
    /// use twin::sim::network::LossModel;
    /// let ge = LossModel::GilbertElliott { p: 0.01, r: 0.1, k: 1.0, h: 0.0 };
    /// assert!((ge.stationary_loss() - 0.01 / 0.11).abs() < 1e-12);
    /// ```
    pub fn stationary_loss(&self) -> f64 {
        match *self {
            LossModel::None => 0.0,
            LossModel::Bernoulli { p } => p,
            LossModel::GilbertElliott { p, r, k, h } => {
                p / (p + r) * (1.0 - h) + r / (p + r) * (1.0 - k)
            }
        }
    }

    /// Step the channel for one packet; `bad` is the device's channel state. Returns
    /// whether the packet gets through.
    #[inline]
    pub fn transmit(&self, bad: &mut bool, state: &mut u64) -> bool {
        match *self {
            LossModel::None => true,
            LossModel::Bernoulli { p } => rng::uniform(state) >= p,
            LossModel::GilbertElliott { p, r, k, h } => {
                let u = rng::uniform(state);
                *bad = if *bad { u >= r } else { u < p };
                let pass = if *bad { h } else { k };
                rng::uniform(state) < pass
            }
        }
    }
}

/// A gateway's ingress link: every packet its devices send crosses it.
///
/// A packet waits for the link (FIFO, one packet at a time, `bytes * 8 / bandwidth_bps`
/// each), is dropped and counted if more than `queue_bytes` are already waiting, then
/// arrives after `latency_s` plus a uniform jitter in `[0, jitter_s)`. Arrivals stay in
/// order (a packet never overtakes the previous one), so each device's samples arrive in
/// time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// Propagation and processing delay, seconds.
    #[serde(default)]
    pub latency_s: f64,
    /// Extra uniform delay in `[0, jitter_s)`, seconds.
    #[serde(default)]
    pub jitter_s: f64,
    /// Capacity in bits per second; absent means unlimited.
    #[serde(default)]
    pub bandwidth_bps: Option<f64>,
    /// Bytes that may wait for the link; a packet that would exceed it is dropped.
    #[serde(default = "unbounded")]
    pub queue_bytes: u64,
    /// Loss on each device's channel to this gateway.
    #[serde(default)]
    pub loss: LossModel,
}

fn unbounded() -> u64 {
    u64::MAX
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency_s: 0.0,
            jitter_s: 0.0,
            bandwidth_bps: None,
            queue_bytes: u64::MAX,
            loss: LossModel::None,
        }
    }
}

impl LinkConfig {
    /// Check the parameters.
    pub fn validate(&self, field: &str) -> Result<()> {
        for (name, v) in [("latency_s", self.latency_s), ("jitter_s", self.jitter_s)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{field}.{name} must be finite and non-negative, got {v}"
                )));
            }
        }
        if let Some(b) = self.bandwidth_bps {
            if !(b.is_finite() && b > 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{field}.bandwidth_bps must be positive, got {b}"
                )));
            }
        }
        self.loss.validate(&format!("{field}.loss"))
    }
}

/// The LoRa radio preset. Defaults (documented here, used by `#[serde(default)]`):
///
/// | parameter | default | source |
/// | --- | --- | --- |
/// | spreading factor | 7 (7..=12) | |
/// | bandwidth | 125 kHz | EU868 uplink |
/// | coding rate | 4/5 (`coding_rate = 1`) | |
/// | preamble | 8 symbols | LoRaWAN |
/// | explicit header, CRC on | yes | LoRaWAN uplink |
/// | low data rate optimisation | automatic: on when the symbol time ≥ 16 ms | SX127x |
/// | transmit power | 14 dBm | EU868 limit |
/// | path loss | log-distance, `PL(d) = 127.41 + 10·2.08·log10(d / 40 m)` dB, shadowing σ = 0 dB | Bor et al., LoRaSim (2016) |
/// | sensitivity at 125 kHz | SF7 −123, SF8 −126, SF9 −129, SF10 −132, SF11 −134.5, SF12 −137 dBm | SX1276 datasheet |
/// | channels | 3 (868.1/868.3/868.5 MHz) | EU868 default channels |
/// | duty cycle | 1 % | ETSI EN 300 220, EU868 g1 sub-band |
/// | capture effect | on: the stronger of two overlapping packets survives if ≥ 6 dB stronger | |
///
/// Time on air follows the Semtech SX127x formula (AN1200.13):
/// `T = (n_preamble + 4.25)·T_sym + (8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC − 20·IH) /
/// (4·(SF − 2·DE)))·(CR + 4), 0))·T_sym` with `T_sym = 2^SF / BW`.
///
/// ```
/// use twin::sim::network::LoRaConfig;
/// let toa = LoRaConfig::default().time_on_air_s(20);
/// assert!((toa - 0.056576).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoRaConfig {
    /// Spreading factor, 7..=12.
    pub spreading_factor: u8,
    /// Bandwidth in Hz (125,000, 250,000 or 500,000).
    pub bandwidth_hz: f64,
    /// Coding rate index 1..=4 for 4/5..4/8.
    pub coding_rate: u8,
    /// Preamble symbols.
    pub preamble_symbols: u16,
    /// Explicit header.
    pub explicit_header: bool,
    /// Payload CRC.
    pub crc: bool,
    /// Transmit power, dBm.
    pub tx_power_dbm: f64,
    /// Path loss at the reference distance, dB.
    pub path_loss_d0_db: f64,
    /// Reference distance, metres.
    pub d0_m: f64,
    /// Path-loss exponent.
    pub path_loss_exponent: f64,
    /// Standard deviation of log-normal shadowing, dB (fixed per device-gateway pair).
    pub shadowing_sd_db: f64,
    /// Number of radio channels a device picks from at random.
    pub channels: u8,
    /// Duty-cycle limit as a fraction (0.01 = 1 %); after a transmission of `T` the device
    /// stays silent for `T·(1/duty_cycle − 1)`, and reports due meanwhile wait.
    pub duty_cycle: f64,
    /// Capture effect: a packet survives an overlap when it is at least this many dB
    /// stronger than every overlapping packet; `None` means any overlap destroys both.
    pub capture_db: Option<f64>,
}

impl Default for LoRaConfig {
    fn default() -> Self {
        LoRaConfig {
            spreading_factor: 7,
            bandwidth_hz: 125_000.0,
            coding_rate: 1,
            preamble_symbols: 8,
            explicit_header: true,
            crc: true,
            tx_power_dbm: 14.0,
            path_loss_d0_db: 127.41,
            d0_m: 40.0,
            path_loss_exponent: 2.08,
            shadowing_sd_db: 0.0,
            channels: 3,
            duty_cycle: 0.01,
            capture_db: Some(6.0),
        }
    }
}

impl LoRaConfig {
    /// Check the parameters.
    pub fn validate(&self, field: &str) -> Result<()> {
        let bad = |what: &str| Err(Error::InvalidInput(format!("{field}.{what}")));
        if !(7..=12).contains(&self.spreading_factor) {
            return bad(&format!(
                "spreading_factor must be 7..=12, got {}",
                self.spreading_factor
            ));
        }
        if !(self.bandwidth_hz.is_finite() && self.bandwidth_hz > 0.0) {
            return bad("bandwidth_hz must be positive");
        }
        if !(1..=4).contains(&self.coding_rate) {
            return bad("coding_rate must be 1..=4 (4/5..4/8)");
        }
        if self.channels == 0 {
            return bad("channels must be at least 1");
        }
        if !(self.duty_cycle > 0.0 && self.duty_cycle <= 1.0) {
            return bad(&format!(
                "duty_cycle must be in (0, 1], got {}",
                self.duty_cycle
            ));
        }
        let finite = [
            self.tx_power_dbm,
            self.path_loss_d0_db,
            self.d0_m,
            self.path_loss_exponent,
            self.shadowing_sd_db,
        ];
        if finite.iter().any(|v| !v.is_finite()) || self.d0_m <= 0.0 || self.shadowing_sd_db < 0.0 {
            return bad(
                "path-loss parameters must be finite, d0_m positive, shadowing_sd_db non-negative",
            );
        }
        if let Some(c) = self.capture_db {
            if !(c.is_finite() && c >= 0.0) {
                return bad("capture_db must be non-negative");
            }
        }
        Ok(())
    }

    /// Symbol time, seconds.
    pub fn symbol_s(&self) -> f64 {
        f64::from(1u32 << self.spreading_factor) / self.bandwidth_hz
    }

    /// Time on air of a `payload_bytes` packet, seconds (SX127x formula).
    pub fn time_on_air_s(&self, payload_bytes: u32) -> f64 {
        let ts = self.symbol_s();
        let sf = f64::from(self.spreading_factor);
        let de = if ts >= 0.016 { 1.0 } else { 0.0 };
        let ih = if self.explicit_header { 0.0 } else { 1.0 };
        let crc = if self.crc { 1.0 } else { 0.0 };
        let num = 8.0 * f64::from(payload_bytes) - 4.0 * sf + 28.0 + 16.0 * crc - 20.0 * ih;
        let payload_symbols = 8.0
            + ((num / (4.0 * (sf - 2.0 * de))).ceil() * (f64::from(self.coding_rate) + 4.0))
                .max(0.0);
        (f64::from(self.preamble_symbols) + 4.25) * ts + payload_symbols * ts
    }

    /// Receiver sensitivity at this spreading factor, dBm (SX1276, scaled by
    /// `10·log10(BW / 125 kHz)` for other bandwidths).
    pub fn sensitivity_dbm(&self) -> f64 {
        let base = match self.spreading_factor {
            7 => -123.0,
            8 => -126.0,
            9 => -129.0,
            10 => -132.0,
            11 => -134.5,
            _ => -137.0,
        };
        base + 10.0 * (self.bandwidth_hz / 125_000.0).log10()
    }

    /// Mean path loss at `d_m` metres, dB (distances below 1 m count as 1 m).
    pub fn path_loss_db(&self, d_m: f64) -> f64 {
        self.path_loss_d0_db + 10.0 * self.path_loss_exponent * (d_m.max(1.0) / self.d0_m).log10()
    }

    /// The largest distance at which the mean received power meets the sensitivity.
    pub fn range_m(&self) -> f64 {
        let margin = self.tx_power_dbm - self.sensitivity_dbm() - self.path_loss_d0_db;
        self.d0_m * 10f64.powf(margin / (10.0 * self.path_loss_exponent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{key, StreamId};

    #[test]
    fn time_on_air_matches_semtech_calculator() {
        let mut c = LoRaConfig::default();
        // SF7/125 kHz/CR4-5, 20 bytes, 8 symbols, explicit header, CRC: 56.576 ms.
        assert!((c.time_on_air_s(20) * 1e3 - 56.576).abs() < 1e-6);
        // SF12/125 kHz (low data rate optimisation on), 20 bytes: 1318.912 ms
        // (Semtech LoRa calculator).
        c.spreading_factor = 12;
        assert!((c.time_on_air_s(20) * 1e3 - 1318.912).abs() < 1e-6);
        // SF9, 51 bytes: T_sym 4.096 ms, payload symbols 8 + ceil(416/36)*5 = 68, preamble
        // 12.25 symbols: 80.25 * 4.096 = 328.704 ms.
        c.spreading_factor = 9;
        assert!((c.time_on_air_s(51) * 1e3 - 328.704).abs() < 1e-6);
    }

    #[test]
    fn sensitivity_and_range() {
        let c = LoRaConfig::default();
        assert_eq!(c.sensitivity_dbm(), -123.0);
        let r = c.range_m();
        // At the range the budget closes exactly.
        assert!((c.tx_power_dbm - c.path_loss_db(r) - c.sensitivity_dbm()).abs() < 1e-9);
        let sf12 = LoRaConfig {
            spreading_factor: 12,
            ..c
        };
        assert!(sf12.range_m() > 2.0 * r);
    }

    #[test]
    fn gilbert_elliott_long_run_loss_and_burst_length() {
        let (p, r, k, h) = (0.02, 0.25, 0.99, 0.3);
        let ge = LossModel::GilbertElliott { p, r, k, h };
        let mut bad = false;
        let mut s = key(11, 0, StreamId::Channel);
        let n = 2_000_000;
        let mut lost = 0u64;
        let (mut spells, mut bad_packets) = (0u64, 0u64);
        let mut was_bad = false;
        for _ in 0..n {
            if !ge.transmit(&mut bad, &mut s) {
                lost += 1;
            }
            if bad {
                bad_packets += 1;
                if !was_bad {
                    spells += 1;
                }
            }
            was_bad = bad;
        }
        let rate = lost as f64 / n as f64;
        let expect = p / (p + r) * (1.0 - h) + r / (p + r) * (1.0 - k);
        assert!((ge.stationary_loss() - expect).abs() < 1e-15);
        assert!((rate - expect).abs() < 0.003, "loss {rate} vs {expect}");
        let mean_burst = bad_packets as f64 / spells as f64;
        assert!(
            (mean_burst - 1.0 / r).abs() < 0.1,
            "burst {mean_burst} vs {}",
            1.0 / r
        );

        // Gilbert's special case (k = 1, h = 0): runs of lost packets are the Bad spells.
        let g = LossModel::GilbertElliott {
            p,
            r,
            k: 1.0,
            h: 0.0,
        };
        let (mut runs, mut run_lost, mut prev_lost) = (0u64, 0u64, false);
        for _ in 0..n {
            let l = !g.transmit(&mut bad, &mut s);
            if l {
                run_lost += 1;
                if !prev_lost {
                    runs += 1;
                }
            }
            prev_lost = l;
        }
        let mean_run = run_lost as f64 / runs as f64;
        assert!((mean_run - 1.0 / r).abs() < 0.1, "loss run {mean_run}");
        assert!((run_lost as f64 / n as f64 - p / (p + r)).abs() < 0.003);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(LossModel::Bernoulli { p: 1.5 }.validate("x").is_err());
        assert!(LossModel::GilbertElliott {
            p: 0.0,
            r: 0.0,
            k: 1.0,
            h: 0.0
        }
        .validate("x")
        .is_err());
        let l = LinkConfig {
            latency_s: -1.0,
            ..LinkConfig::default()
        };
        let e = l.validate("gateways[0].link").expect_err("refused");
        assert!(e.to_string().contains("gateways[0].link.latency_s"));
        let c = LoRaConfig {
            spreading_factor: 6,
            ..LoRaConfig::default()
        };
        assert!(c.validate("g").is_err());
    }
}
