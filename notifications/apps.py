from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from assessment.slots import COMPLETION_BOARD, LEAD_HOME_SECTIONS, NAV_LINKS
        from finops_portal.events import subscribe

        from . import providers
        from .handlers import TOPICS, on_event

        for topic in TOPICS:
            subscribe(topic, on_event)
        NAV_LINKS.register(providers.nav_links)
        COMPLETION_BOARD.register(providers.completion_board_column)
        LEAD_HOME_SECTIONS.register(providers.lead_home_section)
        # A cache warm-up, not a workflow: the navigation's count after sign-in.
        user_logged_in.connect(
            providers.unread_count_warm, dispatch_uid="notifications.unread_warm"
        )
