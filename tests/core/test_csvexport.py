"""The shared CSV writer: formula-looking text is defused, numbers and plain text are not."""

from __future__ import annotations

import csv
import io

import pytest

from core.csvexport import CsvWriter, csv_text, safe_cell


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1",
        "\r=1",
        "\n=1",
        "  =HYPERLINK(1)",
        "-",
    ],
)
def test_formula_looking_text_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-12.5", "+3", "1e-6", "-0.25E+3", "ACME", "a=b", "", 12, -3.5, None])
def test_numbers_and_plain_text_are_left_alone(value):
    assert safe_cell(value) == value


def test_a_file_reads_back_with_the_defused_cells():
    text = csv_text([["name", "value"], ['=HYPERLINK("http://x","y")', -4], ["a,b", "-4"]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "value"],
        ['\'=HYPERLINK("http://x","y")', "-4"],
        ["a,b", "-4"],
    ]
    assert text.endswith("\r\n")


def test_the_writer_keeps_the_chosen_line_end():
    writer = CsvWriter(lineterminator="\n")
    assert writer.line(["a", "@b"]) == "a,'@b\n"
    assert writer.line([1, 2]) == "1,2\n"  # one buffer, reused
