"""OCR of PDF pages without a text layer: pypdfium2 renders the page, RapidOCR (PP-OCR models shipped
inside its PyPI wheel, run by onnxruntime) reads it. Nothing is downloaded. Install with `ragctl[ocr]`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ragctl.errors import ConfigError

RENDER_SCALE = 2.0  # 144 dpi: small print stays legible without making pages huge


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        raise ConfigError(
            "ingestion.pdf.ocr is on, but the OCR extra is not installed", "pip install 'ragctl[ocr]'"
        ) from None
    return RapidOCR()


def ocr_pages(path: Path, numbers: list[int]) -> dict[int, str]:
    """1-based page number -> recognised text, for the pages asked for (those where OCR found text)."""
    import numpy as np
    import pypdfium2

    engine = _engine()
    found: dict[int, str] = {}
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        for number in numbers:
            image = pdf[number - 1].render(scale=RENDER_SCALE).to_pil().convert("RGB")
            result, _ = engine(np.asarray(image))
            lines = [text for _box, text, _score in result or []]
            if lines:
                found[number] = "\n".join(lines)
    finally:
        pdf.close()
    return found
