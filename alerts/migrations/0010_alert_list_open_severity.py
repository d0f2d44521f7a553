"""A partial index for the alert list filtered to open alerts of some severities."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0009_move_paging_models"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                condition=models.Q(("status__in", ("pending", "firing", "acknowledged"))),
                fields=["team", "severity", "-last_seen", "-id"],
                name="alert_list_open_severity",
            ),
        ),
    ]
