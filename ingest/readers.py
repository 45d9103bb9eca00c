"""Read a document file into a title and Markdown-like text.

Markdown and plain text are read as they are; .docx, .pdf and .html are turned into text with
headings kept as `#` lines where the format says so, so that one splitter serves them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = {".md", ".markdown", ".txt", ".docx", ".pdf", ".html", ".htm"}
_DATE_SUFFIX = re.compile(r"\s*[(（]\d{4}-\d{2}-\d{2}[)）]\s*$")


@dataclass(frozen=True)
class RawDocument:
    path: Path
    title: str
    text: str


class UnreadableDocument(Exception):
    """The file exists but its text could not be read; the message says why, in Chinese."""


def title_from_filename(path: Path) -> str:
    return _DATE_SUFFIX.sub("", path.stem).strip()


def read_document(path: Path) -> RawDocument:
    suffix = path.suffix.lower()
    try:
        if suffix in {".md", ".markdown", ".txt"}:
            text = _read_text(path)
        elif suffix == ".docx":
            text = _read_docx(path)
        elif suffix == ".pdf":
            text = _read_pdf(path)
        elif suffix in {".html", ".htm"}:
            text = _read_html(path)
        else:
            raise UnreadableDocument(f"不支持的文件类型：{path.name}")
    except UnreadableDocument:
        raise
    except Exception as exc:  # a broken file must not stop a whole folder
        raise UnreadableDocument(f"无法读取 {path.name}：{exc}") from exc
    return RawDocument(path=path, title=_title(text) or title_from_filename(path), text=text)


def _title(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocument(f"{path.name} 不是 UTF-8 或 GBK 编码的文本")


def _read_docx(path: Path) -> str:
    import docx

    lines = []
    for para in docx.Document(str(path)).paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style == "title" or style.startswith("heading 1"):
            lines.append(f"# {text}")
        elif style.startswith("heading"):
            lines.append(f"## {text}")
        else:
            lines.append(text)
    return "\n\n".join(lines)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(str(path)).pages]
    text = "\n".join(pages)
    if not text.strip():
        raise UnreadableDocument(f"{path.name} 没有可提取的文字（可能是扫描件）")
    return text


def _read_html(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "nav", "footer"]):
        tag.decompose()
    lines = []
    title = soup.find("h1") or soup.find("title")
    if title and title.get_text(strip=True):
        lines.append(f"# {title.get_text(strip=True)}")
    for el in soup.find_all(["h2", "h3", "p", "li", "div"]):
        if el.name == "div" and el.find(["p", "div", "li", "h2", "h3"]):
            continue  # only leaf blocks, so text is not repeated
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        lines.append(f"## {text}" if el.name in {"h2", "h3"} else text)
    return "\n\n".join(lines)
