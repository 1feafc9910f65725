"""Admin for framework content: drafts are editable, everything else is read-only.

Every page under a published or retired framework (the framework itself, its
capabilities, questions and their inlines) refuses changes, additions and deletions,
and says why. Drafts are made from published versions with the "New draft version"
action, and published with "Publish".
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from .importer import (
    FILE_TOO_LARGE_MSG,
    FrameworkFileError,
    framework_dump,
)
from .models import (
    PUBLISHED_IS_IMMUTABLE_MSG,
    AnswerOption,
    Capability,
    Domain,
    Framework,
    Lens,
    MaturityLevel,
    Question,
    Recommendation,
)
from .services import (
    framework_delete_draft,
    framework_import,
    framework_new_draft,
    framework_next_version,
    framework_publish,
    framework_retire,
    framework_validate,
    publish_consequences,
)

EXPORT_ONE_MSG = "Select exactly one framework to export."
NEW_DRAFT_MSG = "Created {draft} from {framework}."
PUBLISHED_MSG = "Published {framework}."
NOT_PUBLISHED_MSG = "{framework} was not published:"
RETIRED_MSG = "Retired {framework}."
IMPORTED_MSG = "Imported {framework} ({status})."
# Room for the multipart envelope around a file of the maximum size.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def _framework_of(obj) -> Framework | None:
    if obj is None:
        return None
    if isinstance(obj, Framework):
        return obj
    return obj.owning_framework()


def _is_locked(obj) -> bool:
    framework = _framework_of(obj)
    return (
        framework is not None and framework.pk is not None and not framework.is_editable
    )


def _draft_queryset(model):
    if model is Framework:
        return Framework.objects.filter(status=Framework.Status.DRAFT)
    if model is Question:
        return Question.objects.filter(
            capability__framework__status=Framework.Status.DRAFT
        ).select_related("capability")
    return model.objects.filter(framework__status=Framework.Status.DRAFT)


def _restrict_choices(request, db_field, kwargs) -> None:
    """Offer only rows of draft frameworks, and of the edited framework when known."""
    model = db_field.related_model
    if model not in (Framework, Domain, Lens, MaturityLevel, Capability, Question):
        return
    queryset = _draft_queryset(model)
    parent = getattr(request, "_capabilities_framework", None)
    if parent is not None and model in (Domain, Lens, MaturityLevel, Capability):
        queryset = queryset.filter(framework=parent)
    kwargs["queryset"] = queryset


URL_FIELD_OVERRIDES = {models.URLField: {"assume_scheme": "https"}}


class LabelledInlineFormSet(BaseInlineFormSet):
    """A tabular inline's fields are labelled only by the column heading, which a
    screen reader does not tie to the field: each field gets its own name, with the
    row ("Label, row 3")."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "new row" if index is None else f"row {index + 1}"
        for name, field in form.fields.items():
            label = field.label or name.replace("_", " ")
            # a related-object wrapper shares its attrs with the class's widget:
            # label the form's own copy of the inner widget
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs = {**widget.attrs, "aria-label": f"{label}, {row}"}


class LockedInlineMixin:
    """Inlines under a non-draft framework are read-only."""

    extra = 0
    formfield_overrides = URL_FIELD_OVERRIDES
    formset = LabelledInlineFormSet

    def has_add_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _restrict_choices(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class LockedAdminMixin:
    """Objects under a non-draft framework can be viewed, never changed or deleted."""

    formfield_overrides = URL_FIELD_OVERRIDES

    class Media:
        css = {"all": ["capabilities/css/admin.css"]}

    def has_change_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _restrict_choices(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._capabilities_framework = _framework_of(obj)
        return super().get_form(request, obj, change, **kwargs)

    def get_inline_instances(self, request, obj=None):
        request._capabilities_framework = _framework_of(obj)
        return super().get_inline_instances(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and _is_locked(obj) and request.method == "GET":
            messages.warning(
                request, PUBLISHED_IS_IMMUTABLE_MSG.format(framework=_framework_of(obj))
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        locked = [
            PUBLISHED_IS_IMMUTABLE_MSG.format(framework=_framework_of(obj))
            for obj in objs
            if _is_locked(obj)
        ]
        return deleted, counts, perms, list(protected) + locked

    def delete_queryset(self, request, queryset):
        # One by one, so that each delete goes through the model's immutability check.
        for obj in queryset:
            self.delete_model(request, obj)


# --- framework ------------------------------------------------------------------


class LensInline(LockedInlineMixin, admin.StackedInline):
    model = Lens
    fields = [
        ("key", "name", "order", "weight"),
        "description",
        ("level_0", "level_1", "level_2", "level_3", "level_4"),
    ]


class MaturityLevelInline(LockedInlineMixin, admin.TabularInline):
    model = MaturityLevel
    fields = ["key", "name", "min_percent", "min_lens_score", "colour", "description"]


class DomainInline(LockedInlineMixin, admin.TabularInline):
    model = Domain
    fields = ["key", "name", "order", "description"]


class FrameworkImportForm(forms.Form):
    file = forms.FileField(
        label="Framework file",
        help_text="YAML or JSON, in the format of capabilities/content/framework.schema.json.",
    )
    replace = forms.BooleanField(
        required=False,
        label="Replace an existing draft of the same version",
    )
    publish = forms.BooleanField(required=False, label="Publish after importing")
    next_version = forms.BooleanField(
        required=False,
        label="Import as the next free version of the file's framework",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offers = [
            f"{slug}: v{framework_next_version(slug=slug)}"
            for slug in Framework.objects.order_by("slug")
            .values_list("slug", flat=True)
            .distinct()
        ]
        if offers:
            self.fields["next_version"].help_text = (
                "Whatever version the file says. Next free: " + "; ".join(offers) + "."
            )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.FRAMEWORK_FILE_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                FILE_TOO_LARGE_MSG.format(size=upload.size, limit=limit)
            )
        return upload


@admin.register(Framework)
class FrameworkAdmin(LockedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "version",
        "status",
        "current",
        "published_at",
        "review_link",
    ]
    list_filter = ["status", "slug"]
    search_fields = ["title", "slug", "description"]
    ordering = ["slug", "-version"]
    readonly_fields = ["status", "published_at", "created_at", "superseded_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("slug", "version"),
                    "title",
                    "description",
                    "source_url",
                    ("status", "published_at", "superseded_at", "created_at"),
                ]
            },
        ),
        (
            "Edition and mapping",
            {
                "fields": [
                    ("edition_key", "edition_name", "edition_source_url"),
                    ("derived_from_slug", "derived_from_version"),
                    "retired_capabilities",
                    "retired_questions",
                    "na_reasons",
                ],
                "description": "Where the content comes from, the version it was "
                "derived from (what the capabilities' and questions' 'maps from' "
                "refer to), the old items with no successor and the N/A reasons "
                "respondents choose from.",
            },
        ),
    ]
    inlines = [LensInline, MaturityLevelInline, DomainInline]
    actions = ["new_draft", "publish", "retire", "export_yaml"]
    change_list_template = "admin/capabilities/framework/change_list.html"

    def get_urls(self):
        return [
            path(
                "import/",
                # The size check must run before anything reads the body, so the
                # CSRF check (which parses it) is applied inside import_view.
                self.admin_site.admin_view(csrf_exempt(self.import_view)),
                name="capabilities_framework_import",
            ),
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="capabilities_framework_review",
            ),
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="capabilities_framework_preview",
            ),
            *super().get_urls(),
        ]

    def _framework_or_404(self, request, pk) -> Framework:
        framework = Framework.objects.filter(pk=pk).first()
        if framework is None or not self.has_view_permission(request, framework):
            raise Http404("No such framework.")
        return framework

    def review_view(self, request, pk):
        """The authoring workflow of one version: validate, preview, diff against
        the version it was derived from, dry run, then publish (confirmed)."""
        from .diff import framework_diff
        from .slots import FRAMEWORK_REVIEW_SECTIONS

        framework = self._framework_or_404(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review {framework}",
            "opts": self.model._meta,
            "framework": framework,
            "problems": framework_validate(framework=framework),
            "diff": framework_diff(framework),
            "sections": FRAMEWORK_REVIEW_SECTIONS.collect(request, framework=framework),
            "consequences": publish_consequences(framework=framework)
            if framework.is_editable
            else [],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/capabilities/framework/review.html", context
        )

    def preview_view(self, request, pk):
        """The questionnaire as a respondent will see it (nothing can be saved)."""
        from .selectors import framework_content

        framework = self._framework_or_404(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview of {framework}",
            "opts": self.model._meta,
            "framework": framework,
            "content": framework_content(framework=framework),
        }
        return TemplateResponse(
            request, "admin/capabilities/framework/preview.html", context
        )

    @admin.display(description="current")
    def current(self, obj):
        if obj.is_current:
            return "Current"
        if obj.is_superseded:
            return "Superseded"
        return "-"

    @admin.display(description="review")
    def review_link(self, obj):
        return format_html(
            '<a href="{}">Review</a>',
            reverse("admin:capabilities_framework_review", args=[obj.pk]),
        )

    def delete_model(self, request, obj):
        framework_delete_draft(framework=obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        locked = [
            PUBLISHED_IS_IMMUTABLE_MSG.format(framework=obj)
            for obj in objs
            if _is_locked(obj)
        ]
        return deleted, counts, perms, list(protected) + locked

    @admin.action(description="New draft version", permissions=["add"])
    def new_draft(self, request, queryset):
        for framework in queryset:
            draft = framework_new_draft(framework=framework)
            url = reverse("admin:capabilities_framework_change", args=[draft.pk])
            self.message_user(
                request,
                format_html(
                    '<a href="{}">{}</a>',
                    url,
                    NEW_DRAFT_MSG.format(draft=draft, framework=framework),
                ),
                messages.SUCCESS,
            )

    @admin.action(description="Publish", permissions=["change"])
    def publish(self, request, queryset):
        if "confirm" not in request.POST:
            # First the consequences, then the publishing.
            frameworks = list(queryset)
            return TemplateResponse(
                request,
                "admin/capabilities/framework/publish_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Publish framework versions?",
                    "opts": self.model._meta,
                    "items": [
                        {
                            "framework": f,
                            "problems": framework_validate(framework=f)
                            if f.is_editable
                            else [],
                            "consequences": publish_consequences(framework=f)
                            if f.is_editable
                            else [],
                        }
                        for f in frameworks
                    ],
                    "selected": [f.pk for f in frameworks],
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for framework in queryset:
            try:
                framework_publish(framework=framework, user=request.user)
            except ValidationError as exc:
                self.message_user(
                    request,
                    format_html(
                        "{}<ul>{}</ul>",
                        NOT_PUBLISHED_MSG.format(framework=framework),
                        format_html_join(
                            "", "<li>{}</li>", ((m,) for m in exc.messages)
                        ),
                    ),
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, PUBLISHED_MSG.format(framework=framework), messages.SUCCESS
                )

    @admin.action(description="Retire", permissions=["change"])
    def retire(self, request, queryset):
        for framework in queryset:
            try:
                framework_retire(framework=framework, user=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request, RETIRED_MSG.format(framework=framework), messages.SUCCESS
                )

    @admin.action(description="Export as YAML", permissions=["view"])
    def export_yaml(self, request, queryset):
        frameworks = list(queryset[:2])
        if len(frameworks) != 1:
            self.message_user(request, EXPORT_ONE_MSG, messages.ERROR)
            return None
        framework = frameworks[0]
        response = HttpResponse(
            framework_dump(framework, fmt="yaml"),
            content_type="application/yaml; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{framework.slug}-v{framework.version}.yaml"'
        )
        return response

    def import_view(self, request):
        """Upload a framework file; every error is listed next to the file field."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        limit = settings.FRAMEWORK_FILE_MAX_BYTES
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if request.method == "POST" and length > limit + UPLOAD_OVERHEAD_BYTES:
            # Refused before the upload is read (or stored) at all.
            return self._import_page(
                request,
                FrameworkImportForm(),
                [FILE_TOO_LARGE_MSG.format(size=length, limit=limit)],
            )
        return csrf_protect(self._import_upload)(request)

    def _import_upload(self, request):
        form = FrameworkImportForm()
        if request.method == "POST":
            form = FrameworkImportForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    framework = framework_import(
                        data=form.cleaned_data["file"].read(),
                        replace=form.cleaned_data["replace"],
                        publish=form.cleaned_data["publish"],
                        next_version=form.cleaned_data["next_version"],
                        user=request.user,
                    )
                except FrameworkFileError as exc:
                    for error in exc.errors:
                        form.add_error("file", error)
                else:
                    self.message_user(
                        request,
                        IMPORTED_MSG.format(
                            framework=framework,
                            status=framework.get_status_display().lower(),
                        ),
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse(
                            "admin:capabilities_framework_change", args=[framework.pk]
                        )
                    )
        return self._import_page(request, form, [])

    def _import_page(self, request, form, file_errors):
        context = {
            **self.admin_site.each_context(request),
            "title": "Import framework file",
            "opts": self.model._meta,
            "form": form,
            "file_errors": list(form.errors.get("file", [])) + file_errors,
            "max_bytes": settings.FRAMEWORK_FILE_MAX_BYTES,
        }
        return TemplateResponse(
            request, "admin/capabilities/framework/import.html", context
        )


# --- capabilities and questions ---------------------------------------------------


class QuestionInline(LockedInlineMixin, admin.TabularInline):
    model = Question
    fields = ["order", "key", "lens", "prompt", "weight", "allow_na", "audience"]
    show_change_link = True
    ordering = ["order", "id"]


class RecommendationInline(LockedInlineMixin, admin.StackedInline):
    model = Recommendation
    fields = [("level", "lens", "effort", "impact", "order"), "title", "body", "links"]
    ordering = ["order", "id"]


@admin.register(Capability)
class CapabilityAdmin(LockedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "key", "framework", "domain", "order"]
    list_filter = ["framework", "domain__name"]
    list_select_related = ["framework", "domain"]
    search_fields = ["key", "name", "summary"]
    ordering = ["framework__slug", "-framework__version", "order", "id"]
    inlines = [QuestionInline, RecommendationInline]

    def has_add_permission(self, request):
        return (
            super().has_add_permission(request) and _draft_queryset(Framework).exists()
        )


class AnswerOptionInline(LockedInlineMixin, admin.TabularInline):
    model = AnswerOption
    fields = ["score", "label", "description", "order"]
    ordering = ["score"]

    def get_extra(self, request, obj=None, **kwargs):
        # A new question starts with one row per score 0..4.
        return 5 if obj is None else 0


@admin.register(Question)
class QuestionAdmin(LockedAdminMixin, admin.ModelAdmin):
    list_display = [
        "key",
        "short_prompt",
        "framework_version",
        "capability",
        "lens",
        "weight",
        "allow_na",
        "measure_key",
    ]
    readonly_fields = ["framework_version"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "framework_version",
                    "capability",
                    "lens",
                    ("key", "order", "weight", "audience"),
                    "prompt",
                    "help_text",
                    "evidence_prompt",
                ]
            },
        ),
        (
            "N/A, mapping and scopes",
            {
                "fields": [("allow_na", "na_reasons"), "maps_from", "scopes"],
                "description": "N/A needs a reason from the framework's catalogue "
                "once reasons are listed. 'Maps from' names the question(s) of "
                "the derived-from version this one continues.",
            },
        ),
        (
            "Evidence from FOCUS cost data",
            {
                "fields": ["measure_key", "measure_bands"],
                "description": "Optional: a measure that suggests a score while the "
                "team answers. Bands ascend by min; values are percents 0-100 "
                "except for the counts (providers, billing periods).",
            },
        ),
    ]
    list_filter = ["capability__framework", "capability__name", "lens__name"]
    list_select_related = ["capability__framework", "lens"]
    search_fields = ["key", "prompt"]
    ordering = ["capability__framework__slug", "capability__order", "order", "id"]
    inlines = [AnswerOptionInline]

    @admin.display(
        description="framework and version",
        ordering="capability__framework__version",
    )
    def framework_version(self, obj):
        if obj is None or obj.pk is None:
            return "The framework of the capability chosen below (a draft)."
        framework = obj.capability.framework
        return f"{framework.title}, version {framework.version} ({framework.status})"

    @admin.display(description="prompt")
    def short_prompt(self, obj):
        return obj.prompt if len(obj.prompt) <= 80 else obj.prompt[:79] + "…"

    def has_add_permission(self, request):
        return (
            super().has_add_permission(request) and _draft_queryset(Framework).exists()
        )

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, AnswerOptionInline) and obj.pk is None:
            kwargs.setdefault("initial", [{"score": s, "order": s} for s in range(5)])
        return kwargs
