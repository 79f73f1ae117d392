from __future__ import annotations

from django.urls import path

from server.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.totp_view, name="totp"),
    path("logout/", views.logout_view, name="logout"),
]
