"""PCA (T² and SPE) and Mahalanobis detectors from numpy: the Rust tests' analytic cases
(two-factor data, chi-squared distances), scikit-learn conventions, pickling and errors."""

import pickle

import numpy as np
import pytest

import twin

LOAD = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.7, 0.7], [0.5, -0.5]])


def two_factor(rng, n):
    f = rng.standard_normal((n, 2))
    return 3.0 * np.arange(5) + f @ LOAD.T + 0.05 * rng.standard_normal((n, 5))


def test_pca_flags_a_broken_correlation_but_not_healthy_rows():
    rng = np.random.default_rng(42)
    pca = twin.PcaDetector().fit(two_factor(rng, 2000))
    assert pca.n_components_ == 2 and pca.n_features_in_ == 5
    assert pca.explained_variance_ratio_.sum() > 0.99
    fresh = two_factor(rng, 2000)
    stats = pca.statistics(fresh)
    assert pca.predict(fresh).sum() <= 20
    # T² of a new observation has mean k (n - 1) / (n - k - 2) ≈ 2.
    assert abs(stats["t2"].mean() - 2.0) < 0.15
    assert np.array_equal(stats["alarm"], pca.predict(fresh) == 1)
    assert np.allclose(pca.decision_function(fresh), 0.999 - stats["likelihood"])
    broken = fresh[0].copy()
    broken[2] += 0.5  # 10 noise sd off the correlation structure
    s = pca.statistics(broken[None, :])
    assert s["alarm"][0] and s["spe_likelihood"][0] > 0.999
    assert int(np.argmax(pca.spe_contributions(broken))) == 2
    # Within the structure but far out: T² flags it, SPE does not.
    far = 3.0 * np.arange(5) + LOAD @ [6.0, 6.0]
    s = pca.statistics([far])
    assert s["t2_likelihood"][0] > 0.9999 and s["spe_likelihood"][0] < 0.99


def test_mahalanobis_distances_of_gaussian_data_are_chi_squared():
    L = np.array([[2.0, 0, 0, 0], [1.5, 0.5, 0, 0], [-1.0, 0.3, 0.8, 0], [0.2, 0.2, 0.2, 0.1]])
    mu = np.array([10.0, -5.0, 0.0, 100.0])
    rng = np.random.default_rng(9)
    draw = lambda n: mu + rng.standard_normal((n, 4)) @ L.T  # noqa: E731
    m = twin.MahalanobisDetector().fit(draw(5000))
    assert m.shrinkage_ < 0.05
    s = m.statistics(draw(20000))
    d2 = s["distance_sq"]
    # chi²(4): mean 4, variance 8, 1% above 13.277.
    assert abs(d2.mean() - 4.0) < 0.15
    assert abs(d2.var() - 8.0) < 0.8
    assert 0.006 < (d2 > 13.277).mean() < 0.015
    assert 0.006 < (s["likelihood"] >= 0.99).mean() < 0.015


@pytest.mark.parametrize("cls", [twin.PcaDetector, twin.MahalanobisDetector])
def test_inputs_errors_and_not_fitted(cls):
    rng = np.random.default_rng(3)
    X = two_factor(rng, 200)
    d = cls()
    with pytest.raises(twin.InvalidInputError, match="not fitted"):
        d.predict(X)
    with pytest.raises(twin.InvalidInputError, match="not fitted"):
        d.to_json()
    with pytest.raises(twin.InvalidInputError):
        cls().fit(X[:5])
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(twin.NonFiniteError):
        cls().fit(bad)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        cls().fit(X.astype(str))
    with pytest.raises(twin.InvalidInputError, match="X must be two-dimensional"):
        cls().fit(X[:, 0])
    d.fit(X)
    with pytest.raises(twin.InvalidInputError, match="X has 4 columns but the model was fit on 5"):
        d.predict(X[:, :4])
    # Fortran-ordered and integer inputs are converted, not refused.
    assert np.array_equal(d.predict(np.asfortranarray(X)), d.predict(X))
    assert np.array_equal(cls().fit(X.astype(np.float32)).predict(X).shape, (200,))


@pytest.mark.parametrize("cls", [twin.PcaDetector, twin.MahalanobisDetector])
def test_pickle_json_and_sklearn_conventions(cls):
    rng = np.random.default_rng(5)
    X, Y = two_factor(rng, 600), two_factor(rng, 300)
    unfitted = pickle.loads(pickle.dumps(cls(threshold=0.99)))
    assert unfitted.get_params()["threshold"] == 0.99
    d = cls(threshold=0.99).fit(X)
    for c in (pickle.loads(pickle.dumps(d)), cls.from_json(d.to_json())):
        assert np.array_equal(c.likelihood(Y), d.likelihood(Y))
        assert c.get_params() == d.get_params()
    assert "fitted" in repr(d) and "threshold=0.99" in repr(d)
    with pytest.raises(twin.SerializationError):
        cls.from_json(d.to_json().replace('"version":1', '"version":2'))
    sk = pytest.importorskip("sklearn.model_selection")
    base = pytest.importorskip("sklearn.base")
    c = base.clone(d)
    assert c.get_params() == d.get_params()
    scores = sk.cross_val_score(cls(), X, cv=3)
    # Healthy rows: about 0.1% false alarms at the default threshold.
    assert scores.min() > 0.98, scores
    labels = np.r_[np.zeros(300), np.ones(1)]
    out = np.vstack([Y, Y[0] + [0, 0, 5.0, 0, 0]])
    assert d.score(out, labels) > 0.97


def test_params_of_multivariate_detectors():
    assert twin.PcaDetector(n_components=3).get_params() == {"n_components": 3, "threshold": 0.999}
    assert twin.MahalanobisDetector(shrinkage=0.2).get_params()["shrinkage"] == 0.2
    with pytest.raises(twin.InvalidInputError, match="ledoit_wolf"):
        twin.MahalanobisDetector(shrinkage="oas")
    with pytest.raises(twin.InvalidInputError):
        twin.PcaDetector(n_components=0)
    rng = np.random.default_rng(0)
    assert twin.PcaDetector(n_components=3).fit(two_factor(rng, 500)).n_components_ == 3


def test_importing_twin_does_not_import_sklearn():
    import subprocess
    import sys

    code = "import sys, twin; twin.PcaDetector().get_params(); assert 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("cls", [twin.PcaDetector, twin.MahalanobisDetector])
def test_detectors_drop_into_a_scikit_learn_pipeline_and_grid_search(cls):
    """A scaler then the detector, as one scikit-learn estimator: the same verdicts as
    the steps done by hand, and a grid search over the detector's threshold."""
    pipeline = pytest.importorskip("sklearn.pipeline")
    pre = pytest.importorskip("sklearn.preprocessing")
    ms = pytest.importorskip("sklearn.model_selection")
    rng = np.random.default_rng(9)
    X = two_factor(rng, 800) * [1.0, 10.0, 0.1, 100.0, 1.0] + [0.0, 50.0, -3.0, 1e3, 7.0]
    Y = np.vstack([two_factor(rng, 200) * [1.0, 10.0, 0.1, 100.0, 1.0] + [0.0, 50.0, -3.0, 1e3, 7.0],
                   [[0.0, 50.0, -3.0, 1e3, 7.0 + 6.0]]])
    exc = pytest.importorskip("sklearn.exceptions")
    validation = pytest.importorskip("sklearn.utils.validation")
    with pytest.raises(exc.NotFittedError):
        validation.check_is_fitted(cls())
    pipe = pipeline.make_pipeline(pre.StandardScaler(), cls(threshold=0.999)).fit(X)
    validation.check_is_fitted(pipe)
    scaler = pre.StandardScaler().fit(X)
    by_hand = cls(threshold=0.999).fit(scaler.transform(X))
    assert np.array_equal(pipe.predict(Y), by_hand.predict(scaler.transform(Y)))
    assert pipe.predict(Y)[-1] == 1  # the shifted last row is flagged
    step = type(pipe.steps[-1][1]).__name__.lower()
    grid = ms.GridSearchCV(pipe, {f"{step}__threshold": [0.9, 0.999]}, cv=3).fit(X)
    # Scored on healthy rows (accuracy of "normal"), the higher threshold wins.
    assert grid.best_params_ == {f"{step}__threshold": 0.999}
