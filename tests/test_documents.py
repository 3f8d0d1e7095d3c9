"""Reading files: PDFs (limits, passwords, partial and scanned pages), text, HTML, DOCX, and outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragctl.config.model import IngestionConfig
from ragctl.documents import Unreadable, discover, read
from ragctl.documents.clean import clean, strip_running_lines
from ragctl.errors import DataError
from tests import pdfs

SAMPLE = Path(__file__).resolve().parent.parent / "sample_docs"
DATA = Path(__file__).resolve().parent / "data"


def cfg(**values: object) -> IngestionConfig:
    return IngestionConfig.model_validate(values)


def test_pdf_pages_are_numbered_from_one_and_footers_removed() -> None:
    doc = read(SAMPLE / "normans.pdf", "normans.pdf", cfg())
    assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5, 6]
    assert doc.outcome == "ok" and doc.pages_total == 6
    assert "Rollo" in doc.pages[0].text
    assert not any("The Normans - page" in p.text for p in doc.pages)


def test_text_file_is_one_page_without_number() -> None:
    (page,) = read(SAMPLE / "normans_crusades_and_arts.txt", "x.txt", cfg()).pages
    assert page.number is None and "Conrad of Montferrat" in page.text


@pytest.mark.slow
def test_real_sec_filing_opens_with_the_default_limits_only() -> None:
    filing = DATA / "sec10q" / "2023 Q1 MSFT.pdf"
    with pytest.raises(Unreadable) as err:
        read(filing, filing.name, cfg(pdf={"limits": {"array_maximum_element_count": 100_000}}))  # pypdf's default
    assert err.value.outcome == "too-large" and "ingestion.pdf.limits" in err.value.reason
    doc = read(filing, filing.name, cfg())
    assert doc.outcome == "ok" and doc.pages_total == 72
    assert any("Microsoft" in p.text for p in doc.pages)


@pytest.mark.parametrize(
    ("make", "outcome", "reason"),
    [
        (pdfs.encrypted, "encrypted", "no password configured"),
        (pdfs.corrupt, "corrupt", "PDF"),
        (pdfs.not_a_pdf, "corrupt", "PDF"),
        (pdfs.blank, "empty", "none of 2 pages has a text layer"),
    ],
)
@pytest.mark.parametrize("engine", ["pypdf", "pdfium"])
def test_hostile_pdfs_have_an_outcome_and_a_one_line_reason(  # type: ignore[no-untyped-def]
    tmp_path: Path, make, outcome: str, reason: str, engine: str
) -> None:
    path = make(tmp_path / "bad.pdf")
    with pytest.raises(Unreadable) as err:
        read(path, "bad.pdf", cfg(pdf={"engine": engine}))
    assert err.value.outcome == outcome
    assert reason in err.value.reason and "\n" not in err.value.reason


def test_passwords_by_glob_right_wrong_and_empty(tmp_path: Path) -> None:
    path = pdfs.encrypted(tmp_path / "locked.pdf", password="s3cret")
    doc = read(path, "vault/locked.pdf", cfg(pdf={"passwords": {"other.pdf": "nope", "vault/*.pdf": "s3cret"}}))
    assert len(doc.pages) == 6
    with pytest.raises(Unreadable) as err:
        read(path, "vault/locked.pdf", cfg(pdf={"passwords": {"locked.pdf": "wrong"}}))
    assert err.value.outcome == "wrong-password" and "wrong" not in err.value.reason
    opened = pdfs.encrypted(tmp_path / "open.pdf", password="")
    assert len(read(opened, "open.pdf", cfg()).pages) == 6


def test_passwords_are_masked_in_every_dump() -> None:
    config = cfg(pdf={"passwords": {"*.pdf": "hunter2-secret"}})
    assert "hunter2-secret" not in config.model_dump_json() and "hunter2-secret" not in str(config.model_dump())


def test_pages_without_text_make_a_partial_file(tmp_path: Path) -> None:
    doc = read(pdfs.with_blank_pages(tmp_path / "mixed.pdf", blanks=2), "mixed.pdf", cfg())
    assert doc.outcome == "partial" and len(doc.pages) == 6
    assert doc.reason == "2 of 8 pages have no text layer"


def test_too_large_and_unsupported(tmp_path: Path) -> None:
    with pytest.raises(Unreadable) as err:
        read(SAMPLE / "normans.pdf", "normans.pdf", cfg(max_file_mb=0.001))
    assert err.value.outcome == "too-large" and "max_file_mb" in err.value.reason
    odd = tmp_path / "data.xlsx"
    odd.write_bytes(b"PK\x03\x04")
    with pytest.raises(Unreadable) as err:
        read(odd, "data.xlsx", cfg())
    assert err.value.outcome == "unsupported"


def test_text_is_read_by_its_mark_else_utf8_else_the_configured_fallbacks_in_order(tmp_path: Path) -> None:
    def text(name: str, data: bytes, **values: object) -> str:
        (tmp_path / name).write_bytes(data)
        return read(tmp_path / name, name, cfg(**values)).pages[0].text

    windows = "Café naïve “quoted” résumé of the Normans, who settled in Normandy.".encode("cp1252")
    with pytest.raises(Unreadable) as err:
        text("legacy.txt", windows)
    assert err.value.outcome == "unsupported" and "ingestion.fallback_encodings (e.g. [cp1252])" in err.value.reason
    assert text("legacy.txt", windows, fallback_encodings=["cp1252"]).startswith("Café naïve “quoted”")
    # in order: cp1252 first reads 0x93 as a quote, latin-1 first as a control character
    assert "“quoted”" not in text("legacy.txt", windows, fallback_encodings=["latin-1", "cp1252"])
    with pytest.raises(Unreadable) as err:  # 0x81 is in no cp1252 character
        text("legacy.txt", b"Caf\x81 and more text", fallback_encodings=["cp1252"])
    assert err.value.reason == "not UTF-8 or cp1252 text"
    notepad = "Unicode from Notepad, long enough to count.".encode("utf-16")  # with its byte-order mark
    assert text("notepad.txt", notepad) == "Unicode from Notepad, long enough to count."
    (tmp_path / "marked.md").write_bytes("\ufeff# The title\n\nText under the title, long enough.".encode())
    doc = read(tmp_path / "marked.md", "marked.md", cfg())
    assert doc.title == "marked | The title" and not doc.pages[0].text.startswith("\ufeff"), "the mark is not text"
    with pytest.raises(Unreadable) as err:
        text("broken.txt", b"\xff\xfeA\x00\xff", fallback_encodings=["latin-1"])
    assert err.value.reason == "not valid UTF-16 text, though it begins with its byte-order mark"


def test_an_image_inlined_as_base64_in_markdown_leaves_only_its_alt_text(tmp_path: Path) -> None:
    import base64
    import os

    png = base64.b64encode(os.urandom(750_000)).decode()  # a 1 MB inline image, as editors export them
    page = (
        f"# Sales\n\nQ3 grew 12%. ![Q3 sales chart](data:image/png;base64,{png}) Details [here](https://x.example).\n"
    )
    (tmp_path / "report.md").write_text(page)
    (text,) = [p.text for p in read(tmp_path / "report.md", "report.md", cfg()).pages]
    assert text == "# Sales\n\nQ3 grew 12%. Q3 sales chart Details [here](https://x.example)."


def test_html_keeps_content_and_drops_scripts_and_navigation(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Normandy</title><style>p{color:red}</style></head><body>"
        "<nav>Home | About</nav><h1>The Duchy</h1><p>Rollo founded the duchy\nin 911.</p>"
        "<script>var tracking = 1;</script><p>It became a fief of France.</p></body></html>",
        encoding="utf-8",
    )
    (doc_page,) = read(page, "page.html", cfg()).pages
    assert "Rollo founded the duchy in 911." in doc_page.text and "fief of France" in doc_page.text
    assert doc_page.text.startswith("Normandy")
    assert "tracking" not in doc_page.text and "Home | About" not in doc_page.text and "color" not in doc_page.text


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Norman rulers", level=1)
    document.add_paragraph("Rollo was the first ruler of Normandy.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Ruler", "Reign"
    table.cell(1, 0).text, table.cell(1, 1).text = "Richard I", "942-996"
    document.save(str(tmp_path / "rulers.docx"))
    (page,) = read(tmp_path / "rulers.docx", "rulers.docx", cfg()).pages
    assert "Rollo was the first ruler" in page.text and "Richard I | 942-996" in page.text
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(Unreadable) as err:
        read(broken, "broken.docx", cfg())
    assert err.value.outcome == "corrupt"


@pytest.mark.slow
def test_scanned_pages_are_counted_without_ocr_and_read_with_it(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr_onnxruntime", reason="the ocr extra is not installed")
    scan = pdfs.scanned(tmp_path / "scan.pdf", pages=1)
    with pytest.raises(Unreadable) as err:
        read(scan, "scan.pdf", cfg())
    assert err.value.outcome == "empty" and "none of 1 pages has a text layer" in err.value.reason
    doc = read(scan, "scan.pdf", cfg(pdf={"ocr": True}))
    assert doc.outcome == "ok" and "OCR read 1 page(s)" in doc.reason
    assert "Normans" in doc.pages[0].text and "Normandy" in doc.pages[0].text


def test_clean_joins_wraps_and_hyphenation() -> None:
    assert clean("Hello wor-\nld  and\nmore\n\n\n\nNew para\x00") == "Hello world and more\n\nNew para"


def test_strip_running_lines_needs_a_repeat() -> None:
    pages = [f"Report 2024 - page {i}\nbody {i} text\nmore" for i in range(1, 5)]
    assert all("Report" not in p for p in strip_running_lines(pages))
    short = ["Header\nbody", "Header\nbody"]
    assert strip_running_lines(short) == short


def test_discover_folders_globs_formats_and_excludes(project: Path) -> None:
    (project / "sample_docs" / "nested").mkdir()
    (project / "sample_docs" / "nested" / "notes.md").write_text("# Notes\n\nSome notes.\n")
    (project / "sample_docs" / "page.html").write_text("<p>hi</p>")
    names = [f.name for f in discover(IngestionConfig(paths=["sample_docs"], exclude=["README.md"]))]
    assert names == [
        "complexity_theory.pdf",
        "nested/notes.md",
        "normans.pdf",
        "normans_crusades_and_arts.txt",
        "page.html",
    ]
    only_pdf = discover(IngestionConfig(paths=["sample_docs/*.pdf"], formats=["pdf"]))
    assert [f.name for f in only_pdf] == ["complexity_theory.pdf", "normans.pdf"]
    (project / "sample_docs" / "sheet.xlsx").write_bytes(b"x")
    explicit = discover(IngestionConfig(paths=["sample_docs/sheet.xlsx"]))
    assert [f.name for f in explicit] == ["sheet.xlsx"], "a file named explicitly is kept, to be reported"


def test_discover_missing_path_is_a_data_error(project: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        discover(IngestionConfig(paths=["nowhere"]))


@pytest.mark.slow
def test_pdfium_reads_the_same_pages_and_words_and_takes_the_same_passwords(tmp_path: Path) -> None:
    import re

    def words(doc) -> list[set[str]]:  # type: ignore[no-untyped-def]
        return [set(re.findall(r"\w+", p.text.lower())) for p in doc.pages]

    for path in (SAMPLE / "normans.pdf", SAMPLE / "complexity_theory.pdf", DATA / "sec10q" / "2023 Q1 MSFT.pdf"):
        pypdf, pdfium = (read(path, path.name, cfg(pdf={"engine": e})) for e in ("pypdf", "pdfium"))
        assert [p.number for p in pdfium.pages] == [p.number for p in pypdf.pages] and pdfium.outcome == "ok"
        same = [len(a & b) / len(a | b) for a, b in zip(words(pypdf), words(pdfium)) if a | b]
        assert min(same) > 0.9, (path.name, min(same))
        assert pdfium.title == pypdf.title
    assert not any("\r" in p.text for p in pdfium.pages)
    locked = pdfs.encrypted(tmp_path / "locked.pdf", password="s3cret")
    engine = {"engine": "pdfium"}
    doc = read(
        locked, "vault/locked.pdf", cfg(pdf={**engine, "passwords": {"other.pdf": "no", "vault/*.pdf": "s3cret"}})
    )
    assert len(doc.pages) == 6
    with pytest.raises(Unreadable) as err:
        read(locked, "vault/locked.pdf", cfg(pdf={**engine, "passwords": {"locked.pdf": "wrong"}}))
    assert err.value.outcome == "wrong-password"
    assert len(read(pdfs.encrypted(tmp_path / "open.pdf", password=""), "open.pdf", cfg(pdf=engine)).pages) == 6
