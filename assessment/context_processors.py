from .access import access_for
from .slots import NAV_LINKS


def navigation(request):
    """The signed-in user's roles and the links other apps add, for the navigation
    in ``base.html``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access = access_for(user)
    links = [
        link for found in NAV_LINKS.collect(request, access=access) for link in found
    ]
    return {
        "nav_is_lead": access.is_lead or user.is_staff,
        "nav_is_staff": user.is_staff,
        # "My assessments" lists the assessments of the user's teams
        "nav_has_team": bool(access.team_ids),
        "nav_member_links": [link for link in links if link.section != "lead"],
        "nav_lead_links": [link for link in links if link.section == "lead"],
    }
