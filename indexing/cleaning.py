"""Text cleaning: normalise Unicode and whitespace, drop lines that are not article prose.

The cleaned text is what the store keeps and what every quote is checked against. It has one line
per paragraph; its only blank lines are `DROPPED_LINE_MARK`s, left where a boilerplate line was
dropped between two kept lines, so quoting never joins two sentences the page did not have side by
side. Clean raw text once: cleaning cleaned text again collapses the marks like any blank line.
"""

from __future__ import annotations

import re
import unicodedata

# Lines that are navigation or syndication boilerplate rather than prose.
_BOILERPLATE = [
    re.compile(
        r"^(also read|read more|related( articles| stories)?|recommended|advertisement|"
        r"sponsored|share( this( article)?)?|click here.*|subscribe.*|sign up.*|follow us.*)[:.]?$",
        re.I,
    ),
    re.compile(
        r"^\((only the headline|this (story|article|report) (has|was)).*(syndicated|auto-generated|agency|feed).*\)$",
        re.I,
    ),
    re.compile(r"^(\(?(with inputs from|edited by|written by|reporting by)\b.*\)?)$", re.I),
    # "Also Read: <headline>" / "Also Read | <headline>" teasers for other stories
    re.compile(r"^\(?(also read|read also|also see|read more|related|must read)\s*[:|\-–—]\s*.{0,160}\)?$", re.I),
    re.compile(
        r"^(story continues below( advertisement)?|continue reading( below)?|skip to (main )?content|"
        r"(download|get) (the|our) .{0,40}app.{0,40}|(share|tweet|post) (on|to|this on) .{0,40}|"
        r"((first )?published|(last )?updated)( on| at)?: .{0,60}|(first published|last updated) (on|at) .{0,60}|"
        r"(copyright )?(©|\(c\)|copyright) ?\d{4}.{0,80}|all rights reserved\.?)$",
        re.I,
    ),
]
# Joins the two kept lines around a dropped one: a blank line, which raw text never keeps (normalise
# collapses blank lines), so in stored text "\n\n" always means "a line was removed here".
DROPPED_LINE_MARK = "\n\n"
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_boilerplate(line: str) -> bool:
    """True for a line that is a navigation label or a syndication disclaimer."""
    return any(pattern.match(line) for pattern in _BOILERPLATE)


def normalise(text: str) -> str:
    """NFC Unicode, one space between words, one line per paragraph, no control characters."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", _CONTROL.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def clean_text(text: str) -> tuple[str, list[str]]:
    """The cleaned article text and the boilerplate lines that were dropped (for reports).

    Kept lines are joined by "\n", or by `DROPPED_LINE_MARK` where dropped lines stood between them.
    """
    parts: list[str] = []
    dropped: list[str] = []
    gap = False
    for line in normalise(text).split("\n"):
        if is_boilerplate(line):
            dropped.append(line)
            gap = bool(parts)
            continue
        if parts:
            parts.append(DROPPED_LINE_MARK if gap else "\n")
        parts.append(line)
        gap = False
    return "".join(parts), dropped
