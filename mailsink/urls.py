from __future__ import annotations

from django.urls import path

from mailsink import views

urlpatterns = [path("", views.mail_list, name="mailsink")]
