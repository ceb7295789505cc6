//! Gateways: their position, ingress link, edge pre-processing (range filter, deadband,
//! aggregation) and how devices spread over several gateways.

use serde::{Deserialize, Serialize};

use super::failure::FailureModel;
use super::network::LinkConfig;
use crate::error::{Error, Result};

/// What a gateway does with a reading before forwarding it to the back end. Applied in this
/// order: the range filter drops implausible values; the deadband suppresses a reading
/// within `deadband` of the last one forwarded for that device; aggregation forwards the
/// mean of every `aggregate` readings that pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeConfig {
    /// Plausible range `[min, max]`; readings outside are filtered out.
    pub filter: Option<(f64, f64)>,
    /// Send-on-delta threshold.
    pub deadband: Option<f64>,
    /// Forward the mean of this many readings (1 or absent: forward each).
    pub aggregate: Option<u16>,
}

impl EdgeConfig {
    /// Check the parameters.
    pub fn validate(&self, field: &str) -> Result<()> {
        if let Some((lo, hi)) = self.filter {
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err(Error::InvalidInput(format!(
                    "{field}.filter must be a finite [min, max] with min <= max"
                )));
            }
        }
        if let Some(d) = self.deadband {
            if !(d.is_finite() && d >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "{field}.deadband must be non-negative, got {d}"
                )));
            }
        }
        if self.aggregate == Some(0) {
            return Err(Error::InvalidInput(format!(
                "{field}.aggregate must be at least 1"
            )));
        }
        Ok(())
    }
}

/// One gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// A name for tables and messages.
    #[serde(default)]
    pub name: String,
    /// Position, m.
    #[serde(default)]
    pub x: f64,
    /// Position, m.
    #[serde(default)]
    pub y: f64,
    /// The ingress link its devices' packets cross.
    #[serde(default)]
    pub link: LinkConfig,
    /// Edge pre-processing.
    #[serde(default)]
    pub edge: EdgeConfig,
    /// Random failures.
    #[serde(default)]
    pub failure: Option<FailureModel>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            name: String::new(),
            x: 0.0,
            y: 0.0,
            link: LinkConfig::default(),
            edge: EdgeConfig::default(),
            failure: None,
        }
    }
}

/// How a device chooses among the gateways of its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Balancing {
    /// Every device starts on the group's first gateway (and moves on failover).
    #[default]
    First,
    /// Devices are spread over the group's gateways by index (device `i` starts on
    /// gateway `i mod n`).
    Spread,
    /// Each transmission goes to the gateway with the least queued bytes among those the
    /// device believes up (ties: list order); LoRa devices pick the strongest signal.
    LeastLoaded,
}
