"""Words for people: readable labels, the families' page order, the build's thresholds.

Thresholds: a segment's meaning names a family param (``high_min_spend_percentile``) or a
project var (``lifecycle.new_days``). Its value is
read back from the published ``segment_registry.segment_rule`` (the rule as the build
rendered it: params with their segments.params overrides, vars with their --vars) by matching
the family file's rule template (``days_since_first_order < {var:lifecycle.new_days}``,
``spend_percentile >= {high_min_spend_percentile}``) against it, so the page shows what the
build used, never a default. A name no published rule or column carries is named in words
("the configured CLV annual discount rate").
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

LEAD_FAMILIES = ("lifecycle", "value", "rfm", "churn_risk")
"""Families shown first, in this order, when the registry declares no order of its own."""

FAMILY_ORDER_COLUMNS = ("family_order", "order")
"""Columns of segment_registry that, when present, give the families' order (lowest first)."""

LABELS = {
    "rfm": "RFM",
    "vip": "VIP",
    "clv": "CLV",
    "nps": "NPS",
    "aov": "AOV",
    "p_alive": "P(alive)",
    "as_of_date": "As-of date",
    "inactive_tenure_share": "Share of tenure without purchases",
    "non_store_order_count": "Online orders",
    "store_order_count": "Store orders",
    "tenure_days": "Tenure in days",
    "top_category_spend_share": "Spend share of the top category",
    "discount_order_share": "Share of discounted orders",
    "holiday_order_share": "Share of holiday orders",
    "refunded_order_share": "Share of refunded orders",
    "churn_risk": "Churn risk",
    "micro_segment": "Micro-segment",
}
"""Readable labels for names the generic rule (snake_case to a sentence) renders badly."""

ACRONYMS = {"rfm", "vip", "clv", "nps", "aov", "bg", "nbd", "utc", "iso", "id"}

_TRANSFORMS = {"log": "log scale", "sqrt": "square root", "smoothed": "smoothed"}
"""Prefixes of model features, shown after the label: log_net_spend -> Net spend (log scale)."""


# ---- readable labels -----------------------------------------------------------------------


def readable(name: str) -> str:
    """Turn a column, feature or family name into a label for people.

    ``days_since_last_order`` -> "Days since last order", ``log_net_spend`` -> "Net spend
    (log scale)", ``rfm`` -> "RFM": the LABELS mapping first, then snake_case as a sentence
    with known acronyms in capitals.
    """
    name = str(name)
    if name in LABELS:
        return LABELS[name]
    prefix, _, base = name.partition("_")
    if prefix in _TRANSFORMS and base:
        return f"{readable(base)} ({_TRANSFORMS[prefix]})"
    words = [word for word in name.split("_") if word]
    if not words or not re.fullmatch(r"[a-z0-9_]+", name):
        return name
    shown = [word.upper() if word in ACRONYMS else word for word in words]
    first = shown[0]
    shown[0] = first if first.isupper() else first.capitalize()
    return " ".join(shown)


def _inline(label: str) -> str:
    """Put a label inside a sentence: lower-case first word unless it is an acronym."""
    first, _, rest = label.partition(" ")
    first = first if first.isupper() or "(" in first else first.lower()
    return f"{first} {rest}".strip()


def order_families(families: Iterable[str], registry: pd.DataFrame) -> list[str]:
    """Put the families in page order.

    When segment_registry has an order column (FAMILY_ORDER_COLUMNS), its lowest value per
    family decides, families without one after, by name. Otherwise LEAD_FAMILIES first, in
    that order, then the rest by name.
    """
    families = list(dict.fromkeys(families))
    column = next((name for name in FAMILY_ORDER_COLUMNS if name in registry.columns), None)
    if column is not None:
        declared = pd.to_numeric(registry[column], errors="coerce")
        position = declared.groupby(registry["segment_family"]).min().dropna()
        if not position.empty:
            return sorted(
                families,
                key=lambda family: (
                    family not in position.index,
                    float(position.get(family, 0.0)),
                    family,
                ),
            )
    lead = {family: index for index, family in enumerate(LEAD_FAMILIES)}
    return sorted(families, key=lambda family: (lead.get(family, len(lead)), family))


# ---- thresholds the build used -------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(var:)?([a-z_][a-z0-9_.]*)\}")
"""A rule's placeholder: ``{param}`` (the family's param) or ``{var:name}`` (a project var).

Names may be namespaced with dots (``{var:lifecycle.new_days}``)."""

_FOLD = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The values the build rendered into the published rules, with the names they go by.

    ``variables``: project vars by name; ``params``: each family's params by name (as
    rendered, segments.params overrides included); ``names`` and ``param_names``: every
    project var name and each family's param names, with a value or not (a name in a
    meaning without a value is named in words, never guessed).
    """

    variables: Mapping[str, str] = dataclasses.field(default_factory=dict)
    params: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    names: frozenset[str] = frozenset()
    param_names: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    def values_of(self, family: str) -> dict[str, str]:
        """Return the values a meaning of ``family`` may name: its params before vars."""
        return {**self.variables, **self.params.get(family, {})}

    def names_of(self, family: str) -> frozenset[str]:
        """Return every name a meaning of ``family`` may use, with a value or not."""
        return self.names | self.param_names.get(family, frozenset())


def _fold(text: str) -> str:
    return _FOLD.sub(" ", str(text)).strip()


def _placeholder_values(template: str, rendered: str) -> list[tuple[bool, str, str]]:
    """Match a rule template against its rendered rule: (is a var, name, value) each.

    Empty when the rendered rule does not match the template (the family file changed
    since the build) or the template has no placeholder.
    """
    template = _fold(template)
    pieces: list[str] = []
    names: list[tuple[bool, str]] = []
    position = 0
    for match in PLACEHOLDER.finditer(template):
        pieces.append(re.escape(template[position : match.start()]))
        pieces.append("(.+?)")
        names.append((bool(match.group(1)), match.group(2)))
        position = match.end()
    if not names:
        return []
    pieces.append(re.escape(template[position:]))
    found = re.fullmatch("".join(pieces), _fold(rendered))
    if found is None:
        return []
    values = [value.strip() for value in found.groups()]
    # a placeholder used twice must have been rendered the same both times
    seen: dict[tuple[bool, str], str] = {}
    for name, value in zip(names, values, strict=True):
        if seen.setdefault(name, value) != value:
            return []
    return [(is_var, name, value) for (is_var, name), value in zip(names, values, strict=True)]


def var_values_from_rule(template: str, rendered: str) -> dict[str, str]:
    """Read the param and var values a rendered rule was built with, from its template.

    ``days_since_first_order < {var:lifecycle.new_days}`` against ``days_since_first_order
    < 30`` gives ``{"lifecycle.new_days": "30"}``; ``{min_orders}`` gives the param
    ``min_orders``. A rendered rule that does not match its template gives nothing.
    """
    values: dict[str, str] = {}
    for _, name, value in _placeholder_values(template, rendered):
        values.setdefault(name, value)
    return values


def threshold_values(
    registry: pd.DataFrame, declared_families: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Return the values the published rules were rendered with: vars, params per family.

    ``registry`` is the published segment_registry (rules rendered by the build);
    ``declared_families`` the family files (rules with their placeholders).
    """
    rendered = {
        (row.segment_family, row.segment): (row.segment_rule, row.segment_value_expression)
        for row in registry.itertuples()
    }
    variables: dict[str, str] = {}
    params: dict[str, dict[str, str]] = {}
    for family in declared_families:
        name = family.get("family")
        for segment in family.get("segments") or []:
            published = rendered.get((name, segment.get("segment")))
            if published is None:
                continue
            for template, built in zip(
                (segment.get("rule"), segment.get("value")), published, strict=True
            ):
                if not (isinstance(template, str) and isinstance(built, str)):
                    continue
                for is_var, placeholder, value in _placeholder_values(template, built):
                    found = variables if is_var else params.setdefault(str(name), {})
                    found.setdefault(placeholder, value)
    return variables, params


def _var_names(variables: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Return the name of every var that holds a value, nested ones by their dotted path.

    ``{lifecycle.new_days: 30, quality.gates: {quarantine_warn_share: 0.01}}`` gives
    ``lifecycle.new_days`` and ``quality.gates.quarantine_warn_share``; a mapping's own key
    is no var a meaning names.
    """
    names: set[str] = set()
    for key, value in variables.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            names |= _var_names(value, f"{name}.")
        else:
            names.add(name)
    return names


def declared_thresholds(
    registry: pd.DataFrame, project_dir: Path | None, carried: Mapping[str, str] | None = None
) -> Thresholds:
    """Return the thresholds of the published ``registry``, read against the family files.

    Only names and templates are read from the project, never values: a value on the page
    is one the build rendered into the published marts (or ``carried`` in a published
    column). Without a readable project (a report rendered elsewhere) the meanings keep
    their names in words.
    """
    try:
        from segment_warehouse.documentation import registry as declared
        from segment_warehouse.paths import project_dir as current_project_dir

        directory = Path(project_dir) if project_dir is not None else current_project_dir()
        families = declared.load_registry(directory)
        var_names = _var_names(declared.load_project_vars(directory))
    except (ImportError, OSError, KeyError, TypeError, ValueError):
        return Thresholds(variables=dict(carried or {}))
    variables, params = threshold_values(registry, families)
    return Thresholds(
        variables={**(carried or {}), **variables},
        params=params,
        names=frozenset(var_names),
        param_names={
            str(family.get("family")): frozenset(family.get("params") or {}) for family in families
        },
    )


def _format_value(name: str, value: str) -> str:
    """Show a var's value in a sentence: shares as percentages, the rest as rendered."""
    try:
        number = float(value)
    except ValueError:
        return value.strip("'\"")
    if name.endswith("_share") and 0 <= number <= 1:
        return f"{number * 100:g} %"
    return value


def fill_thresholds(text: str, values: Mapping[str, str], var_names: Iterable[str] = ()) -> str:
    """Put the build's value in place of every param or var name in ``text``.

    ``First purchase less than lifecycle.new_days days ago.`` -> ``First purchase less than 30
    days ago.``; ``lifecycle_churn_days - 1`` folds to the
    number. A name without a value (in ``var_names`` but not in ``values``) is named in
    words, never guessed.
    """
    names = sorted({*values, *var_names}, key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile(
        r"`?\b(" + "|".join(re.escape(name) for name in names) + r")\b`?"
        r"(?:\s*(?P<sign>[-+])\s*(?P<step>\d+)\b)?"
    )

    def replace(match: re.Match[str]) -> str:
        name, sign, step = match.group(1), match.group("sign"), match.group("step")
        offset = f" {sign} {step}" if sign else ""
        if name not in values:
            return f"the configured {_inline(readable(name.replace('.', '_')))}{offset}"
        value = values[name]
        if sign and re.fullmatch(r"-?\d+", value):
            shown = str(int(value) + (int(step) if sign == "+" else -int(step)))
        else:
            shown = _format_value(name, value) + offset
        # a number of days reads as days even where the sentence only named the var
        following = match.string[match.end() :].split()[:3]
        if name.endswith("_days") and not any("day" in word for word in following):
            shown += " days"
        return shown

    return pattern.sub(replace, text)
