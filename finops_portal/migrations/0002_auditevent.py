"""Move ``AuditEvent`` from assessment into the shared plumbing, keeping every row.

The table is renamed, not copied; the organisation column stays, as a plain
indexed number instead of a foreign key (this app sits below organisations).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("finops_portal", "0001_initial"),
        ("assessment", "0003_team_history_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # 1. Take over the model as it is, on its old table (state only).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("action", models.CharField(max_length=60)),
                        ("summary", models.CharField(max_length=500)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="assessment.organization",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-at"],
                        "db_table": "assessment_auditevent",
                    },
                ),
            ],
            database_operations=[],
        ),
        # 2. Rename the table to this app's name (rows stay where they are).
        migrations.AlterModelTable(name="auditevent", table=None),
        # 3. Drop the foreign-key constraint, keep the column and its index.
        migrations.AlterField(
            model_name="auditevent",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="assessment.organization",
            ),
        ),
        # 4. The same column, described as a plain number (state only).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="auditevent", name="organization"),
                migrations.AddField(
                    model_name="auditevent",
                    name="organization_id",
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
            ],
            database_operations=[],
        ),
    ]
