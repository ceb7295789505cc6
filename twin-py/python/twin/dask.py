"""A twin fleet partitioned by device id across the workers of a Dask cluster.

:class:`DaskFleet` keeps one :class:`twin.Fleet` per partition, each inside a Dask actor
pinned to one worker process, so every worker holds its own twins and processes their
samples where they live. Twin ``id`` belongs to partition ``id % partitions`` (by default
one partition per worker). A batch is split by that rule with numpy on the client, each
part goes to its partition in parallel, and the partial reports, insights and snapshots
are joined into exactly what a single-process :class:`twin.Fleet` holding all the twins
gives for the same batch (the twins are independent, so the split cannot change them).

``dask.distributed`` is an optional dependency: it is imported when a
:class:`DaskFleet` is made. Workers need the ``twin`` wheel installed (the actor class is
this module's :class:`FleetPartition`).

>>> from dask.distributed import Client, LocalCluster           # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, processes=True))   # doctest: +SKIP
>>> fleet = DaskFleet(client)                                     # doctest: +SKIP
>>> for device in range(1000):                                    # doctest: +SKIP
...     fleet.insert(device, twin.Twin(schema))
>>> report = fleet.ingest_batch(twins, times, signals, values)   # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Optional, Union

import numpy as np

import twin

__all__ = ["DaskFleet", "FleetPartition"]

_NAMES = ("twins", "times", "signals", "values")


class FleetPartition:
    """One partition of a :class:`DaskFleet`: a :class:`twin.Fleet`, living in a Dask actor
    on one worker. Its methods are what the client calls remotely."""

    def __init__(self, threads: int = 1) -> None:
        self.fleet = twin.Fleet(threads=threads)

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


class DaskFleet:
    """A fleet of twins partitioned by device id across the workers of a Dask cluster.

    ``DaskFleet(client, partitions=None, threads=1)`` starts ``partitions`` actors
    (default: one per worker of ``client``), placed round-robin on the workers in address
    order, each holding a :class:`twin.Fleet` with ``threads`` threads. Twin ``id`` lives
    in partition ``id % partitions``. The methods mirror :class:`twin.Fleet`, and give the
    same results as a single :class:`twin.Fleet` holding every twin.
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
        cols = _columns(twins, times, signals, values)
        n = self.partitions
        calls = []
        if n == 1:
            calls.append((np.arange(len(cols[0]), dtype=np.int64), self._actors[0].ingest_batch(*cols)))
        else:
            owner = cols[0] % np.uint64(n)
            for p in range(n):
                idx = np.flatnonzero(owner == p)
                if len(idx):
                    # Sent at once: this part is processed while the next one is cut.
                    calls.append((idx, self._actors[p].ingest_batch(*(c[idx] for c in cols))))
        reports = self._gather([c for _, c in calls])
        return twin.FleetReport.merge([(r, idx) for r, (idx, _) in zip(reports, calls)])

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
