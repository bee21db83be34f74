"""Train the answer checker (bot/answer_check.py) and measure it as evidence for declining.

Round 7's reranker learnt to tell the answering sentence from others of the same article; as evidence that the
articles answer at all it moved little. The checker is that model trained further (pointwise, binary) with the
negatives an off-collection question meets: the first three quotes the pipeline finds for a tuning-half SQuAD
question in two stores that cannot answer it (the odd-numbered SQuAD articles and the news dev collection),
beside three same-article negatives and the answer sentence. `eval` measures, on questions it was not trained on,
how many off-collection questions a logistic model of (answerability confidence, best and first logit) declines
when 2 % of the held-out SQuAD half is declined (docs/quality.md rounds 8 and 9). The shipped thresholds are
fitted by fit_quality.py --answerability on a bench_quality.py dump instead.

    python benchmarks/train_answer_check.py data     --stores /tmp/quality2 --work /tmp/check   # ~25 min
    python benchmarks/train_answer_check.py train    --work /tmp/check                          # ~16 min
    cp /tmp/check/checker.safetensors bot/models/minilm-l6-answer-check-top3.safetensors
    python benchmarks/train_answer_check.py evaldata --stores /tmp/quality2 --work /tmp/check   # ~5 min
    python benchmarks/train_answer_check.py eval     --work /tmp/check                          # ~2 min

Round 11 tried two more kinds of training data (not kept: no better at `eval`'s operating point, docs/quality.md):
`news` appends news-quiz groups the news dev set never sees (news_train.py) with their quotes from the SQuAD store,
and `train --swaps` adds, per group, the answer sentence against the question with one of its names swapped.

    python benchmarks/train_answer_check.py news     --stores /tmp/quality2 --work /tmp/check   # ~2 min
    python benchmarks/train_answer_check.py train    --work /tmp/check --swaps                  # ~22 min

Round 13 trained all six layers instead of the top three (`train --layers 6`, ~23 min): worse at `eval`'s
operating point on two of the four off-collection sets and level on the others; not kept (docs/quality.md).

Round 14 let the checker read each quote's article title ("<title>: <quote>"): `titles` rewrites an existing
work/train.json and work/eval.pkl so (the pipeline would give the checker the same form). No better separation
at `eval`'s operating points, with or without round 11's news groups; not kept (docs/quality.md).

    python benchmarks/train_answer_check.py titles   --work /tmp/check                          # ~2 min

The logistic model of `eval` is fitted on the even halves (SQuAD tuning questions, even-numbered news,
news-on-SQuAD and written unanswerable questions); the figures are on the odd halves. Its threshold is set on the
held-out SQuAD half itself, so the decline rates compare signals at one operating point, not a deployable setting.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import pickle
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import numpy as np
import squad_data
from bench_quality import UNANSWERABLE, Collection
from embed_cache import DEFAULT_CACHE, CachedEmbedder
from finetune import optimiser_for, save_trained, update
from train_reranker import training_groups

from bot.rerank import BUNDLED_WEIGHTS
from bot.scoring import SCORES_ONLY
from indexing.settings import bundled_model_path

OFF_SETS = ("news_on_squad", "unanswerable", "squad_cross", "squad_on_news")


def first_quotes(col: Collection, question: str, as_of: str | None = None) -> dict:
    """The scores-only answerability confidence (without the checker, whatever ANSWER_CHECK says) and the first
    three quote drafts for `question`."""
    raw = col.qa.run_raw(" ".join(question.split()), include_outputs_from={"selector"}, as_of=as_of)
    selector = raw["selector"]
    return {"conf": SCORES_ONLY(selector["evidence"]), "texts": [d.quote.text for d in selector["drafts"][:3]]}


def open_collection(stores: Path, name: str, embedder) -> Collection:
    """One benchmark store: `news`, `squad`, `squad-even` or `squad-odd`."""
    if name == "news":
        return Collection("news", stores / "news", "news", news_data.load_articles(news_data.DEFAULT_NEWS), embedder)
    articles = squad_data.load_articles(squad_data.DEFAULT_EVAL)
    chosen = {"squad": articles, "squad-even": articles[0::2], "squad-odd": articles[1::2]}[name]
    return Collection(name, stores / name, "squad", chosen, embedder)


def build_training(stores: Path, work: Path, n_train: int = 3000) -> None:
    """Training groups: each tuning-half SQuAD question with its answer sentence, three same-article negatives and
    the first three quotes the pipeline finds for it in two stores that cannot answer it (the odd-numbered SQuAD
    articles and the news dev collection): what an off-collection question's best quotes look like."""
    embedder = CachedEmbedder(bundled_model_path(), DEFAULT_CACHE)
    groups = [
        {"question": g["question"], "pos": g["texts"][0], "same": g["texts"][1:4]}
        for g in training_groups(squad_data.DEFAULT_EVAL)[:n_train]
    ]
    for store, key in (("squad-odd", "off"), ("news", "off_news")):
        col = open_collection(stores, store, embedder)
        for g in groups:
            g[key] = first_quotes(col, g["question"])["texts"]
        col.close()
        print(f"{store}: {len(groups)} questions", file=sys.stderr, flush=True)
    (work / "train.json").write_text(json.dumps(groups), encoding="utf-8")


def add_news(stores: Path, work: Path, groups_path: Path, all_dir: Path, hard: int = 4) -> None:
    """Append news-quiz groups (news_train.py, questions the news dev set never sees) to work/train.json: the
    answer sentence where it holds an answer as written (a loose "China" match is not a positive to learn from),
    `hard` same-page negatives, and the first three quotes the whole SQuAD store finds for the question (what a news
    question asked of another collection meets)."""
    embedder = CachedEmbedder(bundled_model_path(), DEFAULT_CACHE)
    answers = {q["question"]: q["answers"] for q in news_data.load_questions(all_dir)}
    groups = answered_as_written(json.loads(groups_path.read_text(encoding="utf-8")), answers, hard)
    col = open_collection(stores, "squad", embedder)
    for g in groups:
        g["off"] = first_quotes(col, g["question"])["texts"]
    col.close()
    path = work / "train.json"
    existing = [g for g in json.loads(path.read_text(encoding="utf-8")) if not g.get("news")]
    path.write_text(json.dumps(existing + [{**g, "news": True} for g in groups]), encoding="utf-8")
    print(f"{len(groups)} news groups added to {len(existing)}", file=sys.stderr, flush=True)


def answered_as_written(groups: list[dict], answers: dict[str, list[str]], hard: int) -> list[dict]:
    """The listwise news groups whose first sentence holds an answer of four characters or more as written, as
    (question, pos, `hard` same-page negatives)."""
    kept = []
    for g in groups:
        exact = [a for a in answers.get(g["question"], []) if len(a.strip()) >= 4]
        if any(re.search(rf"(?<!\w){re.escape(a)}(?!\w)", g["texts"][0]) for a in exact):
            kept.append({"question": g["question"], "pos": g["texts"][0], "same": g["texts"][1 : 1 + hard]})
    return kept


_NAME = re.compile(r"(?<![\w'’])(?:[A-Z][\w'’\-]*(?: [A-Z][\w'’\-]*)*|\d[\d,.]*\d|\d)(?![\w'’])")


def names(question: str) -> list[str]:
    """The names and numbers of a question (runs of capitalised words, digit groups), not its first word."""
    rest = question.split(" ", 1)[1] if " " in question else ""
    return _NAME.findall(rest)


def swapped(question: str, pos: str, pool: list[str], rng: random.Random) -> str | None:
    """`question` with one of its names that the answer sentence also holds replaced by another question's name
    of the same kind: the sentence still shares nearly every word with it but no longer answers it (what fools the
    checker off the collection: "Who wrote the Harry Potter books?" against "… Beatrix Potter")."""
    shared = [n for n in names(question) if n in pos]
    if not shared:
        return None
    name = rng.choice(shared)

    def kind(n: str) -> tuple[bool, int]:
        return (True, len(n)) if n[0].isdigit() else (False, 0)  # a year for a year

    others = [o for o in pool if kind(o) == kind(name) and o not in pos and o not in question]
    return question.replace(name, rng.choice(others), 1) if others else None


def title_finder(articles: list) -> Callable[[str], str]:
    """A function giving the title of the article (of `articles`) a quote comes from ("" when none holds it): the
    quote's first line, up to 60 characters, is looked up in the articles' texts."""
    texts, starts, titles, at = [], [], [], 0
    for article in articles:
        texts.append(article.text + "\x00")
        starts.append(at)
        titles.append(article.title)
        at += len(article.text) + 1
    joined = "".join(texts)

    def title(text: str) -> str:
        found = joined.find(text.split("\n")[0][:60])
        return titles[bisect.bisect_right(starts, found) - 1] if found >= 0 else ""

    return title


def titled(title: str, text: str) -> str:
    """What a checker that reads titles sees of a quote: "<title>: <quote>"."""
    return f"{title}: {text}" if title else text


def add_titles(work: Path, news_all: Path) -> None:
    """Prefix every text of work/train.json and work/eval.pkl with its article's title (round 14's try): SQuAD
    groups' own sentences and `off` quotes come from the SQuAD articles, `off_news` quotes from the news dev
    collection, news groups' own sentences from `news_all`; eval quotes from the store their set asks."""
    squad = title_finder(squad_data.load_articles(squad_data.DEFAULT_EVAL))
    news = title_finder(news_data.load_articles(news_data.DEFAULT_NEWS))
    quiz = title_finder(news_data.load_articles(news_all)) if (news_all / "articles.jsonl").exists() else news
    path = work / "train.json"
    groups = json.loads(path.read_text(encoding="utf-8"))
    for g in groups:
        own = quiz if g.get("news") else squad
        g["pos"] = titled(own(g["pos"]), g["pos"])
        g["same"] = [titled(own(t), t) for t in g["same"]]
        g["off"] = [titled(squad(t), t) for t in g["off"]]
        g["off_news"] = [titled(news(t), t) for t in g.get("off_news", [])]
    path.write_text(json.dumps(groups), encoding="utf-8")
    with (work / "eval.pkl").open("rb") as handle:
        records = pickle.load(handle)
    for r in records:
        look = news if r["set"] in ("news", "squad_on_news") else squad
        r["texts"] = [titled(look(t), t) for t in r["texts"]]
    with (work / "eval.pkl").open("wb") as handle:
        pickle.dump(records, handle)


def build_eval(stores: Path, work: Path, seed: int = 11) -> None:
    """Evaluation records: the answerability confidence and first three quotes of questions of every set."""
    embedder = CachedEmbedder(bundled_model_path(), DEFAULT_CACHE)
    articles = squad_data.load_articles(squad_data.DEFAULT_EVAL)
    order = {a.article_id: i for i, a in enumerate(articles)}
    rng = random.Random(seed)
    squad_qs = squad_data.load_questions(squad_data.DEFAULT_EVAL)
    odd = rng.sample([q for q in squad_qs if order[q["article_id"]] % 2], 400)
    even = rng.sample([q for q in squad_qs if order[q["article_id"]] % 2 == 0], 300)
    news = news_data.load_questions(news_data.DEFAULT_NEWS)
    unanswerable = [t.strip() for t in UNANSWERABLE.read_text(encoding="utf-8").splitlines() if t.strip()]
    plan = [
        ("squad", "squad", [(q["question"], None, 1) for q in odd] + [(q["question"], None, 0) for q in even]),
        ("news_on_squad", "squad", [(q["question"], q.get("question_date"), i % 2) for i, q in enumerate(news)]),
        ("unanswerable", "squad", [(t, None, i % 2) for i, t in enumerate(unanswerable)]),
        ("squad_cross", "squad-even", [(q["question"], None, 1) for q in odd]),
        ("squad_on_news", "news", [(q["question"], None, 1) for q in odd]),
        ("news", "news", [(q["question"], q.get("question_date"), i % 2) for i, q in enumerate(news)]),
    ]
    records = []
    for name, store, questions in plan:
        col = open_collection(stores, store, embedder)
        for question, as_of, half in questions:
            records.append({"set": name, "half": half, "question": question, **first_quotes(col, question, as_of)})
        col.close()
        print(f"{name}: {len(questions)} questions", file=sys.stderr, flush=True)
    with (work / "eval.pkl").open("wb") as handle:
        pickle.dump(records, handle)


def train(work: Path, per_step: int = 4, lr: float = 4e-5, swaps: bool = False, layers: int = 3) -> None:
    """One epoch of weighted binary cross-entropy from the bundled reranker, training its top `layers` encoder
    layers and the head; writes work/checker.safetensors."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from bot.finetuned import load_finetuned

    torch.set_num_threads(2)
    torch.manual_seed(7)
    tokenizer, model = load_finetuned("bundled", AutoModelForSequenceClassification, BUNDLED_WEIGHTS, num_labels=1)
    groups = json.loads((work / "train.json").read_text(encoding="utf-8"))
    random.Random(5).shuffle(groups)
    trained = []
    for name, param in model.named_parameters():
        param.requires_grad = (
            any(f"encoder.layer.{i}." in name for i in range(6 - layers, 6))
            or "pooler" in name
            or name.startswith("classifier")
        )
        if param.requires_grad:
            trained.append(name)
    steps = math.ceil(len(groups) / per_step)
    optimiser, schedule = optimiser_for(model, trained, lr, steps, warmup=50, floor=0.05)
    pool = [n for g in groups for n in names(g["question"])] if swaps else []
    rng = random.Random(3)
    model.train()
    started = time.time()
    for step in range(steps):
        pairs = [p for g in groups[step * per_step : (step + 1) * per_step] for p in group_pairs(g, pool, rng)]
        encoded = tokenizer(
            [p[0] for p in pairs], [p[1] for p in pairs], truncation="only_second", max_length=96, padding=True,
            return_tensors="pt",
        )  # fmt: skip
        labels = torch.tensor([p[2] for p in pairs])
        weight = torch.tensor([p[3] for p in pairs])
        logits = model(**encoded).logits.squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, weight=weight)
        update(model, loss, optimiser, schedule)
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}/{steps} loss {loss.item():.3f} {time.time() - started:.0f} s", flush=True)
    save_trained(model, trained, work / "checker.safetensors")


def negatives(group: dict) -> list[str]:
    """A training group's negatives: same-article sentences and off-collection quotes."""
    return group["same"] + group["off"] + group.get("off_news", [])


def group_pairs(group: dict, pool: list[str], rng: random.Random) -> list[tuple[str, str, float, float]]:
    """(question, text, label, weight) of one group: the answer sentence weighs half the group's pairs (round 9's
    weighting); with a name `pool`, the answer sentence against the question with one name swapped is one more
    negative."""
    question = group["question"]
    pairs = [(question, t, 0.0) for t in negatives(group)]
    swap = swapped(question, group["pos"], pool, rng) if pool else None
    if swap:
        pairs.append((swap, group["pos"], 0.0))
    return [(question, group["pos"], 1.0, (len(pairs) + 1) / 2)] + [(*p, 1.0) for p in pairs]


def logits(records: list[dict], weights: Path, key: str) -> None:
    """Each record's cross-encoder logits for its first three quotes, under `key`."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from bot.finetuned import load_finetuned

    torch.set_num_threads(1)
    tokenizer, model = load_finetuned("bundled", AutoModelForSequenceClassification, weights, num_labels=1)
    for r in records:
        if r["texts"]:
            batch = tokenizer(
                [r["question"]] * len(r["texts"]), r["texts"], truncation="only_second", max_length=96,
                padding=True, return_tensors="pt",
            )  # fmt: skip
            with torch.inference_mode():
                r[key] = model(**batch).logits[:, 0].tolist()


def evaluate(work: Path) -> dict:
    """Decline rates at 2 % of held-out SQuAD declined: the confidence alone, + the reranker, + the checker."""
    from fit_quality import fit_logistic
    from scipy.stats import rankdata

    with (work / "eval.pkl").open("rb") as handle:
        records = pickle.load(handle)
    logits(records, BUNDLED_WEIGHTS, "reranker")
    logits(records, work / "checker.safetensors", "checker")

    def row(r: dict, keys: list[str]) -> list[float]:
        c = min(max(r["conf"], 1e-6), 1 - 1e-6)
        out = [math.log(c / (1 - c))]
        for k in keys:
            s = r.get(k) or [-10.0]
            out += [max(s), s[0]]
        return out

    fit = [r for r in records if r["half"] == 0]
    held = {name: [r for r in records if r["set"] == name and r["half"] == 1] for name in ("squad", "news", *OFF_SETS)}
    report = {}
    for keys in ([], ["reranker"], ["checker"]):
        x = np.array([row(r, keys) for r in fit])
        w, b = fit_logistic(x, np.array([r["set"] in ("squad", "news") for r in fit], dtype=float), np.ones(len(x)))

        def score(rs: list[dict], keys: list[str] = keys, w: np.ndarray = w, b: float = b) -> np.ndarray:
            return np.array([row(r, keys) for r in rs]) @ w + b

        threshold = float(np.quantile(score(held["squad"]), 0.02))
        result = {name: round(float((score(held[name]) < threshold).mean()), 3) for name in OFF_SETS}
        result["news answerable declined"] = round(float((score(held["news"]) < threshold).mean()), 3)
        pos, neg = score(held["squad"]), score([r for name in OFF_SETS for r in held[name]])
        ranks = rankdata(np.concatenate([pos, neg]))[: len(pos)]
        result["auc"] = round(float((ranks.sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))), 3)
        report["+".join(["confidence", *keys])] = result
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["data", "news", "titles", "evaldata", "train", "eval"])
    parser.add_argument("--stores", type=Path, default=Path("/tmp/quality"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/probe"))
    parser.add_argument("--news-groups", type=Path, default=Path("/tmp/news-all/groups.json"))
    parser.add_argument("--news-all", type=Path, default=Path("/tmp/news-all"))
    parser.add_argument("--swaps", action="store_true", help="add the swapped-name negatives (round 11, not kept)")
    parser.add_argument("--layers", type=int, default=3, choices=range(1, 7), help="top encoder layers to train")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.step == "data":
        build_training(args.stores, args.work)
    elif args.step == "news":
        add_news(args.stores, args.work, args.news_groups, args.news_all)
    elif args.step == "titles":
        add_titles(args.work, args.news_all)
    elif args.step == "evaldata":
        build_eval(args.stores, args.work)
    elif args.step == "train":
        train(args.work, swaps=args.swaps, layers=args.layers)
    else:
        print(json.dumps(evaluate(args.work), indent=2))


if __name__ == "__main__":
    main()
