"""The scheduled refresh job (see `--help` and the README's "History, drift and the scheduled job").

A thin wrapper around `segment_warehouse.job.main`, e.g.

    python scripts/refresh.py                                   # as of today (UTC)
    python scripts/refresh.py --as-of-date 2026-06-30
    python scripts/refresh.py --backfill 2026-01-31 2026-06-30 --step month

Exit codes: 0 success; 1 a build, gate or publish failed (previous publication kept);
2 invalid arguments; 3 another refresh is running; 130/143 stopped by SIGINT/SIGTERM.
"""

import sys

from segment_warehouse.job import main

if __name__ == "__main__":
    sys.exit(main())
