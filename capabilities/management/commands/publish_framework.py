from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from capabilities.models import Framework
from capabilities.services import (
    framework_publish,
    framework_retire,
    publish_consequences,
)


class Command(BaseCommand):
    help = (
        "Publish a draft framework version (it becomes the current one; earlier "
        "versions are marked superseded), or retire a published one with --retire."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("version", type=int)
        parser.add_argument(
            "--retire", action="store_true", help="retire a published version"
        )

    def handle(self, *args, slug: str, version: int, retire: bool, **options):
        framework = Framework.objects.filter(slug=slug, version=version).first()
        if framework is None:
            raise CommandError(f"{slug} v{version}: no such framework version")
        try:
            if retire:
                framework = framework_retire(framework=framework)
                self.stdout.write(self.style.SUCCESS(f"Retired {framework}."))
                return
            consequences = publish_consequences(framework=framework)
            framework = framework_publish(framework=framework)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(f"{slug} v{version}: {message}")
            raise CommandError(f"{slug} v{version}: not changed") from None
        for line in consequences:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Published {framework}."))
