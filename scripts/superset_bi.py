"""Provision Apache Superset with the Customer segments dashboard over the published marts.

python scripts/superset_bi.py           # install, start on :8088, register, dashboard
python scripts/superset_bi.py --stop    # stop the web server it started
"""

import sys

from segment_warehouse.superset import main

if __name__ == "__main__":
    sys.exit(main())
