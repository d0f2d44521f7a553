from __future__ import annotations

import pytest

from alerts.templating import render as render_template
from metrics.matchers import MatcherError, matches, parse, render, validate


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        ({"name": "service", "op": "=", "value": "checkout"}, {"service": "checkout"}, True),
        ({"name": "service", "op": "!=", "value": "checkout"}, {"service": "search"}, True),
        ({"name": "host", "op": "=~", "value": "web-.*"}, {"host": "web-1"}, True),
        ({"name": "host", "op": "=~", "value": "web"}, {"host": "web-1"}, False),  # anchored
        ({"name": "host", "op": "!~", "value": "db-.*"}, {"host": "web-1"}, True),
        ({"name": "missing", "op": "=", "value": ""}, {}, True),  # absent label equals ""
    ],
)
def test_matchers_follow_alertmanager(matcher, labels, expected):
    assert matches([matcher], labels) is expected


def test_parse_and_render_round_trip():
    text = 'service="checkout", host=~"web-.*", env!="dev"'
    parsed = parse(text)
    assert parsed == [
        {"name": "service", "op": "=", "value": "checkout"},
        {"name": "host", "op": "=~", "value": "web-.*"},
        {"name": "env", "op": "!=", "value": "dev"},
    ]
    assert parse(render(parsed)) == parsed


@pytest.mark.parametrize(
    "bad", [{"name": "x"}, [{"name": "x", "op": "~", "value": "a"}], [{"name": "x", "op": "=~", "value": "("}]]
)
def test_invalid_matchers_are_named(bad):
    with pytest.raises(MatcherError):
        validate(bad)


def test_templates_render_labels_and_values():
    context = {"labels": {"host": "a"}, "value": 91.23456, "rule": {"name": "CPU"}}
    assert render_template("{{ rule.name }} on {{ labels.host }}: {{ value }}{{ nope }}", context) == "CPU on a: 91.23"
