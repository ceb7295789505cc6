//! Small helpers that format values the way Python's `repr` does, for `__repr__`s.

/// A string as Python would quote it (single quotes unless it holds one).
pub(crate) fn quote(s: &str) -> String {
    let simple = s.chars().all(|c| c.is_ascii_graphic() || c == ' ') && !s.contains('\\');
    match (simple, s.contains('\'')) {
        (true, false) => format!("'{s}'"),
        (true, true) if !s.contains('"') => format!("\"{s}\""),
        // Rare: fall back to Rust's escaping, which Python reads back the same for these.
        _ => format!("{s:?}"),
    }
}

/// A float as Python prints it (`nan`, `inf`, `1.0`).
pub(crate) fn float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// An optional float, `None` when absent.
pub(crate) fn opt_float(x: Option<f64>) -> String {
    x.map_or_else(|| "None".into(), float)
}

/// An optional string, `None` when absent.
pub(crate) fn opt_quote(s: Option<&str>) -> String {
    s.map_or_else(|| "None".into(), quote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python() {
        assert_eq!(quote("belt_speed"), "'belt_speed'");
        assert_eq!(quote("it's"), "\"it's\"");
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(f64::NAN), "nan");
        assert_eq!(float(f64::NEG_INFINITY), "-inf");
        assert_eq!(opt_float(None), "None");
        assert_eq!(opt_quote(Some("p")), "'p'");
    }
}
