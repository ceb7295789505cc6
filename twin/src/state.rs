//! Twin state: the last reported value of every signal with its time, the desired value
//! of every property, the delta between them, and a version for optimistic concurrency.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sample::{SignalId, Timestamp};
use crate::schema::Schema;

/// Marks a signal that has never been reported.
const NEVER: i64 = i64::MIN;

/// A property whose desired value differs from its reported value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// The property.
    pub signal: SignalId,
    /// What the twin wants it to be.
    pub desired: f64,
    /// What the asset last reported, if it has.
    pub reported: Option<f64>,
}

/// Reported, desired and delta values of one twin, in flat arrays indexed by [`SignalId`].
///
/// The version counts changes to the desired side. A writer reads it, decides, and calls
/// [`TwinState::set_desired`] with the version it read; if another writer got there first
/// the call fails with [`Error::VersionConflict`] and changes nothing.
///
/// ```
/// use twin::{Timestamp, TwinState};
/// let schema = twin::entity::ConveyorDrive::standard_schema();
/// let sp = schema.signal_id("speed_setpoint")?;
/// let mut state = TwinState::new(&schema);
/// let v = state.version();
/// let v2 = state.set_desired(&schema, sp, 1.5, Timestamp(0), Some(v))?;
/// assert_eq!(v2, v + 1);
/// // A writer holding the old version loses the race and changes nothing:
/// assert!(state.set_desired(&schema, sp, 2.0, Timestamp(0), Some(v)).is_err());
/// assert_eq!(state.desired(sp), Some(1.5));
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinState {
    version: u64,
    reported: Vec<f64>,
    reported_time: Vec<i64>,
    desired: Vec<Option<f64>>,
    desired_time: Vec<i64>,
}

impl TwinState {
    /// An empty state for a schema: nothing reported, nothing desired, version 0.
    pub fn new(schema: &Schema) -> Self {
        let n = schema.signal_count();
        TwinState {
            version: 0,
            reported: vec![0.0; n],
            reported_time: vec![NEVER; n],
            desired: vec![None; n],
            desired_time: vec![NEVER; n],
        }
    }

    /// The version of the desired side.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Number of signals this state holds.
    pub fn len(&self) -> usize {
        self.reported.len()
    }

    /// Whether the state holds no signal at all.
    pub fn is_empty(&self) -> bool {
        self.reported.is_empty()
    }

    /// The last reported value of a signal, if any.
    pub fn reported(&self, id: SignalId) -> Option<f64> {
        let i = id.index();
        match self.reported_time.get(i) {
            Some(&t) if t != NEVER => Some(self.reported[i]),
            _ => None,
        }
    }

    /// When a signal was last reported, if ever.
    pub fn reported_time(&self, id: SignalId) -> Option<Timestamp> {
        match self.reported_time.get(id.index()) {
            Some(&t) if t != NEVER => Some(Timestamp(t)),
            _ => None,
        }
    }

    /// The desired value of a property, if set.
    pub fn desired(&self, id: SignalId) -> Option<f64> {
        self.desired.get(id.index()).copied().flatten()
    }

    /// When the desired value of a property was last set, if ever.
    pub fn desired_time(&self, id: SignalId) -> Option<Timestamp> {
        match self.desired_time.get(id.index()) {
            Some(&t) if t != NEVER => Some(Timestamp(t)),
            _ => None,
        }
    }

    /// Properties whose desired value differs from the reported one (or was never reported).
    ///
    /// ```
    /// use twin::{Timestamp, TwinState};
    /// let schema = twin::entity::ConveyorDrive::standard_schema();
    /// let sp = schema.signal_id("speed_setpoint")?;
    /// let mut state = TwinState::new(&schema);
    /// state.set_desired(&schema, sp, 1.5, Timestamp(0), None)?;
    /// assert_eq!(state.delta().len(), 1);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn delta(&self) -> Vec<Delta> {
        self.desired
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let desired = (*d)?;
                let id = SignalId(i as u32);
                let reported = self.reported(id);
                (reported != Some(desired)).then_some(Delta {
                    signal: id,
                    desired,
                    reported,
                })
            })
            .collect()
    }

    /// Set the desired value of a property, checked against the schema's valid range.
    ///
    /// With `expected_version` given, the write succeeds only if the state is still at that
    /// version (optimistic concurrency). Returns the new version.
    pub fn set_desired(
        &mut self,
        schema: &Schema,
        id: SignalId,
        value: f64,
        time: Timestamp,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        if let Some(expected) = expected_version {
            if expected != self.version {
                return Err(Error::VersionConflict {
                    expected,
                    current: self.version,
                });
            }
        }
        let spec = schema.signal(id)?;
        if !schema.is_property(id) {
            return Err(Error::InvalidInput(format!(
                "{} is telemetry; only properties have a desired value",
                spec.name
            )));
        }
        if !value.is_finite() {
            return Err(Error::NonFinite(spec.name.clone()));
        }
        let (lo, hi) = (
            schema.lower_bounds()[id.index()],
            schema.upper_bounds()[id.index()],
        );
        if value < lo || value > hi {
            return Err(Error::OutOfRange {
                name: spec.name.clone(),
                value,
                min: lo,
                max: hi,
            });
        }
        self.desired[id.index()] = Some(value);
        self.desired_time[id.index()] = time.0;
        self.version += 1;
        Ok(self.version)
    }

    /// Last reported time per signal as raw nanoseconds (`i64::MIN` for never).
    #[inline]
    pub(crate) fn last_time_raw(&self, i: usize) -> i64 {
        self.reported_time[i]
    }

    /// Last reported value per signal (meaningless where never reported).
    #[inline]
    pub(crate) fn last_value_raw(&self, i: usize) -> f64 {
        self.reported[i]
    }

    /// Record a reported value; the caller has validated it.
    #[inline]
    pub(crate) fn report(&mut self, i: usize, time: i64, value: f64) {
        self.reported[i] = value;
        self.reported_time[i] = time;
    }

    /// Check that a restored state fits a schema.
    pub(crate) fn check_shape(&self, schema: &Schema) -> Result<()> {
        let n = schema.signal_count();
        if [
            self.reported.len(),
            self.reported_time.len(),
            self.desired.len(),
            self.desired_time.len(),
        ]
        .iter()
        .any(|&l| l != n)
        {
            return Err(Error::Serialization(format!(
                "state holds a different number of signals than the schema's {n}"
            )));
        }
        Ok(())
    }
}
