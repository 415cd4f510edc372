"""The Dask client of ``fifteenmin batch`` and ``fifteenmin report --tiles``.

Dask is an optional dependency (``pip install 'fifteenmin[batch]'``), imported only here,
when a batch or a tiled run starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ._errors import FifteenminError
from ._progress import logger
from .batch_task import one_line

__all__ = ["THREADS_PER_WORKER", "dask_client"]

#: Threads per worker process of the local cluster (one study or tile at a time per process,
#: and one kernel thread per task: one core each).
THREADS_PER_WORKER = 1


@contextlib.contextmanager
def dask_client(scheduler: Any, workers: int | None, tasks: int) -> Iterator[Any]:
    """A ``distributed.Client``: of a new local cluster, or of the given scheduler.

    ``scheduler`` is None (a new local cluster), an address, a cluster object or a client
    (used as it is, and left open).

    The local cluster has ``workers`` processes (default: one per core), but never more than
    there are ``tasks``.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise FifteenminError(
            "fifteenmin batch runs on Dask: install it with pip install 'fifteenmin[batch]' "
            "(or pip install 'dask[distributed]')"
        ) from None
    if scheduler is not None and hasattr(scheduler, "submit"):
        yield scheduler  # the caller's client: theirs to close
        return
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            from dask.system import CPU_COUNT

            n = min(workers or CPU_COUNT, tasks)
            scheduler = stack.enter_context(
                LocalCluster(
                    n_workers=n,
                    threads_per_worker=THREADS_PER_WORKER,
                    processes=True,
                    dashboard_address=":0",  # any free port: never clash with another cluster
                )
            )
            where = f"a local cluster of {n} worker processes"
        else:
            where = f"the Dask scheduler at {getattr(scheduler, 'scheduler_address', scheduler)}"
        try:
            client = stack.enter_context(Client(scheduler))
        except (OSError, TimeoutError) as exc:
            raise FifteenminError(f"cannot connect to {where}: {one_line(exc)}") from None
        n_now = len(client.scheduler_info().get("workers", {}))
        logger.info(f"running on {where} ({n_now} workers now)")
        if n_now == 0:
            logger.warning("warning: no Dask worker yet; the studies wait until workers join")
        yield client
