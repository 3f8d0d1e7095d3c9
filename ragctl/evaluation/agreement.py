"""How far raters agree beyond chance: Cohen's kappa for two raters (and for an automatic verdict against the
experts), Fleiss' kappa for several; both from statsmodels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Agreement:
    raters: list[str]
    items: int  # items every rater here labelled
    observed: float  # share of those items on which they agree
    kappa: float | None  # None: undefined (fewer than 2 items, or one label only and no disagreement)
    method: str  # cohen | fleiss


def cohen(a: Sequence[str], b: Sequence[str], raters: tuple[str, str]) -> Agreement:
    """Two raters' labels on the same items, in the same order."""
    from statsmodels.stats.inter_rater import cohens_kappa, to_table

    observed = sum(x == y for x, y in zip(a, b)) / len(a) if a else 0.0
    labels = sorted(set(a) | set(b))
    kappa = None
    if len(a) >= 2 and len(labels) >= 2:
        index = {label: i for i, label in enumerate(labels)}
        table, _ = to_table([[index[x], index[y]] for x, y in zip(a, b)], bins=len(labels))
        kappa = float(cohens_kappa(table, return_results=False))
    return Agreement(list(raters), len(a), observed, kappa, "cohen")


def fleiss(labels: Sequence[Sequence[str]], raters: list[str]) -> Agreement:
    """Each item's labels, one per rater (the same number per item)."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    items = [list(item) for item in labels]
    observed = sum(len(set(item)) == 1 for item in items) / len(items) if items else 0.0
    kinds = sorted({x for item in items for x in item})
    kappa = None
    if len(items) >= 2 and len(kinds) >= 2:
        index = {label: i for i, label in enumerate(kinds)}
        counts, _ = aggregate_raters([[index[x] for x in item] for item in items], n_cat=len(kinds))
        kappa = float(fleiss_kappa(counts, method="fleiss"))
    return Agreement(raters, len(items), observed, kappa, "fleiss")
