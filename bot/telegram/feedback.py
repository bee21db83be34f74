"""A small SQLite database in the data folder, for the maintainers and the buttons: every answered question
with its quotes, the bot messages that carried it (follow-ups, edits, "More quotes"), which pages of it
were shown (buttons act once), the 👍/👎 feedback with an optional reason, and the uploaded files.

Callback data is limited to 64 bytes, so buttons carry a question id from here, never the question itself.
Ids are handed out before an answer is sent, so the answer can go out first and be recorded afterwards,
best-effort: a full disk costs the maintainers a row, never the user the answer.
"""

from __future__ import annotations

import itertools
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
CREATE TABLE IF NOT EXISTS shown (
    question_id INTEGER NOT NULL,
    kind TEXT NOT NULL,            -- "more" (a page of more quotes) or "context"
    page INTEGER NOT NULL,
    PRIMARY KEY (question_id, kind, page)
);
CREATE TABLE IF NOT EXISTS uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    user_id INTEGER,
    original_name TEXT NOT NULL,
    saved_as TEXT NOT NULL,        -- relative to the articles folder (or rejected/...)
    bytes INTEGER NOT NULL,
    outcome TEXT NOT NULL,         -- added, updated, unchanged, duplicate, rejected, failed
    detail TEXT
);
"""
# Columns added after the first release; added to older databases on open.
MIGRATIONS = {
    "questions": {
        "message_id": "INTEGER",
        "generated": "INTEGER NOT NULL DEFAULT 0",
        "tentative": "INTEGER NOT NULL DEFAULT 0",  # shown as the closest passages (weak evidence)
    },
    "feedback": {"reason": "TEXT"},
}
REASONS = {"wrong": "wrong article", "noanswer": "not an answer", "outdated": "outdated"}


@dataclass
class StoredQuestion:
    """A question as recorded, enough to answer a follow-up, show more quotes or re-answer an edit."""

    id: int
    chat_id: int
    user_id: int | None
    question: str
    context: str | None
    answer: str
    quotes: list[Quote] = field(default_factory=list)
    more_quotes: list[Quote] = field(default_factory=list)
    message_id: int | None = None  # the user's message that asked it


@dataclass
class Upload:
    """One uploaded document and what became of it."""

    created_at: str
    user_id: int | None
    original_name: str
    saved_as: str
    bytes: int
    outcome: str
    detail: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _quotes(raw: str) -> list[Quote]:
    items = json.loads(raw or "[]")
    for item in items:
        if item.get("window") is not None:
            item["window"] = tuple(item["window"])
    return [Quote(**item) for item in items]


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
        for table, columns in MIGRATIONS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, kind in columns.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        last = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM questions").fetchone()[0]
        self._ids = itertools.count(int(last) + 1)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def new_question_id(self) -> int:
        """An id for a question about to be answered (its buttons carry it before it is recorded)."""
        with self._lock:
            return next(self._ids)

    def record_question(
        self,
        *,
        question_id: int | None = None,
        chat_id: int,
        user_id: int | None,
        update_id: int | None,
        answer: Answer,
        context: str | None = None,
        message_id: int | None = None,
    ) -> int:
        """Store a question with its answer and quotes; returns its id."""
        with self._lock:
            question_id = question_id if question_id is not None else next(self._ids)
            self._db.execute(
                "INSERT INTO questions (id, created_at, chat_id, user_id, update_id, question, context, answer, "
                "abstained, quotes, more_quotes, latency_ms, message_id, generated, tentative) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    question_id,
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
                    message_id,
                    int(answer.generated),
                    int(answer.tentative),
                ),
            )
            return question_id

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
                "SELECT id, chat_id, user_id, question, context, answer, quotes, more_quotes, message_id "
                "FROM questions WHERE id = ?",
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
            message_id=row[8],
        )

    def question_for_message(self, chat_id: int, message_id: int) -> StoredQuestion | None:
        """The question a bot message answered, if it was an answer."""
        with self._lock:
            row = self._db.execute(
                "SELECT question_id FROM messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
            ).fetchone()
        return self.get(row[0]) if row else None

    def answer_to(self, chat_id: int, message_id: int) -> tuple[int, list[int]] | None:
        """The latest answer to the user's message `message_id`: (question id, the bot's message ids in order)."""
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM questions WHERE chat_id = ? AND message_id = ? ORDER BY id DESC LIMIT 1",
                (chat_id, message_id),
            ).fetchone()
            if row is None:
                return None
            ids = self._db.execute(
                "SELECT message_id FROM messages WHERE chat_id = ? AND question_id = ? ORDER BY message_id",
                (chat_id, row[0]),
            ).fetchall()
        return row[0], [message for (message,) in ids]

    def mark_shown(self, question_id: int, kind: str, page: int) -> bool:
        """Record that a page was shown; False when it already was (a second press does nothing new)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO shown (question_id, kind, page) VALUES (?, ?, ?)", (question_id, kind, page)
            )
            return cursor.rowcount == 1

    def record_feedback(self, question_id: int, user_id: int, vote: int, reason: str | None = None) -> None:
        """Store (or change) one user's vote on one answer; a new vote clears an earlier reason."""
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback (question_id, user_id, vote, created_at, reason) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (question_id, user_id) DO UPDATE SET vote = excluded.vote, "
                "created_at = excluded.created_at, reason = excluded.reason",
                (question_id, user_id, 1 if vote > 0 else -1, _now(), reason),
            )

    def record_reason(self, question_id: int, user_id: int, reason: str) -> bool:
        """Attach a reason to a user's 👎; False when there is no 👎 of theirs to attach it to."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE feedback SET reason = ? WHERE question_id = ? AND user_id = ? AND vote < 0",
                (reason, question_id, user_id),
            )
            return cursor.rowcount == 1

    def votes(self, question_id: int) -> dict[int, int]:
        """user id -> vote for one question."""
        with self._lock:
            rows = self._db.execute("SELECT user_id, vote FROM feedback WHERE question_id = ?", (question_id,))
            return dict(rows.fetchall())

    def reason(self, question_id: int, user_id: int) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT reason FROM feedback WHERE question_id = ? AND user_id = ?", (question_id, user_id)
            ).fetchone()
        return row[0] if row else None

    def record_upload(self, upload: Upload) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO uploads (created_at, user_id, original_name, saved_as, bytes, outcome, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.created_at or _now(),
                    upload.user_id,
                    upload.original_name,
                    upload.saved_as,
                    upload.bytes,
                    upload.outcome,
                    upload.detail,
                ),
            )

    def recent_uploads(self, limit: int = 20) -> list[Upload]:
        """The latest uploads, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT created_at, user_id, original_name, saved_as, bytes, outcome, detail FROM uploads "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Upload(*row) for row in rows]
