"""A local OpenID Connect provider for trying and testing single sign-on.

It is django-oauth-toolkit in a Django project of its own, run next to the portal
(``make oidc-demo``, and the SSO tests start one per session): users with groups,
registered clients, discovery, JWKS, the user-info endpoint and RP-initiated
logout. A client may be given a ``fault`` (``expired``, ``forged``,
``wrong-issuer``) so that tests can see the portal refuse such tokens. Never deploy
it: it is a development tool, not part of the portal.

    python -m devidp --port 8001 --config devidp/demo.json
"""
