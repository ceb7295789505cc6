"""State estimation and prognosis from Python: the Rust tests' reference cases (ProgPy's
battery figures, the Kalman steady state, UKF = KF on a linear model, an analytic time to
threshold), a user-defined model of Python callables, persistence and typed errors."""

import pickle

import numpy as np
import pytest

import twin

# ProgPy (benches/estimate_vs_progpy.sh): BatteryCircuit defaults, 2 A, 1 s Euler steps.
PROGPY_EOD_FULL_S = 3803.0
PROGPY_UKF_MEAN = [295.5457834792358, 6656.093185600735, 2.0689230570203603, 25.26825197960057]
PROGPY_UKF_VAR = [0.4676669177950469, 34.623820517977194, 0.03682616415250862, 0.38570720514053286]
PROGPY_MC_EOD_MEAN_S = 3200.19


def clean_discharge(steps=600):
    b = twin.BatteryCircuit()
    x = b.initial_state()
    z = []
    for _ in range(steps):
        x = b.step(x, [2.0], 1.0)
        z.append(b.output(x, [2.0]))
    return np.array(z)


def test_battery_ukf_and_prediction_match_progpy():
    model = twin.BatteryCircuit(process_noise=[0.25] * 4, measurement_noise=[2.0, 0.02])
    p0 = np.diag([0.01, 1.0, 0.01, 0.01])
    ukf = twin.UnscentedKalmanFilter(model, model.initial_state(), p0, alpha=1.0, beta=0.0, kappa=-1.0)
    means = ukf.run([[2.0]], 1.0, clean_discharge())
    assert means.shape == (600, 4) and np.array_equal(means[-1], ukf.mean)
    assert np.allclose(ukf.mean, PROGPY_UKF_MEAN, rtol=1e-9)
    assert np.allclose(np.diag(ukf.covariance), PROGPY_UKF_VAR, rtol=1e-7)
    toe = ukf.predict_event([2.0], samples=100, dt=1.0, horizon=10_000.0, seed=0, interpolate=False)
    assert abs(toe["mean"] / PROGPY_MC_EOD_MEAN_S - 1) < 0.005, toe["mean"]
    assert 4.0 < toe["std"] < 14.0 and toe["fraction_reached"] == 1.0
    assert toe["samples"].shape == (100,) and toe["p05"] <= toe["median"] <= toe["p95"]
    # Same seed, same answer; the UKF survives a pickle with its estimate.
    again = pickle.loads(pickle.dumps(ukf))
    assert np.array_equal(again.mean, ukf.mean)
    t2 = again.predict_event([2.0], samples=100, dt=1.0, horizon=10_000.0, seed=0, interpolate=False)
    assert np.array_equal(t2["samples"], toe["samples"])


def test_end_of_discharge_from_a_full_battery_matches_progpy():
    b = twin.BatteryCircuit(measurement_noise=[2.0, 0.02])
    kf = twin.KalmanFilter(b, b.initial_state(), np.diag([1e-12] * 4))
    toe = kf.predict_event([2.0], samples=2, horizon=10_000.0, process_noise=False, interpolate=False)
    assert toe["median"] == PROGPY_EOD_FULL_S
    t = kf.predict_event([2.0], samples=2, horizon=10_000.0, process_noise=False)["median"]
    assert PROGPY_EOD_FULL_S - 1.0 < t <= PROGPY_EOD_FULL_S
    short = kf.predict_event([2.0], samples=3, horizon=100.0, process_noise=False)
    assert short["fraction_reached"] == 0.0 and short["mean"] is None
    assert np.isinf(short["samples"]).all()


def test_kalman_gain_reaches_the_riccati_steady_state():
    q, r = 0.3, 2.0
    walk = twin.LinearModel(transition=[[1.0]], observation=[[1.0]], process_noise=[[q]], measurement_noise=[[r]])
    kf = twin.KalmanFilter(walk, [0.0], [[10.0]])
    kf.run(np.zeros((1, 0)), 1.0, np.zeros((200, 1)))
    prior = (q + np.sqrt(q * q + 4 * q * r)) / 2
    posterior = prior * r / (prior + r)
    assert abs(kf.covariance[0, 0] - posterior) < 1e-12


def test_ukf_equals_kf_on_a_linear_model():
    m = twin.LinearModel(
        dynamics=[[0.0, 1.0], [0.0, 0.0]], input_matrix=[[0.0], [1.0]], feedthrough=[[0.5]],
        observation=[[1.0, 0.0]], process_noise=[[0.0, 0.0], [0.0, 0.2]], measurement_noise=[[0.7]],
    )
    assert m.dims == (2, 1, 1)
    rng = np.random.default_rng(2)
    kf = twin.KalmanFilter(m, [1.0, 0.5], [[4.0, 0.3], [0.3, 2.0]])
    ukf = twin.UnscentedKalmanFilter(m, [1.0, 0.5], [[4.0, 0.3], [0.3, 2.0]], alpha=0.3, kappa=1.0)
    for k in range(100):
        dt = 0.5 + 0.5 * (k % 3)
        u, z = [np.sin(k * 0.1)], [k * 0.8 + rng.standard_normal()]
        kf.estimate(u, dt, z)
        ukf.estimate(u, dt, z)
        assert np.allclose(kf.mean, ukf.mean, rtol=1e-9, atol=1e-9)
        assert np.allclose(kf.covariance, ukf.covariance, rtol=1e-9, atol=1e-9)


def test_deterministic_degradation_reaches_its_threshold_at_the_analytic_time():
    m = twin.LinearModel(
        dynamics=[[0.0, 1.0], [0.0, 0.0]], observation=[[1.0, 0.0]], process_noise=np.zeros((2, 2)),
        measurement_noise=[[1e-4]], event_weights=[1.0, 0.0], event_level=1.0,
    )
    kf = twin.KalmanFilter(m, [0.1, 0.003], np.diag([1e-20, 1e-20]))
    toe = kf.predict_event([], samples=3, dt=0.7, horizon=1000.0)
    assert np.allclose(toe["samples"], 300.0, atol=1e-6)  # (1 - 0.1) / 0.003
    toe = kf.predict_event([], samples=3, dt=0.7, horizon=1000.0, interpolate=False)
    assert np.allclose(toe["samples"], np.ceil(300.0 / 0.7 - 1e-9) * 0.7)


def test_a_model_of_python_callables_matches_the_built_in_one():
    F = np.array([[1.0, 1.0], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    Q = np.diag([0.01, 0.001])
    lin = twin.LinearModel(transition=F, observation=H, process_noise=Q, measurement_noise=[[0.5]])
    calls = []

    def f(x, u, dt):
        calls.append(1)
        return F @ x

    py = twin.StateModel(f, lambda x, u: H @ x, states=2, outputs=1, process_noise=Q, measurement_noise=[[0.5]])
    a = twin.UnscentedKalmanFilter(lin, [0.0, 1.0], np.eye(2))
    b = twin.UnscentedKalmanFilter(py, [0.0, 1.0], np.eye(2))
    z = (np.arange(40) * 1.1 + np.random.default_rng(0).normal(0, 0.5, 40))[:, None]
    assert np.allclose(a.run(np.zeros((1, 0)), 1.0, z), b.run(np.zeros((1, 0)), 1.0, z), rtol=1e-10, atol=1e-10)
    assert len(calls) == 40 * 5  # 2n + 1 sigma points per step
    # A particle filter of the same callables tracks the same slope.
    pf = twin.ParticleFilter(py, [0.0, 1.0], np.eye(2), particles=300, seed=3)
    pf.run(np.zeros((1, 0)), 1.0, z)
    assert abs(pf.mean[1] - a.mean[1]) < 0.1 and pf.effective_sample_size > 0
    # Prognosis through a Python event: position reaching 60.
    ev = twin.StateModel(lambda x, u, dt: F @ x, lambda x, u: H @ x, states=2, outputs=1,
                         process_noise=np.zeros((2, 2)), measurement_noise=[[0.5]], event=lambda x, u: 60.0 - x[0])
    u = twin.UnscentedKalmanFilter(ev, [0.0, 1.5], np.diag([1e-12, 1e-12]))
    assert abs(u.predict_event([], samples=2, horizon=100.0)["median"] - 40.0) < 1e-4


def test_errors_are_typed_and_callable_exceptions_propagate():
    def boom(x, u, dt):
        raise ZeroDivisionError("model blew up")

    bad = twin.StateModel(boom, lambda x, u: x, states=1, outputs=1, process_noise=[[0.1]], measurement_noise=[[1.0]])
    ukf = twin.UnscentedKalmanFilter(bad, [0.0], [[1.0]])
    with pytest.raises(ZeroDivisionError, match="blew up"):
        ukf.predict([], 1.0)
    wrong = twin.StateModel(lambda x, u, dt: np.r_[x, x], lambda x, u: x, states=1, outputs=1,
                            process_noise=[[0.1]], measurement_noise=[[1.0]])
    with pytest.raises(twin.InvalidInputError, match="returned 2 values"):
        twin.UnscentedKalmanFilter(wrong, [0.0], [[1.0]]).predict([], 1.0)
    with pytest.raises(TypeError, match="filter of a StateModel"):
        pickle.dumps(ukf)
    with pytest.raises(TypeError, match="needs Jacobians"):
        twin.KalmanFilter(bad, [0.0], [[1.0]])
    with pytest.raises(TypeError, match="model must be"):
        twin.KalmanFilter("battery", [0.0], [[1.0]])
    walk = twin.LinearModel(transition=[[1.0]], observation=[[1.0]], process_noise=[[0.1]], measurement_noise=[[1.0]])
    with pytest.raises(twin.InvalidInputError, match="transition must be 1 × 1"):
        twin.LinearModel(transition=[[1.0, 0.0], [0.0, 1.0]], observation=[[1.0]], process_noise=[[0.1]], measurement_noise=[[1.0]])
    with pytest.raises(twin.InvalidInputError, match="exactly one"):
        twin.LinearModel(observation=[[1.0]], process_noise=[[0.1]], measurement_noise=[[1.0]])
    kf = twin.KalmanFilter(walk, [0.0], [[1.0]])
    with pytest.raises(twin.NonFiniteError):
        kf.update([float("nan")])
    with pytest.raises(twin.InvalidInputError):
        kf.update([1.0, 2.0])
    with pytest.raises(twin.InvalidInputError, match="z has 2 columns"):
        kf.run(np.zeros((1, 0)), 1.0, np.zeros((5, 2)))
    with pytest.raises(TypeError, match="z must hold real numbers"):
        kf.run(np.zeros((1, 0)), 1.0, np.array([["a"]]))
    with pytest.raises(twin.InvalidInputError):
        twin.BatteryCircuit(process_noise=[-1.0] * 4)
    with pytest.raises(TypeError, match="unknown battery parameter"):
        twin.BatteryCircuit(params={"volts": 3.0})
    with pytest.raises(twin.SerializationError):
        twin.KalmanFilter.from_json('{"format":"nope","version":1,"model":{}}')


def test_filters_and_models_round_trip():
    # With process noise the covariance stays well conditioned. (Without any, the KF's P
    # becomes numerically singular and twin's loader refuses it as not positive definite.)
    b = twin.BatteryCircuit(params={"q_max": 7000.0}, process_noise=[0.25] * 4, measurement_noise=[1.0, 0.01])
    assert pickle.loads(pickle.dumps(b)).to_json() == b.to_json()
    z = clean_discharge(50)
    for cls in (twin.KalmanFilter, twin.UnscentedKalmanFilter, twin.ParticleFilter):
        kw = {"particles": 200, "seed": 1} if cls is twin.ParticleFilter else {}
        f = cls(b, b.initial_state(), np.diag([0.01, 1.0, 0.01, 0.01]), **kw)
        f.run([[2.0]], 1.0, z[:25])
        g = cls.from_json(f.to_json())
        assert np.array_equal(g.mean, f.mean)
        assert np.array_equal(g.run([[2.0]], 1.0, z[25:]), f.run([[2.0]], 1.0, z[25:]))
        assert "states" in repr(f)
    walk = twin.LinearModel(transition=[[1.0]], observation=[[1.0]], process_noise=[[0.1]], measurement_noise=[[1.0]])
    assert pickle.loads(pickle.dumps(walk)).dims == (1, 0, 1)
