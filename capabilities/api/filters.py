import django_filters

from capabilities.models import Framework


class FrameworkFilter(django_filters.FilterSet):
    slug = django_filters.CharFilter(help_text="Only versions of this framework slug.")
    status = django_filters.ChoiceFilter(
        choices=Framework.Status.choices, help_text="draft, published or retired."
    )

    class Meta:
        model = Framework
        fields = ["slug", "status"]
