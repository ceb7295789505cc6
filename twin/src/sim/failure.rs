//! Failures and contingency: random failures of devices and gateways (exponential MTBF and
//! MTTR, or Weibull wear-out), scheduled correlated outages and partitions, and the retry
//! policy with back-off and failover to another gateway.

use serde::{Deserialize, Serialize};

use super::rng;
use crate::error::{Error, Result};

/// How an entity fails and is repaired. Up and down times alternate (an alternating
/// renewal process), so the long-run availability is `MTBF / (MTBF + MTTR)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum FailureModel {
    /// Exponential times to failure (mean `mtbf_s`) and to repair (mean `mttr_s`).
    Exponential {
        /// Mean time between failures, s.
        mtbf_s: f64,
        /// Mean time to repair, s.
        mttr_s: f64,
    },
    /// Weibull times to failure (wear-out when `shape > 1`); a repaired unit is as good as
    /// new. Without `mttr_s` a failure is permanent.
    Weibull {
        /// Shape `k`.
        shape: f64,
        /// Scale `λ`, s.
        scale_s: f64,
        /// Mean time to repair (exponential), s; absent: never repaired.
        #[serde(default)]
        mttr_s: Option<f64>,
    },
}

impl FailureModel {
    /// Check the parameters.
    pub fn validate(&self, field: &str) -> Result<()> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidInput(format!(
                    "{field}.{name} must be positive, got {v}"
                )))
            }
        };
        match *self {
            FailureModel::Exponential { mtbf_s, mttr_s } => {
                pos("mtbf_s", mtbf_s)?;
                pos("mttr_s", mttr_s)
            }
            FailureModel::Weibull {
                shape,
                scale_s,
                mttr_s,
            } => {
                pos("shape", shape)?;
                pos("scale_s", scale_s)?;
                if let Some(m) = mttr_s {
                    pos("mttr_s", m)?;
                }
                Ok(())
            }
        }
    }

    /// Draw a time to failure, s.
    pub fn time_to_failure(&self, state: &mut u64) -> f64 {
        match *self {
            FailureModel::Exponential { mtbf_s, .. } => rng::exponential(state, mtbf_s),
            FailureModel::Weibull { shape, scale_s, .. } => rng::weibull(state, shape, scale_s),
        }
    }

    /// Draw a repair time, s, or `None` if failures are permanent.
    pub fn time_to_repair(&self, state: &mut u64) -> Option<f64> {
        match *self {
            FailureModel::Exponential { mttr_s, .. } => Some(rng::exponential(state, mttr_s)),
            FailureModel::Weibull { mttr_s, .. } => mttr_s.map(|m| rng::exponential(state, m)),
        }
    }
}

/// What a scheduled outage does to its gateways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutageKind {
    /// The gateways are down: packets sent to them are lost.
    #[default]
    Down,
    /// The gateways receive but are cut off from the back end: they store what they
    /// receive and forward it when the partition heals (the end-to-end latency grows).
    Partition,
}

/// A correlated outage: a set of gateways (a region) and optionally whole device groups
/// (a power cut) out together for a time window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// Gateway indices affected.
    #[serde(default)]
    pub gateways: Vec<usize>,
    /// Device group indices whose devices are all down meanwhile (a power cut): they take
    /// no readings, so the slots that fall in the window are not counted as reports (the
    /// delivery ratio of what was read is unchanged), a retry due meanwhile is given up,
    /// and the window counts against availability. Reporting resumes at the first slot
    /// after the window.
    #[serde(default)]
    pub groups: Vec<usize>,
    /// Start, s.
    pub start_s: f64,
    /// Duration, s.
    pub duration_s: f64,
    /// Down or partitioned (for gateways).
    #[serde(default)]
    pub kind: OutageKind,
}

/// What a device does when a transmission is not acknowledged.
///
/// A transmission that is lost, dropped, collides or meets a gateway that is down is
/// retried after `ack_timeout_s + backoff_s · 2^attempt · (1 + U[0,1))` (exponential
/// back-off with jitter), at most `max_retries` times. After `failover_after` consecutive
/// failed transmissions the device moves to the next gateway of its list (0: never).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Retries per report after the first transmission.
    pub max_retries: u8,
    /// Time to wait for an acknowledgement, s.
    pub ack_timeout_s: f64,
    /// Base back-off, s.
    pub backoff_s: f64,
    /// Consecutive failures before failing over to the next gateway; 0 disables failover.
    pub failover_after: u8,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 0,
            ack_timeout_s: 1.0,
            backoff_s: 1.0,
            failover_after: 0,
        }
    }
}

impl RetryPolicy {
    /// Check the parameters.
    pub fn validate(&self, field: &str) -> Result<()> {
        for (n, v) in [
            ("ack_timeout_s", self.ack_timeout_s),
            ("backoff_s", self.backoff_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{field}.{n} must be finite and non-negative, got {v}"
                )));
            }
        }
        if self.max_retries > 30 {
            return Err(Error::InvalidInput(format!(
                "{field}.max_retries must be at most 30, got {}",
                self.max_retries
            )));
        }
        Ok(())
    }

    /// Delay before retry number `attempt + 1`, s.
    pub fn delay_s(&self, attempt: u8, state: &mut u64) -> f64 {
        self.ack_timeout_s
            + self.backoff_s * f64::from(1u32 << attempt.min(30)) * (1.0 + rng::uniform(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{key, StreamId};

    #[test]
    fn alternating_renewal_availability() {
        let m = FailureModel::Exponential {
            mtbf_s: 900.0,
            mttr_s: 100.0,
        };
        let mut s = key(4, 4, StreamId::Failure);
        let (mut up, mut down) = (0.0, 0.0);
        for _ in 0..100_000 {
            up += m.time_to_failure(&mut s);
            down += m.time_to_repair(&mut s).unwrap_or(0.0);
        }
        let a = up / (up + down);
        assert!((a - 0.9).abs() < 0.003, "availability {a}");
        let w = FailureModel::Weibull {
            shape: 3.0,
            scale_s: 10.0,
            mttr_s: None,
        };
        assert_eq!(w.time_to_repair(&mut s), None);
        assert!(FailureModel::Exponential {
            mtbf_s: -1.0,
            mttr_s: 1.0
        }
        .validate("f")
        .is_err());
    }
}
