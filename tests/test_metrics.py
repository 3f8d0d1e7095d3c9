from __future__ import annotations

import pytest

from ragctl import metrics as m
from ragctl.stages.evaluate import Gate, aggregate, gates


def test_normalize_and_exact_match() -> None:
    assert m.normalize("The  Channel Islands!") == "channel islands"
    assert m.exact_match("the Channel islands.", ["Channel Islands"]) == 1.0
    assert m.exact_match("Jersey", ["Channel Islands"]) == 0.0


def test_token_f1_takes_best_answer() -> None:
    assert m.token_f1("a deterministic Turing machine", ["A Turing machine", "Turing machine"]) == pytest.approx(0.8)
    assert m.token_f1("", ["x"]) == 0.0
    assert m.token_f1("unrelated words", ["France"]) == 0.0


def test_first_hit_rank_matches_file_and_page() -> None:
    retrieved = [{"file": "a.pdf", "page": 2}, {"file": "docs/b.pdf", "page": 1}, {"file": "a.pdf", "page": 1}]
    assert m.first_hit_rank(retrieved, [{"file": "a.pdf", "page": 1}]) == 3
    assert m.first_hit_rank(retrieved, [{"file": "b.pdf", "page": 1}]) == 2
    assert m.first_hit_rank(retrieved, [{"file": "a.pdf"}]) == 1
    assert m.first_hit_rank(retrieved, [{"file": "c.txt"}]) is None


def test_percentile() -> None:
    assert m.percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert m.percentile([5.0], 95) == 5.0
    assert m.percentile([], 95) == 0.0


def test_aggregate_and_gates_directions() -> None:
    rows = [
        {"hit": 1.0, "reciprocal_rank": 1.0, "exact_match": 1.0, "token_f1": 1.0, "latency_s": 1.0},
        {"hit": 0.0, "reciprocal_rank": 0.0, "exact_match": 0.0, "token_f1": 0.5, "latency_s": 3.0},
    ]
    values = aggregate(rows)
    assert values["hit_rate"] == 0.5 and values["token_f1"] == 0.75 and values["latency_p50"] == 2.0
    result = {g.metric: g.passed for g in gates(values, {"hit_rate": 0.6, "latency_p95": 5.0, "mrr": 0.5})}
    assert result == {"hit_rate": False, "latency_p95": True, "mrr": True}
    assert not Gate("latency_p50", 2.0, 1.0, minimum=False).passed
