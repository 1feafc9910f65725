"""The read-only framework content page, for every signed-in user."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


def _render_framework(request, framework, versions):
    context = {
        "content": selectors.framework_content(framework=framework),
        "framework": framework,
        "versions": [v for v in versions if v.slug == framework.slug],
    }
    return render(request, "capabilities/framework_detail.html", context)


@login_required
def framework_index(request):
    """The current published framework; a list when there are several slugs."""
    current = selectors.framework_current_list()
    versions = selectors.framework_list_for_user(user=request.user)
    if len(current) == 1:
        return _render_framework(request, current[0], versions)
    return render(
        request,
        "capabilities/framework_index.html",
        {"current": current, "versions": versions},
    )


@login_required
def framework_detail(request, slug: str, version: int):
    """One version of a framework; drafts are visible to staff only."""
    framework = selectors.framework_get_for_user(
        user=request.user, slug=slug, version=version
    )
    versions = selectors.framework_list_for_user(user=request.user)
    return _render_framework(request, framework, versions)
