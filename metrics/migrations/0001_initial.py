import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("teams", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Series",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("metric", models.CharField(max_length=200)),
                ("labels", models.JSONField(default=dict)),
                ("unit", models.CharField(blank=True, default="", max_length=32)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="series", to="teams.team"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "series",
                "ordering": ["metric", "id"],
                "indexes": [models.Index(fields=["team", "metric"], name="series_team_metric")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("team", "metric", "labels"), name="series_unique_team_metric_labels"
                    )
                ],
            },
        ),
    ]
