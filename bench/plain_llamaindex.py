"""The pipeline a user writes by hand: SimpleDirectoryReader -> IngestionPipeline(SentenceSplitter, same
MiniLM) -> ChromaVectorStore. pypdf gets the same raised array limit as ragctl, so both read the same files.

PDFs are read one Document per page, as llama-index-readers-file's PDFReader does; that package is not
installed here (it pins pypdf < 7, ragctl needs 7), and without it SimpleDirectoryReader silently reads a
PDF's raw bytes as text: ~60,000 garbage chunks from the 20 sec10q filings, embedded for 40+ minutes.
Usage: python bench/plain_llamaindex.py DOCS CHROMA_DIR"""

from __future__ import annotations

import sys
import time

from pypdf import overwrite_configuration

from ragctl.env import apply_offline_defaults


def _page_reader():  # type: ignore[no-untyped-def]
    from llama_index.core import Document
    from llama_index.core.readers.base import BaseReader
    from pypdf import PdfReader

    class PagePdfReader(BaseReader):
        """llama-index-readers-file's PDFReader, in short: a Document per page, with page_label and file_name.
        The bench adds the physical page number (what page-labelled QA sets count), kept out of the embedded
        and LLM-shown text so the vectors are PDFReader's."""

        def load_data(self, file, extra_info=None, **kwargs):  # type: ignore[no-untyped-def]
            reader = PdfReader(file)
            return [
                Document(
                    text=page.extract_text() or "",
                    metadata={
                        "page_label": reader.page_labels[i],
                        "file_name": file.name,
                        **(extra_info or {}),
                        "page": i + 1,
                    },
                    excluded_embed_metadata_keys=["page"],
                    excluded_llm_metadata_keys=["page"],
                )
                for i, page in enumerate(reader.pages)
            ]

    return PagePdfReader


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

    PagePdfReader = _page_reader()
    config = EmbeddingConfig()
    started = time.perf_counter()
    documents = SimpleDirectoryReader(docs, file_extractor={".pdf": PagePdfReader()}).load_data()
    collection = chromadb.PersistentClient(chroma_dir).get_or_create_collection("plain")
    pipeline = IngestionPipeline(
        transformations=[
            SentenceSplitter(chunk_size=200, chunk_overlap=20, tokenizer=token_counter(config)),
            onnx_minilm(config),
        ],
    )
    nodes = pipeline.run(documents=documents)
    # ChromaVectorStore.add hands Chroma every node in one call, which Chroma refuses above its max batch
    # size (5,461 here): the 41 financebench filings (37,441 chunks) failed after 30 minutes of embedding.
    # A user learns to add in batches, as this does.
    store = ChromaVectorStore(chroma_collection=collection)
    for start in range(0, len(nodes), 5000):
        store.add(nodes[start : start + 5000])
    print(f"{len(nodes)} {time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
