//! The predictive-maintenance models of `twin::analytics`, fit from numpy and predicting
//! to numpy.
//!
//! - Streaming detectors (`EwmaDetector`, `RobustZScore`, `Cusum`, `PageHinkley`,
//!   `HalfSpaceTrees`, `DetectorEnsemble`) in [`detect`].
//! - `PcaDetector` and `MahalanobisDetector`, fit on healthy data, in [`multivariate`].
//! - `RollingFeatures`, `condition_features` and `BandEnergies` in [`features`].
//! - `HealthIndex` in [`health`].
//! - `RegressionRul`, `SimilarityRul`, `ExponentialRul` and `RulEnsemble` in [`rul`].
//! - `LinearModel`, `BatteryCircuit`, `StateModel` (Python callables), `KalmanFilter`,
//!   `UnscentedKalmanFilter`, `ParticleFilter` and Monte Carlo prognosis in [`estimate`].
//! - `Weibull` in [`reliability`].
//! - numpy inputs as read-only views and outputs without copies in [`arrays`];
//!   constructor keyword arguments as scikit-learn parameters in [`params`].

pub mod arrays;
pub mod detect;
pub mod estimate;
pub mod features;
pub mod health;
pub(crate) mod model;
pub mod multivariate;
pub mod params;
pub mod reliability;
pub mod rul;
