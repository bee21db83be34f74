"""benchmarks/train_answer_check.py's training data: a swapped name turns the answer sentence into a negative that
shares nearly every word with the question, and a news group is a positive only where it holds the answer as
written."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import train_answer_check as tac

QUESTION = "In what year did Joseph Priestley recognize oxygen in Birmingham?"
ANSWER = "Joseph Priestley recognised oxygen in 1774 while he lived in Birmingham."


def test_names_skip_the_first_word_and_keep_runs_and_numbers() -> None:
    assert tac.names("Which MVP honoree died in 2001 at Super Bowl 50?") == ["MVP", "2001", "Super Bowl", "50"]


def test_a_swapped_name_is_one_the_answer_holds_and_the_new_one_is_of_its_kind() -> None:
    pool = ["Marie Curie", "1903", "Manchester", "Birmingham"]
    for seed in range(20):
        swap = tac.swapped(QUESTION, ANSWER, pool, random.Random(seed))
        # Priestley or Birmingham is replaced (the sentence holds both), never by a name the sentence holds.
        assert swap in {
            "In what year did Marie Curie recognize oxygen in Birmingham?",
            "In what year did Manchester recognize oxygen in Birmingham?",
            "In what year did Joseph Priestley recognize oxygen in Marie Curie?",
            "In what year did Joseph Priestley recognize oxygen in Manchester?",
        }
    years = ["1903", "12"]
    assert tac.swapped("What happened in 1774?", ANSWER, years, random.Random(0)) == "What happened in 1903?"


def test_no_swap_without_a_name_the_answer_holds() -> None:
    assert tac.swapped("What gas did he recognize?", ANSWER, ["Marie Curie"], random.Random(0)) is None
    assert tac.swapped("Where did Lavoisier work?", ANSWER, ["Marie Curie"], random.Random(0)) is None


def test_news_groups_need_the_answer_as_written() -> None:
    groups = [
        {"question": "What is the plan called?", "texts": ["Families save for college.", "a", "b", "c", "d", "e"]},
        {"question": "Which city hosts the summit?", "texts": ["The summit opens in Geneva.", "x", "y", "z"]},
        {"question": "Which country?", "texts": ["It was China.", "n"]},
    ]
    answers = {
        "What is the plan called?": ["SAVE"],
        "Which city hosts the summit?": ["Geneva"],
        "Which country?": ["UK"],
    }
    kept = tac.answered_as_written(groups, answers, hard=2)
    assert kept == [
        {"question": "Which city hosts the summit?", "pos": "The summit opens in Geneva.", "same": ["x", "y"]}
    ]


def test_group_pairs_weigh_the_answer_at_half_the_group_and_add_the_swap_only_with_a_pool() -> None:
    group = {"question": QUESTION, "pos": ANSWER, "same": ["s1", "s2", "s3"], "off": ["o1", "o2"], "off_news": ["n1"]}
    plain = tac.group_pairs(group, [], random.Random(0))
    assert plain[0] == (QUESTION, ANSWER, 1.0, 3.5)  # round 9: 1 + 6 pairs, the answer weighs half of them
    assert [p[1:] for p in plain[1:]] == [(t, 0.0, 1.0) for t in ["s1", "s2", "s3", "o1", "o2", "n1"]]
    swapped = tac.group_pairs(group, ["Marie Curie", "Manchester"], random.Random(0))
    assert swapped[0][3] == 4.0 and swapped[-1][1:3] == (ANSWER, 0.0) and swapped[-1][0] != QUESTION


def test_titles_are_found_from_a_quotes_first_line_and_missing_quotes_stay_bare() -> None:
    from indexing.models import Article

    articles = [
        Article(article_id="a", title="Kenya", text="Cricket is popular.\n\nTea is grown in the highlands."),
        Article(article_id="b", title="India", text="Cricket is the most popular sport.\nHockey is played too."),
    ]
    title = tac.title_finder(articles)
    assert title("Tea is grown in the highlands.") == "Kenya"
    assert title("Cricket is the most popular sport.\nHockey is played too.") == "India"
    assert title("Nothing like this was written.") == ""
    assert tac.titled("India", "Hockey is played too.") == "India: Hockey is played too."
    assert tac.titled("", "Hockey is played too.") == "Hockey is played too."
