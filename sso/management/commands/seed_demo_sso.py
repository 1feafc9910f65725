from django.core.management.base import BaseCommand

from sso.demo import NO_DEMO_ORG_MSG, demo_sso_seed


class Command(BaseCommand):
    help = (
        "Let the demo organisation sign in through the local identity provider "
        "(provider key 'local', make oidc-demo). Keeps what is there; --reset "
        "rebuilds the connection and its group mappings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true")

    def handle(self, *args, reset=False, **options):
        connection = demo_sso_seed(reset=reset)
        if connection is None:
            self.stdout.write(NO_DEMO_ORG_MSG)
            return
        mappings = connection.role_mappings.count()
        self.stdout.write(
            f"Single sign-on for {connection.organization.name}: provider "
            f"{connection.provider!r}, {connection.email_domains}, {mappings} group "
            "mappings."
        )
