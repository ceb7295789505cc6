"""Streaming detectors through the bindings: the Rust tests' analytic cases (drift delays,
quiet stationary noise, spikes in seasonal noise), batch against one-at-a-time, JSON and
pickle round trips, scikit-learn parameters, and typed errors."""

import pickle

import numpy as np
import pytest

import twin

ALL = [twin.EwmaDetector, twin.RobustZScore, twin.Cusum, twin.PageHinkley, twin.HalfSpaceTrees, twin.DetectorEnsemble]


def first_alarm_delays(cls, trials=50, at=400):
    delays = []
    for seed in range(trials):
        rng = np.random.default_rng(1000 + seed)
        x = 5.0 + 0.3 * rng.standard_normal(at + 200)
        x[at:] += 0.6
        _, like, alarm = cls().detect_many(x)
        assert ((like >= 0.0) & (like <= 1.0)).all()
        after = np.flatnonzero(alarm[at:])
        delays.append(int(after[0]) if after.size else 10**9)
    return np.array(delays)


@pytest.mark.parametrize("cls", [twin.Cusum, twin.PageHinkley])
def test_drift_detectors_find_a_two_sigma_shift_within_siegmunds_delay(cls):
    # k = 0.5 sd, h = -ln(1e-5) / (2k) = 11.5 sd: Siegmund's delay for a 2 sd shift is
    # (h + 1.166) / (d - k) = 8.5 samples.
    delays = first_alarm_delays(cls)
    assert 3 <= np.median(delays) <= 12, delays
    assert np.percentile(delays, 90, method="nearest") <= 20, delays


def test_drift_detectors_stay_quiet_on_stationary_noise():
    # In-control run length near 1e5 samples: about 0.5 false alarms expected in 50,000.
    alarms = {twin.Cusum: 0, twin.PageHinkley: 0}
    for seed in range(10):
        x = -3.0 + 2.0 * np.random.default_rng(77 + seed).standard_normal(5000)
        for cls in alarms:
            alarms[cls] += int(cls().detect_many(x)[2].sum())
    assert all(v <= 2 for v in alarms.values()), alarms


def seasonal_with_spikes(seed=2024, n=20_000):
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    x = 10.0 + 2.0 * np.sin(2 * np.pi * i / 1440.0) + 0.2 * rng.standard_normal(n)
    spikes = []
    j = 1500
    while j < n:
        x[j] += (1.0 if x[j] >= 10.0 else -1.0) * (5.0 + rng.uniform())
        spikes.append(j)
        j += 300 + int(rng.integers(0, 400))
    return x, np.array(spikes)


@pytest.mark.parametrize("cls", [twin.HalfSpaceTrees, twin.RobustZScore, twin.EwmaDetector, twin.DetectorEnsemble])
def test_spikes_in_seasonal_noise_are_found_with_few_false_alarms(cls):
    x, spikes = seasonal_with_spikes()
    assert len(spikes) > 30
    _, like, alarm = cls().detect_many(x)
    assert ((like >= 0) & (like <= 1)).all()
    skip = 1000
    is_spike = np.zeros(len(x), bool)
    is_spike[spikes] = True
    recall = alarm[spikes].mean()
    fpr = alarm[skip:][~is_spike[skip:]].mean()
    assert recall >= 0.9, recall
    assert fpr <= 0.01, fpr
    # The alarms are exactly the likelihoods at or above the threshold.
    d = cls()
    assert np.array_equal(alarm, d.score_many(x) >= d.threshold)


@pytest.mark.parametrize("cls", ALL)
def test_batch_equals_one_at_a_time_and_accepts_any_real_array(cls):
    rng = np.random.default_rng(9)
    x = rng.normal(3.0, 1.0, 1200)
    a, b = cls(), cls()
    batch = a.score_many(x)
    assert batch.dtype == np.float64 and batch.shape == (1200,)
    one = np.array([b.update(float(v)) for v in x])
    assert np.array_equal(batch, one)
    assert a.is_warm
    # Non-contiguous and integer inputs are converted, not refused.
    wide = np.stack([x, x], axis=1)
    assert np.array_equal(cls().score_many(wide[:, 0]), batch)
    ints = np.arange(300, dtype=np.int32) % 7
    assert np.array_equal(cls().score_many(ints), cls().score_many(ints.astype(float)))
    assert np.array_equal(cls().score_many(list(x[:50])), batch[:50])


@pytest.mark.parametrize("cls", ALL)
def test_bad_arrays_raise_typed_errors_naming_the_argument(cls):
    d = cls()
    with pytest.raises(TypeError, match="x must hold real numbers"):
        d.score_many(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        d.score_many(np.array([1 + 2j]))
    with pytest.raises(twin.InvalidInputError, match="x must be one-dimensional"):
        d.score_many(np.zeros((3, 2)))
    # NaN and infinities are skipped: they score 0 and leave the state untouched.
    assert d.update(float("nan")) == 0.0
    assert np.array_equal(d.score_many(np.array([np.inf, -np.inf])), [0.0, 0.0])


@pytest.mark.parametrize("cls", ALL)
def test_json_and_pickle_continue_identically(cls):
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 1.0, 3000)
    x[2500] += 9.0
    d = cls()
    d.score_many(x[:2000])
    copies = [cls.from_json(d.to_json()), pickle.loads(pickle.dumps(d))]
    rest = d.score_many(x[2000:])
    for c in copies:
        assert type(c) is cls
        assert np.array_equal(c.score_many(x[2000:]), rest)
        assert c.get_params().keys() == d.get_params().keys()
    with pytest.raises(twin.SerializationError):
        cls.from_json("{not json")
    with pytest.raises(twin.SerializationError, match="version 99"):
        cls.from_json(d.to_json().replace('"version":1', '"version":99'))
    other = twin.Cusum if cls is not twin.Cusum else twin.PageHinkley
    with pytest.raises(twin.SerializationError):
        cls.from_json(other().to_json())


def test_params_mirror_the_rust_config_and_validate():
    d = twin.EwmaDetector(alpha=0.2, warmup=10)
    assert d.get_params() == {
        "alpha": 0.2,
        "clip": 4.0,
        "warmup": 10,
        "threshold": 0.999,
        "calibration_window": 2048,
        "calibration_min_scores": 128,
    }
    assert repr(d) == "EwmaDetector(alpha=0.2, warmup=10) <warming up>"
    with pytest.raises(twin.InvalidInputError, match="alpha"):
        twin.EwmaDetector(alpha=1.5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'alpah'"):
        twin.EwmaDetector(alpah=0.1)
    with pytest.raises(TypeError, match="parameter warmup"):
        twin.EwmaDetector(warmup="ten")
    with pytest.raises(twin.InvalidInputError, match="threshold"):
        twin.Cusum(threshold=1.0)
    assert d.set_params(alpha=0.3) is d
    assert d.get_params()["alpha"] == 0.3 and d.get_params()["warmup"] == 10
    # The defaults are the constructor's signature.
    import inspect

    for cls in ALL:
        sig = {p.name: p.default for p in inspect.signature(cls).parameters.values()}
        assert sig == cls().get_params(), cls


def test_sklearn_clone_keeps_params_and_drops_state():
    base = pytest.importorskip("sklearn.base")
    d = twin.HalfSpaceTrees(trees=5, seed=3)
    d.score_many(np.random.default_rng(0).normal(size=500))
    c = base.clone(d)
    assert c.get_params() == d.get_params() and not c.is_warm
    e = base.clone(twin.DetectorEnsemble(members=["cusum", twin.EwmaDetector(alpha=0.1)], fusion="bonferroni"))
    assert e.member_names == ["cusum", "ewma"]


def test_ensemble_members_fusion_and_errors():
    e = twin.DetectorEnsemble(members=("ewma", twin.Cusum(k=1.0)), fusion="mean")
    x = np.random.default_rng(1).normal(size=400)
    e.score_many(x)
    assert len(e.member_likelihoods()) == 2
    back = pickle.loads(pickle.dumps(e))
    members = back.get_params()["members"]
    assert [type(m) for m in members] == [twin.EwmaDetector, twin.Cusum]
    assert members[1].get_params()["k"] == 1.0
    assert back.get_params()["fusion"] == "mean"
    with pytest.raises(twin.InvalidInputError, match="unknown detector"):
        twin.DetectorEnsemble(members=["nope"])
    with pytest.raises(twin.InvalidInputError, match="1 to 64 members"):
        twin.DetectorEnsemble(members=[])
    with pytest.raises(TypeError, match="parameter fusion"):
        twin.DetectorEnsemble(fusion="median")
