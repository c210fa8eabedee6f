"""Decide record batches on a Dask cluster with the same per-batch function as the local run.

Workers need chipgate installed (the same version, so the same rulebook). Batches are read
here and shipped to the workers, so workers need no access to the input file; results come
back in order and are written here, a bounded number in flight.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import deque
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from chipgate.batch._api import engine_for
from chipgate.rulebook import Rulebook, default_rulebook

# Batches in flight per worker thread: enough to keep every worker busy while one result
# is written, few enough that memory stays bounded.
_PER_THREAD = 2


def decide_partition(
    batch: pa.RecordBatch | pa.Table, on: dt.date | None = None, rulebook: Rulebook | None = None
) -> pa.Table:
    """The per-partition function: the engine of this worker process, answers remembered across calls."""
    return engine_for(rulebook).decide(batch, on)


def connect(scheduler: str | None) -> tuple[Any, list[Any]]:
    """A client for `scheduler`, or for a new local cluster; and what to close afterwards."""
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)  # type: ignore[no-untyped-call]
        return client, [client]
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    return client, [client, cluster]


def decide_on_dask(
    batches: Iterator[pa.RecordBatch],
    book: Rulebook,
    on: dt.date | None,
    *,
    scheduler: str | None = None,
    client: Any = None,
) -> Iterator[pa.Table]:
    owned: list[Any] = []
    if client is None:
        client, owned = connect(scheduler)
    try:
        # The packaged rulebook is loaded by each worker itself; another one travels once.
        shipped: Any = None if book is default_rulebook() else client.scatter(book, broadcast=True)
        threads = max(1, sum(client.nthreads().values()))
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append(client.submit(decide_partition, batch, on, shipped, pure=False))
            if len(pending) >= threads * _PER_THREAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for thing in owned:
            thing.close()
