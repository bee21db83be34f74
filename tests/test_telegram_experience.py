"""How the bot reads in Telegram (issue 12), end to end over the fake Bot API: answers stay together under
load, edits re-answer in place, inline mode shares quotes with their source, deep links ask."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import pytest

from bot.telegram.deeplinks import deep_link, deep_link_payload
from tests.fake_bot_api import BOT_USERNAME, parse_telegram_html, start_bot
from tests.test_telegram_e2e import (
    ARTICLE_URL,
    QUESTION,
    USER,
    _normalise,
    assert_fragment_matches,
    assert_valid_html,
    bot_message,
    button_data,
    html_of,
    labels_of,
    page_url,
    press,
    quotes_of,
    sample_corpus,
    stored_text,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, embedder):
    yield from sample_corpus(tmp_path_factory.mktemp("telegram-experience"), embedder)


@pytest.fixture(scope="module")
async def bot(corpus):
    running = await start_bot(*corpus)
    yield running
    assert await running.close() == 0
    await running.api.stop()


async def test_concurrent_answers_keep_their_parts_together_in_order(bot, monkeypatch):
    """20 questions at once from one user, each answer in several messages: every answer's parts are
    contiguous, in order, replies to their own question, and only the last carries the buttons."""
    original = bot.services.answerer.ask

    def long_answer(question, **kwargs):
        answer = original(QUESTION, **kwargs)
        padded = [replace(q, text=(q.text + " ") * 12, window=None) for q in answer.quotes + answer.more_quotes]
        return replace(answer, question=question, quotes=padded, more_quotes=[])

    monkeypatch.setattr(bot.services.answerer, "ask", long_answer)
    api = bot.api
    since = api.mark()
    asked = {api.inject_text(f"Question number {n}?", user_id=USER) for n in range(20)}
    await api.wait_for(
        "sendMessage", since=since, chat_id=USER, count=20, timeout=120, predicate=lambda r: "reply_markup" in r.params
    )
    await api.quiet(0.3)
    sent = api.calls("sendMessage", since, chat_id=USER)
    order = [r.params["reply_parameters"]["message_id"] for r in sent]
    groups: dict[int, list] = defaultdict(list)
    for request, question_id in zip(sent, order, strict=True):
        groups[question_id].append(request)
    assert len(groups) == len(asked) == 20
    for question_id, parts in groups.items():
        first = order.index(question_id)
        assert order[first : first + len(parts)] == [question_id] * len(parts), "parts of answers interleaved"
        assert len(parts) >= 2
        assert [bool(p.params.get("reply_markup")) for p in parts] == [False] * (len(parts) - 1) + [True]
        for part in parts:
            assert_valid_html(html_of(part))


async def test_an_edited_question_is_answered_again_in_place(bot):
    api = bot.api
    since = api.mark()
    api.inject_text("Who did the Centcom chief meat?", user_id=USER)  # a typo
    first = await bot.replies(USER, since)
    question = api.messages[(USER, first[0].params["reply_parameters"]["message_id"])]
    answer_id = first[-1].result["message_id"]
    await api.quiet(0.3)

    since = api.mark()
    api.inject_edit(question, "Which army chief did the Centcom chief meet in Rawalpindi?")
    edited = await api.wait_for("editMessageText", since=since, chat_id=USER, message_id=answer_id)
    await api.quiet(0.3)
    assert not api.calls("sendMessage", since, chat_id=USER), "the answer is edited, not sent again"
    parsed = parse_telegram_html(html_of(edited[0]))
    assert parsed.blockquotes and all(q in stored_text(bot.services.store) for q in parsed.blockquotes)
    buttons = [b["callback_data"] for row in edited[0].params["reply_markup"]["inline_keyboard"] for b in row]
    old = [b["callback_data"] for row in first[-1].params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[0].split(":")[1] != old[0].split(":")[1], "the buttons belong to the new answer"
    assert api.messages[(USER, answer_id)]["text"] == parsed.text


async def test_inline_mode_offers_quotes_with_their_source(bot):
    api = bot.api
    since = api.mark()
    query_id = api.inject_inline(QUESTION, user_id=USER)
    await api.wait_for("answerInlineQuery", since=since)
    answer = api.inline_answers[query_id]
    assert answer["is_personal"] is True, "results depend on who asks (allow-list): never shared by Telegram"
    results = answer["results"]
    assert 1 <= len(results) <= 6
    text = stored_text(bot.services.store)
    for result in results:
        content = result["input_message_content"]
        assert content["parse_mode"] == "HTML"
        parsed = parse_telegram_html(content["message_text"])
        [shown] = parsed.blockquotes
        assert shown in text, "an inline result sends a verbatim quote"
        assert [page_url(href) for href in parsed.links] == [ARTICLE_URL]
        assert_fragment_matches(parsed.links[0], [shown])
        assert _normalise(result["title"].rstrip("…"))[:40] in _normalise(shown)

    since = api.mark()
    query_id = api.inject_inline("hi", user_id=USER)
    await api.wait_for("answerInlineQuery", since=since)
    assert api.inline_answers[query_id]["results"] == [] and api.inline_answers[query_id]["button"]

    since = api.mark()
    query_id = api.inject_inline("What is the recipe for a good lasagne with bechamel?", user_id=USER)
    await api.wait_for("answerInlineQuery", since=since)
    button = api.inline_answers[query_id]["button"]
    assert api.inline_answers[query_id]["results"] == [] and "Not found" in button["text"]
    assert "no article mentions “" in button["text"], "the button names a word no article uses"


async def test_a_misspelled_name_is_declined_with_the_respelled_question_suggested_in_chat_and_inline(bot):
    """ "Kurila" is in no article: declined as written, never silently read as "Kurilla"; the reply suggests
    the respelled question, and inline mode's button asks it in a private chat."""
    api = bot.api
    since = api.mark()
    api.inject_text("Who did Kurila meet?", user_id=USER)
    reply = await api.wait_for("sendMessage", since=since, chat_id=USER)
    text = parse_telegram_html(html_of(reply[-1])).text
    assert "could not find an answer" in text and "Did you mean “Who did Kurilla meet?”?" in text
    assert "No indexed article mentions “Kurila”." in text, "the decline names the word no article uses"
    assert "Bajwa" not in text, "the question as written is declined: no quote"
    link = deep_link(BOT_USERNAME, "Who did Kurilla meet?")
    asks = [b for row in reply[-1].params["reply_markup"]["inline_keyboard"] for b in row if "url" in b]
    assert asks == [{"text": "Ask “Who did Kurilla meet?”", "url": link}], "one tap asks the suggestion"
    _, since = await press(api, button_data(reply[-1], "👍"), bot_message(api, reply[-1]))
    voted = api.calls("editMessageReplyMarkup", since)[-1].params["reply_markup"]
    assert (
        "👍 ✓" in labels_of(voted)
        and {"text": "Ask “Who did Kurilla meet?”", "url": link} in voted["inline_keyboard"][0]
    )

    since = api.mark()
    query_id = api.inject_inline("Who did Kurila meet?", user_id=USER)
    await api.wait_for("answerInlineQuery", since=since)
    answer = api.inline_answers[query_id]
    assert answer["results"] == [] and answer["button"]["text"] == "Did you mean “Who did Kurilla meet?”?"
    assert answer["button"]["start_parameter"] == deep_link_payload("Who did Kurilla meet?")


async def test_weak_evidence_is_shown_as_the_closest_passages_in_chat_and_inline(bot, monkeypatch):
    """With the tentative threshold above every answer's confidence, the chat reply opens with the caution line
    and bolds no lead, and inline results carry the caution as their button; at the default, neither does."""
    from bot.answer_text import TENTATIVE_TEXT

    composer = bot.services.answerer.pipeline.get_component("composer")
    api = bot.api
    for threshold, tentative in ((None, False), (1.0, True)):
        monkeypatch.setattr(composer, "tentative_threshold", threshold)
        since = api.mark()
        api.inject_text(QUESTION, user_id=USER)
        parsed = parse_telegram_html(html_of((await bot.replies(USER, since))[0]))
        assert parsed.text.startswith(TENTATIVE_TEXT) is tentative
        assert not (tentative and parsed.bold), "no lead is shown bold as the answer"
        assert parsed.blockquotes, "the quotes are shown either way"
        since = api.mark()
        query_id = api.inject_inline(QUESTION, user_id=USER)
        await api.wait_for("answerInlineQuery", since=since)
        answer = api.inline_answers[query_id]
        assert answer["results"]
        assert ("may not answer" in ((answer.get("button") or {}).get("text") or "")) is tentative


async def test_inline_mode_is_gated_like_the_rest(corpus):
    settings, answerer, store, embedder = corpus
    private = await start_bot(settings.model_copy(update={"allowed_user_ids": [USER]}), answerer, store, embedder)
    try:
        api = private.api
        since = api.mark()
        query_id = api.inject_inline(QUESTION, user_id=4242)
        await api.wait_for("answerInlineQuery", since=since)
        refused = api.inline_answers[query_id]
        assert refused["results"] == [] and "4242" in refused["button"]["text"]
    finally:
        await private.close()
        await private.api.stop()


@pytest.mark.parametrize("question", [QUESTION, "Who met the army chief", "Qui a rencontré le général ? ✈️"])
async def test_deep_link_start_payload_asks_the_question(bot, question):
    payload = deep_link_payload(question)
    assert payload is not None and len(payload) <= 64
    replies = await bot.ask(f"/start {payload}")
    if "✈️" in question:  # a question the articles do not answer still gets an answer, not a welcome
        assert "Hello" not in html_of(replies[0])
        return
    assert quotes_of(replies) and "Hello" not in html_of(replies[0])


async def test_answers_to_groups_and_private_chats_are_replies(bot):
    group = -100777
    since = bot.api.mark()
    bot.api.inject_text(f"/ask@{bot.api.username} {QUESTION}", user_id=USER, chat_id=group, chat_type="supergroup")
    replies = await bot.replies(group, since)
    question = bot.api.messages[(group, replies[0].params["reply_parameters"]["message_id"])]
    assert question["text"].endswith(QUESTION)
    private = await bot.ask(QUESTION)
    assert bot.api.messages[(USER, private[0].params["reply_parameters"]["message_id"])]["text"] == QUESTION
