"""Telegram front-end overhead: time from an injected update to the bot's sendMessage, over loopback.

The real application (the one `python -m bot run` starts) long-polls a fake Bot API server on 127.0.0.1
(tests/fake_bot_api.py), over an embedded store holding the sample articles. For each question the
benchmark injects an update and timestamps the sendMessage carrying the answer when it reaches the
server; the pipeline's own latency for the same question in the same run is measured inside the worker
thread. The bot's overhead is the difference, per question (target: under 30 ms at p95).

    python benchmarks/bench_bot_latency.py                # 200 questions, one at a time
    python benchmarks/bench_bot_latency.py -n 50 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

BASE_QUESTIONS = [
    "Who did the Centcom chief meet?",
    "When did the US general visit Pakistan?",
    "Who is the commander of US Central Command?",
    "Where is the General Headquarters?",
    "Who was the previous Centcom chief to visit Pakistan?",
    "When did Kenneth McKenzie visit Islamabad?",
    "What killed Ayman al-Zawahiri?",
    "Where was al Qaeda chief Ayman al-Zawahiri killed?",
    "When did the Centcom chief speak with General Bajwa?",
    "What did Pakistan say about the drone?",
    "Which newspaper reported the visit?",
    "What was discussed during the meeting?",
    "Who issued a statement about the meeting?",
    "Why did no American general visit Pakistan for 18 months?",
    "What worried Pakistan about the US?",
    "How does Washington view Islamabad's ties with Beijing?",
    "What did the visiting dignitary do later?",
    "What was Pakistan once dubbed?",
    "What helped Pakistan get advanced military hardware?",
    "Since when have Pakistan and the US had defence ties?",
    "What programme came under discussion?",
    "What followed the one-on-one call?",
    "How long was the hiatus before the visit?",
    "What marred the relationship between the two countries?",
    "Who is the Pakistani army chief?",
]
PREFIXES = ["", "Tell me: ", "Quick question - ", "Please answer: ", "I wonder, ", "Do you know ", "Q: ", "Hey, "]


def questions(n: int) -> list[str]:
    """`n` distinct questions about the sample article (25 base questions in 8 phrasings)."""
    variants = (p + q[0].lower() + q[1:] if p else q for p, q in itertools.product(PREFIXES, BASE_QUESTIONS))
    return list(itertools.islice(itertools.cycle(list(variants)), n))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def index_corpus(settings, store, embedder) -> int:
    from indexing.job import run_index

    summary = run_index(
        settings, [str(REPO / "data" / "articles")], store=store, embedder=embedder, show_progress_bar=False
    )
    return summary.added


async def run(n: int, warmup: int) -> dict:
    from bot.pipeline import QuestionAnswerer
    from indexing.embedding import Embedder
    from indexing.settings import Settings
    from indexing.store import Store
    from tests.fake_bot_api import start_bot

    root = Path(tempfile.mkdtemp(prefix="bench-bot-"))
    settings = Settings(
        _env_file=None,
        qdrant_path=root / "qdrant",
        qdrant_url=None,
        articles_dir=root / "articles",
        data_dir=root / "data",
        rate_limit_per_minute=100_000,
        allowed_user_ids=[],
        admin_user_ids=[],
        telegram_webhook_url=None,
        llm_base_url=None,
    )
    embedder = Embedder(settings.embedding_model, settings.embedding_device, settings.embedding_batch_size)
    store = Store.open(settings)
    articles = index_corpus(settings, store, embedder)
    answerer = QuestionAnswerer(settings, store=store, embedder=embedder)

    # The pipeline's own latency, measured inside the worker thread for the very same calls.
    pipeline_ms: dict[str, float] = {}
    original_ask = answerer.ask
    lock = threading.Lock()

    def timed_ask(question: str, **kwargs):
        started = time.perf_counter()
        try:
            return original_ask(question, **kwargs)
        finally:
            with lock:
                pipeline_ms[question] = (time.perf_counter() - started) * 1000

    answerer.ask = timed_ask
    bot = await start_bot(settings, answerer, store, embedder, poll_timeout=10.0)
    api = bot.api
    rows = []
    try:
        all_questions = questions(n + warmup)
        for number, question in enumerate(all_questions):
            user_id = 10_000 + number
            since = api.mark()
            injected = time.monotonic()
            api.inject_text(question, user_id=user_id)
            reply = await api.wait_for(
                "sendMessage",
                since=since,
                chat_id=user_id,
                timeout=60,
                predicate=lambda r: bool(r.params.get("reply_markup")),
            )
            first = api.calls("sendMessage", since, chat_id=user_id)[0]
            if number < warmup:
                continue
            end_to_end = (first.at - injected) * 1000
            inner = pipeline_ms[question]
            rows.append(
                {
                    "question": question,
                    "end_to_end_ms": end_to_end,
                    "pipeline_ms": inner,
                    "overhead_ms": end_to_end - inner,
                    "messages": len(api.calls("sendMessage", since, chat_id=user_id)),
                    "answered": "<blockquote" in reply[0].params["text"],
                }
            )
    finally:
        await bot.close()
        await api.stop()
        answerer.close()
        store.close()

    def stats(key: str) -> dict:
        values = [row[key] for row in rows]
        return {
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "mean": statistics.fmean(values),
            "max": max(values),
        }

    return {
        "questions": len(rows),
        "articles": articles,
        "answered": sum(row["answered"] for row in rows),
        "end_to_end_ms": stats("end_to_end_ms"),
        "pipeline_ms": stats("pipeline_ms"),
        "overhead_ms": stats("overhead_ms"),
        "messages": {
            "median": statistics.median(row["messages"] for row in rows),
            "max": max(row["messages"] for row in rows),
        },
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--questions", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the figures (and every question's timings) here")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args.questions, args.warmup))
    print(
        f"{result['questions']} questions ({result['answered']} answered with quotes) over "
        f"{result['articles']} article(s), one at a time, loopback fake Bot API"
    )
    print(f"{'':>22} {'p50':>9} {'p95':>9} {'mean':>9} {'max':>9}")
    for key, label in (
        ("end_to_end_ms", "update -> sendMessage"),
        ("pipeline_ms", "pipeline (same run)"),
        ("overhead_ms", "bot overhead"),
    ):
        s = result[key]
        print(f"{label:>22} {s['p50']:>7.1f}ms {s['p95']:>7.1f}ms {s['mean']:>7.1f}ms {s['max']:>7.1f}ms")
    print(f"messages per answer: median {result['messages']['median']:.0f}, max {result['messages']['max']}")
    target = result["overhead_ms"]["p95"] < 30
    print(f"overhead p95 {'<' if target else '>='} 30 ms target: {'met' if target else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if target else 1


if __name__ == "__main__":
    sys.exit(main())
