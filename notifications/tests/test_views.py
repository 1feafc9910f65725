"""The pages: schedule form, remind now, previews, delivery log, time zone, the
in-app list and its count in the navigation."""

import pytest
from django.core import mail

from assessment.models import Organization
from notifications.models import CycleSchedule, Delivery, Notification

pytestmark = pytest.mark.django_db


def _schedule_post(**fields):
    data = {
        "days_before": "7, 1",
        "overdue_every": "7",
        "grace_days": "3",
        "send_hour": "9",
        "digest": "weekly",
        "auto_close": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_the_schedule_form_saves_and_shows_the_timeline(client, lead, cycle):
    client.force_login(lead)
    response = client.post(
        f"/notifications/cycles/{cycle.pk}/schedule/", _schedule_post()
    )
    assert response.status_code == 302
    row = CycleSchedule.objects.get(cycle=cycle)
    assert (row.days_before, row.grace_days, row.auto_close) == ([7, 1], 3, True)
    page = client.get(f"/notifications/cycles/{cycle.pk}/schedule/").content.decode()
    assert "cycle closes by itself" in page
    assert "Fri 13 Nov 2026" in page


def test_the_schedule_form_shows_each_error_next_to_its_field(client, lead, cycle):
    client.force_login(lead)
    response = client.post(
        f"/notifications/cycles/{cycle.pk}/schedule/",
        _schedule_post(days_before="7, soon", grace_days="0"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter whole numbers of days" in body
    response = client.post(
        f"/notifications/cycles/{cycle.pk}/schedule/", _schedule_post(grace_days="0")
    )
    assert response.status_code == 400
    assert "comes after the cycle closes" in response.content.decode()
    assert not CycleSchedule.objects.exists()


def test_remind_now_from_the_board_for_one_team(
    client, lead, cycle, team_a, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/notifications/cycles/{cycle.pk}/remind/",
            {"team": team_a.pk},
            follow=True,
        )
    assert "Reminder queued for 1 person." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_the_board_lists_people_without_an_address_and_offers_remind_now(
    client, lead, cycle, respondent_a
):
    respondent_a.email = ""
    respondent_a.save()
    client.force_login(lead)
    page = client.get(f"/lead/cycles/{cycle.pk}/").content.decode()
    assert "No email: alice" in page
    assert "Remind all 2 late teams" in page
    assert "Remind now" in page


def test_an_unknown_team_cannot_be_reminded(client, lead, cycle, other_team):
    client.force_login(lead)
    response = client.post(
        f"/notifications/cycles/{cycle.pk}/remind/",
        {"team": other_team.pk},
        follow=True,
    )
    assert "This team is not in the cycle." in response.content.decode()
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "kind", ["invitation", "reminder", "digest", "reopen", "submission"]
)
def test_each_mail_has_a_preview(client, lead, cycle, kind):
    client.force_login(lead)
    page = client.get(f"/notifications/cycles/{cycle.pk}/preview/{kind}/")
    assert page.status_code == 200
    html = client.get(f"/notifications/cycles/{cycle.pk}/preview/{kind}/mail.html")
    assert html.status_code == 200
    assert "frame-ancestors 'self'" in html["Content-Security-Policy"]
    assert not Delivery.objects.exists()
    assert mail.outbox == []


def test_an_unknown_preview_is_404(client, lead, cycle):
    client.force_login(lead)
    assert (
        client.get(f"/notifications/cycles/{cycle.pk}/preview/spam/").status_code == 404
    )


def test_the_delivery_log_filters_and_exports(client, lead, cycle, org, respondent_a):
    Delivery.objects.create(
        key="k1",
        kind="reminder",
        category="reminder",
        user=respondent_a,
        organization_id=org.pk,
        cycle=cycle,
        to_address="alice@example.com",
        status="bounced",
        last_error="550 No such user",
    )
    client.force_login(lead)
    page = client.get(f"/notifications/org/{org.slug}/deliveries/?status=bounced")
    assert "550 No such user" in page.content.decode()
    empty = client.get(f"/notifications/org/{org.slug}/deliveries/?status=sent")
    assert "No mail matches these filters" in empty.content.decode()
    csv = client.get(f"/notifications/org/{org.slug}/deliveries/?format=csv")
    assert b"alice@example.com" in csv.content


def test_the_lead_sets_the_time_zone_and_a_bad_one_is_refused(client, lead, org):
    client.force_login(lead)
    bad = client.post(f"/notifications/org/{org.slug}/", {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert "Enter a time zone name such as Europe/Paris" in bad.content.decode()
    good = client.post(f"/notifications/org/{org.slug}/", {"time_zone": "Asia/Tokyo"})
    assert good.status_code == 302
    assert Organization.objects.get(pk=org.pk).time_zone == "Asia/Tokyo"


def test_the_navigation_counts_unread_notices_and_the_list_marks_them_read(
    client, respondent_a
):
    Notification.objects.create(
        user=respondent_a,
        key="a",
        category="reopen",
        title="Reopened",
        url="/assessments/",
    )
    Notification.objects.create(
        user=respondent_a, key="b", category="reminder", title="Remember"
    )
    client.force_login(respondent_a)
    page = client.get("/notifications/").content.decode()
    assert "Notifications (2)" in page
    assert "2 unread" in page
    first = Notification.objects.get(key="a")
    response = client.post(f"/notifications/{first.pk}/open/")
    assert response["Location"] == "/assessments/"
    client.post("/notifications/read-all/")
    assert "Notifications (" not in client.get("/notifications/").content.decode()


def test_someone_elses_notice_is_404(client, respondent_a, respondent_b):
    notice = Notification.objects.create(
        user=respondent_a, key="a", category="reopen", title="x"
    )
    client.force_login(respondent_b)
    assert client.post(f"/notifications/{notice.pk}/open/").status_code == 404
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_preferences_switch_a_category_off(client, respondent_a):
    client.force_login(respondent_a)
    data = {
        c: "on"
        for c in [
            "invitation",
            "digest",
            "reopen",
            "submission",
            "consensus",
            "initiative",
            "cycle",
        ]
    }
    client.post("/notifications/preferences/", data)
    from notifications.selectors import preferences_of

    prefs = preferences_of(user=respondent_a)
    assert prefs["reminder"] is False
    assert prefs["invitation"] is True
