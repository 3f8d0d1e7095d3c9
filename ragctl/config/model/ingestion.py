"""How documents are read and chunked: ingestion (formats, limits, PDF passwords, OCR) and chunking."""

from __future__ import annotations

import codecs
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from ragctl.config.model.base import Section

Format = Literal["pdf", "txt", "md", "html", "docx"]


def _all_formats() -> list[Format]:
    return ["pdf", "txt", "md", "html", "docx"]


class PdfLimitsConfig(Section):
    """pypdf's safety limits (pypdf.Configuration). None keeps pypdf's own default."""

    # pypdf's default (100,000) refuses real SEC filings (MSFT 10-Qs need ~150,000); 1,000,000 opens them
    # and still stops a hostile array long before memory runs out.
    array_maximum_element_count: int | None = Field(default=1_000_000, ge=1)
    dictionary_maximum_element_count: int | None = Field(default=None, ge=1)
    zlib_maximum_output_length: int | None = Field(default=None, ge=1)
    stream_parsing_work_maximum_count: int | None = Field(default=None, ge=1)
    page_tree_maximum_page_entries: int | None = Field(default=None, ge=1)


class PdfConfig(Section):
    # File glob (relative path or file name) -> password; write `${ENV_VAR}`, never the password itself.
    # Masked in every dump, so it never reaches MLflow params, artifacts or `ragctl config`.
    passwords: dict[str, SecretStr] = Field(default_factory=dict)
    limits: PdfLimitsConfig = Field(default_factory=PdfLimitsConfig)
    # OCR of pages without a text layer (RapidOCR; `pip install 'ragctl[ocr]'`).
    ocr: bool = False
    # What extracts a page's text: pypdf (pure Python, its safety limits above), or PDFium through
    # pypdfium2 (`pip install 'ragctl[pdfium]'`): ~19x the pages per second on SEC filings with the same
    # words (bench/README.md); pypdf's limits do not apply to it.
    engine: Literal["pypdf", "pdfium"] = "pypdf"


class RayConfig(Section):
    """ingestion.executor: ray (`pip install 'ragctl[ray]'`): files are read and chunked by Ray tasks and
    embedded by Ray actors (the model loaded once per actor); this process writes and keeps the manifest."""

    # The cluster: "auto" (RAY_ADDRESS, else the cluster `ray start` runs on this machine), an address
    # ("10.0.0.5:6379", "ray://head:10001"), or "local" (start a Ray instance inside this process).
    address: str = "auto"
    embed_actors: int = Field(default=1, ge=1)  # actors that embed, each with its own copy of the model
    embed_cpus: float = Field(default=1.0, gt=0)  # CPUs Ray reserves per embedding actor
    retries: int = Field(default=3, ge=0)  # times Ray reruns a file whose worker died (then: outcome corrupt)


class IngestionConfig(Section):
    paths: list[str] = Field(default_factory=lambda: ["sample_docs"], min_length=1)
    formats: list[Format] = Field(default_factory=_all_formats, min_length=1)
    exclude: list[str] = Field(default_factory=list)
    # Less extracted text than this many characters counts as "empty" (e.g. a scanned PDF without OCR).
    min_chars: int = Field(default=20, ge=0)
    # Larger files are not parsed (outcome too-large).
    max_file_mb: float = Field(default=100.0, gt=0)
    # Seconds one file may take to read and chunk before its worker is stopped (outcome timeout).
    timeout: float = Field(default=300.0, gt=0)
    # Worker processes that read and chunk while the main process embeds; None: half the CPUs, at least 1.
    workers: int | None = Field(default=None, ge=1)
    # Where that work runs: worker processes on this machine, or a Ray cluster (ingestion.ray). Either way
    # the same files give the same chunks, manifest and outcomes.
    executor: Literal["local", "ray"] = "local"
    ray: RayConfig = Field(default_factory=RayConfig)
    # A symbolic link whose target lies outside the folder it was found in is not read (outcome
    # unsupported) unless this is on: a link must not pull in files from elsewhere on the machine.
    follow_symlinks: bool = False
    pdf: PdfConfig = Field(default_factory=PdfConfig)
    # Text and Markdown files are read as UTF-8 (or by their byte-order mark); a file that is not valid
    # UTF-8 is decoded with the first of these that fits, in order, e.g. [cp1252]. latin-1 decodes any
    # bytes, so nothing after it is tried. Empty: such files are refused (outcome unsupported). Like
    # pdf.ocr and pdf.engine, a change re-reads every file.
    fallback_encodings: list[str] = Field(default_factory=list)

    @field_validator("paths", "formats", "exclude", "fallback_encodings", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: object) -> object:
        """`paths: docs` means `paths: [docs]`: YAML gives a lone item as a string, and no folder or
        glob is a list of its characters."""
        return [value] if isinstance(value, str) else value

    @field_validator("fallback_encodings")
    @classmethod
    def _known_encodings(cls, names: list[str]) -> list[str]:
        for name in names:
            try:
                codecs.lookup(name)
            except LookupError:
                raise ValueError(f"{name!r} is not an encoding Python knows (e.g. cp1252, latin-1)") from None
        return names


class ChunkingConfig(Section):
    strategy: Literal["sentence", "token"] = "sentence"
    # Measured in tokens of the embedding model's own tokenizer, so a chunk is never truncated at embed time.
    chunk_size: int = Field(default=200, ge=16)
    chunk_overlap: int = Field(default=20, ge=0)
    # Prefix every chunk's embedded (and LLM-shown) text with its document's title: file name, PDF/HTML/DOCX
    # title, subject, the entity on an SEC filing's cover. A chunk then knows which report it comes from.
    context: bool = True
    # Cut pages at their section headings and carry the heading path ("Note 7 – Benefit Plans > Restricted
    # Stock Units") into every chunk's embedded and LLM-shown text, as `section: ...` after the title.
    # Headings come from the lines of the extracted text (documents/headings.py).
    sections: bool = False
    # Financial tables as text a retriever can use: the dot leaders between a row's label and its values go
    # (each dot costs a token of the chunk's budget), and the statement a page holds (its heading: "CONSOLIDATED
    # BALANCE SHEETS") is carried into every chunk of the page as `statement: ...`, so a row of numbers says
    # which statement it belongs to (documents/statements.py).
    tables: bool = False

    @model_validator(mode="after")
    def _overlap_smaller(self) -> ChunkingConfig:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self
