//! Unit histories and fleets of them: the input of every RUL model.

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The history of one unit: a time per cycle and one row of signal values per cycle.
///
/// Times are in any unit you like (cycles, hours) and must be finite and strictly
/// increasing; every value must be finite. A RUL is expressed in the same unit as the
/// times. For training, a unit's history runs to failure: its last row is the failure.
///
/// ```
/// use ndarray::array;
/// use twin::analytics::rul::UnitSeries;
/// let u = UnitSeries::new(7, vec![1.0, 2.0, 3.0], array![[1.0, 5.0], [1.1, 5.2], [1.3, 5.1]])?;
/// assert_eq!((u.len(), u.n_signals(), u.id()), (3, 2, 7));
/// assert_eq!(u.remaining_life(0), 2.0);
/// assert!(UnitSeries::new(7, vec![1.0, 1.0], array![[1.0], [2.0]]).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UnitSeriesData")]
pub struct UnitSeries {
    id: u64,
    time: Vec<f64>,
    values: Array2<f64>,
}

/// The serialised form of a [`UnitSeries`], checked on the way in.
#[derive(Deserialize)]
struct UnitSeriesData {
    id: u64,
    time: Vec<f64>,
    values: Array2<f64>,
}

impl TryFrom<UnitSeriesData> for UnitSeries {
    type Error = Error;
    fn try_from(d: UnitSeriesData) -> Result<Self> {
        UnitSeries::new(d.id, d.time, d.values)
    }
}

/// The serialised form of a [`Fleet`], checked on the way in.
#[derive(Deserialize)]
struct FleetData {
    units: Vec<UnitSeries>,
    names: Vec<String>,
}

impl TryFrom<FleetData> for Fleet {
    type Error = Error;
    fn try_from(d: FleetData) -> Result<Self> {
        Fleet::new(d.units)?.with_names(d.names)
    }
}

impl UnitSeries {
    /// A unit's history from its times and a `rows × signals` array of values.
    ///
    /// Errors: [`Error::InvalidInput`] when there is no row or no signal, when the lengths
    /// differ or the times do not strictly increase; [`Error::NonFinite`] for a NaN or
    /// infinite time or value.
    pub fn new(id: u64, time: Vec<f64>, values: Array2<f64>) -> Result<Self> {
        let (rows, cols) = values.dim();
        if rows == 0 || cols == 0 {
            return Err(Error::InvalidInput(format!(
                "unit {id}: a history needs at least one row and one signal, got {rows} x {cols}"
            )));
        }
        if time.len() != rows {
            return Err(Error::InvalidInput(format!(
                "unit {id}: {} times for {rows} rows of values",
                time.len()
            )));
        }
        for (r, &t) in time.iter().enumerate() {
            if !t.is_finite() {
                return Err(Error::NonFinite(format!("time of row {r} of unit {id}")));
            }
            if r > 0 && t <= time[r - 1] {
                return Err(Error::InvalidInput(format!(
                    "unit {id}: times must strictly increase, row {r} has {t} after {}",
                    time[r - 1]
                )));
            }
        }
        for ((r, c), v) in values.indexed_iter() {
            if !v.is_finite() {
                return Err(Error::NonFinite(format!(
                    "signal {c} at row {r} of unit {id}"
                )));
            }
        }
        let values = values.as_standard_layout().into_owned();
        Ok(UnitSeries { id, time, values })
    }

    /// A unit's history from its times and a flat row-major buffer of
    /// `time.len() × n_signals` values (as a C array or a numpy array in C order).
    ///
    /// ```
    /// use twin::analytics::rul::UnitSeries;
    /// let u = UnitSeries::from_row_major(1, vec![0.0, 1.0], vec![1.0, 2.0, 3.0, 4.0], 2)?;
    /// assert_eq!(u.values()[[1, 0]], 3.0);
    /// assert!(UnitSeries::from_row_major(1, vec![0.0, 1.0], vec![1.0, 2.0, 3.0], 2).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn from_row_major(
        id: u64,
        time: Vec<f64>,
        values: Vec<f64>,
        n_signals: usize,
    ) -> Result<Self> {
        let rows = time.len();
        if n_signals == 0 || values.len() != rows * n_signals {
            return Err(Error::InvalidInput(format!(
                "unit {id}: {} values do not fill {rows} rows of {n_signals} signals",
                values.len()
            )));
        }
        let values = Array2::from_shape_vec((rows, n_signals), values)
            .map_err(|e| Error::InvalidInput(format!("unit {id}: {e}")))?;
        UnitSeries::new(id, time, values)
    }

    /// The unit's identifier.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Number of rows (cycles).
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether the history has no row (never true for a constructed series).
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Number of signals per row.
    pub fn n_signals(&self) -> usize {
        self.values.ncols()
    }

    /// The times, one per row.
    pub fn time(&self) -> &[f64] {
        &self.time
    }

    /// The values, `rows × signals`.
    pub fn values(&self) -> ArrayView2<'_, f64> {
        self.values.view()
    }

    /// One signal's values over time.
    pub fn signal(&self, index: usize) -> Option<ArrayView1<'_, f64>> {
        (index < self.n_signals()).then(|| self.values.column(index))
    }

    /// For a run-to-failure history: the life remaining after row `row`
    /// (last time minus that row's time).
    pub fn remaining_life(&self, row: usize) -> f64 {
        match (self.time.last(), self.time.get(row)) {
            (Some(&end), Some(&t)) => end - t,
            _ => 0.0,
        }
    }

    /// The first `rows` rows of this history (a unit observed up to an earlier time).
    ///
    /// ```
    /// use ndarray::array;
    /// use twin::analytics::rul::UnitSeries;
    /// let u = UnitSeries::new(1, vec![0.0, 1.0, 2.0], array![[1.0], [2.0], [3.0]])?;
    /// assert_eq!(u.truncated(2)?.time(), &[0.0, 1.0]);
    /// assert!(u.truncated(0).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn truncated(&self, rows: usize) -> Result<UnitSeries> {
        if rows == 0 || rows > self.len() {
            return Err(Error::InvalidInput(format!(
                "unit {}: cannot keep {rows} of {} rows",
                self.id,
                self.len()
            )));
        }
        Ok(UnitSeries {
            id: self.id,
            time: self.time[..rows].to_vec(),
            values: self.values.slice(ndarray::s![..rows, ..]).to_owned(),
        })
    }

    #[inline]
    pub(crate) fn at(&self, row: usize, signal: usize) -> f64 {
        self.values[[row, signal]]
    }
}

/// Several units with the same signals: a fleet's run-to-failure library for training,
/// or the units to predict.
///
/// ```
/// use ndarray::array;
/// use twin::analytics::rul::Fleet;
/// // Long format, as in C-MAPSS: one row per (unit, cycle), rows of a unit together.
/// let ids = [1, 1, 1, 2, 2];
/// let time = [1.0, 2.0, 3.0, 1.0, 2.0];
/// let values = array![[1.0], [1.5], [2.0], [1.0], [3.0]];
/// let fleet = Fleet::from_long(&ids, &time, values.view())?;
/// assert_eq!(fleet.len(), 2);
/// assert_eq!(fleet.units()[1].len(), 2);
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FleetData")]
pub struct Fleet {
    units: Vec<UnitSeries>,
    names: Vec<String>,
}

impl Fleet {
    /// A fleet of units; they must all have the same number of signals.
    ///
    /// Signals are named `s0`, `s1`, … unless [`Fleet::with_names`] gives names.
    pub fn new(units: Vec<UnitSeries>) -> Result<Self> {
        let Some(first) = units.first() else {
            return Err(Error::InvalidInput(
                "a fleet needs at least one unit".into(),
            ));
        };
        let n = first.n_signals();
        if let Some(u) = units.iter().find(|u| u.n_signals() != n) {
            return Err(Error::InvalidInput(format!(
                "unit {} has {} signals, unit {} has {n}",
                u.id(),
                u.n_signals(),
                first.id()
            )));
        }
        let names = (0..n).map(|i| format!("s{i}")).collect();
        Ok(Fleet { units, names })
    }

    /// A fleet from long-format columns: a unit id, a time and a row of values per
    /// observation. The rows of one unit must be contiguous and in time order.
    pub fn from_long(ids: &[u64], time: &[f64], values: ArrayView2<'_, f64>) -> Result<Self> {
        if ids.len() != time.len() || ids.len() != values.nrows() {
            return Err(Error::InvalidInput(format!(
                "long format needs equal lengths: {} ids, {} times, {} rows",
                ids.len(),
                time.len(),
                values.nrows()
            )));
        }
        let mut units: Vec<UnitSeries> = Vec::new();
        let mut start = 0;
        while start < ids.len() {
            let id = ids[start];
            let mut end = start + 1;
            while end < ids.len() && ids[end] == id {
                end += 1;
            }
            if units.iter().any(|u| u.id() == id) {
                return Err(Error::InvalidInput(format!(
                    "the rows of unit {id} are not contiguous"
                )));
            }
            units.push(UnitSeries::new(
                id,
                time[start..end].to_vec(),
                values.slice(ndarray::s![start..end, ..]).to_owned(),
            )?);
            start = end;
        }
        Fleet::new(units)
    }

    /// Like [`Fleet::from_long`], with the values as a flat row-major buffer of
    /// `ids.len() × n_signals`.
    ///
    /// ```
    /// use twin::analytics::rul::Fleet;
    /// let f = Fleet::from_long_row_major(&[4, 4, 5], &[1.0, 2.0, 1.0], &[0.1, 0.2, 0.3], 1)?;
    /// assert_eq!(f.units()[1].id(), 5);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn from_long_row_major(
        ids: &[u64],
        time: &[f64],
        values: &[f64],
        n_signals: usize,
    ) -> Result<Self> {
        if n_signals == 0 || values.len() != ids.len() * n_signals {
            return Err(Error::InvalidInput(format!(
                "{} values do not fill {} rows of {n_signals} signals",
                values.len(),
                ids.len()
            )));
        }
        let view = ArrayView2::from_shape((ids.len(), n_signals), values)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        Fleet::from_long(ids, time, view)
    }

    /// Name the signals (for messages and reports).
    ///
    /// ```
    /// use ndarray::array;
    /// use twin::analytics::rul::{Fleet, UnitSeries};
    /// let u = UnitSeries::new(1, vec![0.0], array![[1.0, 2.0]])?;
    /// let f = Fleet::new(vec![u])?.with_names(vec!["t24".into(), "p30".into()])?;
    /// assert_eq!(f.names()[1], "p30");
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn with_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() != self.n_signals() {
            return Err(Error::InvalidInput(format!(
                "{} names for {} signals",
                names.len(),
                self.n_signals()
            )));
        }
        self.names = names;
        Ok(self)
    }

    /// The units.
    pub fn units(&self) -> &[UnitSeries] {
        &self.units
    }

    /// The signal names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether the fleet has no unit (never true for a constructed fleet).
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Number of signals per row.
    pub fn n_signals(&self) -> usize {
        self.units.first().map_or(0, UnitSeries::n_signals)
    }

    /// Total number of rows over all units.
    pub fn n_rows(&self) -> usize {
        self.units.iter().map(UnitSeries::len).sum()
    }

    /// A fleet of the units at the given indices (in that order).
    pub fn subset(&self, indices: &[usize]) -> Result<Fleet> {
        let mut units = Vec::with_capacity(indices.len());
        for &i in indices {
            let u = self.units.get(i).ok_or_else(|| {
                Error::InvalidInput(format!("unit index {i} out of {}", self.units.len()))
            })?;
            units.push(u.clone());
        }
        let mut f = Fleet::new(units)?;
        f.names = self.names.clone();
        Ok(f)
    }

    /// A fleet with only the signals at the given column indices (in that order).
    ///
    /// ```
    /// use ndarray::array;
    /// use twin::analytics::rul::{Fleet, UnitSeries};
    /// let u = UnitSeries::new(1, vec![0.0], array![[1.0, 2.0, 3.0]])?;
    /// let f = Fleet::new(vec![u])?.select_signals(&[2, 0])?;
    /// assert_eq!(f.names(), &["s2", "s0"]);
    /// assert_eq!(f.units()[0].values()[[0, 0]], 3.0);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn select_signals(&self, columns: &[usize]) -> Result<Fleet> {
        if columns.is_empty() {
            return Err(Error::InvalidInput("select at least one signal".into()));
        }
        if let Some(c) = columns.iter().find(|&&c| c >= self.n_signals()) {
            return Err(Error::InvalidInput(format!(
                "signal index {c} out of {}",
                self.n_signals()
            )));
        }
        let units = self
            .units
            .iter()
            .map(|u| UnitSeries {
                id: u.id,
                time: u.time.clone(),
                values: u.values.select(ndarray::Axis(1), columns),
            })
            .collect();
        Ok(Fleet {
            units,
            names: columns.iter().map(|&c| self.names[c].clone()).collect(),
        })
    }

    /// Check that this fleet can train a model: at least `min_units` units, each with at
    /// least `min_rows` rows.
    pub(crate) fn check_training(&self, min_units: usize, min_rows: usize) -> Result<()> {
        if self.len() < min_units {
            return Err(Error::InvalidInput(format!(
                "training needs at least {min_units} run-to-failure units, got {}",
                self.len()
            )));
        }
        if let Some(u) = self.units.iter().find(|u| u.len() < min_rows) {
            return Err(Error::InvalidInput(format!(
                "training needs at least {min_rows} cycles per unit, unit {} has {}",
                u.id(),
                u.len()
            )));
        }
        Ok(())
    }
}

/// Per-signal standardisation fitted on a training fleet, dropping constant signals.
///
/// A signal whose range over the whole fleet is zero (or negligible next to its level)
/// carries no information and would divide by zero: it is dropped, and
/// [`SignalScaler::dropped`] lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalScaler {
    n_inputs: usize,
    kept: Vec<usize>,
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl SignalScaler {
    /// Fit on every row of a fleet.
    ///
    /// ```
    /// use ndarray::array;
    /// use twin::analytics::rul::{Fleet, SignalScaler, UnitSeries};
    /// let u = UnitSeries::new(1, vec![0.0, 1.0, 2.0], array![[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]])?;
    /// let s = SignalScaler::fit(&Fleet::new(vec![u])?)?;
    /// assert_eq!(s.kept(), &[0]);
    /// assert_eq!(s.dropped(), vec![1]);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit(fleet: &Fleet) -> Result<Self> {
        let n = fleet.n_signals();
        let rows = fleet.n_rows() as f64;
        let mut kept = Vec::new();
        let mut mean = Vec::new();
        let mut std = Vec::new();
        for c in 0..n {
            let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
            for u in fleet.units() {
                for v in u.values().column(c) {
                    lo = lo.min(*v);
                    hi = hi.max(*v);
                    sum += v;
                }
            }
            let m = sum / rows;
            if hi - lo <= 1e-9 * m.abs().max(1.0) || m.is_nan() {
                continue;
            }
            let mut ss = 0.0;
            for u in fleet.units() {
                for v in u.values().column(c) {
                    ss += (v - m) * (v - m);
                }
            }
            let s = (ss / rows).sqrt();
            if !(s.is_finite() && s > 0.0) {
                continue;
            }
            kept.push(c);
            mean.push(m);
            std.push(s);
        }
        if kept.is_empty() {
            return Err(Error::InvalidInput(format!(
                "every one of the {n} signals is constant over the training fleet"
            )));
        }
        Ok(SignalScaler {
            n_inputs: n,
            kept,
            mean,
            std,
        })
    }

    /// Indices of the signals kept.
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// Indices of the signals dropped as constant.
    pub fn dropped(&self) -> Vec<usize> {
        (0..self.n_inputs)
            .filter(|c| !self.kept.contains(c))
            .collect()
    }

    /// Number of signals the scaler expects per row.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// Check that a unit has the number of signals the model was trained with.
    pub(crate) fn check(&self, unit: &UnitSeries) -> Result<()> {
        if unit.n_signals() != self.n_inputs {
            return Err(Error::InvalidInput(format!(
                "unit {} has {} signals, the model was trained on {}",
                unit.id(),
                unit.n_signals(),
                self.n_inputs
            )));
        }
        Ok(())
    }

    /// The standardised kept signals of a unit, `rows × kept` row-major.
    pub(crate) fn transform(&self, unit: &UnitSeries) -> Vec<f64> {
        let k = self.kept.len();
        let mut out = vec![0.0; unit.len() * k];
        for r in 0..unit.len() {
            for (j, &c) in self.kept.iter().enumerate() {
                out[r * k + j] = (unit.at(r, c) - self.mean[j]) / self.std[j];
            }
        }
        out
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let ok = self.kept.len() == self.mean.len()
            && self.kept.len() == self.std.len()
            && !self.kept.is_empty()
            && self.kept.iter().all(|&c| c < self.n_inputs)
            && self.mean.iter().all(|m| m.is_finite())
            && self.std.iter().all(|s| s.is_finite() && *s > 0.0);
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization(
                "signal scaler is inconsistent (kept indices, means or scales)".into(),
            ))
        }
    }
}
