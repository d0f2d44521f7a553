"""The one label-matcher implementation: Alertmanager's syntax (its documented examples and
amtool's usage) and semantics, RE2 regular expressions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.matchers import Matcher, MatcherError, matches, parse, parse_matchers, render, validate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Alertmanager's configuration docs (matchers in routes and inhibit rules)
        ("foo = bar", [("foo", "=", "bar")]),
        ("dings !=bums", [("dings", "!=", "bums")]),
        ('foo = "bar,baz"', [("foo", "=", "bar,baz")]),
        ('{foo="bar",dings!="bums"}', [("foo", "=", "bar"), ("dings", "!=", "bums")]),
        ("foo=bar,dings!=bums", [("foo", "=", "bar"), ("dings", "!=", "bums")]),
        ('{quoted_foo="bar,baz"}', [("quoted_foo", "=", "bar,baz")]),
        # amtool's examples
        ("alertname=foo node=~bar", [("alertname", "=", "foo node=~bar")]),  # a bare value runs to the comma
        ("alertname=~foo.*", [("alertname", "=~", "foo.*")]),
        ('instance=~".+"', [("instance", "=~", ".+")]),
        # tolerance: braces optional, trailing comma, whitespace anywhere, empty value
        ("{foo=bar,}", [("foo", "=", "bar")]),
        ("foo=", [("foo", "=", "")]),
        ('{ foo = "" }', [("foo", "=", "")]),
        ("{}", []),
        ("", []),
        # OpenMetrics escapes; a lone backslash stays literal
        (r'foo="a\"b\\c\nd"', [("foo", "=", 'a"b\\c\nd')]),
        (r'foo="C:\temp"', [("foo", "=", r"C:\temp")]),
        ('foo="bar}"', [("foo", "=", "bar}")]),
        # UTF-8 names as Prometheus 3 writes them
        ('{"service.name"="checkout"}', [("service.name", "=", "checkout")]),
    ],
)
def test_parse_follows_alertmanager(text, expected):
    assert [(m.name, m.op, m.value) for m in parse_matchers(text)] == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("foo", "expected one of"),
        ("=bar", "label name"),
        ('foo="bar', "unterminated"),
        ('foo="a" b', "after a quoted value"),
        ('foo=~"("', "bad regular expression"),
        ('foo=~"(?=a)"', "bad regular expression"),  # RE2 has no look-ahead
        ('foo=~"(a)\\1"', "bad regular expression"),  # nor back-references
        ("foo=a,,b=c", "label name"),
        ("foo~=a", "expected one of"),
    ],
)
def test_parse_errors_say_where(text, needle):
    with pytest.raises(MatcherError) as caught:
        parse_matchers(text)
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        # Alertmanager's docs: labels {foo=bar, baz=qux, id=12}
        ("foo=bar", {"foo": "bar", "baz": "qux", "id": "12"}, True),
        ("foo!=bar", {"foo": "bar", "baz": "qux", "id": "12"}, False),
        ("id=~[0-9]+", {"foo": "bar", "baz": "qux", "id": "12"}, True),
        ("baz!~[0-9]+", {"foo": "bar", "baz": "qux", "id": "12"}, True),
        # fully anchored
        ('host=~"web"', {"host": "web-1"}, False),
        ('host=~"web.*"', {"host": "web-1"}, True),
        ('host=~"eb-."', {"host": "web-1"}, False),
        ('host=~"a|web-1"', {"host": "web-1"}, True),  # the anchors wrap the alternation
        # a missing label is ""
        ('env=""', {}, True),
        ('env!=""', {}, False),
        ('env=~".*"', {}, True),
        ('env=~".+"', {}, False),
        ('env!~"prod"', {}, True),
    ],
)
def test_match_follows_alertmanager(matcher, labels, expected):
    assert parse_matchers(matcher)[0].matches(labels) is expected


def test_catastrophic_pattern_is_linear():
    """`(a+)+$` against 100,000 a's and a b: a backtracking engine never returns; RE2 does."""
    m = Matcher("path", "=~", "(a+)+$")
    assert m.matches({"path": "a" * 100_000 + "b"}) is False
    assert m.matches({"path": "a" * 100_000}) is True


def test_stored_dicts_keep_working():
    stored = [{"name": "service", "op": "=", "value": "checkout"}, {"name": "host", "op": "=~", "value": "web-.*"}]
    assert validate(stored) is stored
    assert matches(stored, {"service": "checkout", "host": "web-2"})
    assert not matches(stored, {"service": "checkout", "host": "db-2"})
    # a pattern stored before RE2 that RE2 refuses matches nothing instead of failing evaluation
    assert not matches([{"name": "host", "op": "=~", "value": "(?=w)web"}], {"host": "web"})


def test_a_very_long_pattern_is_refused():
    with pytest.raises(MatcherError, match="longer than"):
        validate([{"name": "a", "op": "=~", "value": "a" * 5000}])


label_values = st.text(alphabet='ab ,{}="\\\n~!é', max_size=12)
label_names = st.sampled_from(["a", "host", "_x", "service.name", "weird name", "a=b"])


@given(
    st.lists(
        st.tuples(label_names, st.sampled_from(["=", "!="]), label_values),
        max_size=4,
    )
)
def test_render_parse_round_trip(items):
    stored = [{"name": n, "op": op, "value": v} for n, op, v in items]
    assert parse(render(stored)) == stored
