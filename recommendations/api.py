"""GET /api/v1/recommendations and POST /api/v1/recommendations/<key>/accept|dismiss, for leads
(people: manager or admin; tokens: the write scope)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.teams.auth import request_team_ids, scope_required
from recommendations.selectors import feed, items, summary
from recommendations.services import recommendation_decide


class RecommendationListView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(responses={200: dict})
    def get(self, request):
        team_ids = request_team_ids(request, "configure")
        found = summary(team_ids)
        return Response(
            {
                "summary": {**found, "monthly_savings": {k: str(v) for k, v in found["monthly_savings"].items()}},
                "results": [i.as_dict() for i in feed(team_ids=team_ids)],
            }
        )


class RecommendationDecideView(APIView):
    permission_classes = [scope_required("write")]
    decision = ""

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, key: str):
        team_ids = request_team_ids(request, "configure")
        item = next((i for i in items(team_ids=team_ids) if i.key == key), None)
        if item is None:
            raise NotFound("no such recommendation (its evidence may have changed: reload the feed)")
        row = recommendation_decide(item=item, decision=self.decision, by=request.user)
        return Response({"key": row.key, "decision": row.decision, "by": row.by_name, "at": row.at.isoformat()})
