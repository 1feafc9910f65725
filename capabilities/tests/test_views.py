import pytest
from django.urls import reverse

from capabilities.models import Capability, Recommendation
from capabilities.services import framework_new_draft, framework_retire
from capabilities.tests.factories import make_framework

pytestmark = pytest.mark.django_db

INDEX = reverse("capabilities:index")


def detail_url(framework) -> str:
    return reverse("capabilities:framework", args=[framework.slug, framework.version])


def test_it_redirects_anonymous_users_to_login(client, framework):
    for url in (INDEX, detail_url(framework)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_it_shows_the_shipped_framework_to_a_respondent(
    client, respondent_a, shipped_framework
):
    client.force_login(respondent_a)
    response = client.get(INDEX)
    assert response.status_code == 200
    assert response.context["framework"] == shipped_framework
    page = response.content.decode()
    assert page.count('class="card fw-capability"') == 8
    assert 'href="#cap-education"' in page
    assert 'id="cap-education"' in page
    assert "Knowledge leader: the team teaches others" in page
    assert (
        "https://learn.microsoft.com/cloud-computing/finops/framework/manage/education"
        in page
    )
    assert "Start a small FinOps learning library" in page


def test_the_detail_page_has_the_url_of_get_absolute_url(
    client, respondent_a, framework
):
    client.force_login(respondent_a)
    assert detail_url(framework) == framework.get_absolute_url()
    response = client.get(framework.get_absolute_url())
    assert response.status_code == 200
    assert [c.capability.key for c in response.context["content"].capabilities] == [
        "cap-0",
        "cap-1",
    ]


def test_it_groups_questions_by_lens_and_recommendations_by_level(
    client, respondent_a, framework
):
    client.force_login(respondent_a)
    content = client.get(detail_url(framework)).context["content"]
    first = content.capabilities[0]
    assert [group.lens.key for group in first.lenses] == [
        "knowledge",
        "process",
        "metrics",
        "adoption",
        "automation",
    ]
    assert [group.level.key for group in first.levels] == [
        "not_started",
        "crawl",
        "walk",
    ]


def test_drafts_are_hidden_from_non_staff(client, respondent_a, lead, framework):
    draft = framework_new_draft(framework=framework)
    for user in (respondent_a, lead):
        client.force_login(user)
        assert client.get(detail_url(draft)).status_code == 404
        assert draft not in client.get(INDEX).context["versions"]


def test_staff_see_drafts_marked_as_drafts(client, staff, framework):
    draft = framework_new_draft(framework=framework)
    client.force_login(staff)
    response = client.get(detail_url(draft))
    assert response.status_code == 200
    assert "This is a draft. Only staff can see it until it is published." in (
        response.content.decode()
    )


def test_retired_versions_stay_readable(client, respondent_a, framework):
    framework_retire(framework=framework)
    client.force_login(respondent_a)
    response = client.get(detail_url(framework))
    assert response.status_code == 200
    assert "This version is retired" in response.content.decode()


def test_an_unknown_version_is_404(client, respondent_a, framework):
    client.force_login(respondent_a)
    url = reverse("capabilities:framework", args=[framework.slug, 99])
    assert client.get(url).status_code == 404


def test_it_lists_the_versions_of_a_framework(client, staff, framework):
    draft = framework_new_draft(framework=framework)
    client.force_login(staff)
    response = client.get(detail_url(framework))
    assert response.context["versions"] == [draft, framework]
    assert f'href="{detail_url(draft)}"' in response.content.decode()


def test_it_lists_several_current_frameworks(client, respondent_a, framework):
    other = make_framework(slug="other", publish=True)
    client.force_login(respondent_a)
    response = client.get(INDEX)
    assert response.templates[0].name == "capabilities/framework_index.html"
    assert response.context["current"] == [other, framework]


def test_it_shows_an_empty_state_without_frameworks(client, respondent_a):
    client.force_login(respondent_a)
    response = client.get(INDEX)
    assert "No framework has been published yet." in response.content.decode()


def test_the_navigation_links_to_the_framework_page(client, respondent_a, framework):
    client.force_login(respondent_a)
    page = client.get(detail_url(framework)).content.decode()
    assert f'<a href="{INDEX}">Framework</a>' in page


def test_the_query_count_does_not_depend_on_the_number_of_questions(
    client, respondent_a, django_assert_max_num_queries
):
    small = make_framework(slug="small", capabilities=1, publish=True)
    large = make_framework(
        slug="large", capabilities=6, questions_per_lens=3, publish=True
    )
    client.force_login(respondent_a)
    client.get(detail_url(small))  # warm the session
    counts = []
    for framework in (small, large):
        with django_assert_max_num_queries(13) as captured:
            assert client.get(detail_url(framework)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_html_in_capability_text_is_shown_as_text(client, staff):
    draft = make_framework(slug="draft")
    capability = Capability.objects.get(framework=draft, key="cap-0")
    capability.name = "<script>alert('name')</script>"
    capability.description = "<b>bold</b> & <img src=x onerror=alert(1)>"
    capability.save()
    Recommendation.objects.filter(capability=capability).update(
        links=[{"title": "bad", "url": "javascript:alert(1)"}]
    )
    client.force_login(staff)
    page = client.get(detail_url(draft)).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:alert" not in page
