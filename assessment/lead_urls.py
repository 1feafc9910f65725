"""URLs of the lead's pages (teams, members, cycles, completion board)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
