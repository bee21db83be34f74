"""Fit the lead's piece model (bot/answer_text.py) on SQuAD's gold answer sentences; no store needed.

    python benchmarks/fit_lead.py                  # fit on the tuning half, report the held-out half
    python benchmarks/fit_lead.py --keep 0.985     # the share of leads that must keep the gold answer
    python benchmarks/fit_lead.py --pointer        # the answer pointer's mass (bot/pointer.py), same report

Each question's gold sentence is cut into pieces (at top-level commas, semicolons, colons, dashes); a piece is
labelled positive when it overlaps the first occurrence of a gold answer. A logistic model of that label gives
each piece's probability; the lead grows from the likeliest piece until it holds `mass` of the sentence's
probability. `mass` is the smallest value whose leads keep the answer in at least `--keep` of the tuning
questions; the held-out half reports how often the lead keeps the answer and is shorter than the sentence.

With `--pointer` nothing is refitted: the bundled answer pointer (or `--weights`), in `--precision` (int8, as
shipped, or float32), gives each pair of pieces its probability of holding the answer span, and the mass for
`answer_text.POINTER_MASS` is the smallest whose leads keep the answer in at least `--keep` of the calibration
articles (the tuning-half articles train_answer_pointer.py leaves out). Round 12 kept float32's 0.94 for int8:
int8's own 0.92 kept the answer in 97.3 % of the pipeline's held-out leads (docs/quality.md).
Both modes print the piece model's figures on the same sentences as the baseline.
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
from train_answer_pointer import calibration

from bot import answer_text
from bot.answer_text import LEAD_MASS, LEAD_WEIGHTS, lead_span, piece_features, pieces, pointed_span


def examples(half: int, calibrating: bool | None = None) -> list[tuple[str, str, list[str]]]:
    """(question, gold sentence, answers) of one half (of the tuning half's calibration articles or the others
    when `calibrating` is given)."""
    articles = squad_data.load_articles(squad_data.DEFAULT_EVAL)
    order = {a.article_id: i for i, a in enumerate(articles)}
    out = []
    for q in squad_data.load_questions(squad_data.DEFAULT_EVAL):
        at = order[q["article_id"]]
        if calibrating is not None and calibration(at) != calibrating:
            continue
        if at % 2 == half and q.get("answer_sentences"):
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


def pointer_leads(
    data: list[tuple[str, str, list[str]]], weights: Path, precision: str = "int8"
) -> list[tuple[str, list, object]]:
    """(sentence, pieces, span distribution or None) per example: the pointer runs once per sentence."""
    from bot.pointer import AnswerPointer

    pointer = AnswerPointer(weights=weights, precision=precision)
    out = []
    for question, sentence, _ in data:
        parts = pieces(sentence, 0, len(sentence), fine=answer_text.POINTER_FINE)
        out.append((sentence, parts, pointer.distribution(question, sentence) if len(parts) > 1 else None))
    return out


def measure_pointer(data, read, mass: float) -> tuple[float, float]:
    kept, shorter = [], []
    for (_, _, answers), (sentence, parts, dist) in zip(data, read, strict=True):
        a, b = (pointed_span(parts, dist, mass) if dist is not None else None) or (0, len(sentence))
        kept.append(keeps(sentence[a:b], answers))
        shorter.append(b - a < len(sentence))
    return statistics.fmean(kept), statistics.fmean(shorter)


def fit_pointer(keep: float, weights: Path, precision: str = "int8") -> int:
    calib, heldout = examples(0, calibrating=True), examples(1)
    read_calib, read_heldout = pointer_leads(calib, weights, precision), pointer_leads(heldout, weights, precision)
    chosen = 1.0
    for mass in np.arange(0.5, 1.0001, 0.01):
        kept, shorter = measure_pointer(calib, read_calib, float(mass))
        print(f"mass {mass:.2f}: calibration keeps {kept:.4f}, shorter {shorter:.4f}", file=sys.stderr)
        if kept >= keep:
            chosen = round(float(mass), 2)
            break
    sweep = {f"{m:.2f}": measure_pointer(heldout, read_heldout, m) for m in (0.8, 0.85, 0.9, 0.95, chosen)}
    report = {
        "pointer_mass": chosen,
        "calibration": dict(zip(("keeps", "shorter"), measure_pointer(calib, read_calib, chosen), strict=True)),
        "heldout": dict(zip(("keeps", "shorter"), sweep[f"{chosen:.2f}"], strict=True)),
        "heldout_by_mass": sweep,
        "baseline_piece_model_heldout": dict(zip(("keeps", "shorter"), measure(heldout, LEAD_MASS), strict=True)),
        "sentences": {"calibration": len(calib), "heldout": len(heldout)},
    }
    print(json.dumps(report, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=float, default=0.985)
    parser.add_argument("--pointer", action="store_true", help="calibrate the answer pointer's mass instead")
    parser.add_argument("--weights", type=Path, default=None, help="pointer weights (default: the bundled ones)")
    parser.add_argument("--precision", choices=["int8", "float32"], default="int8", help="the pointer's weights")
    args = parser.parse_args(argv)
    if args.pointer:
        from bot.pointer import BUNDLED_WEIGHTS

        return fit_pointer(args.keep, args.weights or BUNDLED_WEIGHTS, args.precision)
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
