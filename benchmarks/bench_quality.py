"""Answer-quality benchmark on SQuAD v1.1 dev (48 articles, 10,570 questions) plus 200 unanswerable questions.

    python benchmarks/bench_quality.py                      # full run, temporary store
    python benchmarks/bench_quality.py --store /tmp/squad   # keep / reuse the index
    python benchmarks/bench_quality.py --limit 1000         # quick run (first N questions of each half)
    python benchmarks/bench_quality.py --fit                # refit the fusion weights on the tuning half

Halves: the tuning half is the articles with an even index in sorted order (000, 002, ...), the held-out
half the odd ones. Weights and the abstain threshold are fitted on the tuning half only.
Baselines run over every sentence of the collection (not only the pipeline's candidates): dense cosine
alone and sentence-level BM25 alone (k1=0.9, b=0.4).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from squad_data import DEFAULT_EVAL, index_articles, load_articles, load_questions

from bot.components.quote_selector import QuoteSelector
from bot.pipeline import QuestionAnswerer
from bot.scoring import (
    ANSWERABILITY_FEATURES,
    DEFAULT_ABSTAIN_THRESHOLD,
    FEATURES,
    WEIGHTS,
    CandidatePool,
    SentenceCandidate,
    answerability,
    answerability_features,
)
from indexing.embedding import Embedder
from indexing.settings import Settings, bundled_model_path
from indexing.sparse import tokenize
from indexing.store import SENTENCES, Store

UNANSWERABLE = Path(__file__).resolve().parent / "unanswerable_questions.txt"


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def contains_answer(text: str, answers: list[str]) -> bool:
    haystack = norm(text)
    return any(norm(a) and norm(a) in haystack for a in answers)


def same_sentence(quote: str, gold: list[str]) -> bool:
    words = " ".join(re.findall(r"\w+", quote.lower()))
    for sentence in gold:
        g = " ".join(re.findall(r"\w+", sentence.lower()))
        if g and (g in words or (len(words) > 20 and words in g)):
            return True
    return False


def ranked_metrics(texts: list[str], q: dict) -> tuple[bool, bool, float]:
    top1 = bool(texts) and contains_answer(texts[0], q["answers"])
    top3 = any(contains_answer(t, q["answers"]) for t in texts[:3])
    rr = 0.0
    for rank, text in enumerate(texts[:10], 1):
        if same_sentence(text, q["answer_sentences"]):
            rr = 1.0 / rank
            break
    return top1, top3, rr


class AllSentences:
    """Every sentence in the store (deduplicated across overlapping chunks), for the baselines."""

    def __init__(self, store: Store) -> None:
        seen: dict[tuple[str, int], int] = {}
        texts, vectors, articles = [], [], []
        for p in store.chunks(vectors=[SENTENCES]):
            pay = p.payload
            base = pay["start"]
            for (start, end), vec in zip(pay["sentences"], p.vectors[SENTENCES], strict=True):
                key = (pay["article_id"], start)
                if key in seen:
                    continue
                seen[key] = len(texts)
                texts.append(pay["text"][start - base : end - base])
                vectors.append(vec)
                articles.append(pay["article_id"])
        self.texts = texts
        self.matrix = np.asarray(vectors, dtype=np.float32)
        self.articles = articles
        self.terms = [tokenize(t) for t in texts]
        df: Counter[str] = Counter()
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, terms in enumerate(self.terms):
            counts = Counter(terms)
            df.update(counts.keys())
            for term, tf in counts.items():
                self.postings[term].append((i, tf))
        n = len(texts)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.lengths = np.array([len(t) for t in self.terms], dtype=np.float32)
        self.avg = float(self.lengths.mean()) if n else 1.0

    def dense(self, qvec: np.ndarray, k: int = 10) -> list[str]:
        scores = self.matrix @ qvec
        top = np.argpartition(-scores, k)[:k]
        return [self.texts[i] for i in top[np.argsort(-scores[top])]]

    def bm25(self, question: str, k: int = 10, k1: float = 0.9, b: float = 0.4) -> list[str]:
        scores: dict[int, float] = defaultdict(float)
        for term in set(tokenize(question)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in self.postings[term]:
                norm_ = k1 * (1 - b + b * self.lengths[i] / self.avg)
                scores[i] += idf * tf * (k1 + 1) / (tf + norm_)
        best = sorted(scores, key=scores.get, reverse=True)[:k]
        return [self.texts[i] for i in best]


def summarise(rows: list[dict]) -> dict:
    if not rows:
        return {}
    lat = sorted(r["latency_ms"] for r in rows)
    out = {
        "questions": len(rows),
        "top1": statistics.fmean(r["top1"] for r in rows),
        "top3": statistics.fmean(r["top3"] for r in rows),
        "mrr": statistics.fmean(r["rr"] for r in rows),
        "first_quote_words": statistics.fmean(r["words"] for r in rows if r["words"])
        if any(r["words"] for r in rows)
        else 0,
        "abstain_rate": statistics.fmean(r["abstained"] for r in rows),
        "p50_ms": lat[len(lat) // 2],
        "p95_ms": lat[min(len(lat) - 1, int(len(lat) * 0.95))],
    }
    for name in ("dense", "bm25"):
        out[f"{name}_top1"] = statistics.fmean(r[f"{name}_top1"] for r in rows)
        out[f"{name}_top3"] = statistics.fmean(r[f"{name}_top3"] for r in rows)
        out[f"{name}_mrr"] = statistics.fmean(r[f"{name}_rr"] for r in rows)
    return out


def fit_weights(samples: list[tuple[np.ndarray, np.ndarray]], l2: float = 1e-3) -> dict[str, float]:
    """Listwise softmax regression (L-BFGS, full batch): per question, maximise the probability that the
    top candidate holds the answer. Features are standardised for the fit (so `l2` treats them alike) and the
    weights folded back to raw units; the scores come out as log-odds between candidates."""
    from scipy.optimize import minimize

    samples = [(x, y) for x, y in samples if y.any() and not y.all()]
    width = max(len(y) for _, y in samples)
    x = np.zeros((len(samples), width, len(FEATURES)))
    pos = np.zeros((len(samples), width), dtype=bool)
    mask = np.zeros((len(samples), width), dtype=bool)
    for i, (xi, yi) in enumerate(samples):
        x[i, : len(yi)], pos[i, : len(yi)], mask[i, : len(yi)] = xi, yi > 0, True
    mu, sd = x[mask].mean(0), x[mask].std(0) + 1e-6
    xs = np.where(mask[..., None], (x - mu) / sd, 0.0)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = np.where(mask, xs @ w, -np.inf)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p_pos = np.where(pos, p, 0.0)
        mass = p_pos.sum(axis=1, keepdims=True)
        # d(-log mass)/dz = p - p_pos / mass
        grad_z = p - p_pos / mass
        value = -np.log(mass).mean() + l2 * w @ w
        grad = np.einsum("qn,qnf->f", grad_z, xs) / len(samples) + 2 * l2 * w
        return float(value), grad

    w = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    return {f: round(float(v), 4) for f, v in zip(FEATURES, w / sd, strict=True)}


def choose_merge_margin(
    pools: list[list[SentenceCandidate]], answers: list[list[str]], weights: dict[str, float], max_words: float
) -> float:
    """The widest merge margin (score units) whose first quotes average at most `max_words` words: the
    selector's own quote selection replayed on the tuning candidates, rescored with `weights`."""
    w = np.array([weights.get(f, 0.0) for f in FEATURES])
    for pool in pools:
        for c in pool:
            c.score = float(np.array([c.features[f] for f in FEATURES]) @ w)
    ranked = [sorted(pool, key=lambda c: c.score, reverse=True) for pool in pools]
    best = 0.0
    for margin in np.arange(0.0, 5.01, 0.25):
        selector = QuoteSelector({}, weights=weights, merge_close=float(margin))
        firsts = [selector.select(r, 1)[0].quote.text for r in ranked]
        top1 = statistics.fmean(contains_answer(text, a) for text, a in zip(firsts, answers, strict=True))
        words = statistics.fmean(len(text.split()) for text in firsts)
        print(f"merge margin {margin:.2f}: top1 {top1:.4f}, first quote {words:.1f} words", file=sys.stderr)
        if words <= max_words:
            best = float(margin)
    return best


def pool_top1(samples: list[tuple[np.ndarray, np.ndarray]], weights: dict[str, float]) -> float:
    """Share of questions whose best-scoring candidate contains the answer (no diversity, no merging)."""
    w = np.array([weights.get(f, 0.0) for f in FEATURES])
    return statistics.fmean(float(y[int(np.argmax(x @ w))]) for x, y in samples)


def fit_answerability(positives: list[dict], negatives: list[dict], quantile: float) -> tuple[dict, float, float]:
    """Class-balanced L2 logistic regression (C = 1, L-BFGS, as scikit-learn's default) of "answerable" on the
    answerability features; the threshold is the `quantile` of the answerable questions' probabilities."""
    from scipy.optimize import minimize

    x = np.array([[f[n] for n in ANSWERABILITY_FEATURES] for f in positives + negatives], dtype=np.float64)
    y = np.array([1.0] * len(positives) + [0.0] * len(negatives))
    weight = np.where(y > 0, len(y) / (2 * len(positives)), len(y) / (2 * len(negatives)))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = x @ w + b
        p = 1 / (1 + np.exp(-z))
        nll = weight * (np.logaddexp(0, z) - y * z)
        grad_z = weight * (p - y)
        grad = np.concatenate([x.T @ grad_z + w, [grad_z.sum()]])
        return float(nll.sum() + 0.5 * w @ w), grad

    params = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B").x
    weights = {n: round(float(v), 3) for n, v in zip(ANSWERABILITY_FEATURES, params[:-1], strict=True)}
    bias = round(float(params[-1]), 3)
    probs = 1 / (1 + np.exp(-(x[: len(positives)] @ np.array(list(weights.values())) + bias)))
    return weights, bias, float(np.floor(np.quantile(probs, quantile) * 1000) / 1000)


def question_answerability(qa: QuestionAnswerer, raw: dict, question: str) -> dict:
    """The answerability features of one pipeline run (its pool is already scored and fused)."""
    pool: CandidatePool = raw["retriever"]["pool"]
    ranked = sorted(pool.candidates, key=lambda c: c.score, reverse=True)
    stats = qa.resources.corpus_stats()
    return answerability_features(question, ranked, stats.df, stats.idf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="the squad-v1.1-dev folder")
    parser.add_argument("--store", type=Path, help="embedded store folder to build or reuse (default: temporary)")
    parser.add_argument("--limit", type=int, help="ask at most N questions per half (quick runs)")
    parser.add_argument("--half", choices=["tuning", "heldout", "both"], default="both")
    parser.add_argument("--fit", action="store_true", help="fit fusion weights on the tuning half and print them")
    parser.add_argument(
        "--fit-answerability",
        action="store_true",
        help="fit the abstain model on the tuning half + the even lines of the unanswerable questions",
    )
    parser.add_argument(
        "--max-words",
        type=float,
        default=33.0,
        help="with --fit: the first quotes' mean length the merge margin may reach",
    )
    parser.add_argument(
        "--abstain-quantile",
        type=float,
        default=0.01,
        help="with --fit-answerability: the share of tuning questions the threshold may abstain on",
    )
    parser.add_argument("--skip-unanswerable", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args(argv)

    tmp = None
    if args.store is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-squad-")
        args.store = Path(tmp.name)
    settings = Settings(_env_file=None, qdrant_path=args.store, qdrant_collection="squad")
    store = Store.open(settings)
    embedder = Embedder(bundled_model_path())
    articles = load_articles(args.eval)
    spent = index_articles(store, articles, embedder)
    if spent:
        print(f"indexed {len(articles)} articles in {spent:.0f} s", file=sys.stderr)
    order = {a.article_id: i for i, a in enumerate(articles)}
    questions = load_questions(args.eval)
    halves = {"tuning": [q for q in questions if order[q["article_id"]] % 2 == 0]}
    halves["heldout"] = [q for q in questions if order[q["article_id"]] % 2 == 1]
    wanted = (
        ["tuning"]
        if args.fit or args.fit_answerability
        else ["tuning", "heldout"]
        if args.half == "both"
        else [args.half]
    )

    qa = QuestionAnswerer(settings, store, embedder)
    allsent = AllSentences(store)
    print(f"{len(allsent.texts)} sentences in the collection", file=sys.stderr)
    qa.ask("warm up question")
    results: dict[str, dict] = {}
    answerable: list[dict] = []
    samples: list[tuple[np.ndarray, np.ndarray]] = []
    recall = []
    pools: list[list[SentenceCandidate]] = []  # with --fit: the tuning candidates, to replay quote selection
    answers: list[list[str]] = []
    for half in wanted:
        qs = halves[half][: args.limit] if args.limit else halves[half]
        if args.limit:  # spread a quick run over all articles of the half
            step = max(1, len(halves[half]) // args.limit)
            qs = halves[half][::step][: args.limit]
        rows = []
        for n, q in enumerate(qs, 1):
            started = time.perf_counter()
            raw = qa.run_raw(" ".join(q["question"].split()), include_outputs_from={"retriever", "embedder"})
            latency = (time.perf_counter() - started) * 1000
            answer = raw["generator"]["answer"]
            quotes = [x.text for x in answer.quotes + answer.more_quotes]
            top1, top3, rr = ranked_metrics(quotes, q)
            row = {
                "top1": top1,
                "top3": top3,
                "rr": rr,
                "words": len(answer.quotes[0].text.split()) if answer.quotes else 0,
                "abstained": answer.abstained,
                "latency_ms": latency,
            }
            if not args.fit and not args.fit_answerability:
                qvec = raw["embedder"]["embedding"]  # the pipeline's own question embedding
                for name, texts in (("dense", allsent.dense(qvec)), ("bm25", allsent.bm25(q["question"]))):
                    row[f"{name}_top1"], row[f"{name}_top3"], row[f"{name}_rr"] = ranked_metrics(texts, q)
            rows.append(row)
            if args.fit_answerability:
                answerable.append(question_answerability(qa, raw, q["question"]))
            if args.fit:
                pool: CandidatePool = raw["retriever"]["pool"]
                y = np.array([contains_answer(c.text, q["answers"]) for c in pool.candidates], dtype=np.float64)
                recall.append(bool(y.any()))
                if len(y):
                    x = np.array([[c.features[f] for f in FEATURES] for c in pool.candidates], dtype=np.float64)
                    samples.append((x, y))
                    pools.append(pool.candidates)
                    answers.append(q["answers"])
            if n % 500 == 0:
                print(f"{half}: {n}/{len(qs)} top1 {statistics.fmean(r['top1'] for r in rows):.3f}", file=sys.stderr)
        results[half] = (
            summarise(rows)
            if not (args.fit or args.fit_answerability)
            else {"top1": statistics.fmean(r["top1"] for r in rows)}
        )

    if args.fit_answerability:
        lines = [line.strip() for line in UNANSWERABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
        negatives = []
        for text in lines[0::2]:  # the odd lines stay held out
            raw = qa.run_raw(text, include_outputs_from={"retriever", "embedder"})
            negatives.append(question_answerability(qa, raw, text))
        answerable = [f for f in answerable if f]
        weights, bias, threshold = fit_answerability(answerable, [f for f in negatives if f], args.abstain_quantile)
        probs = [answerability(f) for f in negatives]
        print(
            f"current model: wrongly answered (even lines) {statistics.fmean(p >= DEFAULT_ABSTAIN_THRESHOLD for p in probs):.3f}",
            file=sys.stderr,
        )
        print(json.dumps({"weights": weights, "bias": bias, "threshold": threshold}, indent=2))
        qa.close()
        store.close()
        return 0

    if not args.skip_unanswerable and not args.fit:
        unanswerable = [line.strip() for line in UNANSWERABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
        answered = [not qa.ask(text).abstained for text in unanswerable]
        # the answerability model is calibrated on the even (0-based) lines only; the odd ones are held out
        tuning, heldout = answered[0::2], answered[1::2]
        results["unanswerable"] = {
            "questions": len(unanswerable),
            "wrongly_answered": statistics.fmean(answered),
            "wrongly_answered_tuning_lines": statistics.fmean(tuning),
            "wrongly_answered_heldout_lines": statistics.fmean(heldout) if heldout else 0.0,
        }

    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.fit:
        unanswerable = [line.strip() for line in UNANSWERABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
        neg = []
        for text in unanswerable:
            raw = qa.run_raw(text, include_outputs_from={"retriever"})
            pool = raw["retriever"]["pool"]
            x = np.array([[c.features[f] for f in FEATURES] for c in pool.candidates], dtype=np.float64)
            neg.append(x)
        np.save(args.store / "fit_unanswerable.npy", np.array(neg, dtype=object), allow_pickle=True)
    if args.fit and samples:
        print(f"candidate recall (answer in the pool): {statistics.fmean(recall):.3f}", file=sys.stderr)
        np.save(args.store / "fit_samples.npy", np.array(samples, dtype=object), allow_pickle=True)
        (args.store / "fit_features.json").write_text(json.dumps(FEATURES))  # the column order of the dumps
        print(f"pool top1 with the current weights: {pool_top1(samples, WEIGHTS):.4f}", file=sys.stderr)
        fitted = fit_weights(samples)
        print(f"pool top1 with the fitted weights: {pool_top1(samples, fitted):.4f}", file=sys.stderr)
        margin = choose_merge_margin(pools, answers, fitted, args.max_words)
        print(json.dumps({"weights": fitted, "merge_close": margin}, indent=2))
    qa.close()
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
