"""Train the bundled reranker (bot/models/minilm-l6-qnli-top3.safetensors): all-MiniLM-L6-v2's top three layers,
pooler and a one-logit head, fine-tuned as a cross-encoder on the SQuAD v1.1 dev set's tuning half and, since
round 10, on news questions the news dev set never sees (benchmarks/news_train.py).

Each training group is one question: its answer sentence, the six sentences of its article (news: its pages)
that share the most question terms without holding the answer, and two more at random; a softmax over the
group's nine logits (the answer first) is the loss. The embedding layer and the lower three transformer layers
stay frozen (they are the bundled embedding model's, so only the trained tensors ship: 11 MB in fp16).

    python benchmarks/train_reranker.py                       # round 7: SQuAD tuning half, one epoch, 29 min
    python benchmarks/news_train.py /tmp/news-all/groups.json # round 10: 1,198 clean news groups (5 min)
    python benchmarks/train_reranker.py --start bot/models/minilm-l6-qnli-top3.safetensors \
        --news /tmp/news-all/groups.json --squad-groups 1500 --lr 4e-5   # round 7's, trained further: 13 min

Then compare with the previous weights in the same conditions (bench_quality.py, docs/quality.md rounds 7, 10).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import squad_data
from bench_quality import contains_answer, same_sentence
from finetune import optimiser_for, save_trained, update

from bot.finetuned import overlay
from bot.lexicon import canon
from bot.rerank import BUNDLED_WEIGHTS
from indexing.prepare import prepare_article
from indexing.settings import bundled_model_path
from indexing.sparse import tokenize

HARD, EASY = 6, 2
TRAIN_TOKENS = 96  # question + sentence while training (answering cuts at bot.rerank.MAX_TOKENS)


def training_groups(root: Path, seed: int = 7) -> list[dict]:
    """(question, answer sentence, hard and easy negatives) for every tuning-half question with a findable answer."""
    articles = squad_data.load_articles(root)
    order = {a.article_id: i for i, a in enumerate(articles)}
    sentences = {}
    for article in articles:
        if order[article.article_id] % 2 == 0:
            prepared = prepare_article(article)
            sentences[article.article_id] = [s.slice(prepared.article.text) for s in prepared.sentences]
    rng = random.Random(seed)
    groups = []
    for q in squad_data.load_questions(root):
        if order[q["article_id"]] % 2:
            continue
        own = sentences[q["article_id"]]
        positives = [s for s in own if same_sentence(s, q["answer_sentences"]) and contains_answer(s, q["answers"])]
        if not positives:
            continue
        negatives = [
            s for s in own if not contains_answer(s, q["answers"]) and not same_sentence(s, q["answer_sentences"])
        ]
        terms = {canon(t) for t in tokenize(q["question"])}
        negatives.sort(key=lambda s: len(terms & {canon(t) for t in tokenize(s)}) + rng.random() * 0.1, reverse=True)
        easy = rng.sample(negatives[HARD:], min(EASY, len(negatives[HARD:])))
        groups.append({"question": q["question"], "texts": [positives[0], *negatives[:HARD], *easy]})
    rng.shuffle(groups)
    return groups


def train(
    groups: list[dict], train_from: int, out: Path, per_step: int = 4, lr: float = 6e-5, start: Path | None = None
) -> None:
    """One epoch of listwise training (from the bundled model, or from the tensors of `start` laid over it);
    writes the trained tensors (fp16 safetensors) to `out`."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(2)
    torch.manual_seed(7)
    base = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    if start is not None:
        overlay(model, start)
    trained = []
    for name, param in model.named_parameters():
        param.requires_grad = (
            any(f"encoder.layer.{i}." in name for i in range(train_from, 6))
            or name.startswith("classifier")
            or "pooler" in name
        )
        if param.requires_grad:
            trained.append(name)
    steps = math.ceil(len(groups) / per_step)
    optimiser, schedule = optimiser_for(model, trained, lr, steps, warmup=80, floor=0.05)
    model.train()
    started, running = time.time(), 0.0
    for step in range(steps):
        batch = groups[step * per_step : (step + 1) * per_step]
        questions = [g["question"] for g in batch for _ in g["texts"]]
        texts = [t for g in batch for t in g["texts"]]
        encoded = tokenizer(
            questions, texts, truncation="only_second", max_length=TRAIN_TOKENS, padding=True, return_tensors="pt"
        )
        logits = model(**encoded).logits.squeeze(-1)
        loss, at = 0.0, 0
        for group in batch:
            n = len(group["texts"])
            loss = loss + torch.nn.functional.cross_entropy(logits[at : at + n][None], torch.zeros(1, dtype=torch.long))
            at += n
        loss = loss / len(batch)
        update(model, loss, optimiser, schedule)
        running += float(loss.detach())
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}/{steps} loss {running / 50:.3f} {time.time() - started:.0f} s", flush=True)
            running = 0.0
    save_trained(
        model, trained, out, {"trained": f"layers {train_from}-5, pooler, classifier", "license": "CC BY-SA 4.0"}
    )
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(groups)} groups)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=squad_data.DEFAULT_EVAL)
    parser.add_argument("--out", type=Path, default=BUNDLED_WEIGHTS)
    parser.add_argument("--train-from", type=int, default=3, help="first transformer layer trained (0-5)")
    parser.add_argument("--news", type=Path, help="news groups (news_train.py's groups.json) to train on too")
    parser.add_argument("--squad-groups", type=int, help="train on only this many SQuAD groups (a seeded sample)")
    parser.add_argument("--start", type=Path, help="go on training these tensors (e.g. the bundled reranker's)")
    parser.add_argument("--lr", type=float, default=6e-5)
    args = parser.parse_args(argv)
    groups = training_groups(args.eval)[: args.squad_groups]
    if args.news:
        groups += json.loads(args.news.read_text(encoding="utf-8"))
        random.Random(7).shuffle(groups)
    print(f"{len(groups)} training groups of {1 + HARD + EASY} sentences", flush=True)
    train(groups, args.train_from, args.out, lr=args.lr, start=args.start)


if __name__ == "__main__":
    main()
