import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finops_portal.settings")
application = get_wsgi_application()

from .staticcheck import require_collected_static  # noqa: E402 - needs settings

# DEBUG=false without collected static files: refuse to start, with a message,
# rather than answer 500 on every page.
require_collected_static()
