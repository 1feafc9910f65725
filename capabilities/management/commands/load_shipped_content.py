from django.core.management.base import BaseCommand, CommandError

from capabilities.importer import FrameworkFileError
from capabilities.services import framework_load_shipped


class Command(BaseCommand):
    help = "Import and publish the shipped framework files not yet present. Safe to re-run."

    def handle(self, *args, **options):
        try:
            results = framework_load_shipped()
        except FrameworkFileError as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError("The shipped content could not be loaded.") from None
        for framework, imported in results:
            if imported:
                self.stdout.write(f"Imported and published {framework}.")
            else:
                self.stdout.write(f"{framework} is already present; nothing to do.")
