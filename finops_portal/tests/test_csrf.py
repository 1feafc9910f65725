"""A form sent without a valid CSRF token gets the site's own page, not Django's."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_form_without_its_csrf_token_says_it_expired():
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "x", "password": "y"}
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "This form has expired" in body
    assert "Nothing was changed." in body
