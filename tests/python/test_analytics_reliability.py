"""Weibull fits with right-censoring from numpy: the Rust tests' reference values (scipy),
recovery of known parameters, closed forms of MTBF and conditional reliability."""

import math
import pickle

import numpy as np
import pytest

import twin


def censored_sample(k, lam, c_max, n, seed):
    rng = np.random.default_rng(seed)
    life = lam * (-np.log(rng.uniform(size=n))) ** (1.0 / k)
    censor = c_max * rng.uniform(size=n)
    return np.minimum(life, censor), life > censor


def test_mle_matches_scipy_reference_values():
    times = [1500.0, 2100.0, 2400.0, 3000.0, 3300.0, 4000.0, 4000.0, 4000.0, 850.0, 2750.0, 3600.0, 1200.0]
    censored = [False, False, False, False, False, True, True, True, False, False, True, False]
    w = twin.Weibull.fit(np.array(times), np.array(censored))
    # scipy 1.17.1 weibull_min.fit(CensoredData(...), floc=0), profile equation by brentq.
    assert abs(w.shape - 1.9219984887992516) < 1e-9
    assert abs(w.scale - 3600.617182068179) < 1e-6
    s = w.fit_summary
    assert (s["failures"], s["suspensions"]) == (8, 4)
    assert s["shape_bounds"][0] < w.shape < s["shape_bounds"][1]
    # Complete data (no suspensions): scipy gives k 1.5004157327348966, λ 529.446355749101.
    w = twin.Weibull.fit([120, 340, 410, 560, 800, 95, 1020])
    assert abs(w.shape - 1.5004157327348966) < 1e-6
    assert abs(w.scale - 529.446355749101) < 1e-4


def test_mle_recovers_known_parameters_from_a_heavily_censored_sample():
    k, lam = 1.8, 1200.0
    times, censored = censored_sample(k, lam, 3000.0, 10_000, 11)
    assert 5000 <= (~censored).sum() <= 7000
    w = twin.Weibull.fit(times, censored)
    assert abs(w.shape / k - 1) < 0.03 and abs(w.scale / lam - 1) < 0.03
    s = w.fit_summary
    assert s["suspensions"] == censored.sum()
    assert s["shape_bounds"][1] / s["shape_bounds"][0] < 1.06
    # Ignoring the censoring biases the scale badly.
    assert twin.Weibull.fit(times).scale < 0.8 * lam


def test_exponential_case_is_total_time_over_failures():
    times, censored = censored_sample(1.0, 500.0, 900.0, 300, 5)
    r = (~censored).sum()
    w = twin.Weibull.fit(times, censored, fixed_shape=1.0)
    assert w.shape == 1.0
    assert abs(w.scale - times.sum() / r) < 1e-9 * w.scale
    assert abs(w.mtbf - times.sum() / r) < 1e-9 * w.scale
    width = math.exp(1.6448536269514727 / math.sqrt(r))
    lo, hi = w.fit_summary["scale_bounds"]
    assert abs(lo - w.scale / width) < 1e-6 * w.scale and abs(hi - w.scale * width) < 1e-6 * w.scale


@pytest.mark.parametrize("k,g", [(1.0, 1.0), (2.0, math.sqrt(math.pi) / 2), (0.5, 2.0), (3.0, 0.8929795115692492)])
def test_mtbf_is_scale_times_gamma(k, g):
    w = twin.Weibull(k, 250.0)
    assert abs(w.mtbf - 250.0 * g) < 1e-10 * 250.0
    t = np.linspace(0.0, 250.0 * 60 ** (1 / k), 400_001)
    assert abs(np.trapezoid(w.reliability(t), t) / w.mtbf - 1) < 1e-4


def test_conditional_reliability_and_vectorised_functions():
    w = twin.Weibull(2.3, 800.0)
    for t, x, y in [(0.0, 100.0, 50.0), (300.0, 200.0, 400.0), (1500.0, 10.0, 90.0)]:
        c = w.conditional_reliability(t, x)
        assert abs(c * w.reliability(t) - w.reliability(t + x)) < 1e-14
        chained = c * w.conditional_reliability(t + x, y)
        assert abs(chained - w.conditional_reliability(t, x + y)) < 1e-14
    assert w.conditional_reliability(1000.0, 100.0) < w.conditional_reliability(100.0, 100.0)
    ts = np.array([0.0, 100.0, 800.0, 2000.0])
    r = w.reliability(ts)
    assert isinstance(r, np.ndarray) and np.allclose(r, np.exp(-((ts / 800.0) ** 2.3)), rtol=1e-14)
    assert np.allclose(w.pdf(ts), w.hazard(ts) * r)
    assert isinstance(w.reliability(800), float) and abs(w.reliability(800) - math.exp(-1)) < 1e-15
    assert abs(w.unreliability(w.b10) - 0.1) < 1e-14
    assert abs(w.unreliability(w.quantile(0.25)) - 0.25) < 1e-12


def test_bad_input_and_persistence():
    with pytest.raises(twin.InvalidInputError):
        twin.Weibull.fit([100.0, -5.0])
    with pytest.raises(twin.NonFiniteError):
        twin.Weibull.fit([100.0, float("nan")])
    with pytest.raises(twin.InvalidInputError, match="failures"):
        twin.Weibull.fit([100.0, 200.0], [False, True])
    with pytest.raises(twin.InvalidInputError, match="censored has 1 flags for 2 times"):
        twin.Weibull.fit([100.0, 200.0], [False])
    with pytest.raises(TypeError, match="times must hold real numbers"):
        twin.Weibull.fit(np.array(["a"]))
    with pytest.raises(twin.InvalidInputError):
        twin.Weibull(-1.0, 10.0)
    with pytest.raises(twin.InvalidInputError):
        twin.Weibull(2.0, 10.0).quantile(1.0)
    with pytest.raises(twin.InvalidInputError):
        twin.Weibull(2.0, 10.0).conditional_reliability(-1.0, 1.0)
    w = twin.Weibull.fit([120.0, 340.0, 410.0, 560.0, 800.0])
    for back in (pickle.loads(pickle.dumps(w)), twin.Weibull.from_json(w.to_json())):
        assert (back.shape, back.scale, back.fit_summary) == (w.shape, w.scale, w.fit_summary)
    with pytest.raises(twin.SerializationError):
        twin.Weibull.from_json(w.to_json().replace('"version":1', '"version":2'))
    assert repr(twin.Weibull(2.0, 10.0)) == "Weibull(shape=2.0, scale=10.0)"
