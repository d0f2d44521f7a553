"""The direct COPY of new rows and its idempotent fallback, against the real database; and the
typed fast lane of the JSON parser agreeing with the general path."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import orjson
import pytest
from django.db import connection, connections

from metrics import ingest, ingest_fast
from metrics.ingest import IngestError, parse_json
from metrics.services import direct_writes, samples_ingest

HOUR = 3600
NOW = int(datetime.now(UTC).timestamp()) // HOUR * HOUR - HOUR


def batch(series: list[dict]):
    return parse_json(orjson.dumps({"series": series}), max_points=100_000)


def minutes(start: int, count: int):
    return [[start + 60 * i, float(i)] for i in range(count)]


def stored() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM metrics_sample")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def fresh_direct_writes():
    direct_writes.skip.clear()
    yield
    direct_writes.skip.clear()


@pytest.mark.usefixtures("storage_clean")
class TestDirectAndFallback:
    def test_new_rows_go_in_directly_and_mark_their_hours(self, team):
        result = samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": minutes(NOW - 1800, 60)}]))
        assert (result.accepted, result.duplicates) == (60, 0)
        assert stored() == 60
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(DISTINCT hour) FROM metrics_rollup_dirty")
            assert cursor.fetchone()[0] == 2
        assert team.id not in direct_writes.skip

    def test_a_retry_falls_back_and_counts_duplicates(self, team):
        first = batch([{"metric": "m", "points": minutes(NOW, 10)}])
        samples_ingest(team_id=team.id, batch=first)
        again = samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": minutes(NOW, 15)}]))
        assert (again.accepted, again.duplicates) == (5, 10)
        assert stored() == 15
        assert direct_writes.skip[team.id] == direct_writes.FALLBACK_BATCHES

    def test_after_a_fallback_the_team_skips_the_copy_for_a_few_batches(self, team):
        direct_writes.refused(team.id)
        for _ in range(direct_writes.FALLBACK_BATCHES):
            assert not direct_writes.allowed(team.id)
        assert direct_writes.allowed(team.id)

    def test_repeated_points_in_one_batch_are_one_row(self, team):
        points = [[NOW, 1.0], [NOW, 1.0], [NOW + 60, 2.0]]
        result = samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": points}]))
        assert (result.accepted, result.duplicates) == (2, 1)
        assert team.id not in direct_writes.skip  # deduplicated before the COPY, no fallback

    def test_the_fallback_keeps_a_series_created_in_the_same_batch(self, team):
        samples_ingest(team_id=team.id, batch=batch([{"metric": "old", "points": minutes(NOW, 3)}]))
        mixed = batch([{"metric": "old", "points": minutes(NOW, 3)}, {"metric": "new", "points": minutes(NOW, 2)}])
        result = samples_ingest(team_id=team.id, batch=mixed)
        assert (result.accepted, result.duplicates, result.series) == (2, 3, 2)
        assert stored() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_batches_store_each_row_once(team, storage_clean):
    """A client's retry racing its original: one COPY wins, the other falls back; counts add up."""
    body = [{"metric": f"m{k}", "points": minutes(NOW, 30)} for k in range(10)]
    results, errors = [], []
    barrier = threading.Barrier(3)

    def worker() -> None:
        try:
            parsed = batch(body)
            barrier.wait()
            results.append(samples_ingest(team_id=team.id, batch=parsed))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.accepted for r in results) == [0, 0, 300]
    assert sum(r.duplicates for r in results) == 600
    assert stored() == 300


NOW_S = 1_800_000_000


@pytest.mark.parametrize(
    "doc",
    [
        {
            "series": [
                {"metric": "m", "labels": {"b": "2", "a": "1"}, "unit": "ms", "points": [[NOW_S, 1], [NOW_S - 60, 2.5]]}
            ]
        },
        {"series": [{"metric": "m", "points": [["2027-01-15T08:00:00Z", 1.0]]}]},  # text time: general path
        {
            "series": [
                {"metric": "m", "labels": None, "unit": None, "points": []},
                {"metric": "n", "points": [[NOW_S, 0]]},
            ]
        },
        {"series": [{"metric": "m", "points": [[NOW_S, 1.0]], "extra": {"ignored": [1, 2]}}], "other": 1},
    ],
)
def test_the_fast_lane_parses_like_the_general_path(doc):
    body = orjson.dumps(doc)
    fast = parse_json(body, max_points=100, now_s=NOW_S)
    general = ingest._parse_general(body, 100)
    assert [(s.metric, s.labels_key, s.unit) for s in fast.series] == [
        m for m, (a, b) in zip(general[0], zip(general[2][:-1], general[2][1:], strict=True), strict=True) if b > a
    ]


@pytest.mark.parametrize(
    ("body", "item"),
    [
        (b'{"series":[{"metric":"m","points":[[true,1]]}]}', "series[0].points[0]"),
        (b'{"series":[{"metric":"m","points":[[1800000000,NaN]]}]}', "series[0].points[0]"),
        (b'{"series":[{"metric":"bad name","points":[]}]}', "series[0].metric"),
        (b'{"series":[{"metric":"m","labels":{"__x":"1"},"points":[]}]}', "series[0].labels.__x"),
        (b'{"series":[{"metric":"m","labels":{"x":1},"points":[]}]}', "series[0].labels.x"),
        (b'{"series":[{"metric":"m","unit":"' + b"u" * 40 + b'","points":[]}]}', "series[0].unit"),
    ],
)
def test_refusals_name_the_item_whichever_lane(body, item):
    with pytest.raises(IngestError) as refused:
        parse_json(body, max_points=100, now_s=NOW_S)
    assert refused.value.item == item


def test_bad_labels_are_not_cached_as_good():
    body = b'{"series":[{"metric":"m","labels":{"__y":"1"},"points":[]}]}'
    for _ in range(2):
        with pytest.raises(IngestError):
            parse_json(body, max_points=100, now_s=NOW_S)
    assert b'{"__y":"1"}' not in ingest_fast._label_keys
