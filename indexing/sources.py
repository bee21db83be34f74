"""What a run reads: expand folder, file and URL arguments into documents, and read files into Articles.

A document is one file or one URL; it yields one article (or several for JSON, JSON Lines and
feeds). Files carry a fingerprint of their bytes so an unchanged file is skipped before any parsing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from indexing.decoding import SourceError, decode_bytes
from indexing.models import Article
from indexing.readers import html_article, json_articles, jsonl_articles, text_article
from indexing.settings import Settings

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES

# Bump when reading or cleaning rules change, so files are re-read even if their bytes did not.
READER_VERSION = "1"

Problem = tuple[str, str]  # (origin, reason)


@dataclass(frozen=True)
class FileDoc:
    """A file to read; `base_id` is its path relative to the source root, without the extension."""

    path: Path
    base_id: str

    @property
    def origin(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class UrlDoc:
    """An article page or an RSS/Atom feed."""

    url: str

    @property
    def origin(self) -> str:
        return self.url


Document = FileDoc | UrlDoc


@dataclass(frozen=True)
class SourceRoot:
    """One source argument of a run; pruning only touches articles read from under it."""

    spec: str
    path: Path | None = None

    def covers(self, origin: str | None) -> bool:
        if not origin:
            return False
        if self.path is None:
            return origin == self.spec
        try:
            return Path(origin).is_relative_to(self.path)
        except (TypeError, ValueError):
            return False


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _base_id(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def expand_sources(sources: list[str], settings: Settings) -> tuple[list[Document], list[SourceRoot], list[Problem]]:
    """The documents named by `sources` (folders recursively), their roots, and what cannot be read.

    A single file under ARTICLES_DIR gets its id relative to ARTICLES_DIR, so uploading one file
    and indexing the whole folder give it the same id.
    """
    docs: list[Document] = []
    roots: list[SourceRoot] = []
    problems: list[Problem] = []
    articles_dir = Path(settings.articles_dir).resolve()
    seen: set[str] = set()
    for source in sources:
        source = str(source).strip()
        if is_url(source):
            roots.append(SourceRoot(source))
            if source not in seen:
                seen.add(source)
                docs.append(UrlDoc(source))
            continue
        path = Path(source).expanduser().resolve()
        if not path.exists():
            problems.append((source, "no such file or folder"))
            continue
        roots.append(SourceRoot(source, path))
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)):
                if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                    problems.append((str(file), f"unsupported file type {file.suffix or '(none)'}"))
                elif str(file) not in seen:
                    seen.add(str(file))
                    docs.append(FileDoc(file, _base_id(file, path)))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append((str(path), f"unsupported file type {path.suffix or '(none)'}"))
        elif str(path) not in seen:
            seen.add(str(path))
            base = _base_id(path, articles_dir) if path.is_relative_to(articles_dir) else path.stem
            docs.append(FileDoc(path, base))
    return docs, roots, problems


def read_bytes(doc: FileDoc, max_bytes: int) -> bytes:
    """The file's bytes, refusing oversized files before reading them."""
    try:
        size = doc.path.stat().st_size
        if size > max_bytes:
            raise SourceError(f"file too large ({size:,} bytes > MAX_FILE_BYTES {max_bytes:,})")
        return doc.path.read_bytes()
    except OSError as error:
        raise SourceError(f"unreadable: {error.strerror or error}") from None


def fingerprint(doc: FileDoc, data: bytes, settings: Settings) -> str:
    """Cheap identity of everything a file contributes: bytes, id, reader version and chunking."""
    digest = hashlib.sha256(
        f"{READER_VERSION}|{settings.chunk_sentences}|{settings.chunk_overlap}|{doc.base_id}|".encode()
    )
    digest.update(data)
    return digest.hexdigest()


def parse_file(doc: FileDoc, data: bytes) -> tuple[list[Article], list[Problem]]:
    """Articles in a file's bytes and per-item problems; raises SourceError when nothing is usable."""
    suffix = doc.path.suffix.lower()
    text = decode_bytes(data)
    origin = doc.origin
    if suffix in TEXT_SUFFIXES or suffix in MARKDOWN_SUFFIXES:
        markdown = suffix in MARKDOWN_SUFFIXES
        return [text_article(text, doc.base_id, doc.path.name, origin, markdown=markdown)], []
    if suffix in HTML_SUFFIXES:
        return [html_article(text, origin, article_id=doc.base_id, name=doc.path.name)], []
    reader = jsonl_articles if suffix in JSONL_SUFFIXES else json_articles
    articles, problems = reader(text, origin, doc.base_id)
    if not articles and not problems:
        raise SourceError("no articles in file")
    return articles, problems
