"""Sentence spans slice back to the sentence text; pysbd keeps abbreviations, initials and decimals whole."""

from __future__ import annotations

import itertools

from conftest import SAMPLE_ARTICLES

from indexing.chunking import make_chunks
from indexing.cleaning import clean_text
from indexing.sentences import split_sentences


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
