"""Start-up check: with DEBUG off, the static files must have been collected.

Without them every page that links a stylesheet would answer 500 (the manifest
storage cannot name the file), so the WSGI and ASGI applications refuse to start
instead, with a message that says what to run.
"""

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.exceptions import ImproperlyConfigured

# A file every page links: if the manifest lacks it, nothing was collected.
SENTINEL = "css/site.css"
NOT_COLLECTED_MSG = (
    "DEBUG is off, but the static files are not collected in {root}: run "
    "`python manage.py collectstatic --no-input` before starting the portal "
    "(bin/start web does it, then migrates and starts gunicorn)."
)


def static_files_problem() -> str | None:
    """Why pages could not link their static files, or None."""
    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestFilesMixin):
        return None
    try:
        paths, _hash = staticfiles_storage.load_manifest()
    except ValueError:
        paths = {}
    if SENTINEL not in paths:
        return NOT_COLLECTED_MSG.format(root=settings.STATIC_ROOT)
    return None


def require_collected_static() -> None:
    """Raise ImproperlyConfigured with the message of ``static_files_problem``."""
    problem = static_files_problem()
    if problem:
        raise ImproperlyConfigured(problem)
