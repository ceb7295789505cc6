//! Results as columnar tables (named columns of `f64`, `i64` or `u64`, one row per device,
//! gateway, time bucket or replication) that map straight to numpy arrays, pandas or Arrow,
//! and a log-binned latency histogram for percentiles without storing every latency.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "values", rename_all = "snake_case")]
pub enum Column {
    /// Floating-point values (NaN marks "no value": in JSON it is `null`, and infinities are
    /// the strings `"inf"` and `"-inf"`, so every value reads back as it was).
    F64(#[serde(with = "non_finite")] Vec<f64>),
    /// Signed integers.
    I64(Vec<i64>),
    /// Unsigned counts.
    U64(Vec<u64>),
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::U64(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Named columns of equal length.
///
/// ```
/// use twin::sim::metrics::{Column, Table};
/// let mut t = Table::default();
/// t.push("device", Column::U64(vec![0, 1]))?;
/// t.push("delivered", Column::F64(vec![0.9, 1.0]))?;
/// assert_eq!(t.rows(), 2);
/// assert_eq!(t.f64("delivered")?, &[0.9, 1.0]);
/// assert!(t.push("short", Column::I64(vec![1])).is_err());
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Column names, in order.
    pub names: Vec<String>,
    /// Columns, parallel to `names`.
    pub columns: Vec<Column>,
}

impl Table {
    /// Append a column; it must have as many rows as the others and a new name.
    pub fn push(&mut self, name: &str, column: Column) -> Result<()> {
        if let Some(first) = self.columns.first() {
            if first.len() != column.len() {
                return Err(Error::InvalidInput(format!(
                    "column {name} has {} rows, the table has {}",
                    column.len(),
                    first.len()
                )));
            }
        }
        if self.names.iter().any(|n| n == name) {
            return Err(Error::InvalidInput(format!("duplicate column {name}")));
        }
        self.names.push(name.to_string());
        self.columns.push(column);
        Ok(())
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Result<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
            .ok_or_else(|| Error::InvalidInput(format!("no column named {name}")))
    }

    /// An `f64` column by name.
    pub fn f64(&self, name: &str) -> Result<&[f64]> {
        match self.column(name)? {
            Column::F64(v) => Ok(v),
            _ => Err(Error::InvalidInput(format!("column {name} is not f64"))),
        }
    }

    /// A `u64` column by name.
    pub fn u64(&self, name: &str) -> Result<&[u64]> {
        match self.column(name)? {
            Column::U64(v) => Ok(v),
            _ => Err(Error::InvalidInput(format!("column {name} is not u64"))),
        }
    }

    /// An `i64` column by name.
    pub fn i64(&self, name: &str) -> Result<&[i64]> {
        match self.column(name)? {
            Column::I64(v) => Ok(v),
            _ => Err(Error::InvalidInput(format!("column {name} is not i64"))),
        }
    }

    /// Sum of a `u64` column.
    pub fn sum_u64(&self, name: &str) -> Result<u64> {
        Ok(self.u64(name)?.iter().sum())
    }

    /// The table as CSV text (header line, then one line per row).
    pub fn to_csv(&self) -> String {
        let mut out = self.names.join(",");
        out.push('\n');
        for r in 0..self.rows() {
            let cells: Vec<String> = self
                .columns
                .iter()
                .map(|c| match c {
                    Column::F64(v) => format!("{}", v[r]),
                    Column::I64(v) => v[r].to_string(),
                    Column::U64(v) => v[r].to_string(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

/// Smallest latency resolved, seconds (about 1 µs, `2^-20`); smaller values fall in bin 0.
const MIN_EXP: i64 = -20;
/// Largest binned latency: `2^17` s (about 36 hours); larger values fall in the last bin.
const MAX_EXP: i64 = 17;
/// Sub-bins per octave (the top 4 mantissa bits).
const SUB: i64 = 16;
/// Number of bins.
const BINS: usize = ((MAX_EXP - MIN_EXP) * SUB + 2) as usize;

/// A log-binned histogram of latencies: 16 bins per octave (a bin is 4.4 % wide) from
/// about 1 µs to 36 h, found from the float's bits (no logarithm), with an exact count,
/// sum and maximum.
///
/// ```
/// use twin::sim::metrics::LatencyHistogram;
/// let mut h = LatencyHistogram::new();
/// for i in 1..=100 { h.record(i as f64 * 0.01); }
/// let p50 = h.percentile(0.5).unwrap();
/// assert!((p50 - 0.5).abs() / 0.5 < 0.05);
/// assert_eq!(h.count(), 100);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    bins: Vec<u64>,
    count: u64,
    sum: f64,
    max: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        LatencyHistogram {
            bins: vec![0; BINS],
            count: 0,
            sum: 0.0,
            max: 0.0,
        }
    }

    #[inline]
    fn bin(s: f64) -> usize {
        // Exponent and top 4 mantissa bits of a positive normal double.
        let top = (s.to_bits() >> 48) as i64;
        let lo = (MIN_EXP + 1023) * SUB;
        (top - lo + 1).clamp(0, BINS as i64 - 1) as usize
    }

    /// Record one latency in seconds.
    #[inline]
    pub fn record(&mut self, s: f64) {
        let b = if s > 0.0 { Self::bin(s) } else { 0 };
        self.bins[b] += 1;
        self.count += 1;
        self.sum += s;
        if s > self.max {
            self.max = s;
        }
    }

    /// The geometric middle of bin `b`.
    fn middle(b: usize) -> f64 {
        let top = (b as i64 - 1) + (MIN_EXP + 1023) * SUB;
        let lo = f64::from_bits((top as u64) << 48);
        let hi = f64::from_bits(((top + 1) as u64) << 48);
        (lo * hi).sqrt()
    }

    /// Add another histogram's counts.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean latency, or `None` if nothing was recorded.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// Largest latency, or `None` if nothing was recorded.
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// The `q`-quantile (`0 < q <= 1`) as the geometric middle of its bin (capped at the
    /// maximum), or `None` if nothing was recorded.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(q > 0.0 && q <= 1.0) {
            return None;
        }
        let target = (q * self.count as f64).ceil() as u64;
        let mut acc = 0;
        for (b, &c) in self.bins.iter().enumerate() {
            acc += c;
            if acc >= target {
                if b == 0 {
                    return Some(self.max.min(2f64.powi(MIN_EXP as i32)));
                }
                return Some(Self::middle(b).min(self.max));
            }
        }
        Some(self.max)
    }
}

/// JSON has no NaN or infinity: NaN is written as `null` and infinities as `"inf"` /
/// `"-inf"`, and read back as such.
mod non_finite {
    use serde::de::{Deserializer, Error as _};
    use serde::ser::{SerializeSeq, Serializer};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Cell {
        Number(f64),
        Word(String),
        Null(()),
    }

    pub(super) fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(values.len()))?;
        for &v in values {
            if v.is_nan() {
                seq.serialize_element(&Option::<f64>::None)?;
            } else if v == f64::INFINITY {
                seq.serialize_element("inf")?;
            } else if v == f64::NEG_INFINITY {
                seq.serialize_element("-inf")?;
            } else {
                seq.serialize_element(&v)?;
            }
        }
        seq.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let cells: Vec<Option<Cell>> = Vec::deserialize(d)?;
        cells
            .into_iter()
            .map(|c| match c {
                None | Some(Cell::Null(())) => Ok(f64::NAN),
                Some(Cell::Number(v)) => Ok(v),
                Some(Cell::Word(w)) => match w.as_str() {
                    "inf" => Ok(f64::INFINITY),
                    "-inf" => Ok(f64::NEG_INFINITY),
                    "nan" => Ok(f64::NAN),
                    other => Err(D::Error::custom(format!("not a number: {other:?}"))),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod json_tests {
    use super::{Column, Table};

    #[test]
    fn non_finite_cells_survive_json() {
        let mut t = Table::default();
        t.push(
            "x",
            Column::F64(vec![1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.25]),
        )
        .expect("column");
        let json = serde_json::to_string(&t).expect("json");
        assert!(json.contains(r#"[1.5,null,"inf","-inf",-0.25]"#), "{json}");
        let back: Table = serde_json::from_str(&json).expect("parse");
        let v = back.f64("x").expect("column");
        assert_eq!(
            (v[0], v[2], v[3], v[4]),
            (1.5, f64::INFINITY, f64::NEG_INFINITY, -0.25)
        );
        assert!(v[1].is_nan());
        assert!(serde_json::from_str::<Table>(
            r#"{"names":["x"],"columns":[{"type":"f64","values":["many"]}]}"#
        )
        .is_err());
    }
}
