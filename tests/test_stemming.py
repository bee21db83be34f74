"""The sparse terms are stemmed by PyStemmer, snowballstemmer's C backend (15x faster, benchmarks/bench_stemming.py),
and it stems exactly like the pure-Python snowballstemmer: a store indexed with either answers the other's questions."""

from __future__ import annotations

from pathlib import Path

from snowballstemmer.english_stemmer import EnglishStemmer
from test_sparse_threads import words

from indexing.sparse import _TOKEN, _stemmer, tokenize

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "articles" / "centcom-chief-visits-pakistan.txt"


def test_the_c_backend_is_the_one_in_use() -> None:
    assert type(_stemmer()).__module__ == "Stemmer"  # PyStemmer, not snowballstemmer's pure-Python classes


def test_it_stems_every_word_like_the_pure_python_stemmer() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    vocabulary = {m.group().lower() for m in _TOKEN.finditer(text)} | set(words(3, 2000))
    vocabulary |= {"generously", "dying", "skies", "news", "ångström", "naïvely", "cafés", "1,200.5"}
    pure = EnglishStemmer()
    assert {w: _stemmer().stemWord(w) for w in vocabulary} == {w: pure.stemWord(w) for w in vocabulary}
    assert tokenize("The generals were dying under cloudy skies") == ["general", "die", "cloudi", "sky"]


def test_tokenize_keeps_numbers_whole_letters_of_any_script_and_drops_stop_words() -> None:
    """What the BM25 terms are made of (`findall` since round 13; the same tokens as round 12's `finditer`)."""
    assert tokenize("In 2019, 1,200.5 tonnes of ÅNGSTRÖM_data reached São Paulo's cafés") == [
        "2019",
        "1,200.5",
        "tonn",
        "ångström",
        "data",
        "reach",
        "são",
        "paulo",
        "café",
    ]
    assert tokenize("") == [] and tokenize("the of and") == []
