"""Response headers that Django's SecurityMiddleware does not set, and requests
refused before any view."""

from django.http import HttpResponseBadRequest, JsonResponse

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    """Adds a Content-Security-Policy with no inline scripts, and a Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


NUL_IN_ADDRESS_MSG = (
    "The address holds a null character (%00), which no page or query accepts: "
    "remove it."
)


class NullCharacterMiddleware:
    """Answers 400 to a path or query string holding a null character, before any
    view: no database stores one (PostgreSQL refuses it in text), so a lookup with
    one would otherwise end in a server error. API paths get ``{"detail": ...}``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_IN_ADDRESS_MSG}, status=400)
            return HttpResponseBadRequest(
                NUL_IN_ADDRESS_MSG, content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
