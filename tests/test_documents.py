from __future__ import annotations

from pathlib import Path

import pytest

from ragctl.config.model import IngestionConfig
from ragctl.documents import Page, UnreadableFile, clean, discover, read_pages, strip_running_lines
from ragctl.errors import DataError
from tests import pdfs

SAMPLE = Path(__file__).resolve().parent.parent / "sample_docs"


def test_pdf_pages_are_numbered_from_one_and_footers_removed() -> None:
    pages = read_pages(SAMPLE / "normans.pdf", min_chars=20)
    assert [p.number for p in pages] == [1, 2, 3, 4, 5, 6]
    assert "Rollo" in pages[0].text
    assert not any("The Normans - page" in p.text for p in pages)


def test_text_file_is_one_page_without_number() -> None:
    (page,) = read_pages(SAMPLE / "normans_crusades_and_arts.txt", min_chars=20)
    assert page.number is None and "Conrad of Montferrat" in page.text


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (pdfs.encrypted, "encrypted PDF"),
        (pdfs.corrupt, "PDF"),
        (pdfs.not_a_pdf, "PDF"),
        (pdfs.blank, "no extractable text"),
    ],
)
def test_hostile_pdfs_raise_a_one_line_reason(tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "bad.pdf")
    with pytest.raises(UnreadableFile) as err:
        read_pages(path, min_chars=20)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_pdf_encrypted_with_empty_user_password_is_read(tmp_path: Path) -> None:
    path = pdfs.encrypted(tmp_path / "open.pdf", password="")
    assert len(read_pages(path, min_chars=20)) == 6


def test_clean_joins_wraps_and_hyphenation() -> None:
    assert clean("Hello wor-\nld  and\nmore\n\n\n\nNew para\x00") == "Hello world and more\n\nNew para"


def test_strip_running_lines_needs_a_repeat() -> None:
    pages = [Page(i, f"Report 2024 - page {i}\nbody {i} text\nmore") for i in range(1, 5)]
    assert all("Report" not in p.text for p in strip_running_lines(pages))
    short = [Page(1, "Header\nbody"), Page(2, "Header\nbody")]
    assert strip_running_lines(short) == short


def test_discover_folders_globs_formats_and_excludes(project: Path) -> None:
    (project / "sample_docs" / "nested").mkdir()
    (project / "sample_docs" / "nested" / "notes.md").write_text("# Notes\n\nSome notes.\n")
    names = [f.name for f in discover(IngestionConfig(paths=["sample_docs"], exclude=["README.md"]))]
    assert names == ["complexity_theory.pdf", "nested/notes.md", "normans.pdf", "normans_crusades_and_arts.txt"]
    only_pdf = discover(IngestionConfig(paths=["sample_docs/*.pdf"], formats=["pdf"]))
    assert [f.name for f in only_pdf] == ["complexity_theory.pdf", "normans.pdf"]


def test_discover_missing_path_is_a_data_error(project: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        discover(IngestionConfig(paths=["nowhere"]))
