"""Generate the demo raw data and its ground truth (see `--help`).

A thin wrapper around `segment_warehouse.demo_data.main`, e.g.

    python scripts/generate_demo_data.py --customers 100000 --out data/demo
"""

import sys

from segment_warehouse.demo_data import main

if __name__ == "__main__":
    sys.exit(main())
