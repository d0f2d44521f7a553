from __future__ import annotations

from django.urls import path

from recommendations import api, views

pages = [
    path("", views.recommendations_page, name="recommendations"),
    path("<str:key>/<str:decision>", views.recommendation_decide_page, name="recommendation-decide"),
]

api_urls = [
    path("recommendations", api.RecommendationListView.as_view(), name="recommendations-api"),
    path(
        "recommendations/<str:key>/accept",
        api.RecommendationDecideView.as_view(decision="accepted"),
        name="recommendation-accept",
    ),
    path(
        "recommendations/<str:key>/dismiss",
        api.RecommendationDecideView.as_view(decision="dismissed"),
        name="recommendation-dismiss",
    ),
]
