"""The admin's structured widgets (core/admin_widgets.py): what they store and the messages
they give in words."""

from __future__ import annotations

import pytest
from django import forms
from django.test import Client

from alerts.admin_forms import AlertRuleForm
from core.admin_widgets import CheckboxListField, EmailListField, KeyValueField, NameListField, weekdays_field
from paging.admin import ChannelForm
from paging.models import NotificationChannel
from slo.admin import SLAForm
from tests.core.teams.admin_world import staff


def errors_of(field: forms.Field, value) -> list[str]:
    with pytest.raises(forms.ValidationError) as caught:
        field.clean(value)
    return caught.value.messages


def test_days_are_checkboxes_stored_as_weekday_numbers_in_week_order():
    field = weekdays_field()
    assert field.clean(["4", "0", "2"]) == [0, 2, 4]
    assert field.clean([]) == []
    assert field.prepare_value([0, 6]) == ["0", "6"]
    assert "Select a valid choice" in errors_of(field, ["9"])[0]
    assert 'type="checkbox"' in field.widget.render("only_days", [0])


def test_severities_keep_the_order_of_the_choices():
    field = CheckboxListField(choices=[("critical", "critical"), ("high", "high"), ("low", "low")])
    assert field.clean(["low", "critical"]) == ["critical", "low"]


def test_label_names_are_typed_as_a_list():
    field = NameListField()
    assert field.clean("service, cluster service") == ["service", "cluster"]
    assert field.prepare_value(["a", "b"]) == "a, b"
    assert errors_of(field, "service, 2x") == [
        "“2x” is not a label name: use letters, digits and underscores, not starting with a digit."
    ]


def test_email_lists_name_the_bad_address():
    field = EmailListField()
    assert field.clean("a@example.com; b@example.com") == ["a@example.com", "b@example.com"]
    assert errors_of(field, "a@example.com, nope") == ["“nope” is not an e-mail address."]


def test_credit_tiers_are_a_table_with_messages_per_row_and_column():
    field = SLAForm.base_fields["credit_tiers"]
    rows = [{"below": "99.9", "credit_percent": "10"}, {"below": "", "credit_percent": ""}, {"below": "99"}]
    with pytest.raises(forms.ValidationError) as caught:
        field.clean(rows)
    assert caught.value.messages == ["Row 2: fill in “Credit (% of the fee)” or clear the whole row."]
    rows[2]["credit_percent"] = "25"
    assert field.clean(rows) == [{"below": 99.9, "credit_percent": 10}, {"below": 99, "credit_percent": 25}]
    assert errors_of(field, [{"below": "abc", "credit_percent": "1"}]) == [
        "Row 1: “Attainment below (%)” must be a number, not “abc”."
    ]
    assert errors_of(field, [{"below": "101", "credit_percent": "1"}]) == [
        "Row 1: “Attainment below (%)” must be from 0 to 100."
    ]


def test_the_table_widget_reads_its_rows_from_the_post():
    field = SLAForm.base_fields["credit_tiers"]
    data = {"credit_tiers-0-below": "99", "credit_tiers-0-credit_percent": "5", "credit_tiers-3-below": ""}
    rows = field.widget.value_from_datadict(data, {}, "credit_tiers")
    assert rows == [{"below": "99", "credit_percent": "5"}, {"below": ""}]
    html = field.widget.render("credit_tiers", [{"below": 99, "credit_percent": 5}])
    assert 'aria-label="Row 1: Attainment below (%)"' in html
    assert 'name="credit_tiers-1-below"' in html  # one empty row to fill in


def test_labels_are_a_two_column_table():
    field = KeyValueField()
    assert field.clean([{"name": "tier", "value": "gold"}, {"name": "", "value": ""}]) == {"tier": "gold"}
    assert field.prepare_value({"tier": "gold"}) == [{"name": "tier", "value": "gold"}]
    assert errors_of(field, [{"name": "a-b", "value": "x"}])[0].startswith("Row 1: “a-b” is not a label name")


@pytest.fixture
def owners(db):
    from core.teams.services import team_get_or_create

    return team_get_or_create(slug="owners", name="Owners")[0]


def rule_data(team, **extra) -> dict:
    data = {
        "team": team.pk,
        "name": "cpu",
        "kind": "threshold",
        "enabled": "on",
        "metric": "cpu",
        "aggregation": "avg",
        "window": "00:05:00",
        "comparator": "gt",
        "critical_threshold": "90",
        "for_duration": "0",
        "absence_after": "00:10:00",
        "severity": "critical",
        "warning_severity": "medium",
        "summary_template": "{{ value }}",
    }
    return {**data, **extra}


def test_rule_settings_follow_the_kind(owners):
    form = AlertRuleForm(rule_data(owners, kind="forecast_breach", params__horizon_minutes="30"))
    assert form.is_valid(), form.errors
    assert form.save().params == {"horizon_minutes": 30}
    form = AlertRuleForm(rule_data(owners, kind="threshold", params__horizon_minutes="30"))
    assert form.is_valid(), form.errors
    assert form.save().params == {}  # settings of other kinds are not kept


def test_rule_settings_are_checked_in_words(owners):
    data = rule_data(owners, kind="forecast_breach", params__probability="0.5", params__warning_probability="0.7")
    form = AlertRuleForm(data)
    assert not form.is_valid()
    assert form.errors["params__warning_probability"] == ["Must be below the probability to fire."]
    form = AlertRuleForm(rule_data(owners, kind="anomaly", params__points="31"))
    assert form.errors["params__points"] == ["Ensure this value is less than or equal to 30."]


def test_a_new_rule_starts_as_a_threshold(owners):
    assert AlertRuleForm()["kind"].value() == "threshold"


def test_channel_settings_are_required_per_kind(owners):
    form = ChannelForm({"team": owners.pk, "kind": "pagerduty", "name": "pd"})
    assert form.errors["config__routing_key"] == ["Required for PagerDuty Events v2."]
    form = ChannelForm({"team": owners.pk, "kind": "pagerduty", "name": "pd", "config__routing_key": "R0UT1NG"})
    assert form.is_valid(), form.errors
    assert form.save().config == {"routing_key": "R0UT1NG"}


def test_channel_secrets_stay_when_left_empty_and_are_never_shown(owners):
    channel = NotificationChannel.objects.create(
        team=owners, kind="webhook", name="hook", config={"url": "https://h.example/T0K3N", "secret": "s3cr3t"}
    )
    form = ChannelForm({"team": owners.pk, "kind": "webhook", "name": "hook"}, instance=channel)
    assert "T0K3N" not in str(form)
    assert "s3cr3t" not in str(form)
    assert form.is_valid(), form.errors
    assert form.save().config == {"url": "https://h.example/T0K3N", "secret": "s3cr3t"}


def test_the_only_team_is_preselected_and_state_fields_are_read_only(owners, django_user_model):
    lead = staff(django_user_model, "lead", owners)
    client = Client()
    client.force_login(lead)
    form = client.get("/admin/alerts/alertrule/add/").context["adminform"].form
    assert form["team"].value() == owners.pk
    channel = NotificationChannel.objects.create(team=owners, kind="email", name="mail", config={"to": ["a@x.io"]})
    response = client.get(f"/admin/paging/notificationchannel/{channel.pk}/change/")
    assert "failing_since" not in response.context["adminform"].form.fields
    assert "last_error" not in response.context["adminform"].form.fields
    assert "Failing since" in response.content.decode()
