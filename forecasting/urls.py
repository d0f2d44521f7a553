from __future__ import annotations

from django.urls import path

from forecasting import api

urlpatterns = [
    path("anomalies", api.AnomalyListView.as_view(), name="anomaly-list"),
    path("anomalies/<int:id>/not-anomaly", api.AnomalyFeedbackView.as_view(), name="anomaly-feedback"),
    path("anomaly-feedback", api.FeedbackListView.as_view(), name="feedback-list"),
    path("anomaly-feedback/<int:id>/revoke", api.FeedbackRevokeView.as_view(), name="feedback-revoke"),
    path("series/<str:uid>/scores", api.SeriesScoresView.as_view(), name="series-scores"),
    path("series/<str:uid>/forecast", api.SeriesForecastView.as_view(), name="series-forecast"),
    path("series/<str:uid>/detection", api.SeriesDetectionView.as_view(), name="series-detection"),
    path("forecasting/model-card", api.ModelCardView.as_view(), name="model-card"),
]
