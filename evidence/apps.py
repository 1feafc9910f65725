from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence from FOCUS cost data"

    def ready(self) -> None:
        # Registers the tasks, which the services send by name.
        from . import tasks  # noqa: F401
