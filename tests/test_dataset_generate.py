"""`ragctl dataset generate`'s checks without a model: which chunks are drawn, how an LLM completion is read,
which pairs are rejected, and that an item reads back as a QA-set record. The real LLM is in the e2e test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragctl.config.model import GenerationConfig
from ragctl.evaluation import datasets, generate

CHUNK = generate.Chunk("c1", "filings/acme.pdf", 3, "Acme's revenue grew 12 percent to 4.2 billion dollars in 2023.")


def _records() -> list[tuple[str, dict[str, str]]]:
    return [(f"{f}-{i}", {"file": f}) for f in ("a.pdf", "b.pdf", "c.pdf") for i in range(4)]


def test_draw_order_is_seeded_spread_over_files_and_complete() -> None:
    first = generate.draw_order(_records(), seed=7)
    assert first == generate.draw_order(list(reversed(_records())), seed=7)  # input order does not matter
    assert first != generate.draw_order(_records(), seed=8)
    assert sorted(first) == sorted(r[0] for r in _records())
    assert len({chunk.split("-")[0] for chunk in first[:3]}) == 3  # one chunk of each file before a second


def test_prompts_and_one_line_of_output() -> None:
    settings = GenerationConfig()
    asked = generate.question_prompt(settings, CHUNK)
    assert asked.endswith("Passage: " + CHUNK.text + "\nQuestion:")
    assert generate.answer_prompt(settings, CHUNK, "How much?") == asked + " How much?\nAnswer:"
    assert generate.clean(" 12 percent.\nQuestion: more") == "12 percent"
    assert generate.clean("\n") == ""


SEEN = "How much did revenue grow?"


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        ("What did revenue grow by?", "12 percent", None),
        ("What did revenue reach?", "4.2 billion dollars", None),
        ("Revenue grew 12 percent.", "12 percent", "not a question"),
        ("What did revenue grow by?", "", "no answer"),
        ("What did revenue grow by?", "30 percent of the market in Europe", "answer not in the chunk"),
        ("What did revenue reach?", " ".join(["billion"] * 25), "answer too long"),
        ("What did revenue reach in 2023?", "4.2 billion US dollars in 2023", None),  # 5 of 6 words: enough
        ("What did revenue reach in 2023?", "4.2 billion US dollars, euros", "answer not in the chunk"),
        ("what grew 12 percent?", "What grew 12 percent?", "answer repeats the question"),
        ("how much did Revenue grow", "12 percent", "not a question"),
        ("When was the Eiffel Tower completed?", "2023", "question borrowed from the prompt's example"),
        ("how much did the Revenue grow?", "12 percent", "duplicate question"),
    ],
)
def test_rejections(question: str, answer: str, reason: str | None) -> None:
    chunk = generate.Chunk("c1", "a.pdf", 1, CHUNK.text + " What grew 12 percent? Revenue did.")
    seen = {generate.question_key(SEEN)}
    assert generate.rejection(question, answer, chunk, GenerationConfig(), seen) == reason


def test_an_item_is_a_qa_record_with_file_and_page(tmp_path: Path) -> None:
    record = generate.item(CHUNK, "How much did revenue grow?", "12 percent", "gemma")
    assert record["sources"] == [{"file": "filings/acme.pdf", "page": 3}]
    no_page = generate.item(generate.Chunk("c2", "notes.md", None, "x"), "What is x?", "x", "gemma")
    assert no_page["sources"] == [{"file": "notes.md"}]
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (record, no_page)))
    loaded = datasets.load(str(path))
    assert [i.tags["synthetic"] for i in loaded.items] == ["true", "true"]
    assert loaded.items[0].answers == ["12 percent"]


def test_the_prompt_needs_a_context_placeholder() -> None:
    with pytest.raises(ValueError, match="must contain"):
        GenerationConfig(prompt="Question:")
    assert "{context}" not in generate.question_prompt(GenerationConfig(), CHUNK)


def test_an_output_that_cannot_be_written_is_refused_before_the_llm_loads(project: Path) -> None:
    from typer.testing import CliRunner

    from ragctl.cli.app import app

    (project / "qa.jsonl").write_text('{"question": "Mine?", "answer": "hand-written"}\n')
    cases = [
        ("/proc/ragctl-qa/qa.jsonl", "cannot create /proc/ragctl-qa"),
        ("/proc/qa.jsonl", "cannot write in /proc"),  # a folder there that even root cannot write in
        (".", "is a directory"),
    ]
    for output, said in [*cases, ("qa.jsonl", "exists hint: pass --force to replace it")]:
        result = CliRunner().invoke(app, ["dataset", "generate", "-n", "2", "--output", output])
        assert result.exit_code == 2, result.output
        assert f"--output {output}" in result.output and said in " ".join(result.output.split())
    assert not (project / ".ragctl").exists(), "nothing read, loaded or logged"
    assert "hand-written" in (project / "qa.jsonl").read_text()
