"""Reindex forever on a schedule: `python -m indexing.schedule` (the docker-compose indexer service).

Each run is the incremental job with pruning, so unchanged articles cost a hash check only.
A failed run is logged and retried at the next tick; SIGTERM/Ctrl-C stops between runs.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from indexing.settings import SettingsError, load_settings

log = logging.getLogger("indexing.schedule")


def main(argv: list[str] | None = None) -> int:
    """Run the indexing job now and then every REINDEX_INTERVAL seconds (0 = once)."""
    parser = argparse.ArgumentParser(
        prog="python -m indexing.schedule",
        description="Reindex ARTICLES_DIR (with --prune) now and every REINDEX_INTERVAL seconds.",
    )
    parser.add_argument("--once", action="store_true", help="run once and exit")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from indexing.job import run_index

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        try:
            summary = run_index(settings, prune=True, show_progress_bar=False)
            log.info("reindex finished: %s", summary.format())
        except KeyboardInterrupt:
            break
        except Exception:
            log.exception("reindex failed; retrying in %s s", settings.reindex_interval)
        if args.once or settings.reindex_interval == 0:
            break
        stop.wait(settings.reindex_interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
