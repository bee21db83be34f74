"""Answer-quality benchmark: SQuAD v1.1 dev, the news dev set, and questions the collection cannot answer.

    python benchmarks/bench_quality.py --stores /tmp/quality                # everything (builds missing stores)
    python benchmarks/bench_quality.py --stores /tmp/quality --only squad   # SQuAD sets only
    python benchmarks/bench_quality.py --stores /tmp/quality --only news    # news sets only
    python benchmarks/bench_quality.py --stores /tmp/quality --limit 500    # quick run (N questions per set)
    python benchmarks/bench_quality.py --stores /tmp/quality --dump /tmp/quality/dump.pkl  # features, for fit_quality.py

Stores (under --stores, built on first use through an embedding cache, benchmarks/embed_cache.py): `squad`
(the 48 articles), `squad-even` / `squad-odd` (the even / odd article index only) and `news` (the news dev
collection, /tmp/news-dev, see ../shared/eval/news-dev/README.md; about 20 minutes of encoding on 2 cores).

Answerable sets, each reported by half (the fitting half and the held-out half, see docs/quality.md):
- `squad`: SQuAD questions asked of `squad` (tuning half = even article index);
- `news`: the news questions asked of `news` on their `question_date` (fitting half = even line).
Off-collection sets (every question must be declined):
- `squad_cross`: even articles' questions asked of `squad-odd` and odd ones' of `squad-even`;
- `news_on_squad`: the news questions asked of `squad`; `squad_on_news`: SQuAD questions asked of `news`;
- `unanswerable`: benchmarks/unanswerable_questions.txt asked of `squad` (even lines fit, odd held out).
Baselines in the same run over every sentence of the collection: dense cosine alone and BM25 alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import numpy as np
import squad_data
from embed_cache import DEFAULT_CACHE, CachedEmbedder
from fit_quality import training_questions

from bot.answer_check import CHECKED_QUOTES, check_features, load_answer_checker
from bot.finetuned import disabled
from bot.lexicon import canon
from bot.pipeline import QuestionAnswerer
from bot.pointer import load_pointer
from bot.scoring import FEATURES, CandidatePool
from indexing.settings import Settings, bundled_model_path
from indexing.sparse import tokenize
from indexing.store import SENTENCES, Store

UNANSWERABLE = Path(__file__).resolve().parent / "unanswerable_questions.txt"


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def contains_answer(text: str, answers: list[str]) -> bool:
    haystack = norm(text)
    return any(norm(a) and norm(a) in haystack for a in answers)


def shown(quote) -> str:
    """The part of a quote shown inline: its window when it has one (the full sentence is one click away)."""
    return quote.text[quote.window[0] : quote.window[1]] if quote.window else quote.text


def same_sentence(quote: str, gold: list[str]) -> bool:
    words = " ".join(re.findall(r"\w+", quote.lower()))
    for sentence in gold:
        g = " ".join(re.findall(r"\w+", sentence.lower()))
        if g and (g in words or (len(words) > 20 and words in g)):
            return True
    return False


class AllSentences:
    """Every sentence in a store (deduplicated across overlapping chunks), for the baselines."""

    def __init__(self, store: Store) -> None:
        seen: set[tuple[str, int]] = set()
        texts, vectors, articles = [], [], []
        for p in store.chunks(vectors=[SENTENCES]):
            pay = p.payload
            base = pay["start"]
            for (start, end), vec in zip(pay["sentences"], p.vectors[SENTENCES], strict=True):
                if (pay["article_id"], start) in seen:
                    continue
                seen.add((pay["article_id"], start))
                texts.append(pay["text"][start - base : end - base])
                vectors.append(vec)
                articles.append(pay["article_id"])
        self.texts, self.articles = texts, articles
        self.matrix = np.asarray(vectors, dtype=np.float32)
        df: Counter[str] = Counter()
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for i, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths.append(sum(counts.values()))
            df.update(counts.keys())
            for term, tf in counts.items():
                self.postings[term].append((i, tf))
        n = len(texts)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.lengths = np.array(lengths, dtype=np.float32)
        self.avg = float(self.lengths.mean()) if n else 1.0

    def dense(self, qvec: np.ndarray, k: int = 10) -> list[int]:
        scores = self.matrix @ qvec
        top = np.argpartition(-scores, k)[:k]
        return list(top[np.argsort(-scores[top])])

    def bm25(self, question: str, k: int = 10, k1: float = 0.9, b: float = 0.4) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        for term in set(tokenize(question)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in self.postings[term]:
                norm_ = k1 * (1 - b + b * self.lengths[i] / self.avg)
                scores[i] += idf * tf * (k1 + 1) / (tf + norm_)
        return sorted(scores, key=scores.get, reverse=True)[:k]


def open_store(path: Path, collection: str, articles: list, embedder) -> tuple[Settings, Store]:
    settings = Settings(
        _env_file=None, qdrant_path=path, qdrant_collection=collection, embedding_model=embedder.model_name
    )
    store = Store.open(settings)
    spent = squad_data.index_articles(store, articles, embedder)
    if spent:
        print(f"indexed {len(articles)} articles into {path} in {spent:.0f} s", file=sys.stderr)
    return settings, store


class Collection:
    """One store with its answerer and (lazily) its every-sentence baselines."""

    def __init__(self, name: str, path: Path, collection: str, articles: list, embedder) -> None:
        self.name = name
        self.settings, self.store = open_store(path, collection, articles, embedder)
        self.qa = QuestionAnswerer(self.settings, self.store, embedder)
        self.qa.ask("warm up question")
        self._all: AllSentences | None = None

    @property
    def sentences(self) -> AllSentences:
        if self._all is None:
            self._all = AllSentences(self.store)
            print(f"{self.name}: {len(self._all.texts)} sentences", file=sys.stderr)
        return self._all

    def close(self) -> None:
        self.qa.close()
        self.store.close()


def ask(col: Collection, q: dict, baselines: bool, dump: list | None, label: str) -> dict:
    """Run one question through the pipeline; the row of metrics (and a dump record for fit_quality.py)."""
    text = " ".join(q["question"].split())
    started = time.perf_counter()
    raw = col.qa.run_raw(text, include_outputs_from={"retriever", "embedder", "selector"}, as_of=q.get("question_date"))
    latency = (time.perf_counter() - started) * 1000
    answer = raw["generator"]["answer"]
    answers = q.get("answers") or []
    gold_ids = set(q.get("article_ids") or [])
    quotes = answer.quotes + answer.more_quotes
    first = answer.quotes[0] if answer.quotes else None
    row = {
        "top1": bool(first) and not answer.abstained and contains_answer(first.text, answers),
        "top3": not answer.abstained and any(contains_answer(x.text, answers) for x in answer.quotes[:3]),
        "gold_hit": bool(first) and not answer.abstained and first.article_id in gold_ids,
        "abstained": answer.abstained,
        # answered, but shown as the closest passages (weak evidence) / as an answer
        "tentative": not answer.abstained and answer.tentative,
        "confident": not answer.abstained and not answer.tentative,
        "dated": not answer.abstained and answer.dated,  # flagged because the first quote predates the question's time
        "suggested": answer.did_you_mean is not None,  # declined, with a respelled question that is answered
        "noted": bool(answer.absent),  # "No indexed article mentions …" (bot/absent.py)
        "latency_ms": latency,
        "words": len(first.text.split()) if first else 0,
        "shown": len(answer.quotes),
        "later_with_answer": sum(contains_answer(x.text, answers) for x in answer.quotes[1:]),
        "windowed": sum(x.window is not None for x in quotes),
        # the same on what a reader sees without opening the source: a long quote's "…" window, not its sentence
        "top1_shown": bool(first) and not answer.abstained and contains_answer(shown(first), answers),
        "top3_shown": not answer.abstained and any(contains_answer(shown(x), answers) for x in answer.quotes[:3]),
    }
    if not answer.abstained:  # accuracy within each kind of reply: given as an answer, flagged, flagged as older
        kinds = ["confident"] if not answer.tentative else ["flagged"] + (["dated"] if answer.dated else [])
        for kind in kinds:
            row[f"{kind}_top1"], row[f"{kind}_top3"] = row["top1"], row["top3"]
    kind = "declined" if answer.abstained else "flagged" if answer.tentative else "confident"
    row[f"{kind}_noted"] = bool(answer.absent)  # how often each kind of reply names an absent word
    if "answer_sentences" in q:
        row["rr"] = next(
            (1.0 / r for r, x in enumerate(quotes[:9], 1) if same_sentence(x.text, q["answer_sentences"])), 0.0
        )
    if first and not answer.abstained:
        lead = answer.lead
        row["lead_verbatim"] = (
            lead is not None and first.text[lead[0] : lead[1]] == answer.answer and bool(answer.answer)
        )
        row["lead_shorter"] = len(answer.answer) < len(first.text)
        if contains_answer(first.text, answers):
            row["lead_keeps"] = contains_answer(answer.answer, answers)
    if baselines:
        qvec = raw["embedder"]["embedding"]
        sents = col.sentences
        for name, ids in (("dense", sents.dense(qvec)), ("bm25", sents.bm25(text))):
            row[f"{name}_top1"] = contains_answer(sents.texts[ids[0]], answers) if ids else False
            row[f"{name}_top3"] = any(contains_answer(sents.texts[i], answers) for i in ids[:3])
            row[f"{name}_gold_hit"] = bool(ids) and sents.articles[ids[0]] in gold_ids
            if "answer_sentences" in q:
                row[f"{name}_rr"] = next(
                    (1.0 / r for r, i in enumerate(ids[:9], 1) if same_sentence(sents.texts[i], q["answer_sentences"])),
                    0.0,
                )
    if dump is not None:
        pool: CandidatePool = raw["retriever"]["pool"]
        ranked = sorted(pool.candidates, key=lambda c: c.score, reverse=True)
        stats = col.qa.resources.corpus_stats()
        terms = {canon(t) for t in tokenize(text)}
        dump.append(
            {
                "question": text,
                "idf": {t: stats.idf(t) for t in terms} | {"\x00": stats.idf("\x00")},
                "df": {t: stats.df.get(t, 0) for t in terms},
                "top": [
                    {
                        "row": pool.candidates.index(c),
                        "text": c.text,
                        "article_id": c.article_id,
                        "start": c.start,
                        "prev_start": c.prev_start,
                        "next_start": c.next_start,
                    }
                    for c in ranked[:40]
                ],
                "set": label,
                "id": q.get("id"),
                "half": q.get("half"),
                "answerable": label in ("squad", "news"),
                "x": np.array([[c.features[f] for f in FEATURES] for c in pool.candidates], dtype=np.float32),
                "y": np.array([contains_answer(c.text, answers) for c in pool.candidates], dtype=bool),
                "gold": np.array([c.article_id in gold_ids for c in pool.candidates], dtype=bool),
                "words": np.array([len(c.text.split()) for c in pool.candidates], dtype=np.int32),
                "ans": full_evidence(col, text, raw["selector"]),
                "quote_scores": [x.score for x in quotes],
                "quote_has": [contains_answer(x.text, answers) for x in quotes],
            }
        )
    return row


def full_evidence(col: Collection, question: str, selector: dict) -> dict[str, float]:
    """The selector's answerability evidence, with the answer checker's logits on all of the first quotes even
    where the pipeline stopped reading once the decision was made (a fit needs the real values)."""
    evidence = dict(selector["evidence"])
    if "check_read" in evidence:
        texts = [d.quote.text for d in selector["drafts"][:CHECKED_QUOTES]]
        checker = load_answer_checker(col.settings.answer_check)  # the pipeline's own (process-wide) checker
        evidence |= check_features(checker.scores(question, texts).tolist())
    if evidence and not disabled(col.settings.answer_pointer):  # the pointer's answer odds on quotes 1-3 (trials)
        pointer = load_pointer(col.settings.answer_pointer, "cpu", col.settings.pointer_precision)
        for n, draft in enumerate(selector["drafts"][:3], 1):
            dist = pointer.distribution(question, draft.quote.text)
            evidence["point_odds" + (f"_{n}" if n > 1 else "")] = dist.answer_odds if dist is not None else 0.0
    return evidence


def summarise(rows: list[dict]) -> dict:
    """Means of every metric over the rows that have it; latency percentiles."""
    if not rows:
        return {}
    out: dict = {"questions": len(rows)}
    keys = sorted({k for r in rows for k in r if k not in ("latency_ms",)})
    for key in keys:
        values = [float(r[key]) for r in rows if key in r]
        out[key] = round(statistics.fmean(values), 4) if values else None
    lat = sorted(r["latency_ms"] for r in rows)
    out["p50_ms"] = round(lat[len(lat) // 2], 1)
    out["p95_ms"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.95))], 1)
    return out


def spread(items: list, limit: int | None) -> list:
    """At most `limit` items spread evenly over the list (quick runs)."""
    if not limit or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def run_set(col: Collection, label: str, questions: list[dict], baselines: bool, dump, limit) -> dict:
    rows: dict[str, list[dict]] = defaultdict(list)
    chosen = spread(questions, limit)
    for n, q in enumerate(chosen, 1):
        rows[q.get("half", "all")].append(ask(col, q, baselines, dump, label))
        if n % 500 == 0:
            print(f"{label}: {n}/{len(chosen)}", file=sys.stderr, flush=True)
    result = {half: summarise(r) for half, r in sorted(rows.items())}
    if len(rows) > 1:
        result["all"] = summarise([x for r in rows.values() for x in r])
    brief = {
        h: {k: v for k, v in s.items() if k in ("top1", "top3", "gold_hit", "abstained")} for h, s in result.items()
    }
    print(f"{label}: {json.dumps(brief)}", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=Path, default=Path("/tmp/quality"), help="folder of the benchmark stores")
    parser.add_argument("--eval", type=Path, default=squad_data.DEFAULT_EVAL, help="the squad-v1.1-dev folder")
    parser.add_argument("--news", type=Path, default=news_data.DEFAULT_NEWS, help="the built news dev set")
    parser.add_argument("--embed-cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--model", default=None, help="embedding model (path or name; default: the bundled all-MiniLM-L6-v2)"
    )
    parser.add_argument("--only", choices=["squad", "news"], help="only the sets of this collection")
    parser.add_argument("--sets", help="comma-separated set names to run (default: all)")
    parser.add_argument("--limit", type=int, help="ask at most N questions per set (quick runs)")
    parser.add_argument("--offset-limit", type=int, default=2000, help="SQuAD questions asked of the news store")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--dump", type=Path, help="write candidate features and labels here (for fit_quality.py)")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    parser.add_argument("--half", choices=["tuning", "heldout"], help="ask only this half of every set")
    parser.add_argument(
        "--skip",
        type=Path,
        help="a training file (JSON list of {question}) whose questions no set asks (a dump of "
        "the questions a fit may use)",
    )
    args = parser.parse_args(argv)

    embedder = CachedEmbedder(args.model or bundled_model_path(), args.embed_cache)
    squad_articles = squad_data.load_articles(args.eval)
    order = {a.article_id: i for i, a in enumerate(squad_articles)}
    squad_qs = squad_data.load_questions(args.eval)
    for q in squad_qs:
        q["half"] = "tuning" if order[q["article_id"]] % 2 == 0 else "heldout"
    news_qs = news_data.load_questions(args.news) if (args.news / "questions.jsonl").exists() else []
    for i, q in enumerate(news_qs):
        q["half"] = "tuning" if i % 2 == 0 else "heldout"
    unanswerable = [line.strip() for line in UNANSWERABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    unans_qs = [{"question": t, "half": "tuning" if i % 2 == 0 else "heldout"} for i, t in enumerate(unanswerable)]
    no_answer = [{k: v for k, v in q.items() if k not in ("answers", "article_ids")} for q in news_qs]
    squad_no_answer = [{"question": q["question"], "half": q["half"]} for q in squad_qs]

    wanted = set(args.sets.split(",")) if args.sets else None
    plan = {
        "squad": ("squad", squad_qs, True),
        "unanswerable": ("squad", unans_qs, False),
        "news_on_squad": ("squad", no_answer, False),
        "squad_cross": ("cross", squad_no_answer, False),
        "news": ("news", news_qs, True),
        "squad_on_news": ("news", spread(squad_no_answer, args.offset_limit), False),
    }
    if args.only == "squad":
        plan = {k: v for k, v in plan.items() if v[0] != "news"}
    elif args.only == "news":
        plan = {k: v for k, v in plan.items() if k in ("news", "news_on_squad", "squad_on_news")}
    if wanted:
        plan = {k: v for k, v in plan.items() if k in wanted}

    dump: list | None = [] if args.dump else None
    results: dict[str, dict] = {}
    started = time.perf_counter()
    cols: dict[str, Collection] = {}

    def collection(name: str) -> Collection:
        if name not in cols:
            if name == "news":
                cols[name] = Collection(
                    "news", args.stores / "news", "news", news_data.load_articles(args.news), embedder
                )
            else:
                cols[name] = Collection("squad", args.stores / "squad", "squad", squad_articles, embedder)
        return cols[name]

    skip = training_questions(args.skip) if args.skip else set()

    def kept(q: dict) -> bool:
        return args.half in (None, q["half"]) and " ".join(q["question"].split()) not in skip

    if args.half or skip:  # squad_qs too: the cross set pairs its questions with them
        plan = {k: (w, [q for q in qs if kept(q)], b) for k, (w, qs, b) in plan.items()}
        squad_qs = [q for q in squad_qs if kept(q)]

    for label, (where, questions, baselines) in plan.items():
        if not questions:
            continue
        if where == "cross":
            parts = []
            for keep, store_name in ((1, "squad-odd"), (0, "squad-even")):
                col = Collection(store_name, args.stores / store_name, "squad", squad_articles[keep::2], embedder)
                asked = [q for q, src in zip(questions, squad_qs, strict=True) if order[src["article_id"]] % 2 != keep]
                parts.append(run_set(col, label, asked, False, dump, args.limit))
                col.close()
            # even articles' questions (tuning half) asked of the odd store, and the reverse
            results[label] = {"tuning": parts[0].get("tuning", {}), "heldout": parts[1].get("heldout", {})}
            continue
        col = collection(where)
        results[label] = run_set(col, label, questions, baselines and not args.no_baselines, dump, args.limit)
    for col in cols.values():
        col.close()
    results["run_seconds"] = round(time.perf_counter() - started)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if dump is not None:
        with open(args.dump, "wb") as handle:
            pickle.dump({"features": FEATURES, "records": dump}, handle)
    print(f"embedding cache: {embedder.hits} hits, {embedder.misses} encoded", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
