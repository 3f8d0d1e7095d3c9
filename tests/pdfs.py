"""Hostile PDFs made with pypdf from the real sample PDFs: encrypted, corrupt, image-less/blank."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter

SOURCE = Path(__file__).resolve().parent.parent / "sample_docs" / "normans.pdf"


def encrypted(path: Path, password: str = "s3cret") -> Path:
    writer = PdfWriter(clone_from=PdfReader(SOURCE))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-256")
    writer.write(path)
    return path


def corrupt(path: Path) -> Path:
    data = SOURCE.read_bytes()
    path.write_bytes(data[:1200] + b"\x00garbage" * 50)  # header and a little body, no xref, no trailer
    return path


def not_a_pdf(path: Path) -> Path:
    path.write_text("this is not a PDF at all\n")
    return path


def blank(path: Path, pages: int = 2) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.write(path)
    return path


def with_blank_pages(path: Path, blanks: int = 2) -> Path:
    """The real sample PDF plus pages that have no text layer: a partial read."""
    writer = PdfWriter(clone_from=PdfReader(SOURCE))
    for _ in range(blanks):
        writer.add_blank_page(width=595, height=842)
    writer.write(path)
    return path


def scanned(path: Path, pages: int = 1) -> Path:
    """An image-only PDF: the first pages of the real sample PDF rendered to pictures, no text layer."""
    import pypdfium2

    source = pypdfium2.PdfDocument(str(SOURCE))
    images = [source[i].render(scale=2.0).to_pil().convert("RGB") for i in range(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=144)
    return path
