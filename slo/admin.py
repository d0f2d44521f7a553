"""Admin for SLOs and SLAs (imported by alerts/admin.py). Saves go through slo.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from alerts.admin_forms import MatchersFormField
from core.admin_widgets import Column, RowsField
from core.teams.admin_scoping import TeamScopedAdmin, TeamScopedInline
from slo.models import SLA, SLO
from slo.services import slo_save

CREDIT_COLUMNS = [
    Column("below", "Attainment below (%)", number=True, min=0, max=100, placeholder="99.9"),
    Column("credit_percent", "Credit (% of the fee)", number=True, min=0, max=100, placeholder="10"),
]
SLA_HELP = {
    "slo": "The SLO whose attainment the contract is measured by.",
    "customer": "Who the contract is with; shown on the report.",
    "target": "The contractual target in percent, e.g. 99.9.",
    "monthly_fee": "What the customer pays a month; credits are a share of it.",
    "currency": "Three-letter currency code, e.g. EUR or USD.",
    "timezone": "Report months are calendar months in this time zone, e.g. Europe/Berlin.",
    "stakeholders": "E-mail addresses that receive the monthly report, separated by commas or new lines.",
}


class SLOForm(forms.ModelForm):
    good_matchers = MatchersFormField()
    bad_matchers = MatchersFormField()
    total_matchers = MatchersFormField()
    matchers = MatchersFormField()

    class Meta:
        model = SLO
        fields = "__all__"
        help_texts = {
            "service": "Optional: the service this objective is about (shown on its pages and reports).",
            "sli_kind": "How good and bad are counted; the fields of the SLI section below depend on it.",
            "total_metric": "Ratio SLIs: the counter of all events, e.g. http_requests_total.",
            "good_metric": "Ratio SLIs: the counter of good events (fill in this or the bad counter).",
            "bad_metric": 'Ratio SLIs: the counter of bad events, e.g. http_requests_total with code=~"5..".',
            "counter_type": "Whether the counters only grow (Prometheus) or each sample is a count of its own.",
            "metric": "Latency, availability and threshold SLIs: the metric judged.",
            "objective": "The share of good events (or minutes) promised, in percent, e.g. 99.9.",
            "window": "The period the objective is measured over; the error budget refills with it.",
            "timezone": "Calendar-month windows start at local midnight in this time zone.",
            "gap_policy": "How minutes without data count.",
            "alerting": "Raise burn-rate alerts when the error budget is spent too fast.",
            "min_events": "Minutes with fewer events than this are left out of the burn-rate alerts (noise).",
            "runbook_url": "Where responders find what to do when the budget burns.",
        }


class SLAInline(TeamScopedInline, admin.TabularInline):
    model = SLA
    extra = 0
    fields = ["name", "customer", "target", "monthly_fee", "currency"]
    show_change_link = True


@admin.register(SLO)
class SLOAdmin(TeamScopedAdmin):
    form = SLOForm
    list_display = ["name", "team", "service", "sli_kind", "objective", "window", "enabled", "alert_state", "page"]
    list_filter = ["team", "sli_kind", "window", "enabled"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["service"]
    readonly_fields = ["recorded_through", "page_tier", "ticket_tier", "evaluated_at"]
    inlines = [SLAInline]
    fieldsets = [
        (None, {"fields": ["team", "service", "name", "description", "enabled"]}),
        (
            "SLI",
            {
                "fields": [
                    "sli_kind",
                    ("total_metric", "total_matchers"),
                    ("good_metric", "good_matchers"),
                    ("bad_metric", "bad_matchers"),
                    "counter_type",
                    ("metric", "matchers"),
                    ("latency_threshold", "latency_source"),
                    ("bound_op", "bound"),
                ],
                "description": "ratio: total + good or bad counters; latency, availability, threshold: metric",
            },
        ),
        ("Objective", {"fields": ["objective", "window", "timezone", "gap_policy"]}),
        (
            "Burn-rate alerts",
            {
                "fields": [
                    "alerting",
                    "min_events",
                    ("page_fast_enabled", "page_fast_severity"),
                    ("page_slow_enabled", "page_slow_severity"),
                    ("ticket_fast_enabled", "ticket_fast_severity"),
                    ("ticket_slow_enabled", "ticket_slow_severity"),
                    "runbook_url",
                ]
            },
        ),
        ("State", {"fields": ["recorded_through", "page_tier", "ticket_tier", "evaluated_at"]}),
    ]

    @admin.display(description="alert")
    def alert_state(self, obj: SLO) -> str:
        return obj.page_tier or obj.ticket_tier or "–"

    @admin.display(description="status")
    def page(self, obj: SLO) -> str:
        return format_html('<a href="{}">view</a>', reverse("slo-detail", args=[obj.uid]))

    def save_model(self, request, obj, form, change) -> None:
        slo_save(slo=obj)


class SLAForm(forms.ModelForm):
    credit_tiers = RowsField(
        columns=CREDIT_COLUMNS,
        help_text="When the month's attainment falls below a tier's value, the customer is owed that share of the "
        "fee (the largest credit among the tiers reached counts). Leave the table empty for no credits.",
    )

    class Meta:
        model = SLA
        fields = "__all__"
        help_texts = SLA_HELP


@admin.register(SLA)
class SLAAdmin(TeamScopedAdmin):
    form = SLAForm
    autocomplete_fields = ["slo"]
    list_display = ["name", "customer", "team", "slo", "target", "monthly_fee", "currency", "last_report_month"]
    list_filter = ["team"]
    search_fields = ["name", "customer"]
    readonly_fields = ["last_report_month", "created_at"]
