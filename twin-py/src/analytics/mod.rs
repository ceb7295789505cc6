//! The predictive-maintenance models of `twin::analytics`, fit from numpy and predicting
//! to numpy.
//!
//! - [`detect`]: streaming detectors (`EwmaDetector`, `RobustZScore`, `Cusum`,
//!   `PageHinkley`, `HalfSpaceTrees`, `DetectorEnsemble`).
//! - [`multivariate`]: `PcaDetector`, `MahalanobisDetector`, fit on healthy data.
//! - [`arrays`]: numpy inputs as read-only views, outputs without copies.
//! - [`params`]: constructor keyword arguments as scikit-learn parameters.

pub mod arrays;
pub mod detect;
pub(crate) mod model;
pub mod multivariate;
pub mod params;
