from django.apps import apps
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

SETUP_STEPS = [
    ("load_shipped_content", "shipped questionnaire content"),
    ("seed_demo", "demo organisation"),
]
# Each app adds its own demo data as a command named like this (idempotent).
DEMO_STEP_PREFIX = "seed_demo_"


def demo_steps() -> list[tuple[str, str]]:
    """Every installed app's ``seed_demo_<name>`` command, in INSTALLED_APPS order."""
    order = {config.name: i for i, config in enumerate(apps.get_app_configs())}
    commands = [
        (order.get(app, len(order)), name)
        for name, app in get_commands().items()
        if name.startswith(DEMO_STEP_PREFIX)
    ]
    return [
        (name, "demo " + name.removeprefix(DEMO_STEP_PREFIX).replace("_", " "))
        for _order, name in sorted(commands)
    ]


class Command(BaseCommand):
    help = (
        "Load the shipped content and the demo data of every app. Safe to run again: "
        "keeps existing data."
    )

    def handle(self, *args, **options):
        available = get_commands()
        for command, what in [*SETUP_STEPS, *demo_steps()]:
            if command in available:
                self.stdout.write(f"Setting up the {what}...")
                call_command(command, stdout=self.stdout, stderr=self.stderr)
