from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERS = [
    ("admin", "edits the questionnaire content (Django admin)"),
    ("lead", "FinOps lead: runs cycles, sees every team and the dashboards"),
    ("respondent", "answers for one team"),
]


class Command(BaseCommand):
    help = "Print where the portal runs and the demo sign-ins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        from django.conf import settings

        password = getattr(settings, "DEMO_PASSWORD", "")
        existing = set(
            get_user_model()
            .objects.filter(username__in=[u for u, _ in DEMO_USERS])
            .values_list("username", flat=True)
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"FinOps maturity portal: {url}"))
        for username, role in DEMO_USERS:
            if username in existing:
                self.stdout.write(f"  {username:<11} / {password:<14} {role}")
        self.stdout.write("Stop with Ctrl+C.\n")
