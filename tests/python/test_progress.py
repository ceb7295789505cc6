"""Progress reporting (a callback, or tqdm) and Ctrl-C for the long runs: simulations,
what-if Monte Carlo and maintenance policy evaluation and optimisation."""

import os
import signal
import sys
import threading
import time

import pytest

import twin

DAY = 86_400.0


def scenario(devices=50, period_s=60.0, horizon_s=3_600.0, seed=1):
    return {
        "seed": seed,
        "horizon_s": horizon_s,
        "gateways": [{"name": "gw", "link": {"latency_s": 0.02}}],
        "groups": [{"count": devices, "period_s": period_s, "gateways": [0]}],
    }


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


def summaries(reports):
    return [r.summary for r in reports]


# ------------------------------------------------------------------------- callbacks


def test_replicate_reports_each_finished_run_and_the_results_do_not_change():
    rec = Recorder()
    with_progress = twin.sim_replicate(scenario(), 12, 2, progress=rec)
    rec.check(12)
    assert summaries(with_progress) == summaries(twin.sim_replicate(scenario(), 12, 2))


def test_a_single_run_reports_per_mille_of_its_horizon():
    rec = Recorder()
    # 2,000 devices for a day: about 2.9 million reports, several progress slices.
    r = twin.sim_run(scenario(devices=2_000, horizon_s=DAY), progress=rec)
    rec.check(1000)
    assert r.summary["reports"] == 2_000 * 1_440
    assert r.summary == twin.sim_run(scenario(devices=2_000, horizon_s=DAY)).summary


def test_sweep_and_paired_count_every_run():
    rec = Recorder()
    sw = twin.sim_sweep(scenario(), "groups.0.period_s", [30.0, 60.0, 120.0], replications=2, progress=rec)
    rec.check(6)
    assert len(sw["reports"]) == 6
    rec = Recorder()
    p = twin.sim_paired(scenario(), scenario(period_s=30.0), 4, progress=rec)
    rec.check(8)
    # The variant reports twice as often: 60 more reports per device over the hour.
    assert list(p["differences"]["reports"]) == [50 * 60.0] * 4


def test_what_if_reports_time_steps_on_twins_and_models():
    s = twin.WhatIfScenario(10 * DAY, 3_600.0, paths=200, seed=3)
    assert s.steps == 240
    t = twin.Twin(twin.Schema.conveyor(), model=twin.ConveyorModel())
    rec = Recorder()
    r = t.what_if(s, progress=rec)
    rec.check(240)
    assert r.to_json() == t.what_if(s).to_json()
    rec = Recorder()
    m = twin.ConveyorModel()
    assert m.what_if(s, progress=rec).to_json() == m.what_if(s).to_json()
    rec.check(240)


def test_maintenance_counts_units_and_evaluations():
    policy = {"kind": "periodic", "interval_s": 90 * DAY}
    rec = Recorder()
    r = twin.maintenance_evaluate(policy, units=64, seed=2, progress=rec)
    rec.check(64)
    assert r == twin.maintenance_evaluate(policy, units=64, seed=2)
    rec = Recorder()
    o = twin.optimise_policy("periodic", 10 * DAY, 400 * DAY, units=20, seed=1, progress=rec)
    # 16 grid points, 2 + 12 golden-section evaluations and the final report.
    rec.check(31)
    assert o == twin.optimise_policy("periodic", 10 * DAY, 400 * DAY, units=20, seed=1)


def test_a_failing_callback_stops_the_run_and_its_exception_propagates():
    calls = []

    def boom(done, total):
        calls.append(done)
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        twin.sim_replicate(scenario(devices=2_000, horizon_s=DAY), 200, 2, progress=boom)
    assert len(calls) == 1
    # The library is still usable.
    assert len(twin.sim_replicate(scenario(), 2, progress=None)) == 2


def test_progress_must_be_a_callable_or_a_bool():
    with pytest.raises(TypeError, match="progress"):
        twin.sim_run(scenario(), progress="yes")
    with pytest.raises(TypeError, match="progress"):
        twin.maintenance_evaluate({"kind": "run_to_failure"}, progress=3)
    # False and None are quiet.
    assert twin.sim_run(scenario(), progress=False).summary["reports"] == 50 * 60


# ------------------------------------------------------------------------- tqdm


def test_true_draws_a_tqdm_bar_to_the_total(capsys):
    pytest.importorskip("tqdm")
    reps = twin.sim_replicate(scenario(), 5, progress=True)
    assert len(reps) == 5
    err = capsys.readouterr().err
    assert "sim_replicate" in err and "5/5" in err


def test_true_without_tqdm_is_silent(monkeypatch, capsys):
    # A None entry in sys.modules makes `import tqdm.auto` raise ImportError.
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    r = twin.sim_run(scenario(), progress=True)
    assert r.summary["reports"] == 3_000
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------------- Ctrl-C


def thread_ids():
    """The ids of this process's threads."""
    return set(os.listdir("/proc/self/task"))


def threads_started_since(before, wait_s=2.0):
    """Thread ids that are not in `before`, after waiting up to `wait_s` for them to end.
    Threads left by earlier tests may end at any time, so a leak shows as a new id, not as
    a larger count."""
    deadline = time.perf_counter() + wait_s
    while thread_ids() - before and time.perf_counter() < deadline:
        time.sleep(0.01)
    return thread_ids() - before


def long_replicate():
    # 400 runs of 2.9 million reports: minutes of work.
    twin.sim_replicate(scenario(devices=2_000, horizon_s=DAY), 400, 2)


def long_what_if():
    t = twin.Twin(twin.Schema.conveyor(), model=twin.ConveyorModel())
    t.what_if(twin.WhatIfScenario(300 * DAY, 60.0, paths=20_000, seed=1))


def long_evaluate():
    twin.maintenance_evaluate(
        {"kind": "rul_based", "lead_time_s": DAY, "inspection_interval_s": 600.0},
        units=2_000_000,
        horizon_s=10 * 365 * DAY,
        seed=1,
    )


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
@pytest.mark.parametrize("work", [long_replicate, long_what_if, long_evaluate], ids=lambda f: f.__name__)
def test_ctrl_c_interrupts_a_long_run_promptly_and_leaves_nothing_running(work):
    before = thread_ids()
    sent = []

    def interrupt():
        sent.append(time.perf_counter())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    timer = threading.Timer(0.5, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            work()
        raised = time.perf_counter()
    finally:
        timer.cancel()
        timer.join()
    assert sent, "the run finished before the interrupt was sent"
    latency = raised - sent[0]
    assert latency < 0.5, f"KeyboardInterrupt {latency:.3f} s after SIGINT"
    # The worker threads have stopped (the timer thread has been joined too).
    assert threads_started_since(before) == set()
    # And the next run works.
    assert twin.sim_run(scenario()).summary["reports"] == 3_000
