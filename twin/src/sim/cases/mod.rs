//! Worked studies built on the simulator, as library code so that Rust examples, tests and
//! the Python bindings share one model:
//!
//! - [`grid`]: a smart grid of households with thermostatic and shiftable loads, where
//!   demand-response strategies are compared against a paired baseline (peak reduction).
//! - [`building`]: sensor placement on a smart-building floor (coverage and delivery
//!   against the number of LoRa sensors), a parameter sweep of [`super::Scenario`]s.
//! - [`traffic`]: a smart-traffic corridor of connected vehicles and signals, comparing
//!   signal timings on common random numbers.
//!
//! Each has a serde configuration whose defaults are the study's standard settings, a
//! `validate()` that names the offending field, and a run function returning owned,
//! serde, `Send` results ready to print, plot or send across threads and bindings.

pub mod building;
pub mod grid;
pub mod traffic;

use crate::error::{Error, Result};

/// `Err(InvalidInput)` naming `field` unless `ok`.
fn check(ok: bool, field: &str, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!("{field} {what}")))
    }
}
