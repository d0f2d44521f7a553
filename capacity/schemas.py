"""The OpenAPI description of a capacity analysis: one schema for the analysis embedded in a
resource and for the live `GET …/resources/<id>/analysis` answer (documentation only; the data
is built by `capacity.api.analysis_data`)."""

from __future__ import annotations

from rest_framework import serializers


class QuantilesDays(serializers.Serializer):
    p10 = serializers.FloatField(allow_null=True, help_text="days after counted_from; null: not within the horizon")
    p50 = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)


class QuantilesAt(serializers.Serializer):
    p10 = serializers.DateTimeField(allow_null=True, help_text="counted_from + the days")
    p50 = serializers.DateTimeField(allow_null=True)
    p90 = serializers.DateTimeField(allow_null=True)


class RangeConfidence(serializers.Serializer):
    confidence = serializers.ChoiceField(choices=["high", "medium", "low"], allow_null=True)
    reason = serializers.CharField(help_text="why the p10–p90 range is (not) to be trusted")


class RecommendationSchema(serializers.Serializer):
    action = serializers.CharField()
    new_allocation = serializers.FloatField(allow_null=True)
    monthly_cost_change = serializers.CharField()
    confidence = serializers.FloatField()
    confidence_label = serializers.CharField()
    reason = serializers.CharField()
    evidence = serializers.DictField()


class AnalysisSchema(serializers.Serializer):
    computed_at = serializers.DateTimeField()
    counted_from = serializers.DateTimeField(help_text="the instant the days are counted from (= computed_at)")
    status = serializers.ChoiceField(choices=["ok", "no_data", "insufficient", "failed"])
    message = serializers.CharField(help_text="why there is no forecast (too little history, no data)")
    horizon_days = serializers.IntegerField()
    exhausted = serializers.BooleanField(help_text="at or over the limit now")
    time_to_exhaustion_days = QuantilesDays()
    exhaust_at = QuantilesAt()
    probability = serializers.FloatField(help_text="of exhaustion within the horizon")
    eta = serializers.CharField()
    at_risk = serializers.BooleanField()
    model = serializers.CharField(help_text="linear, exponential, hinge (growth-rate change) or sawtooth, +seasonal")
    model_weights = serializers.DictField(child=serializers.FloatField())
    range_confidence = RangeConfidence()
    period_days = serializers.FloatField(allow_null=True, help_text="period of the resets, when they repeat")
    rate_change_at = serializers.FloatField(allow_null=True, help_text="unix seconds of a growth-rate change")
    history_days = serializers.FloatField(allow_null=True)
    current_value = serializers.FloatField(allow_null=True)
    utilization = serializers.FloatField(allow_null=True)
    p95_utilization = serializers.FloatField(allow_null=True)
    forecast_peak_utilization = serializers.FloatField(allow_null=True)
    growth_per_day = serializers.FloatField(allow_null=True)
    recommendation = RecommendationSchema()
    changes = serializers.ListField(child=serializers.DictField())
    risk = serializers.FloatField()


class LiveAnalysisSchema(serializers.Serializer):
    resource = serializers.UUIDField()
    horizon_days = serializers.IntegerField()
    status = serializers.CharField()
    message = serializers.CharField()
    analysis = AnalysisSchema(allow_null=True)
