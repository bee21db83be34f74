"""Very long single articles: how long `python -m indexing FILE` takes to index or refuse them.

    python benchmarks/bench_long_input.py [--json]

Writes, in a temporary folder, 4.9 MB files (under MAX_FILE_BYTES): a .txt that is one line of prose,
a .md that is one paragraph hard-wrapped at 80 columns, an .html page with one 4.9 MB <p>, and a .txt
that is one run-on line without any full stop. For each it times
- the real command, `python -m indexing FILE` with the default settings (the file is refused by
  MAX_ARTICLE_CHARS with its reason), and
- reading, cleaning and preparing it in-process (sentences, chunks) with MAX_ARTICLE_CHARS lifted,
  i.e. what indexing would cost before the embedder sees it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = 4_900_000
SENTENCE = "The council approved the budget of the city library after a long debate on Tuesday. "
RUN_ON = "item {} of the council agenda without any full stop ; "


def files(folder: Path) -> dict[str, Path]:
    prose = (SENTENCE * (SIZE // len(SENTENCE) + 1))[:SIZE].rsplit(" ", 1)[0]
    run_on = "".join(RUN_ON.format(i) for i in range(SIZE // len(RUN_ON.format(99999))))
    made = {
        "one-line.txt": "Council minutes\n" + prose + "\n",
        "one-paragraph.md": "# Council minutes\n\n" + "\n".join(textwrap.wrap(prose, 80)) + "\n",
        "one-paragraph.html": f"<html><head><title>Council minutes</title></head><body><article><p>{prose}</p></article></body></html>",
        "run-on.txt": "Council agenda\n" + run_on + "\n",
    }
    paths = {}
    for name, text in made.items():
        paths[name] = folder / name
        paths[name].write_text(text, encoding="utf-8")
    return paths


def command(path: Path, store: Path) -> tuple[float, str]:
    env = dict(os.environ, QDRANT_PATH=str(store), PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "indexing", str(path), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        cwd=store.parent,
    )
    return time.perf_counter() - started, " | ".join(done.stdout.strip().splitlines())


def prepare_only(path: Path) -> dict:
    from indexing.prepare import clean_article, prepare_cleaned
    from indexing.settings import Settings
    from indexing.sources import FileDoc, read_file

    settings = Settings(_env_file=None)
    started = time.perf_counter()
    [article], _ = read_file(FileDoc(path, path.stem), settings)
    read = time.perf_counter()
    cleaned = clean_article(article)
    prepared = prepare_cleaned(cleaned)  # as the indexing job does (cleaning twice would erase the marks)
    done = time.perf_counter()
    longest = max(s.end - s.start for s in prepared.sentences)
    return {
        "read_s": read - started,
        "clean_prepare_s": done - read,
        "chars": len(cleaned.text),
        "sentences": len(prepared.sentences),
        "chunks": len(prepared.chunks),
        "longest_sentence": longest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        folder = Path(tmp)
        for name, path in files(folder).items():
            seconds, output = command(path, folder / f"store-{name}")
            rows.append(
                {
                    "file": name,
                    "bytes": path.stat().st_size,
                    "command_s": seconds,
                    "output": output,
                    **prepare_only(path),
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(
            f"{row['file']:<20} {row['bytes'] / 1e6:.1f} MB  python -m indexing: {row['command_s']:5.1f} s  ({row['output']})\n"
            f"{'':<20} read {row['read_s']:.1f} s, clean + prepare {row['clean_prepare_s']:.1f} s: {row['chars']:,} chars, "
            f"{row['sentences']:,} sentences (longest {row['longest_sentence']:,}), {row['chunks']:,} chunks"
        )


if __name__ == "__main__":
    main()
