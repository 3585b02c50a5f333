"""Tests for workbench.words: counts, durations and times as every page and the command line write them."""

import time

import pytest

from workbench.words import clock, days, format_duration, plural


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (12, "12 s"),
        (185, "3 min 05 s"),
        (600, "10 min"),
        (7800, "2 h 10 min"),
        (7200, "2 h"),
        (3 * 86400 + 4 * 3600, "3 days 4 h"),
        (None, "estimating…"),
        (-3, "0 s"),
    ],
)
def test_durations_read_naturally(seconds, text):
    assert format_duration(seconds) == text


def test_counts_and_clock_times():
    assert (plural(1, "record"), plural(1234, "record"), plural(2, "entry", "entries")) == (
        "1 record",
        "1,234 records",
        "2 entries",
    )
    stamp = time.mktime((2026, 12, 1, 14, 5, 9, 0, 0, -1))
    assert (clock(stamp), clock(stamp, seconds=True)) == ("2026-12-01 14:05", "2026-12-01 14:05:09")
    assert clock(None, never="not yet") == "not yet"


def test_days_are_counted_in_words():
    assert [days(count) for count in (1, 7, 0.5, 30.0)] == ["1 day", "7 days", "0.5 days", "30 days"]
