"""Tests for workbench.settings (the file is named apart from tests/team/test_settings.py): a setting that is missing,
not a number or not finite gives the default."""

import pytest

from workbench.settings import number_setting


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", 7.0), ("12", 12.0), ("0.5", 0.5), ("lots", 7.0), ("inf", 7.0), ("-inf", 7.0), ("nan", 7.0)],
)
def test_a_setting_reads_as_a_finite_number_or_its_default(monkeypatch, value, expected):
    monkeypatch.setenv("WORKBENCH_TEST_NUMBER", value)
    assert number_setting("WORKBENCH_TEST_NUMBER", 7.0) == expected
