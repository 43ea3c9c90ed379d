"""A folder of documents as a corpus: ``.txt``, ``.md``, ``.html`` and ``.pdf`` files, at any depth.

- A document's id is its path relative to the folder (``guides/setup.md``), so ids stay stable
  across runs and machines whatever order the file system lists them in.
- The title is the first Markdown heading, the HTML ``<title>`` (else the first ``<h1>``), the PDF's
  metadata title, or else the file name without its suffix (``setup-guide`` -> ``setup guide``).
- HTML is reduced to its main content by trafilatura (navigation, sidebars and footers left out;
  BeautifulSoup's visible text when trafilatura finds none); PDF text is extracted by pypdf, page by
  page. Line and paragraph breaks are kept (one block per line), so later stages can cut at them
  (``synthir.preparation.passages``) and find lines repeated across a folder (``synthir.preparation``).
- Hidden files and folders are ignored; files of other kinds are skipped, counted in
  ``stats.skipped_files`` and named in a warning (a folder of only those is an error).
- Links are not followed out of the folder: a link that leaves it (``notes -> /etc/passwd``), a
  broken or looping link, and a link to a folder (its files are read where they are) are skipped,
  counted in ``stats.skipped_links`` and named in a warning; a link to a file inside the folder is read.
- A file that cannot be read as what its suffix says (not UTF-8, a broken or encrypted PDF, no read
  permission) raises :class:`DataFormatError` naming it; with ``on_bad_line="skip"`` it is skipped
  and counted instead.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from synthir.data.errors import DataFormatError
from synthir.data.io import check_policy, decode_utf8
from synthir.data.records import Corpus, Document, ReadStats

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".text")
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
DOCUMENT_SUFFIXES = TEXT_SUFFIXES + MARKDOWN_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_SETEXT = re.compile(r"^(\S.*)\n(=+|-+)\s*$", re.M)


def looks_like_document_folder(folder: Path) -> bool:
    return any(p.suffix.lower() in DOCUMENT_SUFFIXES for p in _visible_files(folder)[0])


def read_document_folder(folder: str | Path, name: str | None = None, on_bad_line: str = "raise",
                         into: str | Path | None = None) -> Corpus:
    """Every supported file under ``folder`` as one document (see the module docstring). ``into``: an
    Arrow file the documents are written to as they are read (``synthir.data.building.documents_into``)."""
    from synthir.data.building import documents_into, finish_corpus

    check_policy(on_bad_line)
    folder = Path(folder)
    stats = ReadStats()
    skipped: list[str] = []
    empty: list[str] = []
    files, links = _visible_files(folder)
    stats.skipped_links = len(links)
    if links:
        logger.warning("%s: skipped %d link(s) not followed (out of the folder, broken, looping, or to a folder): %s%s",
                       folder, len(links), links[:10], " ..." if len(links) > 10 else "")
    with documents_into(into) as documents:
        for path in files:
            doc_id = path.relative_to(folder).as_posix()
            if path.suffix.lower() not in DOCUMENT_SUFFIXES:
                skipped.append(doc_id)
                continue
            stats.lines += 1
            try:
                title, text = read_document(path, stats)
            except DataFormatError as err:
                if on_bad_line != "skip":
                    raise
                stats.skipped_bad_lines += 1
                logger.warning("skipped: %s", err)
                continue
            if not text and not title:
                stats.empty_texts += 1
                empty.append(doc_id)
            documents[doc_id] = Document(doc_id=doc_id, title=title or _title_from_name(path), text=text)
        stats.skipped_files = len(skipped)
        if skipped:
            logger.warning("%s: skipped %d file(s) that are not %s: %s%s", folder, len(skipped), "/".join(DOCUMENT_SUFFIXES),
                           skipped[:10], " ..." if len(skipped) > 10 else "")
        if stats.main_content_chars_removed:
            logger.info("%s: main content kept of %d HTML page(s); %d characters of navigation and boilerplate left out",
                        folder, stats.html_pages, stats.main_content_chars_removed)
        if not documents:
            found = f"; found only {len(skipped)} other file(s), e.g. {skipped[:3]}" if skipped else ""
            raise DataFormatError(folder, None, f"no documents: expected {', '.join(DOCUMENT_SUFFIXES)} files "
                                                f"(or a BEIR corpus.jsonl){found}")
        return finish_corpus(documents, stats, folder, name or folder.name, empty=empty)


def read_document(path: Path, stats: ReadStats | None = None) -> tuple[str, str]:
    """(title, text) of one file; the title is empty when the file names none. ``stats`` counts
    what main-content extraction left out of HTML pages."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return _read_pdf(path)
    content = _read_utf8(path)
    if suffix in HTML_SUFFIXES:
        return _read_html(content, stats)
    if suffix in MARKDOWN_SUFFIXES:
        return _read_markdown(content)
    return "", _normalise(content)


def _visible_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The visible files under ``folder``, sorted, never through a link that leaves it, and the links
    skipped (``"name -> why"``)."""
    import os

    root = folder.resolve()
    files: list[Path] = []
    links: list[str] = []
    for top, dirs, names in os.walk(folder):  # does not descend into linked folders
        base = Path(top)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for entry in [*(d for d in dirs if (base / d).is_symlink()), *(n for n in names if not n.startswith("."))]:
            path = base / entry
            if not path.is_symlink():
                files.append(path)
                continue
            name = path.relative_to(folder).as_posix()
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # broken, or a loop
                links.append(f"{name} -> broken or looping link")
                continue
            if not target.is_relative_to(root):
                links.append(f"{name} -> {target} (outside the folder)")
            elif target.is_dir():
                links.append(f"{name} -> a folder (its files are read where they are)")
            else:
                files.append(path)
    return sorted(files), sorted(links)


def _read_utf8(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:  # no read permission, a file removed meanwhile, ...
        raise DataFormatError(path, None, f"cannot be read ({err.strerror or err}); fix its permissions or remove "
                                          "it (on_bad_line: skip skips it)") from None
    if b"\x00" in data[:8192]:
        raise DataFormatError(path, None, f"a binary file, not {path.suffix} text; remove it or give it its real suffix")
    return decode_utf8(path, data)


def _read_markdown(content: str) -> tuple[str, str]:
    heading = _HEADING.search(content) or _SETEXT.search(content)
    title = heading.group(1).strip() if heading else ""
    if heading:
        content = content[: heading.start()] + content[heading.end():]
    return title, _normalise(content)


def _read_html(content: str, stats: ReadStats | None = None) -> tuple[str, str]:
    import trafilatura
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for hidden in soup(["head", "title", "script", "style", "noscript", "template"]):
        hidden.decompose()
    if not title and soup.h1 is not None:
        title = soup.h1.get_text(" ", strip=True)
    visible = _normalise(soup.get_text("\n"))
    main = _normalise(trafilatura.extract(content, include_tables=True, include_comments=False) or "")
    if stats is not None:
        stats.html_pages += 1
        stats.main_content_chars_removed += max(0, len(visible) - len(main)) if main else 0
    return title, main or visible


def _read_pdf(path: Path) -> tuple[str, str]:
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted:
            raise DataFormatError(path, None, "an encrypted PDF; decrypt it first (e.g. `qpdf --decrypt`)")
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
        title = (reader.metadata.title or "") if reader.metadata else ""
    except DataFormatError:
        raise
    except Exception as err:  # pypdf raises PdfReadError, ValueError, KeyError, ... for a broken file
        raise DataFormatError(path, None, f"an unreadable PDF ({type(err).__name__}: {err})") from None
    if not text.strip():
        logger.warning("%s: no extractable text (a scanned PDF needs OCR first)", path)
    return str(title).strip(), _normalise(text)


def _title_from_name(path: Path) -> str:
    return " ".join(re.split(r"[-_\s]+", path.stem)).strip()


def _normalise(text: str) -> str:
    """White space collapsed within each line; empty lines dropped; one block per line."""
    return "\n".join(line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line)
