import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessment.backup import org_import


class Command(BaseCommand):
    help = "Create an organisation from a file written by export_org (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--slug", help="import under another slug")

    def handle(self, *args, path, slug, **options):
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        try:
            org, notes = org_import(data=data, slug=slug)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except (KeyError, TypeError) as exc:
            raise CommandError(
                f"The file is incomplete or malformed near {exc}."
            ) from None
        for note in notes:
            self.stdout.write(note)
        self.stdout.write(self.style.SUCCESS(f"Imported {org.name} ({org.slug})."))
