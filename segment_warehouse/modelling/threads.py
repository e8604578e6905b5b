"""The native thread pools (OpenMP, BLAS) of a Python model: its dbt thread's share of the cores.

dbt runs ``threads`` nodes side by side, and a DuckDB query beside a Python model already
uses every core. scikit-learn's gradient boosting and k-means start one OpenMP thread per
core and wait for the slowest at every split or iteration, so on a machine whose cores are
all busy they spend most of their time waiting: at 100,000 demo customers, beside a DuckDB
build, the churn candidates' evaluation took 3.8 to 4.4 s with one OpenMP thread against
6.8 to 14.1 s with two, on the same rows and with the same scores (DECISIONLOG.md, "Python
models use their dbt thread's share of the cores").
"""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits


def cores_per_node(dbt_threads: int | str | None, cores: int | None = None) -> int:
    """Return the cores one of ``dbt_threads`` nodes running side by side may use (at least 1).

    ``cores`` defaults to the machine's (``os.cpu_count()``); an unknown thread count
    counts as one node, which may use every core.
    """
    cores = cores or os.cpu_count() or 1
    nodes = max(1, int(dbt_threads)) if dbt_threads not in (None, "") else 1
    return max(1, cores // nodes)


def native_threads(dbt_threads: int | str | None) -> threadpool_limits:
    """Limit the native thread pools to :func:`cores_per_node` for a ``with`` block.

    OpenMP's limit belongs to the calling thread (the dbt thread running the model); the
    BLAS limit is the process's and is restored when the block ends.
    """
    return threadpool_limits(limits=cores_per_node(dbt_threads))
