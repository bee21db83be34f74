"""Command line: `python -m bot ask|chat|run`.

Exit codes: 0 ok; 2 usage error; 3 bad question (empty or longer than MAX_QUESTION_CHARS);
4 nothing indexed (empty or missing collection); 5 configuration or store problem (a bad setting,
the embedded store locked by another process); 130 interrupted.
With `ask --jsonl`, a bad question only marks its own line (`"error"`), the run goes on and exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import IO, Any

from bot.answer_text import absent_note, caution, did_you_mean_line, is_contentless
from bot.dates import parse_day
from bot.types import Answer, EmptyCollectionError, QuestionError

EXIT_OK, EXIT_USAGE, EXIT_QUESTION, EXIT_EMPTY, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 2, 3, 4, 5, 130

TELEGRAM_HINT = (
    "Tip: to use the bot in Telegram, create one with @BotFather (/newbot), put TELEGRAM_BOT_TOKEN=<token> "
    "in .env and run `make run` again (or `python -m bot run`)."
)
FOLLOW_UP_STARTS = ("and ", "also ", "what about ", "how about ", "but ", "then ", "so ")
FOLLOW_UP_WORDS = {"that", "it", "this", "they", "them", "he", "she", "him", "her", "there", "those", "these", "its"}


def is_follow_up(question: str) -> bool:
    """A short question that leans on the previous one ("And when did that happen?")."""
    text = question.strip().lower()
    words = [w.strip("?,.!") for w in text.split()]
    return text.startswith(FOLLOW_UP_STARTS) or (len(words) <= 8 and bool(FOLLOW_UP_WORDS & set(words)))


def quote_dict(quote: Any) -> dict[str, Any]:
    keys = ("text", "article_id", "title", "url", "source", "published", "start", "end", "score", "window")
    out = {key: getattr(quote, key) for key in keys}
    out["window"] = list(quote.window) if quote.window else None
    return out


def answer_record(item_id: Any, question: str, answer: Answer | None, error: str | None = None) -> dict[str, Any]:
    """One JSONL output line (the documented contract; `error` only when the question was refused)."""
    record = {
        "id": item_id,
        "question": question,
        "answer": answer.answer if answer else "",
        "lead": list(answer.lead) if answer and answer.lead else None,
        "abstained": answer.abstained if answer else True,
        "tentative": answer.tentative if answer else False,
        "dated": answer.dated if answer else False,
        "did_you_mean": answer.did_you_mean if answer else None,
        "absent": list(answer.absent) if answer else [],
        "unmatched": list(answer.unmatched) if answer else [],
        "quotes": [quote_dict(q) for q in answer.quotes] if answer else [],
        "latency_ms": answer.latency_ms if answer else 0.0,
    }
    if error:
        record["error"] = error
    return record


BOLD, PLAIN = "\033[1m", "\033[0m"


def shown_text(quote: Any, lead: tuple[int, int] | None = None, bold: bool = False) -> str:
    """The quote as shown: its window between "…" when it is long (each piece verbatim), with the lead
    in bold (ANSI) when asked."""
    text, (start, end) = quote.text, quote.window or (0, len(quote.text))
    if bold and lead and start <= lead[0] and lead[1] <= end:
        text = text[: lead[0]] + BOLD + text[lead[0] : lead[1]] + PLAIN + text[lead[1] :]
        end += len(BOLD) + len(PLAIN)
    body = text[start:end]
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def format_answer(answer: Answer, width: int = 100, bold: bool = False) -> str:
    """Readable terminal rendering: the answer, numbered quotes with title / source / date / url. With `bold`
    (a terminal), the lead is shown bold inside the first quote instead of on a line of its own."""
    inline = bold and answer.lead is not None and not answer.generated and not answer.abstained
    if answer.tentative and not answer.generated:  # weak evidence: closest passages, no lead shown as the answer
        inline, lines = False, [caution(answer)]
    else:
        lines = [] if inline or _lead_is_first_quote(answer) else [textwrap.fill(answer.answer, width)]
    if answer.generated:
        lines[0] += "  (generated from the quotes below)"
    note = absent_note(answer)
    if answer.abstained:
        if note:
            lines.append(note)
        if answer.did_you_mean:
            lines.append(did_you_mean_line(answer))
        if answer.closest:
            lines.append("")
            lines.append("Closest articles:")
            for ref in answer.closest:
                lines.append(f"  - {_source_line(ref)}")
        return "\n".join(lines)
    for number, quote in enumerate(answer.quotes, 1):
        if lines:
            lines.append("")
        shown = shown_text(quote, answer.lead if number == 1 else None, bold=inline)
        body = textwrap.fill(f"“{shown}”", width - 5, initial_indent="", subsequent_indent="     ")
        lines.append(f"[{number}]  {body}")
        lines.append(f"     — {_source_line(quote)}")
    if note:
        lines += ["", note]
    return "\n".join(lines)


def _lead_is_first_quote(answer: Answer) -> bool:
    """A lead that is the whole first quote is not printed twice: quote [1] is the answer."""
    if answer.generated or answer.abstained or not answer.quotes:
        return False
    return answer.answer.strip() == answer.quotes[0].text.strip()


def _source_line(item: Any) -> str:
    parts = [item.title, item.source, item.published]
    text = " · ".join(str(p) for p in parts if p)
    return f"{text}  {item.url}" if item.url else text


def _read_jsonl(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not an object")
            yield number, item, None
        except ValueError as error:
            yield number, None, f"line {number}: not a JSON object ({error})"


def _open_answerer(settings: Any) -> Any:
    from bot.pipeline import QuestionAnswerer

    return QuestionAnswerer(settings)


def cmd_ask(args: argparse.Namespace, settings: Any) -> int:
    if not args.jsonl and args.question is None:
        print("error: give a QUESTION or --jsonl FILE", file=sys.stderr)
        return EXIT_USAGE
    filters = {"article_id": args.article, "source": args.source, "date_from": args.date_from, "date_to": args.date_to}
    if args.as_of and parse_day(args.as_of) is None:
        print(f"error: --as-of {args.as_of!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return EXIT_USAGE
    if not args.jsonl:
        qa = None
        try:
            from bot.pipeline import QuestionAnswerer

            QuestionAnswerer.validate_text(args.question, settings.max_question_chars)
            qa = _open_answerer(settings)
            answer = qa.ask(args.question, top_k=args.top_k, as_of=args.as_of, **filters)
        finally:
            if qa is not None:
                qa.close()
        if args.json:
            print(json.dumps(answer_record(None, args.question, answer), ensure_ascii=False))
        else:
            print(format_answer(answer, bold=sys.stdout.isatty()))
        return EXIT_OK
    stream = sys.stdin if args.jsonl == "-" else open(args.jsonl, encoding="utf-8")  # noqa: SIM115
    qa = _open_answerer(settings)
    try:
        qa.check_collection()
        done = 0
        started = time.perf_counter()
        for _number, item, problem in _read_jsonl(stream):
            if item is None:
                print(json.dumps(answer_record(None, "", None, problem), ensure_ascii=False), flush=True)
                continue
            question = str(item.get("question") or "")
            try:
                as_of = item.get("question_date") or args.as_of
                answer = qa.ask(question, top_k=args.top_k, as_of=as_of, **filters)
                record = answer_record(item.get("id"), question, answer)
            except QuestionError as error:
                record = answer_record(item.get("id"), question, None, str(error))
            print(json.dumps(record, ensure_ascii=False), flush=True)
            done += 1
            if done % 100 == 0:
                print(f"{done} questions, {done / (time.perf_counter() - started):.1f}/s", file=sys.stderr)
        print(f"answered {done} questions", file=sys.stderr)
    finally:
        qa.close()
        if stream is not sys.stdin:
            stream.close()
    return EXIT_OK


def cmd_chat(args: argparse.Namespace, settings: Any, stdin: IO[str] | None = None) -> int:
    stdin = stdin or sys.stdin
    if not (settings.telegram_bot_token or os.environ.get("TELEGRAM_BOT_TOKEN")):
        print(TELEGRAM_HINT)
    qa = _open_answerer(settings)
    previous: str | None = None
    last: Answer | None = None
    try:
        qa.check_collection()
        print("Ask a question about the indexed articles (/sources, /more, /quit; Ctrl-D to leave).")
        while True:
            print("> ", end="", flush=True)
            line = stdin.readline()
            if not line:
                print()
                break
            text = line.strip()
            if not text:
                continue
            if text in ("/quit", "/exit", "/q"):
                break
            if text == "/sources":
                for ref in qa.articles():
                    print(f"  - {_source_line(ref)}")
                continue
            if text == "/more":
                if last and last.more_quotes:
                    extra = Answer(last.question, "More quotes:", False, quotes=last.more_quotes)
                    print(format_answer(extra))
                else:
                    print("No more quotes.")
                continue
            context = previous if previous and (is_follow_up(text) or is_contentless(text)) else None
            try:
                last = qa.ask(text, context=context)
            except QuestionError as error:
                print(error)
                continue
            print(format_answer(last, bold=sys.stdout.isatty()))
            print()
            previous = text if context is None else f"{context} {text}"
    except KeyboardInterrupt:
        print()
    finally:
        qa.close()
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: Any) -> int:
    from bot.telegram.app import main as run_telegram

    result = run_telegram(settings)
    return int(result) if isinstance(result, int) else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Answer questions about your articles with verbatim quotes."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (to stderr)")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question, or a JSONL file of them")
    ask.add_argument("question", nargs="?", help="the question")
    ask.add_argument(
        "--jsonl",
        metavar="FILE",
        help='read {"id", "question", "question_date"?} lines from FILE ("-" for stdin)',
    )
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    ask.add_argument("--article", help="only this article_id")
    ask.add_argument("--source", help="only this source")
    ask.add_argument("--from", dest="date_from", metavar="DATE", help="published on or after (ISO date)")
    ask.add_argument("--to", dest="date_to", metavar="DATE", help="published on or before (ISO date)")
    ask.add_argument("--top-k", type=int, default=3, help="quotes to show (default 3)")
    ask.add_argument(
        "--as-of",
        metavar="DATE",
        help="ask as on this day (ISO date; default today): 'this week', 'last March' and recency count from it; "
        'with --jsonl a line\'s "question_date" wins',
    )
    sub.add_parser("chat", help="interactive chat in the terminal")
    sub.add_parser("run", help="run the Telegram bot")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (see the module docstring)."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from indexing.settings import SettingsError, load_settings
    from indexing.store import StoreError

    exit_codes = {SettingsError: EXIT_CONFIG, StoreError: EXIT_CONFIG, QuestionError: EXIT_QUESTION}
    exit_codes[EmptyCollectionError] = EXIT_EMPTY
    try:
        settings = load_settings()
        handler = {"ask": cmd_ask, "chat": cmd_chat, "run": cmd_run}[args.command]
        return handler(args, settings)
    except tuple(exit_codes) as error:
        print(str(error), file=sys.stderr)
        return next(code for kind, code in exit_codes.items() if isinstance(error, kind))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
