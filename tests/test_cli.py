"""`python -m bot ask|chat`: terminal output, the JSONL contract, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.support import build_index, make_test_settings, shared_index

from bot import cli
from bot.pipeline import QuestionAnswerer

REPO = Path(__file__).resolve().parent.parent
QUOTE_KEYS = {"text", "article_id", "title", "url", "source", "published", "start", "end", "score", "window"}


@pytest.fixture(scope="session")
def indexed(tmp_path_factory, embedder):
    return shared_index(tmp_path_factory, embedder)


@pytest.fixture
def env(monkeypatch, tmp_path, indexed, embedder):
    """CLI settings from the environment; the answerer reuses the session's open store."""
    settings, store = indexed
    monkeypatch.chdir(tmp_path)
    for name in ("LLM_BASE_URL", "LLM_MODEL", "QDRANT_URL", "TELEGRAM_BOT_TOKEN", "ABSTAIN_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QDRANT_PATH", str(settings.qdrant_path))
    monkeypatch.setenv("QDRANT_COLLECTION", settings.qdrant_collection)
    monkeypatch.setattr(cli, "_open_answerer", lambda s: QuestionAnswerer(s, store, embedder))
    return monkeypatch


def test_ask_prints_answer_and_numbered_quotes(env, capsys):
    assert cli.main(["ask", "Who is the chief engineer of the bridge?"]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "Marta Lindqvist" in out
    assert "Coastal Herald" in out or "Wire Service" in out
    assert "https://" in out


def test_ask_json_and_filters(env, capsys):
    assert cli.main(["ask", "--json", "--source", "Metro Daily", "How big is the library budget?"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {q["source"] for q in record["quotes"]} == {"Metro Daily"}


def test_ask_jsonl_contract(env, capsys, monkeypatch):
    lines = [
        {"id": "q1", "question": "How many books did the library lend last year?"},
        {"id": 2, "question": "What is the recipe for a chocolate cake?"},
        {"id": "q3", "question": "   "},
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(json.dumps(x) for x in lines) + "\nnot json\n"))
    assert cli.main(["ask", "--jsonl", "-"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert len(records) == 4
    first, second, third, fourth = records
    assert set(first) == {
        "id",
        "question",
        "answer",
        "lead",
        "abstained",
        "tentative",
        "dated",
        "did_you_mean",
        "absent",
        "unmatched",
        "quotes",
        "latency_ms",
    }
    assert first["id"] == "q1" and not first["abstained"]
    start, end = first["lead"]
    assert first["quotes"][0]["text"][start:end] == first["answer"]
    assert all(set(q) == QUOTE_KEYS for q in first["quotes"])
    assert "400,000" in first["quotes"][0]["text"]
    assert second["id"] == 2 and second["abstained"] and second["quotes"] == []
    assert "chocolate" in second["absent"], "a decline lists the words no article uses"
    assert third["id"] == "q3" and "error" in third
    assert fourth["id"] is None and "error" in fourth
    assert "answered" in captured.err


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["ask", ""], 3),
        (["ask", "x" * 600], 3),
        (["ask"], 2),
        (["ask", "?"], 3),
        (["ask", "--as-of", "soon", "Who?"], 2),
    ],
)
def test_bad_questions_exit_codes(env, capsys, argv, code):
    """Empty, too long or contentless questions exit 3 with the reason on stderr."""
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err


def test_empty_collection_exit_code(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QDRANT_PATH", str(tmp_path / "nothing"))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    assert cli.main(["ask", "Who met the army chief?"]) == 4
    assert "No articles are indexed" in capsys.readouterr().err


def test_settings_error_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QDRANT_URL", "not a url")
    assert cli.main(["ask", "Who met the army chief?"]) == 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "QDRANT_URL" in err


def test_chat_repl(env, capsys):
    from indexing.settings import load_settings

    stdin = io.StringIO("Who is the chief engineer of the bridge?\nAnd what did she say?\n/more\n/sources\n\n")
    assert cli.cmd_chat(None, load_settings(), stdin=stdin) == 0
    out = capsys.readouterr().out
    assert "TELEGRAM_BOT_TOKEN" in out and "@BotFather" in out
    assert "Marta Lindqvist" in out
    assert "steel cables had been replaced" in out
    assert "Svalbard glacier" in out  # /sources


def test_follow_up_detection():
    assert cli.is_follow_up("And when did that happen?")
    assert cli.is_follow_up("Who paid for it?")
    assert not cli.is_follow_up("Who is the chief engineer of the Old Harbour Bridge in Port Elwyn?")


@pytest.mark.slow
def test_jsonl_in_a_subprocess(tmp_path, embedder):
    """The real entry point: model and store loaded once, one JSON object per input line on stdout."""
    settings = make_test_settings(tmp_path / "qdrant")
    build_index(settings, embedder).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "QDRANT_", "TELEGRAM_"))}
    env.update(QDRANT_PATH=str(settings.qdrant_path), QDRANT_COLLECTION=settings.qdrant_collection)
    env["PYTHONPATH"] = str(REPO)
    stdin = "\n".join(
        json.dumps({"id": i, "question": q})
        for i, q in enumerate(["Who did the Centcom chief meet?", "How fast is the Kaldbreen glacier retreating?"])
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--jsonl", "-"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in records] == [0, 1]
    assert any("40 metres" in q["text"] for q in records[1]["quotes"][:2])
    assert all(r["latency_ms"] > 0 for r in records)


def test_contentless_question_gets_a_hint_not_articles(env, capsys):
    assert cli.main(["ask", "tell me more"]) == 3
    err = capsys.readouterr().err
    assert "e.g." in err and "Closest" not in err


def test_as_of_and_question_date(env, capsys, monkeypatch):
    """`--as-of` replays a question on a day; a JSONL line's `question_date` does the same per line, and a bad
    one only marks its own line."""
    assert cli.main(["ask", "--json", "--as-of", "2023-03-16", "How many books did the library lend last year?"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert "400,000" in record["quotes"][0]["text"]
    lines = [
        {"id": 1, "question": "How much did the bridge repairs cost?", "question_date": "2023-03-16"},
        {"id": 2, "question": "How much did the bridge repairs cost?", "question_date": "not a date"},
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(json.dumps(x) for x in lines) + "\n"))
    assert cli.main(["ask", "--jsonl", "-"]) == 0
    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "48 million dollars" in first["quotes"][0]["text"]
    assert "error" in second and "date" in second["error"]


def test_terminal_rendering_shows_the_lead_bold_inside_its_quote_and_long_quotes_as_windows():
    from bot.types import Answer, Quote

    text = "Officials met for hours; " + " ".join(["word"] * 70) + " the bridge reopened on Tuesday after repairs."
    window = (text.index("word"), len(text))
    lead = (text.index("the bridge"), len(text))
    quote = Quote(text, "a", "Bridge", "https://x", "Herald", "2023-03-14", 0, len(text), 1.0, window=window)
    answer = Answer("When did the bridge reopen?", text[lead[0] : lead[1]], False, quotes=[quote], lead=lead)
    plain = cli.format_answer(answer)
    assert plain.splitlines()[0] == "the bridge reopened on Tuesday after repairs."
    assert "“…word" in plain and "Officials" not in plain
    bold = cli.format_answer(answer, width=1000, bold=True)
    assert not bold.startswith("the bridge") and f"{cli.BOLD}the bridge reopened" in bold
    assert cli.shown_text(quote) == "…" + text[window[0] :]


def test_a_lead_that_is_the_whole_first_quote_is_printed_once():
    from bot.types import Answer, Quote

    text = "The bridge reopened on Tuesday after repairs."
    quote = Quote(text, "a", "Bridge", "https://x", "Herald", "2023-03-14", 0, len(text), 1.0)
    plain = cli.format_answer(Answer("When did the bridge reopen?", text, False, quotes=[quote], lead=(0, len(text))))
    assert plain.count(text) == 1 and plain.startswith("[1]")


def test_a_tentative_answer_is_introduced_as_the_closest_passages():
    from bot.answer_text import TENTATIVE_TEXT
    from bot.types import Answer, Quote

    text = "The bridge reopened on Tuesday, the mayor said."
    quote = Quote(text, "a", "Bridge", "https://x", "Herald", "2023-03-14", 0, len(text), 1.0)
    answer = Answer("When did the tunnel reopen?", text[:30], False, quotes=[quote], lead=(0, 30), tentative=True)
    for bold in (False, True):
        shown = cli.format_answer(answer, width=1000, bold=bold)
        assert shown.splitlines()[0] == TENTATIVE_TEXT and cli.BOLD not in shown and f"“{text}”" in shown
