"""What a run reads: expand folder, file and URL arguments into documents, and read files into Articles.

A document is one file or one URL; it yields one article (or several for JSON, JSON Lines and
feeds). Files carry a fingerprint of their bytes so an unchanged file is skipped before any parsing.
A collection (.json, .jsonl) is not one article: MAX_FILE_BYTES applies to each of its articles,
and one larger than MAX_FILE_BYTES is streamed (line by line, or item by item of a JSON list)
instead of being read into memory at once.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexing import prepare
from indexing.decoding import SourceError, decode_bytes
from indexing.models import Article
from indexing.readers import html_article, json_article, json_articles, jsonl_articles, jsonl_line_article, text_article
from indexing.settings import Settings

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
COLLECTION_SUFFIXES = JSON_SUFFIXES | JSONL_SUFFIXES
STREAM_CHUNK = 1 << 20
_ARTICLES_LIST = re.compile(r'\{\s*"articles"\s*:\s*\[')

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


def is_collection(doc: FileDoc) -> bool:
    """A .json or .jsonl file: several articles, each held to MAX_FILE_BYTES on its own."""
    return doc.path.suffix.lower() in COLLECTION_SUFFIXES


def _size(doc: FileDoc) -> int:
    try:
        return doc.path.stat().st_size
    except OSError as error:
        raise SourceError(f"unreadable: {error.strerror or error}") from None


def read_bytes(doc: FileDoc, max_bytes: int) -> bytes:
    """The file's bytes, refusing oversized files before reading them."""
    size = _size(doc)
    if size > max_bytes:
        raise SourceError(f"file too large ({size:,} bytes > MAX_FILE_BYTES {max_bytes:,})")
    try:
        return doc.path.read_bytes()
    except OSError as error:
        raise SourceError(f"unreadable: {error.strerror or error}") from None


def _digest(doc: FileDoc, settings: Settings) -> hashlib._Hash:
    return hashlib.sha256(
        f"{prepare.PROCESSING_VERSION}|{settings.chunk_sentences}|{settings.chunk_overlap}|{doc.base_id}|".encode()
    )


def fingerprint(doc: FileDoc, data: bytes, settings: Settings) -> str:
    """Cheap identity of everything a file contributes: bytes, id, processing version and chunking."""
    digest = _digest(doc, settings)
    digest.update(data)
    return digest.hexdigest()


def file_fingerprint(doc: FileDoc, settings: Settings) -> str:
    """`fingerprint` of the file on disk, hashed in pieces (a collection may be larger than memory should hold).

    Raises SourceError for an unreadable file, or a single-article file over MAX_FILE_BYTES.
    """
    if not is_collection(doc):
        return fingerprint(doc, read_bytes(doc, settings.max_file_bytes), settings)
    digest = _digest(doc, settings)
    try:
        with doc.path.open("rb") as handle:
            while chunk := handle.read(STREAM_CHUNK):
                digest.update(chunk)
    except OSError as error:
        raise SourceError(f"unreadable: {error.strerror or error}") from None
    return digest.hexdigest()


def read_file(doc: FileDoc, settings: Settings) -> tuple[list[Article], list[Problem]]:
    """The articles of a file and per-article problems; SourceError when nothing in it is usable."""
    limit = settings.max_file_bytes
    if is_collection(doc) and _size(doc) > limit:
        streamed = _stream_jsonl if doc.path.suffix.lower() in JSONL_SUFFIXES else _stream_json
        try:
            articles, problems = streamed(doc, limit)
        except OSError as error:
            raise SourceError(f"unreadable: {error.strerror or error}") from None
        if not articles and not problems:
            raise SourceError("no articles in file")
        return articles, problems
    return parse_file(doc, read_bytes(doc, limit))


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


def _too_large(limit: int) -> str:
    return f"article too large (> MAX_FILE_BYTES {limit:,} bytes)"


def _stream_jsonl(doc: FileDoc, limit: int) -> tuple[list[Article], list[Problem]]:
    """A large JSON Lines file, line by line; a line over `limit` bytes is reported and skipped unread."""
    articles: list[Article] = []
    problems: list[Problem] = []
    with doc.path.open("rb") as handle:
        number = 0
        while line := handle.readline(limit + 1):
            number += 1
            where = f"{doc.origin} line {number}"
            if len(line) > limit and not line.endswith(b"\n"):
                while (rest := handle.readline(STREAM_CHUNK)) and not rest.endswith(b"\n"):
                    pass  # skip the rest of the oversized line without holding it
                problems.append((where, _too_large(limit)))
                continue
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8") if _is_utf8(line) else decode_bytes(line)
                articles.append(jsonl_line_article(text, doc.origin, doc.base_id, number))
            except SourceError as error:
                problems.append((where, str(error)))
    return articles, problems


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _stream_json(doc: FileDoc, limit: int) -> tuple[list[Article], list[Problem]]:
    """A large .json file: a list of articles (or `{"articles": [...]}`), item by item."""
    articles: list[Article] = []
    problems: list[Problem] = []
    with doc.path.open("rb") as raw:
        reader = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict")
        try:
            for number, item in _json_items(reader, limit):
                if isinstance(item, SourceError):
                    problems.append((f"{doc.origin} item {number}", str(item)))
                    continue
                try:
                    articles.append(json_article(item, doc.origin, f"{doc.base_id}#{number}"))
                except SourceError as error:
                    problems.append((f"{doc.origin} item {number}", str(error)))
        except UnicodeDecodeError:
            problems.append((doc.origin, "not valid UTF-8 (a JSON file larger than MAX_FILE_BYTES must be UTF-8)"))
    return articles, problems


def _json_items(reader: io.TextIOBase, limit: int) -> Iterator[tuple[int, Any]]:
    """(number, item) for each item of the top-level list, holding at most about `limit` characters.

    An item larger than `limit` comes as (number, SourceError). One that does not even end within
    `limit` characters, or is invalid, ends the stream with a SourceError: the items after it cannot
    be found without parsing it.
    """
    buf = reader.read(STREAM_CHUNK)
    pos = len(buf) - len(buf.lstrip())
    if buf.startswith("[", pos):
        pos += 1
    elif match := _ARTICLES_LIST.match(buf, pos):
        pos = match.end()
    else:
        raise SourceError(
            "JSON file larger than MAX_FILE_BYTES that is not a list of articles: "
            'use a list, {"articles": [...]} or JSON Lines'
        )
    decoder = json.JSONDecoder()
    number, want, eof = 0, STREAM_CHUNK, False
    while True:
        while pos < len(buf) and (buf[pos].isspace() or buf[pos] == ","):
            pos += 1
        if pos >= len(buf) and not eof:
            more = reader.read(want)
            buf, pos, eof = buf[pos:] + more, 0, not more
            continue
        if pos >= len(buf) or buf[pos] == "]":
            return
        try:
            item, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as error:
            if len(buf) - pos > limit:
                yield number + 1, SourceError(_too_large(limit) + "; the rest of the file was not read")
                return
            if eof:
                yield number + 1, SourceError(f"invalid JSON: {error.msg}; the rest of the file was not read")
                return
            more = reader.read(want)  # the item continues past the buffer: read on, in growing steps
            want = min(want * 2, limit + 1)
            buf, pos, eof = buf[pos:] + more, 0, not more
            continue
        number += 1
        yield number, (item if end - pos <= limit else SourceError(_too_large(limit)))
        pos = end
        if pos > STREAM_CHUNK:
            buf, pos = buf[pos:], 0
