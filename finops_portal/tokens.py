"""Personal API tokens: the page that creates (key shown once) and revokes them."""

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .api import StrictInputSerializer
from .models import TOKEN_PREFIX_LENGTH, PersonalToken, hash_token_key
from .signin import refusal

MAX_TOKENS_PER_USER = 20
TOKEN_NAME_TAKEN_MSG = "You already have a token named “{name}”."
TOKEN_NAME_REQUIRED_MSG = "Give the token a name, for example the script that uses it."
TOO_MANY_TOKENS_MSG = (
    f"You have {MAX_TOKENS_PER_USER} tokens; revoke one before creating another."
)
TOKEN_REVOKED_MSG = "Token “{name}” revoked: scripts using it are refused from now on."


@transaction.atomic
def token_create(*, user, name: str) -> tuple[PersonalToken, str]:
    """A new token and its key; only the key's SHA-256 digest is stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [TOKEN_NAME_REQUIRED_MSG]})
    if PersonalToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
        raise ValidationError({"name": [TOO_MANY_TOKENS_MSG]})
    key = PersonalToken.generate_key()
    try:
        with transaction.atomic():
            token = PersonalToken.objects.create(
                user=user,
                name=name,
                key_hash=hash_token_key(key),
                prefix=key[:TOKEN_PREFIX_LENGTH],
            )
    except IntegrityError:
        raise ValidationError(
            {"name": [TOKEN_NAME_TAKEN_MSG.format(name=name)]}
        ) from None
    return token, key


def token_revoke(*, token: PersonalToken) -> None:
    """Delete the token; requests using it fail from now on."""
    token.delete()


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses it, for example “nightly export”.",
    )


@never_cache
@login_required
def tokens(request):
    """List the user's tokens; POST creates one and shows its key this once."""
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
            form = TokenForm()
        except ValidationError as error:
            for message in error.message_dict.get("name", []):
                form.add_error("name", message)
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": PersonalToken.objects.filter(user=request.user).order_by(
            "-created_at"
        ),
    }
    return render(request, "account/tokens.html", context)


@require_POST
@login_required
def token_revoke_view(request, pk: int):
    token = get_object_or_404(PersonalToken, pk=pk, user=request.user)
    name = token.name
    token_revoke(token=token)
    messages.success(request, TOKEN_REVOKED_MSG.format(name=name))
    return redirect("tokens")


# --- API: a token for a script, from a username and password ---------------------------

BAD_CREDENTIALS_MSG = "Unable to sign in with those credentials."


class TokenCreateSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=150, help_text="Your username.")
    password = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Your password.",
    )
    name = serializers.CharField(
        max_length=100, help_text="What will use the token, e.g. 'nightly export'."
    )


class NewTokenSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Name of the token.")
    key = serializers.CharField(
        help_text="The key: send it as `Authorization: Token <key>`. Shown only once."
    )
    prefix = serializers.CharField(help_text="First characters of the key.")
    created_at = serializers.DateTimeField(help_text="When it was created.")


class TokenCreateApi(APIView):
    """Create a personal token from a username and password (for scripts)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Create a personal token",
        description="Sign in with a username and password and get a new personal "
        "token; the key is shown only in this response. Tokens are listed and "
        "revoked on /account/tokens/.",
        request=TokenCreateSerializer,
        responses={
            201: NewTokenSerializer,
            400: OpenApiResponse(description="Bad credentials or a taken name."),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(
            request._request, username=data["username"], password=data["password"]
        )
        if user is None or not user.is_active:
            raise ValidationError(refusal(request._request) or BAD_CREDENTIALS_MSG)
        token, key = token_create(user=user, name=data["name"])
        body = {
            "name": token.name,
            "key": key,
            "prefix": token.prefix,
            "created_at": token.created_at,
        }
        return Response(NewTokenSerializer(body).data, status=201)
