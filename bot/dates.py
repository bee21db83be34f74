"""Dates in questions, relative to the day the question is asked (`as_of`).

News questions say "this week", "last March", "in 2021" or "recently"; articles carry a published date.
`question_dates` turns the question's words into a date range and a recency cue; `date_features` turns
an article's published date into ranking features (bot/scoring.py). They are soft signals: the fitted
weights decide how much they count, and no article is ever dropped because of them.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
_YEAR = r"((?:19|20)\d{2})"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b{_MONTH}\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?(?:of\s+)?{_YEAR}\b", re.I), "month_year"),
    (re.compile(rf"\b(?:last|past|previous)\s+{_MONTH}(?!\s+\d)", re.I), "last_month_name"),
    (re.compile(rf"\b(?:this|in|during|on|early|late|mid-?)\s+{_MONTH}(?!\s+\d{{4}})", re.I), "month_name"),
    (re.compile(rf"\b(?:in|during|of|throughout|early|late|mid-?)\s+{_YEAR}\b(?!s)", re.I), "year"),
    (re.compile(r"\b(today|tonight|this morning|this afternoon|this evening)\b", re.I), "today"),
    (re.compile(r"\byesterday\b", re.I), "yesterday"),
    (re.compile(r"\b(this|the past|the last)\s+(week|weekend|few days)\b", re.I), "this_week"),
    (re.compile(r"\blast\s+(week|weekend)\b", re.I), "last_week"),
    (re.compile(r"\bthis\s+month\b", re.I), "this_month"),
    (re.compile(r"\b(last|past)\s+month\b", re.I), "last_month"),
    (re.compile(r"\bthis\s+year\b", re.I), "this_year"),
    (re.compile(r"\blast\s+year\b", re.I), "last_year"),
]
_RECENT = re.compile(
    r"\b(recent|recently|latest|newly|new|now|currently|current|just|this week|this month|today|yesterday|"
    r"upcoming|ongoing|so far|to date|announced|this season|this year|last week|days ago|weeks ago)\b",
    re.I,
)

# The narrower cue `predates` needs: words about the time of asking, not "new" or "current" (a "new role" is no
# question about this week).
_ASKS_RECENT = re.compile(
    r"\b(recent|recently|latest|lately|this week|these days|days ago|weeks ago|last week)\b", re.I
)


@dataclass(frozen=True)
class QuestionDates:
    """What the question says about time: a published-date range it names (or None) and a recency cue."""

    as_of: date
    start: date | None = None
    end: date | None = None
    recent: bool = False
    asks_recent: bool = False  # "recently", "latest", "this week": `predates` judges articles by age

    @property
    def has_range(self) -> bool:
        return self.start is not None and self.end is not None


def parse_day(value: str | date | datetime | None) -> date | None:
    """An ISO date (or datetime, or YYYY/MM/DD) as a date; None when missing or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _last_month_named(as_of: date, month: int, strictly_before: bool) -> tuple[date, date]:
    """The most recent `month` up to `as_of` (before the current month when `strictly_before`)."""
    year = as_of.year if (month < as_of.month or (month == as_of.month and not strictly_before)) else as_of.year - 1
    return _month_range(year, month)


def question_dates(question: str, as_of: str | date | None = None) -> QuestionDates:
    """The date range a question names relative to `as_of` (default: today) and whether it asks about recent
    events ("this week", "recently", "latest"). The first explicit expression wins."""
    day = parse_day(as_of) or date.today()
    recent = bool(_RECENT.search(question))
    asks_recent = bool(_ASKS_RECENT.search(question))
    for pattern, kind in _PATTERNS:
        match = pattern.search(question)
        if not match:
            continue
        start, end = _range(kind, match, day)
        if start is not None and end is not None and start <= day:
            return QuestionDates(day, start, min(end, day), recent, asks_recent)
    return QuestionDates(day, recent=recent, asks_recent=asks_recent)


def _range(kind: str, match: re.Match[str], day: date) -> tuple[date | None, date | None]:
    if kind == "month_year":
        return _month_range(int(match.group(2)), MONTHS[match.group(1).lower().rstrip(".")])
    if kind == "last_month_name":
        return _last_month_named(day, MONTHS[match.group(1).lower().rstrip(".")], strictly_before=True)
    if kind == "month_name":
        word = match.group(1).lower().rstrip(".")
        if word == "may" and not match.group(0).lower().startswith(("in", "this", "during", "early", "late")):
            return None, None  # "on may" is rarely the month
        return _last_month_named(day, MONTHS[word], strictly_before=False)
    if kind == "year":
        year = int(match.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    if kind == "today":
        return day, day
    if kind == "yesterday":
        return day - timedelta(days=1), day - timedelta(days=1)
    if kind == "this_week":
        return day - timedelta(days=7), day
    if kind == "last_week":
        return day - timedelta(days=14), day - timedelta(days=5)
    if kind == "this_month":
        return day.replace(day=1), day
    if kind == "last_month":
        first = day.replace(day=1) - timedelta(days=1)
        return _month_range(first.year, first.month)
    if kind == "this_year":
        return date(day.year, 1, 1), day
    if kind == "last_year":
        return date(day.year - 1, 1, 1), date(day.year - 1, 12, 31)
    return None, None


# A question about recent events ("recently", "latest", "this week") answered from an article older than this is
# answered from before the time it asks about (news dev: such first quotes, with those from before a named range,
# hold the answer 23 % of the time, the answers given as answers 38 %; docs/quality.md, round 6).
RECENT_DAYS = 30
# Slack around a range the question names: coverage may start a little early and run on for days after.
SLACK_BEFORE, SLACK_AFTER = timedelta(days=2), timedelta(days=10)


def predates(published: str | None, dates: QuestionDates | None) -> bool:
    """Is an article published before the time the question asks about: before the range it names (two days'
    slack), or, for a question about recent events ("recently", "latest"; not "new"), more than RECENT_DAYS before
    it is asked? False when either date is unknown (undated articles are never judged by date)."""
    day = parse_day(published)
    if day is None or dates is None:
        return False
    if dates.has_range:
        return day < dates.start - SLACK_BEFORE
    return dates.asks_recent and (dates.as_of - day).days > RECENT_DAYS


DATE_FEATURES = ["fresh", "age", "recent_age", "date_in", "date_out", "future"]


def date_features(published: str | None, dates: QuestionDates | None) -> dict[str, float]:
    """Ranking features of an article's published date for a question (all 0 when either date is unknown).

    `fresh`: published within the week before the question; `age`: log-scaled age (0 same day, 1 ten
    years); `recent_age`: the same when the question asks about recent events; `date_in` / `date_out`:
    inside / outside the range the question names (a few days' slack for later coverage); `future`:
    published after the question was asked (a page updated later, or a replayed question).
    """
    day = parse_day(published)
    if day is None or dates is None:
        return dict.fromkeys(DATE_FEATURES, 0.0)
    age = (dates.as_of - day).days
    scaled = min(1.0, math.log1p(max(age, 0)) / math.log1p(3650))
    out = {
        "fresh": 1.0 if -1 <= age <= 7 else 0.0,
        "age": scaled,
        "recent_age": scaled if dates.recent else 0.0,
        "date_in": 0.0,
        "date_out": 0.0,
        "future": 1.0 if age < -1 else 0.0,
    }
    if dates.has_range:
        inside = dates.start - SLACK_BEFORE <= day <= dates.end + SLACK_AFTER
        out["date_in" if inside else "date_out"] = 1.0
    return out
