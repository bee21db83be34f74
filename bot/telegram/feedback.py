"""A small SQLite database in the data folder: every answered question with its quotes, the bot messages
that carried it (for follow-ups and "More quotes"), and the 👍/👎 feedback, for the maintainers to read.

Callback data is limited to 64 bytes, so buttons carry a question id from here, never the question itself.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.types import Answer, Quote

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    user_id INTEGER,
    update_id INTEGER,
    question TEXT NOT NULL,
    context TEXT,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    quotes TEXT NOT NULL,          -- JSON list of the quotes shown
    more_quotes TEXT NOT NULL,     -- JSON list of the next quotes ("More quotes")
    latency_ms REAL
);
CREATE TABLE IF NOT EXISTS messages (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    PRIMARY KEY (chat_id, message_id)
);
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL REFERENCES questions(id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL,         -- +1 or -1
    created_at TEXT NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
"""


@dataclass
class StoredQuestion:
    """A question as recorded, enough to answer a follow-up or show more quotes."""

    id: int
    chat_id: int
    user_id: int | None
    question: str
    context: str | None
    answer: str
    quotes: list[Quote] = field(default_factory=list)
    more_quotes: list[Quote] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _quotes(raw: str) -> list[Quote]:
    return [Quote(**item) for item in json.loads(raw or "[]")]


class FeedbackStore:
    """Thread-safe access to the feedback database (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record_question(
        self,
        *,
        chat_id: int,
        user_id: int | None,
        update_id: int | None,
        answer: Answer,
        context: str | None = None,
    ) -> int:
        """Store a question with its answer and quotes; returns its id."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO questions (created_at, chat_id, user_id, update_id, question, context, answer, "
                "abstained, quotes, more_quotes, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    chat_id,
                    user_id,
                    update_id,
                    answer.question,
                    context,
                    answer.answer,
                    int(answer.abstained),
                    json.dumps([quote.to_dict() for quote in answer.quotes], ensure_ascii=False),
                    json.dumps([quote.to_dict() for quote in answer.more_quotes], ensure_ascii=False),
                    answer.latency_ms,
                ),
            )
            return int(cursor.lastrowid)

    def link_messages(self, question_id: int, chat_id: int, message_ids: list[int]) -> None:
        """Remember which bot messages carried the answer (a reply to any of them is a follow-up)."""
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO messages (chat_id, message_id, question_id) VALUES (?, ?, ?)",
                [(chat_id, message_id, question_id) for message_id in message_ids],
            )

    def get(self, question_id: int) -> StoredQuestion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, chat_id, user_id, question, context, answer, quotes, more_quotes FROM questions WHERE id = ?",
                (question_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredQuestion(
            id=row[0],
            chat_id=row[1],
            user_id=row[2],
            question=row[3],
            context=row[4],
            answer=row[5],
            quotes=_quotes(row[6]),
            more_quotes=_quotes(row[7]),
        )

    def question_for_message(self, chat_id: int, message_id: int) -> StoredQuestion | None:
        """The question a bot message answered, if it was an answer."""
        with self._lock:
            row = self._db.execute(
                "SELECT question_id FROM messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
            ).fetchone()
        return self.get(row[0]) if row else None

    def record_feedback(self, question_id: int, user_id: int, vote: int) -> None:
        """Store (or change) one user's vote on one answer."""
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback (question_id, user_id, vote, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (question_id, user_id) DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at",
                (question_id, user_id, 1 if vote > 0 else -1, _now()),
            )

    def votes(self, question_id: int) -> dict[int, int]:
        """user id -> vote for one question."""
        with self._lock:
            rows = self._db.execute("SELECT user_id, vote FROM feedback WHERE question_id = ?", (question_id,))
            return dict(rows.fetchall())
