//! A compact histogram gradient-boosted regression-tree learner (least squares).
//!
//! Written here rather than taken from a crate: the pure-Rust boosting crates available
//! either predate ndarray 0.16, are Python-first, or pull in a large dependency tree,
//! while the algorithm needed (depth-wise trees on 8-bit feature histograms with the
//! sibling-subtraction trick, row and column subsampling, L2-regularised leaves) is a few
//! hundred lines. Trees are fitted to the residuals of the ensemble so far (the gradient
//! of the squared loss); a split maximises the gain
//! `G_L²/(n_L+λ) + G_R²/(n_R+λ) − G²/(n+λ)`; a leaf's value is `−η G/(n+λ)`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::progress::Progress;

/// Settings of a [`Gbdt`]; [`GbdtConfig::validate`] checks them.
///
/// ```
/// use twin::analytics::rul::gbdt::{Gbdt, GbdtConfig};
/// let cfg = GbdtConfig { n_trees: 50, max_depth: 3, min_samples_leaf: 2, ..GbdtConfig::default() };
/// // y = x0² on a grid
/// let x: Vec<f64> = (0..200).map(|i| i as f64 / 100.0 - 1.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v * v).collect();
/// let model = Gbdt::fit(&cfg, &x, 1, &y)?;
/// assert!((model.predict(&[0.5])? - 0.25).abs() < 0.05);
/// assert!(model.predict(&[0.5, 1.0]).is_err()); // wrong number of features
/// # Ok::<(), twin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtConfig {
    /// Number of boosting rounds (trees).
    pub n_trees: usize,
    /// Shrinkage applied to every tree, in (0, 1].
    pub learning_rate: f64,
    /// Maximum depth of a tree (1 to 16).
    pub max_depth: usize,
    /// Minimum number of training rows in a leaf (at least 1).
    pub min_samples_leaf: usize,
    /// L2 penalty on leaf values (λ ≥ 0).
    pub l2: f64,
    /// Fraction of rows drawn (without replacement) for each tree, in (0, 1].
    pub subsample: f64,
    /// Fraction of features considered by each tree, in (0, 1].
    pub colsample: f64,
    /// Histogram bins per feature (2 to 256).
    pub max_bins: usize,
    /// Seed of the row and feature sampling.
    pub seed: u64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        GbdtConfig {
            n_trees: 300,
            learning_rate: 0.05,
            max_depth: 5,
            min_samples_leaf: 20,
            l2: 1.0,
            subsample: 0.8,
            colsample: 0.8,
            max_bins: 64,
            seed: 0,
        }
    }
}

impl GbdtConfig {
    /// Check every setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidInput(m));
        if self.n_trees == 0 {
            return bad("n_trees must be at least 1".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(format!(
                "learning_rate must be in (0, 1], got {}",
                self.learning_rate
            ));
        }
        if !(1..=16).contains(&self.max_depth) {
            return bad(format!(
                "max_depth must be in 1..=16, got {}",
                self.max_depth
            ));
        }
        if self.min_samples_leaf == 0 {
            return bad("min_samples_leaf must be at least 1".into());
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return bad(format!(
                "l2 must be finite and non-negative, got {}",
                self.l2
            ));
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return bad(format!(
                "subsample must be in (0, 1], got {}",
                self.subsample
            ));
        }
        if !(self.colsample > 0.0 && self.colsample <= 1.0) {
            return bad(format!(
                "colsample must be in (0, 1], got {}",
                self.colsample
            ));
        }
        if !(2..=256).contains(&self.max_bins) {
            return bad(format!(
                "max_bins must be in 2..=256, got {}",
                self.max_bins
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Node {
    Leaf(f64),
    Split {
        feature: u32,
        threshold: f64,
        left: u32,
        right: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    #[inline]
    fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0usize;
        loop {
            match self.nodes[i] {
                Node::Leaf(v) => return v,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    i = if x[feature as usize] <= threshold {
                        left as usize
                    } else {
                        right as usize
                    };
                }
            }
        }
    }
}

/// A fitted gradient-boosted tree ensemble for regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gbdt {
    n_features: usize,
    base: f64,
    trees: Vec<Tree>,
}

/// A small deterministic generator (SplitMix64) for row and feature sampling.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

struct Binned {
    rows: usize,
    nb: usize,
    /// Column-major bins (feature by feature), for partitioning and routing.
    bins: Vec<u8>,
    /// Row-major bins (row by row), for building histograms.
    rows_major: Vec<u8>,
    edges: Vec<Vec<f64>>,
}

impl Binned {
    fn new(x: &[f64], p: usize, max_bins: usize) -> Binned {
        let rows = x.len() / p;
        let mut edges = Vec::with_capacity(p);
        let mut bins = vec![0u8; rows * p];
        let mut col = vec![0.0; rows];
        for f in 0..p {
            for r in 0..rows {
                col[r] = x[r * p + f];
            }
            // edges from at most 8192 evenly spaced rows: quantiles need no more
            let step = rows.div_ceil(8192).max(1);
            let mut sorted: Vec<f64> = col.iter().step_by(step).copied().collect();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup();
            let e: Vec<f64> = if sorted.len() <= max_bins {
                sorted.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
            } else {
                let mut e: Vec<f64> = Vec::with_capacity(max_bins);
                for q in 1..max_bins {
                    let i = q * sorted.len() / max_bins;
                    let v = 0.5 * (sorted[i - 1] + sorted[i]);
                    if e.last().is_none_or(|&l| v > l) {
                        e.push(v);
                    }
                }
                e
            };
            for r in 0..rows {
                bins[f * rows + r] = e.partition_point(|&t| t < col[r]) as u8;
            }
            edges.push(e);
        }
        let mut rows_major = vec![0u8; rows * p];
        for f in 0..p {
            for r in 0..rows {
                rows_major[r * p + f] = bins[f * rows + r];
            }
        }
        Binned {
            rows,
            nb: max_bins,
            bins,
            rows_major,
            edges,
        }
    }

    #[inline]
    fn col(&self, f: usize) -> &[u8] {
        &self.bins[f * self.rows..(f + 1) * self.rows]
    }
}

/// Per-feature histograms of (gradient sum, row count), interleaved, in `f32` so that
/// the histograms of a node's sampled features stay in the L1 cache. Split gains and the
/// children's gradient sums are accumulated from them in `f64`; the rounding (relative
/// 1e-7 a value) is far below anything that changes a split or a leaf.
struct Hist {
    h: Vec<[f32; 2]>,
}

impl Hist {
    fn build(b: &Binned, feats: &[usize], rows: &[u32], grad: &[f64]) -> Hist {
        let nb = b.nb;
        let p = b.edges.len();
        let mut h = Hist {
            h: vec![[0.0; 2]; p * nb],
        };
        let offsets: Vec<usize> = feats.iter().map(|&f| f * nb).collect();
        for &r in rows {
            let r = r as usize;
            let g = grad[r] as f32;
            let row = &b.rows_major[r * p..(r + 1) * p];
            for (&f, &off) in feats.iter().zip(&offsets) {
                let cell = &mut h.h[off + row[f] as usize];
                cell[0] += g;
                cell[1] += 1.0;
            }
        }
        h
    }

    fn subtract(&mut self, other: &Hist, feats: &[usize], nb: usize) {
        for &f in feats {
            for i in f * nb..(f + 1) * nb {
                self.h[i][0] -= other.h[i][0];
                self.h[i][1] -= other.h[i][1];
            }
        }
    }
}

struct Work {
    node: usize,
    rows: Vec<u32>,
    hist: Hist,
    g: f64,
    depth: usize,
}

impl Gbdt {
    /// Fit on a row-major `rows × p` feature matrix `x` and targets `y`.
    ///
    /// Errors: [`Error::InvalidInput`] for an invalid configuration, mismatched sizes or
    /// fewer rows than two leaves need; [`Error::NonFinite`] for a NaN or infinite input.
    pub fn fit(config: &GbdtConfig, x: &[f64], p: usize, y: &[f64]) -> Result<Gbdt> {
        Self::fit_with(config, x, p, y, &Progress::new())
    }

    /// [`fit`](Self::fit) with progress and cancellation: `progress` is started at
    /// `n_trees` and counts one unit per boosting round; it is checked before every
    /// round, and a cancelled fit returns [`Error::Cancelled`] (no model). The trees are
    /// the same as `fit`'s, bit for bit.
    ///
    /// ```
    /// use twin::analytics::rul::gbdt::{Gbdt, GbdtConfig};
    /// use twin::progress::Progress;
    /// let x: Vec<f64> = (0..200).map(|i| i as f64).collect();
    /// let y: Vec<f64> = x.iter().map(|v| if *v < 100.0 { 1.0 } else { 3.0 }).collect();
    /// let cfg = GbdtConfig { n_trees: 25, ..GbdtConfig::default() };
    /// let p = Progress::new();
    /// let m = Gbdt::fit_with(&cfg, &x, 1, &y, &p)?;
    /// assert_eq!((p.done(), p.total()), (25, 25));
    /// assert_eq!(m, Gbdt::fit(&cfg, &x, 1, &y)?);
    /// p.cancel();
    /// let e = Gbdt::fit_with(&cfg, &x, 1, &y, &p).unwrap_err();
    /// assert_eq!(e.kind(), twin::ErrorKind::Cancelled);
    /// # Ok::<(), twin::Error>(())
    /// ```
    pub fn fit_with(
        config: &GbdtConfig,
        x: &[f64],
        p: usize,
        y: &[f64],
        progress: &Progress,
    ) -> Result<Gbdt> {
        progress.start(config.n_trees as u64);
        Self::fit_counted(config, x, p, y, progress)
    }

    /// The fit, advancing `progress` by one per round (never starting it).
    pub(crate) fn fit_counted(
        config: &GbdtConfig,
        x: &[f64],
        p: usize,
        y: &[f64],
        progress: &Progress,
    ) -> Result<Gbdt> {
        config.validate()?;
        let rows = y.len();
        if p == 0 || x.len() != rows * p {
            return Err(Error::InvalidInput(format!(
                "{} feature values for {rows} rows of {p} features",
                x.len()
            )));
        }
        if rows < 2 * config.min_samples_leaf.max(1) {
            return Err(Error::InvalidInput(format!(
                "boosting needs at least {} rows, got {rows}",
                2 * config.min_samples_leaf
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!(
                "feature {} of training row {}",
                i % p,
                i / p
            )));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("target of training row {i}")));
        }
        let binned = Binned::new(x, p, config.max_bins);
        let base = y.iter().sum::<f64>() / rows as f64;
        let mut pred = vec![base; rows];
        let mut grad = vec![0.0; rows];
        let mut rng = SplitMix::new(config.seed);
        let n_feats = ((config.colsample * p as f64).round() as usize).clamp(1, p);
        let mut all_feats: Vec<usize> = (0..p).collect();
        let mut trees = Vec::with_capacity(config.n_trees);
        let mut in_sample = vec![false; rows];
        let mut sample: Vec<u32> = Vec::with_capacity(rows);
        let mut out_of_sample: Vec<u32> = Vec::with_capacity(rows);
        for _ in 0..config.n_trees {
            progress.check()?;
            for i in 0..rows {
                grad[i] = pred[i] - y[i];
            }
            // Bernoulli row sample: already in row order
            sample.clear();
            out_of_sample.clear();
            for (r, flag) in in_sample.iter_mut().enumerate() {
                *flag = config.subsample >= 1.0 || rng.next_f64() < config.subsample;
                if *flag {
                    sample.push(r as u32);
                } else {
                    out_of_sample.push(r as u32);
                }
            }
            if sample.len() < 2 * config.min_samples_leaf {
                sample.clear();
                sample.extend(0..rows as u32);
                out_of_sample.clear();
            }
            let feats: Vec<usize> = if n_feats < p {
                for i in 0..n_feats {
                    let j = i + rng.below(p - i);
                    all_feats.swap(i, j);
                }
                let mut s = all_feats[..n_feats].to_vec();
                s.sort_unstable();
                s
            } else {
                all_feats.clone()
            };
            let (tree, split_bins) = grow(config, &binned, &feats, &sample, &grad, &mut pred);
            // rows left out of the sample are routed through the new tree on their bins
            for &r in &out_of_sample {
                let row = &binned.rows_major[r as usize * p..(r as usize + 1) * p];
                let mut i = 0usize;
                let v = loop {
                    match tree.nodes[i] {
                        Node::Leaf(v) => break v,
                        Node::Split {
                            feature,
                            left,
                            right,
                            ..
                        } => {
                            i = if row[feature as usize] <= split_bins[i] {
                                left as usize
                            } else {
                                right as usize
                            };
                        }
                    }
                };
                pred[r as usize] += v;
            }
            trees.push(tree);
            progress.advance(1);
        }
        Ok(Gbdt {
            n_features: p,
            base,
            trees,
        })
    }

    /// Number of features the model expects.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Predict one row of features.
    ///
    /// Errors: [`Error::InvalidInput`] for a wrong number of features,
    /// [`Error::NonFinite`] for a NaN or infinite feature.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        if x.len() != self.n_features {
            return Err(Error::InvalidInput(format!(
                "{} features given, the model was trained on {}",
                x.len(),
                self.n_features
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("feature {i}")));
        }
        Ok(self.predict_unchecked(x))
    }

    pub(crate) fn predict_unchecked(&self, x: &[f64]) -> f64 {
        self.base + self.trees.iter().map(|t| t.predict(x)).sum::<f64>()
    }

    /// Check the structure of a deserialised model so that prediction cannot fail:
    /// children come after their parent and exist, features are in range, values finite.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Serialization(format!("boosted trees: {m}")));
        if !self.base.is_finite() {
            return bad("non-finite base value".into());
        }
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.nodes.is_empty() {
                return bad(format!("tree {t} has no node"));
            }
            for (i, node) in tree.nodes.iter().enumerate() {
                match *node {
                    Node::Leaf(v) if !v.is_finite() => {
                        return bad(format!("tree {t} node {i}: non-finite leaf"))
                    }
                    Node::Leaf(_) => {}
                    Node::Split {
                        feature,
                        threshold,
                        left,
                        right,
                    } => {
                        let n = tree.nodes.len();
                        if feature as usize >= self.n_features
                            || !threshold.is_finite()
                            || left as usize <= i
                            || right as usize <= i
                            || left as usize >= n
                            || right as usize >= n
                        {
                            return bad(format!("tree {t} node {i} is malformed"));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Grow one tree on the sampled rows; adds each sampled row's leaf value to `pred`.
fn grow(
    config: &GbdtConfig,
    b: &Binned,
    feats: &[usize],
    rows: &[u32],
    grad: &[f64],
    pred: &mut [f64],
) -> (Tree, Vec<u8>) {
    let lambda = config.l2;
    let min_leaf = config.min_samples_leaf as u32;
    let nb = b.nb;
    let mut nodes: Vec<Node> = vec![Node::Leaf(0.0)];
    let mut split_bins: Vec<u8> = vec![0];
    let g: f64 = rows.iter().map(|&r| grad[r as usize]).sum();
    let hist = Hist::build(b, feats, rows, grad);
    let mut stack = vec![Work {
        node: 0,
        rows: rows.to_vec(),
        hist,
        g,
        depth: 0,
    }];
    while let Some(w) = stack.pop() {
        let n = w.rows.len() as u32;
        let leaf = -config.learning_rate * w.g / (n as f64 + lambda);
        let mut make_leaf = |nodes: &mut Vec<Node>| {
            nodes[w.node] = Node::Leaf(leaf);
            for &r in &w.rows {
                pred[r as usize] += leaf;
            }
        };
        if w.depth >= config.max_depth || n < 2 * min_leaf {
            make_leaf(&mut nodes);
            continue;
        }
        // best split over the sampled features
        let parent = w.g * w.g / (n as f64 + lambda);
        // (feature, bin, gain, left gradient sum)
        let mut best: Option<(usize, usize, f64, f64)> = None;
        let (nf, min_f) = (n as f64, min_leaf as f64);
        for &f in feats {
            let n_edges = b.edges[f].len();
            let hist = &w.hist.h[f * nb..(f + 1) * nb];
            let (mut gl, mut nl) = (0.0, 0.0);
            for (bin, cell) in hist.iter().enumerate().take(n_edges.min(nb - 1)) {
                if cell[1] == 0.0 {
                    continue;
                }
                gl += f64::from(cell[0]);
                nl += f64::from(cell[1]);
                if nl < min_f {
                    continue;
                }
                let nr = nf - nl;
                if nr < min_f {
                    break;
                }
                let gr = w.g - gl;
                let gain = gl * gl / (nl + lambda) + gr * gr / (nr + lambda) - parent;
                if best.is_none_or(|b| gain > b.2) {
                    best = Some((f, bin, gain, gl));
                }
            }
        }
        let Some((f, bin, _, gl)) = best.filter(|b| b.2 > 1e-12) else {
            make_leaf(&mut nodes);
            continue;
        };
        let col = b.col(f);
        let (left, right): (Vec<u32>, Vec<u32>) = w
            .rows
            .iter()
            .partition(|&&r| col[r as usize] as usize <= bin);
        let gr = w.g - gl;
        let (li, ri) = (nodes.len(), nodes.len() + 1);
        nodes.push(Node::Leaf(0.0));
        nodes.push(Node::Leaf(0.0));
        split_bins.push(0);
        split_bins.push(0);
        nodes[w.node] = Node::Split {
            feature: f as u32,
            threshold: b.edges[f][bin],
            left: li as u32,
            right: ri as u32,
        };
        split_bins[w.node] = bin as u8;
        let mut big = w.hist;
        let (small_rows, small_is_left) = if left.len() <= right.len() {
            (&left, true)
        } else {
            (&right, false)
        };
        let small = Hist::build(b, feats, small_rows, grad);
        big.subtract(&small, feats, nb);
        let (lh, rh) = if small_is_left {
            (small, big)
        } else {
            (big, small)
        };
        stack.push(Work {
            node: li,
            rows: left,
            hist: lh,
            g: gl,
            depth: w.depth + 1,
        });
        stack.push(Work {
            node: ri,
            rows: right,
            hist: rh,
            g: gr,
            depth: w.depth + 1,
        });
    }
    (Tree { nodes }, split_bins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_step_and_an_interaction() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut rng = SplitMix::new(3);
        for _ in 0..2000 {
            // `a` on a grid of 20 values, so the step at 0.5 falls between two bins
            let a = (rng.next_f64() * 20.0).floor() / 20.0 + 0.025;
            let b = rng.next_f64();
            x.extend([a, b]);
            y.push(if a > 0.5 { 10.0 } else { 0.0 } + 5.0 * a * b);
        }
        let cfg = GbdtConfig {
            n_trees: 200,
            learning_rate: 0.1,
            max_depth: 4,
            min_samples_leaf: 5,
            ..GbdtConfig::default()
        };
        let m = Gbdt::fit(&cfg, &x, 2, &y).expect("fit");
        let mut se = 0.0;
        for i in 0..2000 {
            let p = m.predict(&x[2 * i..2 * i + 2]).expect("predict");
            se += (p - y[i]).powi(2);
        }
        let rmse = (se / 2000.0).sqrt();
        assert!(rmse < 0.3, "training rmse {rmse}");
        assert!(m.validate().is_ok());
        // deterministic given the seed
        let m2 = Gbdt::fit(&cfg, &x, 2, &y).expect("fit");
        assert_eq!(m, m2);
    }

    #[test]
    fn malformed_tree_is_refused() {
        let g = Gbdt {
            n_features: 1,
            base: 0.0,
            trees: vec![Tree {
                nodes: vec![Node::Split {
                    feature: 0,
                    threshold: 0.0,
                    left: 0,
                    right: 0,
                }],
            }],
        };
        assert!(g.validate().is_err());
    }
}
