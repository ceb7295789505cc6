"""Connections from Python: Twin.step / flush / command_as over the connection protocol,
the simulated network (SimNetwork) and its pickling."""

import copy
import math
import pickle
import random
import threading

import numpy as np
import pytest

import twin

S = 1_000_000_000


class ListConn:
    """A connection over a list of (time, signal, value) rows; keeps what it is sent."""

    def __init__(self, rows, form="tuple", fail_send=None):
        self.rows = list(rows)
        self.sent = []
        self.form = form
        self.fail_send = fail_send

    def poll(self, max_samples):
        take, self.rows = self.rows[:max_samples], self.rows[max_samples:]
        t = np.array([r[0] for r in take], dtype=np.int64)
        s = np.array([r[1] for r in take], dtype=np.uint32)
        v = np.array([r[2] for r in take], dtype=np.float64)
        if self.form == "dict":
            return {"time": t, "signal": s, "value": v}
        return (t, s, v)

    def send(self, command):
        if self.fail_send is not None:
            raise self.fail_send
        self.sent.append(command)


# ---------------------------------------------------------------- Twin.step with Python objects


@pytest.mark.parametrize("form", ["tuple", "dict"])
def test_step_polls_ingests_and_counts_like_ingest_batch(plant, form):
    rows = [(i * S, 0, 10.0 + i) for i in range(5)]
    rows += [(5 * S, 0, float("nan")), (6 * S, 9, 1.0), (7 * S, 0, 500.0), (1 * S, 0, 3.0)]
    t = twin.Twin(plant, monitor=False)
    conn = ListConn(rows, form)
    r = t.step(conn, max_samples=100)
    assert (r.polled, r.accepted, r.rejected, r.sent, r.failed) == (9, 5, 4, 0, 0)
    assert r.ingest.reasons == {
        "non_finite": 1,
        "unknown_signal": 1,
        "out_of_range": 1,
        "out_of_order": 1,
    }
    # The same rows through ingest_batch give the same counters.
    t2 = twin.Twin(plant, monitor=False)
    t2.ingest_batch(*ListConn(rows).poll(100))
    assert t.counters == t2.counters
    assert t.reported("x") == 14.0
    assert repr(r) == "StepReport(polled=9, accepted=5, rejected=4, sent=0, failed=0)"


def test_step_takes_at_most_max_samples_and_sends_the_outbox(plant):
    t = twin.Twin(plant, monitor=False)
    conn = ListConn([(i * S, 0, float(i)) for i in range(25)])
    t.command("set_x", 2.0, 0)
    r1 = t.step(conn, max_samples=10)
    assert (r1.polled, r1.sent) == (10, 1)
    assert [(c.name, c.value, c.seq) for c in conn.sent] == [("set_x", 2.0, 1)]
    assert t.pending_commands() == []
    polled = [t.step(conn, 10).polled for _ in range(3)]
    assert polled == [10, 5, 0]
    assert t.counters["accepted"] == 25
    assert t.command_counters["sent"] == 1
    assert t.audit_log()[-1]["outcome"] == "sent"


def test_a_failed_send_is_counted_and_kept_in_the_audit_log(plant):
    t = twin.Twin(plant, monitor=False)
    t.command("set_x", 1.0, 0)
    t.command_as("set_x", 2.0, 5 * S, "advisor")
    r = t.step(ListConn([], fail_send=ConnectionError("link down")))
    assert (r.polled, r.sent, r.failed) == (0, 0, 2)
    assert t.command_counters["send_failed"] == 2
    assert t.pending_commands() == []  # not retried, as in Rust
    failed = [e for e in t.audit_log() if e["outcome"] == "send_failed"]
    assert len(failed) == 2
    assert failed[0]["reason"] == "disconnected"
    assert "link down" in failed[0]["message"]
    assert [e["source"] for e in t.audit_log() if e["outcome"] == "accepted"] == [
        "user",
        "advisor",
    ]
    # Any other exception is an I/O failure of the send.
    t.command("set_x", 3.0, 10 * S)
    assert t.flush(ListConn([], fail_send=RuntimeError("boom"))) == (0, 1)
    assert t.audit_log()[-1]["reason"] == "io"


def test_flush_sends_without_polling(plant):
    t = twin.Twin(plant, monitor=False)
    conn = ListConn([(0, 0, 1.0)])
    t.command("set_x", 1.5, 0)
    assert t.flush(conn) == (1, 0)
    assert conn.rows == [(0, 0, 1.0)]  # nothing polled
    assert t.flush(conn) == (0, 0)


def test_command_as_refused_is_audited_with_its_source(plant):
    t = twin.Twin(plant, monitor=False)
    with pytest.raises(twin.OutOfRangeError):
        t.command_as("set_x", 99.0, 0, "advisor")
    with pytest.raises(twin.UnknownSignalError):
        t.command_as("nope", 1.0, 0, "rule")
    log = t.audit_log()
    assert [(e["source"], e["outcome"]) for e in log] == [
        ("advisor", "refused"),
        ("rule", "refused"),
    ]
    assert t.command_counters["refused"] == 2


def test_poll_exceptions_propagate_and_nothing_is_ingested(plant):
    class Broken:
        def poll(self, n):
            raise KeyError("sensor bus")

        def send(self, c):
            pass

    t = twin.Twin(plant, monitor=False)
    t.command("set_x", 1.0, 0)
    with pytest.raises(KeyError, match="sensor bus"):
        t.step(Broken())
    assert t.counters["received"] == 0
    assert len(t.pending_commands()) == 1  # the step stopped before the flush


@pytest.mark.parametrize(
    "ret, exc, needle",
    [
        (([0, 1], [0], [1.0, 2.0]), twin.InvalidInputError, "different lengths"),
        (([0], [0]), twin.InvalidInputError, "tuple of 2 items"),
        ({"time": [0], "value": [1.0]}, twin.InvalidInputError, 'without the key "signal"'),
        ([0, 0, 1.0], TypeError, "must return a tuple"),
        ((["a"], [0], [1.0]), TypeError, "poll\\(\\): times must hold"),
        ((list(range(11)), [0] * 11, [1.0] * 11), twin.InvalidInputError, "more than max_samples=10"),
    ],
)
def test_bad_poll_results_raise_naming_poll(plant, ret, exc, needle):
    class Bad:
        def poll(self, n):
            return ret

        def send(self, c):
            pass

    t = twin.Twin(plant, monitor=False)
    with pytest.raises(exc, match=needle):
        t.step(Bad(), max_samples=10)
    assert t.counters["received"] == 0


def test_bad_arguments(plant):
    t = twin.Twin(plant, monitor=False)
    with pytest.raises(TypeError, match="conn must be a connection.*no poll"):
        t.step(object())
    with pytest.raises(TypeError, match="no send"):
        t.flush(type("P", (), {"poll": lambda self, n: ([], [], [])})())
    with pytest.raises(twin.InvalidInputError, match="max_samples must be >= 0"):
        t.step(ListConn([]), max_samples=-1)


def test_a_connection_calling_back_into_its_twin_gets_an_error_not_a_deadlock(plant):
    t = twin.Twin(plant, monitor=False)

    class Nosy:
        def poll(self, n):
            return ([t.counters["received"]], [0], [1.0])

        def send(self, c):
            pass

    with pytest.raises(twin.TwinError, match="called back into the twin"):
        t.step(Nosy())
    # The twin is fine afterwards.
    assert t.step(ListConn([(0, 0, 1.0)])).accepted == 1


def test_step_report_pickles(plant):
    t = twin.Twin(plant, monitor=False)
    r = t.step(ListConn([(0, 0, 1.0), (0, 0, float("inf"))]))
    r2 = pickle.loads(pickle.dumps(r))
    assert r2 == r
    assert r2.ingest.rejections == [(1, "non_finite")]


# ---------------------------------------------------------------- SimNetwork

CONVEYOR = twin.Schema.conveyor()


def test_sim_network_without_loss_delivers_every_scan_analytically():
    # The Rust doc example: latency 50 ms, seed 7, one conveyor sampled every 10 s, 600 s.
    net = twin.SimNetwork({"latency_s": 0.05}, seed=7)
    assert net.add_device(twin.ConveyorDrive(seed=1), 10.0) == 0
    t = twin.Twin(CONVEYOR, monitor=False)
    net.advance_to(600.0)
    r = t.step(net)
    n_signals = len(twin.ConveyorDrive(seed=1).sense())
    # Scans at 0, 10, ..., 600 s: 61; the one at 600 s is still on the link.
    s = net.stats
    assert s["sensed"] == 61 * n_signals
    assert s["in_flight"] == n_signals
    assert r.polled == r.accepted == s["polled"] == s["delivered"] == 60 * n_signals
    assert t.counters["accepted"] == s["polled"]
    assert net.now_s == 600.0


def test_sim_network_samples_equal_the_entity_driven_by_hand():
    net = twin.SimNetwork({"latency_s": 0.01}, seed=3)
    net.add_device(twin.ConveyorDrive(seed=5), 30.0)
    net.advance_to(300.0)
    times, signals, values = net.poll(100_000)
    assert times.dtype == np.int64 and signals.dtype == np.uint32 and values.dtype == np.float64
    ref = twin.ConveyorDrive(seed=5)
    rows = []
    for k in range(10):  # scans at 0..270 s have arrived; the one at 300 s has not
        if k:
            ref.advance(30.0)
        for name, v in ref.sense().items():
            rows.append((ref.now, CONVEYOR.signal_id(name), v))
    assert list(zip(times.tolist(), signals.tolist(), values.tolist())) == rows


def test_conveyor_over_a_lossy_link_counts_reconcile_and_commands_reach_the_belt():
    link = {
        "latency_s": 0.2,
        "jitter_s": 0.1,
        "loss": {"model": "gilbert_elliott", "p": 0.1, "r": 0.4, "k": 0.98, "h": 0.3},
    }
    net = twin.SimNetwork(link, seed=11)
    drive = twin.ConveyorDrive(seed=2)
    net.add_device(drive, 5.0)
    t = twin.Twin(CONVEYOR, monitor=False, limits={"max_history_samples": 100_000})
    polled = 0
    for k in range(1, 61):
        net.advance_to(60.0 * k)
        r = t.step(net)
        assert r.accepted == r.polled
        polled += r.polled
        s = net.stats
        assert s["sensed"] == s["lost"] + s["dropped"] + s["delivered"] + s["in_flight"]
        assert s["delivered"] == s["polled"] + s["ready"]
        if k == 30:
            t.command("set_speed", 1.2, t.now)
    s = net.stats
    assert polled == s["polled"] == t.counters["accepted"]
    # Gilbert-Elliott loss at steady state: p/(p+r)(1-h) + r/(p+r)(1-k) = 0.156.
    loss = s["lost"] / s["sensed"]
    assert 0.06 < loss < 0.30, loss
    assert s["lost"] % len(twin.ConveyorDrive().sense()) == 0  # whole packets are lost
    assert s["commands_applied"] == 1 and s["commands_refused"] == 0
    # The belt follows the set-point: the last half hour reads ~1.2 m/s.
    h = t.history()
    belt = CONVEYOR.signal_id("belt_speed")
    late = h["value"][(h["signal"] == belt) & (h["time"] > 1900 * S)]
    early = h["value"][(h["signal"] == belt) & (h["time"] < 1700 * S)]
    assert len(late) > 100
    assert abs(np.median(late) - 1.2) < 0.05
    assert abs(np.median(early) - 1.2) > 0.2
    assert drive is net.devices[0]


def test_sim_network_bad_input():
    with pytest.raises(twin.InvalidInputError, match="link.*unknown field `latency`"):
        twin.SimNetwork({"latency": 0.1})
    with pytest.raises(twin.InvalidInputError, match="latency_s"):
        twin.SimNetwork({"latency_s": -1.0})
    net = twin.SimNetwork()
    with pytest.raises(twin.InvalidInputError, match="period_s"):
        net.add_device(twin.ConveyorDrive(), -1.0)
    with pytest.raises(twin.InvalidInputError, match="period_s"):
        net.add_device(twin.ConveyorDrive(), float("nan"))
    with pytest.raises(TypeError, match="entity must be"):
        net.add_device(object(), 1.0)
    net.advance_to(10.0)
    with pytest.raises(twin.InvalidInputError, match="t_s"):
        net.advance_to(5.0)
    with pytest.raises(twin.InvalidInputError, match="t_s"):
        net.advance_to(float("nan"))
    with pytest.raises(TypeError, match="command must be a twin.Command"):
        net.send("set_speed")
    with pytest.raises(twin.InvalidInputError, match="max_samples"):
        net.poll(-5)
    assert "SimNetwork: 0 devices" in repr(net)


class Tank:
    """A deterministic Python entity: a tank level that drains, refilled by a command."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.level = 50.0
        self.inflow = 0.0
        self.t = 0.0
        self.schema = twin.Schema(
            "tank",
            telemetry=[{"name": "level", "unit": "%"}],
            properties=[twin.SignalSpec("inflow_sp", "%/s", min=0.0, max=5.0)],
            commands=[twin.CommandSpec("set_inflow", "%/s", min=0.0, max=5.0, property="inflow_sp")],
        )

    @property
    def now(self):
        return round(self.t * S)

    @property
    def failed(self):
        return False

    def advance(self, dt):
        self.t += dt
        self.level = max(0.0, self.level + (self.inflow - 0.1) * dt)

    def sense(self):
        return {"level": self.level + self.rng.gauss(0.0, 0.5)}

    def actuate(self, command, value):
        self.inflow = value

    def __reduce__(self):
        return (_rebuild_tank, (self.rng.getstate(), self.level, self.inflow, self.t))


def _rebuild_tank(rng, level, inflow, t):
    k = Tank(0)
    k.rng.setstate(rng)
    k.level, k.inflow, k.t = level, inflow, t
    return k


def _run(net, tw, k0, k1):
    cols = []
    for k in range(k0, k1):
        net.advance_to(10.0 * k)
        if k % 3 == 0:
            cols.append(net.poll(7))
        else:
            tw.step(net, max_samples=50)
        if k == 12:
            tw.command("set_inflow", 0.4, tw.now)
    return cols


def test_sim_network_pickles_mid_run_and_continues_identically():
    link = {"latency_s": 0.5, "jitter_s": 0.3, "loss": {"model": "bernoulli", "p": 0.25}}
    net = twin.SimNetwork(link, seed=99)
    net.add_device(Tank(1), 2.0)
    tw = twin.Twin(Tank(0).schema, monitor=False)
    _run(net, tw, 1, 20)
    net.add_device(Tank(2), 3.0)  # a device added mid-run, in its state then
    _run(net, tw, 20, 25)

    net2 = pickle.loads(pickle.dumps(net))
    tw2 = pickle.loads(pickle.dumps(tw))
    assert net2.stats == net.stats and net2.now_s == net.now_s
    a = _run(net, tw, 25, 60)
    b = _run(net2, tw2, 25, 60)
    assert len(a) == len(b) > 5
    for x, y in zip(a, b):
        for cx, cy in zip(x, y):
            assert np.array_equal(cx, cy)
    assert net2.stats == net.stats
    assert net.stats["commands_applied"] == 1
    assert tw2.counters == tw.counters
    assert net2.devices[0].level == net.devices[0].level
    # A copy is independent of the original.
    net3 = copy.deepcopy(net)
    net3.advance_to(1000.0)
    assert net.now_s == 590.0 and net3.now_s == 1000.0


def test_an_unpicklable_entity_makes_the_network_refuse_to_pickle():
    net = twin.SimNetwork()

    class Unpicklable(Tank):
        def __reduce__(self):
            raise TypeError("no pickling here")

    net.add_device(Unpicklable(1), 1.0)
    net.advance_to(3.0)
    with pytest.raises(TypeError, match="no pickling here"):
        pickle.dumps(net)
    # The network is untouched and runs on.
    net.advance_to(6.0)
    assert net.stats["sensed"] == 7


def test_a_network_pickle_holds_what_is_under_way_not_its_history():
    net = twin.SimNetwork({"latency_s": 0.5, "jitter_s": 0.2}, seed=3)
    net.add_device(Tank(1), 1.0)
    tw = twin.Twin(Tank(0).schema, monitor=False)

    def run(k0, k1):
        for k in range(k0, k1):
            net.advance_to(2.0 * k)
            tw.step(net, max_samples=1)  # leave most samples waiting, then take them all
            tw.step(net)
            if k % 10 == 0:
                tw.command("set_inflow", 0.1 * (k % 30) / 10, tw.now)

    run(1, 50)
    early = len(pickle.dumps(net))
    run(50, 5_000)
    late = len(pickle.dumps(net))
    assert net.stats["commands_applied"] > 100
    # 100 times as long a run, about the same pickle (a packet on the link or not).
    assert late < early + 200, (early, late)


class Glitchy(Tank):
    """A tank whose level reads NaN one second in three and infinity another."""

    def sense(self):
        v = super().sense()["level"]
        return {"level": [v, math.nan, math.inf][round(self.t) % 3]}

    def __reduce__(self):
        return (_rebuild_glitchy, (self.rng.getstate(), self.level, self.inflow, self.t))


def _rebuild_glitchy(rng, level, inflow, t):
    k = Glitchy(0)
    k.rng.setstate(rng)
    k.level, k.inflow, k.t = level, inflow, t
    return k


def test_a_network_pickle_keeps_shared_entities_and_non_finite_samples():
    net = twin.SimNetwork({"latency_s": 0.25}, seed=8)
    net.add_device(Glitchy(2), 1.0)
    net.advance_to(20.0)
    dev = net.devices[0]
    net2, dev2 = pickle.loads(pickle.dumps((net, dev)))
    # The copy's device is the copied entity, as it was in the original.
    assert type(dev2) is Glitchy and net2.devices[0] is dev2
    assert dev2.level == dev.level and dev2.t == dev.t
    # 21 readings (0 to 20 s), the last still on the link; the waiting ones hold NaN and inf.
    assert net2.stats == net.stats and net.stats["ready"] == 20
    for n in (net, net2):
        n.advance_to(40.0)
    a, b = net.poll(100), net2.poll(100)
    seconds = np.round(a[0] / 1e9).astype(int)
    assert list(seconds) == list(range(40))
    assert np.array_equal(np.isnan(a[2]), seconds % 3 == 1)
    assert np.array_equal(np.isinf(a[2]), seconds % 3 == 2)
    for x, y in zip(a, b):
        assert np.array_equal(x, y, equal_nan=True)


def test_a_damaged_network_state_is_refused_with_the_reason():
    net = twin.SimNetwork({"latency_s": 0.5}, seed=1)
    net.add_device(Tank(1), 1.0)
    net.advance_to(10.25)
    f, (state, devices) = net.__reduce__()
    assert f(state, devices).stats == net.stats
    with pytest.raises(twin.InvalidInputError, match="not a saved state"):
        twin.SimNetwork.restore(b"not a state", devices)
    with pytest.raises(twin.InvalidInputError, match="1 devices but 2 entities"):
        twin.SimNetwork.restore(state, devices + [Tank(2)])
    with pytest.raises(TypeError, match="has no advance"):
        twin.SimNetwork.restore(state, [object()])


def test_an_entity_that_raises_breaks_the_network_with_its_exception():
    class Flaky(Tank):
        def sense(self):
            if self.t > 5:
                raise ZeroDivisionError("sensor died")
            return super().sense()

    net = twin.SimNetwork()
    net.add_device(Flaky(1), 1.0)
    with pytest.raises(ZeroDivisionError, match="sensor died"):
        net.advance_to(10.0)
    with pytest.raises(twin.TwinError, match="unusable"):
        net.advance_to(11.0)
    tw = twin.Twin(Tank(0).schema, monitor=False)
    with pytest.raises(twin.TwinError, match="unusable"):
        tw.step(net)


def test_step_on_a_sim_network_from_threads_loses_nothing():
    net = twin.SimNetwork({"latency_s": 0.001}, seed=4)
    net.add_device(twin.ConveyorDrive(seed=1), 1.0)
    tw = twin.Twin(CONVEYOR, monitor=False)
    done = threading.Event()

    def consume():
        while not done.is_set():
            tw.step(net, 64)

    th = threading.Thread(target=consume)
    th.start()
    for k in range(1, 201):
        net.advance_to(float(k))
    done.set()
    th.join()
    tw.step(net)
    s = net.stats
    assert s["ready"] == 0
    assert tw.counters["accepted"] == s["polled"] == s["delivered"]
    assert s["sensed"] == s["delivered"] + s["in_flight"]
    assert not math.isnan(tw.reported("belt_speed"))


# ---------------------------------------------------------------- CSV replay and export


def test_csv_replay_feeds_a_twin_and_counts_refusals(tmp_path):
    p = tmp_path / "rec.csv"
    p.write_text(
        "time_ns,signal,value\n"
        "0,load,0.5\n"
        "1000000000,vibration,2.5\n"
        "2000000000,load,NaN\n"
        "3000000000,load,0.75\n"
        "1000000000,load,0.1\n"
    )
    r = twin.CsvReplay(p, CONVEYOR)
    assert (r.total, r.remaining, r.finished, r.bad_rows) == (5, 5, False, [])
    t = twin.Twin(CONVEYOR, monitor=False)
    t.command("set_speed", 1.4, 0)
    s1 = t.step(r, max_samples=3)
    assert (s1.polled, s1.accepted, s1.rejected, s1.sent) == (3, 2, 1, 1)
    s2 = t.step(r)
    assert (s2.polled, s2.accepted, s2.rejected) == (2, 1, 1)
    assert r.finished and r.remaining == 0
    assert t.counters["non_finite"] == 1 and t.counters["out_of_order"] == 1
    assert t.reported("load") == 0.75 and t.reported("vibration") == 2.5
    assert [(c.name, c.value) for c in r.sent_commands] == [("set_speed", 1.4)]
    assert t.step(r).polled == 0


def test_csv_replay_strict_names_the_line_and_lenient_counts_bad_rows(tmp_path):
    text = (
        "time_ns,signal,value\n"
        "0,load,0.5\n"
        "x,load,0.6\n"
        "2,rpm,1.0\n"
        "3,load\n"
        "\n"
        "4,load,0.7\n"
    )
    with pytest.raises(twin.InvalidInputError, match="line 3: bad time"):
        twin.CsvReplay(text, CONVEYOR, text=True)
    r = twin.CsvReplay(text, CONVEYOR, strict=False, text=True)
    assert r.total == 2
    assert [n for n, _ in r.bad_rows] == [3, 4, 5]
    assert "unknown signal" in r.bad_rows[1][1] and "3 fields" in r.bad_rows[2][1]
    # Every line is either a sample or a counted bad row: nothing is lost silently.
    data_lines = [ln for ln in text.splitlines()[1:] if ln.strip()]
    assert r.total + len(r.bad_rows) == len(data_lines)
    times, signals, values = r.poll(10)
    assert times.tolist() == [0, 4] and values.tolist() == [0.5, 0.7]
    with pytest.raises(twin.InvalidInputError, match="line 1"):
        twin.CsvReplay("time,sig\n", CONVEYOR, strict=False, text=True)
    with pytest.raises(twin.IoError):
        twin.CsvReplay("/nonexistent/rec.csv", CONVEYOR)
    with pytest.raises(TypeError, match="source must be a path"):
        twin.CsvReplay(42, CONVEYOR)


def test_history_exported_as_csv_replays_into_an_identical_twin(tmp_path):
    net = twin.SimNetwork({"latency_s": 0.01}, seed=1)
    net.add_device(twin.ConveyorDrive(seed=9), 15.0)
    net.advance_to(900.0)
    a = twin.Twin(CONVEYOR, monitor=False, limits={"max_history_samples": 10_000})
    a.step(net)
    p = tmp_path / "history.csv"
    n = twin.export_history_csv(a, p)
    assert n == a.counters["accepted"] == 60 * len(twin.ConveyorDrive().sense())
    assert p.read_text().startswith("time_ns,signal,value\n0,")
    b = twin.Twin(CONVEYOR, monitor=False, limits={"max_history_samples": 10_000})
    r = twin.CsvReplay(str(p), CONVEYOR)
    assert b.step(r, max_samples=n + 1).accepted == n
    ha, hb = a.history(), b.history()
    for k in ("time", "signal", "value"):
        assert np.array_equal(ha[k], hb[k])  # values round-trip exactly


def test_write_csv_checks_ids_before_writing(tmp_path):
    p = tmp_path / "w.csv"
    assert twin.write_csv(p, CONVEYOR, [1, 2], [0, 1], [0.1, float("nan")]) == 2
    r = twin.CsvReplay(p, CONVEYOR)
    _, _, v = r.poll()
    assert v[0] == 0.1 and math.isnan(v[1])
    q = tmp_path / "bad.csv"
    with pytest.raises(twin.UnknownSignalError):
        twin.write_csv(q, CONVEYOR, [1], [99], [0.0])
    assert not q.exists()
    with pytest.raises(twin.InvalidInputError, match="equal length|length"):
        twin.write_csv(q, CONVEYOR, [1, 2], [0], [0.0])


def test_csv_replay_pickles_mid_replay_with_nan_and_commands(tmp_path):
    text = "time_ns,signal,value\n0,load,0.5\n1,load,NaN\n2,load,0.6\n3,load,0.7\n"
    r = twin.CsvReplay(text, CONVEYOR, strict=False, text=True)
    t = twin.Twin(CONVEYOR, monitor=False)
    t.command("set_speed", 1.1, 0)
    t.step(r, max_samples=1)
    r2 = pickle.loads(pickle.dumps(r))
    assert (r2.total, r2.remaining) == (4, 3)
    assert r2.sent_commands == r.sent_commands
    a, b = r.poll(), r2.poll()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[2], b[2], equal_nan=True)
    assert math.isnan(b[2][0])
    assert "CsvReplay: 4 samples" in repr(r2)


# ---------------------------------------------------------------- in-process channel


def test_channel_feeds_a_twin_from_a_thread_with_blocking_publish():
    dev, conn = twin.channel(64, "block")
    t = twin.Twin(CONVEYOR, monitor=False)
    n = 20_000
    load = CONVEYOR.signal_id("load")

    def produce():
        times = np.arange(n, dtype=np.int64) * 1_000_000
        assert dev.publish_batch(times[: n // 2], np.full(n // 2, load, np.uint32), np.full(n // 2, 0.5)) == n // 2
        for k in range(n // 2, n):
            dev.publish(int(times[k]), load, 0.6)
        dev.close()

    th = threading.Thread(target=produce)
    th.start()
    got = 0
    while True:
        try:
            got += t.step(conn, 1000).accepted
        except twin.DisconnectedError:
            break
    th.join()
    assert got == n == t.counters["accepted"]
    s = conn.stats
    assert s == {"sent": n, "refused": 0, "dropped": 0, "delivered": n, "queued": 0}
    assert dev.stats == s and dev.closed
    assert t.reported("load") == 0.6
    with pytest.raises(twin.DisconnectedError):
        t.step(conn)  # still disconnected, nothing queued
    with pytest.raises(twin.DisconnectedError):
        dev.publish(0, 0, 1.0)


@pytest.mark.parametrize("policy", ["reject", "drop_oldest"])
def test_channel_counts_reconcile_under_overflow(policy):
    dev, conn = twin.channel(8, policy)
    refused = 0
    for k in range(30):
        try:
            dev.publish(k, 0, float(k))
        except twin.ChannelFullError:
            refused += 1
    s = dev.stats
    assert s["sent"] == s["delivered"] + s["dropped"] + s["queued"]
    if policy == "reject":
        assert (refused, s["refused"], s["sent"], s["queued"]) == (22, 22, 8, 8)
    else:
        assert (refused, s["dropped"], s["sent"], s["queued"]) == (0, 22, 30, 8)
    times, _, values = conn.poll(100)
    expected = list(range(8)) if policy == "reject" else list(range(22, 30))
    assert times.tolist() == expected and values.tolist() == [float(x) for x in expected]
    s = conn.stats
    assert (s["delivered"], s["queued"]) == (8, 0)
    assert s["sent"] == s["delivered"] + s["dropped"] + s["queued"]


def test_channel_publish_batch_reports_how_many_went_in_before_a_refusal():
    dev, conn = twin.channel(4, "reject")
    with pytest.raises(twin.ChannelFullError) as e:
        dev.publish_batch(np.arange(10, dtype=np.int64), np.zeros(10, np.uint32), np.ones(10))
    assert e.value.enqueued == 4
    assert dev.stats["refused"] == 1 and dev.stats["sent"] == 4


def test_commands_reach_the_device_end_and_a_full_command_queue_fails_the_send():
    dev, conn = twin.channel(2, "block")
    t = twin.Twin(CONVEYOR, monitor=False)
    for k in range(3):
        t.command("set_speed", 1.0 + 0.1 * k, k * 60 * S)
    r = t.step(conn)
    assert (r.sent, r.failed) == (2, 1)
    assert t.audit_log()[-1]["reason"] == "channel_full"
    assert [c.value for c in dev.try_recv_commands()] == [1.0, 1.1]
    t.command("set_speed", 1.5, 300 * S)
    dev.close()
    assert t.flush(conn) == (0, 1)
    assert t.audit_log()[-1]["reason"] == "disconnected"


def test_channel_bad_input_and_no_pickling():
    with pytest.raises(twin.InvalidInputError, match="capacity"):
        twin.channel(0)
    with pytest.raises(twin.InvalidInputError, match="policy"):
        twin.channel(4, "drop_newest")
    dev, conn = twin.channel(4)
    with pytest.raises(TypeError, match="cannot pickle a DeviceEnd"):
        pickle.dumps(dev)
    with pytest.raises(TypeError, match="cannot pickle a TwinEnd"):
        pickle.dumps(conn)
    assert "DeviceEnd: sent=0" in repr(dev) and "TwinEnd: sent=0" in repr(conn)
    dev.publish(0, -1, 1.0)
    dev.publish(1, 2**40, 1.0)
    r = twin.Twin(CONVEYOR, monitor=False).step(conn)
    assert r.ingest.reasons == {"unknown_signal": 2}
    with pytest.raises(TypeError):
        dev.publish(0, "load", 1.0)


@pytest.mark.parametrize(
    "cls", [twin.ConveyorDrive, twin.PumpDrive, twin.WindTurbine, twin.BatteryCell, twin.ThermalMass]
)
def test_every_built_in_entity_runs_on_a_sim_network(cls):
    e = cls(seed=3)
    n_signals = len(cls(seed=3).sense())
    net = twin.SimNetwork({"latency_s": 0.1}, seed=2)
    net.add_device(e, 20.0)
    t = twin.Twin(e.schema, monitor=False)
    net.advance_to(1000.0)
    r = t.step(net)
    s = net.stats
    # Scans at 0, 20, ..., 1000 s; the last one is still on the link.
    assert s["sensed"] == 51 * n_signals and s["in_flight"] == n_signals
    assert r.polled == s["polled"] == 50 * n_signals
    assert r.accepted + r.rejected == r.polled
    assert t.counters["received"] == r.polled


def test_a_heater_command_over_the_network_warms_the_thermal_mass():
    m = twin.ThermalMass(seed=1)
    net = twin.SimNetwork({"latency_s": 1.0}, seed=5)
    net.add_device(m, 30.0)
    t = twin.Twin(m.schema, monitor=False)
    net.advance_to(600.0)
    t.step(net)
    cold = t.reported("temperature")
    t.command("set_power", 800.0, t.now)
    assert t.step(net).sent == 1
    net.advance_to(600.5)
    assert net.stats["commands_applied"] == 0  # still crossing the 1 s link
    net.advance_to(7200.0)
    t.step(net)
    assert net.stats["commands_applied"] == 1
    assert t.reported("temperature") > cold + 1.0


def test_ctrl_c_in_send_fails_the_command_and_is_raised_after_the_step(plant):
    t = twin.Twin(plant, monitor=False)
    t.command("set_x", 1.0, 0)
    t.command("set_x", 1.5, 10 * S)
    with pytest.raises(KeyboardInterrupt):
        t.step(ListConn([(0, 0, 1.0)], fail_send=KeyboardInterrupt()))
    # The step itself completed: the sample was ingested, both sends were tried and failed.
    assert t.counters["accepted"] == 1
    assert t.command_counters["send_failed"] == 2 and t.pending_commands() == []


def test_a_network_of_built_in_drives_pickles_and_continues_identically():
    """Built-in entities pickle with their full state, so a network of conveyor drives
    (with a set-point command crossing the link) pickles mid-run."""
    link = {"latency_s": 0.2, "jitter_s": 0.1, "loss": {"model": "bernoulli", "p": 0.1}}
    net = twin.SimNetwork(link, seed=4)
    net.add_device(twin.ConveyorDrive(seed=1), 10.0)
    net.add_device(twin.ConveyorDrive(seed=2), 15.0)
    tw = twin.Twin(twin.Schema.conveyor(), monitor=False)
    for k in range(1, 30):
        net.advance_to(60.0 * k)
        tw.step(net, max_samples=100)
        if k == 10:
            tw.command("set_speed", 1.2, tw.now)
    net2, tw2 = pickle.loads(pickle.dumps(net)), pickle.loads(pickle.dumps(tw))
    assert net2.stats == net.stats and net2.now_s == net.now_s
    for k in range(30, 60):
        for n, t in ((net, tw), (net2, tw2)):
            n.advance_to(60.0 * k)
            t.step(n, max_samples=100)
    assert net2.stats == net.stats and tw2.counters == tw.counters
    assert tw2.snapshot() == tw.snapshot()
    assert net.stats["commands_applied"] == 2  # the set-point reached both drives
    assert [d.state_json() for d in net2.devices] == [d.state_json() for d in net.devices]
