"""The optional LLM answer against a fake OpenAI-compatible server, and its fallback."""

from __future__ import annotations

import pytest
from fake_llm import FakeLLM
from fixtures.support import make_test_settings, shared_index

from bot.components.generator import QuoteAnswerGenerator
from bot.pipeline import QuestionAnswerer
from bot.types import Answer, Quote

QUESTION = "When did the Old Harbour Bridge reopen?"


@pytest.fixture(scope="session")
def indexed(tmp_path_factory, embedder):
    return shared_index(tmp_path_factory, embedder)


@pytest.fixture(scope="module")
def llm():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def fresh(llm):
    llm.mode, llm.requests = "ok", []
    return llm


def _answer() -> Answer:
    quote = Quote("The bridge reopened on Tuesday.", "a", "Bridge", None, "Herald", "2023-03-14", 0, 31, 1.0)
    return Answer(question=QUESTION, answer="The bridge reopened on Tuesday.", abstained=False, quotes=[quote])


def test_generator_writes_a_cited_answer_from_the_quotes(fresh):
    generator = QuoteAnswerGenerator(base_url=fresh.base_url, model="fake-model", timeout=5)
    answer = generator.run(_answer())["answer"]
    assert answer.generated and answer.answer == fresh.reply
    body = fresh.requests[0]["body"]
    assert body["model"] == "fake-model"
    assert "[1] The bridge reopened on Tuesday." in body["messages"][-1]["content"]
    assert QUESTION in body["messages"][-1]["content"]


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_generator_falls_back_to_the_extractive_answer(fresh, mode):
    fresh.mode, fresh.delay = mode, 1.5
    generator = QuoteAnswerGenerator(base_url=fresh.base_url, model="fake-model", timeout=0.5)
    answer = generator.run(_answer())["answer"]
    assert not answer.generated
    assert answer.answer == "The bridge reopened on Tuesday."


def test_generator_unreachable_and_unconfigured():
    answer = QuoteAnswerGenerator(base_url="http://127.0.0.1:9", model="m", timeout=1).run(_answer())["answer"]
    assert not answer.generated
    assert QuoteAnswerGenerator().run(_answer())["answer"].answer == "The bridge reopened on Tuesday."


def test_generator_writes_nothing_for_a_tentative_answer(fresh):
    """Weak evidence gets no fluent summary that would read as an answer: the LLM is not even asked."""
    tentative = _answer()
    tentative.tentative = True
    generator = QuoteAnswerGenerator(base_url=fresh.base_url, model="fake-model", timeout=5)
    answer = generator.run(tentative)["answer"]
    assert not answer.generated and answer.answer == "The bridge reopened on Tuesday."
    assert fresh.requests == []


def test_generator_in_the_pipeline(indexed, embedder, fresh):
    settings, store = indexed
    llm_settings = make_test_settings(
        settings.qdrant_path, llm_base_url=fresh.base_url, llm_model="fake", llm_timeout=5
    )
    qa = QuestionAnswerer(llm_settings, store, embedder)
    try:
        answer = qa.ask(QUESTION)
        assert answer.generated and answer.answer == fresh.reply
        assert answer.quotes and "reopened to traffic on Tuesday" in answer.quotes[0].text
        fresh.mode = "error"
        answer = qa.ask(QUESTION)
        assert not answer.generated and "Tuesday" in answer.answer
        fresh.requests = []
        assert qa.ask("What is the recipe for a chocolate cake?").abstained
        assert fresh.requests == []  # abstentions never reach the model
    finally:
        qa.close()
