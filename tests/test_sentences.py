"""Sentence spans slice back to the sentence text; pysbd keeps abbreviations, initials and decimals whole;
splitting is thread-safe, linear in paragraph length and caps run-on sentences."""

from __future__ import annotations

import itertools
import threading
import unicodedata

from conftest import SAMPLE_ARTICLES
from pysbd.processor import Processor

import indexing.sentences as sentences_module
from indexing.chunking import make_chunks
from indexing.cleaning import clean_text
from indexing.sentences import MAX_SENTENCE_CHARS, split_sentences


def sentences(text: str) -> list[str]:
    return [span.slice(text) for span in split_sentences(text)]


def test_spans_slice_back_on_the_sample_article():
    text, _ = clean_text((SAMPLE_ARTICLES / "centcom-chief-visits-pakistan.txt").read_text(encoding="utf-8"))
    spans = split_sentences(text)
    assert len(spans) > 15
    for span in spans:
        piece = span.slice(text)
        assert piece == piece.strip() and piece
        assert "\n" not in piece
    assert sentences(text)[0] == (
        "A top US general visited the General Headquarters in Rawalpindi and met Pakistani army chief "
        "on Thursday after a hiatus of 1.5 years."
    )
    # sentences are in order and never overlap
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_abbreviations_initials_decimals_and_quotes():
    text = (
        'Dr. J. R. Smith of the U.S. Army said prices rose 2.5 per cent. "We are ready," he said. '
        "Mr. Khan arrived at 3 p.m. on Monday. Is it over? Yes!"
    )
    assert sentences(text) == [
        "Dr. J. R. Smith of the U.S. Army said prices rose 2.5 per cent.",
        '"We are ready," he said.',
        "Mr. Khan arrived at 3 p.m. on Monday.",
        "Is it over?",
        "Yes!",
    ]


def test_lines_are_separate_sentences():
    text = "A heading\nFirst sentence. Second one.\n\nLast line without a stop"
    assert sentences(text) == ["A heading", "First sentence.", "Second one.", "Last line without a stop"]


def test_chunks_carry_valid_sentence_spans():
    text = " ".join(f"Sentence number {n} is here." for n in range(10))
    spans = split_sentences(text)
    chunks = make_chunks(text, spans, size=4, overlap=1)
    assert [len(c.sentence_spans) for c in chunks] == [4, 4, 4]
    for chunk in chunks:
        assert chunk.text == chunk.span.slice(text)
        for span in chunk.sentence_spans:
            assert span.slice(text) in chunk.text
    assert chunks[1].sentence_spans[0] == chunks[0].sentence_spans[-1]


def test_splitting_is_thread_safe():
    """Answers are split in question threads while /reindex splits articles: every thread must get
    exactly the serial result (one shared pysbd segmenter mixed the texts and lost sentences)."""
    texts = [
        " ".join(
            f"Sentence {i} of text {t} says the harbour bridge reopened after repairs worth {i} million."
            for i in range(40 + 25 * t)
        )
        for t in range(4)
    ] + ["The library lent 412,000 books last year. The mayor praised the staff. Funding rose by 3% in 2023."]
    expected = [split_sentences(text) for text in texts]
    results: list[list[bool]] = [[] for _ in texts]
    start = threading.Barrier(len(texts))

    def worker(number: int) -> None:
        start.wait()
        for _ in range(15):
            results[number].append(split_sentences(texts[number]) == expected[number])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(all(ok) and len(ok) == 15 for ok in results), [ok.count(False) for ok in results]


def test_long_paragraph_cost_is_bounded(monkeypatch):
    """pysbd is quadratic in the length of what it is given: a long paragraph reaches it only in
    windows of at most WINDOW_CHARS, and the windows add up to little more than the paragraph."""
    seen: list[int] = []
    real = Processor.process

    def measured(self):
        seen.append(len(self.text))
        assert len(self.text) <= sentences_module.WINDOW_CHARS, "pysbd was given a whole long paragraph"
        return real(self)

    monkeypatch.setattr(Processor, "process", measured)
    text = "The council approved the budget of the city library after a long debate on Tuesday. " * 3000  # 252 KB
    spans = split_sentences(text)
    assert len(spans) == 3000 and all(s.slice(text) == text[:84].strip() for s in spans)
    assert sum(seen) < 1.2 * len(text)


def test_windows_give_the_same_sentences_as_one_call(monkeypatch):
    """Windowing changes no boundary: the sample article joined into one paragraph, split with small
    windows, gives exactly the sentences of the unwindowed split."""
    text, _ = clean_text((SAMPLE_ARTICLES / "centcom-chief-visits-pakistan.txt").read_text(encoding="utf-8"))
    paragraph = " ".join(text.split("\n"))
    whole = split_sentences(paragraph)
    assert len(paragraph) < sentences_module.WINDOW_CHARS
    monkeypatch.setattr(sentences_module, "WINDOW_CHARS", 700)
    monkeypatch.setattr(sentences_module, "WINDOW_MARGIN", 200)
    assert split_sentences(paragraph) == whole


def covered(text: str, spans) -> bool:
    """Every non-space character of `text` lies in exactly one span, in order."""
    mask = [False] * len(text)
    for a, b in itertools.pairwise(spans):
        assert a.end <= b.start
    for span in spans:
        mask[span.start : span.end] = [True] * (span.end - span.start)
    return all(mask[i] or ch.isspace() for i, ch in enumerate(text))


def test_run_on_sentences_are_cut_at_safe_places():
    listing = " ; ".join(f"agenda item {i} covers the harbour bridge maintenance budget line {i}" for i in range(400))
    spans = split_sentences(listing)
    assert len(spans) > 10
    assert max(s.end - s.start for s in spans) <= MAX_SENTENCE_CHARS
    assert all(s.slice(listing).endswith(";") for s in spans[:-1])  # cut after a semicolon
    assert covered(listing, spans)

    words = " ".join(f"word{i}" for i in range(3000))  # no punctuation at all: cut between words
    spans = split_sentences(words)
    assert max(s.end - s.start for s in spans) <= MAX_SENTENCE_CHARS
    assert all(s.slice(words).split()[-1].startswith("word") for s in spans)
    assert " ".join(s.slice(words) for s in spans) == words

    unbroken = "x" * 4000 + "e\u0301" * 2000  # no space, accents: never split a letter from its accent
    spans = split_sentences(unbroken)
    assert "".join(s.slice(unbroken) for s in spans) == unbroken
    assert all(not unicodedata.combining(unbroken[s.start]) for s in spans)


def test_long_chinese_paragraph_keeps_its_sentences():
    zh = "港口大桥在维修两年后于三月十四日重新开放。工程师说钢缆已经更换。维修费用为四千八百万欧元。" * 200
    spans = split_sentences(zh)
    assert len(spans) == 600 and max(s.end - s.start for s in spans) <= 21
