"""Reading sources without a store: formats, titles, ids, dates, decoding and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_ARTICLES

import indexing.sources as sources
from indexing.decoding import SourceError, decode_bytes
from indexing.readers import markdown_to_text, parse_date, url_article_id
from indexing.sources import FileDoc, expand_sources, file_fingerprint, parse_file, read_bytes, read_file

ARTICLE_HTML = """<!DOCTYPE html><html><head><title>Dam opens in the valley | Valley News</title>
<meta property="og:site_name" content="Valley News">
<meta property="article:published_time" content="2024-03-05T09:30:00+00:00"></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<div class="ad">Buy cheap watches now!</div>
<article><h1>Dam opens in the valley</h1>
<p>The new dam on the river opened on Tuesday after six years of construction work.</p>
<p>Engineers said the reservoir will supply water to 40,000 homes in the region every year.</p>
<p>The project cost 2.5 billion dollars and employed more than 3,000 local workers.</p>
</article><footer>Copyright 2024 Valley News. Contact us. Privacy policy.</footer></body></html>"""


def read(path: Path, base_id: str | None = None):
    doc = FileDoc(path.resolve(), base_id or path.stem)
    return parse_file(doc, read_bytes(doc, 1_000_000))


def test_sample_txt_keeps_prose_first_line_and_titles_from_name():
    [article], problems = read(SAMPLE_ARTICLES / "centcom-chief-visits-pakistan.txt")
    assert problems == []
    assert article.article_id == "centcom-chief-visits-pakistan"
    assert article.title == "Centcom Chief Visits Pakistan"
    assert article.text.startswith("A top US general visited")


def test_txt_heading_line_is_the_title(tmp_path: Path):
    path = tmp_path / "oil.txt"
    path.write_text("1973 oil crisis\n\nThe crisis began in October 1973. Prices rose.\n", encoding="utf-8")
    [article], _ = read(path)
    assert article.title == "1973 oil crisis"
    assert "1973 oil crisis" not in article.text
    assert article.text.strip() == "The crisis began in October 1973. Prices rose."


def test_front_matter(tmp_path: Path):
    path = tmp_path / "fm.md"
    path.write_text(
        "---\ntitle: Budget passed\nurl: https://news.example/budget\npublished: 5 August 2022\n"
        "source: Example Times\n---\n# Budget passed\n\nThe **budget** was [passed](https://x.example) on Friday.\n\n"
        "- It raises taxes.\n",
        encoding="utf-8",
    )
    [article], _ = read(path)
    assert article.title == "Budget passed"
    assert article.url == "https://news.example/budget"
    assert article.published == "2022-08-05"
    assert article.source == "Example Times"
    assert "The budget was passed on Friday." in article.text
    assert "It raises taxes." in article.text
    assert "**" not in article.text and "](" not in article.text


def test_markdown_heading_is_title(tmp_path: Path):
    path = tmp_path / "notes.md"
    path.write_text("# Rivers of Europe\n\nThe *Danube* flows through ten countries.\n", encoding="utf-8")
    [article], _ = read(path)
    assert article.title == "Rivers of Europe"
    assert article.text.strip() == "The Danube flows through ten countries."
    assert markdown_to_text("Use `code` and __bold__.") == "Use code and bold."


def test_html_extraction_drops_menus_ads_and_footer(tmp_path: Path):
    path = tmp_path / "dam.html"
    path.write_text(ARTICLE_HTML, encoding="utf-8")
    [article], _ = read(path)
    assert article.article_id == "dam"
    assert "Dam opens in the valley" in article.title
    assert "six years of construction" in article.text
    assert "40,000 homes" in article.text
    assert "cheap watches" not in article.text and "Privacy policy" not in article.text
    assert article.published and article.published.startswith("2024-03-05")
    assert article.source == "Valley News"


def test_json_and_jsonl(tmp_path: Path):
    obj = {"id": 7, "title": "One", "text": "First text.", "published": "2023-01-02T10:00:00Z", "source": "Wire"}
    (tmp_path / "one.json").write_text(json.dumps(obj), encoding="utf-8")
    [article], _ = read(tmp_path / "one.json")
    assert (article.article_id, article.published, article.source) == ("7", "2023-01-02T10:00:00+00:00", "Wire")

    lines = [
        json.dumps({"title": "A", "text": "Alpha text.", "url": "https://Example.com/a/?utm_source=x#top"}),
        "{not json",
        json.dumps({"title": "B", "text": "Beta text."}),
        json.dumps({"title": "C"}),
        json.dumps(["not", "an", "object"]),
    ]
    (tmp_path / "many.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, problems = read(tmp_path / "many.jsonl")
    assert [a.article_id for a in articles] == ["https://example.com/a", "many#3"]
    assert [origin.rsplit(" ", 2)[-2:] for origin, _ in problems] == [["line", "2"], ["line", "4"], ["line", "5"]]
    assert "invalid JSON" in problems[0][1]
    assert "text" in problems[1][1]


def test_decoding_detects_legacy_encodings():
    text = "Le café du marché a réouvert ses portes après la grève. " * 3
    assert decode_bytes(text.encode("cp1252")) == text
    assert decode_bytes(text.encode("utf-16")) == text
    assert decode_bytes("\ufeffBOM text".encode()) == "BOM text"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n ", "empty"),
        (b"%PDF-1.7 binary", "PDF"),
        (b"\x00\x01\x02\x03binary\x00", "binary"),
        (bytes(range(1, 31)) * 10, "binary"),
    ],
)
def test_bad_bytes_are_refused(data: bytes, reason: str):
    with pytest.raises(SourceError, match=reason):
        decode_bytes(data)


def test_oversized_and_broken_files(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000, encoding="utf-8")
    with pytest.raises(SourceError, match="too large"):
        read_bytes(FileDoc(big, "big"), 100)
    broken = tmp_path / "broken.html"
    broken.write_bytes(b"<html><body><div><script>var x = 1;</script></div>")
    with pytest.raises(SourceError, match="HTML"):
        read(broken)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{oops", encoding="utf-8")
    with pytest.raises(SourceError, match="invalid JSON"):
        read(bad_json)


def test_expand_sources_ids_and_problems(tmp_path: Path, make_settings):
    settings = make_settings()
    root = settings.articles_dir
    (root / "world").mkdir(parents=True)
    (root / "world" / "a.txt").write_text("A\n\nText.", encoding="utf-8")
    (root / "b.md").write_text("B\n\nText.", encoding="utf-8")
    (root / "scan.pdf").write_bytes(b"%PDF")
    (root / ".hidden.txt").write_text("x", encoding="utf-8")
    docs, roots, problems = expand_sources([str(root), str(tmp_path / "missing")], settings)
    assert sorted(d.base_id for d in docs) == ["b", "world/a"]
    assert [p[1] for p in problems] == ["unsupported file type .pdf", "no such file or folder"]
    assert roots[0].covers(str((root / "world" / "a.txt").resolve()))
    # a single file under ARTICLES_DIR keeps the id a folder run gives it
    docs, _, _ = expand_sources([str(root / "world" / "a.txt")], settings)
    assert docs[0].base_id == "world/a"
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x", encoding="utf-8")
    docs, _, _ = expand_sources([str(outside)], settings)
    assert docs[0].base_id == "elsewhere"


def test_parse_date_and_url_ids():
    assert parse_date("2022-08-05") == "2022-08-05"
    assert parse_date("August 5, 2022") == "2022-08-05"
    assert parse_date("Fri, 05 Aug 2022 10:15:00 GMT") == "2022-08-05T10:15:00+00:00"
    assert parse_date("not a date at all") is None
    assert url_article_id("HTTPS://News.Example/x/?b=2&utm_medium=rss#frag") == "https://news.example/x?b=2"


def collection_item(n: int) -> dict:
    return {
        "id": f"news-{n}",
        "title": f"Story {n}",
        "text": f"Story {n} reports that the harbour works reached stage {n}. " * 8,
    }


def no_whole_read(monkeypatch, path: Path) -> None:
    """Fail if the file is read into memory at once."""
    real = Path.read_bytes

    def guarded(self: Path) -> bytes:
        assert self.resolve() != path.resolve(), f"{path.name} was read whole"
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)


def test_large_jsonl_is_streamed_with_the_limit_per_article(tmp_path: Path, make_settings, monkeypatch):
    settings = make_settings(max_file_bytes=5_000)
    lines = [json.dumps(collection_item(n)) for n in range(1, 61)]  # ~35 KB, seven times the limit
    lines[9] = json.dumps({"id": "huge", "title": "Huge", "text": "word " * 2_000})  # one article over the limit
    lines[19] = "{broken"
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    no_whole_read(monkeypatch, path)
    doc = FileDoc(path, "export")
    articles, problems = read_file(doc, settings)
    assert len(articles) == 58 and articles[0].article_id == "news-1" and articles[-1].article_id == "news-60"
    assert problems == [
        (f"{path} line 10", "article too large (> MAX_FILE_BYTES 5,000 bytes)"),
        (f"{path} line 20", "invalid JSON: Expecting property name enclosed in double quotes"),
    ]
    assert file_fingerprint(doc, settings) != file_fingerprint(FileDoc(path, "other"), settings)


def test_large_json_list_is_streamed_and_bounded(tmp_path: Path, make_settings, monkeypatch):
    settings = make_settings(max_file_bytes=5_000)
    items = [collection_item(n) for n in range(1, 41)]
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps(items, indent=1), encoding="utf-8")
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"articles": items, "exported": "2024-09-01"}), encoding="utf-8")
    no_whole_read(monkeypatch, listing)
    for path in (listing, wrapped):
        articles, problems = read_file(FileDoc(path, path.stem), settings)
        assert [a.article_id for a in articles] == [f"news-{n}" for n in range(1, 41)] and problems == []

    with_huge = tmp_path / "huge-item.json"
    with_huge.write_text(
        json.dumps([*items[:3], {"id": "huge", "text": "word " * 3_000}, *items[3:]]), encoding="utf-8"
    )
    articles, problems = read_file(FileDoc(with_huge, "huge-item"), settings)
    assert len(articles) == 40 and problems == [
        (f"{with_huge} item 4", "article too large (> MAX_FILE_BYTES 5,000 bytes)")
    ]
    monkeypatch.setattr(sources, "STREAM_CHUNK", 1024)  # read in small steps: the huge item outgrows the buffer
    articles, problems = read_file(FileDoc(with_huge, "huge-item"), settings)
    assert len(articles) == 3  # the items after it cannot be found without parsing it
    assert problems == [
        (f"{with_huge} item 4", "article too large (> MAX_FILE_BYTES 5,000 bytes); the rest of the file was not read")
    ]
    one_object = tmp_path / "object.json"
    one_object.write_text(json.dumps({"title": "One", "text": "word " * 3_000}), encoding="utf-8")
    with pytest.raises(SourceError, match=r"not a list of articles: use a list"):
        read_file(FileDoc(one_object, "object"), settings)
    single = tmp_path / "single.txt"
    single.write_text("word " * 3_000, encoding="utf-8")
    with pytest.raises(SourceError, match=r"file too large \(15,000 bytes > MAX_FILE_BYTES 5,000\)"):
        read_file(FileDoc(single, "single"), settings)
