"""What every API endpoint shares: token authentication, pagination, throttles and
the one place where domain errors become HTTP responses.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .errors import DomainError, body_of
from .models import PersonalToken

INVALID_TOKEN_MSG = "Invalid or revoked token."
MALFORMED_TOKEN_MSG = "Malformed Authorization header: use 'Token <key>'."
UNKNOWN_FIELDS_MSG = "Unknown field."
CONFLICT_MSG = "This conflicts with existing data."
# last_used_at is written at most this often per token, so autosave stays one write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


# --- authentication -----------------------------------------------------------------


class PersonalTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` with a personal token (see ``/account/tokens/``)."""

    keyword = "Token"

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed(MALFORMED_TOKEN_MSG)
        try:
            key = auth[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(MALFORMED_TOKEN_MSG) from exc
        token = (
            PersonalToken.objects.for_key(key)
            .select_related("user")
            .filter(user__is_active=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_MSG)
        now = timezone.now()
        if (
            token.last_used_at is None
            or token.last_used_at < now - LAST_USED_RESOLUTION
        ):
            PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = PersonalTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal token from /account/tokens/, sent as "
            "`Authorization: Token <key>`.",
        }


# --- pagination ---------------------------------------------------------------------


class Pagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (default 50); a page size above 200 is clamped."""

    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = "Rows per page (default 50); above 200 is clamped."
    page_query_description = "Page number, from 1."
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        properties = described["properties"]
        properties["count"]["description"] = "Number of rows on every page together."
        properties["next"]["description"] = "URL of the next page; null on the last."
        properties["previous"]["description"] = (
            "URL of the previous page; null on the first."
        )
        properties["results"]["description"] = "The rows of this page."
        return described


# --- throttles ----------------------------------------------------------------------


class _SettingsRate:
    """Read the rate from settings on each request, so test overrides take effect."""

    def get_rate(self):
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        return rates.get(self.scope)


class TokenUserRateThrottle(_SettingsRate, UserRateThrottle):
    """Limits scripts using a personal token; browser sessions (autosave) are not limited."""

    scope = "token"

    def allow_request(self, request, view):
        if not isinstance(request.auth, PersonalToken):
            return True
        return super().allow_request(request, view)


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Limits anonymous requests per address."""

    scope = "anon"


# --- filters --------------------------------------------------------------------------

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An id in a query string: a whole number the database can hold, else a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


# --- errors ---------------------------------------------------------------------------


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not declare, naming them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [UNKNOWN_FIELDS_MSG] for name in unknown}
                )
        return super().to_internal_value(data)


def _validation_error_body(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        body = {}
        for field, errors in exc.message_dict.items():
            body["detail" if field == "__all__" else field] = errors
        if list(body) == ["detail"] and len(body["detail"]) == 1:
            body["detail"] = body["detail"][0]
        return body
    messages = exc.messages
    return {"detail": messages[0] if len(messages) == 1 else messages}


def exception_handler(exc, context):
    """Map domain errors to HTTP; everything else goes to DRF's own handler.

    DomainError -> its ``http_status`` with its body (see ``finops_portal.errors``);
    ValidationError -> 400 ``{field: [messages]}`` or ``{"detail": ...}`` (409 when
    the error says so, e.g. a published framework); IntegrityError -> 409;
    Http404 -> 404 with one body for every missing object.
    """
    if isinstance(exc, DomainError):
        return Response(body_of(exc), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return Response(
            _validation_error_body(exc),
            status=getattr(exc, "http_status", status.HTTP_400_BAD_REQUEST),
        )
    if isinstance(exc, IntegrityError):
        return Response({"detail": CONFLICT_MSG}, status=status.HTTP_409_CONFLICT)
    # Imported here: rest_framework.views imports this module's classes via settings.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, (Http404, exceptions.NotFound)):
        # One body for every missing object, whoever owns it.
        response.data = {"detail": "Not found."}
    return response


# --- schema -----------------------------------------------------------------------------

PATH_PARAMETER_DESCRIPTIONS = {
    "id": "Id of the {resource}.",
    "slug": "Slug of the {resource}.",
}


def describe_path_parameters(result, generator, request, public):
    """Spectacular post-processing hook: describe the ``{id}``/``{slug}`` of each path
    from the resource it names (``/api/v1/cycles/{id}/`` -> "Id of the cycle.")."""
    for path, operations in result.get("paths", {}).items():
        parts = [part for part in path.split("/") if part]
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                template = PATH_PARAMETER_DESCRIPTIONS.get(parameter["name"])
                if parameter.get("in") != "path" or parameter.get("description"):
                    continue
                if template is None:
                    continue
                marker = "{" + parameter["name"] + "}"
                plural = parts[parts.index(marker) - 1]
                resource = "organisation" if plural == "organizations" else plural[:-1]
                parameter["description"] = template.format(resource=resource)
    return result
