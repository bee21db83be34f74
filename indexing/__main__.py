"""`python -m indexing [SOURCE ...]`: index folders, files, URLs and feeds into the configured Qdrant.
`python -m indexing --list [--json]` lists what is indexed.

Exit codes: 0 when nothing failed, 1 when some input was skipped, 2 when the run could not start
(bad settings, store held by the bot, model mismatch).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from indexing.settings import SettingsError, load_settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m indexing",
        description="Index articles (folders, .txt/.md/.html/.json/.jsonl files, article URLs, RSS/Atom feeds).",
    )
    parser.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="folders, files or http(s) URLs (default: ARTICLES_DIR)"
    )
    parser.add_argument("--prune", action="store_true", help="remove articles whose source under these SOURCEs is gone")
    parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    parser.add_argument("--recreate", action="store_true", help="drop and rebuild the collections (e.g. new model)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only the summary")
    parser.add_argument("--list", action="store_true", help="list the indexed articles, newest first, and exit")
    parser.add_argument("--json", action="store_true", help="with --list: one JSON list of article records")
    return parser.parse_args(argv)


def list_index(settings, as_json: bool) -> int:
    """Print what the index holds (exit 2 when the store cannot be opened)."""
    from indexing.listing import format_rows, list_articles
    from indexing.store import Store, StoreError

    try:
        store = Store.open(settings)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        print(format_rows(list_articles(store), as_json))
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.list:
        return list_index(settings, args.json)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else getattr(logging, str(settings.log_level).upper(), logging.INFO),
        format="%(levelname)s %(name)s: %(message)s",
    )
    # The summary lists every skipped input; per-input warnings would repeat it.
    logging.getLogger("indexing.job").setLevel(logging.ERROR)
    for noisy in ("httpx", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for noisy in ("trafilatura", "htmldate", "courlan"):  # their complaints about a page are in the summary
        logging.getLogger(noisy).setLevel(logging.ERROR)

    from indexing.job import run_index
    from indexing.store import StoreError

    try:
        summary = run_index(
            settings,
            args.sources or None,
            prune=args.prune,
            dry_run=args.dry_run,
            recreate=args.recreate,
            show_progress_bar=not args.quiet and sys.stderr.isatty(),
        )
    except StoreError as error:  # locked store, model mismatch
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the store is usable; run again to finish", file=sys.stderr)
        return 130
    if args.dry_run and not args.quiet:
        for action, article_id in summary.changes:
            print(f"  would be {action}: {article_id}")
    print(summary.format())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
