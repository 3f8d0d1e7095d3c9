"""Synthetic QA pairs from the collection's chunks, for teams without a gold set (`ragctl dataset generate`).

Two LLM calls per chunk: the question (the prompt ends at 'Question:'), then the answer to it (the same
prompt, the question and 'Answer:'), each one line. Deterministic: chunks are drawn with the seed (files
shuffled, each file's chunks shuffled, then one chunk per file in turn, so the questions spread over the
corpus), and the LLM runs at the configured temperature (0 by default). Every pair is checked before it
becomes an item: a question ending in '?' that borrows nothing from the prompt's example, a short answer
whose words the chunk contains, no repeated question. An item names its chunk's file and page, never the
chunk id, so the set survives re-chunking like a hand-written one.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ragctl.config.model import GenerationConfig
from ragctl.evaluation.answers import normalize

GROUNDED_SHARE = 0.8  # share of the answer's words that must occur in the chunk
STOP = ["\n"]  # the question, then the answer, each one line


@dataclass
class Chunk:
    id: str
    file: str
    page: int | None
    text: str


def draw_order(records: Iterable[tuple[str, dict[str, Any]]], seed: int) -> list[str]:
    """Chunk ids in the order they are tried: files shuffled with the seed, each file's chunks shuffled,
    then round-robin over the files."""
    by_file: dict[str, list[str]] = defaultdict(list)
    for chunk_id, meta in sorted(records, key=lambda r: r[0]):
        by_file[str(meta.get("file") or "")].append(chunk_id)
    rng = random.Random(seed)
    files = sorted(by_file)
    rng.shuffle(files)
    queues = []
    for file in files:
        ids = by_file[file]
        rng.shuffle(ids)
        queues.append(ids)
    longest = max((len(q) for q in queues), default=0)
    return [q[i] for i in range(longest) for q in queues if i < len(q)]


def question_prompt(settings: GenerationConfig, chunk: Chunk) -> str:
    """The prompt ends at 'Question:': the LLM writes the question on one line."""
    return settings.prompt.replace("{context}", " ".join(chunk.text.split()))


def answer_prompt(settings: GenerationConfig, chunk: Chunk, question: str) -> str:
    """Then the question is given back with 'Answer:': the LLM writes the answer on one line."""
    return f"{question_prompt(settings, chunk)} {question}\nAnswer:"


def clean(completion: str) -> str:
    """One line of LLM output, trimmed of surrounding whitespace and a final full stop."""
    lines = completion.strip().splitlines()
    return " ".join(lines[0].split()).rstrip(" .") if lines else ""


def rejection(question: str, answer: str, chunk: Chunk, settings: GenerationConfig, seen: set[str]) -> str | None:
    """Why this pair cannot be an item, or None when it can."""
    if not question.endswith("?") or len(question.split()) < 3:
        return "not a question"
    context = set(normalize(chunk.text).split())
    example = set(normalize(settings.prompt.replace("{context}", "")).split())
    if any(len(w) > 3 and w in example and w not in context for w in normalize(question).split()):
        return "question borrowed from the prompt's example"
    if not answer:
        return "no answer"
    if len(answer.split()) > settings.max_answer_words:
        return "answer too long"
    words = normalize(answer).split()
    if not words or sum(w in context for w in words) < GROUNDED_SHARE * len(words):
        return "answer not in the chunk"
    if normalize(answer) == normalize(question):
        return "answer repeats the question"
    if question_key(question) in seen:
        return "duplicate question"
    return None


def question_key(question: str) -> str:
    """Questions that differ only in case, punctuation or articles are the same question."""
    return normalize(question)


def item(chunk: Chunk, question: str, answer: str, model: str) -> dict[str, Any]:
    """One record in the QA-set format (evaluation/datasets/items.py)."""
    source: dict[str, Any] = {"file": chunk.file}
    if chunk.page is not None:
        source["page"] = chunk.page
    return {
        "question": question,
        "answer": answer,
        "sources": [source],
        "tags": {"synthetic": "true", "generator": model},
    }
