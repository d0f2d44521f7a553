"""/metrics: access control, and the counters after real ingests, deliveries and tasks."""

from __future__ import annotations

from datetime import timedelta as td

import orjson
import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from core.observability import metrics as m
from paging.models import NotificationChannel
from paging.services.delivery import notification_deliver
from tests.alerts.factories import raise_alert
from tests.conftest import json_body, recent_points
from tests.paging.test_services_delivery import notification

TOKEN = "scrape-secret-1234"


@pytest.fixture
def scraper(settings):
    settings.HIVEOPS_METRICS_TOKEN = TOKEN
    settings.HIVEOPS_METRICS_ALLOW = []
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    values = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(values, name, **labels) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


# --- access -----------------------------------------------------------------------------------


def test_metrics_are_closed_when_nothing_is_configured(db, settings):
    settings.HIVEOPS_METRICS_TOKEN = None
    settings.HIVEOPS_METRICS_ALLOW = []
    assert Client().get("/metrics").status_code == 403


def test_a_token_is_required_and_checked(db, settings):
    settings.HIVEOPS_METRICS_TOKEN = TOKEN
    settings.HIVEOPS_METRICS_ALLOW = []
    missing = Client().get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}").get("/metrics").status_code == 200


def test_an_api_token_or_a_session_is_not_enough(db, settings, alice, make_token, team):
    settings.HIVEOPS_METRICS_TOKEN = TOKEN
    settings.HIVEOPS_METRICS_ALLOW = []
    client = Client()
    client.force_login(alice)
    assert client.get("/metrics").status_code == 401
    api_token = make_token(team, ("read", "admin"))
    assert Client(HTTP_AUTHORIZATION=f"Bearer {api_token}").get("/metrics").status_code == 401


def test_the_allow_list_admits_addresses_inside_only(db, settings):
    settings.HIVEOPS_METRICS_TOKEN = None
    settings.HIVEOPS_METRICS_ALLOW = ["10.0.0.0/8", "::1/128"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.5").get("/metrics").status_code == 403
    # outside the list, the token still works
    settings.HIVEOPS_METRICS_TOKEN = TOKEN
    assert Client(REMOTE_ADDR="192.168.1.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").get("/metrics").status_code == 200


def test_a_bad_allow_list_fails_loudly(db, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.HIVEOPS_METRICS_ALLOW = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="HIVEOPS_METRICS_ALLOW"):
        Client(REMOTE_ADDR="10.1.2.3").get("/metrics")


# --- content ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # ingest reads the token from its own database thread
def test_ingest_counts_samples_batches_rejections_and_latency(scraper, token_client, storage_clean):
    before = scrape(scraper)
    client = token_client(scopes=("ingest",))
    body = json_body([{"metric": "cpu", "labels": {"host": "a"}, "points": recent_points(3)}])
    first = client.post("/api/v1/ingest", body, content_type="application/json")
    assert first.status_code == 200, first.content
    assert client.post("/api/v1/ingest", body, content_type="application/json").status_code == 200  # duplicates
    assert client.post("/api/v1/ingest", b"{", content_type="application/json").status_code == 400
    assert Client().post("/api/v1/ingest", body, content_type="application/json").status_code == 401
    after = scrape(scraper)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("hiveops_ingest_samples_total", format="json") == 3
    assert delta("hiveops_ingest_duplicate_samples_total", format="json") == 3
    assert delta("hiveops_ingest_batches_total", format="json") == 4
    assert delta("hiveops_ingest_rejected_batches_total", format="json", reason="invalid") == 1
    assert delta("hiveops_ingest_rejected_batches_total", format="json", reason="unauthenticated") == 1
    assert delta("hiveops_ingest_duration_seconds_count", format="json") == 4
    assert delta("hiveops_ingest_duration_seconds_bucket", format="json", le="+Inf") == 4


def test_deliveries_are_counted_by_result(scraper, team, http_peer):
    channel = NotificationChannel.objects.create(team=team, kind="webhook", name="hook", config={"url": http_peer.url})
    before = scrape(scraper)
    http_peer.statuses = [503]
    n = notification(raise_alert(team).incident, channel)
    now = timezone.now()
    assert notification_deliver(notification_id=n.pk, now=now) == "retry in 5 s"
    assert notification_deliver(notification_id=n.pk, now=now + td(seconds=6)) == "sent"
    after = scrape(scraper)
    for result in ("retrying", "sent"):
        labels = {"kind": "webhook", "result": result}
        assert (
            value(after, "hiveops_notification_deliveries_total", **labels)
            - value(before, "hiveops_notification_deliveries_total", **labels)
            == 1
        )


def test_tasks_are_timed_and_failures_counted(scraper):
    from core.observability.tasks import heartbeat

    before = scrape(scraper)
    heartbeat.delay()
    m.task_failed("some.task")
    after = scrape(scraper)
    name = "core.observability.tasks.heartbeat"
    assert (
        value(after, "hiveops_task_duration_seconds_count", task=name)
        - value(before, "hiveops_task_duration_seconds_count", task=name)
        == 1
    )
    assert (
        value(after, "hiveops_task_failures_total", task="some.task")
        - value(before, "hiveops_task_failures_total", task="some.task")
        == 1
    )
    assert value(after, "hiveops_heartbeat_age_seconds", process="worker") < 60


def test_websocket_gauge_follows_open_and_close(scraper):
    class Consumer:
        pass

    before = value(scrape(scraper), "hiveops_websocket_connections")
    consumer = Consumer()
    m.ws_opened(consumer)
    assert value(scrape(scraper), "hiveops_websocket_connections") == before + 1
    m.ws_closed(consumer)
    m.ws_closed(consumer)  # a second close does not count twice
    assert value(scrape(scraper), "hiveops_websocket_connections") == before
    m.ws_closed(Consumer())  # closed before it was ever counted (refused at connect)
    assert value(scrape(scraper), "hiveops_websocket_connections") == before


def test_queue_length_and_lags_are_computed_at_scrape_time(scraper, team, settings):
    from core.observability.collector import queue_lengths
    from forecasting.models import ForecastModel, SeriesDetector
    from metrics.models import Series

    fresh = Series.objects.create(team=team, metric="a", labels={"n": "1"})
    old = Series.objects.create(team=team, metric="a", labels={"n": "2"})
    now = timezone.now()
    SeriesDetector.objects.create(series=fresh, last_ts=now - td(seconds=10))
    SeriesDetector.objects.create(series=old, last_ts=now - td(seconds=300))
    SeriesDetector.objects.create(series=Series.objects.create(team=team, metric="gone"), last_ts=now - td(days=3))
    ForecastModel.objects.create(series=fresh, refreshed_at=now - td(seconds=600))
    values = scrape(scraper)
    assert 300 <= value(values, "hiveops_detection_lag_seconds") < 360  # the stopped series is not active
    assert 600 <= value(values, "hiveops_forecast_lag_seconds") < 660
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert value(values, "hiveops_queue_length", queue=queue) == queue_lengths()[queue]
    assert value(values, "hiveops_scrape_source_errors", source="database") == 0


def test_a_broken_source_is_reported_and_the_rest_still_served(scraper, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    values = scrape(scraper)
    assert value(values, "hiveops_scrape_source_errors", source="broker") == 1
    assert ("hiveops_queue_length", (("queue", settings.CELERY_TASK_DEFAULT_QUEUE),)) not in values


def test_ingest_hook_ignores_unparseable_bodies():
    class Response:
        status_code = 200
        content = b"not json"

    m.ingest_done(object(), Response(), 0.01)  # counted as a batch of format "other", no exception
    assert orjson.dumps({}) == b"{}"
