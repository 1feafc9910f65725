from assessment.access import access_for


def navigation(request):
    """The signed-in user's roles, for the navigation in ``base.html``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access = access_for(user)
    return {
        "nav_is_lead": access.is_lead or user.is_staff,
        "nav_is_staff": user.is_staff,
        # "My assessments" lists the assessments of the user's teams
        "nav_has_team": bool(access.team_ids),
    }
