"""ingest: documents -> clean -> chunk -> embed -> Chroma, incrementally and idempotently.

Each chunk carries its file's sha256 and an `ingest_key` (file hash + chunking + embedding settings) and
gets an id derived from them, so a re-run skips unchanged files, replaces changed ones, prunes removed
ones, and never duplicates. A file whose chunks are incomplete (an interrupted run) is redone.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.documents import PIPELINE_VERSION, SourceFile, UnreadableFile, discover, read_pages, sha256
from ragctl.errors import ConfigError
from ragctl.stages import StageContext

EMBEDDING_KEY = "ragctl.embedding"


@dataclass
class FileReport:
    file: str
    status: str  # added | changed | unchanged | failed | removed
    sha256: str = ""
    pages: int = 0
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestResult:
    run_id: str
    experiment_id: str
    collection: str
    files: list[FileReport] = field(default_factory=list)
    chunks_total: int = 0
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


def run(config: RagctlConfig, ctx: StageContext) -> IngestResult:
    from ragctl import tracking

    files = discover(config.ingestion)
    started = time.perf_counter()
    with tracking.stage_run(config, "ingest", {"ragctl.collection": config.vector_store.collection}) as active:
        collection, embed, splitter = _open(config)
        existing = _existing_files(collection)
        reports: list[FileReport] = []
        with ctx.reporter.task("Ingesting", total=len(files)) as advance:
            for source in files:
                advance(0, source.name)
                report = _ingest_file(source, config, existing.get(source.name), collection, embed, splitter)
                if report.status == "failed":
                    ctx.reporter.note(f"skipped {report.file}: {report.reason}")
                reports.append(report)
                advance(1)
        reports += _prune(collection, existing, {f.name for f in files})
        result = IngestResult(
            run_id=active.info.run_id,
            experiment_id=active.info.experiment_id,
            collection=config.vector_store.collection,
            files=reports,
            chunks_total=collection.count(),
            seconds=time.perf_counter() - started,
        )
        _log(result, config)
    return result


def _open(config: RagctlConfig) -> tuple[Any, Any, Any]:
    from ragctl.components import create
    from ragctl.components.vector_stores import open_collection

    embed = create("embedding", config.embedding)
    wanted = f"{config.embedding.type}/{config.embedding.model}"
    collection = open_collection(config.vector_store, create=True, metadata={EMBEDDING_KEY: wanted})
    have = (collection.metadata or {}).get(EMBEDDING_KEY)
    if have != wanted:
        raise ConfigError(
            f"collection '{collection.name}' holds {have} vectors, but the config embeds with {wanted}",
            "use another vector_store.collection, or delete the collection",
        )
    return collection, embed, _splitter(config, embed)


def _splitter(config: RagctlConfig, embed: Any) -> Any:
    from llama_index.core.node_parser import SentenceSplitter, TokenTextSplitter

    kind = SentenceSplitter if config.chunking.strategy == "sentence" else TokenTextSplitter
    return kind(
        chunk_size=config.chunking.chunk_size,
        chunk_overlap=config.chunking.chunk_overlap,
        tokenizer=embed.count_tokens,
    )


def _existing_files(collection: Any) -> dict[str, dict[str, Any]]:
    """file -> {ingest_key, chunk_count, present} for what the collection already holds."""
    found: dict[str, dict[str, Any]] = {}
    for meta in collection.get(include=["metadatas"])["metadatas"] or []:
        entry = found.setdefault(meta["file"], {"keys": set(), "chunk_count": meta.get("chunk_count"), "present": 0})
        entry["keys"].add(meta.get("ingest_key"))
        entry["present"] += 1
    return found


def _ingest_key(digest: str, config: RagctlConfig) -> str:
    settings = {
        "sha256": digest,
        "pipeline": PIPELINE_VERSION,
        "chunking": config.chunking.model_dump(),
        "embedding": config.embedding.model_dump(exclude={"batch_size"}),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def _ingest_file(
    source: SourceFile, config: RagctlConfig, before: dict | None, collection: Any, embed: Any, splitter: Any
) -> FileReport:
    digest = sha256(source.path)
    key = _ingest_key(digest, config)
    if before and before["keys"] == {key} and before["present"] == before["chunk_count"]:
        return FileReport(source.name, "unchanged", digest, chunks=before["present"])
    report = FileReport(source.name, "changed" if before else "added", digest)
    try:
        pages = read_pages(source.path, config.ingestion.min_chars)
    except UnreadableFile as exc:
        report.status, report.reason = "failed", str(exc)
        return report
    nodes = _chunk(source.name, digest, key, pages, splitter)
    embeddings = embed.get_text_embedding_batch([n.get_content() for n in nodes])
    for node, vector in zip(nodes, embeddings):
        node.embedding = vector
    _replace(collection, source.name, nodes)
    report.pages, report.chunks = len(pages), len(nodes)
    return report


def _chunk(name: str, digest: str, key: str, pages: list, splitter: Any) -> list[Any]:
    from llama_index.core import Document

    documents = []
    for page in pages:
        meta: dict[str, Any] = {"file": name}
        if page.number is not None:
            meta["page"] = page.number
        doc_id = f"{name}#p{page.number}" if page.number is not None else name
        documents.append(Document(id_=doc_id, text=page.text, metadata=meta))
    nodes = splitter.get_nodes_from_documents(documents)
    for index, node in enumerate(nodes):
        node.id_ = hashlib.sha256(f"{name}|{key}|{index}".encode()).hexdigest()[:32]
        node.metadata.update(sha256=digest, ingest_key=key, chunk_index=index, chunk_count=len(nodes))
        node.excluded_embed_metadata_keys = list(node.metadata)
        node.excluded_llm_metadata_keys = list(node.metadata)
    return nodes


def _replace(collection: Any, name: str, nodes: list[Any]) -> None:
    """Delete the file's old chunks, then write the new ones (ids are deterministic: re-runs never duplicate)."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    collection.delete(where={"file": name})
    ChromaVectorStore(chroma_collection=collection).add(nodes)


def _prune(collection: Any, existing: dict[str, dict], current: set[str]) -> list[FileReport]:
    removed = []
    for name in sorted(set(existing) - current):
        collection.delete(where={"file": name})
        removed.append(FileReport(name, "removed", chunks=existing[name]["present"]))
    return removed


def _log(result: IngestResult, config: RagctlConfig) -> None:
    import mlflow
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    manifest = [asdict(f) for f in result.files]
    ingested = [f for f in result.files if f.status in ("added", "changed")]
    chunks_new = sum(f.chunks for f in ingested)
    mlflow.log_metrics(
        {
            "files_total": sum(1 for f in result.files if f.status != "removed"),
            "files_added": result.count("added"),
            "files_changed": result.count("changed"),
            "files_unchanged": result.count("unchanged"),
            "files_failed": result.count("failed"),
            "files_removed": result.count("removed"),
            "pages": sum(f.pages for f in ingested),
            "chunks_written": chunks_new,
            "chunks_total": result.chunks_total,
            "seconds": result.seconds,
            "chunks_per_second": chunks_new / result.seconds if result.seconds else 0.0,
        }
    )
    mlflow.log_dict({"collection": result.collection, "files": manifest}, "manifest.json")
    failures = [f"{f.file}: {f.reason}" for f in result.files if f.status == "failed"]
    if failures:
        mlflow.log_text("\n".join(failures) + "\n", "failures.txt")
    frame = pd.DataFrame(manifest)
    dataset = from_pandas(frame, source=",".join(config.ingestion.paths), name=result.collection)
    mlflow.log_input(dataset, context="corpus")
