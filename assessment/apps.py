from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "assessment"

    def ready(self):
        from capabilities.slots import FRAMEWORK_REVIEW_SECTIONS

        from .dry_run_views import review_section

        FRAMEWORK_REVIEW_SECTIONS.register(review_section)
