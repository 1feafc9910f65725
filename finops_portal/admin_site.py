"""The admin site: content first, then organisations and answers; records of what
happened and the portal's internal tables (computed state, sign-in lockouts) in
sections of their own at the end, so that the tables an editor works in come first."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse

# Apps in the order the index lists them; apps not named here follow, by name.
APP_ORDER = ["capabilities", "assessment", "evidence", "notifications", "sso", "auth"]

# Apps whose own name says little to an editor.
APP_NAMES = {"finops_portal": "API tokens"}

# (app label, model name) -> the section it is listed in instead of its app's.
SECTIONS = {
    "history": (
        "Audit trail and history (read-only)",
        {
            ("finops_portal", "auditevent"),
            ("assessment", "answerchange"),
            ("assessment", "assessmentreopen"),
        },
    ),
    "internal": (
        "Internal state (computed, kept by the portal)",
        {
            ("assessment", "capabilityscore"),
            ("benchmarks", "rollupstate"),
            ("benchmarks", "nodestat"),
            ("benchmarks", "teamrank"),
            ("axes", "accessattempt"),
            ("axes", "accesslog"),
            ("axes", "accessfailurelog"),
        },
    ),
}


def _section_of(app_label: str, model_name: str) -> str | None:
    for key, (_name, members) in SECTIONS.items():
        if (app_label, model_name) in members:
            return key
    return None


def grouped_app_list(app_list: list[dict], index_url: str) -> list[dict]:
    """``app_list`` (as ``AdminSite.get_app_list`` builds it) with the apps in
    ``APP_ORDER`` and the models of ``SECTIONS`` moved to their sections, last."""
    apps, sections = [], {key: [] for key in SECTIONS}
    for app in app_list:
        kept = []
        for model in app["models"]:
            section = _section_of(app["app_label"], model["object_name"].lower())
            (sections[section] if section else kept).append(model)
        if kept:
            name = APP_NAMES.get(app["app_label"], app["name"])
            apps.append({**app, "name": name, "models": kept})
    rank = {label: i for i, label in enumerate(APP_ORDER)}
    apps.sort(key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"]))
    for key, models in sections.items():
        if models:
            apps.append(
                {
                    "name": SECTIONS[key][0],
                    "app_label": key,
                    "app_url": index_url + "#" + key,
                    "has_module_perms": True,
                    "models": sorted(models, key=lambda m: m["name"]),
                }
            )
    return apps


class PortalAdminSite(admin.AdminSite):
    site_header = "FinOps maturity portal: administration"
    site_title = "FinOps maturity portal"
    index_title = "Content, organisations and records"

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label:
            return app_list
        return grouped_app_list(app_list, reverse("admin:index", current_app=self.name))


class PortalAdminConfig(AdminConfig):
    default_site = "finops_portal.admin_site.PortalAdminSite"
