"""Chunks as Dask tasks (optional extra ``stikstofcalc[dask]``: ``dask[distributed]``).

:func:`map_tasks` runs ``fn(*task)`` for every task on a Dask cluster and returns the
results in task order: on ``client`` when given, on the scheduler at ``scheduler``
(``tcp://host:8786``; a real cluster whose workers have stikstofcalc installed), or
on a :class:`~dask.distributed.LocalCluster` of ``workers`` processes with one thread
each (default 2), started and closed here.
"""

from __future__ import annotations

import os

from stikstofcalc.errors import StikstofError

_MISSING = ("Dask is een optionele uitbreiding: pip install 'stikstofcalc[dask]' "
            "(dask[distributed])")


class DaskUnavailable(StikstofError, ImportError):
    """dask.distributed is not installed."""


def require_dask():
    try:
        import dask.distributed as dd
    except ImportError as exc:
        raise DaskUnavailable(_MISSING) from exc
    return dd


def local_cluster(workers: int | None = None, *, processes: bool = True):
    """A LocalCluster of ``workers`` single-threaded workers (numba threads per worker: 1)."""
    dd = require_dask()
    n = int(workers or 2)
    # one numba/BLAS thread per worker process: the workers share the cores
    env = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    if processes:
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            return dd.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return dd.LocalCluster(n_workers=n, threads_per_worker=1, processes=False,
                           dashboard_address=None, silence_logs=40)


def map_tasks(fn, tasks, *, client=None, scheduler: str | None = None, workers: int | None = None,
              progress=None) -> list:
    """``[fn(*t) for t in tasks]`` on a Dask cluster, in task order."""
    dd = require_dask()
    own_cluster = own_client = None
    try:
        if client is None:
            if scheduler is not None:
                try:
                    client = own_client = dd.Client(scheduler, timeout="20s")
                except (OSError, TimeoutError) as exc:
                    raise StikstofError(f"geen verbinding met de Dask-scheduler {scheduler} ({exc})") from exc
            else:
                own_cluster = local_cluster(workers)
                client = own_client = dd.Client(own_cluster)
        futures = [client.submit(fn, *t, pure=False) for t in tasks]
        where = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(tasks)
        for fut in dd.as_completed(futures):
            i = where[fut.key]
            out[i] = fut.result()
            fut.release()
            if progress:
                progress(len(tasks[i][1]))
        return out
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
