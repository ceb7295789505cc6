"""Long analytics calls release the GIL: another Python thread gets work done while the
call runs (a call that kept the GIL would let it run only after the call returned)."""

import threading
import time

import numpy as np
import pytest

import twin


def other_thread_finished_first(work):
    """Run `work` in a thread; meanwhile sleep briefly (waking needs the GIL back) and do a
    little Python work here. True if that work finished before `work` returned."""
    started = threading.Event()
    ended = {}

    def run():
        started.set()
        work()
        ended["work"] = time.perf_counter()

    t = threading.Thread(target=run)
    t.start()
    started.wait()
    time.sleep(0.02)
    s = 0
    for i in range(20_000):
        s += i
    mine = time.perf_counter()
    t.join()
    return mine < ended["work"]


def long_enough(make, seconds=0.4, max_scale=1024):
    """`make(scale)` returns a call; double the scale until the call takes `seconds`
    (release and debug builds differ by an order of magnitude), at most `max_scale`."""
    scale = 1
    while True:
        work = make(scale)
        t0 = time.perf_counter()
        work()
        if time.perf_counter() - t0 >= seconds or scale >= max_scale:
            return make(scale)
        scale *= 2


def hst(k):
    x = np.random.default_rng(0).normal(size=50_000 * k)
    return lambda: twin.HalfSpaceTrees().score_many(x)


def pca_fit(k):
    X = np.random.default_rng(1).normal(size=(20_000 * k, 6))
    return lambda: twin.PcaDetector().fit(X)


def pca_predict(k):
    X = np.random.default_rng(1).normal(size=(20_000 * k, 6))
    pca = twin.PcaDetector().fit(X[:1000])
    return lambda: pca.predict(X)


def battery_ukf():
    b = twin.BatteryCircuit(process_noise=[0.25] * 4, measurement_noise=[2.0, 0.02])
    return b, twin.UnscentedKalmanFilter(b, b.initial_state(), np.diag([0.01, 1.0, 0.01, 0.01]))


def monte_carlo(k):
    _, ukf = battery_ukf()
    return lambda: ukf.predict_event([2.0], samples=20 * k, horizon=10_000.0)


def filter_run(k):
    b, ukf = battery_ukf()
    z = np.tile(b.output(b.initial_state(), [2.0]), (2000 * k, 1))
    return lambda: ukf.run([[0.0]], 1.0, z)


def rul_fit(k):
    units = np.repeat(np.arange(10 * k), 150)
    F = np.random.default_rng(2).normal(size=(len(units), 3)) + np.tile(np.linspace(0, 3, 150), 10 * k)[:, None]
    return lambda: twin.RegressionRul(learner="ridge", folds=2, threads=1).fit(F, units)


def test_a_call_that_keeps_the_gil_is_told_apart():
    # condition_features keeps the GIL (it is a single pass): the check must see that.
    def block(k):
        x = np.random.default_rng(0).normal(size=1_000_000 * k)
        return lambda: twin.condition_features(x)

    assert not other_thread_finished_first(long_enough(block))


@pytest.mark.parametrize("make", [hst, pca_fit, pca_predict, monte_carlo, filter_run, rul_fit])
def test_long_calls_release_the_gil(make):
    assert other_thread_finished_first(long_enough(make))
