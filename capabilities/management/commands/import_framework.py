from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from capabilities.importer import (
    FILE_TOO_LARGE_MSG,
    FrameworkFileError,
)
from capabilities.services import framework_import


class Command(BaseCommand):
    help = "Import a framework file (YAML or JSON) as a draft, or publish it with --publish."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--replace", action="store_true", help="overwrite an existing draft"
        )
        parser.add_argument(
            "--publish", action="store_true", help="publish after importing"
        )
        parser.add_argument(
            "--next-version",
            action="store_true",
            help="import as the next free version of the file's slug",
        )
        parser.add_argument(
            "--as-version", type=int, default=None, help="import as this version"
        )

    def handle(
        self,
        *args,
        path: Path,
        replace: bool,
        publish: bool,
        next_version: bool = False,
        as_version: int | None = None,
        **options,
    ):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        size, limit = path.stat().st_size, settings.FRAMEWORK_FILE_MAX_BYTES
        try:
            if size > limit:
                raise FrameworkFileError(
                    [FILE_TOO_LARGE_MSG.format(size=size, limit=limit)]
                )
            framework = framework_import(
                data=path.read_bytes(),
                replace=replace,
                publish=publish,
                next_version=next_version,
                version=as_version,
            )
        except FrameworkFileError as exc:
            for error in exc.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(
                f"{path}: not imported ({len(exc.errors)} error(s))"
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {framework} ({framework.status}).")
        )
