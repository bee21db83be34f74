"""Inline keyboards and their callback data (at most 64 bytes: ids and page numbers, never text of substance).

Under an answer:  [Ask “…”]   (a declined question's suggestion: a t.me link that asks it in a private chat)
                  [More quotes] [Context]
                  [👍] [👎]
                  [Wrong article] [Not an answer] [Outdated]   (after 👎, until a reason is chosen)

    more:<question id>:<page>   the next page of quotes (page 1 is the first page after the answer)
    ctx:<question id>:<page>    the sentences around the quotes of a page (page 0 is the answer)
    fb:<question id>:<±1>       a vote
    why:<question id>:<reason>  the reason for a 👎
    src:<page>[:<words>]        a page of /sources (of the titles matching <words>)
    rm:<token> / rmok:<token> / rmno   /remove from a /sources button, confirmed
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.feedback import REASONS

QUOTES_PER_PAGE = 3
MAX_CALLBACK_BYTES = 64
REASON_LABELS = {"wrong": "Wrong article", "noanswer": "Not an answer", "outdated": "Outdated"}
assert REASON_LABELS.keys() == REASONS.keys()


@dataclass(frozen=True)
class Callback:
    """Parsed callback data; `kind` is the prefix. Raises ValueError on anything malformed."""

    kind: str
    question_id: int = 0
    number: int = 0
    text: str = ""

    @classmethod
    def parse(cls, data: str | None) -> Callback:
        kind, _, rest = (data or "").partition(":")
        if kind in ("more", "ctx", "fb"):
            question_id, _, number = rest.partition(":")
            return cls(kind, int(question_id), int(number))
        if kind == "why":
            question_id, _, reason = rest.partition(":")
            if reason not in REASONS:
                raise ValueError(reason)
            return cls(kind, int(question_id), text=reason)
        if kind == "src":
            page, _, words = rest.partition(":")
            return cls(kind, number=int(page), text=words)
        if kind in ("rm", "rmok", "rmno"):
            return cls(kind, text=rest)
        raise ValueError(f"unknown callback {kind!r}")


@dataclass(frozen=True)
class AnswerButtons:
    """The buttons under one message of an answer (only the last message of an answer carries them)."""

    question_id: int
    page: int = 0  # 0: the answer's own quotes; k: the k-th "More quotes" page
    next_page: int | None = None  # the page "More quotes" shows; None: no more quotes
    context: bool = True  # a Context button for this page's quotes
    vote: int = 0  # the pressing user's vote, shown with a ✓
    asking_reason: bool = False  # after 👎: offer the reasons
    # a declined question's suggestion (Answer.did_you_mean): (label, t.me deep link that asks it in a private chat)
    ask: tuple[str, str] | None = None

    def markup(self) -> InlineKeyboardMarkup:
        qid = self.question_id
        rows = [[InlineKeyboardButton(self.ask[0], url=self.ask[1])]] if self.ask else []
        first = []
        if self.next_page is not None:
            first.append(InlineKeyboardButton("More quotes", callback_data=f"more:{qid}:{self.next_page}"))
        if self.context:
            first.append(InlineKeyboardButton("Context", callback_data=f"ctx:{qid}:{self.page}"))
        if first:
            rows.append(first)
        rows.append(
            [
                InlineKeyboardButton("👍 ✓" if self.vote > 0 else "👍", callback_data=f"fb:{qid}:1"),
                InlineKeyboardButton("👎 ✓" if self.vote < 0 else "👎", callback_data=f"fb:{qid}:-1"),
            ]
        )
        if self.asking_reason:
            rows.append(
                [
                    InlineKeyboardButton(label, callback_data=f"why:{qid}:{code}")
                    for code, label in REASON_LABELS.items()
                ]
            )
        return InlineKeyboardMarkup(rows)

    @classmethod
    def from_markup(cls, markup: InlineKeyboardMarkup | None) -> AnswerButtons | None:
        """The state shown by an answer's keyboard (None when it is not one)."""
        found: dict[str, Callback] = {}
        ask = None
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                if button.url:
                    ask = (button.text, button.url)
                    continue
                try:
                    parsed = Callback.parse(str(button.callback_data or ""))
                except ValueError:
                    continue
                found.setdefault(parsed.kind, parsed)
        if "fb" not in found:
            return None
        return cls(
            question_id=found["fb"].question_id,
            page=found["ctx"].number if "ctx" in found else 0,
            next_page=found["more"].number if "more" in found else None,
            context="ctx" in found,
            ask=ask,
        )

    def with_vote(self, vote: int, asking_reason: bool = False) -> AnswerButtons:
        return replace(self, vote=vote, asking_reason=asking_reason)


def page_quotes(more_quotes: list, page: int) -> list:
    """The quotes of a "More quotes" page (1-based)."""
    start = (page - 1) * QUOTES_PER_PAGE
    return more_quotes[start : start + QUOTES_PER_PAGE] if page >= 1 else []


def next_page(more_quotes: list, page: int) -> int | None:
    """The page after `page`, if it has quotes."""
    return page + 1 if len(more_quotes) > page * QUOTES_PER_PAGE else None


def sources_data(page: int, words: str = "") -> str:
    """`src:<page>[:<words>]`, the words cut at a word boundary to fit the 64-byte limit."""
    data = f"src:{page}"
    if not words:
        return data
    room = MAX_CALLBACK_BYTES - len(data.encode()) - 1
    kept = ""
    for word in words.split():
        candidate = f"{kept} {word}".strip()
        if len(candidate.encode()) > room:
            break
        kept = candidate
    return f"{data}:{kept}" if kept else data


def sources_keyboard(
    page: int, pages: int, *, words: str = "", remove_tokens: list[str] | None = None, per_page: int = 8
) -> InlineKeyboardMarkup | None:
    """« Newer / page / Older » (and, for admins, one 🗑 button per listed article)."""
    rows = []
    if remove_tokens:
        numbers = range(page * per_page + 1, page * per_page + 1 + len(remove_tokens))
        buttons = [
            InlineKeyboardButton(f"🗑 {n}", callback_data=f"rm:{token}")
            for n, token in zip(numbers, remove_tokens, strict=True)
        ]
        rows.extend(buttons[i : i + 4] for i in range(0, len(buttons), 4))
    if pages > 1:
        row = []
        if page > 0:
            row.append(InlineKeyboardButton("« Newer", callback_data=sources_data(page - 1, words)))
        row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=sources_data(page, words)))
        if page < pages - 1:
            row.append(InlineKeyboardButton("Older »", callback_data=sources_data(page + 1, words)))
        rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None


def remove_confirmation(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes, remove it", callback_data=f"rmok:{token}"),
                InlineKeyboardButton("Cancel", callback_data="rmno"),
            ]
        ]
    )
