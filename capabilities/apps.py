from django.apps import AppConfig


class CapabilitiesConfig(AppConfig):
    verbose_name = "Capability definitions"
    name = "capabilities"
