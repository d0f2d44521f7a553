"""GET /api/v1/export/series (CSV, NDJSON, Parquet) and the incident and alert CSV exports:
exact round trips, team scoping, validation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from metrics.exports import CsvEncoder, ExportSeries, NdjsonEncoder, ParquetEncoder, Piece, decode_pairs
from metrics.ingest import parse_json
from metrics.models import Series
from metrics.services import samples_ingest
from tests.alerts.factories import raise_alert

pytestmark = pytest.mark.usefixtures("storage_clean")

T0 = 1_763_800_000  # 2025-11-22T08:26:40Z
VALUES = [0.1, -2.5, 1e-300, 123456789.123456789, 1 / 3]


def ingest(team, series: list[dict]) -> None:
    samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps({"series": series}), max_points=10_000))


@pytest.fixture
def seeded(team, other_team):
    ingest(
        team,
        [
            {
                "metric": "cpu",
                "labels": {"service": "checkout", "host": "a"},
                "unit": "percent",
                "points": [[T0 + 60 * i, v] for i, v in enumerate(VALUES)],
            },
            {"metric": "cpu", "labels": {"service": "search", "host": "b"}, "points": [[T0, 7.0], [T0 + 30.5, 8.0]]},
            {"metric": "mem", "labels": {"service": "checkout"}, "points": [[T0, 1.0]]},
        ],
    )
    ingest(other_team, [{"metric": "cpu", "labels": {"service": "checkout", "host": "z"}, "points": [[T0, 99.0]]}])
    return {s.labels.get("host", "mem"): s for s in Series.objects.filter(team=team)}


def body(response) -> bytes:
    """The streamed body, consumed the way the ASGI server does (asynchronously)."""

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


def export(client, **params):
    params.setdefault("start", T0 - 60)
    params.setdefault("end", T0 + 3600)
    return client.get("/api/v1/export/series", params)


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_csv_round_trips_exact_values(token_client, seeded):
    response = export(token_client(scopes=("read",)), format="csv", metric="cpu", **{"match[]": "host=a"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="cpu-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert [float(r["value"]) for r in rows] == VALUES
    assert [r["ts"] for r in rows][:2] == ["2025-11-22T08:26:40Z", "2025-11-22T08:27:40Z"]
    assert {r["series"] for r in rows} == {str(seeded["a"].uid)}
    assert orjson.loads(rows[0]["labels"]) == {"host": "a", "service": "checkout"}
    assert (rows[0]["metric"], rows[0]["unit"]) == ("cpu", "percent")


def test_ndjson_lines_are_ingest_items_with_exact_values(token_client, seeded):
    response = export(token_client(scopes=("read",)), format="json", metric="cpu")
    assert response.status_code == 200
    lines = [orjson.loads(line) for line in body(response).splitlines()]
    assert [line["series"] for line in lines] == [str(seeded["a"].uid), str(seeded["b"].uid)]
    assert lines[0]["points"] == [[T0 + 60 * i, v] for i, v in enumerate(VALUES)]
    assert lines[1]["points"] == [[T0, 7.0], [T0 + 30.5, 8.0]]  # sub-second stamps stay exact
    assert lines[1]["labels"] == {"service": "search", "host": "b"}
    assert parse_json(orjson.dumps({"series": lines}), max_points=100).series  # re-ingestable


def test_parquet_reads_back_with_pyarrow(token_client, seeded):
    response = export(token_client(scopes=("read",)), format="parquet", series=str(seeded["a"].uid))
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(body(response)))
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert table.column("value").to_pylist() == VALUES
    assert table.column("ts").to_pylist()[0] == datetime.fromtimestamp(T0, UTC)
    assert set(table.column("series").to_pylist()) == {str(seeded["a"].uid)}
    assert set(table.column("unit").to_pylist()) == {"percent"}


def test_range_is_inclusive_and_filters_samples(token_client, seeded):
    response = export(token_client(scopes=("read",)), format="json", metric="cpu", start=T0 + 60, end=T0 + 120)
    lines = [orjson.loads(line) for line in body(response).splitlines()]
    assert [line["points"] for line in lines] == [[[T0 + 60, -2.5], [T0 + 120, 1e-300]]]


@pytest.mark.parametrize(
    ("matcher", "hosts"),
    [("host!=a", ["b"]), ('host=~"a|b"', ["a", "b"]), ("service!~check.*", ["b"]), ("host=", [])],
)
def test_label_matchers(token_client, seeded, matcher, hosts):
    response = export(token_client(scopes=("read",)), format="json", metric="cpu", **{"match[]": matcher})
    if not hosts:
        assert response.status_code == 404
        return
    uids = [orjson.loads(line)["series"] for line in body(response).splitlines()]
    assert uids == [str(seeded[h].uid) for h in hosts]


def test_pieces_and_batches_cover_long_series_exactly(team, seeded):
    """Series longer than a read are read in several pieces; every sample comes once, in order."""
    from metrics.exports import batches, series_select

    chosen = series_select(team_ids=[team.id], metric="cpu", matchers=[], series_uids=[], max_series=10)

    async def collect():
        return [b async for b in batches(series=chosen, start_us=0, end_us=(T0 + 3600) * 10**6, chunk_rows=2)]

    got = async_to_sync(collect)()
    assert [sum(len(p.ts_us) for p in b) for b in got] == [2, 2, 3]  # a batch ends once it holds >= 2
    values = [float(v) for b in got for p in b for v in p.values]
    assert values == [*VALUES, 7.0, 8.0]


def test_encoders_on_an_empty_selection_produce_valid_files():
    s = ExportSeries(1, "u", "m", {}, "")
    parquet = ParquetEncoder()
    data = parquet.begin() + parquet.finish()
    assert pq.read_table(io.BytesIO(data)).num_rows == 0
    assert CsvEncoder().begin().startswith(b"series,")
    assert NdjsonEncoder().encode([Piece(s, ts_us=_ts([T0]), values=_v([1.5]))]) == (
        b'{"series":"u","metric":"m","labels":{},"unit":"","points":[[1763800000,1.5]]}\n'
    )


def _ts(seconds):
    import numpy as np

    return np.asarray(seconds, dtype=np.int64) * 1_000_000


def _v(values):
    import numpy as np

    return np.asarray(values, dtype=np.float64)


def test_decode_pairs_reads_postgres_binary_and_rejects_a_torn_payload():
    import struct

    payload = struct.pack(">qd", 0, 1.5) + struct.pack(">qd", 60_000_000, -2.0)  # 2000-01-01T00:00 and +1 min
    ts, values = decode_pairs(payload)
    assert (ts // 1_000_000).tolist() == [946_684_800, 946_684_860]
    assert values.tolist() == [1.5, -2.0]
    assert [len(a) for a in decode_pairs(None)] == [0, 0]
    with pytest.raises(ValueError, match="layout"):
        decode_pairs(payload[:-1])


# --- who may export ---------------------------------------------------------------------------


def test_owner_exports_through_the_session(alice, seeded):
    response = export(session(alice), format="csv", series=str(seeded["a"].uid))
    assert response.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(body(response).decode())))) == len(VALUES)


def test_other_team_and_outsider_see_nothing(bob, charlie, seeded):
    for user in (bob, charlie):
        response = export(session(user), format="csv", series=str(seeded["a"].uid))
        assert response.status_code == 404
    # bob's own team has a cpu series of its own: he gets that one only
    response = export(session(bob), format="json", metric="cpu")
    assert [orjson.loads(line)["labels"]["host"] for line in body(response).splitlines()] == ["z"]


def test_anonymous_and_tokens_without_read_are_refused(token_client, seeded):
    assert export(APIClient(), metric="cpu").status_code in (401, 403)
    assert export(token_client(scopes=("ingest",)), metric="cpu").status_code == 403


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xml", "metric": "cpu"}, "format"),
        ({}, "metric"),
        ({"metric": "cpu", "start": "yesterday"}, "start"),
        ({"metric": "cpu", "start": T0, "end": T0 - 1}, "end"),
        ({"metric": "cpu", "start": T0, "end": T0 + 40 * 86400}, "start"),
        ({"series": "not-a-uuid"}, "series"),
        ({"metric": "cpu", "match[]": "host"}, "match[]"),
        ({"metric": "cpu", "match[]": "host=~("}, "match[]"),
    ],
)
def test_bad_requests_name_the_field(token_client, seeded, params, field):
    response = export(token_client(scopes=("read",)), **params)
    assert response.status_code == 400
    assert field in response.json()


def test_too_many_series_is_refused_with_a_clear_message(token_client, seeded, settings):
    settings.HIVEOPS_EXPORT_MAX_SERIES = 1
    response = export(token_client(scopes=("read",)), metric="cpu")
    assert response.status_code == 400
    assert "more than 1 series" in str(response.json()["series"])


def test_relative_start(token_client, team):
    import time

    now = int(time.time())
    ingest(team, [{"metric": "recent", "labels": {}, "points": [[now - 7200, 1.0], [now - 60, 2.0]]}])
    response = token_client(scopes=("read",)).get("/api/v1/export/series?metric=recent&start=-1h&format=json")
    assert [p[1] for p in orjson.loads(body(response).splitlines()[0])["points"]] == [2.0]


def test_series_csv_defuses_formula_units(token_client, team):
    ingest(team, [{"metric": "odd", "labels": {}, "unit": "=1+1", "points": [[T0, -1.5]]}])
    response = export(token_client(scopes=("read",)), format="csv", metric="odd")
    [row] = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert (row["unit"], row["value"]) == ("'=1+1", "-1.5")


# --- incidents and alerts ---------------------------------------------------------------------


def test_incident_and_alert_csv_are_scoped_and_filtered(alice, bob, team, other_team):
    raise_alert(team, summary="=HYPERLINK(1)")
    raise_alert(other_team, labels={"alertname": "Other", "host": "z"})
    rows = list(csv.DictReader(io.StringIO(body(session(alice).get("/api/v1/export/alerts.csv")).decode())))
    assert len(rows) == 1
    assert rows[0]["summary"] == "'=HYPERLINK(1)"  # not run as a formula by a spreadsheet
    assert rows[0]["team"] == "ops"
    incidents = body(session(alice).get("/api/v1/export/incidents.csv?status=open&since=-1d")).decode()
    parsed = list(csv.DictReader(io.StringIO(incidents)))
    assert [r["status"] for r in parsed] == ["triggered"]
    assert parsed[0]["alerts"] == "1"
    assert body(session(alice).get("/api/v1/export/incidents.csv?status=resolved")).decode().count("\n") == 1
    bob_rows = body(session(bob).get("/api/v1/export/alerts.csv")).decode()
    assert "Other" in bob_rows
    assert "HYPERLINK" not in bob_rows


def test_incident_csv_rejects_an_unknown_status(alice):
    response = session(alice).get("/api/v1/export/incidents.csv?status=burning")
    assert response.status_code == 400
    assert "status" in response.json()


def test_alert_csv_reads_in_pages(alice, team, monkeypatch):
    import alerts.api.exports as views

    monkeypatch.setattr(views, "ROWS_PER_READ", 2)
    for i in range(5):
        raise_alert(team, labels={"alertname": f"A{i}", "host": "a"})
    rows = list(csv.DictReader(io.StringIO(body(session(alice).get("/api/v1/export/alerts.csv")).decode())))
    assert len(rows) == 5
    assert len({r["id"] for r in rows}) == 5
