"""`demo_setup` makes the demo admin reachable: an email contact method with notification rules
for both urgencies, on the escalation level the demo's route uses, so a demo incident pages the
admin into the mail sink instead of logging "unreachable"."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from core.teams.models import Team
from mailsink.models import SentMail
from paging.models import ContactMethod, EscalationLog, EscalationRoute, NotificationRule
from tests.alerts.factories import raise_alert


def demo_setup(settings, tmp_path) -> str:
    settings.RUN_DIR = tmp_path
    out = StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def test_demo_setup_gives_the_admin_one_email_contact_method_for_both_urgencies(db, settings, tmp_path):
    for _ in range(2):
        demo_setup(settings, tmp_path)
    method = ContactMethod.objects.get(user__username="admin")
    assert (method.kind, method.address) == ("email", "admin@hiveops.localhost")
    rules = NotificationRule.objects.filter(user__username="admin")
    assert sorted(rules.values_list("urgency", flat=True)) == ["high", "low"]
    assert {r.contact_method_id for r in rules} == {method.pk}
    route = EscalationRoute.objects.get(team__slug="demo", is_default=True)
    assert list(route.policy.levels.get().users.values_list("username", flat=True)) == ["admin"]


def test_demo_setup_points_at_the_mail_page_when_the_sink_is_on(db, settings, tmp_path):
    settings.HIVEOPS_MAILSINK, settings.HIVEOPS_BASE_URL = True, "http://127.0.0.1:8123"
    out = demo_setup(settings, tmp_path)
    assert "HiveOps is starting at http://127.0.0.1:8123/" in out
    assert "admin@hiveops.localhost are kept at http://127.0.0.1:8123/mail/" in out


@pytest.mark.django_db(transaction=True)
def test_a_demo_incident_pages_the_admin_into_the_mail_sink(settings, tmp_path):
    from aiosmtpd.controller import Controller

    from mailsink.smtp import SinkHandler
    from tests.peers import free_port

    demo_setup(settings, tmp_path)
    sink = Controller(SinkHandler(), hostname="127.0.0.1", port=free_port())
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.HIVEOPS_BASE_URL = "http://127.0.0.1:8123"
    try:
        raise_alert(Team.objects.get(slug="demo"), summary="checkout latency 900 ms", severity="critical")
    finally:
        sink.stop()
    assert not EscalationLog.objects.filter(action="unreachable").exists()
    mail = SentMail.objects.get()
    assert mail.recipients == ["admin@hiveops.localhost"]
    assert "http://127.0.0.1:8123/ack/" in mail.text
