"""Stemming is safe across threads: questions tokenize their text while /reindex tokenizes articles.

A snowball stemmer keeps the word it is stemming on itself; one shared by several threads mixed up their
words (an IndexError in a question, or a wrong stem cached for the rest of the process, so a term's
sparse weight went to another term). Found by the concurrency fault test (tests/test_faults.py).
"""

from __future__ import annotations

import random
import string
import threading

import snowballstemmer

from indexing.sparse import tokenize


def words(seed: int, count: int) -> list[str]:
    """Distinct made-up words with English suffixes (so the stemmer works on each, none is cached yet)."""
    rng = random.Random(seed)
    suffixes = ("ational", "ization", "fulness", "iveness", "ements", "ingly", "ations", "ousness", "alities")
    return [
        _letters(seed * count + n)
        + "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 8)))
        + rng.choice(suffixes)
        for n in range(count)
    ]


def _letters(number: int) -> str:
    """A number written in letters (words must be letters only to stay one token)."""
    out = ""
    while True:
        number, digit = divmod(number, 26)
        out += string.ascii_lowercase[digit]
        if not number:
            return out


def test_tokenize_from_many_threads_gives_the_serial_stems():
    reference = snowballstemmer.stemmer("english")
    batches = [words(seed, 3000) for seed in range(8)]
    expected = [[reference.stemWord(word) for word in batch] for batch in batches]
    results: list[list[str] | BaseException] = [[] for _ in batches]
    start = threading.Barrier(len(batches))

    def work(number: int) -> None:
        start.wait()
        try:
            results[number] = [stem for word in batches[number] for stem in tokenize(word)]
        except BaseException as error:  # reported below
            results[number] = error

    threads = [threading.Thread(target=work, args=(number,)) for number in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, f"stemming raised in {len(errors)} threads: {errors[0]!r}"
    pairs = zip(results, expected, strict=True)
    wrong = sum(got != want for result, want in pairs for got, want in zip(result, want, strict=False))
    assert results == expected, f"{wrong} words got another thread's stem"
