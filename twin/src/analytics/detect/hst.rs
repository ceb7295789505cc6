//! Streaming Half-Space Trees (Tan, Ting & Liu, "Fast anomaly detection for streaming
//! data", IJCAI 2011).

use rand::RngExt;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{
    check_threshold, persist, CalibratorConfig, Detection, ScoreCalibrator, StreamingDetector,
};
use crate::error::{Error, Result};

/// Lower and upper quantiles of a window that anchor the trees' unit space.
const RANGE_QUANTILES: (f64, f64) = (0.02, 0.98);
/// The unit space is the window's quantile range widened by this fraction of its width on
/// each side, so the trees' work ranges reach well past the data and far values separate
/// from the data near the root.
const RANGE_MARGIN: f64 = 0.5;
/// The default likelihood threshold of Half-Space Trees: their mass resolves densities
/// only down to about one point per window, so likelihoods saturate below 0.999.
pub const HST_THRESHOLD: f64 = 0.995;

/// Settings of a [`HalfSpaceTrees`].
///
/// ```
/// use twin::analytics::detect::HstConfig;
/// assert!(HstConfig::default().validate().is_ok());
/// assert!(HstConfig { height: 40, ..Default::default() }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HstConfig {
    /// Number of trees, in [1, 1000].
    pub trees: usize,
    /// Depth of every tree (leaves are at this depth), in [1, 20].
    pub height: u32,
    /// Values per window (the reference mass profile is the previous window's), in
    /// [16, 10⁶].
    pub window: usize,
    /// A node whose reference mass is at most this fraction of the window ends the scoring
    /// walk (the paper's size limit, 0.1 by default), in [0, 1).
    pub size_limit: f64,
    /// Weight, in [0, 1), of an exponentially weighted moving level (per dimension) whose
    /// deviations the trees see instead of the raw values; 0 feeds the raw values, as in
    /// the paper. The default 0.05 keeps slow trends and cycles longer than the window
    /// from reading as anomalies (the reference window lags them), while spikes and
    /// level shifts still stand out.
    pub detrend: f64,
    /// Seed of the random splits: the same seed gives the same trees.
    pub seed: u64,
    /// Likelihood at or above which a value is an alarm, in (0, 1); by default
    /// [`HST_THRESHOLD`].
    pub threshold: f64,
    /// Calibration of the mass score to likelihood (by default over 4096 scores, since the
    /// score's law changes a little with every window).
    pub calibration: CalibratorConfig,
}

impl Default for HstConfig {
    fn default() -> Self {
        HstConfig {
            trees: 10,
            height: 8,
            window: 250,
            size_limit: 0.1,
            detrend: 0.05,
            seed: 42,
            threshold: HST_THRESHOLD,
            calibration: CalibratorConfig {
                window: 4096,
                ..CalibratorConfig::default()
            },
        }
    }
}

impl HstConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        if !(1..=1000).contains(&self.trees) {
            return Err(Error::InvalidInput(format!(
                "trees must be in [1, 1000], got {}",
                self.trees
            )));
        }
        if !(1..=20).contains(&self.height) {
            return Err(Error::InvalidInput(format!(
                "height must be in [1, 20], got {}",
                self.height
            )));
        }
        if !(16..=1_000_000).contains(&self.window) {
            return Err(Error::InvalidInput(format!(
                "window must be in [16, 1000000], got {}",
                self.window
            )));
        }
        if ((2 * self.window as u64 + 1) << self.height) > u64::from(u32::MAX) {
            return Err(Error::InvalidInput(format!(
                "window {} and height {} are too large together: (2 window + 1) 2^height must stay below 2^32",
                self.window, self.height
            )));
        }
        if !(self.detrend >= 0.0 && self.detrend < 1.0) {
            return Err(Error::InvalidInput(format!(
                "detrend must be in [0, 1), got {}",
                self.detrend
            )));
        }
        if !(self.size_limit >= 0.0 && self.size_limit < 1.0) {
            return Err(Error::InvalidInput(format!(
                "size_limit must be a fraction in [0, 1), got {}",
                self.size_limit
            )));
        }
        check_threshold(self.threshold)?;
        self.calibration.validate()
    }

    fn internal_nodes(&self) -> usize {
        (1usize << self.height) - 1
    }

    fn nodes(&self) -> usize {
        (1usize << (self.height + 1)) - 1
    }
}

/// Streaming Half-Space Trees: an ensemble of random binary trees whose nodes split
/// their parent's work range in half along a random dimension; a value is anomalous when
/// it falls where the previous window put little mass.
///
/// Each tree draws a random work range per dimension (a point `s` in the unit interval,
/// extended by twice the larger distance to its ends, as in the paper) and halves it at
/// every level. The stream is cut into windows of `window` values. Values are scored
/// against the *reference* mass profile, counted from the previous window: walking down
/// each tree, the walk stops at the first node whose mass is at most the size limit (or at
/// a leaf), and that tree contributes `(mass + 1/2) * 2^depth` (the paper's `mass * 2^depth`,
/// with a half that ranks empty nodes by their size). Low total mass means anomalous.
///
/// The unit space is re-anchored at the end of every window to that window's robust
/// range (its 2% and 98% quantiles per dimension, widened by half that range on each
/// side), and the reference profile is counted in those coordinates from the window's
/// kept values. Trees thus follow level shifts and changes of scale without a value range
/// given in advance; memory stays bounded (`window × dim` kept values,
/// `trees × 2^(height+1)` counters).
///
/// [`Detection::score`] is `1 - mass / (window * 2^height)` (averaged over trees, in
/// [0, 1]); the likelihood calibrates `ln(window * 2^height + 1) - ln(mass + 1)` with a
/// [`ScoreCalibrator`]. The first window only learns.
///
/// ```
/// use twin::analytics::detect::{HalfSpaceTrees, StreamingDetector};
/// let mut hst = HalfSpaceTrees::default();
/// let mut state = 7_u64;
/// let mut alarms = Vec::new();
/// for i in 0..5_000 {
///     state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
///     let noise = (state >> 11) as f64 / (1u64 << 53) as f64 * 0.2;
///     let season = (i as f64 * std::f64::consts::TAU / 100.0).sin();
///     let x = if i == 4_321 { 6.0 } else { season + noise };
///     if hst.update(x).alarm {
///         alarms.push(i);
///     }
/// }
/// assert!(alarms.contains(&4_321));
/// // The default threshold (0.995) allows about one false alarm in 200 normal values.
/// assert!(alarms.len() <= 50, "{alarms:?}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HalfSpaceTrees {
    config: HstConfig,
    dim: usize,
    /// Per tree and internal node (heap order): the split dimension.
    split_dim: Vec<u32>,
    /// Per tree and internal node: the split point in unit coordinates.
    split_unit: Vec<f64>,
    /// Per tree and internal node: the split point in the stream's coordinates.
    split_raw: Vec<f64>,
    /// Univariate trees only: per tree, the root's work range in unit coordinates. In one
    /// dimension the nodes of depth k split it into 2^k equal cells, so a value's path is
    /// read off its leaf's index instead of walked.
    grid_unit: Vec<[f64; 2]>,
    /// Univariate trees only: per tree, the work range's start and the inverse leaf width
    /// in the stream's coordinates.
    grid_raw: Vec<[f64; 2]>,
    /// Per tree and node: the reference mass.
    mass: Vec<u32>,
    /// Univariate trees only: per tree and leaf cell, twice the score contribution of a
    /// value in that cell (the walk's stop node depends only on the cell).
    leaf_score: Vec<u32>,
    /// Per dimension: the value mapped to 0 in unit coordinates, and the unit's width.
    origin: Vec<f64>,
    width: Vec<f64>,
    /// The current window's values, row-major.
    latest: Vec<f64>,
    has_reference: bool,
    /// Mass at or below which a scoring walk stops.
    limit: u32,
    /// Per dimension: the moving level subtracted when detrending.
    level: Vec<f64>,
    /// Points seen (for the level's warm-up).
    seen: u64,
    #[serde(skip)]
    residual: Vec<f64>,
    calibrator: ScoreCalibrator,
    #[serde(skip)]
    scratch: Vec<f64>,
}

impl Default for HalfSpaceTrees {
    fn default() -> Self {
        Self::build(1, HstConfig::default())
    }
}

persist!(
    HalfSpaceTrees,
    "twin.detect.hst",
    1,
    |d: &HalfSpaceTrees| -> Result<()> {
        d.config.validate()?;
        d.calibrator.check()?;
        let c = &d.config;
        let ni = if d.dim == 1 {
            0
        } else {
            c.trees * c.internal_nodes()
        };
        let ok = d.dim >= 1
            && d.limit == (c.size_limit * c.window as f64).floor() as u32
            && d.split_dim.len() == ni
            && d.split_dim.iter().all(|&q| (q as usize) < d.dim)
            && d.split_unit.len() == ni
            && d.split_raw.len() == ni
            && d.grid_unit.len() == if d.dim == 1 { c.trees } else { 0 }
            && d.grid_raw.len() == d.grid_unit.len()
            && d.leaf_score.len() == d.grid_unit.len() << c.height
            && d.grid_raw.iter().flatten().all(|v| v.is_finite())
            && d.mass.len() == c.trees * c.nodes()
            && d.origin.len() == d.dim
            && d.level.len() == d.dim
            && d.level.iter().all(|v| v.is_finite())
            && d.width.len() == d.dim
            && d.latest.len() < c.window * d.dim
            && d.latest.len() % d.dim == 0
            && d.latest.iter().chain(&d.split_raw).all(|v| v.is_finite());
        if ok {
            Ok(())
        } else {
            Err(Error::Serialization("inconsistent half-space trees".into()))
        }
    }
);

impl HalfSpaceTrees {
    /// A univariate detector with validated settings.
    pub fn new(config: HstConfig) -> Result<Self> {
        Self::with_dim(1, config)
    }

    /// A detector of `dim`-dimensional points (use [`HalfSpaceTrees::update_vector`]).
    ///
    /// ```
    /// use twin::analytics::detect::{HalfSpaceTrees, HstConfig};
    /// let mut hst = HalfSpaceTrees::with_dim(2, HstConfig::default())?;
    /// for i in 0..3_000 {
    ///     // Normal points lie on the diagonal y = x.
    ///     let a = ((i * 7919) % 997) as f64 / 997.0;
    ///     hst.update_vector(&[a, a])?;
    /// }
    /// assert!(!hst.update_vector(&[0.5, 0.5])?.alarm);
    /// assert!(hst.update_vector(&[0.9, 0.1])?.alarm);
    /// assert!(hst.update_vector(&[1.0]).is_err());
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn with_dim(dim: usize, config: HstConfig) -> Result<Self> {
        config.validate()?;
        if !(1..=1024).contains(&dim) {
            return Err(Error::InvalidInput(format!(
                "dimension must be in [1, 1024], got {dim}"
            )));
        }
        Ok(Self::build(dim, config))
    }

    fn build(dim: usize, config: HstConfig) -> Self {
        let ni = config.internal_nodes();
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let per_tree = if dim == 1 { 0 } else { ni };
        let mut split_dim = Vec::with_capacity(config.trees * per_tree);
        let mut split_unit = Vec::with_capacity(config.trees * per_tree);
        // Work ranges of the nodes of one tree, per dimension.
        let mut lo = vec![0.0; per_tree.max(1) * dim];
        let mut hi = vec![0.0; per_tree.max(1) * dim];
        let mut grid_unit = Vec::new();
        for _ in 0..config.trees {
            for q in 0..dim {
                let s: f64 = rng.random();
                let span = 2.0 * s.max(1.0 - s);
                lo[q] = s - span;
                hi[q] = s + span;
            }
            if dim == 1 {
                grid_unit.push([lo[0], hi[0]]);
            }
            if dim == 1 {
                // One dimension: the levels are a regular grid of the root's range.
                continue;
            }
            for node in 0..ni {
                let q = rng.random_range(0..dim);
                let mid = 0.5 * (lo[node * dim + q] + hi[node * dim + q]);
                split_dim.push(q as u32);
                split_unit.push(mid);
                for (child, right) in [(2 * node + 1, false), (2 * node + 2, true)] {
                    if child < ni {
                        let (a, b) = (node * dim, child * dim);
                        lo.copy_within(a..a + dim, b);
                        hi.copy_within(a..a + dim, b);
                        if right {
                            lo[b + q] = mid;
                        } else {
                            hi[b + q] = mid;
                        }
                    }
                }
            }
        }
        let limit = (config.size_limit * config.window as f64).floor() as u32;
        let mut hst = HalfSpaceTrees {
            leaf_score: vec![0; grid_unit.len() << config.height],
            grid_raw: vec![[0.0, 1.0]; grid_unit.len()],
            grid_unit,
            split_raw: split_unit.clone(),
            split_dim,
            split_unit,
            mass: vec![0; config.trees * config.nodes()],
            origin: vec![0.0; dim],
            width: vec![1.0; dim],
            latest: Vec::with_capacity(config.window * dim),
            has_reference: false,
            limit,
            level: vec![0.0; dim],
            seen: 0,
            residual: Vec::with_capacity(dim),
            calibrator: ScoreCalibrator::build_valid(config.calibration),
            scratch: Vec::new(),
            config,
            dim,
        };
        hst.anchor();
        hst
    }

    /// Recompute the split points (and univariate grids) in the stream's coordinates from
    /// the current unit space.
    fn anchor(&mut self) {
        for (i, (raw, unit)) in self.split_raw.iter_mut().zip(&self.split_unit).enumerate() {
            let q = self.split_dim[i] as usize;
            *raw = self.origin[q] + unit * self.width[q];
        }
        let leaves = (1u64 << self.config.height) as f64;
        for (raw, unit) in self.grid_raw.iter_mut().zip(&self.grid_unit) {
            let lo = self.origin[0] + unit[0] * self.width[0];
            let cell = (unit[1] - unit[0]) * self.width[0] / leaves;
            *raw = [lo, 1.0 / cell];
        }
    }

    /// The leaf cell of a value in univariate tree `t`, in [0, 2^height).
    #[inline]
    fn leaf(&self, t: usize, v: f64) -> usize {
        let [lo, inv_cell] = self.grid_raw[t];
        let last = ((1u32 << self.config.height) - 1) as f64;
        // Values beyond the work range belong to the outermost cells, as in a walk.
        ((v - lo) * inv_cell).clamp(0.0, last) as u32 as usize
    }

    /// The settings.
    pub fn config(&self) -> &HstConfig {
        &self.config
    }

    /// The dimension of the points.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Score a point and learn from it; fails if its length is not the dimension.
    /// A point with a non-finite coordinate is skipped ([`Detection::QUIET`]).
    pub fn update_vector(&mut self, x: &[f64]) -> Result<Detection> {
        if x.len() != self.dim {
            return Err(Error::InvalidInput(format!(
                "point has {} coordinates, the trees {}",
                x.len(),
                self.dim
            )));
        }
        if !x.iter().all(|&v| super::usable_value(v)) {
            return Ok(Detection::QUIET);
        }
        if self.config.detrend == 0.0 {
            return Ok(self.process(x));
        }
        // Score the deviations from the moving level, then move the level.
        let mut r = std::mem::take(&mut self.residual);
        r.clear();
        let a = self.config.detrend.max(1.0 / (self.seen as f64 + 1.0));
        for (level, &v) in self.level.iter_mut().zip(x) {
            if self.seen == 0 {
                *level = v;
            }
            r.push(v - *level);
            *level += a * (v - *level);
        }
        self.seen += 1;
        let det = self.process(&r);
        self.residual = r;
        Ok(det)
    }

    /// Score a (detrended) point against the reference profile and add it to the window.
    fn process(&mut self, x: &[f64]) -> Detection {
        let det = if self.has_reference {
            let mass = self.mass_of(x);
            let full = self.config.window as f64 * (1u64 << self.config.height) as f64;
            let raw = (full + 1.0).ln() - (mass + 1.0).ln();
            let l = self.calibrator.likelihood(raw.max(0.0));
            Detection {
                score: (1.0 - mass / full).clamp(0.0, 1.0),
                likelihood: l,
                alarm: l >= self.config.threshold,
            }
        } else {
            Detection::QUIET
        };
        self.latest.extend_from_slice(x);
        if self.latest.len() == self.config.window * self.dim {
            self.end_window();
        }
        det
    }

    /// The mean over trees of `(mass + 1/2) * 2^depth` at the node where each walk stops.
    fn mass_of(&self, x: &[f64]) -> f64 {
        let c = &self.config;
        let (ni, nn, h) = (c.internal_nodes(), c.nodes(), c.height);
        // Twice (mass + 1/2) * 2^depth: the half breaks ties between empty nodes, so a
        // value far from all data (an empty node near the root) scores lower than one just
        // past the data's edge (an empty node deep down).
        let contribution = |r: u32, depth: u32| (2 * u64::from(r) + 1) << depth;
        let mut total: u64 = 0;
        if self.dim == 1 {
            // A univariate value's path is fixed by its leaf cell: one table look-up a tree.
            let leaves = 1usize << h;
            for (t, table) in self.leaf_score.chunks_exact(leaves).enumerate() {
                total += u64::from(table[self.leaf(t, x[0])]);
            }
            return total as f64 / (2 * c.trees) as f64;
        }
        for t in 0..c.trees {
            let mass = &self.mass[t * nn..(t + 1) * nn];
            let split = &self.split_raw[t * ni..(t + 1) * ni];
            let dims = &self.split_dim[t * ni..(t + 1) * ni];
            let mut node = 0usize;
            let mut depth = 0u32;
            loop {
                let r = mass[node];
                if r <= self.limit || depth == h {
                    total += contribution(r, depth);
                    break;
                }
                node = 2 * node + 1 + usize::from(x[dims[node] as usize] >= split[node]);
                depth += 1;
            }
        }
        total as f64 / (2 * c.trees) as f64
    }

    /// Re-anchor the unit space to the finished window and count its reference profile.
    fn end_window(&mut self) {
        let (dim, w) = (self.dim, self.config.window);
        let lo_k = ((w - 1) as f64 * RANGE_QUANTILES.0).round() as usize;
        let hi_k = ((w - 1) as f64 * RANGE_QUANTILES.1).round() as usize;
        for q in 0..dim {
            self.scratch.clear();
            self.scratch
                .extend(self.latest.iter().skip(q).step_by(dim).copied());
            let (_, &mut a, _) = self.scratch.select_nth_unstable_by(lo_k, f64::total_cmp);
            let (_, &mut b, _) = self.scratch.select_nth_unstable_by(hi_k, f64::total_cmp);
            let mut width = b - a;
            if width <= 0.0 {
                let (mn, mx) = self
                    .scratch
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                        (l.min(v), h.max(v))
                    });
                width = mx - mn;
            }
            let width = width.max(1e-9 * a.abs().max(1.0));
            self.origin[q] = a - RANGE_MARGIN * width;
            self.width[q] = width * (1.0 + 2.0 * RANGE_MARGIN);
        }
        self.anchor();
        // Count the window into the reference profile.
        self.mass.fill(0);
        let c = self.config;
        let (ni, nn, h) = (c.internal_nodes(), c.nodes(), c.height);
        if dim == 1 {
            // Count leaves, then sum children into parents, then tabulate each cell's
            // score contribution.
            let leaves = 1usize << h;
            for i in 0..self.latest.len() {
                let v = self.latest[i];
                for t in 0..c.trees {
                    let leaf = self.leaf(t, v);
                    self.mass[t * nn + ni + leaf] += 1;
                }
            }
            let limit = self.limit;
            for (mass, table) in self
                .mass
                .chunks_exact_mut(nn)
                .zip(self.leaf_score.chunks_exact_mut(leaves))
            {
                for node in (0..ni).rev() {
                    mass[node] = mass[2 * node + 1] + mass[2 * node + 2];
                }
                fill_stops(mass, table, limit, h);
            }
            self.latest.clear();
            self.has_reference = true;
            return;
        }
        for p in self.latest.chunks_exact(dim) {
            for t in 0..c.trees {
                let mass = &mut self.mass[t * nn..(t + 1) * nn];
                let split = &self.split_raw[t * ni..(t + 1) * ni];
                let dims = &self.split_dim[t * ni..(t + 1) * ni];
                let mut node = 0usize;
                for _ in 0..h {
                    mass[node] += 1;
                    node = 2 * node + 1 + usize::from(p[dims[node] as usize] >= split[node]);
                }
                mass[node] += 1;
            }
        }
        self.latest.clear();
        self.has_reference = true;
    }
}

/// Fill each leaf cell of a univariate tree with twice the score contribution of its
/// walk's stop node: the first node on the path with mass at most `limit`, or the leaf.
fn fill_stops(mass: &[u32], table: &mut [u32], limit: u32, h: u32) {
    // Top-down over the levels: a cell inherits its parent's stop when the parent stopped.
    // `table` holds, per cell of the current level's granularity, the stop value or 0.
    table[0] = 0;
    for depth in 0..=h {
        let width = 1usize << (h - depth);
        let first = (1usize << depth) - 1;
        for i in 0..(1usize << depth) {
            let cell = i * width;
            if table[cell] != 0 {
                continue;
            }
            let r = mass[first + i];
            if r <= limit || depth == h {
                // At most (2 window + 1) 2^height, which validation keeps within u32.
                table[cell..cell + width].fill((2 * r + 1) << depth);
            } else if width > 1 {
                // Mark the right half as undecided too (the left half shares `cell`).
                table[cell + width / 2] = 0;
            }
        }
    }
}

impl StreamingDetector for HalfSpaceTrees {
    fn name(&self) -> &'static str {
        "hst"
    }

    /// Score one value; a multivariate forest (dimension above 1) ignores it and returns
    /// [`Detection::QUIET`]: use [`HalfSpaceTrees::update_vector`].
    fn update(&mut self, x: f64) -> Detection {
        self.update_vector(std::slice::from_ref(&x))
            .unwrap_or(Detection::QUIET)
    }

    fn reset(&mut self) {
        *self = Self::build(self.dim, self.config);
    }

    fn is_warm(&self) -> bool {
        self.has_reference && self.calibrator.is_calibrated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_table_matches_a_walk_down_the_tree() {
        for limit in [0.0, 0.1] {
            let cfg = HstConfig {
                size_limit: limit,
                ..HstConfig::default()
            };
            let mut hst = HalfSpaceTrees::new(cfg).expect("valid");
            let mut state = 17_u64;
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            for _ in 0..1_000 {
                let u = next();
                hst.update(u * u * 3.0 - 1.0);
            }
            let (h, nn) = (cfg.height, cfg.nodes());
            for _ in 0..500 {
                let v = next() * 8.0 - 4.0;
                let mut expected = 0_u64;
                for t in 0..cfg.trees {
                    let leaf = hst.leaf(t, v);
                    let mass = &hst.mass[t * nn..(t + 1) * nn];
                    for depth in 0..=h {
                        let r = mass[(1usize << depth) - 1 + (leaf >> (h - depth))];
                        if r <= hst.limit || depth == h {
                            expected += (2 * u64::from(r) + 1) << depth;
                            break;
                        }
                    }
                }
                let want = expected as f64 / (2 * cfg.trees) as f64;
                assert_eq!(hst.mass_of(&[v]), want, "value {v}");
            }
            // The masses of each level add up to the window.
            for t in 0..cfg.trees {
                let mass = &hst.mass[t * nn..(t + 1) * nn];
                for depth in 0..=h {
                    let level = &mass[(1usize << depth) - 1..(2usize << depth) - 1];
                    assert_eq!(level.iter().sum::<u32>() as usize, cfg.window);
                }
            }
        }
    }
}
