"""A twin fleet partitioned by device id across the workers of a Dask cluster.

:class:`DaskFleet` keeps one :class:`twin.Fleet` per partition, each inside a Dask actor
pinned to one worker process, so every worker holds its own twins and processes their
samples where they live. Twin ``id`` belongs to partition ``id % partitions`` (by default
one partition per worker). The partial reports, insights and snapshots are joined into
exactly what a single-process :class:`twin.Fleet` holding all the twins gives for the same
samples (the twins are independent, so the split cannot change them).

Data reaches the partitions in one of two ways:

* :meth:`DaskFleet.ingest_batch`: the client holds a batch; it is split by partition with
  numpy on the client and each part is sent to its partition.
* :meth:`DaskFleet.ingest_partitioned`: the data is already laid out per partition (one
  directory of ``.npy`` column files, or one ``.npz`` file, per partition on storage the
  workers can read, or a callable that produces the partition's columns on the worker);
  each worker loads its own part, and no sample passes through the client. :func:`write_partitions` (or
  :meth:`DaskFleet.partition_columns`) lays a stream out that way.

``dask.distributed`` is an optional dependency: it is imported when a
:class:`DaskFleet` is made. Workers need the ``twin`` wheel installed (the actor class is
this module's :class:`FleetPartition`).

>>> from dask.distributed import Client, LocalCluster           # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, processes=True))   # doctest: +SKIP
>>> fleet = DaskFleet(client)                                     # doctest: +SKIP
>>> for device in range(1000):                                    # doctest: +SKIP
...     fleet.insert(device, twin.Twin(schema))
>>> report = fleet.ingest_batch(twins, times, signals, values)   # doctest: +SKIP
>>> paths = fleet.partition_columns("/shared/day1", twins, times, signals, values)  # doctest: +SKIP
>>> report = fleet.ingest_partitioned(paths)                      # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Optional, Union

import numpy as np

import twin

__all__ = ["DaskFleet", "FleetPartition", "load_columns", "split_columns", "write_partitions"]

_NAMES = ("twins", "times", "signals", "values")

#: Where one partition's samples come from in :meth:`DaskFleet.ingest_partitioned`: a path
#: (a directory of ``.npy`` columns or an ``.npz`` file), a callable run on the worker, or
#: ``None`` for no samples.
Source = Union[str, "os.PathLike[str]", Callable[[], Any], None]


class FleetPartition:
    """One partition of a :class:`DaskFleet`: a :class:`twin.Fleet`, living in a Dask actor
    on one worker. Its methods are what the client calls remotely."""

    def __init__(self, threads: int = 1) -> None:
        self.fleet = twin.Fleet(threads=threads)
        # Columns loaded by `stage` (one set per source), waiting for `ingest_staged`.
        self._staged: Optional[list[list[np.ndarray]]] = None

    def insert_many(self, pairs: Sequence[tuple[int, twin.Twin]]) -> None:
        # Check every id first so that a refused id leaves the partition unchanged.
        ids = [i for i, _ in pairs]
        taken = [i for i in ids if i in self.fleet]
        if taken or len(set(ids)) != len(ids):
            dup = taken[0] if taken else next(i for i in ids if ids.count(i) > 1)
            raise twin.InvalidInputError(f"the fleet already has twin {dup}")
        for i, t in pairs:
            self.fleet.insert(i, t)

    def remove(self, id: int) -> twin.Twin:
        return self.fleet.remove(id)

    def get(self, id: int) -> twin.Twin:
        return self.fleet.get(id)

    def ids(self) -> list[int]:
        return self.fleet.ids()

    def worker(self) -> str:
        """The address of the worker this partition lives on."""
        from distributed import get_worker

        return get_worker().address

    def ingest_batch(self, twins, times, signals, values) -> twin.FleetReport:
        return self.fleet.ingest_batch(twins, times, signals, values)

    def stage(self, source: Union[Source, Sequence[Source]], partition: int) -> int:
        """Load this partition's columns from ``source`` (or from each of a list of
        sources) here on the worker and check them (see :func:`load_columns`); keep them
        for :meth:`ingest_staged`. Returns the number of samples."""
        self._staged = None
        many = source if isinstance(source, (list, tuple)) else [source]
        staged = [load_columns(s, what=f"partition {partition}") for s in many]
        self._staged = staged
        return sum(len(cols[0]) for cols in staged)

    def ingest_staged(self) -> twin.FleetReport:
        """Ingest the columns :meth:`stage` loaded, source after source, and drop them; the
        report's indices refer to the sources' columns one after the other."""
        staged, self._staged = self._staged, None
        if staged is None:
            raise twin.InvalidInputError("no columns are staged on this partition")
        if len(staged) == 1:
            return self.fleet.ingest_batch(*staged[0])
        parts, start = [], 0
        for cols in staged:
            n = len(cols[0])
            parts.append((self.fleet.ingest_batch(*cols), start))
            start += n
        return twin.FleetReport.merge(parts)

    def unstage(self) -> None:
        """Drop staged columns without ingesting them."""
        self._staged = None

    def insight_columns(self, drain: bool = False) -> dict[str, np.ndarray]:
        return self.fleet.insight_columns(drain=drain)

    def snapshot(self) -> str:
        return self.fleet.snapshot()

    def load(self, snapshot: str, threads: int, monitor: Any, model: Any) -> None:
        self.fleet = twin.Fleet.from_snapshot(snapshot, threads=threads, monitor=monitor, model=model)


def _columns(twins, times, signals, values) -> list[np.ndarray]:
    """The four columns as 1-d numpy arrays with twin ids as uint64, refused (before any
    sample reaches a partition) the way :meth:`twin.Fleet.ingest_batch` refuses them."""
    cols = [np.asarray(c) for c in (twins, times, signals, values)]
    for name, c in zip(_NAMES, cols):
        if c.ndim != 1:
            raise twin.InvalidInputError(f"{name} must be one-dimensional, got an array of {c.ndim} dimensions")
    n = len(cols[0])
    for name, c in zip(_NAMES[1:], cols[1:]):
        if len(c) != n:
            raise twin.InvalidInputError(
                f"{name} has {len(c)} elements but twins has {n}; the columns must have equal length"
            )
    tw = cols[0]
    if n and tw.dtype.kind == "i" and tw.min() < 0:
        at = int(np.argmax(tw < 0))
        raise twin.InvalidInputError(f"twins holds the negative id {tw[at]} at index {at}; twin ids are in [0, 2**64)")
    # Dtype errors exactly as the native fleet raises them: an empty fleet is handed the
    # first sample (it would only be refused as an unknown twin).
    twin.Fleet(threads=1).ingest_batch(*(c[:1] for c in cols))
    if n and tw.dtype != np.uint64:
        cols[0] = tw.astype(np.uint64)
    return cols


def _owner(twins: np.ndarray, partitions: int) -> np.ndarray:
    """The partition of every id of a ``uint64`` twins column (``id % partitions``), as the
    smallest unsigned dtype that holds it (a mask instead of a division for powers of 2)."""
    if partitions & (partitions - 1) == 0:
        owner = twins & np.uint64(partitions - 1)
    else:
        owner = twins % np.uint64(partitions)
    small = np.uint8 if partitions <= 1 << 8 else np.uint16 if partitions <= 1 << 16 else np.uint32
    return owner.astype(small, copy=False)


def split_columns(
    partitions: int, twins, times, signals, values
) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Split four fleet columns by partition (twin ``id`` goes to ``id % partitions``),
    keeping the batch order within each part: a list, one entry per partition, of
    ``(indices, [twins, times, signals, values])`` where ``indices`` (int64) are the
    positions of the part's samples in the input. Bad columns raise as
    :meth:`twin.Fleet.ingest_batch` does. Every part's columns are contiguous.

    >>> import numpy as np
    >>> parts = split_columns(2, np.array([4, 7, 6, 3], dtype=np.uint64), [0, 0, 0, 0], [0, 0, 0, 0], [1.0, 2.0, 3.0, 4.0])
    >>> [(ix.tolist(), c[3].tolist()) for ix, c in parts]
    [([0, 2], [1.0, 3.0]), ([1, 3], [2.0, 4.0])]
    """
    if not isinstance(partitions, (int, np.integer)) or partitions < 1:
        raise twin.InvalidInputError(f"partitions must be an int of at least 1, got {partitions!r}")
    return list(_split(int(partitions), _columns(twins, times, signals, values)))


def _split(partitions: int, cols: list[np.ndarray]) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """:func:`split_columns` of checked columns, one part at a time (so that a caller can
    send a part while the next is cut)."""
    if partitions == 1:
        yield np.arange(len(cols[0]), dtype=np.int64), [np.ascontiguousarray(c) for c in cols]
        return
    owner = _owner(cols[0], partitions)
    for p in range(partitions):
        idx = np.flatnonzero(owner == p)
        yield idx, [c[idx] for c in cols]


def write_partitions(directory: Union[str, "os.PathLike[str]"], partitions: int, twins, times, signals, values,
                     name: str = "part") -> list[str]:
    """Lay a fleet stream out for :meth:`DaskFleet.ingest_partitioned`: split the four
    columns by partition (:func:`split_columns`) and save partition ``p``'s samples, in
    stream order, in the directory ``<directory>/<name>-<p>-of-<partitions>`` as one
    ``.npy`` file per column (``twins.npy``, ``times.npy``, ``signals.npy``,
    ``values.npy``), which a worker memory-maps instead of copying (see
    :func:`load_columns`). Directories are made if missing; existing files of the same
    name are replaced. Returns the partitions' directories, partition ``p``'s at index
    ``p``. Bad columns raise before anything is written."""
    parts = split_columns(partitions, twins, times, signals, values)
    paths = []
    for p, (_, cols) in enumerate(parts):
        path = os.path.join(os.fspath(directory), f"{name}-{p}-of-{partitions}")
        os.makedirs(path, exist_ok=True)
        for col, c in zip(_NAMES, cols):
            np.save(os.path.join(path, f"{col}.npy"), c)
        paths.append(path)
    return paths


def _load_path(source: Union[str, "os.PathLike[str]"], what: str) -> dict[str, np.ndarray]:
    """The columns saved at ``source``: a directory of ``.npy`` files (memory-mapped
    read-only, so the samples are read from the file as they are ingested, not copied
    first) or an ``.npz`` file."""
    where = os.fspath(source)
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    if os.path.isdir(where):
        data = {}
        for k in _NAMES:
            f = os.path.join(where, f"{k}.npy")
            if not os.path.exists(f):
                continue
            try:
                data[k] = np.load(f, mmap_mode="r", allow_pickle=False)
            except unreadable as e:
                raise twin.InvalidInputError(f"{what}: cannot read {f!r}: {e}") from e
        return data
    try:
        z = np.load(where, allow_pickle=False)
    except unreadable as e:
        raise twin.InvalidInputError(f"{what}: cannot read {where!r}: {e}") from e
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise twin.InvalidInputError(
            f"{what}: {where!r} is neither a directory of .npy columns nor an .npz file of columns"
        )
    try:
        with z:
            return {k: z[k] for k in _NAMES if k in z.files}
    except unreadable as e:
        raise twin.InvalidInputError(f"{what}: cannot read {where!r}: {e}") from e


def load_columns(source: Source, what: str = "source") -> list[np.ndarray]:
    """The four fleet columns of one partition's ``source``, checked as
    :meth:`twin.Fleet.ingest_batch` checks them (twin ids as ``uint64``):

    * a path (``str`` or ``os.PathLike``) to a directory holding ``twins.npy``,
      ``times.npy``, ``signals.npy`` and ``values.npy`` (as :func:`write_partitions`
      writes them; memory-mapped, not copied), or to an ``.npz`` file holding arrays of
      those names;
    * a callable taking no arguments (use :func:`functools.partial` to bind some), run
      where the columns are loaded, returning either a mapping with those four keys (a
      dict, an ``np.load`` result, a pandas DataFrame) or a sequence of four columns;
    * ``None``: no samples.

    An unreadable file or a missing column raises :class:`twin.InvalidInputError` naming
    ``what``; bad columns raise as :meth:`twin.Fleet.ingest_batch` does."""
    if source is None:
        return _columns(np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0))
    if isinstance(source, (str, os.PathLike)):
        data: Any = _load_path(source, what)
        origin = repr(os.fspath(source))
    elif callable(source):
        data = source()
        origin = f"the columns returned by {getattr(source, '__name__', type(source).__name__)}"
    else:
        raise twin.InvalidInputError(
            f"{what}: a source is a path (a directory of .npy columns or an .npz file), a callable or None, "
            f"not {type(source).__name__}"
        )
    if hasattr(data, "keys"):
        missing = [k for k in _NAMES if k not in data.keys()]
        if missing:
            raise twin.InvalidInputError(f"{what}: {origin} has no column {missing[0]!r}")
        cols = [np.asarray(data[k]) for k in _NAMES]
    else:
        try:
            cols = [np.asarray(c) for c in data]
        except TypeError as e:
            raise twin.InvalidInputError(f"{what}: {origin} is neither a mapping nor a sequence of columns") from e
        if len(cols) != 4:
            raise twin.InvalidInputError(f"{what}: {origin} gives {len(cols)} columns, not 4 ({', '.join(_NAMES)})")
    return _columns(*cols)


class DaskFleet:
    """A fleet of twins partitioned by device id across the workers of a Dask cluster.

    ``DaskFleet(client, partitions=None, threads=1)`` starts ``partitions`` actors
    (default: one per worker of ``client``), placed round-robin on the workers in address
    order, each holding a :class:`twin.Fleet` with ``threads`` threads. Twin ``id`` lives
    in partition ``id % partitions``. The methods mirror :class:`twin.Fleet`, and give the
    same results as a single :class:`twin.Fleet` holding every twin.
    :meth:`ingest_partitioned` takes data the workers load themselves (laid out per
    partition by :meth:`partition_columns`), so that it need not pass through the client.
    """

    def __init__(self, client: Any, partitions: Optional[int] = None, threads: int = 1) -> None:
        try:
            import distributed  # noqa: F401  (optional dependency)
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("twin.dask needs dask.distributed: pip install 'dask[distributed]'") from e
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise twin.InvalidInputError("the Dask client has no workers")
        n = len(workers) if partitions is None else int(partitions)
        if n < 1:
            raise twin.InvalidInputError(f"partitions must be at least 1, got {partitions}")
        self.client = client
        self.threads = threads
        self.workers = [workers[p % len(workers)] for p in range(n)]
        futures = [
            client.submit(FleetPartition, threads, actor=True, workers=[w], allow_other_workers=False, pure=False)
            for w in self.workers
        ]
        self._futures = futures
        self._actors = [f.result() for f in futures]

    # ------------------------------------------------------------------ partitioning

    @property
    def partitions(self) -> int:
        """Number of partitions."""
        return len(self._actors)

    def partition_of(self, id: int) -> int:
        """The partition that holds (or would hold) twin ``id``."""
        if not isinstance(id, (int, np.integer)) or id < 0:
            raise twin.InvalidInputError(f"id must be an int in [0, 2**64), got {id!r}")
        return int(id) % self.partitions

    def _gather(self, calls: list[Any]) -> list[Any]:
        """Results of actor calls made in parallel; the first failure is raised after
        every call has finished."""
        out, error = [], None
        for c in calls:
            try:
                out.append(c.result())
            except Exception as e:  # noqa: BLE001 - re-raised below
                out.append(None)
                error = error or e
        if error is not None:
            raise error
        return out

    # ------------------------------------------------------------------ twins

    def insert(self, id: int, twin_: twin.Twin) -> None:
        """Add a copy of ``twin_`` under ``id`` in its partition (the twin is pickled to
        the worker; see :meth:`twin.Fleet.insert`)."""
        self.insert_many([(id, twin_)])

    def insert_many(self, pairs: Iterable[tuple[int, twin.Twin]]) -> None:
        """Add many twins, one call per partition. A taken id raises
        :class:`twin.InvalidInputError`, and that partition inserts none of its twins."""
        groups: dict[int, list[tuple[int, twin.Twin]]] = {}
        for id, t in pairs:
            groups.setdefault(self.partition_of(id), []).append((int(id), t))
        self._gather([self._actors[p].insert_many(g) for p, g in groups.items()])

    def remove(self, id: int) -> twin.Twin:
        """Take twin ``id`` out (:class:`twin.UnknownTwinError` if absent)."""
        return self._actors[self.partition_of(id)].remove(int(id)).result()

    def get(self, id: int) -> twin.Twin:
        """A copy of twin ``id`` (:class:`twin.UnknownTwinError` if absent)."""
        return self._actors[self.partition_of(id)].get(int(id)).result()

    def ids(self) -> list[int]:
        """Every twin id, ascending."""
        return sorted(i for part in self._gather([a.ids() for a in self._actors]) for i in part)

    def __len__(self) -> int:
        return len(self.ids())

    def __contains__(self, id: object) -> bool:
        return isinstance(id, (int, np.integer)) and id >= 0 and int(id) in self.ids()

    # ------------------------------------------------------------------ data

    def ingest_batch(self, twins, times, signals, values) -> twin.FleetReport:
        """Split a fleet batch by partition, ingest the parts in parallel on the workers and
        return the joined :class:`twin.FleetReport` (indices refer to this batch). Bad
        columns raise as :meth:`twin.Fleet.ingest_batch` does, before any sample is sent."""
        if self.partitions == 1:
            # One part, the whole batch: nothing to cut or to re-index.
            return self._actors[0].ingest_batch(*_columns(twins, times, signals, values)).result()
        calls = [
            (idx, self._actors[p].ingest_batch(*cols))
            # Each part is sent as soon as it is cut: it is processed while the next is cut.
            for p, (idx, cols) in enumerate(_split(self.partitions, _columns(twins, times, signals, values)))
            if len(idx)
        ]
        reports = self._gather([c for _, c in calls])
        return twin.FleetReport.merge([(r, idx) for r, (idx, _) in zip(reports, calls)])

    def partition_columns(
        self, directory: Union[str, "os.PathLike[str]"], twins, times, signals, values, name: str = "part"
    ) -> list[str]:
        """:func:`write_partitions` for this fleet's number of partitions: one directory
        of ``.npy`` column files per partition under ``directory`` (which the workers must
        be able to read), ready for :meth:`ingest_partitioned`."""
        return write_partitions(directory, self.partitions, twins, times, signals, values, name=name)

    def ingest_partitioned(self, sources: Sequence[Union[Source, Sequence[Source]]]) -> twin.FleetReport:
        """Ingest data that is already laid out per partition, without it passing through
        the client: ``sources[p]`` is partition ``p``'s source (see :func:`load_columns`:
        a path to a directory of ``.npy`` columns or to an ``.npz`` file, a callable run on
        the worker, or ``None``), or a list of such sources (say, one per hour of a day);
        the worker holding partition ``p`` loads it and ingests it into its twins (a list
        source after source, as if they were one batch).

        It happens in two steps: every partition loads and checks its columns, then, if
        all succeeded, every partition ingests them. So an unreadable source or bad columns
        raise (the first failure, in partition order) and no partition ingests anything.

        Report indices refer to the concatenation of the sources in partition order (a
        list of sources counting as its sources one after the other): the sample at
        position ``i`` of partition ``p``'s columns has index
        ``len(sources[0]) + ... + len(sources[p-1]) + i``. A sample whose twin belongs to
        another partition is not moved there: the partition does not hold that twin, so
        the sample is refused as ``"unknown_twin"`` and counted, as a :class:`twin.Fleet`
        without that twin would. When every sample sits in its twin's partition, the
        report, the twins' states and insights are exactly those of one
        :class:`twin.Fleet` fed the concatenated columns."""
        if isinstance(sources, (str, os.PathLike)) or not isinstance(sources, Sequence):
            raise twin.InvalidInputError("sources must be a sequence with one source per partition")
        if len(sources) != self.partitions:
            raise twin.InvalidInputError(
                f"sources has {len(sources)} entries but the fleet has {self.partitions} partitions"
            )
        staged = [a.stage(src, p) for p, (a, src) in enumerate(zip(self._actors, sources))]
        try:
            lengths = self._gather(staged)
        except BaseException:
            self._gather([a.unstage() for a in self._actors])
            raise
        reports = self._gather([a.ingest_staged() for a in self._actors])
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return twin.FleetReport.merge([(r, int(starts[p])) for p, r in enumerate(reports)])

    def insight_columns(self, drain: bool = False) -> dict[str, np.ndarray]:
        """Every twin's pending insights as the columns of
        :meth:`twin.Fleet.insight_columns` (by twin id, then time order)."""
        parts = self._gather([a.insight_columns(drain) for a in self._actors])
        out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.argsort(out["twin"], kind="stable")
        return {k: v[order] for k, v in out.items()}

    def drain_insights(self) -> dict[str, np.ndarray]:
        """Take every pending insight, as :meth:`insight_columns` columns."""
        return self.insight_columns(drain=True)

    def snapshot(self) -> str:
        """The fleet's snapshot JSON: the same text a single :class:`twin.Fleet` gives."""
        return twin.Fleet.merge_snapshots(self._gather([a.snapshot() for a in self._actors]))

    @classmethod
    def from_snapshot(
        cls,
        client: Any,
        snapshot: str,
        partitions: Optional[int] = None,
        threads: int = 1,
        monitor: Union[bool, dict[str, Any]] = True,
        model: Any = None,
    ) -> DaskFleet:
        """A DaskFleet holding the twins of a :meth:`twin.Fleet.snapshot` (or
        :meth:`snapshot`) JSON, each in its partition; ``monitor`` and ``model`` as for
        :meth:`twin.Fleet.from_snapshot`."""
        fleet = cls(client, partitions=partitions, threads=threads)
        doc = json.loads(snapshot)
        groups: list[list[Any]] = [[] for _ in range(fleet.partitions)]
        for entry in doc["twins"]:
            groups[fleet.partition_of(entry[0])].append(entry)
        fleet._gather(
            [
                a.load(json.dumps({**doc, "twins": g}), threads, monitor, model)
                for a, g in zip(fleet._actors, groups)
            ]
        )
        return fleet

    def close(self) -> None:
        """Release the actors (their twins are dropped)."""
        self._actors = []
        self._futures = []

    def __enter__(self) -> DaskFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DaskFleet: {self.partitions} partitions on {len(set(self.workers))} workers>"
