"""Progress reporting (a callback, or tqdm) and Ctrl-C for the remaining-useful-life model
fits: counts that rise to a total the test works out itself, results identical with and
without a callback, typed errors for a bad ``progress=``, and a prompt, clean interrupt."""

import signal
import threading
import time

import numpy as np
import pytest

import twin
from test_progress import thread_ids, threads_started_since


def wear_fleet(n, seed, life=(60, 100)):
    """`n` units whose two signals rise as exp(-rul / 20) towards failure, plus noise."""
    rng = np.random.default_rng(seed)
    X, ids = [], []
    for u in range(n):
        L = int(rng.integers(*life))
        w = np.exp(-(L - 1 - np.arange(L)) / 20.0)
        X.append(np.column_stack([1 + w + 0.02 * rng.standard_normal(L), 3 - 2 * w + 0.02 * rng.standard_normal(L)]))
        ids.append(np.full(L, u))
    return np.vstack(X), np.concatenate(ids)


class Recorder:
    """A progress callback that keeps every (done, total) it is given."""

    def __init__(self):
        self.calls = []

    def __call__(self, done, total):
        assert threading.current_thread() is threading.main_thread()
        self.calls.append((done, total))

    def check(self, total):
        """Counts are monotone, the total never changes and the last call is (total, total)."""
        assert self.calls, "the callback was never called"
        assert {t for _, t in self.calls} == {total}
        dones = [d for d, _ in self.calls]
        assert dones == sorted(dones) and len(set(dones)) == len(dones)
        assert self.calls[-1] == (total, total)


UNITS = 15
FOLDS = 3
FITS = FOLDS + 1  # one per fold and the final fit on every unit

# (model, work units of its fit on UNITS units): per fit one unit per boosting round (one
# in all for the other learners), one per held-out unit, one for the calibration.
CASES = {
    "boosting": (lambda: twin.RegressionRul(cap=60.0, window=10, n_trees=40, max_depth=3, folds=FOLDS, stride=3, seed=1),
                 FITS * 40 + UNITS + 1),
    "ridge": (lambda: twin.RegressionRul(learner="ridge", cap=60.0, window=10, folds=FOLDS, stride=3),
              FITS + UNITS + 1),
    "similarity": (lambda: twin.SimilarityRul(cap=60.0, window=15, folds=FOLDS, stride=3),
                   FITS + UNITS + 1),
    "exponential": (lambda: twin.ExponentialRul(cap=60.0, folds=FOLDS, stride=3),
                    FITS + UNITS + 1),
    # members and the ensemble's calibration in one total
    "ensemble": (lambda: twin.RulEnsemble(
        members=[twin.RegressionRul(n_trees=25, max_depth=3, window=10), "ridge", twin.SimilarityRul(window=15)],
        cap=60.0, grid=10, folds=FOLDS, stride=3),
        (FITS * 25 + UNITS) + 2 * (FITS + UNITS) + 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_callback_counts_up_to_the_total_and_the_model_is_unchanged(name):
    make, total = CASES[name]
    X, ids = wear_fleet(UNITS, 4)
    rec = Recorder()
    m = make()
    assert m.fit(X, ids, progress=rec) is m
    rec.check(total)
    plain = make().fit(X, ids)
    assert m.to_json() == plain.to_json()
    Xt, it = wear_fleet(5, 9)
    assert np.array_equal(m.predict(Xt, it), plain.predict(Xt, it))


def test_a_bad_progress_value_is_a_type_error_naming_it_and_fits_nothing():
    X, ids = wear_fleet(UNITS, 4)
    for cls in (twin.RegressionRul, twin.SimilarityRul, twin.ExponentialRul, twin.RulEnsemble):
        m = cls(folds=FOLDS)
        with pytest.raises(TypeError, match="progress must be a callable"):
            m.fit(X, ids, progress="yes")
        with pytest.raises(TypeError, match="progress"):
            m.fit(X, ids, progress=3)
        with pytest.raises(twin.InvalidInputError, match="not fitted"):
            m.predict(X, ids)
    # progress is keyword-only
    with pytest.raises(TypeError):
        twin.RegressionRul(learner="ridge").fit(X, ids, None, print)
    # False and None are quiet and fit
    r = twin.RegressionRul(learner="ridge", folds=FOLDS)
    assert r.fit(X, ids, progress=False).held_out_["points"] > 0
    assert r.fit(X, ids, progress=None).held_out_["points"] > 0


def test_a_failing_callback_stops_the_fit_and_leaves_the_model_as_it_was():
    X, ids = wear_fleet(UNITS, 4)
    m = twin.RegressionRul(cap=60.0, window=10, n_trees=40, folds=FOLDS, stride=3).fit(X, ids)
    before = m.to_json()

    def boom(done, total):
        raise RuntimeError("stop here")

    X2, ids2 = wear_fleet(UNITS, 5)
    with pytest.raises(RuntimeError, match="stop here"):
        m.set_params(n_trees=20_000).fit(X2, ids2, progress=boom)
    assert m.to_json() == before


def test_true_draws_a_tqdm_bar_named_after_the_model(capsys):
    pytest.importorskip("tqdm")
    X, ids = wear_fleet(UNITS, 4)
    twin.SimilarityRul(cap=60.0, window=15, folds=FOLDS, stride=3).fit(X, ids, progress=True)
    err = capsys.readouterr().err
    total = FITS + UNITS + 1
    assert "SimilarityRul" in err and f"{total}/{total}" in err


def test_clone_keeps_settings_and_takes_no_progress_parameter():
    base = pytest.importorskip("sklearn.base")
    X, ids = wear_fleet(UNITS, 4)
    m = twin.RegressionRul(learner="ridge", folds=FOLDS, cap=60.0)
    rec = Recorder()
    c = base.clone(m).fit(X, ids, progress=rec)
    rec.check(FITS + UNITS + 1)
    assert "progress" not in c.get_params()
    assert c.get_params() == m.get_params()
    assert c.to_json() == m.fit(X, ids).to_json()


# ------------------------------------------------------------------------- Ctrl-C




def long_boosting():
    # 4 fits of 100,000 rounds on 40 units: many minutes of work.
    X, ids = wear_fleet(40, 1, life=(150, 250))
    return twin.RegressionRul(n_trees=100_000, max_depth=4, folds=3, threads=2), X, ids


def long_ensemble():
    X, ids = wear_fleet(40, 1, life=(150, 250))
    members = ["ridge", twin.RegressionRul(n_trees=100_000, max_depth=4)]
    return twin.RulEnsemble(members=members, folds=3, threads=2), X, ids


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
@pytest.mark.parametrize("setup", [long_boosting, long_ensemble], ids=lambda f: f.__name__)
def test_ctrl_c_interrupts_a_long_fit_promptly_and_the_next_fit_works(setup):
    model, X, ids = setup()
    before = thread_ids()
    sent = []
    seen = []

    def interrupt():
        sent.append(time.perf_counter())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    timer = threading.Timer(0.5, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, ids, progress=lambda d, t: seen.append((d, t)))
        raised = time.perf_counter()
    finally:
        timer.cancel()
        timer.join()
    assert sent, "the fit finished before the interrupt was sent"
    latency = raised - sent[0]
    assert latency < 0.5, f"KeyboardInterrupt {latency:.3f} s after SIGINT"
    # it was interrupted part way, not at the end
    assert seen and seen[-1][0] < seen[-1][1]
    # nothing fitted, nothing left running
    with pytest.raises(twin.InvalidInputError, match="not fitted"):
        model.predict(X, ids)
    assert threads_started_since(before) == set()
    # the same model fits afterwards with quick settings
    quick = {"n_trees": 20} if isinstance(model, twin.RegressionRul) else {"members": ["ridge", "similarity"]}
    model.set_params(stride=10, **quick).fit(X, ids)
    assert model.held_out_["points"] > 0
