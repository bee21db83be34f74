"""What the answer side returns: shared by the pipeline, the command line and the Telegram front end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long); the message is for the user."""


class EmptyCollectionError(RuntimeError):
    """Nothing is indexed yet; the message tells the user how to index."""


@dataclass
class Quote:
    """One verbatim sentence (two adjacent at most) from a stored article, with its source."""

    text: str
    article_id: str
    title: str
    url: str | None
    source: str | None
    published: str | None
    start: int
    end: int
    score: float
    # The part of `text` to show (offsets relative to `text`) when the sentence is too long to show whole;
    # renderers show it between "…" and keep the full text reachable. None: show all of `text`.
    window: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ArticleRef:
    """An article named without quoting it (closest matches when abstaining, /sources)."""

    article_id: str
    title: str
    url: str | None = None
    source: str | None = None
    published: str | None = None
    score: float | None = None
    origin: str | None = None  # the file or URL it was read from (admin tools)
    also_from: tuple[str, ...] = ()  # other files or URLs with the same text (indexed once, under this id)


@dataclass
class Answer:
    """The reply to one question."""

    question: str
    answer: str
    abstained: bool
    quotes: list[Quote] = field(default_factory=list)
    more_quotes: list[Quote] = field(default_factory=list)  # next best, for "More quotes"
    closest: list[ArticleRef] = field(default_factory=list)  # when abstaining
    latency_ms: float = 0.0
    generated: bool = False  # True when an LLM wrote `answer` from the quotes
    # Where the extractive `answer` (the lead) lies in quotes[0].text (offsets relative to that text), so
    # renderers can show it bold inside its quote instead of printing it twice. None when generated/abstained.
    lead: tuple[int, int] | None = None
    # The evidence is weak (answerability between the abstain and the tentative thresholds): the quotes are the
    # closest passages found, perhaps not an answer. Renderers say so and do not bold a lead; no LLM text is made.
    tentative: bool = False
    # Also tentative: the first quote's article predates the time the question asks about ("this week" answered
    # from a months-old article, or from before the range it names); renderers say that instead.
    dated: bool = False
    # A declined question respelled where it holds words the collection never uses ("Kurila" as "Kurilla",
    # bot/spelling.py), when the respelled question is answered; renderers suggest it. None otherwise.
    did_you_mean: str | None = None
    # The question's words that no indexed article uses (bot/absent.py): every content word on a decline or a
    # flagged answer, names and numbers on an answer; renderers say "No indexed article mentions …".
    absent: list[str] = field(default_factory=list)
    # Declined because the first quote's article never mentions a numbered name or the year of the question
    # ("Super Bowl 50", "2015"; bot/numbered.py); renderers say "The closest article never mentions …".
    unmatched: list[str] = field(default_factory=list)


@dataclass
class Passage:
    """A quote with the sentences around it, all verbatim from the stored article: before + quote + after."""

    before: str
    quote: str
    after: str
