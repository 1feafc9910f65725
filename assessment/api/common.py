"""What the assessment API's views share: lead checks, documented responses,
service field names, and input validation."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiResponse,
)
from rest_framework.exceptions import PermissionDenied

from assessment.access import (
    access_for,
)
from assessment.models import (
    Team,
)

NOT_LEAD_MSG = "Only a lead of the organisation may do this."
NO_SUCH_TEAM_MSG = "No such team in this organisation."
NO_SUCH_FRAMEWORK_MSG = "No such framework."
ORGANIZATION_REQUIRED_MSG = "Give the organisation's slug."

NOT_FOUND_RESPONSE = OpenApiResponse(description="Not found, or out of your reach.")
FORBIDDEN_RESPONSE = OpenApiResponse(description="Only a lead may do this.")
BAD_REQUEST_RESPONSE = OpenApiResponse(
    description="Invalid input: {field: [messages]} or {detail: message}."
)


def require_lead(user, organization_id: int) -> None:
    """403 for a member who is not a lead; 404 for anyone outside the organisation."""
    access = access_for(user)
    if access.leads(organization_id):
        return
    if access.can_see_org(organization_id):
        raise PermissionDenied(NOT_LEAD_MSG)
    raise Http404


# The services name some fields as the pages do; the API names them as its input.
def lead_write_responses(ok, *, status: int = 200) -> dict:
    """The documented answers of a lead's write: done, refused, not a lead, not found."""
    return {
        status: ok,
        400: BAD_REQUEST_RESPONSE,
        403: FORBIDDEN_RESPONSE,
        404: NOT_FOUND_RESPONSE,
    }


SERVICE_FIELD_NAMES = {
    "identifier": "user",
    "team_ids": "teams",
    "capability_ids": "capabilities",
}


@contextmanager
def api_field_names():
    """Re-raise a service's ``ValidationError`` under the API's field names."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {
                SERVICE_FIELD_NAMES.get(field, field): messages
                for field, messages in error.message_dict.items()
            }
        ) from None


def team_in(organization_id: int, pk: int | None, field: str = "team") -> Team | None:
    if pk is None:
        return None
    team = Team.objects.filter(pk=pk, organization_id=organization_id).first()
    if team is None:
        raise ValidationError({field: [NO_SUCH_TEAM_MSG]})
    return team


def valid_input(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
