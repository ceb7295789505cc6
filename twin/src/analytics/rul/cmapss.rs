//! A loader for NASA's C-MAPSS turbofan data (Saxena et al., PHM08): whitespace-separated
//! rows of `unit cycle setting1 setting2 setting3 s1 … s21`.

use std::path::Path;

use ndarray::Array2;

use super::data::Fleet;
use crate::error::{Error, Result};

/// Names of the 24 signal columns of a C-MAPSS file, in file order.
pub const COLUMNS: [&str; 24] = [
    "setting1", "setting2", "setting3", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
    "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21",
];

/// Signal column indices (into [`COLUMNS`]) of the 14 sensors that vary on FD001: the
/// three operating settings (a single flight condition) and sensors 1, 5, 6, 10, 16, 18,
/// 19 (constant or nearly so) are left out.
pub const FD001_SENSORS: [usize; 14] = [4, 5, 6, 9, 10, 11, 13, 14, 15, 16, 17, 19, 22, 23];

/// Parse the text of a `train_FD00x.txt` or `test_FD00x.txt` file into a fleet whose
/// 24 signals are named as in [`COLUMNS`].
///
/// ```
/// let text = "1 1 0.0 0.0 100.0 518.67 641.82 1589.70 1400.60 14.62 21.61 554.36 2388.06 9046.19 1.30 47.47 521.66 2388.02 8138.62 8.4195 0.03 392 2388 100.00 39.06 23.4190\n\
///             1 2 0.0 0.0 100.0 518.67 642.15 1591.82 1403.14 14.62 21.61 553.75 2388.04 9044.07 1.30 47.49 522.28 2388.07 8131.49 8.4318 0.03 392 2388 100.00 39.00 23.4236\n";
/// let fleet = twin::analytics::rul::cmapss::parse(text)?;
/// assert_eq!((fleet.len(), fleet.n_signals()), (1, 24));
/// assert_eq!(fleet.units()[0].time(), &[1.0, 2.0]);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn parse(text: &str) -> Result<Fleet> {
    let mut ids = Vec::new();
    let mut time = Vec::new();
    let mut values = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() != 26 {
            return Err(Error::InvalidInput(format!(
                "C-MAPSS line {}: expected 26 columns, found {}",
                n + 1,
                fields.len()
            )));
        }
        let num = |i: usize| -> Result<f64> {
            fields[i].parse::<f64>().map_err(|_| {
                Error::InvalidInput(format!(
                    "C-MAPSS line {}, column {}: {:?} is not a number",
                    n + 1,
                    i + 1,
                    fields[i]
                ))
            })
        };
        let id = num(0)?;
        if !(id >= 0.0 && id.fract() == 0.0) {
            return Err(Error::InvalidInput(format!(
                "C-MAPSS line {}: unit {id} is not a whole number",
                n + 1
            )));
        }
        ids.push(id as u64);
        time.push(num(1)?);
        for i in 2..26 {
            values.push(num(i)?);
        }
    }
    let rows = ids.len();
    let values = Array2::from_shape_vec((rows, 24), values)
        .map_err(|e| Error::InvalidInput(format!("C-MAPSS table: {e}")))?;
    Fleet::from_long(&ids, &time, values.view())?
        .with_names(COLUMNS.iter().map(|s| s.to_string()).collect())
}

/// Read and parse a C-MAPSS `train_*` or `test_*` file.
pub fn load(path: impl AsRef<Path>) -> Result<Fleet> {
    parse(&std::fs::read_to_string(path)?)
}

/// Read a `RUL_FD00x.txt` file: the true remaining life of each test unit, in unit order.
///
/// ```
/// # let dir = std::env::temp_dir().join("twin-rul-doc");
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("RUL.txt");
/// std::fs::write(&path, "112\n98 \n")?;
/// assert_eq!(twin::analytics::rul::cmapss::load_rul(&path)?, vec![112.0, 98.0]);
/// # Ok::<(), twin::Error>(())
/// ```
pub fn load_rul(path: impl AsRef<Path>) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let s = line.trim();
        if s.is_empty() {
            continue;
        }
        let v: f64 = s.parse().map_err(|_| {
            Error::InvalidInput(format!("RUL line {}: {s:?} is not a number", n + 1))
        })?;
        if !v.is_finite() {
            return Err(Error::NonFinite(format!("RUL line {}", n + 1)));
        }
        out.push(v);
    }
    Ok(out)
}
