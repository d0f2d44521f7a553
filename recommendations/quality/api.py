"""GET /api/v1/quality?period=30d&by=rule|service|team: alert quality over the caller's teams."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.teams.auth import request_team_ids, scope_required
from recommendations.quality.selectors import GROUPINGS, PERIODS, quality


def parse_choice(request, field: str, choices, default: str) -> str:
    value = request.query_params.get(field, default)
    if value not in choices:
        raise ValidationError({field: f"one of {', '.join(choices)}"})
    return value


class QualityView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, enum=list(PERIODS), description="default 30d"),
            OpenApiParameter("by", str, enum=list(GROUPINGS), description="default rule"),
        ],
        responses={200: dict},
    )
    def get(self, request):
        period = parse_choice(request, "period", PERIODS, "30d")
        by = parse_choice(request, "by", GROUPINGS, "rule")
        rows = quality(team_ids=request_team_ids(request, "read"), days=PERIODS[period], by=by)
        return Response({"period": period, "by": by, "results": [r.as_dict() for r in rows]})
