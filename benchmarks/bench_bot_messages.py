"""Messages per answer in Telegram: questions over the SQuAD articles, answered by the pipeline and rendered by
this tree's renderer and by a baseline revision's renderer, side by side, in the same run.

Every rendered message is also checked with the fake Bot API's parser (tests/fake_bot_api.py), which refuses
what Telegram refuses (bad markup, more than 4,096 UTF-16 units of text).

    python benchmarks/bench_bot_messages.py --store /tmp/squad     # 200 questions, baseline 366346d
    python benchmarks/bench_bot_messages.py -n 50 --baseline main --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from squad_data import DEFAULT_EVAL  # noqa: E402 - after the path setup

BASELINE = "366346d"  # the renderer before issue 12 (one message per block of quotes, a source per quote)


def baseline_renderer(revision: str) -> types.ModuleType:
    """bot/telegram/render.py as it was at `revision`, loaded as a module of its own."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{revision}:bot/telegram/render.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType(f"render_{revision}")
    exec(compile(source, f"{revision}:bot/telegram/render.py", "exec"), module.__dict__)
    return module


def spread(items: list, n: int) -> list:
    """`n` items spread evenly over `items` (every article gets its share)."""
    step = max(1, len(items) // n)
    return items[::step][:n]


def measure(messages_per_answer: list[list[str]]) -> dict:
    from tests.fake_bot_api import TelegramHTMLError, parse_telegram_html, utf16_len

    counts = [len(messages) for messages in messages_per_answer]
    units, rejected = [], 0
    for messages in messages_per_answer:
        total = 0
        for message in messages:
            try:
                text = parse_telegram_html(message).text
            except TelegramHTMLError:
                rejected += 1
                continue
            rejected += utf16_len(text) > 4096
            total += utf16_len(text)
        units.append(total)
    return {
        "median": statistics.median(counts),
        "mean": statistics.fmean(counts),
        "max": max(counts),
        "one_message": sum(c == 1 for c in counts) / len(counts),
        "units_median": statistics.median(units),
        "units_max": max(units),
        "rejected": rejected,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--questions", type=int, default=200)
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="the squad-v1.1-dev folder")
    parser.add_argument("--store", type=Path, help="embedded store folder to build or reuse (default: temporary)")
    parser.add_argument("--baseline", default=BASELINE, help="git revision whose renderer is the baseline")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    from squad_data import index_articles, load_articles, load_questions

    from bot.pipeline import QuestionAnswerer
    from bot.telegram import render
    from indexing.embedding import Embedder
    from indexing.settings import Settings, bundled_model_path
    from indexing.store import Store

    tmp = None
    if args.store is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-messages-")
        args.store = Path(tmp.name)
    settings = Settings(_env_file=None, qdrant_path=args.store, qdrant_collection="squad", llm_base_url=None)
    store = Store.open(settings)
    embedder = Embedder(bundled_model_path())
    articles = load_articles(args.eval)
    spent = index_articles(store, articles, embedder)
    if spent:
        print(f"indexed {len(articles)} articles in {spent:.0f} s", file=sys.stderr)
    old = baseline_renderer(args.baseline)
    qa = QuestionAnswerer(settings, store, embedder)
    questions = spread(load_questions(args.eval), args.questions)
    before, after, abstained = [], [], 0
    try:
        for item in questions:
            answer = qa.ask(" ".join(item["question"].split()))
            abstained += answer.abstained
            before.append(old.render_answer(answer))
            after.append(render.render_answer(answer))
    finally:
        qa.close()
        store.close()
        if tmp is not None:
            tmp.cleanup()

    result = {"questions": len(questions), "abstained": abstained, "baseline": args.baseline}
    result["before"], result["after"] = measure(before), measure(after)
    print(
        f"{len(questions)} SQuAD questions over {len(articles)} articles ({abstained} abstained); "
        f"renderer at {args.baseline} vs this tree, same answers"
    )
    rows = [
        ("messages per answer, median", "median", "{:.0f}"),
        ("messages per answer, mean", "mean", "{:.2f}"),
        ("messages per answer, max", "max", "{:.0f}"),
        ("answers in one message", "one_message", "{:.1%}"),
        ("UTF-16 units per answer, median", "units_median", "{:.0f}"),
        ("UTF-16 units per answer, max", "units_max", "{:.0f}"),
        ("messages Telegram would reject", "rejected", "{:.0f}"),
    ]
    print(f"{'':>34} {'baseline':>10} {'now':>10}")
    for label, key, fmt in rows:
        print(f"{label:>34} {fmt.format(result['before'][key]):>10} {fmt.format(result['after'][key]):>10}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
