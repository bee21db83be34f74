"""Rendering answers as Telegram HTML, checked with the fake server's parser (what Telegram accepts): one
message per answer where it fits, the lead bold inside its quote, one source line per article with a text
fragment, generated answers labelled, lengths in UTF-16 units."""

from __future__ import annotations

import random
from urllib.parse import unquote

import pytest

from bot.telegram.render import (
    EXPANDABLE_OVER,
    GENERATED_LABEL,
    MAX_MESSAGE_UNITS,
    cut_text,
    format_date,
    fragment_url,
    link,
    render_answer,
    render_context,
    render_more_quotes,
    render_sources,
    split_blocks,
    text_directive,
    utf16_len,
)
from bot.types import Answer, ArticleRef, Quote
from tests.fake_bot_api import TelegramHTMLError, parse_telegram_html
from tests.fake_bot_api import utf16_len as server_utf16_len


def quote(text: str, url: str | None = "https://example.com/a?x=1&y=2", **kw) -> Quote:
    values = {
        "article_id": "a1",
        "title": "Title <with> & tags",
        "url": url,
        "source": "Outlet & Co",
        "published": "2022-08-05T10:00:00Z",
        "start": 0,
        "end": len(text),
        "score": 1.0,
    }
    values.update(kw)
    return Quote(text=text, **values)


def parsed_messages(messages: list[str]):
    """Parse each message like Telegram and check its length as Telegram counts it."""
    out = []
    for message in messages:
        parsed = parse_telegram_html(message)
        assert server_utf16_len(parsed.text) <= MAX_MESSAGE_UNITS
        out.append(parsed)
    return out


def decode_fragment(href: str) -> list[list[str]]:
    """The text directives of a link, percent-decoded (as a browser reads them)."""
    _, _, directives = href.partition(":~:")
    assert directives, href
    parts = []
    for directive in directives.split("&"):
        assert directive.startswith("text=")
        terms = directive.removeprefix("text=").split(",")
        assert all("-" not in term and "&" not in term for term in terms), "syntax characters must be encoded"
        parts.append([unquote(term) for term in terms])
    return parts


# --------------------------------------------------------------------------- escaping, links, fragments


def test_everything_is_escaped_and_links_are_safe():
    answer = Answer("q", "x < y & z", False, quotes=[quote("He said <script>alert(1)</script> & left.")])
    [html] = render_answer(answer)
    [parsed] = parsed_messages([html])
    assert parsed.blockquotes == ["He said <script>alert(1)</script> & left."]
    assert parsed.links[0].startswith("https://example.com/a?x=1&y=2#:~:text=")
    assert decode_fragment(parsed.links[0]) == [["He said <script>alert(1)</script> & left."]]
    assert "x < y & z" in parsed.text and "Title <with> & tags" in parsed.text and "Outlet & Co" in parsed.text
    assert "5 Aug 2022" in parsed.text
    assert link("T", "javascript:alert(1)") == "T"
    assert link('A "b"', 'https://e.com/?q="x"') == '<a href="https://e.com/?q=&quot;x&quot;">A "b"</a>'


@pytest.mark.parametrize(
    "text",
    [
        "The bridge reopened on 14 March.",
        "Co-operation, trade & defence — all three were discussed, said the spokes-woman.",
        "Zürich’s “Großmünster” reopened; 🚀 launches: 3-2-1, go!",
    ],
)
def test_text_fragment_decodes_to_the_quote(text):
    [[decoded]] = decode_fragment(fragment_url("https://example.com/story", [text]))
    assert decoded == text


def test_long_quotes_use_the_start_end_form():
    text = " ".join(f"word{i}" for i in range(60)) + " the-end, finally & done."
    [[start, end]] = decode_fragment(fragment_url("https://example.com/story#intro", [text]))
    assert text.startswith(start) and text.endswith(end) and len(start.split()) == len(end.split()) == 5
    assert fragment_url("https://example.com/story#intro", [text]).startswith("https://example.com/story#intro:~:")
    assert text_directive("a b").startswith("text=a%20b")


# --------------------------------------------------------------------------- one answer, one message


def test_the_lead_is_bold_inside_its_quote_and_not_repeated():
    sentence = "Kurilla met General Bajwa on Thursday, reported the Tribune."
    answer = Answer("q", "Kurilla met General Bajwa on Thursday.", False, quotes=[quote(sentence)], lead=(0, 37))
    [html] = render_answer(answer)
    [parsed] = parsed_messages([html])
    assert parsed.text.count("Kurilla met") == 1
    assert parsed.bold == ["Kurilla met General Bajwa on Thursday"]
    assert parsed.blockquotes == [sentence]


def test_a_tentative_answer_says_so_and_bolds_nothing():
    from bot.answer_text import DATED_TEXT, TENTATIVE_TEXT

    sentence = "Kurilla met General Bajwa on Thursday, reported the Tribune."
    answer = Answer("q", "Kurilla met General Bajwa on Thursday", False, quotes=[quote(sentence)], lead=(0, 37))
    answer.tentative = True
    [parsed] = parsed_messages(render_answer(answer))
    assert parsed.text.startswith(TENTATIVE_TEXT)
    assert parsed.bold == [] and parsed.blockquotes == [sentence]
    answer.dated = True  # flagged because the article predates the time asked about: the reason is given
    [parsed] = parsed_messages(render_answer(answer))
    assert parsed.text.startswith(DATED_TEXT) and parsed.bold == []


def test_the_lead_is_found_when_the_pipeline_gives_no_offsets():
    sentence = "After talks, Kurilla met General Bajwa; both discussed counter-terror programmes."
    answer = Answer("q", "Kurilla met General Bajwa.", False, quotes=[quote(sentence)])
    [parsed] = parsed_messages(render_answer(answer))
    assert parsed.bold == ["Kurilla met General Bajwa"] and parsed.text.count("Kurilla") == 1
    whole = Answer("q", "Same sentence.", False, quotes=[quote("Same sentence.")])
    [parsed] = parsed_messages(render_answer(whole))
    assert parsed.text.count("Same sentence.") == 1 and not parsed.bold


def test_a_windowed_quote_shows_its_window_between_ellipses():
    long = "Background " * 80 + "the lead is here in the middle" + " and more" * 80
    start = long.index("the lead")
    item = quote(long, window=(start - 20, start + 60))
    answer = Answer("q", "the lead is here", False, quotes=[item], lead=(start, start + 16))
    [parsed] = parsed_messages(render_answer(answer))
    [shown] = parsed.blockquotes
    assert shown.startswith("…") and shown.endswith("…") and shown.strip("…") in long
    assert parsed.bold == ["the lead is here"]


def test_generated_answers_are_labelled_and_quotes_follow():
    answer = Answer(
        "q", "It reopened in 2019 [1].", False, quotes=[quote("The bridge reopened in 2019.")], generated=True
    )
    [parsed] = parsed_messages(render_answer(answer))
    assert parsed.text.startswith(GENERATED_LABEL)
    assert parsed.text.index("It reopened in 2019 [1].") < parsed.text.index("The bridge reopened")
    assert parsed.blockquotes == ["The bridge reopened in 2019."] and not parsed.bold


def test_one_source_line_per_article():
    quotes = [
        quote("First from A.", article_id="a", title="Alpha", url="https://a.example/1"),
        quote("From B.", article_id="b", title="Beta", url="https://b.example/2"),
        quote("Second from A.", article_id="a", title="Alpha", url="https://a.example/1"),
        quote("Third from A.", article_id="a", title="Alpha", url="https://a.example/1"),
    ]
    [parsed] = parsed_messages(render_answer(Answer("q", "First from A.", False, quotes=quotes)))
    assert parsed.text.count("Alpha") == 1 and parsed.text.count("Beta") == 1
    assert parsed.blockquotes == ["First from A.", "Second from A.", "Third from A.", "From B."]
    alpha, beta = parsed.links
    assert decode_fragment(alpha) == [["First from A."], ["Second from A."], ["Third from A."]]
    assert decode_fragment(beta) == [["From B."]]


def test_long_quotes_collapse_into_expandable_blockquotes():
    short, long = quote("Short one."), quote("A long sentence, " * 30 + "end.")
    [parsed] = parsed_messages(render_answer(Answer("q", "x", False, quotes=[short, long])))
    assert parsed.expandable == [False, True] and utf16_len(long.text) > EXPANDABLE_OVER


def test_abstain_names_the_closest_articles():
    answer = Answer(
        "q",
        "I could not find an answer.",
        True,
        closest=[ArticleRef("a", "First <1>", "https://e.com/1", "Outlet", "2024-02-01"), ArticleRef("b", "Second")],
    )
    [parsed] = parsed_messages(render_answer(answer))
    assert "First <1>" in parsed.text and "Second" in parsed.text and parsed.links == ["https://e.com/1"]
    assert not parsed.blockquotes


# --------------------------------------------------------------------------- lengths and splitting


def test_lengths_are_counted_in_utf16_units():
    emoji_quote = quote("🚀🎉 " * 1356 + "end.")  # 4,072 characters, 6,784 UTF-16 units
    assert len(emoji_quote.text) < MAX_MESSAGE_UNITS < utf16_len(emoji_quote.text)
    messages = render_answer(Answer("q", "x", False, quotes=[emoji_quote]))
    assert len(messages) >= 2
    parts = [b for parsed in parsed_messages(messages) for b in parsed.blockquotes]
    assert " ".join(" ".join(parts).split()) == " ".join(emoji_quote.text.split())
    for piece in cut_text(emoji_quote.text, 100):
        assert utf16_len(piece) <= 100


def test_the_fake_server_counts_like_telegram():
    with pytest.raises(TelegramHTMLError):
        parse_telegram_html("<b>open")
    assert server_utf16_len("🚀") == 2 and server_utf16_len("é") == 1


@pytest.mark.parametrize("seed", range(30))
def test_split_never_exceeds_the_limit_nor_breaks_tags(seed):
    rng = random.Random(seed)
    alphabet = "abc <>&\"' é🚀\n"
    quotes = [
        quote(
            "".join(rng.choice(alphabet) for _ in range(rng.choice([10, 500, 2000, 4000, 9000]))).strip() or "x",
            article_id=rng.choice(["a", "b", "c"]),
        )
        for _ in range(rng.randint(1, 6))
    ]
    answer = Answer("q", "answer & <stuff>", False, quotes=quotes, generated=rng.random() < 0.5)
    texts = [b for parsed in parsed_messages(render_answer(answer)) for b in parsed.blockquotes]
    joined = " ".join(" ".join(texts).split())
    for q in quotes:
        assert " ".join(q.text.split())[:50] in joined
    for q in quotes:  # quotes that fit in a message are never split
        if utf16_len(q.text) < 3000 and "\n" not in q.text:
            assert q.text in texts or q.text.strip() in texts


def test_an_answer_that_fits_is_one_message():
    quotes = [quote(f"Sentence number {i} of a fairly ordinary length, about the harbour.", start=i) for i in range(3)]
    assert len(render_answer(Answer("q", "Sentence number 0", False, quotes=quotes))) == 1


def test_split_packs_blocks_greedily_between_blocks():
    blocks = ["a" * 2000, "b" * 2000, "c" * 2000]
    assert [len(m) for m in split_blocks(blocks)] == [4002, 2000]
    messages = split_blocks(["<b>x</b>\n" * 5000], limit=4096)
    assert len(messages) == 3
    assert sum(m.count("<b>x</b>") for m in messages) == 5000
    parsed_messages(messages)


# --------------------------------------------------------------------------- other messages


def test_more_quotes_context_and_sources_pages():
    assert render_more_quotes([]) == ["No more quotes for this question."]
    refs = [ArticleRef(f"id{i}", f"T{i}", None, None, None) for i in range(5)]
    page = render_sources(refs, 1, 2)
    assert "3. T2" in page and "4. T3" in page and "page 2/3" in page
    assert render_sources([], 0, 5) == "No articles are indexed yet."
    found = render_sources(refs[:1], 0, 5, query="t0 <x>", show_ids=True)
    assert "matching “t0 &lt;x&gt;”" in found and "<code>id0</code>" in found
    [context] = parsed_messages(render_context(quote("The quote."), "Before it. ", " After it."))
    assert context.blockquotes == ["Before it. The quote. After it."] and context.bold == ["The quote."]


def test_format_date():
    assert format_date("2022-08-05") == "5 Aug 2022"
    assert format_date("2022-08-05T23:10:00+02:00") == "5 Aug 2022"
    assert format_date("last Tuesday") == "last Tuesday"
    assert format_date(None) is None


@pytest.mark.parametrize(
    "markup",
    [
        "<b>open",  # unclosed
        "<div>x</div>",  # unknown tag
        "<b><i>x</b></i>",  # badly nested
        "<i expandable>x</i>",  # expandable outside a blockquote
        "<blockquote>a<blockquote>b</blockquote></blockquote>",  # nested blockquotes
        "a < b",  # a bare "<"
        '<a href="javascript:alert(1)">x</a>',  # not a URL
        '<span class="red">x</span>',  # only tg-spoiler spans
    ],
)
def test_fake_server_rejects_what_telegram_rejects(markup):
    with pytest.raises(TelegramHTMLError):
        parse_telegram_html(markup)
