"""Train the bundled answer pointer (bot/models/minilm-l6-squad-span-top4.safetensors): all-MiniLM-L6-v2's top
four layers and a start/end head, fine-tuned as an extractive reader on the SQuAD v1.1 dev set's tuning half
(round 8), then one more epoch that adds no-answer examples and news questions the news dev set never sees
(round 19).

The pointer does not write answers: it tells the lead (bot/answer_text.py) which piece of the first quote holds
the answer, so the lead can stop at that piece instead of growing over clauses a lexical model cannot rule out.
Each example is one question of an even-numbered article (the tuning half of bench_quality.py; every fourth
article of it is left out, to calibrate on) with its answer sentence as the store holds it, joined to the next or
previous sentence a third of the time (a quote may hold two); the label is the first place a gold answer occurs
in it. Three epochs took 24 minutes on the 2-core machine (with a benchmark running beside it). The embedding layer and the lower two transformer
layers stay frozen (they are the bundled embedding model's), so only the trained tensors ship (fp16).

    python benchmarks/train_answer_pointer.py --out /tmp/p8.safetensors      # round 8: SQuAD answer spans only
    git show 187ae4f:bot/models/minilm-l6-squad-span-top4.safetensors > /tmp/p8.safetensors   # or round 8's own

Round 19 goes on from those weights for one epoch at a lower rate. A no-answer example is labelled with the [CLS]
token, so the reader's span mass on a sentence without the answer falls (the head's re-ordering,
QuoteSelector.point, compares that mass between the best sentences): per SQuAD tuning question the sentence
of its article with the most question terms and no answer (2,000 of them), and from
`news_train.ranked_sentences` (RealTime QA questions from 2023 on that the dev set cannot have seen, built in a
temp folder) each question's best answer sentence as a span and its two closest sentences without the answer:

    python benchmarks/train_answer_pointer.py --start /tmp/p8.safetensors --news /tmp/news-all \
        --squad-negatives 2000 --epochs 1 --lr 4e-5                        # 10,109 examples, 14 min

Then `python benchmarks/fit_lead.py --pointer` picks the lead's mass and reports the held-out half.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_data
import squad_data
from bench_quality import contains_answer, same_sentence
from finetune import optimiser_for, save_trained, update

from bot.finetuned import BUNDLED, load_finetuned
from bot.lexicon import canon
from bot.pointer import BUNDLED_WEIGHTS, MAX_TOKENS
from indexing.prepare import prepare_article
from indexing.settings import bundled_model_path
from indexing.sparse import tokenize

PAIRED = 1 / 3  # share of examples whose text is the answer sentence and a neighbour


def calibration(order: int) -> bool:
    """Tuning-half articles kept out of training, on which fit_lead.py picks the lead's mass (every fourth)."""
    return order % 8 == 6


def answer_at(text: str, answers: list[str], near: int = 0) -> tuple[int, int] | None:
    """Where a gold answer occurs in `text` (the occurrence at or after `near` first), as character offsets."""
    low = text.lower()
    found = []
    for answer in answers:
        a = answer.strip().lower()
        if not a:
            continue
        at = low.find(a, near)
        if at < 0:
            at = low.find(a)
        if at >= 0:
            found.append((at < near, at, at + len(a)))
    if not found:
        return None
    _, start, end = min(found)
    return start, end


def examples(root: Path, half: int = 0, seed: int = 7, calibrating: bool = False) -> list[dict]:
    """(question, text, answer span) for every question of `half` whose answer sentence the splitter keeps whole
    (of the tuning half: the training articles, or with `calibrating` the calibration ones)."""
    articles = squad_data.load_articles(root)
    order = {a.article_id: i for i, a in enumerate(articles)}
    prepared = {}
    for article in articles:
        at = order[article.article_id]
        if at % 2 == half and (half or calibration(at) == calibrating):
            p = prepare_article(article)
            prepared[article.article_id] = (p.article.text, [(s.start, s.end) for s in p.sentences])
    rng = random.Random(seed)
    out = []
    for q in squad_data.load_questions(root):
        if q["article_id"] not in prepared:
            continue
        text, spans = prepared[q["article_id"]]
        hits = [
            i
            for i, (a, b) in enumerate(spans)
            if same_sentence(text[a:b], q["answer_sentences"]) and contains_answer(text[a:b], q["answers"])
        ]
        if not hits:
            continue
        i = hits[0]
        lo, hi = spans[i]
        if rng.random() < PAIRED:
            j = i + rng.choice((-1, 1))
            if 0 <= j < len(spans) and "\n" not in text[min(spans[i][1], spans[j][1]) : max(spans[i][0], spans[j][0])]:
                lo, hi = min(lo, spans[j][0]), max(hi, spans[j][1])
        quote = text[lo:hi]
        where = answer_at(quote, q["answers"], spans[i][0] - lo)
        if where:
            out.append({"question": q["question"], "text": quote, "answer": where})
    rng.shuffle(out)
    return out


def squad_negatives(root: Path, limit: int, seed: int = 7) -> list[dict]:
    """No-answer examples (`answer` None): per training question, the sentence of its article that shares the most
    question terms and holds no gold answer; `limit` of them, drawn at random."""
    articles = squad_data.load_articles(root)
    order = {a.article_id: i for i, a in enumerate(articles)}
    sentences = {}
    for article in articles:
        at = order[article.article_id]
        if at % 2 == 0 and not calibration(at):
            p = prepare_article(article)
            sentences[article.article_id] = [s.slice(p.article.text) for s in p.sentences]
    rng = random.Random(seed)
    out = []
    for q in squad_data.load_questions(root):
        if q["article_id"] not in sentences:
            continue
        terms = {canon(t) for t in tokenize(q["question"])}
        others = [
            s
            for s in sentences[q["article_id"]]
            if not contains_answer(s, q["answers"]) and not same_sentence(s, q["answer_sentences"])
        ]
        others.sort(key=lambda t: len(terms & {canon(x) for x in tokenize(t)}) + rng.random() * 0.1, reverse=True)
        out.extend({"question": q["question"], "text": s, "answer": None} for s in others[:1])
    random.Random(3).shuffle(out)
    return out[:limit]


def news_examples(all_dir: Path, dev_dir: Path, negatives: int = 2, max_words: int = 80) -> list[dict]:
    """News questions the dev set never sees (news_train.py): the best answer sentence as a span example (when it
    is at most `max_words` long) and the `negatives` closest sentences without the answer as no-answer examples."""
    import news_train

    out = []
    for q, positives, others in news_train.ranked_sentences(all_dir, dev_dir):
        if not positives:
            continue
        where = answer_at(positives[0], q["answers"])
        if where and len(positives[0].split()) <= max_words:
            out.append({"question": q["question"], "text": positives[0], "answer": where})
        out.extend(
            {"question": q["question"], "text": s, "answer": None} for s in others[:negatives] if len(s.split()) >= 4
        )
    return out


def encode(tokenizer, batch: list[dict]):
    """Token ids and start/end token labels: [CLS] (token 0) for a no-answer example; examples whose answer is cut
    off by MAX_TOKENS are dropped."""
    import torch

    encoded = tokenizer(
        [e["question"] for e in batch],
        [e["text"] for e in batch],
        truncation="only_second",
        max_length=MAX_TOKENS,
        padding=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )
    starts, ends, keep = [], [], []
    for row, example in enumerate(batch):
        if example["answer"] is None:
            starts.append(0)
            ends.append(0)
            keep.append(row)
            continue
        a, b = example["answer"]
        ids = encoded.sequence_ids(row)
        offsets = encoded["offset_mapping"][row].tolist()
        tokens = [t for t, s in enumerate(ids) if s == 1]
        first = next((t for t in tokens if offsets[t][1] > a), None)
        last = next((t for t in reversed(tokens) if offsets[t][0] < b), None)
        if first is None or last is None or first > last or offsets[tokens[-1]][1] < b:
            continue
        starts.append(first)
        ends.append(last)
        keep.append(row)
    encoded.pop("offset_mapping")
    index = torch.tensor(keep, dtype=torch.long)
    inputs = {k: v[index] for k, v in encoded.items()}
    return inputs, torch.tensor(starts), torch.tensor(ends)


def train(
    data: list[dict],
    train_from: int,
    out: Path,
    epochs: int,
    per_step: int = 16,
    lr: float = 1e-4,
    start: Path | None = None,
    warmup: int = 60,
) -> None:
    """`epochs` passes of start/end cross-entropy, from the bundled model or from the trained tensors `start`;
    writes the trained tensors (fp16 safetensors) to `out`."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    torch.set_num_threads(2)
    torch.manual_seed(7)
    if start is not None:
        tokenizer, model = load_finetuned(BUNDLED, AutoModelForQuestionAnswering, start)
    else:
        base = bundled_model_path()
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForQuestionAnswering.from_pretrained(base)
    trained = []
    for name, param in model.named_parameters():
        param.requires_grad = any(f"encoder.layer.{i}." in name for i in range(train_from, 6)) or name.startswith(
            "qa_outputs"
        )
        if param.requires_grad:
            trained.append(name)
    per_epoch = math.ceil(len(data) / per_step)
    steps = per_epoch * epochs
    optimiser, schedule = optimiser_for(model, trained, lr, steps, warmup=warmup, floor=0.02)
    model.train()
    started, running = time.time(), 0.0
    rng = random.Random(11)
    for step in range(steps):
        if step and step % per_epoch == 0:
            rng.shuffle(data)
        at = (step % per_epoch) * per_step
        inputs, starts, ends = encode(tokenizer, data[at : at + per_step])
        result = model(**inputs, start_positions=starts, end_positions=ends)
        update(model, result.loss, optimiser, schedule)
        running += float(result.loss.detach())
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}/{steps} loss {running / 50:.3f} {time.time() - started:.0f} s", flush=True)
            running = 0.0
    save_trained(model, trained, out, {"trained": f"layers {train_from}-5, qa_outputs", "license": "CC BY-SA 4.0"})
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(data)} examples, {epochs} epochs)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=squad_data.DEFAULT_EVAL)
    parser.add_argument("--out", type=Path, default=BUNDLED_WEIGHTS)
    parser.add_argument("--train-from", type=int, default=2, help="first transformer layer trained (0-5)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=None, help="warm-up steps (default 60, 30 with --start)")
    parser.add_argument("--start", type=Path, help="go on from these trained tensors (as --out writes them)")
    parser.add_argument("--squad-negatives", type=int, default=0, help="SQuAD no-answer examples to add")
    parser.add_argument("--news", type=Path, help="the built RealTime QA questions (news_train.py) to add")
    parser.add_argument("--news-dev", type=Path, default=news_data.DEFAULT_NEWS, help="the dev set they must avoid")
    args = parser.parse_args(argv)
    data = examples(args.eval)
    data += squad_negatives(args.eval, args.squad_negatives) if args.squad_negatives else []
    data += news_examples(args.news, args.news_dev) if args.news else []
    random.Random(5).shuffle(data)
    print(f"{len(data)} training examples ({sum(e['answer'] is None for e in data)} without an answer)", flush=True)
    warmup = args.warmup if args.warmup is not None else (30 if args.start else 60)
    train(data, args.train_from, args.out, args.epochs, lr=args.lr, start=args.start, warmup=warmup)


if __name__ == "__main__":
    main()
