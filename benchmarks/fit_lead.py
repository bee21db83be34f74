"""Fit the lead's piece model (bot/answer_text.py) on SQuAD's gold answer sentences; no store needed.

    python benchmarks/fit_lead.py                  # fit on the tuning half, report the held-out half
    python benchmarks/fit_lead.py --keep 0.985     # the share of leads that must keep the gold answer

Each question's gold sentence is cut into pieces (at top-level commas, semicolons, colons, dashes); a piece is
labelled positive when it overlaps the first occurrence of a gold answer. A logistic model of that label gives
each piece's probability; the lead grows from the likeliest piece until it holds `mass` of the sentence's
probability. `mass` is the smallest value whose leads keep the answer in at least `--keep` of the tuning
questions; the held-out half reports how often the lead keeps the answer and is shorter than the sentence.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import squad_data
from fit_quality import fit_logistic

from bot import answer_text
from bot.answer_text import LEAD_WEIGHTS, lead_span, piece_features, pieces


def examples(half: int) -> list[tuple[str, str, list[str]]]:
    articles = squad_data.load_articles(squad_data.DEFAULT_EVAL)
    order = {a.article_id: i for i, a in enumerate(articles)}
    out = []
    for q in squad_data.load_questions(squad_data.DEFAULT_EVAL):
        if order[q["article_id"]] % 2 == half and q.get("answer_sentences"):
            sentence = q["answer_sentences"][0]
            if any(a.lower() in sentence.lower() for a in q["answers"]):
                out.append((q["question"], sentence, q["answers"]))
    return out


def keeps(lead: str, answers: list[str]) -> bool:
    low = " ".join(lead.lower().split())
    return any(" ".join(a.lower().split()) in low for a in answers)


def rows(data: list[tuple[str, str, list[str]]]) -> tuple[np.ndarray, np.ndarray]:
    names = list(LEAD_WEIGHTS)
    x, y = [], []
    for question, sentence, answers in data:
        parts = pieces(sentence, 0, len(sentence))
        if len(parts) < 2:
            continue
        low = sentence.lower()
        spans = [(low.find(a.lower()), low.find(a.lower()) + len(a)) for a in answers if a.lower() in low]
        a0, a1 = min(spans)
        for (s, e), f in zip(parts, piece_features(question, sentence, parts), strict=True):
            x.append([f[n] for n in names])
            y.append(1.0 if s < a1 and a0 < e else 0.0)
    return np.array(x), np.array(y)


def measure(data: list[tuple[str, str, list[str]]], mass: float) -> tuple[float, float]:
    kept, shorter = [], []
    for question, sentence, answers in data:
        a, b = lead_span(question, sentence, mass=mass)
        kept.append(keeps(sentence[a:b], answers))
        shorter.append(b - a < len(sentence))
    return statistics.fmean(kept), statistics.fmean(shorter)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=float, default=0.985)
    args = parser.parse_args(argv)
    tuning, heldout = examples(0), examples(1)
    x, y = rows(tuning)
    w, b = fit_logistic(x, y, np.ones(len(y)))
    answer_text.LEAD_WEIGHTS.update({n: round(float(v), 3) for n, v in zip(LEAD_WEIGHTS, w, strict=True)})
    answer_text.LEAD_BIAS = round(b, 3)
    chosen = 1.0
    for mass in np.arange(0.5, 1.0001, 0.02):
        kept, shorter = measure(tuning, float(mass))
        print(f"mass {mass:.2f}: tuning keeps {kept:.4f}, shorter {shorter:.4f}", file=sys.stderr)
        if kept >= args.keep:
            chosen = round(float(mass), 2)
            break
    kept, shorter = measure(heldout, chosen)
    report = {
        "weights": dict(answer_text.LEAD_WEIGHTS),
        "bias": answer_text.LEAD_BIAS,
        "mass": chosen,
        "tuning": dict(zip(("keeps", "shorter"), measure(tuning, chosen), strict=True)),
        "heldout": {"keeps": kept, "shorter": shorter},
        "sentences": {"tuning": len(tuning), "heldout": len(heldout)},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
