"""The JSON parser and validator: pure functions, no database."""

from __future__ import annotations

import orjson
import pytest

from metrics.ingest import IngestError, canonical_labels, parse_json

NOW = 1_800_000_000.0


def parse(series, **kw):
    return parse_json(orjson.dumps({"series": series}), max_points=kw.pop("max_points", 50_000), now_s=NOW)


def error_of(series, **kw) -> IngestError:
    with pytest.raises(IngestError) as info:
        parse(series, **kw)
    return info.value


def test_it_parses_numbers_and_rfc3339_timestamps():
    batch = parse(
        [
            {
                "metric": "cpu_usage",
                "labels": {"service": "checkout", "host": "a"},
                "unit": "percent",
                "points": [[NOW - 60, 1.5], ["2027-01-15T08:00:00Z", 2], [int(NOW) + 30, -3.25]],
            }
        ]
    )
    (series,) = batch.series
    assert series.metric == "cpu_usage"
    assert series.labels_key == '{"host":"a","service":"checkout"}'
    assert series.unit == "percent"
    # 2027-01-15T08:00:00Z is exactly NOW.
    assert series.ts_us.tolist() == [int((NOW - 60) * 1e6), int(NOW * 1e6), int((NOW + 30) * 1e6)]
    assert series.values.tolist() == [1.5, 2.0, -3.25]
    assert batch.points == 3


def test_canonical_labels_sort_keys():
    assert canonical_labels({"b": "2", "a": "1"}) == canonical_labels({"a": "1", "b": "2"})


@pytest.mark.parametrize(
    ("series", "item", "message"),
    [
        ([{"points": []}], "series[0].metric", "missing"),
        ([{"metric": "x"}], "series[0].points", "missing"),
        ([{"metric": "9bad", "points": []}], "series[0].metric", "not a valid metric name"),
        ([{"metric": "x", "labels": {"bad-name": "1"}, "points": []}], "series[0].labels.bad-name", "identifier"),
        ([{"metric": "x", "labels": {"port": 8080}, "points": []}], "series[0].labels.port", "strings"),
        ([{"metric": "x", "labels": ["a"], "points": []}], "series[0].labels", "object"),
        ([{"metric": "x", "unit": 5, "points": []}], "series[0].unit", "unit"),
        ([{"metric": "x", "points": {"a": 1}}], "series[0].points", "list"),
        ([{"metric": "x", "points": [[NOW, 1], [NOW]]}], "series[0].points[1]", "pair"),
        ([{"metric": "x", "points": [[NOW, "1.0"]]}], "series[0].points[0]", "value must be a number"),
        ([{"metric": "x", "points": [[NOW, True]]}], "series[0].points[0]", "value must be a number"),
        ([{"metric": "x", "points": [[None, 1]]}], "series[0].points[0]", "timestamp must be"),
        ([{"metric": "x", "points": [["yesterday", 1]]}], "series[0].points[0]", "not RFC 3339"),
        ([{"metric": "x", "points": [["2027-01-15T08:00:00", 1]]}], "series[0].points[0]", "no time zone"),
        ([{"metric": "x", "points": [[NOW, 1], [-5, 1]]}], "series[0].points[1]", "before 1970"),
        ([{"metric": "x", "points": [[NOW + 601, 1]]}], "series[0].points[0]", "10 minutes in the future"),
        ([{"metric": "x", "points": [[NOW * 1000, 1]]}], "series[0].points[0]", "not milliseconds"),
        ([{"metric": "ok", "points": [[NOW, 1]]}, "nope"], "series[1]", "object"),
    ],
)
def test_it_names_the_bad_item(series, item, message):
    error = error_of(series)
    assert error.item == item
    assert message in error.message
    assert error.status == 400


def test_a_bad_point_deep_in_a_later_series_is_located():
    good = {"metric": "a", "points": [[NOW - i, i] for i in range(20)]}
    bad = {"metric": "b", "points": [[NOW - i, i] for i in range(20)]}
    bad["points"][17] = [NOW, "x"]
    error = error_of([good, good, good, bad])
    assert error.item == "series[3].points[17]"


def test_malformed_json_is_a_400_naming_the_body():
    with pytest.raises(IngestError) as info:
        parse_json(b'{"series": [', max_points=10, now_s=NOW)
    assert info.value.item == "body"
    assert "malformed JSON" in info.value.message


@pytest.mark.parametrize("body", [b"[]", b'{"points": []}', b'{"series": {}}'])
def test_the_body_must_hold_a_series_list(body):
    with pytest.raises(IngestError) as info:
        parse_json(body, max_points=10, now_s=NOW)
    assert info.value.item == "series"


def test_too_many_points_is_413():
    error = error_of([{"metric": "x", "points": [[NOW - i, 1] for i in range(11)]}], max_points=10)
    assert error.status == 413
    assert "limit is 10" in error.message


def test_series_without_points_are_dropped():
    assert parse([{"metric": "x", "points": []}]).series == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_values_are_located(literal):
    body = b'{"series": [{"metric": "x", "points": [[1799999000, 1], [1799999060, ' + literal.encode() + b"]]}]}"
    with pytest.raises(IngestError) as info:
        parse_json(body, max_points=10, now_s=NOW)
    assert info.value.item == "series[0].points[1]"
    assert "finite" in info.value.message
