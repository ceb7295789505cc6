"""Single-sample and batch ingest: counts, reasons by index, dtypes and zero-copy input."""

import threading

import numpy as np
import pytest

import twin

S = 1_000_000_000
X, Y, SP = 0, 1, 2

# Every kind of bad sample, with the reason each must be refused for.
BAD_BATCH = [
    (0 * S, X, 1.0),  # 0 ok
    (1 * S, X, float("nan")),  # 1 non_finite
    (1 * S, 99, 1.0),  # 2 unknown_signal
    (2 * S, X, 2.0),  # 3 ok
    (1 * S, X, 3.0),  # 4 out_of_order
    (2 * S, X, 2.0),  # 5 duplicate
    (2 * S, X, 2.5),  # 6 timestamp_conflict
    (3 * S, X, 500.0),  # 7 out_of_range (x is bounded to [0, 100])
    (0 * S, Y, -7.0),  # 8 ok
    (3 * S, Y, float("inf")),  # 9 non_finite
]
EXPECTED_REJECTIONS = [
    (1, "non_finite"),
    (2, "unknown_signal"),
    (4, "out_of_order"),
    (5, "duplicate"),
    (6, "timestamp_conflict"),
    (7, "out_of_range"),
    (9, "non_finite"),
]


def test_batch_reports_every_rejection_by_index(plant, columns):
    t = twin.Twin(plant, monitor=False)
    report = t.ingest_batch(*columns(BAD_BATCH))
    assert (report.accepted, report.rejected, report.total, len(report)) == (3, 7, 10, 10)
    assert report.rejections == EXPECTED_REJECTIONS
    assert report.rejected_indices.tolist() == [i for i, _ in EXPECTED_REJECTIONS]
    assert report.rejected_indices.dtype == np.int64
    assert report.reasons == {
        "duplicate": 1,
        "non_finite": 2,
        "out_of_order": 1,
        "out_of_range": 1,
        "timestamp_conflict": 1,
        "unknown_signal": 1,
    }
    assert report.copied == []
    assert repr(report).startswith("IngestReport(accepted=3, rejected=7, reasons={'duplicate': 1, ")
    assert t.reported("x") == 2.0 and t.reported_time("x") == 2 * S
    assert t.reported(Y) == -7.0
    assert t.reported("setpoint") is None
    assert t.now == 2 * S
    c = t.counters
    assert c == {
        "received": 10,
        "accepted": 3,
        "rejected": 7,
        "non_finite": 2,
        "unknown_signal": 1,
        "out_of_order": 1,
        "duplicate": 1,
        "timestamp_conflict": 1,
        "out_of_range": 1,
        "limit_exceeded": 0,
        "history_dropped": 0,
    }


def test_a_batch_delivered_twice_counts_once(plant, columns):
    t = twin.Twin(plant, monitor=False)
    rows = [(k * S, X, float(k)) for k in range(5)] + [(k * S, Y, 10.0 + k) for k in range(5)]
    first = t.ingest_batch(*columns(rows))
    again = t.ingest_batch(*columns(rows))
    assert (first.accepted, first.rejected) == (10, 0)
    # Only the last sample of each signal is remembered, so it is the duplicate; the
    # earlier ones are now older than it, hence out of order. None is accepted twice.
    assert again.accepted == 0
    assert again.rejections == [(k, "out_of_order") for k in range(4)] + [(4, "duplicate")] + [
        (k, "out_of_order") for k in range(5, 9)
    ] + [(9, "duplicate")]
    assert t.counters["accepted"] == 10 and t.counters["received"] == 20
    assert t.reported("x") == 4.0 and t.reported("y") == 14.0


def test_a_sample_repeated_within_a_batch_counts_once(plant, columns):
    t = twin.Twin(plant, monitor=False)
    report = t.ingest_batch(*columns([(S, X, 5.0), (S, X, 5.0), (2 * S, X, 6.0), (2 * S, X, 6.0)]))
    assert (report.accepted, report.rejections) == (2, [(1, "duplicate"), (3, "duplicate")])
    assert t.counters["accepted"] == 2 and t.counters["duplicate"] == 2


def test_single_sample_errors_are_specific(plant):
    t = twin.Twin(plant)
    t.ingest(10 * S, "x", 1.0)
    t.ingest(10 * S, Y, 2.0)
    with pytest.raises(twin.OutOfOrderError, match="before the last accepted") as info:
        t.ingest(5 * S, "x", 1.5)
    assert isinstance(info.value, ValueError) and info.value.kind == "out_of_order"
    with pytest.raises(twin.DuplicateError):
        t.ingest(10 * S, "x", 1.0)
    with pytest.raises(twin.TimestampConflictError):
        t.ingest(10 * S, "x", 1.25)
    with pytest.raises(twin.NonFiniteError):
        t.ingest(11 * S, "x", float("nan"))
    with pytest.raises(twin.OutOfRangeError):
        t.ingest(11 * S, "x", 101.0)
    with pytest.raises(twin.UnknownSignalError, match="pressure"):
        t.ingest(11 * S, "pressure", 1.0)
    with pytest.raises(twin.UnknownSignalError):
        t.ingest(11 * S, 3, 1.0)
    with pytest.raises(twin.UnknownSignalError):
        t.ingest(11 * S, -1, 1.0)
    with pytest.raises(TypeError):
        t.ingest(11.5, "x", 1.0)  # times are integer nanoseconds
    t.ingest(np.int64(11 * S), np.uint32(X), np.float32(3.5))  # numpy scalars are fine
    assert t.reported("x") == 3.5
    # Unknown names and impossible ids (-1) are refused before they reach the twin, so
    # they are not counted; id 3 is a possible id the schema lacks, so it is.
    c = t.counters
    assert (c["received"], c["accepted"], c["rejected"], c["unknown_signal"]) == (9, 3, 6, 1)


def test_read_only_arrays_are_borrowed(plant, columns):
    cols = columns(BAD_BATCH)
    for a in cols:
        a.flags.writeable = False
    report = twin.Twin(plant, monitor=False).ingest_batch(*cols)
    assert report.rejections == EXPECTED_REJECTIONS
    assert report.copied == []


def test_non_contiguous_views_are_copied_with_correct_counts(plant):
    n = 20
    times = np.arange(n, dtype=np.int64) * S
    signals = np.zeros(n, dtype=np.uint32)
    values = np.arange(n, dtype=np.float64)
    values[4] = np.nan  # index 2 of the even view
    values[5] = np.nan  # odd: not in the view
    report = twin.Twin(plant, monitor=False).ingest_batch(times[::2], signals[::2], values[::2])
    assert (report.accepted, report.rejections) == (9, [(2, "non_finite")])
    assert report.copied == ["times", "signals", "values"]
    # A contiguous slice is still borrowed.
    t = twin.Twin(plant, monitor=False)
    report = t.ingest_batch(times[10:], signals[10:], values[10:])
    assert (report.accepted, report.copied) == (10, [])
    assert t.reported("x") == 19.0


def test_mismatched_lengths_name_the_argument(plant):
    t = twin.Twin(plant)
    times = np.arange(3, dtype=np.int64)
    with pytest.raises(twin.InvalidInputError, match="values has 2 elements but times has 3") as info:
        t.ingest_batch(times, np.zeros(3, np.uint32), np.zeros(2))
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="signals has 4 elements"):
        t.ingest_batch(times, np.zeros(4, np.uint32), np.zeros(3))
    assert t.counters["received"] == 0


def test_other_dtypes_are_converted_when_lossless(plant):
    t = twin.Twin(plant, monitor=False)
    report = t.ingest_batch(
        np.array([1, 2, 3], dtype=np.int32),
        np.array([0, 0, 1], dtype=np.int64),
        np.array([1.5, 2.5, 3.5], dtype=np.float32),
    )
    assert (report.accepted, report.copied) == (3, ["times", "signals", "values"])
    assert t.reported("x") == 2.5 and t.reported("y") == 3.5
    # Python lists and integer values work too.
    report = t.ingest_batch([4, 5], [0, 1], [7, 8])
    assert (report.accepted, t.reported("x"), t.reported("y")) == (2, 7.0, 8.0)
    # Big-endian int64 is converted to native order.
    report = t.ingest_batch(np.array([6], dtype=">i8"), np.array([0], dtype=np.uint16), np.array([9.0]))
    assert (report.accepted, report.copied, t.reported_time("x")) == (1, ["times", "signals"], 6)


def test_ids_that_no_schema_can_have_are_unknown_signals(plant):
    report = twin.Twin(plant, monitor=False).ingest_batch(
        np.array([1, 2, 3], dtype=np.int64),
        np.array([-1, 2**40, 0], dtype=np.int64),
        np.array([1.0, 1.0, 1.0]),
    )
    assert report.rejections == [(0, "unknown_signal"), (1, "unknown_signal")]


@pytest.mark.parametrize(
    "times, signals, values, needle",
    [
        (np.array([1.0]), np.array([0], np.uint32), np.array([1.0]), "times must hold integer nanoseconds"),
        (np.array(["1"]), np.array([0], np.uint32), np.array([1.0]), "times"),
        (np.array([2**63], np.uint64), np.array([0], np.uint32), np.array([1.0]), "times"),
        (np.array(["2024-01-01"], "datetime64[ns]"), np.array([0], np.uint32), np.array([1.0]), "datetime64"),
        (np.array([1]), np.array(["x"]), np.array([1.0]), "signals must hold integer signal ids"),
        (np.array([1]), np.array([0.0]), np.array([1.0]), "signals"),
        (np.array([1]), np.array([0], np.uint32), np.array(["1.0"]), "values must hold real numbers"),
        (np.array([1]), np.array([0], np.uint32), np.array([1 + 1j]), "values"),
        (np.array([1]), np.array([0], np.uint32), np.array([True]), "values"),
    ],
)
def test_dtypes_that_would_change_meaning_are_type_errors(plant, times, signals, values, needle):
    with pytest.raises(TypeError, match=needle):
        twin.Twin(plant).ingest_batch(times, signals, values)


def test_two_dimensional_input_is_refused(plant):
    with pytest.raises(twin.InvalidInputError, match="one-dimensional"):
        twin.Twin(plant).ingest_batch(np.zeros((2, 2), np.int64), np.zeros(4, np.uint32), np.zeros(4))


def test_empty_batches(plant):
    t = twin.Twin(plant)
    for cols in ([], [], []), (np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0)):
        report = t.ingest_batch(*cols)
        assert (report.accepted, report.rejected) == (0, 0)
    assert t.counters["received"] == 0 and t.now is None


def test_concurrent_batches_from_threads_reconcile(plant):
    """Batches from several threads (the GIL released while each runs) lose nothing."""
    t = twin.Twin(plant)
    n, chunks = 20_000, 8
    assert n // chunks >= twin.DETACH_MIN_SAMPLES
    rng = np.random.default_rng(3)
    per_signal = {X: np.abs(rng.normal(10, 1, n)), Y: rng.normal(0, 1, n)}
    errors = []

    def feed(sig):
        try:
            step = n // chunks
            for k in range(chunks):
                sl = slice(k * step, (k + 1) * step)
                times = np.arange(sl.start, sl.stop, dtype=np.int64) * S
                report = t.ingest_batch(times, np.full(step, sig, np.uint32), per_signal[sig][sl])
                assert (report.accepted, report.rejected) == (step, 0)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=feed, args=(sig,)) for sig in (X, Y)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    c = t.counters
    assert (c["received"], c["accepted"], c["rejected"]) == (2 * n, 2 * n, 0)
    assert t.reported("x") == per_signal[X][-1]
    assert t.reported("y") == per_signal[Y][-1]


# ---- bad input messages name the argument and the position ----

def test_nan_in_ingest_names_the_signal_and_batches_the_index(plant, columns):
    t = twin.Twin(plant)
    with pytest.raises(twin.NonFiniteError, match=r"^non-finite value for x$") as info:
        t.ingest(0, "x", float("nan"))
    assert isinstance(info.value, ValueError) and info.value.kind == "non_finite"
    with pytest.raises(twin.NonFiniteError, match=r"^non-finite value for y$"):
        t.ingest(0, 1, float("-inf"))
    # In a batch the sample is refused at its index, the others are taken.
    r = t.ingest_batch(*columns([(0, 0, 1.0), (S, 0, float("inf")), (2 * S, 1, float("nan")), (3 * S, 0, 2.0)]))
    assert r.accepted == 2 and r.rejections == [(1, "non_finite"), (2, "non_finite")]
    fleet = twin.Fleet()
    fleet.insert(7, twin.Twin(plant))
    fr = fleet.ingest_batch(np.array([7, 7], np.uint64), np.array([0, S], np.int64),
                            np.array([0, 0], np.uint32), np.array([float("nan"), 1.0]))
    assert fr.accepted == 1 and [(i, k) for i, _, k in fr.rejections] == [(0, "non_finite")]


def test_nan_in_multivariate_inputs_names_x_row_and_column():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    bad = X.copy()
    bad[7, 2] = np.nan
    for cls in (twin.PcaDetector, twin.MahalanobisDetector):
        with pytest.raises(twin.NonFiniteError, match=r"X at row 7, column 2 \(NaN\)") as info:
            cls().fit(bad)
        assert isinstance(info.value, ValueError)
        m = cls().fit(X)
        later = X[:10].copy()
        later[4, 1] = np.inf
        for method in (m.predict, m.likelihood, m.decision_function):
            with pytest.raises(twin.NonFiniteError, match=r"X at row 4, column 1 \(inf\)"):
                method(later)


def test_nan_in_rul_inputs_names_x_or_cycles_and_the_position():
    rng = np.random.default_rng(2)
    units = np.repeat(np.arange(6), 30)
    cycles = np.tile(np.arange(1.0, 31.0), 6)
    X = np.c_[cycles * 0.1 + rng.normal(size=180) * 0.01, rng.normal(size=180)]
    bad = X.copy()
    bad[43, 1] = np.nan  # unit 1, its 14th row
    for cls in (twin.RegressionRul, twin.SimilarityRul):
        with pytest.raises(twin.NonFiniteError, match=r"X at row 43, column 1 \(NaN; unit 1\)"):
            cls().fit(bad, units)
        m = cls().fit(X, units)
        with pytest.raises(twin.NonFiniteError, match=r"X at row 43, column 1 \(NaN; unit 1\)"):
            m.predict(bad, units)
        t = cycles.copy()
        t[5] = np.nan
        with pytest.raises(twin.NonFiniteError, match=r"cycles at position 5 \(NaN\)"):
            m.predict(X, units, t)


from test_analytics_gil import long_enough, other_thread_finished_first  # noqa: E402

#: Batches grow to at most 64 x 200,000 = 12.8 M samples, under a twin's 16 M batch cap.
MAX_SCALE = 64


def _twin_batch(k):
    n = 200_000 * k
    times = np.arange(n, dtype=np.int64) * 1000
    signals = (np.arange(n) % 2).astype(np.uint32)
    values = np.random.default_rng(0).uniform(0, 50, n)
    schema = twin.Schema("g", telemetry=[twin.SignalSpec("a"), twin.SignalSpec("b")])

    def work():
        t = twin.Twin(schema)
        assert t.ingest_batch(times, signals, values).accepted == n
    return work


def _fleet_batch(k):
    n = 200_000 * k
    ids = (np.arange(n) % 4).astype(np.uint64)
    times = (np.arange(n) // 4).astype(np.int64) * 1000
    signals = np.zeros(n, np.uint32)
    values = np.random.default_rng(1).uniform(0, 50, n)
    schema = twin.Schema("g", telemetry=[twin.SignalSpec("a")])

    def work():
        f = twin.Fleet(threads=1)
        for i in range(4):
            f.insert(i, twin.Twin(schema))
        assert f.ingest_batch(ids, times, signals, values).accepted == n
    return work


@pytest.mark.parametrize("make", [_twin_batch, _fleet_batch], ids=["Twin", "Fleet"])
def test_large_batches_release_the_gil(make):
    assert twin.DETACH_MIN_SAMPLES <= 200_000
    assert other_thread_finished_first(long_enough(make, max_scale=MAX_SCALE))


def test_the_gil_check_tells_a_call_that_keeps_it():
    # A batch below DETACH_MIN_SAMPLES keeps the GIL; many of them back to back in one
    # Python call chain would interleave, so use a pure-Python busy loop as the control.
    def busy(k):
        def work():
            s = 0
            for i in range(2_000_000 * k):
                s += i
        return work
    import sys
    old = sys.getswitchinterval()
    sys.setswitchinterval(10.0)  # no forced GIL hand-over during the busy loop
    try:
        assert not other_thread_finished_first(long_enough(busy, max_scale=MAX_SCALE))
    finally:
        sys.setswitchinterval(old)
