from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from capabilities.importer import framework_dump
from capabilities.models import Framework


class Command(BaseCommand):
    help = "Write a framework version as YAML or JSON, to a file or standard output."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("version", type=int)
        parser.add_argument("-o", "--output", type=Path, help="file to write")
        parser.add_argument("--format", choices=["yaml", "json"], default=None)

    def handle(self, *args, slug, version, output, format, **options):
        framework = Framework.objects.filter(slug=slug, version=version).first()
        if framework is None:
            raise CommandError(f"No framework {slug} v{version}.")
        fmt = format or ("json" if output and output.suffix == ".json" else "yaml")
        text = framework_dump(framework, fmt=fmt)
        if output is None:
            self.stdout.write(text, ending="")
        else:
            output.write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {framework} to {output}.")
