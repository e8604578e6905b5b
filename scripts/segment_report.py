"""Render the segment report (self-contained HTML with plotly charts) from the published marts.

python scripts/segment_report.py                      # warehouse/published/... -> report
python scripts/segment_report.py --published bi.duckdb --output /tmp/report.html
"""

import sys

from segment_warehouse.report import main

if __name__ == "__main__":
    sys.exit(main())
