"""``AuditEvent`` now lives in ``finops_portal`` (its table moves there): state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0003_team_history_version"),
        ("finops_portal", "0002_auditevent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
