from __future__ import annotations

from django.urls import path

from capacity import views

urlpatterns = [
    path("", views.fleet_page, name="capacity-fleet"),
    path("analyse/", views.analyse_now, name="capacity-analyse"),
    path("<uuid:uid>/", views.resource_page, name="capacity-resource"),
]
