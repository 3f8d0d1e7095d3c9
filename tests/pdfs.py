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
