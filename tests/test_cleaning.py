"""Cleaning keeps article prose verbatim and drops navigation and syndication boilerplate."""

from __future__ import annotations

from conftest import SAMPLE_ARTICLES

from indexing.cleaning import DROPPED_LINE_MARK, clean_text, is_boilerplate, normalise

SAMPLE = SAMPLE_ARTICLES / "centcom-chief-visits-pakistan.txt"


def test_sample_article_drops_also_read_and_disclaimer():
    raw = SAMPLE.read_text(encoding="utf-8")
    text, dropped = clean_text(raw)
    assert "Also Read" not in text
    assert "syndicated feed" not in text
    assert len(dropped) == 2
    assert dropped[0] == "Also Read"
    assert dropped[1].startswith("(Only the headline")
    # every other line is kept exactly; a blank line stands where "Also Read" was (the disclaimer ended the text)
    kept = [line.strip() for line in raw.splitlines() if line.strip() and line.strip() not in dropped]
    assert [line for line in text.split("\n") if line] == kept
    assert text.count(DROPPED_LINE_MARK) == 1
    before, after = text.split(DROPPED_LINE_MARK)
    assert before.endswith("withdrawal from Afghanistan.") and after.startswith("The new Centcom chief spoke")
    assert text.startswith("A top US general visited the General Headquarters in Rawalpindi")


def test_normalise_unicode_and_whitespace():
    raw = "Cafe\u0301  au\u00a0lait\u200b is\tgood.\r\n\r\n\r\n  Second   line.\x07 "
    assert normalise(raw) == "Café au lait is good.\nSecond line."


def test_boilerplate_only_matches_whole_short_lines():
    for line in [
        "Also Read",
        "Read more:",
        "Advertisement",
        "(With inputs from PTI)",
        "ALSO READ",
        "Also Read: Pakistan army chief meets US envoy",
        "Story continues below Advertisement",
        "First published on: Aug 5, 2022",
        "© 2022 Reuters. All rights reserved.",
        "(This story has not been edited by Business Standard staff and is auto-generated from a syndicated feed.)",
    ]:
        assert is_boilerplate(line), line
    for line in [
        "Also read the statement issued by the ministry, the spokesman said.",
        "Advertisement revenue fell by 12 per cent in the quarter.",
        "(The meeting lasted two hours.)",
        "Updated figures show a rise.",
        "Published on Monday, the report said the army was ready.",
    ]:
        assert not is_boilerplate(line), line


def test_a_dropped_line_leaves_a_blank_line_and_raw_blank_lines_do_not():
    raw = "RELATED: Old story\nFirst line.\n\n\nSecond line.\nRELATED: Another story\n  \nThird line.\nAlso Read"
    text, dropped = clean_text(raw)
    assert dropped == ["RELATED: Old story", "RELATED: Another story", "Also Read"]
    # only the line dropped between two kept lines leaves a mark; the raw blank lines collapse
    assert text == "First line.\nSecond line." + DROPPED_LINE_MARK + "Third line."


def test_cleaning_is_idempotent_where_nothing_was_dropped():
    text, _ = clean_text(SAMPLE.read_text(encoding="utf-8").replace("Also Read", ""))
    assert clean_text(text) == (text, [])
