"""The lead's dashboard and a team's report, drawn by plotly.js in Chromium."""

import pytest
from django.core.cache import cache

from benchmarks.charts import wrap_label
from conftest import ARTIFACTS, browser_login
from finops_portal import formats

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEATMAP = "#chart-heatmap-chart"
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def snapshot(org, framework, team_a, team_b):
    from assessment.targets import target_set
    from benchmarks.tests.snapshots import build_snapshot, make_teams

    cache.clear()
    teams = [team_a, team_b, *make_teams(org, 6)]
    target_set(organization=org, capability_key="cap-0", percent=60)
    target_set(organization=org, capability_key="cap-1", percent=40, team=team_a)
    return build_snapshot(organization=org, framework=framework, teams=teams)


def wait_for_charts(page) -> list[str]:
    """Wait until every chart is drawn; returns the ids of the chart sources."""
    page.wait_for_function(
        "[...document.querySelectorAll('[data-chart-source]')]"
        ".every(el => el.dataset.chartReady === 'true')"
    )
    return page.eval_on_selector_all(
        "[data-chart-source]", "els => els.map(el => el.dataset.chartSource)"
    )


def heatmap_labels(page) -> list[str]:
    return page.eval_on_selector(HEATMAP, "el => el.data[0].y")


def test_the_lead_dashboard_draws_every_chart_and_opens_a_report_on_click(
    page, lead, snapshot, business_unit
):
    from assessment.models import Assessment

    browser_login(page, "lena")
    page.goto(page.base_url + "/org/org-one/dashboard/")
    sources = wait_for_charts(page)
    assert sources == [
        "chart-heatmap",
        "chart-boxes",
        "chart-levels",
        "chart-units",
        "chart-trend",
    ]
    for source in sources:
        chart = page.locator(f'[data-chart-source="{source}"]')
        assert chart.locator("svg.main-svg").count() >= 1
    assert len(heatmap_labels(page)) == 8
    # hover texts written by charts.js from each cell's score and target
    texts, scores = page.eval_on_selector(
        HEATMAP, "el => [el.data[0].text, el.data[0].z]"
    )
    assert len(texts) == 8
    for text, score in zip(texts, scores, strict=True):
        # the organisation's default target for the first capability is 60%
        shown = float(text[0].split("%")[0])
        assert shown == formats.rounded(score[0], 0)
        gap = formats.rounded(60 - shown, 0)
        distance = (
            f"gap {gap:.0f}"
            if gap > 0
            else f"above target by {-gap:.0f}"
            if gap < 0
            else "at target"
        )
        assert text[0] == f"{shown:.0f}% · target 60% · {distance}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # narrowed without a reload: the heatmap switches to its phone layout, cleanly
    page.set_viewport_size({"width": 375, "height": 800})
    page.wait_for_function(
        "() => { const ticks = document.querySelector('#chart-heatmap-chart')"
        "._fullLayout.yaxis.ticktext; return !!ticks && ticks.some(t => t.includes('<br>')); }"
    )
    page.wait_for_timeout(500)
    assert page.console_errors == []
    page.reload()
    wait_for_charts(page)
    assert page.evaluate(OVERFLOW) <= 0
    # on a phone, team names wrapped by charts.js as wrap_label would
    labels, ticks = page.eval_on_selector(
        HEATMAP, "el => [el.data[0].y, el._fullLayout.yaxis.ticktext]"
    )
    assert ticks == [wrap_label(label, 20) for label in labels]
    assert any("<br>" in tick for tick in ticks)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    wait_for_charts(page)

    # a filter applies as soon as it is chosen: the no-script button is hidden
    assert not page.get_by_role("button", name="Show").is_visible()
    page.select_option("#filter-unit", str(business_unit.id))
    page.wait_for_url("**unit=*")
    wait_for_charts(page)
    labels = heatmap_labels(page)
    assert labels[:2] == ["Retail · Squad 0000", "Retail · Squad 0002"]
    assert all(label.startswith("Retail · ") for label in labels)
    assert len(labels) == 5

    # A real click in the middle of the first row's first cell (in view: the
    # breadcrumb above the filters moves the heatmap down).
    page.locator(HEATMAP).scroll_into_view_if_needed()
    x, y = page.eval_on_selector(
        HEATMAP,
        """el => {
            const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
            return [xa._offset + xa.d2p(xa._categories[0]),
                    ya._offset + ya.d2p(ya._categories[0])];
        }""",
    )
    box = page.locator(HEATMAP).bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url("**/report/")
    first = Assessment.objects.get(cycle=snapshot, team__name="Squad 0000")
    assert page.url.endswith(f"/assessments/{first.pk}/report/")
    assert page.locator("h1").inner_text() == "Squad 0000: results"
    assert page.console_errors == []


def test_the_team_report_draws_its_charts_and_fits_a_phone(
    page, respondent_a, snapshot, team_a
):
    from assessment.models import Assessment

    report = Assessment.objects.get(cycle=snapshot, team=team_a)
    browser_login(page, "alice")
    page.goto(page.base_url + f"/assessments/{report.pk}/report/")
    sources = wait_for_charts(page)
    assert {"chart-progress", "chart-lenses", "chart-radar", "chart-trend"} <= set(
        sources
    )
    assert "benchmark-0" in sources
    for source in sources:
        chart = page.locator(f'[data-chart-source="{source}"]')
        assert chart.locator("svg.main-svg").count() >= 1
    assert "Team B" not in page.content()
    # every figure drawn with plotly's default template, which the page holds once
    fonts = page.evaluate(
        "[...document.querySelectorAll('[data-chart-source]')]"
        ".map(el => el._fullLayout.font.color)"
    )
    assert set(fonts) == {"#2a3f5f"}
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "team-report.png"), full_page=True)

    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print / save as PDF").click()
    assert page.evaluate("window.printed") is True

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    wait_for_charts(page)
    assert page.evaluate(OVERFLOW) <= 0
    assert page.console_errors == []


def test_a_lead_sets_targets_by_percent_or_level_and_sees_errors_in_place(
    page, lead, snapshot, team_a
):
    from assessment.models import Target

    browser_login(page, "lena")
    page.goto(page.base_url + "/org/org-one/targets/")
    page.fill("#percent-cap-0", "150")
    page.select_option("#level-cap-1", "walk")
    page.get_by_role("button", name="Save targets").click()
    error = page.locator("#error-cap-0")
    assert error.inner_text() == "Enter a target between 1 and 100 percent."
    assert page.get_attribute("#percent-cap-0", "aria-invalid") == "true"
    # the refused form answers 400, which Chromium logs as a failed resource
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 400 "
        "(Bad Request)"
    ]
    page.console_errors.clear()

    page.fill("#percent-cap-0", "65")
    page.select_option("#level-cap-1", "walk")
    page.get_by_role("button", name="Save targets").click()
    assert page.locator(".message").inner_text() == "Targets saved."
    defaults = dict(
        Target.objects.filter(team=None).values_list("capability_key", "percent")
    )
    assert defaults == {"cap-0": 65, "cap-1": 50}

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    assert page.evaluate(OVERFLOW) <= 0
    assert page.console_errors == []


def test_the_computed_age_keeps_up_on_an_open_page(
    page, respondent_a, snapshot, team_a
):
    """The "computed ... ago" text ticks on: ten minutes later it says so."""
    from datetime import datetime, timedelta

    from assessment.models import Assessment

    report = Assessment.objects.get(cycle=snapshot, team=team_a)
    browser_login(page, "alice")
    page.clock.install(time=datetime.now())
    page.goto(page.base_url + f"/assessments/{report.pk}/report/")
    age = page.locator(".computed-note time[data-ago]")
    assert age.inner_text().endswith(" s")
    page.clock.fast_forward(int(timedelta(minutes=10).total_seconds() * 1000))
    page.wait_for_function(
        "document.querySelector('.computed-note time').textContent === '10 min'"
    )
    assert page.console_errors == []


TICKS_TITLE_PLOT = """() => {
    const el = document.querySelector('#chart-heatmap-chart');
    const box = n => { const r = n.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
    return {
        title: box(el.querySelector('.gtitle')),
        plot: box(el.querySelector('.nsewdrag')),
        ticks: [...el.querySelectorAll('.xaxislayer-above .xtick text')].map(box),
    };
}"""


def test_a_tall_heatmap_shows_capability_labels_above_its_rows(
    page, lead, org, framework, team_a, team_b
):
    from benchmarks.tests.snapshots import build_snapshot, make_teams

    cache.clear()
    build_snapshot(
        organization=org,
        framework=framework,
        teams=[team_a, team_b, *make_teams(org, 14)],
    )
    browser_login(page, "lena")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(page.base_url + "/org/org-one/dashboard/")
    wait_for_charts(page)
    boxes = page.evaluate(TICKS_TITLE_PLOT)
    assert boxes["ticks"]
    for tick in boxes["ticks"]:
        # between the title and the first row
        assert tick["bottom"] <= boxes["plot"]["top"] + 1
        assert tick["top"] >= boxes["title"]["bottom"]
    page.locator(HEATMAP).screenshot(path=str(ARTIFACTS / "dashboard-tall-heatmap.png"))


def test_a_large_organisation_drills_down_by_unit_and_pages_its_teams(
    page, lead, org, framework, team_a
):
    """Units stand for their teams above the limit; a click on a unit's row opens
    its dashboard, whose teams come a page at a time. Both pass axe."""
    from benchmarks.tests.snapshots import build_snapshot, make_teams
    from conftest import axe_violations

    cache.clear()
    teams = [*make_teams(org, 120, unit_names=("Retail", "Wholesale"))]
    # a team directly in the organisation, listed apart
    team_a.parent = None
    team_a.save()
    teams.append(team_a)
    build_snapshot(organization=org, framework=framework, teams=teams)
    browser_login(page, "lena")
    page.goto(page.base_url + "/org/org-one/dashboard/")
    assert wait_for_charts(page)[:2] == ["chart-heatmap", "chart-teams"]
    assert heatmap_labels(page) == ["Retail (60 teams)", "Wholesale (60 teams)"]
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        assert axe_violations(page) == [], width
    page.set_viewport_size({"width": 1280, "height": 844})
    # a click on the first row opens the unit
    page.eval_on_selector(
        HEATMAP,
        "el => el.emit('plotly_click', {points: [{data: el.data[0], pointIndex: [0, 0]}]})",
    )
    page.wait_for_url("**unit=*")
    wait_for_charts(page)
    assert len(heatmap_labels(page)) == 50
    assert page.get_by_text("Teams 1–50 of 60").is_visible()
    assert page.locator('nav[aria-label="Breadcrumb"] a').inner_text() == "Org One"
    # the pager is reached and followed by keyboard
    following = page.locator('nav[aria-label="Pages of teams"] a[rel="next"]')
    following.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**page=2*")
    wait_for_charts(page)
    assert len(heatmap_labels(page)) == 10
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        assert axe_violations(page) == [], width
    assert page.console_errors == []
