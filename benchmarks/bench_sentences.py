"""Sentence splitting cost by paragraph length: pysbd in one call (the baseline) vs `split_sentences`.

    python benchmarks/bench_sentences.py [--eval] [--json]

Paragraphs of 21, 42 and 84 KB (one sentence repeated, no line break) are split both ways in the
same run; 1 MB and 5 MB paragraphs and a 5 MB run-on line without punctuation only with
`split_sentences` (the baseline would take hours). `--eval` also checks that both give the same
sentences on the SQuAD and news-dev eval articles (when present on this machine).
"""

from __future__ import annotations

import argparse
import glob
import json
import time
from pathlib import Path

import pysbd

from indexing.cleaning import clean_text
from indexing.sentences import MAX_SENTENCE_CHARS, split_sentences

SENTENCE = "The council approved the budget of the city library after a long debate on Tuesday. "
RUN_ON = "item {} of the council agenda without any full stop ; "
SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval"
NEWS = Path("/tmp/news-dev/articles.jsonl")


def baseline(text: str) -> list[tuple[int, int]]:
    """What indexing did before: one pysbd Segmenter call per paragraph."""
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    spans = []
    for piece in segmenter.segment(text):
        start, end = piece.start, piece.end
        while end > start and text[end - 1].isspace():
            end -= 1
        spans.append((start, end))
    return spans


def timed(function, text: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = function(text)
    return time.perf_counter() - started, len(result)


def eval_texts() -> list[str]:
    texts = [Path(p).read_text(encoding="utf-8") for p in sorted(glob.glob(str(SHARED / "squad-v1.1-dev/articles/*")))]
    if NEWS.exists():
        texts += [json.loads(line)["text"] for line in NEWS.read_text(encoding="utf-8").splitlines()]
    return [clean_text(text)[0] for text in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", action="store_true", help="compare sentences on the eval articles")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for repeat in (250, 500, 1000):
        text = SENTENCE * repeat
        base_s, base_n = timed(baseline, text)
        new_s, new_n = timed(split_sentences, text)
        rows.append(
            {
                "input": f"{len(text) / 1000:.0f} KB paragraph",
                "baseline_s": base_s,
                "new_s": new_s,
                "baseline_sentences": base_n,
                "new_sentences": new_n,
            }
        )
    for label, text in [
        ("1 MB paragraph", SENTENCE * (1_000_000 // len(SENTENCE))),
        ("5 MB paragraph", SENTENCE * (5_000_000 // len(SENTENCE))),
        ("5 MB run-on line", "".join(RUN_ON.format(i) for i in range(5_000_000 // len(RUN_ON.format(0))))),
    ]:
        new_s, new_n = timed(split_sentences, text)
        rows.append(
            {
                "input": label,
                "baseline_s": None,
                "new_s": new_s,
                "baseline_sentences": None,
                "new_sentences": new_n,
                "longest": max(s.end - s.start for s in split_sentences(text[:200_000])),
            }
        )
    result = {"rows": rows, "max_sentence_chars": MAX_SENTENCE_CHARS}
    if args.eval:
        texts = eval_texts()
        same = sum([(s.start, s.end) for s in split_sentences(t)] == baseline_paragraphs(t) for t in texts)
        result["eval"] = {"articles": len(texts), "identical": same}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'input':<20} {'pysbd one call':>16} {'split_sentences':>16} {'sentences':>20}")
    for row in rows:
        base = f"{row['baseline_s']:.2f} s" if row["baseline_s"] is not None else "(hours)"
        counts = f"{row['baseline_sentences'] or '-'} / {row['new_sentences']}"
        print(f"{row['input']:<20} {base:>16} {row['new_s']:>14.2f} s {counts:>20}")
    if "eval" in result:
        print(f"eval articles with identical sentences: {result['eval']['identical']} of {result['eval']['articles']}")


def baseline_paragraphs(text: str) -> list[tuple[int, int]]:
    """The baseline applied line by line, trimmed like split_sentences."""
    spans = []
    offset = 0
    for line in text.split("\n"):
        for start, end in baseline(line) if line else []:
            while start < end and line[start].isspace():
                start += 1
            if end > start:
                spans.append((offset + start, offset + end))
        offset += len(line) + 1
    return spans


if __name__ == "__main__":
    main()
