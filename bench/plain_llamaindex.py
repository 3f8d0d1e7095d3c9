"""The pipeline a user writes by hand: SimpleDirectoryReader -> IngestionPipeline(SentenceSplitter, same
MiniLM) -> ChromaVectorStore. pypdf gets the same raised array limit as ragctl, so both read the same files.
Usage: python bench/plain_llamaindex.py DOCS CHROMA_DIR"""

from __future__ import annotations

import sys
import time

from pypdf import overwrite_configuration

from ragctl.env import apply_offline_defaults


def main(docs: str, chroma_dir: str) -> None:
    apply_offline_defaults()
    overwrite_configuration(array_maximum_element_count=1_000_000)
    import chromadb
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from ragctl.components.embeddings import onnx_minilm, token_counter
    from ragctl.config.model import EmbeddingConfig

    config = EmbeddingConfig()
    started = time.perf_counter()
    documents = SimpleDirectoryReader(docs).load_data()
    collection = chromadb.PersistentClient(chroma_dir).get_or_create_collection("plain")
    pipeline = IngestionPipeline(
        transformations=[
            SentenceSplitter(chunk_size=200, chunk_overlap=20, tokenizer=token_counter(config)),
            onnx_minilm(config),
        ],
        vector_store=ChromaVectorStore(chroma_collection=collection),
    )
    nodes = pipeline.run(documents=documents)
    print(f"{len(nodes)} {time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
