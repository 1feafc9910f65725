import json
import sys

from django.core.management.base import BaseCommand, CommandError

from assessment.backup import org_export
from assessment.models import Organization


class Command(BaseCommand):
    help = "Write an organisation (teams, cycles, answers, targets) to one JSON file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "-o", "--output", help="file to write (default: standard output)"
        )

    def handle(self, *args, slug, output, **options):
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"No organisation with the slug {slug!r}.")
        text = json.dumps(org_export(organization=org), indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(self.style.SUCCESS(f"Wrote {org.name} to {output}."))
        else:
            sys.stdout.write(text + "\n")
