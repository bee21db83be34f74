"""Fit the ranking weights, the abstain model and the quote floor from a feature dump of bench_quality.py.

    python benchmarks/bench_quality.py --stores /tmp/quality --dump /tmp/quality/dump.pkl --no-baselines
    python benchmarks/fit_quality.py /tmp/quality/dump.pkl --ranker           # cross-fitted ranking weights
    python benchmarks/fit_quality.py /tmp/quality/dump.pkl --answerability    # abstain model + threshold
    python benchmarks/fit_quality.py /tmp/quality/dump.pkl --floor            # floor for quotes 2-3 / more

Every fit uses the `tuning` half of each set only (SQuAD: even article index; news: even line; unanswerable:
even line; the cross-half and cross-collection sets follow their questions' halves) and reports the
`heldout` half, plus the two-way cross-fit (fit on one half, measure on the other, both directions).
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import scoring
from bot.scoring import ANSWERABILITY_FEATURES, SentenceCandidate, answerability_features, confidence

CHECK_FEATURES = list(scoring.CHECK_TERMS)
# the answer pointer's answer odds on the first three quotes: bench_quality.py reads them for the dump (the pipeline
# does not use them; docs/quality.md round 20), so they are taken from the dump as they are, like the checker's
POINT_FEATURES = ["point_odds", "point_odds_2", "point_odds_3"]
POINT_BEST = "point_best"  # the best odds of the first three quotes, derived here for --extra
NO_BONUS = ("long",)  # features whose weight may not be positive: length never earns a bonus


def labels(record: dict) -> np.ndarray:
    """Which candidates answer: SQuAD, the gold answer in the sentence; news (short answers match loosely),
    the answer in a sentence of one of the question's own pages."""
    return record["y"] & record["gold"] if record["set"] == "news" else record["y"]


def fit_ranker(
    records: list[dict],
    features: list[str],
    news_weight: float,
    l2: float = 1e-3,
    free: set[str] | None = None,
    fixed: dict[str, float] | None = None,
) -> dict[str, float]:
    """Listwise softmax regression (L-BFGS-B, full batch): per question, maximise the softmax probability of
    the candidates that hold the answer. News questions count `news_weight` times (there are few); features
    standardised for the fit and folded back; NO_BONUS weights bounded at 0 from above. With `free`, only those
    features are fitted and the others keep their `fixed` weights."""
    samples = [(r["x"].astype(np.float64), labels(r), r["set"]) for r in records]
    samples = [(x, y, s) for x, y, s in samples if y.any() and not y.all()]
    width = max(len(y) for _, y, _ in samples)
    x = np.zeros((len(samples), width, len(features)))
    pos = np.zeros((len(samples), width), dtype=bool)
    mask = np.zeros((len(samples), width), dtype=bool)
    qw = np.array([news_weight if s == "news" else 1.0 for _, _, s in samples])
    qw /= qw.sum()
    for i, (xi, yi, _) in enumerate(samples):
        x[i, : len(yi)], pos[i, : len(yi)], mask[i, : len(yi)] = xi, yi, True
    mu, sd = x[mask].mean(0), x[mask].std(0) + 1e-6
    xs = np.where(mask[..., None], (x - mu) / sd, 0.0)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = np.where(mask, xs @ w, -np.inf)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        mass = np.where(pos, p, 0.0).sum(axis=1, keepdims=True)
        grad_z = (p - np.where(pos, p, 0.0) / mass) * qw[:, None]
        value = -(np.log(mass[:, 0]) * qw).sum() + l2 * w @ w
        grad = np.einsum("qn,qnf->f", grad_z, xs) + 2 * l2 * w
        return float(value), grad

    bounds = [(None, 0.0) if f in NO_BONUS else (None, None) for f in features]
    if free is not None:
        fixed = fixed or {}
        bounds = [
            b if f in free else (fixed.get(f, 0.0) * sd[i],) * 2
            for i, (f, b) in enumerate(zip(features, bounds, strict=True))
        ]
    start = np.array([(lo if hi == lo else 0.0) for lo, hi in bounds], dtype=float) if free is not None else None
    start = np.zeros(len(features)) if start is None else np.nan_to_num(start)
    w = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 800}).x
    return {f: round(float(v), 4) for f, v in zip(features, w / sd, strict=True)}


def pool_metrics(records: list[dict], features: list[str], weights: dict[str, float]) -> dict[str, float]:
    """Top1 / top3 (distinct sentences, no merging) and gold-article hit of the best candidates."""
    if not records:
        return {}
    w = np.array([weights.get(f, 0.0) for f in features])
    top1, top3, gold = [], [], []
    for r in records:
        if not len(r["y"]):
            top1.append(0.0)
            top3.append(0.0)
            gold.append(0.0)
            continue
        order = np.argsort(-(r["x"] @ w))
        top1.append(float(r["y"][order[0]]))
        top3.append(float(r["y"][order[:3]].any()))
        gold.append(float(r["gold"][order[0]]))
    return {
        "top1": round(statistics.fmean(top1), 4),
        "top3": round(statistics.fmean(top3), 4),
        "gold_hit": round(statistics.fmean(gold), 4),
    }


def by(records: list[dict], sets: tuple[str, ...], half: str | None) -> list[dict]:
    return [r for r in records if r["set"] in sets and (half is None or r["half"] == half)]


def cmd_ranker(
    records: list[dict], features: list[str], news_weight: float, current: dict[str, float], free: set[str] | None
) -> None:
    report = {}
    for fit_half, test_half in (("tuning", "heldout"), ("heldout", "tuning")):
        weights = fit_ranker(by(records, ("squad", "news"), fit_half), features, news_weight, free=free, fixed=current)
        for name in ("squad", "news"):
            test = by(records, (name,), test_half)
            report[f"fit {fit_half} -> {name} {test_half}"] = {
                "fitted": pool_metrics(test, features, weights),
                "current": pool_metrics(test, features, current),
            }
        if fit_half == "tuning":
            final = weights
    print(json.dumps(report, indent=2), file=sys.stderr)
    print(json.dumps({"weights": final}, indent=2))


# The direction each answerability feature may push (evidence the collection answers: +, evidence it does not: -);
# unconstrained, collinear features took signs that reward missing terms.
ANSWERABILITY_SIGNS = {"missing": -1, "unm1": -1, "unm_share": -1, "n_terms": -1}  # n_terms: kept at 0, see docs


def fit_logistic(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, c: float = 1.0, signs: list[int] | None = None
) -> tuple[np.ndarray, float]:
    """L2 logistic regression (L-BFGS-B) on standardised features, each weight optionally kept to a sign (+1, -1,
    0 free); returns raw-unit weights and bias."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xs = (x - mu) / sd

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = xs @ w + b
        p = 1 / (1 + np.exp(-z))
        nll = sample_weight * (np.logaddexp(0, z) - y * z)
        grad_z = sample_weight * (p - y)
        return float(nll.sum() + 0.5 / c * w @ w), np.concatenate([xs.T @ grad_z + w / c, [grad_z.sum()]])

    bounds = [(0.0, None) if g > 0 else (None, 0.0) if g < 0 else (None, None) for g in (signs or [0] * x.shape[1])]
    params = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)]).x
    w = params[:-1] / sd
    return w, float(params[-1] - (params[:-1] * mu / sd).sum())


def rebuild(record: dict, features: list[str], weights: dict[str, float]) -> dict[str, float]:
    """The record's answerability features recomputed from its dumped candidates, ranked with `weights` (so a
    changed ranker or answerability feature needs no new pipeline run)."""
    if not record.get("top"):
        return {}
    w = np.array([weights.get(f, 0.0) for f in features])
    cands = []
    for t in record["top"]:
        values = dict(zip(features, record["x"][t["row"]].tolist(), strict=True))
        c = SentenceCandidate(
            t["article_id"],
            t["start"],
            0,
            t["text"],
            t["prev_start"],
            t["next_start"],
            None,
            "",
            None,
            None,
            None,
            "",
            None,
        )
        c.features, c.score, c.confidence = values, float(record["x"][t["row"]] @ w), confidence(values)
        cands.append(c)
    ranked = sorted(cands, key=lambda c: c.score, reverse=True)
    idf = record["idf"]
    return answerability_features(record["question"], ranked, record["df"], lambda t: idf.get(t, idf["\x00"]))


def cmd_answerability(
    records: list[dict],
    max_decline: dict[str, float],
    max_flag: float = 0.04,
    extra: tuple[str, ...] = (),
    match: float | None = None,
    extra_free: bool = False,
) -> None:
    """Fit on the tuning halves: answerable (squad, news) against every off-collection set, each set weighted
    equally; the threshold is the highest one that declines at most `max_decline` of each answerable set's
    tuning half, the tentative threshold the highest round one that flags at most `max_flag` of each (answered,
    but shown as the closest passages). Reports every set's held-out half. Records dumped with ANSWER_CHECK on
    fit the checked model (the answer checker's logits as two more features); `extra` names more dumped evidence
    to fit with (e.g. the pointer's `point_odds`), kept to a positive weight unless `extra_free`. With `match`,
    the declines are also reported at the threshold that declines that share of the held-out SQuAD half: it
    compares evidence at one operating point (set on held-out questions, so not a deployable setting)."""
    checked = [n for n in CHECK_FEATURES if any(n in r["ans"] for r in records)]
    names = ANSWERABILITY_FEATURES + checked + list(extra)

    def matrix(rs: list[dict]) -> np.ndarray:
        return np.array([[r["ans"].get(n, 0.0) for n in names] for r in rs], dtype=np.float64)

    fit = [r for r in records if r["half"] == "tuning" and r["ans"]]
    sets = sorted({r["set"] for r in fit})
    x = matrix(fit)
    y = np.array([1.0 if r["answerable"] else 0.0 for r in fit])
    counts = {s: sum(r["set"] == s for r in fit) for s in sets}
    sw = np.array([len(fit) / (len(sets) * counts[r["set"]]) for r in fit])
    signs = [0 if extra_free and n in extra else ANSWERABILITY_SIGNS.get(n, 1) for n in names]
    w, b = fit_logistic(x, y, sw, signs=signs)

    def probs(rs: list[dict]) -> np.ndarray:
        m = matrix(rs)
        return 1 / (1 + np.exp(-(m @ w + b))) if len(rs) else np.zeros(0)

    threshold = 1.0
    for s, limit in max_decline.items():
        p = np.sort(probs([r for r in fit if r["set"] == s]))
        if len(p):
            threshold = min(threshold, float(p[int(np.floor(limit * len(p)))]))
    threshold = float(np.floor(threshold * 1000) / 1000)
    tentative = threshold
    for t in np.arange(0.05, 0.51, 0.01):
        flagged = [((p >= threshold) & (p < t)).mean() for s in max_decline for p in [probs(by(fit, (s,), None))]]
        if max(flagged) <= max_flag:
            tentative = round(float(t), 2)
    report = {}
    for half in ("tuning", "heldout"):
        for s in sorted({r["set"] for r in records}):
            rs = [r for r in records if r["set"] == s and r["half"] == half]
            if not rs:
                continue
            p = np.array([probs([r])[0] if r["ans"] else 0.0 for r in rs])
            report[f"{s} {half}"] = round(float((p < threshold).mean()), 4)
            report[f"{s} {half} flagged"] = round(float(((p >= threshold) & (p < tentative)).mean()), 4)
    print(json.dumps({"declined": report}, indent=2), file=sys.stderr)
    if match is not None:

        def held_out(s: str) -> np.ndarray:  # record by record, as the report above, so ties compare equal
            return np.array(
                [probs([r])[0] if r["ans"] else 0.0 for r in records if r["set"] == s and r["half"] == "heldout"]
            )

        squad = np.sort(held_out("squad"))
        at = float(squad[int(np.floor(match * len(squad)))])
        matched = {
            f"{s} heldout": round(float((held_out(s) < at).mean()), 4) for s in sorted({r["set"] for r in records})
        }
        print(json.dumps({"matched": match, "threshold": round(at, 4), "declined": matched}), file=sys.stderr)
    weights = {n: round(float(v), 3) for n, v in zip(names, w, strict=True)}
    print(json.dumps({"weights": weights, "bias": round(b, 3), "threshold": threshold, "tentative": tentative}))


def cmd_floor(records: list[dict]) -> None:
    """For each floor (log-odds under the first quote): top3, how many later quotes are shown and how many of
    those hold the answer, on each answerable set's halves."""
    for floor in (2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 99.0):
        row = {}
        for s in ("squad", "news"):
            for half in ("tuning", "heldout"):
                rs = [r for r in records if r["set"] == s and r["half"] == half and r["quote_scores"]]
                if not rs:
                    continue
                top3, shown, useful = [], [], []
                for r in rs:
                    scores, has = r["quote_scores"][:3], r["quote_has"][:3]
                    keep = [0] + [i for i in range(1, len(scores)) if scores[i] >= scores[0] - floor]
                    top3.append(any(has[i] for i in keep))
                    shown.append(len(keep) - 1)
                    useful.extend(has[i] for i in keep[1:])
                row[f"{s} {half}"] = {
                    "top3": round(statistics.fmean(top3), 4),
                    "later_shown": round(statistics.fmean(shown), 3),
                    "later_useful": round(statistics.fmean(useful), 3) if useful else None,
                }
        print(json.dumps({"floor": floor, **row}))


def training_questions(path: Path) -> set[str]:
    """The questions of a training file (a JSON list of {question}), spaced as the dumps space them."""
    return {" ".join(g["question"].split()) for g in json.loads(path.read_text(encoding="utf-8"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", type=Path, nargs="+", help="one or more dumps (with the same features)")
    parser.add_argument("--ranker", action="store_true")
    parser.add_argument("--answerability", action="store_true")
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--weights", type=Path, help="ranker weights (--ranker's JSON output) to rank with")
    parser.add_argument("--free", help="with --ranker: fit only these features (comma-separated), keep the rest")
    parser.add_argument("--news-weight", type=float, default=20.0, help="weight of a news question in the ranker fit")
    parser.add_argument("--max-decline-squad", type=float, default=0.015)
    parser.add_argument("--max-decline-news", type=float, default=0.04)
    parser.add_argument(
        "--exclude", type=Path, help="a training file (JSON list of {question}) whose questions every fit leaves out"
    )
    parser.add_argument(
        "--exclude-answerable",
        type=Path,
        help="a training file whose questions the fits leave out of the answerable sets' tuning halves only (the "
        "answer pointer's: it has read their answer sentences, but never an off-collection quote for them)",
    )
    parser.add_argument("--extra", help="with --answerability: more dumped evidence to fit with (comma-separated)")
    parser.add_argument("--extra-free", action="store_true", help="let the --extra weights take either sign")
    parser.add_argument("--match", type=float, help="with --answerability: also compare at this held-out SQuAD rate")
    args = parser.parse_args(argv)
    records: list[dict] = []
    features: list[str] = []
    for path in args.dumps:
        with open(path, "rb") as handle:
            data = pickle.load(handle)
        if features and data["features"] != features:
            raise SystemExit(f"{path}: dumped with other features")
        records.extend(data["records"])
        features = data["features"]
    if args.exclude:  # e.g. the answer checker's training questions: its logits on them are not a fair sample
        seen = training_questions(args.exclude)
        records = [r for r in records if r["question"] not in seen or r["half"] != "tuning"]
    if args.exclude_answerable:
        seen = training_questions(args.exclude_answerable)
        records = [r for r in records if r["question"] not in seen or r["half"] != "tuning" or not r["answerable"]]
    if args.ranker:
        from bot.scoring import WEIGHTS

        free = set(args.free.split(",")) if args.free else None
        cmd_ranker(records, features, args.news_weight, WEIGHTS, free)
    if args.answerability:
        weights = json.loads(args.weights.read_text())["weights"] if args.weights else scoring.WEIGHTS
        for r in records:  # the checker's logits (ANSWER_CHECK on) come from the dump as they are
            checks = {k: v for k, v in r["ans"].items() if k in CHECK_FEATURES + POINT_FEATURES}
            r["ans"] = (rebuild(r, features, weights) or r["ans"]) | checks
            if "point_odds" in checks:
                r["ans"][POINT_BEST] = max(v for k, v in checks.items() if k in POINT_FEATURES)
        extra = tuple(args.extra.split(",")) if args.extra else ()
        limits = {"squad": args.max_decline_squad, "news": args.max_decline_news}
        cmd_answerability(records, limits, extra=extra, match=args.match, extra_free=args.extra_free)
    if args.floor:
        cmd_floor(records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
