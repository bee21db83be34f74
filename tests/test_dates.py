"""Dates in questions, relative to the day they are asked, and the published-date features."""

from __future__ import annotations

from datetime import date

import pytest

from bot.dates import RECENT_DAYS, date_features, parse_day, predates, question_dates

AS_OF = "2024-04-12"


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What happened in 2021 at the harbour?", "2021-01-01", "2021-12-31"),
        ("Who won the election in March 2022?", "2022-03-01", "2022-03-31"),
        ("What did the council decide last March?", "2024-03-01", "2024-03-31"),
        ("What did the council decide in April?", "2024-04-01", "2024-04-12"),
        ("What did the council decide last May?", "2023-05-01", "2023-05-31"),
        ("Which city flooded this week?", "2024-04-05", "2024-04-12"),
        ("Who resigned yesterday?", "2024-04-11", "2024-04-11"),
        ("What was announced last month?", "2024-03-01", "2024-03-31"),
        ("What was the budget last year?", "2023-01-01", "2023-12-31"),
    ],
)
def test_question_ranges_are_relative_to_the_question_date(question, start, end):
    dates = question_dates(question, AS_OF)
    assert (dates.start, dates.end) == (date.fromisoformat(start), date.fromisoformat(end))


def test_no_range_without_an_explicit_date_and_recency_cues():
    plain = question_dates("Who is the chief engineer of the bridge?", AS_OF)
    assert not plain.has_range and not plain.recent
    assert question_dates("Who recently became the chief engineer?", AS_OF).recent
    # a year in the future of the question date is not a range ("in 2030 the plan will ...")
    assert not question_dates("What will happen in 2030?", AS_OF).has_range
    # "may" the verb is not the month
    assert not question_dates("Which rules may change on May?", AS_OF).has_range


def test_parse_day_accepts_iso_slashes_and_datetimes():
    assert parse_day("2023/01/06") == date(2023, 1, 6)
    assert parse_day("2023-01-06T10:00:00+00:00") == date(2023, 1, 6)
    assert parse_day("last week") is None and parse_day(None) is None


def test_date_features():
    week = question_dates("Which city flooded this week?", AS_OF)
    fresh = date_features("2024-04-10", week)
    old = date_features("2019-04-10", week)
    later = date_features("2024-05-30", week)
    assert fresh["fresh"] == 1.0 and fresh["date_in"] == 1.0 and fresh["recent_age"] < old["recent_age"]
    assert old["date_out"] == 1.0 and old["age"] > fresh["age"]
    assert later["future"] == 1.0
    assert set(date_features(None, week).values()) == {0.0}


@pytest.mark.parametrize(
    ("question", "published", "dated"),
    [
        ("Which country won the match this week?", "2023-03-10", False),
        ("Which country won the match this week?", "2023-02-01", True),  # "this week" named: before its range
        ("Who recently became the new chief executive?", "2023-02-20", False),  # within RECENT_DAYS
        ("Who recently became the new chief executive?", "2022-11-01", True),
        ("Who won the election in 2021?", "2021-11-04", False),
        ("Who won the election in 2021?", "2023-01-05", False),  # later coverage of 2021 is not "older"
        ("Who won the election in 2021?", "2020-06-01", True),
        ("Who founded the company?", "1999-01-01", False),  # no time asked about: never dated
        ("What new role was the general given?", "2022-08-05", False),  # "new" is no question about this week
        ("Which country won the match this week?", None, False),  # undated article: not judged by date
    ],
)
def test_predates_the_time_the_question_asks_about(question, published, dated):
    assert RECENT_DAYS == 30
    assert predates(published, question_dates(question, "2023-03-12")) is dated
