from django.urls import path

from . import lead_urls, views

app_name = "assessment"

# Respondent pages here; the lead's pages in lead_urls.py.
urlpatterns: list = [] + lead_urls.urlpatterns
