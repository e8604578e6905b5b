"""Precision and recall against planted truth, on a hand-made warehouse and label file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from segment_warehouse.modelling.evaluation import planted_truth_scores, render_markdown


def test_scores_count_planted_predicted_and_both_excluding_duplicates(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    truth_dir = tmp_path / "ground_truth"
    truth_dir.mkdir()
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            """
            create table marts.customer_segments as
            select * from (values
                ('a', 'VIP', 'Cherry picker', 'Holiday shopper', 'Churned'),
                ('b', 'VIP', 'Full-price loyalist', 'Year-round shopper', 'At risk'),
                ('c', 'Not VIP', 'Cherry picker', 'Year-round shopper', 'Active'),
                ('d', 'VIP', 'Cherry picker', 'Holiday shopper', 'Active'),
                ('e', 'Not VIP', 'No purchase', 'No purchase', 'Prospect')
            ) as t(customer_id, vip_segment, discount_segment, occasion_segment, lifecycle_stage)
            """
        )
        # d is a duplicate identity: it must not count, whatever its labels say.
        connection.execute(
            f"""
            copy (
                select * from (values
                    ('a', true, true, false, true, false),
                    ('b', false, false, false, true, false),
                    ('c', true, false, false, false, false),
                    ('d', true, true, true, false, true),
                    ('e', false, false, true, false, false)
                ) as t(customer_id, is_vip, is_discount_driven, is_holiday_shopper, is_churned,
                       is_duplicate_identity)
            ) to '{truth_dir / "customer_labels.parquet"}' (format parquet)
            """
        )
    scores = {score.label: score for score in planted_truth_scores(database, truth_dir)}

    vip = scores["is_vip"]  # planted a, c; predicted a, b
    assert (vip.planted, vip.predicted, vip.both) == (2, 2, 1)
    assert vip.precision == pytest.approx(0.5) and vip.recall == pytest.approx(0.5)
    discount = scores["is_discount_driven"]  # planted a; predicted a, c
    assert (discount.planted, discount.predicted, discount.both) == (1, 2, 1)
    holiday = scores["is_holiday_shopper"]  # planted e; predicted a
    assert (holiday.both, holiday.precision, holiday.recall) == (0, 0.0, 0.0)
    assert "| `vip_segment` = VIP | `is_vip` | 2 | 2 | 1 | 0.500 | 0.500 |" in render_markdown(
        list(scores.values())
    )
