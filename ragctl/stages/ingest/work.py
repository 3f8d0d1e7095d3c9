"""The work on one file: read -> clean -> chunk (`prepare`, in a worker process) -> embed (where the model is).

A worker receives a `Job`: its file, the file's ingest key, and only the settings reading and chunking need,
with only the PDF passwords whose pattern matches that file; never the whole config. Writing and the
manifest live elsewhere (write.py, records/manifest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragctl.config.model import ChunkingConfig, EmbeddingConfig, IngestionConfig, RagctlConfig
from ragctl.digests import digest
from ragctl.documents import PARSER_VERSION, UNREADABLE, Page, Unreadable, read
from ragctl.documents.clean import without_leaders
from ragctl.documents.headings import Outline
from ragctl.documents.pdf import passwords_matching
from ragctl.documents.statements import page_statement


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
    pages: int = 0  # pages that yielded text
    chunks: list[Chunk] = field(default_factory=list)
    embeddings: list[list[float]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.outcome not in ("ok", "partial")


@dataclass(frozen=True)
class Keys:
    """What decides a file's chunks, computed once per run from the config."""

    fingerprint: str  # chunking and the embedding model: the kind of vectors in a collection
    reader: str  # parser version, OCR, min_chars: the text a file yields (a change redoes every file)

    @classmethod
    def of(cls, config: RagctlConfig) -> Keys:
        # Options added later count only when set, so collections made before them keep their keys.
        chunking = config.chunking.model_dump(exclude=set() if config.chunking.tables else {"tables"})
        vectors = {"chunking": chunking, "embedding": config.embedding.identity()}
        reading: dict[str, object] = {
            "parser": PARSER_VERSION,
            "ocr": config.ingestion.pdf.ocr,
            "min_chars": config.ingestion.min_chars,
        }
        if config.ingestion.pdf.engine != "pypdf":  # so the default engine keeps the keys it always had
            reading["engine"] = config.ingestion.pdf.engine
        if config.ingestion.fallback_encodings:  # they change what a file that is not UTF-8 reads as
            reading["encodings"] = config.ingestion.fallback_encodings
        return cls(digest(vectors), digest(reading, 12))

    def ingest_key(self, sha256: str) -> str:
        """Stamped on every chunk of a file: its content, how it was read, and the kind of vectors."""
        return hashlib.sha256(f"{sha256}|{self.reader}|{self.fingerprint}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    """One file's work, as a worker receives it."""

    path: Path
    name: str
    sha256: str
    key: str
    reading: IngestionConfig  # with only this file's PDF passwords
    chunking: ChunkingConfig
    embedding: EmbeddingConfig
    refused: str = ""  # why the file is not to be read at all (see documents.discover)


def job(path: Path, name: str, sha256: str, key: str, config: RagctlConfig, refused: str = "") -> Job:
    """The job for one file (`key`: its ingest key): the settings it needs, and only its own PDF passwords."""
    ingestion = config.ingestion
    own = passwords_matching(name, ingestion.pdf.passwords)
    reading = ingestion.model_copy(update={"pdf": ingestion.pdf.model_copy(update={"passwords": own})})
    return Job(path, name, sha256, key, reading, config.chunking, config.embedding, refused)


CONTEXT_KEYS = ("title", "section", "statement")  # metadata shown with the chunk (embedded, and to the LLM)
HEADINGS_CHARS = 1000  # a page's headings kept with each of its chunks (metadata, not embedded)
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


_SPLITTERS: dict[str, Any] = {}


def _splitter(chunking: ChunkingConfig, embedding: EmbeddingConfig) -> Any:
    """One splitter per settings in a worker: building one loads the tokenizer that sizes chunks."""
    from llama_index.core.node_parser import SentenceSplitter, TokenTextSplitter

    from ragctl.components.embeddings import token_counter

    cache_key = chunking.model_dump_json() + embedding.model_dump_json()
    if cache_key not in _SPLITTERS:
        kind = SentenceSplitter if chunking.strategy == "sentence" else TokenTextSplitter
        _SPLITTERS[cache_key] = kind(
            chunk_size=chunking.chunk_size, chunk_overlap=chunking.chunk_overlap, tokenizer=token_counter(embedding)
        )
    return _SPLITTERS[cache_key]


def prepare(job: Job) -> Prepared:
    """Read, clean and chunk one file. Never raises for a bad file: the outcome says what happened."""
    from llama_index.core import Document
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    name, chunking = job.name, job.chunking
    if job.refused:
        return Prepared(name, "corrupt" if job.refused.startswith(UNREADABLE) else "unsupported", job.refused)
    try:
        doc = read(job.path, name, job.reading)
    except Unreadable as exc:
        return Prepared(name, exc.outcome, exc.reason)
    # The title (chunking.context) and the section (chunking.sections) are the metadata keys llama-index puts
    # into the embedded and LLM-shown text ("title: ...\nsection: ...\n\n<chunk>"); the splitter sizes
    # chunks with them counted, so a chunk is never cut short at embed time.
    title = doc.title[: chunking.chunk_size] if chunking.context else ""
    documents = []
    outline = Outline()
    for page in doc.pages:
        where: dict[str, Any] = {"file": name, **({"page": page.number} if page.number is not None else {})}
        if chunking.sections and page.headings:  # every heading on the page, kept out of the embedded text:
            where["headings"] = " | ".join(h for _, _, h in page.headings)[:HEADINGS_CHARS]  # what part filters read
        doc_id = f"{name}#p{page.number}" if page.number is not None else name
        spans = sections(page, outline) if chunking.sections else [(page.text, "")]
        statement = page_statement(h for _, _, h in page.headings) if chunking.tables else ""
        for number, (text, section) in enumerate(spans):
            text = without_leaders(text) if chunking.tables else text
            shown = {k: v for k, v in (("title", title), ("section", section), ("statement", statement)) if v}
            documents.append(
                Document(
                    id_=f"{doc_id}#s{number}" if number else doc_id,
                    text=text,
                    metadata={**where, **shown},
                    excluded_embed_metadata_keys=list(where),
                    excluded_llm_metadata_keys=list(where),
                )
            )
    splitter = _splitter(chunking, job.embedding)
    with contextlib.redirect_stdout(io.StringIO()):  # llama-index prints when a title nears the chunk size
        nodes = splitter.get_nodes_from_documents(documents)
    chunks = []
    # The splitter names nodes with random UUIDs and links neighbours by them; ids from the file and its key
    # make a redo overwrite instead of duplicate, and the links must name the same ids (else every ingest of
    # one file stores different metadata, pointing at chunks that do not exist).
    ids = {node.id_: hashlib.sha256(f"{name}|{job.key}|{i}".encode()).hexdigest()[:32] for i, node in enumerate(nodes)}
    for index, node in enumerate(nodes):
        node.id_ = ids[node.id_]
        for related in node.relationships.values():
            if not isinstance(related, list) and related.node_id in ids:
                related.node_id = ids[related.node_id]
        node.metadata.update(sha256=job.sha256, ingest_key=job.key, chunk_index=index, chunk_count=len(nodes))
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
    return Prepared(name, doc.outcome, doc.reason, len(doc.pages), chunks)


def embed(prepared: Prepared, model: Any, threads: Callable[[], int] | None = None) -> Prepared:
    """Add the vectors. Components may offer `embed_many` (batching, concurrency; `threads`, asked before
    each batch, the CPU threads to run it on); else llama-index's API."""
    texts = [c.embed_text for c in prepared.chunks]
    many = getattr(model, "embed_many", None)
    if many is None:
        prepared.embeddings = model.get_text_embedding_batch(texts)
    else:
        prepared.embeddings = many(texts, threads) if threads and hasattr(model, "use_threads") else many(texts)
    return prepared
