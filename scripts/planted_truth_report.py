"""Precision and recall of the segments against the demo data's planted personas.

A thin wrapper around `segment_warehouse.modelling.evaluation.main`, e.g. after `make build`:

    python scripts/planted_truth_report.py
    python scripts/planted_truth_report.py --warehouse w.duckdb --ground-truth data/x/ground_truth
"""

from segment_warehouse.modelling.evaluation import main

if __name__ == "__main__":
    main()
