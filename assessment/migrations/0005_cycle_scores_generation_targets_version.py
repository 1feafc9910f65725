from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0004_auditevent_moved"),
    ]

    operations = [
        migrations.AddField(
            model_name="cycle",
            name="scores_generation",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="cycle",
            name="scores_changed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="organization",
            name="targets_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
