"""axe-core finds no serious or critical accessibility violation on the portal's
pages (Debian's Chromium, axe-core from npm; see ``conftest.axe_violations``)."""

import pytest

from conftest import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sign_in_page_has_no_serious_violation(page):
    page.goto(page.base_url + "/accounts/login/")
    assert axe_violations(page) == []


def test_the_check_finds_a_serious_violation(page):
    """The check itself can fail: an image link without a name is serious."""
    page.goto(page.base_url + "/accounts/login/")
    page.evaluate(
        """document.querySelector("main").insertAdjacentHTML(
            "beforeend", '<a href="/x"><img src="/static/img/favicon.svg"></a>')"""
    )
    assert {v["id"] for v in axe_violations(page)} & {"link-name", "image-alt"}


# Notifications' pages (the schedule form, the board with "remind now" and the
# in-app list are driven in notifications/tests/test_browser.py, axe-checked too).
NOTIFICATION_PAGES = [
    "/notifications/",
    "/notifications/preferences/",
    "/notifications/cycles/{cycle}/schedule/",
    "/notifications/cycles/{cycle}/preview/reminder/",
    "/notifications/org/{org}/deliveries/",
    "/notifications/org/{org}/",
    "/lead/cycles/{cycle}/",
    "/lead/{org}/",
]


@pytest.mark.parametrize("path", NOTIFICATION_PAGES)
def test_the_notification_pages_have_no_serious_violation(page, lead, framework, path):
    from assessment.models import Cycle
    from conftest import browser_login

    cycle = Cycle.objects.create(
        organization=lead.memberships.get().organization,
        framework=framework,
        name="Q1",
        status="open",
    )
    browser_login(page, "lena")
    page.goto(page.base_url + path.format(cycle=cycle.pk, org=cycle.organization.slug))
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []


# Improvement's lead pages in their empty states (with data, and the team report's
# plan, in improvement/tests/test_browser.py).
IMPROVEMENT_PAGES = [
    "/improvement/{org}/initiatives/",
    "/improvement/{org}/summary/",
    "/improvement/{org}/webhooks/",
]


@pytest.mark.parametrize("path", IMPROVEMENT_PAGES)
def test_the_improvement_pages_have_no_serious_violation(page, lead, framework, path):
    from conftest import browser_login

    browser_login(page, "lena")
    page.goto(page.base_url + path.format(org=lead.memberships.get().organization.slug))
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []


# --- every key page, at desktop and phone width ----------------------------------

# (who signs in, path) with {report} a submitted assessment of Team A, {open} Team
# A's assessment of an open cycle, {cycle} that open cycle, {question} a question of
# a draft framework (editable inlines in the admin).
KEY_PAGES = {
    "login": (None, "/accounts/login/"),
    "my assessments": ("alice", "/assessments/"),
    "questionnaire": ("alice", "/assessments/{open}/"),
    "review": ("alice", "/assessments/{open}/review/"),
    "team report": ("alice", "/assessments/{report}/report/"),
    "team report, lead": ("lena", "/assessments/{report}/report/"),
    "benchmark": ("alice", "/assessments/{report}/benchmark/"),
    "dashboard": ("lena", "/org/{org}/dashboard/"),
    "targets": ("lena", "/org/{org}/targets/"),
    "completion board": ("lena", "/lead/cycles/{cycle}/"),
    "lead home": ("lena", "/lead/"),
    "cycles": ("lena", "/lead/{org}/cycles/"),
    "audit log": ("lena", "/lead/{org}/audit/"),
    "admin index": ("stella", "/admin/"),
    "admin changelist": ("stella", "/admin/capabilities/question/"),
    "admin change page": ("stella", "/admin/capabilities/question/{question}/change/"),
    "admin capability page": (
        "stella",
        "/admin/capabilities/capability/{capability}/change/",
    ),
}


@pytest.fixture
def key_page_ids(org, framework, team_a, team_b, respondent_a, lead, staff):
    from django.core.cache import cache

    from assessment.models import Assessment
    from assessment.tests.factories import make_cycle
    from benchmarks.tests.snapshots import build_snapshot, make_teams
    from capabilities.models import Question
    from capabilities.tests.factories import make_framework

    cache.clear()
    snapshot = build_snapshot(
        organization=org,
        framework=framework,
        teams=[team_a, team_b, *make_teams(org, 4)],
    )
    snapshot.status = "closed"
    snapshot.save(update_fields=["status"])
    cycle = make_cycle(
        organization=org, framework=framework, teams=[team_a, team_b], name="2026 H2"
    )
    draft = make_framework(slug="draft", capabilities=1, questions_per_lens=1)
    question = Question.objects.filter(capability__framework=draft).first()
    return {
        "org": org.slug,
        "report": Assessment.objects.get(cycle=snapshot, team=team_a).pk,
        "open": Assessment.objects.get(cycle=cycle, team=team_a).pk,
        "cycle": cycle.pk,
        "question": question.pk,
        "capability": question.capability_id,
    }


def wait_for_charts(page) -> None:
    page.wait_for_function(
        "[...document.querySelectorAll('[data-chart-source]')]"
        ".every(el => el.dataset.chartReady === 'true')"
    )


@pytest.mark.parametrize("name", list(KEY_PAGES))
def test_every_key_page_has_no_serious_violation(page, key_page_ids, name):
    from conftest import browser_login

    user, path = KEY_PAGES[name]
    if user:
        browser_login(page, user, "pw-" + user)
    url = page.base_url + path.format(**key_page_ids)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        response = page.goto(url)
        assert response.status == 200, (name, width, response.status)
        wait_for_charts(page)
        assert axe_violations(page) == [], (name, width)
    assert page.console_errors == []


OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Every chart's toolbar (plotly's modebar) and title box, as page rectangles.
TOOLBAR_AND_TITLE = """() => [...document.querySelectorAll('[data-chart-source]')].map(el => {
    const box = n => { if (!n) return null; const r = n.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
    const bar = el.querySelector('.modebar');
    if (bar && !bar.getBoundingClientRect().height) return {id: el.id, bar: null};
    const title = el.querySelector('.gtitle');
    return {id: el.id, bar: box(bar), title: box(title)};
})"""


def intersects(a, b) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


@pytest.mark.parametrize("width", [390, 1366])
def test_no_chart_toolbar_covers_a_title(page, key_page_ids, width):
    from conftest import browser_login

    browser_login(page, "alice", "pw-alice")
    page.set_viewport_size({"width": width, "height": 844})
    for path in ["/assessments/{report}/report/", "/assessments/{report}/benchmark/"]:
        page.goto(page.base_url + path.format(**key_page_ids))
        wait_for_charts(page)
        charts = page.evaluate(TOOLBAR_AND_TITLE)
        assert charts
        for chart in charts:
            # plotly shows the toolbar on hover: measure it shown
            page.hover(f"#{chart['id']}")
            page.wait_for_timeout(100)
        charts = page.evaluate(TOOLBAR_AND_TITLE)
        titled = [c for c in charts if c["title"] and c["bar"]]
        assert titled, charts
        for chart in titled:
            assert not intersects(chart["bar"], chart["title"]), chart


def test_my_assessments_fits_a_phone_with_every_link_on_screen(page, key_page_ids):
    from conftest import browser_login

    browser_login(page, "alice", "pw-alice")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/assessments/")
    assert page.evaluate(OVERFLOW) <= 0
    for name in ["Summary", "Report", "Continue", "Start"]:
        for link in page.get_by_role("link", name=name).all():
            box = link.bounding_box()
            assert box["x"] >= 0, name
            assert box["x"] + box["width"] <= 390, name
    assert page.get_by_role("link", name="Report").count() == 1


def test_the_team_report_fits_a_phone(page, key_page_ids):
    from conftest import browser_login

    browser_login(page, "alice", "pw-alice")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/assessments/{report}/report/".format(**key_page_ids))
    wait_for_charts(page)
    assert page.evaluate(OVERFLOW) <= 0


def test_the_respondent_sees_the_reopen_reason_and_the_overdue_flag(
    page, key_page_ids, respondent_a, lead
):
    import datetime

    from django.utils import timezone

    from assessment import services
    from assessment.models import Assessment
    from assessment.tests.factories import answer_all
    from conftest import browser_login

    assessment = Assessment.objects.get(pk=key_page_ids["open"])
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    reason = "Process answers predate the new tagging policy: please review them."
    services.assessment_reopen(assessment=assessment, user=lead, reason=reason)
    cycle = assessment.cycle
    cycle.closes_on = timezone.localdate() - datetime.timedelta(days=2)
    cycle.save(update_fields=["closes_on"])

    browser_login(page, "alice", "pw-alice")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/assessments/")
    card = page.locator("article.assessment-card")
    assert card.locator("[data-reopened]").is_visible()
    assert reason in card.inner_text()
    assert "by lena" in card.inner_text()
    assert card.locator(".badge-overdue").inner_text() == "Overdue"
    assert page.evaluate(OVERFLOW) <= 0
    assert axe_violations(page) == []

    card.get_by_role("link", name="Continue").click()
    page.wait_for_load_state()
    banner = page.locator("main [data-reopened]")
    assert banner.is_visible()
    assert reason in banner.inner_text()
    assert "Overdue:" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    assert page.console_errors == []


def test_the_targets_page_is_one_line_per_capability(page, key_page_ids, team_a):
    from assessment.models import Organization
    from assessment.targets import target_set
    from capabilities.models import Capability
    from conftest import browser_login

    org = Organization.objects.get(slug=key_page_ids["org"])
    capability = Capability.objects.filter(key="cap-1").first()
    target_set(organization=org, capability_key="cap-1", percent=55, team=team_a)
    browser_login(page, "lena", "pw-lena")
    page.goto(page.base_url + "/org/{org}/targets/".format(**key_page_ids))
    rows = page.locator("fieldset.target-row")
    assert rows.count() == 2
    for i in range(rows.count()):
        assert rows.nth(i).bounding_box()["height"] < 90
    overrides = page.locator("section[aria-labelledby=overrides-heading]").inner_text()
    assert capability.name in overrides
    assert "cap-1" not in overrides
    # choosing a team applies at once
    page.select_option("#target-team", str(team_a.pk))
    page.wait_for_url(f"**team={team_a.pk}")
    assert page.locator("h1").inner_text() == f"Targets for {team_a.name}"
