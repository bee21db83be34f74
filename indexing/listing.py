"""`python -m indexing --list [--json]`: what the index holds, one line (or JSON object) per article, newest first."""

from __future__ import annotations

import json

from indexing.store import Store

FIELDS = (
    "article_id",
    "title",
    "source",
    "url",
    "published",
    "n_sentences",
    "n_chunks",
    "content_hash",
    "fingerprint",
    "text_hash",
    "summary_only",
    "also_at",
    "origin",
    "indexed_at",
)
COLUMNS = ("published", "sentences", "chunks", "id", "title", "source", "url", "content hash", "fingerprint")


def list_articles(store: Store) -> list[dict]:
    """Every indexed article's record fields (no text), newest published first, then by title."""
    if not store.exists():
        return []
    records = store.article_records(fields=list(FIELDS))
    rows = [{name: (record.payload or {}).get(name) for name in FIELDS} for record in records]
    rows.sort(key=lambda row: (str(row["title"] or "").lower(), row["article_id"]))
    rows.sort(key=lambda row: row["published"] or "", reverse=True)
    return rows


def format_rows(rows: list[dict], as_json: bool = False) -> str:
    """A JSON list, or a tab-separated table with a header (hashes shortened to 12 characters)."""
    if as_json:
        return json.dumps(rows, ensure_ascii=False, indent=1)
    if not rows:
        return "No articles are indexed."
    lines = ["\t".join(COLUMNS)]
    for row in rows:
        title = str(row["title"] or "") + (" [summary only]" if row["summary_only"] else "")
        if row["also_at"]:
            title += f" [+{len(row['also_at'])} more sources]"
        cells = [
            row["published"] or "-",
            str(row["n_sentences"] if row["n_sentences"] is not None else "-"),
            str(row["n_chunks"] if row["n_chunks"] is not None else "-"),
            row["article_id"],
            title,
            row["source"] or "-",
            row["url"] or "-",
            (row["content_hash"] or "-")[:12],
            (row["fingerprint"] or "-")[:12],
        ]
        lines.append("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in cells))
    lines.append(f"{len(rows)} articles")
    return "\n".join(lines)
