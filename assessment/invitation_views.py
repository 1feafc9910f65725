"""The page an invitation's link opens: accept it signed in, or create an account
with the invited address and join."""

from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .invitations import (
    INVITATION_EMAIL_MISMATCH_MSG,
    invitation_accept,
    invitation_for_key,
)

JOINED_MSG = "You joined {org} as {role} of {where}."


class InvitationSignUpForm(UserCreationForm):
    """A new account for the invited address (the link proves it is theirs)."""

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields[
            "username"
        ].help_text = "What you sign in with; your email address works well."
        if not self.is_bound:
            self.initial["username"] = email

    def save(self, commit=True):
        user = super().save(commit=False)
        user.email = self.email
        if commit:
            user.save()
        return user


def _joined(request, invitation, membership):
    messages.success(
        request,
        JOINED_MSG.format(
            org=invitation.organization.name,
            role=membership.get_role_display(),
            where=invitation.where,
        ),
    )
    return redirect("home")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, key: str):
    invitation = invitation_for_key(key)
    if invitation is None:
        return render(request, "assessment/invitation_gone.html", status=404)
    context = {"invitation": invitation, "form": None, "mismatch": ""}
    if request.user.is_authenticated:
        if (request.user.email or "").lower() != invitation.email:
            context["mismatch"] = INVITATION_EMAIL_MISMATCH_MSG.format(
                email=invitation.email, user=request.user.get_username()
            )
        elif request.method == "POST":
            membership = invitation_accept(invitation=invitation, user=request.user)
            return _joined(request, invitation, membership)
        return render(request, "assessment/invitation.html", context)
    if get_user_model().objects.filter(email__iexact=invitation.email).exists():
        return render(request, "assessment/invitation.html", context)
    form = InvitationSignUpForm(
        request.POST if request.method == "POST" else None, email=invitation.email
    )
    if form.is_valid():
        created = form.save()
        user = authenticate(
            request,
            username=created.get_username(),
            password=form.cleaned_data["password1"],
        )
        if user is not None:
            login(request, user)
            membership = invitation_accept(invitation=invitation, user=user)
            return _joined(request, invitation, membership)
        return redirect("login")
    context["form"] = form
    status = 400 if form.is_bound else 200
    return render(request, "assessment/invitation.html", context, status=status)
