"""How well the segments find the behaviours planted in the demo data.

The demo generator writes each account's planted persona to
``ground_truth/customer_labels.parquet``; no model reads it. This module compares a built
warehouse's ``marts.customer_segments`` with it: precision (the share of a segment that
was planted) and recall (the share of planted customers the segment finds), over accounts
that are not a person's duplicate identity (a second account of one person carries the
person's label but only part of their history).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

#: (segment column, segment values, ground-truth flag) per planted behaviour.
PLANTED_BEHAVIOURS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("vip_segment", ("VIP",), "is_vip"),
    ("discount_segment", ("Cherry picker",), "is_discount_driven"),
    ("occasion_segment", ("Holiday shopper",), "is_holiday_shopper"),
)


@dataclass(frozen=True)
class Score:
    """Agreement between one segment and one planted behaviour."""

    column: str
    segments: tuple[str, ...]
    label: str
    planted: int
    predicted: int
    both: int

    @property
    def precision(self) -> float:
        """Share of the customers in the segment that were planted with the behaviour."""
        return self.both / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        """Share of the planted customers that the segment finds."""
        return self.both / self.planted if self.planted else 0.0


def planted_truth_scores(database: Path, ground_truth_dir: Path) -> list[Score]:
    """Score every planted behaviour against the segments of a built warehouse."""
    labels = ground_truth_dir / "customer_labels.parquet"
    scores = []
    with duckdb.connect(str(database), read_only=True) as connection:
        for column, segments, label in PLANTED_BEHAVIOURS:
            placeholders = ", ".join("?" for _ in segments)
            planted, predicted, both = connection.execute(
                f"""
                select
                    count(*) filter (where truth.{label}),
                    count(*) filter (where segments.{column} in ({placeholders})),
                    count(*) filter (where truth.{label} and segments.{column} in ({placeholders}))
                from read_parquet(?) as truth
                inner join marts.customer_segments as segments
                    on truth.customer_id = segments.customer_id
                where not truth.is_duplicate_identity
                """,
                [*segments, *segments, str(labels)],
            ).fetchall()[0]
            scores.append(Score(column, segments, label, planted, predicted, both))
    return scores


def render_markdown(scores: list[Score]) -> str:
    """Render the scores as a Markdown table."""
    lines = [
        "| segment | planted behaviour | planted | in segment | both | precision | recall |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for score in scores:
        segment = " or ".join(score.segments)
        lines.append(
            f"| `{score.column}` = {segment} | `{score.label}` | {score.planted:,} "
            f"| {score.predicted:,} | {score.both:,} | {score.precision:.3f} | {score.recall:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print precision and recall of the segments against the demo data's planted truth."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--warehouse", type=Path, default=Path("warehouse/segment_warehouse.duckdb")
    )
    parser.add_argument("--ground-truth", type=Path, default=Path("data/demo/ground_truth"))
    args = parser.parse_args(argv)
    print(render_markdown(planted_truth_scores(args.warehouse, args.ground_truth)), end="")


if __name__ == "__main__":
    main()
