from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

SETUP_STEPS = [
    ("load_shipped_content", "shipped questionnaire content"),
    ("seed_demo", "demo organisation"),
]


class Command(BaseCommand):
    help = "Load the shipped content and the demo data. Safe to run again: keeps existing data."

    def handle(self, *args, **options):
        available = get_commands()
        for command, what in SETUP_STEPS:
            if command in available:
                self.stdout.write(f"Setting up the {what}...")
                call_command(command, stdout=self.stdout, stderr=self.stderr)
