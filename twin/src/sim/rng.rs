//! Random streams keyed by `(seed, entity, stream)`.
//!
//! Every random draw of a simulation comes from a small SplitMix64 stream whose starting
//! state is a hash of the scenario seed, the entity (a device or gateway index) and the
//! stream's purpose (jitter, channel, failures, ...). A device's numbers therefore do not
//! depend on the order in which other devices are simulated, nor on how many threads run
//! replications, and two scenarios that differ only in a policy draw the same numbers for
//! the same device (common random numbers for paired what-if comparisons).
//!
//! SplitMix64 (Steele, Lea and Flood, 2014) passes BigCrush; its state is one `u64`, so a
//! stream costs 8 bytes of per-device storage.

/// Golden-ratio increment of SplitMix64.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective mix of 64 bits.
///
/// ```
/// use twin::sim::rng::mix;
/// assert_ne!(mix(1), mix(2));
/// assert_eq!(mix(7), mix(7));
/// ```
#[inline]
pub const fn mix(z: u64) -> u64 {
    let mut z = z;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The purpose of a random stream; each entity has one independent stream per purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum StreamId {
    /// Report phase, jitter and sensor noise.
    Sensing = 1,
    /// Channel loss, radio channel choice and retry back-off.
    Channel = 2,
    /// Failure and repair times.
    Failure = 3,
    /// Fixed per-entity properties: position, shadowing, which devices a fault hits.
    Placement = 4,
    /// Gateway-side draws (link jitter).
    Gateway = 5,
}

/// The starting state of the stream `(seed, entity, stream)`.
///
/// ```
/// use twin::sim::rng::{key, StreamId};
/// assert_ne!(key(1, 0, StreamId::Sensing), key(1, 1, StreamId::Sensing));
/// assert_ne!(key(1, 0, StreamId::Sensing), key(1, 0, StreamId::Channel));
/// assert_ne!(key(1, 0, StreamId::Sensing), key(2, 0, StreamId::Sensing));
/// ```
#[inline]
pub const fn key(seed: u64, entity: u64, stream: StreamId) -> u64 {
    mix(mix(seed ^ 0x5EED_5EED_5EED_5EED)
        ^ mix(entity.wrapping_mul(GAMMA) ^ (stream as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)))
}

/// Next 64 random bits of the stream whose state is `state`.
#[inline]
pub fn next_u64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GAMMA);
    mix(*state)
}

/// Map 64 random bits to `[0, 1)`.
#[inline]
pub fn to_unit(x: u64) -> f64 {
    // Through i64: the value fits in 53 bits, so the signed conversion (one instruction on
    // x86-64, where the unsigned one is a branchy sequence) gives the same double.
    ((x >> 11) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw in `[0, 1)`.
#[inline]
pub fn uniform(state: &mut u64) -> f64 {
    to_unit(next_u64(state))
}

/// A uniform draw in `(0, 1]`, safe to take the logarithm of.
#[inline]
pub fn uniform_open(state: &mut u64) -> f64 {
    (((next_u64(state) >> 11) + 1) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An exponential draw with the given mean.
#[inline]
pub fn exponential(state: &mut u64, mean: f64) -> f64 {
    -uniform_open(state).ln() * mean
}

/// A Weibull draw with shape `k` and scale `lambda` (inverse CDF).
#[inline]
pub fn weibull(state: &mut u64, shape: f64, scale: f64) -> f64 {
    scale * (-uniform_open(state).ln()).powf(1.0 / shape)
}

/// A standard normal draw (Box-Muller, one of the pair).
#[inline]
pub fn normal(state: &mut u64) -> f64 {
    let u1 = uniform_open(state);
    let u2 = uniform(state);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A stateless uniform draw in `[0, 1)` for a fixed property of `(seed, entity, stream,
/// index)`: the same arguments always give the same number.
#[inline]
pub fn hash_uniform(seed: u64, entity: u64, stream: StreamId, index: u64) -> f64 {
    let mut s = key(seed, entity, stream) ^ mix(index.wrapping_add(1));
    uniform(&mut s)
}

/// A 64-bit seed derived from a base seed and a replication index.
///
/// ```
/// use twin::sim::rng::derive_seed;
/// assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
/// ```
#[inline]
pub const fn derive_seed(seed: u64, index: u64) -> u64 {
    mix(seed ^ mix(index ^ 0xA5A5_A5A5_5A5A_5A5A))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_moments_and_range() {
        let mut s = key(9, 3, StreamId::Sensing);
        let n = 200_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let u = uniform(&mut s);
            assert!((0.0..1.0).contains(&u));
            sum += u;
            sq += u * u;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "var {var}");
    }

    #[test]
    fn exponential_normal_weibull_means() {
        let mut s = key(1, 1, StreamId::Failure);
        let n = 200_000;
        let m = (0..n).map(|_| exponential(&mut s, 3.0)).sum::<f64>() / n as f64;
        assert!((m - 3.0).abs() < 0.05, "exp mean {m}");
        let z: Vec<f64> = (0..n).map(|_| normal(&mut s)).collect();
        let zm = z.iter().sum::<f64>() / n as f64;
        let zv = z.iter().map(|x| (x - zm) * (x - zm)).sum::<f64>() / n as f64;
        assert!(
            zm.abs() < 0.01 && (zv - 1.0).abs() < 0.02,
            "normal {zm} {zv}"
        );
        // Weibull mean = scale * Gamma(1 + 1/k); k = 2: Gamma(1.5) = sqrt(pi)/2.
        let w = (0..n).map(|_| weibull(&mut s, 2.0, 10.0)).sum::<f64>() / n as f64;
        let expect = 10.0 * std::f64::consts::PI.sqrt() / 2.0;
        assert!((w - expect).abs() < 0.05, "weibull mean {w} vs {expect}");
    }

    #[test]
    fn streams_are_uncorrelated() {
        let mut a = key(5, 10, StreamId::Sensing);
        let mut b = key(5, 11, StreamId::Sensing);
        let n = 100_000;
        let mut c = 0.0;
        for _ in 0..n {
            c += (uniform(&mut a) - 0.5) * (uniform(&mut b) - 0.5);
        }
        let corr = c / n as f64 * 12.0;
        assert!(corr.abs() < 0.02, "correlation {corr}");
    }
}
