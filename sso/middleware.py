"""Let a single sign-on session's sign-out form redirect to the provider.

Sign-out posts to the portal, which answers with a redirect to the provider's
end-session endpoint. Browsers apply the page's CSP ``form-action`` to that
redirect too, so pages of such a session allow that one extra origin.
"""

import re

from finops_portal.middleware import CONTENT_SECURITY_POLICY

from .views import SESSION_LOGOUT_ORIGIN

ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
FORM_ACTION = "form-action 'self'"


class LogoutFormActionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" in response.headers:
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        origin = request.session.get(SESSION_LOGOUT_ORIGIN)
        if origin and ORIGIN_RE.match(origin):
            response.headers["Content-Security-Policy"] = (
                CONTENT_SECURITY_POLICY.replace(FORM_ACTION, f"{FORM_ACTION} {origin}")
            )
        return response
