"""Anomalies, scores, forecasts, detection settings, feedback and the model card. Thin views:
scope to the caller's teams, validate, call one service or selector."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.teams.auth import request_team_ids, scope_required
from core.teams.models import ApiToken
from core.timeparse import number, unix_seconds
from forecasting import selectors
from forecasting.models import Anomaly, Feedback, Sensitivity, SeriesDetector
from forecasting.services.feedback import feedback_record, feedback_revoke
from metrics.models import Series
from metrics.selectors import series_for_teams

MAX_ANOMALIES = 500
MAX_SCORE_RANGE_S = 7 * 86400


def scoped_series(request: Request, uid: str, scope: str = "read") -> Series:
    try:
        return series_for_teams(team_ids=request_team_ids(request, scope)).get(uid=uid)
    except (Series.DoesNotExist, DjangoValidationError):
        raise NotFound("no such series in your teams") from None


def user_of(request: Request):
    return None if isinstance(request.auth, ApiToken) else request.user


class AnomalySerializer(serializers.ModelSerializer):
    series = serializers.UUIDField(source="series.uid")
    metric = serializers.CharField(source="series.metric")
    labels = serializers.JSONField(source="series.labels")

    class Meta:
        model = Anomaly
        fields = [
            "id",
            "series",
            "metric",
            "labels",
            "ts",
            "value",
            "score",
            "confidence",
            "kind",
            "expected",
            "lower",
            "upper",
            "components",
        ]


class FeedbackSerializer(serializers.ModelSerializer):
    series = serializers.UUIDField(source="series.uid")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = Feedback
        fields = ["id", "series", "anomaly", "alert_id", "kind", "note", "created_by", "created_at", "revoked_at"]


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class DetectionSerializer(serializers.Serializer):
    sensitivity = serializers.ChoiceField(choices=[("", "the team's"), *Sensitivity.choices], allow_blank=True)


class AnomalyListView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(
        parameters=[
            OpenApiParameter("series", OpenApiTypes.UUID),
            OpenApiParameter("kind", str, enum=list(Anomaly.Kind.values)),
            OpenApiParameter("min_score", float),
            OpenApiParameter("since", str, description="unix seconds or RFC 3339 (default: last 24 h)"),
            OpenApiParameter("limit", int, description=f"at most {MAX_ANOMALIES}"),
        ],
        responses=AnomalySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        qs = selectors.anomalies_for_teams(team_ids=request_team_ids(request, "read"))
        if params.get("series"):
            qs = qs.filter(series=scoped_series(request, params["series"]))
        if params.get("kind"):
            if params["kind"] not in Anomaly.Kind.values:
                raise ValidationError({"kind": f"one of {', '.join(Anomaly.Kind.values)}"})
            qs = qs.filter(kind=params["kind"])
        if params.get("min_score"):
            qs = qs.filter(score__gte=number(params["min_score"], "min_score", 0, 1))
        since = unix_seconds(params.get("since"), "since", default=time.time() - 86400)
        limit = int(number(params.get("limit", MAX_ANOMALIES), "limit", 1, MAX_ANOMALIES))
        qs = qs.filter(ts__gte=datetime.fromtimestamp(since, UTC)).order_by("-ts")[:limit]
        return Response(AnomalySerializer(qs, many=True).data)


class AnomalyFeedbackView(APIView):
    """POST: "this was not an anomaly" — the series' anomaly alerts get less eager (revocable)."""

    permission_classes = [scope_required("write")]

    @extend_schema(request=NoteSerializer, responses={201: FeedbackSerializer})
    def post(self, request: Request, id: int) -> Response:
        anomaly = Anomaly.objects.filter(team_id__in=request_team_ids(request, "write"), id=id).first()
        if anomaly is None:
            raise NotFound("no such anomaly in your teams")
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        feedback = feedback_record(
            series=anomaly.series, anomaly=anomaly, by=user_of(request), note=body.validated_data["note"]
        )
        return Response(FeedbackSerializer(feedback).data, status=201)


class FeedbackListView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(parameters=[OpenApiParameter("series", OpenApiTypes.UUID)], responses=FeedbackSerializer(many=True))
    def get(self, request: Request) -> Response:
        qs = Feedback.objects.filter(team_id__in=request_team_ids(request, "read")).select_related(
            "series", "created_by"
        )
        if request.query_params.get("series"):
            qs = qs.filter(series=scoped_series(request, request.query_params["series"]))
        return Response(FeedbackSerializer(qs[:MAX_ANOMALIES], many=True).data)


class FeedbackRevokeView(APIView):
    permission_classes = [scope_required("write")]

    @extend_schema(request=None, responses=FeedbackSerializer)
    def post(self, request: Request, id: int) -> Response:
        feedback = Feedback.objects.filter(team_id__in=request_team_ids(request, "write"), id=id).first()
        if feedback is None:
            raise NotFound("no such feedback in your teams")
        return Response(FeedbackSerializer(feedback_revoke(feedback=feedback, by=user_of(request))).data)


class SeriesScoresView(APIView):
    """Scores and the expected band of a series, for charts."""

    permission_classes = [scope_required("read")]

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="unix seconds or RFC 3339 (default: 6 h ago)"),
            OpenApiParameter("end", str, description="default now; at most 7 days after start"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, uid: str) -> Response:
        series = scoped_series(request, uid)
        end = unix_seconds(request.query_params.get("end"), "end", default=time.time() + 1)
        start = unix_seconds(request.query_params.get("start"), "start", default=end - 6 * 3600)
        if not 0 <= end - start <= MAX_SCORE_RANGE_S:
            raise ValidationError({"start": "must be before end and at most 7 days earlier"})
        data = selectors.scores_window(
            series_ids=[series.id], start=datetime.fromtimestamp(start, UTC), end=datetime.fromtimestamp(end, UTC)
        ).get(series.id, {})
        return Response({"series": str(series.uid), **{k: _json_floats(v) for k, v in data.items()}})


def _json_floats(values) -> list[float | None]:
    return [None if v != v else float(v) for v in values]  # NaN (no band) becomes null


class SeriesForecastView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=["short", "daily"], description="default short")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, uid: str) -> Response:
        series = scoped_series(request, uid)
        kind = request.query_params.get("kind", "short")
        if kind not in ("short", "daily"):
            raise ValidationError({"kind": "short or daily"})
        forecast = selectors.latest_forecast(series_id=series.id, kind=kind)
        if forecast is None:
            raise NotFound("no forecast yet: it needs a day of history and a refresh (every 15 min)")
        chosen = getattr(series, "forecast_model", None)
        return Response(
            {
                "series": str(series.uid),
                "kind": kind,
                "model": forecast.model,
                "generated_at": forecast.generated_at,
                "start": forecast.start,
                "step_s": forecast.step_s,
                **{k: getattr(forecast, k) for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
                "backtest": chosen.backtest if chosen else {},
                "live_mase": chosen.live_mase if chosen else None,
                "live_smape": chosen.live_smape if chosen else None,
            }
        )


class SeriesDetectionView(APIView):
    """GET the detector's state for a series; PATCH its sensitivity (blank: the team's)."""

    def get_permissions(self):
        return [scope_required("read" if self.request.method == "GET" else "write")()]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, uid: str) -> Response:
        return Response(_detection(scoped_series(request, uid)))

    @extend_schema(request=DetectionSerializer, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, uid: str) -> Response:
        series = scoped_series(request, uid, "configure")
        body = DetectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        SeriesDetector.objects.update_or_create(
            series=series, defaults={"sensitivity": body.validated_data["sensitivity"]}
        )
        return Response(_detection(series))


def _detection(series: Series) -> dict:
    detector = SeriesDetector.objects.filter(series=series).first()
    return {
        "series": str(series.uid),
        "sensitivity": detector.sensitivity if detector else "",
        "alert_threshold": selectors.alert_thresholds(series=[series])[series.id],
        "active_feedback": Feedback.objects.filter(series=series, revoked_at=None).count(),
        "points_scored": detector.points if detector else 0,
        "last_scored": detector.last_ts if detector else None,
        "last_score": detector.last_score if detector else None,
        "trained_at": detector.trained_at if detector else None,
    }


class ModelCardView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        card = selectors.model_card(team_ids=request_team_ids(request, "read"))
        benchmarks = {
            kind: {
                "dataset": run.dataset,
                "series": run.series,
                "scores": run.scores,
                "details": run.details,
                "measured_at": run.created_at,
            }
            for kind, run in card["benchmarks"].items()
        }
        return Response({"benchmarks": benchmarks, "live": card["live"], "selection": card["selection"]})
