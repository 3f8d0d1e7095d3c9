"""The work on one file, as a pure function of (file, config): read -> clean -> chunk -> (embed).

`prepare` runs in worker processes (it needs no model, only the tokenizer that sizes chunks); `embed`
runs where the model is loaded; `process` is both, for engines that fan files out to other machines.
Writing and the manifest live elsewhere (write.py, manifest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.documents import PARSER_VERSION, Page, Unreadable, read
from ragctl.documents.headings import Outline


@dataclass
class Chunk:
    id: str
    text: str  # what the store holds
    metadata: dict[str, Any]
    embed_text: str = ""  # what is embedded: the text with its context (chunking.context), if any

    def __post_init__(self) -> None:
        self.embed_text = self.embed_text or self.text


@dataclass
class Prepared:
    file: str
    outcome: str  # ok | partial | empty | encrypted | wrong-password | corrupt | unsupported | too-large | timeout
    reason: str = ""
    pages_total: int = 0
    pages: int = 0  # pages that yielded text
    chunks: list[Chunk] = field(default_factory=list)
    embeddings: list[list[float]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.outcome not in ("ok", "partial")


def fingerprint(config: RagctlConfig) -> str:
    """What decides the kind of vectors in a collection: chunking and the embedding model."""
    settings = {"chunking": config.chunking.model_dump(), "embedding": config.embedding.identity()}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def reader_digest(config: RagctlConfig) -> str:
    """What decides the text a file yields; a change redoes every file, the vectors stay comparable."""
    settings = {"parser": PARSER_VERSION, "ocr": config.ingestion.pdf.ocr, "min_chars": config.ingestion.min_chars}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def ingest_key(sha256: str, config: RagctlConfig) -> str:
    return hashlib.sha256(f"{sha256}|{reader_digest(config)}|{fingerprint(config)}".encode()).hexdigest()[:16]


CONTEXT_KEYS = ("title", "section")  # metadata shown with the chunk (embedded, and to the LLM)
MIN_SECTION_CHARS = 300  # headings closer together than this name one span instead of cutting tiny ones


def sections(page: Page, outline: Outline) -> list[tuple[str, str]]:
    """A page cut at its headings into (text, section) spans; the outline carries headings across pages.
    A heading within MIN_SECTION_CHARS of its span's start does not cut: it renames the span."""
    cuts: list[list[Any]] = [[0, outline.section()]]
    for offset, depth, heading in page.headings:
        outline.enter(depth, heading)
        if offset - cuts[-1][0] >= MIN_SECTION_CHARS:
            cuts.append([offset, outline.section()])
        else:
            cuts[-1][1] = outline.section()
    ends = [start for start, _ in cuts[1:]] + [len(page.text)]
    spans = [(page.text[start:end].strip(), section) for (start, section), end in zip(cuts, ends)]
    return [(text, section) for text, section in spans if text]


@lru_cache(maxsize=4)
def _splitter(chunking_json: str, embedding_json: str) -> Any:
    from llama_index.core.node_parser import SentenceSplitter, TokenTextSplitter

    from ragctl.components.embeddings import token_counter
    from ragctl.config.model import ChunkingConfig, EmbeddingConfig

    chunking = ChunkingConfig.model_validate_json(chunking_json)
    kind = SentenceSplitter if chunking.strategy == "sentence" else TokenTextSplitter
    return kind(
        chunk_size=chunking.chunk_size,
        chunk_overlap=chunking.chunk_overlap,
        tokenizer=token_counter(EmbeddingConfig.model_validate_json(embedding_json)),
    )


def prepare(path: Path, name: str, sha256: str, config: RagctlConfig) -> Prepared:
    """Read, clean and chunk one file. Never raises for a bad file: the outcome says what happened."""
    from llama_index.core import Document
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    try:
        doc = read(path, name, config.ingestion)
    except Unreadable as exc:
        return Prepared(name, exc.outcome, exc.reason)
    key = ingest_key(sha256, config)
    # The title (chunking.context) and the section (chunking.sections) are the metadata keys llama-index puts
    # into the embedded and LLM-shown text ("title: ...\nsection: ...\n\n<chunk>"); the splitter sizes
    # chunks with them counted, so a chunk is never cut short at embed time.
    title = doc.title[: config.chunking.chunk_size] if config.chunking.context else ""
    documents = []
    outline = Outline()
    for page in doc.pages:
        where: dict[str, Any] = {"file": name, **({"page": page.number} if page.number is not None else {})}
        doc_id = f"{name}#p{page.number}" if page.number is not None else name
        spans = sections(page, outline) if config.chunking.sections else [(page.text, "")]
        for number, (text, section) in enumerate(spans):
            shown = {k: v for k, v in (("title", title), ("section", section)) if v}
            documents.append(
                Document(
                    id_=f"{doc_id}#s{number}" if number else doc_id,
                    text=text,
                    metadata={**where, **shown},
                    excluded_embed_metadata_keys=list(where),
                    excluded_llm_metadata_keys=list(where),
                )
            )
    splitter = _splitter(config.chunking.model_dump_json(), config.embedding.model_dump_json())
    with contextlib.redirect_stdout(io.StringIO()):  # llama-index prints when a title nears the chunk size
        nodes = splitter.get_nodes_from_documents(documents)
    chunks = []
    for index, node in enumerate(nodes):
        node.id_ = hashlib.sha256(f"{name}|{key}|{index}".encode()).hexdigest()[:32]
        node.metadata.update(sha256=sha256, ingest_key=key, chunk_index=index, chunk_count=len(nodes))
        hidden = [k for k in node.metadata if k not in CONTEXT_KEYS]
        node.excluded_embed_metadata_keys = hidden
        node.excluded_llm_metadata_keys = hidden
        metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
        chunks.append(
            Chunk(
                node.id_,
                node.get_content(),
                {k: ("" if v is None else v) for k, v in metadata.items()},
                node.get_content(MetadataMode.EMBED),
            )
        )
    pages_total = doc.pages_total or len(doc.pages)
    return Prepared(name, doc.outcome, doc.reason, pages_total, len(doc.pages), chunks)


def embed(prepared: Prepared, model: Any) -> Prepared:
    """Add the vectors. Components may offer `embed_many` (batching, concurrency); else llama-index's API."""
    texts = [c.embed_text for c in prepared.chunks]
    many = getattr(model, "embed_many", None)
    prepared.embeddings = many(texts) if many else model.get_text_embedding_batch(texts)
    return prepared


def process(path: Path, name: str, config: RagctlConfig, model: Any) -> Prepared:
    """The whole per-file function (read, clean, chunk, embed), for running on another engine."""
    from ragctl.documents import sha256

    return embed(prepare(path, name, sha256(path), config), model)
