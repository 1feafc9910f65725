from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence from FOCUS cost data"

    def ready(self) -> None:
        # Registers the tasks, which the services send by name, and the providers
        # of what evidence adds to the questionnaire, report, dashboard, navigation.
        from . import integration, tasks  # noqa: F401

        integration.register()
