"""Numbered names in a question ("Super Bowl 50", "Apollo 11", "King Charles III", "iPhone 14") and whether an
article mentions them.

A name with a number picks one of a series. A collection that covers another member of the series quotes it with
confidence: "What color pants did the Broncos wear in Super Bowl 50?" asked of news about Super Bowl LVII was
answered with "The Chiefs will be wearing white uniforms with red pants". The sentence is about the question's
topic, so neither the fused score nor the answer checker can tell; the number can. When the article of the first
quote never mentions the numbered name, the bot declines and says so; a later quote whose article never mentions
it is not shown (bot/components/composer.py).

A year works the same way: "What party won the 2015 UK election?" answered from an article that never mentions
2015 (nor was published in it) is about another election. Only a question with one year is checked: two years
are mostly a range or a comparison ("from 1995 to 2000"), which articles write in many ways ("1646–7").

Matching is exact up to case, spacing ("Superbowl 50"), diacritics ("Boleslaw II" / "Bolesław II"), a plural
or list ("Super Bowls XXI and XXIV"), the number's spelling (50 / L, 1 / I) and "WW" for "World War": "Apollo 1"
never matches "Apollo 11". Dates ("September 17") and possessives ("Luther's 95 Theses") are not names of this
kind.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.absent import fold
from bot.dates import MONTHS
from indexing.sparse import STOPWORDS

# capitalised words (not a possessive), then a number: 1-3 digits not part of a list, score, date or time, or
# a Roman numeral
_NUMBERED = re.compile(
    r"(?<![\w'’])((?:(?:[A-Z]|[a-z][A-Z])[\w-]*(?<!['’]s)\s+)+)(\d{1,3}|[IVXL]+)(?![\w,.:/–-]\d)(?![\w'’]|-\w)"
)
_WORLD_WAR = frozenset({"ww", "worldwar"})
# a year: not part of a bigger number, an amount, a decade ("1990s") or a range ("1646-47")
_YEAR = re.compile(r"(?<![\w,.$£€'’])(1[5-9]\d\d|20\d\d)(?![\w'’]|[,.]\d|\s*[–-]\s*\d)")
# capitalised only because a sentence starts with them: function words (the indexer's stop words and a few
# more) are dropped from the front of a name
_LEADING = frozenset({"since", "whose", "besides", "without"}) | STOPWORDS
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def numbered_names(question: str) -> list[str]:
    """The question's numbered names, as written ("Super Bowl 50"), in order, each once."""
    names: list[str] = []
    for match in _NUMBERED.finditer(question):
        words, number = match.group(1).split(), match.group(2)
        while words and words[0].lower() in _LEADING:
            words = words[1:]
        if not words or words[-1].lower().rstrip(".") in MONTHS or _value(number) is None:
            continue
        name = " ".join([*words, number])
        if name not in names:
            names.append(name)
    return names


def mentions(text: str, name: str) -> bool:
    """Does `text` mention the numbered `name` (see the module's rules)? The text is folded only when its lower
    case does not match (folding a news article takes ~2 ms; a match in its lower case ~0.1 ms)."""
    pattern = _pattern(name)
    if pattern.search(text.lower()):
        return True
    return not text.isascii() and pattern.search(_fold(text)) is not None


def asked_years(question: str) -> list[str]:
    """The question's year when it names exactly one ("in 2015", "the 2015 election"; not "the 1990s", "1,950")."""
    years = set(_YEAR.findall(question))
    return sorted(years) if len(years) == 1 else []


def unmatched(question: str, text: str, published: str | None = None) -> list[str]:
    """The question's numbered names and year that an article never mentions (`text`: its title and text;
    `published`: its ISO date, which stands for its year: news rarely repeats the year it is written in)."""
    names = [name for name in numbered_names(question) if not mentions(text, name)]
    years = [
        year
        for year in asked_years(question)
        if not (published or "").startswith(year) and not re.search(rf"(?<!\d){year}(?!\d)", text)
    ]
    return names + years


@lru_cache(maxsize=256)
def _pattern(name: str) -> re.Pattern[str]:
    """The numbered name as a pattern over folded text: its letters with optional spaces between ("Superbowl" /
    "Super Bowl") and an optional plural, then its number in either spelling, alone or in a list ("Super Bowls
    XXI and XXIV"), on word boundaries."""
    *words, number = name.split()
    value = _value(number)
    spellings = {number.lower(), str(value), _roman(value).lower()} - {""}
    letters = _fold("".join(words))
    letters = letters[:-1] if letters.endswith("s") and len(letters) > 2 else letters
    head = r"\s*".join(re.escape(ch) for ch in letters) + r"s?\s+"
    if letters in _WORLD_WAR:  # "WW I", "WWII", "World War 2": one war however it is written
        head = r"(?:world\s*war\s+|ww\s*)"
    numbers = "|".join(sorted(map(re.escape, spellings), key=len, reverse=True))
    listed = r"(?:(?:\d{1,3}|[ivxlc]+),?\s+(?:(?:and|or|&)\s+)?)*"
    return re.compile(rf"(?<!\w){head}{listed}(?:{numbers})(?!\w)")


def _fold(text: str) -> str:
    """Lower case without diacritics (bot.absent.fold)."""
    return fold(text).lower()


def _value(number: str) -> int | None:
    """The number's value: digits, or a well-formed Roman numeral (None otherwise: "IL", "VV")."""
    if number.isdigit():
        return int(number)
    total = 0
    for i, ch in enumerate(number):
        value = _ROMAN[ch]
        total += -value if i + 1 < len(number) and _ROMAN[number[i + 1]] > value else value
    return total if total > 0 and _roman(total) == number else None


def _roman(value: int) -> str:
    """`value` as a Roman numeral (1-399; "" beyond)."""
    if not 0 < value < 400:
        return ""
    out = ""
    for numeral, amount in (("C", 100), ("XC", 90), ("L", 50), ("XL", 40), ("X", 10), ("IX", 9), ("V", 5)):
        while value >= amount:
            out, value = out + numeral, value - amount
    return out + ("IV" if value == 4 else "I" * value)
