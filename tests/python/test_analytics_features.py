"""Condition features, band energies and the health index from numpy: closed forms of
sines and tones, agreement with a direct numpy computation, and a health index that falls
from 1 to 0 over synthetic run-to-failure histories."""

import pickle

import numpy as np
import pytest

import twin


def numpy_features(w):
    m = w.mean()
    c = w - m
    m2, m3, m4 = (c**2).mean(), (c**3).mean(), (c**4).mean()
    rms = np.sqrt((w**2).mean())
    peak = np.abs(w).max()
    return [m, rms, np.sqrt(m2), peak, peak / rms, m3 / m2**1.5, m4 / m2**2]


def test_rolling_features_of_a_sine_match_closed_forms():
    a = 3.0
    x = a * np.sin(np.arange(2000) * 2 * np.pi / 40)  # whole cycles, a sample at each crest
    r = twin.RollingFeatures(window=1000)
    F = r.update_many(x)
    assert F.shape == (1001, 7)
    last = r.features()
    assert last["count"] == 1000
    assert abs(last["rms"] - a / np.sqrt(2)) < 1e-9
    assert abs(last["peak"] - a) < 1e-9
    assert abs(last["crest_factor"] - np.sqrt(2)) < 1e-9
    assert abs(last["kurtosis"] - 1.5) < 1e-9 and abs(last["skewness"]) < 1e-9
    assert np.allclose(F[:, 1], a / np.sqrt(2), atol=1e-9)


def test_rolling_features_match_numpy_far_from_zero_in_pieces():
    rng = np.random.default_rng(8)
    x = 1e4 + rng.gamma(2.0, 1.0, 3000)
    r = twin.RollingFeatures(window=200, step=37)
    pieces = [r.update_many(p) for p in np.array_split(x, 7)]
    F = np.vstack(pieces)
    # A row when the window first fills (value 199), then every 37 values.
    ends = list(range(199, len(x), 37))
    want = np.array([numpy_features(x[e - 199 : e + 1]) for e in ends])
    assert F.shape == want.shape
    assert np.allclose(F[:, :5], want[:, :5], rtol=1e-12)
    assert np.allclose(F[:, 5:], want[:, 5:], rtol=1e-4, atol=1e-6)
    d = twin.RollingFeatures(window=200, step=37).update_many(x, as_dict=True)
    assert list(d) == r.columns and np.array_equal(d["kurtosis"], F[:, 6])
    # Gaussian noise: kurtosis 3, no skew.
    g = twin.condition_features(rng.normal(0.0, 2.0, 200_000))
    assert abs(g["kurtosis"] - 3.0) < 0.05 and abs(g["skewness"]) < 0.02 and abs(g["std"] - 2.0) < 0.02


def test_rolling_features_refuse_bad_values_and_round_trip():
    r = twin.RollingFeatures(window=10)
    assert r.features() is None
    r.update_many(np.ones(5))
    with pytest.raises(twin.NonFiniteError, match=r"x\[2\]"):
        r.update_many(np.array([1.0, 2.0, np.nan]))
    assert len(r) == 7
    with pytest.raises(twin.NonFiniteError):
        r.update(float("inf"))
    const = twin.condition_features(np.full(50, 2.0))
    assert (const["skewness"], const["kurtosis"], const["std"]) == (0.0, 0.0, 0.0)
    with pytest.raises(twin.InvalidInputError):
        twin.condition_features(np.array([]))
    with pytest.raises(twin.InvalidInputError):
        twin.RollingFeatures(window=0)
    with pytest.raises(twin.InvalidInputError):
        twin.RollingFeatures(step=0)
    # Saved mid-stream, a copy continues exactly like the uninterrupted run.
    x = np.random.default_rng(1).normal(size=40)
    whole = twin.RollingFeatures(window=10, step=3).update_many(x)
    a = twin.RollingFeatures(window=10, step=3)
    first = a.update_many(x[:23])
    for b in (pickle.loads(pickle.dumps(a)), twin.RollingFeatures.from_json(a.to_json())):
        assert b.get_params() == {"window": 10, "step": 3}
        assert np.array_equal(np.vstack([first, b.update_many(x[23:])]), whole)
    with pytest.raises(twin.SerializationError):
        twin.RollingFeatures.from_json("{}")


def test_band_energies_of_tones_and_noise():
    fs, n = 1000.0, 1000
    t = np.arange(n) / fs
    b = twin.BandEnergies(fs, n, [0.0, 40.0, 60.0, 500.0])
    e = b.compute(2.0 * np.sin(2 * np.pi * 50.0 * t))
    assert abs(e[1] - 2000.0) < 1e-6 and e[0] < 1e-9 and e[2] < 1e-9
    # Two tones, whole cycles: the bands add up to the signal energy (Parseval).
    x = 1.5 * np.sin(2 * np.pi * 120.0 * t) + 2.0 * np.cos(2 * np.pi * 310.0 * t)
    e = twin.BandEnergies(fs, n, [0.0, 100.0, 200.0, 300.0, 400.0, 500.0]).compute(x)
    assert abs(e.sum() - (x**2).sum()) < 1e-9 * (x**2).sum()
    assert abs(e[1] - n * 1.5**2 / 2) < 1e-6 and abs(e[3] - n * 2.0**2 / 2) < 1e-6
    # White noise spreads its energy in proportion to bandwidth.
    noise = np.random.default_rng(2).normal(size=256 * 400)
    frames = twin.BandEnergies(fs, 256, [0.0, 125.0, 250.0, 500.0]).compute_many(noise)
    assert frames.shape == (400, 3)
    share = frames.sum(axis=0) / frames.sum()
    assert np.allclose(share, [0.25, 0.25, 0.5], atol=0.02)
    # Overlapping frames: each row is the frame at its hop.
    hop = twin.BandEnergies(fs, 256, [0.0, 125.0, 250.0, 500.0]).compute_many(noise[:1024], hop=128)
    assert hop.shape == (7, 3)
    assert np.allclose(hop[3], twin.BandEnergies(fs, 256, [0.0, 125.0, 250.0, 500.0]).compute(noise[384:640]))


def test_band_energies_errors_and_persistence():
    with pytest.raises(twin.InvalidInputError):
        twin.BandEnergies(1000.0, 256, [100.0, 50.0])
    b = twin.BandEnergies(1000.0, 64, [0.0, 250.0, 500.0], remove_mean=True)
    with pytest.raises(twin.InvalidInputError, match="frame has 10 values"):
        b.compute(np.zeros(10))
    with pytest.raises(twin.NonFiniteError):
        b.compute(np.r_[np.zeros(63), np.nan])
    assert b.get_params()["remove_mean"] is True and b.bands == 2
    x = np.random.default_rng(0).normal(size=64)
    for c in (pickle.loads(pickle.dumps(b)), twin.BandEnergies.from_json(b.to_json())):
        assert np.array_equal(c.compute(x), b.compute(x))
    base = pytest.importorskip("sklearn.base")
    assert base.clone(b).get_params() == b.get_params()


def runs(n_runs, seed):
    """Run-to-failure histories: three features drift with wear w = (t / life)^2, plus noise,
    and one constant column; returns X, run ids and the true remaining-life fraction."""
    rng = np.random.default_rng(seed)
    X, g, frac = [], [], []
    for r in range(n_runs):
        life = int(rng.integers(300, 600))
        w = (np.arange(life) / (life - 1)) ** 2
        X.append(
            np.c_[
                1.0 + 2.0 * w + 0.05 * rng.standard_normal(life),
                50.0 + 10.0 * w + 0.5 * rng.standard_normal(life),
                5.0 - 1.5 * w + 0.05 * rng.standard_normal(life),
                np.full(life, 0.7),
            ]
        )
        g.append(np.full(life, r))
        frac.append(1.0 - np.arange(life) / (life - 1))
    return np.vstack(X), np.concatenate(g), np.concatenate(frac)


@pytest.mark.parametrize("method", ["regression", "pca"])
def test_health_index_falls_from_one_to_zero_over_a_life(method):
    X, g, _ = runs(6, 1)
    hi = twin.HealthIndex(method=method).fit(X, groups=g)
    Xt, gt, _ = runs(1, 99)
    h = hi.predict(Xt)
    assert ((h >= 0) & (h <= 1)).all()
    n = len(h)
    assert h[: n // 10].mean() > 0.85 and h[-n // 20 :].mean() < 0.15
    rank = np.argsort(np.argsort(h))
    rho = np.corrcoef(np.arange(n), rank)[0, 1]
    assert rho < -0.8, rho
    assert hi.n_features_in_ == 4


def test_health_index_labelled_fit_errors_and_persistence():
    healthy = [[1.0, 10.0], [1.1, 10.2], [0.9, 9.9], [1.0, 10.1], [1.05, 10.0], [0.95, 9.8]]
    failed = [[3.0, 10.1], [3.2, 9.9], [2.9, 10.0], [3.1, 10.2], [3.0, 9.8], [2.8, 10.0]]
    hi = twin.HealthIndex(method="pca").fit(healthy + failed, [1] * 6 + [0] * 6)
    assert abs(hi.predict([[2.0, 10.0]])[0] - 0.5) < 0.1
    assert hi.predict_unclamped([[5.0, 10.0]])[0] < 0.0
    with pytest.raises(twin.InvalidInputError, match="not fitted"):
        twin.HealthIndex().predict([[1.0, 2.0]])
    with pytest.raises(twin.InvalidInputError, match="outside"):
        twin.HealthIndex().fit(healthy + failed, [2] * 12)
    with pytest.raises(twin.InvalidInputError, match="rows at 1"):
        twin.HealthIndex().fit(healthy + failed, [0.5] * 12)
    X, g, frac = runs(3, 4)
    with pytest.raises(twin.InvalidInputError):
        twin.HealthIndex().fit(X[:3])
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(twin.NonFiniteError):
        twin.HealthIndex().fit(bad, groups=g)
    with pytest.raises(twin.InvalidInputError, match="not contiguous"):
        twin.HealthIndex().fit(X, groups=np.r_[g[1:], g[:1]])
    with pytest.raises(twin.InvalidInputError, match="every feature is constant"):
        twin.HealthIndex().fit(np.full((50, 3), 2.0))
    with pytest.raises(twin.InvalidInputError, match="method"):
        twin.HealthIndex(method="svm")
    hi = twin.HealthIndex(ridge=0.5).fit(X, groups=g)
    with pytest.raises(twin.InvalidInputError, match="X has 3 columns but the model was fit on 4"):
        hi.predict(X[:, :3])
    for back in (pickle.loads(pickle.dumps(hi)), twin.HealthIndex.from_json(hi.to_json())):
        assert np.array_equal(back.predict(X), hi.predict(X))
        assert back.get_params() == hi.get_params()
    with pytest.raises(twin.SerializationError):
        twin.HealthIndex.from_json(hi.to_json().replace('"version":1', '"version":7'))
    # R² against the remaining-life fraction: the index tracks it.
    assert hi.score(X, frac) > 0.6
    # Targets in [0, 1]: features linear in the health plus noise, with rows at exactly 1
    # and 0 to anchor the scale. The fit is a scikit-learn regressor scored by R².
    rng = np.random.default_rng(12)
    y = np.r_[np.ones(20), np.zeros(20), rng.uniform(0, 1, 560)]
    Xh = np.c_[3.0 - 2.0 * y, 10.0 + 5.0 * y, rng.normal(size=600)] + 0.05 * rng.standard_normal((600, 3))
    fitted = twin.HealthIndex(ridge=1e-3).fit(Xh, y)
    assert fitted.score(Xh, y) > 0.99
    sk = pytest.importorskip("sklearn.model_selection")
    order = np.r_[np.arange(0, 600, 3), np.arange(1, 600, 3), np.arange(2, 600, 3)]  # anchors in every fold
    scores = sk.cross_val_score(twin.HealthIndex(ridge=1e-3), Xh[order], y[order], cv=3)
    assert scores.min() > 0.98, scores
    base = pytest.importorskip("sklearn.base")
    assert base.clone(hi).get_params() == {"method": "regression", "ridge": 0.5, "healthy_fraction": 0.1, "failed_fraction": 0.05}
