import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finops_portal.settings")
application = get_asgi_application()

from .staticcheck import require_collected_static  # noqa: E402 - needs settings

require_collected_static()
