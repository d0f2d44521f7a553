"""What the forecasting app remembers per series: detector state, scores, anomalies, feedback,
the chosen forecasting model, the latest forecasts and how accurate they turned out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.teams.models import Team
from metrics.models import Series


class Sensitivity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TeamDetection(models.Model):
    """A team's defaults: whether its series are scored and how readily anomalies alert."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, primary_key=True, related_name="detection")
    enabled = models.BooleanField(default=True, help_text="score every series of the team")
    sensitivity = models.CharField(max_length=8, choices=Sensitivity.choices, default=Sensitivity.MEDIUM)
    forecasts_enabled = models.BooleanField(default=True, help_text="keep forecasts for every active series")

    class Meta:
        verbose_name = "team detection settings"
        verbose_name_plural = "team detection settings"

    def __str__(self) -> str:
        return f"{self.team}: {self.sensitivity}"


class SeriesDetector(models.Model):
    """The streaming detector of one series. `last_ts` is the cursor: points after it are new.
    Workers lock the row while scoring, so a series is never scored twice."""

    series = models.OneToOneField(Series, on_delete=models.CASCADE, primary_key=True, related_name="detector")
    state = models.BinaryField(null=True, blank=True, help_text="the detector, saved every few minutes")
    state_ts = models.DateTimeField(null=True, blank=True, help_text="the last point the saved state has seen")
    persisted_at = models.DateTimeField(null=True, blank=True)
    trained_models = models.BinaryField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    last_ts = models.DateTimeField(null=True, blank=True)
    points = models.BigIntegerField(default=0)
    last_score = models.FloatField(null=True, blank=True)
    sensitivity = models.CharField(
        max_length=8, choices=Sensitivity.choices, blank=True, help_text="blank: the team's sensitivity"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"detector of {self.series_id}"


class PointScore(models.Model):
    """The anomaly score and expected band of every scored point (the anomaly-score series)."""

    pk = models.CompositePrimaryKey("series_id", "ts")
    series = models.ForeignKey(Series, on_delete=models.DO_NOTHING, db_constraint=False)  # pruned by age
    ts = models.DateTimeField()
    score = models.FloatField()
    expected = models.FloatField(null=True)
    lower = models.FloatField(null=True)
    upper = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["ts"], name="pointscore_ts")]  # retention prune

    def __str__(self) -> str:
        return f"{self.series_id}@{self.ts.isoformat()}: {self.score:.3f}"


class Anomaly(models.Model):
    """A point whose score reached the record threshold, with its explanation."""

    class Kind(models.TextChoices):
        SPIKE = "spike"
        DROP = "drop"
        LEVEL_SHIFT = "level_shift", "level shift"
        TREND_CHANGE = "trend_change", "trend change"
        VARIANCE = "variance", "variance change"
        PATTERN = "pattern", "pattern change"
        OTHER = "other"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="anomalies")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="anomalies")
    ts = models.DateTimeField()
    value = models.FloatField()
    score = models.FloatField()
    confidence = models.FloatField(default=1.0)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OTHER)
    expected = models.FloatField(null=True, blank=True)
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    components = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "anomalies"
        ordering = ["-ts"]
        constraints = [models.UniqueConstraint(fields=["series", "ts"], name="anomaly_unique_series_ts")]
        indexes = [models.Index(fields=["team", "-ts"], name="anomaly_team_ts")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.series_id} at {self.ts.isoformat()} ({self.score:.2f})"


class Feedback(models.Model):
    """ "Not an anomaly": makes the series' anomaly alerts less eager. Revoking restores them."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="anomaly_feedback")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="anomaly_feedback")
    anomaly = models.ForeignKey(Anomaly, on_delete=models.SET_NULL, null=True, blank=True)
    alert_id = models.BigIntegerField(null=True, blank=True, help_text="the alert it was given on, if any")
    kind = models.CharField(max_length=16, blank=True, help_text="the anomaly kind judged normal")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["series"], condition=models.Q(revoked_at=None), name="feedback_active")]

    def __str__(self) -> str:
        return f"not an anomaly: {self.series_id} ({'revoked' if self.revoked_at else 'active'})"


class ForecastModel(models.Model):
    """The forecasting model chosen for a series by backtest, and how it has done since."""

    series = models.OneToOneField(Series, on_delete=models.CASCADE, primary_key=True, related_name="forecast_model")
    model = models.CharField(max_length=64, blank=True, help_text="blank until the first selection")
    backtest = models.JSONField(default=dict, blank=True, help_text='{"model": {"mase": .., "smape": ..}}')
    selected_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="queued for a refresh at")
    live_mase = models.FloatField(null=True, blank=True, help_text="running mean of tracked MASE")
    live_smape = models.FloatField(null=True, blank=True)
    live_count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.series_id}: {self.model}"

    @property
    def drifted(self) -> bool:
        """Tracked error well above what the backtest promised: time to choose again."""
        promised = (self.backtest.get(self.model) or {}).get("mase")
        if promised is None or self.live_mase is None or self.live_count < 3:
            return False
        return self.live_mase > max(1.5 * promised, promised + 0.5)


class Forecast(models.Model):
    """The latest forecast of a series: `short` (5-minute steps, 24 hours) or `daily` (365 days)."""

    class Kind(models.TextChoices):
        SHORT = "short"
        DAILY = "daily"

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="forecasts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    model = models.CharField(max_length=64)
    generated_at = models.DateTimeField(default=timezone.now)
    start = models.DateTimeField(help_text="time of the first forecast step")
    step_s = models.IntegerField()
    mean = models.JSONField()
    lo80 = models.JSONField()
    hi80 = models.JSONField()
    lo95 = models.JSONField()
    hi95 = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "kind"], name="forecast_unique_series_kind")]
        indexes = [models.Index(fields=["kind", "generated_at"], name="forecast_kind_generated")]

    def __str__(self) -> str:
        return f"{self.kind} forecast of {self.series_id} by {self.model}"


class ForecastScore(models.Model):
    """How one issued forecast did against what happened, per horizon (tracked accuracy)."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="forecast_scores")
    model = models.CharField(max_length=64)
    horizon = models.CharField(max_length=8)
    issued_at = models.DateTimeField()
    mase = models.FloatField(null=True)
    smape = models.FloatField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["model", "horizon", "-created_at"], name="forecastscore_model")]

    def __str__(self) -> str:
        return f"{self.model} {self.horizon} on {self.series_id}: mase {self.mase}"


class EvaluationRun(models.Model):
    """A benchmark run of the production detector or forecaster (nab_run, m4_forecast)."""

    class Kind(models.TextChoices):
        NAB = "nab", "anomaly detection (NAB)"
        M4 = "m4", "forecasting (M4)"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    dataset = models.CharField(max_length=200)
    series = models.IntegerField(default=0)
    scores = models.JSONField(default=dict)
    details = models.JSONField(default=dict, blank=True)
    duration_s = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.dataset} at {self.created_at:%Y-%m-%d %H:%M}"
