//! Saving and loading models and detectors as versioned JSON.
//!
//! A saved file is an envelope `{"format": "...", "version": N, "model": {...}}`. Loading
//! checks the format tag and the version before the model itself, then the model's own
//! invariants, and reports any failure as [`Error::Serialization`] with a message that says
//! what was wrong: a corrupt file never yields a half-loaded model.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// A model or detector that can be saved to and loaded from versioned JSON.
///
/// ```
/// use twin::analytics::detect::{Cusum, Persist};
/// let d = Cusum::default();
/// let json = d.to_json()?;
/// assert!(json.contains(r#""format":"twin.detect.cusum""#));
/// let back = Cusum::from_json(&json)?;
/// assert_eq!(back.to_json()?, json);
///
/// // A version from the future, or garbage, is a clear serialization error.
/// let future = json.replace(r#""version":1"#, r#""version":99"#);
/// let e = Cusum::from_json(&future).unwrap_err();
/// assert_eq!(e.kind(), twin::ErrorKind::Serialization);
/// assert!(e.to_string().contains("version 99"), "{e}");
/// assert!(Cusum::from_json("{not json").is_err());
/// # Ok::<(), twin::Error>(())
/// ```
pub trait Persist: Serialize + DeserializeOwned {
    /// The stable tag written into the envelope, such as `"twin.detect.fitted_pca"`.
    const FORMAT: &'static str;
    /// The layout version this build writes and reads; bumped on incompatible changes.
    const VERSION: u32;

    /// Check the invariants of a freshly loaded value (dimensions, finiteness, ranges).
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// The value as versioned JSON.
    fn to_json(&self) -> Result<String> {
        crate::analytics::persist::to_json(Self::FORMAT, Self::VERSION, self)
    }

    /// Load a value saved by [`Persist::to_json`].
    ///
    /// Fails with [`Error::Serialization`] if the text is not such a file, holds another
    /// kind of model, has another format version, or violates the model's invariants.
    fn from_json(json: &str) -> Result<Self> {
        let model: Self = crate::analytics::persist::from_json(Self::FORMAT, Self::VERSION, json)?;
        model.check().map_err(|e| match e {
            Error::Serialization(_) => e,
            other => Error::Serialization(format!("cannot load {}: {other}", Self::FORMAT)),
        })?;
        Ok(model)
    }
}

/// Implement [`Persist`] with a format tag and version, and optionally a check function.
macro_rules! persist {
    ($ty:ty, $format:literal, $version:literal) => {
        impl $crate::analytics::detect::Persist for $ty {
            const FORMAT: &'static str = $format;
            const VERSION: u32 = $version;
        }
    };
    ($ty:ty, $format:literal, $version:literal, $check:expr) => {
        impl $crate::analytics::detect::Persist for $ty {
            const FORMAT: &'static str = $format;
            const VERSION: u32 = $version;
            fn check(&self) -> $crate::error::Result<()> {
                #[allow(clippy::redundant_closure_call)]
                ($check)(self)
            }
        }
    };
}
pub(crate) use persist;
