from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "improvement"
    verbose_name = "Improvement plans, initiatives and sync"

    def ready(self) -> None:
        # Registers the tasks (sent by name), the providers of what improvement adds
        # to the team report, lead home and navigation, and the webhook subscribers.
        from . import integration, tasks  # noqa: F401

        integration.register()
